//! Copying an exchange as it streams past, and handing it to the tap when done.
//!
//! An [`ExchangeCell`] is shared by everything still working on one exchange:
//! the request handler, the request-body [`Tee`] (owned by the upstream while
//! it reads the body), the response-body [`Tee`] (owned by hyper while it
//! writes to the client) and a WebSocket relay. When the last of them lets go
//! the exchange is finished by definition, and the cell's `Drop` gives it to
//! the tap. No task waits for bodies to end, and an exchange cut short (client
//! gone, upstream reset, shutdown) is still delivered, with `error` set.
//!
//! Copies are reference-counted `Bytes`, never the data. A body that grows
//! past [`SPILL_THRESHOLD`] is written to a file in the tap's
//! [`Tap::spill_dir`] from then on ([`SpilledBody`]: encrypted, nameless), so
//! memory stays bounded whatever the size of what streams through.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::InFlight;
use crate::exchange::{
    Exchange, RequestHead, ResponseHead, SpillWriter, SpilledBody, Tap, TimedChunk, WsCapture,
};
use crate::exchange::{RESPONSE_CUT_SHORT, STOPPED_MIDWAY};
use crate::upstream::{Body, BoxError};

/// Bodies larger than this are written to a file while they stream, instead
/// of being held in memory until the exchange ends.
pub const SPILL_THRESHOLD: usize = 8 << 20;

/// Set when the proxy's shutdown grace ran out: exchanges still under way
/// are then cut short (their connections dropped) and counted.
#[derive(Debug, Default)]
pub(crate) struct Interrupt {
    asked: AtomicBool,
    cut_short: AtomicUsize,
}

impl Interrupt {
    /// From now on, every exchange still under way is being cut short.
    pub(crate) fn ask(&self) {
        self.asked.store(true, Ordering::SeqCst);
    }

    fn asked(&self) -> bool {
        self.asked.load(Ordering::SeqCst)
    }

    /// How many exchanges were handed to the tap cut short.
    pub(crate) fn cut_short(&self) -> usize {
        self.cut_short.load(Ordering::SeqCst)
    }
}

/// One exchange under way.
pub(crate) struct ExchangeCell {
    tap: Arc<dyn Tap>,
    interrupt: Arc<Interrupt>,
    state: Mutex<Pending>,
    /// Where bodies past [`SPILL_THRESHOLD`] go.
    spill_dir: Arc<Path>,
    /// Keeps the proxy's `serve` from returning before this exchange reached the tap.
    _in_flight: InFlight,
}

struct Pending {
    /// Always `Some` until the cell is dropped and hands it to the tap.
    exchange: Option<Exchange>,
    started: Instant,
    ended: Option<Instant>,
    /// The part of the request body the upstream never read (it answered or
    /// failed first); kept so a failed exchange can still record what was sent.
    unread_request: Option<Body>,
}

impl ExchangeCell {
    /// Start an exchange whose request head arrived at `started`.
    pub(crate) fn new(
        tap: Arc<dyn Tap>,
        interrupt: Arc<Interrupt>,
        in_flight: InFlight,
        spill_dir: Arc<Path>,
        conn: u64,
        request: RequestHead,
        started: Instant,
    ) -> Arc<Self> {
        let exchange = Exchange {
            conn,
            started: SystemTime::now(),
            duration: Duration::ZERO,
            request,
            request_body: Vec::new(),
            request_spill: None,
            response: None,
            response_body: Vec::new(),
            response_spill: None,
            websocket: None,
            error: None,
        };
        let pending = Pending { exchange: Some(exchange), started, ended: None, unread_request: None };
        Arc::new(Self { tap, interrupt, state: Mutex::new(pending), spill_dir, _in_flight: in_flight })
    }

