//! Observations: what the checks need from one request, whether it was
//! recorded in a cassette, seen live, or planned by the reference dispatcher.
//!
//! Secrets never enter an observation: a credential is its fingerprint, its
//! kind and the profile it is bound to. Bindings come from the cassette's
//! `meta.credentials`, the reference plan and the scenario's fixture profiles.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::endpoint::Endpoint;
use crate::cassette::model::json_text::leading_model;
use crate::cassette::{Body, BodyContent, Cassette, Interaction, Meta, Payload, Side};
use crate::credential;

/// Request headers that carry a credential for the provider, in the order
/// they are looked for. (`proxy-authorization` is for the proxy, not the provider.)
pub const CREDENTIAL_HEADERS: &[&str] = &["authorization", "x-api-key", "api-key", "x-goog-api-key"];

/// The header that names the ChatGPT account a request acts for.
pub const ACCOUNT_HEADER: &str = "chatgpt-account-id";

/// Kind of a credential nobody could identify (redacted and unbound).
pub const UNKNOWN_KIND: &str = "unknown";

/// One request, reduced to what the invariants judge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The interaction's `seq`, when it came from a cassette.
    pub seq: Option<u64>,
    /// Where it went.
    pub endpoint: Endpoint,
    /// Whether the catalog classifies the endpoint as a model API (a dispatch).
    pub dispatch: bool,
    /// Every credential header it carried, in [`CREDENTIAL_HEADERS`] order.
    pub credentials: Vec<SeenCredential>,
    /// Every request header as recorded (names lower-case; secrets are
    /// redaction markers), then each query parameter as `?name`.
    pub headers: Vec<(String, String)>,
    /// The `model` its body names, when it names one.
    pub model: Option<String>,
}

impl Observation {
    /// The credential in `header`, or the first one when `header` is `None`.
    pub fn credential_in(&self, header: Option<&str>) -> Option<&SeenCredential> {
        match header {
            Some(name) => self.credentials.iter().find(|c| c.header == name),
            None => self.credentials.first(),
        }
    }

    /// The value of header `name` (or query parameter `?name`); a header sent
    /// more than once is one comma list, as HTTP reads it.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }
}

/// A credential as sent: never the secret, only what identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenCredential {
    /// The header it travelled in (lower-case).
    pub header: String,
    /// The auth scheme before the secret (`Bearer`), if any.
    pub scheme: Option<String>,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its kind (`jwt`, `openai-key`, …, or [`UNKNOWN_KIND`]).
    pub kind: String,
    /// The profile it belongs to, when known.
    pub profile: Option<String>,
    /// The provider whose hosts it may reach, when known.
    pub provider: Option<String>,
    /// The store holding that profile (`main`, `kate`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Whether the cassette's `meta.credentials` lists it with a kind and no
    /// profile (recorded without `--profiles`) and nothing else bound it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recorded_without_profile: bool,
}

/// What is known of one credential fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Credential kind.
    pub kind: String,
    /// Owning profile (or pseudo-profile `env:VAR`, `config:models.providers.<id>.apiKey`).
    pub profile: Option<String>,
    /// Provider of that profile.
    pub provider: Option<String>,
    /// The store holding that profile: an agent id (`main`, `kate`), when known.
    pub store: Option<String>,
}

/// Fingerprint → binding. The first source to name a fingerprint wins, so
/// callers insert the most specific source first; but a source that knows
/// only the kind (a cassette recorded without `--profiles`) leaves the
/// profile to the next source that names one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bindings {
    by_fingerprint: BTreeMap<String, Binding>,
    /// Fingerprints the cassette's `meta.credentials` lists without a profile.
    recorded_without_profile: BTreeSet<String>,
}

impl Bindings {
    /// Bind `fingerprint` unless it is already bound to a profile; a binding
    /// without one gets the profile (and provider) of `binding`, keeping its kind.
    pub fn insert(&mut self, fingerprint: String, binding: Binding) {
        match self.by_fingerprint.entry(fingerprint) {
            Entry::Vacant(entry) => {
                entry.insert(binding);
            }
            Entry::Occupied(mut entry) => {
                let known = entry.get_mut();
                if known.profile.is_none() && binding.profile.is_some() {
                    known.profile = binding.profile;
                    known.provider = binding.provider;
                    known.store = binding.store;
                } else if known.profile == binding.profile && known.store.is_none() {
                    known.store = binding.store;
                }
            }
        }
    }

    /// The cassette's `meta.credentials`; a profile id `provider:name` names its provider.
    pub fn add_meta(&mut self, meta: &Meta) {
        for (fingerprint, facts) in &meta.credentials {
            let provider = facts.profile.as_deref().and_then(provider_of_profile);
            if facts.profile.is_none() {
                self.recorded_without_profile.insert(fingerprint.clone());
            }
            let binding = Binding {
                kind: facts.kind.clone(),
                profile: facts.profile.clone(),
                provider,
                store: facts.store.clone(),
            };
            self.insert(fingerprint.clone(), binding);
        }
    }

