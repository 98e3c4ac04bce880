//! `bisect SCENARIO --good V --bad V`: the first published OpenClaw release
//! whose verdict on a scenario is the newer end's, by binary search.
//!
//! The releases are `[older end, candidates…, newer end]` in version order;
//! [`Search`] knows nothing of OpenClaw: it asks for the side of one index at
//! a time (the older end's, the newer end's, or none: inconclusive) and
//! narrows the change down. Each end is assumed to be what it was named
//! until the answer rests on it, and then it is run too, so the answer never
//! stands on a guess. [`run`] answers each step with a real run: install
//! the release (cached), one OpenClaw turn under the stub (`run --stub
//! --openclaw`), judged.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use crate::cassette::diff_files;
use crate::cmd::releases;
use crate::cmd::run::{self as run_cmd, Judged, OpenClawTurn};
use crate::error::{Error, ErrorKind, Result};
use crate::files;
use crate::openclaw::releases::{Cache, inconclusive_reason};
use crate::proxy::ProxyConfig;
use crate::report::{self, Verdict};
use crate::scenario::load;
use crate::session::child::Signals;
use crate::upstream::stub::StubOptions;
use crate::version::Version;

/// What `bisect` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The scenario.
    pub scenario: PathBuf,
    /// `--good V`.
    pub good: String,
    /// `--bad V`.
    pub bad: String,
    /// `--betas`: pre-releases are candidates too.
    pub betas: bool,
    /// `--codex`: install the Codex runtime plugin with each release, where npm has one.
    pub codex: bool,
    /// `--record-to DIR`: keep each tested release's cassette as `DIR/VERSION.json`.
    pub record_to: Option<PathBuf>,
    /// `--cache DIR`.
    pub cache: Option<PathBuf>,
    /// `--catalog FILE`.
    pub catalog: Option<PathBuf>,
}

/// Which end a tested release sides with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// The older end's verdict.
    Old,
    /// The newer end's verdict.
    New,
    /// Neither could be told, and why.
    Inconclusive(String),
}

/// What the search found, by index into the releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// `before` has the older end's verdict, `after` (the next release) the newer end's.
    Change {
        /// The last release on the old side.
        before: usize,
        /// The first release on the new side.
        after: usize,
    },
    /// The change is after `before` and at or before `after`, but the
    /// releases between them were inconclusive.
    Ambiguous {
        /// The last release known on the old side.
        before: usize,
        /// The first release known on the new side.
        after: usize,
    },
    /// An end did not give the verdict it was named for (or could not be judged).
    End {
        /// The end's index.
        index: usize,
        /// What it gave.
        side: Side,
    },
}

/// The next thing [`Search`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The side of the release at this index.
    Test(usize),
    /// The answer.
    Done(Found),
}

/// Binary search for the change between two ends of `len` releases.
#[derive(Debug, Clone)]
pub struct Search {
    len: usize,
    /// The newest release known (or assumed) on the old side.
    before: usize,
    /// The oldest release known (or assumed) on the new side.
    after: usize,
    /// Whether each end has been run.
    ends_tested: [bool; 2],
    skipped: BTreeSet<usize>,
}

impl Search {
    /// A search over `len` ≥ 2 releases: index 0 the older end, `len - 1` the newer.
    pub fn new(len: usize) -> Self {
        Self {
            len,
            before: 0,
            after: len.saturating_sub(1),
            ends_tested: [false; 2],
            skipped: BTreeSet::new(),
        }
    }

    /// What to test next, or the answer.
    pub fn next(&self) -> Next {
        let untested: Vec<usize> =
            (self.before + 1..self.after).filter(|i| !self.skipped.contains(i)).collect();
        if let Some(middle) = untested.iter().min_by_key(|&&i| (2 * i).abs_diff(self.before + self.after)) {
            return Next::Test(*middle);
        }
        if self.before == 0 && !self.ends_tested[0] {
            return Next::Test(0);
        }
        if self.after == self.len - 1 && !self.ends_tested[1] {
            return Next::Test(self.len - 1);
        }
        let (before, after) = (self.before, self.after);
        Next::Done(if after == before + 1 {
            Found::Change { before, after }
        } else {
            Found::Ambiguous { before, after }
        })
    }

    /// The side of the release at `index`; `Some` when it ends the search
    /// (an end that is not what it was named for).
    pub fn record(&mut self, index: usize, side: Side) -> Option<Found> {
        let end = [0, self.len - 1].iter().position(|&e| e == index);
        if let Some(which) = end {
            self.ends_tested[which] = true;
            let named = if which == 0 { Side::Old } else { Side::New };
            return (side != named).then_some(Found::End { index, side });
        }
        match side {
            Side::Old => self.before = index,
            Side::New => self.after = index,
            Side::Inconclusive(_) => {
                self.skipped.insert(index);
            }
        }
        None
    }
}

