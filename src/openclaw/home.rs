//! An OpenClaw home read as the installed release reads it: `openclaw.json`
//! and every agent's auth store, from the JSON files of older releases or
//! the SQLite store current ones import logins into.
//!
//! ```text
//! HOME/.openclaw/openclaw.json                                 JSON5 config ($include files resolved)
//! HOME/.openclaw/.env, HOME/.config/openclaw/gateway.env       variables OpenClaw loads when the process
//!                                                              has not set them (the first file wins)
//! HOME/.openclaw/agents/<id>/agent/auth-profiles.json          store   (releases before 2026.5.30)
//! HOME/.openclaw/agents/<id>/agent/auth-state.json             state
//! HOME/.openclaw/agents/<id>/agent/openclaw-agent.sqlite       auth_profile_store / auth_profile_state,
//!                                                              row `primary`, JSON text (2026.5.30 and later)
//! HOME/.openclaw/state/openclaw.sqlite                         config_machine_state: `auth.sharedStore`
//!                                                              {"location": "state-db"} moves main's store to
//!                                                              rows `authProfiles.store` / `authProfiles.state`
//! ```
//!
//! The layout and schema are OpenClaw 2026.9.6's (`src/agents/auth-profiles/sqlite.ts`,
//! `sqlite-json.ts`, `path-resolve.ts` in its dist). Databases are opened read-only;
//! a schema newer than [`AGENT_SCHEMA_VERSION`] / [`STATE_SCHEMA_VERSION`], a
//! locked or an unreadable database is refused (exit 2), never guessed at.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension as _};
use serde_json::Value;

use super::includes;
use crate::error::{Error, Result};
use crate::files;
use crate::version::Version;

/// The newest agent database schema (`PRAGMA user_version`) this reader knows (OpenClaw 2026.9.6).
pub const AGENT_SCHEMA_VERSION: i64 = 23;
/// The newest shared state database schema this reader knows (OpenClaw 2026.9.6).
pub const STATE_SCHEMA_VERSION: i64 = 18;
/// The first release that reads logins from SQLite instead of `auth-profiles.json`.
pub const SQLITE_SINCE: &str = "2026.5.30";
/// An agent's auth database, in its agent folder.
pub const AGENT_DATABASE: &str = "openclaw-agent.sqlite";

/// One agent's auth store and state, as the release would read them.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentAuth {
    /// The agent id (its folder name).
    pub agent: String,
    /// The store: `{"version": 1, "profiles": {…}}`.
    pub profiles: Option<Value>,
    /// The state: order, last good, usage stats.
    pub state: Option<Value>,
    /// Where they were read from, for the reader.
    pub source: String,
}

/// What an OpenClaw home holds that decides a dispatch.
#[derive(Debug, Clone, PartialEq)]
pub struct HomeSnapshot {
    /// The state folder (`HOME/.openclaw`).
    pub state_dir: PathBuf,
    /// `openclaw.json` as written (JSON5 parsed, `$include`s resolved, `${VAR}` references kept).
    pub config: Value,
    /// The variables of the home's dotenv files ([`DOTENV_FILES`]), by name.
    pub dotenv: BTreeMap<String, String>,
    /// Every agent with an auth store, by id order.
    pub agents: Vec<AgentAuth>,
    /// What was there but not read, and why.
    pub notes: Vec<String>,
}

/// Read the home at `home` (a HOME holding `.openclaw/`, or the `.openclaw`
/// folder itself) as `version` would; `None` reads the newest layout.
pub fn read(home: &Path, version: Option<&Version>) -> Result<HomeSnapshot> {
    let state_dir = state_dir(home)?;
    let config_path = state_dir.join("openclaw.json");
    let text = files::read_input(&config_path, "OpenClaw config")?;
    let config = json5::from_str::<Value>(&text).map_err(|e: json5::Error| {
        Error::json5(config_path.display(), &text, &e)
            .hint("openclaw.json is JSON5: comments, unquoted keys and trailing commas are fine")
    })?;
    let config = match includes::has_includes(&config) {
        true => includes::resolve(&config, &config_path)?,
        false => config,
    };
    let sqlite = match version {
        Some(v) => *v >= SQLITE_SINCE.parse::<Version>().map_err(|e| Error::runtime(e.to_string()))?,
        None => true,
    };
    let dotenv = read_dotenv(&state_dir)?;
    let mut snapshot =
        HomeSnapshot { state_dir: state_dir.clone(), config, dotenv, agents: Vec::new(), notes: Vec::new() };
    let shared = if sqlite { shared_main_store(&state_dir)? } else { None };
    for (agent, dir) in agent_dirs(&state_dir)? {
        let from_shared = if agent == "main" { shared.clone() } else { None };
        if let Some(auth) = read_agent(&agent, &dir, from_shared, sqlite, &mut snapshot.notes)? {
            snapshot.agents.push(auth);
        }
    }
    Ok(snapshot)
}

