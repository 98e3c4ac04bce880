//! What a dispatcher reads before it dispatches: [`DispatchInputs`].
//!
//! The same inputs come from files named by flags (`--config --profiles
//! --state --env --agent --model --version`), from an OpenClaw home laid out
//! as OpenClaw lays it out (stores found next to the config), or from a
//! scenario's `inputs` object (docs/design.md, "Scenarios").

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::catalog::Catalog;
use crate::credential;
use crate::credential::CredentialFacts;
use crate::error::{Error, Result};
use crate::files;
use crate::openclaw::config::OpenClawConfig;
use crate::openclaw::profiles::{AuthStore, StoredCredential};
use crate::openclaw::state::AuthState;
use crate::version::Version;

/// The agent planned for when none is named.
pub const DEFAULT_AGENT: &str = "main";

/// The agent whose store every other agent inherits.
pub const MAIN_AGENT: &str = "main";

/// Everything the reference dispatcher reads.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchInputs {
    /// `openclaw.json`.
    pub config: OpenClawConfig,
    /// The agent's own `auth-profiles.json`.
    pub profiles: AuthStore,
    /// The agent's `auth-state.json`.
    pub state: AuthState,
    /// Other agents' stores by agent id (`main` is inherited by the others).
    pub agent_stores: BTreeMap<String, AuthStore>,
    /// Environment variables the dispatcher sees (only these: the process
    /// environment is never read, so plans are reproducible).
    pub env: BTreeMap<String, String>,
    /// Agent id.
    pub agent: String,
    /// Model ref that overrides the configured one (`--model`).
    pub model: Option<String>,
    /// Dispatcher version; `None` plans for the catalog's `default_version`.
    pub version: Option<Version>,
    /// "Now" in milliseconds since the epoch, for expiry and cooldown.
    pub now_ms: i64,
    /// Where the inputs came from, one line each, for explanations.
    pub sources: Vec<String>,
}

impl Default for DispatchInputs {
    fn default() -> Self {
        Self {
            config: OpenClawConfig::default(),
            profiles: AuthStore::default(),
            state: AuthState::default(),
            agent_stores: BTreeMap::new(),
            env: BTreeMap::new(),
            agent: DEFAULT_AGENT.to_owned(),
            model: None,
            version: None,
            now_ms: now_ms(),
            sources: Vec::new(),
        }
    }
}

/// The current time in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The keys a scenario's `inputs` object may have.
const SCENARIO_KEYS: [&str; 8] =
    ["config", "auth_profiles", "auth_state", "agent_stores", "env", "agent", "model", "now"];

/// The credentials an agent sees: its own store over main's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EffectiveStore {
    /// Profile id → credential.
    pub profiles: BTreeMap<String, StoredCredential>,
    /// Ids that come from main's store rather than the agent's own.
    pub inherited: BTreeSet<String>,
}

impl DispatchInputs {
    /// Build from a scenario's `inputs` object (docs/design.md, "Scenarios"): `config`,
    /// `auth_profiles`, `auth_state`, `agent_stores`, `env`, `agent`, `model`,
    /// and optionally `now` (ms). A fixture token may be written
    /// `{"jwt": {"claims": {…}}}`; it becomes an unsigned JWT with those claims.
    pub fn from_scenario_inputs(inputs: &Value, version: Option<Version>) -> Result<Self> {
        let inputs = mint_fixture_tokens(inputs);
        let Some(fields) = inputs.as_object() else {
            return Err(Error::input("`inputs` must be an object (config, auth_profiles, auth_state, …)"));
        };
        if let Some(unknown) = fields.keys().find(|k| !SCENARIO_KEYS.contains(&k.as_str())) {
            return Err(Error::input(format!(
                "inputs.{unknown}: unknown field (expected one of {})",
                SCENARIO_KEYS.join(", ")
            )));
        }
        let field = |name: &str| fields.get(name).unwrap_or(&Value::Null);
        let store = |name: &str, value: &Value| -> Result<AuthStore> {
            if value.is_null() { Ok(AuthStore::default()) } else { AuthStore::from_value(value) }
                .map_err(|e| e.context(format!("inputs.{name}")))
        };
        let mut agent_stores = BTreeMap::new();
        for (agent, value) in field("agent_stores").as_object().into_iter().flatten() {
            agent_stores.insert(agent.clone(), store(&format!("agent_stores.{agent}"), value)?);
        }
        let mut config =
            OpenClawConfig::from_value(field("config")).map_err(|e| e.context("inputs.config"))?;
        for warning in &mut config.warnings {
            *warning = format!("inputs.config.{warning}");
        }
        Ok(Self {
            config,
            profiles: store("auth_profiles", field("auth_profiles"))?,
            state: AuthState::from_value(field("auth_state")).map_err(|e| e.context("inputs.auth_state"))?,
            agent_stores,
            env: string_map(field("env")).map_err(|e| e.context("inputs.env"))?,
            agent: optional_string(field("agent"), "agent")?.unwrap_or_else(|| DEFAULT_AGENT.to_owned()),
            model: optional_string(field("model"), "model")?,
            version,
            now_ms: match field("now") {
                Value::Null => now_ms(),
                now => now
                    .as_i64()
                    .ok_or_else(|| Error::input("inputs.now: must be milliseconds since the epoch"))?,
            },
            sources: Vec::new(),
        })
    }

