//! A JSON body as text ([`JsonText`]), and reading it without building it into values: where its
//! strings are (what redaction searches and rewrites), whether it is already
//! in the compact form `serde_json` would write (what replay needs to store
//! it structured), and its compact form otherwise.
//!
//! Every function here takes a text `serde_json` has already accepted as JSON
//! ([`serde_json::value::RawValue::from_string`] checks it): the scanner
//! trusts the grammar and only tells tokens apart. Where the compact-form
//! question is rare and subtle (floats, `\u` escapes, deep nesting, huge
//! objects) it asks `serde_json` itself, so the answer is always the one a
//! parse and a re-serialisation would give.

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use serde::Serialize;
use serde_json::value::RawValue;

/// A JSON document (an object or an array) kept as its text on one line:
/// serialised as the text itself, without being parsed.
#[derive(Debug, Clone)]
pub struct JsonText {
    text: Box<RawValue>,
    /// Its [`strings`], when a scan found them already ([`Self::keep_strings`]).
    strings: Option<Vec<JsonString>>,
}

impl JsonText {
    /// `text` if it is a JSON object or array, made one line if it spans several.
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim_matches([' ', '\t', '\n', '\r']);
        if !matches!(text.as_bytes().first(), Some(b'{' | b'[')) {
            return None;
        }
        let raw = RawValue::from_string(text.to_owned()).ok()?;
        let text = match one_line(raw.get()) {
            Cow::Borrowed(_) => raw,
            Cow::Owned(compact) => RawValue::from_string(compact).ok()?,
        };
        Some(Self { text, strings: None })
    }

    /// Keep `strings` (its [`strings`], which a caller scanned already) for
    /// the next [`Self::take_strings`].
    pub(crate) fn keep_strings(&mut self, strings: Vec<JsonString>) {
        self.strings = Some(strings);
    }

    /// The text.
    pub fn get(&self) -> &str {
        self.text.get()
    }

    /// Its [`strings`]: the scan kept with it, or a new one.
    pub(crate) fn take_strings(&mut self) -> Vec<JsonString> {
        self.strings.take().unwrap_or_else(|| strings(self.get().as_bytes()))
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.text.serialize(serializer)
    }
}

/// One string of a JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonString {
    /// Its bytes between the quotes, as written (escapes and all).
    pub(crate) span: Range<usize>,
    /// An object key.
    pub(crate) key: bool,
    /// For a string that is the value of an object field: its key's span.
    pub(crate) field: Option<Range<usize>>,
    /// It holds a `\` escape: its text differs from its bytes.
    pub(crate) escaped: bool,
}

/// A string of a JSON text as the scan meets it, with what lies before it.
struct Met {
    /// What lies between the previous string (or the start) and this one:
    /// punctuation, scalars and whitespace.
    gap: Range<usize>,
    /// Its bytes between the quotes.
    span: Range<usize>,
    escaped: bool,
}

/// The strings of a valid JSON text in order, found by jumping from quote
/// to quote: only the short gaps between strings are read byte by byte.
struct Strings<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Strings<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self { text, at: 0 }
    }

    /// What follows the last string met (once the iterator is done: the end of the text).
    fn rest(&self) -> Range<usize> {
        self.at.min(self.text.len())..self.text.len()
    }
}

