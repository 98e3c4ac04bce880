//! The text report: a version × scenario matrix, then every failing,
//! expected-failing, fixed or reference-failing cell explained with the
//! diff of its request heads (and, for live runs, any cell with lines from
//! the dispatcher's own log).

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use super::{CellOutcome, DiffLine, Failure, Report, ScenarioOutcome, Verdict, by_diff};

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

/// Render the whole report.
pub fn render(report: &Report, color: bool) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    header(&mut out, report, paint);
    matrix(&mut out, report, paint);
    legend(&mut out, report);
    for scenario in &report.scenarios {
        for cell in scenario.cells.iter().filter(|c| c.is_explained()) {
            explain(&mut out, scenario, cell, paint);
        }
    }
    out
}

fn header(out: &mut String, report: &Report, paint: Paint) {
    let s = &report.summary;
    let shard = report.shard.map(|sh| format!(" (shard {}/{})", sh.index, sh.count)).unwrap_or_default();
    let _ =
        writeln!(out, "dispatch-vcr check: {} scenarios, {} cells{shard}", report.scenarios.len(), s.cells);
    let parts: Vec<String> =
        Verdict::ALL.iter().map(|v| format!("{} {} {}", paint.verdict(*v), s.count(*v), v.words())).collect();
    let _ = writeln!(out, "{}\n", parts.join("   "));
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
                Some(cell) => format!("  {}", paint.verdict(cell.verdict)),
                None => format!("  {}", paint.dim("·")),
            })
            .collect();
        let _ = writeln!(out, "{version:<width$}{cells}");
    }
    out.push('\n');
}

fn legend(out: &mut String, report: &Report) {
    let width = report.scenarios.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    for (n, scenario) in report.scenarios.iter().enumerate() {
        let source = scenario.source.as_deref().map(|s| format!("  {s}")).unwrap_or_default();
        let _ = writeln!(out, "{:>3}  {:<width$}{source}", n + 1, scenario.name);
        if let Some(version) = &scenario.first_bad_version {
            let _ = writeln!(out, "{:>5}first bad version: {version}", "");
        }
    }
    let symbols: Vec<String> = Verdict::ALL.iter().map(|v| format!("{} {}", v.symbol(), v.words())).collect();
    let _ = writeln!(out, "\n{}   · no cassette", symbols.join("   "));
}

fn explain(out: &mut String, scenario: &ScenarioOutcome, cell: &CellOutcome, paint: Paint) {
    let why = cell.reason();
    let title = format!("{} @ {}", scenario.name, cell.version);
    let _ = writeln!(out, "\n{} {}: {why}", paint.verdict(cell.verdict), paint.bold(&title));
    let _ = writeln!(out, "  cassette {}", cell.cassette);
    for line in &cell.dispatcher_log {
        let _ = writeln!(out, "  {line}");
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