/// The most runs a search over `candidates` releases between the ends needs
/// when none is inconclusive: ⌈log2 n⌉ + 2 (2 when there is none).
pub fn run_bound(candidates: usize) -> usize {
    match candidates {
        0 => 2,
        n => n.next_power_of_two().trailing_zeros() as usize + 2,
    }
}

/// Search, asking `test` for each step's side; returns the answer and each
/// step `(index, side)` in the order run.
pub fn search(len: usize, mut test: impl FnMut(usize) -> Side) -> (Found, Vec<(usize, Side)>) {
    let mut search = Search::new(len);
    let mut steps = Vec::new();
    loop {
        match search.next() {
            Next::Done(found) => return (found, steps),
            Next::Test(index) => {
                let side = test(index);
                steps.push((index, side.clone()));
                if let Some(found) = search.record(index, side) {
                    return (found, steps);
                }
            }
        }
    }
}

/// One tested release.
struct Tested {
    judged: Judged,
    cassette: PathBuf,
}

/// Bisect; 0 when the change is found, 1 when it cannot be told.
pub async fn run(options: Options) -> Result<u8> {
    let good = releases::parse_version("--good", &options.good)?;
    let bad = releases::parse_version("--bad", &options.bad)?;
    if good == bad {
        return Err(Error::input(format!("--good and --bad are both {good}: give two releases")));
    }
    load::load(&options.scenario)?;
    if let Some(dir) = &options.record_to {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, &e))?;
    }
    let cache = releases::locate(options.cache.as_deref())?;
    let (older, newer) = if good < bad { (&good, &bad) } else { (&bad, &good) };
    let mut line: Vec<Version> = releases::published()?
        .into_iter()
        .map(|r| r.version)
        .filter(|v| v > older && v < newer && (options.betas || !v.is_prerelease()))
        .collect();
    let candidates = line.len();
    line.insert(0, older.clone());
    line.push(newer.clone());
    let old_is_good = older == &good;
    say_plan(&line, candidates, options.betas);
    let scratch =
        tempfile::tempdir().map_err(|e| Error::runtime(format!("cannot create a temporary folder: {e}")))?;
    let folder = options.record_to.clone().unwrap_or_else(|| scratch.path().to_owned());
    let mut tested: Vec<Option<Tested>> = (0..line.len()).map(|_| None).collect();
    let mut steps = Search::new(line.len());
    // Ctrl-C stops the search after the step under way (its OpenClaw turn
    // gets the signal too); an install npm was doing is left unfinished.
    let mut signals = Signals::install()?;
    let found = loop {
        let index = match steps.next() {
            Next::Done(found) => break found,
            Next::Test(index) => index,
        };
        let started = Instant::now();
        let stepped = step(&options, &cache, &line[index], &folder, old_is_good).await;
        if let Some(signal) = caught(&mut signals).await {
            return Err(Error::interrupted(signal, format!("bisect stopped at {}", line[index])));
        }
        let (side, outcome) = stepped?;
        say_step(&line[index], &side, old_is_good, started.elapsed().as_secs());
        tested[index] = outcome;
        if let Some(found) = steps.record(index, side) {
            break found;
        }
    };
    let runs = tested.iter().filter(|t| t.is_some()).count();
    conclude(&found, &line, &tested, old_is_good)?;
    files::write_stdout(&format!(
        "{runs} run(s) for {candidates} candidate release(s) (at most {} when no step is inconclusive)\n",
        run_bound(candidates)
    ))?;
    Ok(u8::from(!matches!(found, Found::Change { .. })))
}

fn say_plan(line: &[Version], candidates: usize, betas: bool) {
    let kind = if betas { "releases" } else { "stable releases" };
    files::say(format_args!(
        "bisecting {candidates} {kind} between {} and {} (each step installs the release if needed and runs one \
         OpenClaw turn under the stub)",
        line[0],
        line[line.len() - 1]
    ));
}

/// The word for a side: `good`, `bad` or `inconclusive`.
fn word(side: &Side, old_is_good: bool) -> &'static str {
    match (side, old_is_good) {
        (Side::Old, true) | (Side::New, false) => "good",
        (Side::Old, false) | (Side::New, true) => "bad",
        (Side::Inconclusive(_), _) => "inconclusive",
    }
}

fn say_step(version: &Version, side: &Side, old_is_good: bool, seconds: u64) {
    let why = match side {
        Side::Inconclusive(why) => format!("  ({why})"),
        _ => String::new(),
    };
    let _ = files::write_stdout(&format!(
        "{:<20} {:<12} {seconds:>4} s{why}\n",
        version.to_string(),
        word(side, old_is_good)
    ));
}

