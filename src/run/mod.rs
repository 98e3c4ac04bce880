//! `run SCENARIO -- CMD`: a live dispatcher under the harness, judged like a
//! recorded one.
//!
//! 1. The scenario's inputs become files in a fresh HOME ([`home`]).
//! 2. The proxy starts with the provider stub (`--stub`) or the scenario's
//!    cassette for the version (replay) as its upstream, and the recorder as
//!    its tap: every request the command sends is observed.
//! 3. The command runs with a clean environment: the scenario's `env`, HOME,
//!    the proxy and trust variables, and the `DISPATCH_VCR_RUN_*` variables
//!    below, plus only [`INHERITED`] of ours (a stray `OPENAI_API_KEY` in the
//!    user's shell must not change what the dispatcher does). `TMPDIR` is a
//!    folder of the run's own, removed with it: dispatchers that unpack
//!    plugins into temporary folders (OpenClaw's Codex runtime writes
//!    gigabytes) leave nothing behind.
//! 4. The observed cassette is judged with [`check_cell`], exactly as `check`
//!    judges a recorded one, and reported the same way; the dispatcher's own
//!    log adds what it says it bound ([`dispatcher_log`]).
//!
//! The command's exit status is reported but does not decide the verdict: a
//! dispatcher that fails its turn after sending the right request passes,
//! one that never sends it fails `endpoint`.

pub mod dispatcher_log;
pub mod home;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cassette::{self, DispatcherId, Meta, Recorder, RecorderOptions};
use crate::child::{Inherit, check_command};
use crate::dispatch::profiles::AuthStore;
use crate::dispatch::{Catalog, DispatchInputs, plan};
use crate::proxy::{Proxy, ProxyConfig, Wiring};
use crate::report::{self, Report};
use crate::scenario::openclaw::OpenClaw;
use crate::scenario::runner::{check_cell, emit, scenario_outcome};
use crate::scenario::{Scenario, load};
use crate::session::{self, ChildSetup};
use crate::upstream::Upstream;
use crate::upstream::stub::{Stub, StubOptions};
use crate::version::Version;
use crate::{Error, Result};

/// Variables of ours the command keeps: what finding and running programs needs.
pub const INHERITED: &[&str] = &["PATH", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME"];

/// Variables every command gets (REAL.md's recipe for Node dispatchers).
const FIXED_ENV: [(&str, &str); 2] = [("TERM", "dumb"), ("NO_COLOR", "1")];

/// What `run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// `--version`; default: the newest version the scenario has a cassette for,
    /// else the catalog's default.
    pub version: Option<String>,
    /// `--stub [--stub-status N]`; `None` replays the scenario's cassette.
    pub stub: Option<StubOptions>,
    /// `--record-to FILE`: keep the observed traffic as a cassette.
    pub record_to: Option<PathBuf>,
    /// `--home DIR`: materialise into DIR (absent or empty; kept afterwards)
    /// instead of a temporary folder, for dispatchers whose installed plugins
    /// record absolute paths under HOME.
    pub home: Option<PathBuf>,
    /// `--exclude` host globs: left out of the observed cassette (and so of the checks).
    pub exclude: Vec<String>,
    /// Listener.
    pub proxy: ProxyConfig,
    /// Report format.
    pub format: report::Format,
    /// `-o FILE` for the report; stdout when `None`.
    pub output: Option<PathBuf>,
    /// `--catalog FILE` correcting the shipped catalog.
    pub catalog: Option<PathBuf>,
    /// `-- CMD ARGS`.
    pub command: Vec<String>,
}

/// Run the command under the harness, judge what it sent, report; the exit
/// code is the report's (0 pass or expected failure, 1 a failure).
pub async fn run(options: RunOptions) -> Result<u8> {
    let scenario = load::load(&options.scenario)?;
    let catalog = Catalog::load(options.catalog.as_deref())?;
    let version = pick_version(&scenario, options.version.as_deref(), &catalog)?;
    check_command(&options.command)?;
    let inputs = DispatchInputs::from_scenario_inputs(&scenario.inputs, Some(version.clone()))
        .map_err(|e| e.context(options.scenario.display()))?;
    let upstream = upstream(&options, &catalog)?;
    let work = tempfile::Builder::new()
        .prefix("dispatch-vcr-run-")
        .tempdir()
        .map_err(|e| Error::runtime(format!("cannot create a temporary folder for the run: {e}")))?;
    let home_dir = match &options.home {
        Some(dir) => claim_home(dir)?,
        None => create_dir(&work.path().join("home"))?,
    };
    let home = home::materialise(&scenario.inputs, &home_dir)?;
    let tmp = create_dir(&work.path().join("tmp"))?;
    let observed = options.record_to.clone().unwrap_or_else(|| work.path().join("observed.json"));
    let leaves = session::leaf_issuer()?;
    let proxy = Proxy::bind(&options.proxy).await?;
    let recorder = Recorder::create(
        &observed,
        RecorderOptions {
            meta: meta(&scenario, &version, options.stub),
            profiles: vec![renamed_store(&inputs, &catalog, &version)],
            exclude: options.exclude.clone(),
        },
    )?;
    let mut env = child_env(&inputs, &home, &version, &catalog);
    env.push(("TMPDIR".to_owned(), tmp.display().to_string()));
    let setup = ChildSetup { env, inherit: Inherit::Only(INHERITED) };
    let wiring = Wiring { leaves, upstream, tap: recorder.tap() };
    let status = session::run_with(proxy, wiring, &options.command, &setup).await;
    let summary = recorder.finish().await?;
    if options.record_to.is_some() {
        eprintln!("dispatch-vcr: {summary}");
    }
    let status = status?;
    if status != 0 {
        eprintln!(
            "dispatch-vcr: `{}` exited with status {status}; the verdict is on what it sent",
            options.command[0]
        );
    }
    let cassette = cassette::load(&observed)?;
    let name = match &options.record_to {
        Some(path) => path.display().to_string(),
        None => format!("the traffic of `{}` (not kept; --record-to FILE keeps it)", options.command[0]),
    };
    let reference = OpenClaw::new(catalog.clone());
    let mut cell = check_cell(&scenario, &version, &cassette, &name, &reference)?;
    cell.dispatcher_log = logged(&home.log, &scenario.dispatcher, &inputs, &catalog, &version);
    let report = Report::new(vec![scenario_outcome(&scenario, cell)], None);
    emit(&report, options.format, options.output.as_deref())?;
    Ok(report.exit_code())
}

