//! A scenario's inputs as files, in OpenClaw's layout, under a fresh HOME.
//!
//! The files hold exactly what the scenario says (fixture JWTs minted): no
//! migration is applied, because upgrading the files (`openclaw doctor
//! --fix`) is the dispatcher's own job and part of what a run observes.
//!
//! ```text
//! HOME/.openclaw/openclaw.json                          inputs.config + logging to HOME/dispatcher.log
//! HOME/.openclaw/agents/<agent>/agent/auth-profiles.json inputs.auth_profiles
//! HOME/.openclaw/agents/<agent>/agent/auth-state.json    inputs.auth_state
//! HOME/.openclaw/agents/<id>/agent/auth-profiles.json    inputs.agent_stores.<id>
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::dispatch::inputs::{DEFAULT_AGENT, mint_fixture_tokens};
use crate::{Error, Result};

/// Where the dispatcher's log goes, relative to HOME.
pub const LOG_FILE: &str = "dispatcher.log";

/// One file to write: path relative to HOME, JSON content, whether it holds secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct HomeFile {
    /// Path relative to HOME.
    pub path: PathBuf,
    /// The JSON document.
    pub content: Value,
    /// Whether it holds credentials (written 0600, as OpenClaw writes them).
    pub secret: bool,
}

/// A materialised HOME.
#[derive(Debug, Clone, PartialEq)]
pub struct Home {
    /// The HOME folder.
    pub root: PathBuf,
    /// The dispatcher's log file (written by the dispatcher, if it logs).
    pub log: PathBuf,
    /// The agent the scenario plans for.
    pub agent: String,
    /// The files written, relative to `root`.
    pub files: Vec<PathBuf>,
}

/// The files a scenario's `inputs` become under `home` (pure: nothing is written).
pub fn layout(inputs: &Value, home: &Path) -> Result<(String, Vec<HomeFile>)> {
    let inputs = mint_fixture_tokens(inputs);
    let field = |name: &str| inputs.get(name).filter(|v| !v.is_null());
    let agent = match field("agent") {
        None => DEFAULT_AGENT.to_owned(),
        Some(Value::String(id)) => id.clone(),
        Some(_) => return Err(Error::input("inputs.agent: must be an agent id string, e.g. \"main\"")),
    };
    check_agent_id(&agent, "inputs.agent")?;
    let mut files = vec![HomeFile {
        path: PathBuf::from(".openclaw/openclaw.json"),
        content: with_log_file(field("config"), &home.join(LOG_FILE))?,
        secret: false,
    }];
    let store = |agent: &str, name: &str, content: &Value| HomeFile {
        path: agent_dir(agent).join(name),
        content: content.clone(),
        secret: true,
    };
    if let Some(profiles) = field("auth_profiles") {
        files.push(store(&agent, "auth-profiles.json", profiles));
    }
    if let Some(state) = field("auth_state") {
        files.push(store(&agent, "auth-state.json", state));
    }
    if let Some(stores) = field("agent_stores") {
        let stores = stores
            .as_object()
            .ok_or_else(|| Error::input("inputs.agent_stores: must be an object of agent id → store"))?;
        for (id, content) in stores.iter().filter(|(id, v)| **id != agent && !v.is_null()) {
            check_agent_id(id, &format!("inputs.agent_stores.{id}"))?;
            files.push(store(id, "auth-profiles.json", content));
        }
    }
    Ok((agent, files))
}

/// Write the files of `inputs` under `home` (which must exist).
pub fn materialise(inputs: &Value, home: &Path) -> Result<Home> {
    let (agent, files) = layout(inputs, home)?;
    for file in &files {
        write_json(&home.join(&file.path), &file.content, file.secret)?;
    }
    Ok(Home {
        root: home.to_owned(),
        log: home.join(LOG_FILE),
        agent,
        files: files.into_iter().map(|f| f.path).collect(),
    })
}

fn agent_dir(agent: &str) -> PathBuf {
    Path::new(".openclaw/agents").join(agent).join("agent")
}

