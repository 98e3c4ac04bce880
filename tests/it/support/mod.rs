//! Test support shared by the integration tests: real sockets on 127.0.0.1,
//! real TLS, no clocks. Topics `use crate::support::*` (or the items they need).
//!
//! - [`TestCa`] — a CA made with rcgen for one test; [`TestCa::server_config`]
//!   gives a rustls server config for some names, [`TestCa::cert_path`] the
//!   PEM to pass as `--upstream-ca` or `--cacert`.
//! - [`TestUpstream`] — a hyper + rustls server on 127.0.0.1:0 posing as the
//!   providers. [`PROVIDER_HOSTS`] reach it through [`TestUpstream::live`]
//!   (library) or [`TestUpstream::proxy_args`] (`--upstream-ca` + `--connect-to`
//!   for the binary; [`TestUpstream::record_args`] for a whole `record`). Its routes:
//!   - `/ws` with an upgrade — WebSocket echo (each text/binary message sent back);
//!   - `/sse`, or any request with `accept: text/event-stream` — SSE with ack:
//!     event 1 ([`SSE_EVENTS`]), then it waits for an ack ([`TestUpstream::ack`]
//!     or a request to `/ack` through the proxy), then events 2 and 3;
//!   - `/ack` — acknowledges one SSE event, `204`;
//!   - `/oauth/token` — a token refresh: answers `refresh_token` =
//!     [`rotated_refresh_token`] of the request's `refresh_token` (JSON body);
//!   - `/status/NNN` — answers status NNN with a small JSON body;
//!   - `/hang` — a `200` whose body sends [`FIRST_CHUNK`] and then nothing, ever;
//!   - `/reset` — a `200` whose body sends [`FIRST_CHUNK`] and then fails (h2: the stream is reset);
//!   - anything else — JSON echo `{"id":"resp_1","object":"response","method","path",
//!     "http_version","body"}` (`body`: the request JSON, else its text).
//!
//!   [`TestUpstream::seen`] lists the requests it got, bytes untouched.
//! - [`CollectingTap`] — a `Tap` that keeps exchanges; [`CollectingTap::wait_for`]
//!   waits (explicitly notified) until N arrived.
//! - [`TestProxy`] — the library proxy on 127.0.0.1:0 with its own CA home,
//!   any [`Upstream`] and a [`CollectingTap`]; [`TestProxy::stop`] shuts it down.
//! - [`ProxiedClient`] — a hyper HTTP/1.1 or HTTP/2 client through CONNECT + TLS
//!   (send absolute URLs; [`text`] reads a response body); [`connect_tunnel`],
//!   [`connect_tunnel_status`], [`tls_tunnel`] and [`ws_connect`] for raw
//!   tunnels, TLS over them and WebSockets; [`client_tls`] trusts one PEM.
//! - [`Bin`] — the built binary with a private `DISPATCH_VCR_HOME` (its CA
//!   lands in `home/ca/ca-cert.pem`): [`Bin::run`] runs to the end,
//!   [`Bin::spawn`] starts a proxy command and reads its `listening on` line;
//!   [`Running::signal`] and [`Running::wait`] stop it.
//! - Small helpers: [`unique`] (canaries, names), [`files_under`] (grep a
//!   directory), [`text_message`], [`GUARD`] (the hang guard every wait uses).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use dispatch_vcr::ca::{CertAuthority, LeafIssuer};
use dispatch_vcr::exchange::{Exchange, Tap};
use dispatch_vcr::proxy::{Proxy, ProxyConfig, Wiring};
use dispatch_vcr::upstream::live::{Live, LiveOptions};
use dispatch_vcr::upstream::{Body, Upstream, body, is_websocket_upgrade, websocket_accept};
use futures_util::{SinkExt as _, StreamExt as _};
use http::{Request, Response, StatusCode, Version, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

/// The provider names tests use; all of them land on the [`TestUpstream`].
pub const PROVIDER_HOSTS: [&str; 3] = ["api.openai.com", "chatgpt.com", "api.anthropic.com"];

/// How long a test waits for something that should happen at once before
/// failing: a guard against hangs, never a timing assertion.
pub const GUARD: Duration = Duration::from_secs(20);

/// The SSE events of the `/sse` route, in order, as sent on the wire.
pub const SSE_EVENTS: [&str; 3] = [
    "event: response.created\ndata: {\"type\":\"response.created\"}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n",
    "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n",
];

/// The first (and only) chunk of the `/hang` and `/reset` routes.
pub const FIRST_CHUNK: &str = "partial body; more never comes\n";

/// The ring provider, passed explicitly so no process default is needed.
fn crypto() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate authority made for one test.
pub struct TestCa {
    dir: TempDir,
    issuer: Issuer<'static, KeyPair>,
    cert_path: PathBuf,
}

impl TestCa {
    /// A fresh CA, its certificate written to a temporary PEM file.
    pub fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, "dispatch-vcr test upstream CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cert_path = dir.path().join("upstream-ca.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        Self { dir, issuer: Issuer::new(params, key), cert_path }
    }

    /// The CA certificate (PEM file).
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// A server config presenting a leaf for `names` (DNS names or IPs), offering `alpn`.
    pub fn server_config(&self, names: &[&str], alpn: &[&[u8]]) -> Arc<ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(crypto())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key_der)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

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

