//! A stand-in npm (`DISPATCH_VCR_NPM`) and a stand-in OpenClaw to install
//! with it, so `releases`, `run --openclaw` and `bisect` run their real code
//! paths without the network: [`FakeNpm`].
//!
//! The stand-in OpenClaw is its "Node": a shell script that `run --openclaw`
//! starts as `node openclaw.mjs ARGS` (the release is in the mjs path,
//! `oc-VERSION/`). Setup commands succeed; `agent` sends one OpenAI
//! Responses call with curl through the run's proxy, as the scenario's
//! `OPENAI_API_KEY` would be sent — without the bearer before
//! [`Behaviour::bearer_from`] (the wire of openclaw/openclaw#83380).

use std::path::{Path, PathBuf};

/// The npm script: `view` prints `view.json` beside it (`codex.json` for
/// the Codex runtime plugin), `install` lays out
/// what the package.json in the current folder asks for (OpenClaw's
/// openclaw.mjs, or Node as a copy of `node` beside it), `config get
/// registry` names a loopback registry. `FAKE_NPM_DOWN=1` fails like an
/// unreachable registry.
const NPM: &str = r#"#!/bin/sh
here=$(dirname "$0")
if [ -n "${FAKE_NPM_DOWN:-}" ]; then echo "npm error code ECONNREFUSED" >&2; exit 1; fi
case "$1" in
  view) if [ "$2" = @openclaw/codex ]; then cat "$here/codex.json"; else cat "$here/view.json"; fi ;;
  config) echo "http://127.0.0.1:9/" ;;
  install)
    if grep -q '"openclaw"' package.json; then
      mkdir -p node_modules/openclaw && : > node_modules/openclaw/openclaw.mjs
    else
      dir=$(sed -E 's/.*"(node-[a-z0-9-]+)".*/\1/' package.json)
      mkdir -p "node_modules/$dir/bin" && cp "$here/node" "node_modules/$dir/bin/node"
    fi ;;
esac
"#;

/// The default release list: a beta, dates for two releases only.
pub const VIEW: &str = r#"{"versions": ["2026.9.6", "2026.5.16-beta.4", "2026.5.12", "2026.9.5"],
  "time": {"2026.5.12": "2026-05-12T09:00:00.000Z", "2026.9.6": "2026-09-20T10:00:00.000Z"}}"#;

/// What the stand-in OpenClaw does on `agent`, by release.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// The first release that sends the bearer; older ones send none.
    pub bearer_from: String,
    /// Releases that stop before any request as OpenClaw does when its Codex runtime is missing.
    pub inconclusive: Vec<String>,
    /// Releases whose `agent` hangs (as `exec sleep`), writing its pid to this file first.
    pub hang: Option<(String, PathBuf)>,
    /// The published `@openclaw/codex` versions; `plugins install` puts a plugin under `$HOME/.openclaw/npm`.
    pub codex_plugins: Vec<String>,
    /// Whether `agent` stops as OpenClaw does without the Codex runtime plugin in HOME.
    pub needs_codex: bool,
}

impl Behaviour {
    /// The stand-in Node script.
    fn node(&self) -> String {
        let (hang_version, pid_file) = match &self.hang {
            Some((version, file)) => (version.as_str(), file.display().to_string()),
            None => ("", String::new()),
        };
        format!(
            r#"#!/bin/sh
version=$(echo "$1" | sed -E 's#.*/oc-([^/]+)/.*#\1#'); shift
plugin=$HOME/.openclaw/npm/@openclaw/codex
if [ "$1 $2" = "plugins install" ]; then mkdir -p "$plugin" && echo "$3" > "$plugin/installed"; exit 0; fi
[ "$1" = agent ] || {{ echo "stand-in openclaw $version: $1 done"; exit 0; }}
case " {inconclusive} " in *" $version "*)
  echo 'error: Agent harness runtime "codex" is unavailable (stand-in)' >&2; exit 1 ;; esac
if {needs_codex} && [ ! -f "$plugin/installed" ]; then
  echo 'error: Agent harness runtime "codex" is unavailable (stand-in)' >&2; exit 1
fi
if [ "$version" = "{hang_version}" ]; then echo $$ > "{pid_file}"; exec sleep 60; fi
auth="x-stand-in: no bearer"
if [ "$(printf '%s\n%s\n' "{from}" "$version" | sort -V | head -n1)" = "{from}" ]; then
  auth="authorization: Bearer $OPENAI_API_KEY"
fi
exec curl -sS -o /dev/null -A "openclaw/$version (stand-in)" -H "originator: openclaw" -H "$auth" \
  -H 'content-type: application/json' -d '{{"model": "gpt-5.5", "input": "hi", "store": false}}' \
  https://api.openai.com/v1/responses
"#,
            inconclusive = self.inconclusive.join(" "),
            needs_codex = self.needs_codex,
            from = self.bearer_from,
        )
    }
}

/// A stand-in npm in a folder of its own; pass [`FakeNpm::path`] as `DISPATCH_VCR_NPM`.
pub struct FakeNpm {
    dir: tempfile::TempDir,
}

impl FakeNpm {
    /// npm listing `view` (npm's `view openclaw versions time --json`), installing a Node that behaves as `node`.
    pub fn new(view: &str, node: &Behaviour) -> Self {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str, mode: u32| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("npm", NPM, 0o755);
        write("node", &node.node(), 0o755);
        write("view.json", view, 0o644);
        write("codex.json", &serde_json::json!(node.codex_plugins).to_string(), 0o644);
        Self { dir }
    }

    /// The npm program.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("npm")
    }

    /// The folder it lives in (scratch space for a test too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// `npm view` output listing `versions`, without dates.
pub fn view_of(versions: &[&str]) -> String {
    serde_json::json!({"versions": versions}).to_string()
}
