//! The shipped catalogue's cassettes, reconstructed from the reports they
//! reproduce, as reviewable data. Where a real OpenClaw release was recorded
//! (`scripts/openclaw-matrix.sh`; `meta.labels.source` = `recorded from
//! openclaw <version>`), the recording replaced the reconstruction; what is
//! left here are the versions no live run can reach (older releases, and
//! #83380, whose Codex runtime plugin was never published for 2026.5.x:
//! `*.as-reported.json`).
//!
//! Each cassette is built from a scenario's fixture inputs (so fingerprints,
//! accounts and `meta.credentials` are those of its fixture tokens) and a
//! short description of what the dispatcher sent and what the provider
//! answered. The test fails when a committed cassette differs from its
//! reconstruction; `DISPATCH_VCR_RECONSTRUCT=1 cargo test --test it reconstruct::`
//! rewrites them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use dispatch_vcr::cassette::{
    Body, BodyContent, Cassette, CredentialFacts, DispatcherId, Interaction, Meta, Request, Response,
    SseEvent,
};
use dispatch_vcr::credential;
use dispatch_vcr::dispatch::catalog::Catalog;
use dispatch_vcr::dispatch::inputs::DispatchInputs;
use dispatch_vcr::scenario::load;
use serde_json::{Value, json};

use crate::support::{root, update_committed};

/// Who sent a request, which decides its client headers.
#[derive(Clone, Copy)]
enum Client {
    /// OpenClaw's embedded pi runner (Node).
    Pi,
    /// The Codex app-server child of the codex plugin.
    CodexAppServer,
}

