//! Token shapes and credential positions: what a secret looks like, and
//! where one sits in an exchange.
//!
//! Two halves, shared by the recorder (which redacts what they find) and
//! `audit` (which reports what they find in files), so both agree on what a
//! secret is:
//!
//! - **shapes** — [`PATTERNS`], the prefixes and character sets of provider
//!   keys (every provider of the shipped catalog, and the usual others), JWTs
//!   and cloud tokens, with [`find_tokens`], a fast finder for them in any text;
//! - **positions** — the names that label a credential: [`header_secrets`] for
//!   a header (the listed credential headers, and any whose name sounds like
//!   one), [`field_secret`] for a JSON key, form or multipart field or query
//!   parameter, [`path_secrets`] for URL path segments (`/bot<token>/getMe`).
//!   Each returns the secret *inside* the value (after `Bearer `, each cookie
//!   value), or nothing for a redaction marker, a placeholder
//!   ([`is_placeholder`]) or, for names that also label ordinary data
//!   (`token`, `key`, `x-session-id`), a value that does not look like a
//!   secret ([`secret_shaped`]).

use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::{CREDENTIAL_HEADERS, Placement};

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

impl TokenPattern {
    /// The fixed prefix every token of this shape starts with.
    pub fn prefix(&self) -> &'static str {
        self.prefix
    }
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
///
/// The providers of the shipped catalog: OpenAI, Moonshot, LiteLLM, MiniMax
/// and OpenCode keys are `sk-…`, Anthropic `sk-ant-…` (keys and OAuth
/// tokens), OpenRouter `sk-or-…`, ChatGPT/Codex logins JWTs, Google keys
/// `AIza…` and its OAuth tokens `ya29.…`, xAI `xai-…`, Hugging Face `hf_…`,
/// NVIDIA `nvapi-…`, Together `tgp_v1_…`, GitHub Copilot's GitHub tokens
/// `gh?_…`; the local servers need none. Keys without a fixed shape (Azure,
/// fal, Ollama Cloud, ClawRouter, MiniMax OAuth) are found by the header
/// that carries them and as secrets seen. The others are the providers and
/// hosts a dispatcher's traffic meets most.
pub const PATTERNS: &[TokenPattern] = &[
    pattern("anthropic-key", "sk-ant-", Charset::Token, 20, 400),
    pattern("openrouter-key", "sk-or-", Charset::Token, 20, 400),
    pattern("openai-key", "sk-", Charset::Token, 20, 400),
    pattern("google-api-key", "AIza", Charset::Token, 35, 35),
    pattern("google-oauth-token", "ya29.", Charset::Token, 20, 4096),
    pattern("google-refresh-token", "1//0", Charset::Token, 20, 512),
    pattern("xai-key", "xai-", Charset::Alnum, 40, 200),
    pattern("groq-key", "gsk_", Charset::Alnum, 40, 100),
    pattern("huggingface-token", "hf_", Charset::Alnum, 30, 60),
    pattern("nvidia-key", "nvapi-", Charset::Token, 40, 120),
    pattern("together-key", "tgp_v1_", Charset::Token, 30, 120),
    pattern("perplexity-key", "pplx-", Charset::Alnum, 40, 100),
    pattern("replicate-token", "r8_", Charset::Alnum, 30, 60),
    pattern("github-token", "ghp_", Charset::Alnum, 36, 255),
    pattern("github-token", "gho_", Charset::Alnum, 36, 255),
    pattern("github-token", "ghu_", Charset::Alnum, 36, 255),
    pattern("github-token", "ghs_", Charset::Alnum, 36, 255),
    pattern("github-token", "ghr_", Charset::Alnum, 36, 255),
    pattern("github-token", "github_pat_", Charset::Token, 60, 255),
    pattern("gitlab-token", "glpat-", Charset::Token, 20, 100),
    pattern("aws-access-key", "AKIA", Charset::UpperAlnum, 16, 16),
    pattern("aws-access-key", "ASIA", Charset::UpperAlnum, 16, 16),
    pattern("slack-token", "xoxb-", Charset::Token, 20, 255),
    pattern("slack-token", "xoxp-", Charset::Token, 20, 255),
    pattern("stripe-key", "sk_live_", Charset::Alnum, 20, 255),
    pattern("stripe-key", "rk_live_", Charset::Alnum, 20, 255),
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
    if text.len() < SHORTEST_TOKEN {
        return Vec::new();
    }
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

/// The length of the shortest token any shape matches.
pub const SHORTEST_TOKEN: usize = {
    let mut shortest = usize::MAX;
    let mut i = 0;
    while i < PATTERNS.len() {
        let len = PATTERNS[i].prefix.len() + PATTERNS[i].min;
        if len < shortest {
            shortest = len;
        }
        i += 1;
    }
    shortest
};

/// Whether `bytes` may hold a token: long enough, and holding the prefix of
/// a shape. Where it says no, [`find_tokens`] finds nothing.
pub fn may_hold_token(bytes: &[u8]) -> bool {
    bytes.len() >= SHORTEST_TOKEN && PREFIXES.is_match(bytes)
}

/// The prefixes of [`PATTERNS`], in their order, as one automaton.
static PREFIXES: LazyLock<AhoCorasick> = LazyLock::new(|| automaton(PATTERNS.iter().map(|p| p.prefix)));

/// One automaton finding any of `words` (fixed, valid patterns): a DFA,
/// since the words start with too many different bytes for a prefilter to
/// skip ahead, and a DFA costs the fewest instructions per byte.
fn automaton<'w>(words: impl IntoIterator<Item = &'w str>) -> AhoCorasick {
    AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).build(words).expect("fixed patterns build")
}

