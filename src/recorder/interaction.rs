//! From a captured [`Exchange`] to a cassette [`Interaction`] (before
//! redaction, which [`super::redact`] does next).
//!
//! Replay must be byte-faithful, so structured forms are chosen only when
//! they give back the exact bytes: a response is stored as `json` only if
//! re-serialising reproduces it, an event stream as `sse` only if
//! [`sse_event_text`] reproduces every event; otherwise `text`, `base64` or
//! `chunks`. Request bodies are always structured when they are JSON: nothing
//! replays them, and the checks read their fields.
//!
//! A JSON body is kept as its text ([`BodyContent::JsonText`]): redaction and
//! the journal work on the text, and it is parsed once, when the cassette is
//! written ([`super::redact::Redactor::finish`]).

use std::io;
use std::time::Duration;

use crate::cassette::model::json_text::{self, is_canonical};
use crate::cassette::model::{
    Body, BodyContent, Chunk, Headers, Interaction, JsonText, Payload, Request, Response, SseEvent,
    WebSocketSession, WsClose, WsMessage,
};
use crate::cassette::wire::{BASE64, sse_event_text};
use crate::exchange::content::{DECODERS, NewDecoder};
use crate::exchange::{Exchange, TimedChunk, WsCapture, WsData, header};
use base64::Engine as _;
use bytes::{Bytes, BytesMut};

/// The interaction for `exchange`, as `seq` of a recording, `t_ms` after its
/// start. Its heads and text move into the interaction; a spilled body is
/// the caller's to take out first (`request_spill`, `response_spill`).
pub fn interaction(exchange: Exchange, seq: u64, t_ms: u64) -> Interaction {
    let Exchange { request: head, request_body, response, response_body, websocket, error, .. } = exchange;
    let request_headers = lower_case(head.headers);
    let request = Request {
        method: head.method,
        url: head.url,
        http_version: head.http_version,
        body: self::request_body(&request_headers, &request_body),
        headers: request_headers,
    };
    let response = response.map(|head| {
        let headers = lower_case(head.headers);
        Response { status: head.status, body: self::response_body(&headers, &response_body), headers }
    });
    Interaction {
        seq,
        conn: exchange.conn,
        t_ms,
        duration_ms: millis(exchange.duration),
        request,
        response,
        websocket: websocket.map(self::websocket),
        error,
    }
}

/// Whole milliseconds, saturating.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Header names lower-case, in place (the proxy's already are; an imported HAR's may not be).
fn lower_case(mut headers: Headers) -> Headers {
    for (name, _) in &mut headers {
        name.make_ascii_lowercase();
    }
    headers
}

/// A request body: decoded, JSON structured whenever it parses.
pub fn request_body(headers: &[(String, String)], chunks: &[TimedChunk]) -> Body {
    let decoded = decode(headers, chunks);
    let bytes = decoded.joined();
    let content = match json_document(&bytes) {
        Some(json) => BodyContent::JsonText(json),
        None => whole(&bytes),
    };
    decoded.into_body(content)
}

/// A response body: decoded, in the most structured form that replays byte for byte.
pub fn response_body(headers: &[(String, String)], chunks: &[TimedChunk]) -> Body {
    let decoded = decode(headers, chunks);
    let bytes = decoded.joined();
    let is_event_stream = header(headers, "content-type")
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/event-stream"));
    let is_stream = header(headers, "content-length").is_none() && decoded.pieces.len() > 1;
    let content = if bytes.is_empty() {
        BodyContent::Empty(true)
    } else if is_event_stream {
        sse_events(&decoded.pieces, &bytes).map_or_else(|| chunks_of(&decoded.pieces), BodyContent::Sse)
    } else if let Some(json) = canonical_json(&bytes) {
        BodyContent::JsonText(json)
    } else if is_stream {
        chunks_of(&decoded.pieces)
    } else {
        whole(&bytes)
    };
    decoded.into_body(content)
}

/// A JSON object or array, kept as its text (scalars stay text: `"123"` is
/// more likely a number as text). It becomes a value when the cassette is written.
fn json_document(bytes: &[u8]) -> Option<JsonText> {
    std::str::from_utf8(bytes).ok().and_then(JsonText::new)
}