/// A SIGINT or SIGTERM caught since the last look, without waiting for one.
async fn caught(signals: &mut Signals) -> Option<i32> {
    tokio::select! {
        biased;
        signal = signals.recv() => Some(signal),
        () = std::future::ready(()) => None,
    }
}

/// Install and run `version`, and say which side it is on; an error only
/// when the run was interrupted.
async fn step(
    options: &Options,
    cache: &Cache,
    version: &Version,
    folder: &std::path::Path,
    old_is_good: bool,
) -> Result<(Side, Option<Tested>)> {
    let installed = releases::install(cache, version)
        .and_then(|()| if options.codex { releases::install_codex(cache, version) } else { Ok(()) });
    if let Err(e) = installed {
        return Ok((Side::Inconclusive(format!("install failed: {}", e.message())), None));
    }
    let cassette = folder.join(format!("{version}.json"));
    let run = run_cmd::Options {
        scenario: options.scenario.clone(),
        version: Some(version.to_string()),
        stub: Some(StubOptions::default()),
        record_to: Some(cassette.clone()),
        home: None,
        exclude: Vec::new(),
        proxy: ProxyConfig::default(),
        format: report::Format::Text,
        output: None,
        catalog: options.catalog.clone(),
        command: Vec::new(),
        openclaw: Some(OpenClawTurn { cache: Some(cache.root.clone()) }),
        quiet: true,
    };
    let judged = match run_cmd::judge(run).await {
        Ok(judged) => judged,
        Err(e) if matches!(e.kind(), ErrorKind::Interrupted(_)) => return Err(e),
        Err(e) => return Ok((Side::Inconclusive(format!("the run failed: {}", e.message())), None)),
    };
    let side = side_of(&judged, old_is_good);
    Ok((side, Some(Tested { judged, cassette })))
}

/// The side of a judged run: good when every invariant holds, bad when one
/// fails, inconclusive when the reference disagrees with the scenario or
/// OpenClaw logged a reason that is not the scenario's.
fn side_of(judged: &Judged, old_is_good: bool) -> Side {
    let Some(cell) = judged.report.scenarios.first().and_then(|s| s.cells.first()) else {
        return Side::Inconclusive("no verdict".to_owned());
    };
    let good = match cell.verdict {
        Verdict::Pass | Verdict::Fixed => true,
        Verdict::Fail | Verdict::ExpectedFailure => false,
        Verdict::ReferenceFailure => {
            return Side::Inconclusive(
                "the reference dispatcher disagrees with the scenario's expect".to_owned(),
            );
        }
    };
    if !good && let Some(why) = judged.logs.as_deref().and_then(logged_reason) {
        return Side::Inconclusive(why.to_owned());
    }
    if good == old_is_good { Side::Old } else { Side::New }
}

/// An inconclusive reason in OpenClaw's output of a turn.
fn logged_reason(logs: &std::path::Path) -> Option<&'static str> {
    ["setup.out", "agent.err", "agent.json", "openclaw.log"]
        .iter()
        .filter_map(|name| std::fs::read_to_string(logs.join(name)).ok())
        .find_map(|text| inconclusive_reason(&text))
}

/// Print the answer: the release, its failures, the diff from the one before.
fn conclude(found: &Found, line: &[Version], tested: &[Option<Tested>], old_is_good: bool) -> Result<()> {
    let (new_word, old_word) = if old_is_good { ("bad", "good") } else { ("good", "bad") };
    match found {
        Found::Change { before, after } => {
            files::write_stdout(&format!(
                "\nfirst {new_word} release: {} (last {old_word}: {})\n\n",
                line[*after], line[*before]
            ))?;
            evidence(line, tested, *before, *after)?;
        }
        Found::Ambiguous { before, after } => {
            let between: Vec<String> = line[before + 1..*after].iter().map(Version::to_string).collect();
            files::write_stdout(&format!(
                "\nthe first {new_word} release is after {} and at or before {}: {} could not be judged (see \
                 above)\nfirst {new_word} release that could be judged: {} (last {old_word}: {})\n\n",
                line[*before],
                line[*after],
                between.join(", "),
                line[*after],
                line[*before]
            ))?;
            evidence(line, tested, *before, *after)?;
        }
        Found::End { index, side } => {
            let named = if *index == 0 { old_word } else { new_word };
            files::write_stdout(&format!(
                "\n{} was named {named} but is {}: pick {} end that is {named}\n",
                line[*index],
                word(side, old_is_good),
                if *index == 0 { "an older" } else { "a newer" }
            ))?;
        }
    }
    Ok(())
}

/// The most diff lines shown per aspect of the evidence.
const EVIDENCE_LINES: usize = 24;

