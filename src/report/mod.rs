//! The outcome of a check and its renderers: text (a version × scenario
//! matrix with diffs), JSON (this model, documented in `docs/report-json.md`),
//! JUnit XML and a self-contained HTML page.
//!
//! The model is plain data: the scenario runner fills it, renderers only read
//! it, and the JSON form round-trips through these same types.

pub mod html;
pub mod junit;
pub mod text;

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::version::Version;

/// The `format` value of a JSON report.
pub const FORMAT_V1: &str = "dispatch-vcr/report@1";

/// The result of one `check` (or `run`): every scenario × version cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`FORMAT_V1`].
    pub format: String,
    /// `dispatch-vcr <version>` that made the report.
    pub tool: String,
    /// The shard this report covers, when the run was sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// Counts per verdict.
    pub summary: Summary,
    /// One entry per scenario with at least one cell in this run, in path order.
    pub scenarios: Vec<ScenarioOutcome>,
}

impl Report {
    /// Build a report from scenario outcomes, computing the summary.
    pub fn new(scenarios: Vec<ScenarioOutcome>, shard: Option<ShardInfo>) -> Self {
        let summary = Summary::of(scenarios.iter().flat_map(|s| &s.cells));
        Self {
            format: FORMAT_V1.to_owned(),
            tool: format!("dispatch-vcr {}", env!("CARGO_PKG_VERSION")),
            shard,
            summary,
            scenarios,
        }
    }

    /// The process exit code: 1 when any cell failed unexpectedly or the
    /// reference disagreed with a scenario, else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.summary.failed + self.summary.reference_failures > 0)
    }
}

impl Report {
    /// Every version with a cell, in version order (the matrix's versions).
    pub fn versions(&self) -> Vec<&str> {
        let mut versions: Vec<&str> =
            self.scenarios.iter().flat_map(|s| s.cells.iter().map(|c| c.version.as_str())).collect();
        versions.sort_by_cached_key(|v| v.parse::<Version>().ok());
        versions.dedup();
        versions
    }
}

/// Which part of a sharded run a report covers (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// This shard, 1..=count.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

/// Counts of cells per verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// All cells.
    pub cells: usize,
    /// Cells where every invariant held.
    pub passed: usize,
    /// Cells with an unexpected invariant failure.
    pub failed: usize,
    /// Failing cells listed in `known_failures`.
    pub expected_failures: usize,
    /// Cells listed in `known_failures` that now pass.
    pub fixed: usize,
    /// Cells where the reference dispatcher disagrees with the pinned expectation.
    pub reference_failures: usize,
    /// Cells (of any verdict) that left some invariant not judged: their
    /// dispatcher has no reference model, so only what the scenario pins is judged.
    #[serde(default)]
    pub partly_judged: usize,
}

impl Summary {
    /// The number of cells with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Pass => self.passed,
            Verdict::Fail => self.failed,
            Verdict::ExpectedFailure => self.expected_failures,
            Verdict::Fixed => self.fixed,
            Verdict::ReferenceFailure => self.reference_failures,
        }
    }

    fn of<'a>(cells: impl IntoIterator<Item = &'a CellOutcome>) -> Self {
        cells.into_iter().fold(Self::default(), |mut s, cell| {
            s.cells += 1;
            s.partly_judged += usize::from(cell.is_partly_judged());
            match cell.verdict {
                Verdict::Pass => s.passed += 1,
                Verdict::Fail => s.failed += 1,
                Verdict::ExpectedFailure => s.expected_failures += 1,
                Verdict::Fixed => s.fixed += 1,
                Verdict::ReferenceFailure => s.reference_failures += 1,
            }
            s
        })
    }
}

/// One scenario's cells, versions in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioOutcome {
    /// The scenario's `name`.
    pub name: String,
    /// The scenario file.
    pub path: String,
    /// The scenario's `about`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// The scenario's `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The first failing version right after a passing one (the latest such
    /// step, as `git bisect` would find it), when the versions go from pass to fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad_version: Option<String>,
    /// One cell per version, in version order.
    pub cells: Vec<CellOutcome>,
}