/// Every place a pattern's prefix starts, as (pattern index, offset), by offset.
fn prefix_hits(bytes: &[u8]) -> Vec<(usize, usize)> {
    if !PREFIXES.is_match(bytes) {
        return Vec::new();
    }
    let mut hits: Vec<(usize, usize)> =
        PREFIXES.find_overlapping_iter(bytes).map(|m| (m.pattern().as_usize(), m.start())).collect();
    hits.sort_unstable_by_key(|&(index, at)| (at, index));
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

// ---- Credential positions ----

/// When a value under a credential-sounding name is a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    /// Any value but a placeholder ([`is_placeholder`]): `api_key`, `client_secret`, `password`.
    Always,
    /// Only a value that looks like a secret ([`secret_shaped`]): names such
    /// as `key` and `token` also label ordinary data (`"token": "Hello"` in logprobs).
    IfSecretShaped,
    /// Like a credential header: the part after a scheme (`Bearer <secret>`).
    AfterScheme,
}

/// Names of fields (JSON keys, form and multipart fields, query parameters)
/// that hold secrets, normalised as [`field_rule`] does: `refresh_token`,
/// `refreshToken` and `refresh-token` are all `refreshtoken`.
const SECRET_FIELDS: &[(&str, FieldRule)] = &[
    ("accesstoken", FieldRule::Always),
    ("refreshtoken", FieldRule::Always),
    ("idtoken", FieldRule::Always),
    ("clientsecret", FieldRule::Always),
    ("password", FieldRule::Always),
    ("passwd", FieldRule::Always),
    ("apikey", FieldRule::Always),
    ("codeverifier", FieldRule::Always),
    ("secret", FieldRule::Always),
    ("privatekey", FieldRule::Always),
    ("sessiontoken", FieldRule::Always),
    ("authtoken", FieldRule::Always),
    ("xamzsecuritytoken", FieldRule::Always),
    ("xamzsignature", FieldRule::Always),
    ("xamzcredential", FieldRule::Always),
    ("xgoogsignature", FieldRule::Always),
    ("key", FieldRule::IfSecretShaped),
    ("token", FieldRule::IfSecretShaped),
    ("access", FieldRule::IfSecretShaped),
    ("refresh", FieldRule::IfSecretShaped),
    ("auth", FieldRule::IfSecretShaped),
    ("code", FieldRule::IfSecretShaped),
    ("signature", FieldRule::IfSecretShaped),
    ("sig", FieldRule::IfSecretShaped),
    ("authorization", FieldRule::AfterScheme),
];

