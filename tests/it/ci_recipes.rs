//! The CI recipes of `docs/ci.md` work: their YAML parses, and their
//! `check --shard` commands, run as the CI would run them (each shard of the
//! GitHub matrix, each copy of the GitLab `parallel` job), write JUnit files
//! that together hold exactly the test cases of one unsharded run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::{BIN, root};

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

/// Run `command` in `dir` with `sh`, as a CI step does.
fn step(dir: &Path, command: &str, env: &[(&str, String)]) {
    let out = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
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
