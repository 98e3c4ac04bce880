//! Skimming a cassette for `check`: the values that observing a request
//! never reads are emptied before the typed parse, so that parse walks a
//! fraction of the file.
//!
//! Observing (`model::for_observing`) already ignores these values, but
//! serde_json still reads every byte of them to find where they end, and
//! most of a recording is such bytes: the server's WebSocket messages, the
//! tools and instructions of request bodies, streamed events, embeddings.
//! [`for_observing`] finds their ends with [`scan`] instead (64 bytes at a
//! time) and writes a copy of the file in which each is the empty value of
//! its type (`""`, `[]`, `{}`); the copy parses into the same observed
//! cassette. What it empties, by path:
//!
//! - `interactions[].request.body.json.*` and `…response.body.json.*`, but
//!   `model` and `response` (where a body names its model);
//! - `interactions[].response.headers` and `…response.body.sse`;
//! - the `text` or `base64` of a WebSocket message whose `from` (written
//!   before it) is `server`;
//! - a client's WebSocket text: one whose model leads it
//!   (`model::leading_model_fields`) becomes the text observing keeps of it,
//!   `{"model": …}`, and every client text after it in the session is emptied.
//!
//! Anything shaped otherwise is copied as it is, and a file that is not the
//! expected JSON skeleton is not skimmed at all (`None`): the loader then
//! parses the file itself and reports its problems at their real positions.
//! Emptied values are not validated, as observing never reads them. Only
//! x86-64 builds skim: elsewhere the scan would go a byte at a time, slower
//! than serde_json's own skipping, and the loader parses the file as before.

mod scan;

use super::model::{self, Side};

/// `doc` with the values observing ignores emptied, or `None` when `doc` is
/// not shaped like a cassette (the caller parses `doc` itself). Only where
/// [`scan`] has vector masks: a byte at a time it would be slower than the
/// skipping it replaces, so elsewhere nothing is skimmed.
pub(crate) fn for_observing(doc: &[u8]) -> Option<Vec<u8>> {
    if !scan::VECTORISED {
        return None;
    }
    skim(doc)
}

/// [`for_observing`], on any target.
fn skim(doc: &[u8]) -> Option<Vec<u8>> {
    let mut skim = Skim { doc, at: 0, copied: 0, out: Vec::with_capacity(doc.len() / 8) };
    skim.object(|skim, key| match key {
        b"interactions" => skim.array(interaction),
        _ => skim.keep(),
    })?;
    skim.whitespace();
    if skim.at != doc.len() {
        return None;
    }
    skim.out.extend_from_slice(&doc[skim.copied..]);
    Some(skim.out)
}

fn interaction(skim: &mut Skim) -> Option<()> {
    skim.object(|skim, key| match key {
        b"request" => skim.object_or_keep(|skim, key| http_message(skim, key, false)),
        b"response" => skim.object_or_keep(|skim, key| http_message(skim, key, true)),
        b"websocket" => skim.object_or_keep(|skim, key| match key {
            b"messages" => {
                let mut model_named = false;
                skim.array(|skim| websocket_message(skim, &mut model_named))
            }
            _ => skim.keep(),
        }),
        _ => skim.keep(),
    })
}

/// A field of a request (`response` false) or a response.
fn http_message(skim: &mut Skim, key: &[u8], response: bool) -> Option<()> {
    match key {
        b"headers" if response => skim.empty(),
        b"body" => skim.object_or_keep(|skim, key| match key {
            b"json" => skim.object_or_keep(|skim, key| match key {
                b"model" | b"response" => skim.keep(),
                _ => skim.empty(),
            }),
            b"sse" => skim.empty(),
            _ => skim.keep(),
        }),
        _ => skim.keep(),
    }
}

/// A WebSocket message of a session; `model_named` once a client's text named its model.
fn websocket_message(skim: &mut Skim, model_named: &mut bool) -> Option<()> {
    let mut from = None;
    skim.object(|skim, key| match (key, from) {
        (b"from", _) => {
            let start = skim.value()?;
            from = match &skim.doc[start..skim.at] {
                b"\"server\"" => Some(Side::Server),
                b"\"client\"" => Some(Side::Client),
                _ => None,
            };
            Some(())
        }
        (b"text" | b"base64", Some(Side::Server)) => skim.empty(),
        (b"text", Some(Side::Client)) if *model_named => skim.empty(),
        (b"text", Some(Side::Client)) => {
            *model_named = skim.rewrite(|literal| {
                let kept = model::leading_model_fields(std::str::from_utf8(literal).ok()?)?;
                serde_json::to_vec(&kept).ok()
            })?;
            Some(())
        }
        _ => skim.keep(),
    })
}

/// A walk over a JSON document that copies it, emptying some values.
struct Skim<'a> {
    doc: &'a [u8],
    /// Where the walk is.
    at: usize,
    /// How much of `doc` is in `out` (or emptied).
    copied: usize,
    out: Vec<u8>,
}

