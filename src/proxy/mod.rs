//! The intercepting proxy: listener, CONNECT, TLS, forwarding, WebSocket relay, capture.
//!
//! A request travels accept → CONNECT → TLS → request → upstream → tap, each
//! stage in its own `tracing` span (`RUST_LOG=dispatch_vcr=debug` follows one):
//! - [`Proxy::bind`] listens (loopback only unless allowed), [`Proxy::serve`]
//!   accepts until shutdown and serves each connection as HTTP/1.1.
//! - `connect`: a CONNECT is answered `200`, then the tunnel is sniffed (TLS
//!   or plain), TLS is terminated with a leaf minted for the SNI (ALPN h2 and
//!   http/1.1), and the requests inside are served like any other — or, for a
//!   `--passthrough` host, bytes are copied blindly.
//! - `forward`: each request becomes an absolute-URL request to the
//!   [`Upstream`]; bodies stream both ways through a `capture::Tee`, and the
//!   finished [`crate::exchange::Exchange`] goes to the [`Tap`].
//! - `websocket`: an accepted upgrade is relayed message by message.
//!
//! The proxy knows nothing of cassettes: what answers is an [`Upstream`],
//! what records is a [`Tap`].

mod capture;
mod connect;
mod forward;
mod head;
mod rewind;
mod ws_relay;

pub use capture::SPILL_THRESHOLD;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::Instrument as _;

use crate::ca::LeafIssuer;
use crate::exchange::Tap;
use crate::upstream::Upstream;
use crate::{Error, Result};
use capture::Interrupt;

/// How long in-flight exchanges may take to finish after shutdown is asked.
/// Those still under way then are cut short: their connections are dropped
/// and they reach the tap with what went through ([`crate::exchange::STOPPED_MIDWAY`]).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How long exchanges cut short after [`SHUTDOWN_GRACE`] may take to reach the tap.
const CUT_SHORT_GRACE: Duration = Duration::from_secs(1);

/// How a proxy run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Exchanges still under way when the shutdown grace ran out, handed to
    /// the tap cut short ([`crate::exchange::STOPPED_MIDWAY`]).
    pub cut_short: usize,
}

/// How long a client may stay silent by default ([`ProxyConfig::idle_timeout`],
/// `--idle-timeout`): a connection that sends no complete request head, and
/// a CONNECT tunnel whose first bytes or TLS handshake do not arrive, within
/// it are closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How the proxy listens and what it leaves alone.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// `ADDR:PORT` to listen on; port 0 picks a free one.
    pub listen: String,
    /// Allow a non-loopback listen address.
    pub allow_remote: bool,
    /// Host globs tunnelled blindly (`--passthrough`), matched case-insensitively.
    pub passthrough: Vec<String>,
    /// How long a silent client is waited for ([`IDLE_TIMEOUT`] by default).
    pub idle_timeout: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:0".to_owned(),
            allow_remote: false,
            passthrough: Vec::new(),
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

/// A bound proxy, ready to serve.
pub struct Proxy {
    listener: TcpListener,
    passthrough: GlobSet,
    idle_timeout: Duration,
}

/// What answers and what records: the two ends a proxy run plugs in.
pub struct Wiring {
    /// Leaf certificates for intercepted hosts.
    pub leaves: Arc<LeafIssuer>,
    /// Where requests go.
    pub upstream: Arc<dyn Upstream>,
    /// Who gets each finished exchange.
    pub tap: Arc<dyn Tap>,
}

/// A token whose clones mark work `serve` waits for; never sent on, only dropped.
pub(crate) type InFlight = mpsc::Sender<()>;

/// What every connection of one proxy run shares.
struct Shared {
    upstream: Arc<dyn Upstream>,
    tap: Arc<dyn Tap>,
    /// Where bodies too large for memory go ([`Tap::spill_dir`]).
    spill_dir: Arc<Path>,
    leaves: Arc<LeafIssuer>,
    /// Server TLS config minting leaves by SNI; handshakes without SNI get
    /// a config of their own (see `connect`).
    tls: Arc<ServerConfig>,
    passthrough: GlobSet,
    /// How long a silent client is waited for.
    idle_timeout: Duration,
    http: auto::Builder<SpanExecutor>,
    next_conn: AtomicU64,
    shutdown: watch::Receiver<bool>,
    /// Set once the shutdown grace ran out: connections still open are dropped.
    abort: watch::Receiver<bool>,
    /// Marks and counts the exchanges that abort cut short.
    interrupt: Arc<Interrupt>,
    /// Cloned into everything that must finish before `serve` returns:
    /// `Shared` itself (so every connection and relay task, which hold it) and
    /// every exchange in flight (whose body may outlive its connection task in
    /// an HTTP/2 stream task). `serve` waits until the last clone is dropped.
    in_flight: InFlight,
}

