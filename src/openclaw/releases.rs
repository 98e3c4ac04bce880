//! OpenClaw releases as input: the published list (as npm reports it), the
//! cache they are installed into, and the per-version steps of one turn —
//! data per version band, each rule saying where it comes from. `run
//! --openclaw`, `releases install`, `bisect` and `scripts/openclaw-matrix.sh`
//! (through them) read the same rules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::version::{Version, VersionRange};

/// One published release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version.
    pub version: Version,
    /// When npm says it was published (ISO 8601), if it says.
    pub published: Option<String>,
}

impl Release {
    /// Whether it is a pre-release (`2026.5.16-beta.4`).
    pub fn is_beta(&self) -> bool {
        self.version.is_prerelease()
    }
}

/// What `npm view openclaw versions time --json` prints.
#[derive(Debug, Deserialize)]
struct NpmView {
    versions: Vec<String>,
    #[serde(default)]
    time: BTreeMap<String, String>,
}

/// The releases in `npm view openclaw versions time --json` output, in
/// version order (a pre-release before its release). Versions that are not
/// calendar versions are left out.
pub fn parse_npm_view(json: &str) -> Result<Vec<Release>> {
    let view: NpmView = serde_json::from_str(json).map_err(|e| {
        Error::runtime(format!("npm answered something that is not a list of OpenClaw releases: {e}"))
    })?;
    let mut releases: Vec<Release> = view
        .versions
        .iter()
        .filter_map(|text| {
            let version = text.parse().ok()?;
            Some(Release { version, published: view.time.get(text).cloned() })
        })
        .collect();
    releases.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(releases)
}

/// A per-version step of one OpenClaw turn (or of its install).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Install with this npm override (`package`, `version`).
    Override(&'static str, &'static str),
    /// Run `openclaw ARGS…` before the turn (its output goes to `setup.out`).
    Setup(&'static [&'static str]),
    /// Ask for the model ref with this prefix replaced (`from`, `to`).
    RewriteModel(&'static str, &'static str),
}

/// A step for a version band, and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The versions it applies to.
    pub range: &'static str,
    /// What to do.
    pub step: Step,
    /// Why, and where that was found.
    pub why: &'static str,
}

/// Every per-version rule, in the order the steps run (docs/openclaw.md, "per-version steps").
pub const RULES: &[Rule] = &[
    Rule {
        range: "<2026.6.0-0",
        step: Step::Override("@openclaw/proxyline", "0.3.3"),
        why: "2026.5.x pins a @openclaw/proxyline release that was unpublished; 0.3.3 is the one that works \
              (npm install fails without it)",
    },
    Rule {
        range: ">=2026.5.28",
        step: Step::Setup(&["doctor", "--fix", "--non-interactive", "--yes"]),
        why: "2026.5.28's config schema dropped agents.*.agentRuntime, so every command but doctor refuses the \
              old-shape config; from 2026.5.30 doctor also imports auth-profiles.json into the SQLite store \
              the agent reads",
    },
    Rule {
        range: ">=2026.5.28 <2026.5.30",
        step: Step::RewriteModel("openai-codex/", "openai/"),
        why: "the doctor of 2026.5.28–29 rewrites openai-codex/<m> refs to openai/<m> and then refuses the old \
              ref as --model (\"Model override … is not allowed\")",
    },
    Rule {
        range: "<2026.5.30",
        step: Step::Setup(&["plugins", "registry", "--refresh"]),
        why: "without a registry refresh the bundled provider plugins are not found and the provider headers \
              (originator, version) are not sent",
    },
];

/// The rules that apply at `version`, in order.
pub fn rules_at(version: &Version) -> Vec<&'static Rule> {
    RULES
        .iter()
        .filter(|rule| rule.range.parse::<VersionRange>().is_ok_and(|range| range.contains(version)))
        .collect()
}

/// The steps of one turn at a version, gathered from [`RULES`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps {
    /// npm overrides for the install.
    pub overrides: Vec<(&'static str, &'static str)>,
    /// `openclaw ARGS…` commands before the turn.
    pub setup: Vec<&'static [&'static str]>,
    /// Model-ref prefix rewrites.
    pub rewrites: Vec<(&'static str, &'static str)>,
}

impl Steps {
    /// The steps at `version`.
    pub fn at(version: &Version) -> Self {
        let mut steps = Self::default();
        for rule in rules_at(version) {
            match rule.step {
                Step::Override(package, to) => steps.overrides.push((package, to)),
                Step::Setup(args) => steps.setup.push(args),
                Step::RewriteModel(from, to) => steps.rewrites.push((from, to)),
            }
        }
        steps
    }

