//! One request: capture its head, hand it to the upstream with a teed body,
//! and stream back the answer (or a 502 that says why there is none).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tracing::Instrument as _;

use super::Shared;
use super::capture::{BodySide, ExchangeCell, Tee, drain_unread_request};
use super::head::{Arrival, absolute_url, header_pairs, strip_hop_by_hop, version_text};
use super::{connect, ws_relay};
use crate::exchange::{RequestHead, ResponseHead};
use crate::upstream::{Body, UpstreamResponse, WsSession, body, is_websocket_upgrade, url_without_query};

/// The hyper service for one client connection (or tunnel). A named type
/// with a boxed future, because tunnels nest: a CONNECT inside a tunnel is
/// served by this same service, and a recursive opaque type cannot be proven `Send`.
#[derive(Clone)]
pub(super) struct ProxyService {
    shared: Arc<Shared>,
    conn: u64,
    arrival: Arc<Arrival>,
}

/// The service for connection `conn`, whose requests arrive as `arrival` says.
pub(super) fn service(shared: Arc<Shared>, conn: u64, arrival: Arrival) -> ProxyService {
    ProxyService { shared, conn, arrival: Arc::new(arrival) }
}

impl Service<Request<Incoming>> for ProxyService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let Self { shared, conn, arrival } = self.clone();
        Box::pin(async move {
            if request.method() == Method::CONNECT {
                return Ok(connect::handle(shared, conn, request).await);
            }
            Ok(handle(shared, conn, &arrival, request).await)
        })
    }
}

/// Forward one request and stream back the answer.
async fn handle(
    shared: Arc<Shared>,
    conn: u64,
    arrival: &Arrival,
    request: Request<Incoming>,
) -> Response<Body> {
    let started = Instant::now();
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let url = match absolute_url(arrival, request.uri(), host) {
        Ok(url) => url,
        Err(reason) => {
            let text = format!("dispatch-vcr is a proxy: {reason}; point clients at it with HTTPS_PROXY\n");
            return connect::plain(StatusCode::BAD_REQUEST, &text);
        }
    };
    let span = tracing::info_span!("request", method = %request.method(), url = %url_without_query(&url));
    async move {
        let websocket = is_websocket_upgrade(&request);
        let head = RequestHead {
            method: request.method().to_string(),
            url: url.to_string(),
            http_version: version_text(request.version()).to_owned(),
            headers: header_pairs(request.headers()),
        };
        let cell = ExchangeCell::new(
            shared.tap.clone(),
            shared.interrupt.clone(),
            shared.in_flight.clone(),
            shared.spill_dir.clone(),
            conn,
            head,
            started,
        );
        let mut request = request;
        let client_upgrade = websocket.then(|| hyper::upgrade::on(&mut request));
        let (mut parts, incoming) = request.into_parts();
        parts.uri = url;
        strip_hop_by_hop(&mut parts.headers, websocket);
        let teed = Tee::new(body::boxed(incoming), cell.clone(), BodySide::Request, started);
        let outgoing = Request::from_parts(parts, body::boxed(teed));
        let answer = shared.upstream.send(outgoing).instrument(tracing::info_span!("upstream")).await;
        match (answer, client_upgrade) {
            (Ok(UpstreamResponse::Http(response)), _) => stream_back(&cell, response),
            (Ok(UpstreamResponse::WebSocket(session)), Some(client)) => {
                start_relay(&shared, cell, session, client)
            }
            (Ok(UpstreamResponse::WebSocket(_)), None) => {
                bad_gateway(&cell, "upstream answered a plain request with a WebSocket", started).await
            }
            (Err(err), _) => bad_gateway(&cell, err.message(), started).await,
        }
    }
    .instrument(span)
    .await
}

/// Pass the upstream's response on, its body teed into the exchange.
fn stream_back(cell: &Arc<ExchangeCell>, response: Response<Body>) -> Response<Body> {
    let (mut parts, upstream_body) = response.into_parts();
    cell.set_response(ResponseHead { status: parts.status.as_u16(), headers: header_pairs(&parts.headers) });
    tracing::debug!(status = parts.status.as_u16(), "response head");
    strip_hop_by_hop(&mut parts.headers, false);
    let teed = Tee::new(upstream_body, cell.clone(), BodySide::Response, Instant::now());
    Response::from_parts(parts, body::boxed(teed))
}

/// Answer 502 naming the reason, and record the failed exchange.
async fn bad_gateway(cell: &Arc<ExchangeCell>, reason: &str, started: Instant) -> Response<Body> {
    tracing::warn!("{reason}");
    cell.fail(reason);
    drain_unread_request(cell, started).await;
    let body = serde_json::json!({
        "error": {"message": format!("dispatch-vcr: {reason}"), "type": "proxy_error", "code": "bad_gateway"}
    });
    let mut response = Response::new(body::full(body.to_string()));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Answer the client's upgrade with the upstream's 101 head, and relay the
/// session in a task of its own once hyper hands the connection over.
fn start_relay(
    shared: &Arc<Shared>,
    cell: Arc<ExchangeCell>,
    session: WsSession,
    client: hyper::upgrade::OnUpgrade,
) -> Response<Body> {
    let WsSession { head, socket } = session;
    let (parts, ()) = head.into_parts();
    cell.set_response(ResponseHead { status: parts.status.as_u16(), headers: header_pairs(&parts.headers) });
    let shared = shared.clone();
    tokio::spawn(
        async move {
            let stop = shared.shutdown_signal();
            match client.await {
                Ok(upgraded) => {
                    let client =
                        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
                    let capture = ws_relay::relay(client, socket, Instant::now(), stop).await;
                    tracing::debug!(messages = capture.frames.len(), "websocket session ended");
                    cell.set_websocket(capture);
                }
                Err(err) => cell.fail(format!("client upgrade failed: {err}")),
            }
            drop(shared);
        }
        .in_current_span(),
    );
    Response::from_parts(parts, body::empty())
}
