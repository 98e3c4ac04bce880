//! JUnit XML, written by quick-junit (nextest's writer): one `<testsuite>` per
//! scenario, one `<testcase>` per version × invariant, plus a `reference`
//! testcase per version.
//!
//! Expected failures are `<skipped>` with the known-failure note, the way
//! pytest reports `xfail`: dashboards (GitHub Actions reporters, GitLab,
//! Jenkins) then show them apart from both passes and failures, and they do
//! not fail the build. Fixed cells pass, with a `<system-out>` note asking
//! to remove the `known_failures` entry. Invariants with nothing to judge
//! are `<skipped>` with the reason, and so are those not judged (a
//! dispatcher without a reference model, the scenario pinning no value),
//! with a message starting `not judged:` — never a pass. A live run whose replay missed requests
//! gets a failed `replay` testcase listing them.

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::{CellOutcome, Failure, Invariant, InvariantOutcome, Report, ScenarioOutcome, Status, Verdict};

/// Render the report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    let mut junit = quick_junit::Report::new("dispatch-vcr check");
    junit.add_test_suites(report.scenarios.iter().map(suite));
    // Written to memory, so it cannot fail. quick-junit drops ANSI escapes and the
    // C0 controls XML cannot carry; U+FFFE and U+FFFF, which it leaves, become U+FFFD.
    junit.to_string().unwrap_or_default().replace(['\u{FFFE}', '\u{FFFF}'], "\u{FFFD}")
}

fn suite(scenario: &ScenarioOutcome) -> TestSuite {
    let mut suite = TestSuite::new(&scenario.name);
    suite.extra.insert("file".into(), scenario.path.as_str().into());
    for cell in &scenario.cells {
        let reference = if cell.reference.is_empty() {
            TestCaseStatus::success()
        } else {
            let message = "the reference dispatcher disagrees with the scenario's pinned expect";
            failure(message.to_owned(), &cell.reference)
        };
        suite.add_test_case(case(scenario, format!("{} · reference", cell.version), reference));
        for outcome in &cell.invariants {
            let mut case =
                case(scenario, format!("{} · {}", cell.version, outcome.invariant), status(cell, outcome));
            if outcome.status == Status::Pass && cell.verdict == Verdict::Fixed {
                case.set_system_out(format!(
                    "fixed: {} is listed in known_failures ({}) but every invariant holds; remove the entry",
                    cell.version,
                    cell.known_failure.as_deref().unwrap_or_default()
                ));
            }
            suite.add_test_case(case);
        }
        if let Some(missed) = cell.replay_missed() {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(missed).set_type("replay").set_description(cell.replay_misses.join("\n"));
            suite.add_test_case(case(scenario, format!("{} · replay", cell.version), status));
        }
    }
    suite
}

fn case(scenario: &ScenarioOutcome, name: String, status: TestCaseStatus) -> TestCase {
    let mut case = TestCase::new(name, status);
    case.set_classname(&scenario.name);
    case.extra.insert("file".into(), scenario.path.as_str().into());
    case
}

fn status(cell: &CellOutcome, outcome: &InvariantOutcome) -> TestCaseStatus {
    match outcome.status {
        Status::Skip => {
            skipped(format!("not applicable: {}", outcome.note.as_deref().unwrap_or("nothing to judge")))
        }
        Status::NotJudged => {
            skipped(format!("not judged: {}", outcome.note.as_deref().unwrap_or("nothing pins it")))
        }
        Status::Fail if cell.verdict == Verdict::ExpectedFailure => {
            let known = cell.known_failure.as_deref().unwrap_or("known failure");
            let first = outcome.failures.first().map(|f| f.message.as_str()).unwrap_or_default();
            skipped(format!("expected failure ({known}): {}: {first}", outcome.invariant))
        }
        Status::Fail => failure(summary(outcome.invariant, &outcome.failures), &outcome.failures),
        Status::Pass => TestCaseStatus::success(),
    }
}

fn skipped(message: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::skipped();
    status.set_message(message);
    status
}

