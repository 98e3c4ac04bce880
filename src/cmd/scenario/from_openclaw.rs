//! `scenario from-openclaw [--home DIR] -o FILE`: a user's OpenClaw setup as a shareable scenario,
//! every secret replaced by a look-alike fixture (docs/scenario.md).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;

use crate::dispatch::Catalog;
use crate::dispatch::inputs::DEFAULT_AGENT;
use crate::error::{Error, Result};
use crate::files;
use crate::openclaw::{fixtures, home};
use crate::scenario::model::FORMAT_V1;
use crate::version::Version;

/// What `scenario from-openclaw` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The HOME OpenClaw ran with (holding `.openclaw/`).
    pub home: PathBuf,
    /// The agent to plan for (default `main`).
    pub agent: Option<String>,
    /// The release whose reading to follow (file stores before 2026.5.30); default the newest.
    pub version: Option<String>,
    /// The scenario to write.
    pub output: PathBuf,
    /// Replace `output` when it exists.
    pub force: bool,
    /// Keep email addresses (default: replaced by `user@example.com`, …).
    pub keep_email: bool,
    /// Take the provider variables OpenClaw reads from this process's environment.
    pub env_from_shell: bool,
}

/// Read the home, write the scenario, say on stderr what was replaced and what was not read.
pub fn run(options: &Options) -> Result<u8> {
    files::check_output("-o", &options.output, "my-setup.json")?;
    if options.output.exists() && !options.force {
        return Err(Error::input(format!(
            "-o {}: exists; pass --force to replace it, or name another file",
            options.output.display()
        )));
    }
    let version = options
        .version
        .as_deref()
        .map(|v| v.parse::<Version>().map_err(|e| Error::input(format!("--version: {e}"))))
        .transpose()?;
    let snapshot = home::read(&options.home, version.as_ref())?;
    let agent = options.agent.clone().unwrap_or_else(|| DEFAULT_AGENT.to_owned());
    let names = env_names(&snapshot.config)?;
    let set: BTreeMap<String, String> = names
        .iter()
        .filter_map(|n| Some((n.clone(), std::env::var(n).ok().filter(|v| !v.is_empty())?)))
        .collect();
    let env = if options.env_from_shell { set.clone() } else { BTreeMap::new() };
    let shared = fixtures::share(
        &snapshot,
        &fixtures::Options { agent: agent.clone(), keep_email: options.keep_email, env },
    )?;
    let mut unread = snapshot.notes.clone();
    if !snapshot.agents.iter().any(|a| a.agent == agent) {
        unread.push(format!("agent {agent}: no auth store in {}", snapshot.state_dir.display()));
    }
    if !options.env_from_shell && !set.is_empty() {
        let names: Vec<&str> = set.keys().map(String::as_str).collect();
        unread.push(format!(
            "env not captured: {} set in this shell (pass --env-from-shell to include fixtures for them)",
            names.join(", ")
        ));
    }
    let scenario = json!({
        "format": FORMAT_V1,
        "name": scenario_name(&options.output),
        "about": format!(
            "An OpenClaw setup{}, made by `dispatch-vcr scenario from-openclaw`: every secret is a fixture.",
            options.version.as_deref().map(|v| format!(" read as {v}")).unwrap_or_default()
        ),
        "dispatcher": "openclaw",
        "inputs": shared.inputs,
        "expect": {},
        "cassettes": {},
    });
    let mut text = serde_json::to_string_pretty(&scenario).unwrap_or_default();
    text.push('\n');
    files::write_atomically(&options.output, text.as_bytes())?;
    report(&options.output, &shared.replaced, &unread);
    Ok(0)
}

/// The variables OpenClaw may read: every provider's credential variables and the config's `${VAR}`s.
fn env_names(config: &serde_json::Value) -> Result<std::collections::BTreeSet<String>> {
    let catalog = Catalog::shipped()?;
    let mut names = fixtures::env_references(config);
    names.extend(catalog.providers.values().flat_map(|p| p.env.iter().map(|e| e.var.clone())));
    Ok(names)
}

fn scenario_name(output: &std::path::Path) -> String {
    output.file_stem().and_then(|s| s.to_str()).unwrap_or("my-setup").to_owned()
}

fn report(output: &std::path::Path, replaced: &[String], unread: &[String]) {
    let mut text = format!("wrote {}\nreplaced ({}):\n", output.display(), replaced.len());
    for line in replaced {
        text.push_str(&format!("  {line}\n"));
    }
    if !unread.is_empty() {
        text.push_str(&format!("not read ({}):\n", unread.len()));
        for line in unread {
            text.push_str(&format!("  {line}\n"));
        }
    }
    files::write_stderr(&text);
}
