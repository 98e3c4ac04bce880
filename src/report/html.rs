//! The HTML report (`check --format html`): one self-contained page, with
//! inline CSS and a few lines of inline script, no external assets and no
//! network, so it can be kept as a CI artifact and opened anywhere.
//!
//! The version × scenario matrix shows each cell's symbol *and* words, so it
//! reads without colour. Each cell that is not a plain pass links to an
//! expandable `<details>` below the matrix with its expected/actual values,
//! the diff of the request heads and, for a live run, the dispatcher's log; the cell a bisect would blame is
//! marked "first bad". Every text from the report is escaped.

use std::fmt::Write as _;

use super::junit::escape;
use super::{CellOutcome, DiffLine, Failure, Report, ScenarioOutcome, Verdict, by_diff};

/// The page's style: colour backs up the symbols, never replaces them.
const STYLE: &str = r##"
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --expected: #9a6700; --expected-bg: #fff8c5; --fixed: #0969da; --fixed-bg: #ddf4ff;
  --reference: #8250df; --reference-bg: #fbefff; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
h4 { font-size: 14px; margin: 12px 0 4px; }
code, pre, .version { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.meta { color: var(--muted); margin: 0 0 12px; }
.summary { display: flex; flex-wrap: wrap; gap: 8px; list-style: none; padding: 0; margin: 0; }
.summary li { padding: 3px 10px; border-radius: 12px; border: 1px solid var(--line); }
table.matrix { border-collapse: collapse; }
.matrix th, .matrix td { border: 1px solid var(--line); padding: 4px 6px; }
.matrix thead th { background: var(--panel); font-weight: 600; font-size: 12px; white-space: nowrap; vertical-align: bottom; }
.matrix th[scope=row] { text-align: left; font-weight: 600; max-width: 330px; }
.matrix th[scope=row] .n { color: var(--muted); font-weight: 400; margin-right: 4px; }
.matrix th[scope=row] .source { display: block; color: var(--muted); font-weight: 400; font-size: 12px; }
.cell { text-align: center; min-width: 78px; font-size: 12px; line-height: 1.2; }
.cell a { color: inherit; text-decoration: none; display: block; }
.cell a:hover .label, .cell a:focus .label { text-decoration: underline; }
.cell .sym, .summary .sym, summary .sym, .legend .sym { font-size: 16px; font-weight: 700; }
.cell .label { display: block; }
.cell .badge { display: block; margin-top: 2px; font-weight: 700; text-transform: uppercase; font-size: 10px; letter-spacing: .04em; }
.cell.first-bad { outline: 3px solid var(--fail); outline-offset: -3px; }
.first-bad-version { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; }
.none { color: var(--muted); }
.v-pass { color: var(--pass); background: var(--pass-bg); }
.v-fail { color: var(--fail); background: var(--fail-bg); }
.v-expected_failure { color: var(--expected); background: var(--expected-bg); }
.v-fixed { color: var(--fixed); background: var(--fixed-bg); }
.v-reference_failure { color: var(--reference); background: var(--reference-bg); }
.legend { color: var(--muted); margin-top: 10px; display: flex; flex-wrap: wrap; gap: 14px; }
.tools button { font: inherit; padding: 2px 10px; margin-right: 6px; }
details { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; background: var(--bg); }
details > summary { cursor: pointer; padding: 6px 10px; border-radius: 6px; }
details[open] > summary { border-bottom: 1px solid var(--line); border-radius: 6px 6px 0 0; }
details .body { padding: 6px 14px 12px; }
details .failure { margin: 8px 0; }
details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0 4px 18px; }
details dt { color: var(--muted); }
details dd { margin: 0; }
pre.diff { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow-x: auto; margin: 6px 0; }
pre.diff span { display: block; }
pre.diff .del { color: var(--fail); background: var(--fail-bg); }
pre.diff .add { color: var(--pass); background: var(--pass-bg); }
pre.diff .hunk { color: var(--fixed); }
"##;

/// Opens the `<details>` a matrix cell links to, and the expand/collapse buttons.
const SCRIPT: &str = r##"
(function () {
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") { target.open = true; target.scrollIntoView(); }
  }
  function setAll(open) {
    document.querySelectorAll("#details details").forEach(function (d) { d.open = open; });
  }
  window.addEventListener("hashchange", openTarget);
  document.getElementById("expand-all").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setAll(false); });
  openTarget();
})();
"##;

