//! `dispatch-vcr check` end to end: the real binary on the shipped OpenClaw
//! catalogue and on scenarios made here, every report format, shards and
//! exit codes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dispatch_vcr::report::{Report, Status, Verdict};
use serde_json::Value;

use crate::support::{BIN, root};

/// Run `dispatch-vcr check ARGS` from the project root, without colours.
fn check(args: &[&str]) -> Output {
    Command::new(BIN).arg("check").args(args).current_dir(root()).env("NO_COLOR", "1").output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn json_report(args: &[&str]) -> Report {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&stdout(&check(&all))).unwrap()
}

/// The explanation block of one cell in the text report.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text.find(heading).unwrap_or_else(|| panic!("no {heading:?} in\n{text}"));
    let rest = &text[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn shipped_catalogue_checks_green_and_reproduces_83380() {
    let out = check(&["--verbose"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let cell = section(&text, "⚠ codex-runtime-binds-oauth-profile @ 2026.5.16-beta.4");
    assert!(cell.contains("expected failure (openclaw/openclaw#83380 as reported"), "{cell}");
    for line in [
        "✗ endpoint: the dispatch went to another endpoint",
        "expected: POST https://chatgpt.com/backend-api/codex/responses",
        "actual:   POST https://api.openai.com/v1/responses",
        "✗ bearer: no credential was sent",
        "✗ profile: no credential was sent, so no profile is bound",
        "expected: openai-codex:user@example.com",
        "-POST https://chatgpt.com/backend-api/codex/responses",
        "+POST https://api.openai.com/v1/responses",
        "+(no credential header)",
    ] {
        assert!(cell.contains(line), "missing {line:?} in\n{cell}");
    }
    let report = json_report(&[]);
    let scenario = report.scenarios.iter().find(|s| s.name == "codex-runtime-binds-oauth-profile").unwrap();
    let verdicts: Vec<(&str, Verdict)> =
        scenario.cells.iter().map(|c| (c.version.as_str(), c.verdict)).collect();
    assert_eq!(
        verdicts,
        vec![
            ("2026.5.12", Verdict::ExpectedFailure),
            ("2026.5.16-beta.4", Verdict::ExpectedFailure),
            ("2026.5.27", Verdict::Pass),
            ("2026.5.28", Verdict::ExpectedFailure),
            ("2026.6.35", Verdict::ExpectedFailure),
            ("2026.7.35", Verdict::ExpectedFailure),
            ("2026.8.2", Verdict::ExpectedFailure),
            ("2026.9.1", Verdict::ExpectedFailure),
            ("2026.9.2", Verdict::ExpectedFailure),
            ("2026.9.3", Verdict::ExpectedFailure),
            ("2026.9.4", Verdict::Pass),
            ("2026.9.5", Verdict::Pass),
            ("2026.9.6", Verdict::Pass)
        ]
    );
    assert!(report.scenarios.len() >= 8);
    // A scenario recorded on several releases passes on one at least; one made from an
    // OpenClaw regression report also reproduces it (a known failure) on one.
    let across_releases = report.scenarios.iter().filter(|s| s.cells.len() > 1);
    for s in across_releases {
        assert!(s.cells.iter().any(|c| c.verdict == Verdict::Pass), "{}", s.name);
        if s.source.as_deref().is_some_and(|source| source.starts_with("openclaw/openclaw#")) {
            assert!(s.cells.iter().any(|c| c.verdict == Verdict::ExpectedFailure), "{}", s.name);
        }
    }
}

#[test]
fn the_text_matrix_and_one_explanation_match_their_snapshots() {
    // By default the shipped catalogue is the matrix alone: nothing needs attention.
    insta::assert_snapshot!("matrix", stdout(&check(&[])));
    let verbose = stdout(&check(&["--verbose"]));
    insta::assert_snapshot!(
        "explanation_83380",
        section(&verbose, "⚠ codex-runtime-binds-oauth-profile @ 2026.5.16-beta.4")
    );
}

#[test]
fn first_bad_version_is_named_where_a_good_version_turns_bad() {
    let text = stdout(&check(&[]));
    let legend = section(&text, "expired-oauth-refreshes-not-env-key");
    assert!(legend.contains("first bad version: 2026.5.28"), "{legend}");
    let report = json_report(&[]);
    let scenario = report.scenarios.iter().find(|s| s.name == "expired-oauth-refreshes-not-env-key").unwrap();
    assert_eq!(scenario.first_bad_version.as_deref(), Some("2026.5.28"));
}

/// A copy of a shipped scenario in `dir`, edited by `edit`, with absolute cassette paths.
fn scenario_copy(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let source = root().join("scenarios/openclaw").join(format!("{name}.json"));
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&source).unwrap()).unwrap();
    for path in value["cassettes"].as_object_mut().unwrap().values_mut() {
        let absolute = source.parent().unwrap().join(path.as_str().unwrap());
        *path = Value::String(absolute.display().to_string());
    }
    edit(&mut value);
    let target = dir.join(format!("{name}.json"));
    std::fs::write(&target, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    target
}

#[test]
fn an_unexpected_failure_exits_1_with_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_copy(dir.path(), "codex-runtime-binds-oauth-profile", |v| {
        v.as_object_mut().unwrap().remove("known_failures");
    });
    let out = check(&[path.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let cell = section(&text, "✗ codex-runtime-binds-oauth-profile @ 2026.5.12: fail");
    assert!(cell.contains("--- expected\n      +++ actual"), "{cell}");
    assert!(cell.contains("+POST https://api.openai.com/v1/responses"), "{cell}");
}

#[test]
fn a_pin_the_reference_contradicts_is_a_reference_failure() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_copy(dir.path(), "api-key-profile-sends-bearer", |v| {
        v["expect"]["endpoint"] = Value::String("POST https://api.openai.com/v1/chat/completions".into());
    });
    let out = check(&["--format", "json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report: Report = serde_json::from_str(&stdout(&out)).unwrap();
    let cells = &report.scenarios[0].cells;
    assert!(cells.iter().all(|c| c.verdict == Verdict::ReferenceFailure), "{cells:?}");
    assert!(
        cells[0].reference[0]
            .message
            .contains("but the reference dispatcher plans POST https://api.openai.com/v1/responses")
    );
    let text = stdout(&check(&[path.to_str().unwrap()]));
    assert!(text.contains("‽ api-key-profile-sends-bearer @ 2026.5.16-beta.4: reference failure"), "{text}");
}

#[test]
fn a_dispatch_without_an_eligible_credential_fails_bearer_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_copy(dir.path(), "api-key-profile-sends-bearer", |v| {
        v["inputs"]["auth_profiles"]["profiles"] = serde_json::json!({});
        v.as_object_mut().unwrap().remove("expect");
        v.as_object_mut().unwrap().remove("known_failures");
        // 2026.5.12, 2026.8.2 and 2026.9.1 send nothing at all, which is right when no credential is eligible.
        for silent in ["2026.5.12", "2026.8.2", "2026.9.1"] {
            v["cassettes"].as_object_mut().unwrap().remove(silent);
        }
    });
    let out = check(&["--format", "json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report: Report = serde_json::from_str(&stdout(&out)).unwrap();
    for cell in &report.scenarios[0].cells {
        assert_eq!(cell.verdict, Verdict::Fail);
        let failed: Vec<String> =
            cell.failures().map(|f| format!("{}: {}", f.invariant, f.message)).collect();
        assert_eq!(
            failed,
            [
                "bearer: dispatched although no credential is eligible",
                "profile: dispatched although no credential is eligible"
            ]
        );
        assert!(cell.failures().all(|f| f.expected.contains("No API key found")), "{cell:?}");
    }
}

#[test]
fn a_known_failure_that_passes_is_reported_fixed_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_copy(dir.path(), "api-key-profile-sends-bearer", |v| {
        v["known_failures"]["2026.5.16-beta.4"] = Value::String("a report".into());
    });
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("★ api-key-profile-sends-bearer @ 2026.5.16-beta.4: fixed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn junit_parses_with_one_testcase_per_version_and_invariant() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    let out = check(&["--format", "junit", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "-o writes nothing to stdout");
    let script = r#"
import sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
suites = root.findall("testsuite")
cases = root.findall(".//testcase")
skipped = [c for c in cases if c.find("skipped") is not None and c.find("skipped").get("message").startswith("expected failure")]
failed = [c for c in cases if c.find("failure") is not None]
print(len(suites), len(cases), len(skipped), len(failed), root.get("tests"))
"#;
    let py = Command::new("python3").args(["-c", script, file.to_str().unwrap()]).output().unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let counts: Vec<usize> =
        String::from_utf8(py.stdout).unwrap().split_whitespace().map(|n| n.parse().unwrap()).collect();
    let report = json_report(&[]);
    let cells = report.summary.cells;
    assert_eq!(counts[0], report.scenarios.len());
    assert_eq!(counts[1], cells * 8, "a reference testcase and seven invariants per cell");
    assert!(counts[2] >= report.summary.expected_failures, "expected failures are skipped testcases");
    assert_eq!(counts[3], 0, "nothing fails on the shipped catalogue");
    assert_eq!(counts[4], counts[1]);
}

#[test]
fn json_round_trips_through_its_own_types() {
    let text = stdout(&check(&["--format", "json"]));
    let report: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(dispatch_vcr::report::json(&report), text);
    let cell =
        &report.scenarios.iter().find(|s| s.name == "codex-runtime-binds-oauth-profile").unwrap().cells[1];
    let statuses: Vec<Status> = cell.invariants.iter().map(|i| i.status).collect();
    assert_eq!(statuses[..3], [Status::Fail, Status::Fail, Status::Fail]);
}

#[test]
fn two_shards_cover_every_cell_exactly_once() {
    let cells = |report: &Report| -> Vec<(String, String)> {
        report
            .scenarios
            .iter()
            .flat_map(|s| s.cells.iter().map(|c| (s.name.clone(), c.version.clone())))
            .collect()
    };
    let all = cells(&json_report(&[]));
    let first = cells(&json_report(&["--shard", "1/2"]));
    let second = cells(&json_report(&["--shard", "2/2"]));
    let mut both: Vec<_> = first.iter().chain(&second).cloned().collect();
    both.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(both, expected);
    let overlap: BTreeSet<_> = first.iter().filter(|c| second.contains(c)).collect();
    assert!(overlap.is_empty());
    assert!(first.len().abs_diff(second.len()) <= 1);
}

#[test]
fn bad_input_exits_2_naming_what_to_fix() {
    let out = check(&["--shard", "3/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected I/N"), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\n  \"format\": \"dispatch-vcr/scenario@1\",\n  \"name\": \n}").unwrap();
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("broken.json:4:1: not valid JSON"), "{}", stderr(&out));
    let out = check(&["--catalog", dir.path().join("nope.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read catalog"), "{}", stderr(&out));
    let out = check(&[dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such scenario file or folder"), "{}", stderr(&out));
}

/// A key sent as `Authorization: Bearer KEY`, recorded through `record --stub`
/// with no `--profiles` (so `meta.credentials` knows its kind, not its profile).
async fn record_bearer_without_profiles(dir: &Path, key: &str) -> PathBuf {
    let out = dir.join("recorded.json");
    let script = format!(
        "curl -sS --proxy \"$HTTPS_PROXY\" --cacert \"$NODE_EXTRA_CA_CERTS\" https://api.openai.com/v1/responses \
         -H 'authorization: Bearer {key}' -H 'content-type: application/json' \
         -d '{{\"model\":\"gpt-5.5\",\"input\":\"hi\"}}' >/dev/null"
    );
    let bin = crate::support::Bin::new();
    let args = ["record", "--stub", "-o", out.to_str().unwrap(), "--", "sh", "-c", &script];
    let recorded = bin.run(args).await;
    assert_eq!(recorded.status.code(), Some(0), "{}", String::from_utf8_lossy(&recorded.stderr));
    let cassette: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let fingerprint = dispatch_vcr::credential::fingerprint(key);
    assert_eq!(cassette["meta"]["credentials"][&fingerprint], serde_json::json!({"kind": "openai-key"}));
    out
}

/// A scenario beside `cassette` whose inputs give `key` as OPENAI_API_KEY.
fn env_key_scenario(dir: &Path, key: &str, cassette: &Path) -> PathBuf {
    let scenario = serde_json::json!({
        "format": "dispatch-vcr/scenario@1",
        "name": "env-key-recorded-without-profiles",
        "dispatcher": "openclaw",
        "inputs": {
            "config": {"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5"}}}},
            "env": {"OPENAI_API_KEY": key}
        },
        "cassettes": {"2026.9.6": cassette.file_name().unwrap().to_str().unwrap()}
    });
    let path = dir.join("scenario.json");
    std::fs::write(&path, serde_json::to_string_pretty(&scenario).unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_recorded_without_profiles_is_bound_by_the_scenarios_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let key = "sk-proj-rowonefixture0123456789abcdef";
    let recorded = record_bearer_without_profiles(dir.path(), key).await;
    let scenario = env_key_scenario(dir.path(), key, &recorded);
    let out = check(&[scenario.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));

    // Where binding really fails, the message says why: the recording named no profile.
    let other = env_key_scenario(dir.path(), "sk-proj-anotherfixture0123456789abcd", &recorded);
    let out = check(&[other.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("recorded without --profiles"), "{text}");
}

#[test]
fn a_folder_holding_a_scenario_and_its_cassettes_checks_the_scenario_only() {
    // The layout docs/openclaw.md suggests: my-setup.json beside before.json and after.json.
    let dir = tempfile::tempdir().unwrap();
    let source = root().join("scenarios/openclaw/api-key-profile-sends-bearer.json");
    let mut scenario: Value = serde_json::from_str(&std::fs::read_to_string(&source).unwrap()).unwrap();
    let cassettes = scenario["cassettes"].as_object_mut().unwrap();
    for (version, path) in cassettes.iter_mut() {
        let name = format!("{version}.json");
        std::fs::copy(source.parent().unwrap().join(path.as_str().unwrap()), dir.path().join(&name)).unwrap();
        *path = Value::String(name);
    }
    let scenario_path = dir.path().join("my-setup.json");
    std::fs::write(&scenario_path, serde_json::to_string_pretty(&scenario).unwrap()).unwrap();

    let out = check(&["--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Report = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report.scenarios.len(), 1);
    assert_eq!(report.summary.cells, scenario["cassettes"].as_object().unwrap().len());

    // Named explicitly, a cassette is refused with what to pass instead.
    let cassette = dir.path().join("2026.9.6.json");
    let out = check(&[cassette.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.contains("2026.9.6.json"), "{message}");
    assert!(
        message.contains("this is a cassette, not a scenario: pass the scenario that names it"),
        "{message}"
    );
}

#[test]
fn a_shard_names_the_full_runs_first_bad_version_or_none() {
    let full = json_report(&[]);
    let first_bad =
        |name: &str| full.scenarios.iter().find(|s| s.name == name).and_then(|s| s.first_bad_version.clone());
    let whole = json_report(&["--shard", "1/1"]);
    assert!(whole.scenarios.iter().all(|s| s.first_bad_version == first_bad(&s.name)));
    for shard in ["1/2", "2/2", "1/3", "2/3", "3/3"] {
        for scenario in json_report(&["--shard", shard]).scenarios {
            if let Some(version) = &scenario.first_bad_version {
                assert_eq!(
                    Some(version),
                    first_bad(&scenario.name).as_ref(),
                    "{} in shard {shard}",
                    scenario.name
                );
            }
        }
    }
}

/// Copies of every shipped scenario in `dir` (absolute cassette paths), each edited by `edit(name, value)`.
fn catalogue_copy(dir: &Path, edit: impl Fn(&str, &mut Value)) {
    for entry in std::fs::read_dir(root().join("scenarios/openclaw")).unwrap() {
        let name = entry.unwrap().path().file_stem().unwrap().to_str().unwrap().to_owned();
        scenario_copy(dir, &name, |v| edit(&name, v));
    }
}

/// Every cell of `report` with one of `verdicts`, as the heading the text report gives it.
fn headings(report: &Report, verdicts: &[Verdict]) -> Vec<String> {
    let cells = report.scenarios.iter().flat_map(|s| s.cells.iter().map(move |c| (s, c)));
    cells
        .filter(|(_, c)| verdicts.contains(&c.verdict))
        .map(|(s, c)| format!("{} {} @ {}: {}", c.verdict.symbol(), s.name, c.version, c.reason()))
        .collect()
}

#[test]
fn the_shipped_catalogue_fits_one_screen_and_verbose_explains_expected_failures() {
    let out = check(&[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.lines().count() <= 60, "{} lines:\n{text}", text.lines().count());
    assert!(
        !text.lines().any(|l| l.starts_with("⚠ ")),
        "expected failures are explained only with --verbose:\n{text}"
    );
    let report = json_report(&[]);
    for heading in headings(&report, &[Verdict::Fail, Verdict::ReferenceFailure, Verdict::Fixed]) {
        assert!(text.contains(&heading), "missing {heading:?} in\n{text}");
    }
    assert!(text.contains("--verbose"), "the report says how to see the rest:\n{text}");

    let verbose = stdout(&check(&["--verbose"]));
    for heading in headings(&report, &[Verdict::ExpectedFailure]) {
        assert!(verbose.contains(&format!("\n{heading}\n")), "missing {heading:?} in\n{verbose}");
    }
}

#[test]
fn unexpected_fixed_and_reference_failures_are_explained_in_full_by_default() {
    let dir = tempfile::tempdir().unwrap();
    catalogue_copy(dir.path(), |name, v| match name {
        // ✗: the known failures of #83380 are no longer known.
        "codex-runtime-binds-oauth-profile" => {
            v.as_object_mut().unwrap().remove("known_failures");
        }
        // ★: a passing version listed as a known failure.
        "api-key-profile-sends-bearer" => {
            v["known_failures"]["2026.9.6"] = Value::String("a report".into());
        }
        // ‽: a pin the reference contradicts.
        "oauth-profile-beats-manual-key" => {
            v["expect"]["endpoint"] = Value::String("POST https://api.openai.com/v1/chat/completions".into());
        }
        _ => {}
    });
    let path = dir.path().to_str().unwrap();
    let out = check(&[path]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("⚠ ")), "{text}");
    let report = json_report(&[path]);
    let shown = headings(&report, &[Verdict::Fail, Verdict::ReferenceFailure, Verdict::Fixed]);
    assert!(shown.iter().any(|h| h.starts_with('✗')) && shown.iter().any(|h| h.starts_with('★')));
    assert!(shown.iter().any(|h| h.starts_with('‽')), "{shown:?}");
    for heading in &shown {
        assert!(text.contains(&format!("\n{heading}\n")), "missing {heading:?} in\n{text}");
    }
    // In full: every failure of every such cell, with its expected and actual values.
    let cells = report.scenarios.iter().flat_map(|s| &s.cells);
    for cell in cells.filter(|c| c.verdict == Verdict::Fail || c.verdict == Verdict::ReferenceFailure) {
        for failure in cell.failures().chain(&cell.reference) {
            for line in [&failure.message, &failure.expected, &failure.actual] {
                assert!(text.contains(line.as_str()), "missing {line:?} in\n{text}");
            }
        }
    }
    // The matrix comes last, after the explanations, with the counts under it.
    let matrix = text.rfind("\nversion ").unwrap();
    assert!(text.rfind("\n✗ ").unwrap() < matrix, "{text}");
    let counts = text.lines().rev().take(2).find(|l| l.starts_with("✓ ")).unwrap_or_else(|| panic!("{text}"));
    assert!(counts.contains("✗ 9 fail   ★ 1 fixed   ‽ 14 reference failure"), "{counts}");
}

/// A scenario of a dispatcher without a reference model, pinning the endpoint
/// and a header, over a cassette of one chat completion.
fn unmodelled(dir: &Path, expect: serde_json::Value) -> PathBuf {
    let cassette = serde_json::json!({"format": "dispatch-vcr/cassette@1",
        "meta": {"dispatcher": {"name": "acme-gateway", "version": "1.4.0"}},
        "interactions": [{"seq": 1, "conn": 1, "t_ms": 0, "duration_ms": 5, "request": {
            "method": "POST", "url": "https://llm.internal.example/v1/chat/completions", "http_version": "HTTP/1.1",
            "headers": [["authorization", "Bearer [REDACTED sha256:0123456789ab]"], ["x-tenant", "acme"]],
            "body": {"json": {"model": "qwen3"}}},
            "response": {"status": 200, "headers": [], "body": {"json": {"id": "x"}}}}]});
    std::fs::write(dir.join("gw.json"), cassette.to_string()).unwrap();
    let scenario = serde_json::json!({"format": "dispatch-vcr/scenario@1", "name": "acme", "dispatcher": "acme-gateway",
        "inputs": {}, "expect": expect, "cassettes": {"1.4.0": "gw.json"}});
    let path = dir.join("acme.scenario.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    path
}

#[test]
fn an_unmodelled_dispatcher_shows_what_was_not_judged_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let expect = serde_json::json!({"endpoint": "POST https://llm.internal.example/v1/chat/completions",
        "headers": {"X-Tenant": "acme"}});
    let path = unmodelled(dir.path(), expect);
    let path = path.to_str().unwrap();
    let out = check(&[path]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("1.4.0    ◐"), "{text}");
    assert!(
        text.contains("◐ not judged: bearer, profile, credential-scope, model — dispatcher \"acme-gateway\""),
        "{text}"
    );

    let report = json_report(&[path]);
    assert_eq!(report.summary.partly_judged, 1);
    let cell = &report.scenarios[0].cells[0];
    assert_eq!(cell.verdict, Verdict::Pass);
    let status = |name: &str| cell.invariants.iter().find(|i| i.invariant.name() == name).unwrap().status;
    for (name, want) in [
        ("endpoint", Status::Pass),
        ("headers", Status::Pass),
        ("tls", Status::Pass),
        ("bearer", Status::NotJudged),
        ("credential-scope", Status::NotJudged),
    ] {
        assert_eq!(status(name), want, "{name}");
    }

    let junit = stdout(&check(&["--format", "junit", path]));
    assert!(junit.contains("not judged: dispatcher"), "{junit}");
    let html = stdout(&check(&["--format", "html", path]));
    assert!(html.contains("pass, partly judged") && html.contains("not judged: bearer, profile"), "{html}");
}

#[test]
fn an_unmodelled_dispatcher_that_pins_nothing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = unmodelled(dir.path(), serde_json::json!({}));
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("acme.scenario.json: expect: dispatcher \"acme-gateway\" has no reference model"),
        "{err}"
    );
    assert!(err.contains("pin what the dispatcher must send"), "{err}");
}
