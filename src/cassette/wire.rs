//! The way back from a stored body to bytes: what replay sends and HAR
//! export shows.
//!
//! Bodies are stored decoded (`decoded_from` names the wire encoding), so the
//! bytes here are the identity encoding. Streamed bodies (`sse`, `chunks`)
//! come back as timed pieces, so a replayer can pace them as recorded.

use std::path::{Component, Path};

use base64::Engine as _;
use bytes::Bytes;

use super::model::{Body, BodyContent, Payload, SseEvent};
use super::side_file::SideFile;
use crate::error::{Error, Result};

/// The base64 flavour of `base64` bodies and payloads: standard, padded.
pub(crate) const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One piece of a body and when it went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Milliseconds from the response head (0 for whole bodies).
    pub t_ms: u64,
    /// The bytes, identity encoding.
    pub bytes: Bytes,
}

impl Body {
    /// The whole body as identity-encoded bytes.
    ///
    /// `dir` is the cassette's directory; only `file` bodies (side files,
    /// stored relative to the cassette) read from it.
    pub fn wire_bytes(&self, dir: &Path) -> Result<Bytes> {
        let mut pieces = self.pieces(dir)?;
        if pieces.len() == 1 {
            return Ok(pieces.remove(0).bytes);
        }
        Ok(pieces.into_iter().flat_map(|p| p.bytes).collect())
    }

    /// The body as timed pieces: one per SSE event (re-serialised) or chunk,
    /// one piece at 0 ms for a whole body, none for an empty one.
    pub fn pieces(&self, dir: &Path) -> Result<Vec<Piece>> {
        let whole = |bytes: Bytes| Ok(vec![Piece { t_ms: 0, bytes }]);
        match &self.content {
            BodyContent::Empty(_) => Ok(Vec::new()),
            BodyContent::Json(value) => whole(Bytes::from(value.to_string())),
            BodyContent::JsonText(json) => whole(Bytes::from(json.get().to_owned())),
            BodyContent::Text(text) => whole(Bytes::from(text.clone())),
            BodyContent::Base64(text) => whole(decode_base64(text)?),
            BodyContent::Sse(events) => Ok(events
                .iter()
                .map(|e| Piece { t_ms: e.t_ms, bytes: Bytes::from(sse_event_text(e)) })
                .collect()),
            BodyContent::Chunks(chunks) => {
                chunks.iter().map(|c| Ok(Piece { t_ms: c.t_ms, bytes: c.payload.bytes()? })).collect()
            }
            BodyContent::File(name) => whole(self.read_side_file(dir, name)?),
        }
    }

    /// Whether the body was a stream (`sse` or `chunks`) rather than one piece.
    pub fn is_streamed(&self) -> bool {
        matches!(self.content, BodyContent::Sse(_) | BodyContent::Chunks(_))
    }

    /// Side file `name`, opened safely and checked against `len` and `sha256` ([`SideFile`]).
    fn read_side_file(&self, dir: &Path, name: &str) -> Result<Bytes> {
        let file = SideFile { name, len: self.len, sha256: self.sha256.as_deref() };
        file.read(dir).map(Bytes::from).map_err(|why| Error::input(format!("side file {name} {why}")))
    }
}

/// Whether `name` is a relative path that cannot leave its base directory.
pub(crate) fn is_relative_inside(name: &str) -> bool {
    let path = Path::new(name);
    !name.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)))
}

impl Payload {
    /// Text when `bytes` are UTF-8, base64 otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::Text(text.to_owned()),
            Err(_) => Self::Base64(BASE64.encode(bytes)),
        }
    }

    /// The payload's bytes.
    pub fn bytes(&self) -> Result<Bytes> {
        match self {
            Self::Text(text) => Ok(Bytes::from(text.clone())),
            Self::Base64(text) => decode_base64(text),
        }
    }
}

fn decode_base64(text: &str) -> Result<Bytes> {
    BASE64.decode(text).map(Bytes::from).map_err(|e| Error::input(format!("invalid base64 body: {e}")))
}

