//! OpenClaw's `openclaw.json`: the keys that decide a dispatch.
//!
//! Users write it as JSON5 (comments, unquoted keys, trailing commas), so it is
//! read with a JSON5 parser. Only the keys that matter are modelled; every
//! other key is ignored, as OpenClaw's many unrelated settings must not make a
//! valid file fail here.

use std::collections::BTreeMap;
use std::path::Path;

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::includes;
use crate::error::{Error, Result};
use crate::files;

/// The parsed config (`openclaw.json`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct OpenClawConfig {
    /// `agents`: defaults and the agent list.
    pub agents: AgentsConfig,
    /// `auth`: configured profiles and explicit orders.
    pub auth: AuthConfig,
    /// `models`: custom and overridden providers.
    pub models: ModelsConfig,
    /// `plugins`: which plugins (and so which runtimes) are available.
    pub plugins: PluginsConfig,
    /// `memory`: memory search, whose embeddings are a model call of their own (from 2026.8.1).
    pub memory: MemoryConfig,
    /// Keys in the parts read here that look like typos of keys read here,
    /// one line each: `agents.defaults.modle: unknown key (did you mean model?)`.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `agents`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AgentsConfig {
    /// `agents.defaults`.
    pub defaults: AgentDefaults,
    /// `agents.list[]`.
    pub list: Vec<AgentEntry>,
}

/// `agents.defaults`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentDefaults {
    /// `model`: a ref or `{primary, fallbacks}`.
    pub model: Option<ModelSetting>,
    /// `models["<ref>"]`: per-model settings.
    pub models: BTreeMap<String, ModelEntry>,
    /// `agentRuntime`.
    pub agent_runtime: Option<RuntimeSetting>,
    /// `embeddedHarness {runtime, fallback}`, the older spelling of `agentRuntime`.
    pub embedded_harness: Option<EmbeddedHarness>,
    /// `memorySearch`: memory search settings before 2026.8.1 (later `memory.search`).
    pub memory_search: Option<MemorySearch>,
    /// `mediaModels`: the models of media tools (`image` for `image_generate`).
    pub media_models: MediaModels,
}

/// A model setting: `"provider/model"` or `{primary, fallbacks}`.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSetting {
    /// Just the primary ref.
    Ref(String),
    /// Primary and fallbacks.
    Chain(ModelChain),
}

impl ModelSetting {
    /// The primary ref, if set.
    pub fn primary(&self) -> Option<&str> {
        match self {
            Self::Ref(r) => Some(r),
            Self::Chain(chain) => chain.primary.as_deref(),
        }
    }

    /// The fallback refs, if the setting is a chain that names any.
    pub fn fallbacks(&self) -> Option<&[String]> {
        match self {
            Self::Chain(chain) if !chain.fallbacks.is_empty() => Some(&chain.fallbacks),
            _ => None,
        }
    }
}

/// The object form of [`ModelSetting`]: `{primary, fallbacks}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ModelChain {
    /// The primary ref.
    pub primary: Option<String>,
    /// Refs tried in order when the primary fails.
    pub fallbacks: Vec<String>,
}

impl<'de> Deserialize<'de> for ModelSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StringOr::new(
            "a model ref like \"openai/gpt-5.5\" or {primary: \"openai/gpt-5.5\", fallbacks: [...]}",
            Self::Ref,
            Self::Chain,
        ))
    }
}

/// `agents.defaults.models["<ref>"]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ModelEntry {
    /// `agentRuntime` for this model.
    pub agent_runtime: Option<RuntimeSetting>,
}

/// A runtime setting: `"codex"` or `{id, fallback}`.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeSetting {
    /// Just the runtime id.
    Id(String),
    /// Id and what to use when it is unavailable.
    Full(RuntimeFull),
}

