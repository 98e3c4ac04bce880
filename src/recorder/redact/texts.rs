//! Every text of an interaction a secret could hide in, as the bytes a
//! reader would see: a body stored as chunks is one text (a token split
//! over two chunks is still one token), a base64 body is its decoded bytes.
//! Replacements are spliced back into the pieces the text is stored as.

use std::borrow::Cow;
use std::ops::Range;

use base64::Engine as _;
use serde_json::Value;

use super::MIN_SEEN_LEN;
use super::finder::TextKind;
use crate::cassette::model::{Body, BodyContent, Headers, Interaction, JsonText, Payload};
use crate::cassette::wire::BASE64;

/// One stored piece of a text.
pub(super) enum Piece<'a> {
    /// UTF-8 text that stays text.
    Str(&'a mut String),
    /// Base64 of bytes.
    Base64(&'a mut String),
    /// A chunk or message: text when it is UTF-8, else base64.
    Payload(&'a mut Payload),
}

impl Piece<'_> {
    /// The bytes it stands for; `None` for base64 that does not decode.
    fn bytes(&self) -> Option<Cow<'_, [u8]>> {
        match self {
            Piece::Str(text) => Some(Cow::Borrowed(text.as_bytes())),
            Piece::Payload(Payload::Text(text)) => Some(Cow::Borrowed(text.as_bytes())),
            Piece::Base64(text) => decoded(text),
            Piece::Payload(Payload::Base64(text)) => decoded(text),
        }
    }

    fn set(&mut self, bytes: Vec<u8>) {
        match self {
            Piece::Str(text) => {
                **text = String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
            Piece::Base64(text) => **text = BASE64.encode(bytes),
            Piece::Payload(payload) => {
                **payload = match String::from_utf8(bytes) {
                    Ok(text) => Payload::Text(text),
                    Err(err) => Payload::Base64(BASE64.encode(err.as_bytes())),
                }
            }
        }
    }
}

fn decoded(text: &str) -> Option<Cow<'_, [u8]>> {
    BASE64.decode(text).ok().map(Cow::Owned)
}

/// A text made of pieces: what the redactor searches (joined) and rewrites.
pub(super) struct Text<'a, 'p> {
    pieces: &'p mut [Piece<'a>],
}

impl<'a, 'p> Text<'a, 'p> {
    /// The bytes of a text of one piece that is text (not base64), read in place.
    pub(super) fn single(&self) -> Option<&[u8]> {
        match &*self.pieces {
            [Piece::Str(text)] => Some(text.as_bytes()),
            [Piece::Payload(Payload::Text(text))] => Some(text.as_bytes()),
            _ => None,
        }
    }

    /// The pieces' bytes joined, and where each piece starts in them;
    /// `None` when a piece cannot be read (base64 that does not decode).
    pub(super) fn joined(&self) -> Option<(Vec<u8>, Vec<usize>)> {
        let mut joined = Vec::new();
        let mut starts = Vec::with_capacity(self.pieces.len());
        for piece in self.pieces.iter() {
            starts.push(joined.len());
            joined.extend_from_slice(&piece.bytes()?);
        }
        Some((joined, starts))
    }

    /// Replace each range of `joined` by its bytes (ranges sorted, not
    /// overlapping). A replacement goes into the piece where its range
    /// starts; the rest of the range is cut from the pieces it runs into.
    pub(super) fn splice(&mut self, joined: &[u8], starts: &[usize], spans: &[(Range<usize>, Vec<u8>)]) {
        for (index, piece) in self.pieces.iter_mut().enumerate() {
            let (start, end) = (starts[index], starts.get(index + 1).copied().unwrap_or(joined.len()));
            let mut out = Vec::with_capacity(end - start);
            let mut cursor = start;
            for (range, with) in spans.iter().filter(|(r, _)| r.end > start && r.start < end) {
                if range.start >= start {
                    out.extend_from_slice(&joined[cursor..range.start]);
                    out.extend_from_slice(with);
                }
                cursor = range.end.min(end).max(cursor);
            }
            out.extend_from_slice(&joined[cursor..end]);
            if out[..] != joined[start..end] {
                piece.set(out);
            }
        }
    }
}

/// What is done with each text of an interaction ([`for_each_text`]).
pub(super) trait Visit {
    /// A text made of pieces.
    fn text(&mut self, kind: TextKind, text: &mut Text);
    /// A JSON body still held as its text: its strings are the texts.
    fn json_text(&mut self, json: &mut JsonText);
}

