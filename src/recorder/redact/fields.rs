//! What a secret's position looks like: field names that hold secrets (JSON
//! keys, form fields, query parameters, multipart parts) and headers that
//! carry credentials, with where the secret sits in each.

use crate::credential::{CREDENTIAL_HEADERS, Placement};

/// When a field with a secret-sounding name holds a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldRule {
    /// Always (non-empty strings).
    Always,
    /// Only when the value looks like a token ([`secret_shaped`]): names such
    /// as `key` and `token` also label ordinary data (`"token": "Hello"` in logprobs).
    IfSecretShaped,
    /// Like a credential header: `Bearer <secret>`.
    AfterScheme,
}

/// Field names (JSON keys, form fields, query parameters) that hold secrets,
/// compared as [`is_field`] does (`refresh_token`, `refreshToken` and
/// `refresh-token` are one name).
pub(super) const SECRET_FIELDS: &[(&str, FieldRule)] = &[
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
    ("key", FieldRule::IfSecretShaped),
    ("token", FieldRule::IfSecretShaped),
    ("access", FieldRule::IfSecretShaped),
    ("refresh", FieldRule::IfSecretShaped),
    ("signature", FieldRule::IfSecretShaped),
    ("sig", FieldRule::IfSecretShaped),
    ("auth", FieldRule::IfSecretShaped),
    ("authorization", FieldRule::AfterScheme),
];

/// Whether `name`, lower-cased without `_` and `-`, is `normalized`.
pub(super) fn is_field(name: &str, normalized: &str) -> bool {
    name.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).eq(normalized.chars())
}

/// The rule of the secret field `name` is, if it is one. This runs for every
/// JSON key of every exchange, so ASCII names (nearly all) are normalised
/// once on the stack rather than allocated or compared char by char.
pub(super) fn secret_field_rule(name: &str) -> Option<FieldRule> {
    if !name.is_ascii() {
        return SECRET_FIELDS.iter().find(|(n, _)| is_field(name, n)).map(|(_, rule)| *rule);
    }
    // Longer than every name in SECRET_FIELDS.
    let mut buf = [0u8; 24];
    let mut len = 0;
    for byte in name.bytes().filter(|b| *b != b'_' && *b != b'-') {
        *buf.get_mut(len)? = byte.to_ascii_lowercase();
        len += 1;
    }
    SECRET_FIELDS.iter().find(|(n, _)| n.as_bytes() == &buf[..len]).map(|(_, rule)| *rule)
}

/// The secret inside field `name` holding `value`, if the name is a secret's.
pub(super) fn field_secret<'a>(name: &str, value: &'a str) -> Option<&'a str> {
    let rule = secret_field_rule(name)?;
    let secret = match rule {
        FieldRule::Always => value,
        FieldRule::IfSecretShaped => Some(value).filter(|v| secret_shaped(v))?,
        FieldRule::AfterScheme => after_scheme(value),
    };
    (!secret.is_empty() && !is_redacted(secret)).then_some(secret)
}

/// At least 16 characters of one word, with letters and digits: how keys and tokens look.
pub(super) fn secret_shaped(value: &str) -> bool {
    value.len() >= 16
        && !value.chars().any(char::is_whitespace)
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
}

/// `Bearer abc` → `abc`; a value without a scheme is all secret.
pub(super) fn after_scheme(value: &str) -> &str {
    match value.trim().split_once(' ') {
        Some((_, rest)) => rest.trim_start(),
        None => value.trim(),
    }
}

/// Already a marker (or holding one): never a secret again.
pub(super) fn is_redacted(value: &str) -> bool {
    value.contains("[REDACTED")
}

/// A marker in a URL or form body: the same marker, with its space encoded.
pub(super) fn url_marker(marker: &str) -> String {
    marker.replace(' ', "%20")
}

/// The secrets in a credential header's value, as slices of it.
pub(super) fn header_secrets<'a>(placement: Placement, value: &'a str) -> Vec<&'a str> {
    let pair_value = |pair: &'a str| pair.split_once('=').map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let secrets = match placement {
        Placement::AfterScheme => vec![after_scheme(value)],
        Placement::Whole => vec![value.trim()],
        Placement::Cookies => value.split(';').filter_map(pair_value).collect(),
        Placement::SetCookie => value.split(';').next().and_then(pair_value).into_iter().collect(),
    };
    secrets.into_iter().filter(|s| !s.is_empty() && !is_redacted(s)).collect()
}

/// `value` with each `name=secret` replaced by `name=<marker>`, rebuilt
/// pair by pair so a secret equal to a cookie name cannot clobber the name.
pub(super) fn replace_pair_values(
    value: &str,
    secrets: &[&str],
    mark: &mut dyn FnMut(&str) -> String,
) -> String {
    value
        .split(';')
        .map(|pair| match pair.split_once('=') {
            Some((name, v)) if secrets.contains(&v.trim()) => format!("{name}={}", mark(v.trim())),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Where the secret sits in header `name` (lower-case), if it carries one:
/// a known credential header ([`CREDENTIAL_HEADERS`]), or a custom header
/// named like one (`x-openai-token`, `x-custom-secret`), whose value is all
/// secret but for an auth scheme.
pub(super) fn header_placement(name: &str) -> Option<Placement> {
    if let Some((_, placement)) = CREDENTIAL_HEADERS.iter().find(|(n, _)| *n == name) {
        return Some(*placement);
    }
    credential_named(name).then_some(Placement::AfterScheme)
}

/// Words that make a header name a credential's: `x-session-token`,
/// `x-client-secret`, `x-my-api-key`. Counters and limits
/// (`x-ratelimit-remaining-tokens`) are not.
const CREDENTIAL_WORDS: &[&str] =
    &["token", "secret", "password", "passwd", "credential", "credentials", "auth", "signature"];

/// Key-words that name a credential only after their qualifier (`api-key`, not `idempotency-key`).
const CREDENTIAL_KEYS: &[&str] = &["apikey", "accesskey", "secretkey", "privatekey", "authkey"];

fn credential_named(name: &str) -> bool {
    let words: Vec<&str> = name.split(['-', '_']).filter(|w| !w.is_empty()).collect();
    if words.iter().any(|w| *w == "ratelimit" || *w == "limit") {
        return false;
    }
    words.iter().any(|w| CREDENTIAL_WORDS.contains(w))
        || words.windows(2).any(|pair| CREDENTIAL_KEYS.contains(&pair.concat().as_str()))
}