/// The object form of [`RuntimeSetting`]: `{id, fallback}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RuntimeFull {
    /// Runtime id: `pi`, `codex`, `auto`, …
    pub id: Option<String>,
    /// Runtime to use when `id` is unavailable; `none` refuses.
    pub fallback: Option<String>,
}

impl<'de> Deserialize<'de> for RuntimeSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StringOr::new(
            "a runtime id like \"codex\" or {id: \"codex\", fallback: \"pi\"}",
            Self::Id,
            Self::Full,
        ))
    }
}

/// A setting written as a string or as an object `O`: a type error names both
/// forms (an untagged enum would only say that no variant matched).
struct StringOr<O, S, F> {
    expecting: &'static str,
    string: S,
    object: F,
    form: PhantomData<fn() -> O>,
}

impl<O, S, F> StringOr<O, S, F> {
    fn new(expecting: &'static str, string: S, object: F) -> Self {
        Self { expecting, string, object, form: PhantomData }
    }
}

impl<'de, T, O, S, F> Visitor<'de> for StringOr<O, S, F>
where
    O: Deserialize<'de>,
    S: FnOnce(String) -> T,
    F: FnOnce(O) -> T,
{
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        Ok((self.string)(value.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        O::deserialize(de::value::MapAccessDeserializer::new(map)).map(self.object)
    }
}

impl RuntimeSetting {
    /// The runtime id, if set.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Id(id) => Some(id),
            Self::Full(full) => full.id.as_deref(),
        }
    }

    /// The fallback runtime, if set.
    pub fn fallback(&self) -> Option<&str> {
        match self {
            Self::Id(_) => None,
            Self::Full(full) => full.fallback.as_deref(),
        }
    }
}

/// `agents.defaults.embeddedHarness` (older releases).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct EmbeddedHarness {
    /// Runtime id.
    pub runtime: Option<String>,
    /// Fallback runtime.
    pub fallback: Option<String>,
}

/// `agents.list[]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentEntry {
    /// Agent id.
    pub id: String,
    /// Whether it is the default agent.
    pub default: bool,
    /// Its model setting.
    pub model: Option<ModelSetting>,
    /// Its directory (holding `auth-profiles.json`), when not the usual one.
    pub agent_dir: Option<String>,
    /// Its runtime setting.
    pub agent_runtime: Option<RuntimeSetting>,
    /// Its `memorySearch` overrides (before 2026.8.1).
    pub memory_search: Option<MemorySearch>,
    /// Its `memory.search` overrides (from 2026.8.1).
    pub memory: MemoryConfig,
}

/// `agents.defaults.mediaModels`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MediaModels {
    /// `image`: the image-generation model, a ref or `{primary, fallbacks}`.
    pub image: Option<ModelSetting>,
}

/// `memory` (top level, or an agent's).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MemoryConfig {
    /// `memory.search`.
    pub search: Option<MemorySearch>,
}

/// Memory search settings: which embeddings provider indexes and queries memory.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MemorySearch {
    /// `enabled` (default true).
    pub enabled: Option<bool>,
    /// `provider`: an embeddings provider id, `auto`, `local` or `none`.
    pub provider: Option<String>,
    /// `model`: the embeddings model.
    pub model: Option<String>,
    /// `remote`: another destination or key for the remote provider.
    pub remote: Option<MemoryRemote>,
}

/// `memory.search.remote`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MemoryRemote {
    /// `baseUrl`: where the embeddings go instead of the provider's base URL.
    pub base_url: Option<String>,
    /// `apiKey`: the key sent there.
    pub api_key: Option<String>,
    /// `headers`: extra headers (an `authorization` one replaces the key).
    pub headers: BTreeMap<String, String>,
}

/// `auth`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// `auth.profiles.<id>`: profiles the config declares.
    pub profiles: BTreeMap<String, AuthProfileConfig>,
    /// `auth.order.<provider>`: explicit profile order.
    pub order: BTreeMap<String, Vec<String>>,
}

