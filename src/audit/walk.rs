//! Secrets in a JSON document, by position and by scan.
//!
//! Every string (and key) of the document is scanned ([`scan`]). An exchange
//! — an object whose `request` has a `url`: a cassette's or journal's
//! interaction, a HAR entry — is also read by position: credential headers
//! and cookies, query parameters, token-like path segments, and body fields
//! (JSON at any depth and JSON inside JSON strings, forms, multipart parts),
//! with bodies assembled first (`chunks` joined, `base64` decoded, SSE
//! event data joined field by field). Any value in such a position that is
//! not a redaction marker or a placeholder is a finding, whatever its shape.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::scan::{Found, scan};
use crate::credential::{self, tokens};
use crate::exchange::content::percent_decode;

/// A secret and where in the document it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Placed {
    /// `interaction 3, request header x-api-key`; empty outside an exchange.
    pub(super) place: String,
    /// The secret.
    pub(super) found: Found,
    /// The 1-based line it is on, when the reader knows it.
    pub(super) line: Option<usize>,
}

/// Deepest JSON-inside-a-string nesting that is opened.
const MAX_NESTED_JSON: usize = 4;

/// Every secret in `document`, in document order (a secret may be listed
/// more than once; the caller keeps the first).
pub(super) fn walk(document: &Value, known: &[String]) -> Vec<Placed> {
    let mut walker = Walker { known, out: Vec::new() };
    walker.value("", document, 0);
    walker.out
}

struct Walker<'a> {
    known: &'a [String],
    out: Vec<Placed>,
}

