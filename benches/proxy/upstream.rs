//! The upstream every path ends at: hyper + rustls on 127.0.0.1, posing as a
//! model provider for any `*.bench.test` name (proxies reach it by
//! `--connect-to`, a custom connector, or an address rewrite).
//!
//! Routes:
//! - `/sse?n=N&gap_us=G` — N server-sent events G µs apart, each carrying the
//!   time it was handed to hyper ([`now_ns`]), so the client can tell how long
//!   it took to arrive;
//! - `/big?bytes=N` — N bytes of incompressible data in 256 KiB chunks;
//! - anything else — a small JSON answer, like a non-streamed model response.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dispatch_vcr::upstream::{Body, body};
use futures_util::SinkExt as _;
use http::{Request, Response, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::Fallible;

/// What the default route answers: the size of a short model response.
pub const RESPONSE_JSON: &str = concat!(
    r#"{"id":"resp_bench","object":"response","status":"completed","model":"gpt-5.5","#,
    r#""output":[{"type":"message","role":"assistant","content":[{"type":"output_text","#,
    r#""text":"The quick brown fox jumps over the lazy dog; the answer is forty-two."}]}],"#,
    r#""usage":{"input_tokens":42,"output_tokens":17,"total_tokens":59}}"#
);

/// Size of one `/big` chunk.
const BIG_CHUNK: usize = 256 << 10;

/// Nanoseconds since the bench started: one clock for the upstream and the
/// clients, which live in the same process.
pub fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A running upstream.
pub struct Upstream {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    /// Listen on 127.0.0.1:0 with `tls`.
    pub async fn start(tls: Arc<ServerConfig>) -> Fallible<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(accept_loop(listener, TlsAcceptor::from(tls)));
        Ok(Self { addr, task })
    }
}

async fn accept_loop(listener: TcpListener, tls: TlsAcceptor) {
    let big = Bytes::from(noise(BIG_CHUNK));
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let _ = tcp.set_nodelay(true);
        let (tls, big) = (tls.clone(), big.clone());
        tokio::spawn(async move {
            let Ok(stream) = tls.accept(tcp).await else { return };
            let service = hyper::service::service_fn(move |request| route(request, big.clone()));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn route(request: Request<Incoming>, big: Bytes) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    // Read the request body whatever the route, as a provider would.
    let _ = request.into_body().collect().await;
    let param = |name: &str| query_param(&query, name);
    Ok(match path.as_str() {
        "/sse" => sse(param("n").unwrap_or(10), Duration::from_micros(param("gap_us").unwrap_or(2000))),
        "/big" => stream_bytes(param("bytes").unwrap_or(0), big),
        _ => with_type(Response::new(body::full(RESPONSE_JSON)), "application/json"),
    })
}

/// The numeric query parameter `name`.
fn query_param(query: &str, name: &str) -> Option<u64> {
    query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

fn with_type(mut response: Response<Body>, content_type: &'static str) -> Response<Body> {
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    response
}

/// `n` events, `gap` apart, each stamped with [`now_ns`] as it is sent.
fn sse(n: u64, gap: Duration) -> Response<Body> {
    let (mut tx, rx) = futures_channel::mpsc::channel::<Result<Bytes, Infallible>>(4);
    tokio::spawn(async move {
        for i in 0..n {
            tokio::time::sleep(gap).await;
            let event = format!("event: tick\ndata: {{\"i\":{i},\"sent_ns\":{}}}\n\n", now_ns());
            if tx.send(Ok(Bytes::from(event))).await.is_err() {
                return;
            }
        }
    });
    with_type(Response::new(body::from_stream(rx)), "text/event-stream")
}

/// `len` bytes, made of `chunk` repeated (the last one cut to fit).
fn stream_bytes(len: u64, chunk: Bytes) -> Response<Body> {
    let size = chunk.len() as u64;
    let pieces = (0..len.div_ceil(size)).map(move |i| {
        let rest = usize::try_from((len - i * size).min(size)).unwrap_or(0);
        Ok::<_, Infallible>(chunk.slice(..rest))
    });
    let mut response = with_type(
        Response::new(body::from_stream(futures_util::stream::iter(pieces))),
        "application/octet-stream",
    );
    response.headers_mut().insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    response
}

/// Deterministic bytes that are neither UTF-8 nor compressible.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            // xorshift64*: cheap and good enough to defeat text detection.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}
