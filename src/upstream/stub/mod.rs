//! [`Stub`]: provider-shaped answers with no network at all.
//!
//! Every request is classified with the catalog's endpoint classes; the class
//! picks a row of the answer table ([`answers`]): Responses SSE or JSON, chat
//! completions, Anthropic messages, embeddings, model lists, and Responses
//! sessions over WebSocket. Anything the table does not know gets a 404 JSON
//! body, so a dispatcher's plugin-catalogue or telemetry look-ups fail fast
//! and it goes on with its turn.
//!
//! The request body is read whole (so the proxy's tap records it) and
//! content-decoded (zstd, gzip, br, deflate) to read `model` and `stream`.
//! With a forced status (`--stub-status 401`) every model call gets the
//! provider's error answer instead: for 401, the real body the catalog
//! holds, which is what makes a dispatcher log its failover decision. The
//! OAuth token endpoint exchanges the refresh tokens it was given
//! ([`Stub::with_refreshes`]) and refuses others with `invalid_grant`.

pub mod answers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{SinkExt as _, StreamExt as _};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};

use self::answers::{Answer, Ask, Row};
use super::{
    Body, Upstream, UpstreamError, UpstreamResponse, WsMessage, WsPeer, WsSession, body,
    is_websocket_upgrade, websocket_accept, ws_duplex,
};
use crate::dispatch::catalog::{Catalog, EndpointClass};
use crate::exchange::content::{decode_content, percent_decode};
use crate::{Error, Result};

/// The largest request body the stub reads (a long agent transcript fits many times over).
const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;

/// How many WebSocket messages may wait in each direction.
const WS_BUFFER: usize = 32;

/// The endpoint-class protocol of OAuth token requests.
const TOKEN_PROTOCOL: &str = "oauth-token";

/// What `--stub [--stub-status N]` asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StubOptions {
    /// Answer every model call with this error status instead (400–599).
    pub status: Option<u16>,
}

/// The provider stub as an [`Upstream`].
pub struct Stub {
    catalog: Arc<Catalog>,
    status: Option<StatusCode>,
    /// Numbers answers (ids like `resp_stub000001`), shared with WebSocket sessions.
    serial: Arc<AtomicU64>,
    /// Refresh token → the access token the OAuth token endpoint exchanges it for.
    refreshes: BTreeMap<String, String>,
}

impl Stub {
    /// A stub answering per the classes of `catalog`; a forced status outside
    /// 400–599 is a usage error naming `--stub-status`.
    pub fn new(catalog: Catalog, options: StubOptions) -> Result<Self> {
        let status = options.status.map(error_status).transpose()?;
        Ok(Self {
            catalog: Arc::new(catalog),
            status,
            serial: Arc::new(AtomicU64::new(1)),
            refreshes: BTreeMap::new(),
        })
    }

    /// Let the OAuth token endpoint exchange these refresh tokens for these
    /// access tokens (any other refresh token gets `invalid_grant`, as from
    /// the real server). `run` passes one per fixture OAuth profile, so a
    /// dispatcher that refreshes an expired login carries on with a token
    /// whose profile the recording knows.
    pub fn with_refreshes(mut self, refreshes: BTreeMap<String, String>) -> Self {
        self.refreshes = refreshes;
        self
    }