    /// The `package.json` that installs OpenClaw `version` with its overrides.
    pub fn package_json(&self, version: &Version) -> String {
        let overrides: BTreeMap<&str, &str> = self.overrides.iter().copied().collect();
        serde_json::json!({"private": true, "dependencies": {"openclaw": version.to_string()}, "overrides": overrides})
            .to_string()
    }

    /// A POSIX shell script doing one turn: the setup commands (output to
    /// `$3/setup.out`), then `openclaw agent --local` for the run's agent and
    /// model (`$3/agent.json`, `$3/agent.err`), OpenClaw's log copied to
    /// `$3/openclaw.log`. Arguments: `$1` Node's bin folder, `$2` openclaw.mjs,
    /// `$3` the log folder, `$4` (optional) the pristine HOME of a Codex
    /// runtime plugin install, whose `.openclaw/` entries but `openclaw.json`
    /// are copied into HOME first — real copies: OpenClaw refuses hard-linked
    /// plugin files. Each command gets at most [`TURN_TIMEOUT_SECS`],
    /// and is [`SUPERVISE`]d so that a SIGINT or SIGTERM `run` passes on
    /// reaches Node (`timeout` puts it in a process group of its own).
    pub fn turn_script(&self) -> String {
        let mut script = format!(
            "set -u\n{SUPERVISE}export PATH=\"$1:$PATH\"\nmjs=$2 logs=$3\nmkdir -p \"$logs\"\n: >\"$logs/setup.out\"\n{PLUGIN}"
        );
        for args in &self.setup {
            script.push_str(&format!(
                "supervise timeout {TURN_TIMEOUT_SECS} node \"$mjs\" {} >>\"$logs/setup.out\" 2>&1\n\
                 echo \"setup exit status $?\" >>\"$logs/setup.out\"\n",
                args.join(" ")
            ));
        }
        for (from, to) in &self.rewrites {
            script.push_str(&format!(
                "case ${{DISPATCH_VCR_RUN_MODEL:-}} in {from}*) \
                 DISPATCH_VCR_RUN_MODEL={to}${{DISPATCH_VCR_RUN_MODEL#{from}}} ;; esac\n"
            ));
        }
        script.push_str(
            "set -- agent --local --agent \"$DISPATCH_VCR_RUN_AGENT\" -m hi --json\n\
             [ -n \"${DISPATCH_VCR_RUN_MODEL:-}\" ] && set -- \"$@\" --model \"$DISPATCH_VCR_RUN_MODEL\"\n",
        );
        script.push_str(&format!(
            "supervise env OPENCLAW_LOG_LEVEL=debug timeout {TURN_TIMEOUT_SECS} node \"$mjs\" \"$@\" \
             >\"$logs/agent.json\" 2>\"$logs/agent.err\"\nstatus=$?\n\
             cp \"$DISPATCH_VCR_RUN_LOG\" \"$logs/openclaw.log\" 2>/dev/null\nexit $status\n"
        ));
        script
    }
}

/// The turn script's copy of a Codex runtime plugin install (`$4`) into HOME.
const PLUGIN: &str = "if [ -n \"${4:-}\" ]; then\n  for entry in \"$4\"/.openclaw/*; do\n    \
    [ \"$(basename \"$entry\")\" = openclaw.json ] || cp -a \"$entry\" \"$HOME/.openclaw/\"\n  done\nfi\n";

/// A shell function `supervise CMD…`: runs CMD in the background and waits
/// for it, passing SIGINT and SIGTERM on as SIGTERM, and returns its status.
/// The shell itself would only be stopped: `timeout` leaves the process
/// group, so neither a terminal's Ctrl-C nor `run` passing a signal to the
/// shell reaches Node otherwise.
pub const SUPERVISE: &str = "supervise() {\n  \"$@\" &\n  child=$!\n  trap 'kill -TERM $child 2>/dev/null' INT TERM\n  \
    wait $child\n  status=$?\n  while kill -0 $child 2>/dev/null; do wait $child; status=$?; done\n  trap - INT TERM\n  \
    return $status\n}\n";

/// At most this long for each OpenClaw command of a turn.
pub const TURN_TIMEOUT_SECS: u32 = 300;

