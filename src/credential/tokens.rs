//! Token shapes: the prefixes and character sets of provider keys, JWTs and
//! other credentials, and a fast finder for them in any text.
//!
//! `audit` reports what [`find_tokens`] finds in files; the recorder redacts
//! it wherever it appears in an exchange.

use std::ops::Range;

/// Which characters a token may contain after its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    /// `A-Z a-z 0-9 - _`
    Token,
    /// `A-Z a-z 0-9`
    Alnum,
    /// `A-Z 0-9`
    UpperAlnum,
    /// base64url and `.`: the three segments of a JWT.
    Jwt,
}

impl Charset {
    fn allows(self, c: u8) -> bool {
        match self {
            Self::Token => c.is_ascii_alphanumeric() || c == b'-' || c == b'_',
            Self::Alnum => c.is_ascii_alphanumeric(),
            Self::UpperAlnum => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Self::Jwt => c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.',
        }
    }
}

/// A token shape: a fixed prefix followed by `min..=max` characters of a charset.
#[derive(Debug, Clone, Copy)]
pub struct TokenPattern {
    /// What the hit is reported as.
    pub kind: &'static str,
    prefix: &'static str,
    charset: Charset,
    min: usize,
    max: usize,
}

const fn pattern(
    kind: &'static str,
    prefix: &'static str,
    charset: Charset,
    min: usize,
    max: usize,
) -> TokenPattern {
    TokenPattern { kind, prefix, charset, min, max }
}

/// The token patterns, most specific first (`sk-ant-` before `sk-`).
pub const PATTERNS: &[TokenPattern] = &[
    pattern("anthropic-key", "sk-ant-", Charset::Token, 20, 400),
    pattern("openrouter-key", "sk-or-", Charset::Token, 20, 400),
    pattern("openai-key", "sk-", Charset::Token, 20, 400),
    pattern("github-token", "ghp_", Charset::Alnum, 36, 255),
    pattern("github-token", "gho_", Charset::Alnum, 36, 255),
    pattern("github-token", "ghu_", Charset::Alnum, 36, 255),
    pattern("github-token", "ghs_", Charset::Alnum, 36, 255),
    pattern("github-token", "ghr_", Charset::Alnum, 36, 255),
    pattern("github-token", "github_pat_", Charset::Token, 60, 255),
    pattern("aws-access-key", "AKIA", Charset::UpperAlnum, 16, 16),
    pattern("aws-access-key", "ASIA", Charset::UpperAlnum, 16, 16),
    pattern("google-api-key", "AIza", Charset::Token, 35, 35),
    pattern("slack-token", "xoxb-", Charset::Token, 20, 255),
    pattern("slack-token", "xoxp-", Charset::Token, 20, 255),
    // A JWT's header and payload are JSON objects, so both start `eyJ` (`{"`).
    pattern("jwt", "eyJ", Charset::Jwt, 20, 16 * 1024),
];

/// A token found in a text: what it looks like and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The pattern's kind, e.g. `openai-key`.
    pub kind: &'static str,
    /// Byte range of the token in the text.
    pub range: Range<usize>,
}

/// Every token-shaped value in `text` that is not inside a redaction marker.
///
/// The recorder calls this on every string of every exchange, nearly all of
/// which hold no token: one pass finds where any prefix occurs, and only
/// those places are looked at further.
pub fn find_tokens(text: &str) -> Vec<Token> {
    let hits = prefix_hits(text.as_bytes());
    if hits.is_empty() {
        return Vec::new();
    }
    let markers = marker_spans(text);
    let mut found: Vec<Token> = Vec::new();
    for (index, p) in PATTERNS.iter().enumerate() {
        // Occurrences of one prefix do not overlap (as with `match_indices`).
        let mut next = 0;
        for &(_, start) in hits.iter().filter(|(i, _)| *i == index) {
            if start < next {
                continue;
            }
            next = start + p.prefix.len();
            let overlaps = |r: &Range<usize>| r.start <= start && start < r.end;
            if found.iter().any(|t| overlaps(&t.range)) || markers.iter().any(overlaps) {
                continue;
            }
            if let Some(range) = match_at(text.as_bytes(), start, p) {
                found.push(Token { kind: p.kind, range });
            }
        }
    }
    found.sort_by_key(|t| t.range.start);
    found
}

/// For each byte, the patterns whose prefix starts with it, as a bit set
/// over [`PATTERNS`] (so the scan tests only those).
const PREFIX_STARTS: [u32; 256] = {
    assert!(PATTERNS.len() <= 32);
    let mut starts = [0; 256];
    let mut i = 0;
    while i < PATTERNS.len() {
        starts[PATTERNS[i].prefix.as_bytes()[0] as usize] |= 1 << i;
        i += 1;
    }
    starts
};

/// `(pattern index, offset)` of every occurrence of a pattern prefix, by offset.
fn prefix_hits(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut hits = Vec::new();
    for (at, &byte) in bytes.iter().enumerate() {
        let mut candidates = PREFIX_STARTS[usize::from(byte)];
        while candidates != 0 {
            let index = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            if bytes[at..].starts_with(PATTERNS[index].prefix.as_bytes()) {
                hits.push((index, at));
            }
        }
    }
    hits
}

