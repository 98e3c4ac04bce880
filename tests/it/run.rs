//! `dispatch-vcr run` end to end: a real child (a Python script configured
//! only by the materialised HOME) runs under the proxy with the provider
//! stub; what it sends is judged against the scenario.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::*;

/// The fixture key of the scenario's API-key profile.
const KEY: &str = "sk-proj-runtestfixture0123456789abcdef";

/// A dispatcher in a few lines: reads OpenClaw's files from HOME, sends the
/// Responses request with the profile's key as a bearer (or without it), and
/// logs its failover decision line the way OpenClaw does.
const DISPATCHER: &str = r#"
import hashlib, json, os, sys, urllib.request
home = os.environ["HOME"]
config = json.load(open(os.path.join(home, ".openclaw/openclaw.json")))
store = json.load(open(os.path.join(home, ".openclaw/agents", os.environ["DISPATCH_VCR_RUN_AGENT"], "agent/auth-profiles.json")))
profile_id, profile = next(iter(store["profiles"].items()))
model = os.environ["DISPATCH_VCR_RUN_MODEL"].split("/", 1)[1]
headers = {"content-type": "application/json", "user-agent": "openclaw/test", "originator": "openclaw"}
if "--drop-bearer" not in sys.argv:
    headers["authorization"] = "Bearer " + profile["key"]
body = json.dumps({"model": model, "input": "hi", "stream": True}).encode()
request = urllib.request.Request("https://api.openai.com/v1/responses", data=body, headers=headers)
try:
    answer = urllib.request.urlopen(request).read().decode()
    print("stub answered:", answer.splitlines()[0])
except Exception as err:
    print("request failed:", err)
print("inherited key visible:", "OPENAI_API_KEY" in os.environ)
fingerprint = "sha256:" + hashlib.sha256(profile_id.encode()).hexdigest()[:12]
with open(config["logging"]["file"], "a") as log:
    log.write("[agent/embedded] embedded run failover decision: runId=r1 stage=assistant decision=continue_normal "
              "reason=none from=openai/" + model + " profile=" + fingerprint + "\n")
"#;

struct Fixture {
    dir: tempfile::TempDir,
    scenario: PathBuf,
    script: PathBuf,
}

/// A scenario without cassettes: a live run under the stub needs none.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let scenario = json!({
        "format": "dispatch-vcr/scenario@1",
        "name": "api-key-profile-sends-bearer",
        "dispatcher": "openclaw",
        "inputs": {
            "config": {"agents": {"defaults": {"agentRuntime": {"id": "pi"}, "model": {"primary": "openai/gpt-5.5"}}}},
            "auth_profiles": {"version": 1, "profiles": {"openai:default": {"type": "api_key", "provider": "openai", "key": KEY}}}
        },
        "expect": {"endpoint": "POST https://api.openai.com/v1/responses", "profile": "openai:default"}
    });
    let scenario_path = dir.path().join("scenario.json");
    std::fs::write(&scenario_path, serde_json::to_string_pretty(&scenario).unwrap()).unwrap();
    let script = dir.path().join("dispatcher.py");
    std::fs::write(&script, DISPATCHER).unwrap();
    Fixture { dir, scenario: scenario_path, script }
}

