//! The credential finder: where secrets sit by position in a run of bytes.
//!
//! One finder for every text an exchange carries — a header value, the URL, a
//! JSON string, a text or binary body, the joined chunks of a stream, a
//! WebSocket message — so what counts as a secret does not depend on the form
//! a body happened to be stored in. It finds:
//!
//! - named fields (`SECRET_FIELDS`) of JSON objects, also inside an escaped
//!   JSON string (`"{\"api_key\": \"…\"}"`),
//! - `name=value` pairs of form bodies and query strings, anywhere in text,
//! - the parts of a `multipart/form-data` body,
//! - `Name: value` lines of credential headers quoted in text (an error
//!   message, a log), and
//! - in a URL, path segments that are credentials (`/bot<token>/getMe`).
//!
//! Token shapes and secrets already seen are found by the redactor itself
//! (`find_tokens`, and by value); this module only knows positions.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::fields::{after_scheme, field_secret, header_secrets, is_redacted};
use crate::credential::tokens::path_secrets;
use crate::exchange::content::percent_decode;

/// A secret found at `range` of the bytes searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// Where its text (as written: escaped, percent-encoded) sits.
    pub(super) range: Range<usize>,
    /// The secret itself (unescaped, decoded): what is fingerprinted and
    /// hunted elsewhere.
    pub(super) secret: String,
    /// Found percent-encoded (a form or query value): its marker must be URL-safe.
    pub(super) url: bool,
}

/// What the searched bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextKind {
    /// Any text: a header value, a body, a JSON string, a message.
    Plain,
    /// A request URL: its query pairs, and path segments that are credentials.
    Url,
}

/// `"name": "value"` in JSON text.
static JSON_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""([A-Za-z0-9_.\-]{1,64})"[ \t\r\n]*:[ \t\r\n]*"((?:[^"\\]|\\.)*)""#).expect("valid pattern")
});

/// `\"name\": \"value\"`: a JSON object inside a JSON string, seen as the outer text.
static ESCAPED_JSON_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\\"([A-Za-z0-9_.\-]{1,64})\\"[ \t]*:[ \t]*\\"([^"\\]*)\\""#).expect("valid pattern")
});

/// `name=value` of a form body or a query string.
static FORM_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[?&;,\s({\["'])([A-Za-z0-9_.\-\[\]]{1,64})=([^&\s"'<>#;,)}\]]*)"#)
        .expect("valid pattern")
});

/// One part of a `multipart/form-data` body: its name and its value.
static MULTIPART_PART: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?is)content-disposition:[ \t]*form-data;[^\r\n]*?\bname="([^"\r\n]{1,64})"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*?\r?\n(.*?)\r?\n--"#,
    )
    .expect("valid pattern")
});

/// `Name: value`: a header line quoted in text.
static HEADER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*([A-Za-z0-9\-]{2,64})[ \t]*:[ \t]*([^\r\n]+)").expect("valid pattern")
});

/// Every secret `bytes` holds by position, in no particular order (they may overlap).
pub(super) fn find(kind: TextKind, bytes: &[u8]) -> Vec<Found> {
    let mut found = Vec::new();
    if memchr::memchr(b'"', bytes).is_some() {
        json_pairs(&JSON_PAIR, bytes, &mut found);
        json_pairs(&ESCAPED_JSON_PAIR, bytes, &mut found);
        multipart_parts(bytes, &mut found);
    }
    if memchr::memchr(b'=', bytes).is_some() {
        form_pairs(bytes, &mut found);
    }
    if kind == TextKind::Plain && memchr::memchr(b':', bytes).is_some() {
        header_lines(bytes, &mut found);
    }
    if kind == TextKind::Url {
        path_tokens(bytes, &mut found);
    }
    found
}

fn json_pairs(pattern: &Regex, bytes: &[u8], found: &mut Vec<Found>) {
    for caps in pattern.captures_iter(bytes) {
        let (Some(name), Some(value)) = (caps.get(1), caps.get(2)) else { continue };
        let raw = String::from_utf8_lossy(value.as_bytes());
        let decoded: String = serde_json::from_str(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string());
        named(&String::from_utf8_lossy(name.as_bytes()), &decoded, value.range(), &raw, false, found);
    }
}

fn form_pairs(bytes: &[u8], found: &mut Vec<Found>) {
    for caps in FORM_PAIR.captures_iter(bytes) {
        let (Some(name), Some(value)) = (caps.get(1), caps.get(2)) else { continue };
        let raw = String::from_utf8_lossy(value.as_bytes());
        let name = String::from_utf8_lossy(name.as_bytes());
        let name = percent_decode(&name).unwrap_or_else(|| name.to_string());
        let decoded = percent_decode(&raw).unwrap_or_else(|| raw.to_string());
        named(&name, &decoded, value.range(), &raw, true, found);
    }
}

fn multipart_parts(bytes: &[u8], found: &mut Vec<Found>) {
    if memchr::memmem::find(bytes, b"form-data").is_none() {
        return;
    }
    for caps in MULTIPART_PART.captures_iter(bytes) {
        let (Some(name), Some(value)) = (caps.get(1), caps.get(2)) else { continue };
        let text = String::from_utf8_lossy(value.as_bytes());
        named(&String::from_utf8_lossy(name.as_bytes()), &text, value.range(), &text, false, found);
    }
}

