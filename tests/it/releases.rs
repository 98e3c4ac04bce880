//! `releases list` and `releases install` through a stand-in npm
//! (`DISPATCH_VCR_NPM`): what is asked of npm, the order and marks of the
//! list, installs renamed into place, and npm failing (exit 3).

use crate::support::*;

async fn releases(npm: &FakeNpm, args: &[&str], down: bool) -> (i32, String, String) {
    let bin = Bin::new();
    let mut command = bin.command(["releases"].iter().chain(args));
    command.env("DISPATCH_VCR_NPM", npm.path()).env_remove("OPENCLAW_CACHE");
    if down {
        command.env("FAKE_NPM_DOWN", "1");
    }
    let output = tokio::time::timeout(GUARD, command.output()).await.unwrap().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

fn npm() -> FakeNpm {
    FakeNpm::new(VIEW, &Behaviour::default())
}

#[tokio::test]
async fn list_is_in_version_order_with_dates_betas_and_installs() {
    let npm = npm();
    let dir = npm.dir();
    let cache = dir.join("cache");
    let cache_flag = cache.to_str().unwrap();
    let (code, stdout, stderr) =
        releases(&npm, &["install", "2026.5.12", "--cache", cache_flag], false).await;
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout_list, _) = releases(&npm, &["list", "--cache", cache_flag], false).await;
    assert_eq!(code, 0);
    assert_eq!(
        stdout_list,
        "2026.5.12           2026-05-12        installed\n2026.5.16-beta.4                beta\n2026.9.5\n\
         2026.9.6            2026-09-20\n"
    );
    let (_, stable, _) = releases(&npm, &["list", "--stable"], false).await;
    assert!(!stable.contains("beta"), "{stable}");
    assert_eq!(
        stdout.trim(),
        cache.join("oc-2026.5.12/node_modules/openclaw/openclaw.mjs").display().to_string()
    );
}

#[tokio::test]
async fn install_renames_into_place_with_the_releases_overrides() {
    let npm = npm();
    let dir = npm.dir();
    let cache = dir.join("cache");
    // What an interrupted install leaves: restarted, never used.
    std::fs::create_dir_all(cache.join(".oc-2026.5.12.partial/junk")).unwrap();
    let args = ["install", "2026.5.12", "--cache", cache.to_str().unwrap()];
    let (code, _, stderr) = releases(&npm, &args, false).await;
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
    let (code, _, again) = releases(&npm, &args, false).await;
    assert_eq!(code, 0);
    assert!(again.contains("OpenClaw 2026.5.12 is installed in") && !again.contains("installing"), "{again}");
}

#[tokio::test]
async fn npm_unreachable_is_a_runtime_error_that_says_so() {
    let npm = npm();
    let dir = npm.dir();
    let (code, _, stderr) = releases(&npm, &["list"], true).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("npm view openclaw versions time --json failed"), "{stderr}");
    assert!(stderr.contains("ECONNREFUSED") && stderr.contains("registry reachable"), "{stderr}");
    let cache = dir.join("cache");
    let (code, _, stderr) =
        releases(&npm, &["install", "2026.9.6", "--cache", cache.to_str().unwrap()], true).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(
        !cache.join("node").exists() && !cache.join("oc-2026.9.6").exists(),
        "nothing half-installed is used"
    );
    let (code, _, stderr) = releases(&npm, &["install", "latest"], false).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("VERSION latest"), "{stderr}");
}

#[tokio::test]
async fn list_narrows_to_a_range_and_deals_shards_round_robin() {
    let versions =
        ["2026.9.1", "2026.9.2", "2026.9.3-beta.1", "2026.9.3", "2026.9.4", "2026.9.5", "2026.9.6"];
    let npm = FakeNpm::new(&view_of(&versions), &Behaviour::default());
    let list = |args: &'static [&'static str]| {
        let npm = &npm;
        async move {
            let (code, stdout, stderr) = releases(npm, args, false).await;
            assert_eq!(code, 0, "{stderr}");
            stdout
        }
    };
    let range = list(&["list", "--stable", "--from", "2026.9.2", "--to", "2026.9.5", "--quiet"]).await;
    assert_eq!(range, "2026.9.2\n2026.9.3\n2026.9.4\n2026.9.5\n");
    assert_eq!(
        list(&["list", "--stable", "--from", "2026.9.2", "--to", "2026.9.5", "--shard", "1/3", "-q"]).await,
        "2026.9.2\n2026.9.5\n"
    );
    assert_eq!(
        list(&["list", "--stable", "--from", "2026.9.2", "--to", "2026.9.5", "--shard", "3/3", "-q"]).await,
        "2026.9.4\n"
    );
    let (code, _, stderr) = releases(&npm, &["list", "--from", "2026.9.5", "--to", "2026.9.2"], false).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("--from 2026.9.5 is after --to 2026.9.2"), "{stderr}");
    let (code, _, stderr) = releases(&npm, &["list", "--shard", "4/3"], false).await;
    assert_eq!(code, 2, "{stderr}");
}
