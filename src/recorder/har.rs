//! A HAR file as a cassette (`cassette import FILE.har -o CASSETTE`).
//!
//! Each entry becomes the [`Exchange`] the proxy would have captured, then
//! goes through the recorder's own steps: [`interaction::interaction`], the
//! [`Redactor`] (so secrets become the same fingerprints and
//! `meta.credentials` the same facts as with `record`), a final scrub with
//! every secret seen, and the audited atomic save.
//!
//! HAR bodies are decoded text; a body whose wire `content-encoding` is known
//! (our `_decodedFrom`, else the header) is stored decoded with
//! `decoded_from`, as `record` stores it.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;

use super::check_output;
use super::interaction::{self, millis};
use super::redact::Redactor;
use crate::cassette::har::{Content, Entry, Har, NameValue, PostData, WsEntry, parse_time};
use crate::cassette::load::{ENCODINGS, SCHEMES};
use crate::cassette::model::{Body, BodyContent, Cassette, Meta, Side};
use crate::cassette::save::save_checked;
use crate::cassette::wire::BASE64;
use crate::error::{Error, Result};
use crate::exchange::{
    Exchange, RequestHead, ResponseHead, TimedChunk, WsCapture, WsCloseInfo, WsData, WsFrame, header,
};
use crate::files;
use crate::openclaw::profiles::AuthStore;

/// What `cassette import` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The HAR file.
    pub har: PathBuf,
    /// The cassette to write.
    pub output: PathBuf,
    /// Auth-profile stores whose secrets are redacted everywhere and name
    /// the fingerprints in `meta.credentials`, as with `record --profiles`.
    pub profiles: Vec<AuthStore>,
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The cassette.
    pub path: PathBuf,
    /// Interactions in it.
    pub interactions: usize,
    /// Entries left out: not HTTP(S) or WebSocket (`data:`, `blob:`, extensions…).
    pub skipped: usize,
    /// Entries in `meta.credentials`.
    pub credentials: usize,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "imported {} interaction(s) into {}", self.interactions, self.path.display())?;
        if self.skipped > 0 {
            write!(f, " ({} entries skipped: not HTTP(S) or WebSocket)", self.skipped)?;
        }
        Ok(())
    }
}

/// Import the HAR at `options.har` into the cassette `options.output`.
pub fn import(options: &ImportOptions) -> Result<ImportSummary> {
    check_output("-o", &options.output)?;
    let har = read(&options.har)?;
    let at = |n: usize, e: String| Error::input(format!("{}: log.entries[{n}].{e}", options.har.display()));
    let mut conns = ConnIds::default();
    let mut converted = Vec::new();
    for (n, entry) in har.log.entries.iter().enumerate() {
        if is_http(&entry.request.url) {
            converted.push(convert(entry, &mut conns).map_err(|e| at(n, e))?);
        }
    }
    let skipped = har.log.entries.len() - converted.len();
    let (meta, start) = meta_and_start(&har, &options.har, &converted);
    let mut cassette = Cassette::new(meta);
    let mut redactor = Redactor::new(&options.profiles);
    for c in converted {
        let seq = cassette.interactions.len() as u64 + 1;
        let t_ms = millis(c.exchange.started.duration_since(start).unwrap_or_default());
        let mut interaction = interaction::interaction(c.exchange, seq, t_ms);
        restore_encoding(&mut interaction.request.body, c.request_encoding.as_deref());
        if let Some(response) = &mut interaction.response {
            restore_encoding(&mut response.body, c.response_encoding.as_deref());
        }
        redactor.redact(&mut interaction);
        cassette.interactions.push(interaction);
    }
    redactor.finish(&mut cassette);
    save_checked(&options.output, &cassette, &redactor.seen_secrets())?;
    Ok(ImportSummary {
        path: options.output.clone(),
        interactions: cassette.interactions.len(),
        skipped,
        credentials: cassette.meta.credentials.len(),
    })
}

/// Read and parse a HAR file; errors name `FILE:LINE:COL` and the field path.
fn read(path: &Path) -> Result<Har> {
    let text = files::read_input(path, "HAR file")?;
    serde_json::from_str::<serde::de::IgnoredAny>(&text)
        .map_err(|e| Error::not_json(path.display(), &e).hint("a HAR file is one JSON document"))?;
    files::parse_json_fields(&text, path).map_err(|e| {
        e.hint("expected HAR 1.2: {\"log\": {\"entries\": [{\"request\": …, \"response\": …}]}}")
    })
}

/// Whether the entry is something a proxy could have captured.
fn is_http(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, _)| SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
}

/// An entry as the proxy would have captured it, plus the wire encodings HAR decoded away.
struct Converted {
    exchange: Exchange,
    request_encoding: Option<String>,
    response_encoding: Option<String>,
}

