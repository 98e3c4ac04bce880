//! Where the proxy sends intercepted requests: the [`Upstream`] trait.
//!
//! The proxy terminates the client's TLS, turns each request into an
//! [`http::Request`] with an absolute URI, and asks an [`Upstream`] for the
//! answer. It neither knows nor cares whether that answer comes from the
//! network ([`live::Live`]), from a cassette ([`replay::Replay`]) or from a canned provider
//! stub: all of them implement this one trait, so recording, replaying and
//! stubbing share the listener, CONNECT handling, TLS, streaming and capture.
//!
//! Bodies stream both ways as [`Body`]: an implementation that answers from
//! memory builds one with [`body::full`], one that paces chunks or SSE events
//! with [`body::from_stream`]. A WebSocket upgrade is answered with
//! [`UpstreamResponse::WebSocket`]: the `101` head plus a [`WsSocket`] the
//! proxy relays to the client message by message ([`ws_duplex`] makes one out
//! of two channels for implementations that are not a real socket).

pub mod body;
pub mod live;
pub mod replay;
pub mod stub;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_channel::mpsc;
use futures_util::future::BoxFuture;
use futures_util::{Sink, Stream};
use http::{Request, Response, header};
use tokio::io::{AsyncRead, AsyncWrite};

pub use body::{Body, BoxError};
pub use tokio_tungstenite::tungstenite::Error as WsError;
pub use tokio_tungstenite::tungstenite::Message as WsMessage;

/// An answer source for intercepted requests: the network, a cassette or a stub.
///
/// Implementations are shared by every connection of a proxy run, so they
/// take `&self` and must be cheap to call concurrently.
pub trait Upstream: Send + Sync + 'static {
    /// Answer one request.
    ///
    /// The request carries an absolute URI (`https://api.openai.com/v1/responses`,
    /// default port omitted), the client's HTTP version (`HTTP/1.1` or `HTTP/2`;
    /// implementations that forward pick their own), the client's headers in
    /// order minus hop-by-hop ones, and the body still streaming from the
    /// client. Content-encoded bodies arrive untouched.
    ///
    /// For a WebSocket upgrade ([`is_websocket_upgrade`]: the `upgrade` and
    /// `connection` headers are kept) answer [`UpstreamResponse::WebSocket`] to
    /// accept, or an ordinary [`UpstreamResponse::Http`] to refuse (e.g. 401).
    ///
    /// An `Err` becomes a `502` for the client, whose body names the reason,
    /// and an exchange with `error` set for the tap.
    fn send(&self, request: Request<Body>) -> BoxFuture<'_, Result<UpstreamResponse, UpstreamError>>;

    /// Open a blind byte tunnel to `host:port`, for `--passthrough` hosts.
    ///
    /// Nothing passing through it is seen or recorded. Upstreams that never
    /// touch the network keep the default, which refuses.
    fn tunnel(&self, host: &str, port: u16) -> BoxFuture<'_, Result<BoxIo, UpstreamError>> {
        let message = format!("cannot tunnel to {host}:{port}: this mode never opens network connections");
        Box::pin(async move { Err(UpstreamError::new(message)) })
    }
}

/// What an [`Upstream`] answers.
pub enum UpstreamResponse {
    /// An HTTP response whose body streams to the client as it arrives.
    Http(Response<Body>),
    /// An accepted WebSocket upgrade.
    WebSocket(WsSession),
}

/// An accepted WebSocket upgrade: the head the client gets, and the upstream
/// end of the session.
pub struct WsSession {
    /// The `101 Switching Protocols` head, with `sec-websocket-accept` computed
    /// over the client's `sec-websocket-key` (a real server's head does; use
    /// [`websocket_accept`] when there is no real server).
    pub head: Response<()>,
    /// The upstream end: the proxy writes client messages into it and relays
    /// what it yields to the client. The stream ending or a `Close` ends the session.
    pub socket: WsSocket,
}

/// Both directions of a WebSocket in one object: a stream of incoming
/// messages and a sink for outgoing ones (a `tokio_tungstenite::WebSocketStream` is one).
pub trait WsTransport:
    Stream<Item = Result<WsMessage, WsError>> + Sink<WsMessage, Error = WsError> + Send + Unpin
{
}

impl<T> WsTransport for T where
    T: Stream<Item = Result<WsMessage, WsError>> + Sink<WsMessage, Error = WsError> + Send + Unpin
{
}

/// The upstream end of a WebSocket session.
pub type WsSocket = Box<dyn WsTransport>;

/// A byte stream both ways (a TCP or TLS connection).
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T> Io for T where T: AsyncRead + AsyncWrite + Send + Unpin {}