/// Endings of normalised names that make any field a credential's:
/// `openai_api_key`, `githubToken`, `aws_secret_access_key`.
const SECRET_SUFFIXES: &[(&str, FieldRule)] = &[
    ("apikey", FieldRule::Always),
    ("accesstoken", FieldRule::Always),
    ("refreshtoken", FieldRule::Always),
    ("idtoken", FieldRule::Always),
    ("authtoken", FieldRule::Always),
    ("clientsecret", FieldRule::Always),
    ("secretkey", FieldRule::Always),
    ("secretaccesskey", FieldRule::Always),
    ("password", FieldRule::Always),
    ("secret", FieldRule::Always),
    ("token", FieldRule::IfSecretShaped),
];

/// Names that end like a credential's but hold none: pagination cursors.
const NOT_SECRET_SUFFIXES: &[&str] =
    &["pagetoken", "nexttoken", "continuationtoken", "synctoken", "cursortoken"];

/// Longest field name that can be a credential's (longer ones are data).
const MAX_FIELD_NAME: usize = 64;

/// Whether a value under field `name` can be a secret, and when: the names
/// of [`SECRET_FIELDS`], and names ending like them ([`SECRET_SUFFIXES`]),
/// compared lower-case without `_`, `-` and `.`. This runs for every JSON
/// key of every exchange, so the name is normalised on the stack.
pub fn field_rule(name: &str) -> Option<FieldRule> {
    let mut buf = [0u8; MAX_FIELD_NAME];
    let mut len = 0;
    for byte in name.bytes().filter(|b| !matches!(b, b'_' | b'-' | b'.')) {
        *buf.get_mut(len)? = byte.to_ascii_lowercase();
        len += 1;
    }
    let normalized = &buf[..len];
    if let Some((_, rule)) = SECRET_FIELDS.iter().find(|(n, _)| n.as_bytes() == normalized) {
        return Some(*rule);
    }
    if NOT_SECRET_SUFFIXES.iter().any(|s| normalized.ends_with(s.as_bytes())) {
        return None;
    }
    SECRET_SUFFIXES.iter().find(|(s, _)| normalized.ends_with(s.as_bytes())).map(|(_, rule)| *rule)
}

/// The secret in `value` when it sits under field `name` (a JSON key, a form
/// or multipart field, a query parameter), if the name is a credential's and
/// the value one by its [`FieldRule`].
pub fn field_secret<'a>(name: &str, value: &'a str) -> Option<&'a str> {
    let secret = match field_rule(name)? {
        FieldRule::Always => value.trim(),
        FieldRule::IfSecretShaped => Some(value.trim()).filter(|v| secret_shaped(v))?,
        FieldRule::AfterScheme => after_scheme(value),
    };
    (!is_redacted(secret) && !is_placeholder(secret)).then_some(secret)
}

/// Parts of header names that label a credential, beyond the listed
/// [`CREDENTIAL_HEADERS`]: `x-openai-token`, `x-custom-secret`, `x-session-key`.
const SECRET_HEADER_WORDS: &[&str] = &[
    "token",
    "secret",
    "api-key",
    "apikey",
    "api_key",
    "auth",
    "password",
    "passwd",
    "session",
    "cookie",
    "credential",
    "signature",
];

/// Headers whose names sound like a credential's but that carry none:
/// challenges and their answers' metadata.
const NOT_SECRET_HEADERS: &[&str] = &["www-authenticate", "proxy-authenticate", "authentication-info"];

/// The secrets in the value of header `name` (any case), as slices of it.
///
/// A listed credential header ([`CREDENTIAL_HEADERS`]) holds one wherever
/// its [`Placement`] says (after the scheme, the whole value, each cookie
/// value) unless that is a placeholder; any other header whose name sounds
/// like a credential's ([`SECRET_HEADER_WORDS`]) holds one when its value
/// (after a scheme) looks like a secret — so a session UUID or a rate-limit
/// count is not one.
pub fn header_secrets<'a>(name: &str, value: &'a str) -> Vec<&'a str> {
    let name = name.to_ascii_lowercase();
    let secrets = match CREDENTIAL_HEADERS.iter().find(|(n, _)| *n == name) {
        Some((_, placement)) => placed_secrets(*placement, value),
        None if header_sounds_secret(&name) => {
            Some(after_scheme(value)).filter(|v| secret_shaped(v) || opaque_value(v)).into_iter().collect()
        }
        None => Vec::new(),
    };
    secrets.into_iter().filter(|s| !is_redacted(s) && !is_placeholder(s)).collect()
}

