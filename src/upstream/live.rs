//! [`Live`]: forward intercepted requests to the real servers.
//!
//! A pooled hyper-util client over rustls, offering h2 and http/1.1 by ALPN.
//! `--connect-to` rules redirect the TCP connection while SNI, certificate
//! checks and the `Host` header keep the requested name, exactly like curl's
//! flag; `--upstream-ca` replaces the web roots (tests point real provider
//! names at a local server with its own CA this way).

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, StatusCode, Uri, Version, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tracing::Instrument as _;

use super::{
    Body, BoxIo, Upstream, UpstreamError, UpstreamResponse, WsSession, body, is_websocket_upgrade,
    url_without_query,
};
use crate::ca::add_pem_roots;
use crate::exchange::UPSTREAM_UNREACHABLE;
use crate::{Error, Result};

/// How long an idle pooled connection to a server is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// What [`Live`] needs from the command line.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// `--upstream-ca` PEM files; when any is given they replace the web roots.
    pub upstream_ca: Vec<PathBuf>,
    /// `--connect-to HOST:PORT:ADDR:PORT` rules, first match wins.
    pub connect_to: Vec<ConnectTo>,
}

/// The live network as an [`Upstream`].
///
/// A request goes out in the protocol its client chose: from an HTTP/2
/// client over h2 when the server offers it, from an HTTP/1.x client over
/// HTTP/1.1 (as mitmproxy offers the server the client's ALPN list). Two
/// pools, so a connection is only ever shared by clients of one kind.
pub struct Live {
    /// Offers h2 and http/1.1: for HTTP/2 clients.
    any_protocol: Client<Connector, Body>,
    /// Offers http/1.1 only: for HTTP/1.x clients.
    http1_only: Client<Connector, Body>,
    dialer: Arc<Dialer>,
}

impl Live {
    /// A live upstream; fails (exit 2) on an unreadable or empty `--upstream-ca` file.
    pub fn new(options: LiveOptions) -> Result<Self> {
        let roots = root_store(&options.upstream_ca)?;
        let dialer = Arc::new(Dialer {
            rules: options.connect_to,
            any_protocol: tls_connector(roots.clone(), &[b"h2", b"http/1.1"]),
            http1_only: tls_connector(roots, &[b"http/1.1"]),
        });
        let pool = |protocols| {
            Client::builder(TokioExecutor::new())
                .pool_idle_timeout(POOL_IDLE)
                .pool_timer(TokioTimer::new())
                .timer(TokioTimer::new())
                .build(Connector { dialer: dialer.clone(), protocols })
        };
        Ok(Self { any_protocol: pool(Protocols::Any), http1_only: pool(Protocols::Http1Only), dialer })
    }

    async fn forward(&self, mut request: Request<Body>) -> Result<UpstreamResponse, UpstreamError> {
        let target = Target::of(request.uri())?;
        let client = match request.version() {
            Version::HTTP_2 => &self.any_protocol,
            _ => &self.http1_only,
        };
        // The pooled connection decides h1 or h2; hyper writes `Host` (h1) or
        // `:authority` (h2) from the absolute URI, which the proxy built from
        // the client's Host, so the client's own header would only duplicate it.
        *request.version_mut() = Version::HTTP_11;
        request.headers_mut().remove(header::HOST);
        let response = client.request(request).await.map_err(|err| target.failure(&err))?;
        Ok(UpstreamResponse::Http(response.map(body::boxed)))
    }

    /// A WebSocket upgrade needs HTTP/1.1 and a connection of its own, outside the pool.
    async fn upgrade(&self, mut request: Request<Body>) -> Result<UpstreamResponse, UpstreamError> {
        let target = Target::of(request.uri())?;
        let io =
            self.dialer.connect(&target, Protocols::Http1Only).await.map_err(|err| target.failure(&err))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(io).await.map_err(|err| target.failure(&err))?;
        tokio::spawn(
            async move {
                if let Err(err) = connection.with_upgrades().await {
                    tracing::debug!("upstream websocket connection ended: {err}");
                }
            }
            .in_current_span(),
        );
        *request.uri_mut() = target.origin_form.clone();
        *request.version_mut() = Version::HTTP_11;
        if let Ok(host) = HeaderValue::from_str(target.authority.as_str()) {
            request.headers_mut().insert(header::HOST, host);
        }
        let mut response = sender.send_request(request).await.map_err(|err| target.failure(&err))?;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Ok(UpstreamResponse::Http(response.map(body::boxed)));
        }
        let upgraded = hyper::upgrade::on(&mut response).await.map_err(|err| target.failure(&err))?;
        let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, None).await;
        let head = response.map(|_| ());
        Ok(UpstreamResponse::WebSocket(WsSession { head, socket: Box::new(socket) }))
    }
}