fn match_at(bytes: &[u8], start: usize, p: &TokenPattern) -> Option<Range<usize>> {
    // A token starts at a boundary: `task-…` holds no `sk-` key.
    if start > 0 && Charset::Token.allows(bytes[start - 1]) {
        return None;
    }
    let body = start + p.prefix.len();
    let end = body + bytes[body..].iter().take_while(|&&c| p.charset.allows(c)).count();
    let end = if p.charset == Charset::Jwt { jwt_end(bytes, start, end)? } else { end };
    let len = end - body;
    (p.min <= len && len <= p.max).then_some(start..end)
}

/// The end of the JWT in `bytes[start..run_end]`: three dot-separated
/// segments (the signature may be empty), the header a JSON object.
fn jwt_end(bytes: &[u8], start: usize, run_end: usize) -> Option<usize> {
    let run = std::str::from_utf8(&bytes[start..run_end]).ok()?;
    let mut dots = run.match_indices('.').map(|(i, _)| i);
    let (_, second) = (dots.next()?, dots.next()?);
    let sig_len = run[second + 1..].find('.').unwrap_or(run.len() - second - 1);
    let end = second + 1 + sig_len;
    // An unsigned JWT ends with its second dot; keep that dot as part of the token.
    super::looks_like_jwt(&run[..end]).then_some(start + end)
}

/// Byte ranges of `[REDACTED …]` markers (also their `%20` URL form).
fn marker_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    for prefix in ["[REDACTED ", "[REDACTED%20"] {
        for (start, _) in text.match_indices(prefix) {
            if let Some(len) = text[start..].find(']') {
                spans.push(start..start + len + 1);
            }
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    fn kinds(text: &str) -> Vec<&'static str> {
        find_tokens(text).into_iter().map(|t| t.kind).collect()
    }

    mod find_tokens {
        use super::*;

        #[test]
        fn finds_provider_keys_by_their_most_specific_prefix() {
            let text = "a sk-ant-api03-abcdefghijklmnopqrstuv b sk-or-v1-abcdefghijklmnopqrstuv c sk-proj-abcdefghijklmnopqrstuv";
            assert_eq!(kinds(text), ["anthropic-key", "openrouter-key", "openai-key"]);
        }

        #[test]
        fn finds_github_and_aws_keys() {
            assert_eq!(kinds("ghp_0123456789abcdefghij0123456789abcdef"), ["github-token"]);
            assert_eq!(kinds("key=AKIAIOSFODNN7EXAMPLE&x"), ["aws-access-key"]);
        }

        #[test]
        fn finds_a_jwt_with_its_exact_extent() {
            let jwt = crate::credential::mint_unsigned_jwt(&serde_json::json!({"sub": "user-123456"}));
            let text = format!("Bearer {jwt} next");
            let tokens = find_tokens(&text);
            assert_eq!(tokens.len(), 1);
            assert_eq!(&text[tokens[0].range.clone()], jwt);
        }

        #[test]
        fn a_signed_jwt_ends_before_a_sentence_dot() {
            let unsigned = crate::credential::mint_unsigned_jwt(&serde_json::json!({"sub": "user-123456"}));
            let jwt = format!("{unsigned}c2lnbmF0dXJl");
            let text = format!("token {jwt}.");
            assert_eq!(&text[find_tokens(&text)[0].range.clone()], jwt);
        }

        #[test]
        fn text_without_any_prefix_has_no_tokens() {
            assert!(prefix_hits(b"Bearer [REDACTED sha256:1f0c2a9b7d3e] application/json").is_empty());
        }

        #[test]
        fn prefix_hits_name_every_pattern_that_starts_there() {
            let hits = prefix_hits(b"x sk-ant-y");
            let kinds: Vec<_> = hits.iter().map(|(i, at)| (PATTERNS[*i].kind, *at)).collect();
            assert_eq!(kinds, [("anthropic-key", 2), ("openai-key", 2)]);
        }

        #[test]
        fn repeated_prefixes_are_each_considered() {
            let text = "sk-abcdefghijklmnopqrstuvwxyz sk-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
            assert_eq!(kinds(text), ["openai-key", "openai-key"]);
        }

        #[test]
        fn needs_a_boundary_before_the_prefix() {
            assert!(kinds("task-abcdefghijklmnopqrstuvwxyz").is_empty());
        }

        #[test]
        fn short_values_are_not_tokens() {
            assert!(kinds("sk-short and eyJhbGciOi.x").is_empty());
        }

        #[test]
        fn markers_and_fingerprints_are_not_tokens() {
            let marker = crate::credential::redaction_marker("sk-proj-abcdefghijklmnopqrstuv");
            assert!(kinds(&format!("Bearer {marker} sha256:1f0c2a9b7d3e")).is_empty());
            assert!(kinds("[REDACTED sk-proj-abcdefghijklmnopqrstuv]").is_empty());
            assert!(kinds("?key=[REDACTED%20sk-proj-abcdefghijklmnopqrstuv]").is_empty());
        }
    }
}