/// The verdict of one scenario × version cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every invariant held.
    Pass,
    /// An invariant failed and the version is not a known failure.
    Fail,
    /// An invariant failed at a version listed in `known_failures`.
    ExpectedFailure,
    /// A version listed in `known_failures` passes.
    Fixed,
    /// The reference dispatcher disagrees with the scenario's pinned expectation.
    ReferenceFailure,
}

impl Verdict {
    /// Every verdict, in the order summaries and legends list them.
    pub const ALL: [Verdict; 5] =
        [Verdict::Pass, Verdict::ExpectedFailure, Verdict::Fail, Verdict::Fixed, Verdict::ReferenceFailure];

    /// The matrix symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Verdict::Pass => "✓",
            Verdict::Fail => "✗",
            Verdict::ExpectedFailure => "⚠",
            Verdict::Fixed => "★",
            Verdict::ReferenceFailure => "‽",
        }
    }

    /// Words for the legend and headings.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::ExpectedFailure => "expected failure",
            Verdict::Fixed => "fixed",
            Verdict::ReferenceFailure => "reference failure",
        }
    }

    /// Whether the dispatch was wrong at this version (for "first bad version").
    pub fn is_bad(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::ExpectedFailure)
    }

    /// Whether the dispatch was right at this version.
    pub fn is_good(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::Fixed)
    }
}

/// One scenario × version cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellOutcome {
    /// The dispatcher version.
    pub version: String,
    /// The cassette checked (or the live recording).
    pub cassette: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The `known_failures` entry for this version, when listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_failure: Option<String>,
    /// Where the scenario's pinned `expect` and the reference plan disagree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference: Vec<Failure>,
    /// Every invariant, in [`Invariant::ALL`] order.
    pub invariants: Vec<InvariantOutcome>,
    /// What the dispatcher's own log says it bound, one sentence per decision
    /// (live runs only), e.g. `OpenClaw logged profile=sha256:52c34d3a1a78 (openai-codex:user@example.com): …`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dispatcher_log: Vec<String>,
    /// Requests a live run's replay of the scenario's cassette could not
    /// answer (each answered 502), one explanation each: `GET https://… is not
    /// in the cassette; nearest recorded: #1 …`. Any makes the cell fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replay_misses: Vec<String>,
}

impl CellOutcome {
    /// A cell with `verdict` and nothing else known yet: no invariants, no
    /// reference disagreement, no known failure, no dispatcher log.
    pub fn new(version: impl Into<String>, cassette: impl Into<String>, verdict: Verdict) -> Self {
        Self {
            version: version.into(),
            cassette: cassette.into(),
            verdict,
            known_failure: None,
            reference: Vec::new(),
            invariants: Vec::new(),
            dispatcher_log: Vec::new(),
            replay_misses: Vec::new(),
        }
    }

    /// The cell of a live run whose replay missed `misses`: a failure whatever
    /// the invariants say (a reference failure stays one). The dispatcher got
    /// a 502 where the recording has no answer, so the run did not show what
    /// it sends against the recorded provider, and what it sent next may differ.
    pub fn with_replay_misses(mut self, misses: Vec<String>) -> Self {
        if !misses.is_empty() && self.verdict != Verdict::ReferenceFailure {
            self.verdict = Verdict::Fail;
        }
        self.replay_misses = misses;
        self
    }

