//! `run SCENARIO -- CMD`: a live dispatcher under the harness, judged like a
//! recorded one.
//!
//! 1. The scenario's inputs become files in a fresh HOME ([`home`]).
//! 2. The proxy starts with the provider stub (`--stub`) or the scenario's
//!    cassette for the version (replay: `--repeat`, `--emulate-auth`) as its
//!    upstream, and the recorder as its tap: every request the command sends
//!    is observed. The verdict is on what was sent, but a replay miss (a
//!    request the cassette lacks, answered 502) fails the cell, named.
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

use crate::openclaw::log as dispatcher_log;
pub mod home;
mod turn;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::cassette::{self, DispatcherId, Meta};
use crate::dispatch::inputs::mint_fixture_tokens;
use crate::dispatch::{Catalog, DispatchInputs, plan};
use crate::openclaw::profiles::{AuthStore, CredentialType};
use crate::proxy::{Proxy, ProxyConfig, Wiring};
use crate::recorder::{Recorder, RecorderOptions};
use crate::report::{self, Report, emit};
use crate::scenario::openclaw::OpenClaw;
use crate::scenario::runner::{check_cell, scenario_outcome};
use crate::scenario::{Scenario, load};
use crate::session::child::{Inherit, locate_program};
use crate::session::{self, ChildSetup};
use crate::upstream::Upstream;
use crate::upstream::replay::{Replay, ReplayConfig};
use crate::upstream::stub::{Stub, StubOptions};
use crate::version::Version;
use crate::{Error, Result, credential, files};

/// Variables of ours the command keeps: what finding and running programs needs.
pub const INHERITED: &[&str] = &["PATH", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME"];

/// Variables every command gets (REAL.md's recipe for Node dispatchers).
const FIXED_ENV: [(&str, &str); 2] = [("TERM", "dumb"), ("NO_COLOR", "1")];

/// What `run` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
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
    /// `-- CMD ARGS`; empty with [`Options::openclaw`].
    pub command: Vec<String>,
    /// `--openclaw`: instead of a command, one OpenClaw turn of the release
    /// `--version` from the release cache, with its per-version steps
    /// ([`crate::openclaw::releases::Steps`]); OpenClaw's output is kept in the cache's `logs/`.
    pub openclaw: Option<OpenClawTurn>,
    /// No `listening on` line and no recording summary: for the steps of `bisect`, which reports each itself.
    pub quiet: bool,
}

/// `--openclaw [--cache DIR]`.
#[derive(Debug, Clone, Default)]
pub struct OpenClawTurn {
    /// `--cache DIR`; default `$OPENCLAW_CACHE`, else `$DISPATCH_VCR_HOME/openclaw`.
    pub cache: Option<PathBuf>,
}

/// A judged run: its report and, for an OpenClaw turn, where OpenClaw's output is.
#[derive(Debug)]
pub struct Judged {
    /// The one-cell report.
    pub report: Report,
    /// `setup.out`, `agent.json`, `agent.err`, `openclaw.log` of an `--openclaw` turn.
    pub logs: Option<PathBuf>,
}

/// Run the command under the harness, judge what it sent, report; the exit
/// code is the report's (0 pass or expected failure, 1 a failure).
pub async fn run(options: Options) -> Result<u8> {
    if let Some(path) = &options.output {
        files::check_output("-o", path, crate::cmd::check::report_name(options.format))?;
    }
    let judged = judge(options.clone()).await?;
    let view = report::text::View { layout: report::text::Layout::Run, ..Default::default() };
    emit(&judged.report, options.format, view, options.output.as_deref())?;
    Ok(judged.report.exit_code())
}

