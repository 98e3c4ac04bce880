//! [`TestUpstream`]: a hyper + rustls server on 127.0.0.1:0 posing as the
//! providers. [`PROVIDER_HOSTS`] reach it through [`TestUpstream::live`]
//! (library) or [`TestUpstream::proxy_args`] (`--upstream-ca` + `--connect-to`
//! for the binary; [`TestUpstream::record_args`] for a whole `record`). Its routes:
//! - `/ws` with an upgrade — WebSocket echo (each text/binary message sent back);
//! - `/sse`, or any request with `accept: text/event-stream` — SSE with ack:
//!   event 1 ([`SSE_EVENTS`]), then it waits for an ack ([`TestUpstream::ack`]
//!   or a request to `/ack` through the proxy), then events 2 and 3;
//! - `/ack` — acknowledges one SSE event, `204`;
//! - `/oauth/token` — a token refresh: answers `refresh_token` =
//!   [`rotated_refresh_token`] of the request's `refresh_token` (JSON body);
//! - `/status/NNN` — answers status NNN with a small JSON body;
//! - `/chunks` — answers the request's `{"content_type", "body", "seed", "split_at"}`:
//!   `body` with each `{secret}` replaced by [`minted_secret`] of `seed` (so the
//!   secret never travels in the request), cut at the `split_at` byte offsets
//!   into chunks sent 20 ms apart, without a content-length;
//! - `/hang` — a `200` whose body sends [`FIRST_CHUNK`] and then nothing, ever;
//! - `/reset` — a `200` whose body sends [`FIRST_CHUNK`] and then fails (h2: the stream is reset);
//! - anything else — JSON echo `{"id":"resp_1","object":"response","method","path",
//!   "http_version","body"}` (`body`: the request JSON, else its text).
//!
//! [`TestUpstream::seen`] lists the requests it got, bytes untouched.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dispatch_vcr::upstream::live::{Live, LiveOptions};
use dispatch_vcr::upstream::{Body, body, is_websocket_upgrade, websocket_accept};
use futures_util::{SinkExt as _, StreamExt as _};
use http::{Request, Response, StatusCode, Version, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::TestCa;

/// The provider names tests use; all of them land on the [`TestUpstream`].
pub const PROVIDER_HOSTS: [&str; 3] = ["api.openai.com", "chatgpt.com", "api.anthropic.com"];

/// The SSE events of the `/sse` route, in order, as sent on the wire.
pub const SSE_EVENTS: [&str; 3] = [
    "event: response.created\ndata: {\"type\":\"response.created\"}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n",
    "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n",
];

/// The first (and only) chunk of the `/hang` and `/reset` routes.
pub const FIRST_CHUNK: &str = "partial body; more never comes\n";

/// How a [`TestUpstream`] listens.
#[derive(Debug, Clone)]
pub struct UpstreamOptions {
    /// Serve TLS (with a [`TestCa`] leaf) or plain HTTP.
    pub tls: bool,
    /// ALPN protocols offered when serving TLS.
    pub alpn: Vec<&'static [u8]>,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        Self { tls: true, alpn: vec![b"h2", b"http/1.1"] }
    }
}

/// A request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// HTTP version on the upstream hop.
    pub version: Version,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body bytes, untouched.
    pub body: Bytes,
}

struct UpstreamState {
    acks: Semaphore,
    seen: Mutex<Vec<Seen>>,
}

/// A local server posing as the model providers (see the module doc for routes).
pub struct TestUpstream {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Whether it serves TLS.
    pub tls: bool,
    ca: TestCa,
    state: Arc<UpstreamState>,
    task: JoinHandle<()>,
}

impl Drop for TestUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestUpstream {
    /// An HTTPS upstream offering h2 and http/1.1.
    pub async fn start() -> Self {
        Self::start_with(UpstreamOptions::default()).await
    }