/// Client connection numbers: HAR's `connection` when it is a number (as
/// dispatch-vcr and Chrome write it), else 1, 2, … by first appearance.
#[derive(Default)]
struct ConnIds {
    named: HashMap<String, u64>,
}

impl ConnIds {
    fn of(&mut self, connection: Option<&str>) -> u64 {
        let Some(connection) = connection else { return 0 };
        if let Ok(n) = connection.trim().parse() {
            return n;
        }
        let next = self.named.len() as u64 + 1;
        *self.named.entry(connection.to_owned()).or_insert(next)
    }
}

/// One entry as an [`Exchange`]; the error is `FIELD: what is wrong`.
fn convert(entry: &Entry, conns: &mut ConnIds) -> Result<Converted, String> {
    let started = parse_time(&entry.started_date_time).ok_or_else(|| {
        format!(
            "startedDateTime: {:?} is not an ISO 8601 time like 2026-05-18T10:00:00.000Z",
            entry.started_date_time
        )
    })?;
    let request = &entry.request;
    let request_headers = headers(&request.headers);
    let (request_body, request_encoding) = match &request.post_data {
        Some(post) => post_data(post, &request_headers).map_err(|e| format!("request.postData.{e}"))?,
        None => (Vec::new(), None),
    };
    let response = &entry.response;
    let answered = response.status != 0;
    let response_headers = headers(&response.headers);
    let (response_body, response_encoding) = if answered {
        content(&response.content, &response_headers).map_err(|e| format!("response.content.{e}"))?
    } else {
        (Vec::new(), None)
    };
    let exchange = Exchange {
        request_spill: None,
        response_spill: None,
        conn: conns.of(entry.connection.as_deref()),
        started,
        duration: Duration::from_millis(entry.time.max(0.0).round() as u64),
        request: RequestHead {
            method: request.method.clone(),
            url: request.url.clone(),
            http_version: http_version(&request.http_version),
            headers: request_headers,
        },
        request_body,
        response: answered.then_some(ResponseHead { status: response.status, headers: response_headers }),
        response_body,
        websocket: websocket(entry, started)?,
        error: response.error.clone().or_else(|| (!answered).then(|| "no response".to_owned())),
    };
    Ok(Converted { exchange, request_encoding, response_encoding })
}

/// Headers without HTTP/2 pseudo-headers (`:authority`…), which devtools
/// list but a proxy never sees as headers.
fn headers(pairs: &[NameValue]) -> Vec<(String, String)> {
    pairs.iter().filter(|h| !h.name.starts_with(':')).map(|h| (h.name.clone(), h.value.clone())).collect()
}

/// HAR's spellings of HTTP versions, lower-case, and the cassette's.
const HTTP_VERSIONS: &[(&str, &str)] = &[
    ("http/1.0", "HTTP/1.0"),
    ("http/1.1", "HTTP/1.1"),
    ("http/2", "HTTP/2"),
    ("http/2.0", "HTTP/2"),
    ("h2", "HTTP/2"),
    ("h2c", "HTTP/2"),
    ("http/3", "HTTP/3"),
    ("http/3.0", "HTTP/3"),
    ("h3", "HTTP/3"),
];

/// The cassette's spelling of a HAR `httpVersion`; HTTP/1.1 when unknown.
fn http_version(har: &str) -> String {
    let lower = har.trim().to_ascii_lowercase();
    HTTP_VERSIONS.iter().find(|(name, _)| *name == lower).map_or("HTTP/1.1", |(_, v)| v).to_owned()
}

/// A request body as one chunk, and its wire encoding.
fn post_data(
    post: &PostData,
    headers: &[(String, String)],
) -> Result<(Vec<TimedChunk>, Option<String>), String> {
    let bytes = decode_text(post.text.as_deref(), post.encoding.as_deref())?;
    let chunks =
        if bytes.is_empty() { Vec::new() } else { vec![TimedChunk { at: Duration::ZERO, data: bytes }] };
    Ok((chunks, wire_encoding(post.decoded_from.as_deref(), headers)?))
}

/// A response body as the pieces it arrived in (`_pieces`, else one), and its wire encoding.
fn content(
    content: &Content,
    headers: &[(String, String)],
) -> Result<(Vec<TimedChunk>, Option<String>), String> {
    let bytes = decode_text(content.text.as_deref(), content.encoding.as_deref())?;
    let encoding = wire_encoding(content.decoded_from.as_deref(), headers)?;
    if content.pieces.is_empty() {
        let chunks =
            if bytes.is_empty() { Vec::new() } else { vec![TimedChunk { at: Duration::ZERO, data: bytes }] };
        return Ok((chunks, encoding));
    }
    let total: usize = content.pieces.iter().map(|p| p.size).sum();
    if total != bytes.len() {
        return Err(format!("_pieces: sizes add up to {total} bytes but the body has {}", bytes.len()));
    }
    let mut offset = 0;
    let chunks = content
        .pieces
        .iter()
        .map(|p| {
            let chunk =
                TimedChunk { at: Duration::from_millis(p.t_ms), data: bytes.slice(offset..offset + p.size) };
            offset += p.size;
            chunk
        })
        .collect();
    Ok((chunks, encoding))
}