/// `dispatch-vcr run SCENARIO --version 2026.9.6 --stub EXTRA… -- python3 dispatcher.py ARGS…`
async fn run(f: &Fixture, extra: &[&str], args: &[&str]) -> (i32, String, String) {
    let bin = Bin::new();
    let mut command = vec!["run", f.scenario.to_str().unwrap(), "--version", "2026.9.6", "--stub"];
    command.extend(extra);
    // An absolute interpreter: version-manager shims find themselves through HOME, which the run replaces.
    command.extend(["--", "/usr/bin/python3", f.script.to_str().unwrap()]);
    command.extend(args);
    let output = bin.command(command).env("OPENAI_API_KEY", "sk-proj-from-the-users-shell").output();
    let output = tokio::time::timeout(GUARD, output).await.expect("run hung").unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

fn cassette(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_sending_the_planned_request_passes_and_its_traffic_is_kept() {
    let f = fixture();
    let kept = f.dir.path().join("observed.json");
    let (code, stdout, stderr) = run(&f, &["--record-to", kept.to_str().unwrap()], &[]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("stub answered: event: response.created"), "{stdout}");
    assert!(stdout.contains("inherited key visible: False"), "the user's env stays out: {stdout}");
    assert!(stdout.contains("✓ pass: every invariant holds"), "{stdout}");
    assert!(
        stdout.contains("OpenClaw logged profile=sha256:")
            && stdout.contains("(openai:default): stage=assistant"),
        "the dispatcher's log is shown beside the verdict: {stdout}"
    );

    let kept = cassette(&kept);
    assert_eq!(kept["meta"]["dispatcher"], json!({"name": "openclaw", "version": "2026.9.6"}));
    assert_eq!(kept["meta"]["labels"]["source"], "recorded from openclaw 2026.9.6");
    assert_eq!(kept["meta"]["labels"]["scenario"], "api-key-profile-sends-bearer");
    let fingerprint = dispatch_vcr::credential::fingerprint(KEY);
    assert_eq!(kept["meta"]["credentials"][&fingerprint]["profile"], "openai:default");
    assert!(!kept.to_string().contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_dropping_the_bearer_fails_with_exit_1_and_the_reason() {
    let f = fixture();
    let report = f.dir.path().join("report.json");
    let (code, stdout, stderr) =
        run(&f, &["--format", "json", "-o", report.to_str().unwrap()], &["--drop-bearer"]).await;
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let report = cassette(&report);
    let cell = &report["scenarios"][0]["cells"][0];
    assert_eq!(cell["verdict"], "fail");
    assert_eq!(cell["version"], "2026.9.6");
    let failed: Vec<&str> = cell["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "fail")
        .map(|i| i["invariant"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"bearer") && failed.contains(&"profile"), "{failed:?}");
    assert!(cell["dispatcher_log"][0].as_str().unwrap().starts_with("OpenClaw logged profile=sha256:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_sends_nothing_fails_the_endpoint_and_its_status_is_reported() {
    let f = fixture();
    let bin = Bin::new();
    let args = ["run", f.scenario.to_str().unwrap(), "--stub", "--", "sh", "-c", "exit 4"];
    let output = bin.run(args).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("endpoint"), "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("exited with status 4"));
}

#[tokio::test]
async fn usage_errors_name_what_to_fix() {
    let f = fixture();
    let bin = Bin::new();
    let scenario = f.scenario.to_str().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (&["run", scenario, "--stub"], "CMD"),
        (&["run", "no-such-scenario.json", "--stub", "--", "true"], "no-such-scenario.json"),
        (&["run", scenario, "--stub", "--version", "x.y", "--", "true"], "--version x.y"),
    ];
    for (args, needle) in cases {
        let output = bin.run(args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_can_be_a_kept_folder_and_tmpdir_dies_with_the_run() {
    let f = fixture();
    let bin = Bin::new();
    let home = f.dir.path().join("kept-home");
    let script = r#"echo "tmp=$TMPDIR"; test "$HOME" = "$DISPATCH_VCR_RUN_HOME" && touch "$TMPDIR/scratch""#;
    let args = [
        "run",
        f.scenario.to_str().unwrap(),
        "--stub",
        "--home",
        home.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        script,
    ];
    let first = bin.run(args).await;
    let stdout = String::from_utf8_lossy(&first.stdout);
    let tmp = stdout.lines().find_map(|l| l.strip_prefix("tmp=")).expect("TMPDIR printed");
    assert!(!Path::new(tmp).exists(), "the run's TMPDIR is removed: {tmp}");
    assert!(home.join(".openclaw/openclaw.json").is_file(), "the home is kept");
    assert!(home.join(".openclaw/agents/main/agent/auth-profiles.json").is_file());
    let again = bin.run(args).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"), "a used home is refused");
}

/// Run the fixture under the stub once, keeping what it sent as the scenario's 2026.9.6 cassette.
async fn record_as_the_scenarios_cassette(f: &Fixture) {
    let recorded = f.dir.path().join("recorded.json");
    let (code, stdout, stderr) = run(f, &["--record-to", recorded.to_str().unwrap()], &[]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let mut scenario: Value = serde_json::from_str(&std::fs::read_to_string(&f.scenario).unwrap()).unwrap();
    scenario["cassettes"]["2026.9.6"] = json!("recorded.json");
    std::fs::write(&f.scenario, scenario.to_string()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_says_a_scenario_without_cassettes_has_nothing_to_check() {
    let f = fixture();
    let bin = Bin::new();
    let alone = bin.run(["check", f.scenario.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&alone.stderr);
    assert_eq!(alone.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing to check: no cassette in"), "{stderr}");
    assert!(stderr.contains("--record-to FILE"), "says how to get one: {stderr}");
    let replayed = bin.run(["run", f.scenario.to_str().unwrap(), "--", "true"]).await;
    let stderr = String::from_utf8_lossy(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no cassette for 2026.9.6 to replay") && stderr.contains("--stub"), "{stderr}");

    record_as_the_scenarios_cassette(&f).await;
    let other = f.dir.path().join("other.json");
    let mut bare: Value = serde_json::from_str(&std::fs::read_to_string(&f.scenario).unwrap()).unwrap();
    bare["name"] = json!("not-recorded-yet");
    bare.as_object_mut().unwrap().remove("cassettes");
    std::fs::write(&other, bare.to_string()).unwrap();
    let mixed = bin.run(["check", f.scenario.to_str().unwrap(), other.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&mixed.stderr);
    assert_eq!(mixed.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("other.json: no cassette yet, nothing to check for it"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_stub_the_scenarios_cassette_is_replayed_and_a_missing_bearer_gets_the_providers_401() {
    let f = fixture();
    record_as_the_scenarios_cassette(&f).await;

    let bin = Bin::new();
    let replay = |extra: &'static [&'static str]| {
        let mut args =
            vec!["run", f.scenario.to_str().unwrap(), "--version", "2026.9.6", "--", "/usr/bin/python3"];
        args.push(f.script.to_str().unwrap());
        args.extend(extra);
        bin.run(args)
    };
    let replayed = replay(&[]).await;
    let stdout = String::from_utf8_lossy(&replayed.stdout);
    assert_eq!(replayed.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&replayed.stderr));
    assert!(
        stdout.contains("stub answered: event: response.created"),
        "the recorded answer is served: {stdout}"
    );
    assert!(String::from_utf8_lossy(&replayed.stderr).contains("replayed 1 of 1"));

    let dropped = replay(&["--drop-bearer"]).await;
    let stdout = String::from_utf8_lossy(&dropped.stdout);
    assert_eq!(dropped.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("HTTP Error 401"), "the provider's 401, as live: {stdout}");
    assert!(stdout.contains("✗ bearer"), "{stdout}");
}

/// The report in `stdout`: from its first line (`dispatch-vcr …`) to the end.
fn report_text(stdout: &str) -> &str {
    let start =
        stdout.find("\ndispatch-vcr ").map(|n| n + 1).unwrap_or_else(|| panic!("no report in {stdout}"));
    &stdout[start..]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_is_written_for_a_run() {
    let f = fixture();
    let (code, stdout, stderr) = run(&f, &[], &[]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let passed = report_text(&stdout);
    assert!(passed.starts_with("dispatch-vcr run: api-key-profile-sends-bearer @ 2026.9.6\n"), "{passed}");
    assert!(!passed.contains("no cassette") && !passed.contains("scenarios"), "{passed}");
    insta::assert_snapshot!("report_pass", passed);

    let (code, stdout, stderr) = run(&f, &[], &["--drop-bearer"]).await;
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    insta::assert_snapshot!("report_fail", report_text(&stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_stub_a_replay_miss_is_not_a_pass_and_is_named() {
    let f = fixture();
    record_as_the_scenarios_cassette(&f).await;

    // The right dispatch (served from the cassette), then a request the cassette lacks.
    let script = format!(
        "/usr/bin/python3 {} && curl -sS -o /dev/null --proxy \"$HTTPS_PROXY\" --cacert \"$NODE_EXTRA_CA_CERTS\" \
         https://api.openai.com/v1/models",
        f.script.display()
    );
    let bin = Bin::new();
    let args = ["run", f.scenario.to_str().unwrap(), "--version", "2026.9.6", "--", "sh", "-c", &script];
    let output = bin.run(args).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("stub answered: event: response.created"), "the dispatch was served: {stdout}");
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let report = report_text(&stdout);
    assert!(!report.contains("✓"), "a miss is not a pass: {report}");
    assert!(report.contains("GET https://api.openai.com/v1/models"), "the miss is named: {report}");

    let json_report = f.dir.path().join("report.json");
    let mut args = args.to_vec();
    args.splice(2..2, ["--format", "json", "-o", json_report.to_str().unwrap()]);
    assert_eq!(bin.run(args).await.status.code(), Some(1));
    let cell = &cassette(&json_report)["scenarios"][0]["cells"][0];
    assert_eq!(cell["verdict"], "fail", "{cell}");
    assert!(
        cell["replay_misses"][0].as_str().unwrap().starts_with("GET https://api.openai.com/v1/models"),
        "{cell}"
    );
}

#[tokio::test]
async fn help_says_what_answers_without_stub() {
    let output = Bin::new().run(["run", "--help"]).await;
    let help = String::from_utf8_lossy(&output.stdout);
    // The paragraphs of --version, --stub and --stub-status.
    let start = help.find("      --version").unwrap();
    let end = help.find("      --record-to").unwrap();
    let flags = &help[start..end];
    assert!(!flags.contains("instead of the network"), "{flags}");
    assert!(flags.contains("Without --stub the scenario's cassette for --version is replayed"), "{flags}");
    insta::assert_snapshot!("help_version_and_stub", flags);
}