    /// An upstream as `options` say.
    pub async fn start_with(options: UpstreamOptions) -> Self {
        let ca = TestCa::new();
        let names: Vec<&str> = PROVIDER_HOSTS.iter().copied().chain(["localhost", "127.0.0.1"]).collect();
        let tls = options.tls.then(|| TlsAcceptor::from(ca.server_config(&names, &options.alpn)));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(UpstreamState { acks: Semaphore::new(0), seen: Mutex::new(Vec::new()) });
        let task = tokio::spawn(accept_loop(listener, tls, state.clone()));
        Self { addr, tls: options.tls, ca, state, task }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The PEM of the CA that signed its certificate.
    pub fn ca_path(&self) -> &Path {
        self.ca.cert_path()
    }

    /// The port clients use for it: 443 for TLS, 80 for plain.
    fn public_port(&self) -> u16 {
        if self.tls { 443 } else { 80 }
    }

    /// `--connect-to` rules sending every provider host here.
    pub fn connect_to(&self) -> Vec<String> {
        PROVIDER_HOSTS
            .iter()
            .map(|host| format!("{host}:{}:127.0.0.1:{}", self.public_port(), self.port()))
            .collect()
    }

    /// A live upstream trusting this server's CA, with provider hosts mapped here.
    pub fn live(&self) -> Live {
        let connect_to = self.connect_to().iter().map(|rule| rule.parse().unwrap()).collect();
        Live::new(LiveOptions { upstream_ca: vec![self.ca_path().to_owned()], connect_to }).unwrap()
    }

    /// The same as flags: `--upstream-ca PEM --connect-to …`.
    pub fn proxy_args(&self) -> Vec<String> {
        let mut args = vec!["--upstream-ca".to_owned(), self.ca_path().display().to_string()];
        for rule in self.connect_to() {
            args.extend(["--connect-to".to_owned(), rule]);
        }
        args
    }

    /// `record -o OUT --listen 127.0.0.1:0 <these flags> EXTRA…`: the binary recording through this upstream.
    pub fn record_args(&self, out: &Path, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["record".to_owned(), "-o".to_owned(), out.display().to_string()];
        args.extend(["--listen".to_owned(), "127.0.0.1:0".to_owned()]);
        args.extend(self.proxy_args());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// Let the SSE route send its next event.
    pub fn ack(&self) {
        self.state.acks.add_permits(1);
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

/// The secret `/chunks` puts in its answer for `seed`: 32 opaque hex digits.
pub fn minted_secret(seed: &str) -> String {
    hex::encode(Sha256::digest(format!("secret:{seed}").as_bytes()))[..32].to_owned()
}

/// The refresh token `/oauth/token` hands out for `refresh_token`: a value
/// the client never sent, so only response-side redaction can hide it.
pub fn rotated_refresh_token(refresh_token: &str) -> String {
    format!("rt{}", hex::encode(Sha256::digest(refresh_token.as_bytes())))
}

async fn accept_loop(listener: TcpListener, tls: Option<TlsAcceptor>, state: Arc<UpstreamState>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let (tls, state) = (tls.clone(), state.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| route(state.clone(), request));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            match tls {
                Some(tls) => {
                    let Ok(stream) = tls.accept(tcp).await else { return };
                    let _ = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).await;
                }
                None => {
                    let _ = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service).await;
                }
            }
        });
    }
}

async fn route(
    state: Arc<UpstreamState>,
    mut request: Request<Incoming>,
) -> Result<Response<Body>, std::convert::Infallible> {
    if is_websocket_upgrade(&request) {
        return Ok(websocket_echo(&mut request));
    }
    let (parts, incoming) = request.into_parts();
    let bytes = incoming.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    state.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: path.clone(),
        version: parts.version,
        headers: parts.headers.clone(),
        body: bytes.clone(),
    });
    let wants_sse =
        parts.headers.get(header::ACCEPT).is_some_and(|a| a.as_bytes().starts_with(b"text/event-stream"));
    let route = parts.uri.path();
    Ok(if route == "/hang" || route == "/reset" {
        cut_short(route == "/reset")
    } else if route == "/ack" {
        state.acks.add_permits(1);
        status_only(StatusCode::NO_CONTENT)
    } else if route == "/sse" || wants_sse {
        sse_with_ack(state)
    } else if route == "/oauth/token" {
        let request: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let refresh = request["refresh_token"].as_str().unwrap_or_default();
        json(
            StatusCode::OK,
            serde_json::json!({
                "access_token": "fresh-access", "token_type": "Bearer", "expires_in": 3600,
                "refresh_token": rotated_refresh_token(refresh),
            }),
        )
    } else if route == "/chunks" {
        chunks_as_asked(&bytes)
    } else if let Some(code) = route.strip_prefix("/status/").and_then(|c| c.parse::<u16>().ok()) {
        json(StatusCode::from_u16(code).unwrap_or(StatusCode::OK), serde_json::json!({"status": code}))
    } else {
        let body = serde_json::from_slice::<serde_json::Value>(&bytes)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned().into());
        let version = if parts.version == Version::HTTP_2 { "HTTP/2" } else { "HTTP/1.1" };
        json(
            StatusCode::OK,
            serde_json::json!({
                "id": "resp_1", "object": "response", "method": parts.method.as_str(), "path": path,
                "http_version": version, "body": body,
            }),
        )
    })
}