fn header_lines(bytes: &[u8], found: &mut Vec<Found>) {
    for caps in HEADER_LINE.captures_iter(bytes) {
        let (Some(name), Some(value)) = (caps.get(1), caps.get(2)) else { continue };
        let name = String::from_utf8_lossy(name.as_bytes()).to_ascii_lowercase();
        let Ok(text) = std::str::from_utf8(value.as_bytes()) else { continue };
        let Some((_, secrets)) = header_secrets(&name, text.trim_end()) else { continue };
        for secret in secrets {
            let at = value.start() + (secret.as_ptr() as usize - text.as_ptr() as usize);
            found.push(Found { range: at..at + secret.len(), secret: secret.to_owned(), url: false });
        }
    }
}

/// Path segments of a URL (before `?`) that are credentials ([`path_secrets`]).
fn path_tokens(bytes: &[u8], found: &mut Vec<Found>) {
    let end = memchr::memchr2(b'?', b'#', bytes).unwrap_or(bytes.len());
    let path_start = match memchr::memmem::find(&bytes[..end], b"://") {
        Some(scheme) => memchr::memchr(b'/', &bytes[scheme + 3..end]).map_or(end, |at| scheme + 3 + at),
        None => 0,
    };
    let Ok(path) = std::str::from_utf8(&bytes[path_start..end]) else { return };
    for secret in path_secrets(path) {
        let at = path_start + (secret.as_ptr() as usize - path.as_ptr() as usize);
        found.push(Found { range: at..at + secret.len(), secret: secret.to_owned(), url: true });
    }
}

/// Record the secret of field `name` holding `decoded` (written as `raw` at
/// `range`), if the name is a secret's. The span covers only the secret
/// when it is written as is (`Bearer <secret>` keeps its scheme), else the
/// whole value.
fn named(name: &str, decoded: &str, range: Range<usize>, raw: &str, url: bool, found: &mut Vec<Found>) {
    let Some(secret) = field_secret(name, decoded) else { return };
    if is_redacted(secret) {
        return;
    }
    let range = match raw.find(secret) {
        Some(at) if raw == decoded || after_scheme(raw) == secret => {
            range.start + at..range.start + at + secret.len()
        }
        _ => range,
    };
    found.push(Found { range, secret: secret.to_owned(), url });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(kind: TextKind, text: &str) -> Vec<(String, String)> {
        let mut found = find(kind, text.as_bytes());
        found.sort_by_key(|f| f.range.start);
        found.into_iter().map(|f| (text[f.range].to_owned(), f.secret)).collect()
    }

    fn pair(written: &str, secret: &str) -> (String, String) {
        (written.to_owned(), secret.to_owned())
    }

    #[test]
    fn json_fields_in_text_even_pretty_or_escaped() {
        let pretty = "{\n  \"access_token\" : \"opaque-1\",\n  \"expires_in\": 3600\n}";
        assert_eq!(secrets(TextKind::Plain, pretty), [pair("opaque-1", "opaque-1")]);
        let nested = r#"{"payload":"{\"api_key\": \"c4c4c4c4\"}"}"#;
        assert_eq!(secrets(TextKind::Plain, nested), [pair("c4c4c4c4", "c4c4c4c4")]);
        let escaped = r#"{"password":"a\"b"}"#;
        assert_eq!(secrets(TextKind::Plain, escaped), [pair(r#"a\"b"#, "a\"b")]);
    }

    #[test]
    fn form_and_query_pairs_are_decoded() {
        assert_eq!(secrets(TextKind::Plain, "grant=x&refresh_token=r%2Fs"), [pair("r%2Fs", "r/s")]);
        let url = "https://h/p?auth=0a1b2c3d4e5f60718293a4b5c6d7e8f9&x=1";
        assert_eq!(
            secrets(TextKind::Url, url),
            [pair("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0a1b2c3d4e5f60718293a4b5c6d7e8f9")]
        );
        assert!(secrets(TextKind::Plain, "auth=true&token=Hello").is_empty());
    }

    #[test]
    fn multipart_parts_by_name() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\nk-1\r\n--b\r\n\
                    Content-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n--b--\r\n";
        assert_eq!(secrets(TextKind::Plain, body), [pair("k-1", "k-1")]);
    }

    #[test]
    fn quoted_header_lines() {
        let log = "sent\nAuthorization: Bearer opaque-xyz\nx-custom-secret: s3cr3t-1\nx-ratelimit-remaining-tokens: 150000\n";
        assert_eq!(
            secrets(TextKind::Plain, log),
            [pair("opaque-xyz", "opaque-xyz"), pair("s3cr3t-1", "s3cr3t-1")]
        );
    }

    #[test]
    fn path_segments_that_are_tokens() {
        let hex = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
        assert_eq!(secrets(TextKind::Url, &format!("https://h/bot{hex}/getMe")), [pair(hex, hex)]);
        let telegram = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq";
        assert_eq!(secrets(TextKind::Url, &format!("https://h/bot{telegram}/x")), [pair(telegram, telegram)]);
        // Ids and deployment names are not credentials.
        for path in [
            "/v1/responses/resp_68a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "/openai/deployments/gpt-4o-2024-08-06/chat",
        ] {
            assert!(secrets(TextKind::Url, &format!("https://h{path}")).is_empty(), "{path}");
        }
        // Only in URLs.
        assert!(secrets(TextKind::Plain, &format!("/bot{hex}/getMe")).is_empty());
    }
}
