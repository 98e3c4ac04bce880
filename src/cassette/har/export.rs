//! A cassette as a HAR 1.2 file (`cassette export --har`).
//!
//! Bodies go out decoded, as HAR wants them (`content.text`, base64 when not
//! UTF-8); an SSE stream becomes its text. What HAR has no field for goes
//! into underscore fields (see [`super`]), so `cassette import` gives the
//! same cassette back.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{
    Content, Creator, Entry, HAR_VERSION, Har, HarRequest, HarResponse, Log, NameValue, PieceEntry, PostData,
    Timings, WsEntry,
};
use crate::cassette::model::{Body, Cassette, Headers, Interaction, Payload, Side, WebSocketSession};
use crate::error::Result;
use crate::exchange::header;

/// The HAR of `cassette`; `dir` is its folder (for side-file bodies).
pub fn to_har(cassette: &Cassette, dir: &Path) -> Result<Har> {
    let start =
        cassette.meta.recorded_at.as_deref().and_then(super::parse_time).unwrap_or(SystemTime::UNIX_EPOCH);
    let entries = cassette.interactions.iter().map(|i| entry(i, start, dir)).collect::<Result<Vec<_>>>()?;
    Ok(Har {
        log: Log {
            version: HAR_VERSION.to_owned(),
            creator: Creator { name: "dispatch-vcr".into(), version: env!("CARGO_PKG_VERSION").into() },
            entries,
            dispatch_vcr_meta: Some(cassette.meta.clone()),
        },
    })
}

fn entry(interaction: &Interaction, start: SystemTime, dir: &Path) -> Result<Entry> {
    let started = start + Duration::from_millis(interaction.t_ms);
    let duration = interaction.duration_ms as f64;
    Ok(Entry {
        started_date_time: humantime::format_rfc3339_millis(started).to_string(),
        time: duration,
        request: request(interaction, dir)?,
        response: response(interaction, dir)?,
        cache: json!({}),
        timings: Timings { send: 0.0, wait: duration, receive: 0.0 },
        connection: Some(interaction.conn.to_string()),
        web_socket_messages: interaction
            .websocket
            .as_ref()
            .map(|ws| ws_messages(ws, started))
            .unwrap_or_default(),
        web_socket_close: interaction.websocket.as_ref().and_then(|ws| ws.close.clone()),
    })
}

fn request(interaction: &Interaction, dir: &Path) -> Result<HarRequest> {
    let request = &interaction.request;
    let body = BodyText::of(&request.body, dir)?;
    Ok(HarRequest {
        method: request.method.clone(),
        url: request.url.clone(),
        http_version: request.http_version.clone(),
        cookies: Vec::new(),
        headers: name_values(&request.headers),
        query_string: query(&request.url),
        body_size: body.size as i64,
        post_data: body.text.map(|text| PostData {
            mime_type: header(&request.headers, "content-type").unwrap_or_default().to_owned(),
            text: Some(text),
            encoding: body.encoding,
            decoded_from: request.body.decoded_from.clone(),
        }),
        headers_size: -1,
    })
}

fn response(interaction: &Interaction, dir: &Path) -> Result<HarResponse> {
    let Some(response) = &interaction.response else {
        return Ok(HarResponse {
            status: 0,
            status_text: String::new(),
            http_version: interaction.request.http_version.clone(),
            cookies: Vec::new(),
            headers: Vec::new(),
            content: Content::default(),
            redirect_url: String::new(),
            headers_size: -1,
            body_size: -1,
            error: Some(interaction.error.clone().unwrap_or_else(|| "no response".into())),
        });
    };
    let body = BodyText::of(&response.body, dir)?;
    let status_text = http::StatusCode::from_u16(response.status).ok().and_then(|s| s.canonical_reason());
    Ok(HarResponse {
        status: response.status,
        status_text: status_text.unwrap_or_default().to_owned(),
        http_version: interaction.request.http_version.clone(),
        cookies: Vec::new(),
        headers: name_values(&response.headers),
        // The wire size is unknown when the body was stored decoded.
        body_size: if response.body.decoded_from.is_some() { -1 } else { body.size as i64 },
        content: Content {
            size: body.size as i64,
            mime_type: header(&response.headers, "content-type").unwrap_or_default().to_owned(),
            text: body.text,
            encoding: body.encoding,
            decoded_from: response.body.decoded_from.clone(),
            pieces: body.pieces,
        },
        redirect_url: header(&response.headers, "location").unwrap_or_default().to_owned(),
        headers_size: -1,
        error: interaction.error.clone(),
    })
}

/// A body as HAR holds it.
struct BodyText {
    /// The decoded bytes as text, or base64; `None` for no body.
    text: Option<String>,
    /// `base64` when `text` is base64.
    encoding: Option<String>,
    /// Decoded length in bytes.
    size: usize,
    /// The timed pieces of a streamed body (none for a whole one).
    pieces: Vec<PieceEntry>,
}

impl BodyText {
    fn of(body: &Body, dir: &Path) -> Result<Self> {
        let pieces = body.pieces(dir)?;
        let bytes: Vec<u8> = pieces.iter().flat_map(|p| p.bytes.iter().copied()).collect();
        let timed = if body.is_streamed() {
            pieces.iter().map(|p| PieceEntry { t_ms: p.t_ms, size: p.bytes.len() }).collect()
        } else {
            Vec::new()
        };
        if pieces.is_empty() {
            return Ok(Self { text: None, encoding: None, size: 0, pieces: timed });
        }
        let (text, encoding) = match Payload::from_bytes(&bytes) {
            Payload::Text(text) => (text, None),
            Payload::Base64(text) => (text, Some("base64".to_owned())),
        };
        Ok(Self { text: Some(text), encoding, size: bytes.len(), pieces: timed })
    }
}