/// `text` as bytes: base64-decoded when `encoding` says so.
fn decode_text(text: Option<&str>, encoding: Option<&str>) -> Result<Bytes, String> {
    let text = text.unwrap_or_default();
    match encoding {
        None | Some("") => Ok(Bytes::from(text.to_owned())),
        Some("base64") => {
            BASE64.decode(text.trim()).map(Bytes::from).map_err(|e| format!("text: invalid base64: {e}"))
        }
        Some(other) => {
            Err(format!("encoding: {other:?} is not supported; HAR bodies are text or \"base64\""))
        }
    }
}

/// The wire encoding HAR decoded away: our `_decodedFrom`, else a known
/// `content-encoding` header (HAR 1.2 stores bodies decoded).
fn wire_encoding(decoded_from: Option<&str>, headers: &[(String, String)]) -> Result<Option<String>, String> {
    if let Some(name) = decoded_from {
        return match ENCODINGS.contains(&name) {
            true => Ok(Some(name.to_owned())),
            false => Err(format!("_decodedFrom: {name:?} is not one of {}", ENCODINGS.join(", "))),
        };
    }
    let from_header =
        header(&lower_names(headers), "content-encoding").map(|e| e.trim().to_ascii_lowercase());
    Ok(from_header.filter(|e| ENCODINGS.contains(&e.as_str())))
}

fn lower_names(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect()
}

/// Mark a body HAR held decoded with its wire encoding, unless capture
/// decoded it itself (the HAR held the encoded bytes) or it is empty.
fn restore_encoding(body: &mut Body, encoding: Option<&str>) {
    if body.decoded_from.is_none() && !matches!(body.content, BodyContent::Empty(_)) {
        body.decoded_from = encoding.map(str::to_owned);
    }
}

/// Chrome's `_webSocketMessages` (and our `_webSocketClose`) as a capture.
fn websocket(entry: &Entry, upgraded: SystemTime) -> Result<Option<WsCapture>, String> {
    if entry.web_socket_messages.is_empty() && entry.web_socket_close.is_none() {
        return Ok(None);
    }
    let mut frames = Vec::new();
    for (n, message) in entry.web_socket_messages.iter().enumerate() {
        if let Some(frame) =
            ws_frame(message, upgraded).map_err(|e| format!("_webSocketMessages[{n}].{e}"))?
        {
            frames.push(frame);
        }
    }
    let close = entry.web_socket_close.as_ref().map(|c| WsCloseInfo {
        from: c.from,
        code: c.code,
        reason: c.reason.clone(),
    });
    Ok(Some(WsCapture { frames, close }))
}

/// A data message as a frame; control frames (opcode 8, 9, 10) are not kept, as when recording.
fn ws_frame(message: &WsEntry, upgraded: SystemTime) -> Result<Option<WsFrame>, String> {
    let from = match message.kind.as_str() {
        "send" => Side::Client,
        "receive" => Side::Server,
        other => return Err(format!("type: {other:?} is neither \"send\" nor \"receive\"")),
    };
    let data = match message.opcode {
        1 => WsData::Text(message.data.clone()),
        2 => WsData::Binary(Bytes::from(
            BASE64.decode(message.data.trim()).map_err(|e| format!("data: invalid base64: {e}"))?,
        )),
        _ => return Ok(None),
    };
    let sent =
        SystemTime::UNIX_EPOCH + Duration::from_millis((message.time.max(0.0) * 1000.0).round() as u64);
    Ok(Some(WsFrame { from, at: sent.duration_since(upgraded).unwrap_or_default(), data }))
}