impl Shared {
    /// Resolves when shutdown has been asked.
    fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        raised(self.shutdown.clone())
    }

    /// Resolves when the shutdown grace ran out.
    fn abort_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        raised(self.abort.clone())
    }
}

/// Resolves when `flag` turns true (or its sender is gone).
async fn raised(mut flag: watch::Receiver<bool>) {
    let _ = flag.wait_for(|raised| *raised).await;
}

impl Proxy {
    /// Bind the listener, with no side effect beyond the socket and, for a
    /// non-loopback address, a warning on stderr. A non-loopback address
    /// without `allow_remote` and a bad `--passthrough` glob are usage errors
    /// (exit 2); a port in use is a runtime error (exit 3).
    pub async fn bind(config: &ProxyConfig) -> Result<Self> {
        let passthrough = compile_globs(&config.passthrough)?;
        let addr = resolve_listen(&config.listen, config.allow_remote).await?;
        let listener = TcpListener::bind(addr).await.map_err(|err| bind_error(addr, &err))?;
        if !addr.ip().is_loopback() {
            crate::files::write_stderr(&remote_warning(addr));
        }
        Ok(Self { listener, passthrough, idle_timeout: config.idle_timeout })
    }

    /// The address actually bound (with the real port when asked for port 0).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|err| Error::runtime(format!("cannot read the listen address: {err}")))
    }

    /// Serve until `shutdown` resolves; then stop accepting, give in-flight
    /// exchanges up to [`SHUTDOWN_GRACE`] to finish, cut short those still
    /// under way (they reach the tap with what went through), and return, so
    /// the caller can finish writing what the tap received.
    pub async fn serve(self, wiring: Wiring, shutdown: impl Future<Output = ()>) -> Result<Served> {
        let Self { listener, passthrough, idle_timeout } = self;
        let (stop, stopped) = watch::channel(false);
        let (abort, aborted) = watch::channel(false);
        let interrupt = Arc::new(Interrupt::default());
        let (in_flight_tx, mut in_flight) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            tls: server_tls(&wiring.leaves, None)?,
            upstream: wiring.upstream,
            spill_dir: wiring.tap.spill_dir().unwrap_or_else(std::env::temp_dir).into(),
            tap: wiring.tap,
            leaves: wiring.leaves,
            passthrough,
            idle_timeout,
            http: http_builder(idle_timeout),
            next_conn: AtomicU64::new(1),
            shutdown: stopped,
            abort: aborted,
            interrupt: interrupt.clone(),
            in_flight: in_flight_tx,
        });
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) => spawn_connection(&shared, tcp, peer),
                    Err(err) => {
                        // Usually out of file descriptors: back off instead of spinning.
                        tracing::warn!("accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        let _ = stop.send(true);
        drop(shared);
        if tokio::time::timeout(SHUTDOWN_GRACE, in_flight.recv()).await.is_err() {
            tracing::warn!("some exchanges were still running after {SHUTDOWN_GRACE:?}; cutting them short");
            interrupt.ask();
            let _ = abort.send(true);
            if tokio::time::timeout(CUT_SHORT_GRACE, in_flight.recv()).await.is_err() {
                tracing::warn!("some exchanges cut short did not finish; they are not recorded");
            }
        }
        Ok(Served { cut_short: interrupt.cut_short() })
    }
}

/// Runs hyper's per-stream HTTP/2 tasks inside the span of their
/// connection, so a request's logs keep its accept → CONNECT → TLS context.
#[derive(Debug, Clone, Copy)]
struct SpanExecutor;

impl<F> hyper::rt::Executor<F> for SpanExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        tokio::spawn(future.in_current_span());
    }
}

fn spawn_connection(shared: &Arc<Shared>, tcp: tokio::net::TcpStream, peer: SocketAddr) {
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let _ = tcp.set_nodelay(true);
    let shared = shared.clone();
    let span = tracing::info_span!("conn", id, %peer);
    tokio::spawn(
        async move {
            tracing::debug!("accepted");
            let stop = shared.shutdown_signal();
            let service = forward::service(shared.clone(), id, head::Arrival::Direct);
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(shared.idle_timeout)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            let abort = shared.abort_signal();
            serve_gracefully(connection, stop, abort, |c| c.graceful_shutdown()).await;
        }
        .instrument(span),
    );
}

