//! The shared vocabulary for credentials: fingerprints, redaction markers,
//! credential kinds, the ChatGPT account claim inside a JWT, the facts a
//! cassette keeps of a credential, and the token shapes of [`tokens`].
//!
//! Recording (redaction, `meta.credentials`), the reference dispatcher (plans
//! name credentials by fingerprint) and the checks (observations) all speak
//! through these functions, so a fingerprint means the same thing everywhere.

pub mod tokens;

use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Prefix of every fingerprint.
pub const FINGERPRINT_PREFIX: &str = "sha256:";

/// `sha256:` + the first 12 hex digits of SHA-256 over `secret`.
///
/// Twelve hex digits (48 bits) are enough to tell the credentials of one
/// recording apart, and too few to confirm a guess of a real key offline.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    format!("{FINGERPRINT_PREFIX}{}", &hex::encode(digest)[..12])
}

/// The text that replaces a secret on disk: `[REDACTED sha256:<12 hex>]`.
pub fn redaction_marker(secret: &str) -> String {
    format!("[REDACTED {}]", fingerprint(secret))
}

/// If `text` is exactly a redaction marker, the fingerprint inside it.
pub fn fingerprint_in_marker(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("[REDACTED ")?.strip_suffix(']')?;
    is_fingerprint(inner).then_some(inner)
}

/// Whether `text` has the exact shape of a fingerprint.
pub fn is_fingerprint(text: &str) -> bool {
    text.strip_prefix(FINGERPRINT_PREFIX)
        .is_some_and(|hex| hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What a credential value is, judged from its shape alone.
///
/// The names are the `kind` values of the scenario format (docs/design.md) (`bearer.kind`) and of
/// `meta.credentials`.
pub fn classify(secret: &str) -> &'static str {
    if secret.starts_with("sk-ant-oat") {
        "anthropic-oauth"
    } else if secret.starts_with("sk-ant-") {
        "anthropic-key"
    } else if secret.starts_with("sk-or-") {
        "openrouter-key"
    } else if secret.starts_with("sk-") {
        "openai-key"
    } else if looks_like_jwt(secret) {
        "jwt"
    } else {
        "opaque"
    }
}

/// Three base64url segments separated by dots, the first decoding to a JSON object.
pub fn looks_like_jwt(secret: &str) -> bool {
    let mut parts = secret.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    decode_segment(header).is_some_and(|v| v.is_object())
}

/// The claims (payload) of a JWT, without verifying any signature.
pub fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    decode_segment(payload).filter(|v| v.is_object())
}

/// The ChatGPT account id of an OpenAI OAuth access token:
/// claim `"https://api.openai.com/auth".chatgpt_account_id`.
pub fn chatgpt_account_id(token: &str) -> Option<String> {
    let claims = jwt_claims(token)?;
    claims.get("https://api.openai.com/auth")?.get("chatgpt_account_id")?.as_str().map(str::to_owned)
}

/// Mint an unsigned JWT (`alg: none`) carrying `claims`; deterministic for
/// equal claims, so fixture fingerprints are stable.
pub fn mint_unsigned_jwt(claims: &serde_json::Value) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = engine.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// A fixture JWT: [`mint_unsigned_jwt`] of `claims` with base64url(`signature`)
/// as its signature segment (some clients, the Codex binary, refuse an empty one).
pub fn mint_fixture_jwt(claims: &serde_json::Value, signature: &str) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    mint_unsigned_jwt(claims) + &engine.encode(signature)
}

fn decode_segment(segment: &str) -> Option<serde_json::Value> {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bytes = engine.decode(segment.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Where the secret sits in a credential header's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// After an auth scheme when there is one: `Bearer <secret>`, `Basic <secret>`.
    AfterScheme,
    /// The whole value.
    Whole,
    /// Each value of `name=value; name=value` (the `cookie` header).
    Cookies,
    /// The value of the first `name=value` (the `set-cookie` header; attributes follow).
    SetCookie,
}

/// Headers that carry credentials, and where the secret is in them.
pub const CREDENTIAL_HEADERS: &[(&str, Placement)] = &[
    ("authorization", Placement::AfterScheme),
    ("proxy-authorization", Placement::AfterScheme),
    ("x-api-key", Placement::Whole),
    ("api-key", Placement::Whole),
    ("x-goog-api-key", Placement::Whole),
    ("x-auth-token", Placement::Whole),
    ("x-access-token", Placement::Whole),
    ("x-amz-security-token", Placement::Whole),
    ("cookie", Placement::Cookies),
    ("set-cookie", Placement::SetCookie),
];

/// Whether header `name` (lower-case) carries a credential (an auth scheme
/// and token, or a key), as opposed to session state such as cookies.
pub fn is_credential_header(name: &str) -> bool {
    CREDENTIAL_HEADERS
        .iter()
        .any(|(n, p)| *n == name && matches!(p, Placement::AfterScheme | Placement::Whole))
}

/// What is known of a credential without storing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CredentialFacts {
    /// `jwt`, `openai-key`, `anthropic-key`, `anthropic-oauth`, `openrouter-key`, `opaque`.
    pub kind: String,
    /// The auth profile id it belongs to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Fingerprint of the account id bound to it (ChatGPT account), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The store that holds that profile: the agent id of an OpenClaw store
    /// (`main`, `kate`), else the store file as given. Recorded when
    /// `--profiles` names several stores, which may hold the same profile id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256_prefix_of_12_hex() {
        // printf %s secret | sha256sum → 2bb80d537b1d…
        assert_eq!(fingerprint("secret"), "sha256:2bb80d537b1d");
    }

    #[test]
    fn marker_round_trips_to_its_fingerprint() {
        let marker = redaction_marker("sk-test");
        assert_eq!(fingerprint_in_marker(&marker), Some(fingerprint("sk-test").as_str()));
        assert_eq!(fingerprint_in_marker("[REDACTED nope]"), None);
    }

    #[test]
    fn classifies_provider_key_shapes() {
        assert_eq!(classify("sk-ant-oat01-abc"), "anthropic-oauth");
        assert_eq!(classify("sk-ant-api03-abc"), "anthropic-key");
        assert_eq!(classify("sk-or-v1-abc"), "openrouter-key");
        assert_eq!(classify("sk-proj-abc"), "openai-key");
        assert_eq!(classify("whatever"), "opaque");
    }

    #[test]
    fn minted_jwt_is_a_jwt_with_its_account_claim() {
        let claims = serde_json::json!({"https://api.openai.com/auth": {"chatgpt_account_id": "acct-1"}});
        let token = mint_unsigned_jwt(&claims);
        assert_eq!(classify(&token), "jwt");
        assert_eq!(chatgpt_account_id(&token).as_deref(), Some("acct-1"));
        assert_eq!(token, mint_unsigned_jwt(&claims));
    }

    #[test]
    fn garbage_is_not_a_jwt() {
        assert!(!looks_like_jwt("a.b.c"));
        assert!(jwt_claims("not a token").is_none());
    }
}