    fn with<R>(&self, f: impl FnOnce(&mut Pending) -> R) -> R {
        // A panic elsewhere while holding the lock leaves a usable exchange;
        // recording it is better than losing it.
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn with_exchange<R: Default>(&self, f: impl FnOnce(&mut Exchange) -> R) -> R {
        self.with(|p| p.exchange.as_mut().map(f).unwrap_or_default())
    }

    /// The response head arrived.
    pub(crate) fn set_response(&self, head: ResponseHead) {
        self.with_exchange(|e| e.response = Some(head));
    }

    /// The WebSocket session ended with this capture.
    pub(crate) fn set_websocket(&self, capture: WsCapture) {
        self.with(|p| {
            if let Some(exchange) = p.exchange.as_mut() {
                exchange.websocket = Some(capture);
            }
            p.ended = Some(Instant::now());
        });
    }

    /// Record why the exchange failed; the first reason wins, since later
    /// ones are usually consequences of it.
    pub(crate) fn fail(&self, reason: impl Into<String>) {
        self.with_exchange(|e| {
            e.error.get_or_insert_with(|| reason.into());
        });
    }

    /// Take the request body the upstream left unread, if any.
    pub(crate) fn take_unread_request(&self) -> Option<Body> {
        self.with(|p| p.unread_request.take())
    }

    fn deposit(&self, side: BodySide, kept: Kept, ended: bool) {
        let failure = self.with(|p| {
            if ended && side == BodySide::Response {
                p.ended = Some(Instant::now());
            }
            let exchange = p.exchange.as_mut()?;
            let (chunks, spill) = match side {
                BodySide::Request => (&mut exchange.request_body, &mut exchange.request_spill),
                BodySide::Response => (&mut exchange.response_body, &mut exchange.response_spill),
            };
            match (kept, spill.as_mut()) {
                // The rest of a body that spilled before (a drained request) joins its file.
                (Kept::Chunks(more), Some(spilled)) => append_to_spill(spilled, &more).err(),
                (Kept::Chunks(more), None) => {
                    chunks.extend(more);
                    None
                }
                (Kept::Spill(file), _) => {
                    *spill = Some(file);
                    None
                }
            }
        });
        if let Some(err) = failure {
            self.fail(format!("the {} body could not be kept: {err}", side.name()));
        }
    }
}

impl Drop for ExchangeCell {
    fn drop(&mut self) {
        let pending = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let Some(mut exchange) = pending.exchange.take() else { return };
        if self.interrupt.asked() && (pending.ended.is_none() || exchange.error.is_some()) {
            exchange.error.get_or_insert_with(|| STOPPED_MIDWAY.to_owned());
            self.interrupt.cut_short.fetch_add(1, Ordering::SeqCst);
        }
        let ended = pending.ended.unwrap_or_else(Instant::now);
        exchange.duration = ended.saturating_duration_since(pending.started);
        let _span = tracing::debug_span!("tap", conn = exchange.conn).entered();
        tracing::debug!(failed = exchange.error.is_some(), duration = ?exchange.duration, "exchange finished");
        self.tap.record(exchange);
    }
}

/// Which body a [`Tee`] copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodySide {
    /// Client → upstream.
    Request,
    /// Upstream → client.
    Response,
}

impl BodySide {
    fn name(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Response => "response",
        }
    }
}

/// What a [`Tee`] kept of its body: chunks in memory, or the whole body in a file.
enum Kept {
    Chunks(Vec<TimedChunk>),
    Spill(SpilledBody),
}

fn append_to_spill(spilled: &mut SpilledBody, chunks: &[TimedChunk]) -> io::Result<()> {
    chunks.iter().try_for_each(|chunk| spilled.append(&chunk.data))
}

/// A new spill file in `dir`, starting with the chunks held so far.
fn start_spilling(dir: &Path, held: &[TimedChunk]) -> io::Result<SpillWriter> {
    let mut spilling = SpillWriter::create(dir)?;
    held.iter().try_for_each(|chunk| spilling.write(&chunk.data))?;
    Ok(spilling)
}

/// A body that passes every frame through unchanged, the moment it arrives,
/// and keeps a reference-counted copy of the data for the exchange.
pub(crate) struct Tee {
    inner: Option<Body>,
    cell: Arc<ExchangeCell>,
    side: BodySide,
    since: Instant,
    chunks: Vec<TimedChunk>,
    /// Bytes in `chunks`.
    held: usize,
    /// The file the body goes to once it outgrew memory.
    spilling: Option<SpillWriter>,
    /// Spilling failed: nothing more of this body is kept.
    dropped: bool,
    ended: bool,
}