/// `auth.profiles.<id>`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AuthProfileConfig {
    /// Provider id.
    pub provider: Option<String>,
    /// `oauth`, `token` or `api_key`: the stored credential must have this type.
    pub mode: Option<String>,
}

/// `models`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ModelsConfig {
    /// `models.providers.<id>`.
    pub providers: BTreeMap<String, ProviderConfig>,
}

/// `models.providers.<id>`: a custom provider, or settings over a known one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProviderConfig {
    /// Base URL.
    pub base_url: Option<String>,
    /// API key (a secret; never printed).
    pub api_key: Option<String>,
    /// Api (transport), e.g. `openai-completions`.
    pub api: Option<String>,
    /// Extra headers sent with every request.
    pub headers: BTreeMap<String, String>,
    /// `false`: send no credential header (the `headers` carry any auth).
    pub auth_header: Option<bool>,
    /// `models`: the provider's models; one may carry its own `headers`.
    pub models: Vec<ProviderModel>,
}

impl ProviderConfig {
    /// The `headers` of model `id` in `models`, which override the provider's.
    pub fn model_headers(&self, id: &str) -> Option<&BTreeMap<String, String>> {
        self.model(id).map(|m| &m.headers)
    }

    /// Model `id` of `models`.
    pub fn model(&self, id: &str) -> Option<&ProviderModel> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The base URL a request for model `id` goes to: the model's own, else
    /// the provider's (inline models inherit it).
    pub fn base_url_for(&self, id: &str) -> Option<&str> {
        self.model(id)
            .and_then(|m| m.base_url.as_deref())
            .or(self.base_url.as_deref())
            .filter(|u| !u.trim().is_empty())
    }

    /// The api of model `id`: the model's own, else the provider's.
    pub fn api_for(&self, id: &str) -> Option<&str> {
        self.model(id).and_then(|m| m.api.as_deref()).or(self.api.as_deref()).filter(|a| !a.trim().is_empty())
    }
}

/// `models.providers.<id>.models[]`: only what decides a dispatch is read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ProviderModel {
    /// The model id.
    pub id: String,
    /// Headers sent with requests for this model, over the provider's `headers`.
    pub headers: BTreeMap<String, String>,
    /// `baseUrl` of this model, over the provider's.
    #[serde(rename = "baseUrl")]
    pub base_url: Option<String>,
    /// `api` of this model, over the provider's.
    pub api: Option<String>,
}

/// `plugins`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PluginsConfig {
    /// `plugins.entries.<id>`.
    pub entries: BTreeMap<String, PluginEntry>,
    /// `plugins.allow`: when present, only these plugins load.
    pub allow: Option<Vec<String>>,
}

/// `plugins.entries.<id>`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PluginEntry {
    /// `enabled`.
    pub enabled: Option<bool>,
}

impl PluginsConfig {
    /// Why plugin `id` cannot load, if it cannot: disabled, or missing from `plugins.allow`.
    pub fn blocked(&self, id: &str) -> Option<String> {
        if self.entries.get(id).and_then(|e| e.enabled) == Some(false) {
            return Some(format!("plugins.entries.{id}.enabled is false"));
        }
        match &self.allow {
            Some(allow) if !allow.iter().any(|a| a == id) => {
                Some(format!("plugins.allow does not list {id:?}"))
            }
            _ => None,
        }
    }
}

