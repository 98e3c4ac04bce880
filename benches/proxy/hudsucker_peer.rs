//! The Rust peer: a pass-through MITM proxy on the `hudsucker` crate with its
//! no-op handler, run as a process of its own (this executable with
//! `--serve-hudsucker`) so it competes for the cores exactly like ours.
//!
//! Same crypto as ours (rustls with ring, an ECDSA P-256 CA from rcgen); the
//! one thing added is a connector that sends every host to the bench
//! upstream and trusts its CA, which is what `--connect-to` and
//! `--upstream-ca` do for ours.

use std::io;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::Uri;
use hudsucker::certificate_authority::RcgenAuthority;
use hudsucker::rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::{Fallible, pki};

/// Where the peer's CA certificate lands in its directory.
pub const CA_FILE: &str = "hudsucker-ca.pem";

/// What the peer process needs.
pub struct PeerArgs {
    /// The bench upstream.
    pub upstream: SocketAddr,
    /// The upstream's CA.
    pub upstream_ca: PathBuf,
    /// Where to write its CA certificate.
    pub dir: PathBuf,
}

/// Serve until SIGINT; prints `listening on http://ADDR` first, like ours.
pub fn serve(args: &PeerArgs) -> Fallible<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let ca = authority(&args.dir)?;
        let connector = MappedTls {
            upstream: args.upstream,
            tls: TlsConnector::from(pki::client_config(&args.upstream_ca, &[b"h2", b"http/1.1"])?),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let proxy = hudsucker::Proxy::builder()
            .with_listener(listener)
            .with_ca(ca)
            .with_http_connector(connector)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .build()?;
        println!("listening on http://{addr}");
        io::stdout().flush()?;
        proxy.start().await?;
        Ok(())
    })
}

/// A fresh ECDSA P-256 CA, its certificate written to `dir/hudsucker-ca.pem`.
fn authority(dir: &Path) -> Fallible<RcgenAuthority> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, "hudsucker bench CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key)?;
    std::fs::write(dir.join(CA_FILE), cert.pem())?;
    let provider = Arc::unwrap_or_clone(pki::ring());
    Ok(RcgenAuthority::new(Issuer::new(params, key), 1_000, provider))
}

/// Dials the bench upstream for any host; TLS with the host as SNI.
#[derive(Clone)]
struct MappedTls {
    upstream: SocketAddr,
    tls: TlsConnector,
}

impl tower_service::Service<Uri> for MappedTls {
    type Response = Mapped;
    type Error = io::Error;
    type Future = BoxFuture<'static, io::Result<Mapped>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let (upstream, tls) = (self.upstream, self.tls.clone());
        Box::pin(async move {
            let host = uri.host().unwrap_or_default().to_owned();
            let name = ServerName::try_from(host).map_err(io::Error::other)?;
            let tcp = TcpStream::connect(upstream).await?;
            tcp.set_nodelay(true)?;
            let stream = tls.connect(name, tcp).await?;
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            Ok(Mapped { io: TokioIo::new(stream), h2 })
        })
    }
}

/// A TLS connection to the upstream, telling hyper whether ALPN chose h2.
struct Mapped {
    io: TokioIo<TlsStream<TcpStream>>,
    h2: bool,
}

impl Connection for Mapped {
    fn connected(&self) -> Connected {
        if self.h2 { Connected::new().negotiated_h2() } else { Connected::new() }
    }
}

impl hyper::rt::Read for Mapped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Mapped {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Time hudsucker's own certificate step in-process: a first-seen host
/// (`gen_server_config` signs a leaf and builds a rustls config) and a
/// cached one. Returns the medians in µs.
pub async fn leaf_times(dir: &Path, samples: usize) -> Fallible<(f64, f64)> {
    use hudsucker::certificate_authority::CertificateAuthority as _;
    let ca = authority(dir)?;
    let mut fresh = Vec::with_capacity(samples);
    for i in 0..samples {
        let authority: http::uri::Authority = format!("mint-{i}.{}", pki::DOMAIN).parse()?;
        let started = std::time::Instant::now();
        ca.gen_server_config(&authority).await;
        fresh.push(started.elapsed());
    }
    let cached_name: http::uri::Authority = format!("mint-0.{}", pki::DOMAIN).parse()?;
    let mut cached = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = std::time::Instant::now();
        ca.gen_server_config(&cached_name).await;
        cached.push(started.elapsed());
    }
    Ok((crate::stats::median_us(&mut fresh), crate::stats::median_us(&mut cached)))
}
