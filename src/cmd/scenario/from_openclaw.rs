//! `scenario from-openclaw [--home DIR] [--cassette REC] -o FILE`: a user's OpenClaw setup as a
//! shareable scenario, every secret replaced by a look-alike fixture, and the cassettes recorded
//! with that setup rebound to the fixtures (docs/scenario.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cassette::{self, Cassette};
use crate::credential;
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
    let env = Environment::of(&snapshot, options.env_from_shell)?;
    let mut shared = fixtures::share(
        &snapshot,
        &fixtures::Options { agent: agent.clone(), keep_email: options.keep_email, env: env.taken.clone() },
    )?;
    let mut replaced = shared.replaced.clone();
    let rebound = rebind_all(options, version.as_ref(), &mut shared.rebinding, &mut replaced)?;
    let text = scenario_text(options, &shared.inputs, &rebound);
    for one in &rebound {
        cassette::save(&one.path, &one.cassette)?;
    }
    files::write_atomically(&options.output, text.as_bytes())?;

    let mut read: Vec<String> =
        snapshot.agents.iter().map(|a| format!("agent {}: {}", a.agent, a.source)).collect();
    read.extend((!env.from_dotenv.is_empty()).then(|| format!("dotenv: {}", env.from_dotenv.join(", "))));
    let mut unread = snapshot.notes.clone();
    if !snapshot.agents.iter().any(|a| a.agent == agent) {
        unread.push(format!("agent {agent}: no auth store in {}", snapshot.state_dir.display()));
    }
    unread.extend(env.not_captured());
    report(&options.output, &read, &replaced, &unread);
    say_audit(options, &rebound, &shared.rebinding, &text);
    Ok(0)
}

/// The provider variables OpenClaw would read, and which of them the scenario takes.
struct Environment {
    /// Set in this shell (taken only with `--env-from-shell`).
    shell: BTreeMap<String, String>,
    /// What the scenario's `inputs.env` gets, before fixtures.
    taken: BTreeMap<String, String>,
    /// The names that came from the home's dotenv files.
    from_dotenv: Vec<String>,
    env_from_shell: bool,
}

impl Environment {
    fn of(snapshot: &home::HomeSnapshot, env_from_shell: bool) -> Result<Self> {
        let names = env_names(&snapshot.config)?;
        let shell: BTreeMap<String, String> = names
            .iter()
            .filter_map(|n| Some((n.clone(), std::env::var(n).ok().filter(|v| !v.is_empty())?)))
            .collect();
        // OpenClaw loads the home's dotenv files for what the process has not set.
        let mut taken: BTreeMap<String, String> = snapshot
            .dotenv
            .iter()
            .filter(|(n, _)| names.contains(*n))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let from_dotenv = taken.keys().cloned().collect();
        if env_from_shell {
            taken.extend(shell.clone());
        }
        Ok(Self { shell, taken, from_dotenv, env_from_shell })
    }

    /// The note on variables set in the shell but not taken.
    fn not_captured(&self) -> Option<String> {
        let names: Vec<&str> = self.shell.keys().map(String::as_str).collect();
        (!self.env_from_shell && !names.is_empty()).then(|| {
            format!(
                "env not captured: {} set in this shell (pass --env-from-shell to include fixtures for them)",
                names.join(", ")
            )
        })
    }
}

/// Every `--cassette` rebound (one per release), a line each in `replaced`.
fn rebind_all(
    options: &Options,
    version: Option<&Version>,
    rebinding: &mut fixtures::Rebinding,
    replaced: &mut Vec<String>,
) -> Result<Vec<Rebound>> {
    let mut rebound: Vec<Rebound> = Vec::new();
    for path in &options.cassettes {
        let (one, count) = rebind(path, options, version, rebinding)?;
        if rebound.iter().any(|r| r.version == one.version) {
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
    Ok(rebound)
}

/// The scenario file: the inputs, no expectation yet, the rebound cassettes.
fn scenario_text(options: &Options, inputs: &serde_json::Value, rebound: &[Rebound]) -> String {
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
        "inputs": inputs,
        "expect": {},
        "cassettes": cassettes,
    });
    let mut text = serde_json::to_string_pretty(&scenario).unwrap_or_default();
    text.push('\n');
    text
}

/// The `audit` command that checks what was written, the fixtures in clear allowed by fingerprint.
fn say_audit(options: &Options, rebound: &[Rebound], rebinding: &fixtures::Rebinding, text: &str) {
    let allow: String = rebinding
        .fixtures()
        .into_iter()
        .filter(|f| text.contains(f))
        .map(|f| format!(" --allow {}", credential::fingerprint(f)))
        .collect();
    if !allow.is_empty() {
        let cassettes: String = rebound.iter().map(|r| format!(" {}", r.path.display())).collect();
        files::say(format_args!(
            "audit it (the fixtures in clear are allowed by fingerprint): dispatch-vcr audit {}{cassettes}{allow}",
            options.output.display(),
        ));
    }
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
