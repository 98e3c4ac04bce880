//! The CI recipes of `docs/ci.md` work: their YAML parses, and their
//! `check --shard` commands, run as the CI would run them (each shard of the
//! GitHub matrix, each copy of the GitLab `parallel` job), write JUnit files
//! that together hold exactly the test cases of one unsharded run. The
//! release × scenario matrix runs its script shard by shard with a stand-in
//! npm and OpenClaw: every cell once, each with its JUnit file and cassette.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::{BIN, Behaviour, FakeNpm, root, view_of};

const SHARDS: usize = 4;

fn doc() -> String {
    std::fs::read_to_string(root().join("docs/ci.md")).unwrap()
}

/// The ```yaml blocks of the doc.
fn yaml_blocks(doc: &str) -> Vec<&str> {
    doc.split("```yaml\n").skip(1).map(|rest| &rest[..rest.find("```").unwrap()]).collect()
}

/// The one line of `block` that runs `dispatch-vcr check … --shard`, as the shell sees it.
fn shard_command(block: &str) -> String {
    let lines: Vec<&str> =
        block.lines().filter(|l| l.contains("dispatch-vcr check") && l.contains("--shard")).collect();
    assert_eq!(lines.len(), 1, "one sharded check per recipe: {lines:?}");
    let line = lines[0].trim();
    line.strip_prefix("run: ").or_else(|| line.strip_prefix("- ")).unwrap().to_owned()
}

/// A CI checkout: the repository's scenarios and cassettes, and the built binary where the recipe expects it.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["scenarios", "cassettes"] {
        std::os::unix::fs::symlink(root().join(name), dir.path().join(name)).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("target/release")).unwrap();
    std::os::unix::fs::symlink(BIN, dir.path().join("target/release/dispatch-vcr")).unwrap();
    dir
}

/// Run `command` in `dir` with `sh`, as a CI step does; it must succeed.
fn step(dir: &Path, command: &str, env: &[(&str, String)]) {
    let out = sh(dir, command, env);
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
}

fn sh(dir: &Path, command: &str, env: &[(&str, String)]) -> std::process::Output {
    Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap()
}

/// `classname/name` of every `<testcase>` in the JUnit files of `dir`, with how often each occurs.
fn testcases(dir: &Path, prefix: &str) -> BTreeMap<String, usize> {
    let mut cases = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with(prefix) && name.ends_with(".xml")) {
            continue;
        }
        let xml = std::fs::read_to_string(&path).unwrap();
        for case in xml.split("<testcase").skip(1) {
            let attr = |key: &str| {
                let start = case.find(&format!(" {key}=\"")).unwrap() + key.len() + 3;
                case[start..start + case[start..].find('"').unwrap()].to_owned()
            };
            *cases.entry(format!("{}/{}", attr("classname"), attr("name"))).or_insert(0) += 1;
        }
    }
    cases
}

fn unsharded(dir: &Path) -> BTreeMap<String, usize> {
    step(dir, "target/release/dispatch-vcr check scenarios --format junit -o whole.xml", &[]);
    let whole = testcases(dir, "whole");
    assert!(whole.len() > 20 && whole.values().all(|n| *n == 1));
    whole
}

#[test]
fn the_github_matrix_checks_every_cell_once() {
    let doc = doc();
    let blocks = yaml_blocks(&doc);
    let github = blocks.iter().find(|b| b.contains("matrix:")).unwrap();
    assert!(github.contains("shard: [1, 2, 3, 4]"), "the matrix has {SHARDS} shards");
    let command = shard_command(github);
    let dir = checkout();
    for shard in 1..=SHARDS {
        step(dir.path(), &command.replace("${{ matrix.shard }}", &shard.to_string()), &[]);
    }
    assert_eq!(testcases(dir.path(), "junit-"), unsharded(dir.path()));
}

#[test]
fn the_gitlab_parallel_job_checks_every_cell_once() {
    let doc = doc();
    let blocks = yaml_blocks(&doc);
    let gitlab = blocks.iter().find(|b| b.contains("parallel:")).unwrap();
    assert!(gitlab.contains(&format!("parallel: {SHARDS}")));
    let command = shard_command(gitlab);
    let dir = checkout();
    for index in 1..=SHARDS {
        let env = [("CI_NODE_INDEX", index.to_string()), ("CI_NODE_TOTAL", SHARDS.to_string())];
        step(dir.path(), &command, &env);
    }
    assert_eq!(testcases(dir.path(), "junit-"), unsharded(dir.path()));
}