/// Run the command (or the OpenClaw turn) under the harness and judge what it sent.
pub async fn judge(mut options: Options) -> Result<Judged> {
    if let Some(path) = &options.record_to {
        files::check_output("--record-to", path, "observed.json")?;
    }
    let scenario = load::load(&options.scenario)?;
    let catalog = Catalog::load(options.catalog.as_deref())?;
    let version = pick_version(&scenario, options.version.as_deref(), &catalog)?;
    let turn = match options.openclaw.clone() {
        Some(asked) => {
            let cache = crate::cmd::releases::locate(asked.cache.as_deref())?;
            Some(turn::prepare(&mut options, &cache, &scenario, &version)?)
        }
        None => None,
    };
    let logs = turn.as_ref().map(|t| t.logs.clone());
    locate_program(&options.command)?;
    let inputs = DispatchInputs::from_scenario_inputs(&scenario.inputs, Some(version.clone()))
        .map_err(|e| e.context(options.scenario.display()))?;
    let refreshed = refreshed_logins(&scenario.inputs, &inputs, &catalog, &version);
    let answering = upstream(&options, &scenario, &version, &catalog, &refreshed)?;
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
            output_flag: "--record-to",
            meta: meta(
                &scenario,
                &version,
                options.stub,
                answering.replayed.as_ref().map(|r| r.path.as_path()),
            ),
            profiles: vec![renamed_store(&inputs, &catalog, &version), refreshed.store],
            exclude: options.exclude.clone(),
        },
    )?;
    let mut env = child_env(&inputs, &home, &version, &catalog);
    env.push(("TMPDIR".to_owned(), tmp.display().to_string()));
    let setup = ChildSetup { env, inherit: Inherit::Only(INHERITED), announce: !options.quiet };
    let wiring = Wiring { leaves, upstream: answering.upstream, tap: recorder.tap() };
    let status = session::run_with(proxy, wiring, &options.command, &setup).await;
    if let Some(home) = turn.and_then(|t| t.plugin_home) {
        // Hundreds of megabytes, put back from the pristine copy before each turn.
        let _ = std::fs::remove_dir_all(home);
    }
    let summary = recorder.finish().await?;
    if options.record_to.is_some() && !options.quiet {
        files::say(&summary);
    }
    let ended = status?;
    if let Some(signal) = ended.signal {
        return Err(Error::interrupted(
            signal,
            format!("`{}` was stopped by a signal before its turn ended: no verdict", options.command[0]),
        ));
    }
    let status = ended.code;
    if let Some(replayed) = &answering.replayed {
        files::say(replayed.replay.summary());
    }
    if status != 0 && !options.quiet {
        files::say(format_args!(
            "`{}` exited with status {status}; the verdict is on what it sent",
            options.command[0]
        ));
    }
    let cassette = cassette::load(&observed)?;
    let name = match &options.record_to {
        Some(path) => path.display().to_string(),
        None => format!("the traffic of `{}` (not kept; --record-to FILE keeps it)", options.command[0]),
    };
    let reference = OpenClaw::new(catalog.clone());
    let mut cell = check_cell(&scenario, &version, &cassette, &name, &reference)?;
    cell.dispatcher_log = logged(&home.log, &scenario.dispatcher, &inputs, &catalog, &version);
    // A request the replayed cassette lacks got a 502, not the provider's
    // answer: the run is not a pass, as a miss is not for `replay`.
    if let Some(replayed) = &answering.replayed {
        let misses = replayed.replay.summary().misses.iter().map(|m| m.reason()).collect();
        cell = cell.with_replay_misses(misses);
    }
    Ok(Judged { report: Report::new(vec![scenario_outcome(&scenario, cell)], None), logs })
}

/// `--version`, else the newest version with a cassette, else (a scenario
/// with none yet) the catalog's default.
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

/// What answers the command's requests.
struct Answering {
    /// The proxy's upstream.
    upstream: Arc<dyn Upstream>,
    /// The cassette, when it is a replay (for its summary).
    replayed: Option<Replayed>,
}

/// A replayed cassette.
struct Replayed {
    path: PathBuf,
    replay: Arc<Replay>,
}

