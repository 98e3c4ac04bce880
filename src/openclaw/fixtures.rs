//! A scenario's `inputs` from an OpenClaw home ([`HomeSnapshot`]), every
//! secret replaced by a look-alike fixture, so the setup can be shared.
//!
//! - API keys and tokens keep their shape: the provider's prefix (with its
//!   known marker segments, `sk-ant-oat01-`, `sk-proj-`) and the length, so
//!   they classify as the original did (`credential::classify`).
//! - JWTs become `{"jwt": {"claims": …, "signature": "fixture-signature"}}`
//!   (minted when the scenario loads) keeping only [`KEPT_CLAIMS`]; the names
//!   of the claims dropped are reported.
//! - Refresh tokens and anything else token-like (by field name or by shape,
//!   `credential::tokens`) become opaque fixtures.
//! - Email addresses (but those at reserved example domains) become `user@example.com`, `user2@example.com`, … in
//!   every key and value (profile ids included), unless kept on request.
//!
//! The same secret always gets the same fixture. Nothing of an original
//! value is reported; a value that survives anyway is a refusal, not a file.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::home::HomeSnapshot;
use crate::credential::{self, tokens};
use crate::error::{Error, Result};

/// JWT claims kept (at the top level, and inside the OpenAI auth and profile claims).
pub const KEPT_CLAIMS: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "scp",
    "client_id",
    "https://api.openai.com/auth",
    "chatgpt_account_id",
    "chatgpt_plan_type",
    "https://api.openai.com/profile",
    "email",
    "email_verified",
];

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").expect("static regex")
});
static ENV_REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^$])\$\{([A-Z_][A-Z0-9_]*)\}").expect("static regex"));

/// What to make of the home.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// The agent the scenario plans for; its store is `auth_profiles`.
    pub agent: String,
    /// Keep email addresses instead of replacing them.
    pub keep_email: bool,
    /// Environment variables to include (values replaced by fixtures).
    pub env: BTreeMap<String, String>,
}

/// The inputs made, and what was done to get them.
#[derive(Debug)]
pub struct Shared {
    /// The scenario's `inputs`.
    pub inputs: Value,
    /// One line per replacement (where and how, never a value).
    pub replaced: Vec<String>,
    /// The same replacements, for a cassette recorded with this setup.
    pub rebinding: Rebinding,
}

/// The replacements [`share`] made, carried into a cassette recorded with the
/// same setup (`record --profiles …`): the fingerprints of `meta.credentials`
/// and of every redaction marker become the fixtures' fingerprints, so the
/// scenario and its cassette agree; email addresses change as in the scenario.
#[derive(Debug)]
pub struct Rebinding {
    /// Original secret → the fixture value the scenario's inputs carry (JWTs as minted).
    secrets: BTreeMap<String, String>,
    /// The scenario's email replacements; `None` when emails are kept.
    emails: Option<Emails>,
}

impl Rebinding {
    /// The fixture values made (each once), for the `audit --allow` line of a shared scenario.
    pub fn fixtures(&self) -> BTreeSet<&str> {
        self.secrets.iter().filter(|(o, f)| o != f).map(|(_, f)| f.as_str()).collect()
    }

    /// `cassette` (its JSON) rebound, and how many fingerprints changed; an
    /// error (exit 3, nothing to write) when an original value or its
    /// fingerprint would survive.
    pub fn cassette(&mut self, cassette: &Value) -> Result<(Value, usize)> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (original, fixture) in self.secrets.iter().filter(|(o, f)| o != f) {
            pairs.push((credential::fingerprint(original), credential::fingerprint(fixture)));
            pairs.push((original.clone(), fixture.clone()));
        }
        pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        let mut rebound = 0;
        let mut text = |t: &str| {
            let mut out = t.to_owned();
            for (from, to) in &pairs {
                if out.contains(from.as_str()) {
                    rebound +=
                        usize::from(credential::is_fingerprint(from)) * out.matches(from.as_str()).count();
                    out = out.replace(from.as_str(), to);
                }
            }
            out
        };
        let value = map_keys_and_strings(cassette, &mut text);
        let value = match &mut self.emails {
            Some(emails) => emails.apply(&value),
            None => value,
        };
        let written = serde_json::to_string(&value).unwrap_or_default();
        let emails = self.emails.iter().flat_map(|e| e.seen.iter());
        if pairs.iter().map(|(from, to)| (from, to)).chain(emails).any(|(from, to)| {
            from != to && from.len() >= tokens::MIN_SECRET_LEN && written.contains(from.as_str())
        }) {
            return Err(Error::runtime(
                "a replaced value is still in the rebound cassette; nothing was written (please report this)",
            ));
        }
        Ok((value, rebound))
    }
}

