//! `dispatch-vcr completions SHELL` and `dispatch-vcr man`: the scripts load
//! in their shells and complete nested commands and values, and the manual
//! page renders with `man -l` without warnings.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::BIN;

fn bin(args: &[&str]) -> Output {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Write `dispatch-vcr ARGS`'s output into `dir/name`.
fn written(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bin(args).stdout).unwrap();
    path
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What bash completes for `words` (the last one being completed), with the script loaded.
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.last().unwrap();
    let previous = words[words.len() - 2];
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _dispatch__vcr dispatch-vcr '{current}' '{previous}'; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = Command::new("bash").args(["-c", &program]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn bash_completion_parses_and_completes_nested_commands_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = written(dir.path(), "dispatch-vcr.bash", &["completions", "bash"]);
    let syntax = Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(syntax.status.success(), "bash -n: {}", String::from_utf8_lossy(&syntax.stderr));

    assert_eq!(bash_completes(&script, &["dispatch-vcr", "ch"]), ["check"]);
    let cassette = bash_completes(&script, &["dispatch-vcr", "cassette", ""]);
    for sub in ["recover", "import", "export"] {
        assert!(cassette.contains(&sub.to_owned()), "{cassette:?}");
    }
    assert_eq!(
        bash_completes(&script, &["dispatch-vcr", "check", "--format", ""]),
        ["text", "json", "junit", "html"]
    );
    assert!(
        bash_completes(&script, &["dispatch-vcr", "cassette", "export", "--"]).contains(&"--har".to_owned())
    );
}

#[test]
fn zsh_and_fish_completions_load_where_those_shells_are() {
    let dir = tempfile::tempdir().unwrap();
    let shells = [
        ("zsh", "-n", ["#compdef dispatch-vcr", "'--har["]),
        ("fish", "--no-execute", ["complete -c dispatch-vcr", "-l har"]),
    ];
    for (shell, check, markers) in shells {
        let script = written(dir.path(), shell, &["completions", shell]);
        let text = std::fs::read_to_string(&script).unwrap();
        assert!(
            markers.iter().all(|m| text.contains(m)) && text.contains("cassette"),
            "{shell}: {markers:?}"
        );
        if !installed(shell) {
            eprintln!("{shell} is not installed: checked the script's content only");
            continue;
        }
        let out = Command::new(shell).arg(check).arg(&script).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn the_man_page_renders_with_man_l_and_covers_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let page = written(dir.path(), "dispatch-vcr.1", &["man"]);
    let roff = std::fs::read_to_string(&page).unwrap();
    assert!(roff.contains("\n.TH dispatch-vcr 1 "), "no .TH title line");
    for section in [
        "NAME",
        "SYNOPSIS",
        "\"DISPATCH-VCR CHECK\"",
        "\"DISPATCH-VCR CASSETTE IMPORT\"",
        "\"DISPATCH-VCR RUN\"",
    ] {
        assert!(roff.contains(&format!(".SH {section}")), "no section {section}");
    }
    if !installed("man") {
        eprintln!("man is not installed (.ci/run installs man-db): checked the roff structure only");
        return;
    }
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    let (text, warnings) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && warnings.trim().is_empty(), "man -l: {warnings}");
    for line in ["DISPATCH-VCR CHECK", "DISPATCH-VCR CASSETTE EXPORT", "--shard", "dispatch-vcr completions"]
    {
        assert!(text.contains(line), "the rendered page lacks {line:?}");
    }
}

/// `dispatch-vcr ARGS` as a user reads it, at a fixed width.
fn help(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).env("COLUMNS", "100").output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Lines with a run of spaces inside the text (not indentation, not the
/// column between an option and its help).
fn stray_spaces(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| {
            let body = line.trim_start();
            !body.starts_with('-') && body.trim_end().contains("   ")
        })
        .collect()
}

#[test]
fn run_help_is_clean_text() {
    let text = help(&["run", "--help"]);
    assert_eq!(stray_spaces(&text), Vec::<&str>::new());
    insta::assert_snapshot!("run_help", text);
}

#[test]
fn the_man_page_has_no_runs_of_spaces() {
    let roff = String::from_utf8(bin(&["man"]).stdout).unwrap();
    // Prose lines only: examples are indented and may align their comments.
    let prose = |line: &&str| !line.starts_with([' ', '.']);
    let stray: Vec<&str> = roff.lines().filter(prose).filter(|line| line.contains("   ")).collect();
    assert_eq!(stray, Vec::<&str>::new());
}

#[test]
fn top_level_help_names_the_six_invariants_and_the_environment() {
    let text = help(&["--help"]);
    for needle in ["six invariants", "endpoint", "bearer", "profile", "credential-scope", "tls", "model"] {
        assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    }
    assert!(!text.contains("three invariants"), "{text}");
    let environment = text.split_once("Environment:\n").map(|(_, rest)| rest).expect("an Environment part");
    for variable in ["DISPATCH_VCR_HOME", "RUST_LOG", "NO_COLOR"] {
        assert!(environment.contains(variable), "no {variable} in the Environment part:\n{text}");
    }
    insta::assert_snapshot!("top_level_help", text);
}

#[test]
fn the_readme_says_how_to_install_and_what_the_environment_does() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    assert!(readme.contains("cargo install --path ."), "no install line");
    let environment =
        readme.split_once("\n### Environment\n").map(|(_, rest)| rest).expect("an Environment section");
    for variable in ["DISPATCH_VCR_HOME", "RUST_LOG", "NO_COLOR"] {
        assert!(environment.contains(variable), "README's Environment section lacks {variable}");
    }
}
