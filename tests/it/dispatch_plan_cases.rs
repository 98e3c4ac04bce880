//! The reference dispatcher, case by case: each resolution step and each row of
//! DISPATCH.md's endpoint and header tables, in both version bands.
//!
//! A case is scenario inputs plus, per version, the parts of the plan (as JSON)
//! that must hold. Objects match by the keys they name; arrays match when their
//! elements appear in the plan's array in that order; `"*"` is any non-null value.

use dispatch_vcr::dispatch::{Catalog, DispatchInputs, plan};
use serde_json::{Value, json};

/// Before the openai-codex merge.
const OLD: &str = "2026.5.16-beta.4";
/// From the merge on.
const NEW: &str = "2026.5.30";
/// "Now" of every case: before `FUTURE`, after `PAST`.
const NOW: i64 = 1_800_000_000_000;
const FUTURE: i64 = 4_102_444_800_000;
const PAST: i64 = 1_700_000_000_000;

const CHATGPT: &str = "POST https://chatgpt.com/backend-api/codex/responses";
const PLATFORM: &str = "POST https://api.openai.com/v1/responses";

struct Case {
    name: &'static str,
    inputs: Value,
    expect: Vec<(&'static str, Value)>,
}

fn case(name: &'static str, inputs: Value, expect: Vec<(&'static str, Value)>) -> Case {
    Case { name, inputs, expect }
}

/// The same expectation in both bands.
fn both(expect: Value) -> Vec<(&'static str, Value)> {
    vec![(OLD, expect.clone()), (NEW, expect)]
}

fn jwt(account: &str) -> Value {
    json!({"jwt": {"claims": {"https://api.openai.com/auth": {"chatgpt_account_id": account}}}})
}

fn oauth(provider: &str, account: &str) -> Value {
    json!({"type": "oauth", "provider": provider, "access": jwt(account), "refresh": "r", "expires": FUTURE})
}

fn key(provider: &str, key: &str) -> Value {
    json!({"type": "api_key", "provider": provider, "key": key})
}

fn token(provider: &str, token: &str) -> Value {
    json!({"type": "token", "provider": provider, "token": token})
}

fn store(profiles: Value) -> Value {
    json!({"version": 1, "profiles": profiles})
}

fn defaults(model: &str, runtime: Option<&str>) -> Value {
    match runtime {
        Some(id) => {
            json!({"agents": {"defaults": {"model": {"primary": model}, "agentRuntime": {"id": id}}}})
        }
        None => json!({"agents": {"defaults": {"model": {"primary": model}}}}),
    }
}

fn inputs(config: Value, profiles: Value) -> Value {
    json!({"config": config, "auth_profiles": store(profiles), "now": NOW})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn no_key(provider: &str) -> Value {
    json!({"error": format!("No API key found for provider \"{provider}\"")})
}

fn fp(secret: &str) -> String {
    dispatch_vcr::credential::fingerprint(secret)
}

/// Whether `actual` holds everything `expected` names.
fn holds(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), actual) if s == "*" => !actual.is_null(),
        (Value::Object(want), Value::Object(have)) => {
            want.iter().all(|(k, v)| holds(v, have.get(k).unwrap_or(&Value::Null)))
        }
        (Value::Object(_), _) => false,
        (Value::Array(want), Value::Array(have)) => {
            let mut rest = have.iter();
            want.iter().all(|w| rest.any(|h| holds(w, h)))
        }
        (want, have) => want == have,
    }
}

fn outcome(inputs: &Value, version: &str, catalog: &Catalog) -> Value {
    let inputs = DispatchInputs::from_scenario_inputs(inputs, Some(version.parse().unwrap())).unwrap();
    match plan(&inputs, catalog) {
        Ok(plan) => serde_json::to_value(plan).unwrap(),
        Err(error) => serde_json::to_value(*error).unwrap(),
    }
}