/// The run of the release at `after` (its invariants), and what changed on
/// the wire from the one at `before`.
fn evidence(line: &[Version], tested: &[Option<Tested>], before: usize, after: usize) -> Result<()> {
    if let Some(at) = &tested[after] {
        let view = report::text::View { layout: report::text::Layout::Run, ..Default::default() };
        report::emit(&at.judged.report, report::Format::Text, view, None)?;
    }
    if let (Some(y), Some(x)) = (&tested[before], &tested[after]) {
        files::write_stdout(&format!("\nwhat changed on the wire ({} → {}):\n", line[before], line[after]))?;
        files::write_stdout(&diff_files(&y.cassette, &x.cassette)?.brief(EVIDENCE_LINES).to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake line of `len` releases: old side before `change`, new from it, `unknown` inconclusive.
    fn fake(len: usize, change: usize, unknown: &[usize]) -> (Found, Vec<(usize, Side)>) {
        search(len, |i| match i {
            _ if unknown.contains(&i) => Side::Inconclusive("fake".into()),
            _ if i < change => Side::Old,
            _ => Side::New,
        })
    }

    #[test]
    fn every_change_is_found_within_the_bound() {
        for candidates in 0..=70 {
            let len = candidates + 2;
            for change in 1..len {
                let (found, steps) = fake(len, change, &[]);
                assert_eq!(
                    found,
                    Found::Change { before: change - 1, after: change },
                    "n={candidates} at {change}"
                );
                assert!(
                    steps.len() <= run_bound(candidates),
                    "n={candidates} at {change}: {} runs",
                    steps.len()
                );
                let mut tested: Vec<usize> = steps.iter().map(|(i, _)| *i).collect();
                tested.sort_unstable();
                tested.dedup();
                assert_eq!(tested.len(), steps.len(), "no release is run twice");
            }
        }
    }

    #[test]
    fn the_bound_is_ceil_log2_plus_two() {
        assert_eq!([0, 1, 2, 3, 4, 5, 8, 9, 40].map(run_bound), [2, 2, 3, 4, 4, 5, 5, 6, 8]);
    }

    #[test]
    fn the_answer_rests_on_tested_ends_only() {
        // The change right after the older end: that end is run to be sure.
        let (_, steps) = fake(10, 1, &[]);
        assert!(steps.iter().any(|(i, _)| *i == 0), "{steps:?}");
        assert!(!steps.iter().any(|(i, _)| *i == 9), "the newer end is not needed: {steps:?}");
        // Nothing between: both ends are run.
        let (found, steps) = fake(2, 1, &[]);
        assert_eq!((found, steps.len()), (Found::Change { before: 0, after: 1 }, 2));
    }

    #[test]
    fn an_end_that_is_not_what_it_was_named_stops_the_search() {
        let (found, _) = fake(6, 0, &[]);
        assert_eq!(found, Found::End { index: 0, side: Side::New });
        let (found, _) = fake(6, 6, &[]);
        assert_eq!(found, Found::End { index: 5, side: Side::Old });
        let (found, _) = fake(4, 1, &[0]);
        assert_eq!(found, Found::End { index: 0, side: Side::Inconclusive("fake".into()) });
    }

    #[test]
    fn inconclusive_releases_are_skipped_never_guessed() {
        // 0 old … change at 5; 4 is inconclusive: its neighbours decide.
        let (found, steps) = fake(10, 5, &[4]);
        assert_eq!(found, Found::Ambiguous { before: 3, after: 5 }, "4 or 5: not guessed");
        assert!(steps.iter().any(|(i, s)| *i == 4 && matches!(s, Side::Inconclusive(_))));
        // An inconclusive release that is not next to the change costs one run and changes nothing.
        let (found, steps) = fake(10, 6, &[3]);
        assert_eq!(found, Found::Change { before: 5, after: 6 });
        assert!(steps.len() <= run_bound(8) + 1, "{steps:?}");
        // The change among inconclusive ones: a range, no guess.
        let (found, _) = fake(10, 5, &[3, 4, 5, 6]);
        assert_eq!(found, Found::Ambiguous { before: 2, after: 7 });
        // Every candidate inconclusive.
        let (found, steps) = fake(5, 2, &[1, 2, 3]);
        assert_eq!(found, Found::Ambiguous { before: 0, after: 4 });
        assert_eq!(steps.len(), 5, "each candidate once, then both ends");
    }

    #[test]
    fn a_fix_is_searched_the_same_way() {
        // The older end bad, the newer good: the first good release is the change.
        assert_eq!(word(&Side::New, false), "good");
        assert_eq!(word(&Side::Old, false), "bad");
        assert_eq!(word(&Side::Inconclusive(String::new()), true), "inconclusive");
    }
}