    /// The store the agent sees: main's profiles, then its own (which win).
    pub fn effective_store(&self) -> EffectiveStore {
        let mut store = EffectiveStore::default();
        if self.agent != MAIN_AGENT
            && let Some(main) = self.agent_stores.get(MAIN_AGENT)
        {
            store.profiles.extend(main.profiles.clone());
            store.inherited.extend(main.profiles.keys().cloned());
        }
        for (id, cred) in &self.profiles.profiles {
            store.inherited.remove(id);
            store.profiles.insert(id.clone(), cred.clone());
        }
        store
    }

    /// What each credential of these inputs is, by fingerprint: the profiles
    /// of every store, each with the store that holds it when there are
    /// several (the agent's own first, then main's, then other agents'; so
    /// main's entry under an id the agent also holds is known as main's), with their account as a
    /// fingerprint; the providers' env keys (`env:VAR`) and config keys
    /// (`config:models.providers.<id>.apiKey`). Profile ids are given as the
    /// plan names them at the planned version (after the version band's
    /// renames), so they compare with the plan.
    pub fn credential_facts(&self, catalog: &Catalog) -> BTreeMap<String, CredentialFacts> {
        let version = self.version.clone().unwrap_or_else(|| catalog.default_version.clone());
        let renames = catalog.renames(&version);
        let fact = |secret: &str, profile: String, account: Option<String>, store: Option<&str>| {
            let kind = credential::classify(secret).to_owned();
            let account = account.as_deref().map(credential::fingerprint);
            let store = store.map(str::to_owned);
            (
                credential::fingerprint(secret),
                CredentialFacts { kind, profile: Some(profile), account, store },
            )
        };
        let mut facts = BTreeMap::new();
        let stores = self.stores();
        // A store is named only where two may hold the same id, as `record --profiles` names them.
        let several = stores.iter().filter(|(_, s)| !s.profiles.is_empty()).count() > 1;
        for (store, profiles) in stores {
            for (id, cred) in &profiles.profiles {
                if let Some(secret) = &cred.secret {
                    let id = super::plan::rename_profile_id(id, &renames);
                    let (fingerprint, facts_of) =
                        fact(secret, id, cred.account(), Some(store).filter(|_| several));
                    facts.entry(fingerprint).or_insert(facts_of);
                }
            }
        }
        let env_vars = catalog.providers.values().flat_map(|p| &p.env).map(|k| &k.var);
        for var in env_vars {
            if let Some(secret) = self.env.get(var).filter(|s| !s.is_empty()) {
                facts.extend([fact(secret, format!("env:{var}"), None, None)]);
            }
        }
        for (id, provider) in &self.config.models.providers {
            if let Some(secret) = &provider.api_key {
                facts.extend([fact(secret, config_key_profile(id), None, None)]);
            }
        }
        facts
    }

    /// Every store by the agent that holds it: the agent's own, main's, then
    /// the other agents'.
    pub fn stores(&self) -> Vec<(&str, &AuthStore)> {
        let main = self.agent_stores.get(MAIN_AGENT).filter(|_| self.agent != MAIN_AGENT);
        let others = self.agent_stores.iter().filter(|(id, _)| **id != MAIN_AGENT && **id != self.agent);
        std::iter::once((self.agent.as_str(), &self.profiles))
            .chain(main.map(|store| (MAIN_AGENT, store)))
            .chain(others.map(|(id, store)| (id.as_str(), store)))
            .collect()
    }
}

