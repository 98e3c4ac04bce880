//! The runner: every scenario × version cell, in parallel, into a [`Report`].
//!
//! A cell is the unit of work and of scale: [`check_cell`] judges one
//! scenario at one version against one cassette (recorded, or written by a
//! live run), and `--shard I/N` partitions cells deterministically.

use std::path::PathBuf;

use super::endpoint::Endpoint;
use super::expected::{self, Expected};
use super::invariants;
use super::load;
use super::model::{Call, Expect, Judge, Scenario};
use super::observe::{self, Bindings, SeenCredential};
use super::parallel::run_parallel;
use crate::cassette::Cassette;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::report::{
    CellOutcome, Invariant, InvariantOutcome, Report, ScenarioOutcome, ShardInfo, Status, Verdict,
};
use crate::version::Version;

/// A reference dispatcher as the checks see it: a plan for a scenario at a
/// version, and the catalog's rules. Live runs and tests plug in here too.
pub trait Reference: Sync {
    /// What `scenario` should dispatch at `version`, and which profile each
    /// fixture credential belongs to. `Err` only for inputs that cannot be
    /// read (exit 2); a dispatcher's refusal is [`Expected::NoDispatch`].
    fn plan(&self, scenario: &Scenario, version: &Version) -> Result<Planned>;
    /// Whether a request to `endpoint` is a model-API dispatch (a chat turn).
    fn is_dispatch(&self, endpoint: &Endpoint) -> bool;
    /// Whether a request to `endpoint` is a model call of kind `call`: a
    /// dispatch for the chat turn, else the endpoint classes of that call.
    fn is_call(&self, call: Call, endpoint: &Endpoint) -> bool {
        call == Call::Chat && self.is_dispatch(endpoint)
    }
    /// Hosts a credential of `provider` and `kind` may reach at `version`
    /// (`*.example.com` matches subdomains); `None` when the provider is unknown.
    fn allowed_hosts(&self, provider: &str, kind: &str, version: &Version) -> Option<Vec<String>>;
}

/// A reference plan in the vocabulary of observations.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The planned dispatch (or refusal) of the chat turn.
    pub expected: Expected,
    /// The planned memory-search embeddings call (or why there is none);
    /// `None` when the reference does not model it or the scenario does not judge it.
    pub embeddings: Option<Expected>,
    /// The planned image-generation call, likewise.
    pub images: Option<Expected>,
    /// Fingerprints of the plan's credential, the fixture profiles and the
    /// env/config keys, most specific first.
    pub bindings: Bindings,
    /// Why the reference has no model of this dispatcher, when it has none:
    /// then only the invariants the scenario pins are judged, and the rest
    /// (but `tls`, which needs no model) are reported not judged.
    pub unmodelled: Option<String>,
}

