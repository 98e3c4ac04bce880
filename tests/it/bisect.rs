//! `bisect` and `run --openclaw` end to end through the binary, offline: a
//! stand-in npm installs a stand-in OpenClaw ([`FakeNpm`]) whose `agent`
//! sends a Responses call with curl through the real proxy, without its
//! bearer before one release. The search, the per-step lines, the answer
//! with its evidence, `--record-to`, inconclusive steps and Ctrl-C are the
//! real ones; only OpenClaw is not.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::*;

/// Releases the stand-in npm lists; 2026.6.6 is the first to send the bearer.
const LINE: [&str; 10] = [
    "2026.6.1",
    "2026.6.2",
    "2026.6.3",
    "2026.6.4",
    "2026.6.5-beta.1",
    "2026.6.5",
    "2026.6.6",
    "2026.6.7",
    "2026.6.8",
    "2026.6.9",
];

const SCENARIO: &str = r#"{"format": "dispatch-vcr/scenario@1", "name": "env-key-sends-bearer", "dispatcher": "openclaw",
 "inputs": {"config": {"agents": {"defaults": {"agentRuntime": {"id": "pi"}, "model": {"primary": "openai/gpt-5.5"}}}},
            "env": {"OPENAI_API_KEY": "sk-proj-standin-0000000000000000"}, "agent": "main"},
 "expect": {"endpoint": "POST https://api.openai.com/v1/responses",
            "bearer": {"header": "authorization", "scheme": "Bearer", "kind": "openai-key"}},
 "cassettes": {}}"#;

struct Setup {
    npm: FakeNpm,
    bin: Bin,
    scenario: PathBuf,
    cache: PathBuf,
}

fn setup(behaviour: &Behaviour) -> Setup {
    let npm = FakeNpm::new(&view_of(&LINE), behaviour);
    let scenario = npm.dir().join("scenario.json");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let cache = npm.dir().join("cache");
    Setup { npm, bin: Bin::new(), scenario, cache }
}

fn bearer_from_6_6() -> Behaviour {
    Behaviour { bearer_from: "2026.6.6".into(), ..Behaviour::default() }
}

