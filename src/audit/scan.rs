//! Secrets in one piece of text, in clear or encoded: token shapes
//! ([`find_tokens`]) and known secrets, looked for in the text as it is and
//! in the forms a secret hides in — `\u`-escaped, percent-encoded,
//! base64/base64url-encoded, and split across lines.

use base64::Engine as _;

use crate::credential::{self, tokens::PATTERNS, tokens::find_tokens};

/// A secret found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// The secret itself (kept in memory only, to place and fingerprint it).
    pub(super) secret: String,
    /// What it looks like (`openai-key`, `known opaque`), and how it was
    /// encoded when it was (`openai-key, base64-encoded`).
    pub(super) kind: String,
}

/// Shortest run of base64 characters worth decoding: a 16-byte secret.
const MIN_BASE64_RUN: usize = 24;

/// Every secret in `text`, once each: in clear, then in each encoded form.
pub(super) fn scan(text: &str, known: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    in_clear(text, known, "", &mut found);
    if text.contains("\\u") {
        in_clear(&unescape(text), known, ", \\u-escaped", &mut found);
    }
    if text.contains('%') {
        for run in runs(text, is_url_byte).filter(|run| run.contains('%')) {
            in_clear(&percent_decode_lenient(run), known, ", percent-encoded", &mut found);
        }
    }
    for run in runs(text, is_base64_byte).filter(|run| run.len() >= MIN_BASE64_RUN) {
        if let Some(decoded) = base64_decode(run) {
            in_clear(&decoded, known, ", base64-encoded", &mut found);
        }
    }
    if text.contains('\n') {
        found.extend(split_across_lines(text).into_iter().map(|(found, _)| found));
    }
    dedup(found)
}

/// Most lines one split token is followed over (a 4 KiB JWT wrapped at 64 columns).
const MAX_SPLIT_LINES: usize = 64;

/// Tokens whose characters are split over several lines of `text` (a key
/// wrapped, or pasted in pieces), each with the 0-based line it starts on.
/// A line whose last word holds a token prefix, but does not end in a whole
/// token, is joined with the lines after it (their indentation taken out)
/// while they continue that word rather than start a token of their own.
pub(super) fn split_across_lines(text: &str) -> Vec<(Found, usize)> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut split = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let tail = &line[line.len() - line.bytes().rev().take_while(|&b| is_token_byte(b)).count()..];
        let whole = find_tokens(tail).last().is_some_and(|t| t.range.end == tail.len());
        if whole || !PATTERNS.iter().any(|p| tail.contains(p.prefix())) {
            continue;
        }
        let mut joined = tail.to_owned();
        for next in lines[index + 1..].iter().take(MAX_SPLIT_LINES).map(|l| l.trim_start()) {
            let run = next.bytes().take_while(|&b| is_token_byte(b)).count();
            if run == 0 || PATTERNS.iter().any(|p| next.starts_with(p.prefix())) {
                break;
            }
            joined.push_str(&next[..run]);
            if run < next.len() {
                break;
            }
        }
        let crossing = find_tokens(&joined)
            .into_iter()
            .filter(|t| t.range.start < tail.len() && t.range.end > tail.len());
        for token in crossing {
            let found = Found {
                secret: joined[token.range].to_owned(),
                kind: format!("{}, split across lines", token.kind),
            };
            split.push((found, index));
        }
    }
    split
}

/// The characters of a token ([`PATTERNS`]' character sets together).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.".contains(&b)
}

/// The token-shaped values and known secrets in `text` as it is.
fn in_clear(text: &str, known: &[String], encoding: &str, found: &mut Vec<Found>) {
    for token in find_tokens(text) {
        found.push(Found { secret: text[token.range].to_owned(), kind: format!("{}{encoding}", token.kind) });
    }
    for secret in known.iter().filter(|s| !s.is_empty() && text.contains(s.as_str())) {
        let kind = format!("known {}{encoding}", credential::classify(secret));
        found.push(Found { secret: secret.clone(), kind });
    }
}

/// The first finding of each secret.
fn dedup(found: Vec<Found>) -> Vec<Found> {
    let mut seen = std::collections::HashSet::new();
    found.into_iter().filter(|f| seen.insert(f.secret.clone())).collect()
}

/// Maximal runs of bytes that `keep` accepts (all ASCII, so each run is a `str`).
fn runs(text: &str, keep: fn(u8) -> bool) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        at += bytes[at..].iter().take_while(|&&b| !keep(b)).count();
        let len = bytes[at..].iter().take_while(|&&b| keep(b)).count();
        let run = text.get(at..at + len).filter(|run| !run.is_empty());
        at += len;
        run
    })
}

fn is_url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"%-._~+=:/?&@!$'()*,;".contains(&b)
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/-_=".contains(&b)
}