    /// All invariant failures of the cell.
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.invariants.iter().flat_map(|i| &i.failures)
    }

    /// Whether reports explain the cell: anything but a plain pass (a pass
    /// with the dispatcher's log of a live run, or one that left invariants
    /// not judged, is explained too).
    pub fn is_explained(&self) -> bool {
        self.verdict != Verdict::Pass
            || !self.dispatcher_log.is_empty()
            || !self.replay_misses.is_empty()
            || self.is_partly_judged()
    }

    /// Whether some invariant was not judged (a dispatcher without a reference model).
    pub fn is_partly_judged(&self) -> bool {
        self.invariants.iter().any(|i| i.status == Status::NotJudged)
    }

    /// The invariants not judged, by name.
    pub fn not_judged(&self) -> Vec<&'static str> {
        self.invariants.iter().filter(|i| i.status == Status::NotJudged).map(|i| i.invariant.name()).collect()
    }

    /// The matrix symbol: the verdict's, but `◐` for a pass that judged only what the scenario pins.
    pub fn symbol(&self) -> &'static str {
        if self.verdict == Verdict::Pass && self.is_partly_judged() {
            PARTLY_JUDGED
        } else {
            self.verdict.symbol()
        }
    }

    /// `the replay missed 2 requests`, when it missed any.
    pub fn replay_missed(&self) -> Option<String> {
        match self.replay_misses.len() {
            0 => None,
            1 => Some("the replay missed 1 request".to_owned()),
            n => Some(format!("the replay missed {n} requests")),
        }
    }

    /// The failures grouped by request, in `seq` order; `None` is the
    /// recording as a whole.
    pub fn failures_by_request(&self) -> Vec<(Option<u64>, Vec<&Failure>)> {
        let seqs: BTreeSet<Option<u64>> = self.failures().map(|f| f.seq).collect();
        seqs.into_iter().map(|seq| (seq, self.failures().filter(|f| f.seq == seq).collect())).collect()
    }

    /// Why the cell has its verdict, in words: `expected failure (openclaw/openclaw#83380)`.
    pub fn reason(&self) -> String {
        match (self.verdict, self.known_failure.as_deref()) {
            (Verdict::ExpectedFailure, Some(known)) => format!("expected failure ({known})"),
            (Verdict::Fixed, Some(known)) => {
                format!(
                    "fixed: listed in known_failures ({known}) but every invariant holds; remove the entry"
                )
            }
            (Verdict::Fail, _) if !self.replay_misses.is_empty() => {
                format!("fail: {}", self.replay_missed().unwrap_or_default())
            }
            (Verdict::Pass, _) if self.is_partly_judged() => format!(
                "pass of what the scenario pins; not judged: {} ({})",
                self.not_judged().join(", "),
                self.not_judged_why().unwrap_or("nothing pins them")
            ),
            (verdict, _) => verdict.words().to_owned(),
        }
    }

    /// Why invariants were not judged (the note of the first one).
    pub fn not_judged_why(&self) -> Option<&str> {
        self.invariants.iter().find(|i| i.status == Status::NotJudged).and_then(|i| i.note.as_deref())
    }

    /// The verdict in words for the matrix: `pass, partly judged` for [`PARTLY_JUDGED`].
    pub fn words(&self) -> &'static str {
        if self.symbol() == PARTLY_JUDGED { "pass, partly judged" } else { self.verdict.words() }
    }
}

/// The matrix symbol of a pass that judged only what the scenario pins.
pub const PARTLY_JUDGED: &str = "◐";

/// `group`'s failures by the diff they share, diffs in order of first appearance.
pub fn by_diff<'a>(group: &[&'a Failure]) -> Vec<(&'a str, Vec<&'a Failure>)> {
    let mut out: Vec<(&str, Vec<&Failure>)> = Vec::new();
    for f in group {
        match out.iter_mut().find(|(diff, _)| *diff == f.diff) {
            Some((_, failures)) => failures.push(f),
            None => out.push((&f.diff, vec![f])),
        }
    }
    out
}

/// What a line of a unified diff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffLine {
    /// `-…`: only in the expected head.
    Removed,
    /// `+…`: only in the actual head.
    Added,
    /// `@@ … @@`.
    Hunk,
    /// Context and the `---`/`+++` file lines.
    Context,
}

impl DiffLine {
    /// Classify one line of a unified diff.
    pub fn of(line: &str) -> Self {
        match line.as_bytes().first() {
            Some(b'-') if !line.starts_with("---") => DiffLine::Removed,
            Some(b'+') if !line.starts_with("+++") => DiffLine::Added,
            Some(b'@') => DiffLine::Hunk,
            _ => DiffLine::Context,
        }
    }
}

/// The invariants (docs/check.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// Method + scheme + host + port + path equal the plan's.
    Endpoint,
    /// A credential is present (or absent) in the planned header, scheme and kind.
    Bearer,
    /// The credential belongs to the planned profile, in the planned store.
    Profile,
    /// The headers that decide whether the provider accepts the call are as
    /// planned: required ones sent (with their value), forbidden ones not,
    /// comma-list elements listed or not.
    Headers,
    /// No credential reaches a host outside its provider's hosts.
    CredentialScope,
    /// No credential over plain HTTP except to loopback.
    Tls,
    /// The body's model equals the planned model.
    Model,
}