impl Walker<'_> {
    /// Any value outside an exchange body: exchanges are read by position,
    /// everything else scanned.
    fn value(&mut self, place: &str, value: &Value, index: usize) {
        match value {
            Value::Object(map) if is_exchange(map) => self.exchange(&exchange_name(map, index), map),
            Value::Object(map) => {
                for (key, child) in map {
                    self.text(place, key);
                    self.value(place, child, 0);
                }
            }
            Value::Array(items) => items.iter().enumerate().for_each(|(i, item)| self.value(place, item, i)),
            Value::String(text) => self.text(place, text),
            _ => {}
        }
    }

    /// Scan `text` for secrets in clear or encoded.
    fn text(&mut self, place: &str, text: &str) {
        let found = scan(text, self.known);
        self.out.extend(found.into_iter().map(|found| Placed { place: place.to_owned(), found, line: None }));
    }

    /// A value in a credential position: a finding whatever its shape.
    fn position(&mut self, place: String, secret: &str) {
        let kind = tokens::find_tokens(secret).first().filter(|t| t.range.len() == secret.len()).map_or_else(
            || credential::classify(secret).replace("opaque", "opaque value"),
            |t| t.kind.to_owned(),
        );
        self.out.push(Placed { place, found: Found { secret: secret.to_owned(), kind }, line: None });
    }

    fn exchange(&mut self, name: &str, map: &Map<String, Value>) {
        for (key, child) in map {
            match (key.as_str(), child) {
                ("request" | "response", Value::Object(side)) => self.side(&format!("{name}, {key}"), side),
                _ => self.value(name, child, 0),
            }
        }
    }

    /// A request or response of a cassette interaction or a HAR entry.
    fn side(&mut self, place: &str, side: &Map<String, Value>) {
        for (key, child) in side {
            match (key.as_str(), child) {
                ("url", Value::String(url)) => self.url(place, url),
                ("headers", Value::Array(headers)) => {
                    headers.iter().filter_map(name_value).for_each(|(n, v)| self.header(place, n, v));
                }
                ("cookies", Value::Array(cookies)) => {
                    for (name, value) in cookies.iter().filter_map(name_value) {
                        self.field(&format!("{place} cookie"), "cookie", name, value);
                    }
                }
                ("queryString", Value::Array(params)) => {
                    for (name, value) in params.iter().filter_map(name_value) {
                        self.field(&format!("{place} query"), name, name, value);
                    }
                }
                ("body" | "postData" | "content", Value::Object(body)) => {
                    self.body(&format!("{place} body"), body)
                }
                _ => self.value(place, child, 0),
            }
        }
    }

    fn header(&mut self, place: &str, name: &str, value: &str) {
        for secret in tokens::header_secrets(name, value) {
            self.position(format!("{place} header {name}"), secret);
        }
        self.text(place, value);
    }

    /// `value` under `name`, found at `place` + ` label`, is a secret when the name says so.
    fn field(&mut self, place: &str, name: &str, label: &str, value: &str) {
        let rule_name = if name == "cookie" { "secret" } else { name };
        if let Some(secret) = tokens::field_secret(rule_name, value) {
            self.position(format!("{place} {label}"), secret);
        }
        self.text(place, value);
    }

    fn url(&mut self, place: &str, url: &str) {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let query = query.split('#').next().unwrap_or_default();
        for (name, value) in form_pairs(query) {
            self.field(&format!("{place} url query"), &name, &name, &value);
        }
        let path =
            path.split_once("://").map_or(path, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
        let path = percent_decode(path).unwrap_or_else(|| path.to_owned());
        for secret in tokens::path_secrets(&path) {
            self.position(format!("{place} url path"), secret);
        }
        self.text(place, url);
    }

    /// A body: a cassette's (`json`, `text`, `base64`, `sse`, `chunks`) or
    /// HAR's (`postData` with `text` and `params`, `content` with `text` and `encoding`).
    fn body(&mut self, place: &str, body: &Map<String, Value>) {
        let base64 = body.get("encoding").and_then(Value::as_str) == Some("base64");
        for (key, child) in body {
            match (key.as_str(), child) {
                ("json", json) => self.json(place, "", json, 0),
                ("text", Value::String(text)) if base64 => self.base64_body(place, text),
                ("text", Value::String(text)) => self.body_text(place, text, 0),
                ("base64", Value::String(data)) => self.base64_body(place, data),
                ("chunks", Value::Array(chunks)) => {
                    self.body_text(&format!("{place} (chunks joined)"), &join_chunks(chunks), 0)
                }
                ("sse", Value::Array(events)) => self.events(place, events),
                ("params", Value::Array(params)) => {
                    for (name, value) in params.iter().filter_map(name_value) {
                        self.field(place, name, &format!("field {name}"), value);
                    }
                }
                _ => self.value(place, child, 0),
            }
        }
    }

    fn base64_body(&mut self, place: &str, data: &str) {
        self.text(place, data);
        if let Some(bytes) = decode_base64(data) {
            self.body_text(&format!("{place} (base64 decoded)"), &String::from_utf8_lossy(&bytes), 0);
        }
    }

    /// Server-sent events: each event's data as a body, and the strings of
    /// all events' data joined field by field (a key streamed in pieces,
    /// one `delta` at a time, is whole again).
    fn events(&mut self, place: &str, events: &[Value]) {
        let mut streams: BTreeMap<String, String> = BTreeMap::new();
        for (index, event) in events.iter().enumerate() {
            let Some(data) = event.get("data").and_then(Value::as_str) else { continue };
            self.body_text(&format!("{place} event {}", index + 1), data, 0);
            match serde_json::from_str::<Value>(data) {
                Ok(json) => collect_streams(&json, String::new(), &mut streams),
                Err(_) => streams.entry(String::new()).or_default().push_str(data),
            }
        }
        for (path, joined) in streams {
            let field = if path.is_empty() { String::new() } else { format!(" field {path}") };
            self.text(&format!("{place} (events joined){field}"), &joined);
        }
    }

    /// Body text: read as JSON, a form or a multipart body when it is one,
    /// and scanned in any case.
    fn body_text(&mut self, place: &str, text: &str, depth: usize) {
        let trimmed = text.trim_start();
        if trimmed.starts_with(['{', '['])
            && let Ok(json) = serde_json::from_str::<Value>(text)
        {
            return self.json(place, "", &json, depth);
        }
        if let Some(parts) = multipart_fields(text) {
            for (name, value) in parts {
                self.field(place, name, &format!("part {name}"), value);
            }
        } else if looks_like_form(text) {
            for (name, value) in form_pairs(text) {
                self.field(place, &name, &format!("field {name}"), &value);
            }
        }
        self.text(place, text);
    }

    /// A JSON body (or JSON inside a body string): every field by name, at any depth.
    fn json(&mut self, place: &str, path: &str, value: &Value, depth: usize) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    self.text(place, key);
                    match child {
                        Value::String(text) => self.json_string(place, &path, key, text, depth),
                        _ => self.json(place, &path, child, depth),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.json(place, path, item, depth)),
            Value::String(text) => self.json_string(place, path, "", text, depth),
            _ => {}
        }
    }

    fn json_string(&mut self, place: &str, path: &str, key: &str, text: &str, depth: usize) {
        if let Some(secret) = tokens::field_secret(key, text) {
            self.position(format!("{place} field {path}"), secret);
        }
        let nested = text.trim_start().starts_with(['{', '[']) && depth < MAX_NESTED_JSON;
        match nested.then(|| serde_json::from_str::<Value>(text)) {
            Some(Ok(json)) => {
                self.json(&format!("{place} field {path} (JSON in a string)"), "", &json, depth + 1)
            }
            _ => self.text(place, text),
        }
    }
}