/// A JSON object or array written as `serde_json` writes it (so that its
/// value gives back these bytes), kept as its text with the scan that said so.
fn canonical_json(bytes: &[u8]) -> Option<JsonText> {
    let mut json = json_document(bytes)?;
    // Made one line or trimmed: it had whitespace, which serde_json does not write.
    if json.get().as_bytes() != bytes {
        return None;
    }
    let strings = json_text::strings(bytes);
    if !is_canonical(bytes, &strings) {
        return None;
    }
    json.keep_strings(strings);
    Some(json)
}

fn whole(bytes: &[u8]) -> BodyContent {
    if bytes.is_empty() {
        return BodyContent::Empty(true);
    }
    match Payload::from_bytes(bytes) {
        Payload::Text(text) => BodyContent::Text(text),
        Payload::Base64(text) => BodyContent::Base64(text),
    }
}

fn chunks_of(pieces: &[(u64, Bytes)]) -> BodyContent {
    BodyContent::Chunks(
        pieces
            .iter()
            .map(|(t_ms, bytes)| Chunk { t_ms: *t_ms, payload: Payload::from_bytes(bytes) })
            .collect(),
    )
}

fn websocket(capture: WsCapture) -> WebSocketSession {
    let messages = capture
        .frames
        .into_iter()
        .map(|frame| WsMessage {
            from: frame.from,
            t_ms: millis(frame.at),
            // A binary frame stays base64 even when it is UTF-8: replay must send the same frame type.
            payload: match frame.data {
                WsData::Text(text) => Payload::Text(text),
                WsData::Binary(bytes) => Payload::Base64(BASE64.encode(bytes)),
            },
        })
        .collect();
    let close = capture.close.map(|c| WsClose { from: c.from, code: c.code, reason: c.reason });
    WebSocketSession { messages, close }
}

// ---------------------------------------------------------------------------
// Content decoding

/// A body after content decoding: pieces with their times, and the encoding undone.
/// Undecoded pieces share the captured bytes rather than copying them.
struct Decoded {
    pieces: Vec<(u64, Bytes)>,
    from: Option<&'static str>,
}

impl Decoded {
    /// The whole body; no copy when it came in one piece.
    fn joined(&self) -> Bytes {
        match self.pieces.as_slice() {
            [(_, only)] => only.clone(),
            pieces => {
                let mut joined = BytesMut::with_capacity(pieces.iter().map(|(_, b)| b.len()).sum());
                pieces.iter().for_each(|(_, bytes)| joined.extend_from_slice(bytes));
                joined.freeze()
            }
        }
    }

    fn into_body(self, content: BodyContent) -> Body {
        let empty = matches!(content, BodyContent::Empty(_));
        Body { decoded_from: self.from.filter(|_| !empty).map(str::to_owned), ..Body::from(content) }
    }
}

/// Undo the body's `content-encoding` if we can; otherwise keep the wire
/// bytes as they are (an unknown or broken encoding is replayed verbatim).
fn decode(headers: &[(String, String)], chunks: &[TimedChunk]) -> Decoded {
    let wire =
        || Decoded { pieces: chunks.iter().map(|c| (millis(c.at), c.data.clone())).collect(), from: None };
    let Some(encoding) = header(headers, "content-encoding").map(|e| e.trim().to_ascii_lowercase()) else {
        return wire();
    };
    let Some((name, new)) = DECODERS.iter().find(|(name, _)| *name == encoding) else {
        return wire();
    };
    if chunks.iter().all(|c| c.data.is_empty()) {
        return wire();
    }
    match decode_with(*new, chunks) {
        Ok(pieces) => Decoded { pieces, from: Some(name) },
        Err(err) => {
            tracing::debug!(%encoding, %err, "body kept encoded: it does not decode");
            wire()
        }
    }
}

fn decode_with(new: NewDecoder, chunks: &[TimedChunk]) -> io::Result<Vec<(u64, Bytes)>> {
    let mut decoder = new()?;
    let mut pieces = Vec::new();
    for chunk in chunks {
        let out = decoder.feed(&chunk.data)?;
        if !out.is_empty() {
            pieces.push((millis(chunk.at), Bytes::from(out)));
        }
    }
    let rest = decoder.finish()?;
    if !rest.is_empty() {
        let last = chunks.last().map_or(0, |c| millis(c.at));
        pieces.push((last, Bytes::from(rest)));
    }
    Ok(pieces)
}

