//! Memory-search embeddings and image generation as judged calls, end to end
//! through the binary: `record --stub` of a client posting to the embeddings
//! (or images) API, then `check` on a scenario with `"judge": "embeddings"`
//! (or `images`), and `dispatch plan --call embeddings|all`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::{BIN, Bin};

const KEY: &str = "sk-proj-fixture-embeddings-it-0123456789";
/// An unsigned JWT: a ChatGPT login's access token as far as the kind goes.
const LOGIN: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJmaXh0dXJlLWxvZ2luIn0.";

fn store() -> Value {
    json!({"version": 1, "profiles": {
        "openai:user@example.com": {"type": "oauth", "provider": "openai", "access": LOGIN,
                                    "refresh": "fixture-refresh", "expires": 4102444800000_i64},
        "openai:default": {"type": "api_key", "provider": "openai", "key": KEY}
    }})
}

/// Record one `POST https://api.openai.com/v1/embeddings` carrying `bearer` into `dir/NAME.json`.
async fn record_embeddings(dir: &Path, name: &str, bearer: &str) -> PathBuf {
    let body = r#"{"model":"text-embedding-3-small","input":["memory"]}"#;
    record_post(dir, name, bearer, "https://api.openai.com/v1/embeddings", body).await
}

/// Record one `POST URL` of `body` carrying `bearer` into `dir/NAME.json`.
async fn record_post(dir: &Path, name: &str, bearer: &str, url: &str, body: &str) -> PathBuf {
    let profiles = dir.join("auth-profiles.json");
    std::fs::write(&profiles, store().to_string()).unwrap();
    let out = dir.join(format!("{name}.json"));
    let script = format!(
        "curl -sS --proxy \"$HTTPS_PROXY\" --cacert \"$NODE_EXTRA_CA_CERTS\" {url} \
         -H 'authorization: Bearer {bearer}' -H 'content-type: application/json' -d '{body}' >/dev/null"
    );
    let args = [
        "record",
        "--stub",
        "--profiles",
        profiles.to_str().unwrap(),
        "--dispatcher",
        "openclaw@2026.9.6",
        "-o",
        out.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        &script,
    ];
    let recorded = Bin::new().run(args).await;
    assert_eq!(recorded.status.code(), Some(0), "{}", String::from_utf8_lossy(&recorded.stderr));
    out
}