/// A tap that keeps every exchange and wakes waiters.
#[derive(Default)]
pub struct CollectingTap {
    exchanges: Mutex<Vec<Exchange>>,
    changed: Notify,
}

impl Tap for CollectingTap {
    fn record(&self, exchange: Exchange) {
        self.exchanges.lock().unwrap().push(exchange);
        self.changed.notify_waiters();
    }
}

impl CollectingTap {
    /// The exchanges so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().clone()
    }

    /// Wait until at least `n` exchanges arrived; panics after [`GUARD`].
    pub async fn wait_for(&self, n: usize) -> Vec<Exchange> {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let exchanges = self.exchanges();
                if exchanges.len() >= n {
                    return exchanges;
                }
                notified.await;
            }
        };
        tokio::time::timeout(GUARD, wait).await.unwrap_or_else(|_| panic!("fewer than {n} exchanges arrived"))
    }
}

/// The library proxy on 127.0.0.1:0 with a CA of its own and a collecting tap.
pub struct TestProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it captured.
    pub tap: Arc<CollectingTap>,
    /// Its CA's certificate (what clients must trust).
    pub ca_path: PathBuf,
    home: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<JoinHandle<dispatch_vcr::Result<()>>>,
}

impl TestProxy {
    /// A proxy with the default config in front of `upstream`.
    pub async fn start(upstream: impl Upstream) -> Self {
        Self::start_with(Arc::new(upstream), ProxyConfig::default()).await
    }

    /// A proxy with `config` in front of `upstream`.
    pub async fn start_with(upstream: Arc<dyn Upstream>, config: ProxyConfig) -> Self {
        let home = tempfile::tempdir().unwrap();
        let (ca, _) = CertAuthority::init(home.path(), false).unwrap();
        let ca_path = ca.paths().cert.clone();
        let leaves = Arc::new(LeafIssuer::new(Arc::new(ca)).unwrap());
        let proxy = Proxy::bind(&config).await.unwrap();
        let addr = proxy.local_addr().unwrap();
        let tap = Arc::new(CollectingTap::default());
        let wiring = Wiring { leaves, upstream, tap: tap.clone() };
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(proxy.serve(wiring, async move {
            let _ = stopped.await;
        }));
        Self { addr, tap, ca_path, home, stop: Some(stop), task: Some(task) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Ask it to shut down and wait until `serve` returned.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(GUARD, task).await.expect("proxy did not stop").unwrap().unwrap();
        }
    }
}

/// Open a CONNECT tunnel to `authority`; returns the status and the stream.
pub async fn connect_tunnel_status(proxy: SocketAddr, authority: &str) -> (u16, TcpStream) {
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    let head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    // Read the response head byte by byte so no tunnel byte is consumed.
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let byte = tcp.read_u8().await.unwrap();
        response.push(byte);
    }
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
    (status, tcp)
}

/// Open a CONNECT tunnel to `authority`, asserting `200`.
pub async fn connect_tunnel(proxy: SocketAddr, authority: &str) -> TcpStream {
    let (status, tcp) = connect_tunnel_status(proxy, authority).await;
    assert_eq!(status, 200, "CONNECT {authority}");
    tcp
}

/// A TLS client trusting only `ca_pem`, offering `alpn`.
pub fn client_tls(ca_pem: &Path, alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = ClientConfig::builder_with_provider(crypto())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// TLS over a CONNECT tunnel to `host:port`, trusting `ca_pem`.
pub async fn tls_tunnel(
    proxy: SocketAddr,
    ca_pem: &Path,
    host: &str,
    port: u16,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = connect_tunnel(proxy, &format!("{host}:{port}")).await;
    let name = ServerName::try_from(host.to_owned()).unwrap();
    client_tls(ca_pem, alpn).connect(name, tcp).await.unwrap()
}

/// Which HTTP a [`ProxiedClient`] speaks inside the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http {
    /// HTTP/1.1 (ALPN http/1.1).
    H1,
    /// HTTP/2 (ALPN h2).
    H2,
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Body>),
    H2(hyper::client::conn::http2::SendRequest<Body>),
}

/// A hyper client whose one connection goes through the proxy to `host:443`.
pub struct ProxiedClient {
    sender: Sender,
}

impl ProxiedClient {
    /// Tunnel to `host:443`, TLS trusting `ca_pem` (the proxy's CA), then the handshake for `http`.
    pub async fn connect(proxy: SocketAddr, ca_pem: &Path, host: &str, http: Http) -> Self {
        let alpn: &[&[u8]] = match http {
            Http::H1 => &[b"http/1.1"],
            Http::H2 => &[b"h2"],
        };
        let tls = tls_tunnel(proxy, ca_pem, host, 443, alpn).await;
        let io = TokioIo::new(tls);
        let sender = match http {
            Http::H1 => {
                let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
                tokio::spawn(connection.with_upgrades());
                Sender::H1(sender)
            }
            Http::H2 => {
                let (sender, connection) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.unwrap();
                tokio::spawn(connection);
                Sender::H2(sender)
            }
        };
        Self { sender }
    }

