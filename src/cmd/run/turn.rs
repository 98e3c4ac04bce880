//! `run --openclaw`: one OpenClaw turn of a cached release as the command,
//! with the release's per-version steps ([`Steps`]) as a shell script.

use std::path::PathBuf;

use super::Options;
use crate::cmd::releases::registry_host;
use crate::error::{Error, Result};
use crate::openclaw::releases::{Cache, Steps};
use crate::scenario::Scenario;
use crate::version::Version;

/// Hosts OpenClaw looks packages up on besides npm's registry: its plugin catalogue.
const LOOKUP_HOSTS: &[&str] = &["clawhub.*"];

/// Make `options.command` the turn of `version` from `cache`, leave the
/// package look-ups out of the cassette, and return the folder OpenClaw's
/// output goes to (`cache/logs/VERSION/SCENARIO`, emptied first).
pub(super) fn prepare(
    options: &mut Options,
    cache: &Cache,
    scenario: &Scenario,
    version: &Version,
) -> Result<PathBuf> {
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
    options.command = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        Steps::at(version).turn_script(),
        "openclaw-turn".to_owned(),
        cache.node_bin().display().to_string(),
        cache.openclaw_mjs(version).display().to_string(),
        logs.display().to_string(),
    ];
    options.exclude.extend(registry_host());
    options.exclude.extend(LOOKUP_HOSTS.iter().map(|h| (*h).to_owned()));
    Ok(logs)
}