/// A scenario judging `judge` over the login and the key, with `cassette` at 2026.9.6.
fn scenario(dir: &Path, judge: &str, cassette: &Path) -> PathBuf {
    let scenario = json!({
        "format": "dispatch-vcr/scenario@1",
        "name": "embeddings-carry-the-key",
        "dispatcher": "openclaw",
        "judge": judge,
        "inputs": {
            "config": {"agents": {"defaults": {"agentRuntime": {"id": "pi"}, "model": {"primary": "openai/gpt-5.5"}}}},
            "auth_profiles": store()
        },
        "cassettes": {"2026.9.6": cassette.file_name().unwrap().to_str().unwrap()}
    });
    let path = dir.join(format!("scenario-{judge}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&scenario).unwrap()).unwrap();
    path
}

fn run(args: &[&str]) -> (Output, String) {
    let out = Command::new(BIN).args(args).env("NO_COLOR", "1").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embeddings_with_the_key_pass_and_with_the_chatgpt_login_fail() {
    let dir = tempfile::tempdir().unwrap();
    let good = record_embeddings(dir.path(), "with-key", KEY).await;
    let (out, text) = run(&["check", scenario(dir.path(), "embeddings", &good).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{text}");

    let bad = record_embeddings(dir.path(), "with-login", LOGIN).await;
    let (out, text) = run(&["check", scenario(dir.path(), "embeddings", &bad).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("✗ bearer: a credential of kind jwt was sent where one of kind openai-key is planned"),
        "{text}"
    );
    assert!(
        text.contains(
            "the credential of profile openai:user@example.com was sent instead of openai:default's"
        ),
        "{text}"
    );
    assert!(text.contains("reached api.openai.com, outside openai's hosts"), "{text}");

    // Judged as the chat turn (the default), the embeddings call is no dispatch:
    // only credential-scope sees the login where it may not go.
    let (out, text) = run(&["check", scenario(dir.path(), "chat", &bad).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✗ credential-scope"), "{text}");
    assert!(!text.contains("✗ bearer"), "{text}");
}

#[test]
fn a_bad_judge_is_refused_naming_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "chats", Path::new("c.json"));
    let (out, text) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("scenario-chats.json:"), "{text}");
    assert!(
        text.contains(
            "judge: unknown variant `chats`, expected one of `chat`, `embeddings`, `images`, `all`"
        ),
        "{text}"
    );
}

/// `dispatch plan --call CALL` of a scenario judging `judge`, at 2026.9.6: its output, which must be a success.
fn plan_call(dir: &Path, judge: &str, call: &str, extra: &[&str]) -> (Output, String, PathBuf) {
    let path = scenario(dir, judge, Path::new("c.json"));
    let mut args = vec!["dispatch", "plan", "--scenario", path.to_str().unwrap(), "--version", "2026.9.6"];
    args.extend(["--call", call]);
    args.extend(extra);
    let (out, text) = run(&args);
    assert_eq!(out.status.code(), Some(0), "{text}");
    (out, text, path)
}

#[test]
fn dispatch_plan_explains_the_embeddings_call() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text, path) = plan_call(dir.path(), "embeddings", "embeddings", &[]);
    let text = text.replace(path.to_str().unwrap(), "SCENARIO");
    insta::assert_snapshot!(text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_call_with_the_key_passes_and_with_the_login_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (url, body) =
        ("https://api.openai.com/v1/images/generations", r#"{"model":"gpt-image-2","prompt":"a cat"}"#);
    let good = record_post(dir.path(), "image-key", KEY, url, body).await;
    let (out, text) = run(&["check", scenario(dir.path(), "images", &good).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let bad = record_post(dir.path(), "image-login", LOGIN, url, body).await;
    let (out, text) = run(&["check", scenario(dir.path(), "images", &bad).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("reached api.openai.com, outside openai's hosts"), "{text}");
    // `all` judges the image call the recording holds, and skips the embeddings call it does not.
    let (out, text) =
        run(&["check", "--format", "json", scenario(dir.path(), "all", &good).to_str().unwrap()]);
    let report: Value = serde_json::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let endpoint = &report["scenarios"][0]["cells"][0]["invariants"][0];
    assert_eq!(endpoint["invariant"], "endpoint", "{text}");
    let failure = endpoint["failures"][0]["message"].as_str().unwrap_or_default();
    assert!(failure.starts_with("no dispatch was observed"), "no chat turn in this recording: {text}");
}

#[test]
fn dispatch_plan_all_answers_for_every_call() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _, _) = plan_call(dir.path(), "all", "all", &["--format", "json"]);
    let json: Value = serde_json::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(json["chat"]["endpoint"], "POST https://chatgpt.com/backend-api/codex/responses");
    assert_eq!(json["embeddings"]["credential"]["profile"], "openai:default");
    assert_eq!(json["images"]["endpoint"], "POST https://api.openai.com/v1/images/generations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_without_a_model_pins_the_call_it_judges() {
    let dir = tempfile::tempdir().unwrap();
    let cassette = record_embeddings(dir.path(), "gateway", KEY).await;
    let scenario = json!({
        "format": "dispatch-vcr/scenario@1", "name": "gateway-embeddings", "dispatcher": "acme-gateway",
        "judge": "embeddings", "inputs": {},
        "expect": {"endpoint": "POST https://api.openai.com/v1/embeddings", "model": "text-embedding-3-small"},
        "cassettes": {"1.0.0": cassette.file_name().unwrap().to_str().unwrap()}
    });
    let path = dir.path().join("gateway-scenario.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let (out, text) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("not judged: bearer, profile, headers, credential-scope"), "{text}");
}
