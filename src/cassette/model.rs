//! Cassette v1 as Rust types (docs/cassette.md). Serialising these types *is* the
//! file format: field order here is key order on disk.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod de;
pub(crate) mod json_text;

pub(crate) use de::{for_observing, leading_model_fields};
pub use json_text::JsonText;

pub use crate::credential::CredentialFacts;
pub use crate::exchange::{RESPONSE_CUT_SHORT, Side};

/// The `format` value of a cassette v1 file.
pub const FORMAT_V1: &str = "dispatch-vcr/cassette@1";

/// The body forms of docs/cassette.md (the keys of [`BodyContent`]): a body has exactly one.
pub const BODY_FORMS: &[&str] = &["empty", "json", "text", "base64", "sse", "chunks", "file"];

/// One recording: ordered HTTP(S) and WebSocket exchanges, secrets redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cassette {
    /// The JSON Schema of this format (`docs/schema/cassette-v1.json`), for
    /// editors; optional, and ignored by dispatch-vcr.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Always [`FORMAT_V1`] for this version.
    #[schemars(extend("const" = FORMAT_V1))]
    pub format: String,
    /// Facts about the recording as a whole.
    #[serde(default)]
    pub meta: Meta,
    /// The exchanges, in the order they finished.
    #[serde(default)]
    pub interactions: Vec<Interaction>,
}

impl Cassette {
    /// An empty cassette of the current format.
    pub fn new(meta: Meta) -> Self {
        Self { schema: None, format: FORMAT_V1.to_owned(), meta, interactions: Vec::new() }
    }
}

/// `meta`: who recorded what, and what the fingerprints stand for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Meta {
    /// RFC 3339 UTC time the recording started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    /// `dispatch-vcr <version>` of the recorder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The dispatcher that was recorded, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatcher: Option<DispatcherId>,
    /// Free-form labels, e.g. `source`, `case`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Non-secret facts per credential fingerprint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": "^sha256:[0-9a-f]{12}$"}))]
    pub credentials: BTreeMap<String, CredentialFacts>,
}

/// `NAME@VERSION` of a dispatcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DispatcherId {
    /// e.g. `openclaw`.
    pub name: String,
    /// e.g. `2026.5.16-beta.4`.
    pub version: String,
}

/// One request/response exchange or WebSocket session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("anyOf" = [{"required": ["response"]}, {"required": ["error"]}]))]
pub struct Interaction {
    /// 1-based position in the cassette.
    pub seq: u64,
    /// Which client connection carried it (1-based, per recording).
    #[serde(default)]
    pub conn: u64,
    /// Milliseconds from the start of the recording to the request.
    #[serde(default)]
    pub t_ms: u64,
    /// Milliseconds from the request to the end of the response.
    #[serde(default)]
    pub duration_ms: u64,
    /// What the client sent.
    pub request: Request,
    /// What came back; absent when the exchange failed (`error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// Messages of an upgraded WebSocket connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WebSocketSession>,
    /// Why the exchange failed (`upstream connect failed: …`); it starts
    /// with `upstream response body failed` when a response came but its
    /// body broke off (replay serves the recorded part, then fails the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Interaction {
    /// Interaction `seq` carrying `request` on connection 1 at time 0, not yet answered:
    /// the caller sets `response`, `websocket` or `error` (struct update syntax reads well).
    pub fn new(seq: u64, request: Request) -> Self {
        Self { seq, conn: 1, t_ms: 0, duration_ms: 0, request, response: None, websocket: None, error: None }
    }

    /// Parse the bodies held as JSON text into values ([`Body::settle`]).
    pub fn settle(&mut self) {
        self.request.body.settle();
        if let Some(response) = &mut self.response {
            response.body.settle();
        }
    }
}

/// Ordered `[name, value]` pairs, names lower-case, duplicates kept.
pub type Headers = Vec<(String, String)>;

/// The request head and body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// Absolute URL as the client meant it: `https://api.openai.com/v1/responses`.
    pub url: String,
    /// `HTTP/1.1` or `HTTP/2`.
    #[serde(default = "default_http_version")]
    pub http_version: String,
    /// Request headers.
    #[serde(default)]
    pub headers: Headers,
    /// Request body.
    #[serde(default)]
    pub body: Body,
}

impl Request {
    /// An HTTP/1.1 request built rather than captured (imports, replay look-ups, fixtures).
    pub fn new(method: impl Into<String>, url: impl Into<String>, headers: Headers, body: Body) -> Self {
        Self { method: method.into(), url: url.into(), http_version: default_http_version(), headers, body }
    }
}

/// The response head and body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Response {
    /// HTTP status code.
    #[schemars(range(min = 100, max = 599))]
    pub status: u16,
    /// Response headers.
    #[serde(default, deserialize_with = "de::response_headers")]
    pub headers: Headers,
    /// Response body (`{"empty": true}` for a WebSocket upgrade).
    #[serde(default)]
    pub body: Body,
}