/// The pseudo-profile of a provider key written in the config.
pub fn config_key_profile(provider: &str) -> String {
    format!("config:models.providers.{provider}.apiKey")
}

/// Replace every `{"jwt": {"claims": {…}}}` with an unsigned JWT carrying those claims.
///
/// `{"jwt": {"claims": {…}, "signature": "TEXT"}}` puts base64url(TEXT) in the
/// signature segment: some clients (the Codex binary) refuse a JWT whose
/// signature segment is empty, as no real token's is; nothing checks it.
pub fn mint_fixture_tokens(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let jwt = map.get("jwt").filter(|_| map.len() == 1);
            let claims = jwt.and_then(|j| j.get("claims")).filter(|c| c.is_object());
            match claims {
                Some(claims) => {
                    let signature =
                        jwt.and_then(|j| j.get("signature")).and_then(Value::as_str).unwrap_or("");
                    Value::String(credential::mint_fixture_jwt(claims, signature))
                }
                _ => Value::Object(map.iter().map(|(k, v)| (k.clone(), mint_fixture_tokens(v))).collect()),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(mint_fixture_tokens).collect()),
        other => other.clone(),
    }
}

fn optional_string(value: &Value, name: &str) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(Error::input(format!("inputs.{name}: must be a string or null"))),
    }
}

fn string_map(value: &Value) -> Result<BTreeMap<String, String>> {
    let Some(map) = value.as_object() else {
        return if value.is_null() { Ok(BTreeMap::new()) } else { Err(Error::input("must be an object")) };
    };
    map.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_owned())),
            None => Err(Error::input(format!("{k}: must be a string"))),
        })
        .collect()
}

/// Where `dispatch plan|send` take their inputs from (the flags of `dispatch plan`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputSources {
    /// A scenario file whose `inputs` to use (instead of `config`/`profiles`/`state`).
    pub scenario: Option<PathBuf>,
    /// `openclaw.json`; stores are looked for beside it.
    pub config: Option<PathBuf>,
    /// The agent's `auth-profiles.json`.
    pub profiles: Option<PathBuf>,
    /// The agent's `auth-state.json`.
    pub state: Option<PathBuf>,
    /// `K=V` environment pairs.
    pub env: Vec<String>,
    /// Agent id.
    pub agent: Option<String>,
    /// Model ref override.
    pub model: Option<String>,
    /// Dispatcher version.
    pub version: Option<String>,
    /// "Now" in ms since the epoch.
    pub now_ms: Option<i64>,
}

impl InputSources {
    /// Read every input; errors name the file and line:column or the flag (exit 2).
    pub fn load(&self) -> Result<DispatchInputs> {
        let version = self
            .version
            .as_deref()
            .map(|v| v.parse::<Version>().map_err(|e| Error::input(format!("--version: {e}"))))
            .transpose()?;
        let mut inputs = match &self.scenario {
            Some(path) => load_scenario_inputs(path, version)?,
            None => self.load_files(version)?,
        };
        for pair in &self.env {
            let Some((key, value)) = pair.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                return Err(Error::input(format!("--env {pair:?}: expected NAME=VALUE")));
            };
            inputs.env.insert(key.to_owned(), value.to_owned());
        }
        if let Some(agent) = &self.agent {
            inputs.agent = agent.clone();
        }
        if let Some(model) = &self.model {
            inputs.model = Some(model.clone());
        }
        if let Some(now) = self.now_ms {
            inputs.now_ms = now;
        }
        if self.scenario.is_none() && self.config.is_none() && self.model.is_none() {
            return Err(Error::input(
                "nothing to plan: pass --config openclaw.json or --scenario FILE (or at least --model provider/model)",
            ));
        }
        Ok(inputs)
    }

    fn load_files(&self, version: Option<Version>) -> Result<DispatchInputs> {
        let agent = self.agent.clone().unwrap_or_else(|| DEFAULT_AGENT.to_owned());
        let mut inputs = DispatchInputs { agent: agent.clone(), version, ..DispatchInputs::default() };
        let home = self.config.as_deref().and_then(Path::parent);
        if let Some(path) = &self.config {
            inputs.config = OpenClawConfig::load(path)?;
            inputs.sources.push(format!("config {}", path.display()));
        }
        let agent_dir = |id: &str| home.map(|home| agent_dir(home, &inputs.config, id));
        if let Some(path) =
            self.profiles.clone().or_else(|| existing(agent_dir(&agent), "auth-profiles.json"))
        {
            inputs.profiles = AuthStore::load(&path)?;
            inputs.sources.push(format!("profiles {}", path.display()));
        }
        if let Some(path) = self.state.clone().or_else(|| existing(agent_dir(&agent), "auth-state.json")) {
            inputs.state = AuthState::load(&path)?;
            inputs.sources.push(format!("state {}", path.display()));
        }
        if agent != MAIN_AGENT
            && let Some(path) = existing(agent_dir(MAIN_AGENT), "auth-profiles.json")
        {
            inputs.agent_stores.insert(MAIN_AGENT.to_owned(), AuthStore::load(&path)?);
            inputs.sources.push(format!("profiles of agent {MAIN_AGENT} {}", path.display()));
        }
        Ok(inputs)
    }
}