    async fn answer(&self, request: Request<Body>) -> Result<UpstreamResponse, UpstreamError> {
        let upgrade = is_websocket_upgrade(&request);
        let (parts, incoming) = request.into_parts();
        let url = parts.uri.to_string();
        let class = self.catalog.classify(parts.method.as_str(), &url);
        tracing::debug!(class = class.map(|c| c.name.as_str()), "stub answer");
        let bytes = match read_body(incoming).await {
            Ok(bytes) => bytes,
            Err(BodyFailure::TooLarge) => {
                return Ok(json_response(
                    413,
                    &error_body("openai", 413, "request body too large for the stub"),
                ));
            }
            Err(BodyFailure::Broken(why)) => {
                return Err(UpstreamError::new(format!("stub: reading the request body of {url}: {why}")));
            }
        };
        let Some(class) = class else { return Ok(not_found(&parts.method, &url)) };
        if class.protocol == TOKEN_PROTOCOL {
            return Ok(self.token(&parts.headers, &bytes));
        }
        if let Some(status) = self.status.filter(|_| class.dispatch) {
            return Ok(json_response(status.as_u16(), &self.forced_error(class, status)));
        }
        let Some(row) = answers::row_for(class) else { return Ok(not_found(&parts.method, &url)) };
        if upgrade {
            return Ok(match row.websocket {
                Some(events) => self.websocket(&parts.headers, row, events),
                None => not_found(&parts.method, &url),
            });
        }
        if parts.method.as_str() != row.method {
            return Ok(not_found(&parts.method, &url));
        }
        let body = request_json(&parts.headers, &bytes);
        let ask = Ask::new(body, &url, row, self.next_serial(), now_secs());
        Ok(render((row.answer)(&ask), ask.serial))
    }

    /// The token endpoint's answer to a refresh grant (JSON or form body).
    fn token(&self, headers: &HeaderMap, bytes: &Bytes) -> UpstreamResponse {
        let refresh = refresh_token(headers, bytes);
        match refresh.as_deref().and_then(|r| self.refreshes.get(r)) {
            Some(access) => json_response(
                200,
                &json!({"access_token": access, "id_token": access, "refresh_token": refresh, "token_type": "Bearer",
                        "expires_in": 864_000, "scope": "openid profile email offline_access"}),
            ),
            None => json_response(
                400,
                &json!({"error": "invalid_grant",
                        "error_description": "dispatch-vcr stub: unknown refresh token (run passes the scenario's)"}),
            ),
        }
    }

    fn next_serial(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    /// The provider's answer to a model call at a forced `status`: for 401 the
    /// catalog's real body of the class's provider shape.
    fn forced_error(&self, class: &EndpointClass, status: StatusCode) -> Value {
        let shape = class.shape.as_deref().unwrap_or("openai");
        match self.catalog.unauthorized(class) {
            Some(answer) if status == StatusCode::UNAUTHORIZED => answer.body.clone(),
            _ => error_body(shape, status.as_u16(), status.canonical_reason().unwrap_or("error")),
        }
    }

    /// Accept a Responses WebSocket: each `response.create` message is answered
    /// with the event sequence of one response, as text messages.
    fn websocket(
        &self,
        headers: &HeaderMap,
        row: &'static Row,
        events: fn(&Ask) -> Vec<Value>,
    ) -> UpstreamResponse {
        let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
            return json_response(
                400,
                &error_body("openai", 400, "WebSocket upgrade without sec-websocket-key"),
            );
        };
        let head = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::UPGRADE, "websocket")
            .header(header::CONNECTION, "Upgrade")
            .header(header::SEC_WEBSOCKET_ACCEPT, websocket_accept(key.as_bytes()))
            .body(());
        let Ok(head) = head else {
            return json_response(500, &error_body("openai", 500, "cannot build the upgrade answer"));
        };
        let (socket, peer) = ws_duplex(WS_BUFFER);
        let session = WsResponses { peer, row, events, serial: self.serial.clone() };
        tokio::spawn(session.serve());
        UpstreamResponse::WebSocket(WsSession { head, socket })
    }
}

impl Upstream for Stub {
    fn send(&self, request: Request<Body>) -> BoxFuture<'_, Result<UpstreamResponse, UpstreamError>> {
        Box::pin(self.answer(request))
    }
}

/// One Responses WebSocket session, played by the stub.
struct WsResponses {
    peer: WsPeer,
    row: &'static Row,
    events: fn(&Ask) -> Vec<Value>,
    serial: Arc<AtomicU64>,
}