impl Invariant {
    /// Every invariant, in report order.
    pub const ALL: [Invariant; 7] = [
        Invariant::Endpoint,
        Invariant::Bearer,
        Invariant::Profile,
        Invariant::Headers,
        Invariant::CredentialScope,
        Invariant::Tls,
        Invariant::Model,
    ];

    /// The name used in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::Endpoint => "endpoint",
            Invariant::Bearer => "bearer",
            Invariant::Profile => "profile",
            Invariant::Headers => "headers",
            Invariant::CredentialScope => "credential-scope",
            Invariant::Tls => "tls",
            Invariant::Model => "model",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How one invariant fared in one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It held for every request it applies to.
    Pass,
    /// It failed for at least one request.
    Fail,
    /// Nothing to judge (e.g. no dispatch observed, no model planned).
    Skip,
    /// Nobody knows what is right: the dispatcher has no reference model and
    /// the scenario pins no value for it. Never a pass.
    NotJudged,
}

/// One invariant's result in one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvariantOutcome {
    /// Which invariant.
    pub invariant: Invariant,
    /// Its status.
    pub status: Status,
    /// Why it was skipped or not judged, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Every failure, one per offending request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
}

/// One broken expectation, with enough to understand it without the cassette.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Which invariant.
    pub invariant: Invariant,
    /// The interaction's `seq` in the cassette, when it is about one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// One sentence saying what went wrong.
    pub message: String,
    /// What should have been (secrets as fingerprints).
    pub expected: String,
    /// What was (secrets as fingerprints).
    pub actual: String,
    /// Unified diff of the expected and actual request heads (`METHOD URL` +
    /// credential and account headers).
    pub diff: String,
}

/// A report's rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For reading: each failure explained with a diff of the request heads; for check, expected failures
    /// only with --verbose, then the version × scenario matrix and the counts.
    Text,
    /// The outcome model as JSON (docs/report-json.md).
    Json,
    /// JUnit XML: one testsuite per scenario, one testcase per version × invariant.
    Junit,
    /// One self-contained HTML page: the matrix, each failing cell expandable to its diff.
    Html,
}

/// Render `report` in `format` (text as `check` shows it by default);
/// `color` puts ANSI colours in the text form.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    render_view(report, format, text::View::default(), color)
}

/// [`render`], with the text form shaped by `view` (the other forms hold everything).
pub fn render_view(report: &Report, format: Format, view: text::View, color: bool) -> String {
    match format {
        Format::Text => text::render_view(report, view, color),
        Format::Json => json(report),
        Format::Junit => junit::render(report),
        Format::Html => html::render(report),
    }
}

/// Render `report` (text shaped by `view`) and write it to `output`
/// (atomically) or stdout, in colour only on a terminal that wants it.
pub fn emit(report: &Report, format: Format, view: text::View, output: Option<&Path>) -> Result<()> {
    let color = text::use_color(output.is_some());
    crate::files::write(output, &render_view(report, format, view, color))
}

