//! Every model provider a release bundles gets a plan: the providers are read
//! from the imported 2026.9.6 band (src/dispatch/releases.json, compiled into
//! the shipped catalog), never listed by hand, so a provider a newer import
//! adds fails here until it has rules and a row below. Then `dispatch plan`
//! as a user reads it for representative providers (insta snapshots), and the
//! bad inputs around providers.

use std::path::Path;
use std::process::Command;

use dispatch_vcr::dispatch::{Catalog, DispatchInputs, plan};
use serde_json::{Value, json};

use crate::support::BIN;

/// The release whose band is planned for.
const VERSION: &str = "2026.9.6";

/// A fixed "now" so expiry does not depend on the clock.
const NOW: &str = "1800000000000";

/// How a provider's fixture credential is given, and what its plan must be.
struct Row {
    provider: &'static str,
    model: &'static str,
    /// Scenario-input overrides: `env`, `auth_profiles`, `config`.
    inputs: Value,
    endpoint: &'static str,
    /// `header` + `scheme` of the credential, or `None` when none is sent.
    header: Option<(&'static str, Option<&'static str>)>,
}

fn row(
    provider: &'static str,
    model: &'static str,
    inputs: Value,
    endpoint: &'static str,
    header: Option<(&'static str, Option<&'static str>)>,
) -> Row {
    Row { provider, model, inputs, endpoint, header }
}

fn env(var: &str, value: &str) -> Value {
    json!({"env": {var: value}})
}

const BEARER: Option<(&str, Option<&str>)> = Some(("authorization", Some("Bearer")));