/// `--version`, else the newest version with a cassette (a scenario has at
/// least one), else the catalog's default.
fn pick_version(scenario: &Scenario, asked: Option<&str>, catalog: &Catalog) -> Result<Version> {
    match asked {
        Some(text) => text
            .parse()
            .map_err(|e| Error::input(format!("--version {text}: {e} (e.g. --version 2026.5.16-beta.4)"))),
        None => Ok(scenario
            .cassettes
            .keys()
            .next_back()
            .cloned()
            .unwrap_or_else(|| catalog.default_version.clone())),
    }
}

/// The stub, or replay of the scenario's cassette.
fn upstream(options: &RunOptions, catalog: &Catalog) -> Result<Arc<dyn Upstream>> {
    match options.stub {
        Some(stub) => Ok(Arc::new(Stub::new(catalog.clone(), stub)?)),
        None => Err(Error::input(
            "run without --stub replays the scenario's cassette, which this build cannot do yet; \
             add --stub to answer from the provider stub",
        )),
    }
}

fn create_dir(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir(dir).map_err(|e| Error::io("create", dir, &e))?;
    Ok(dir.to_owned())
}

/// `--home DIR`: created if absent; refused unless empty, so a run never
/// mixes its inputs with another run's files.
fn claim_home(dir: &Path) -> Result<PathBuf> {
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_none()) {
        Ok(false) => Err(Error::input(format!(
            "--home {}: not empty; give an empty or absent folder (a run writes the scenario's inputs there)",
            dir.display()
        ))),
        Ok(true) => Ok(dir.to_owned()),
        Err(_) => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, &e))?;
            Ok(dir.to_owned())
        }
    }
}

/// `meta` of the observed cassette: who was recorded, from which scenario, against what.
fn meta(scenario: &Scenario, version: &Version, stub: Option<StubOptions>) -> Meta {
    let upstream = match stub.and_then(|s| s.status) {
        Some(status) => format!("provider stub, model calls answered {status}"),
        None if stub.is_some() => "provider stub".to_owned(),
        None => "replay".to_owned(),
    };
    let labels = [
        ("scenario", scenario.name.clone()),
        ("source", format!("recorded from {} {version}", scenario.dispatcher)),
        ("upstream", upstream),
    ];
    Meta {
        dispatcher: Some(DispatcherId { name: scenario.dispatcher.clone(), version: version.to_string() }),
        labels: labels.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        ..Meta::default()
    }
}

/// The agent's effective store with profile ids as the version names them
/// (after `doctor --fix` renames), so `meta.credentials` binds what the
/// dispatcher sends to the profile the checks expect.
fn renamed_store(inputs: &DispatchInputs, catalog: &Catalog, version: &Version) -> AuthStore {
    let renames = catalog.renames(version);
    let rename = |id: &str| match id.split_once(':') {
        Some((provider, name)) => {
            renames.get(provider).map_or_else(|| id.to_owned(), |p| format!("{p}:{name}"))
        }
        None => id.to_owned(),
    };
    let profiles =
        inputs.effective_store().profiles.into_iter().map(|(id, cred)| (rename(&id), cred)).collect();
    AuthStore { profiles, warnings: Vec::new() }
}

