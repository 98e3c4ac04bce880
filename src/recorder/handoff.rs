//! The hand-off from the proxy's tap to the recorder thread.
//!
//! A channel would wake the recorder for every exchange: a system call on the
//! proxy's hot path, right as the response is being flushed to the client,
//! and a thread that then competes with the proxy for a core at once. Here
//! the tap only appends to a vector under an uncontended lock. The recorder
//! takes everything queued in one batch, and when the queue is empty it naps
//! briefly ([`NAP`]) rather than asking to be woken; only after a longer idle
//! spell ([`DOZE_AFTER`]) does it sleep until the next push wakes it. So while
//! traffic flows nobody wakes anybody, an exchange reaches the journal within
//! about a nap, and an idle recorder costs nothing.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::Duration;

/// How long the recorder naps when it finds the queue empty.
pub(crate) const NAP: Duration = Duration::from_millis(2);
/// How long the queue must stay empty before the recorder sleeps until woken.
pub(crate) const DOZE_AFTER: Duration = Duration::from_millis(200);

/// A queue with one consumer thread that collects items in batches.
pub(crate) struct Handoff<T> {
    state: Mutex<State<T>>,
    consumer: OnceLock<Thread>,
}

impl<T> std::fmt::Debug for Handoff<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoff").field("queued", &self.lock().items.len()).finish_non_exhaustive()
    }
}

struct State<T> {
    items: Vec<T>,
    closed: bool,
    /// The consumer sleeps until woken: the next push must wake it.
    dozing: bool,
}

impl<T> Handoff<T> {
    /// An empty, open queue.
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State { items: Vec::new(), closed: false, dozing: false }),
            consumer: OnceLock::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // A panic while holding this lock cannot leave the vector half-pushed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue `item`; gives it back if the queue is closed.
    pub(crate) fn push(&self, item: T) -> Result<(), T> {
        let mut state = self.lock();
        if state.closed {
            return Err(item);
        }
        state.items.push(item);
        let wake = std::mem::take(&mut state.dozing);
        drop(state);
        if wake {
            self.wake();
        }
        Ok(())
    }

    /// Refuse further items and wake the consumer to drain what is queued.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.wake();
    }

    fn wake(&self) {
        if let Some(consumer) = self.consumer.get() {
            consumer.unpark();
        }
    }

    /// For the consumer thread: everything queued, waiting as described in
    /// the module doc; `None` once the queue is closed and drained. Calls
    /// `before_dozing` each time it is about to sleep until woken.
    pub(crate) fn next_batch(&self, before_dozing: &mut dyn FnMut()) -> Option<Vec<T>> {
        let _ = self.consumer.set(std::thread::current());
        let mut idle = Duration::ZERO;
        loop {
            let doze = {
                let mut state = self.lock();
                if !state.items.is_empty() {
                    return Some(std::mem::take(&mut state.items));
                }
                if state.closed {
                    return None;
                }
                state.dozing = idle >= DOZE_AFTER;
                state.dozing
            };
            // An unpark between the unlock and here is not lost: it makes the
            // park return at once. Spurious returns just go round the loop.
            if doze {
                before_dozing();
                std::thread::park();
            } else {
                std::thread::park_timeout(NAP);
                idle += NAP;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn items_come_out_in_order_in_batches_then_none_after_close() {
        let handoff = Arc::new(Handoff::new());
        for i in 0..3 {
            handoff.push(i).unwrap();
        }
        handoff.close();
        assert_eq!(handoff.push(9), Err(9));
        let consumer = std::thread::spawn({
            let handoff = handoff.clone();
            move || std::iter::from_fn(|| handoff.next_batch(&mut || {})).flatten().collect::<Vec<_>>()
        });
        assert_eq!(consumer.join().unwrap(), [0, 1, 2]);
    }

    #[test]
    fn a_dozing_consumer_is_woken_by_a_push() {
        let handoff = Arc::new(Handoff::new());
        let consumer = std::thread::spawn({
            let handoff = handoff.clone();
            move || {
                let mut dozed = 0;
                let batch = handoff.next_batch(&mut || dozed += 1);
                (batch, dozed)
            }
        });
        // Wait (explicitly) until the consumer dozes, then push.
        while !handoff.lock().dozing {
            std::thread::sleep(Duration::from_millis(1));
        }
        handoff.push("late").unwrap();
        assert_eq!(consumer.join().unwrap(), (Some(vec!["late"]), 1));
    }

    #[test]
    fn close_wakes_a_dozing_consumer() {
        let handoff: Arc<Handoff<u8>> = Arc::new(Handoff::new());
        let consumer = std::thread::spawn({
            let handoff = handoff.clone();
            move || handoff.next_batch(&mut || {})
        });
        while !handoff.lock().dozing {
            std::thread::sleep(Duration::from_millis(1));
        }
        handoff.close();
        assert_eq!(consumer.join().unwrap(), None);
    }
}