fn rows() -> Vec<Row> {
    let goog = "AIzaSyA1234567890abcdefghijklmnopqrstuv";
    let gemini_cli = json!({"auth_profiles": {"version": 1, "profiles": {"google-gemini-cli:user@example.com": {
        "type": "oauth", "provider": "google-gemini-cli", "access": "ya29.a0AfH6SMBx3jKl9mN2pQ7rS4tU8vW1yZ0cD5eF",
        "refresh": "1//0fixture-refresh", "expires": 4_102_444_800_000_i64}}}});
    let vertex = json!({"env": {"GOOGLE_CLOUD_API_KEY": goog, "GOOGLE_CLOUD_PROJECT": "proj-1",
        "GOOGLE_CLOUD_LOCATION": "europe-west4"}});
    let foundry = json!({"env": {"AZURE_OPENAI_API_KEY": "0123456789abcdef0123456789abcdef"},
        "config": {"models": {"providers": {"microsoft-foundry": {
            "baseUrl": "https://res-1.services.ai.azure.com/openai/v1", "models": [{"id": "gpt-4.1"}]}}}}});
    vec![
        row(
            "anthropic",
            "claude-opus-5-5",
            env("ANTHROPIC_API_KEY", "sk-ant-api03-fixture-key-0123456789"),
            "POST https://api.anthropic.com/v1/messages",
            Some(("x-api-key", None)),
        ),
        row("apple-fm", "system", json!({}), "POST http://127.0.0.1/chat/completions", None),
        row(
            "clawrouter",
            "auto",
            env("CLAWROUTER_API_KEY", "cr-fixture-0123456789abcdef"),
            "POST https://clawrouter.openclaw.ai/v1/responses",
            BEARER,
        ),
        row("copilot-proxy", "gpt-5", json!({}), "POST http://localhost:3000/v1/chat/completions", None),
        row(
            "fal",
            "fal-ai/flux/dev",
            env("FAL_KEY", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:0123456789abcdef"),
            "POST https://fal.run/fal-ai/flux/dev",
            Some(("authorization", Some("Key"))),
        ),
        row(
            "github-copilot",
            "gpt-5.5",
            env("COPILOT_GITHUB_TOKEN", "gho_abcdefghijklmnopqrstuvwxyz0123456789"),
            "POST https://api.individual.githubcopilot.com/responses",
            BEARER,
        ),
        row(
            "google",
            "gemini-2.5-flash",
            env("GEMINI_API_KEY", goog),
            "POST https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            Some(("x-goog-api-key", None)),
        ),
        row(
            "google-gemini-cli",
            "gemini-2.5-pro",
            gemini_cli,
            "POST https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent",
            BEARER,
        ),
        row(
            "google-vertex",
            "gemini-2.5-pro",
            vertex,
            "POST https://europe-west4-aiplatform.googleapis.com/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.5-pro:streamGenerateContent",
            Some(("x-goog-api-key", None)),
        ),
        row(
            "huggingface",
            "deepseek-ai/DeepSeek-R1",
            env("HF_TOKEN", "hf_abcdefghijklmnopqrstuvwxyz012345"),
            "POST https://router.huggingface.co/v1/chat/completions",
            BEARER,
        ),
        row(
            "litellm",
            "gpt-5.5",
            env("LITELLM_API_KEY", "sk-litellm-fixture-0123456789"),
            "POST http://localhost:4000/chat/completions",
            BEARER,
        ),
        row("lmstudio", "qwen3-8b", json!({}), "POST http://localhost:1234/v1/chat/completions", None),
        row(
            "microsoft-foundry",
            "gpt-4.1",
            foundry,
            "POST https://res-1.services.ai.azure.com/openai/v1/chat/completions",
            Some(("api-key", None)),
        ),
        row(
            "minimax",
            "MiniMax-M3",
            env("MINIMAX_API_KEY", "sk-cp-abcdefghijklmnopqrstuvwxyz0123456789"),
            "POST https://api.minimax.io/anthropic/v1/messages",
            Some(("x-api-key", None)),
        ),
        row(
            "minimax-portal",
            "MiniMax-M3",
            env("MINIMAX_OAUTH_TOKEN", "mm-oauth-fixture-0123456789abcdef"),
            "POST https://api.minimax.io/anthropic/v1/messages",
            BEARER,
        ),
        row(
            "nvidia",
            "meta/llama-3.3-70b-instruct",
            env("NVIDIA_API_KEY", "nvapi-abcdefghijklmnopqrstuvwxyz0123456789ABCD"),
            "POST https://integrate.api.nvidia.com/v1/chat/completions",
            BEARER,
        ),
        row("ollama", "llama3.3", json!({}), "POST http://127.0.0.1:11434/api/chat", None),
        row(
            "ollama-cloud",
            "gpt-oss:120b",
            env("OLLAMA_API_KEY", "0123456789abcdef.fixtureollamacloudkey"),
            "POST https://ollama.com/api/chat",
            BEARER,
        ),
        row(
            "openai",
            "gpt-5.5",
            env("OPENAI_API_KEY", "sk-proj-fixture-0123456789abcdef"),
            "POST https://api.openai.com/v1/responses",
            BEARER,
        ),
        row(
            "opencode-go",
            "kimi-k2.5",
            env("OPENCODE_API_KEY", "sk-opencode-fixture-0123456789"),
            "POST https://opencode.ai/zen/go/v1/chat/completions",
            BEARER,
        ),
        row(
            "openrouter",
            "anthropic/claude-sonnet-4.5",
            env("OPENROUTER_API_KEY", "sk-or-v1-fixture-0123456789"),
            "POST https://openrouter.ai/api/v1/chat/completions",
            BEARER,
        ),
        row("sglang", "qwen3", json!({}), "POST http://127.0.0.1:30000/v1/chat/completions", None),
        row(
            "together",
            "moonshotai/Kimi-K2.5",
            env("TOGETHER_API_KEY", "tgp_v1_abcdefghijklmnopqrstuvwxyz0123456789"),
            "POST https://api.together.xyz/v1/chat/completions",
            BEARER,
        ),
        row("vllm", "qwen3", json!({}), "POST http://127.0.0.1:8000/v1/chat/completions", None),
        row(
            "xai",
            "grok-4.7",
            env("XAI_API_KEY", "xai-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"),
            "POST https://api.x.ai/v1/responses",
            BEARER,
        ),
    ]
}

/// Scenario inputs for `row`: its overrides over an empty setup.
fn inputs_of(row: &Row) -> Value {
    let mut inputs = json!({"config": {}, "auth_profiles": {"version": 1, "profiles": {}}, "env": {},
        "model": format!("{}/{}", row.provider, row.model)});
    for (key, value) in row.inputs.as_object().unwrap() {
        inputs[key] = value.clone();
    }
    inputs
}

#[test]
fn every_model_provider_bundled_in_2026_9_6_plans_a_dispatch() {
    let catalog = Catalog::shipped().unwrap();
    let version = VERSION.parse().unwrap();
    let band = catalog.release(&version).expect("the 2026.9.6 band is imported");
    assert_eq!(band.version.to_string(), VERSION);
    let rows = rows();
    let mut failures = Vec::new();
    for id in band.providers.keys() {
        let Some(row) = rows.iter().find(|r| r.provider == id) else {
            failures.push(format!("{id}: bundled in {VERSION} but no row here (add rules and a row)"));
            continue;
        };
        let inputs = DispatchInputs::from_scenario_inputs(&inputs_of(row), Some(version.clone())).unwrap();
        let planned = match plan(&inputs, &catalog) {
            Ok(planned) => planned,
            Err(refusal) => {
                failures.push(format!("{id}: refused: {}", refusal.message));
                continue;
            }
        };
        if planned.endpoint != row.endpoint {
            failures.push(format!("{id}: endpoint {} (wanted {})", planned.endpoint, row.endpoint));
        }
        let wire = planned.credential.as_ref().map(|c| (c.header.as_deref(), c.scheme.as_deref()));
        let wanted = row.header.map(|(h, s)| (Some(h), s));
        if wire != wanted {
            failures.push(format!("{id}: credential header {wire:?} (wanted {wanted:?})"));
        }
        let host = http::Uri::try_from(planned.url.as_str()).unwrap().host().unwrap().to_owned();
        if let Some(credential) = &planned.credential
            && !credential.allowed_hosts.contains(&host)
        {
            failures.push(format!("{id}: {host} is not among {:?}", credential.allowed_hosts));
        }
        if planned.endpoint_class.is_none() {
            failures.push(format!("{id}: {} has no endpoint class", planned.url));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} providers:\n{}",
        failures.len(),
        band.providers.len(),
        failures.join("\n")
    );
}

fn plan_text(dir: &Path, config: Value, args: &[&str]) -> String {
    let path = dir.join("openclaw.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let mut all =
        vec!["dispatch", "plan", "--config", path.to_str().unwrap(), "--version", VERSION, "--now", NOW];
    all.extend_from_slice(args);
    let output = Command::new(BIN).args(&all).output().unwrap();
    let text = format!(
        "exit {}\n{}{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.replace(&dir.to_string_lossy().into_owned(), "[DIR]")
}

mod snapshots {
    use super::*;

    #[test]
    fn google_with_an_openai_key_set_and_a_gemini_key() {
        let dir = tempfile::tempdir().unwrap();
        let text = plan_text(
            dir.path(),
            json!({}),
            &[
                "--model",
                "google/gemini-2.5-flash",
                "--env",
                "OPENAI_API_KEY=sk-proj-fixture-0123456789abcdef",
                "--env",
                "GEMINI_API_KEY=AIzaSyA1234567890abcdefghijklmnopqrstuv",
            ],
        );
        assert!(
            text.contains("generativelanguage.googleapis.com")
                && !text.contains("api.openai.com/v1/responses")
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_second_ollama_at_its_own_base_url_needs_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let config = json!({"models": {"providers": {
            "ollama": {"api": "ollama", "baseUrl": "http://127.0.0.1:11434", "models": [{"id": "qwen3"}]},
            "ollama-spark": {"api": "ollama", "baseUrl": "http://10.0.0.4:11434", "models": [{"id": "llama3.3"}]}}}});
        let text = plan_text(dir.path(), config, &["--model", "ollama-spark/llama3.3"]);
        assert!(text.starts_with("exit 0\nPOST http://10.0.0.4:11434/api/chat\n"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn microsoft_foundry_key_goes_in_api_key_and_a_wrong_provider_profile_is_not_eligible() {
        let dir = tempfile::tempdir().unwrap();
        let config = json!({
            "auth": {"order": {"microsoft-foundry": ["openai:work", "microsoft-foundry:default"]}},
            "models": {"providers": {"microsoft-foundry": {
                "baseUrl": "https://res-1.services.ai.azure.com/openai/v1", "models": [{"id": "gpt-4.1"}]}}}});
        let profiles = json!({"version": 1, "profiles": {
            "openai:work": {"type": "api_key", "provider": "openai", "key": "sk-proj-fixture-0123456789abcdef"},
            "microsoft-foundry:default": {"type": "api_key", "provider": "microsoft-foundry",
                "key": "0123456789abcdef0123456789abcdef"}}});
        let store = dir.path().join("auth-profiles.json");
        std::fs::write(&store, profiles.to_string()).unwrap();
        let text = plan_text(
            dir.path(),
            config,
            &["--model", "microsoft-foundry/gpt-4.1", "--profiles", store.to_str().unwrap()],
        );
        assert!(text.contains("api-key") && text.contains("belongs to provider openai"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn anthropic_key_with_an_expired_token_profile() {
        let dir = tempfile::tempdir().unwrap();
        let profiles = json!({"version": 1, "profiles": {"anthropic:old": {"type": "token", "provider": "anthropic",
            "token": "sk-ant-oat01-fixture-0123456789", "expires": 1_700_000_000_000_i64}}});
        let store = dir.path().join("auth-profiles.json");
        std::fs::write(&store, profiles.to_string()).unwrap();
        let text = plan_text(
            dir.path(),
            json!({}),
            &[
                "--model",
                "anthropic/claude-opus-5-5",
                "--profiles",
                store.to_str().unwrap(),
                "--env",
                "ANTHROPIC_API_KEY=sk-ant-api03-fixture-key-0123456789",
            ],
        );
        assert!(text.contains("x-api-key") && text.contains("expired"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_local_vllm_server_needs_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let text = plan_text(dir.path(), json!({}), &["--model", "vllm/qwen3"]);
        assert!(text.starts_with("exit 0\nPOST http://127.0.0.1:8000/v1/chat/completions\n"), "{text}");
        insta::assert_snapshot!(text);
    }
}

mod bad_input {
    use super::*;

    fn refusal(config: Value, model: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        plan_text(dir.path(), config, &["--model", model, "--format", "json"])
    }

    #[test]
    fn an_unknown_provider_gets_the_closest_bundled_id() {
        let text = refusal(json!({}), "googel-vertex/gemini-2.5-pro");
        assert!(text.starts_with("exit 1\n") && text.contains("(did you mean google-vertex?)"), "{text}");
        let text = refusal(json!({}), "hugingface/m");
        assert!(text.contains("(did you mean huggingface?)"), "{text}");
    }

    #[test]
    fn a_provider_the_release_does_not_bundle_names_the_bands_that_do() {
        let text = refusal(json!({}), "deepseek/deepseek-chat");
        assert!(
            text.contains("openclaw 2026.9.6 does not bundle it, bands 2026.5.27–2026.5.28 do"),
            "{text}"
        );
    }

    #[test]
    fn a_custom_provider_without_base_url_says_what_openclaw_falls_back_to() {
        let config = json!({"models": {"providers": {"gw": {"models": [{"id": "m"}]}}}});
        let text = refusal(config, "gw/m");
        assert!(text.starts_with("exit 1\n"), "{text}");
        assert!(
            text.contains(
                "Custom provider \\\"gw\\\" has no baseUrl: OpenClaw falls back to api openai-responses"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_custom_provider_without_api_is_planned_with_chat_completions_and_a_warning() {
        let config = json!({"models": {"providers": {"gw": {"baseUrl": "https://gw.example.test/v1",
            "apiKey": "gw-fixture-0123456789", "models": [{"id": "m"}]}}}});
        let text = refusal(config, "gw/m");
        assert!(
            text.starts_with("exit 0\n") && text.contains("https://gw.example.test/v1/chat/completions"),
            "{text}"
        );
        assert!(
            text.contains("models.providers.gw.api is not set: OpenClaw falls back to openai-completions"),
            "{text}"
        );
    }

    #[test]
    fn an_inline_model_inherits_its_providers_base_url_and_may_set_its_own() {
        let config = json!({"models": {"providers": {"gw": {"baseUrl": "https://gw.example.test/v1",
            "api": "openai-completions", "apiKey": "gw-fixture-0123456789",
            "models": [{"id": "a"}, {"id": "b", "baseUrl": "https://b.example.test/v2", "api": "openai-responses"}]}}}});
        let a = refusal(config.clone(), "gw/a");
        assert!(a.contains("\"endpoint\": \"POST https://gw.example.test/v1/chat/completions\""), "{a}");
        let b = refusal(config, "gw/b");
        assert!(b.contains("\"endpoint\": \"POST https://b.example.test/v2/responses\""), "{b}");
    }
}