/// Whether header `name` (lower-case) sounds like it carries a credential.
/// Rate-limit headers (`x-ratelimit-remaining-tokens`) count tokens; they hold none.
pub fn header_sounds_secret(name: &str) -> bool {
    static WORDS: LazyLock<AhoCorasick> = LazyLock::new(|| automaton(SECRET_HEADER_WORDS.iter().copied()));
    WORDS.is_match(name) && !NOT_SECRET_HEADERS.contains(&name) && !name.contains("ratelimit")
}

/// A value that is data of no other kind — no placeholder, number, date or
/// UUID (a session id) — so under a credential's name it is taken for one,
/// however short or plain.
fn opaque_value(value: &str) -> bool {
    !is_placeholder(value)
        && !value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !is_uuid(value)
        && !is_date(value)
        && !value.chars().any(char::is_whitespace)
}

/// Where a [`Placement`] puts the secrets of a header value.
pub fn placed_secrets(placement: Placement, value: &str) -> Vec<&str> {
    fn pair_value(pair: &str) -> Option<&str> {
        pair.split_once('=').map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
    match placement {
        Placement::AfterScheme => vec![after_scheme(value)],
        Placement::Whole => vec![value.trim()],
        Placement::Cookies => value.split(';').filter_map(pair_value).collect(),
        Placement::SetCookie => value.split(';').next().and_then(pair_value).into_iter().collect(),
    }
}

/// `Bearer abc` → `abc`; a value without a scheme is all secret, and so is
/// a redaction marker (its space is no scheme's).
pub fn after_scheme(value: &str) -> &str {
    if value.trim_start().starts_with("[REDACTED") {
        return value.trim();
    }
    match value.trim().split_once(' ') {
        Some((_, rest)) => rest.trim_start(),
        None => value.trim(),
    }
}

/// The segments of a URL path (without its query) that are tokens: the
/// token of a bot API (`/bot<token>/getMe`), and long random segments that
/// mix upper case, lower case and digits and do not start like an id
/// (`resp_…`, `file-…`). Token-shaped segments ([`find_tokens`]) are found
/// anywhere anyway.
pub fn path_secrets(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| match segment.strip_prefix("bot") {
            Some(token) if bot_token(token) => Some(token),
            _ => random_segment(segment).then_some(segment),
        })
        .filter(|s| !is_redacted(s))
        .collect()
}

/// `123456:AAH…` (a Telegram bot token) or any secret-shaped value after `bot`.
fn bot_token(token: &str) -> bool {
    let telegram = token.split_once(':').is_some_and(|(id, rest)| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && rest.len() >= 20
    });
    token.len() >= 20 && (telegram || secret_shaped(token))
}

fn random_segment(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let id_prefix = bytes
        .iter()
        .take(16)
        .position(|b| matches!(b, b'_' | b'-'))
        .is_some_and(|at| at > 0 && bytes[..at].iter().all(u8::is_ascii_lowercase));
    bytes.len() >= 32
        && bytes.iter().all(|&b| Charset::Token.allows(b))
        && bytes.iter().any(u8::is_ascii_uppercase)
        && bytes.iter().any(u8::is_ascii_lowercase)
        && bytes.iter().any(u8::is_ascii_digit)
        && !id_prefix
}

/// At least 16 characters of one word, with letters and digits, that is not
/// plain data (a UUID, a date): how keys and tokens look.
pub fn secret_shaped(value: &str) -> bool {
    value.len() >= 16
        && !value.chars().any(char::is_whitespace)
        && value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
        && !is_uuid(value)
        && !is_date(value)
}

fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `2026-05-16…`: a timestamp.
fn is_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() >= 10
        && bytes[..10].iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// Words that stand where a secret would, but are none.