impl WsResponses {
    async fn serve(mut self) {
        while let Some(message) = self.peer.from_client.next().await {
            let replies = match message {
                WsMessage::Text(text) => self.replies(text.as_str()),
                WsMessage::Close(_) => {
                    let _ = self.peer.to_client.send(WsMessage::Close(None)).await;
                    return;
                }
                _ => continue,
            };
            for reply in replies {
                if self.peer.to_client.send(WsMessage::text(reply.to_string())).await.is_err() {
                    return;
                }
            }
        }
    }

    /// The answer to one client message: the events of a response for a
    /// `response.create`, the API's error event for anything else.
    fn replies(&self, text: &str) -> Vec<Value> {
        match response_create(text) {
            Ok(body) => {
                let serial = self.serial.fetch_add(1, Ordering::Relaxed);
                (self.events)(&Ask::new(body, "", self.row, serial, now_secs()))
            }
            Err(why) => vec![json!({"type": "error", "status": 400,
                "error": {"type": "invalid_request_error", "message": why, "param": null, "code": null}})],
        }
    }
}

/// The request fields of a `response.create` message: at the top level, or
/// under `response` as some clients nest them.
fn response_create(text: &str) -> std::result::Result<Value, String> {
    let message: Value = serde_json::from_str(text).map_err(|e| format!("message is not JSON: {e}"))?;
    match message.get("type").and_then(Value::as_str) {
        Some("response.create") => Ok(match message.get("response") {
            Some(nested) if nested.is_object() => nested.clone(),
            _ => message,
        }),
        other => {
            Err(format!("unsupported message type {:?}; expected \"response.create\"", other.unwrap_or("")))
        }
    }
}

/// Why a request body could not be read.
enum BodyFailure {
    TooLarge,
    Broken(String),
}

/// The whole request body, up to [`MAX_REQUEST_BODY`].
async fn read_body(mut incoming: Body) -> std::result::Result<Bytes, BodyFailure> {
    let mut bytes = Vec::new();
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|err| BodyFailure::Broken(err.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_REQUEST_BODY {
                return Err(BodyFailure::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(bytes))
}

/// The `refresh_token` of a token request: a JSON field or a form field.
fn refresh_token(headers: &HeaderMap, bytes: &Bytes) -> Option<String> {
    if let Some(token) = request_json(headers, bytes).get("refresh_token").and_then(Value::as_str) {
        return Some(token.to_owned());
    }
    let text = std::str::from_utf8(bytes).ok()?;
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "refresh_token")
        .and_then(|(_, value)| percent_decode(value))
}

/// `--stub-status N` must be an error status a provider could answer.
fn error_status(code: u16) -> Result<StatusCode> {
    StatusCode::from_u16(code).ok().filter(|s| s.is_client_error() || s.is_server_error()).ok_or_else(|| {
        Error::input(format!("--stub-status {code}: expected an error status from 400 to 599, e.g. 401"))
    })
}

/// The JSON request body, content-decoded; `Null` when there is none or it is not JSON.
fn request_json(headers: &HeaderMap, bytes: &Bytes) -> Value {
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let decoded = match encoding.and_then(|e| decode_content(e, bytes)) {
        Some(Ok(decoded)) => decoded,
        Some(Err(err)) => {
            tracing::debug!("stub: request body does not decode ({err}); reading it as is");
            bytes.to_vec()
        }
        None => bytes.to_vec(),
    };
    serde_json::from_slice(&decoded).unwrap_or(Value::Null)
}

/// A provider's error body: OpenAI's `{"error": {…}}` or Anthropic's `{"type": "error", …}`.
fn error_body(shape: &str, status: u16, message: &str) -> Value {
    let message = format!("dispatch-vcr stub: {message}");
    match shape {
        "anthropic" => {
            json!({"type": "error", "error": {"type": anthropic_error_type(status), "message": message}})
        }
        _ => json!({"error": {"message": message, "type": openai_error_type(status), "param": null,
                              "code": null}}),
    }
}

/// Error `type`s by status, as each provider names them.
const ERROR_TYPES: &[(u16, &str, &str)] = &[
    (400, "invalid_request_error", "invalid_request_error"),
    (401, "invalid_request_error", "authentication_error"),
    (403, "permission_error", "permission_error"),
    (404, "invalid_request_error", "not_found_error"),
    (413, "invalid_request_error", "request_too_large"),
    (429, "rate_limit_exceeded", "rate_limit_error"),
    (529, "server_error", "overloaded_error"),
];

fn openai_error_type(status: u16) -> &'static str {
    ERROR_TYPES
        .iter()
        .find(|(s, ..)| *s == status)
        .map_or(if status >= 500 { "server_error" } else { "invalid_request_error" }, |(_, t, _)| t)
}