/// One SSE event as it goes on the wire: `event`, `id`, `retry`, then one
/// `data:` line per line of data, then the blank line that ends the event.
///
/// Capture stores events only when this function reproduces the recorded
/// bytes exactly, so replay through it is byte-faithful.
pub fn sse_event_text(event: &SseEvent) -> String {
    let mut out = String::with_capacity(event.data.len() + 32);
    let mut field = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    };
    if let Some(name) = &event.event {
        field("event", name);
    }
    if let Some(id) = &event.id {
        field("id", id);
    }
    if let Some(retry) = event.retry {
        field("retry", &retry.to_string());
    }
    for line in event.data.split('\n') {
        field("data", line);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::Chunk;
    use sha2::{Digest, Sha256};

    fn here() -> &'static Path {
        Path::new(".")
    }

    #[test]
    fn json_body_goes_out_compact() {
        let body = Body::from(BodyContent::Json(serde_json::json!({"a": [1, 2], "b": "x"})));
        assert_eq!(body.wire_bytes(here()).unwrap(), Bytes::from_static(br#"{"a":[1,2],"b":"x"}"#));
    }

    #[test]
    fn empty_body_has_no_pieces() {
        assert!(Body::default().pieces(here()).unwrap().is_empty());
        assert!(Body::default().wire_bytes(here()).unwrap().is_empty());
    }

    #[test]
    fn base64_body_decodes() {
        let body = Body::from(BodyContent::Base64(BASE64.encode([0xff, 0x00])));
        assert_eq!(body.wire_bytes(here()).unwrap().as_ref(), &[0xff, 0x00]);
    }

    #[test]
    fn invalid_base64_is_an_input_error() {
        let err = Body::from(BodyContent::Base64("!!".into())).wire_bytes(here()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn sse_event_serialises_fields_in_order() {
        let event = SseEvent {
            t_ms: 0,
            event: Some("delta".into()),
            id: Some("7".into()),
            retry: Some(10),
            data: "a\nb".into(),
        };
        assert_eq!(sse_event_text(&event), "event: delta\nid: 7\nretry: 10\ndata: a\ndata: b\n\n");
    }

    #[test]
    fn sse_pieces_keep_event_times() {
        let event =
            |t_ms, data: &str| SseEvent { t_ms, event: None, id: None, retry: None, data: data.into() };
        let body = Body::from(BodyContent::Sse(vec![event(3, "1"), event(9, "2")]));
        let pieces = body.pieces(here()).unwrap();
        assert_eq!(pieces.iter().map(|p| p.t_ms).collect::<Vec<_>>(), [3, 9]);
        assert_eq!(body.wire_bytes(here()).unwrap(), Bytes::from_static(b"data: 1\n\ndata: 2\n\n"));
    }

    #[test]
    fn chunks_concatenate_text_and_bytes() {
        let body = Body::from(BodyContent::Chunks(vec![
            Chunk { t_ms: 0, payload: Payload::Text("ab".into()) },
            Chunk { t_ms: 5, payload: Payload::from_bytes(&[0xfe]) },
        ]));
        assert_eq!(body.wire_bytes(here()).unwrap().as_ref(), b"ab\xfe");
        assert!(body.is_streamed());
    }

    #[test]
    fn payload_is_text_only_for_utf8() {
        assert_eq!(Payload::from_bytes(b"hi"), Payload::Text("hi".into()));
        assert!(matches!(Payload::from_bytes(&[0xc3]), Payload::Base64(_)));
    }

    #[test]
    fn side_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("c.blobs")).unwrap();
        std::fs::write(dir.path().join("c.blobs/x"), b"hello").unwrap();
        let mut body = Body::from(BodyContent::File("c.blobs/x".into()));
        body.len = Some(5);
        body.sha256 = Some(hex::encode(Sha256::digest(b"hello")));
        assert_eq!(body.wire_bytes(dir.path()).unwrap().as_ref(), b"hello");
        body.len = Some(4);
        assert_eq!(body.wire_bytes(dir.path()).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn side_file_cannot_escape_the_directory() {
        assert!(!is_relative_inside("../secret"));
        assert!(!is_relative_inside("/etc/passwd"));
        assert!(is_relative_inside("c.blobs/ab12"));
    }
}