/// Judge `scenario` at `version` against the requests in `cassette`.
pub fn check_cell(
    scenario: &Scenario,
    version: &Version,
    cassette: &Cassette,
    cassette_name: &str,
    reference: &dyn Reference,
) -> Result<CellOutcome> {
    let planned = reference.plan(scenario, version)?;
    let pinned = scenario.expect_at(version);
    // The recording knows its own credentials best (it saw renames and
    // refreshes); the plan and the fixtures fill in the rest.
    let mut bindings = Bindings::default();
    bindings.add_meta(&cassette.meta);
    bindings.extend(planned.bindings.clone());
    let mut judged = Vec::new();
    let mut reference_failures = Vec::new();
    for (n, call) in scenario.judge.calls().iter().enumerate() {
        // `expect` pins the first call judged.
        let pins = if n == 0 { pinned.clone() } else { Expect::default() };
        // A side call the reference does not plan is judged only when it is the one judged.
        let plan = match planned_call(&planned, *call) {
            Some(plan) => plan,
            None if n > 0 => continue,
            None => Expected::NoDispatch {
                reason: format!("the reference does not model this dispatcher's {} calls", call.name()),
            },
        };
        let (expected, failures) = expected::resolve(&pins, plan);
        reference_failures.extend(failures);
        judged.push((*call, expected));
    }
    let scope = |c: &SeenCredential| {
        let mut hosts = reference.allowed_hosts(c.provider.as_deref()?, &c.kind, version)?;
        hosts.extend(judged.iter().flat_map(|(_, e)| planned_hosts(e, &c.fingerprint)));
        Some(hosts)
    };
    let mut per_call = Vec::new();
    for (call, expected) in &judged {
        // A request to a planned endpoint is a call of that kind whatever the catalog calls it.
        let planned_endpoint = |e: &Endpoint| match expected {
            Expected::Dispatch(steps) => steps.iter().any(|s| s.endpoint.is_reached_by(e)),
            Expected::NoDispatch { .. } => false,
        };
        let is_call = |e: &Endpoint| planned_endpoint(e) || reference.is_call(*call, e);
        let observations = observe::observe_cassette(cassette, &bindings, &is_call)
            .map_err(|e| Error::input(format!("{cassette_name}: {e}")))?;
        let mut outcomes = invariants::evaluate(expected, &observations, &scope);
        // `all` judges the side calls a recording holds: a turn need not index memory or draw.
        if scenario.judge == Judge::All && *call != Call::Chat && !observations.iter().any(|o| o.dispatch) {
            let why = format!("the recording holds no {} call", call.name());
            not_judged_status(&mut outcomes, &why);
        }
        per_call.push(labelled(outcomes, *call, scenario.judge));
    }
    let mut invariants = merge(per_call);
    if let Some(why) = &planned.unmodelled {
        not_judged(&mut invariants, &pinned.pinned(), why);
    }
    let known_failure = scenario.known_failures.get(version).cloned();
    let failed = invariants.iter().any(|i| i.status == Status::Fail);
    let verdict = match (reference_failures.is_empty(), failed, known_failure.is_some()) {
        (false, _, _) => Verdict::ReferenceFailure,
        (true, true, true) => Verdict::ExpectedFailure,
        (true, true, false) => Verdict::Fail,
        (true, false, true) => Verdict::Fixed,
        (true, false, false) => Verdict::Pass,
    };
    Ok(CellOutcome {
        known_failure,
        reference: reference_failures,
        invariants,
        ..CellOutcome::new(version.to_string(), cassette_name, verdict)
    })
}

/// The reference's expectation of `call`, when it plans one.
fn planned_call(planned: &Planned, call: Call) -> Option<Expected> {
    match call {
        Call::Chat => Some(planned.expected.clone()),
        Call::Embeddings => planned.embeddings.clone(),
        Call::Images => planned.images.clone(),
    }
}

/// The dispatch invariants of a call that did not happen become skipped, with `why`.
fn not_judged_status(outcomes: &mut [InvariantOutcome], why: &str) {
    let side = |i: Invariant| !matches!(i, Invariant::CredentialScope | Invariant::Tls);
    for outcome in outcomes.iter_mut().filter(|o| side(o.invariant)) {
        *outcome = InvariantOutcome {
            invariant: outcome.invariant,
            status: Status::Skip,
            note: Some(why.to_owned()),
            failures: Vec::new(),
        };
    }
}

/// Failures of a side call (embeddings, image) say so when every call is judged.
fn labelled(mut outcomes: Vec<InvariantOutcome>, call: Call, judge: Judge) -> Vec<InvariantOutcome> {
    if call != Call::Chat && judge == Judge::All {
        for failure in outcomes.iter_mut().flat_map(|o| o.failures.iter_mut()) {
            failure.message = format!("{} call: {}", call.name(), failure.message);
        }
    }
    outcomes
}