impl Upstream for Live {
    fn send(&self, request: Request<Body>) -> BoxFuture<'_, Result<UpstreamResponse, UpstreamError>> {
        if is_websocket_upgrade(&request) {
            Box::pin(self.upgrade(request))
        } else {
            Box::pin(self.forward(request))
        }
    }

    fn tunnel(&self, host: &str, port: u16) -> BoxFuture<'_, Result<BoxIo, UpstreamError>> {
        let (host, port) = (host.to_owned(), port);
        Box::pin(async move {
            let tcp = self.dialer.tcp(&host, port).await.map_err(|err| {
                UpstreamError::new(format!("{UPSTREAM_UNREACHABLE}: {}", describe_chain(&err)))
            })?;
            Ok(Box::new(tcp) as BoxIo)
        })
    }
}

/// Scheme, host and port of a request, and the pieces a request line needs.
struct Target {
    https: bool,
    host: String,
    port: u16,
    authority: Authority,
    origin_form: Uri,
}

impl Target {
    fn of(uri: &Uri) -> Result<Self, UpstreamError> {
        let https = match uri.scheme() {
            Some(scheme) if *scheme == Scheme::HTTPS => true,
            Some(scheme) if *scheme == Scheme::HTTP => false,
            _ => {
                return Err(UpstreamError::new(format!(
                    "cannot forward `{}`: not an http(s) URL",
                    url_without_query(uri)
                )));
            }
        };
        let authority = uri.authority().cloned().ok_or_else(|| {
            UpstreamError::new(format!("cannot forward `{}`: no host", url_without_query(uri)))
        })?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let path = uri.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
        Ok(Self { https, host, port, authority, origin_form: Uri::from(path) })
    }

    /// An upstream error naming this host: a connect failure or a failure mid-request.
    fn failure(&self, err: &(dyn std::error::Error + 'static)) -> UpstreamError {
        let chain = describe_chain(err);
        if is_connect_error(err) {
            UpstreamError::new(format!("{UPSTREAM_UNREACHABLE}: {chain}"))
        } else {
            UpstreamError::new(format!("upstream request to {}:{} failed: {chain}", self.host, self.port))
        }
    }
}

fn is_connect_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if err.downcast_ref::<hyper_util::client::legacy::Error>().is_some_and(|e| e.is_connect())
            || err.downcast_ref::<DialError>().is_some()
        {
            return true;
        }
        current = err.source();
    }
    false
}

/// The messages of an error and its sources, without the generic wrappers
/// ("client error (Connect)") that say nothing to a user.
fn describe_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(err) = current {
        let text = err.to_string();
        let generic = err.downcast_ref::<hyper_util::client::legacy::Error>().is_some();
        if !generic && !parts.iter().any(|seen| seen.contains(&text)) {
            parts.push(text);
        }
        current = err.source();
    }
    if parts.is_empty() { err.to_string() } else { parts.join(": ") }
}

/// One `--connect-to HOST:PORT:ADDR:PORT` rule (curl's meaning: an empty
/// HOST or PORT matches any; an empty ADDR or PORT keeps the requested one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    host: Option<String>,
    port: Option<u16>,
    to_host: Option<String>,
    to_port: Option<u16>,
}

impl ConnectTo {
    /// Where to connect for `host:port`, if this rule applies.
    fn apply(&self, host: &str, port: u16) -> Option<(String, u16)> {
        let host_matches = self.host.as_deref().is_none_or(|h| h.eq_ignore_ascii_case(host));
        let port_matches = self.port.is_none_or(|p| p == port);
        (host_matches && port_matches)
            .then(|| (self.to_host.clone().unwrap_or_else(|| host.to_owned()), self.to_port.unwrap_or(port)))
    }
}