/// An agent's directory in an OpenClaw home: `agents.list[].agentDir` (relative
/// to the home), else `agents/<id>/agent`.
fn agent_dir(home: &Path, config: &OpenClawConfig, agent: &str) -> PathBuf {
    match config.agent(agent).and_then(|a| a.agent_dir.as_deref()) {
        Some(dir) => home.join(dir),
        None => home.join("agents").join(agent).join("agent"),
    }
}

fn existing(dir: Option<PathBuf>, file: &str) -> Option<PathBuf> {
    dir.map(|d| d.join(file)).filter(|p| p.is_file())
}

/// The `inputs` of a scenario file.
fn load_scenario_inputs(path: &Path, version: Option<Version>) -> Result<DispatchInputs> {
    let text = files::read_input(path, "scenario").map_err(|e| e.hint("pass a scenario JSON file"))?;
    let scenario: Value = serde_json::from_str(&text).map_err(|e| Error::json(path.display(), &e))?;
    let Some(inputs) = scenario.get("inputs") else {
        return Err(not_a_scenario(path, &scenario));
    };
    let mut inputs =
        DispatchInputs::from_scenario_inputs(inputs, version).map_err(|e| e.context(path.display()))?;
    for warning in &mut inputs.config.warnings {
        *warning = format!("{}: {warning}", path.display());
    }
    inputs.sources.push(format!("scenario {}", path.display()));
    Ok(inputs)
}