/// One outcome per invariant from the outcomes of each judged call (each in
/// [`Invariant::ALL`] order): the failures of every call, failed if any
/// failed, passed if any passed. `credential-scope` and `tls` judge every
/// request whatever the call, so they are taken once.
fn merge(per_call: Vec<Vec<InvariantOutcome>>) -> Vec<InvariantOutcome> {
    let mut calls = per_call.into_iter();
    let mut merged = calls.next().unwrap_or_default();
    for outcomes in calls {
        for (into, other) in merged.iter_mut().zip(outcomes) {
            if matches!(into.invariant, Invariant::CredentialScope | Invariant::Tls) {
                continue;
            }
            into.failures.extend(other.failures);
            let better = |s: Status| match s {
                Status::Fail => 3,
                Status::Pass => 2,
                _ => 1,
            };
            if better(other.status) > better(into.status) {
                into.status = other.status;
                into.note = other.note;
            }
        }
    }
    merged
}

/// The hosts the plan sends the credential `fingerprint` to: a configured
/// `baseUrl` (a Foundry resource, a LiteLLM proxy) is in the plan, not among
/// the provider's default hosts.
fn planned_hosts(expected: &Expected, fingerprint: &str) -> Vec<String> {
    match expected {
        Expected::Dispatch(steps) => steps
            .iter()
            .filter(|s| s.fingerprint.as_deref() == Some(fingerprint))
            .map(|s| s.endpoint.host.clone())
            .collect(),
        Expected::NoDispatch { .. } => Vec::new(),
    }
}

/// Every invariant `pinned` does not name, but `tls` (which needs no model),
/// becomes not judged: nobody knows what is right for it. Never a pass.
fn not_judged(outcomes: &mut [InvariantOutcome], pinned: &[Invariant], why: &str) {
    for outcome in
        outcomes.iter_mut().filter(|o| o.invariant != Invariant::Tls && !pinned.contains(&o.invariant))
    {
        *outcome = InvariantOutcome {
            invariant: outcome.invariant,
            status: Status::NotJudged,
            note: Some(why.to_owned()),
            failures: Vec::new(),
        };
    }
}

/// Parse `I/N` (1 ≤ I ≤ N).
pub fn parse_shard(text: &str) -> std::result::Result<ShardInfo, String> {
    let hint = "expected I/N with 1 ≤ I ≤ N, e.g. 1/4";
    let (i, n) = text.split_once('/').ok_or_else(|| format!("{text:?}: {hint}"))?;
    let (Ok(index), Ok(count)) = (i.trim().parse::<usize>(), n.trim().parse::<usize>()) else {
        return Err(format!("{text:?}: {hint}"));
    };
    if count == 0 || index == 0 || index > count {
        return Err(format!("{text:?}: {hint}"));
    }
    Ok(ShardInfo { index, count })
}

/// Whether the cell at `position` (in scenario-path, version order) is in `shard`.
/// Round-robin keeps shards within one cell of each other in size.
pub fn in_shard(position: usize, shard: Option<ShardInfo>) -> bool {
    shard.is_none_or(|s| position % s.count == s.index - 1)
}

/// Check every scenario under `paths` (files or folders).
pub fn check(paths: &[PathBuf], shard: Option<ShardInfo>, reference: &dyn Reference) -> Result<Report> {
    check_showing(paths, shard, reference, &Progress::none())
}

/// [`check`], counting the cells on `progress` as they are done.
pub fn check_showing(
    paths: &[PathBuf],
    shard: Option<ShardInfo>,
    reference: &dyn Reference,
    progress: &Progress,
) -> Result<Report> {
    let scenarios = load::load_all(&load::discover(paths)?)?;
    nothing_to_check(&scenarios)?;
    let cells: Vec<(usize, &Version)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(n, s)| s.cassettes.keys().map(move |v| (n, v)))
        .enumerate()
        .filter(|(position, _)| in_shard(*position, shard))
        .map(|(_, cell)| cell)
        .collect();
    progress.set_length(cells.len() as u64);
    let outcomes = run_parallel(&cells, |(n, version)| {
        let scenario = &scenarios[*n];
        let path = scenario.cassette_path(version).unwrap_or_default();
        let cassette = crate::cassette::load_for_observing(&path)?;
        let cell = check_cell(scenario, version, &cassette, &path.display().to_string(), reference);
        progress.inc(1);
        cell
    })?;
    // Cells come in scenario order: each run of one scenario's cells is its outcome.
    let mut grouped: Vec<(usize, ScenarioOutcome)> = Vec::new();
    for ((n, _), cell) in cells.iter().zip(outcomes) {
        match grouped.last_mut() {
            Some((last, outcome)) if last == n => outcome.cells.push(cell),
            _ => grouped.push((*n, scenario_outcome(&scenarios[*n], cell))),
        }
    }
    // A shard sees only some of a scenario's versions, and the step it would
    // blame may not be the full run's: it names one only when it holds them all.
    let grouped = grouped
        .into_iter()
        .map(|(n, mut outcome)| {
            if scenarios[n].cassettes.len() == outcome.cells.len() {
                outcome.first_bad_version = first_bad_version(&outcome.cells);
            }
            outcome
        })
        .collect();
    Ok(Report::new(grouped, shard))
}