    /// Send `request` (absolute URL); HTTP/1.1 gets origin-form plus `Host`.
    /// Over HTTP/1.1, read each response to its end before sending the next.
    pub async fn send(&mut self, request: Request<Body>) -> Response<Incoming> {
        self.try_send(request).await.unwrap()
    }

    /// [`ProxiedClient::send`], for requests whose connection may die before a response head.
    pub async fn try_send(&mut self, mut request: Request<Body>) -> hyper::Result<Response<Incoming>> {
        match &mut self.sender {
            Sender::H1(sender) => {
                // The previous response must have been read to its end.
                sender.ready().await?;
                let uri = request.uri().clone();
                let host = uri.authority().unwrap().as_str().to_owned();
                request.headers_mut().entry(header::HOST).or_insert(host.parse().unwrap());
                *request.uri_mut() = uri.path_and_query().unwrap().as_str().parse().unwrap();
                sender.send_request(request).await
            }
            Sender::H2(sender) => {
                *request.version_mut() = Version::HTTP_2;
                sender.send_request(request).await
            }
        }
    }
}

/// The whole body as text.
pub async fn text(response: Response<Incoming>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A WebSocket to `wss://host/path` through the proxy, trusting `ca_pem`.
pub async fn ws_connect(
    proxy: SocketAddr,
    ca_pem: &Path,
    host: &str,
    path: &str,
) -> WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>> {
    let tls = tls_tunnel(proxy, ca_pem, host, 443, &[b"http/1.1"]).await;
    let (socket, response) =
        tokio_tungstenite::client_async(format!("wss://{host}{path}"), tls).await.unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    socket
}

/// A text message.
pub fn text_message(text: &str) -> Message {
    Message::text(text)
}

/// A value no test run shares with another: for canaries and names.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let seed = format!("{nanos}-{}-{prefix}", std::process::id());
    format!("{prefix}{}", &hex::encode(Sha256::digest(seed.as_bytes()))[..32])
}

/// An unsigned ChatGPT OAuth access token whose account claim is `account`
/// (fixture credentials for the reference dispatcher).
pub fn chatgpt_jwt(account: &str) -> String {
    dispatch_vcr::credential::mint_unsigned_jwt(
        &serde_json::json!({"https://api.openai.com/auth": {"chatgpt_account_id": account}}),
    )
}

/// The built `dispatch-vcr` binary, with a private home.
pub struct Bin {
    /// `DISPATCH_VCR_HOME` for every run.
    pub home: TempDir,
}

/// A running proxy command: its `listening on` address and the process.
pub struct Running {
    /// The proxy address from the first stdout line.
    pub addr: SocketAddr,
    /// The process (stdout after the first line and stderr are piped).
    pub child: tokio::process::Child,
}

impl Bin {
    /// A binary runner with a fresh home.
    pub fn new() -> Self {
        Self { home: tempfile::tempdir().unwrap() }
    }

    /// `dispatch-vcr ARGS` with the private home and no inherited proxy env.
    pub fn command<I, S>(&self, args: I) -> tokio::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_dispatch-vcr"));
        command.args(args).env("DISPATCH_VCR_HOME", self.home.path()).env_remove("RUST_LOG");
        for name in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"] {
            command.env_remove(name);
        }
        command.kill_on_drop(true);
        command
    }

    /// Run to the end; stdout and stderr captured.
    pub async fn run<I, S>(&self, args: I) -> std::process::Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let output = self.command(args).stdin(Stdio::null()).output();
        tokio::time::timeout(GUARD, output).await.expect("dispatch-vcr did not finish").unwrap()
    }

    /// Start a proxy command and wait for its `listening on http://ADDR` line.
    pub async fn spawn<I, S>(&self, args: I) -> Running
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout);
        let mut first = String::new();
        tokio::time::timeout(GUARD, lines.read_line(&mut first)).await.expect("no listening line").unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first stdout line: {first:?}"))
            .parse()
            .unwrap();
        child.stdout = None;
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink).await;
        });
        Running { addr, child }
    }
}

impl Running {
    /// Send `signal` (e.g. `libc::SIGINT`) to the process.
    pub fn signal(&self, signal: i32) {
        let pid = self.child.id().unwrap() as i32;
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    /// Wait for the exit; returns the status and the stderr text.
    pub async fn wait(mut self) -> (std::process::ExitStatus, String) {
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            tokio::time::timeout(GUARD, pipe.read_to_string(&mut stderr))
                .await
                .expect("stderr open")
                .unwrap();
        }
        let status = tokio::time::timeout(GUARD, self.child.wait()).await.expect("did not exit").unwrap();
        (status, stderr)
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    files
}