// ---------------------------------------------------------------------------
// Server-sent events

/// The events of an event stream with the time each one completed, or
/// `None` when [`sse_event_text`] would not reproduce the bytes exactly
/// (comments, CRLF line ends, a cut-off last event, unusual field order…).
fn sse_events(pieces: &[(u64, Bytes)], bytes: &[u8]) -> Option<Vec<SseEvent>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut events = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = start + text[start..].find("\n\n")? + 2;
        let mut event = parse_sse_block(&text[start..end - 2])?;
        event.t_ms = time_at(pieces, end - 1);
        events.push(event);
        start = end;
    }
    let reproduced: String = events.iter().map(sse_event_text).collect();
    (reproduced == text).then_some(events)
}

/// One event block (without its blank line); `None` for anything but
/// `event`, `id`, `retry` and `data` fields.
fn parse_sse_block(block: &str) -> Option<SseEvent> {
    let mut event = SseEvent { t_ms: 0, event: None, id: None, retry: None, data: String::new() };
    let mut data: Vec<&str> = Vec::new();
    for line in block.split('\n') {
        let (name, value) = line.split_once(':')?;
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "event" => event.event = Some(value.to_owned()),
            "id" => event.id = Some(value.to_owned()),
            "retry" => event.retry = Some(value.parse().ok()?),
            "data" => data.push(value),
            _ => return None,
        }
    }
    event.data = data.join("\n");
    Some(event)
}

