//! `dispatch-vcr dispatch plan` as a user runs it: files as users write them,
//! exit codes, messages naming file and line:column, and the text output of
//! representative setups (insta snapshots).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::support::{BIN, chatgpt_jwt};

/// A fixed "now" so expiry and cooldown do not depend on the clock.
const NOW: &str = "1800000000000";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn dispatch(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(BIN).arg("dispatch").args(args).current_dir(dir).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn codex_store() -> String {
    json!({"version": 1, "profiles": {"openai-codex:user@example.com": {
        "type": "oauth", "provider": "openai-codex", "access": chatgpt_jwt("acct-fixture"), "refresh": "r",
        "expires": 4102444800000_i64, "email": "user@example.com"}}})
    .to_string()
}

const ISSUE_83380_CONFIG: &str = r#"{ // JSON5, as users write it
  agents: {
    defaults: {
      agentRuntime: { id: "codex" },
      model: { primary: 'openai-codex/gpt-5.5-pro', fallbacks: ["anthropic/claude-x",], },
    },
  },
  /* the codex plugin is enabled and allowed */
  plugins: { entries: { codex: { enabled: true } }, allow: ["codex"] },
}
"#;

#[test]
fn json5_config_with_comments_and_trailing_commas_plans() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openclaw.json", ISSUE_83380_CONFIG);
    write(dir.path(), "ap.json", &codex_store());
    let run = dispatch(
        dir.path(),
        &[
            "plan",
            "--config",
            "openclaw.json",
            "--profiles",
            "ap.json",
            "--version",
            "2026.5.12",
            "--format",
            "json",
            "--now",
            NOW,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["endpoint"], "POST https://chatgpt.com/backend-api/codex/responses");
    assert_eq!(plan["credential"]["profile"], "openai-codex:user@example.com");
    assert_eq!(plan["account"]["value"], "acct-fixture");
    assert!(!run.stdout.contains(&chatgpt_jwt("acct-fixture")), "the token leaked");
}

#[test]
fn broken_config_exits_2_naming_file_and_line_column() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openclaw.json", "{\n  agents: {\n    defaults: { model: 'openai/gpt-5.5' }\n  ]\n}\n");
    let run = dispatch(dir.path(), &["plan", "--config", "openclaw.json"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("openclaw.json:4:3: "), "{}", run.stderr);
}