impl Tee {
    /// Copy `inner` into `cell`; chunk times count from `since`.
    pub(crate) fn new(inner: Body, cell: Arc<ExchangeCell>, side: BodySide, since: Instant) -> Self {
        Self {
            inner: Some(inner),
            cell,
            side,
            since,
            chunks: Vec::new(),
            held: 0,
            spilling: None,
            dropped: false,
            ended: false,
        }
    }

    /// Keep a copy of `data`: in memory, or in the spill file past the threshold.
    fn keep(&mut self, data: &Bytes) {
        if self.dropped {
            return;
        }
        if let Some(spilling) = &mut self.spilling {
            if let Err(err) = spilling.write(data) {
                self.stop_keeping(&err);
            }
            return;
        }
        self.held += data.len();
        self.chunks.push(TimedChunk { at: self.since.elapsed(), data: data.clone() });
        if self.held > SPILL_THRESHOLD {
            match start_spilling(&self.cell.spill_dir, &self.chunks) {
                Ok(spilling) => {
                    self.spilling = Some(spilling);
                    self.chunks = Vec::new();
                }
                Err(err) => self.stop_keeping(&err),
            }
        }
    }

    /// The body cannot be kept (no room for its file): say so in the
    /// exchange and hold nothing more, so memory stays bounded.
    fn stop_keeping(&mut self, err: &io::Error) {
        let dir = self.cell.spill_dir.display();
        self.cell.fail(format!(
            "the {} body outgrew memory and could not be written to {dir}: {err}; it is not recorded",
            self.side.name()
        ));
        (self.spilling, self.chunks, self.dropped) = (None, Vec::new(), true);
    }

    /// What was kept, handed over when the body is dropped.
    fn take_kept(&mut self) -> Kept {
        let chunks = std::mem::take(&mut self.chunks);
        match self.spilling.take().map(SpillWriter::finish) {
            Some(Ok(file)) => Kept::Spill(file),
            Some(Err(err)) => {
                self.stop_keeping(&err);
                Kept::Chunks(Vec::new())
            }
            None => Kept::Chunks(chunks),
        }
    }

    fn failure(&self, err: &BoxError) -> String {
        match self.side {
            _ if self.cell.interrupt.asked() => self.stopped_midway(),
            BodySide::Request => format!("client request body failed: {err}"),
            BodySide::Response => format!("{RESPONSE_CUT_SHORT}: {err}"),
        }
    }

    /// The failure of a body the proxy's stop cut short.
    fn stopped_midway(&self) -> String {
        match self.side {
            BodySide::Request => STOPPED_MIDWAY.to_owned(),
            BodySide::Response => format!("{RESPONSE_CUT_SHORT}: {STOPPED_MIDWAY}"),
        }
    }
}

impl HttpBody for Tee {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        let polled = Pin::new(inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.keep(data);
                }
            }
            Poll::Ready(Some(Err(err))) => {
                this.cell.fail(this.failure(err));
                this.ended = true;
            }
            Poll::Ready(None) => this.ended = true,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map(HttpBody::size_hint).unwrap_or_default()
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        let complete = self.ended || self.is_end_stream();
        let kept = self.take_kept();
        self.cell.deposit(self.side, kept, complete);
        if complete {
            return;
        }
        match self.side {
            // The proxy's stop dropped the connection.
            BodySide::Response if self.cell.interrupt.asked() => self.cell.fail(self.stopped_midway()),
            // hyper dropped the body before its end: the client is gone.
            BodySide::Response => self.cell.fail("client went away before the response body ended"),
            // The upstream answered (or failed) without reading all of it.
            BodySide::Request => {
                let unread = self.inner.take();
                self.cell.with(|p| p.unread_request = unread);
            }
        }
    }
}

