//! What the proxy captured of one exchange, before any redaction: the
//! contract between the proxy and whatever records or observes traffic.
//!
//! The proxy knows nothing of cassettes. It streams bodies through, copies
//! what passed into an [`Exchange`], and hands the finished exchange to a
//! [`Tap`]. Taps must not block: the proxy calls them on its hot path, so a
//! tap queues the exchange for a background task and returns.

pub mod content;
pub mod spill;

pub use spill::{SpillWriter, SpilledBody};

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How an interaction's `error` starts when the upstream cut the response
/// body short: the recorded part is kept, and replay serves it, then fails
/// the body the same way.
pub const RESPONSE_CUT_SHORT: &str = "upstream response body failed";

/// Why an exchange still under way when the proxy stopped (SIGINT, SIGTERM,
/// the command ending) and its shutdown grace ran out is cut short: what
/// went through is kept; a response body cut this way has an error starting
/// with [`RESPONSE_CUT_SHORT`], so replay fails it the same way.
pub const STOPPED_MIDWAY: &str = "the proxy stopped before the exchange ended";

/// How an exchange's error starts when its upstream could not be reached at
/// all (refused, unresolvable, TLS refused): written by the live upstream,
/// counted by the recorder, which makes `record` exit 3.
pub const UPSTREAM_UNREACHABLE: &str = "upstream connect failed";

/// Which side of a WebSocket sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The client (the dispatcher).
    Client,
    /// The server (the provider).
    Server,
}

/// The first value of header `name` (lower-case).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A request head as the client meant it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// `GET`, `POST`, …
    pub method: String,
    /// Absolute URL: `https://api.openai.com/v1/responses`.
    pub url: String,
    /// `HTTP/1.1` or `HTTP/2`.
    pub http_version: String,
    /// Headers in wire order, names lower-case.
    pub headers: Vec<(String, String)>,
}

/// A response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// Headers in wire order, names lower-case.
    pub headers: Vec<(String, String)>,
}

/// A piece of a body and when it passed through the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedChunk {
    /// Time since the response head (response bodies) or the request head (request bodies).
    pub at: Duration,
    /// The bytes, exactly as on the wire (still content-encoded).
    pub data: Bytes,
}

/// One WebSocket data message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsFrame {
    /// Who sent it.
    pub from: Side,
    /// Time since the upgrade.
    pub at: Duration,
    /// Text or binary content.
    pub data: WsData,
}

/// WebSocket message content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsData {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// How a WebSocket session closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsCloseInfo {
    /// Who sent the first close frame.
    pub from: Side,
    /// Close code, if any.
    pub code: Option<u16>,
    /// Close reason, if any.
    pub reason: Option<String>,
}

/// A relayed WebSocket session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WsCapture {
    /// Data messages in the order the proxy relayed them.
    pub frames: Vec<WsFrame>,
    /// The close, if the session closed cleanly.
    pub close: Option<WsCloseInfo>,
}

/// Everything the proxy saw of one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Client connection number (1-based, per proxy run).
    pub conn: u64,
    /// Wall-clock time the request head arrived.
    pub started: SystemTime,
    /// Time from the request head to the end of the response (or the failure).
    pub duration: Duration,
    /// The request head.
    pub request: RequestHead,
    /// The request body, as chunks in arrival order (none when it spilled).
    pub request_body: Vec<TimedChunk>,
    /// The whole request body, when it outgrew memory and went to a file.
    pub request_spill: Option<SpilledBody>,
    /// The response head; `None` when the exchange failed before one arrived.
    pub response: Option<ResponseHead>,
    /// The response body, as chunks in arrival order (none when it spilled).
    pub response_body: Vec<TimedChunk>,
    /// The whole response body, when it outgrew memory and went to a file.
    pub response_spill: Option<SpilledBody>,
    /// The WebSocket session, for an upgraded exchange.
    pub websocket: Option<WsCapture>,
    /// Why the exchange failed, e.g. `upstream connect failed: connection refused`.
    pub error: Option<String>,
}

/// Receives finished exchanges. Implementations must return quickly.
pub trait Tap: Send + Sync + 'static {
    /// Called once per finished (or failed) exchange.
    fn record(&self, exchange: Exchange);

    /// Where the proxy writes bodies larger than the proxy's spill threshold
    /// instead of holding them in memory ([`SpilledBody`]); the system's
    /// temporary directory when `None`. A recorder names a directory on its
    /// cassette's file system, so that keeping a body is one copy, renamed
    /// into place.
    fn spill_dir(&self) -> Option<PathBuf> {
        None
    }
}
