//! The reference dispatcher is its own first real client: `dispatch send` run
//! under `dispatch-vcr record`, against a local HTTPS upstream reached as the
//! real provider hosts (`--connect-to`), yields a cassette whose dispatch
//! matches the plan: endpoint, credential fingerprint, bound profile, account,
//! model and the headers and body fields the plan names.

use std::path::Path;

use dispatch_vcr::credential::fingerprint_in_marker;
use dispatch_vcr::dispatch::{Catalog, DispatchPlan, InputSources, plan};
use serde_json::{Value, json};

use crate::support::*;

/// Write `text` to `dir/name`, returning the path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Record `dispatch send INPUTS…` (proxy and CA from the child env) into `out`.
async fn record_send(
    upstream: &TestUpstream,
    out: &Path,
    profiles: Option<&str>,
    inputs: &[String],
) -> Value {
    let bin = Bin::new();
    let mut args = vec!["record".to_owned(), "-o".to_owned(), out.display().to_string()];
    args.extend(["--listen".to_owned(), "127.0.0.1:0".to_owned()]);
    args.extend(upstream.proxy_args());
    if let Some(profiles) = profiles {
        args.extend(["--profiles".to_owned(), profiles.to_owned()]);
    }
    args.extend(["--".to_owned(), BIN.to_owned(), "dispatch".to_owned(), "send".to_owned()]);
    args.extend(inputs.iter().cloned());
    let output = bin.run(args).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "record -- dispatch send failed: {stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("HTTP/1.1 200 OK"), "{stderr}");
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

/// The plan of the same inputs, through the library.
fn plan_of(inputs: &[String]) -> DispatchPlan {
    let mut sources = InputSources::default();
    let mut args = inputs.iter();
    while let (Some(flag), Some(value)) = (args.next(), args.next()) {
        match flag.as_str() {
            "--config" => sources.config = Some(value.into()),
            "--profiles" => sources.profiles = Some(value.into()),
            "--version" => sources.version = Some(value.clone()),
            "--model" => sources.model = Some(value.clone()),
            "--env" => sources.env.push(value.clone()),
            other => panic!("unexpected flag {other}"),
        }
    }
    plan(&sources.load().unwrap(), &Catalog::shipped().unwrap()).unwrap()
}

fn header<'v>(request: &'v Value, name: &str) -> Option<&'v str> {
    let headers = request["headers"].as_array()?;
    headers.iter().find(|pair| pair[0] == name).and_then(|pair| pair[1].as_str())
}

/// The one recorded dispatch matches `plan`.
fn assert_matches_plan(cassette: &Value, plan: &DispatchPlan) {
    let catalog = Catalog::shipped().unwrap();
    let interactions = cassette["interactions"].as_array().unwrap();
    let dispatches: Vec<&Value> = interactions
        .iter()
        .filter(|i| {
            catalog
                .is_dispatch(i["request"]["method"].as_str().unwrap(), i["request"]["url"].as_str().unwrap())
        })
        .collect();
    assert_eq!(dispatches.len(), 1, "{cassette:#}");
    let request = &dispatches[0]["request"];
    assert_eq!(
        format!("{} {}", request["method"].as_str().unwrap(), request["url"].as_str().unwrap()),
        plan.endpoint
    );

    let planned = plan.credential.as_ref().unwrap();
    let sent = header(request, planned.header.as_deref().unwrap()).unwrap();
    let scheme = planned.scheme.as_deref().map(|s| format!("{s} ")).unwrap_or_default();
    let marker = sent.strip_prefix(&scheme).unwrap_or_else(|| panic!("scheme of {sent:?}"));
    assert_eq!(fingerprint_in_marker(marker), Some(planned.fingerprint.as_str()), "{sent}");
    let facts = &cassette["meta"]["credentials"][&planned.fingerprint];
    assert_eq!(facts["kind"], planned.kind);

    if let Some(account) = &plan.account {
        let sent = header(request, &account.header).unwrap();
        assert!(sent == account.value || fingerprint_in_marker(sent) == Some(&account.fingerprint), "{sent}");
        assert_eq!(facts["account"], account.fingerprint);
    }
    for expected in &plan.headers {
        assert!(expected.holds(header(request, &expected.name)), "{expected:?} in {request:#}");
    }
    let body = &request["body"]["json"];
    assert_eq!(body["model"], plan.model.as_str());
    for field in &plan.body {
        assert!(field.holds(body), "{field:?} in {body:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_83380_setup_records_the_planned_chatgpt_dispatch_and_profile() {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "openclaw.json",
        "{agents: {defaults: {agentRuntime: {id: 'codex'}, model: {primary: 'openai-codex/gpt-5.5-pro'}}},\n plugins: {entries: {codex: {enabled: true}}, allow: ['codex']}}",
    );
    let access = chatgpt_jwt("acct-rec");
    let store = json!({"version": 1, "profiles": {"openai-codex:user@example.com": {"type": "oauth", "provider": "openai-codex",
        "access": access, "refresh": "r", "expires": 4102444800000_i64}}});
    let profiles = write(dir.path(), "auth-profiles.json", &store.to_string());
    let inputs: Vec<String> = ["--config", &config, "--profiles", &profiles, "--version", "2026.5.16-beta.4"]
        .map(String::from)
        .to_vec();
    let plan = plan_of(&inputs);
    assert_eq!(plan.endpoint, "POST https://chatgpt.com/backend-api/codex/responses");

    let out = dir.path().join("codex.json");
    let cassette = record_send(&upstream, &out, Some(&profiles), &inputs).await;
    assert_matches_plan(&cassette, &plan);
    let credential = plan.credential.as_ref().unwrap();
    assert_eq!(
        cassette["meta"]["credentials"][&credential.fingerprint]["profile"],
        "openai-codex:user@example.com"
    );
    assert!(!std::fs::read_to_string(&out).unwrap().contains(&access), "the token reached the cassette");
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/backend-api/codex/responses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_key_from_env_records_the_planned_bearer() {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "openclaw.json", "{agents: {defaults: {model: 'openai/gpt-5.5'}}}");
    let inputs: Vec<String> =
        ["--config", &config, "--env", "OPENAI_API_KEY=sk-proj-record-0001", "--version", "2026.9.6"]
            .map(String::from)
            .to_vec();
    let plan = plan_of(&inputs);
    assert_eq!(plan.endpoint, "POST https://api.openai.com/v1/responses");

    let out = dir.path().join("platform.json");
    let cassette = record_send(&upstream, &out, None, &inputs).await;
    assert_matches_plan(&cassette, &plan);
    assert!(!std::fs::read_to_string(&out).unwrap().contains("sk-proj-record-0001"));
}
