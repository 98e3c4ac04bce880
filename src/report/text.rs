//! The text report. For `check`: every failing, fixed or reference-failing
//! cell explained with the diff of its request heads (expected failures too
//! with `--verbose`), then the version × scenario matrix, the scenarios it
//! numbers and the counts, last, where a terminal leaves them in view. For
//! `run`: its one cell, always explained, with the dispatcher's own log.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use super::{CellOutcome, DiffLine, Failure, Report, ScenarioOutcome, Status, Verdict, by_diff};

/// Whether to colour output going to stdout: only on a terminal, never with
/// `NO_COLOR` set (<https://no-color.org>), never into a file.
pub fn use_color(to_file: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !to_file && !no_color && std::io::stdout().is_terminal()
}

/// ANSI styles, or nothing.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    fn verdict(self, verdict: Verdict) -> String {
        let code = match verdict {
            Verdict::Pass => "32",
            Verdict::Fail | Verdict::ReferenceFailure => "1;31",
            Verdict::ExpectedFailure => "33",
            Verdict::Fixed => "36",
        };
        self.wrap(code, verdict.symbol())
    }

    /// A matrix cell: its verdict's colour, with its own symbol (◐ for a partly judged pass).
    fn cell(self, cell: &CellOutcome) -> String {
        let symbol = self.verdict(cell.verdict);
        symbol.replace(cell.verdict.symbol(), cell.symbol())
    }

    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    fn diff_line(self, line: &str) -> String {
        match DiffLine::of(line) {
            DiffLine::Removed => self.wrap("31", line),
            DiffLine::Added => self.wrap("32", line),
            DiffLine::Hunk => self.wrap("36", line),
            DiffLine::Context => line.to_owned(),
        }
    }
}

/// Whose report the text is, and how much of it to show. JSON, JUnit and
/// HTML always hold everything; only the text is shortened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View {
    /// `check`'s matrix, or one `run`'s cell.
    pub layout: Layout,
    /// Explain expected failures (⚠) too. By default only the cells that need
    /// attention are: failures (✗), reference failures (‽) and fixed ones (★).
    pub verbose: bool,
}

/// The shape of a text report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// `check`: the cells that need attention explained, then the version ×
    /// scenario matrix, the scenarios, and the counts last.
    #[default]
    Check,
    /// `run`: one cell (or each cell), headed `dispatch-vcr run: SCENARIO @
    /// VERSION`, always explained.
    Run,
}

/// Render the whole report as `check` shows it by default.
pub fn render(report: &Report, color: bool) -> String {
    render_view(report, View::default(), color)
}

/// Render the whole report for `view`.
pub fn render_view(report: &Report, view: View, color: bool) -> String {
    let paint = Paint(color);
    match view.layout {
        Layout::Check => render_check(report, view, paint),
        Layout::Run => render_run(report, paint),
    }
}

fn render_check(report: &Report, view: View, paint: Paint) -> String {
    let mut out = String::new();
    let shard = report.shard.map(|sh| format!(" (shard {}/{})", sh.index, sh.count)).unwrap_or_default();
    let _ = writeln!(
        out,
        "dispatch-vcr check: {}, {}{shard}",
        count(report.scenarios.len(), "scenario"),
        count(report.summary.cells, "cell")
    );
    let mut hidden = 0;
    for scenario in &report.scenarios {
        for cell in scenario.cells.iter().filter(|c| c.is_explained()) {
            if view.verbose || needs_attention(cell) {
                explain(&mut out, scenario, cell, paint);
            } else {
                hidden += 1;
            }
        }
    }
    out.push('\n');
    matrix(&mut out, report, paint);
    legend(&mut out, report);
    summary(&mut out, report, paint);
    if hidden > 0 {
        let cells = if hidden == 1 { "cell is" } else { "cells are" };
        let _ =
            writeln!(out, "{hidden} expected-failure {cells} not explained here; --verbose explains them");
    }
    out
}

/// Whether a cell is explained without `--verbose`: anything but a plain
/// pass or an expected failure of a recording.
fn needs_attention(cell: &CellOutcome) -> bool {
    cell.verdict != Verdict::ExpectedFailure
        || !cell.dispatcher_log.is_empty()
        || !cell.replay_misses.is_empty()
}

fn render_run(report: &Report, paint: Paint) -> String {
    let mut out = String::new();
    for scenario in &report.scenarios {
        for cell in &scenario.cells {
            if !out.is_empty() {
                out.push('\n');
            }
            let title = format!("{} @ {}", scenario.name, cell.version);
            let _ = writeln!(out, "dispatch-vcr run: {}", paint.bold(&title));
            let why = match cell.verdict {
                Verdict::Pass if cell.is_partly_judged() => cell.reason(),
                Verdict::Pass => "pass: every invariant holds".to_owned(),
                Verdict::Fail => {
                    let failed: Vec<&str> = cell
                        .invariants
                        .iter()
                        .filter(|i| i.status == Status::Fail)
                        .map(|i| i.invariant.name())
                        .collect();
                    let parts: Vec<String> = (!failed.is_empty())
                        .then(|| failed.join(", "))
                        .into_iter()
                        .chain(cell.replay_missed())
                        .collect();
                    format!("fail ({})", parts.join("; "))
                }
                _ => cell.reason(),
            };
            let _ = writeln!(out, "{} {why}", paint.verdict(cell.verdict));
            let _ = writeln!(out, "  observed: {}", cell.cassette);
            details(&mut out, cell, paint);
        }
    }
    out
}