/// The time of the piece holding byte `offset` of the joined pieces.
fn time_at(pieces: &[(u64, Bytes)], offset: usize) -> u64 {
    let mut end = 0;
    for (t_ms, bytes) in pieces {
        end += bytes.len();
        if offset < end {
            return *t_ms;
        }
    }
    pieces.last().map_or(0, |(t, _)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::Side;
    use crate::exchange::{RequestHead, ResponseHead, WsCloseInfo, WsFrame};
    use bytes::Bytes;
    use std::io::Write as _;
    use std::path::Path;
    use std::time::SystemTime;

    fn chunk(ms: u64, data: &[u8]) -> TimedChunk {
        TimedChunk { at: Duration::from_millis(ms), data: Bytes::copy_from_slice(data) }
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    /// The body as the cassette stores it: JSON held as text parsed.
    fn settled(mut body: Body) -> Body {
        body.settle();
        body
    }

    fn wire(body: &Body) -> Vec<u8> {
        body.wire_bytes(Path::new(".")).unwrap().to_vec()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    mod request_body {
        use super::*;

        #[test]
        fn json_is_structured_even_when_not_compact() {
            let body = request_body(&[], &[chunk(0, b"{ \"model\": \"gpt-5.5\" }")]);
            assert!(
                matches!(&body.content, BodyContent::JsonText(json) if json.get() == r#"{ "model": "gpt-5.5" }"#)
            );
            let body = settled(body);
            assert_eq!(body.content, BodyContent::Json(serde_json::json!({"model": "gpt-5.5"})));
        }

        #[test]
        fn a_json_scalar_stays_text() {
            assert_eq!(request_body(&[], &[chunk(0, b"123")]).content, BodyContent::Text("123".into()));
        }

        #[test]
        fn no_bytes_is_empty() {
            assert_eq!(request_body(&[], &[]), Body::default());
        }

        #[test]
        fn gzip_is_stored_decoded() {
            let hs = headers(&[("content-encoding", "gzip")]);
            let body = settled(request_body(&hs, &[chunk(0, &gzip(br#"{"a":1}"#))]));
            assert_eq!(body.content, BodyContent::Json(serde_json::json!({"a": 1})));
            assert_eq!(body.decoded_from.as_deref(), Some("gzip"));
        }
    }

    mod response_body {
        use super::*;

        #[test]
        fn compact_json_is_structured() {
            let body = settled(response_body(&[], &[chunk(0, br#"{"id":"resp_1","n":[1,2]}"#)]));
            assert!(matches!(body.content, BodyContent::Json(_)));
            assert_eq!(wire(&body), br#"{"id":"resp_1","n":[1,2]}"#);
        }

        #[test]
        fn json_that_does_not_reserialise_exactly_stays_text() {
            let raw = b"{\"id\": \"resp_1\"}\n";
            let body = response_body(&[], &[chunk(0, raw)]);
            assert_eq!(body.content, BodyContent::Text(String::from_utf8(raw.to_vec()).unwrap()));
        }

        #[test]
        fn binary_is_base64() {
            let body = response_body(&[], &[chunk(0, &[0, 159, 146, 150])]);
            assert!(matches!(body.content, BodyContent::Base64(_)));
            assert_eq!(wire(&body), [0, 159, 146, 150]);
        }

        #[test]
        fn chunked_stream_keeps_chunk_times() {
            let body = response_body(&[], &[chunk(0, b"a"), chunk(40, b"b")]);
            let BodyContent::Chunks(chunks) = &body.content else { panic!("{body:?}") };
            assert_eq!(chunks.iter().map(|c| c.t_ms).collect::<Vec<_>>(), [0, 40]);
        }

        #[test]
        fn content_length_body_in_two_reads_is_one_piece() {
            let hs = headers(&[("content-length", "2")]);
            assert_eq!(
                response_body(&hs, &[chunk(0, b"a"), chunk(1, b"b")]).content,
                BodyContent::Text("ab".into())
            );
        }

        #[test]
        fn brotli_deflate_and_zstd_decode() {
            let text = b"hello hello hello";
            let mut br = Vec::new();
            brotli::BrotliCompress(&mut &text[..], &mut br, &Default::default()).unwrap();
            let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            zlib.write_all(text).unwrap();
            let zst = zstd::encode_all(&text[..], 3).unwrap();
            for (name, data) in [("br", br), ("deflate", zlib.finish().unwrap()), ("zstd", zst)] {
                let body = response_body(&headers(&[("content-encoding", name)]), &[chunk(0, &data)]);
                assert_eq!(body.decoded_from.as_deref(), Some(name));
                assert_eq!(wire(&body), text, "{name}");
            }
        }

        #[test]
        fn decode_content_undoes_a_whole_body_and_names_failures() {
            use crate::exchange::content::decode_content;
            assert_eq!(decode_content("GZIP", &gzip(b"abc")).unwrap().unwrap(), b"abc");
            assert!(decode_content("identity", b"abc").is_none());
            assert!(decode_content("zstd", b"not zstd").unwrap().is_err());
        }

        #[test]
        fn truncated_gzip_is_kept_as_wire_bytes() {
            let mut data = gzip(b"hello world");
            data.truncate(data.len() - 4);
            let body = response_body(&headers(&[("content-encoding", "gzip")]), &[chunk(0, &data)]);
            assert_eq!(body.decoded_from, None);
            assert_eq!(wire(&body), data);
        }

        #[test]
        fn unknown_encoding_is_kept_as_wire_bytes() {
            let body = response_body(&headers(&[("content-encoding", "compress")]), &[chunk(0, b"xyz")]);
            assert_eq!((body.content, body.decoded_from), (BodyContent::Text("xyz".into()), None));
        }
    }

    mod sse {
        use super::*;

        fn sse_headers() -> Vec<(String, String)> {
            headers(&[("content-type", "text/event-stream; charset=utf-8")])
        }

        #[test]
        fn events_are_parsed_with_the_time_they_completed() {
            let body = response_body(
                &sse_headers(),
                &[chunk(0, b"event: a\ndata: {\"x\":1}\n\nevent: b\nda"), chunk(35, b"ta: 2\n\n")],
            );
            let BodyContent::Sse(events) = &body.content else { panic!("{body:?}") };
            assert_eq!(events.len(), 2);
            assert_eq!((events[0].event.as_deref(), events[0].t_ms), (Some("a"), 0));
            assert_eq!((events[1].data.as_str(), events[1].t_ms), ("2", 35));
        }

        #[test]
        fn multi_line_data_id_and_retry_round_trip() {
            let raw = b"id: 4\nretry: 1000\ndata: line1\ndata: line2\n\n";
            let body = response_body(&sse_headers(), &[chunk(0, raw)]);
            let BodyContent::Sse(events) = &body.content else { panic!("{body:?}") };
            assert_eq!((events[0].id.as_deref(), events[0].retry), (Some("4"), Some(1000)));
            assert_eq!(events[0].data, "line1\nline2");
            assert_eq!(wire(&body), raw);
        }

        #[test]
        fn comments_fall_back_to_chunks() {
            let raw = b": keep-alive\n\ndata: 1\n\n";
            let body = response_body(&sse_headers(), &[chunk(0, raw)]);
            assert!(matches!(body.content, BodyContent::Chunks(_)));
            assert_eq!(wire(&body), raw);
        }

        #[test]
        fn crlf_falls_back_to_chunks() {
            let raw = b"data: 1\r\n\r\n";
            let body = response_body(&sse_headers(), &[chunk(0, raw)]);
            assert!(matches!(body.content, BodyContent::Chunks(_)));
            assert_eq!(wire(&body), raw);
        }

        #[test]
        fn cut_off_last_event_falls_back_to_chunks() {
            let body = response_body(&sse_headers(), &[chunk(0, b"data: 1\n\ndata: 2\n")]);
            assert!(matches!(body.content, BodyContent::Chunks(_)));
        }

        #[test]
        fn gzipped_stream_is_decoded_then_parsed() {
            let hs = [sse_headers(), headers(&[("content-encoding", "gzip")])].concat();
            let body = response_body(&hs, &[chunk(0, &gzip(b"data: 1\n\n"))]);
            assert!(matches!(body.content, BodyContent::Sse(_)), "{body:?}");
            assert_eq!(body.decoded_from.as_deref(), Some("gzip"));
        }
    }

    mod interaction {
        use super::*;

        fn exchange() -> Exchange {
            Exchange {
                request_spill: None,
                response_spill: None,
                conn: 3,
                started: SystemTime::UNIX_EPOCH,
                duration: Duration::from_millis(412),
                request: RequestHead {
                    method: "POST".into(),
                    url: "https://api.openai.com/v1/responses".into(),
                    http_version: "HTTP/2".into(),
                    headers: headers(&[("Content-Type", "application/json")]),
                },
                request_body: vec![chunk(0, br#"{"model":"gpt-5.5"}"#)],
                response: None,
                response_body: Vec::new(),
                websocket: None,
                error: Some("upstream connect failed: connection refused".into()),
            }
        }

        #[test]
        fn failed_exchange_keeps_its_error_and_no_response() {
            let i = interaction(exchange(), 1, 7);
            assert_eq!((i.seq, i.conn, i.t_ms, i.duration_ms), (1, 3, 7, 412));
            assert!(i.response.is_none());
            assert_eq!(i.error.as_deref(), Some("upstream connect failed: connection refused"));
        }

        #[test]
        fn header_names_are_lower_cased() {
            let i = interaction(exchange(), 1, 0);
            assert_eq!(i.request.headers, headers(&[("content-type", "application/json")]));
        }

        #[test]
        fn websocket_frames_become_messages_and_close() {
            let mut ex = exchange();
            ex.error = None;
            ex.response = Some(ResponseHead { status: 101, headers: Vec::new() });
            ex.websocket = Some(WsCapture {
                frames: vec![
                    WsFrame {
                        from: Side::Client,
                        at: Duration::from_millis(1),
                        data: WsData::Text("hi".into()),
                    },
                    WsFrame {
                        from: Side::Server,
                        at: Duration::from_millis(2),
                        data: WsData::Binary(Bytes::from_static(b"ok")),
                    },
                ],
                close: Some(WsCloseInfo { from: Side::Client, code: Some(1000), reason: None }),
            });
            let ws = interaction(ex, 1, 0).websocket.unwrap();
            assert_eq!(ws.messages[0].payload, Payload::Text("hi".into()));
            assert_eq!(ws.messages[1].payload, Payload::Base64("b2s=".into()));
            assert_eq!(ws.close.unwrap().code, Some(1000));
        }
    }
}