/// [`FIRST_CHUNK`], then a body that never ends, or (`fail`) one that fails.
fn cut_short(fail: bool) -> Response<Body> {
    let first = futures_util::stream::once(async { Ok(Bytes::from_static(FIRST_CHUNK.as_bytes())) });
    let rest = futures_util::stream::once(async move {
        if !fail {
            std::future::pending::<()>().await;
        }
        Err(std::io::Error::other("the test upstream cut this body short"))
    });
    let mut response = Response::new(body::from_stream(first.chain(rest)));
    response.headers_mut().insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
    response
}

/// The answer a `/chunks` request asks for, streamed in pieces with pauses
/// so each reaches the proxy on its own.
fn chunks_as_asked(request: &[u8]) -> Response<Body> {
    let asked: serde_json::Value = serde_json::from_slice(request).unwrap_or_default();
    let secret = minted_secret(asked["seed"].as_str().unwrap_or_default());
    let body = asked["body"].as_str().unwrap_or_default().replace("{secret}", &secret).into_bytes();
    let mut cuts: Vec<usize> = asked["split_at"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_u64())
        .map(|n| n as usize)
        .collect();
    cuts.retain(|at| *at < body.len());
    cuts.push(body.len());
    let mut start = 0;
    let chunks: Vec<Bytes> = cuts
        .into_iter()
        .map(|end| {
            let chunk = Bytes::copy_from_slice(&body[start..end]);
            start = end;
            chunk
        })
        .collect();
    let stream = futures_util::stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Ok::<_, std::io::Error>(chunk)
    });
    let mut response = Response::new(body::from_stream(stream));
    let content_type = asked["content_type"].as_str().unwrap_or("application/octet-stream");
    response.headers_mut().insert(header::CONTENT_TYPE, content_type.parse().unwrap());
    response
}

fn status_only(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = status;
    response
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(body::full(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    response
}

/// Event 1 now; events 2 and 3 only once the client acknowledged event 1.
fn sse_with_ack(state: Arc<UpstreamState>) -> Response<Body> {
    let (mut tx, rx) = futures_channel::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        tx.send(Ok(Bytes::from_static(SSE_EVENTS[0].as_bytes()))).await.ok()?;
        state.acks.acquire().await.ok()?.forget();
        for event in &SSE_EVENTS[1..] {
            tx.send(Ok(Bytes::from_static(event.as_bytes()))).await.ok()?;
        }
        Some(())
    });
    let mut response = Response::new(body::from_stream(rx));
    response.headers_mut().insert(header::CONTENT_TYPE, "text/event-stream".parse().unwrap());
    response.headers_mut().insert(header::CACHE_CONTROL, "no-cache".parse().unwrap());
    response
}

fn websocket_echo(request: &mut Request<Incoming>) -> Response<Body> {
    let key =
        request.headers().get(header::SEC_WEBSOCKET_KEY).map(|k| k.as_bytes().to_vec()).unwrap_or_default();
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        while let Some(Ok(message)) = socket.next().await {
            if (message.is_text() || message.is_binary()) && socket.send(message).await.is_err() {
                break;
            }
        }
    });
    let mut response = status_only(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, "websocket".parse().unwrap());
    headers.insert(header::CONNECTION, "upgrade".parse().unwrap());
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, websocket_accept(&key).parse().unwrap());
    response
}