/// The cassette's `meta` and the instant `t_ms` counts from: ours when the
/// HAR came from `cassette export`, else a new one starting at the first
/// request's whole second.
fn meta_and_start(har: &Har, path: &Path, converted: &[Converted]) -> (Meta, SystemTime) {
    if let Some(meta) = &har.log.dispatch_vcr_meta {
        let start = meta.recorded_at.as_deref().and_then(parse_time).unwrap_or(SystemTime::UNIX_EPOCH);
        return (meta.clone(), start);
    }
    let first = converted.iter().map(|c| c.exchange.started).min().unwrap_or_else(SystemTime::now);
    let whole_seconds = first.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(whole_seconds);
    let creator = &har.log.creator;
    let file =
        path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned());
    let mut meta = Meta {
        recorded_at: Some(humantime::format_rfc3339_seconds(start).to_string()),
        tool: Some(format!("dispatch-vcr {}", env!("CARGO_PKG_VERSION"))),
        ..Meta::default()
    };
    let by = format!("{} {}", creator.name, creator.version);
    meta.labels.insert("source".into(), format!("HAR import of {file} ({})", by.trim()));
    (meta, start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::har::PieceEntry;

    fn hs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn http_versions_of_every_tool_map_to_the_cassette_spelling() {
        assert_eq!(http_version("http/2.0"), "HTTP/2");
        assert_eq!(http_version("HTTP/2.0"), "HTTP/2");
        assert_eq!(http_version("h2"), "HTTP/2");
        assert_eq!(http_version("HTTP/1.1"), "HTTP/1.1");
        assert_eq!(http_version(""), "HTTP/1.1");
    }

    #[test]
    fn only_http_and_websocket_entries_are_imported() {
        assert!(is_http("https://api.openai.com/v1/responses"));
        assert!(is_http("WSS://chatgpt.com/ws"));
        assert!(!is_http("data:image/png;base64,AAAA"));
        assert!(!is_http("chrome-extension://abc/x.js"));
    }

    #[test]
    fn pseudo_headers_are_dropped() {
        let pairs = [
            NameValue { name: ":authority".into(), value: "a".into() },
            NameValue { name: "Accept".into(), value: "*/*".into() },
        ];
        assert_eq!(headers(&pairs), hs(&[("Accept", "*/*")]));
    }

    #[test]
    fn connections_keep_numbers_and_number_names() {
        let mut ids = ConnIds::default();
        assert_eq!(
            (ids.of(Some("7")), ids.of(Some("x")), ids.of(Some("y")), ids.of(Some("x"))),
            (7, 1, 2, 1)
        );
        assert_eq!(ids.of(None), 0);
    }

    #[test]
    fn pieces_split_the_body_with_their_times() {
        let c = Content {
            text: Some("abcdef".into()),
            pieces: vec![PieceEntry { t_ms: 3, size: 2 }, PieceEntry { t_ms: 9, size: 4 }],
            ..Content::default()
        };
        let (chunks, _) = content(&c, &[]).unwrap();
        assert_eq!(
            chunks.iter().map(|c| (c.at.as_millis(), c.data.as_ref())).collect::<Vec<_>>(),
            [(3, &b"ab"[..]), (9, b"cdef")]
        );
    }

    #[test]
    fn pieces_that_do_not_add_up_are_refused() {
        let c = Content {
            text: Some("abc".into()),
            pieces: vec![PieceEntry { t_ms: 0, size: 2 }],
            ..Content::default()
        };
        assert!(content(&c, &[]).unwrap_err().starts_with("_pieces: sizes add up to 2"));
    }

    #[test]
    fn base64_text_is_decoded_and_bad_base64_named() {
        assert_eq!(decode_text(Some("/wA="), Some("base64")).unwrap().as_ref(), &[0xff, 0]);
        assert!(decode_text(Some("!!"), Some("base64")).unwrap_err().starts_with("text: invalid base64"));
        assert!(decode_text(Some("x"), Some("quoted-printable")).unwrap_err().starts_with("encoding:"));
    }

    #[test]
    fn wire_encoding_comes_from_our_field_else_a_known_header() {
        assert_eq!(wire_encoding(Some("zstd"), &[]).unwrap().as_deref(), Some("zstd"));
        assert_eq!(wire_encoding(None, &hs(&[("Content-Encoding", "BR")])).unwrap().as_deref(), Some("br"));
        assert_eq!(wire_encoding(None, &hs(&[("content-encoding", "compress")])).unwrap(), None);
        assert!(wire_encoding(Some("lzma"), &[]).is_err());
    }

    #[test]
    fn chrome_websocket_frames_keep_side_type_and_time() {
        let upgraded = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
        let m = |kind: &str, opcode, data: &str| WsEntry {
            kind: kind.into(),
            time: 10.25,
            opcode,
            data: data.into(),
        };
        let text = ws_frame(&m("send", 1, "hi"), upgraded).unwrap().unwrap();
        assert_eq!(
            (text.from, text.at, text.data),
            (Side::Client, Duration::from_millis(250), WsData::Text("hi".into()))
        );
        let binary = ws_frame(&m("receive", 2, "b2s="), upgraded).unwrap().unwrap();
        assert_eq!(binary.data, WsData::Binary(Bytes::from_static(b"ok")));
        assert!(ws_frame(&m("receive", 9, ""), upgraded).unwrap().is_none());
        assert!(ws_frame(&m("sideways", 1, ""), upgraded).is_err());
    }
}