/// A scenario without cassettes has no cell: say so on stderr, and refuse
/// (exit 2) when no scenario has one, rather than report an empty matrix.
fn nothing_to_check(scenarios: &[Scenario]) -> Result<()> {
    let empty: Vec<&Scenario> = scenarios.iter().filter(|s| s.cassettes.is_empty()).collect();
    let hint = "`dispatch-vcr run SCENARIO --version V --stub --record-to FILE -- CMD` records one; \
                name it under \"cassettes\"";
    if empty.len() == scenarios.len() {
        let names: Vec<String> = empty.iter().map(|s| s.path.display().to_string()).collect();
        return Err(Error::input(format!("nothing to check: no cassette in {} ({hint})", names.join(", "))));
    }
    for scenario in empty {
        crate::files::say(format_args!(
            "{}: no cassette yet, nothing to check for it ({hint})",
            scenario.path.display()
        ));
    }
    Ok(())
}

/// The outcome of `scenario` starting with its cell `first`.
pub fn scenario_outcome(scenario: &Scenario, first: CellOutcome) -> ScenarioOutcome {
    ScenarioOutcome {
        name: scenario.name.clone(),
        path: scenario.path.display().to_string(),
        about: scenario.about.clone(),
        source: scenario.source.clone(),
        first_bad_version: None,
        cells: vec![first],
    }
}