    /// Add the bindings of `other` for fingerprints not bound (to a profile) yet.
    pub fn extend(&mut self, other: Bindings) {
        for (fingerprint, binding) in other.by_fingerprint {
            self.insert(fingerprint, binding);
        }
        self.recorded_without_profile.extend(other.recorded_without_profile);
    }

    /// What is known of `fingerprint`.
    pub fn get(&self, fingerprint: &str) -> Option<&Binding> {
        self.by_fingerprint.get(fingerprint)
    }
}

/// `openai-codex:user@example.com` → `openai-codex`; pseudo-profiles have no such provider.
pub fn provider_of_profile(profile: &str) -> Option<String> {
    let (provider, _) = profile.split_once(':')?;
    (!matches!(provider, "env" | "config")).then(|| provider.to_owned())
}

/// Observe every interaction of `cassette`; `is_dispatch` is the catalog's
/// endpoint classification.
pub fn observe_cassette(
    cassette: &Cassette,
    bindings: &Bindings,
    is_dispatch: &dyn Fn(&Endpoint) -> bool,
) -> Result<Vec<Observation>, String> {
    cassette.interactions.iter().map(|i| observe(i, bindings, is_dispatch)).collect()
}

/// Observe one interaction.
pub fn observe(
    interaction: &Interaction,
    bindings: &Bindings,
    is_dispatch: &dyn Fn(&Endpoint) -> bool,
) -> Result<Observation, String> {
    let request = &interaction.request;
    let mut endpoint = Endpoint::new(&request.method, &request.url)
        .map_err(|e| format!("interactions[seq {}].request.url: {e}", interaction.seq))?;
    // A recorded upgrade keeps the URL of its request head (`GET https://…`);
    // the session that followed makes it the WebSocket variant of the endpoint.
    let upgraded =
        interaction.websocket.is_some() || interaction.response.as_ref().is_some_and(|r| r.status == 101);
    if upgraded {
        endpoint.scheme = if endpoint.is_plaintext() { "ws" } else { "wss" }.to_owned();
    }
    let header =
        |name: &'static str| request.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name));
    let credentials = CREDENTIAL_HEADERS
        .iter()
        .flat_map(|name| header(name).map(|(_, value)| seen_credential(name, value, bindings)))
        .collect();
    let query = endpoint.query.as_deref().unwrap_or_default().split('&').filter(|p| !p.is_empty());
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .chain(query.map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (format!("?{}", name.to_ascii_lowercase()), value.to_owned())
        }))
        .collect();
    let model = request_model(&request.body)
        .or_else(|| interaction.websocket.as_ref().and_then(|ws| first_client_model(&ws.messages)));
    Ok(Observation {
        seq: Some(interaction.seq),
        dispatch: is_dispatch(&endpoint),
        endpoint,
        credentials,
        headers,
        model,
    })
}

fn seen_credential(header: &str, value: &str, bindings: &Bindings) -> SeenCredential {
    let (scheme, secret) = split_scheme(value);
    let fingerprint = fingerprint_of_value(secret);
    let binding = bindings.get(&fingerprint);
    // A value still in clear (redaction off) shows its kind by its shape.
    let kind = match (binding, credential::fingerprint_in_marker(secret)) {
        (Some(b), _) => b.kind.clone(),
        (None, None) => credential::classify(secret).to_owned(),
        (None, Some(_)) => UNKNOWN_KIND.to_owned(),
    };
    let recorded_without_profile = binding.is_some_and(|b| b.profile.is_none())
        && bindings.recorded_without_profile.contains(&fingerprint);
    SeenCredential {
        header: header.to_owned(),
        scheme: scheme.map(str::to_owned),
        fingerprint,
        kind,
        profile: binding.and_then(|b| b.profile.clone()),
        provider: binding.and_then(|b| b.provider.clone()),
        store: binding.and_then(|b| b.store.clone()),
        recorded_without_profile,
    }
}

/// `Bearer X` → (`Bearer`, `X`); a bare value has no scheme.
fn split_scheme(value: &str) -> (Option<&str>, &str) {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphabetic()) => {
            (Some(scheme), rest.trim())
        }
        _ => (None, value),
    }
}

/// The fingerprint in a redaction marker, or the fingerprint of a clear value.
pub fn fingerprint_of_value(value: &str) -> String {
    credential::fingerprint_in_marker(value.trim())
        .map(str::to_owned)
        .unwrap_or_else(|| credential::fingerprint(value.trim()))
}