/// The dotenv files OpenClaw loads, relative to the state folder, first wins
/// (2026.9.6's `src/infra/dotenv.ts`, `dotenv-global`: the state folder's
/// `.env`, then the gateway's file under HOME's `.config`).
pub const DOTENV_FILES: &[&str] = &[".env", "../.config/openclaw/gateway.env"];

/// The variables of the home's dotenv files; a line that does not parse is an error naming the file.
fn read_dotenv(state_dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    for name in DOTENV_FILES {
        let path = state_dir.join(name);
        if !path.is_file() {
            continue;
        }
        let entries = dotenvy::from_path_iter(&path).map_err(|e| dotenv_error(&path, &e))?;
        for entry in entries {
            let (key, value) = entry.map_err(|e| dotenv_error(&path, &e))?;
            vars.entry(key).or_insert(value);
        }
    }
    Ok(vars)
}

/// A dotenv file's error, without the line's text (it may hold a secret).
fn dotenv_error(path: &Path, err: &dotenvy::Error) -> Error {
    match err {
        dotenvy::Error::LineParse(_, at) => Error::input(format!(
            "{}: a line does not read as NAME=value (at its character {at}; the line is not shown, as it may hold a \
             secret); quote values with spaces or #",
            path.display()
        )),
        dotenvy::Error::Io(e) => Error::input(format!("{}: {e}", path.display())),
        _ => Error::input(format!("{}: not a dotenv file", path.display())),
    }
}

/// `HOME/.openclaw`, or `home` itself when it is the state folder.
fn state_dir(home: &Path) -> Result<PathBuf> {
    if !home.is_dir() {
        return Err(Error::input(format!(
            "{}: no such directory; pass --home with the HOME that holds .openclaw/ (default: $HOME), or \
             --state-dir with OpenClaw's state folder (default: $OPENCLAW_STATE_DIR)",
            home.display()
        )));
    }
    [home.join(".openclaw"), home.to_owned()]
        .into_iter()
        .find(|dir| dir.join("openclaw.json").is_file())
        .ok_or_else(|| {
            Error::input(format!(
                "{}: not an OpenClaw home (no .openclaw/openclaw.json in it, nor openclaw.json); pass --home with \
                 the HOME OpenClaw ran with (e.g. --home ~), or --state-dir with its state folder",
                home.display()
            ))
        })
}

/// `agents/<id>/agent` folders, by id.
fn agent_dirs(state_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let agents = state_dir.join("agents");
    let Ok(entries) = std::fs::read_dir(&agents) else { return Ok(Vec::new()) };
    let mut dirs: Vec<(String, PathBuf)> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| Some((entry.file_name().to_str()?.to_owned(), entry.path().join("agent"))))
        .filter(|(_, dir)| dir.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn read_agent(
    agent: &str,
    dir: &Path,
    shared: Option<AgentAuth>,
    sqlite: bool,
    notes: &mut Vec<String>,
) -> Result<Option<AgentAuth>> {
    let database = dir.join(AGENT_DATABASE);
    let json = dir.join("auth-profiles.json");
    let from_sqlite = match shared {
        Some(auth) => Some(auth),
        None if sqlite && database.is_file() => read_agent_database(agent, &database)?,
        None => None,
    };
    if let Some(auth) = from_sqlite {
        if json.is_file() {
            notes.push(format!(
                "agent {agent}: {} not read: releases from {SQLITE_SINCE} read {} (pass --version for an older one)",
                json.display(),
                auth.source
            ));
        }
        return Ok(Some(auth));
    }
    if !sqlite && database.is_file() {
        notes.push(format!(
            "agent {agent}: {} not read: releases before {SQLITE_SINCE} do not",
            database.display()
        ));
    }
    let profiles = read_json(&json)?;
    let state = read_json(&dir.join("auth-state.json"))?;
    if profiles.is_none() && state.is_none() {
        return Ok(None);
    }
    Ok(Some(AgentAuth { agent: agent.to_owned(), profiles, state, source: json.display().to_string() }))
}

fn read_json(path: &Path) -> Result<Option<Value>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = files::read_input(path, "auth store")?;
    serde_json::from_str(&text).map(Some).map_err(|e| Error::not_json(path.display(), &e))
}

/// Open `path` read-only, refusing a lock, a foreign file and a schema newer than `newest`.
fn open(path: &Path, newest: i64) -> Result<Connection> {
    let unreadable = |e: rusqlite::Error| refuse(path, &e);
    let db =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(unreadable)?;
    // OpenClaw's own writes are short: wait a little for one to end, not for a running gateway.
    db.busy_timeout(std::time::Duration::from_secs(1)).map_err(unreadable)?;
    let version: i64 = db.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(unreadable)?;
    if version > newest {
        return Err(Error::input(format!(
            "{}: schema {version} is newer than this reader knows (up to {newest}, OpenClaw 2026.9.6); \
             update dispatch-vcr, or export the logins with the release that wrote them",
            path.display()
        )));
    }
    Ok(db)
}

fn refuse(path: &Path, err: &rusqlite::Error) -> Error {
    let locked = matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    if locked {
        Error::input(format!(
            "{}: locked by another process (is OpenClaw running?); stop it and try again",
            path.display()
        ))
    } else {
        Error::input(format!("{}: cannot read this SQLite store: {err}", path.display()))
    }
}