fn anthropic_error_type(status: u16) -> &'static str {
    ERROR_TYPES
        .iter()
        .find(|(s, ..)| *s == status)
        .map_or(if status >= 500 { "api_error" } else { "invalid_request_error" }, |(_, _, t)| t)
}

fn not_found(method: &Method, url: &str) -> UpstreamResponse {
    let url = url.split('?').next().unwrap_or(url);
    json_response(404, &error_body("openai", 404, &format!("no provider answer for {method} {url}")))
}

fn json_response(status: u16, value: &Value) -> UpstreamResponse {
    http_response(status, "application/json", body::full(value.to_string()), None)
}

/// An [`Answer`] as an HTTP response; streams go out one piece per chunk.
fn render(answer: Answer, serial: u64) -> UpstreamResponse {
    match answer {
        Answer::Json(status, value) => {
            http_response(status, "application/json", body::full(value.to_string()), Some(serial))
        }
        Answer::Stream { content_type, pieces } => {
            let chunks = futures_util::stream::iter(
                pieces.into_iter().map(|p| Ok::<_, std::convert::Infallible>(Bytes::from(p))),
            );
            http_response(200, content_type, body::from_stream(chunks), Some(serial))
        }
    }
}

fn http_response(
    status: u16,
    content_type: &'static str,
    body: Body,
    serial: Option<u64>,
) -> UpstreamResponse {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if content_type.starts_with("text/event-stream") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    if let Some(id) = serial.and_then(|n| HeaderValue::from_str(&format!("req_stub{n:06}")).ok()) {
        headers.insert("x-request-id", id);
    }
    UpstreamResponse::Http(response)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stub(status: Option<u16>) -> Stub {
        Stub::new(Catalog::shipped().unwrap(), StubOptions { status }).unwrap()
    }

    fn request(method: &str, url: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Request<Body> {
        let mut builder = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(body::full(body)).unwrap()
    }

    async fn http(stub: &Stub, request: Request<Body>) -> (u16, HeaderMap, String) {
        let Ok(UpstreamResponse::Http(response)) = stub.send(request).await else {
            panic!("not an HTTP answer")
        };
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (parts.status.as_u16(), parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    mod answers_by_class {
        use super::*;

        #[tokio::test]
        async fn codex_responses_stream_with_the_model_echoed() {
            let body = r#"{"model":"gpt-5.5","stream":true,"store":false}"#;
            let (status, headers, text) = http(
                &stub(None),
                request("POST", "https://chatgpt.com/backend-api/codex/responses", &[], body),
            )
            .await;
            assert_eq!(status, 200);
            assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/event-stream"));
            assert!(text.starts_with("event: response.created\n"), "{text}");
            assert!(text.contains("\"model\":\"gpt-5.5\""));
        }

        #[tokio::test]
        async fn zstd_and_gzip_bodies_are_read() {
            let body = br#"{"model":"gpt-zstd","stream":false}"#;
            let zst = zstd::encode_all(&body[..], 3).unwrap();
            let (_, _, text) = http(
                &stub(None),
                request("POST", "https://api.openai.com/v1/responses", &[("content-encoding", "zstd")], zst),
            )
            .await;
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                (answer["model"].as_str(), answer["object"].as_str()),
                (Some("gpt-zstd"), Some("response"))
            );
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, br#"{"model":"gpt-gz"}"#).unwrap();
            let (_, _, text) = http(
                &stub(None),
                request(
                    "POST",
                    "https://api.openai.com/v1/chat/completions",
                    &[("content-encoding", "gzip")],
                    gz.finish().unwrap(),
                ),
            )
            .await;
            assert!(text.contains("\"model\":\"gpt-gz\""), "{text}");
        }

        #[tokio::test]
        async fn unknown_paths_and_wrong_methods_are_404_json() {
            for (method, url) in [
                ("GET", "https://clawhub.example/api/plugins?q=codex"),
                ("GET", "https://api.openai.com/v1/responses"),
                ("POST", "https://api.openai.com/v1/batches"),
            ] {
                let (status, _, text) = http(&stub(None), request(method, url, &[], "")).await;
                assert_eq!(status, 404, "{method} {url}");
                let answer: Value = serde_json::from_str(&text).unwrap();
                assert!(
                    answer["error"]["message"].as_str().unwrap().contains(url.split('?').next().unwrap())
                );
                assert!(!text.contains("q=codex"), "the query is left out");
            }
        }

        #[tokio::test]
        async fn codex_models_is_an_empty_list() {
            let (status, _, text) = http(
                &stub(None),
                request("GET", "https://chatgpt.com/backend-api/codex/models?client_version=0.1", &[], ""),
            )
            .await;
            assert_eq!((status, text.as_str()), (200, r#"{"models":[]}"#));
        }
    }

    mod forced_status {
        use super::*;

        #[tokio::test]
        async fn status_401_answers_model_calls_with_the_providers_real_body() {
            let stub = stub(Some(401));
            let catalog = Catalog::shipped().unwrap();
            for url in ["https://api.openai.com/v1/responses", "https://api.anthropic.com/v1/messages"] {
                let (status, _, text) = http(&stub, request("POST", url, &[], "{}")).await;
                let expected = catalog.unauthorized_for("POST", url).unwrap();
                assert_eq!(status, 401);
                assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected.body, "{url}");
            }
        }

        #[tokio::test]
        async fn other_requests_are_answered_as_usual() {
            let (status, _, _) = http(
                &stub(Some(401)),
                request("GET", "https://chatgpt.com/backend-api/codex/models", &[], ""),
            )
            .await;
            assert_eq!(status, 200);
        }

        #[tokio::test]
        async fn other_statuses_get_the_providers_error_shape() {
            let (status, _, text) =
                http(&stub(Some(429)), request("POST", "https://api.anthropic.com/v1/messages", &[], "{}"))
                    .await;
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert_eq!((status, answer["error"]["type"].as_str()), (429, Some("rate_limit_error")));
        }

        #[test]
        fn only_error_statuses_are_accepted() {
            for bad in [200, 302, 600, 42] {
                let err =
                    Stub::new(Catalog::shipped().unwrap(), StubOptions { status: Some(bad) }).err().unwrap();
                assert_eq!(err.exit_code(), 2);
                assert!(err.message().starts_with("--stub-status"), "{err}");
            }
        }
    }

    mod websocket {
        use super::*;

        fn upgrade(url: &str) -> Request<Body> {
            request(
                "GET",
                url,
                &[
                    ("upgrade", "websocket"),
                    ("connection", "Upgrade"),
                    ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
                    ("sec-websocket-version", "13"),
                ],
                "",
            )
        }

        #[tokio::test]
        async fn response_create_gets_the_event_sequence_as_text_messages() {
            let Ok(UpstreamResponse::WebSocket(session)) =
                stub(None).send(upgrade("https://chatgpt.com/backend-api/codex/responses")).await
            else {
                panic!("not accepted")
            };
            assert_eq!(session.head.status(), 101);
            assert_eq!(session.head.headers()[header::SEC_WEBSOCKET_ACCEPT], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            let mut socket = session.socket;
            socket.send(WsMessage::text(r#"{"type":"response.create","model":"gpt-ws"}"#)).await.unwrap();
            let mut types = Vec::new();
            while let Some(Ok(WsMessage::Text(text))) = socket.next().await {
                let event: Value = serde_json::from_str(text.as_str()).unwrap();
                types.push(event["type"].as_str().unwrap().to_owned());
                if event["type"] == "response.completed" {
                    assert_eq!(event["response"]["model"], "gpt-ws");
                    break;
                }
            }
            assert_eq!(types.first().map(String::as_str), Some("response.created"));
            socket.send(WsMessage::text("{\"type\":\"nonsense\"}")).await.unwrap();
            let Some(Ok(WsMessage::Text(text))) = socket.next().await else { panic!() };
            assert!(text.as_str().contains("\"type\":\"error\""));
            socket.send(WsMessage::Close(None)).await.unwrap();
            assert!(matches!(socket.next().await, Some(Ok(WsMessage::Close(_)))));
            assert!(socket.next().await.is_none(), "the session ends after the close");
        }

        #[tokio::test]
        async fn upgrades_to_other_classes_and_forced_401_are_refused() {
            let (status, _) = refused(&stub(None), "https://api.openai.com/v1/chat/completions").await;
            assert_eq!(status, 404);
            let (status, text) =
                refused(&stub(Some(401)), "https://chatgpt.com/backend-api/codex/responses").await;
            assert_eq!(status, 401);
            assert!(text.contains("Missing bearer"), "{text}");
        }

        async fn refused(stub: &Stub, url: &str) -> (u16, String) {
            let Ok(UpstreamResponse::Http(response)) = stub.send(upgrade(url)).await else {
                panic!("accepted")
            };
            let status = response.status().as_u16();
            (
                status,
                String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap(),
            )
        }

        #[test]
        fn response_create_fields_may_be_nested() {
            let nested = response_create(r#"{"type":"response.create","response":{"model":"m"}}"#).unwrap();
            assert_eq!(nested, json!({"model": "m"}));
            assert!(response_create("not json").is_err());
        }
    }

    mod token_refresh {
        use super::*;

        fn refreshing() -> Stub {
            stub(None).with_refreshes(BTreeMap::from([("rt/1".to_owned(), "new-access".to_owned())]))
        }

        #[tokio::test]
        async fn a_known_refresh_token_gets_its_access_token_as_json_or_form() {
            for (content_type, body) in [
                ("application/json", r#"{"grant_type":"refresh_token","refresh_token":"rt/1"}"#),
                (
                    "application/x-www-form-urlencoded",
                    "grant_type=refresh_token&refresh_token=rt%2F1&client_id=app",
                ),
            ] {
                let request = request(
                    "POST",
                    "https://auth.openai.com/oauth/token",
                    &[("content-type", content_type)],
                    body,
                );
                let (status, _, text) = http(&refreshing(), request).await;
                let answer: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(
                    (status, answer["access_token"].as_str()),
                    (200, Some("new-access")),
                    "{content_type}"
                );
                assert_eq!(answer["refresh_token"], "rt/1");
            }
        }

        #[tokio::test]
        async fn an_unknown_refresh_token_is_an_invalid_grant() {
            let body = r#"{"grant_type":"refresh_token","refresh_token":"other"}"#;
            let (status, _, text) =
                http(&refreshing(), request("POST", "https://auth.openai.com/oauth/token", &[], body)).await;
            assert_eq!(status, 400);
            assert!(text.contains("invalid_grant"), "{text}");
        }
    }

    #[tokio::test]
    async fn no_tunnel_is_ever_opened() {
        assert!(stub(None).tunnel("api.openai.com", 443).await.is_err());
    }
}
