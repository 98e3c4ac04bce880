//! The `headers` invariant and store-qualified binding end to end: curl
//! sends through `dispatch-vcr record` (the real proxy, a local HTTPS
//! upstream reached as the provider hosts), and `check` judges the recording
//! against an OpenClaw scenario: a planned required header missing, a
//! forbidden comma-list element sent, the user's configured header (the
//! model's over the provider's), and main's secret under an id the agent
//! holds too.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::*;

/// Record `curl ARGS…` (each a shell word, already quoted) into `dir/name.json`
/// with `--profiles` for each of `stores`; the cassette as JSON.
async fn record_curl(upstream: &TestUpstream, dir: &Path, name: &str, stores: &[&Path], curl: &str) -> Value {
    let out = dir.join(format!("{name}.json"));
    let script = format!(
        r#"curl -sS -o /dev/null --fail-with-body --proxy "$HTTPS_PROXY" --cacert "$NODE_EXTRA_CA_CERTS" {curl}"#
    );
    let stores: Vec<String> = stores.iter().map(|p| p.display().to_string()).collect();
    let mut extra: Vec<&str> = stores.iter().flat_map(|s| ["--profiles", s.as_str()]).collect();
    extra.extend(["--", "sh", "-c", &script]);
    let output = Bin::new().command(upstream.record_args(&out, &extra)).output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

/// Write `scenario` (with `cassettes` = `{version: name.json}`) and check it: exit code and text.
fn check(dir: &Path, mut scenario: Value, version: &str, cassette: &str) -> (i32, String) {
    scenario["format"] = json!("dispatch-vcr/scenario@1");
    scenario["dispatcher"] = json!("openclaw");
    scenario["cassettes"] = json!({version: format!("{cassette}.json")});
    let path = dir.join(format!("{cassette}.scenario.json"));
    std::fs::write(&path, scenario.to_string()).unwrap();
    let out = Command::new(BIN).arg("check").arg(&path).env("NO_COLOR", "1").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

const MESSAGES: &str = "https://api.anthropic.com/v1/messages";
const BODY: &str = r#"-H 'content-type: application/json' -d '{"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": []}'"#;

/// An Anthropic setup token (`type: token`) at 2026.2.17, before Anthropic
/// took the 1M-context beta with OAuth tokens.
fn setup_token_scenario(token: &str) -> Value {
    json!({"name": "setup-token-headers", "inputs": {
        "config": {"agents": {"defaults": {"model": {"primary": "anthropic/claude-sonnet-4-5"}}}},
        "auth_profiles": {"version": 1, "profiles": {"anthropic:default": {"type": "token", "provider": "anthropic", "token": token}}}
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_required_header_and_a_forbidden_beta_flag_fail_headers() {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = unique("sk-ant-oat01-");
    let scenario = setup_token_scenario(&token);
    let sent = |beta: &str| {
        format!(
            "{MESSAGES} -H 'authorization: Bearer {token}' -H 'anthropic-version: 2023-06-01' {beta} {BODY}"
        )
    };

    record_curl(
        &upstream,
        dir.path(),
        "good",
        &[],
        &sent("-H 'anthropic-beta: claude-code-20250219,oauth-2025-04-20'"),
    )
    .await;
    let (code, text) = check(dir.path(), scenario.clone(), "2026.2.17", "good");
    assert_eq!(code, 0, "{text}");

    record_curl(&upstream, dir.path(), "no-beta", &[], &sent("")).await;
    let (code, text) = check(dir.path(), scenario.clone(), "2026.2.17", "no-beta");
    assert_eq!(code, 1, "{text}");
    for line in [
        "✗ headers: header anthropic-beta is missing: Anthropic accepts an OAuth token only with this beta flag",
        "expected: anthropic-beta: …oauth-2025-04-20…",
        "actual:   (no anthropic-beta)",
        "-anthropic-beta: …oauth-2025-04-20…",
        "+(no anthropic-beta)",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }

    let beta = "-H 'anthropic-beta: oauth-2025-04-20, context-1m-2025-08-07'";
    record_curl(&upstream, dir.path(), "one-m", &[], &sent(beta)).await;
    let (code, text) = check(dir.path(), scenario.clone(), "2026.2.17", "one-m");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("✗ headers: header anthropic-beta lists context-1m-2025-08-07, which must not be sent"),
        "{text}"
    );
    assert!(text.contains("+anthropic-beta: oauth-2025-04-20, context-1m-2025-08-07"), "{text}");
    // From 2026-03-13 Anthropic takes the flag with OAuth tokens: the rule is gone at later versions.
    let (code, text) = check(dir.path(), scenario, "2026.5.12", "one-m");
    assert_eq!(code, 0, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_configured_header_is_required_the_models_over_the_providers() {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = unique("gw-key-");
    let scenario = json!({"name": "gateway-headers", "inputs": {"config": {
        "agents": {"defaults": {"model": {"primary": "gw/qwen3"}}},
        "models": {"providers": {"gw": {
            "baseUrl": "https://api.openai.com/gw/v1", "api": "openai-completions", "apiKey": key,
            "headers": {"X-Team": "blue", "X-Tenant": "acme"},
            "models": [{"id": "qwen3", "name": "Qwen 3", "headers": {"X-Tenant": "acme-eu"}}]
        }}}
    }}});
    let sent = |headers: &str| {
        format!(
            r#"https://api.openai.com/gw/v1/chat/completions -H 'authorization: Bearer {key}' {headers} -H 'content-type: application/json' -d '{{"model": "qwen3", "messages": []}}'"#
        )
    };

    record_curl(&upstream, dir.path(), "both", &[], &sent("-H 'x-team: blue' -H 'X-Tenant: acme-eu'")).await;
    let (code, text) = check(dir.path(), scenario.clone(), "2026.9.6", "both");
    assert_eq!(code, 0, "{text}");

    record_curl(&upstream, dir.path(), "provider-level", &[], &sent("-H 'x-team: blue' -H 'x-tenant: acme'"))
        .await;
    let (code, text) = check(dir.path(), scenario.clone(), "2026.9.6", "provider-level");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "✗ headers: header x-tenant has another value: models.providers.gw.models[qwen3].headers, over the provider's"
        ),
        "{text}"
    );
    assert!(
        text.contains("expected: x-tenant: acme-eu") && text.contains("actual:   x-tenant: acme"),
        "{text}"
    );

    record_curl(&upstream, dir.path(), "no-team", &[], &sent("-H 'x-tenant: acme-eu'")).await;
    let (code, text) = check(dir.path(), scenario, "2026.9.6", "no-team");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "✗ headers: header x-team is missing: models.providers.gw.headers: the user's configured header"
        ),
        "{text}"
    );
}

/// An OpenClaw store at `home/agents/<agent>/agent/auth-profiles.json` holding `openai:default` = `key`.
fn store(home: &Path, agent: &str, key: &str) -> (std::path::PathBuf, Value) {
    let dir = home.join("agents").join(agent).join("agent");
    std::fs::create_dir_all(&dir).unwrap();
    let store = json!({"version": 1, "profiles": {"openai:default": {"type": "api_key", "provider": "openai", "key": key}}});
    let path = dir.join("auth-profiles.json");
    std::fs::write(&path, store.to_string()).unwrap();
    (path, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mains_secret_under_an_id_the_agent_holds_too_fails_profile_naming_both_stores() {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (kates_key, mains_key) = (unique("sk-proj-kate-"), unique("sk-proj-main-"));
    let (kate_path, kate) = store(dir.path(), "kate", &kates_key);
    let (main_path, main) = store(dir.path(), "main", &mains_key);
    let scenario = json!({"name": "kate-binds-her-own-key", "inputs": {
        "config": {"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5"}}}},
        "agent": "kate", "auth_profiles": kate, "agent_stores": {"main": main}
    }});
    let sent = |key: &str| {
        format!(
            r#"https://api.openai.com/v1/responses -H 'authorization: Bearer {key}' -H 'content-type: application/json' -d '{{"model": "gpt-5.5", "input": "hi"}}'"#
        )
    };
    let stores = [kate_path.as_path(), main_path.as_path()];

    let cassette = record_curl(&upstream, dir.path(), "mains", &stores, &sent(&mains_key)).await;
    let facts = &cassette["meta"]["credentials"][dispatch_vcr::credential::fingerprint(&mains_key)];
    assert_eq!(facts["store"], "main", "{cassette:#}");
    assert_eq!(facts["profile"], "openai:default");
    let (code, text) = check(dir.path(), scenario.clone(), "2026.5.12", "mains");
    assert_eq!(code, 1, "{text}");
    for line in [
        "✗ profile: the credential of agent main's openai:default was sent instead of agent kate's openai:default's",
        "expected: agent kate's openai:default",
        "actual:   agent main's openai:default",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }

    record_curl(&upstream, dir.path(), "kates", &stores, &sent(&kates_key)).await;
    let (code, text) = check(dir.path(), scenario, "2026.5.12", "kates");
    assert_eq!(code, 0, "{text}");
}