/// Visit every text of `interaction` a secret could hide in. JSON keys
/// shorter than [`MIN_SEEN_LEN`] are skipped: no secret hunted by value is
/// that short, and keys are not positions.
pub(super) fn for_each_text(interaction: &mut Interaction, visit: &mut dyn Visit) {
    one(TextKind::Url, Piece::Str(&mut interaction.request.url), visit);
    for_each_header(&mut interaction.request.headers, visit);
    for_each_body_text(&mut interaction.request.body, visit);
    if let Some(response) = &mut interaction.response {
        for_each_header(&mut response.headers, visit);
        for_each_body_text(&mut response.body, visit);
    }
    if let Some(ws) = &mut interaction.websocket {
        ws.messages.iter_mut().for_each(|m| one(TextKind::Plain, Piece::Payload(&mut m.payload), visit));
        if let Some(reason) = ws.close.as_mut().and_then(|c| c.reason.as_mut()) {
            one(TextKind::Plain, Piece::Str(reason), visit);
        }
    }
    if let Some(error) = &mut interaction.error {
        one(TextKind::Plain, Piece::Str(error), visit);
    }
}

/// `f` on `text` seen as a text of one piece.
pub(super) fn as_text<R>(text: &mut String, f: impl FnOnce(&mut Text) -> R) -> R {
    f(&mut Text { pieces: &mut [Piece::Str(text)] })
}

fn one(kind: TextKind, piece: Piece, visit: &mut dyn Visit) {
    visit.text(kind, &mut Text { pieces: &mut [piece] });
}

fn for_each_header(headers: &mut Headers, visit: &mut dyn Visit) {
    headers.iter_mut().for_each(|(_, value)| one(TextKind::Plain, Piece::Str(value), visit));
}

fn for_each_body_text(body: &mut Body, visit: &mut dyn Visit) {
    match &mut body.content {
        BodyContent::Json(value) => for_each_json_string(value, visit),
        BodyContent::JsonText(json) => visit.json_text(json),
        BodyContent::Text(text) => one(TextKind::Plain, Piece::Str(text), visit),
        BodyContent::Base64(text) => one(TextKind::Plain, Piece::Base64(text), visit),
        BodyContent::Sse(events) => {
            for event in events {
                let fields = event.event.iter_mut().chain(event.id.iter_mut()).chain([&mut event.data]);
                fields.for_each(|t| one(TextKind::Plain, Piece::Str(t), visit));
            }
        }
        BodyContent::Chunks(chunks) => {
            let mut pieces: Vec<Piece> = chunks.iter_mut().map(|c| Piece::Payload(&mut c.payload)).collect();
            visit.text(TextKind::Plain, &mut Text { pieces: &mut pieces });
        }
        BodyContent::Empty(_) | BodyContent::File(_) => {}
    }
}

fn for_each_json_string(value: &mut Value, visit: &mut dyn Visit) {
    match value {
        Value::String(text) => one(TextKind::Plain, Piece::Str(text), visit),
        Value::Array(items) => items.iter_mut().for_each(|v| for_each_json_string(v, visit)),
        Value::Object(map) => {
            map.values_mut().for_each(|v| for_each_json_string(v, visit));
            for_each_key(map, visit);
        }
        _ => {}
    }
}

/// Keys too: a secret used as a key would otherwise reach the file. Keys
/// cannot change in place, so the map is rebuilt (in order) only if one did.
fn for_each_key(map: &mut serde_json::Map<String, Value>, visit: &mut dyn Visit) {
    let mut renamed: Vec<(usize, String)> = Vec::new();
    for (index, key) in map.keys().enumerate().filter(|(_, key)| key.len() >= MIN_SEEN_LEN) {
        let mut candidate = key.clone();
        one(TextKind::Plain, Piece::Str(&mut candidate), visit);
        if candidate != *key {
            renamed.push((index, candidate));
        }
    }
    if renamed.is_empty() {
        return;
    }
    let entries = std::mem::take(map).into_iter().enumerate().map(|(index, (key, value))| {
        let new = renamed.iter().position(|(i, _)| *i == index).map(|at| renamed[at].1.clone());
        (new.unwrap_or(key), value)
    });
    *map = entries.collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_across_pieces_lands_in_the_first() {
        let (mut a, mut b) = (Payload::Text("key sk-pr".into()), Payload::Text("oj-123 end".into()));
        let mut pieces = [Piece::Payload(&mut a), Piece::Payload(&mut b)];
        let mut text = Text { pieces: &mut pieces };
        let (joined, starts) = text.joined().unwrap();
        assert_eq!(joined, b"key sk-proj-123 end");
        text.splice(&joined, &starts, &[(4..15, b"[R]".to_vec())]);
        assert_eq!((a, b), (Payload::Text("key [R]".into()), Payload::Text(" end".into())));
    }

    #[test]
    fn pieces_that_become_utf8_are_text_again() {
        let mut p = Payload::Base64(BASE64.encode(b"a\xffb"));
        let mut pieces = [Piece::Payload(&mut p)];
        let mut text = Text { pieces: &mut pieces };
        let (joined, starts) = text.joined().unwrap();
        text.splice(&joined, &starts, &[(1..2, b"-".to_vec())]);
        assert_eq!(p, Payload::Text("a-b".into()));
    }
}
