//! `dispatch-vcr scenario from-openclaw`: homes built here (file stores, and
//! the SQLite store of 2026.5.30+ with the schema of 2026.9.6's dist) with
//! planted secrets. The scenario plans what the home plans, and no planted
//! secret reaches any output, in clear, percent-encoded or base64.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::BIN;

const OPENAI_KEY: &str = "sk-proj-PLANTEDopenaiKey7Hq2Lm9Xv4Rt8Wz1Bn5";
const ANTHROPIC_TOKEN: &str = "sk-ant-oat01-PLANTEDanthropicTok3Jk8Pq1Zr6";
const ROUTER_KEY: &str = "sk-or-v1-PLANTEDrouterKey9Cx2Vb7Nm4Lk1";
const REFRESH: &str = "rt_PLANTEDrefresh_4Hs8Kd2Lq7";
const SIGNATURE: &str = "PLANTEDsignatureBytes_91x";
const EMAIL: &str = "kate.planted@kate-mail.net";
const SUB: &str = "auth0|PLANTEDsubject42";
const ENV_KEY: &str = "sk-PLANTEDenvKey5Tg8Yh1Uj4Ik7Ol0Pz3Xc";
/// ChatGPT account and plan: kept, as the dispatch needs them.
const ACCOUNT: &str = "acct-kept-123";
/// Old releases (file stores) and the current one (SQLite).
const OLD: &str = "2026.5.16-beta.4";
const NEW: &str = "2026.9.6";
const NOW: &str = "1800000000000";

fn planted() -> Vec<&'static str> {
    vec![OPENAI_KEY, ANTHROPIC_TOKEN, ROUTER_KEY, REFRESH, SIGNATURE, EMAIL, SUB, ENV_KEY, &ACCESS]
}

static ACCESS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let claims = json!({
        "https://api.openai.com/auth": {"chatgpt_account_id": ACCOUNT, "chatgpt_plan_type": "plus"},
        "https://api.openai.com/profile": {"email": EMAIL}, "sub": SUB, "exp": 4102444800_i64});
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    dispatch_vcr::credential::mint_unsigned_jwt(&claims) + &engine.encode(SIGNATURE)
});

fn codex_profile() -> String {
    format!("openai-codex:{EMAIL}")
}

const CONFIG: &str = r#"{ // JSON5, as users write it
  agents: { defaults: { agentRuntime: { id: "codex" }, model: { primary: "openai/gpt-5.5" } } },
  plugins: { entries: { codex: { enabled: true } }, allow: ["codex"] },
  models: { providers: { openrouter: { apiKey: "ROUTER_KEY" }, groq: { apiKey: "${GROQ_API_KEY}" } } },
}
"#;

fn store() -> Value {
    json!({"version": 1, "profiles": {
        "openai:default": {"type": "api_key", "provider": "openai", "key": OPENAI_KEY},
        codex_profile(): {"type": "oauth", "provider": "openai-codex", "access": *ACCESS, "refresh": REFRESH,
            "expires": 4102444800000_i64, "email": EMAIL, "accountId": ACCOUNT},
        "anthropic:me": {"type": "token", "provider": "anthropic", "token": ANTHROPIC_TOKEN}}})
}

fn state() -> Value {
    json!({"version": 1, "order": {"openai-codex": [codex_profile()]}, "lastGood": {"openai-codex": codex_profile()}})
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn agent_dir(home: &Path) -> PathBuf {
    home.join(".openclaw/agents/main/agent")
}

/// A HOME with the config and the stores as JSON files (releases before 2026.5.30).
fn file_home(root: &Path) -> PathBuf {
    let home = root.join("home");
    write(&home.join(".openclaw/openclaw.json"), &CONFIG.replace("ROUTER_KEY", ROUTER_KEY));
    write(&agent_dir(&home).join("auth-profiles.json"), &store().to_string());
    write(&agent_dir(&home).join("auth-state.json"), &state().to_string());
    home
}

/// A HOME whose logins are in the agent's SQLite store, as `doctor --fix` leaves them (2026.5.30+).
fn sqlite_home(root: &Path, user_version: i64) -> PathBuf {
    let home = root.join("home");
    write(&home.join(".openclaw/openclaw.json"), &CONFIG.replace("ROUTER_KEY", ROUTER_KEY));
    std::fs::create_dir_all(agent_dir(&home)).unwrap();
    let db = rusqlite::Connection::open(agent_dir(&home).join("openclaw-agent.sqlite")).unwrap();
    db.execute_batch(&format!(
        "PRAGMA user_version = {user_version};
         CREATE TABLE schema_meta (meta_key TEXT NOT NULL PRIMARY KEY, role TEXT NOT NULL,
           schema_version INTEGER NOT NULL, agent_id TEXT, app_version TEXT, created_at INTEGER NOT NULL,
           updated_at INTEGER NOT NULL) STRICT;
         INSERT INTO schema_meta VALUES ('primary', 'agent', {user_version}, 'main', '2026.9.6', 0, 0);
         CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL,
           updated_at INTEGER NOT NULL) STRICT;
         CREATE TABLE auth_profile_state (state_key TEXT NOT NULL PRIMARY KEY, state_json TEXT NOT NULL,
           updated_at INTEGER NOT NULL) STRICT;"
    ))
    .unwrap();
    db.execute("INSERT INTO auth_profile_store VALUES ('primary', ?1, 0)", [store().to_string()]).unwrap();
    db.execute("INSERT INTO auth_profile_state VALUES ('primary', ?1, 0)", [state().to_string()]).unwrap();
    home
}