fn name_values(headers: &Headers) -> Vec<NameValue> {
    headers.iter().map(|(name, value)| NameValue { name: name.clone(), value: value.clone() }).collect()
}

/// The URL's query as name/value pairs, as they are written in the URL.
fn query(url: &str) -> Vec<NameValue> {
    let Some((_, query)) = url.split_once('?') else { return Vec::new() };
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            NameValue { name: name.to_owned(), value: value.to_owned() }
        })
        .collect()
}

/// Messages as Chrome writes them: `send`/`receive`, epoch seconds, opcode 1 (text) or 2 (binary, base64).
fn ws_messages(ws: &WebSocketSession, upgraded: SystemTime) -> Vec<WsEntry> {
    ws.messages
        .iter()
        .map(|m| {
            let at = upgraded + Duration::from_millis(m.t_ms);
            let seconds =
                at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis() as f64 / 1000.0;
            let (opcode, data) = match &m.payload {
                Payload::Text(text) => (1, text.clone()),
                Payload::Base64(data) => (2, data.clone()),
            };
            let kind = match m.from {
                Side::Client => "send",
                Side::Server => "receive",
            };
            WsEntry { kind: kind.to_owned(), time: seconds, opcode, data }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::{BodyContent, Request, Response, SseEvent, WsMessage};

    fn interaction(response: Option<Response>) -> Interaction {
        Interaction {
            seq: 1,
            conn: 2,
            t_ms: 35,
            duration_ms: 420,
            request: Request {
                method: "POST".into(),
                url: "https://api.openai.com/v1/responses?a=1&b".into(),
                http_version: "HTTP/2".into(),
                headers: vec![("content-type".into(), "application/json".into())],
                body: Body::from(BodyContent::Json(json!({"model": "gpt-5.5"}))),
            },
            response,
            websocket: None,
            error: None,
        }
    }

    fn at_epoch(i: &Interaction) -> Entry {
        entry(i, SystemTime::UNIX_EPOCH, Path::new(".")).unwrap()
    }

    #[test]
    fn start_time_is_recording_start_plus_t_ms() {
        let e = at_epoch(&interaction(None));
        assert_eq!(e.started_date_time, "1970-01-01T00:00:00.035Z");
        assert_eq!((e.time, e.timings.wait), (420.0, 420.0));
        assert_eq!(e.connection.as_deref(), Some("2"));
    }

    #[test]
    fn json_request_goes_out_compact_with_its_mime_type() {
        let post = at_epoch(&interaction(None)).request.post_data.unwrap();
        assert_eq!(post.text.as_deref(), Some(r#"{"model":"gpt-5.5"}"#));
        assert_eq!(post.mime_type, "application/json");
    }

    #[test]
    fn query_pairs_are_listed() {
        let q = at_epoch(&interaction(None)).request.query_string;
        assert_eq!(
            q,
            vec![
                NameValue { name: "a".into(), value: "1".into() },
                NameValue { name: "b".into(), value: "".into() }
            ]
        );
    }

    #[test]
    fn failed_exchange_is_status_0_with_the_error() {
        let mut i = interaction(None);
        i.error = Some("upstream connect failed: refused".into());
        let r = at_epoch(&i).response;
        assert_eq!((r.status, r.error.as_deref()), (0, Some("upstream connect failed: refused")));
    }

    #[test]
    fn sse_becomes_text_with_timed_pieces() {
        let event =
            |t_ms, data: &str| SseEvent { t_ms, event: None, id: None, retry: None, data: data.into() };
        let body = Body::from(BodyContent::Sse(vec![event(35, "1"), event(80, "22")]));
        let r = at_epoch(&interaction(Some(Response { status: 200, headers: vec![], body }))).response;
        assert_eq!(r.content.text.as_deref(), Some("data: 1\n\ndata: 22\n\n"));
        assert_eq!(
            r.content.pieces,
            vec![PieceEntry { t_ms: 35, size: 9 }, PieceEntry { t_ms: 80, size: 10 }]
        );
        assert_eq!((r.status_text.as_str(), r.content.size), ("OK", 19));
    }

    #[test]
    fn binary_body_is_base64_and_keeps_its_encoding() {
        let mut body = Body::from(BodyContent::Base64("/wA=".into()));
        body.decoded_from = Some("gzip".into());
        let c =
            at_epoch(&interaction(Some(Response { status: 200, headers: vec![], body }))).response.content;
        assert_eq!((c.text.as_deref(), c.encoding.as_deref(), c.size), (Some("/wA="), Some("base64"), 2));
        assert_eq!(c.decoded_from.as_deref(), Some("gzip"));
        assert!(c.pieces.is_empty());
    }

    #[test]
    fn websocket_messages_are_chrome_style() {
        let mut i = interaction(Some(Response { status: 101, headers: vec![], body: Body::default() }));
        i.websocket = Some(WebSocketSession {
            messages: vec![
                WsMessage { from: Side::Client, t_ms: 5, payload: Payload::Text("hi".into()) },
                WsMessage { from: Side::Server, t_ms: 1500, payload: Payload::Base64("b2s=".into()) },
            ],
            close: None,
        });
        let m = at_epoch(&i).web_socket_messages;
        assert_eq!((m[0].kind.as_str(), m[0].opcode, m[0].time), ("send", 1, 0.04));
        assert_eq!((m[1].kind.as_str(), m[1].opcode, m[1].data.as_str()), ("receive", 2, "b2s="));
        assert_eq!(m[1].time, 1.535);
    }
}
