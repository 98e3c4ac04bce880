//! HAR 1.2: the model of a HAR file and the export of a cassette as one
//! (`cassette export`). Import (`cassette import FILE.har`) goes through the
//! same capture and redaction as `record`, so it lives in `recorder::har`.
//!
//! - [`export`] — a cassette → a HAR any viewer opens (browser devtools, HAR viewers).
//!
//! HAR has no place for some facts of a cassette. dispatch-vcr keeps them in
//! underscore fields (HAR 1.2 §"Custom fields"), which viewers ignore and our
//! import reads back, so a cassette survives the round trip unchanged:
//! `log._dispatchVcrMeta` (the cassette's `meta`), `_decodedFrom` (the wire
//! `content-encoding` of a body stored decoded), `_pieces` (the times and
//! sizes of a streamed body's events or chunks) and `_webSocketClose`.
//! WebSocket messages use Chrome's own `_webSocketMessages`. `docs/har.md`
//! says what a HAR viewer sees of each.

pub mod export;

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::model::{Meta, WsClose};

pub use export::to_har;

/// The HAR version written.
pub const HAR_VERSION: &str = "1.2";

/// A HAR file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Har {
    /// The one top-level object.
    pub log: Log,
}

/// `log`: who wrote the file and the entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Log {
    /// `1.2`.
    #[serde(default)]
    pub version: String,
    /// The program that wrote the file.
    #[serde(default)]
    pub creator: Creator,
    /// One entry per request, in the order written.
    pub entries: Vec<Entry>,
    /// The cassette's `meta`, when dispatch-vcr wrote the file.
    #[serde(rename = "_dispatchVcrMeta", default, skip_serializing_if = "Option::is_none")]
    pub dispatch_vcr_meta: Option<Meta>,
}

/// `log.creator`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Creator {
    /// e.g. `dispatch-vcr`, `WebInspector`, `mitmproxy`.
    #[serde(default)]
    pub name: String,
    /// Its version.
    #[serde(default)]
    pub version: String,
}

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// ISO 8601 time the request started, e.g. `2026-05-18T10:00:00.035Z`.
    pub started_date_time: String,
    /// Milliseconds from the request to the end of the response.
    #[serde(default)]
    pub time: f64,
    /// The request.
    pub request: HarRequest,
    /// The response (`status` 0 and `_error` when there was none).
    pub response: HarResponse,
    /// Cache state; always empty here.
    #[serde(default)]
    pub cache: Value,
    /// Where the time went; dispatch-vcr knows only the total (`wait`).
    #[serde(default)]
    pub timings: Timings,
    /// The client connection that carried the request.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub connection: Option<String>,
    /// WebSocket messages, as Chrome's devtools write them.
    #[serde(rename = "_webSocketMessages", default, skip_serializing_if = "Vec::is_empty")]
    pub web_socket_messages: Vec<WsEntry>,
    /// How the WebSocket session closed.
    #[serde(rename = "_webSocketClose", default, skip_serializing_if = "Option::is_none")]
    pub web_socket_close: Option<WsClose>,
}

/// `entry.request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// `HTTP/1.1`, `HTTP/2`, `h2`, …
    #[serde(default)]
    pub http_version: String,
    /// Parsed cookies; written empty (the `cookie` header holds them) and ignored on import.
    #[serde(default)]
    pub cookies: Vec<Value>,
    /// Headers in wire order.
    #[serde(default)]
    pub headers: Vec<NameValue>,
    /// The URL's query, parsed; ignored on import (the URL holds it).
    #[serde(default)]
    pub query_string: Vec<NameValue>,
    /// The body, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_data: Option<PostData>,
    /// Unknown: -1.
    #[serde(default = "unknown_size")]
    pub headers_size: i64,
    /// Body length in bytes.
    #[serde(default = "unknown_size")]
    pub body_size: i64,
}