fn read_agent_database(agent: &str, path: &Path) -> Result<Option<AgentAuth>> {
    let db = open(path, AGENT_SCHEMA_VERSION)?;
    let cell = |table: &str, key: &str, column: &str| {
        json_cell(&db, path, &format!("SELECT {column} FROM {table} WHERE {key} = 'primary'"))
    };
    let profiles = cell("auth_profile_store", "store_key", "store_json")?;
    let state = cell("auth_profile_state", "state_key", "state_json")?;
    if profiles.is_none() && state.is_none() {
        return Ok(None);
    }
    Ok(Some(AgentAuth { agent: agent.to_owned(), profiles, state, source: path.display().to_string() }))
}

/// Main's store when `auth.sharedStore` says it lives in the state database.
fn shared_main_store(state_dir: &Path) -> Result<Option<AgentAuth>> {
    let path = state_dir.join("state").join("openclaw.sqlite");
    if !path.is_file() {
        return Ok(None);
    }
    let db = open(&path, STATE_SCHEMA_VERSION)?;
    let cell = |key: &str| {
        json_cell(
            &db,
            &path,
            &format!("SELECT value_json FROM config_machine_state WHERE state_key = '{key}'"),
        )
    };
    let location = cell("auth.sharedStore")?;
    if location.as_ref().and_then(|l| l.get("location")).and_then(Value::as_str) != Some("state-db") {
        return Ok(None);
    }
    let profiles = cell("authProfiles.store")?;
    let state = cell("authProfiles.state")?;
    Ok(Some(AgentAuth { agent: "main".to_owned(), profiles, state, source: path.display().to_string() }))
}

/// The JSON text in the one row `sql` selects; a missing table or row is `None`.
fn json_cell(db: &Connection, path: &Path, sql: &str) -> Result<Option<Value>> {
    let text: Option<String> = match db.query_row(sql, [], |row| row.get(0)).optional() {
        Ok(text) => text,
        Err(rusqlite::Error::SqliteFailure(_, Some(message))) if message.starts_with("no such table") => None,
        Err(e) => return Err(refuse(path, &e)),
    };
    text.map(|text| {
        serde_json::from_str(&text).map_err(|e| {
            Error::input(format!("{}: a row is not JSON ({e}); the store is damaged", path.display()))
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn home_with(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".openclaw/agents/main/agent")).unwrap();
        std::fs::write(dir.path().join(".openclaw/openclaw.json"), config).unwrap();
        dir
    }

    fn agent_database(path: &Path, user_version: i64, store: &Value) {
        let db = Connection::open(path).unwrap();
        db.execute_batch(&format!(
            "PRAGMA user_version = {user_version};
             CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL,
               updated_at INTEGER NOT NULL) STRICT;"
        ))
        .unwrap();
        db.execute("INSERT INTO auth_profile_store VALUES ('primary', ?1, 0)", [store.to_string()]).unwrap();
    }

    #[test]
    fn a_folder_without_openclaw_json_is_not_a_home() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), None).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("not an OpenClaw home"), "{err}");
    }

    #[test]
    fn json5_config_and_file_stores_are_read() {
        let home = home_with("{agents: {defaults: {model: 'openai/gpt-5.5'}}, // a comment\n}");
        let store =
            json!({"version": 1, "profiles": {"openai:default": {"type": "api_key", "provider": "openai"}}});
        std::fs::write(home.path().join(".openclaw/agents/main/agent/auth-profiles.json"), store.to_string())
            .unwrap();
        let snapshot = read(home.path(), None).unwrap();
        assert_eq!(snapshot.config["agents"]["defaults"]["model"], "openai/gpt-5.5");
        assert_eq!(snapshot.agents.len(), 1);
        assert_eq!(snapshot.agents[0].profiles.as_ref(), Some(&store));
    }

    #[test]
    fn sqlite_wins_from_2026_5_30_and_json_before() {
        let home = home_with("{}");
        let dir = home.path().join(".openclaw/agents/main/agent");
        agent_database(&dir.join(AGENT_DATABASE), 23, &json!({"version": 1, "profiles": {"a": {}}}));
        std::fs::write(dir.join("auth-profiles.json"), r#"{"version": 1, "profiles": {"b": {}}}"#).unwrap();
        let now = read(home.path(), None).unwrap();
        assert!(now.agents[0].profiles.as_ref().unwrap()["profiles"].get("a").is_some());
        assert_eq!(now.notes.len(), 1, "{:?}", now.notes);
        let old = read(home.path(), Some(&"2026.5.16-beta.4".parse().unwrap())).unwrap();
        assert!(old.agents[0].profiles.as_ref().unwrap()["profiles"].get("b").is_some());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let home = home_with("{}");
        let path = home.path().join(".openclaw/agents/main/agent").join(AGENT_DATABASE);
        agent_database(&path, AGENT_SCHEMA_VERSION + 1, &json!({}));
        let err = read(home.path(), None).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("newer than this reader knows"), "{err}");
    }
}