fn request_model(body: &Body) -> Option<String> {
    match &body.content {
        BodyContent::Json(value) => model_of(value),
        BodyContent::Text(text) => model_in_text(text),
        BodyContent::Chunks(chunks) => {
            let text: String = chunks
                .iter()
                .filter_map(|c| match &c.payload {
                    Payload::Text(t) => Some(t.as_str()),
                    Payload::Base64(_) => None,
                })
                .collect();
            model_in_text(&text)
        }
        _ => None,
    }
}

/// A WebSocket dispatch names its model in the client's first `response.create`.
fn first_client_model(messages: &[crate::cassette::WsMessage]) -> Option<String> {
    messages.iter().filter(|m| m.from == Side::Client).find_map(|m| match &m.payload {
        Payload::Text(text) => model_in_text(text),
        Payload::Base64(_) => None,
    })
}

/// `model`, or `response.model` (a WebSocket `response.create`), of a JSON
/// object; nothing else of it is read.
#[derive(Deserialize)]
struct ModelFields {
    model: Option<Value>,
    response: Option<ResponseModel>,
}

#[derive(Deserialize)]
struct ResponseModel {
    model: Option<Value>,
}

impl ModelFields {
    fn model(self) -> Option<String> {
        let model = self.model.or_else(|| self.response?.model)?;
        model.as_str().map(str::to_owned)
    }
}

/// The model a JSON body names.
fn model_of(value: &Value) -> Option<String> {
    // Only an object has fields: serde would read an array positionally.
    if !value.is_object() {
        return None;
    }
    ModelFields::deserialize(value).ok()?.model()
}