/// `entry.response`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarResponse {
    /// Status code; 0 when no response arrived.
    #[serde(default)]
    pub status: u16,
    /// Reason phrase.
    #[serde(default)]
    pub status_text: String,
    /// `HTTP/1.1`, `HTTP/2`, …
    #[serde(default)]
    pub http_version: String,
    /// Parsed cookies; written empty and ignored on import.
    #[serde(default)]
    pub cookies: Vec<Value>,
    /// Headers in wire order.
    #[serde(default)]
    pub headers: Vec<NameValue>,
    /// The body.
    #[serde(default)]
    pub content: Content,
    /// The `location` of a redirect.
    #[serde(rename = "redirectURL", default)]
    pub redirect_url: String,
    /// Unknown: -1.
    #[serde(default = "unknown_size")]
    pub headers_size: i64,
    /// Body length in bytes.
    #[serde(default = "unknown_size")]
    pub body_size: i64,
    /// Why the exchange failed (Chrome writes it for `status` 0).
    #[serde(rename = "_error", default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A header or query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameValue {
    /// Its name.
    pub name: String,
    /// Its value.
    #[serde(default)]
    pub value: String,
}

/// `request.postData`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostData {
    /// The `content-type`.
    #[serde(default)]
    pub mime_type: String,
    /// The body, decoded; base64 when `_encoding` says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `base64` for a body that is not UTF-8 (HAR 1.2 has no such field for requests).
    #[serde(rename = "_encoding", alias = "encoding", default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// The body's wire `content-encoding`; the text is decoded.
    #[serde(rename = "_decodedFrom", default, skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<String>,
}

/// `response.content`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// Length of the decoded body in bytes.
    #[serde(default)]
    pub size: i64,
    /// The `content-type`.
    #[serde(default)]
    pub mime_type: String,
    /// The body, decoded; base64 when `encoding` says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `base64` for a body that is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// The body's wire `content-encoding`; the text is decoded.
    #[serde(rename = "_decodedFrom", default, skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<String>,
    /// The events or chunks of a streamed body: when each went out, and its size.
    #[serde(rename = "_pieces", default, skip_serializing_if = "Vec::is_empty")]
    pub pieces: Vec<PieceEntry>,
}

/// One event or chunk of a streamed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PieceEntry {
    /// Milliseconds from the response head.
    pub t_ms: u64,
    /// Its length in bytes.
    pub size: usize,
}

/// `entry.timings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Sending the request.
    #[serde(default)]
    pub send: f64,
    /// Waiting for the response.
    #[serde(default)]
    pub wait: f64,
    /// Reading the response.
    #[serde(default)]
    pub receive: f64,
}

/// One WebSocket message in Chrome's `_webSocketMessages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsEntry {
    /// `send` (client → server) or `receive`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seconds since the Unix epoch.
    pub time: f64,
    /// 1 text, 2 binary (data in base64).
    pub opcode: u8,
    /// The content.
    pub data: String,
}

/// An ISO 8601 / RFC 3339 time with any offset (`…Z`, `…+02:00`), as
/// browsers and mitmproxy write `startedDateTime`.
pub fn parse_time(text: &str) -> Option<SystemTime> {
    let time = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    Some(SystemTime::from(time))
}

/// HAR's "unknown" size.
fn unknown_size() -> i64 {
    -1
}

/// `connection` is a string in HAR 1.2, but some tools write a number.
fn lenient_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(text)) => Some(text),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_with_any_offset_parse() {
        let at = |ms: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(parse_time("1970-01-01T00:00:01.250Z"), at(1250));
        assert_eq!(parse_time("1970-01-01T02:00:01.250+02:00"), at(1250));
        assert_eq!(parse_time("1970-01-01T00:00:01.250000+00:00"), at(1250));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn connection_may_be_a_number() {
        let entry: Entry = serde_json::from_value(serde_json::json!({
            "startedDateTime": "1970-01-01T00:00:00Z", "connection": 42,
            "request": {"method": "GET", "url": "https://a/"}, "response": {"status": 200}
        }))
        .unwrap();
        assert_eq!(entry.connection.as_deref(), Some("42"));
        assert_eq!(entry.request.headers_size, -1);
    }
}