/// A cassette or journal interaction, or a HAR entry: an object whose
/// `request` is an object with a `url`.
fn is_exchange(map: &Map<String, Value>) -> bool {
    map.get("request").and_then(Value::as_object).is_some_and(|r| r.contains_key("url"))
}

/// `interaction <seq>` for a cassette interaction, `entry <n>` for a HAR entry.
fn exchange_name(map: &Map<String, Value>, index: usize) -> String {
    match map.get("seq").and_then(Value::as_u64) {
        Some(seq) => format!("interaction {seq}"),
        None => format!("entry {}", index + 1),
    }
}

/// A header or parameter as a cassette (`["name", "value"]`) or HAR
/// (`{"name": …, "value": …}`) stores it.
fn name_value(item: &Value) -> Option<(&str, &str)> {
    match item {
        Value::Array(pair) => Some((pair.first()?.as_str()?, pair.get(1)?.as_str()?)),
        Value::Object(map) => Some((map.get("name")?.as_str()?, map.get("value")?.as_str()?)),
        _ => None,
    }
}

/// The bytes of a `chunks` body joined, as (lossy) text.
fn join_chunks(chunks: &[Value]) -> String {
    let mut bytes = Vec::new();
    for chunk in chunks {
        if let Some(text) = chunk.get("text").and_then(Value::as_str) {
            bytes.extend_from_slice(text.as_bytes());
        } else if let Some(data) = chunk.get("base64").and_then(Value::as_str) {
            bytes.extend(decode_base64(data).unwrap_or_default());
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn decode_base64(data: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(data.trim()).ok()
}

/// The string leaves of `value`, appended to the stream of their path
/// (array indices left out, so `choices[0].delta.content` of every event is one stream).
fn collect_streams(value: &Value, path: String, streams: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                collect_streams(child, path, streams);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_streams(item, path.clone(), streams)),
        Value::String(text) => streams.entry(path).or_default().push_str(text),
        _ => {}
    }
}

/// `a=1&b=2` with no spaces or line breaks: a form body or query.
fn looks_like_form(text: &str) -> bool {
    text.contains('=') && !text.trim().contains(char::is_whitespace)
}

/// The `name=value` pairs of a form body or query, percent-decoded.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode(s).unwrap_or_else(|| s.to_owned());
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (decode(name), decode(value)))
        .collect()
}

