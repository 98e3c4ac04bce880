//! `releases list` and `releases install` through a stand-in npm
//! (`DISPATCH_VCR_NPM`): what is asked of npm, the order and marks of the
//! list, installs renamed into place, and npm failing (exit 3).

use std::path::{Path, PathBuf};

use crate::support::*;

/// An npm stand-in: `view` prints a release list, `install` lays out what
/// the package.json in the current folder asks for, `config get registry`
/// names a loopback registry. `FAKE_NPM_DOWN=1` fails like an unreachable registry.
const FAKE_NPM: &str = r#"#!/bin/sh
if [ -n "${FAKE_NPM_DOWN:-}" ]; then echo "npm error code ECONNREFUSED" >&2; exit 1; fi
case "$1" in
  view) echo '{"versions": ["2026.9.6", "2026.5.16-beta.4", "2026.5.12", "2026.9.5"],
               "time": {"2026.5.12": "2026-05-12T09:00:00.000Z", "2026.9.6": "2026-09-20T10:00:00.000Z"}}' ;;
  config) echo "http://127.0.0.1:9/" ;;
  install)
    if grep -q '"openclaw"' package.json; then
      mkdir -p node_modules/openclaw && : > node_modules/openclaw/openclaw.mjs
    else
      dir=$(sed -E 's/.*"(node-[a-z0-9-]+)".*/\1/' package.json)
      mkdir -p "node_modules/$dir/bin" && : > "node_modules/$dir/bin/node"
    fi ;;
esac
"#;

fn fake_npm(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("npm");
    std::fs::write(&path, FAKE_NPM).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn releases(dir: &Path, args: &[&str], down: bool) -> (i32, String, String) {
    let bin = Bin::new();
    let mut command = bin.command(["releases"].iter().chain(args));
    command.env("DISPATCH_VCR_NPM", fake_npm(dir)).env_remove("OPENCLAW_CACHE");
    if down {
        command.env("FAKE_NPM_DOWN", "1");
    }
    let output = tokio::time::timeout(GUARD, command.output()).await.unwrap().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[tokio::test]
async fn list_is_in_version_order_with_dates_betas_and_installs() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let cache_flag = cache.to_str().unwrap();
    let (code, stdout, stderr) =
        releases(dir.path(), &["install", "2026.5.12", "--cache", cache_flag], false).await;
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout_list, _) = releases(dir.path(), &["list", "--cache", cache_flag], false).await;
    assert_eq!(code, 0);
    assert_eq!(
        stdout_list,
        "2026.5.12           2026-05-12        installed\n2026.5.16-beta.4                beta\n2026.9.5\n\
         2026.9.6            2026-09-20\n"
    );
    let (_, stable, _) = releases(dir.path(), &["list", "--stable"], false).await;
    assert!(!stable.contains("beta"), "{stable}");
    assert_eq!(
        stdout.trim(),
        cache.join("oc-2026.5.12/node_modules/openclaw/openclaw.mjs").display().to_string()
    );
}

#[tokio::test]
async fn install_renames_into_place_with_the_releases_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // What an interrupted install leaves: restarted, never used.
    std::fs::create_dir_all(cache.join(".oc-2026.5.12.partial/junk")).unwrap();
    let args = ["install", "2026.5.12", "--cache", cache.to_str().unwrap()];
    let (code, _, stderr) = releases(dir.path(), &args, false).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("installing Node 24 into") && stderr.contains("installing OpenClaw 2026.5.12 into")
    );
    let manifest = std::fs::read_to_string(cache.join("oc-2026.5.12/package.json")).unwrap();
    assert!(manifest.contains(r#""@openclaw/proxyline":"0.3.3""#), "{manifest}");
    let names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".partial")), "{names:?}");
    let (code, _, again) = releases(dir.path(), &args, false).await;
    assert_eq!(code, 0);
    assert!(again.contains("OpenClaw 2026.5.12 is installed in") && !again.contains("installing"), "{again}");
}

#[tokio::test]
async fn npm_unreachable_is_a_runtime_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = releases(dir.path(), &["list"], true).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("npm view openclaw versions time --json failed"), "{stderr}");
    assert!(stderr.contains("ECONNREFUSED") && stderr.contains("registry reachable"), "{stderr}");
    let cache = dir.path().join("cache");
    let (code, _, stderr) =
        releases(dir.path(), &["install", "2026.9.6", "--cache", cache.to_str().unwrap()], true).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(
        !cache.join("node").exists() && !cache.join("oc-2026.9.6").exists(),
        "nothing half-installed is used"
    );
    let (code, _, stderr) = releases(dir.path(), &["install", "latest"], false).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("VERSION latest"), "{stderr}");
}
