//! `check`'s progress bar: drawn on a terminal (a real pty made by
//! util-linux's `script`), never in a pipe or under CI, and never changing
//! the report itself.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{BIN, root};

/// `dispatch-vcr check -o REPORT` on a pseudo-terminal; what the terminal showed.
/// `None` (with the reason printed) where `script` is missing.
fn check_on_a_terminal(report: &Path, ci: Option<&str>) -> Option<String> {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: /usr/bin/script (util-linux) is absent, so no pseudo-terminal can be made");
        return None;
    }
    let command = format!("{BIN} check -o {}", report.display());
    let mut script = Command::new("/usr/bin/script");
    script.args(["-qec", &command, "/dev/null"]).current_dir(root()).env("TERM", "xterm").env_remove("CI");
    if let Some(ci) = ci {
        script.env("CI", ci);
    }
    let out = script.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check_in_a_pipe(report: &Path) -> Output {
    Command::new(BIN).args(["check", "-o"]).arg(report).current_dir(root()).env_remove("CI").output().unwrap()
}

#[test]
fn a_terminal_sees_the_bar_and_the_report_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (on_tty, in_pipe) = (dir.path().join("tty.txt"), dir.path().join("pipe.txt"));
    let Some(terminal) = check_on_a_terminal(&on_tty, None) else { return };
    let cells = check_in_a_pipe(&in_pipe);
    assert!(cells.status.success());
    let total = std::fs::read_to_string(&in_pipe)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .split(", ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert!(terminal.contains(&format!("/{total} cells")), "no progress bar on the terminal: {terminal:?}");
    assert!(terminal.contains("\x1b[2K"), "the bar clears its line when done");
    assert_eq!(std::fs::read(&on_tty).unwrap(), std::fs::read(&in_pipe).unwrap());
}

#[test]
fn a_pipe_sees_nothing_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_in_a_pipe(&dir.path().join("r.txt"));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn ci_sees_nothing_even_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let Some(terminal) = check_on_a_terminal(&dir.path().join("r.txt"), Some("true")) else { return };
    assert!(!terminal.contains("cells"), "a bar was drawn under CI: {terminal:?}");
}