impl<'a> Skim<'a> {
    fn whitespace(&mut self) {
        while self.doc.get(self.at).is_some_and(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, stepped over when it is `byte`.
    fn eat(&mut self, byte: u8) -> bool {
        self.whitespace();
        let found = self.doc.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    /// The value here, copied as it is.
    fn keep(&mut self) -> Option<()> {
        self.value().map(drop)
    }

    /// Steps over the value here; where it starts.
    fn value(&mut self) -> Option<usize> {
        self.whitespace();
        let start = self.at;
        self.at = scan::value_end(self.doc, start)?;
        Some(start)
    }

    /// The value here, emptied: a string, array or object becomes `""`, `[]`
    /// or `{}` (so that it still has its type); anything else is kept.
    fn empty(&mut self) -> Option<()> {
        let start = self.value()?;
        let empty: &[u8] = match self.doc[start] {
            b'"' => b"\"\"",
            b'[' => b"[]",
            b'{' => b"{}",
            _ => return Some(()),
        };
        self.replace(start, empty);
        Some(())
    }

    /// The value here, replaced by what `with` makes of it, or kept when it
    /// makes nothing. Whether it was replaced.
    fn rewrite(&mut self, with: impl FnOnce(&'a [u8]) -> Option<Vec<u8>>) -> Option<bool> {
        let start = self.value()?;
        let Some(replacement) = with(&self.doc[start..self.at]) else { return Some(false) };
        self.replace(start, &replacement);
        Some(true)
    }

    /// The value from `start` to here becomes `with` in the copy.
    fn replace(&mut self, start: usize, with: &[u8]) {
        self.out.extend_from_slice(&self.doc[self.copied..start]);
        self.out.extend_from_slice(with);
        self.copied = self.at;
    }

    /// An object, each field's value handed to `field` with its key (as
    /// written, quotes and escapes aside: a key with an escape matches nothing).
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            self.whitespace();
            if self.doc.get(self.at) != Some(&b'"') {
                return None;
            }
            let start = self.value()?;
            let key = &self.doc[start + 1..self.at - 1];
            if !self.eat(b':') {
                return None;
            }
            field(self, key)?;
            if !self.eat(b',') {
                return self.eat(b'}').then_some(());
            }
        }
    }

    /// An object as [`Skim::object`] walks it, or any other value kept (`null`).
    fn object_or_keep(&mut self, field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.whitespace();
        if self.doc.get(self.at) == Some(&b'{') { self.object(field) } else { self.keep() }
    }

    /// An array, each element handed to `element`.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if !self.eat(b'[') {
            return None;
        }
        if self.eat(b']') {
            return Some(());
        }
        loop {
            element(self)?;
            if !self.eat(b',') {
                return self.eat(b']').then_some(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::{load, model};

    fn skimmed(doc: &str) -> Option<String> {
        skim(doc.as_bytes()).map(|out| String::from_utf8(out).unwrap())
    }

    #[test]
    fn empties_what_observing_ignores_and_copies_the_rest() {
        let doc = r#"{"format": "dispatch-vcr/cassette@1", "interactions": [
            {"request": {"headers": [["a", "b"]], "body": {"json": {"model": "m", "tools": [{"x": "}"}], "n": 1, "response": {"model": "r"}}}},
             "response": {"status": 101, "headers": [["c", "d"]], "body": {"sse": [{"data": "[\"x"}]}},
             "websocket": {"messages": [
                {"from": "client", "text": "{\"input\":[],\"response\":{\"model\":\"m\"}}"},
                {"from": "client", "text": "{\"model\" : \"m\", \"tools\":[]}"},
                {"from":  "server", "t_ms": 1, "text": "{\"a\":\"\\\\\"}"},
                {"text": "before its from", "from": "server"},
                {"from": "server", "base64": "AAAA"},
                {"from": "client", "text": "{\"model\":\"n\"}"}]}},
            {"request": null, "error": "x"}]}"#;
        let expected = r#"{"format": "dispatch-vcr/cassette@1", "interactions": [
            {"request": {"headers": [["a", "b"]], "body": {"json": {"model": "m", "tools": [], "n": 1, "response": {"model": "r"}}}},
             "response": {"status": 101, "headers": [], "body": {"sse": []}},
             "websocket": {"messages": [
                {"from": "client", "text": "{\"input\":[],\"response\":{\"model\":\"m\"}}"},
                {"from": "client", "text": "{\"model\":\"m\"}"},
                {"from":  "server", "t_ms": 1, "text": ""},
                {"text": "before its from", "from": "server"},
                {"from": "server", "base64": ""},
                {"from": "client", "text": ""}]}},
            {"request": null, "error": "x"}]}"#;
        assert_eq!(skimmed(doc).as_deref(), Some(expected));
    }

    #[test]
    fn what_is_not_a_cassette_skeleton_is_not_skimmed() {
        for doc in [
            "",
            "[]",
            r#"{"interactions": 3}"#,
            r#"{"interactions": [1]}"#,
            r#"{"interactions": []} trailing"#,
            r#"{"interactions": [{"request": {"body": {"json": {"model": "m", "#,
            r#"{"a" 1}"#,
            r#"{"a": 1,}"#,
        ] {
            assert_eq!(skimmed(doc), None, "{doc}");
        }
        assert_eq!(
            skimmed(r#" {"interactions": [], "meta": {}} "#).as_deref(),
            Some(r#" {"interactions": [], "meta": {}} "#)
        );
    }

    /// Every shipped recording parses into the same observed cassette from its skimmed copy.
    #[test]
    fn shipped_recordings_observe_the_same_skimmed() {
        let mut paths = Vec::new();
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cassettes");
        crate::files::json_files_under(&shipped, &mut paths).unwrap();
        assert!(paths.len() >= 100, "{} cassettes", paths.len());
        let (mut read, mut kept) = (0, 0);
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            let skim = skim(&bytes).unwrap_or_else(|| panic!("{} not skimmed", path.display()));
            (read, kept) = (read + bytes.len(), kept + skim.len());
            let observe = |bytes: &[u8]| model::for_observing(|| load::parse(&path, bytes)).unwrap();
            assert_eq!(observe(&skim), observe(&bytes), "{}", path.display());
        }
        // Most of a recording is what observing ignores: 3.5 % of the shipped ones is kept.
        assert!(kept * 10 < read, "the skimmed copies keep {kept} of {read} bytes");
    }
}