#[test]
fn every_recipe_is_valid_yaml() {
    let has_yaml =
        Command::new("python3").args(["-c", "import yaml"]).output().is_ok_and(|o| o.status.success());
    if !has_yaml {
        eprintln!("skipped: python3 with PyYAML is not installed, so the YAML is not parsed");
        return;
    }
    let doc = doc();
    for block in yaml_blocks(&doc) {
        let out = Command::new("python3")
            .args(["-c", "import sys, yaml; d = yaml.safe_load(sys.stdin); assert isinstance(d, dict), d"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child.stdin.take().unwrap().write_all(block.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        assert!(out.status.success(), "{}\n{block}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The `run: |` script of the step that lists the releases, dedented.
fn releases_script(block: &str) -> String {
    let lines: Vec<&str> = block.lines().collect();
    let start = lines.iter().position(|l| l.contains("releases list")).unwrap();
    let head = (0..start).rev().find(|&i| lines[i].trim() == "run: |").unwrap();
    let indent = lines[head + 1].len() - lines[head + 1].trim_start().len();
    let body = lines[head + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() >= indent);
    body.map(|l| l.get(indent..).unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// A CI checkout with two of the shipped scenarios (their cassettes beside them) and the built binary.
fn two_scenario_checkout(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios/openclaw")).unwrap();
    for name in names {
        let file = format!("scenarios/openclaw/{name}.json");
        std::os::unix::fs::symlink(root().join(&file), dir.path().join(&file)).unwrap();
    }
    std::os::unix::fs::symlink(root().join("cassettes"), dir.path().join("cassettes")).unwrap();
    std::fs::create_dir_all(dir.path().join("target/release")).unwrap();
    std::os::unix::fs::symlink(BIN, dir.path().join("target/release/dispatch-vcr")).unwrap();
    dir
}

#[test]
fn the_release_matrix_runs_every_release_and_scenario_once() {
    let doc = doc();
    let block = yaml_blocks(&doc).into_iter().find(|b| b.contains("releases list")).unwrap();
    assert!(block.contains("shard: [1, 2, 3]"), "the matrix has 3 shards");
    let script = releases_script(block);
    let published =
        ["2026.8.2", "2026.9.1", "2026.9.2", "2026.9.3-beta.1", "2026.9.3", "2026.9.4", "2026.9.5"];
    let published = [&published[..], &["2026.9.6", "2026.9.7"]].concat();
    let npm = FakeNpm::new(
        &view_of(&published),
        &Behaviour { bearer_from: "2026.9.4".into(), ..Default::default() },
    );
    let scenarios = ["api-key-profile-sends-bearer", "oauth-login-beats-older-api-key"];
    let env = [
        ("DISPATCH_VCR_NPM", npm.path().display().to_string()),
        ("OPENCLAW_CACHE", npm.dir().join("cache").display().to_string()),
    ];
    let mut cells = BTreeMap::new();
    for shard in 1..=3 {
        // Each job has a checkout of its own; the cache is shared here, as a CI cache would restore it.
        let job = two_scenario_checkout(&scenarios);
        let out = sh(job.path(), &script.replace("${{ matrix.shard }}", &shard.to_string()), &env);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "shard {shard}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (case, n) in testcases(job.path(), "junit-") {
            *cells.entry(case).or_insert(0) += n;
        }
        for entry in std::fs::read_dir(job.path()).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let Some(cell) = name.strip_prefix("junit-").and_then(|n| n.strip_suffix(".xml")) else {
                continue;
            };
            let (version, scenario) = cell.split_at(cell.find("-").unwrap());
            let cassette = job.path().join(format!("recorded/{version}/{}.json", &scenario[1..]));
            assert!(cassette.is_file(), "{name} has its cassette");
            *cells.entry(format!("file {cell}")).or_insert(0) += 1;
        }
    }
    let expected: Vec<String> = ["2026.9.1", "2026.9.2", "2026.9.3", "2026.9.4", "2026.9.5", "2026.9.6"]
        .iter()
        .flat_map(|v| scenarios.iter().map(move |s| format!("file {v}-{s}")))
        .collect();
    let files: Vec<&String> = cells.keys().filter(|k| k.starts_with("file ")).collect();
    assert_eq!(files, expected.iter().collect::<Vec<_>>(), "every release × scenario, and only those");
    assert!(cells.values().all(|n| *n == 1), "each once: {cells:?}");
}