impl FromStr for ConnectTo {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::input(format!(
                "--connect-to `{value}`: {why}; expected HOST:PORT:ADDR:PORT \
                 (e.g. api.openai.com:443:127.0.0.1:8443; IPv6 in brackets)"
            ))
        };
        let fields = split_fields(value).ok_or_else(|| bad("unbalanced brackets"))?;
        let [host, port, to_host, to_port] = fields.as_slice() else {
            return Err(bad(&format!("{} fields instead of 4", fields.len())));
        };
        let port_of = |text: &str| -> Result<Option<u16>> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<u16>().map(Some).map_err(|_| bad(&format!("`{text}` is not a port")))
        };
        let host_of = |text: &str| {
            let bare = text.trim_start_matches('[').trim_end_matches(']');
            (!bare.is_empty()).then(|| bare.to_owned())
        };
        Ok(Self {
            host: host_of(host),
            port: port_of(port)?,
            to_host: host_of(to_host),
            to_port: port_of(to_port)?,
        })
    }
}

/// Split on `:` outside `[…]`; `None` when brackets do not balance.
fn split_fields(value: &str) -> Option<Vec<&str>> {
    let mut fields = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in value.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => {
                fields.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return None;
        }
    }
    fields.push(&value[start..]);
    (depth == 0).then_some(fields)
}

/// The web roots, or exactly the `--upstream-ca` certificates when any are given.
fn root_store(upstream_ca: &[PathBuf]) -> Result<Arc<RootCertStore>> {
    if upstream_ca.is_empty() {
        return Ok(Arc::new(RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned())));
    }
    let mut store = RootCertStore::empty();
    for path in upstream_ca {
        add_pem_roots(&mut store, "--upstream-ca", path)?;
    }
    Ok(Arc::new(store))
}

fn tls_connector(roots: Arc<RootCertStore>, alpn: &[&[u8]]) -> TlsConnector {
    // Only the ring provider is compiled in, so the default protocol versions cannot fail.
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            ClientConfig::builder().with_root_certificates(RootCertStore::empty()).with_no_client_auth()
        });
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// Which application protocols to offer by ALPN.
#[derive(Debug, Clone, Copy)]
enum Protocols {
    /// h2 and http/1.1: requests of HTTP/2 clients.
    Any,
    /// http/1.1 only: requests of HTTP/1.x clients, and WebSocket upgrades.
    Http1Only,
}

/// Opens TCP (+ TLS) connections, honouring `--connect-to`.
struct Dialer {
    rules: Vec<ConnectTo>,
    any_protocol: TlsConnector,
    http1_only: TlsConnector,
}

/// A failure to open a connection, phrased for the user.
#[derive(Debug)]
struct DialError(String);

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DialError {}

impl Dialer {
    async fn tcp(&self, host: &str, port: u16) -> Result<TcpStream, DialError> {
        let mapped = self.rules.iter().find_map(|rule| rule.apply(host, port));
        let (to_host, to_port) = mapped.clone().unwrap_or_else(|| (host.to_owned(), port));
        let via = mapped.map(|(h, p)| format!(" (via {h}:{p})")).unwrap_or_default();
        let tcp = TcpStream::connect((to_host.as_str(), to_port))
            .await
            .map_err(|err| DialError(format!("{host}:{port}{via}: {err}")))?;
        // Small writes (SSE events, WebSocket frames) must leave at once.
        let _ = tcp.set_nodelay(true);
        Ok(tcp)
    }

    async fn connect(&self, target: &Target, protocols: Protocols) -> Result<UpstreamConn, DialError> {
        let tcp = self.tcp(&target.host, target.port).await?;
        if !target.https {
            return Ok(UpstreamConn { io: TokioIo::new(Box::new(tcp)), h2: false });
        }
        let name = ServerName::try_from(target.host.clone())
            .map_err(|_| DialError(format!("`{}` is not a valid TLS server name", target.host)))?;
        let connector = match protocols {
            Protocols::Any => &self.any_protocol,
            Protocols::Http1Only => &self.http1_only,
        };
        let tls = connector.connect(name, tcp).await.map_err(|err| {
            DialError(format!("TLS handshake with {}:{} failed: {err}", target.host, target.port))
        })?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        tracing::debug!(host = %target.host, port = target.port, h2, "upstream TLS established");
        Ok(UpstreamConn { io: TokioIo::new(Box::new(tls)), h2 })
    }
}

/// A pool's connector: a `tower::Service<Uri>` as hyper-util expects.
#[derive(Clone)]
struct Connector {
    dialer: Arc<Dialer>,
    protocols: Protocols,
}