/// The command's environment: scenario env, HOME, and what scripts need to
/// know about the run (`DISPATCH_VCR_RUN_HOME`, `…_LOG`, `…_AGENT`,
/// `…_VERSION`, and `…_MODEL`: the model ref the dispatcher should be asked
/// for at this version, after renames).
fn child_env(
    inputs: &DispatchInputs,
    home: &home::Home,
    version: &Version,
    catalog: &Catalog,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> =
        FIXED_ENV.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    env.extend(inputs.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let root = home.root.display().to_string();
    env.push(("HOME".to_owned(), root.clone()));
    env.push(("DISPATCH_VCR_RUN_HOME".to_owned(), root));
    env.push(("DISPATCH_VCR_RUN_LOG".to_owned(), home.log.display().to_string()));
    env.push(("DISPATCH_VCR_RUN_AGENT".to_owned(), home.agent.clone()));
    env.push(("DISPATCH_VCR_RUN_VERSION".to_owned(), version.to_string()));
    let model = match plan(inputs, catalog) {
        Ok(plan) => Some(plan.model_ref),
        Err(refusal) => refusal.model_ref,
    };
    if let Some(model) = model {
        env.push(("DISPATCH_VCR_RUN_MODEL".to_owned(), model));
    }
    env
}

/// The profile decisions the dispatcher logged, described; empty without a log.
fn logged(
    log: &Path,
    dispatcher: &str,
    inputs: &DispatchInputs,
    catalog: &Catalog,
    version: &Version,
) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(log) else { return Vec::new() };
    let original: Vec<String> = inputs.effective_store().profiles.into_keys().collect();
    let mut ids: Vec<String> = renamed_store(inputs, catalog, version).profiles.into_keys().collect();
    ids.extend(original);
    let name = display_name(dispatcher);
    dispatcher_log::logged_profiles(&text).iter().map(|entry| entry.describe(&name, &ids)).collect()
}

/// How reports name a dispatcher.
fn display_name(dispatcher: &str) -> String {
    const NAMES: &[(&str, &str)] = &[("openclaw", "OpenClaw")];
    NAMES
        .iter()
        .find(|(id, _)| *id == dispatcher)
        .map_or_else(|| dispatcher.to_owned(), |(_, name)| (*name).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(cassettes: &str) -> Scenario {
        let text = format!(
            r#"{{"format": "dispatch-vcr/scenario@1", "name": "s", "dispatcher": "openclaw",
                "inputs": {{"config": {{"agents": {{"defaults": {{"model": "openai-codex/gpt-5.5"}}}}}},
                            "auth_profiles": {{"version": 1, "profiles": {{"openai-codex:u@example.com":
                              {{"type": "oauth", "provider": "openai-codex", "access": "a", "refresh": "r", "expires": 4102444800000}}}}}}}},
                "cassettes": {cassettes}}}"#
        );
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.json", "b.json"] {
            std::fs::write(dir.path().join(name), "{}").unwrap();
        }
        load::parse(&text, &dir.path().join("s.json")).unwrap()
    }

    #[test]
    fn version_is_asked_or_the_newest_cassette() {
        let catalog = Catalog::shipped().unwrap();
        let s = scenario(r#"{"2026.5.12": "a.json", "2026.9.5": "b.json"}"#);
        assert_eq!(
            pick_version(&s, Some("2026.5.16-beta.4"), &catalog).unwrap().to_string(),
            "2026.5.16-beta.4"
        );
        assert_eq!(pick_version(&s, None, &catalog).unwrap().to_string(), "2026.9.5");
        let err = pick_version(&s, Some("not a version"), &catalog).unwrap_err();
        assert!(err.message().starts_with("--version not a version"), "{err}");
    }

    #[test]
    fn stores_and_model_follow_the_versions_renames() {
        let catalog = Catalog::shipped().unwrap();
        let s = scenario(r#"{"2026.5.12": "a.json"}"#);
        for (version, profile, model) in [
            ("2026.5.16-beta.4", "openai-codex:u@example.com", "openai-codex/gpt-5.5"),
            ("2026.9.5", "openai:u@example.com", "openai/gpt-5.5"),
        ] {
            let version: Version = version.parse().unwrap();
            let inputs = DispatchInputs::from_scenario_inputs(&s.inputs, Some(version.clone())).unwrap();
            let store = renamed_store(&inputs, &catalog, &version);
            assert_eq!(store.profiles.keys().collect::<Vec<_>>(), [profile]);
            let home =
                home::Home { root: "/h".into(), log: "/h/l".into(), agent: "main".into(), files: vec![] };
            let env = child_env(&inputs, &home, &version, &catalog);
            assert!(env.contains(&("DISPATCH_VCR_RUN_MODEL".to_owned(), model.to_owned())), "{env:?}");
            assert!(env.contains(&("HOME".to_owned(), "/h".to_owned())));
        }
    }

    #[test]
    fn meta_names_the_dispatcher_version_and_upstream() {
        let s = scenario(r#"{"2026.5.12": "a.json"}"#);
        let meta = meta(&s, &"2026.9.6".parse().unwrap(), Some(StubOptions { status: Some(401) }));
        let id = meta.dispatcher.unwrap();
        assert_eq!((id.name.as_str(), id.version.as_str()), ("openclaw", "2026.9.6"));
        assert_eq!(meta.labels["source"], "recorded from openclaw 2026.9.6");
        assert_eq!(meta.labels["upstream"], "provider stub, model calls answered 401");
        assert_eq!(display_name("openclaw"), "OpenClaw");
    }
}
