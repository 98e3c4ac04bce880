//! `releases list` and `releases install VERSION`: OpenClaw's published
//! releases through npm, and installs of Node 24 and a release into the cache
//! (`--cache DIR`, else `$OPENCLAW_CACHE`, else `$DISPATCH_VCR_HOME/openclaw`).
//!
//! npm is run as `npm`, or as `$DISPATCH_VCR_NPM` when set (another npm, or
//! a stand-in for tests). An install goes to `.NAME.partial` beside its final
//! folder and is renamed into place when npm is done, so an interrupted one
//! (Ctrl-C) leaves the cache as it was; the next install starts it afresh.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::files;
use crate::openclaw::releases::{self, Cache, Release, Steps, codex_plugin_for};
use crate::report::ShardInfo;
use crate::scenario::runner::in_shard;
use crate::version::Version;

/// What `releases` was asked to do.
#[derive(Debug, Clone)]
pub enum Options {
    /// `releases list`.
    List(ListOptions),
    /// `releases install VERSION [--codex]`.
    Install {
        /// The release.
        version: String,
        /// `--codex`: the Codex runtime plugin too, where npm has one for the release.
        codex: bool,
        /// `--cache DIR`.
        cache: Option<PathBuf>,
    },
}

/// `releases list [--stable] [--from V] [--to V] [--shard I/N] [--quiet]`.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Leave pre-releases out.
    pub stable: bool,
    /// `--from V`: only releases at or after it.
    pub from: Option<String>,
    /// `--to V`: only releases at or before it.
    pub to: Option<String>,
    /// `--shard I/N` of the releases left, round robin in version order.
    pub shard: Option<ShardInfo>,
    /// `--quiet`: the versions alone.
    pub quiet: bool,
    /// `--cache DIR`, to mark what is installed.
    pub cache: Option<PathBuf>,
}

/// Run it; 0 on success.
pub fn run(options: &Options) -> Result<u8> {
    match options {
        Options::List(list) => {
            let mut out = String::new();
            let cache = locate(list.cache.as_deref())?;
            for release in listed(list)? {
                if list.quiet {
                    out.push_str(&format!("{}\n", release.version));
                } else {
                    out.push_str(&list_line(&release, cache.has(&release.version)));
                }
            }
            files::write_stdout(&out)?;
            Ok(0)
        }
        Options::Install { version, codex, cache } => {
            let version = parse_version("VERSION", version)?;
            let cache = locate(cache.as_deref())?;
            install(&cache, &version)?;
            if *codex {
                install_codex(&cache, &version)?;
            }
            files::write_stdout(&format!("{}\n", cache.openclaw_mjs(&version).display()))?;
            Ok(0)
        }
    }
}

/// The published releases `list` keeps, in version order.
fn listed(list: &ListOptions) -> Result<Vec<Release>> {
    let from = list.from.as_deref().map(|v| parse_version("--from", v)).transpose()?;
    let to = list.to.as_deref().map(|v| parse_version("--to", v)).transpose()?;
    if let (Some(from), Some(to)) = (&from, &to)
        && from > to
    {
        return Err(Error::input(format!(
            "--from {from} is after --to {to}: give the older release to --from"
        )));
    }
    let kept = published()?.into_iter().filter(|r| {
        !(list.stable && r.is_beta())
            && from.as_ref().is_none_or(|v| &r.version >= v)
            && to.as_ref().is_none_or(|v| &r.version <= v)
    });
    Ok(kept.enumerate().filter(|(position, _)| in_shard(*position, list.shard)).map(|(_, r)| r).collect())
}

/// `VERSION` of `flag` as a version, or exit 2 naming it.
pub(crate) fn parse_version(flag: &str, text: &str) -> Result<Version> {
    text.parse().map_err(|e| {
        Error::input(format!("{flag} {text}: {e} (e.g. 2026.9.6; `dispatch-vcr releases list`)"))
    })
}

/// The cache folder for `--cache`.
pub(crate) fn locate(asked: Option<&Path>) -> Result<Cache> {
    Cache::locate(asked, crate::ca::home_dir)
}