/// The keys read here, object by object, so that a mistyped one can be named.
#[derive(Clone, Copy)]
enum Keys {
    /// An object with these keys (checked only when the value is an object:
    /// a setting may also be written as a string).
    Object(&'static [(&'static str, Keys)]),
    /// An object whose keys are names (`models.providers.<id>`), each value of this shape.
    Map(&'static Keys),
    /// A list, each item of this shape.
    List(&'static Keys),
    /// A value whose content is not checked.
    Leaf,
}

const MODEL_KEYS: Keys = Keys::Object(&[("primary", Keys::Leaf), ("fallbacks", Keys::Leaf)]);
const RUNTIME_KEYS: Keys = Keys::Object(&[("id", Keys::Leaf), ("fallback", Keys::Leaf)]);
const MODEL_ENTRY_KEYS: Keys = Keys::Object(&[("agentRuntime", RUNTIME_KEYS)]);
const HARNESS_KEYS: Keys = Keys::Object(&[("runtime", Keys::Leaf), ("fallback", Keys::Leaf)]);
const DEFAULTS_KEYS: Keys = Keys::Object(&[
    ("model", MODEL_KEYS),
    ("models", Keys::Map(&MODEL_ENTRY_KEYS)),
    ("agentRuntime", RUNTIME_KEYS),
    ("embeddedHarness", HARNESS_KEYS),
    ("memorySearch", MEMORY_SEARCH_KEYS),
    ("mediaModels", Keys::Leaf),
]);
/// Memory search has many settings that do not decide the embeddings call (`sources`, `query`, `store`, …).
const MEMORY_SEARCH_KEYS: Keys = Keys::Leaf;
const MEMORY_KEYS: Keys = Keys::Object(&[("search", MEMORY_SEARCH_KEYS)]);
const AGENT_KEYS: Keys = Keys::Object(&[
    ("id", Keys::Leaf),
    ("default", Keys::Leaf),
    ("model", MODEL_KEYS),
    ("agentDir", Keys::Leaf),
    ("agentRuntime", RUNTIME_KEYS),
    ("memorySearch", MEMORY_SEARCH_KEYS),
    ("memory", MEMORY_KEYS),
]);
const AGENTS_KEYS: Keys = Keys::Object(&[("defaults", DEFAULTS_KEYS), ("list", Keys::List(&AGENT_KEYS))]);
const AUTH_PROFILE_KEYS: Keys = Keys::Object(&[("provider", Keys::Leaf), ("mode", Keys::Leaf)]);
const AUTH_KEYS: Keys = Keys::Object(&[("profiles", Keys::Map(&AUTH_PROFILE_KEYS)), ("order", Keys::Leaf)]);
const PROVIDER_KEYS: Keys = Keys::Object(&[
    ("baseUrl", Keys::Leaf),
    ("apiKey", Keys::Leaf),
    ("api", Keys::Leaf),
    ("headers", Keys::Leaf),
    ("authHeader", Keys::Leaf),
    ("models", Keys::List(&PROVIDER_MODEL_KEYS)),
]);
const PROVIDER_MODEL_KEYS: Keys = Keys::Object(&[
    ("id", Keys::Leaf),
    ("headers", Keys::Leaf),
    ("baseUrl", Keys::Leaf),
    ("api", Keys::Leaf),
]);
const MODELS_KEYS: Keys = Keys::Object(&[("providers", Keys::Map(&PROVIDER_KEYS))]);
const PLUGIN_KEYS: Keys = Keys::Object(&[("enabled", Keys::Leaf)]);
const PLUGINS_KEYS: Keys = Keys::Object(&[("entries", Keys::Map(&PLUGIN_KEYS)), ("allow", Keys::Leaf)]);
const CONFIG_KEYS: Keys = Keys::Object(&[
    ("agents", AGENTS_KEYS),
    ("auth", AUTH_KEYS),
    ("models", MODELS_KEYS),
    ("plugins", PLUGINS_KEYS),
    ("memory", MEMORY_KEYS),
]);

/// Keys of `value` that look like typos of the keys read here, each with its
/// path: `agents.defaults.modle: unknown key (did you mean model?)`.
///
/// Only likely typos are named: openclaw.json has many settings that do not
/// decide a dispatch (`gateway`, `agents.defaults.workspace`, …), which must
/// pass without a word.
fn unknown_keys(value: &Value) -> Vec<String> {
    let mut warnings = Vec::new();
    walk(value, CONFIG_KEYS, "", &mut warnings);
    warnings
}

fn walk(value: &Value, keys: Keys, path: &str, warnings: &mut Vec<String>) {
    let child = |key: &str| {
        let simple =
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match (path.is_empty(), simple) {
            (true, true) => key.to_owned(),
            (false, true) => format!("{path}.{key}"),
            (_, false) => format!("{path}[{key:?}]"),
        }
    };
    match (keys, value) {
        (Keys::Object(known), Value::Object(map)) => {
            for (key, value) in map {
                match known.iter().find(|(k, _)| k == key) {
                    Some((_, keys)) => walk(value, *keys, &child(key), warnings),
                    None => {
                        if let Some(meant) = crate::error::closest(key, known.iter().map(|(k, _)| *k)) {
                            warnings.push(format!("{}: unknown key (did you mean {meant}?)", child(key)));
                        }
                    }
                }
            }
        }
        (Keys::Map(keys), Value::Object(map)) => {
            for (key, value) in map {
                walk(value, *keys, &child(key), warnings);
            }
        }
        (Keys::List(keys), Value::Array(items)) => {
            for (i, value) in items.iter().enumerate() {
                walk(value, *keys, &format!("{path}[{i}]"), warnings);
            }
        }
        _ => {}
    }
}

impl OpenClawConfig {
    /// Read `path` as JSON5; errors name the file and line:column (exit 2).
    pub fn load(path: &Path) -> Result<Self> {
        let text = files::read_input(path, "OpenClaw config")
            .map_err(|e| e.hint("pass openclaw.json to --config"))?;
        let origin = path.display().to_string();
        let value = json5::from_str::<Value>(&text).unwrap_or_default();
        if !includes::has_includes(&value) {
            return Self::parse_named(&text, &origin);
        }
        // Included files: the merged tree decides; its type errors name the field.
        let mut config = Self::from_value(&includes::resolve(&value, path)?)
            .map_err(|e| Error::input(format!("{origin} (with its $include files): {}", e.message())))?;
        config.warnings = config.warnings.iter().map(|w| format!("{origin}: {w}")).collect();
        Ok(config)
    }

    /// Parse JSON5 text; errors start with `openclaw.json:line:column`.
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_named(text, "openclaw.json")
    }

    fn parse_named(text: &str, origin: &str) -> Result<Self> {
        // The syntax first, as a value: a syntax error is not a type error.
        let value = json5::from_str::<Value>(text).map_err(|e: json5::Error| {
            Error::json5(origin, text, &e)
                .hint("openclaw.json is JSON5: comments, unquoted keys and trailing commas are fine")
        })?;
        // Then the types, naming the field at fault.
        let mut deserializer = json5::Deserializer::from_str(text);
        let mut config: Self = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let field = e.path().to_string();
            Error::json5_field(origin, &field, e.inner())
        })?;
        config.warnings = unknown_keys(&value).into_iter().map(|w| format!("{origin}: {w}")).collect();
        Ok(config)
    }

    /// Build from a JSON value (a scenario's `inputs.config`); `null` is an
    /// empty config. A type error names the field (`agents.defaults.model: …`);
    /// the warnings name mistyped keys by their path in `value`.
    pub fn from_value(value: &Value) -> Result<Self> {
        if value.is_null() {
            return Ok(Self::default());
        }
        let mut config: Self = serde_path_to_error::deserialize(value)
            .map_err(|e| Error::input(format!("{}: {}", e.path(), e.inner())))?;
        config.warnings = unknown_keys(value);
        Ok(config)
    }

    /// The `agents.list[]` entry of `agent`, if any.
    pub fn agent(&self, agent: &str) -> Option<&AgentEntry> {
        self.agents.list.iter().find(|a| a.id == agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json5_with_comments_unquoted_keys_and_trailing_commas() {
        let config = OpenClawConfig::parse(
            "{ // JSON5\n agents: { defaults: { agentRuntime: { id: 'codex' }, model: { primary: \"openai-codex/gpt-5.5-pro\", }, }, },\n /* more */ plugins: { allow: ['codex'], },\n}",
        )
        .unwrap();
        assert_eq!(config.agents.defaults.agent_runtime.as_ref().and_then(RuntimeSetting::id), Some("codex"));
        assert_eq!(
            config.agents.defaults.model.as_ref().and_then(ModelSetting::primary),
            Some("openai-codex/gpt-5.5-pro")
        );
        assert_eq!(config.plugins.allow.as_deref(), Some(&["codex".to_owned()][..]));
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let config =
            OpenClawConfig::parse("{gateway: {port: 1}, agents: {defaults: {model: 'openai/gpt-5.5'}}}")
                .unwrap();
        assert_eq!(config.agents.defaults.model, Some(ModelSetting::Ref("openai/gpt-5.5".into())));
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = OpenClawConfig::parse("{\n  agents: {,}\n}").unwrap_err();
        assert!(err.message().starts_with("openclaw.json:2:12: "), "{}", err.message());
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn type_errors_give_line_and_column_too() {
        let err = OpenClawConfig::parse("{\n auth: {order: {openai: 'openai:a'}}}").unwrap_err();
        assert!(err.message().starts_with("openclaw.json:2:"), "{}", err.message());
    }

    #[test]
    fn a_setting_of_the_wrong_type_names_its_field_and_both_forms() {
        let err = OpenClawConfig::parse("{agents: {defaults: {model: 42}}}").unwrap_err();
        assert_eq!(
            err.message(),
            "openclaw.json:1:29: agents.defaults.model: invalid type: integer `42`, expected a model ref \
             like \"openai/gpt-5.5\" or {primary: \"openai/gpt-5.5\", fallbacks: [...]}"
        );
        let err = OpenClawConfig::parse("{agents: {list: [{id: 'a', model: {primary: 1}}]}}").unwrap_err();
        assert_eq!(err.message(), "openclaw.json:1:45: agents.list[0].model.primary: expected a string");
        let err = OpenClawConfig::parse("{agents: {defaults: {agentRuntime: ['pi']}}}").unwrap_err();
        assert!(
            err.message()
                .contains("agents.defaults.agentRuntime: invalid type: sequence, expected a runtime id")
        );
        let value = serde_json::json!({"agents": {"defaults": {"model": {"primary": 42}}}});
        let err = OpenClawConfig::from_value(&value).unwrap_err();
        assert_eq!(
            err.message(),
            "agents.defaults.model.primary: invalid type: integer `42`, expected a string"
        );
    }

    #[test]
    fn both_forms_of_a_setting_read() {
        let config = OpenClawConfig::parse(
            "{agents: {defaults: {model: {fallbacks: ['a/b']}, agentRuntime: 'codex'}, list: [{id: 'x', model: 'a/c', agentRuntime: {fallback: 'none'}}]}}",
        )
        .unwrap();
        let defaults = &config.agents.defaults;
        assert_eq!(
            defaults.model,
            Some(ModelSetting::Chain(ModelChain { primary: None, fallbacks: vec!["a/b".into()] }))
        );
        assert_eq!(defaults.agent_runtime, Some(RuntimeSetting::Id("codex".into())));
        let x = config.agent("x").unwrap();
        assert_eq!(x.model, Some(ModelSetting::Ref("a/c".into())));
        assert_eq!(
            x.agent_runtime,
            Some(RuntimeSetting::Full(RuntimeFull { id: None, fallback: Some("none".into()) }))
        );
    }

    #[test]
    fn likely_typos_of_keys_read_here_are_named_with_their_path() {
        let config = OpenClawConfig::parse(
            "{agnets: {}, gateway: {port: 1}, agents: {defaults: {modle: 'a/b', workspace: '~', model: {primary: 'a/b', fallback: []}},
              list: [{id: 'x', agentdir: 'd', name: 'X'}]},
              models: {providers: {'my.corp': {baseURL: 'https://x', models: []}}}, plugins: {entries: {codex: {enable: true}}}}",
        )
        .unwrap();
        assert_eq!(
            config.warnings,
            [
                "openclaw.json: agnets: unknown key (did you mean agents?)",
                "openclaw.json: agents.defaults.modle: unknown key (did you mean model?)",
                "openclaw.json: agents.defaults.model.fallback: unknown key (did you mean fallbacks?)",
                "openclaw.json: agents.list[0].agentdir: unknown key (did you mean agentDir?)",
                "openclaw.json: models.providers[\"my.corp\"].baseURL: unknown key (did you mean baseUrl?)",
                "openclaw.json: plugins.entries.codex.enable: unknown key (did you mean enabled?)",
            ]
        );
        let value = serde_json::json!({"auth": {"profiles": {"openai:a": {"provder": "openai"}}}});
        let config = OpenClawConfig::from_value(&value).unwrap();
        assert_eq!(
            config.warnings,
            ["auth.profiles[\"openai:a\"].provder: unknown key (did you mean provider?)"]
        );
    }

    /// The field names serde reads for a derived struct, captured from its `Deserialize`.
    fn fields<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
        #[derive(Debug)]
        struct Fields(Vec<&'static str>);
        impl fmt::Display for Fields {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }
        impl std::error::Error for Fields {}
        impl de::Error for Fields {
            fn custom<M: fmt::Display>(_: M) -> Self {
                Self(Vec::new())
            }
        }
        struct Capture;
        impl<'de> Deserializer<'de> for Capture {
            type Error = Fields;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
                Err(Fields(Vec::new()))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Fields> {
                Err(Fields(fields.to_vec()))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
                unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
            }
        }
        T::deserialize(Capture).err().map(|e| e.0).unwrap_or_default()
    }

    #[test]
    fn the_keys_named_in_warnings_are_the_keys_read() {
        let keys = |keys: Keys| match keys {
            Keys::Object(list) => list.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            _ => panic!("not an object"),
        };
        let pairs = [
            (CONFIG_KEYS, fields::<OpenClawConfig>()),
            (AGENTS_KEYS, fields::<AgentsConfig>()),
            (DEFAULTS_KEYS, fields::<AgentDefaults>()),
            (MODEL_KEYS, fields::<ModelChain>()),
            (MODEL_ENTRY_KEYS, fields::<ModelEntry>()),
            (RUNTIME_KEYS, fields::<RuntimeFull>()),
            (HARNESS_KEYS, fields::<EmbeddedHarness>()),
            (AGENT_KEYS, fields::<AgentEntry>()),
            (AUTH_KEYS, fields::<AuthConfig>()),
            (AUTH_PROFILE_KEYS, fields::<AuthProfileConfig>()),
            (MODELS_KEYS, fields::<ModelsConfig>()),
            (PROVIDER_KEYS, fields::<ProviderConfig>()),
            (PLUGINS_KEYS, fields::<PluginsConfig>()),
            (PLUGIN_KEYS, fields::<PluginEntry>()),
        ];
        for (table, fields) in pairs {
            assert_eq!(keys(table), fields);
        }
    }

    #[test]
    fn plugin_blocked_when_disabled_or_not_allowed() {
        let config = OpenClawConfig::parse("{plugins: {entries: {codex: {enabled: false}}}}").unwrap();
        assert!(config.plugins.blocked("codex").unwrap().contains("enabled is false"));
        let config = OpenClawConfig::parse("{plugins: {allow: ['other']}}").unwrap();
        assert!(config.plugins.blocked("codex").unwrap().contains("plugins.allow"));
        assert_eq!(OpenClawConfig::default().plugins.blocked("codex"), None);
    }
}
