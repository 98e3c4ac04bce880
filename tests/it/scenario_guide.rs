//! `docs/scenario.md` runs as written: each `sh` block in order, in one
//! folder, with the built binary first on the `PATH`; a block fenced
//! ```` ```sh exit=N ```` must exit N (else 0), and every line of the `text`
//! block after it must appear in what it printed.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// One runnable block of the guide and what it must show.
#[derive(Debug, Default)]
struct Step {
    script: String,
    exit: i32,
    shows: Vec<String>,
}

/// The guide's `sh` blocks, each with the `text` block that follows it.
fn steps(markdown: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut open: Option<(&str, Vec<&str>)> = None;
    for line in markdown.lines() {
        match open.take() {
            None => {
                if let Some(info) = line.strip_prefix("```sh") {
                    let exit = info.trim().strip_prefix("exit=").map_or(0, |n| n.parse().unwrap());
                    steps.push(Step { exit, ..Step::default() });
                    open = Some(("sh", Vec::new()));
                } else if line.starts_with("```text") {
                    open = Some(("text", Vec::new()));
                }
            }
            Some((kind, lines)) if line.starts_with("```") => {
                let step = steps.last_mut().expect("a text block after an sh block");
                if kind == "sh" {
                    step.script = lines.join("\n");
                } else {
                    step.shows =
                        lines.iter().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect();
                }
            }
            Some((kind, mut lines)) => {
                lines.push(line);
                open = Some((kind, lines));
            }
        }
    }
    steps
}

#[test]
fn the_scenario_guide_runs_as_written() {
    let guide = std::fs::read_to_string(root().join("docs/scenario.md")).unwrap();
    let steps = steps(&guide);
    assert!(steps.len() >= 5, "the guide's sh blocks: {steps:?}");
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    // Each block runs in the folder the previous one ended in, as a reader's shell would.
    let mut cwd = dir.path().to_owned();
    for (n, step) in steps.iter().enumerate() {
        let script = format!("set -euo pipefail\n{}\npwd > \"$GUIDE_PWD\"", step.script);
        let pwd_file = dir.path().join("pwd");
        let output = Command::new("bash")
            .args(["-c", &script])
            .current_dir(&cwd)
            .env("PATH", &path)
            .env("DISPATCH_VCR_HOME", dir.path().join("home"))
            .env("NO_COLOR", "1")
            .env("GUIDE_PWD", &pwd_file)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let printed =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(
            output.status.code(),
            Some(step.exit),
            "block {} of docs/scenario.md:\n{}\n{printed}",
            n + 1,
            step.script
        );
        if step.exit == 0 {
            cwd = std::fs::read_to_string(&pwd_file).unwrap().trim().into();
        }
        let lines: Vec<&str> = printed.lines().map(str::trim).collect();
        for shown in &step.shows {
            assert!(lines.contains(&shown.as_str()), "block {}: no line {shown:?} in:\n{printed}", n + 1);
        }
    }
}

#[test]
fn guide_blocks_are_read_with_their_exit_codes_and_output() {
    let markdown = "x\n```sh\na\nb\n```\n```text\n  one \n\n```\n```sh exit=1\nc\n```\n";
    let steps = steps(markdown);
    assert_eq!(steps.len(), 2);
    assert_eq!(
        (steps[0].script.as_str(), steps[0].exit, steps[0].shows.as_slice()),
        ("a\nb", 0, ["one".to_owned()].as_slice())
    );
    assert_eq!((steps[1].script.as_str(), steps[1].exit), ("c", 1));
}