/// The latest step from a good version to a bad one: the version a bisect would blame.
pub fn first_bad_version(cells: &[CellOutcome]) -> Option<String> {
    cells
        .windows(2)
        .rev()
        .find(|w| w[0].verdict.is_good() && w[1].verdict.is_bad())
        .map(|w| w[1].version.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::{Body, BodyContent, Interaction, Meta, Request};
    use crate::credential;
    use crate::scenario::expected::ExpectedDispatch;
    use crate::scenario::model::Bearer;

    /// A reference that plans one OAuth dispatch to the ChatGPT backend.
    struct Fixed;

    const TOKEN: &str = "fixture-token";

    impl Reference for Fixed {
        fn is_dispatch(&self, endpoint: &Endpoint) -> bool {
            endpoint.path.ends_with("/responses")
        }
        fn is_call(&self, call: Call, endpoint: &Endpoint) -> bool {
            match call {
                Call::Chat => self.is_dispatch(endpoint),
                Call::Embeddings => endpoint.path.ends_with("/embeddings"),
                Call::Images => false,
            }
        }
        fn allowed_hosts(&self, _provider: &str, _kind: &str, _version: &Version) -> Option<Vec<String>> {
            Some(vec!["chatgpt.com".into()])
        }

        fn plan(&self, _scenario: &Scenario, _version: &Version) -> Result<Planned> {
            let step = ExpectedDispatch {
                endpoint: Endpoint::new("POST", "https://chatgpt.com/backend-api/codex/responses").unwrap(),
                bearer: Bearer::Present {
                    header: Some("authorization".into()),
                    scheme: Some("Bearer".into()),
                    kind: Some("opaque".into()),
                },
                profile: Some("openai-codex:u".into()),
                store: None,
                fingerprint: Some(credential::fingerprint(TOKEN)),
                headers: Vec::new(),
                model: Some("gpt-5.5".into()),
            };
            let mut bindings = Bindings::default();
            let binding = observe::Binding {
                kind: "opaque".into(),
                profile: Some("openai-codex:u".into()),
                provider: Some("openai-codex".into()),
                store: None,
            };
            bindings.insert(credential::fingerprint(TOKEN), binding);
            // The embeddings call: the same login, at the platform's embeddings endpoint.
            let embeddings = ExpectedDispatch {
                endpoint: Endpoint::new("POST", EMBEDDINGS).unwrap(),
                model: None,
                ..step.clone()
            };
            Ok(Planned {
                expected: Expected::Dispatch(vec![step]),
                embeddings: Some(Expected::Dispatch(vec![embeddings])),
                images: None,
                bindings,
                unmodelled: None,
            })
        }
    }

    fn cassette(url: &str, bearer: bool) -> Cassette {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if bearer {
            headers.push(("authorization".into(), format!("Bearer {}", credential::redaction_marker(TOKEN))));
        }
        let mut c = Cassette::new(Meta::default());
        let body = Body::from(BodyContent::Json(serde_json::json!({"model": "gpt-5.5"})));
        c.interactions.push(Interaction::new(1, Request::new("POST", url, headers, body)));
        c
    }

    fn scenario(extra: &str) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.json"), "{}").unwrap();
        let text = format!(
            r#"{{"format": "dispatch-vcr/scenario@1", "name": "s", "dispatcher": "openclaw", "inputs": {{}},
                "cassettes": {{"2026.5.12": "c.json", "2026.5.18": "c.json"}} {extra}}}"#
        );
        load::parse(&text, &dir.path().join("s.json")).unwrap()
    }

    const GOOD: &str = "https://chatgpt.com/backend-api/codex/responses";
    const BAD: &str = "https://api.openai.com/v1/responses";

    fn verdict(extra: &str, url: &str, bearer: bool) -> CellOutcome {
        let version = "2026.5.12".parse().unwrap();
        check_cell(&scenario(extra), &version, &cassette(url, bearer), "c.json", &Fixed).unwrap()
    }

    #[test]
    fn the_planned_host_is_in_scope_for_the_planned_credential_only() {
        let planned = Fixed.plan(&scenario(""), &"2026.5.12".parse().unwrap()).unwrap().expected;
        assert_eq!(planned_hosts(&planned, &credential::fingerprint(TOKEN)), ["chatgpt.com"]);
        assert!(planned_hosts(&planned, &credential::fingerprint("another")).is_empty());
        let refusal = Expected::NoDispatch { reason: "no key".into() };
        assert!(planned_hosts(&refusal, &credential::fingerprint(TOKEN)).is_empty());
    }

    const EMBEDDINGS: &str = "https://api.openai.com/v1/embeddings";

    #[test]
    fn judge_picks_the_calls_and_all_labels_the_embeddings_failures() {
        let mut both = cassette(GOOD, true);
        both.interactions.extend(cassette(EMBEDDINGS, false).interactions);
        let version = "2026.5.12".parse().unwrap();
        let messages = |judge: &str| {
            let extra = format!(r#", "judge": "{judge}""#);
            let cell = check_cell(&scenario(&extra), &version, &both, "c.json", &Fixed).unwrap();
            let failures = cell.invariants.iter().flat_map(|i| &i.failures);
            (cell.verdict, failures.map(|f| f.message.clone()).collect::<Vec<_>>())
        };
        assert_eq!(messages("chat"), (Verdict::Pass, vec![]), "the embeddings call is no chat dispatch");
        let (verdict, failures) = messages("embeddings");
        assert_eq!(verdict, Verdict::Fail);
        assert_eq!(failures, ["no credential was sent", "no credential was sent, so no profile is bound"]);
        let (_, failures) = messages("all");
        assert_eq!(
            failures,
            [
                "embeddings call: no credential was sent",
                "embeddings call: no credential was sent, so no profile is bound"
            ]
        );
    }

    #[test]
    fn planned_dispatch_passes() {
        assert_eq!(verdict("", GOOD, true).verdict, Verdict::Pass);
    }

    #[test]
    fn unexpected_failure_fails_with_each_invariant_explained() {
        let cell = verdict("", BAD, false);
        assert_eq!(cell.verdict, Verdict::Fail);
        let failed: Vec<Invariant> = cell.failures().map(|f| f.invariant).collect();
        assert_eq!(failed, vec![Invariant::Endpoint, Invariant::Bearer, Invariant::Profile]);
    }

    #[test]
    fn known_failure_that_fails_is_expected_and_one_that_passes_is_fixed() {
        let known = r##", "known_failures": {"2026.5.12": "openclaw/openclaw#83380"}"##;
        let cell = verdict(known, BAD, false);
        assert_eq!(cell.verdict, Verdict::ExpectedFailure);
        assert_eq!(cell.known_failure.as_deref(), Some("openclaw/openclaw#83380"));
        assert_eq!(verdict(known, GOOD, true).verdict, Verdict::Fixed);
    }

    #[test]
    fn pinned_expectation_the_reference_contradicts_is_a_reference_failure() {
        let pinned = r#", "expect": {"endpoint": "POST https://api.openai.com/v1/responses"}"#;
        let cell = verdict(pinned, BAD, true);
        assert_eq!(cell.verdict, Verdict::ReferenceFailure);
        assert_eq!(cell.reference[0].invariant, Invariant::Endpoint);
        // The pin is the truth the recording is held to: going to the pinned endpoint passes it.
        let endpoint = cell.invariants.iter().find(|i| i.invariant == Invariant::Endpoint).unwrap();
        assert_eq!(endpoint.status, Status::Pass);
    }

    #[test]
    fn version_rules_apply_by_range() {
        let rules = r#", "versions": [{"range": ">=2026.5.13", "expect": {"profile": "openai:u"}}]"#;
        assert_eq!(verdict(rules, GOOD, true).verdict, Verdict::Pass);
        let cell = check_cell(
            &scenario(rules),
            &"2026.5.18".parse().unwrap(),
            &cassette(GOOD, true),
            "c.json",
            &Fixed,
        )
        .unwrap();
        assert_eq!(cell.verdict, Verdict::ReferenceFailure);
        let profile = cell.invariants.iter().find(|i| i.invariant == Invariant::Profile).unwrap();
        assert_eq!(profile.failures[0].expected, "openai:u");
    }

    fn cell(version: &str, verdict: Verdict) -> CellOutcome {
        CellOutcome::new(version, "", verdict)
    }

    #[test]
    fn shard_spec_is_validated() {
        assert_eq!(parse_shard("2/3"), Ok(ShardInfo { index: 2, count: 3 }));
        for bad in ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3"] {
            assert!(parse_shard(bad).unwrap_err().contains("expected I/N"), "{bad}");
        }
    }

    #[test]
    fn shards_partition_every_position_once() {
        let shards: Vec<ShardInfo> = (1..=3).map(|index| ShardInfo { index, count: 3 }).collect();
        for position in 0..10 {
            assert_eq!(shards.iter().filter(|s| in_shard(position, Some(**s))).count(), 1);
        }
        assert!(in_shard(7, None));
    }

    #[test]
    fn first_bad_version_is_the_latest_good_to_bad_step() {
        use Verdict::*;
        let cells = vec![
            cell("1", Pass),
            cell("2", ExpectedFailure),
            cell("3", Fixed),
            cell("4", Fail),
            cell("5", Fail),
        ];
        assert_eq!(first_bad_version(&cells).as_deref(), Some("4"));
        assert_eq!(first_bad_version(&[cell("1", Fail), cell("2", Pass)]), None);
        assert_eq!(first_bad_version(&[cell("1", Pass), cell("2", ReferenceFailure)]), None);
    }
}