impl Iterator for Strings<'_> {
    type Item = Met;

    fn next(&mut self) -> Option<Met> {
        let start = self.at.min(self.text.len());
        let quote = start + find_quote(&self.text[start..])?;
        let (end, escaped) = string_end(self.text, quote + 1);
        self.at = end + 1;
        Some(Met { gap: start..quote, span: quote + 1..end, escaped })
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Bytes looked at one by one before handing a search to `memchr`: most
/// gaps and strings of a JSON body are shorter, and a plain loop costs
/// less than setting up a vector search.
const SHORT: usize = 32;

/// Where the first `"` of `bytes` is.
fn find_quote(bytes: &[u8]) -> Option<usize> {
    match bytes[..bytes.len().min(SHORT)].iter().position(|&b| b == b'"') {
        Some(at) => Some(at),
        None => memchr::memchr(b'"', bytes.get(SHORT..)?).map(|at| SHORT + at),
    }
}

/// Where the first `"` or `\` of `bytes` is.
fn find_quote_or_escape(bytes: &[u8]) -> Option<usize> {
    match bytes[..bytes.len().min(SHORT)].iter().position(|&b| b == b'"' || b == b'\\') {
        Some(at) => Some(at),
        None => memchr::memchr2(b'"', b'\\', bytes.get(SHORT..)?).map(|at| SHORT + at),
    }
}

/// Where the string whose content starts at `from` ends (its closing
/// quote), and whether it holds an escape.
fn string_end(text: &[u8], mut from: usize) -> (usize, bool) {
    let mut escaped = false;
    loop {
        match find_quote_or_escape(&text[from.min(text.len())..]) {
            Some(at) if text[from + at] == b'\\' => {
                escaped = true;
                from += at + 2;
            }
            Some(at) => return (from + at, escaped),
            None => return (text.len(), escaped),
        }
    }
}

/// Whether the first byte after `at` that is not whitespace is a `:` (the string before was a key).
fn colon_follows(text: &[u8], at: usize) -> bool {
    text[at.min(text.len())..].iter().find(|b| !is_space(**b)) == Some(&b':')
}

/// Every string of `text` (a valid JSON text), in order, each knowing
/// whether it is a key and, for a field's value, its key.
pub(crate) fn strings(text: &[u8]) -> Vec<JsonString> {
    // About one string per 16 bytes in a dispatch's JSON: most bodies need no regrowth.
    let mut strings = Vec::with_capacity(text.len() / 16);
    // The last key met: the value of a string right after its `:`.
    let mut last_key: Option<Range<usize>> = None;
    for Met { gap, span, escaped } in Strings::new(text) {
        let after_colon = text[gap].iter().rev().find(|b| !is_space(**b)) == Some(&b':');
        let field = if after_colon { last_key.take() } else { None };
        let key = colon_follows(text, span.end + 1);
        if key {
            last_key = Some(span.clone());
        }
        strings.push(JsonString { span, key, field, escaped });
    }
    strings
}

/// The first top-level `model` field of a JSON object's text, when its value
/// is a string met before the text ends: read only as far as that field (a
/// `response.create` names its model before its instructions, tools and
/// input, often most of a recording). `text` may be cut short; `None` when
/// the field is not there (yet), is not a string, or `text` is no object.
pub(crate) fn leading_model(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut depth = 0usize;
    let mut model_key = false;
    for Met { gap, span, escaped } in Strings::new(bytes) {
        if span.end >= bytes.len() {
            return None;
        }
        if model_key {
            // A string value follows its key with only `:` between.
            let value = bytes[gap].iter().all(|b| *b == b':' || is_space(*b));
            return value.then(|| serde_json::from_str(&text[span.start - 1..span.end + 1]).ok()).flatten();
        }
        for byte in &bytes[gap] {
            match byte {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        model_key =
            depth == 1 && !escaped && &bytes[span.clone()] == b"model" && colon_follows(bytes, span.end + 1);
    }
    None
}

/// The text a JSON string literal (`"…"`, escapes and all) holds, decoded from
/// no more than its first `limit` bytes: all of it when it is that short, else
/// a prefix, cut before any escape the limit would split. `None` when it does
/// not decode (a surrogate pair cut in two: decode it whole).
pub(crate) fn literal_prefix(literal: &str, limit: usize) -> Option<String> {
    if literal.len() <= limit {
        return serde_json::from_str(literal).ok();
    }
    // Past the opening quote, on a character's boundary.
    let mut cut = limit.max(1);
    while !literal.is_char_boundary(cut) {
        cut -= 1;
    }
    // Escapes are `\x` or `\uXXXX`: walk them to find one the cut would split.
    let bytes = literal.as_bytes();
    let mut at = 1;
    while let Some(found) = memchr::memchr(b'\\', &bytes[at..cut]) {
        let start = at + found;
        let end = start + if bytes.get(start + 1) == Some(&b'u') { 6 } else { 2 };
        if end > cut {
            cut = start;
            break;
        }
        at = end;
    }
    serde_json::from_str(&format!("{}\"", &literal[..cut])).ok()
}

/// Objects with more keys than this are checked for duplicates by `serde_json`.
const MAX_KEYS_SCANNED: usize = 64;

/// Nesting deeper than this is left to `serde_json` (whose limit is 128).
const MAX_DEPTH_SCANNED: usize = 64;

/// Whether `text` (a valid JSON text, whose [`strings`] are `strings`) is an
/// object or array that `serde_json` parses and writes back, compactly, to
/// exactly these bytes: no whitespace, escapes only where and as it writes
/// them, integers in range, no key twice in one object. Floats, `\u`
/// escapes, very deep or very wide documents are decided by a parse and a
/// re-serialisation.
pub(crate) fn is_canonical(text: &[u8], strings: &[JsonString]) -> bool {
    if !matches!(text.first(), Some(b'{' | b'[')) {
        return false;
    }
    match scan_canonical(text, strings) {
        Some(answer) => answer,
        None => reproduces(text),
    }
}

/// `Some(answer)` when the scan could decide; `None` for the cases left to `serde_json`.
fn scan_canonical(text: &[u8], strings: &[JsonString]) -> Option<bool> {
    let mut open = Open::default();
    let mut after = 0;
    for string in strings {
        let span = &string.span;
        if !canonical_gap(&text[after..span.start - 1], &mut open)? {
            return Some(false);
        }
        after = span.end + 1;
        if string.escaped && !canonical_escapes(&text[span.clone()])? {
            return Some(false);
        }
        if string.key {
            let keys = open.keys_of_innermost()?;
            if string.escaped || keys.len() >= MAX_KEYS_SCANNED {
                return None;
            }
            if keys.iter().any(|k| text[k.clone()] == text[span.clone()]) {
                return Some(false);
            }
            open.keys.push(span.clone());
        }
    }
    canonical_gap(&text[after.min(text.len())..], &mut open)
}

/// The containers open at a point of the scan, and the keys met in each.
#[derive(Default)]
struct Open {
    /// The keys of every open object, innermost last.
    keys: Vec<Range<usize>>,
    /// Where each open container's keys start in `keys`.
    starts: Vec<usize>,
}

impl Open {
    fn push(&mut self) {
        self.starts.push(self.keys.len());
    }

    fn pop(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.keys.truncate(start);
        }
    }

    fn depth(&self) -> usize {
        self.starts.len()
    }

    fn keys_of_innermost(&self) -> Option<&[Range<usize>]> {
        Some(&self.keys[*self.starts.last()?..])
    }
}

/// Whether the punctuation and scalars between two strings are as
/// `serde_json` writes them, opening and closing containers in `open`.
fn canonical_gap(gap: &[u8], open: &mut Open) -> Option<bool> {
    let mut at = 0;
    while let Some(&byte) = gap.get(at) {
        match byte {
            b'{' | b'[' => {
                open.push();
                if open.depth() > MAX_DEPTH_SCANNED {
                    return None;
                }
            }
            b'}' | b']' => open.pop(),
            b':' | b',' => {}
            // Whitespace anywhere, after the document included.
            _ if is_space(byte) => return Some(false),
            _ => {
                let len = gap[at..]
                    .iter()
                    .take_while(|b| !matches!(b, b'}' | b']' | b',') && !is_space(**b))
                    .count();
                if !canonical_scalar(&gap[at..at + len])? {
                    return Some(false);
                }
                at += len;
                continue;
            }
        }
        at += 1;
    }
    Some(true)
}

/// Whether the escapes of a string are those `serde_json` writes; `None`
/// for a `\u` escape, which only a parse can judge.
fn canonical_escapes(content: &[u8]) -> Option<bool> {
    let mut rest = content;
    while let Some(at) = memchr::memchr(b'\\', rest) {
        match rest.get(at + 1)? {
            b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => rest = &rest[at + 2..],
            b'u' => return None,
            // `\/`: valid JSON, but written back as `/`.
            _ => return Some(false),
        }
    }
    Some(true)
}

/// Whether a scalar is written back as itself; `None` for what only a
/// parse can judge (floats, integers past 64 bits).
fn canonical_scalar(scalar: &[u8]) -> Option<bool> {
    match scalar {
        b"true" | b"false" | b"null" => return Some(true),
        b"-0" => return Some(false),
        _ => {}
    }
    let digits = scalar.strip_prefix(b"-").unwrap_or(scalar);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let text = std::str::from_utf8(scalar).ok()?;
    let fits = if scalar[0] == b'-' { text.parse::<i64>().is_ok() } else { text.parse::<u64>().is_ok() };
    fits.then_some(true)
}

/// The exact answer: parse, and compare the compact serialisation with the bytes.
fn reproduces(text: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(text)
        .is_ok_and(|value| (value.is_object() || value.is_array()) && serializes_to(&value, text))
}

/// Whether `value` serialises (compactly) to exactly `bytes`, compared as it
/// is written rather than by building the text.
fn serializes_to(value: &serde_json::Value, bytes: &[u8]) -> bool {
    struct Compare<'a>(&'a [u8]);
    impl Write for Compare<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let rest = self.0.strip_prefix(buf).ok_or(io::ErrorKind::InvalidData)?;
            self.0 = rest;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut compare = Compare(bytes);
    serde_json::to_writer(&mut compare, value).is_ok() && compare.0.is_empty()
}

/// `text` (valid JSON) on one line: the whitespace between its tokens
/// dropped when it holds a line break, as is otherwise.
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    let push_gap = |compact: &mut String, gap: Range<usize>| {
        compact.extend(text[gap].chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')));
    };
    let mut compact = String::with_capacity(text.len());
    let mut strings = Strings::new(text.as_bytes());
    for met in strings.by_ref() {
        push_gap(&mut compact, met.gap);
        compact.push_str(&text[met.span.start - 1..met.span.end + 1]);
    }
    push_gap(&mut compact, strings.rest());
    Cow::Owned(compact)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// [`is_canonical`] over `text`'s own scan.
    fn canonical(text: &str) -> bool {
        is_canonical(text.as_bytes(), &strings(text.as_bytes()))
    }

    fn spans<'a>(text: &'a str, strings: &[JsonString]) -> Vec<(&'a str, bool, Option<&'a str>)> {
        strings.iter().map(|s| (&text[s.span.clone()], s.key, s.field.clone().map(|f| &text[f]))).collect()
    }

    #[test]
    fn strings_know_keys_and_the_field_they_are_the_value_of() {
        let text = r#"{"a": "x", "b": ["y", {"c": "z"}], "d": {"e": 1}, "f": "w\"q"}"#;
        let found = strings(text.as_bytes());
        assert_eq!(
            spans(text, &found),
            [
                ("a", true, None),
                ("x", false, Some("a")),
                ("b", true, None),
                ("y", false, None),
                ("c", true, None),
                ("z", false, Some("c")),
                ("d", true, None),
                ("e", true, None),
                ("f", true, None),
                ("w\\\"q", false, Some("f")),
            ]
        );
        assert!(found.last().unwrap().escaped && !found[0].escaped);
    }

    #[test]
    fn a_key_that_is_a_value_of_nothing_is_not_a_field() {
        // The value of "a" is an object; its first key is not a's value.
        let text = r#"{"a":{"b":"c"}}"#;
        assert_eq!(
            spans(text, &strings(text.as_bytes())),
            [("a", true, None), ("b", true, None), ("c", false, Some("b"))]
        );
    }

    #[test]
    fn canonical_texts_are_what_serde_json_writes() {
        for text in [r#"{"a":1,"b":[true,null,"x\ny"],"c":{"d":-5}}"#, "[]", "{}", r#"{"q":"\"\\"}"#] {
            assert!(canonical(text), "{text}");
        }
        for text in [
            r#"{"a": 1}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"\u0041"}"#,
            r#"{"a":-0}"#,
            r#"{"a":1e2}"#,
            r#"{"a":18446744073709551616}"#,
            "\"text\"",
            "123",
            "{}\n",
        ] {
            assert!(!canonical(text), "{text}");
        }
        assert!(canonical(r#"{"a":1.5,"b":"\u001f"}"#));
    }

    #[test]
    fn a_leading_model_is_the_first_top_level_model_string() {
        let found = |text: &str| leading_model(text);
        assert_eq!(
            found(r#"{"type":"response.create","model":"gpt-5.5","input":[1,2"#).as_deref(),
            Some("gpt-5.5")
        );
        assert_eq!(found(r#"{ "model" : "a\u0062c" }"#).as_deref(), Some("abc"), "the value is decoded");
        assert_eq!(found(r#"{"model":"first","model":"second"}"#).as_deref(), Some("first"));
        for none in [
            r#"{"tools":[{"model":"nested"}],"x":1}"#,
            r#"{"type":"model","x":1}"#,
            r#"{"model":null,"response":{"model":"m"}}"#,
            r#"{"model":5,"x":"y"}"#,
            r#"{"model":"cut sho"#,
            r#"[{"model":"in an array"}]"#,
            r#""model""#,
        ] {
            assert_eq!(found(none), None, "{none}");
        }
    }

    #[test]
    fn a_literal_prefix_is_a_prefix_of_the_decoded_text_wherever_the_limit_falls() {
        let text = "a\"b\\cé😀d\n\t/z".repeat(3);
        let literal =
            serde_json::to_string(&text).unwrap().replace('é', "\\u00e9").replace('😀', "\\ud83d\\ude00");
        assert_eq!(serde_json::from_str::<String>(&literal).unwrap(), text);
        for limit in 2..literal.len() + 2 {
            match literal_prefix(&literal, limit) {
                Some(prefix) => assert!(text.starts_with(&prefix), "limit {limit}: {prefix:?}"),
                // Only a surrogate pair cut in two does not decode.
                None => {
                    let pair = literal[..limit].rfind("\\ud83d").unwrap();
                    assert!((pair + 6..pair + 12).contains(&limit), "limit {limit}");
                }
            }
        }
        assert_eq!(literal_prefix(&literal, literal.len()).as_deref(), Some(text.as_str()));
    }

    #[test]
    fn one_line_drops_line_breaks_between_tokens_only() {
        let text = "{\n  \"a\": \"x y\",\n  \"b\": [1, 2]\n}";
        assert_eq!(one_line(text), r#"{"a":"x y","b":[1,2]}"#);
        assert!(matches!(one_line(r#"{"a": 1}"#), Cow::Borrowed(_)));
    }

    /// Arbitrary JSON a few levels deep, its object keys drawn from the pattern `keys`; strings with
    /// escapes and non-ASCII, integers of every width, floats.
    pub(crate) fn json_value(keys: &'static str) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z\"\\\\/\u{1}\n\u{e9}\u{1f600}]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((keys, inner), 0..4)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    /// Rewrites that keep a text valid JSON but may make it non-canonical.
    fn variant(text: &str, which: u8) -> String {
        match which % 6 {
            0 => text.to_owned(),
            1 => text.replace(',', ", "),
            2 => text.replace('/', "\\/"),
            3 => text.replace(":1", ":1.0").replace(":0", ":-0"),
            4 => text.replace("\"a\":", "\"a\":1,\"a\":"),
            _ => text.replace('e', "\\u0065"),
        }
    }

    proptest! {
        #[test]
        fn canonical_agrees_with_a_parse_and_a_reserialisation(value in json_value("[a-c]{1,2}"), which in 0u8..6) {
            let document = json!([value]);
            let text = variant(&document.to_string(), which);
            prop_assume!(serde_json::from_str::<Value>(&text).is_ok());
            prop_assert_eq!(canonical(&text), reproduces(text.as_bytes()), "{}", text);
        }

        #[test]
        fn one_line_parses_to_the_same_value(value in json_value("[a-c]{1,2}")) {
            let pretty = serde_json::to_string_pretty(&json!({"v": value})).unwrap();
            let compact = one_line(&pretty);
            prop_assert!(!compact.contains('\n'));
            prop_assert_eq!(serde_json::from_str::<Value>(&compact).unwrap(), serde_json::from_str::<Value>(&pretty).unwrap());
        }

        #[test]
        fn strings_are_every_string_serde_json_reads(value in json_value("[a-c]{1,2}")) {
            let text = serde_json::to_string_pretty(&json!({"v": value})).unwrap();
            let mut expected = Vec::new();
            collect_strings(&serde_json::from_str(&text).unwrap(), &mut expected);
            let found: Vec<String> = strings(text.as_bytes())
                .iter()
                .map(|s| serde_json::from_str(&text[s.span.start - 1..s.span.end + 1]).unwrap())
                .collect();
            prop_assert_eq!(found, expected);
        }
    }

    fn collect_strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                collect_strings(v, out);
            }),
            _ => {}
        }
    }
}