/// The credential a reconstructed request carried.
#[derive(Clone, Copy)]
enum Sent {
    /// None at all.
    Nothing,
    /// The secret of this fixture profile, in this header with this scheme.
    Profile(&'static str, &'static str, Option<&'static str>),
    /// The value of this env variable, as `Authorization: Bearer`.
    Env(&'static str),
    /// A fresh access token, refreshed from this fixture profile's login.
    Refreshed(&'static str),
}

/// What the provider answered.
#[derive(Clone, Copy)]
enum Answer {
    /// A Responses API event stream.
    ResponsesStream,
    /// A JSON error.
    Error(u16, &'static str),
}

const MISSING_BEARER: &str = r#"{"error":{"message":"Missing bearer or basic authentication in header","type":"invalid_request_error","param":null,"code":null}}"#;
const MISSING_SCOPES: &str = r#"{"error":{"message":"You have insufficient permissions for this operation. Missing scopes: api.responses.write. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.","type":"invalid_request_error","param":null,"code":null}}"#;
const INVALID_X_API_KEY: &str =
    r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;

const CHATGPT: &str = "https://chatgpt.com/backend-api/codex/responses";
const PLATFORM: &str = "https://api.openai.com/v1/responses";
const ANTHROPIC: &str = "https://api.anthropic.com/v1/messages";

/// One reconstructed model call.
struct Call {
    url: &'static str,
    client: Client,
    sent: Sent,
    /// Whether `chatgpt-account-id` of the credential's account is sent.
    account: bool,
    model: &'static str,
    answer: Answer,
}

/// One reconstructed cassette.
struct Reconstruction {
    scenario: &'static str,
    version: &'static str,
    source: &'static str,
    calls: Vec<Call>,
}

const CORRECT: &str = "reconstructed: the correct dispatch, pending a real recording";

fn call(url: &'static str, client: Client, sent: Sent, model: &'static str, answer: Answer) -> Call {
    Call { url, client, sent, account: false, model, answer }
}

fn with_account(mut c: Call) -> Call {
    c.account = true;
    c
}

fn catalogue() -> Vec<Reconstruction> {
    use Answer::*;
    use Client::*;
    let bearer = |id| Sent::Profile(id, "authorization", Some("Bearer"));
    let cassette = |scenario, version, source, calls| Reconstruction { scenario, version, source, calls };
    vec![
        // #83380: the runner hands the Codex harness no profile; the app-server falls back to the
        // Platform API without a bearer and gets 401.
        cassette(
            "codex-runtime-binds-oauth-profile",
            "2026.5.12",
            "reconstructed from openclaw/openclaw#83380",
            vec![call(PLATFORM, CodexAppServer, Sent::Nothing, "gpt-5.5-pro", Error(401, MISSING_BEARER))],
        ),
        cassette(
            "codex-runtime-binds-oauth-profile",
            "2026.5.16-beta.4",
            "reconstructed from openclaw/openclaw#83380",
            vec![call(PLATFORM, CodexAppServer, Sent::Nothing, "gpt-5.5-pro", Error(401, MISSING_BEARER))],
        ),
        // #75739: same failure with openai/gpt-5.5 on the Codex runtime.
        cassette(
            "openai-model-on-codex-runtime-uses-oauth",
            "2026.4.29",
            "reconstructed from openclaw/openclaw#75739",
            vec![call(PLATFORM, CodexAppServer, Sent::Nothing, "gpt-5.5", Error(401, MISSING_BEARER))],
        ),
        cassette(
            "openai-model-on-codex-runtime-uses-oauth",
            "2026.5.6",
            "reconstructed from openclaw/openclaw#75739",
            vec![call(PLATFORM, CodexAppServer, Sent::Nothing, "gpt-5.5", Error(401, MISSING_BEARER))],
        ),
        // #81888: the older API-key profile is bound; the key works on the Platform API (billing swap).
        cassette(
            "oauth-login-beats-older-api-key",
            "2026.5.7",
            "reconstructed from openclaw/openclaw#81888",
            vec![call(PLATFORM, CodexAppServer, bearer("openai:default"), "gpt-5.5", ResponsesStream)],
        ),
        // #76468: the manual key is chosen before the OAuth login.
        cassette(
            "oauth-profile-beats-manual-key",
            "2026.5.6",
            "reconstructed from openclaw/openclaw#76468",
            vec![call(PLATFORM, CodexAppServer, bearer("openai:manual"), "gpt-5.5", ResponsesStream)],
        ),
        // #36660, #64133: the OAuth token goes to the Platform API, which wants API scopes.
        cassette(
            "codex-oauth-goes-to-chatgpt-backend",
            "2026.3.2",
            "reconstructed from openclaw/openclaw#36660",
            vec![call(PLATFORM, Pi, bearer("openai-codex:default"), "gpt-5.4", Error(401, MISSING_SCOPES))],
        ),
        cassette(
            "codex-oauth-goes-to-chatgpt-backend",
            "2026.4.9",
            "reconstructed from openclaw/openclaw#64133",
            vec![call(PLATFORM, Pi, bearer("openai-codex:default"), "gpt-5.4", Error(401, MISSING_SCOPES))],
        ),
        // #79358: the stored API-key profile is ignored; no Authorization at all.
        cassette(
            "api-key-profile-sends-bearer",
            "2026.5.7",
            "reconstructed from openclaw/openclaw#79358",
            vec![call(PLATFORM, Pi, Sent::Nothing, "gpt-5.5", Error(401, MISSING_BEARER))],
        ),
        // #54350 family (#17689): the setup token goes in x-api-key.
        cassette(
            "anthropic-setup-token-as-bearer",
            "2026.2.12",
            "reconstructed from openclaw/openclaw#17689",
            vec![call(
                ANTHROPIC,
                Pi,
                Sent::Profile("anthropic:default", "x-api-key", None),
                "claude-sonnet-4-5",
                Error(401, INVALID_X_API_KEY),
            )],
        ),
        // #81941: the refresh of the expired login fails over to the env key.
        cassette(
            "expired-oauth-refreshes-not-env-key",
            "2026.5.7",
            CORRECT,
            vec![with_account(call(
                CHATGPT,
                Pi,
                Sent::Refreshed("openai-codex:user@example.com"),
                "gpt-5.5",
                ResponsesStream,
            ))],
        ),
        cassette(
            "expired-oauth-refreshes-not-env-key",
            "2026.5.14",
            "reconstructed from openclaw/openclaw#81941",
            vec![call(PLATFORM, Pi, Sent::Env("OPENAI_API_KEY"), "gpt-5.5", ResponsesStream)],
        ),
    ]
}

/// The fixture inputs of a scenario at a version, and its credential facts.
struct Fixtures {
    /// The scenario's `inputs` as written (fixture tokens unminted).
    raw: Value,
    inputs: DispatchInputs,
    facts: BTreeMap<String, CredentialFacts>,
}

fn fixtures(scenario: &str, version: &str) -> Fixtures {
    let path = root().join("scenarios/openclaw").join(format!("{scenario}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let inputs =
        DispatchInputs::from_scenario_inputs(&value["inputs"], Some(version.parse().unwrap())).unwrap();
    let facts = inputs.credential_facts(&Catalog::shipped().unwrap());
    Fixtures { raw: value["inputs"].clone(), inputs, facts }
}

impl Fixtures {
    fn profile_secret(&self, id: &str) -> (String, Option<String>) {
        let cred = &self.inputs.effective_store().profiles[id];
        (cred.secret.clone().unwrap(), cred.account())
    }
}

/// A refreshed access token: the login's claims, re-issued.
fn refreshed_token(secret: &str) -> String {
    let mut claims = credential::jwt_claims(secret).unwrap();
    claims["iat"] = json!(1778889600);
    credential::mint_unsigned_jwt(&claims)
}

fn build(r: &Reconstruction) -> Cassette {
    let fixtures = fixtures(r.scenario, r.version);
    let mut meta = Meta {
        tool: Some(format!("dispatch-vcr {} (reconstruction)", env!("CARGO_PKG_VERSION"))),
        dispatcher: Some(DispatcherId { name: "openclaw".into(), version: r.version.into() }),
        ..Meta::default()
    };
    meta.labels.insert("case".into(), r.scenario.into());
    meta.labels.insert("source".into(), r.source.into());
    let mut interactions = Vec::new();
    for c in &r.calls {
        if let Sent::Refreshed(id) = c.sent {
            interactions.push(refresh(&fixtures, id, interactions.len() as u64 + 1, &mut meta));
        }
        interactions.push(model_call(&fixtures, c, interactions.len() as u64 + 1, r.version, &mut meta));
    }
    // cassettes/openclaw/VERSION/NAME.json → the schema editors validate it with.
    let schema = Some("../../../docs/schema/cassette-v1.json".to_owned());
    Cassette { schema, interactions, ..Cassette::new(meta) }
}

fn refresh(fixtures: &Fixtures, id: &str, seq: u64, meta: &mut Meta) -> Interaction {
    let (secret, _) = fixtures.profile_secret(id);
    let refresh_token = fixtures.raw["auth_profiles"]["profiles"][id]["refresh"].as_str().unwrap();
    let fresh = refreshed_token(&secret);
    let facts = &fixtures.facts[&credential::fingerprint(&secret)];
    meta.credentials.insert(credential::fingerprint(&fresh), facts.clone());
    let request_body = json!({
        "grant_type": "refresh_token",
        "refresh_token": credential::redaction_marker(refresh_token),
        "scope": "openid profile email"
    });
    Interaction {
        seq,
        conn: seq,
        t_ms: 0,
        duration_ms: 180,
        request: Request {
            method: "POST".into(),
            url: "https://auth.openai.com/oauth/token".into(),
            http_version: "HTTP/1.1".into(),
            headers: pairs(&[("content-type", "application/json")]),
            body: Body::from(BodyContent::Json(request_body)),
        },
        response: Some(Response {
            status: 200,
            headers: pairs(&[("content-type", "application/json")]),
            body: Body::from(BodyContent::Json(json!({
                "access_token": credential::redaction_marker(&fresh),
                "refresh_token": credential::redaction_marker(refresh_token),
                "expires_in": 864000, "token_type": "Bearer"
            }))),
        }),
        websocket: None,
        error: None,
    }
}

fn model_call(fixtures: &Fixtures, c: &Call, seq: u64, version: &str, meta: &mut Meta) -> Interaction {
    let mut headers: Vec<(String, String)> = Vec::new();
    let (secret, account) = match c.sent {
        Sent::Nothing => (None, None),
        Sent::Profile(id, ..) => {
            let (secret, account) = fixtures.profile_secret(id);
            (Some(secret), account)
        }
        Sent::Env(var) => (Some(fixtures.inputs.env[var].clone()), None),
        Sent::Refreshed(id) => {
            let (secret, account) = fixtures.profile_secret(id);
            (Some(refreshed_token(&secret)), account)
        }
    };
    if let Some(secret) = &secret {
        let (header, scheme) = match c.sent {
            Sent::Profile(_, header, scheme) => (header, scheme),
            _ => ("authorization", Some("Bearer")),
        };
        let marker = credential::redaction_marker(secret);
        let value = scheme.map(|s| format!("{s} {marker}")).unwrap_or(marker);
        headers.push((header.into(), value));
        let fingerprint = credential::fingerprint(secret);
        if let Some(facts) = fixtures.facts.get(&fingerprint) {
            meta.credentials.insert(fingerprint, facts.clone());
        }
    }
    if let (true, Some(account)) = (c.account, account) {
        headers.push(("chatgpt-account-id".into(), account));
    }
    headers.extend(client_headers(c, version));
    let anthropic = c.url == ANTHROPIC;
    let body = if anthropic {
        json!({"model": c.model, "max_tokens": 4096, "stream": true,
               "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    } else {
        json!({"model": c.model, "instructions": "You are a personal assistant running inside OpenClaw.",
               "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
               "store": false, "stream": true})
    };
    let mut request_body = Body::from(BodyContent::Json(body));
    // From 2026.5.30 the Codex path zstd-encodes request bodies; cassettes store them decoded.
    if matches!(c.client, Client::CodexAppServer) && version.starts_with("2026.9.") {
        request_body.decoded_from = Some("zstd".into());
    }
    Interaction {
        seq,
        conn: seq,
        t_ms: seq.saturating_sub(1) * 200,
        duration_ms: 420,
        request: Request {
            method: "POST".into(),
            url: c.url.into(),
            http_version: "HTTP/1.1".into(),
            headers,
            body: request_body,
        },
        response: Some(answer(c)),
        websocket: None,
        error: None,
    }
}

fn client_headers(c: &Call, version: &str) -> Vec<(String, String)> {
    let mut headers = vec![("content-type", "application/json".to_owned())];
    match (c.url, c.client) {
        (ANTHROPIC, _) => {
            headers.push(("anthropic-version", "2023-06-01".into()));
            if matches!(c.sent, Sent::Profile(_, "authorization", _)) {
                headers.push(("anthropic-beta", "oauth-2025-04-20".into()));
            }
            headers.push(("user-agent", format!("openclaw/{version}")));
        }
        (_, Client::CodexAppServer) => {
            headers.extend([("accept", "text/event-stream".to_owned()), ("originator", "codex_exec".into())]);
            headers.push(("user-agent", "codex_exec/0.130.0".into()));
        }
        (url, Client::Pi) => {
            headers.push(("accept", "text/event-stream".into()));
            if url == CHATGPT {
                headers.extend([
                    ("openai-beta", "responses=experimental".to_owned()),
                    ("originator", "pi".into()),
                ]);
            }
            headers.push(("user-agent", format!("openclaw/{version}")));
        }
    }
    headers.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
}

fn answer(c: &Call) -> Response {
    let (status, content_type, body) = match c.answer {
        Answer::ResponsesStream => (200, "text/event-stream", BodyContent::Sse(responses_stream(c.model))),
        Answer::Error(status, text) => {
            (status, "application/json", BodyContent::Json(serde_json::from_str(text).unwrap()))
        }
    };
    Response { status, headers: pairs(&[("content-type", content_type)]), body: Body::from(body) }
}

fn event(t_ms: u64, name: &str, data: Value) -> SseEvent {
    SseEvent { t_ms, event: Some(name.into()), id: None, retry: None, data: data.to_string() }
}

fn responses_stream(model: &str) -> Vec<SseEvent> {
    let response =
        |status: &str| json!({"id": "resp_fixture", "object": "response", "status": status, "model": model});
    vec![
        event(
            35,
            "response.created",
            json!({"type": "response.created", "response": response("in_progress")}),
        ),
        event(
            80,
            "response.output_text.delta",
            json!({"type": "response.output_text.delta", "delta": "Hello!"}),
        ),
        event(
            95,
            "response.completed",
            json!({"type": "response.completed", "response": response("completed")}),
        ),
    ]
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// Where the scenario file says this version's cassette is: the scenario is the source of truth, so a
/// reconstruction kept beside a real recording (`*.as-reported.json`) is found under its own name.
fn cassette_path(r: &Reconstruction) -> PathBuf {
    let scenario = root().join("scenarios/openclaw").join(format!("{}.json", r.scenario));
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&scenario).unwrap()).unwrap();
    let relative = value["cassettes"][r.version].as_str().map(str::to_owned);
    let default = root().join("cassettes/openclaw").join(r.version).join(format!("{}.json", r.scenario));
    relative.map_or(default, |relative| scenario.parent().unwrap().join(relative))
}

/// Whether the cassette at `path` is a recording of a real release.
fn is_recorded(path: &std::path::Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or_default();
    value["meta"]["labels"]["source"].as_str().is_some_and(|s| s.starts_with("recorded from "))
}

fn to_text(cassette: &Cassette) -> String {
    dispatch_vcr::cassette::save::to_json(cassette).unwrap()
}

#[test]
fn shipped_cassettes_are_their_reconstruction() {
    let rewrite = std::env::var_os("DISPATCH_VCR_RECONSTRUCT").is_some();
    let mut stale = Vec::new();
    for r in catalogue() {
        let path = cassette_path(&r);
        let text = to_text(&build(&r));
        if rewrite {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            update_committed(&path, &text);
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(stale.is_empty(), "stale cassettes (DISPATCH_VCR_RECONSTRUCT=1 rewrites them): {stale:#?}");
}

#[test]
fn every_cassette_a_scenario_names_is_recorded_or_reconstructed_here() {
    let made: Vec<PathBuf> = catalogue().iter().map(cassette_path).collect();
    let scenarios = load::discover(&[root().join("scenarios/openclaw")]).unwrap();
    for file in scenarios {
        let text = std::fs::read_to_string(&file).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        for relative in value["cassettes"].as_object().unwrap().values() {
            let path = file.parent().unwrap().join(relative.as_str().unwrap());
            if is_recorded(&path) {
                continue;
            }
            let canonical = std::fs::canonicalize(&path).unwrap_or(path.clone());
            assert!(
                made.iter().any(|m| std::fs::canonicalize(m).ok().as_ref() == Some(&canonical)),
                "{} is not reconstructed by this file",
                path.display()
            );
        }
    }
}

#[test]
fn no_fixture_secret_is_in_a_cassette() {
    for r in catalogue() {
        let text = to_text(&build(&r));
        let fixtures = fixtures(r.scenario, r.version);
        let secrets = fixtures
            .inputs
            .effective_store()
            .profiles
            .values()
            .filter_map(|c| c.secret.clone())
            .collect::<Vec<_>>();
        for secret in secrets.iter().chain(fixtures.inputs.env.values()) {
            assert!(!text.contains(secret.as_str()), "{} holds a fixture secret", r.scenario);
        }
    }
}