fn run(cases: Vec<Case>) {
    let catalog = Catalog::shipped().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &cases {
        for (version, expected) in &case.expect {
            checked += 1;
            let actual = outcome(&case.inputs, version, &catalog);
            if !holds(expected, &actual) {
                failures.push(format!(
                    "✗ {} @ {version}\n  expected ⊆ {}\n  actual:   {}",
                    case.name,
                    expected,
                    serde_json::to_string(&actual).unwrap()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_matcher_itself() {
    assert!(holds(&json!({"a": [1, 3]}), &json!({"a": [1, 2, 3], "b": 0})));
    assert!(!holds(&json!({"a": [3, 1]}), &json!({"a": [1, 2, 3]})));
    assert!(holds(&json!({"c": null}), &json!({"a": 1})));
    assert!(!holds(&json!({"a": "*"}), &json!({"a": null})));
}

#[test]
fn step_1_model_ref() {
    let openai_key = json!({"OPENAI_API_KEY": "sk-proj-1"});
    run(vec![
        case(
            "provider is before the first slash",
            with(
                inputs(defaults("openrouter/anthropic/claude-x", None), json!({})),
                "env",
                json!({"OPENROUTER_API_KEY": "sk-or-v1-1"}),
            ),
            both(json!({"provider": "openrouter", "model": "anthropic/claude-x"})),
        ),
        case(
            "no slash means provider openai",
            with(inputs(defaults("gpt-5.5", None), json!({})), "env", openai_key.clone()),
            both(json!({"provider": "openai", "model": "gpt-5.5", "endpoint": PLATFORM})),
        ),
        case(
            "--model beats the configured primary",
            with(
                with(inputs(defaults("anthropic/claude-x", None), json!({})), "env", openai_key.clone()),
                "model",
                json!("openai/gpt-5"),
            ),
            both(json!({"model_ref": "openai/gpt-5", "steps": [{"name": "model", "why": "--model"}]})),
        ),
        case(
            "the agent's model beats agents.defaults",
            with(
                with(
                    inputs(
                        json!({"agents": {"defaults": {"model": "anthropic/claude-x"}, "list": [{"id": "ops", "model": "openai/gpt-5"}]}}),
                        json!({}),
                    ),
                    "env",
                    openai_key,
                ),
                "agent",
                json!("ops"),
            ),
            both(json!({"agent": "ops", "model_ref": "openai/gpt-5"})),
        ),
        case(
            "no model anywhere is refused",
            inputs(json!({}), json!({})),
            both(
                json!({"error": "No model configured: set agents.defaults.model.primary in openclaw.json or pass --model"}),
            ),
        ),
    ]);
}

#[test]
fn step_2_runtime() {
    let codex = json!({"openai-codex:u@x": oauth("openai-codex", "acct-u")});
    let model = |runtime: Value| json!({"agents": {"defaults": {"model": "openai/gpt-5.5", "agentRuntime": runtime}}});
    run(vec![
        case(
            "per-model runtime beats per-agent and defaults",
            inputs(
                json!({"agents": {"defaults": {"model": "openai/gpt-5.5", "agentRuntime": "pi",
                    "models": {"openai/gpt-5.5": {"agentRuntime": {"id": "codex"}}}},
                    "list": [{"id": "main", "agentRuntime": "pi"}]}}),
                codex.clone(),
            ),
            both(json!({"runtime": "codex", "endpoint": CHATGPT})),
        ),
        case(
            "per-agent runtime beats defaults",
            inputs(
                json!({"agents": {"defaults": {"model": "openai/gpt-5.5", "agentRuntime": "pi"}, "list": [{"id": "main", "agentRuntime": "codex"}]}}),
                codex.clone(),
            ),
            both(
                json!({"runtime": "codex", "steps": [{"name": "runtime", "why": "agents.list[main].agentRuntime"}]}),
            ),
        ),
        case(
            "env OPENCLAW_AGENT_RUNTIME when the config is silent",
            with(
                inputs(defaults("openai/gpt-5.5", None), codex.clone()),
                "env",
                json!({"OPENCLAW_AGENT_RUNTIME": "codex"}),
            ),
            both(json!({"runtime": "codex", "endpoint": CHATGPT})),
        ),
        case(
            "older embeddedHarness spelling",
            inputs(
                json!({"agents": {"defaults": {"model": "openai/gpt-5.5", "embeddedHarness": {"runtime": "codex"}}}}),
                codex.clone(),
            ),
            both(
                json!({"runtime": "codex", "steps": [{"name": "runtime", "why": "agents.defaults.embeddedHarness (the older spelling of agentRuntime)"}]}),
            ),
        ),
        case(
            "auto: the codex harness claims codex/<m>",
            inputs(defaults("codex/gpt-5.5", None), codex.clone()),
            vec![
                (
                    OLD,
                    json!({"runtime": "codex", "auth_provider": "openai-codex", "endpoint": CHATGPT, "credential": {"profile": "openai-codex:u@x"}}),
                ),
                (
                    NEW,
                    json!({"runtime": "codex", "auth_provider": "openai", "endpoint": CHATGPT, "credential": {"profile": "openai:u@x"}}),
                ),
            ],
        ),
        case(
            "a disabled codex plugin falls back to pi, which authenticates openai as openai",
            with(inputs(model(json!("codex")), codex.clone()), "config", {
                let mut c = model(json!("codex"));
                c["plugins"] = json!({"entries": {"codex": {"enabled": false}}});
                c
            }),
            vec![
                (
                    OLD,
                    json!({"error": "No API key found for provider \"openai\"", "steps": [{"name": "runtime", "decision": "pi — openclaw (embedded pi runner) sends the request"}]}),
                ),
                (NEW, json!({"runtime": "pi", "endpoint": CHATGPT, "credential": {"profile": "openai:u@x"}})),
            ],
        ),
        case(
            "codex not in plugins.allow with fallback none is refused",
            with(inputs(json!({}), codex.clone()), "config", {
                let mut c = model(json!({"id": "codex", "fallback": "none"}));
                c["plugins"] = json!({"allow": ["other"]});
                c
            }),
            both(
                json!({"error": "Agent runtime \"codex\" is unavailable (plugins.allow does not list \"codex\") and its fallback is none"}),
            ),
        ),
        case(
            "the codex runtime does not serve anthropic: pi sends",
            with(
                inputs(defaults("anthropic/claude-x", Some("codex")), json!({})),
                "env",
                json!({"ANTHROPIC_API_KEY": "sk-ant-api03-k"}),
            ),
            both(json!({"runtime": "pi", "endpoint": "POST https://api.anthropic.com/v1/messages"})),
        ),
    ]);
}

#[test]
fn step_3_auth_provider() {
    let codex = json!({"openai-codex:u@x": oauth("openai-codex", "acct-u")});
    run(vec![
        case(
            "#75739: openai + runtime codex authenticates with the openai-codex login",
            inputs(
                json!({"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5", "fallbacks": ["moonshot/kimi-k2.5"]}, "agentRuntime": {"id": "codex"}}}}),
                codex.clone(),
            ),
            vec![
                (
                    OLD,
                    json!({"auth_provider": "openai-codex", "endpoint": CHATGPT, "credential": {"profile": "openai-codex:u@x", "header": "authorization", "scheme": "Bearer", "kind": "jwt"}}),
                ),
                (
                    NEW,
                    json!({"auth_provider": "openai", "endpoint": CHATGPT, "credential": {"profile": "openai:u@x", "migrated_from": "openai-codex:u@x"}}),
                ),
            ],
        ),
        case(
            "openai + pi uses openai-codex when auth.order.openai[0] is an openai-codex profile",
            inputs(
                with(
                    defaults("openai/gpt-5.5", Some("pi")),
                    "auth",
                    json!({"order": {"openai": ["openai-codex:u@x"]}}),
                ),
                with(codex.clone(), "openai:k", key("openai", "sk-proj-k")),
            ),
            vec![
                (
                    OLD,
                    json!({"auth_provider": "openai-codex", "endpoint": CHATGPT, "credential": {"profile": "openai-codex:u@x"}}),
                ),
                (
                    NEW,
                    json!({"auth_provider": "openai", "endpoint": CHATGPT, "credential": {"profile": "openai:u@x"}}),
                ),
            ],
        ),
        case(
            "openai + pi without such an order stays openai",
            inputs(defaults("openai/gpt-5.5", Some("pi")), codex.clone()),
            vec![
                (OLD, no_key("openai")),
                (
                    NEW,
                    json!({"auth_provider": "openai", "endpoint": CHATGPT, "credential": {"profile": "openai:u@x"}}),
                ),
            ],
        ),
        case(
            "#83380: codex runtime + openai-codex/gpt-5.5-pro + one OAuth profile",
            inputs(
                json!({"agents": {"defaults": {"agentRuntime": {"id": "codex"}, "model": {"primary": "openai-codex/gpt-5.5-pro"}}},
                       "plugins": {"entries": {"codex": {"enabled": true}}, "allow": ["codex"]}}),
                json!({"openai-codex:user@example.com": oauth("openai-codex", "acct-fixture")}),
            ),
            vec![
                (
                    OLD,
                    json!({"endpoint": CHATGPT, "model": "gpt-5.5-pro", "runtime": "codex",
                    "credential": {"profile": "openai-codex:user@example.com", "header": "authorization", "scheme": "Bearer", "kind": "jwt", "allowed_hosts": ["chatgpt.com"]},
                    "account": {"header": "chatgpt-account-id", "value": "acct-fixture", "fingerprint": fp("acct-fixture")}}),
                ),
                (
                    "2026.5.12",
                    json!({"endpoint": CHATGPT, "credential": {"profile": "openai-codex:user@example.com"}, "account": {"value": "acct-fixture"}}),
                ),
                (
                    NEW,
                    json!({"endpoint": CHATGPT, "credential": {"profile": "openai:user@example.com"}, "account": {"value": "acct-fixture"}}),
                ),
            ],
        ),
    ]);
}

#[test]
fn step_4_credential_order_and_eligibility() {
    let platform = defaults("openai/gpt-5.5", None);
    let two_keys = json!({"openai:a": key("openai", "sk-proj-a"), "openai:b": key("openai", "sk-proj-b")});
    let state = |value: Value| value;
    run(vec![
        case(
            "#81888: OAuth profiles added next to an API key: OAuth bound",
            inputs(
                defaults("openai/gpt-5.5", Some("codex")),
                json!({"openai:default": key("openai", "sk-proj-d"), "openai-codex:u@x": oauth("openai-codex", "acct-u")}),
            ),
            vec![
                (OLD, json!({"credential": {"profile": "openai-codex:u@x", "type": "oauth"}})),
                (
                    NEW,
                    json!({"credential": {"profile": "openai:u@x", "type": "oauth"}, "candidates": [{"profile": "openai:u@x"}, {"profile": "openai:default"}]}),
                ),
            ],
        ),
        case(
            "#76468: a manual key and an OAuth login: OAuth first",
            inputs(
                defaults("openai/gpt-5.4", Some("codex")),
                json!({"openai:manual": key("openai", "sk-proj-m"), "openai-codex:acct": oauth("openai-codex", "acct-a")}),
            ),
            vec![
                (OLD, json!({"endpoint": CHATGPT, "credential": {"profile": "openai-codex:acct"}})),
                (NEW, json!({"endpoint": CHATGPT, "credential": {"profile": "openai:acct"}})),
            ],
        ),
        case(
            "auth-state order beats auth.order",
            with(
                inputs(
                    with(platform.clone(), "auth", json!({"order": {"openai": ["openai:a", "openai:b"]}})),
                    two_keys.clone(),
                ),
                "auth_state",
                state(json!({"order": {"openai": ["openai:b", "openai:a"]}})),
            ),
            both(
                json!({"credential": {"profile": "openai:b", "fingerprint": fp("sk-proj-b")}, "steps": [{"name": "credential", "why": "candidates: auth-state.json order.openai (explicit order kept; cooldown last)"}]}),
            ),
        ),
        case(
            "an explicit auth.order is kept even against the type order",
            inputs(
                with(platform.clone(), "auth", json!({"order": {"openai": ["openai:k", "openai:o"]}})),
                json!({"openai:k": key("openai", "sk-proj-k"), "openai:o": oauth("openai", "acct-o")}),
            ),
            both(json!({"endpoint": PLATFORM, "credential": {"profile": "openai:k", "kind": "openai-key"}})),
        ),
        case(
            "configured auth.profiles limit the candidates",
            inputs(
                with(
                    platform.clone(),
                    "auth",
                    json!({"profiles": {"openai:b": {"provider": "openai", "mode": "api_key"}}}),
                ),
                two_keys.clone(),
            ),
            both(json!({"credential": {"profile": "openai:b"}, "candidates": [{"profile": "openai:b"}]})),
        ),
        case(
            "type order: an Anthropic token before an API key",
            inputs(
                defaults("anthropic/claude-x", None),
                json!({"anthropic:key": key("anthropic", "sk-ant-api03-k"), "anthropic:tok": token("anthropic", "sk-ant-oat01-t")}),
            ),
            both(
                json!({"credential": {"profile": "anthropic:tok", "header": "authorization", "scheme": "Bearer"}}),
            ),
        ),
        case(
            "least recently used first among equals",
            with(
                inputs(platform.clone(), two_keys.clone()),
                "auth_state",
                json!({"usageStats": {"openai:a": {"lastUsed": 20}, "openai:b": {"lastUsed": 10}}}),
            ),
            both(
                json!({"credential": {"profile": "openai:b"}, "candidates": [{"profile": "openai:b"}, {"profile": "openai:a"}]}),
            ),
        ),
        case(
            "a profile in cooldown goes last, even an OAuth one",
            with(
                inputs(
                    platform.clone(),
                    json!({"openai:o": oauth("openai", "acct-o"), "openai:k": key("openai", "sk-proj-k")}),
                ),
                "auth_state",
                json!({"usageStats": {"openai:o": {"cooldownUntil": FUTURE}}}),
            ),
            both(
                json!({"endpoint": PLATFORM, "credential": {"profile": "openai:k"}, "candidates": [{"profile": "openai:k"}, {"profile": "openai:o", "eligible": true}]}),
            ),
        ),
        case(
            "a cooldown that ended does not count",
            with(
                inputs(
                    platform.clone(),
                    json!({"openai:o": oauth("openai", "acct-o"), "openai:k": key("openai", "sk-proj-k")}),
                ),
                "auth_state",
                json!({"usageStats": {"openai:o": {"cooldownUntil": PAST}}}),
            ),
            both(json!({"credential": {"profile": "openai:o"}})),
        ),
        case(
            "a disabled profile goes last; alone it is still used",
            with(
                inputs(platform.clone(), json!({"openai:a": key("openai", "sk-proj-a")})),
                "auth_state",
                json!({"usageStats": {"openai:a": {"disabledUntil": FUTURE}}}),
            ),
            both(
                json!({"credential": {"profile": "openai:a"}, "candidates": [{"why": "api_key, disabled until 4102444800000: tried last"}]}),
            ),
        ),
        case(
            "expired without refresh is ineligible",
            inputs(
                platform.clone(),
                json!({"openai:t": {"type": "token", "provider": "openai", "token": "sk-proj-t", "expires": PAST}, "openai:k": key("openai", "sk-proj-k")}),
            ),
            both(
                json!({"credential": {"profile": "openai:k"}, "candidates": [{"profile": "openai:k"}, {"profile": "openai:t", "eligible": false, "why": "token expired at 1700000000000 and has no refresh token"}]}),
            ),
        ),
        case(
            "expired OAuth with a refresh token is refreshed first",
            inputs(
                defaults("openai-codex/gpt-5.5", None),
                json!({"openai-codex:u": {"type": "oauth", "provider": "openai-codex", "access": jwt("acct-u"), "refresh": "r", "expires": PAST}}),
            ),
            vec![
                (OLD, json!({"credential": {"profile": "openai-codex:u", "refresh_first": true}})),
                (NEW, json!({"credential": {"profile": "openai:u", "refresh_first": true}})),
            ],
        ),
        case(
            "provider mismatch: an ordered profile of another provider is dropped",
            inputs(
                with(platform.clone(), "auth", json!({"order": {"openai": ["anthropic:x", "openai:a"]}})),
                json!({"anthropic:x": key("anthropic", "sk-ant-api03-x"), "openai:a": key("openai", "sk-proj-a")}),
            ),
            both(
                json!({"credential": {"profile": "openai:a"}, "candidates": [{"profile": "openai:a"}, {"profile": "anthropic:x", "eligible": false, "why": "belongs to provider anthropic"}]}),
            ),
        ),
        case(
            "missing: an ordered id that is not stored",
            inputs(
                with(platform.clone(), "auth", json!({"order": {"openai": ["openai:gone", "openai:a"]}})),
                two_keys.clone(),
            ),
            both(
                json!({"credential": {"profile": "openai:a"}, "candidates": [{"profile": "openai:a"}, {"profile": "openai:gone", "eligible": false, "why": "not in the auth store"}]}),
            ),
        ),
        case(
            "mode mismatch: auth.profiles says oauth, the store has a key",
            inputs(
                with(
                    platform.clone(),
                    "auth",
                    json!({"profiles": {"openai:a": {"provider": "openai", "mode": "oauth"}}}),
                ),
                two_keys.clone(),
            ),
            both(
                json!({"error": "No API key found for provider \"openai\"", "candidates": [{"profile": "openai:a", "eligible": false, "why": "auth.profiles.openai:a.mode is oauth but the stored credential is api_key"}]}),
            ),
        ),
    ]);
}

#[test]
fn step_4_env_and_config_keys() {
    let expired_codex = |refresh: Option<&str>| {
        let mut cred =
            json!({"type": "oauth", "provider": "openai-codex", "access": jwt("acct-u"), "expires": PAST});
        if let Some(r) = refresh {
            cred["refresh"] = json!(r);
        }
        json!({"openai-codex:u@x": cred})
    };
    let env = json!({"OPENAI_API_KEY": "sk-proj-env"});
    run(vec![
        case(
            "#81941: expired OAuth + OPENAI_API_KEY under pi: refresh and keep the OAuth profile",
            with(
                inputs(defaults("openai-codex/gpt-5.5", Some("pi")), expired_codex(Some("r"))),
                "env",
                env.clone(),
            ),
            vec![
                (
                    OLD,
                    json!({"endpoint": CHATGPT, "credential": {"profile": "openai-codex:u@x", "refresh_first": true, "kind": "jwt"}}),
                ),
                (
                    NEW,
                    json!({"endpoint": CHATGPT, "credential": {"profile": "openai:u@x", "refresh_first": true}}),
                ),
            ],
        ),
        case(
            "#81941/#72060: the env key never stands in for openai-codex",
            with(
                inputs(defaults("openai-codex/gpt-5.5", Some("pi")), expired_codex(None)),
                "env",
                env.clone(),
            ),
            vec![
                (
                    OLD,
                    json!({"error": "No API key found for provider \"openai-codex\"",
                    "steps": [{"name": "credential", "decision": "none eligible"}]}),
                ),
                // Merged into openai, the same key is now openai's own.
                (
                    NEW,
                    json!({"endpoint": PLATFORM, "credential": {"profile": "env:OPENAI_API_KEY", "source": "env", "fingerprint": fp("sk-proj-env")}}),
                ),
            ],
        ),
        case(
            "an OpenAI key does not authenticate anthropic",
            with(inputs(defaults("anthropic/claude-x", None), json!({})), "env", env.clone()),
            both(no_key("anthropic")),
        ),
        case(
            "the provider's own env key is used",
            with(inputs(defaults("openai/gpt-5.5", None), json!({})), "env", env.clone()),
            both(
                json!({"endpoint": PLATFORM, "credential": {"profile": "env:OPENAI_API_KEY", "type": "api_key", "kind": "openai-key", "allowed_hosts": ["api.openai.com"]}}),
            ),
        ),
        case(
            "a stored profile beats the env key",
            with(
                inputs(defaults("openai/gpt-5.5", None), json!({"openai:a": key("openai", "sk-proj-a")})),
                "env",
                env.clone(),
            ),
            both(json!({"credential": {"profile": "openai:a"}})),
        ),
        case(
            "ANTHROPIC_OAUTH_TOKEN goes as a bearer",
            with(
                inputs(defaults("anthropic/claude-x", None), json!({})),
                "env",
                json!({"ANTHROPIC_OAUTH_TOKEN": "sk-ant-oat01-e"}),
            ),
            both(
                json!({"credential": {"profile": "env:ANTHROPIC_OAUTH_TOKEN", "type": "token", "header": "authorization", "scheme": "Bearer"}}),
            ),
        ),
        case(
            "models.providers.<id>.apiKey after env",
            inputs(
                json!({"agents": {"defaults": {"model": "openai/gpt-5.5"}}, "models": {"providers": {"openai": {"apiKey": "sk-proj-cfg"}}}}),
                json!({}),
            ),
            both(
                json!({"credential": {"profile": "config:models.providers.openai.apiKey", "source": "config", "fingerprint": fp("sk-proj-cfg")}}),
            ),
        ),
        case(
            "nothing at all: No API key found",
            inputs(defaults("openai/gpt-5.5", None), json!({})),
            both(no_key("openai")),
        ),
    ]);
}

#[test]
fn step_4_agent_inheritance() {
    let ops = |own: Value, main: Value| {
        json!({"config": defaults("openai-codex/gpt-5.5", None), "agent": "ops", "now": NOW,
               "auth_profiles": store(own), "agent_stores": {"main": store(main)}})
    };
    run(vec![
        case(
            "a non-main agent uses main's OAuth login",
            ops(json!({}), json!({"openai-codex:u@x": oauth("openai-codex", "acct-u")})),
            vec![
                (
                    OLD,
                    json!({"agent": "ops", "credential": {"profile": "openai-codex:u@x", "inherited_from": "main"}}),
                ),
                (
                    NEW,
                    json!({"agent": "ops", "credential": {"profile": "openai:u@x", "inherited_from": "main"}}),
                ),
            ],
        ),
        case(
            "the agent's own entry wins over main's",
            ops(
                json!({"openai-codex:u@x": oauth("openai-codex", "acct-own")}),
                json!({"openai-codex:u@x": oauth("openai-codex", "acct-main")}),
            ),
            both(json!({"credential": {"inherited_from": null}, "account": {"value": "acct-own"}})),
        ),
        case(
            "main does not see another agent's store",
            json!({"config": defaults("openai-codex/gpt-5.5", None), "agent": "main", "now": NOW,
                   "agent_stores": {"ops": store(json!({"openai-codex:u@x": oauth("openai-codex", "acct-u")}))}}),
            vec![(OLD, no_key("openai-codex")), (NEW, no_key("openai"))],
        ),
    ]);
}

#[test]
fn step_5_endpoint_table() {
    let env = |pairs: Value| pairs;
    let custom = |provider: Value, model: &str| json!({"agents": {"defaults": {"model": model}}, "models": {"providers": provider}});
    run(vec![
        case(
            "openai, openai-responses",
            with(
                inputs(defaults("openai/gpt-5.5", None), json!({})),
                "env",
                env(json!({"OPENAI_API_KEY": "sk-proj-1"})),
            ),
            both(
                json!({"endpoint": PLATFORM, "api": "openai-responses", "endpoint_class": "openai-responses"}),
            ),
        ),
        case(
            "openai, openai-completions",
            with(
                inputs(custom(json!({"openai": {"api": "openai-completions"}}), "openai/gpt-5.5"), json!({})),
                "env",
                json!({"OPENAI_API_KEY": "sk-proj-1"}),
            ),
            both(
                json!({"endpoint": "POST https://api.openai.com/v1/chat/completions", "endpoint_class": "openai-chat-completions"}),
            ),
        ),
        case(
            "openai-codex OAuth goes to the ChatGPT Codex backend",
            inputs(
                defaults("openai-codex/gpt-5.5", None),
                json!({"openai-codex:u": oauth("openai-codex", "acct-u")}),
            ),
            vec![
                (
                    OLD,
                    json!({"endpoint": CHATGPT, "api": "openai-codex-responses", "endpoint_class": "chatgpt-codex-responses", "websocket": null}),
                ),
                ("2026.5.29", json!({"endpoint": CHATGPT, "api": "openai-codex-responses"})),
                (
                    NEW,
                    json!({"endpoint": CHATGPT, "api": "openai-chatgpt-responses", "websocket": {"url": "wss://chatgpt.com/backend-api/codex/responses",
                    "headers": [{"name": "openai-beta", "equals": "responses_websockets=2026-02-06"}]}}),
                ),
            ],
        ),
        case(
            "codex/<m> plugin refs go to the same backend",
            inputs(
                defaults("codex/gpt-5.5", Some("codex")),
                json!({"openai-codex:u": oauth("openai-codex", "acct-u")}),
            ),
            both(json!({"endpoint": CHATGPT, "provider": "codex", "model": "gpt-5.5"})),
        ),
        case(
            "openai with a ChatGPT OAuth login goes to the ChatGPT backend",
            inputs(defaults("openai/gpt-5.5", None), json!({"openai:u": oauth("openai", "acct-u")})),
            both(
                json!({"endpoint": CHATGPT, "api": "openai-chatgpt-responses", "credential": {"allowed_hosts": ["chatgpt.com"]}}),
            ),
        ),
        case(
            "#64133/#36660: a base URL on api.openai.com is normalised for OAuth",
            inputs(
                custom(
                    json!({"openai-codex": {"baseUrl": "https://api.openai.com/v1"}}),
                    "openai-codex/gpt-5.4",
                ),
                json!({"openai-codex:u": oauth("openai-codex", "acct-u")}),
            ),
            both(
                json!({"endpoint": CHATGPT, "credential": {"allowed_hosts": ["chatgpt.com"]}, "steps": [{"name": "endpoint", "why": "*"}]}),
            ),
        ),
        case(
            "#64133: openai-codex under pi with OAuth",
            inputs(
                defaults("openai-codex/gpt-5.4", Some("pi")),
                json!({"openai-codex:u": oauth("openai-codex", "acct-u")}),
            ),
            both(json!({"runtime": "pi", "endpoint": CHATGPT})),
        ),
        case(
            "a known provider behind a gateway base URL",
            with(
                inputs(
                    custom(json!({"openai": {"baseUrl": "https://gw.example.test/v1/"}}), "openai/gpt-5.5"),
                    json!({}),
                ),
                "env",
                json!({"OPENAI_API_KEY": "sk-proj-1"}),
            ),
            both(
                json!({"endpoint": "POST https://gw.example.test/v1/responses", "credential": {"allowed_hosts": ["api.openai.com", "gw.example.test"]}}),
            ),
        ),
        case(
            "anthropic, anthropic-messages",
            with(
                inputs(defaults("anthropic/claude-x", None), json!({})),
                "env",
                json!({"ANTHROPIC_API_KEY": "sk-ant-api03-k"}),
            ),
            both(
                json!({"endpoint": "POST https://api.anthropic.com/v1/messages", "endpoint_class": "anthropic-messages"}),
            ),
        ),
        case(
            "openrouter, openai-completions",
            with(
                inputs(defaults("openrouter/anthropic/claude-x", None), json!({})),
                "env",
                json!({"OPENROUTER_API_KEY": "sk-or-v1-k"}),
            ),
            both(
                json!({"endpoint": "POST https://openrouter.ai/api/v1/chat/completions", "credential": {"allowed_hosts": ["openrouter.ai"]}}),
            ),
        ),
        case(
            "litellm on localhost",
            with(
                inputs(defaults("litellm/gpt-x", None), json!({})),
                "env",
                json!({"LITELLM_API_KEY": "sk-litellm"}),
            ),
            both(
                json!({"endpoint": "POST http://localhost:4000/chat/completions", "credential": {"profile": "env:LITELLM_API_KEY"}}),
            ),
        ),
        case(
            "ollama needs no credential",
            inputs(defaults("ollama/llama3", None), json!({})),
            both(
                json!({"endpoint": "POST http://127.0.0.1:11434/api/chat", "credential": null, "endpoint_class": "ollama-chat"}),
            ),
        ),
        case(
            "custom provider: baseUrl and api",
            inputs(
                custom(
                    json!({"acme": {"baseUrl": "https://llm.acme.test/v1", "api": "openai-responses", "apiKey": "acme-key"}}),
                    "acme/m1",
                ),
                json!({}),
            ),
            both(
                json!({"endpoint": "POST https://llm.acme.test/v1/responses", "credential": {"profile": "config:models.providers.acme.apiKey", "kind": "opaque", "header": "authorization", "allowed_hosts": ["llm.acme.test"]}}),
            ),
        ),
        case(
            "custom provider without api speaks openai-completions",
            inputs(
                custom(
                    json!({"acme": {"baseUrl": "https://llm.acme.test/v1", "apiKey": "acme-key"}}),
                    "acme/m1",
                ),
                json!({}),
            ),
            both(
                json!({"endpoint": "POST https://llm.acme.test/v1/chat/completions", "api": "openai-completions"}),
            ),
        ),
        case(
            "custom provider without baseUrl is refused",
            inputs(custom(json!({"acme": {"apiKey": "acme-key"}}), "acme/m1"), json!({})),
            both(
                json!({"error": "Custom provider \"acme\" has no baseUrl: OpenClaw falls back to api openai-responses (its default when neither api nor baseUrl is set) with no endpoint, and its OpenAI-compatible transport sends nothing (\"Provider \"acme\" requires an explicit base URL\", @openclaw/ai openai-transport-params.ts); set models.providers.acme.baseUrl in openclaw.json"}),
            ),
        ),
        case(
            "an unknown provider is refused",
            inputs(defaults("nowhere/m", None), json!({})),
            both(json!({"error": "*", "auth_provider": "nowhere"})),
        ),
    ]);
}

#[test]
fn step_6_header_table() {
    let custom = |provider: Value, model: &str| json!({"agents": {"defaults": {"model": model}}, "models": {"providers": provider}});
    run(vec![
        case(
            "ChatGPT OAuth: bearer, account from the JWT claim, OpenAI-Beta, originator",
            inputs(
                defaults("openai-codex/gpt-5.5", None),
                json!({"openai-codex:u": oauth("openai-codex", "acct-jwt")}),
            ),
            both(json!({"credential": {"header": "authorization", "scheme": "Bearer", "kind": "jwt"},
                "account": {"header": "chatgpt-account-id", "value": "acct-jwt"},
                "headers": [{"name": "openai-beta", "equals": "responses=experimental"}, {"name": "originator", "present": true}]})),
        ),
        case(
            "the stored accountId when the token has no claim",
            inputs(
                defaults("openai-codex/gpt-5.5", None),
                json!({"openai-codex:u": {"type": "oauth", "provider": "openai-codex", "access": {"jwt": {"claims": {"sub": "x"}}}, "expires": FUTURE, "accountId": "acct-stored"}}),
            ),
            both(json!({"account": {"value": "acct-stored", "fingerprint": fp("acct-stored")}})),
        ),
        case(
            "#79358: an onboarding API key goes as a bearer to the platform",
            inputs(defaults("openai/gpt-5.5", None), json!({"openai:default": key("openai", "sk-proj-onb")})),
            both(
                json!({"endpoint": PLATFORM, "account": null, "credential": {"profile": "openai:default", "header": "authorization", "scheme": "Bearer", "kind": "openai-key"},
                "headers": [{"name": "originator", "present": true}, {"name": "user-agent", "contains": "openclaw"}]}),
            ),
        ),
        case(
            "Anthropic API key: x-api-key without scheme, anthropic-version",
            inputs(
                defaults("anthropic/claude-x", None),
                json!({"anthropic:k": key("anthropic", "sk-ant-api03-k")}),
            ),
            both(
                json!({"credential": {"header": "x-api-key", "scheme": null, "kind": "anthropic-key"}, "headers": [{"name": "anthropic-version", "equals": "2023-06-01"}]}),
            ),
        ),
        case(
            "#54350: an Anthropic OAuth token is a bearer, never x-api-key",
            inputs(
                defaults("anthropic/claude-x", None),
                json!({"anthropic:t": token("anthropic", "sk-ant-oat01-t")}),
            ),
            both(
                json!({"credential": {"header": "authorization", "scheme": "Bearer", "kind": "anthropic-oauth"},
                "headers": [{"name": "anthropic-version"}, {"name": "anthropic-beta", "has": "oauth-2025-04-20"},
                            {"name": "x-api-key", "present": false}]}),
            ),
        ),
        case(
            "an Anthropic OAuth token filed as api_key is still a bearer",
            inputs(
                defaults("anthropic/claude-x", None),
                json!({"anthropic:t": key("anthropic", "sk-ant-oat01-t")}),
            ),
            both(json!({"credential": {"header": "authorization", "scheme": "Bearer"}})),
        ),
        case(
            "OpenRouter: bearer and HTTP-Referer",
            inputs(
                defaults("openrouter/anthropic/claude-x", None),
                json!({"openrouter:k": key("openrouter", "sk-or-v1-k")}),
            ),
            both(
                json!({"credential": {"header": "authorization", "scheme": "Bearer", "kind": "openrouter-key"}, "headers": [{"name": "http-referer", "present": true}]}),
            ),
        ),
        case(
            "custom provider with authHeader false: no credential, its headers (secrets as fingerprints)",
            inputs(
                custom(
                    json!({"gw": {"baseUrl": "https://gw.example.test/v1", "authHeader": false, "apiKey": "unused", "headers": {"api-key": "gw-secret", "X-Team": "blue"}}}),
                    "gw/m",
                ),
                json!({}),
            ),
            both(json!({"credential": null, "candidates": [],
                "headers": [{"name": "x-team", "equals": "blue"}, {"name": "api-key", "fingerprint": fp("gw-secret")}]})),
        ),
        case(
            "a model's configured headers override the provider's, each a rule saying where it comes from",
            inputs(
                custom(
                    json!({"gw": {"baseUrl": "https://gw.example.test/v1", "apiKey": "k", "headers": {"X-Tenant": "acme", "X-Team": "blue"},
                                  "models": [{"id": "m", "headers": {"X-Tenant": "acme-eu"}}]}}),
                    "gw/m",
                ),
                json!({}),
            ),
            both(json!({"headers": [
                {"name": "x-team", "equals": "blue", "why": "models.providers.gw.headers: the user's configured header"},
                {"name": "x-tenant", "equals": "acme-eu", "why": "models.providers.gw.models[m].headers, over the provider's: the user's configured header"}]})),
        ),
    ]);
}

#[test]
fn step_7_body_and_8_fallbacks() {
    run(vec![
        case(
            "the Codex backend needs store:false, stream:true and instructions",
            inputs(
                defaults("openai-codex/gpt-5.5", None),
                json!({"openai-codex:u": oauth("openai-codex", "acct-u")}),
            ),
            both(
                json!({"body": [{"field": "store", "equals": false}, {"field": "stream", "equals": true}, {"field": "instructions", "present": true}]}),
            ),
        ),
        case(
            "the platform insists on nothing",
            with(
                inputs(defaults("openai/gpt-5.5", None), json!({})),
                "env",
                json!({"OPENAI_API_KEY": "sk-proj-1"}),
            ),
            both(json!({"body": []})),
        ),
        case(
            "fallbacks are each resolved again with their own runtime",
            with(
                inputs(
                    json!({"agents": {"defaults": {"model": {"primary": "openai-codex/gpt-5.5", "fallbacks": ["anthropic/claude-x", "moonshot/kimi-k2.5"]},
                        "models": {"anthropic/claude-x": {"agentRuntime": "pi"}}, "agentRuntime": {"id": "codex"}}}}),
                    json!({"openai-codex:u": oauth("openai-codex", "acct-u")}),
                ),
                "env",
                json!({"ANTHROPIC_API_KEY": "sk-ant-api03-k"}),
            ),
            both(json!({"endpoint": CHATGPT, "runtime": "codex", "fallbacks": [
                {"model_ref": "anthropic/claude-x", "runtime": "pi", "endpoint": "POST https://api.anthropic.com/v1/messages"},
                {"model_ref": "moonshot/kimi-k2.5", "error": "No API key found for provider \"moonshot\""}]})),
        ),
        case(
            "a primary that cannot dispatch lists the fallbacks OpenClaw moves on to",
            with(
                inputs(
                    json!({"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5", "fallbacks": ["anthropic/claude-x"]}}}}),
                    json!({}),
                ),
                "env",
                json!({"ANTHROPIC_API_KEY": "sk-ant-api03-k"}),
            ),
            both(
                json!({"error": "No API key found for provider \"openai\"", "fallbacks": [{"model_ref": "anthropic/claude-x", "endpoint": "POST https://api.anthropic.com/v1/messages"}]}),
            ),
        ),
    ]);
}