/// The `${VAR}` references of a config, by name.
pub fn env_references(config: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    visit_strings(config, &mut |text| {
        names.extend(ENV_REFERENCE.captures_iter(text).map(|c| c[1].to_owned()));
    });
    names
}

/// The scenario inputs of `home`, secrets replaced; an error when a
/// replaced value would still be in the output (exit 3).
pub fn share(home: &HomeSnapshot, options: &Options) -> Result<Shared> {
    let mut fixtures = Fixtures::default();
    let config = fixtures.walk("config", "", &home.config);
    let mut stores = Map::new();
    let mut profiles = Value::Null;
    let mut state = Value::Null;
    for auth in &home.agents {
        let at = format!("agent {}", auth.agent);
        let store = auth.profiles.as_ref().map_or(Value::Null, |s| fixtures.store(&at, s));
        if auth.agent == options.agent {
            profiles = store;
            state = auth.state.as_ref().map_or(Value::Null, |s| fixtures.walk(&format!("{at} state"), "", s));
        } else if !store.is_null() {
            stores.insert(auth.agent.clone(), store);
        }
    }
    let env: Map<String, Value> = options
        .env
        .iter()
        .map(|(name, value)| {
            fixtures.note(&format!("env {name}"), "value → look-alike fixture");
            (name.clone(), Value::String(fixtures.secret(value)))
        })
        .collect();
    let inputs = json!({
        "config": config, "auth_profiles": profiles, "auth_state": state, "agent_stores": stores,
        "env": env, "agent": options.agent, "model": null,
    });
    fixtures.finish(inputs, options.keep_email)
}

#[derive(Debug, Default)]
struct Fixtures {
    /// Original secret → its fixture.
    secrets: BTreeMap<String, String>,
    replaced: Vec<String>,
}

impl Fixtures {
    fn note(&mut self, at: &str, what: &str) {
        self.replaced.push(format!("{at}: {what}"));
    }

    /// One store: each profile's credential fields by their meaning, the rest by name and shape.
    fn store(&mut self, at: &str, store: &Value) -> Value {
        let Some(entries) = store.get("profiles").and_then(Value::as_object) else {
            return self.walk(at, "", store);
        };
        let mut out = store.as_object().cloned().unwrap_or_default();
        let profiles = entries
            .iter()
            .map(|(id, entry)| (id.clone(), self.profile(&format!("{at}, profile {id}"), entry)));
        out.insert("profiles".to_owned(), Value::Object(profiles.collect()));
        Value::Object(out)
    }

    fn profile(&mut self, at: &str, entry: &Value) -> Value {
        let Some(fields) = entry.as_object() else { return self.walk(at, "", entry) };
        let mut out = Map::new();
        for (name, value) in fields {
            let replaced = match (name.as_str(), value.as_str()) {
                (_, Some(text)) if text.is_empty() || tokens::is_placeholder(text) => value.clone(),
                ("refresh", Some(text)) => {
                    self.note(at, "refresh → opaque fixture");
                    Value::String(self.opaque(text, "refresh"))
                }
                ("access" | "key" | "apiKey" | "token", Some(text)) => self.credential(at, name, text),
                _ => self.walk(&format!("{at} {name}"), name, value),
            };
            out.insert(name.clone(), replaced);
        }
        Value::Object(out)
    }

    /// A credential: a JWT re-minted, anything else a look-alike.
    fn credential(&mut self, at: &str, field: &str, text: &str) -> Value {
        if credential::looks_like_jwt(text) {
            return self.jwt(at, field, text);
        }
        self.note(
            at,
            &format!("{field} → look-alike fixture ({}, same prefix and length)", credential::classify(text)),
        );
        Value::String(self.secret(text))
    }

    fn jwt(&mut self, at: &str, field: &str, text: &str) -> Value {
        let claims = credential::jwt_claims(text).unwrap_or_default();
        let mut dropped = Vec::new();
        let kept = kept_claims(&claims, "", &mut dropped);
        let signature = "fixture-signature";
        self.secrets.entry(text.to_owned()).or_insert_with(|| credential::mint_fixture_jwt(&kept, signature));
        let dropped = if dropped.is_empty() {
            String::new()
        } else {
            format!("; claims dropped: {}", dropped.join(", "))
        };
        self.note(at, &format!("{field} → fixture JWT with the same non-secret claims{dropped}"));
        json!({"jwt": {"claims": kept, "signature": signature}})
    }