#[test]
fn broken_profiles_and_state_exit_2_naming_file_and_line_column() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openclaw.json", "{}");
    write(dir.path(), "ap.json", "{\"version\": 1,\n \"profiles\": {\"a\": }}");
    write(dir.path(), "state.json", "{\"order\":\n\n [}");
    let run = dispatch(dir.path(), &["plan", "--config", "openclaw.json", "--profiles", "ap.json"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("ap.json:2:"), "{}", run.stderr);
    let run = dispatch(dir.path(), &["plan", "--config", "openclaw.json", "--state", "state.json"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("state.json:3:"), "{}", run.stderr);
}

#[test]
fn bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = dispatch(dir.path(), &["plan", "--model", "openai/gpt-5.5", "--version", "2026.5"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--version: invalid version \"2026.5\""), "{}", run.stderr);
    let run = dispatch(dir.path(), &["plan", "--config", "missing.json"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
}

#[test]
fn no_credential_exits_1_with_openclaws_message() {
    let dir = tempfile::tempdir().unwrap();
    let run = dispatch(
        dir.path(),
        &[
            "plan",
            "--model",
            "openai/gpt-5.5",
            "--env",
            "ANTHROPIC_API_KEY=sk-ant-api03-x",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("No API key found for provider \"openai\""), "{}", run.stderr);
    let refusal: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(refusal["error"], "No API key found for provider \"openai\"");
    assert!(!run.stdout.contains("sk-ant-api03-x"));
}

#[test]
fn scenario_inputs_plan_like_flags() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = json!({"format": "dispatch-vcr/scenario@1", "name": "x", "inputs": {
        "config": {"agents": {"defaults": {"agentRuntime": {"id": "codex"}, "model": {"primary": "openai-codex/gpt-5.5-pro"}}}},
        "auth_profiles": {"version": 1, "profiles": {"openai-codex:user@example.com": {"type": "oauth", "provider": "openai-codex",
            "access": {"jwt": {"claims": {"https://api.openai.com/auth": {"chatgpt_account_id": "acct-s"}}}}, "refresh": "r", "expires": 4102444800000_i64}}},
        "auth_state": null, "agent_stores": {}, "env": {}, "agent": "main", "model": null}});
    write(dir.path(), "s.json", &scenario.to_string());
    let run = dispatch(
        dir.path(),
        &["plan", "--scenario", "s.json", "--version", "2026.9.6", "--format", "json", "--now", NOW],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["credential"]["profile"], "openai:user@example.com");
    assert_eq!(plan["account"]["value"], "acct-s");
}

#[test]
fn a_catalog_file_extends_the_shipped_one_and_its_errors_name_line_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cat.json",
        r#"{"format": "dispatch-vcr/catalog@1", "providers": {"acme": {"env": [{"var": "ACME_KEY", "type": "api_key"}],
            "routes": [{"base_url": "https://llm.acme.test/v1", "api": "openai-responses", "hosts": ["llm.acme.test"]}]}}}"#,
    );
    let run = dispatch(
        dir.path(),
        &["plan", "--catalog", "cat.json", "--model", "acme/m", "--env", "ACME_KEY=k1", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["endpoint"], "POST https://llm.acme.test/v1/responses");
    write(
        dir.path(),
        "bad.json",
        "{\"format\": \"dispatch-vcr/catalog@1\",\n  \"providers\": {\"x\": {\"routes\": 3}}}",
    );
    let run = dispatch(dir.path(), &["plan", "--catalog", "bad.json", "--model", "openai/gpt-5.5"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad.json:2:"), "{}", run.stderr);
}

#[test]
fn stores_are_found_in_an_openclaw_home() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "openclaw.json",
        "{agents: {defaults: {model: 'openai-codex/gpt-5.5'}, list: [{id: 'ops'}]}}",
    );
    write(home.path(), "agents/main/agent/auth-profiles.json", &codex_store());
    let run = dispatch(
        home.path(),
        &[
            "plan",
            "--config",
            "openclaw.json",
            "--agent",
            "ops",
            "--version",
            "2026.5.12",
            "--format",
            "json",
            "--now",
            NOW,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["credential"]["inherited_from"], "main");
}

/// Text output with the temp dir replaced, for snapshots.
fn snapshot_text(dir: &Path, args: &[&str]) -> String {
    let run = dispatch(dir, args);
    let root = dir.to_string_lossy().into_owned();
    format!("exit {}\n{}{}", run.code, run.stdout, run.stderr).replace(&root, "[DIR]")
}

mod snapshots {
    use super::*;

    /// The #83380 setup planned at `version`, as text.
    fn issue_83380_text(version: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "openclaw.json", ISSUE_83380_CONFIG);
        write(dir.path(), "ap.json", &codex_store());
        let args = [
            "plan",
            "--config",
            "openclaw.json",
            "--profiles",
            "ap.json",
            "--version",
            version,
            "--now",
            NOW,
        ];
        snapshot_text(dir.path(), &args)
    }

    #[test]
    fn issue_83380_before_the_merge() {
        insta::assert_snapshot!(issue_83380_text("2026.5.16-beta.4"));
    }

    #[test]
    fn issue_83380_after_the_merge() {
        insta::assert_snapshot!(issue_83380_text("2026.9.6"));
    }

    #[test]
    fn platform_key_from_env_with_an_ordered_profile_in_cooldown() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "openclaw.json",
            "{agents: {defaults: {model: 'openai/gpt-5.5'}}, auth: {order: {openai: ['openai:work', 'openai:gone']}}}",
        );
        let store = json!({"version": 1, "profiles": {"openai:work": {"type": "api_key", "provider": "openai", "key": "sk-proj-work"}}});
        write(dir.path(), "ap.json", &store.to_string());
        write(
            dir.path(),
            "state.json",
            r#"{"version": 1, "usageStats": {"openai:work": {"cooldownUntil": 4102444800000}}}"#,
        );
        let args = [
            "plan",
            "--config",
            "openclaw.json",
            "--profiles",
            "ap.json",
            "--state",
            "state.json",
            "--env",
            "OPENAI_API_KEY=sk-proj-env",
            "--version",
            "2026.5.16",
            "--now",
            NOW,
        ];
        insta::assert_snapshot!(snapshot_text(dir.path(), &args));
    }

    #[test]
    fn anthropic_oauth_token_inherited_by_another_agent() {
        let home = tempfile::tempdir().unwrap();
        write(
            home.path(),
            "openclaw.json",
            "{agents: {defaults: {model: 'anthropic/claude-sonnet-4-5'}, list: [{id: 'research'}]}}",
        );
        let store = json!({"version": 1, "profiles": {
            "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-api03-main"},
            "anthropic:claude-max": {"type": "token", "provider": "anthropic", "token": "sk-ant-oat01-main"}}});
        write(home.path(), "agents/main/agent/auth-profiles.json", &store.to_string());
        let args = [
            "plan",
            "--config",
            "openclaw.json",
            "--agent",
            "research",
            "--version",
            "2026.5.16",
            "--now",
            NOW,
        ];
        insta::assert_snapshot!(snapshot_text(home.path(), &args));
    }

    #[test]
    fn custom_provider_without_auth_header() {
        let dir = tempfile::tempdir().unwrap();
        let config = r#"{
          agents: { defaults: { model: "corp/gpt-internal" } },
          models: { providers: { corp: { baseUrl: "https://llm.corp.test/openai/v1", api: "openai-responses",
                                         authHeader: false, headers: { "api-key": "corp-secret-1", "X-Tenant": "blue" } } } },
        }"#;
        write(dir.path(), "openclaw.json", config);
        let args = ["plan", "--config", "openclaw.json", "--version", "2026.9.6", "--now", NOW];
        let text = snapshot_text(dir.path(), &args);
        assert!(!text.contains("corp-secret-1"));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn the_env_key_never_stands_in_for_openai_codex() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "openclaw.json",
            "{agents: {defaults: {model: 'openai-codex/gpt-5.5', agentRuntime: 'pi'}}}",
        );
        let store = json!({"version": 1, "profiles": {"openai-codex:user@example.com": {
            "type": "oauth", "provider": "openai-codex", "access": chatgpt_jwt("acct-x"), "expires": 1700000000000_i64}}});
        write(dir.path(), "ap.json", &store.to_string());
        let args = [
            "plan",
            "--config",
            "openclaw.json",
            "--profiles",
            "ap.json",
            "--env",
            "OPENAI_API_KEY=sk-proj-env",
            "--version",
            "2026.5.14",
            "--now",
            NOW,
        ];
        insta::assert_snapshot!(snapshot_text(dir.path(), &args));
    }
}