/// What OpenClaw says when a turn stops before any request for a reason
/// that is not the scenario's: the release cannot run it offline.
pub const INCONCLUSIVE_SIGNS: &[(&str, &str)] = &[
    (
        "Agent harness runtime \"codex\" is unavailable",
        "the Codex runtime plugin is not installed, and cannot be offline (`releases install VERSION --codex` \
         installs it where npm has one)",
    ),
    (
        "Requested agent harness \"codex\" is not registered",
        "the release routes the model to a Codex runtime it has no plugin for",
    ),
    ("owner-plugin-not-activatable", "the model's owner plugin cannot be activated offline"),
];

/// Why the logs in `text` say the turn could not run, if they say it.
pub fn inconclusive_reason(text: &str) -> Option<&'static str> {
    INCONCLUSIVE_SIGNS.iter().find(|(sign, _)| text.contains(sign)).map(|(_, why)| *why)
}

/// The folder releases are installed into, laid out as
/// `scripts/openclaw-matrix.sh` lays it out: `node/` (Node 24 from npm's
/// `node-linux-<arch>` package) and `oc-<version>/` (that release).
#[derive(Debug, Clone)]
pub struct Cache {
    /// The folder.
    pub root: PathBuf,
}

impl Cache {
    /// `--cache DIR`, else `$OPENCLAW_CACHE`, else `home/openclaw`.
    pub fn locate(asked: Option<&Path>, home: impl FnOnce() -> Result<PathBuf>) -> Result<Self> {
        let root = match (asked, std::env::var_os("OPENCLAW_CACHE").filter(|v| !v.is_empty())) {
            (Some(dir), _) => dir.to_owned(),
            (None, Some(dir)) => PathBuf::from(dir),
            (None, None) => home()?.join("openclaw"),
        };
        Ok(Self { root })
    }

    /// npm's package of Node for this machine.
    pub fn node_package() -> String {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "x64",
            "aarch64" => "arm64",
            other => other,
        };
        format!("node-{}-{arch}", std::env::consts::OS)
    }

    /// Where Node's package is installed.
    pub fn node_dir(&self) -> PathBuf {
        self.root.join("node")
    }

    /// Node's `bin` folder.
    pub fn node_bin(&self) -> PathBuf {
        self.node_dir().join("node_modules").join(Self::node_package()).join("bin")
    }

    /// Where `version` is installed.
    pub fn release_dir(&self, version: &Version) -> PathBuf {
        self.root.join(format!("oc-{version}"))
    }

    /// The release's entry point.
    pub fn openclaw_mjs(&self, version: &Version) -> PathBuf {
        self.release_dir(version).join("node_modules/openclaw/openclaw.mjs")
    }

    /// Whether Node and `version` are installed.
    pub fn has(&self, version: &Version) -> bool {
        self.node_bin().join("node").is_file() && self.openclaw_mjs(version).is_file()
    }

    /// The HOME the Codex runtime plugin of `version` is installed under and
    /// every run with it uses: the plugin's install records hold absolute
    /// paths, so it is always this one path.
    pub fn run_home(&self, version: &Version) -> PathBuf {
        self.root.join("homes").join(version.to_string())
    }

    /// The pristine copy of [`Cache::run_home`] after the plugin's install,
    /// put back into it before each run.
    pub fn codex_home(&self, version: &Version) -> PathBuf {
        self.root.join(format!("codex-{version}"))
    }

    /// Whether the Codex runtime plugin of `version` is installed.
    pub fn has_codex(&self, version: &Version) -> bool {
        self.codex_home(version).join(".openclaw/npm").is_dir()
    }
}