const PLACEHOLDER_WORDS: &[&str] = &[
    "bearer",
    "basic",
    "token",
    "null",
    "none",
    "undefined",
    "redacted",
    "changeme",
    "password",
    "secret",
    "example",
    "placeholder",
    "dummy",
    "apikey",
    "api_key",
    "api-key",
];

/// Shortest value in a credential position that is taken for a secret.
pub const MIN_SECRET_LEN: usize = 6;

/// A value that stands in a credential position without being a secret:
/// empty or shorter than [`MIN_SECRET_LEN`], a scheme or word alone
/// (`Bearer`, `null`), one character repeated (`xxxxxxxx`, `********`), or a
/// template (`<your key>`, `${OPENAI_API_KEY}`, `$OPENAI_API_KEY`, `{{key}}`, `your-api-key`).
pub fn is_placeholder(value: &str) -> bool {
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    let lower = value.to_ascii_lowercase();
    let first = value.chars().next().unwrap_or(' ');
    let env_var = value.strip_prefix('$').is_some_and(|name| {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    });
    value.chars().count() < MIN_SECRET_LEN
        || PLACEHOLDER_WORDS.contains(&lower.as_str())
        || value.chars().all(|c| c == first || c == '-')
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with("${") && value.ends_with('}'))
        || (value.starts_with("{{") && value.ends_with("}}"))
        || env_var
        || lower.starts_with("your-")
        || lower.starts_with("your_")
}