/// Read what is left of an unread request body into the exchange, so a
/// failed exchange still shows what the client sent. Bounded in size and
/// time: the client is usually done sending already.
pub(crate) async fn drain_unread_request(cell: &Arc<ExchangeCell>, started: Instant) {
    const LIMIT: usize = 16 << 20;
    const PATIENCE: Duration = Duration::from_secs(2);
    let Some(body) = cell.take_unread_request() else { return };
    let mut tee = Tee::new(body, cell.clone(), BodySide::Request, started);
    let drain = async {
        let mut seen = 0;
        while let Some(Ok(frame)) = std::future::poll_fn(|cx| Pin::new(&mut tee).poll_frame(cx)).await {
            seen += frame.data_ref().map_or(0, Bytes::len);
            if seen > LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(PATIENCE, drain).await;
    // Whatever is still unread now stays unread; do not park it in the cell again.
    tee.ended = true;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::body;
    use http_body_util::BodyExt as _;

    #[derive(Default)]
    struct Collect(Mutex<Vec<Exchange>>);

    impl Tap for Collect {
        fn record(&self, exchange: Exchange) {
            self.0.lock().unwrap().push(exchange);
        }
    }

    fn head() -> RequestHead {
        RequestHead {
            method: "POST".into(),
            url: "https://api.openai.com/v1/responses".into(),
            http_version: "HTTP/1.1".into(),
            headers: vec![],
        }
    }

    fn cell(tap: &Arc<Collect>) -> Arc<ExchangeCell> {
        cell_spilling_to(tap, &std::env::temp_dir())
    }

    fn cell_spilling_to(tap: &Arc<Collect>, dir: &Path) -> Arc<ExchangeCell> {
        let (in_flight, _) = tokio::sync::mpsc::channel(1);
        ExchangeCell::new(tap.clone(), Arc::default(), in_flight, dir.into(), 7, head(), Instant::now())
    }

    /// A body of `n` one-MiB chunks, chunk `i` filled with byte `i`.
    fn mebibytes(n: u8) -> Body {
        body::from_stream(futures_util::stream::iter(
            (0..n).map(|i| Ok::<_, BoxError>(Bytes::from(vec![i; 1 << 20]))),
        ))
    }

    fn stream(parts: &'static [&'static str]) -> Body {
        body::from_stream(futures_util::stream::iter(
            parts.iter().map(|p| Ok::<_, BoxError>(Bytes::from(*p))),
        ))
    }

    #[tokio::test]
    async fn tee_passes_frames_through_and_copies_them() {
        let tap = Arc::new(Collect::default());
        let cell = cell(&tap);
        let tee = Tee::new(stream(&["a", "b"]), cell.clone(), BodySide::Response, Instant::now());
        drop(cell);
        assert_eq!(tee.collect().await.unwrap().to_bytes(), "ab");
        let exchanges = tap.0.lock().unwrap();
        let chunks: Vec<_> = exchanges[0].response_body.iter().map(|c| c.data.clone()).collect();
        assert_eq!(chunks, ["a", "b"]);
        assert_eq!(exchanges[0].error, None);
        assert_eq!(exchanges[0].conn, 7);
    }

    #[tokio::test]
    async fn a_body_past_the_threshold_streams_on_into_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let tap = Arc::new(Collect::default());
        let cell = cell_spilling_to(&tap, dir.path());
        let tee = Tee::new(mebibytes(9), cell.clone(), BodySide::Response, Instant::now());
        drop(cell);
        let passed = tee.collect().await.unwrap().to_bytes();
        assert_eq!(passed.len(), 9 << 20, "the client gets every byte");
        let exchange = tap.0.lock().unwrap().pop().unwrap();
        assert!(exchange.response_body.is_empty(), "nothing of it is held in memory");
        let spilled = exchange.response_spill.clone().unwrap();
        assert_eq!(spilled.len, 9 << 20);
        assert_eq!(spilled.dir(), dir.path());
        let mut kept = Vec::new();
        std::io::Read::read_to_end(&mut spilled.open().unwrap(), &mut kept).unwrap();
        assert_eq!(kept, passed);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the spill file has no name");
    }

    #[tokio::test]
    async fn a_body_that_cannot_spill_is_passed_on_and_reported_unrecorded() {
        let tap = Arc::new(Collect::default());
        let cell = cell_spilling_to(&tap, Path::new("/nonexistent-spill-dir"));
        let tee = Tee::new(mebibytes(9), cell.clone(), BodySide::Response, Instant::now());
        drop(cell);
        assert_eq!(tee.collect().await.unwrap().to_bytes().len(), 9 << 20);
        let exchanges = tap.0.lock().unwrap();
        assert!(exchanges[0].response_body.is_empty() && exchanges[0].response_spill.is_none());
        let error = exchanges[0].error.as_deref().unwrap();
        assert!(error.contains("response body outgrew memory") && error.contains("not recorded"), "{error}");
    }

    #[tokio::test]
    async fn exchange_is_delivered_once_when_every_holder_is_done() {
        let tap = Arc::new(Collect::default());
        let cell = cell(&tap);
        let request = Tee::new(stream(&["q"]), cell.clone(), BodySide::Request, Instant::now());
        let response = Tee::new(stream(&["r"]), cell.clone(), BodySide::Response, Instant::now());
        drop(cell);
        response.collect().await.unwrap();
        assert!(tap.0.lock().unwrap().is_empty(), "request body still in flight");
        request.collect().await.unwrap();
        let exchanges = tap.0.lock().unwrap();
        assert_eq!(exchanges.len(), 1);
        assert_eq!(exchanges[0].request_body[0].data, "q");
        assert_eq!(exchanges[0].response_body[0].data, "r");
    }

    #[tokio::test]
    async fn response_dropped_midway_records_the_client_leaving() {
        let tap = Arc::new(Collect::default());
        let cell = cell(&tap);
        let mut tee = Tee::new(stream(&["a", "b"]), cell.clone(), BodySide::Response, Instant::now());
        drop(cell);
        tee.frame().await.unwrap().unwrap();
        drop(tee);
        let exchanges = tap.0.lock().unwrap();
        assert_eq!(exchanges[0].response_body.len(), 1);
        assert!(exchanges[0].error.as_deref().unwrap().contains("client went away"));
    }

    #[tokio::test]
    async fn unread_request_body_is_drained_into_a_failed_exchange() {
        let tap = Arc::new(Collect::default());
        let cell = cell(&tap);
        let started = Instant::now();
        drop(Tee::new(stream(&["{\"a\":", "1}"]), cell.clone(), BodySide::Request, started));
        cell.fail("upstream connect failed: x");
        drain_unread_request(&cell, started).await;
        drop(cell);
        let exchanges = tap.0.lock().unwrap();
        let body: Vec<_> = exchanges[0].request_body.iter().map(|c| c.data.clone()).collect();
        assert_eq!(body, ["{\"a\":", "1}"]);
        assert_eq!(exchanges[0].error.as_deref(), Some("upstream connect failed: x"));
    }

    #[tokio::test]
    async fn a_response_cut_by_the_stop_is_kept_and_counted() {
        let tap = Arc::new(Collect::default());
        let (in_flight, _) = tokio::sync::mpsc::channel(1);
        let interrupt = Arc::new(Interrupt::default());
        let dir: Arc<Path> = std::env::temp_dir().into();
        let cell =
            ExchangeCell::new(tap.clone(), interrupt.clone(), in_flight, dir, 1, head(), Instant::now());
        let mut tee = Tee::new(stream(&["a", "b"]), cell.clone(), BodySide::Response, Instant::now());
        drop(cell);
        tee.frame().await.unwrap().unwrap();
        interrupt.ask();
        drop(tee);
        let exchanges = tap.0.lock().unwrap();
        assert_eq!(exchanges[0].response_body.len(), 1, "what went through is kept");
        assert_eq!(
            exchanges[0].error.as_deref(),
            Some(format!("{RESPONSE_CUT_SHORT}: {STOPPED_MIDWAY}").as_str())
        );
        assert_eq!(interrupt.cut_short(), 1);
    }

    #[tokio::test]
    async fn first_failure_wins() {
        let tap = Arc::new(Collect::default());
        let cell = cell(&tap);
        cell.fail("first");
        cell.fail("second");
        drop(cell);
        assert_eq!(tap.0.lock().unwrap()[0].error.as_deref(), Some("first"));
    }
}
