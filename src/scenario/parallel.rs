//! Work spread over the cores: `check` loads its scenarios and judges its
//! cells in parallel, keeping their order.

use crate::error::{Error, Result};

/// Run `work` over `items` on every core, keeping the items' order; the
/// first error (in item order) wins.
pub(crate) fn run_parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    // Each worker takes the next item when it is free: items differ in size (cassettes, scenarios), fixed
    // shares would wait on the slowest.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let take = || {
        let mut done = Vec::new();
        loop {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(n) else { return done };
            done.push((n, work(item)));
        }
    };
    let mut results: Vec<(usize, Result<R>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(take)).collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| vec![(0, Err(Error::runtime("a worker thread panicked")))])
            })
            .collect()
    });
    results.sort_by_key(|(n, _)| *n);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_keeps_order_and_reports_the_first_error() {
        let items: Vec<u32> = (0..50).collect();
        assert_eq!(
            run_parallel(&items, |n| Ok(n * 2)).unwrap(),
            items.iter().map(|n| n * 2).collect::<Vec<_>>()
        );
        let err =
            run_parallel(&items, |n| if *n >= 30 { Err(Error::input(format!("bad {n}"))) } else { Ok(*n) });
        assert_eq!(err.unwrap_err().message(), "bad 30");
    }
}