/// `1 scenario`, `8 scenarios`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// The counts per verdict, which are also the legend of the matrix's symbols.
fn summary(out: &mut String, report: &Report, paint: Paint) {
    let s = &report.summary;
    let mut parts: Vec<String> =
        Verdict::ALL.iter().map(|v| format!("{} {} {}", paint.verdict(*v), s.count(*v), v.words())).collect();
    let cells_per_scenario = report.versions().len();
    if s.partly_judged > 0 {
        parts.push(format!("{} {} partly judged", super::PARTLY_JUDGED, s.partly_judged));
    }
    if report.scenarios.iter().any(|sc| sc.cells.len() < cells_per_scenario) {
        parts.push(format!("{} no cassette", paint.dim("·")));
    }
    let _ = writeln!(out, "{}", parts.join("   "));
}

fn matrix(out: &mut String, report: &Report, paint: Paint) {
    let versions = report.versions();
    let width = versions.iter().map(|v| v.chars().count()).max().unwrap_or(0).max("version".len());
    let columns: String = (1..=report.scenarios.len()).map(|n| format!("{n:>3}")).collect();
    let _ = writeln!(out, "{}{columns}", paint.bold(&format!("{:<width$}", "version")));
    for version in versions {
        let cells: String = report
            .scenarios
            .iter()
            .map(|s| match s.cells.iter().find(|c| c.version == version) {
                Some(cell) => format!("  {}", paint.cell(cell)),
                None => format!("  {}", paint.dim("·")),
            })
            .collect();
        let _ = writeln!(out, "{version:<width$}{cells}");
    }
    out.push('\n');
}

/// The scenarios the matrix's columns number, with their first bad versions.
fn legend(out: &mut String, report: &Report) {
    let width = report.scenarios.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    for (n, scenario) in report.scenarios.iter().enumerate() {
        let source = scenario.source.as_deref().map(|s| format!("  {s}")).unwrap_or_default();
        let _ = writeln!(out, "{:>3}  {:<width$}{source}", n + 1, scenario.name);
        if let Some(version) = &scenario.first_bad_version {
            let _ = writeln!(out, "{:>5}first bad version: {version}", "");
        }
    }
    out.push('\n');
}

/// One cell of `check`: its heading, its cassette, then [`details`].
fn explain(out: &mut String, scenario: &ScenarioOutcome, cell: &CellOutcome, paint: Paint) {
    let why = cell.reason();
    let title = format!("{} @ {}", scenario.name, cell.version);
    let _ = writeln!(out, "\n{} {}: {why}", paint.verdict(cell.verdict), paint.bold(&title));
    let _ = writeln!(out, "  cassette {}", cell.cassette);
    details(out, cell, paint);
}

/// What the dispatcher logged, replay misses, the reference's disagreement,
/// and every failure by request.
fn details(out: &mut String, cell: &CellOutcome, paint: Paint) {
    if cell.is_partly_judged() {
        let why = cell.not_judged_why().unwrap_or_default();
        let _ =
            writeln!(out, "  {} not judged: {} — {why}", super::PARTLY_JUDGED, cell.not_judged().join(", "));
    }
    for line in &cell.dispatcher_log {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(missed) = cell.replay_missed() {
        let _ = writeln!(out, "  {missed} (each answered 502; --stub answers any request):");
        for miss in &cell.replay_misses {
            let _ = writeln!(out, "    {} replay miss: {miss}", paint.verdict(Verdict::Fail));
        }
    }
    if !cell.reference.is_empty() {
        let _ = writeln!(
            out,
            "  the reference dispatcher disagrees with the scenario's pinned expect (pinned = expected):"
        );
        failures(out, &cell.reference.iter().collect::<Vec<_>>(), paint);
    }
    for (seq, group) in cell.failures_by_request() {
        match seq {
            Some(seq) => {
                let _ = writeln!(out, "  request #{seq}");
            }
            None => {
                let _ = writeln!(out, "  the recording as a whole");
            }
        }
        failures(out, &group, paint);
    }
}

/// Failures, each with expected/actual; a diff after the failures that share it.
fn failures(out: &mut String, group: &[&Failure], paint: Paint) {
    for (diff, sharing) in by_diff(group) {
        for f in sharing {
            let _ = writeln!(
                out,
                "    {} {}: {}",
                paint.verdict(Verdict::Fail),
                paint.bold(f.invariant.name()),
                f.message
            );
            let _ = writeln!(out, "        expected: {}", f.expected);
            let _ = writeln!(out, "        actual:   {}", f.actual);
        }
        for line in diff.lines() {
            let _ = writeln!(out, "      {}", paint.diff_line(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_off_is_plain() {
        assert_eq!(Paint(false).verdict(Verdict::Fail), "✗");
        assert_eq!(Paint(true).verdict(Verdict::Pass), "\x1b[32m✓\x1b[0m");
        assert_eq!(Paint(true).diff_line("--- expected"), "--- expected");
    }
}