/// The `(name, value)` fields of a `multipart/form-data` body, read from
/// the body itself (its first line is the boundary), or `None` if it is not one.
fn multipart_fields(text: &str) -> Option<Vec<(&str, &str)>> {
    let boundary = text.lines().next()?.trim_end();
    if !boundary.starts_with("--") || boundary.len() < 3 {
        return None;
    }
    let fields = text
        .split(boundary)
        .filter_map(|part| {
            let (head, value) = part.split_once("\r\n\r\n").or_else(|| part.split_once("\n\n"))?;
            let name = head.split("name=\"").nth(1)?.split('"').next()?;
            Some((name, value.trim_end_matches(['\r', '\n'])))
        })
        .collect();
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HEX: &str = "3f9a1c0d5e7b2a4c6e8f0a1b2c3d4e5f";

    fn places(document: &Value) -> Vec<(String, String)> {
        walk(document, &[]).into_iter().map(|p| (p.place, p.found.secret)).collect()
    }

    fn interaction(request: Value, response: Value) -> Value {
        json!({"interactions": [{"seq": 7, "request": request, "response": response}]})
    }

    #[test]
    fn opaque_values_in_credential_positions_are_placed() {
        let request = json!({"url": format!("https://h/v1/x?api_key={HEX}&model=m"), "headers": [
            ["authorization", format!("Bearer {HEX}1")], ["x-api-key", format!("{HEX}2")],
            ["x-custom-secret", format!("{HEX}3")], ["session-id", "01a20c6e-0c8e-71e1-9cb6-f16bb6bb0f24"]],
            "body": {"json": {"model": "m", "nested": {"client_secret": format!("{HEX}4"), "max_tokens": 12}}}});
        let found =
            places(&interaction(request, json!({"status": 200, "headers": [], "body": {"empty": true}})));
        assert_eq!(
            found,
            [
                ("interaction 7, request url query api_key".to_owned(), HEX.to_owned()),
                ("interaction 7, request header authorization".to_owned(), format!("{HEX}1")),
                ("interaction 7, request header x-api-key".to_owned(), format!("{HEX}2")),
                ("interaction 7, request header x-custom-secret".to_owned(), format!("{HEX}3")),
                ("interaction 7, request body field nested.client_secret".to_owned(), format!("{HEX}4")),
            ]
        );
    }

    #[test]
    fn markers_and_placeholders_are_not_findings() {
        let marker = credential::redaction_marker(HEX);
        let request = json!({"url": "https://h/v1/x?key=[REDACTED%20sha256:0123456789ab]", "headers": [
            ["authorization", format!("Bearer {marker}")], ["x-api-key", "Bearer"], ["cookie", format!("a={marker}; b=1")],
            ["x-ratelimit-remaining-tokens", "1999"], ["anthropic-ratelimit-tokens-reset", "2026-05-16T10:00:00Z"]],
            "body": {"json": {"api_key": "${OPENAI_API_KEY}", "logprobs": [{"token": "Hello"}], "password": ""}}});
        assert!(places(&interaction(request, Value::Null)).is_empty());
    }

    #[test]
    fn nested_json_forms_multipart_and_paths_are_read() {
        let payload = json!({"api_key": HEX}).to_string();
        let multipart = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n{HEX}5\r\n--XyZ--\r\n"
        );
        let requests = [
            json!({"url": "https://h/x", "headers": [], "body": {"json": {"payload": payload}}}),
            json!({"url": "https://h/x", "headers": [], "body": {"text": multipart}}),
            json!({"url": "https://h/x", "headers": [], "body": {"text": format!("grant_type=refresh_token&refresh_token={HEX}6")}}),
            json!({"url": format!("https://h/bot{HEX}7/getMe"), "headers": []}),
        ];
        let found: Vec<_> = requests.into_iter().flat_map(|r| places(&interaction(r, Value::Null))).collect();
        assert_eq!(
            found,
            [
                (
                    "interaction 7, request body field payload (JSON in a string) field api_key".to_owned(),
                    HEX.to_owned()
                ),
                ("interaction 7, request body part client_secret".to_owned(), format!("{HEX}5")),
                ("interaction 7, request body field refresh_token".to_owned(), format!("{HEX}6")),
                ("interaction 7, request url path".to_owned(), format!("{HEX}7")),
            ]
        );
    }

    #[test]
    fn chunked_and_streamed_bodies_are_joined_before_reading() {
        let key = "sk-proj-abcdefghijklmnop0123456789";
        let chunks = json!([{"t_ms": 0, "text": "{\"access_tok"}, {"t_ms": 1, "text": format!("en\": \"{HEX}\", \"k\": \"{}", &key[..10])},
            {"t_ms": 2, "base64": base64::engine::general_purpose::STANDARD.encode(format!("{}\"}}", &key[10..]))}]);
        let events = json!([{"t_ms": 0, "data": format!("{{\"delta\": \"{}\"}}", &key[..9])}, {"t_ms": 1, "data": format!("{{\"delta\": \"{}\"}}", &key[9..])}]);
        let response = json!({"status": 200, "headers": [], "body": {"chunks": chunks}});
        let found = places(&interaction(
            json!({"url": "https://h/x", "headers": [], "body": {"sse": events}}),
            response,
        ));
        assert_eq!(
            found,
            [
                ("interaction 7, request body (events joined) field delta".to_owned(), key.to_owned()),
                (
                    "interaction 7, response body (chunks joined) field access_token".to_owned(),
                    HEX.to_owned()
                ),
                ("interaction 7, response body (chunks joined)".to_owned(), key.to_owned()),
            ]
        );
    }

    #[test]
    fn har_entries_are_read_by_position() {
        let har = json!({"log": {"entries": [{"request": {"url": "https://h/x", "headers": [{"name": "X-Api-Key", "value": HEX}],
            "queryString": [{"name": "token", "value": format!("{HEX}8")}], "cookies": [{"name": "sid", "value": format!("{HEX}9")}],
            "postData": {"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "password", "value": "hunter2!"}]}},
            "response": {"content": {"encoding": "base64", "text": base64::engine::general_purpose::STANDARD.encode(format!("{{\"id_token\": \"{HEX}0\"}}"))}}}]}});
        assert_eq!(
            places(&har),
            [
                ("entry 1, request header X-Api-Key".to_owned(), HEX.to_owned()),
                ("entry 1, request query token".to_owned(), format!("{HEX}8")),
                ("entry 1, request cookie sid".to_owned(), format!("{HEX}9")),
                ("entry 1, request body field password".to_owned(), "hunter2!".to_owned()),
                ("entry 1, response body (base64 decoded) field id_token".to_owned(), format!("{HEX}0")),
            ]
        );
    }
}