/// The stub, or the scenario's cassette for `version`, replayed.
fn upstream(
    options: &Options,
    scenario: &Scenario,
    version: &Version,
    catalog: &Catalog,
    refreshed: &Refreshed,
) -> Result<Answering> {
    if let Some(stub) = options.stub {
        let stub = Stub::new(catalog.clone(), stub)?.with_refreshes(refreshed.exchanges.clone());
        return Ok(Answering { upstream: Arc::new(stub), replayed: None });
    }
    let path = scenario.cassette_path(version).ok_or_else(|| {
        Error::input(format!(
            "{}: no cassette for {version} to replay; add one under `cassettes`, or answer with --stub",
            options.scenario.display()
        ))
    })?;
    // A dispatcher may ask more than once (retries, a second turn); a
    // request without the recorded credential gets the provider's 401, as live.
    let config = ReplayConfig {
        repeat: true,
        emulate_auth: Some(Arc::new(catalog.clone())),
        echo_misses: true,
        ..ReplayConfig::default()
    };
    let replay = Arc::new(Replay::load(&path, config)?);
    Ok(Answering { upstream: replay.clone(), replayed: Some(Replayed { path, replay }) })
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
fn meta(scenario: &Scenario, version: &Version, stub: Option<StubOptions>, replayed: Option<&Path>) -> Meta {
    let upstream = match (stub.and_then(|s| s.status), replayed) {
        (Some(status), _) => format!("provider stub, model calls answered {status}"),
        (None, Some(path)) => format!("replay of {}", path.display()),
        (None, None) => "provider stub".to_owned(),
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
pub(crate) fn renamed_store(inputs: &DispatchInputs, catalog: &Catalog, version: &Version) -> AuthStore {
    rename_store(
        AuthStore { profiles: inputs.effective_store().profiles, ..AuthStore::default() },
        catalog,
        version,
    )
}

/// `store` with its profile ids as `version` names them (`openai-codex:x` → `openai:x` from 2026.5.30).
fn rename_store(store: AuthStore, catalog: &Catalog, version: &Version) -> AuthStore {
    let renames = catalog.renames(version);
    let rename = |id: &str| match id.split_once(':') {
        Some((provider, name)) => {
            renames.get(provider).map_or_else(|| id.to_owned(), |p| format!("{p}:{name}"))
        }
        None => id.to_owned(),
    };
    let profiles = store.profiles.into_iter().map(|(id, cred)| (rename(&id), cred)).collect();
    AuthStore { profiles, ..store }
}

/// What refreshing the fixture OAuth logins gives: the token endpoint's
/// exchanges, and the new access tokens named by their profiles.
struct Refreshed {
    /// Refresh token → new access token, for the stub.
    exchanges: BTreeMap<String, String>,
    /// Profile id (as the version names it) → the credential with its new access token, for the recorder.
    store: AuthStore,
}

/// One refreshed access token per fixture OAuth login that has a refresh
/// token: the same claims (a JWT's `exp` moved ten days ahead) and a
/// different value, so the recording shows whether the dispatcher refreshed
/// and still binds the new token to its profile.
fn refreshed_logins(raw: &Value, inputs: &DispatchInputs, catalog: &Catalog, version: &Version) -> Refreshed {
    let raw = mint_fixture_tokens(raw);
    // Other agents' stores first: the agent's own entries win, as in its effective store.
    let agent_stores = raw["agent_stores"].as_object().into_iter().flat_map(|m| m.values());
    let refresh_of: BTreeMap<&str, &str> = agent_stores
        .chain(std::iter::once(&raw["auth_profiles"]))
        .filter_map(|store| store["profiles"].as_object())
        .flatten()
        .filter_map(|(id, entry)| Some((id.as_str(), entry.get("refresh")?.as_str()?)))
        .collect();
    let mut refreshed = Refreshed { exchanges: BTreeMap::new(), store: AuthStore::default() };
    for (id, mut cred) in inputs.effective_store().profiles {
        let (Some(refresh), Some(access), CredentialType::Oauth) =
            (refresh_of.get(id.as_str()), cred.secret.as_deref(), cred.kind)
        else {
            continue;
        };
        let new = refreshed_token(access);
        refreshed.exchanges.insert((*refresh).to_owned(), new.clone());
        cred.secret = Some(new);
        refreshed.store.profiles.insert(id, cred);
    }
    refreshed.store = rename_store(refreshed.store, catalog, version);
    refreshed
}

/// `access` after a refresh: a JWT with `exp` ten days ahead and another signature, else the value suffixed.
fn refreshed_token(access: &str) -> String {
    let Some(mut claims) = credential::jwt_claims(access) else { return format!("{access}-refreshed") };
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
        + 864_000;
    claims["exp"] = json!(exp);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    credential::mint_unsigned_jwt(&claims)
        + &base64::Engine::encode(&engine, "refreshed-by-the-dispatch-vcr-stub")
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
    fn oauth_logins_get_a_refreshed_token_bound_to_the_same_profile() {
        let catalog = Catalog::shipped().unwrap();
        let s = scenario(r#"{"2026.5.12": "a.json"}"#);
        let version: Version = "2026.9.5".parse().unwrap();
        let inputs = DispatchInputs::from_scenario_inputs(&s.inputs, Some(version.clone())).unwrap();
        let refreshed = refreshed_logins(&s.inputs, &inputs, &catalog, &version);
        assert_eq!(refreshed.exchanges.keys().collect::<Vec<_>>(), ["r"]);
        let new = &refreshed.exchanges["r"];
        assert_eq!(new, "a-refreshed", "a non-JWT access token is suffixed");
        assert_eq!(refreshed.store.profiles["openai:u@example.com"].secret.as_deref(), Some(new.as_str()));
        let jwt = credential::mint_unsigned_jwt(&json!({"sub": "u", "exp": 1}));
        let again = refreshed_token(&jwt);
        assert_ne!(again, jwt);
        assert!(credential::jwt_claims(&again).unwrap()["exp"].as_u64().unwrap() > 1);
    }

    #[test]
    fn meta_names_the_dispatcher_version_and_upstream() {
        let s = scenario(r#"{"2026.5.12": "a.json"}"#);
        let meta = meta(&s, &"2026.9.6".parse().unwrap(), Some(StubOptions { status: Some(401) }), None);
        let id = meta.dispatcher.unwrap();
        assert_eq!((id.name.as_str(), id.version.as_str()), ("openclaw", "2026.9.6"));
        assert_eq!(meta.labels["source"], "recorded from openclaw 2026.9.6");
        assert_eq!(meta.labels["upstream"], "provider stub, model calls answered 401");
        assert_eq!(display_name("openclaw"), "OpenClaw");
    }
}