/// A new user's first hour (issue L): what `dispatch plan` says about inputs
/// that are broken, mistyped, missing or of the wrong kind.
mod first_hour {
    use super::*;

    /// `dispatch plan --config openclaw.json EXTRA…` of `config`, as text.
    fn config_text(config: &str, extra: &[&str]) -> String {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "openclaw.json", config);
        let mut args = vec!["plan", "--config", "openclaw.json", "--now", NOW];
        args.extend_from_slice(extra);
        snapshot_text(dir.path(), &args)
    }

    #[test]
    fn a_missing_closing_brace_names_the_end_of_file_and_the_opening() {
        let text = config_text("{\n  agents: { defaults: { model: 'openai/gpt-5.5' } }\n", &[]);
        assert!(text.starts_with("exit 2\n"), "{text}");
        assert!(text.contains("openclaw.json:3:1: ") && text.contains("opened at 1:1"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_model_setting_of_the_wrong_type_names_the_field_and_what_it_may_be() {
        let number = config_text("{\n  agents: {\n    defaults: { model: { primary: 42 } },\n  },\n}\n", &[]);
        let list = config_text("{agents: {defaults: {model: ['openai/gpt-5.5']}}}", &[]);
        let runtime = config_text("{agents: {defaults: {model: 'openai/gpt-5.5', agentRuntime: 7}}}", &[]);
        for text in [&number, &list, &runtime] {
            assert!(text.starts_with("exit 2\n") && !text.contains("untagged enum"), "{text}");
        }
        insta::assert_snapshot!(format!("{number}\n{list}\n{runtime}"));
    }

    #[test]
    fn an_unknown_provider_suggests_the_closest_known_one() {
        let dir = tempfile::tempdir().unwrap();
        let text = snapshot_text(dir.path(), &["plan", "--model", "opeani/gpt-5.5", "--now", NOW]);
        assert!(text.starts_with("exit 1\n") && text.contains("did you mean openai?"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_mistyped_config_key_is_named_with_its_path_and_the_plan_proceeds() {
        let config = "{\n  agents: {\n    defaults: { modle: 'openai/gpt-5.5' },\n    list: [{ id: 'ops', agentDir: 'x', modle: 'openai/gpt-5.5' }],\n  },\n  modles: {},\n  gateway: { port: 18789 },\n}\n";
        let typo = config_text(config, &[]);
        assert!(typo.starts_with("exit 1\n"), "the plan proceeds to OpenClaw's refusal: {typo}");
        assert!(typo.contains("agents.defaults.modle: unknown key (did you mean model?)"), "{typo}");
        assert!(!typo.contains("gateway"), "keys the reference does not read are not its business: {typo}");
        let chain = config_text(
            "{agents: {defaults: {model: {primary: 'openai/gpt-5.5', fallback: ['anthropic/claude-x']}}}}",
            &["--env", "OPENAI_API_KEY=sk-proj-typo", "--version", "2026.5.16"],
        );
        assert!(chain.starts_with("exit 0\n"), "{chain}");
        insta::assert_snapshot!(format!("{typo}\n{chain}"));
    }

    #[test]
    fn no_inputs_at_all_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let text = snapshot_text(dir.path(), &["plan"]);
        assert!(text.starts_with("exit 2\n"), "{text}");
        let send = dispatch(dir.path(), &["send", "--proxy", "http://127.0.0.1:9"]);
        assert_eq!(send.code, 2, "{}", send.stderr);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_model_the_catalog_does_not_know_at_the_version_is_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let args = |model: &'static str, version: &'static str| {
            [
                "plan",
                "--model",
                model,
                "--env",
                "OPENAI_API_KEY=sk-proj-x",
                "--version",
                version,
                "--now",
                NOW,
            ]
        };
        let unknown = snapshot_text(dir.path(), &args("openai/gpt-9-ultra", "2026.9.6"));
        assert!(unknown.starts_with("exit 0\n") && unknown.contains("warning"), "{unknown}");
        let known = dispatch(dir.path(), &args("openai/gpt-5.5", "2026.9.6"));
        assert!(known.code == 0 && !known.stderr.contains("warning"), "{}", known.stderr);
        let older = dispatch(dir.path(), &args("openai/gpt-9-ultra", "2026.5.16"));
        assert!(
            older.code == 0 && !older.stderr.contains("warning"),
            "no facts before 2026.9.5: {}",
            older.stderr
        );
        let json = dispatch(
            dir.path(),
            &[&args("openai/gpt-9-ultra", "2026.9.6")[..], &["--format", "json"]].concat(),
        );
        let plan: Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(plan["warnings"].as_array().map(Vec::len), Some(1), "{}", json.stdout);
        let refused = dispatch(
            dir.path(),
            &[
                "plan",
                "--model",
                "anthropic/claude-sonnet-4-5",
                "--env",
                "ANTHROPIC_API_KEY=sk-ant-api03-x",
                "--version",
                "2026.9.5",
            ],
        );
        assert_eq!(refused.code, 0, "{}", refused.stderr);
        assert!(refused.stderr.contains("Unknown model: anthropic/claude-sonnet-4-5"), "{}", refused.stderr);
        insta::assert_snapshot!(unknown);
    }

    #[test]
    fn a_cassette_or_another_file_given_as_scenario_says_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = json!({"format": "dispatch-vcr/cassette@1", "meta": {}, "interactions": []});
        write(dir.path(), "x.json", &cassette.to_string());
        write(dir.path(), "other.json", r#"{"name": "not a scenario"}"#);
        let as_cassette = snapshot_text(dir.path(), &["plan", "--scenario", "x.json"]);
        let other = snapshot_text(dir.path(), &["plan", "--scenario", "other.json"]);
        assert!(as_cassette.starts_with("exit 2\n") && other.starts_with("exit 2\n"), "{as_cassette}{other}");
        assert!(
            as_cassette.contains("x.json is a cassette (format dispatch-vcr/cassette@1), not a scenario")
        );
        assert!(other.contains("docs/design.md#scenarios"), "{other}");
        insta::assert_snapshot!(format!("{as_cassette}\n{other}"));
    }
}