/// A HOME as 2026.9.6's `doctor --fix` leaves it: main's logins in the shared state database
/// (`auth.sharedStore` = state-db), the agent's own tables empty.
fn shared_state_home(root: &Path) -> PathBuf {
    let home = sqlite_home(root, 23);
    let agent = rusqlite::Connection::open(agent_dir(&home).join("openclaw-agent.sqlite")).unwrap();
    agent.execute_batch("DELETE FROM auth_profile_store; DELETE FROM auth_profile_state;").unwrap();
    let path = home.join(".openclaw/state/openclaw.sqlite");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(
        "PRAGMA user_version = 18;
         CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL,
           updated_at_ms INTEGER NOT NULL) STRICT;
         INSERT INTO config_machine_state VALUES ('auth.sharedStore', '{\"location\":\"state-db\"}', 0);",
    )
    .unwrap();
    let insert = "INSERT INTO config_machine_state VALUES (?1, ?2, 0)";
    db.execute(insert, ["authProfiles.store", &store().to_string()]).unwrap();
    db.execute(insert, ["authProfiles.state", &state().to_string()]).unwrap();
    home
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    // The reader's own OPENCLAW_STATE_DIR would override every --home here.
    let output = Command::new(BIN)
        .args(args)
        .env_remove("OPENCLAW_STATE_DIR")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn from_openclaw(home: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args =
        vec!["scenario", "from-openclaw", "--home", home.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend(extra);
    run(&args, env)
}

/// What decides the dispatch: endpoint, bound profile, credential header, scheme and kind, account.
fn plan(inputs: &[&str], version: &str) -> Value {
    let mut args = vec!["dispatch", "plan", "--format", "json", "--version", version, "--now", NOW];
    args.extend(inputs);
    let run = run(&args, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let credential = &plan["credential"];
    json!({"endpoint": plan["endpoint"], "profile": credential["profile"], "header": credential["header"],
           "scheme": credential["scheme"], "kind": credential["kind"], "account": plan["account"]["value"]})
}

/// Every form a planted secret could leak in.
fn assert_no_leak(what: &str, text: &str) {
    let engines =
        [base64::engine::general_purpose::STANDARD, base64::engine::general_purpose::URL_SAFE_NO_PAD];
    for secret in planted() {
        let mut forms = vec![secret.to_owned(), percent_encode(secret)];
        forms.extend(engines.iter().map(|e| e.encode(secret).trim_end_matches('=').to_owned()));
        for form in forms {
            assert!(!text.contains(&form), "{what} holds a planted secret ({form}):\n{text}");
        }
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn with_redacted_email(mut plan: Value) -> Value {
    let profile = plan["profile"].as_str().map(|p| p.replace(EMAIL, "user@example.com"));
    plan["profile"] = json!(profile);
    plan
}

#[test]
fn a_file_store_home_becomes_a_scenario_that_plans_the_same_and_leaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = file_home(dir.path());
    let out = dir.path().join("my-setup.json");
    let made = from_openclaw(&home, &out, &["--version", OLD], &[("OPENAI_API_KEY", ENV_KEY)]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let file = std::fs::read_to_string(&out).unwrap();
    for (what, text) in [("stdout", &made.stdout), ("stderr", &made.stderr), ("the scenario", &file)] {
        assert_no_leak(what, text);
    }
    assert!(made.stderr.contains("profile openai:default: key → look-alike fixture"), "{}", made.stderr);
    assert!(made.stderr.contains("env not captured: OPENAI_API_KEY"), "{}", made.stderr);
    let scenario: Value = serde_json::from_str(&file).unwrap();
    let profiles = &scenario["inputs"]["auth_profiles"]["profiles"];
    assert_eq!(profiles["openai:default"]["key"].as_str().unwrap().len(), OPENAI_KEY.len());
    assert!(profiles["anthropic:me"]["token"].as_str().unwrap().starts_with("sk-ant-oat01-fixture"));
    assert_eq!(scenario["inputs"]["auth_state"]["lastGood"]["openai-codex"], "openai-codex:user@example.com");

    let config = home.join(".openclaw/openclaw.json");
    let models = ["openai/gpt-5.5", "anthropic/claude-sonnet-4-5", "openrouter/auto"];
    assert_plans_as(&["--config", config.to_str().unwrap()], &out, &models, OLD, with_redacted_email);
}

/// For each model, the scenario `out` plans at `version` what the `original` inputs plan, once `expected` has
/// made of the original's plan what the scenario should show (its emails redacted, or as it is).
fn assert_plans_as(
    original: &[&str],
    out: &Path,
    models: &[&str],
    version: &str,
    expected: fn(Value) -> Value,
) {
    for model in models {
        let original = plan(&[original, &["--model", model]].concat(), version);
        let shared = plan(&["--scenario", out.to_str().unwrap(), "--model", model], version);
        assert_eq!(shared, expected(original), "{model}");
    }
}

#[test]
fn a_sqlite_home_plans_as_its_store_does_and_env_is_taken_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let home = sqlite_home(dir.path(), 23);
    sqlite_home_plans_as_its_store(dir.path(), &home);
}

#[test]
fn a_home_whose_logins_moved_to_the_shared_state_database_plans_as_its_store_does() {
    let dir = tempfile::tempdir().unwrap();
    let home = shared_state_home(dir.path());
    sqlite_home_plans_as_its_store(dir.path(), &home);
}

fn sqlite_home_plans_as_its_store(dir: &Path, home: &Path) {
    let out = dir.join("sqlite-setup.json");
    let made =
        from_openclaw(home, &out, &["--keep-email", "--env-from-shell"], &[("OPENAI_API_KEY", ENV_KEY)]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let file = std::fs::read_to_string(&out).unwrap();
    let scenario: Value = serde_json::from_str(&file).unwrap();
    let env_fixture = scenario["inputs"]["env"]["OPENAI_API_KEY"].as_str().unwrap();
    assert!(env_fixture.starts_with("sk-fixture") && env_fixture.len() == ENV_KEY.len(), "{env_fixture}");
    assert!(
        scenario["inputs"]["auth_profiles"]["profiles"].get(codex_profile()).is_some(),
        "--keep-email keeps ids"
    );
    let no_email = |text: &str| text.replace(EMAIL, "");
    for (what, text) in [("stderr", &made.stderr), ("the scenario", &file)] {
        assert_no_leak(what, &no_email(text));
    }

    // The original's inputs: the same config, and the store the SQLite row holds.
    let profiles = dir.join("store.json");
    write(&profiles, &store().to_string());
    let config = home.join(".openclaw/openclaw.json");
    let original = ["--config", config.to_str().unwrap(), "--profiles", profiles.to_str().unwrap()];
    assert_plans_as(&original, &out, &["openai/gpt-5.5", "anthropic/claude-sonnet-4-5"], NEW, |plan| plan);
}

fn assert_refused(run: &Run, out: &Path, message: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(message), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one message: {}", run.stderr);
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn bad_homes_are_refused_with_one_message_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    assert_refused(&from_openclaw(dir.path(), &out, &[], &[]), &out, "not an OpenClaw home");

    let newer = tempfile::tempdir().unwrap();
    let home = sqlite_home(newer.path(), 99);
    assert_refused(&from_openclaw(&home, &out, &[], &[]), &out, "schema 99 is newer than this reader knows");

    let locked = tempfile::tempdir().unwrap();
    let home = sqlite_home(locked.path(), 23);
    let holder = rusqlite::Connection::open(agent_dir(&home).join("openclaw-agent.sqlite")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE; UPDATE auth_profile_store SET updated_at = 1;").unwrap();
    assert_refused(&from_openclaw(&home, &out, &[], &[]), &out, "locked by another process");
    holder.execute_batch("ROLLBACK").unwrap();

    let damaged = tempfile::tempdir().unwrap();
    let home = file_home(damaged.path());
    write(
        &agent_dir(&home).join("openclaw-agent.sqlite"),
        "not a database, but long enough to be read as one",
    );
    assert_refused(&from_openclaw(&home, &out, &[], &[]), &out, "cannot read this SQLite store");
}

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let home = file_home(dir.path());
    let out = dir.path().join("mine.json");
    std::fs::write(&out, "keep me").unwrap();
    let refused = from_openclaw(&home, &out, &[], &[]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("exists; pass --force"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    assert_eq!(from_openclaw(&home, &out, &["--force"], &[]).code, 0);
    assert!(std::fs::read_to_string(&out).unwrap().contains("dispatch-vcr/scenario@1"));
}

/// `record --profiles` of `dispatch send` with the home's own files (a real TLS client of the real proxy).
async fn record_home(home: &Path, out: &Path) {
    let upstream = crate::support::TestUpstream::start().await;
    let config = home.join(".openclaw/openclaw.json");
    let profiles = agent_dir(home).join("auth-profiles.json");
    let (config, profiles) = (config.to_str().unwrap(), profiles.to_str().unwrap());
    let mut args: Vec<String> =
        ["record", "-o", out.to_str().unwrap(), "--listen", "127.0.0.1:0"].map(String::from).to_vec();
    args.extend(upstream.proxy_args());
    args.extend(
        ["--profiles", profiles, "--dispatcher", &format!("openclaw@{OLD}"), "--", BIN].map(String::from),
    );
    args.extend(
        ["dispatch", "send", "--config", config, "--profiles", profiles, "--version", OLD].map(String::from),
    );
    let output = crate::support::Bin::new().run(args).await;
    assert!(output.status.success(), "record failed: {}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_cassette_is_rebound_to_the_fixtures_and_check_judges_the_pair_as_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let home = file_home(dir.path());
    let recorded = dir.path().join("rec.json");
    record_home(&home, &recorded).await;
    let original = std::fs::read_to_string(&recorded).unwrap();
    let access_fp = dispatch_vcr::credential::fingerprint(&ACCESS);
    assert!(original.contains(&access_fp), "the recording binds the login: {original}");

    let out = dir.path().join("shared").join("my-setup.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let made = from_openclaw(&home, &out, &["--cassette", recorded.to_str().unwrap()], &[]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(made.stderr.contains("fingerprint(s) rebound"), "{}", made.stderr);
    let rebound_path = out.with_file_name(format!("my-setup.{OLD}.cassette.json"));
    let rebound = std::fs::read_to_string(&rebound_path).unwrap();
    for (what, text) in [("stderr", &made.stderr), ("the rebound cassette", &rebound)] {
        assert_no_leak(what, text);
    }
    for secret in [&*ACCESS, REFRESH, OPENAI_KEY] {
        let fp = dispatch_vcr::credential::fingerprint(secret);
        assert!(!rebound.contains(&fp), "an original fingerprint survived: {fp}");
    }
    let scenario: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(scenario["cassettes"][OLD], format!("my-setup.{OLD}.cassette.json"));

    // The shared pair is judged as the original setup would be: the rebound cassette holds the
    // fixtures' fingerprints where the reference, planning from the fixtures, expects them.
    let judged = run(&["check", out.to_str().unwrap(), "--format", "json"], &[]);
    assert_eq!(judged.code, 0, "{}\n{}", judged.stdout, judged.stderr);
    let audit = run(
        &[
            "audit",
            rebound_path.to_str().unwrap(),
            "--profiles",
            agent_dir(&home).join("auth-profiles.json").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(audit.code, 0, "{}\n{}", audit.stdout, audit.stderr);

    // The audit line it prints passes on the pair: fixtures are allowed by fingerprint, nothing else is in clear.
    let line =
        made.stderr.lines().find_map(|l| l.split_once(": dispatch-vcr ").map(|(_, args)| args)).unwrap();
    let args: Vec<&str> = line.split(' ').collect();
    assert!(args.contains(&rebound_path.to_str().unwrap()) && args.contains(&"--allow"), "{line}");
    let audited = run(&args, &[]);
    assert_eq!(audited.code, 0, "{line}\n{}{}", audited.stdout, audited.stderr);

    // Unrebound, the same scenario fails: the fingerprints are what bind the pair.
    let unbound = out.with_file_name("unbound.json");
    let mut plain = scenario.clone();
    plain["cassettes"][OLD] = json!(recorded.to_str().unwrap());
    std::fs::write(&unbound, plain.to_string()).unwrap();
    assert_eq!(run(&["check", unbound.to_str().unwrap()], &[]).code, 1);
}

#[test]
fn a_cassette_that_does_not_say_its_release_needs_version() {
    let dir = tempfile::tempdir().unwrap();
    let home = file_home(dir.path());
    let recorded = dir.path().join("rec.json");
    std::fs::write(&recorded, r#"{"format": "dispatch-vcr/cassette@1", "meta": {}, "interactions": []}"#)
        .unwrap();
    let out = dir.path().join("s.json");
    let refused = from_openclaw(&home, &out, &["--cassette", recorded.to_str().unwrap()], &[]);
    assert_refused(&refused, &out, "pass --version V");
    let made = from_openclaw(&home, &out, &["--cassette", recorded.to_str().unwrap(), "--version", OLD], &[]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(out.with_file_name(format!("s.{OLD}.cassette.json")).exists());
}

#[test]
fn included_config_files_and_the_home_dotenv_are_read_as_openclaw_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let home = file_home(dir.path());
    let state = home.join(".openclaw");
    write(
        &state.join("openclaw.json"),
        "{ $include: './base.json5', models: { providers: { $include: './parts/providers.json5' } } }",
    );
    write(&state.join("base.json5"), "{ agents: { defaults: { model: { primary: 'openai/gpt-5.5' } } } }");
    write(&state.join("parts/providers.json5"), &format!("{{ openrouter: {{ apiKey: '{ROUTER_KEY}' }} }}"));
    write(&state.join(".env"), &format!("# provider keys\nOPENAI_API_KEY={ENV_KEY}\nUNRELATED=1\n"));
    let out = dir.path().join("s.json");
    let made = from_openclaw(&home, &out, &["--version", OLD], &[]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(made.stderr.contains("dotenv: OPENAI_API_KEY"), "{}", made.stderr);
    let file = std::fs::read_to_string(&out).unwrap();
    for (what, text) in [("stderr", &made.stderr), ("the scenario", &file)] {
        assert_no_leak(what, text);
    }
    let scenario: Value = serde_json::from_str(&file).unwrap();
    assert!(!file.contains("$include") && !file.contains("UNRELATED"), "{file}");
    assert!(scenario["inputs"]["env"]["OPENAI_API_KEY"].as_str().unwrap().starts_with("sk-fixture"));

    // The scenario plans what `dispatch plan --config` (which resolves the includes too) plans with the .env's key.
    let config = state.join("openclaw.json");
    let store = agent_dir(&home).join("auth-profiles.json");
    let env = format!("OPENAI_API_KEY={ENV_KEY}");
    let original =
        ["--config", config.to_str().unwrap(), "--profiles", store.to_str().unwrap(), "--env", &env];
    assert_plans_as(&original, &out, &["openrouter/auto", "openai/gpt-5.5"], OLD, with_redacted_email);
}

#[test]
fn a_dotenv_line_that_does_not_parse_is_refused_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = file_home(dir.path());
    write(&home.join(".openclaw/.env"), &format!("OPENAI_API_KEY=\"{ENV_KEY}\n"));
    let out = dir.path().join("s.json");
    let refused = from_openclaw(&home, &out, &[], &[]);
    assert_refused(&refused, &out, ".env: a line does not read as NAME=value");
    assert_no_leak("stderr", &refused.stderr);
}

#[test]
fn a_state_folder_outside_home_is_read_with_state_dir_or_openclaw_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let state = file_home(dir.path()).join(".openclaw");
    let moved = dir.path().join("elsewhere");
    std::fs::rename(&state, &moved).unwrap();
    let out = dir.path().join("s.json");
    let state_dir = moved.to_str().unwrap();
    let by_flag = from_openclaw(dir.path(), &out, &["--state-dir", state_dir], &[]);
    assert_eq!(by_flag.code, 0, "{}", by_flag.stderr);
    let by_env = from_openclaw(dir.path(), &out, &["--force"], &[("OPENCLAW_STATE_DIR", state_dir)]);
    assert_eq!(by_env.code, 0, "{}", by_env.stderr);
    assert!(by_env.stderr.contains("elsewhere/agents/main/agent/auth-profiles.json"), "{}", by_env.stderr);
    let refused = from_openclaw(dir.path(), &dir.path().join("t.json"), &[], &[]);
    assert!(refused.stderr.contains("or --state-dir with its state folder"), "{}", refused.stderr);
}