    /// Any other value: secrets by field name, tokens by shape, JWTs re-minted.
    fn walk(&mut self, at: &str, name: &str, value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.walk(&join(at, k), k, v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.walk(at, name, v)).collect()),
            Value::String(text) if text.contains("${") => value.clone(),
            Value::String(text) if credential::looks_like_jwt(text) => self.jwt(at, name, text),
            Value::String(text) => {
                let mut secrets: Vec<&str> =
                    tokens::find_tokens(text).into_iter().map(|t| &text[t.range]).collect();
                secrets.extend(tokens::field_secret(name, text));
                if secrets.is_empty() {
                    return value.clone();
                }
                self.note(at, "secret → look-alike fixture");
                let mut out = text.clone();
                for secret in secrets {
                    let fixture = self.secret(secret);
                    out = out.replace(secret, &fixture);
                }
                Value::String(out)
            }
            other => other.clone(),
        }
    }

    /// The look-alike of `secret` (the same one every time).
    fn secret(&mut self, secret: &str) -> String {
        let n = self.secrets.len() + 1;
        self.secrets.entry(secret.to_owned()).or_insert_with(|| look_alike(secret, n)).clone()
    }

    fn opaque(&mut self, secret: &str, what: &str) -> String {
        let n = self.secrets.len() + 1;
        self.secrets.entry(secret.to_owned()).or_insert_with(|| format!("fixture-{what}-{n}")).clone()
    }

    /// Emails replaced (unless kept), and the proof that nothing replaced survived.
    fn finish(self, inputs: Value, keep_email: bool) -> Result<Shared> {
        let mut emails = Emails::default();
        let (inputs, mut replaced) = if keep_email {
            (inputs, self.replaced)
        } else {
            let inputs = emails.apply(&inputs);
            let replaced = self.replaced.iter().map(|line| emails.text(line)).collect();
            (inputs, replaced)
        };
        if !emails.seen.is_empty() {
            replaced.push(format!(
                "{} email address(es) → user@example.com, user2@example.com, …",
                emails.seen.len()
            ));
        }
        let text = serde_json::to_string(&inputs).unwrap_or_default() + &replaced.join("\n");
        let originals =
            self.secrets.iter().chain(emails.seen.iter()).filter(|(original, fixture)| original != fixture);
        if originals
            .filter(|(s, _)| s.len() >= tokens::MIN_SECRET_LEN)
            .any(|(s, _)| text.contains(s.as_str()))
        {
            return Err(Error::runtime(
                "a replaced value is still in the scenario; nothing was written (please report this)",
            ));
        }
        let emails = (!keep_email).then_some(emails);
        Ok(Shared { inputs, replaced, rebinding: Rebinding { secrets: self.secrets, emails } })
    }
}

/// Original email → fixture, in order of appearance; addresses that are
/// no one's ([`is_fixture_email`]: `me@example.com`, `dev@corp.test`) stay as they are.
#[derive(Debug, Default)]
struct Emails {
    seen: BTreeMap<String, String>,
}

impl Emails {
    fn fixture(n: usize) -> String {
        if n == 1 { "user@example.com".to_owned() } else { format!("user{n}@example.com") }
    }

    fn text(&mut self, text: &str) -> String {
        EMAIL
            .replace_all(text, |c: &regex::Captures<'_>| {
                if let Some(fixture) = self.seen.get(&c[0]) {
                    return fixture.clone();
                }
                let taken: BTreeSet<&String> = self.seen.values().collect();
                let fixture = (1..).map(Self::fixture).find(|f| !taken.contains(f)).unwrap_or_default();
                self.seen.insert(c[0].to_owned(), fixture.clone());
                fixture
            })
            .into_owned()
    }

    fn apply(&mut self, value: &Value) -> Value {
        let mut fixtures = Vec::new();
        visit_keys_and_strings(value, &mut |text| {
            fixtures
                .extend(EMAIL.find_iter(text).map(|m| m.as_str().to_owned()).filter(|e| is_fixture_email(e)));
        });
        self.seen.extend(fixtures.into_iter().map(|e| (e.clone(), e)));
        self.replace(value)
    }

    fn replace(&mut self, value: &Value) -> Value {
        map_keys_and_strings(value, &mut |text| self.text(text))
    }
}

