//! `scenario from-openclaw [--home DIR] [--cassette REC] -o FILE`: a user's OpenClaw setup as a
//! shareable scenario, every secret replaced by a look-alike fixture, and the cassettes recorded
//! with that setup rebound to the fixtures (docs/scenario.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cassette::{self, Cassette};
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
    /// The HOME OpenClaw ran with (holding `.openclaw/`), or its state folder itself.
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
    /// Cassettes recorded with this setup, to rebind to the fixtures and ship beside the scenario.
    pub cassettes: Vec<PathBuf>,
}

/// A cassette of the setup, rebound, and where it goes.
struct Rebound {
    version: Version,
    /// Beside the scenario: `<scenario stem>.<version>.cassette.json`.
    path: PathBuf,
    cassette: Cassette,
}

/// Read the home, write the scenario, say on stderr what was replaced and what was not read.
pub fn run(options: &Options) -> Result<u8> {
    files::check_output("-o", &options.output, "my-setup.json")?;
    refuse_existing("-o", &options.output, options.force)?;
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
    // OpenClaw loads the home's dotenv files for what the process has not set.
    let mut env: BTreeMap<String, String> = snapshot
        .dotenv
        .iter()
        .filter(|(n, _)| names.contains(*n))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let from_dotenv: Vec<String> = env.keys().cloned().collect();
    if options.env_from_shell {
        env.extend(set.clone());
    }
    let mut shared = fixtures::share(
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
    let mut replaced = shared.replaced.clone();
    let mut rebound = Vec::new();
    for path in &options.cassettes {
        let (one, count) = rebind(path, options, version.as_ref(), &mut shared.rebinding)?;
        if rebound.iter().any(|r: &Rebound| r.version == one.version) {
            return Err(Error::input(format!(
                "--cassette {}: a second cassette of {}; give one cassette per release",
                path.display(),
                one.version
            )));
        }
        replaced.push(format!(
            "cassette {} → {}: {count} fingerprint(s) rebound to the fixtures'",
            path.display(),
            one.path.display()
        ));
        rebound.push(one);
    }
    let cassettes: BTreeMap<String, String> = rebound
        .iter()
        .map(|r| {
            (r.version.to_string(), r.path.file_name().unwrap_or_default().to_string_lossy().into_owned())
        })
        .collect();
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
        "cassettes": cassettes,
    });
    let mut text = serde_json::to_string_pretty(&scenario).unwrap_or_default();
    text.push('\n');
    for one in &rebound {
        cassette::save(&one.path, &one.cassette)?;
    }
    files::write_atomically(&options.output, text.as_bytes())?;
    let mut read: Vec<String> =
        snapshot.agents.iter().map(|a| format!("agent {}: {}", a.agent, a.source)).collect();
    if !from_dotenv.is_empty() {
        read.push(format!("dotenv: {}", from_dotenv.join(", ")));
    }
    report(&options.output, &read, &replaced, &unread);
    Ok(0)
}

/// `--cassette PATH` rebound to the scenario's fixtures, and where it goes.
fn rebind(
    path: &Path,
    options: &Options,
    version: Option<&Version>,
    rebinding: &mut fixtures::Rebinding,
) -> Result<(Rebound, usize)> {
    let recorded = cassette::load(path)?;
    let version = match (recorded.meta.dispatcher.as_ref(), version) {
        (Some(d), _) => d.version.parse::<Version>().map_err(|e| {
            Error::input(format!("--cassette {}: meta.dispatcher.version: {e}", path.display()))
        })?,
        (None, Some(v)) => v.clone(),
        (None, None) => {
            return Err(Error::input(format!(
                "--cassette {}: it does not say which release recorded it (no meta.dispatcher); \
                 pass --version V",
                path.display()
            )));
        }
    };
    let value = serde_json::to_value(&recorded)
        .map_err(|e| Error::runtime(format!("cannot serialise the cassette: {e}")))?;
    let (value, count) = rebinding.cassette(&value)?;
    let cassette = serde_json::from_value(value)
        .map_err(|e| Error::runtime(format!("the rebound cassette does not load back: {e}")))?;
    let stem = options.output.file_stem().and_then(|s| s.to_str()).unwrap_or("my-setup");
    let out = options.output.with_file_name(format!("{stem}.{version}.cassette.json"));
    refuse_existing("--cassette: the rebound cassette", &out, options.force)?;
    Ok((Rebound { version, path: out, cassette }, count))
}

/// An error for an existing `path` unless `force`.
fn refuse_existing(what: &str, path: &Path, force: bool) -> Result<()> {
    match path.exists() && !force {
        true => Err(Error::input(format!(
            "{what} {}: exists; pass --force to replace it, or name another file",
            path.display()
        ))),
        false => Ok(()),
    }
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

/// What was written, read, replaced and left unread, one section each.
fn report(output: &Path, read: &[String], replaced: &[String], unread: &[String]) {
    let mut text = format!("wrote {}\n", output.display());
    for (heading, lines) in [("read", read), ("replaced", replaced), ("not read", unread)] {
        if lines.is_empty() && heading != "replaced" {
            continue;
        }
        text.push_str(&format!("{heading} ({}):\n", lines.len()));
        for line in lines {
            text.push_str(&format!("  {line}\n"));
        }
    }
    files::write_stderr(&text);
}