/// `2026.9.6            2026-09-20  beta  installed`.
fn list_line(release: &Release, installed: bool) -> String {
    let date = release.published.as_deref().map_or("", |d| d.get(..10).unwrap_or(d));
    let beta = if release.is_beta() { "beta" } else { "" };
    let installed = if installed { "installed" } else { "" };
    format!("{:<20}{date:<12}{beta:<6}{installed}", release.version.to_string()).trim_end().to_owned() + "\n"
}

/// The npm program.
fn npm() -> Command {
    Command::new(std::env::var_os("DISPATCH_VCR_NPM").unwrap_or_else(|| "npm".into()))
}

/// Run npm with `args` (in `dir`), returning its stdout; a runtime error
/// (exit 3) naming what failed when it cannot start or fails.
fn npm_output(args: &[&str], dir: Option<&Path>) -> Result<String> {
    let mut command = npm();
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let shown = format!("npm {}", args.join(" "));
    let output = command.output().map_err(|e| {
        Error::runtime(format!(
            "{shown}: cannot run npm ({e}); install Node.js with npm, or set DISPATCH_VCR_NPM"
        ))
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).rev().take(3).collect();
        return Err(Error::runtime(format!(
            "{shown} failed ({}): {}; is npm's registry reachable? (`npm config get registry` names it)",
            output.status,
            last.into_iter().rev().collect::<Vec<_>>().join(" / ")
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Every published release of OpenClaw, in version order.
pub fn published() -> Result<Vec<Release>> {
    releases::parse_npm_view(&npm_output(&["view", "openclaw", "versions", "time", "--json"], None)?)
}

/// The host of npm's registry (`npm config get registry`), when npm names one.
pub(crate) fn registry_host() -> Option<String> {
    let url = npm_output(&["config", "get", "registry"], None).ok()?;
    let rest = url.trim().split_once("://").map_or(url.trim(), |(_, rest)| rest);
    let host = rest.split(['/', ':']).next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

/// Install Node 24 and OpenClaw `version` into `cache` unless they are
/// there, saying what it does on stderr.
pub fn install(cache: &Cache, version: &Version) -> Result<()> {
    std::fs::create_dir_all(&cache.root).map_err(|e| Error::io("create", &cache.root, &e))?;
    if !cache.node_bin().join("node").is_file() {
        let json = serde_json::json!({"private": true, "dependencies": {Cache::node_package(): "^24"}});
        install_package(&cache.node_dir(), &json.to_string(), "Node 24", &[])?;
    }
    if !cache.openclaw_mjs(version).is_file() {
        let json = Steps::at(version).package_json(version);
        install_package(
            &cache.release_dir(version),
            &json,
            &format!("OpenClaw {version}"),
            &["--ignore-scripts"],
        )?;
    } else {
        files::say(format_args!(
            "OpenClaw {version} is installed in {}",
            cache.release_dir(version).display()
        ));
    }
    Ok(())
}

/// Install the Codex runtime plugin for `version` (installed already) into
/// the cache, unless it is there: `openclaw plugins install` of the
/// `@openclaw/codex` release npm has for it ([`codex_plugin_for`]), online,
/// with [`Cache::run_home`] as HOME, then moved to [`Cache::codex_home`]. A
/// release npm has no plugin for is said on stderr and left without one.
pub fn install_codex(cache: &Cache, version: &Version) -> Result<()> {
    if cache.has_codex(version) {
        files::say(format_args!(
            "the Codex runtime plugin of {version} is installed in {}",
            cache.codex_home(version).display()
        ));
        return Ok(());
    }
    let published = npm_output(&["view", "@openclaw/codex", "versions", "--json"], None)?;
    let published: Vec<String> = serde_json::from_str(&published).map_err(|e| {
        Error::runtime(format!("npm answered something that is not a list of @openclaw/codex releases: {e}"))
    })?;
    let Some(plugin) = codex_plugin_for(version, &published) else {
        files::say(format_args!(
            "no @openclaw/codex release fits OpenClaw {version} (npm has {}): it runs without the Codex runtime, \
             and scenarios that need it are inconclusive",
            published.join(", ")
        ));
        return Ok(());
    };
    let home = cache.run_home(version);
    remove_if_there(&home)?;
    std::fs::create_dir_all(&home).map_err(|e| Error::io("create", &home, &e))?;
    files::say(format_args!(
        "installing the Codex runtime plugin @openclaw/codex@{plugin} for {version} (online, ~340 MB) …"
    ));
    let started = Instant::now();
    let log = cache.root.join(format!("codex-{version}.install.log"));
    if let Err(e) = plugins_install(cache, version, &format!("@openclaw/codex@{plugin}"), &home, &log) {
        remove_if_there(&home)?;
        return Err(e);
    }
    remove_if_there(&home.join(".npm"))?;
    let pristine = cache.codex_home(version);
    std::fs::rename(&home, &pristine).map_err(|e| Error::io("rename into place", &pristine, &e))?;
    files::say(format_args!("installed the Codex runtime plugin in {} s", started.elapsed().as_secs()));
    Ok(())
}

/// `openclaw plugins install PACKAGE` of `version` with `home` as HOME and
/// only Node on the PATH, its output in `log`; at most [`PLUGIN_INSTALL_SECS`].
fn plugins_install(cache: &Cache, version: &Version, package: &str, home: &Path, log: &Path) -> Result<()> {
    let output = std::fs::File::create(log).map_err(|e| Error::io("create", log, &e))?;
    let errors = output.try_clone().map_err(|e| Error::io("open", log, &e))?;
    let path = format!("{}:/usr/bin:/bin", cache.node_bin().display());
    let mut command = Command::new("timeout");
    command
        .arg(PLUGIN_INSTALL_SECS.to_string())
        .arg(cache.node_bin().join("node"))
        .arg(cache.openclaw_mjs(version))
        .args(["plugins", "install", package, "--accept-capabilities", "--force", "--pin"])
        .current_dir(home)
        .env_clear()
        .envs([("PATH", path.as_str()), ("TERM", "dumb"), ("NO_COLOR", "1")])
        .env("HOME", home)
        .envs(["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"].iter().filter_map(|k| Some((k, std::env::var_os(k)?))))
        .stdout(output)
        .stderr(errors);
    let status =
        command.status().map_err(|e| Error::runtime(format!("cannot run OpenClaw {version}: {e}")))?;
    if !status.success() {
        return Err(Error::runtime(format!(
            "`openclaw plugins install {package}` of OpenClaw {version} failed ({status}); its output is in {}",
            log.display()
        )));
    }
    Ok(())
}

/// The longest a plugin install may take.
const PLUGIN_INSTALL_SECS: u32 = 900;

fn remove_if_there(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", dir, &e)),
        _ => Ok(()),
    }
}

/// `npm install` of `package_json` in `.NAME.partial`, renamed to `dir` when done.
fn install_package(dir: &Path, package_json: &str, what: &str, flags: &[&str]) -> Result<()> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = dir.with_file_name(format!(".{name}.partial"));
    remove_if_there(&partial)?;
    std::fs::create_dir_all(&partial).map_err(|e| Error::io("create", &partial, &e))?;
    let manifest = partial.join("package.json");
    std::fs::write(&manifest, package_json).map_err(|e| Error::io("write", &manifest, &e))?;
    files::say(format_args!("installing {what} into {} (npm install) …", dir.display()));
    let started = Instant::now();
    let mut args = vec!["install", "--no-audit", "--no-fund", "--loglevel=error"];
    args.extend(flags);
    npm_output(&args, Some(&partial)).map_err(|e| {
        Error::runtime(format!(
            "installing {what} failed: {} (the partial install is in {})",
            e.message(),
            partial.display()
        ))
    })?;
    if dir.exists() {
        // Another install finished first; its copy is as good.
        std::fs::remove_dir_all(&partial).map_err(|e| Error::io("remove", &partial, &e))?;
    } else {
        std::fs::rename(&partial, dir).map_err(|e| Error::io("rename into place", dir, &e))?;
    }
    files::say(format_args!("installed {what} in {} s", started.elapsed().as_secs()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_line_has_version_date_and_marks() {
        let release = |v: &str, date: Option<&str>| Release {
            version: v.parse().unwrap(),
            published: date.map(str::to_owned),
        };
        assert_eq!(
            list_line(&release("2026.5.16-beta.4", Some("2026-05-16T08:00:00.000Z")), true),
            "2026.5.16-beta.4    2026-05-16  beta  installed\n"
        );
        assert_eq!(list_line(&release("2026.9.6", None), false), "2026.9.6\n");
    }
}