impl Setup {
    fn command<'a>(&self, args: impl IntoIterator<Item = &'a str>) -> tokio::process::Command {
        let mut command = self.bin.command(args);
        command
            .env("DISPATCH_VCR_NPM", self.npm.path())
            .env("OPENCLAW_CACHE", &self.cache)
            .stdin(std::process::Stdio::null());
        command
    }

    /// Run to the end, with a guard long enough for the several proxy runs of a bisect.
    async fn output<'a>(&self, args: impl IntoIterator<Item = &'a str>) -> Output {
        let output = self.command(args).output();
        tokio::time::timeout(GUARD * 6, output).await.expect("did not finish").unwrap()
    }

    fn scenario(&self) -> &str {
        self.scenario.to_str().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The release-and-word step lines of bisect's stdout.
fn steps(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (version, word) = (words.next()?, words.next()?);
            (version.starts_with("2026.") && ["good", "bad", "inconclusive"].contains(&word))
                .then(|| (version.to_owned(), word.to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn bisect_names_the_first_good_release_with_its_evidence() {
    let setup = setup(&bearer_from_6_6());
    let record = setup.npm.dir().join("tested");
    let args = ["bisect", setup.scenario(), "--good", "2026.6.9", "--bad", "2026.6.1"];
    let out = setup.output(args.into_iter().chain(["--record-to", record.to_str().unwrap()])).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("bisecting 7 stable releases between 2026.6.1 and 2026.6.9"), "{stderr}");
    assert!(
        !stderr.contains("listening on") && !stderr.contains("recorded"),
        "a line per step only: {stderr}"
    );
    assert!(stdout.contains("first good release: 2026.6.6 (last bad: 2026.6.5)"), "{stdout}");
    // The evidence: the failing invariant at the last bad release and the request's difference.
    assert!(stdout.contains("what changed on the wire (2026.6.5 → 2026.6.6)"), "{stdout}");
    assert!(stdout.contains("authorization"), "the diff names the header: {stdout}");
    let steps = steps(&stdout);
    assert!(steps.len() <= 5, "⌈log2 7⌉ + 2 runs at most: {steps:?}");
    assert!(stdout.contains(&format!("{} run(s) for 7 candidate release(s) (at most 5", steps.len())));
    for (version, word) in &steps {
        let expected = if version.as_str() >= "2026.6.6" { "good" } else { "bad" };
        assert_eq!(word, expected, "{version}: {stdout}");
        assert!(record.join(format!("{version}.json")).is_file(), "--record-to keeps {version}");
    }
    // `run` on the answer and the release before it gives the same two verdicts.
    for (version, code) in [("2026.6.6", 0), ("2026.6.5", 1)] {
        let args = ["run", setup.scenario(), "--version", version, "--stub", "--openclaw"];
        let out = setup.output(args).await;
        assert_eq!(out.status.code(), Some(code), "run on {version}: {}", text(&out.stdout));
    }
}

#[tokio::test]
async fn inconclusive_steps_are_skipped_and_betas_searched_on_request() {
    let behaviour =
        Behaviour { inconclusive: vec!["2026.6.5-beta.1".into(), "2026.6.5".into()], ..bearer_from_6_6() };
    let setup = setup(&behaviour);
    let args = ["bisect", setup.scenario(), "--good", "2026.6.9", "--bad", "2026.6.1", "--betas"];
    let out = setup.output(args).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "not found: {stdout}\n{stderr}");
    assert!(stderr.contains("bisecting 8 releases between"), "{stderr}");
    let inconclusive: Vec<_> = steps(&stdout).into_iter().filter(|(_, w)| w == "inconclusive").collect();
    assert!(!inconclusive.is_empty(), "{stdout}");
    assert!(stdout.contains("Codex runtime plugin is not installed"), "the reason is given: {stdout}");
    assert!(
        stdout.contains(
            "the first good release is after 2026.6.4 and at or before 2026.6.6: 2026.6.5-beta.1, 2026.6.5 could \
             not be judged"
        ),
        "a range, never a guess: {stdout}"
    );
    assert!(
        stdout.contains("first good release that could be judged: 2026.6.6 (last bad: 2026.6.4)"),
        "{stdout}"
    );
    assert!(stdout.contains("what changed on the wire (2026.6.4 → 2026.6.6)"), "the evidence: {stdout}");
}

#[tokio::test]
async fn an_end_that_is_not_what_it_was_named_stops_with_exit_1() {
    let setup = setup(&bearer_from_6_6());
    let out = setup.output(["bisect", setup.scenario(), "--good", "2026.6.3", "--bad", "2026.6.8"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("2026.6.3 was named good but is bad"), "{stdout}");
    let out = setup.output(["bisect", setup.scenario(), "--good", "2026.6.3", "--bad", "2026.6.3"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--good and --bad are both 2026.6.3"));
}

/// Whether process `pid` is still running (not a zombie).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

async fn wait_for_file(path: &Path) -> String {
    tokio::time::timeout(GUARD, async {
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && text.ends_with('\n')
            {
                return text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the stand-in OpenClaw never started its turn")
}

/// Start `args`, wait until the stand-in OpenClaw hangs in its turn, send
/// SIGINT; the exit status and stderr, once OpenClaw's process is gone.
async fn interrupt(setup: &Setup, args: &[&str], pid_path: &Path) -> (i32, String) {
    let mut child = setup
        .command(args.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid: i32 = wait_for_file(pid_path).await.trim().parse().unwrap();
    assert!(alive(pid));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGINT) };
    let mut stderr = String::new();
    let mut pipe = child.stderr.take().unwrap();
    let read = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stderr);
    tokio::time::timeout(GUARD, read).await.expect("no stop on SIGINT").unwrap();
    let status = tokio::time::timeout(GUARD, child.wait()).await.expect("no stop on SIGINT").unwrap();
    assert!(!alive(pid), "OpenClaw's process is stopped with the run: {stderr}");
    std::fs::remove_file(pid_path).unwrap();
    (status.code().unwrap_or(-1), stderr)
}

#[tokio::test]
async fn ctrl_c_stops_a_turn_and_a_bisect_and_leaves_the_cache_usable() {
    let pid_file = tempfile::tempdir().unwrap();
    let pid_path = pid_file.path().join("agent.pid");
    // 2026.6.5 is the first middle of 2026.6.1..2026.6.9.
    let behaviour = Behaviour { hang: Some(("2026.6.5".into(), pid_path.clone())), ..bearer_from_6_6() };
    let setup = setup(&behaviour);
    let bisect = ["bisect", setup.scenario(), "--good", "2026.6.9", "--bad", "2026.6.1"];
    let (code, stderr) = interrupt(&setup, &bisect, &pid_path).await;
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("bisect stopped at 2026.6.5"), "{stderr}");
    let run = ["run", setup.scenario(), "--version", "2026.6.5", "--stub", "--openclaw"];
    let (code, stderr) = interrupt(&setup, &run, &pid_path).await;
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("stopped by a signal before its turn ended: no verdict"), "{stderr}");
    // The cache holds the release: `run` uses it as it is.
    let list = setup.output(["releases", "list"]).await;
    let listed = text(&list.stdout);
    assert!(listed.lines().any(|l| l.starts_with("2026.6.5 ") && l.ends_with("installed")), "{listed}");
    let out = setup.output(["run", setup.scenario(), "--version", "2026.6.7", "--stub", "--openclaw"]).await;
    assert_eq!(out.status.code(), Some(2), "2026.6.7 was never installed");
    assert!(text(&out.stderr).contains("releases install 2026.6.7"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn the_codex_runtime_plugin_is_installed_on_request_and_used_by_each_turn() {
    let behaviour = Behaviour {
        codex_plugins: vec!["2026.5.30".into(), "2026.6.4".into()],
        needs_codex: true,
        ..bearer_from_6_6()
    };
    let setup = setup(&behaviour);
    // Without the plugin every release stops before its request: nothing to judge.
    let out = setup.output(["bisect", setup.scenario(), "--good", "2026.6.9", "--bad", "2026.6.1"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("inconclusive") && stdout.contains("releases install VERSION --codex"),
        "{stdout}"
    );
    // 2026.6.3 has no plugin of its own month that is not newer: said, and installed without it.
    let out = setup.output(["releases", "install", "2026.6.3", "--codex"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("no @openclaw/codex release fits OpenClaw 2026.6.3"),
        "{}",
        text(&out.stderr)
    );
    assert!(!setup.cache.join("codex-2026.6.3").exists());
    // With it: the plugin of 2026.6.4 serves 2026.6.4 and later, each turn gets a copy under homes/VERSION.
    let out = setup.output(["releases", "install", "2026.6.7", "--codex"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("@openclaw/codex@2026.6.4 for 2026.6.7"), "{}", text(&out.stderr));
    assert!(setup.cache.join("codex-2026.6.7/.openclaw/npm/@openclaw/codex/installed").is_file());
    let out = setup.output(["run", setup.scenario(), "--version", "2026.6.7", "--stub", "--openclaw"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!setup.cache.join("homes/2026.6.7").exists(), "the turn's HOME is removed after it");
    let args = ["bisect", setup.scenario(), "--good", "2026.6.9", "--bad", "2026.6.4", "--codex"];
    let out = setup.output(args).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("first good release: 2026.6.6 (last bad: 2026.6.5)"), "{stdout}");
}