/// Already a redaction marker (or holding one): never a secret again.
pub fn is_redacted(value: &str) -> bool {
    value.contains("[REDACTED")
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

    mod positions {
        use super::*;

        #[test]
        fn field_names_are_normalised_and_matched_by_ending() {
            for name in [
                "api_key",
                "apiKey",
                "API-KEY",
                "openai_api_key",
                "client.secret",
                "refreshToken",
                "aws_secret_access_key",
            ] {
                assert_eq!(field_rule(name), Some(FieldRule::Always), "{name}");
            }
            for name in ["token", "key", "auth", "sig", "github_token"] {
                assert_eq!(field_rule(name), Some(FieldRule::IfSecretShaped), "{name}");
            }
            for name in ["max_tokens", "next_page_token", "model", "prompt_cache_key", "tokens"] {
                assert_eq!(field_rule(name), None, "{name}");
            }
        }

        #[test]
        fn field_secrets_skip_placeholders_markers_and_ordinary_data() {
            assert_eq!(field_secret("api_key", " 0123456789abcdef "), Some("0123456789abcdef"));
            assert_eq!(field_secret("authorization", "Bearer 0123456789abcdef"), Some("0123456789abcdef"));
            assert_eq!(field_secret("token", "Hello"), None);
            assert_eq!(field_secret("token", "01a20c6e-0c8e-71e1-9cb6-f16bb6bb0f24"), None);
            for placeholder in [
                "",
                "Bearer",
                "${OPENAI_API_KEY}",
                "$OPENAI_API_KEY",
                "<your key>",
                "********",
                "your-api-key",
                "null",
            ] {
                assert_eq!(field_secret("api_key", placeholder), None, "{placeholder}");
            }
            assert_eq!(field_secret("api_key", "[REDACTED sha256:0123456789ab]"), None);
        }

        #[test]
        fn header_secrets_by_list_and_by_name() {
            assert_eq!(header_secrets("Authorization", "Bearer 0123456789abcdef"), ["0123456789abcdef"]);
            assert_eq!(header_secrets("cookie", "a=0123456789; theme=dark"), ["0123456789"]);
            assert_eq!(header_secrets("x-openai-token", "0123456789abcdef01"), ["0123456789abcdef01"]);
            assert!(header_secrets("x-session-id", "01a20c6e-0c8e-71e1-9cb6-f16bb6bb0f24").is_empty());
            assert!(header_secrets("x-ratelimit-remaining-tokens", "149984").is_empty());
            assert!(
                header_secrets("www-authenticate", "Bearer realm=\"api\", error=\"invalid_token1234567\"")
                    .is_empty()
            );
            assert!(header_secrets("content-type", "0123456789abcdef0123").is_empty());
        }

        #[test]
        fn path_secrets_are_bot_tokens_and_random_segments() {
            assert_eq!(
                path_secrets("/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe"),
                ["123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"]
            );
            assert_eq!(
                path_secrets("/v1/k/Xq7ZpL2mN9vB4cR8tY1wE6uI3oA5sD0f/x"),
                ["Xq7ZpL2mN9vB4cR8tY1wE6uI3oA5sD0f"]
            );
            assert!(
                path_secrets("/v1/responses/resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b")
                    .is_empty()
            );
            assert!(path_secrets("/v1beta/models/gemini-2.5-pro:streamGenerateContent").is_empty());
            assert!(path_secrets("/bot/getMe").is_empty());
        }

        #[test]
        fn every_catalog_provider_that_needs_a_credential_has_a_shape() {
            // What each provider's keys look like; OAuth logins (openai-codex) are JWTs.
            let samples = [
                ("openai", "sk-proj-abcdefghijklmnopqrstuvwxyz0123"),
                (
                    "openai-codex",
                    &crate::credential::mint_unsigned_jwt(&serde_json::json!({"sub": "user-123456"})),
                ),
                ("codex", &crate::credential::mint_unsigned_jwt(&serde_json::json!({"sub": "user-123456"}))),
                ("anthropic", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"),
                ("openrouter", "sk-or-v1-abcdefghijklmnopqrstuvwxyz0123"),
                ("moonshot", "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD"),
                ("litellm", "sk-abcdefghijklmnopqrstuv"),
                ("google", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
                ("google-vertex", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
                ("google-gemini-cli", "ya29.a0AfH6SMBx3jKl9mN2pQ7rS4tU8vW1yZ0cD5eF"),
                ("xai", "xai-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"),
                ("huggingface", "hf_abcdefghijklmnopqrstuvwxyz012345"),
                ("nvidia", "nvapi-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"),
                ("together", "tgp_v1_abcdefghijklmnopqrstuvwxyz0123456789"),
                ("minimax", "sk-cp-abcdefghijklmnopqrstuvwxyz0123456789"),
                ("opencode-go", "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD"),
                ("github-copilot", "gho_abcdefghijklmnopqrstuvwxyz0123456789"),
            ];
            // Keys with no fixed shape: the redactor finds them in the secret
            // header they travel in (checked below) and as secrets seen.
            let shapeless = ["microsoft-foundry", "fal", "ollama-cloud", "clawrouter", "minimax-portal"];
            let catalog = crate::dispatch::Catalog::shipped().unwrap();
            for id in catalog.providers.iter().filter(|(_, p)| p.needs_credential).map(|(id, _)| id) {
                if shapeless.contains(&id.as_str()) {
                    for route in &catalog.providers[id].routes {
                        let api = &catalog.apis[&route.api];
                        let header = route.auth_rule(api, "opaque", None).and_then(|r| r.header.clone());
                        assert!(
                            header.is_some_and(|h| catalog.is_secret_header(&h)),
                            "{id}: no secret header"
                        );
                    }
                    continue;
                }
                let sample = samples.iter().find(|(p, _)| p == id).map(|(_, s)| *s);
                let sample = sample.unwrap_or_else(|| {
                    panic!("no key shape known for provider {id}: add a pattern and a sample")
                });
                let found = find_tokens(sample);
                assert!(found.len() == 1 && found[0].range.len() == sample.len(), "{id}: {sample}");
            }
        }

        #[test]
        fn finds_the_other_providers_keys() {
            let keys = [
                ("ya29.a0AfH6SMBx3jKl9mN2pQ7rS4tU8vW1yZ0cD5eF", "google-oauth-token"),
                ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "google-api-key"),
                ("gsk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL", "groq-key"),
                ("hf_abcdefghijklmnopqrstuvwxyz012345", "huggingface-token"),
                ("xai-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL", "xai-key"),
                ("nvapi-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL", "nvidia-key"),
                ("tgp_v1_abcdefghijklmnopqrstuvwxyz0123456789", "together-key"),
            ];
            for (key, kind) in keys {
                assert_eq!(kinds(&format!("x {key} y")), [kind], "{key}");
            }
            assert!(kinds("hf_hub_download and gsk_short").is_empty());
        }
    }
}