/// Agent ids become folder names: one plain path segment.
fn check_agent_id(id: &str, at: &str) -> Result<()> {
    let plain = !id.is_empty() && id != "." && id != ".." && !id.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(Error::input(format!("{at}: {id:?} is not an agent id (one folder name, e.g. \"main\")")))
    }
}

/// The config with `logging.file` pointing at `log` (and `logging.level`
/// `debug` unless the scenario sets one), so the run can read the
/// dispatcher's failover decisions.
fn with_log_file(config: Option<&Value>, log: &Path) -> Result<Value> {
    let mut config = match config {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return Err(Error::input("inputs.config: must be an object (OpenClaw's openclaw.json)")),
    };
    let logging = config.entry("logging").or_insert_with(|| json!({}));
    let Some(logging) = logging.as_object_mut() else {
        return Err(Error::input("inputs.config.logging: must be an object"));
    };
    logging.entry("level").or_insert_with(|| json!("debug"));
    logging.insert("file".to_owned(), json!(log.display().to_string()));
    Ok(Value::Object(config))
}

fn write_json(path: &Path, content: &Value, secret: bool) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, &e))?;
    }
    let mut text = serde_json::to_string_pretty(content).unwrap_or_default();
    text.push('\n');
    let mode = if secret { 0o600 } else { 0o644 };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::io("create", path, &e))?;
    file.write_all(text.as_bytes()).map_err(|e| Error::io("write", path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(files: &[HomeFile]) -> Vec<String> {
        files.iter().map(|f| f.path.display().to_string()).collect()
    }

    #[test]
    fn stores_go_in_the_agents_folder_and_other_agents_get_their_own() {
        let inputs = json!({
            "config": {"agents": {"defaults": {"model": "openai/gpt-5.5"}}},
            "auth_profiles": {"version": 1, "profiles": {}},
            "auth_state": {"version": 1},
            "agent_stores": {"main": {"version": 1, "profiles": {}}, "work": null},
            "agent": "ops"
        });
        let (agent, files) = layout(&inputs, Path::new("/h")).unwrap();
        assert_eq!(agent, "ops");
        assert_eq!(
            paths(&files),
            [
                ".openclaw/openclaw.json",
                ".openclaw/agents/ops/agent/auth-profiles.json",
                ".openclaw/agents/ops/agent/auth-state.json",
                ".openclaw/agents/main/agent/auth-profiles.json",
            ]
        );
        assert!(files.iter().skip(1).all(|f| f.secret));
    }

    #[test]
    fn the_config_logs_to_a_file_in_home_keeping_its_own_level() {
        let (_, files) = layout(&json!({"config": {"logging": {"level": "info"}}}), Path::new("/h")).unwrap();
        assert_eq!(files[0].content["logging"], json!({"level": "info", "file": "/h/dispatcher.log"}));
        let (agent, files) = layout(&json!({}), Path::new("/h")).unwrap();
        assert_eq!(agent, "main");
        assert_eq!(files[0].content, json!({"logging": {"level": "debug", "file": "/h/dispatcher.log"}}));
    }

    #[test]
    fn fixture_jwts_are_minted() {
        let inputs =
            json!({"auth_profiles": {"profiles": {"p:x": {"access": {"jwt": {"claims": {"sub": "x"}}}}}}});
        let (_, files) = layout(&inputs, Path::new("/h")).unwrap();
        let access = files[1].content["profiles"]["p:x"]["access"].as_str().unwrap();
        assert!(crate::credential::looks_like_jwt(access), "{access}");
    }

    #[test]
    fn agent_ids_must_be_folder_names() {
        for bad in [json!({"agent": "../x"}), json!({"agent": 3}), json!({"agent_stores": {"a/b": {}}})] {
            let err = layout(&bad, Path::new("/h")).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.message().starts_with("inputs.agent"), "{err}");
        }
    }

    #[test]
    fn files_are_written_with_store_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let home = materialise(&json!({"auth_profiles": {"profiles": {}}}), dir.path()).unwrap();
        let store = dir.path().join(&home.files[1]);
        assert_eq!(store.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(&home.files[0])).unwrap()).unwrap();
        assert_eq!(config["logging"]["file"], home.log.display().to_string());
    }
}