/// Render the whole page.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let title =
        format!("dispatch-vcr check: {} scenarios, {} cells", report.scenarios.len(), report.summary.cells);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    header(&mut out, report);
    matrix(&mut out, report);
    details(&mut out, report);
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// The CSS class of a verdict: `v-expected_failure`.
fn class(verdict: Verdict) -> String {
    format!("v-{}", verdict_key(verdict))
}

/// The verdict as the JSON report spells it (`expected_failure`).
fn verdict_key(verdict: Verdict) -> String {
    serde_json::to_value(verdict).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The `id` of a cell's `<details>`: stable, and safe in a URL fragment.
fn cell_id(scenario: usize, cell: usize) -> String {
    format!("cell-{}-{}", scenario + 1, cell + 1)
}

fn symbol(verdict: Verdict) -> String {
    sym(verdict.symbol())
}

fn sym(symbol: &str) -> String {
    format!("<span class=\"sym\" aria-hidden=\"true\">{symbol}</span>")
}

fn header(out: &mut String, report: &Report) {
    let shard = report.shard.map(|s| format!(" · shard {}/{}", s.index, s.count)).unwrap_or_default();
    let _ = writeln!(
        out,
        "<header>\n<h1>dispatch-vcr check</h1>\n<p class=\"meta\">{} · {} scenarios · {} cells{}</p>",
        escape(&report.tool),
        report.scenarios.len(),
        report.summary.cells,
        escape(&shard)
    );
    out.push_str("<ul class=\"summary\">\n");
    for verdict in Verdict::ALL {
        let _ = writeln!(
            out,
            "<li class=\"{}\" data-verdict=\"{}\">{} {} {}</li>",
            class(verdict),
            verdict_key(verdict),
            symbol(verdict),
            report.summary.count(verdict),
            verdict.words()
        );
    }
    out.push_str("</ul>\n</header>\n");
}

fn matrix(out: &mut String, report: &Report) {
    let versions = report.versions();
    out.push_str(
        "<main>\n<section id=\"matrix\">\n<h2>Scenario × dispatcher version</h2>\n<table class=\"matrix\">\n",
    );
    out.push_str("<thead><tr><th scope=\"col\">scenario</th>");
    for version in &versions {
        let _ = write!(out, "<th scope=\"col\" class=\"version\">{}</th>", escape(version));
    }
    out.push_str("<th scope=\"col\">first bad version</th></tr></thead>\n<tbody>\n");
    for (n, scenario) in report.scenarios.iter().enumerate() {
        row(out, n, scenario, &versions);
    }
    out.push_str("</tbody>\n</table>\n<p class=\"legend\">");
    for verdict in Verdict::ALL {
        let _ =
            write!(out, "<span class=\"{}\">{} {}</span>", class(verdict), symbol(verdict), verdict.words());
    }
    if report.summary.partly_judged > 0 {
        let _ = write!(
            out,
            "<span class=\"v-pass\">{} pass, partly judged (only what the scenario pins)</span>",
            sym(super::PARTLY_JUDGED)
        );
    }
    out.push_str(
        "<span class=\"none\">· no cassette</span><span>outlined: first bad version</span></p>\n</section>\n",
    );
}

fn row(out: &mut String, n: usize, scenario: &ScenarioOutcome, versions: &[&str]) {
    let source = scenario.source.as_deref().map(|s| format!("<span class=\"source\">{}</span>", escape(s)));
    let about = scenario.about.as_deref().map(|a| format!(" title=\"{}\"", escape(a))).unwrap_or_default();
    let _ = write!(
        out,
        "<tr data-scenario=\"{}\"><th scope=\"row\"{about}><span class=\"n\">{}</span>{}{}</th>",
        escape(&scenario.name),
        n + 1,
        escape(&scenario.name),
        source.unwrap_or_default()
    );
    for version in versions {
        match scenario.cells.iter().position(|c| c.version == *version) {
            Some(m) => cell(out, scenario, n, m),
            None => {
                let _ = write!(
                    out,
                    "<td class=\"cell none\" data-version=\"{}\" title=\"no cassette\">·</td>",
                    escape(version)
                );
            }
        }
    }
    let first_bad = scenario.first_bad_version.as_deref().map(escape).unwrap_or_else(|| "—".into());
    let _ = writeln!(out, "<td class=\"first-bad-version\">{first_bad}</td></tr>");
}

fn cell(out: &mut String, scenario: &ScenarioOutcome, n: usize, m: usize) {
    let cell = &scenario.cells[m];
    let first_bad = scenario.first_bad_version.as_deref() == Some(cell.version.as_str());
    let badge = if first_bad { "<span class=\"badge\">first bad</span>" } else { "" };
    let content = format!("{}<span class=\"label\">{}</span>{badge}", sym(cell.symbol()), cell.words());
    let content = match cell.is_explained() {
        false => content,
        true => format!("<a href=\"#{}\">{content}</a>", cell_id(n, m)),
    };
    let _ = write!(
        out,
        "<td class=\"cell {}{}\" data-verdict=\"{}\" data-version=\"{}\" title=\"{} @ {}: {}\">{content}</td>",
        class(cell.verdict),
        if first_bad { " first-bad" } else { "" },
        verdict_key(cell.verdict),
        escape(&cell.version),
        escape(&scenario.name),
        escape(&cell.version),
        escape(&cell.reason())
    );
}

fn details(out: &mut String, report: &Report) {
    out.push_str("<section id=\"details\">\n<h2>Failures, expected failures and changes</h2>\n");
    out.push_str(
        "<p class=\"tools\"><button type=\"button\" id=\"expand-all\">expand all</button>\
         <button type=\"button\" id=\"collapse-all\">collapse all</button></p>\n",
    );
    let mut any = false;
    for (n, scenario) in report.scenarios.iter().enumerate() {
        let bad: Vec<usize> =
            (0..scenario.cells.len()).filter(|m| scenario.cells[*m].is_explained()).collect();
        if bad.is_empty() {
            continue;
        }
        any = true;
        for m in bad {
            cell_details(out, scenario, n, m);
        }
    }
    if !any {
        out.push_str("<p>Every cell passed.</p>\n");
    }
    out.push_str("</section>\n</main>\n");
}

fn cell_details(out: &mut String, scenario: &ScenarioOutcome, n: usize, m: usize) {
    let cell: &CellOutcome = &scenario.cells[m];
    let _ = writeln!(
        out,
        "<details id=\"{}\" class=\"cell-details\" data-verdict=\"{}\" data-scenario=\"{}\" data-version=\"{}\">\n\
         <summary class=\"{}\">{} <strong>{} @ {}</strong>: {}</summary>\n<div class=\"body\">\n\
         <p>cassette <code>{}</code></p>",
        cell_id(n, m),
        verdict_key(cell.verdict),
        escape(&scenario.name),
        escape(&cell.version),
        class(cell.verdict),
        symbol(cell.verdict),
        escape(&scenario.name),
        escape(&cell.version),
        escape(&cell.reason()),
        escape(&cell.cassette)
    );
    if cell.is_partly_judged() {
        let _ = writeln!(
            out,
            "<p class=\"not-judged\">not judged: {} — {}</p>",
            escape(&cell.not_judged().join(", ")),
            escape(cell.not_judged_why().unwrap_or_default())
        );
    }
    if !cell.dispatcher_log.is_empty() {
        out.push_str("<ul class=\"dispatcher-log\">");
        for line in &cell.dispatcher_log {
            let _ = write!(out, "<li>{}</li>", escape(line));
        }
        out.push_str("</ul>\n");
    }
    if let Some(missed) = cell.replay_missed() {
        let _ = write!(out, "<h4>{} (each answered 502)</h4>\n<ul class=\"replay-misses\">", escape(&missed));
        for miss in &cell.replay_misses {
            let _ = write!(out, "<li>{}</li>", escape(miss));
        }
        out.push_str("</ul>\n");
    }
    if !cell.reference.is_empty() {
        out.push_str("<h4>The reference dispatcher disagrees with the scenario's pinned expect (pinned = expected)</h4>\n");
        failures(out, &cell.reference.iter().collect::<Vec<_>>());
    }
    for (seq, group) in cell.failures_by_request() {
        let heading =
            seq.map_or_else(|| "the recording as a whole".to_owned(), |seq| format!("request #{seq}"));
        let _ = writeln!(out, "<h4>{heading}</h4>");
        failures(out, &group);
    }
    out.push_str("</div>\n</details>\n");
}

/// Failures with expected/actual, each diff after the failures that share it.
fn failures(out: &mut String, group: &[&Failure]) {
    for (diff, sharing) in by_diff(group) {
        for f in sharing {
            let _ = writeln!(
                out,
                "<div class=\"failure\" data-invariant=\"{}\">{} <strong>{}</strong>{}\n\
                 <dl><dt>expected</dt><dd><code>{}</code></dd><dt>actual</dt><dd><code>{}</code></dd></dl></div>",
                f.invariant.name(),
                symbol(Verdict::Fail),
                f.invariant.name(),
                escape(&format!(": {}", f.message)),
                escape(&f.expected),
                escape(&f.actual)
            );
        }
        out.push_str("<pre class=\"diff\">");
        for line in diff.lines() {
            let kind = match DiffLine::of(line) {
                DiffLine::Removed => "del",
                DiffLine::Added => "add",
                DiffLine::Hunk => "hunk",
                DiffLine::Context => "ctx",
            };
            let _ = write!(out, "<span class=\"{kind}\">{}</span>", escape(line));
        }
        out.push_str("</pre>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Invariant, InvariantOutcome, Status};

    fn failing_cell(version: &str, verdict: Verdict) -> CellOutcome {
        let failure = Failure {
            invariant: Invariant::Endpoint,
            seq: Some(1),
            message: "went <elsewhere>".into(),
            expected: "POST https://chatgpt.com/backend-api/codex/responses".into(),
            actual: "POST https://api.openai.com/v1/responses".into(),
            diff: "--- expected\n+++ actual\n@@ -1 +1 @@\n-POST https://chatgpt.com/x\n+POST https://api.openai.com/x"
                .into(),
        };
        CellOutcome {
            invariants: vec![InvariantOutcome {
                invariant: Invariant::Endpoint,
                status: if verdict == Verdict::Pass { Status::Pass } else { Status::Fail },
                note: None,
                failures: if verdict == Verdict::Pass { vec![] } else { vec![failure] },
            }],
            ..CellOutcome::new(version, "c.json", verdict)
        }
    }

    fn report(name: &str) -> Report {
        Report::new(
            vec![ScenarioOutcome {
                name: name.into(),
                path: "s.json".into(),
                about: Some("a \"quoted\" <about>".into()),
                source: None,
                first_bad_version: Some("2".into()),
                cells: vec![failing_cell("1", Verdict::Pass), failing_cell("2", Verdict::Fail)],
            }],
            None,
        )
    }

    #[test]
    fn text_from_the_report_is_escaped_everywhere() {
        let html = render(&report("<script>alert(1)</script>"));
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("title=\"a &quot;quoted&quot; &lt;about&gt;\""));
        assert!(html.contains("went &lt;elsewhere&gt;"));
    }

    #[test]
    fn a_failing_cell_links_to_its_details_with_the_diff() {
        let html = render(&report("s"));
        assert!(html.contains("<a href=\"#cell-1-2\">"));
        assert!(html.contains("<details id=\"cell-1-2\""));
        assert!(html.contains("<span class=\"del\">-POST https://chatgpt.com/x</span>"));
        assert!(html.contains("<span class=\"add\">+POST https://api.openai.com/x</span>"));
        assert!(!html.contains("href=\"#cell-1-1\""), "a passing cell has nothing to expand");
    }

    #[test]
    fn first_bad_version_is_marked_in_the_cell_and_the_row() {
        let html = render(&report("s"));
        assert!(html.contains("class=\"cell v-fail first-bad\""));
        assert!(html.contains("<span class=\"badge\">first bad</span>"));
        assert!(html.contains("<td class=\"first-bad-version\">2</td>"));
    }

    #[test]
    fn the_page_loads_nothing_from_anywhere() {
        let html = render(&report("s"));
        for needle in ["src=", "href=\"http", "@import", "url("] {
            assert!(!html.contains(needle), "{needle}");
        }
    }

    #[test]
    fn verdict_keys_match_the_json_report() {
        assert_eq!(verdict_key(Verdict::ExpectedFailure), "expected_failure");
        assert_eq!(class(Verdict::ReferenceFailure), "v-reference_failure");
    }
}
