//! `run --openclaw`: one OpenClaw turn of a cached release as the command,
//! with the release's per-version steps ([`Steps`]) as a shell script.

use std::path::PathBuf;

use super::Options;
use crate::cmd::releases::registry_host;
use crate::error::{Error, Result};
use crate::files;
use crate::openclaw::releases::{Cache, Steps};
use crate::scenario::Scenario;
use crate::version::Version;

/// Hosts OpenClaw looks packages up on besides npm's registry: its plugin catalogue.
const LOOKUP_HOSTS: &[&str] = &["clawhub.*"];

/// A prepared turn.
pub(super) struct Prepared {
    /// Where OpenClaw's output goes: `cache/logs/VERSION/SCENARIO`, emptied first.
    pub logs: PathBuf,
    /// The HOME of a turn with the Codex runtime plugin, removed after the run.
    pub plugin_home: Option<PathBuf>,
}

/// Make `options.command` the turn of `version` from `cache`, with the Codex
/// runtime plugin when the cache has it for the release (then HOME is the
/// path it was installed under, [`Cache::run_home`]), and leave the package
/// look-ups out of the cassette.
pub(super) fn prepare(
    options: &mut Options,
    cache: &Cache,
    scenario: &Scenario,
    version: &Version,
) -> Result<Prepared> {
    if !options.command.is_empty() {
        return Err(Error::input("--openclaw runs OpenClaw's own turn: give no `-- CMD` with it"));
    }
    if !cache.has(version) {
        return Err(Error::input(format!(
            "--openclaw: OpenClaw {version} is not installed in {}; run `dispatch-vcr releases install {version}` \
             first (with the same --cache or OPENCLAW_CACHE)",
            cache.root.display()
        )));
    }
    let logs = cache.root.join("logs").join(version.to_string()).join(&scenario.name);
    if logs.exists() {
        std::fs::remove_dir_all(&logs).map_err(|e| Error::io("empty", &logs, &e))?;
    }
    std::fs::create_dir_all(&logs).map_err(|e| Error::io("create", &logs, &e))?;
    let plugin_home = plugin_home(options, cache, version)?;
    options.command = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        Steps::at(version).turn_script(),
        "openclaw-turn".to_owned(),
        cache.node_bin().display().to_string(),
        cache.openclaw_mjs(version).display().to_string(),
        logs.display().to_string(),
    ];
    if plugin_home.is_some() {
        options.command.push(cache.codex_home(version).display().to_string());
    }
    options.exclude.extend(registry_host());
    options.exclude.extend(LOOKUP_HOSTS.iter().map(|h| (*h).to_owned()));
    Ok(Prepared { logs, plugin_home })
}

/// With the Codex runtime plugin installed for `version` and no `--home`
/// given: HOME becomes [`Cache::run_home`], emptied.
fn plugin_home(options: &mut Options, cache: &Cache, version: &Version) -> Result<Option<PathBuf>> {
    if !cache.has_codex(version) {
        return Ok(None);
    }
    if let Some(home) = &options.home {
        files::say(format_args!(
            "--home {}: the Codex runtime plugin of {version} only works under {}, so this turn runs without it",
            home.display(),
            cache.run_home(version).display()
        ));
        return Ok(None);
    }
    let home = cache.run_home(version);
    if home.exists() {
        std::fs::remove_dir_all(&home).map_err(|e| Error::io("empty", &home, &e))?;
    }
    options.home = Some(home.clone());
    Ok(Some(home))
}
