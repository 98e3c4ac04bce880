//! CONNECT: answer `200`, then intercept the tunnel (TLS or plain) or, for
//! `--passthrough` hosts, copy bytes blindly.

use std::sync::Arc;

use http::uri::{Authority, Scheme};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_rustls::LazyConfigAcceptor;
use tracing::Instrument as _;

use super::head::Arrival;
use super::rewind::{Rewind, sniff};
use super::{Shared, forward, serve_gracefully, server_tls};
use crate::upstream::{Body, body};

/// Answer a CONNECT request on connection `conn`.
pub(super) async fn handle(shared: Arc<Shared>, conn: u64, mut request: Request<Incoming>) -> Response<Body> {
    let Some(target) = request.uri().authority().cloned() else {
        return plain(StatusCode::BAD_REQUEST, "CONNECT needs a host:port target\n");
    };
    let host = target.host().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = target.port_u16().unwrap_or(443);
    let upgrade = hyper::upgrade::on(&mut request);
    if shared.passthrough.is_match(&host) {
        // Dial first, so a host that cannot be reached gets a 502 rather than
        // a 200 followed by a dead tunnel.
        let upstream = match shared.upstream.tunnel(&host, port).await {
            Ok(io) => io,
            Err(err) => return plain(StatusCode::BAD_GATEWAY, &format!("dispatch-vcr: {err}\n")),
        };
        tracing::debug!(%target, "passthrough tunnel");
        // Not counted as in-flight work (it holds no `Shared`): nothing in it
        // is recorded, so shutdown need not wait for it.
        tokio::spawn(
            async move {
                let Ok(client) = upgrade.await else { return };
                let mut client = TokioIo::new(client);
                let mut upstream = upstream;
                if let Err(err) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                    tracing::debug!("passthrough tunnel ended: {err}");
                }
            }
            .in_current_span(),
        );
    } else {
        let span = tracing::info_span!("connect", %target);
        tokio::spawn(
            async move {
                match upgrade.await {
                    Ok(client) => intercept(shared, conn, target, client).await,
                    Err(err) => tracing::debug!("CONNECT upgrade failed: {err}"),
                }
            }
            .instrument(span),
        );
    }
    Response::new(body::empty())
}

/// Serve the requests inside an intercepted tunnel. Its first bytes and
/// TLS handshake must arrive within the idle timeout.
async fn intercept(shared: Arc<Shared>, conn: u64, target: Authority, client: Upgraded) {
    tracing::debug!("tunnel open");
    let sniffed = match tokio::time::timeout(shared.idle_timeout, sniff(TokioIo::new(client))).await {
        Ok(Ok(Some(sniffed))) => sniffed,
        Ok(Ok(None)) => return,
        Ok(Err(err)) => return tracing::debug!("tunnel closed before any byte: {err}"),
        Err(_) => return tracing::debug!("tunnel silent for {:?}: closed", shared.idle_timeout),
    };
    if !sniffed.tls {
        let arrival = Arrival::Tunnel { scheme: Scheme::HTTP, target };
        return serve_tunnel(&shared, conn, arrival, sniffed.io).await;
    }
    let span = tracing::info_span!("tls", sni = tracing::field::Empty);
    let handshake = accept_tls(&shared, &target, sniffed.io).instrument(span.clone());
    let Ok(Some(tls)) = tokio::time::timeout(shared.idle_timeout, handshake).await else { return };
    let arrival = Arrival::Tunnel { scheme: Scheme::HTTPS, target };
    serve_tunnel(&shared, conn, arrival, tls).instrument(span).await;
}

type ClientTls = tokio_rustls::server::TlsStream<Rewind<TokioIo<Upgraded>>>;

/// Terminate the client's TLS with a leaf for its SNI, or for the CONNECT
/// host when it sends none (clients omit SNI for IP literals).
async fn accept_tls(shared: &Shared, target: &Authority, io: Rewind<TokioIo<Upgraded>>) -> Option<ClientTls> {
    let start = match LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io).await {
        Ok(start) => start,
        Err(err) => {
            tracing::debug!("not a TLS client hello: {err}");
            return None;
        }
    };
    let sni = start.client_hello().server_name().map(str::to_owned);
    tracing::debug!(sni = sni.as_deref(), "client hello");
    tracing::Span::current().record("sni", sni.as_deref().unwrap_or("-"));
    let config = match sni {
        Some(_) => shared.tls.clone(),
        None => {
            let host = target.host().trim_start_matches('[').trim_end_matches(']').to_owned();
            server_tls(&shared.leaves, Some(host)).ok()?
        }
    };
    match start.into_stream(config).await {
        Ok(tls) => {
            let alpn = tls.get_ref().1.alpn_protocol().map(String::from_utf8_lossy);
            tracing::debug!(alpn = alpn.as_deref(), "TLS established");
            Some(tls)
        }
        Err(err) => {
            // Typically the client does not trust our CA: say so where it shows.
            tracing::warn!(
                "TLS handshake with the client failed (does it trust the dispatch-vcr CA?): {err}"
            );
            None
        }
    }
}

/// Serve HTTP/1.1 or HTTP/2 (by preface) inside a tunnel, with upgrades.
async fn serve_tunnel<I>(shared: &Arc<Shared>, conn: u64, arrival: Arrival, io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = forward::service(shared.clone(), conn, arrival);
    let connection = shared.http.serve_connection_with_upgrades(TokioIo::new(io), service);
    serve_gracefully(connection, shared.shutdown_signal(), shared.abort_signal(), |c| c.graceful_shutdown())
        .await;
}

/// A short text response from the proxy itself.
pub(super) fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(body::full(text.to_owned()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