/// The report as pretty JSON with a trailing newline.
pub fn json(report: &Report) -> String {
    // A report is plain data (strings, numbers, enums): serialising it cannot fail.
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(version: &str, verdict: Verdict) -> CellOutcome {
        CellOutcome::new(version, "c.json", verdict)
    }

    fn scenario(cells: Vec<CellOutcome>) -> ScenarioOutcome {
        ScenarioOutcome {
            name: "s".into(),
            path: "s.json".into(),
            about: None,
            source: None,
            first_bad_version: None,
            cells,
        }
    }

    #[test]
    fn expected_failures_and_fixed_exit_0() {
        let report = Report::new(
            vec![scenario(vec![cell("1", Verdict::ExpectedFailure), cell("2", Verdict::Fixed)])],
            None,
        );
        assert_eq!(report.exit_code(), 0);
        assert_eq!((report.summary.expected_failures, report.summary.fixed), (1, 1));
    }

    #[test]
    fn failures_and_reference_failures_exit_1() {
        for verdict in [Verdict::Fail, Verdict::ReferenceFailure] {
            let report =
                Report::new(vec![scenario(vec![cell("1", Verdict::Pass), cell("2", verdict)])], None);
            assert_eq!(report.exit_code(), 1, "{verdict:?}");
        }
    }

    fn failure(seq: Option<u64>, diff: &str) -> Failure {
        Failure {
            invariant: Invariant::Endpoint,
            seq,
            message: "m".into(),
            expected: "e".into(),
            actual: "a".into(),
            diff: diff.into(),
        }
    }

    #[test]
    fn versions_are_in_version_order_once() {
        let report = Report::new(
            vec![
                scenario(vec![cell("2026.5.16", Verdict::Pass), cell("2026.5.16-beta.4", Verdict::Pass)]),
                scenario(vec![cell("2026.5.7", Verdict::Pass), cell("2026.5.16", Verdict::Pass)]),
            ],
            None,
        );
        assert_eq!(report.versions(), ["2026.5.7", "2026.5.16-beta.4", "2026.5.16"]);
    }

    #[test]
    fn failures_group_by_request_then_by_shared_diff() {
        let mut c = cell("1", Verdict::Fail);
        c.invariants = vec![InvariantOutcome {
            invariant: Invariant::Endpoint,
            status: Status::Fail,
            note: None,
            failures: vec![
                failure(Some(2), "d1"),
                failure(None, "d0"),
                failure(Some(2), "d1"),
                failure(Some(2), "d2"),
            ],
        }];
        let groups = c.failures_by_request();
        assert_eq!(
            groups.iter().map(|(seq, fs)| (*seq, fs.len())).collect::<Vec<_>>(),
            [(None, 1), (Some(2), 3)]
        );
        let diffs = by_diff(&groups[1].1);
        assert_eq!(diffs.iter().map(|(d, fs)| (*d, fs.len())).collect::<Vec<_>>(), [("d1", 2), ("d2", 1)]);
    }

    #[test]
    fn reasons_name_the_known_failure() {
        let mut c = cell("1", Verdict::ExpectedFailure);
        c.known_failure = Some("openclaw/openclaw#83380".into());
        assert_eq!(c.reason(), "expected failure (openclaw/openclaw#83380)");
        c.verdict = Verdict::Fixed;
        assert!(c.reason().ends_with("remove the entry"));
        assert_eq!(cell("1", Verdict::Fail).reason(), "fail");
    }

    #[test]
    fn a_replay_miss_fails_the_cell_and_says_so() {
        let miss = || vec!["GET https://api.openai.com/v1/models is not in the cassette".to_owned()];
        for verdict in [Verdict::Pass, Verdict::Fixed, Verdict::ExpectedFailure, Verdict::Fail] {
            let c = cell("1", verdict).with_replay_misses(miss());
            assert_eq!(c.verdict, Verdict::Fail, "{verdict:?}");
            assert_eq!(c.reason(), "fail: the replay missed 1 request");
            assert!(c.is_explained());
        }
        let reference = cell("1", Verdict::ReferenceFailure).with_replay_misses(miss());
        assert_eq!(reference.verdict, Verdict::ReferenceFailure);
        assert_eq!(cell("1", Verdict::Pass).with_replay_misses(Vec::new()).verdict, Verdict::Pass);
        let report =
            Report::new(vec![scenario(vec![cell("1", Verdict::Pass).with_replay_misses(miss())])], None);
        assert_eq!(report.exit_code(), 1);
    }

    #[test]
    fn diff_lines_are_classified_like_a_unified_diff() {
        let kinds: Vec<DiffLine> =
            ["--- expected", "+++ actual", "@@ -1 +1 @@", "-a", "+b", " c"].map(DiffLine::of).into();
        use DiffLine::*;
        assert_eq!(kinds, [Context, Context, Hunk, Removed, Added, Context]);
    }

    #[test]
    fn json_round_trips() {
        let report = Report::new(
            vec![scenario(vec![cell("1", Verdict::Pass)])],
            Some(ShardInfo { index: 1, count: 2 }),
        );
        let back: Report = serde_json::from_str(&json(&report)).unwrap();
        assert_eq!(back, report);
    }
}