/// The `@openclaw/codex` release for OpenClaw `version`, out of the
/// published `plugin_versions`: the newest of the same month not newer than
/// it (2026.9.6 runs with 2026.9.5: not every release publishes its own).
/// npm has it for 2026.9.4 and 2026.9.5 only, both with peerDependencies
/// `openclaw >=2026.9.4` (the package's manifest), so releases before 2026.9.4
/// cannot run the Codex runtime offline.
pub fn codex_plugin_for<'a>(version: &Version, plugin_versions: &'a [String]) -> Option<&'a str> {
    plugin_versions
        .iter()
        .filter_map(|text| Some((text.parse::<Version>().ok()?, text.as_str())))
        .filter(|(v, _)| v.major == version.major && v.minor == version.minor && v <= version)
        .max()
        .map(|(_, text)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    #[test]
    fn every_rule_range_parses() {
        for rule in RULES {
            assert!(rule.range.parse::<VersionRange>().is_ok(), "{}", rule.range);
        }
    }

    #[test]
    fn the_steps_follow_the_bands_the_scripts_know() {
        let refresh: &[&str] = &["plugins", "registry", "--refresh"];
        let doctor: &[&str] = &["doctor", "--fix", "--non-interactive", "--yes"];
        let old = Steps::at(&v("2026.5.16-beta.4"));
        assert_eq!(old.overrides, [("@openclaw/proxyline", "0.3.3")]);
        assert_eq!(old.setup, [refresh]);
        assert!(old.rewrites.is_empty());
        let doctor_and_refresh = Steps::at(&v("2026.5.28"));
        assert_eq!(doctor_and_refresh.setup, [doctor, refresh]);
        assert_eq!(doctor_and_refresh.rewrites, [("openai-codex/", "openai/")]);
        let migrated = Steps::at(&v("2026.5.30"));
        assert_eq!((migrated.setup.as_slice(), migrated.rewrites.is_empty()), ([doctor].as_slice(), true));
        assert!(Steps::at(&v("2026.6.35")).overrides.is_empty());
    }

    #[test]
    fn package_json_carries_the_overrides() {
        let json: serde_json::Value =
            serde_json::from_str(&Steps::at(&v("2026.5.12")).package_json(&v("2026.5.12"))).unwrap();
        assert_eq!(json["dependencies"]["openclaw"], "2026.5.12");
        assert_eq!(json["overrides"]["@openclaw/proxyline"], "0.3.3");
    }

    #[test]
    fn the_turn_script_runs_setup_then_the_agent() {
        let script = Steps::at(&v("2026.5.28")).turn_script();
        let doctor = script.find("doctor --fix").unwrap();
        let refresh = script.find("plugins registry --refresh").unwrap();
        let agent = script.find("agent --local").unwrap();
        assert!(doctor < refresh && refresh < agent, "{script}");
        assert!(script.contains("DISPATCH_VCR_RUN_MODEL=openai/${DISPATCH_VCR_RUN_MODEL#openai-codex/}"));
        let status = std::process::Command::new("sh").args(["-n", "-c", &script]).status().unwrap();
        assert!(status.success(), "the script parses: {script}");
    }

    #[test]
    fn the_codex_plugin_is_the_newest_of_the_month_not_newer() {
        let published: Vec<String> =
            ["2026.8.30", "2026.9.4", "2026.9.5", "2026.10.1"].map(String::from).into();
        assert_eq!(codex_plugin_for(&v("2026.9.6"), &published), Some("2026.9.5"));
        assert_eq!(codex_plugin_for(&v("2026.9.4"), &published), Some("2026.9.4"));
        assert_eq!(codex_plugin_for(&v("2026.9.3"), &published), None);
        assert_eq!(codex_plugin_for(&v("2026.7.35"), &published), None);
    }

    #[test]
    fn npm_view_is_sorted_in_version_order_with_dates_and_betas() {
        let json = r#"{"versions": ["2026.9.6", "2026.5.16-beta.4", "2026.5.16", "0.0.0-nightly.x", "latest"],
                       "time": {"2026.9.6": "2026-09-20T10:00:00.000Z", "created": "2025-01-01"}}"#;
        let releases = parse_npm_view(json).unwrap();
        let names: Vec<String> = releases.iter().map(|r| r.version.to_string()).collect();
        assert_eq!(names, ["0.0.0-nightly.x", "2026.5.16-beta.4", "2026.5.16", "2026.9.6"]);
        assert!(releases[1].is_beta() && !releases[2].is_beta());
        assert_eq!(releases[3].published.as_deref(), Some("2026-09-20T10:00:00.000Z"));
        assert!(parse_npm_view("not json").unwrap_err().message().contains("npm answered"));
    }

    #[test]
    fn missing_codex_runtime_is_inconclusive() {
        let log = "error: Agent harness runtime \"codex\" is unavailable (reason=x)";
        assert!(inconclusive_reason(log).unwrap().contains("Codex runtime plugin"));
        assert_eq!(inconclusive_reason("No API key found for provider \"openai\""), None);
    }

    #[test]
    fn the_cache_is_asked_or_under_the_home() {
        let cache = Cache::locate(Some(Path::new("/c")), || unreachable!()).unwrap();
        assert_eq!(
            cache.openclaw_mjs(&v("2026.9.6")),
            Path::new("/c/oc-2026.9.6/node_modules/openclaw/openclaw.mjs")
        );
        assert!(cache.node_bin().display().to_string().starts_with("/c/node/node_modules/node-"));
        assert!(!cache.has(&v("2026.9.6")));
    }
}