/// Whether an address is no one's: at a domain reserved for examples and
/// tests (RFC 2606, RFC 6761), so nothing personal is kept by keeping it.
fn is_fixture_email(email: &str) -> bool {
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
    let under = |name: &str| domain == name || domain.ends_with(&format!(".{name}"));
    ["example.com", "example.net", "example.org", "example", "test", "invalid", "localhost"]
        .into_iter()
        .any(under)
}

/// The claims of [`KEPT_CLAIMS`]; the others' paths go to `dropped`.
fn kept_claims(claims: &Value, at: &str, dropped: &mut Vec<String>) -> Value {
    let Some(map) = claims.as_object() else { return Value::Null };
    let mut kept = Map::new();
    for (name, value) in map {
        let path = join(at, name);
        if !KEPT_CLAIMS.contains(&name.as_str()) {
            dropped.push(path);
        } else if value.is_object() {
            kept.insert(name.clone(), kept_claims(value, &path, dropped));
        } else {
            kept.insert(name.clone(), value.clone());
        }
    }
    Value::Object(kept)
}

/// A fixture of `secret`'s shape: its prefix, then `fixtureN`, padded to its length.
fn look_alike(secret: &str, n: usize) -> String {
    let head = shape_head(secret);
    let rest = &secret[head.len()..];
    let upper = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let (word, fill) = if upper { ("FIXTURE", 'X') } else { ("fixture", 'x') };
    let mut out = format!("{head}{word}{n}");
    while out.len() < secret.len() {
        out.push(fill);
    }
    out
}

/// The marker segments real keys carry after a known prefix (`sk-` +
/// `proj-`, `sk-ant-` + `api03-` or `oat01-`, `sk-or-` + `v1-`): kept, as
/// they say what kind of key it is. Nothing else of a key is kept, so no
/// random character of a real key reaches the scenario.
const MARKERS: &[&str] = &["proj-", "svcacct-", "admin-", "api03-", "oat01-", "ort01-", "v1-"];

/// The known prefix of a token shape, with the marker segments after it.
fn shape_head(secret: &str) -> &str {
    let prefix = tokens::PATTERNS.iter().map(|p| p.prefix()).find(|p| secret.starts_with(p)).unwrap_or("");
    let mut end = prefix.len();
    while let Some(marker) = MARKERS.iter().find(|m| secret[end..].starts_with(*m)) {
        end += marker.len();
    }
    &secret[..end]
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() { name.to_owned() } else { format!("{at}.{name}") }
}

fn visit_keys_and_strings(value: &Value, f: &mut dyn FnMut(&str)) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            f(k);
            visit_keys_and_strings(v, f);
        }),
        Value::Array(items) => items.iter().for_each(|v| visit_keys_and_strings(v, f)),
        Value::String(text) => f(text),
        _ => {}
    }
}

/// `value` with `f` applied to every object key and string.
fn map_keys_and_strings(value: &Value, f: &mut dyn FnMut(&str) -> String) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (f(k), map_keys_and_strings(v, f))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| map_keys_and_strings(v, f)).collect()),
        Value::String(text) => Value::String(f(text)),
        other => other.clone(),
    }
}