/// `%XX` decoded wherever it is valid; anything else kept as it is.
fn percent_decode_lenient(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) if bytes[i] == b'%' => {
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard or URL-safe base64, padded or not, decoded to (lossy) text;
/// `None` when it is not base64 or decodes to nothing like text.
fn base64_decode(run: &str) -> Option<String> {
    let unpadded: String = run
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded).ok()?;
    let printable = bytes.iter().filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()).count();
    (printable * 4 >= bytes.len() * 3).then(|| String::from_utf8_lossy(&bytes).into_owned())
}

/// `\uXXXX` (with surrogate pairs), `\/` and `\"` decoded as JSON does;
/// anything else kept as it is.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (decoded, used) = escape_at(rest);
        out.push_str(&decoded);
        rest = &rest[used..];
    }
    out.push_str(rest);
    out
}

/// The escape at the start of `text` (which starts with `\`): what it
/// decodes to and how many bytes it takes.
fn escape_at(text: &str) -> (String, usize) {
    let unit = |at: usize| text.get(at + 2..at + 6).and_then(|h| u16::from_str_radix(h, 16).ok());
    if text.starts_with("\\u")
        && let Some(first) = unit(0)
    {
        let pair = text.get(6..8) == Some("\\u");
        let units: Vec<u16> = match unit(6).filter(|_| pair) {
            Some(second) if (0xD800..0xDC00).contains(&first) => vec![first, second],
            _ => vec![first],
        };
        let decoded: String =
            char::decode_utf16(units.iter().copied()).map(|c| c.unwrap_or('\u{FFFD}')).collect();
        return (decoded, units.len() * 6);
    }
    match text.as_bytes().get(1) {
        Some(b'/') => ("/".to_owned(), 2),
        Some(b'"') => ("\"".to_owned(), 2),
        _ => ("\\".to_owned(), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-proj-abcdefghijklmnopqrstuv0123";

    fn kinds(text: &str, known: &[String]) -> Vec<String> {
        scan(text, known).into_iter().map(|f| f.kind).collect()
    }

    #[test]
    fn finds_a_key_in_clear_once() {
        let found = scan(&format!("{KEY} and again {KEY}"), &[]);
        assert_eq!(found, [Found { secret: KEY.into(), kind: "openai-key".into() }]);
    }

    #[test]
    fn finds_a_base64_encoded_key_in_either_alphabet() {
        for engine in
            [base64::engine::general_purpose::STANDARD, base64::engine::general_purpose::URL_SAFE_NO_PAD]
        {
            let text = format!("blob {} end", engine.encode(format!("key={KEY}\n")));
            assert_eq!(kinds(&text, &[]), ["openai-key, base64-encoded"], "{text}");
        }
    }

    #[test]
    fn finds_percent_and_unicode_escaped_keys() {
        let percent: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
        assert_eq!(kinds(&format!("?note={percent}&x=1"), &[]), ["openai-key, percent-encoded"]);
        let escaped = KEY.replacen('s', "\\u0073", 1).replacen('p', "\\u0070", 1);
        assert_eq!(kinds(&format!("\"{escaped}\""), &[]), ["openai-key, \\u-escaped"]);
    }

    #[test]
    fn finds_a_key_split_across_lines_and_names_its_first_line() {
        let text = format!("first\n{}\n    {}\n\nlast line", &KEY[..12], &KEY[12..]);
        let split = split_across_lines(&text);
        assert_eq!(split.len(), 1);
        assert_eq!((split[0].0.secret.as_str(), split[0].1), (KEY, 1));
        assert_eq!(kinds(&text, &[]), ["openai-key, split across lines"]);
    }

    #[test]
    fn keys_on_consecutive_lines_are_not_joined() {
        let other = "sk-ant-api03-abcdefghijklmnopqrstuv0123";
        assert!(split_across_lines(&format!("{KEY}\n{other}\nya29.{KEY}\nblob: x")).is_empty());
    }

    #[test]
    fn finds_known_secrets_encoded_too() {
        let known = vec!["hunter2-hunter2".to_owned()];
        let encoded = base64::engine::general_purpose::STANDARD.encode("user:hunter2-hunter2");
        assert_eq!(kinds(&format!("Basic {encoded}"), &known), ["known opaque, base64-encoded"]);
        assert_eq!(kinds("pw=hunter2%2Dhunter2", &known), ["known opaque, percent-encoded"]);
    }

    #[test]
    fn ordinary_text_and_binary_base64_are_clean() {
        assert!(scan("The quick brown fox; 2026-05-16T10:00:00Z; id 01a20c6e-0c8e-71e1", &[]).is_empty());
        let noise = base64::engine::general_purpose::STANDARD
            .encode([0u8, 255, 3, 200, 17, 99, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert!(scan(&noise, &[]).is_empty());
    }

    #[test]
    fn escapes_decode_like_json() {
        assert_eq!(unescape(r"a\u00e9\ud83d\ude00\/\x"), "aé😀/\\x");
        assert_eq!(percent_decode_lenient("a%2Db%zz%4"), "a-b%zz%4");
    }
}