/// A boxed [`Io`], as returned by [`Upstream::tunnel`].
pub type BoxIo = Box<dyn Io>;

/// Why an upstream could not answer; the message reaches the client (in a
/// `502` body) and the cassette (`error`), so it names the host and the reason
/// and never a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamError {
    message: String,
}

impl UpstreamError {
    /// An error with this message, e.g. `upstream connect failed: api.openai.com:443: connection refused`.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UpstreamError {}

/// Whether `request` asks to become a WebSocket (`upgrade: websocket` and
/// `connection: upgrade`, compared case-insensitively).
pub fn is_websocket_upgrade<B>(request: &Request<B>) -> bool {
    let headers = request.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has_token(header::UPGRADE, "websocket") && has_token(header::CONNECTION, "upgrade")
}

/// `scheme://authority/path` without the query, for logs and messages:
/// queries may carry keys (`?key=…`), and messages reach the client and the cassette.
pub fn url_without_query(uri: &http::Uri) -> String {
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}{}", uri.path()),
        _ => uri.path().to_owned(),
    }
}

/// The `sec-websocket-accept` value answering a client's `sec-websocket-key`
/// (RFC 6455 §4.2.2), for upstreams that accept upgrades without a real server.
pub fn websocket_accept(key: &[u8]) -> String {
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key)
}

/// The other end of a [`ws_duplex`] socket, held by an [`Upstream`] that
/// plays the server side itself (replay, stub).
pub struct WsPeer {
    /// Messages the client sent, in order; ends when the client side is gone.
    pub from_client: mpsc::Receiver<WsMessage>,
    /// Messages to deliver to the client; dropping it ends the session.
    pub to_client: mpsc::Sender<WsMessage>,
}

/// A [`WsSocket`] backed by two channels of `capacity` messages, and the
/// [`WsPeer`] that drives it.
pub fn ws_duplex(capacity: usize) -> (WsSocket, WsPeer) {
    let (to_client, from_peer) = mpsc::channel(capacity);
    let (to_peer, from_client) = mpsc::channel(capacity);
    let socket = Box::new(Duplex { to_peer, from_peer });
    (socket, WsPeer { from_client, to_client })
}

/// The proxy-side end of [`ws_duplex`].
struct Duplex {
    to_peer: mpsc::Sender<WsMessage>,
    from_peer: mpsc::Receiver<WsMessage>,
}

impl Stream for Duplex {
    type Item = Result<WsMessage, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.from_peer).poll_next(cx).map(|message| message.map(Ok))
    }
}

impl Sink<WsMessage> for Duplex {
    type Error = WsError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut self.to_peer).poll_ready(cx).map_err(|_| WsError::ConnectionClosed)
    }

    fn start_send(mut self: Pin<&mut Self>, item: WsMessage) -> Result<(), WsError> {
        Pin::new(&mut self.to_peer).start_send(item).map_err(|_| WsError::ConnectionClosed)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut self.to_peer).poll_flush(cx).map_err(|_| WsError::ConnectionClosed)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut self.to_peer).poll_close(cx).map_err(|_| WsError::ConnectionClosed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::get("https://example.com/ws");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn websocket_upgrade_needs_both_headers() {
        assert!(is_websocket_upgrade(&request(&[("upgrade", "websocket"), ("connection", "Upgrade")])));
        assert!(is_websocket_upgrade(&request(&[
            ("upgrade", "WebSocket"),
            ("connection", "keep-alive, upgrade")
        ])));
        assert!(!is_websocket_upgrade(&request(&[("upgrade", "websocket")])));
        assert!(!is_websocket_upgrade(&request(&[("upgrade", "h2c"), ("connection", "upgrade")])));
    }

    #[test]
    fn url_without_query_keeps_everything_but_the_query() {
        assert_eq!(url_without_query(&"https://h:8443/p?key=secret".parse().unwrap()), "https://h:8443/p");
        assert_eq!(url_without_query(&"/p?key=secret".parse().unwrap()), "/p");
    }

    #[test]
    fn websocket_accept_matches_rfc_6455_example() {
        assert_eq!(websocket_accept(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[tokio::test]
    async fn duplex_carries_messages_both_ways_and_ends_with_the_peer() {
        let (mut socket, mut peer) = ws_duplex(4);
        socket.send(WsMessage::text("from client")).await.unwrap();
        assert_eq!(peer.from_client.next().await, Some(WsMessage::text("from client")));
        peer.to_client.send(WsMessage::text("from server")).await.unwrap();
        assert_eq!(socket.next().await.unwrap().unwrap(), WsMessage::text("from server"));
        drop(peer);
        assert!(socket.next().await.is_none());
        assert!(socket.send(WsMessage::text("late")).await.is_err());
    }
}