/// What a file without `inputs` is instead of a scenario, and what to pass.
fn not_a_scenario(path: &Path, file: &Value) -> Error {
    const SEE: &str = "a scenario holds the dispatcher's inputs: see docs/design.md#scenarios";
    let path = path.display();
    let format = file.get("format").and_then(Value::as_str);
    let kind =
        format.and_then(|f| f.strip_prefix("dispatch-vcr/")).and_then(|f| f.split_once('@')).map(|(k, _)| k);
    let message = match (kind, format) {
        (Some("cassette"), Some(format)) => format!(
            "{path} is a cassette (format {format}), not a scenario: pass the scenario that names it in its \
             `cassettes` (see docs/design.md#scenarios)"
        ),
        (Some("catalog"), Some(format)) => {
            format!("{path} is a provider catalog (format {format}), not a scenario: pass it to --catalog")
        }
        (Some("scenario"), _) => format!("{path}: the scenario has no `inputs` object ({SEE})"),
        (Some(kind), Some(format)) => {
            format!("{path} is a dispatch-vcr {kind} file (format {format}), not a scenario ({SEE})")
        }
        _ => format!("{path} has no `inputs` object, so it is not a scenario ({SEE})"),
    };
    Error::input(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(inputs: Value) -> DispatchInputs {
        DispatchInputs::from_scenario_inputs(&inputs, None).unwrap()
    }

    #[test]
    fn scenario_inputs_read_every_field() {
        let inputs = scenario(json!({
            "config": {"agents": {"defaults": {"model": "openai/gpt-5.5"}}},
            "auth_profiles": {"version": 1, "profiles": {"openai:a": {"type": "api_key", "provider": "openai", "key": "sk-a"}}},
            "auth_state": {"order": {"openai": ["openai:a"]}},
            "agent_stores": {"main": {"profiles": {}}},
            "env": {"OPENAI_API_KEY": "sk-env"}, "agent": "ops", "model": "openai/gpt-5", "now": 42
        }));
        assert_eq!(inputs.agent, "ops");
        assert_eq!(inputs.model.as_deref(), Some("openai/gpt-5"));
        assert_eq!(inputs.now_ms, 42);
        assert_eq!(inputs.env["OPENAI_API_KEY"], "sk-env");
        assert_eq!(inputs.state.order["openai"], ["openai:a"]);
        assert!(
            inputs.profiles.profiles.contains_key("openai:a") && inputs.agent_stores.contains_key("main")
        );
    }

    #[test]
    fn nulls_mean_empty_and_agent_defaults_to_main() {
        let inputs =
            scenario(json!({"config": null, "auth_profiles": null, "auth_state": null, "agent": null}));
        assert_eq!(inputs.agent, "main");
        assert!(inputs.profiles.profiles.is_empty() && inputs.config == OpenClawConfig::default());
    }

    #[test]
    fn unknown_scenario_fields_are_named() {
        let err = DispatchInputs::from_scenario_inputs(&json!({"auth_profile": {}}), None).unwrap_err();
        assert!(err.message().contains("inputs.auth_profile: unknown field"), "{err}");
    }

    #[test]
    fn mistyped_config_keys_are_named_from_inputs_config() {
        let inputs = scenario(json!({"config": {"agents": {"defaults": {"modle": "openai/gpt-5.5"}}}}));
        assert_eq!(
            inputs.config.warnings,
            ["inputs.config.agents.defaults.modle: unknown key (did you mean model?)"]
        );
    }

    #[test]
    fn fixture_jwts_are_minted_with_their_claims() {
        let claims = json!({"https://api.openai.com/auth": {"chatgpt_account_id": "acct-1"}});
        let inputs = scenario(json!({"auth_profiles": {"profiles": {"openai-codex:u": {
            "type": "oauth", "provider": "openai-codex", "access": {"jwt": {"claims": claims}}}}}}));
        let cred = &inputs.profiles.profiles["openai-codex:u"];
        assert_eq!(cred.account().as_deref(), Some("acct-1"));
        assert_eq!(cred.secret.as_deref().map(credential::classify), Some("jwt"));
    }

    #[test]
    fn a_fixture_signature_fills_the_third_segment() {
        let claims = json!({"sub": "u"});
        let unsigned = mint_fixture_tokens(&json!({"jwt": {"claims": claims}}));
        let signed = mint_fixture_tokens(&json!({"jwt": {"claims": claims, "signature": "fixture"}}));
        let unsigned = unsigned.as_str().unwrap();
        assert!(unsigned.ends_with('.'), "no signature: the fingerprints of existing fixtures stay");
        assert_eq!(signed.as_str().unwrap(), format!("{unsigned}Zml4dHVyZQ"));
        assert_eq!(credential::classify(signed.as_str().unwrap()), "jwt");
    }

    #[test]
    fn non_main_agents_inherit_main_and_their_own_entries_win() {
        let key = |k: &str| json!({"type": "api_key", "provider": "openai", "key": k});
        let inputs = scenario(json!({"agent": "ops",
            "auth_profiles": {"profiles": {"openai:shared": key("sk-own")}},
            "agent_stores": {"main": {"profiles": {"openai:shared": key("sk-main"), "openai:main-only": key("sk-m")}}}}));
        let store = inputs.effective_store();
        assert_eq!(store.profiles["openai:shared"].secret.as_deref(), Some("sk-own"));
        assert!(store.profiles.contains_key("openai:main-only"));
        assert_eq!(store.inherited, BTreeSet::from(["openai:main-only".to_owned()]));
    }

    #[test]
    fn main_does_not_inherit_from_itself() {
        let inputs = scenario(json!({"agent_stores": {"main": {"profiles": {
            "openai:x": {"type": "api_key", "provider": "openai", "key": "sk"}}}}}));
        assert!(inputs.effective_store().profiles.is_empty());
    }

    #[test]
    fn credential_facts_name_profiles_env_and_config_keys_by_fingerprint() {
        let claims = json!({"https://api.openai.com/auth": {"chatgpt_account_id": "acct-1"}});
        let mut inputs = scenario(json!({
            "auth_profiles": {"profiles": {"openai-codex:u": {"type": "oauth", "provider": "openai-codex",
                "access": {"jwt": {"claims": claims}}}}},
            "config": {"models": {"providers": {"acme": {"apiKey": "acme-secret"}}}},
            "env": {"OPENAI_API_KEY": "sk-env", "UNRELATED": "x"}}));
        inputs.version = Some("2026.5.12".parse().unwrap());
        let catalog = Catalog::shipped().unwrap();
        let facts = inputs.credential_facts(&catalog);
        let profiles: BTreeSet<_> = facts.values().filter_map(|f| f.profile.clone()).collect();
        let expected = ["config:models.providers.acme.apiKey", "env:OPENAI_API_KEY", "openai-codex:u"];
        assert_eq!(profiles, expected.iter().map(|s| s.to_string()).collect());
        assert_eq!(facts[&credential::fingerprint("sk-env")].kind, "openai-key");
        inputs.version = Some("2026.9.6".parse().unwrap());
        let renamed = inputs.credential_facts(&catalog);
        assert!(renamed.values().any(|f| f.profile.as_deref() == Some("openai:u")));
        let jwt_fact = renamed.values().find(|f| f.kind == "jwt").unwrap();
        assert_eq!(jwt_fact.account, Some(credential::fingerprint("acct-1")));
    }

    #[test]
    fn files_are_found_beside_the_config_like_openclaw_lays_them_out() {
        let home = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = home.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("openclaw.json", "{agents: {defaults: {model: 'openai/gpt-5.5'}}}");
        write(
            "agents/main/agent/auth-profiles.json",
            r#"{"profiles": {"openai:m": {"type": "api_key", "provider": "openai", "key": "sk-m"}}}"#,
        );
        write("agents/ops/agent/auth-profiles.json", r#"{"profiles": {}}"#);
        write("agents/ops/agent/auth-state.json", r#"{"order": {"openai": ["openai:m"]}}"#);
        let sources = InputSources {
            config: Some(home.path().join("openclaw.json")),
            agent: Some("ops".into()),
            env: vec!["A=b=c".into()],
            ..InputSources::default()
        };
        let inputs = sources.load().unwrap();
        assert_eq!(inputs.state.order["openai"], ["openai:m"]);
        assert!(inputs.effective_store().profiles.contains_key("openai:m"));
        assert_eq!(inputs.env["A"], "b=c");
        assert_eq!(inputs.sources.len(), 4, "{:?}", inputs.sources);
    }

    #[test]
    fn bad_flags_are_named() {
        let bad_env = InputSources { env: vec!["NOPE".into()], ..InputSources::default() };
        assert!(bad_env.load().unwrap_err().message().contains("--env \"NOPE\""));
        let bad_version = InputSources { version: Some("2026.5".into()), ..InputSources::default() };
        assert!(bad_version.load().unwrap_err().message().starts_with("--version: invalid version"));
    }

    #[test]
    fn without_config_scenario_or_model_there_is_nothing_to_plan() {
        let only_env = InputSources { env: vec!["OPENAI_API_KEY=sk".into()], ..InputSources::default() };
        let err = only_env.load().unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("pass --config openclaw.json or --scenario FILE"), "{err}");
        let with_model = InputSources { model: Some("openai/gpt-5.5".into()), ..only_env };
        assert!(with_model.load().is_ok());
    }

    #[test]
    fn a_file_without_inputs_says_what_it_is_instead() {
        let say = |file: Value| not_a_scenario(Path::new("x.json"), &file).message().to_owned();
        let cassette = say(json!({"format": "dispatch-vcr/cassette@1", "interactions": []}));
        assert!(
            cassette.starts_with("x.json is a cassette (format dispatch-vcr/cassette@1), not a scenario: pass the scenario that names it"),
            "{cassette}"
        );
        assert!(say(json!({"format": "dispatch-vcr/catalog@1"})).contains("pass it to --catalog"));
        assert!(
            say(json!({"format": "dispatch-vcr/scenario@1"})).contains("the scenario has no `inputs` object")
        );
        for other in [json!({"a": 1}), json!([1]), json!({"format": "har"})] {
            let message = say(other);
            assert!(
                message.contains("has no `inputs` object") && message.contains("docs/design.md#scenarios"),
                "{message}"
            );
        }
    }

    #[test]
    fn broken_config_names_file_and_line_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        std::fs::write(&path, "{\n  agents: {\n    defaults: { model: 'x' }\n  ]\n}").unwrap();
        let err = InputSources { config: Some(path), ..InputSources::default() }.load().unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("openclaw.json:4:3: "), "{}", err.message());
    }
}