impl tower_service::Service<Uri> for Connector {
    type Response = UpstreamConn;
    type Error = DialError;
    type Future = BoxFuture<'static, Result<UpstreamConn, DialError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), DialError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let (dialer, protocols) = (self.dialer.clone(), self.protocols);
        Box::pin(async move {
            let target = Target::of(&uri).map_err(|err| DialError(err.to_string()))?;
            dialer.connect(&target, protocols).await
        })
    }
}

/// A connection to a server and whether ALPN chose h2.
struct UpstreamConn {
    io: TokioIo<BoxIo>,
    h2: bool,
}

impl Connection for UpstreamConn {
    fn connected(&self) -> Connected {
        if self.h2 { Connected::new().negotiated_h2() } else { Connected::new() }
    }
}

impl hyper::rt::Read for UpstreamConn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for UpstreamConn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> ConnectTo {
        text.parse().unwrap()
    }

    #[test]
    fn connect_to_redirects_the_matching_host_and_port() {
        let r = rule("api.openai.com:443:127.0.0.1:8443");
        assert_eq!(r.apply("api.openai.com", 443), Some(("127.0.0.1".to_owned(), 8443)));
        assert_eq!(r.apply("API.OPENAI.COM", 443), Some(("127.0.0.1".to_owned(), 8443)));
        assert_eq!(r.apply("api.openai.com", 80), None);
        assert_eq!(r.apply("chatgpt.com", 443), None);
    }

    #[test]
    fn connect_to_empty_fields_mean_any_or_keep() {
        assert_eq!(rule("::127.0.0.1:").apply("x.example", 8080), Some(("127.0.0.1".to_owned(), 8080)));
        assert_eq!(rule("x.example:443::9443").apply("x.example", 443), Some(("x.example".to_owned(), 9443)));
    }

    #[test]
    fn connect_to_accepts_bracketed_ipv6() {
        assert_eq!(rule("[::1]:443:[::1]:8443").apply("::1", 443), Some(("::1".to_owned(), 8443)));
    }

    #[test]
    fn connect_to_errors_name_the_flag() {
        for bad in ["api.openai.com:443:127.0.0.1", "a:b:c:d", "a:443:[::1:1", "a:1:b:2:c"] {
            let err = bad.parse::<ConnectTo>().unwrap_err();
            assert!(err.message().starts_with("--connect-to"), "{err}");
            assert_eq!(err.exit_code(), 2);
        }
    }

    #[test]
    fn upstream_ca_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "nothing here\n").unwrap();
        let err = root_store(&[empty]).err().unwrap();
        assert!(
            err.message().contains("--upstream-ca") && err.message().contains("no usable PEM certificate"),
            "{err}"
        );
        let err = root_store(&[dir.path().join("absent.pem")]).err().unwrap();
        assert!(err.message().contains("cannot read"), "{err}");
    }

    #[test]
    fn target_takes_default_ports_and_origin_form() {
        let target = Target::of(&"https://api.openai.com/v1/responses?x=1".parse().unwrap()).unwrap();
        assert_eq!((target.host.as_str(), target.port, target.https), ("api.openai.com", 443, true));
        assert_eq!(target.origin_form, "/v1/responses?x=1");
        let plain = Target::of(&"http://[::1]:8080/".parse().unwrap()).unwrap();
        assert_eq!((plain.host.as_str(), plain.port, plain.https), ("::1", 8080, false));
    }

    #[test]
    fn chain_skips_duplicates() {
        let inner = DialError("api.openai.com:443: connection refused".to_owned());
        assert_eq!(describe_chain(&inner), "api.openai.com:443: connection refused");
    }

    #[tokio::test]
    async fn unreachable_server_is_a_connect_failure_naming_the_host() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let live = Live::new(LiveOptions {
            connect_to: vec![format!("api.openai.com:443:127.0.0.1:{port}").parse().unwrap()],
            ..LiveOptions::default()
        })
        .unwrap();
        let request = Request::get("https://api.openai.com/v1/models").body(body::empty()).unwrap();
        let Err(err) = live.send(request).await else { panic!("expected a failure") };
        let message = err.message();
        assert!(
            message.starts_with("upstream connect failed: api.openai.com:443 (via 127.0.0.1:"),
            "{message}"
        );
    }
}