fn default_http_version() -> String {
    "HTTP/1.1".to_owned()
}

/// A stored body: exactly one content form, plus how it was encoded on the wire.
// Read by hand in model/de.rs, like Chunk and WsMessage: the derive would
// buffer the whole object to find its flattened form.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Body {
    /// The content.
    #[serde(flatten)]
    pub content: BodyContent,
    /// The `content-encoding` the body had on the wire; stored decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["gzip", "br", "deflate", "zstd", null]))]
    pub decoded_from: Option<String>,
    /// For `file` bodies: SHA-256 (hex) of the side file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// For `file` bodies: length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u64>,
}

impl Default for Body {
    fn default() -> Self {
        Self::from(BodyContent::Empty(true))
    }
}

impl From<BodyContent> for Body {
    fn from(content: BodyContent) -> Self {
        Self { content, decoded_from: None, sha256: None, len: None }
    }
}

impl Body {
    /// Parse a body held as JSON text ([`BodyContent::JsonText`]) into its
    /// value, as the cassette stores it.
    pub fn settle(&mut self) {
        if let BodyContent::JsonText(text) = &self.content
            && let Ok(value) = serde_json::from_str(text.get())
        {
            self.content = BodyContent::Json(value);
        }
    }
}

/// The content forms of a body. Structured forms (`json`, `sse`) are used
/// only when they reproduce the wire bytes exactly, so replay is faithful.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyContent {
    /// No body.
    Empty(#[schemars(extend("const" = true))] bool),
    /// A JSON document.
    Json(Value),
    /// A JSON document still as its text: how the recorder holds a body
    /// until it writes the cassette ([`Body::settle`] makes it `json`).
    /// Written as `json`; never read back as this form.
    #[serde(rename = "json", skip_deserializing)]
    #[schemars(skip)]
    JsonText(JsonText),
    /// UTF-8 text.
    Text(String),
    /// Bytes that are not UTF-8.
    Base64(String),
    /// A `text/event-stream`, event by event.
    Sse(Vec<SseEvent>),
    /// Any other stream, chunk by chunk as it arrived.
    Chunks(Vec<Chunk>),
    /// A large body kept in a side file: `NAME.blobs/<sha256>`, relative to the cassette.
    File(String),
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SseEvent {
    /// Milliseconds from the response head to this event.
    pub t_ms: u64,
    /// The `event:` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The `id:` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The `retry:` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u64>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// A piece of text or bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Payload {
    /// UTF-8 text.
    Text(String),
    /// Bytes that are not UTF-8.
    Base64(String),
}

/// One chunk of a streamed body.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Chunk {
    /// Milliseconds from the response head to this chunk.
    pub t_ms: u64,
    /// Its bytes.
    #[serde(flatten)]
    pub payload: Payload,
}

/// The messages of a WebSocket session, in the order the proxy saw them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebSocketSession {
    /// Data messages (text and binary); control frames are not kept.
    #[serde(default, deserialize_with = "de::messages")]
    pub messages: Vec<WsMessage>,
    /// How the session closed, when it closed cleanly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<WsClose>,
}

/// One WebSocket data message.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct WsMessage {
    /// Who sent it.
    pub from: Side,
    /// Milliseconds from the upgrade to this message.
    pub t_ms: u64,
    /// Its content.
    #[serde(flatten)]
    pub payload: Payload,
}

/// A WebSocket close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WsClose {
    /// Who closed first.
    pub from: Side,
    /// The close code, if one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// The close reason, if one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_forms_serialise_as_design_section_4() {
        let json = Body::from(BodyContent::Json(serde_json::json!({"model": "gpt-5.5"})));
        assert_eq!(serde_json::to_string(&json).unwrap(), r#"{"json":{"model":"gpt-5.5"}}"#);
        assert_eq!(serde_json::to_string(&Body::default()).unwrap(), r#"{"empty":true}"#);
        let chunk = Chunk { t_ms: 3, payload: Payload::Text("a".into()) };
        assert_eq!(serde_json::to_string(&chunk).unwrap(), r#"{"t_ms":3,"text":"a"}"#);
    }

    #[test]
    fn body_with_encoding_round_trips() {
        let text = r#"{"text":"hi","decoded_from":"gzip"}"#;
        let body: Body = serde_json::from_str(text).unwrap();
        assert_eq!(body.content, BodyContent::Text("hi".into()));
        assert_eq!(body.decoded_from.as_deref(), Some("gzip"));
        assert_eq!(serde_json::to_string(&body).unwrap(), text);
    }

    #[test]
    fn headers_are_pairs() {
        let req: Request = serde_json::from_str(
            r#"{"method":"POST","url":"https://a/b","headers":[["a","1"],["a","2"]],"body":{"empty":true}}"#,
        )
        .unwrap();
        assert_eq!(req.headers, vec![("a".into(), "1".into()), ("a".into(), "2".into())]);
        assert_eq!(req.http_version, "HTTP/1.1");
    }
}
