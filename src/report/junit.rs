//! JUnit XML: one `<testsuite>` per scenario, one `<testcase>` per version ×
//! invariant, plus a `reference` testcase per version.
//!
//! Expected failures are `<skipped>` with the known-failure note, the way
//! pytest reports `xfail`: dashboards (GitHub Actions reporters, GitLab,
//! Jenkins) then show them apart from both passes and failures, and they do
//! not fail the build. Fixed cells pass, with a `<system-out>` note asking
//! to remove the `known_failures` entry. Invariants with nothing to judge
//! are `<skipped>` with the reason.

use std::fmt::Write as _;

use super::{CellOutcome, Failure, Invariant, InvariantOutcome, Report, ScenarioOutcome, Status, Verdict};

/// Render the report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    let suites: Vec<Suite> = report.scenarios.iter().map(Suite::of).collect();
    let total = |f: &dyn Fn(&Suite) -> usize| suites.iter().map(f).sum::<usize>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"dispatch-vcr check\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
        total(&|s| s.cases.len()),
        total(&|s| s.failures()),
        total(&|s| s.skipped())
    );
    for suite in &suites {
        suite.write(&mut out);
    }
    out.push_str("</testsuites>\n");
    out
}

/// One testcase's result.
enum CaseResult {
    Pass(Option<String>),
    Fail { message: String, body: String },
    Skipped(String),
}

struct Case {
    name: String,
    result: CaseResult,
}

struct Suite<'a> {
    scenario: &'a ScenarioOutcome,
    cases: Vec<Case>,
}

impl<'a> Suite<'a> {
    fn of(scenario: &'a ScenarioOutcome) -> Self {
        let cases = scenario.cells.iter().flat_map(cases_of).collect();
        Self { scenario, cases }
    }

    fn failures(&self) -> usize {
        self.cases.iter().filter(|c| matches!(c.result, CaseResult::Fail { .. })).count()
    }

    fn skipped(&self) -> usize {
        self.cases.iter().filter(|c| matches!(c.result, CaseResult::Skipped(_))).count()
    }

    fn write(&self, out: &mut String) {
        let name = escape(&self.scenario.name);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" file=\"{}\">",
            self.cases.len(),
            self.failures(),
            self.skipped(),
            escape(&self.scenario.path)
        );
        for case in &self.cases {
            let open = format!(
                "    <testcase classname=\"{name}\" name=\"{}\" file=\"{}\"",
                escape(&case.name),
                escape(&self.scenario.path)
            );
            match &case.result {
                CaseResult::Pass(None) => {
                    let _ = writeln!(out, "{open}/>");
                }
                CaseResult::Pass(Some(note)) => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <system-out>{}</system-out>\n    </testcase>",
                        escape(note)
                    );
                }
                CaseResult::Fail { message, body } => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <failure message=\"{}\" type=\"invariant\">{}</failure>\n    </testcase>",
                        escape(message),
                        escape(body)
                    );
                }
                CaseResult::Skipped(message) => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(message)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
}

fn cases_of(cell: &CellOutcome) -> Vec<Case> {
    let reference = Case {
        name: format!("{} · reference", cell.version),
        result: if cell.reference.is_empty() {
            CaseResult::Pass(None)
        } else {
            CaseResult::Fail {
                message: "the reference dispatcher disagrees with the scenario's pinned expect".to_owned(),
                body: bodies(&cell.reference),
            }
        },
    };
    let mut cases = vec![reference];
    cases.extend(cell.invariants.iter().map(|i| Case {
        name: format!("{} · {}", cell.version, i.invariant),
        result: invariant_result(cell, i),
    }));
    cases
}

fn invariant_result(cell: &CellOutcome, outcome: &InvariantOutcome) -> CaseResult {
    match outcome.status {
        Status::Skip => CaseResult::Skipped(format!(
            "not applicable: {}",
            outcome.note.as_deref().unwrap_or("nothing to judge")
        )),
        Status::Fail if cell.verdict == Verdict::ExpectedFailure => {
            let known = cell.known_failure.as_deref().unwrap_or("known failure");
            let first = outcome.failures.first().map(|f| f.message.as_str()).unwrap_or_default();
            CaseResult::Skipped(format!("expected failure ({known}): {}: {first}", outcome.invariant))
        }
        Status::Fail => CaseResult::Fail {
            message: summary(outcome.invariant, &outcome.failures),
            body: bodies(&outcome.failures),
        },
        Status::Pass if cell.verdict == Verdict::Fixed => CaseResult::Pass(Some(format!(
            "fixed: {} is listed in known_failures ({}) but every invariant holds; remove the entry",
            cell.version,
            cell.known_failure.as_deref().unwrap_or_default()
        ))),
        Status::Pass => CaseResult::Pass(None),
    }
}

fn summary(invariant: Invariant, failures: &[Failure]) -> String {
    let first = failures.first().map(|f| f.message.as_str()).unwrap_or_default();
    match failures.len() {
        0 | 1 => format!("{invariant}: {first}"),
        n => format!("{invariant}: {first} (and {} more)", n - 1),
    }
}

fn bodies(failures: &[Failure]) -> String {
    failures
        .iter()
        .map(|f| {
            let at = f.seq.map(|s| format!("request #{s}: ")).unwrap_or_default();
            format!("{at}{}\nexpected: {}\nactual:   {}\n{}", f.message, f.expected, f.actual, f.diff)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Escape for XML text and attribute values; characters XML 1.0 cannot
/// carry at all (most C0 controls) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
        assert_eq!(escape("x\u{1b}[0m"), "x\u{FFFD}[0m");
        assert_eq!(escape("l1\nl2"), "l1&#10;l2");
    }
}