/// A `<failure type="invariant">` with a one-line message and every failure in full as its text.
fn failure(message: String, failures: &[Failure]) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message).set_type("invariant").set_description(bodies(failures));
    status
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
/// carry at all (most C0 controls) become U+FFFD. The HTML report's escaper.
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

    fn outcome(invariant: Invariant, status: Status, messages: &[&str]) -> InvariantOutcome {
        let failure = |(i, message): (usize, &&str)| Failure {
            invariant,
            seq: Some(i as u64 + 1),
            message: (*message).to_owned(),
            expected: "POST https://a/".to_owned(),
            actual: "POST https://b/".to_owned(),
            diff: "-POST https://a/\n+POST https://b/\n".to_owned(),
        };
        let note = (status == Status::Skip).then(|| "no credential was sent".to_owned());
        InvariantOutcome {
            invariant,
            status,
            note,
            failures: messages.iter().enumerate().map(failure).collect(),
        }
    }

    fn cell(
        version: &str,
        verdict: Verdict,
        known: Option<&str>,
        invariants: Vec<InvariantOutcome>,
    ) -> CellOutcome {
        let mut cell = CellOutcome::new(version, "c.json", verdict);
        cell.known_failure = known.map(str::to_owned);
        cell.invariants = invariants;
        cell
    }

    #[test]
    fn one_suite_per_scenario_one_case_per_version_and_invariant() {
        let failed = outcome(Invariant::Endpoint, Status::Fail, &["went <elsewhere>", "again"]);
        let known = outcome(Invariant::Bearer, Status::Fail, &["no credential"]);
        let cells = vec![
            cell("2026.5.16", Verdict::Fail, None, vec![failed, outcome(Invariant::Tls, Status::Skip, &[])]),
            cell("2026.5.16-beta.4", Verdict::ExpectedFailure, Some("#1 \u{FFFF}"), vec![known]),
            cell("2026.5.12", Verdict::Fixed, Some("#2"), vec![outcome(Invariant::Model, Status::Pass, &[])]),
        ];
        let scenario = ScenarioOutcome {
            name: "s<1>".into(),
            path: "s.json".into(),
            about: None,
            source: None,
            first_bad_version: None,
            cells,
        };
        let xml = render(&Report::new(vec![scenario], None));
        let attrs = r#"classname="s&lt;1&gt;" file="s.json""#;
        for expected in [
            r#"<testsuites name="dispatch-vcr check" tests="7" skipped="2" failures="1" errors="0">"#
                .to_owned(),
            r#"<testsuite name="s&lt;1&gt;" tests="7" skipped="2" errors="0" failures="1" file="s.json">"#
                .into(),
            format!(r#"<testcase name="2026.5.16 · reference" {attrs}/>"#),
            format!(r#"<testcase name="2026.5.16 · endpoint" {attrs}>"#),
            concat!(
                r#"<failure message="endpoint: went &lt;elsewhere&gt; (and 1 more)" type="invariant">"#,
                "request #1: went &lt;elsewhere&gt;\nexpected: POST https://a/\nactual:   POST https://b/\n",
                "-POST https://a/\n+POST https://b/\n\nrequest #2: again\n"
            )
            .into(),
            r#"<skipped message="not applicable: no credential was sent"/>"#.into(),
            "<skipped message=\"expected failure (#1 \u{FFFD}): bearer: no credential\"/>".into(),
            format!(r#"<testcase name="2026.5.12 · model" {attrs}>"#),
            "<system-out>fixed: 2026.5.12 is listed in known_failures (#2) but every invariant holds; \
             remove the entry</system-out>"
                .into(),
        ] {
            assert!(xml.contains(&expected), "no {expected:?} in\n{xml}");
        }
        assert_eq!(xml.matches("<testcase ").count(), 7);
    }

    #[test]
    fn a_replay_miss_is_a_failed_testcase_of_its_own() {
        let passed = outcome(Invariant::Endpoint, Status::Pass, &[]);
        let missed = cell("2026.9.6", Verdict::Pass, None, vec![passed])
            .with_replay_misses(vec!["GET https://a/ is not in the cassette".into()]);
        let scenario = ScenarioOutcome {
            name: "s".into(),
            path: "s.json".into(),
            about: None,
            source: None,
            first_bad_version: None,
            cells: vec![missed],
        };
        let xml = render(&Report::new(vec![scenario], None));
        assert!(xml.contains(r#"<testcase name="2026.9.6 · replay" classname="s" file="s.json">"#), "{xml}");
        let failure = r#"<failure message="the replay missed 1 request" type="replay">GET https://a/ is not"#;
        assert!(xml.contains(failure), "{xml}");
    }

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
        assert_eq!(escape("x\u{1b}[0m"), "x\u{FFFD}[0m");
        assert_eq!(escape("l1\nl2"), "l1&#10;l2");
    }
}