fn visit_strings(value: &Value, f: &mut dyn FnMut(&str)) {
    match value {
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, f)),
        Value::Array(items) => items.iter().for_each(|v| visit_strings(v, f)),
        Value::String(text) => f(text),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::home::AgentAuth;

    const KEY: &str = "sk-proj-Zq81hT5mW2pLk9vX3nB7cR4dF6gH1jK0";
    const ANTHROPIC: &str = "sk-ant-oat01-Qw3eR5tY7uI9oP1aS3dF5gH7jK9lZ2xC";

    fn home(profiles: Value) -> HomeSnapshot {
        HomeSnapshot {
            state_dir: "/h/.openclaw".into(),
            config: json!({"auth": {"order": {"openai-codex": ["openai-codex:kate@corp.com"]}},
                           "models": {"providers": {"x": {"apiKey": "${X_KEY}"}}}}),
            dotenv: BTreeMap::new(),
            agents: vec![AgentAuth {
                agent: "main".into(),
                profiles: Some(profiles),
                state: None,
                source: String::new(),
            }],
            notes: Vec::new(),
        }
    }

    fn options() -> Options {
        Options { agent: "main".into(), ..Options::default() }
    }

    #[test]
    fn keys_keep_prefix_length_and_kind() {
        for key in [KEY, ANTHROPIC, "AKIAZ3X7Q9W2E5R8T1Y4"] {
            let fixture = look_alike(key, 1);
            assert_eq!(fixture.len(), key.len(), "{fixture}");
            assert_eq!(credential::classify(&fixture), credential::classify(key));
            assert!(fixture.contains("fixture") || fixture.contains("FIXTURE"), "{fixture}");
        }
        assert!(look_alike(ANTHROPIC, 1).starts_with("sk-ant-oat01-fixture1"));
        assert!(look_alike(KEY, 1).starts_with("sk-proj-fixture1"));
        // A random part that happens to look like a marker is not kept.
        assert!(
            look_alike("sk-ant-api03-abc12_Zq9xY8wV7uT6sR5qP4oN3mL2kJ1", 1)
                .starts_with("sk-ant-api03-fixture1")
        );
        assert!(look_alike("sk-proj-ab-Zq9xY8wV7uT6sR5qP4oN3mL2kJ1", 1).starts_with("sk-proj-fixture1"));
    }

    #[test]
    fn jwts_keep_account_and_plan_and_emails_are_replaced_everywhere() {
        let jwt = credential::mint_unsigned_jwt(&json!({
            "https://api.openai.com/auth": {"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "plus", "user_id": "u-9"},
            "https://api.openai.com/profile": {"email": "kate@corp.com"}, "exp": 5, "sub": "auth0|123"}));
        let shared = share(
            &home(json!({"version": 1, "profiles": {"openai-codex:kate@corp.com": {
                "type": "oauth", "provider": "openai-codex", "access": jwt, "refresh": "rt_secret_refresh_123456",
                "email": "kate@corp.com"}}})),
            &options(),
        )
        .unwrap();
        let text = shared.inputs.to_string();
        assert!(
            !text.contains("kate@corp.com") && !text.contains("rt_secret") && !text.contains("u-9"),
            "{text}"
        );
        let profile = &shared.inputs["auth_profiles"]["profiles"]["openai-codex:user@example.com"];
        assert_eq!(
            profile["access"]["jwt"]["claims"]["https://api.openai.com/auth"],
            json!({"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "plus"})
        );
        assert_eq!(profile["email"], "user@example.com");
        assert_eq!(
            shared.inputs["config"]["auth"]["order"]["openai-codex"][0],
            "openai-codex:user@example.com"
        );
        assert_eq!(shared.inputs["config"]["models"]["providers"]["x"]["apiKey"], "${X_KEY}");
        let report = shared.replaced.join("\n");
        assert!(report.contains("claims dropped: https://api.openai.com/auth.user_id, sub"), "{report}");
        assert!(!report.contains("kate"), "{report}");
    }

    #[test]
    fn the_same_secret_gets_the_same_fixture_and_emails_can_be_kept() {
        let store = json!({"profiles": {"a": {"type": "api_key", "provider": "openai", "key": KEY},
                                        "b:kate@corp.com": {"type": "api_key", "provider": "openai", "key": KEY}}});
        let shared = share(&home(store), &Options { keep_email: true, ..options() }).unwrap();
        let profiles = &shared.inputs["auth_profiles"]["profiles"];
        assert_eq!(profiles["a"]["key"], profiles["b:kate@corp.com"]["key"]);
        assert_ne!(profiles["a"]["key"], KEY);
    }

    #[test]
    fn addresses_at_reserved_domains_are_no_ones() {
        assert!(is_fixture_email("me@example.com") && is_fixture_email("dev@corp.test"));
        assert!(is_fixture_email("kate@corp.example.org") && !is_fixture_email("kate@corp.com"));
    }

    #[test]
    fn a_home_already_holding_fixture_emails_is_shared() {
        let store = json!({"profiles": {"openai:user@example.com": {"type": "oauth", "provider": "openai",
                                        "email": "user@example.com", "refresh": "fixture-refresh-1"}}});
        let shared = share(&home(store), &options()).unwrap();
        assert!(shared.inputs["auth_profiles"]["profiles"].get("openai:user@example.com").is_some());
        let order = &shared.inputs["config"]["auth"]["order"]["openai-codex"][0];
        assert_eq!(order, "openai-codex:user2@example.com", "kate gets the next free fixture");
    }

    #[test]
    fn env_references_are_found() {
        assert_eq!(
            env_references(&json!({"a": ["x ${A_B} ${C}", "$${D}"]})),
            BTreeSet::from(["A_B".into(), "C".into()])
        );
    }
}