#[test]
fn plans_never_hold_a_secret() {
    let catalog = Catalog::shipped().unwrap();
    let inputs = json!({"config": {"agents": {"defaults": {"model": {"primary": "openai-codex/gpt-5.5", "fallbacks": ["acme/m"]}}},
                                   "models": {"providers": {"acme": {"baseUrl": "https://a.test", "apiKey": "acme-secret-1", "headers": {"api-key": "hdr-secret-1"}}}}},
                        "auth_profiles": store(json!({"openai-codex:u": {"type": "oauth", "provider": "openai-codex", "access": "opaque-access-1", "refresh": "refresh-secret-1", "expires": FUTURE}})),
                        "env": {"OPENAI_API_KEY": "sk-proj-env-secret"}, "now": NOW});
    for version in [OLD, NEW] {
        let text = serde_json::to_string(&outcome(&inputs, version, &catalog)).unwrap();
        for secret in
            ["acme-secret-1", "hdr-secret-1", "opaque-access-1", "refresh-secret-1", "sk-proj-env-secret"]
        {
            assert!(!text.contains(secret), "{secret} leaked at {version}: {text}");
        }
    }
}

#[test]
fn plans_round_trip_through_json() {
    let catalog = Catalog::shipped().unwrap();
    let inputs = DispatchInputs::from_scenario_inputs(
        &with(inputs(defaults("openai-codex/gpt-5.5", None), json!({"openai-codex:u": oauth("openai-codex", "acct-u")})), "config",
            json!({"agents": {"defaults": {"model": {"primary": "openai-codex/gpt-5.5", "fallbacks": ["nowhere/x"]}}}})),
        Some(NEW.parse().unwrap()),
    )
    .unwrap();
    let plan = plan(&inputs, &catalog).unwrap();
    let text = serde_json::to_string(&plan).unwrap();
    let back: dispatch_vcr::dispatch::DispatchPlan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, plan);
}