/// [`model_of`] for JSON text: a leading `model` string is read without the
/// rest ([`leading_model`], as `check` reads a cassette); else the rest of a
/// request (instructions, tools, history; often most of a cassette) is
/// skipped without being built into a value.
fn model_in_text(text: &str) -> Option<String> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    leading_model(text).or_else(|| serde_json::from_str::<ModelFields>(text).ok()?.model())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::{CredentialFacts, Request, WebSocketSession, WsMessage};

    fn interaction(url: &str, headers: &[(&str, &str)], body: Value) -> Interaction {
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        Interaction::new(3, Request::new("POST", url, headers, Body::from(BodyContent::Json(body))))
    }

    fn model_api(e: &Endpoint) -> bool {
        e.path.ends_with("/responses")
    }

    #[test]
    fn redacted_bearer_is_bound_through_meta_credentials() {
        let fp = credential::fingerprint("token");
        let mut meta = Meta::default();
        let facts = CredentialFacts {
            kind: "jwt".into(),
            profile: Some("openai-codex:u".into()),
            account: None,
            store: None,
        };
        meta.credentials.insert(fp.clone(), facts);
        let mut bindings = Bindings::default();
        bindings.add_meta(&meta);
        let marker = format!("Bearer {}", credential::redaction_marker("token"));
        let i = interaction(
            "https://chatgpt.com/backend-api/codex/responses",
            &[("authorization", &marker), ("chatgpt-account-id", "acct-1")],
            serde_json::json!({"model": "gpt-5.5"}),
        );
        let obs = observe(&i, &bindings, &model_api).unwrap();
        assert!(obs.dispatch);
        assert_eq!(obs.seq, Some(3));
        assert_eq!(obs.model.as_deref(), Some("gpt-5.5"));
        assert_eq!(obs.header(ACCOUNT_HEADER).as_deref(), Some("acct-1"));
        let cred = &obs.credentials[0];
        assert_eq!(cred.scheme.as_deref(), Some("Bearer"));
        assert_eq!(cred.fingerprint, fp);
        assert_eq!((cred.kind.as_str(), cred.profile.as_deref()), ("jwt", Some("openai-codex:u")));
        assert_eq!(cred.provider.as_deref(), Some("openai-codex"));
    }

    #[test]
    fn unbound_marker_has_unknown_kind_and_clear_value_is_classified() {
        let marker = credential::redaction_marker("sk-ant-api03-x");
        let i = interaction("https://api.anthropic.com/v1/messages", &[("x-api-key", &marker)], Value::Null);
        let obs = observe(&i, &Bindings::default(), &model_api).unwrap();
        assert!(!obs.dispatch);
        assert_eq!(obs.credentials[0].scheme, None);
        assert_eq!(obs.credentials[0].kind, UNKNOWN_KIND);
        let clear = interaction(
            "https://api.anthropic.com/v1/messages",
            &[("x-api-key", "sk-ant-api03-x")],
            Value::Null,
        );
        let obs = observe(&clear, &Bindings::default(), &model_api).unwrap();
        assert_eq!(obs.credentials[0].kind, "anthropic-key");
        assert_eq!(obs.credentials[0].fingerprint, credential::fingerprint("sk-ant-api03-x"));
    }

    #[test]
    fn no_credential_header_means_no_credentials() {
        let i = interaction(
            "https://api.openai.com/v1/responses",
            &[("content-type", "application/json")],
            Value::Null,
        );
        let obs = observe(&i, &Bindings::default(), &model_api).unwrap();
        assert!(obs.credentials.is_empty() && obs.header(ACCOUNT_HEADER).is_none() && obs.model.is_none());
        assert_eq!(obs.header("Content-Type").as_deref(), Some("application/json"));
    }

    #[test]
    fn first_source_wins() {
        let mut bindings = Bindings::default();
        let bound = |profile: &str| Binding {
            kind: "openai-key".into(),
            profile: Some(profile.into()),
            provider: None,
            store: None,
        };
        bindings.insert("sha256:000000000001".into(), bound("openai:a"));
        bindings.insert("sha256:000000000001".into(), bound("openai:b"));
        assert_eq!(bindings.get("sha256:000000000001").unwrap().profile.as_deref(), Some("openai:a"));
    }

    #[test]
    fn a_recording_that_knows_only_the_kind_leaves_the_profile_to_the_next_source() {
        let fp = credential::fingerprint("sk-proj-key");
        let mut meta = Meta::default();
        meta.credentials.insert(
            fp.clone(),
            CredentialFacts { kind: "openai-key".into(), profile: None, account: None, store: None },
        );
        let fixture = Binding {
            kind: "openai-key".into(),
            profile: Some("env:OPENAI_API_KEY".into()),
            provider: Some("openai".into()),
            store: None,
        };
        let marker = format!("Bearer {}", credential::redaction_marker("sk-proj-key"));
        let i =
            interaction("https://api.openai.com/v1/responses", &[("authorization", &marker)], Value::Null);

        let mut bindings = Bindings::default();
        bindings.add_meta(&meta);
        let mut fixtures = Bindings::default();
        fixtures.insert(fp.clone(), fixture);
        bindings.extend(fixtures);
        let seen = &observe(&i, &bindings, &model_api).unwrap().credentials[0];
        assert_eq!(seen.profile.as_deref(), Some("env:OPENAI_API_KEY"));
        assert_eq!(seen.provider.as_deref(), Some("openai"));
        assert!(!seen.recorded_without_profile);

        let mut alone = Bindings::default();
        alone.add_meta(&meta);
        let seen = &observe(&i, &alone, &model_api).unwrap().credentials[0];
        assert_eq!((seen.kind.as_str(), seen.profile.as_deref()), ("openai-key", None));
        assert!(seen.recorded_without_profile, "the report can say why it is unbound");
    }

    #[test]
    fn the_model_is_read_from_json_text_without_the_rest() {
        let long = format!(
            r#"{{"instructions":"{}","model":"gpt-5.5","tools":[{{"model":"x"}}]}}"#,
            "a".repeat(1000)
        );
        assert_eq!(model_in_text(&long).as_deref(), Some("gpt-5.5"));
        let create = r#"{"type":"response.create","response":{"model":"gpt-5.5-pro","input":[]}}"#;
        assert_eq!(model_in_text(create).as_deref(), Some("gpt-5.5-pro"));
        for none in [r#"["gpt-5.5"]"#, r#"{"model":5}"#, "not json", r#"{"input":"hi"}"#] {
            assert_eq!(model_in_text(none), None, "{none}");
        }
    }

    #[test]
    fn websocket_model_comes_from_the_first_client_message() {
        let mut i = interaction("wss://chatgpt.com/backend-api/codex/responses", &[], Value::Null);
        i.request.body = Body::default();
        i.websocket = Some(WebSocketSession {
            messages: vec![WsMessage {
                from: Side::Client,
                t_ms: 0,
                payload: Payload::Text(r#"{"type":"response.create","model":"gpt-5.5"}"#.into()),
            }],
            close: None,
        });
        assert_eq!(observe(&i, &Bindings::default(), &model_api).unwrap().model.as_deref(), Some("gpt-5.5"));
    }

    #[test]
    fn a_recorded_upgrade_is_the_websocket_variant_of_its_endpoint() {
        let mut i = interaction("https://chatgpt.com/backend-api/codex/responses", &[], Value::Null);
        i.request.method = "GET".into();
        i.websocket = Some(WebSocketSession { messages: vec![], close: None });
        let observed = observe(&i, &Bindings::default(), &model_api).unwrap().endpoint;
        assert_eq!(observed.url(), "wss://chatgpt.com/backend-api/codex/responses");
        let planned = Endpoint::new("POST", "https://chatgpt.com/backend-api/codex/responses").unwrap();
        assert!(planned.is_reached_by(&observed));
    }

    #[test]
    fn pseudo_profiles_have_no_provider_prefix() {
        assert_eq!(provider_of_profile("openai:default").as_deref(), Some("openai"));
        assert_eq!(provider_of_profile("env:OPENAI_API_KEY"), None);
        assert_eq!(provider_of_profile("unbound"), None);
    }
}