/// Drive a hyper connection; on shutdown ask it to finish gracefully (h1:
/// close after the current exchange; h2: GOAWAY) and keep driving it until
/// `abort`, which drops it (and so the exchanges still in it).
async fn serve_gracefully<C, E>(
    connection: C,
    stop: impl Future<Output = ()>,
    abort: impl Future<Output = ()>,
    graceful: impl FnOnce(std::pin::Pin<&mut C>),
) where
    C: Future<Output = std::result::Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(connection);
    tokio::pin!(stop);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = &mut stop => {
            graceful(connection.as_mut());
            tokio::select! {
                result = connection => result,
                () = abort => return tracing::debug!("connection dropped: the shutdown grace ran out"),
            }
        }
    };
    if let Err(err) = result {
        tracing::debug!("connection ended: {err}");
    }
}

/// HTTP/1.1 and HTTP/2 inside tunnels; an HTTP/1.1 client has `idle` to
/// send each request head.
fn http_builder(idle: Duration) -> auto::Builder<SpanExecutor> {
    let mut http = auto::Builder::new(SpanExecutor);
    http.http1().timer(TokioTimer::new()).header_read_timeout(idle);
    http
}

/// What `--allow-remote` on a non-loopback `addr` means, said on stderr.
fn remote_warning(addr: SocketAddr) -> String {
    format!(
        "warning: listening on {addr}, reachable from the network: anyone who can reach it can send requests \
         through the proxy to any host (plain http:// and CONNECT tunnels included) and their traffic is \
         recorded with this run\n"
    )
}

/// A server TLS config that mints leaves by SNI (or for `fallback` without SNI).
fn server_tls(leaves: &Arc<LeafIssuer>, fallback: Option<String>) -> Result<Arc<ServerConfig>> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::runtime(format!("cannot set up TLS: {err}")))?
        .with_no_client_auth()
        .with_cert_resolver(leaves.resolver(fallback));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn compile_globs(globs: &[String]) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for glob in globs {
        let compiled = GlobBuilder::new(glob).case_insensitive(true).build().map_err(|err| {
            Error::input(format!(
                "--passthrough `{glob}`: {err} (expected a host glob such as *.example.com)"
            ))
        })?;
        set.add(compiled);
    }
    set.build().map_err(|err| Error::input(format!("--passthrough: {err}")))
}

/// Resolve `--listen` and refuse non-loopback addresses unless allowed.
async fn resolve_listen(listen: &str, allow_remote: bool) -> Result<SocketAddr> {
    let bad = || Error::input(format!("--listen `{listen}`: expected ADDR:PORT, e.g. 127.0.0.1:8080"));
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(listen).await.map_err(|_| bad())?.collect();
    let addr = *addrs.first().ok_or_else(bad)?;
    if !allow_remote && !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(Error::input(format!(
            "--listen {listen}: refusing a non-loopback address, since anyone who can reach it could use \
             the proxy and read the traffic; pass --allow-remote to mean it"
        )));
    }
    Ok(addr)
}

fn bind_error(addr: SocketAddr, err: &std::io::Error) -> Error {
    let hint = match err.kind() {
        std::io::ErrorKind::AddrInUse => " (pick another port, or port 0 for a free one)",
        _ => "",
    };
    Error::runtime(format!("cannot listen on {addr}: {err}{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_is_accepted_and_other_addresses_need_the_flag() {
        assert!(resolve_listen("127.0.0.1:0", false).await.is_ok());
        assert!(resolve_listen("[::1]:0", false).await.is_ok());
        let err = resolve_listen("0.0.0.0:0", false).await.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("--allow-remote"), "{err}");
        assert!(resolve_listen("0.0.0.0:0", true).await.is_ok());
    }

    #[tokio::test]
    async fn malformed_listen_names_the_flag() {
        let err = resolve_listen("no-port", false).await.unwrap_err();
        assert!(err.message().starts_with("--listen `no-port`"), "{err}");
    }

    #[test]
    fn passthrough_globs_match_hosts_case_insensitively() {
        let set = compile_globs(&["*.example.com".to_owned()]).unwrap();
        assert!(set.is_match("API.example.com"));
        assert!(!set.is_match("example.org"));
        let err = compile_globs(&["[".to_owned()]).unwrap_err();
        assert!(err.message().starts_with("--passthrough `[`"), "{err}");
    }

    #[test]
    fn a_remote_listener_is_warned_about() {
        let warning = remote_warning("0.0.0.0:8080".parse().unwrap());
        assert!(
            warning.starts_with("warning: listening on 0.0.0.0:8080, reachable from the network"),
            "{warning}"
        );
        assert!(warning.contains("to any host"), "{warning}");
    }

    #[test]
    fn port_in_use_is_a_runtime_error_with_a_hint() {
        let err = bind_error("127.0.0.1:80".parse().unwrap(), &std::io::ErrorKind::AddrInUse.into());
        assert_eq!(err.exit_code(), 3);
        assert!(err.message().contains("port 0"), "{err}");
    }
}
