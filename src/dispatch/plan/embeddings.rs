//! The memory-search embeddings call: a model call of its own, with its own
//! provider, endpoint and credential. Which provider (the setting, or what an
//! unset or `auto` one resolves to at the version), where it goes, and which
//! credential may travel there: a key the embeddings provider owns, and only
//! one whose provider may reach that host (a ChatGPT login never goes to
//! api.openai.com).

use serde::{Deserialize, Serialize};

use super::credentials::{self, Chosen};
use super::route::Target;
use super::{Candidate, Context, CredentialSource, PlannedCredential, Refusal, Step, Trace};
use crate::credential;
use crate::dispatch::catalog::Catalog;
use crate::dispatch::inputs::DispatchInputs;
use crate::openclaw::config::{MemoryRemote, MemorySearch};
use crate::openclaw::profiles::CredentialType;
use crate::version::Version;

/// The memory-search embeddings call a correct OpenClaw makes. Serialised
/// as the `embeddings` object of docs/plan-json.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsPlan {
    /// The embeddings provider (`openai`, `gemini`, `ollama`).
    pub provider: String,
    /// The provider whose credentials are used (`google` for `gemini`).
    pub auth_provider: String,
    /// The embeddings model.
    pub model: String,
    /// The model id is in the URL's path (Gemini's `…/models/{model}:embedContent`), not the body.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub model_in_path: bool,
    /// `METHOD URL`.
    pub endpoint: String,
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// The catalog's endpoint class of `method` + `url`.
    pub endpoint_class: Option<String>,
    /// The credential; `None` when the call carries none (a local Ollama).
    pub credential: Option<PlannedCredential>,
    /// Every credential candidate considered, eligible ones first.
    pub candidates: Vec<Candidate>,
    /// The reasoning, one step per decision.
    pub steps: Vec<Step>,
    /// What may make real OpenClaw differ from this plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// An embeddings provider OpenClaw bundles, as the reference models it.
struct Rule {
    id: &'static str,
    /// Whose credentials it uses.
    auth_provider: &'static str,
    base_url: &'static str,
    /// Appended to the base URL; `{model}` is the model id.
    path: &'static str,
    default_model: &'static str,
    header: &'static str,
    scheme: Option<&'static str>,
    /// Where the facts are in the release.
    about: &'static str,
}

/// The embeddings providers modelled (facts from the 2026.9.6 dist).
const RULES: &[Rule] = &[
    Rule {
        id: "openai",
        auth_provider: "openai",
        base_url: "https://api.openai.com/v1",
        path: "/embeddings",
        default_model: "text-embedding-3-small",
        header: "authorization",
        scheme: Some("Bearer"),
        about: "//#region extensions/openai/embedding-provider.ts and packages/memory-host-sdk/src/host/\
                embeddings-remote-client.ts (dist/extensions/openai/embedding-provider.js, \
                dist/memory-core-host-engine-embeddings-*.mjs): {base}/embeddings with a bearer",
    },
    Rule {
        id: "gemini",
        auth_provider: "google",
        base_url: "https://generativelanguage.googleapis.com/v1beta",
        path: "/models/{model}:embedContent",
        default_model: "gemini-embedding-001",
        header: "x-goog-api-key",
        scheme: None,
        about: "//#region extensions/google/embedding-provider.ts and extensions/google/memory-embedding-adapter.ts \
                (dist/embedding-provider-*.mjs): {base}/models/{model}:embedContent, key in x-goog-api-key",
    },
    Rule {
        id: "ollama",
        auth_provider: "ollama",
        base_url: "http://127.0.0.1:11434",
        path: "/api/embed",
        default_model: "nomic-embed-text",
        header: "authorization",
        scheme: Some("Bearer"),
        about: "//#region extensions/ollama/src/embedding-provider.runtime.ts (dist/embedding-provider.runtime-*.mjs): \
                {base}/api/embed, a bearer only when a key resolves",
    },
];

/// OpenClaw's default embeddings provider, and what `auto` means, from 2026.5.27.
const DEFAULT_PROVIDER: &str = "openai";

/// From this version `auto` (or no setting) is [`DEFAULT_PROVIDER`]; before it, auto-selection.
const AUTO_IS_OPENAI_FROM: &str = "2026.5.27";

/// From this version the settings are `memory.search` (top level and per agent), before it
/// `agents.defaults.memorySearch` (and `agents.list[].memorySearch`).
const MEMORY_SEARCH_KEY_FROM: &str = "2026.8.1";

const SETTINGS_SOURCE: &str = "//#region src/agents/memory-search.ts (dist/memory-search-*.mjs of 2026.5.16-beta.4, \
                               2026.5.27, 2026.7.35, 2026.8.1, 2026.9.6)";

/// Plan the memory-search embeddings call of `inputs` with `catalog`.
pub fn plan_embeddings(inputs: &DispatchInputs, catalog: &Catalog) -> Result<EmbeddingsPlan, Refusal> {
    let context = Context::new(inputs, catalog);
    let mut trace = context.prelude.clone();
    let (settings, key) = settings(&context);
    if settings.enabled == Some(false) {
        return Err(
            trace.fail(format!("memory search is disabled ({key}.enabled is false): no embeddings call"))
        );
    }
    let rule = provider(&context, &settings, &key, &mut trace)?;
    let model = match settings.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.trim_start_matches("openai/").to_owned(),
        None => rule.default_model.to_owned(),
    };
    let remote = settings.remote.clone().unwrap_or_default();
    let configured =
        context.inputs.config.models.providers.get(rule.auth_provider).and_then(|p| p.base_url.clone());
    let provider_base = configured.clone().unwrap_or_else(|| rule.base_url.to_owned());
    let base =
        remote.base_url.clone().filter(|b| !b.trim().is_empty()).unwrap_or_else(|| provider_base.clone());
    let url = format!("{}{}", base.trim_end_matches('/'), rule.path.replace("{model}", &model));
    let host = host_of(&url)
        .ok_or_else(|| trace.fail(format!("embeddings base URL {base:?} is not an absolute URL")))?;
    let base_why = match (&remote.base_url, &configured) {
        (Some(_), _) => format!("{key}.remote.baseUrl"),
        (None, Some(_)) => format!("models.providers.{}.baseUrl", rule.auth_provider),
        (None, None) => format!("provider {}'s default base URL", rule.id),
    };
    let endpoint_class = catalog.classify("POST", &url).map(|c| c.name.clone());
    trace.step(
        "endpoint",
        format!("POST {url} [{}]", endpoint_class.as_deref().unwrap_or("unclassified")),
        format!("{base_why}; {}", rule.about),
    );
    let owns = same_destination(&base, &provider_base);
    let (chosen, candidates) = credential(&context, rule, &remote, &key, owns, &host, &model, &mut trace)?;
    let credential = chosen.map(|c| planned_credential(&c, rule.header, rule.scheme, &host));
    Ok(EmbeddingsPlan {
        provider: rule.id.to_owned(),
        auth_provider: rule.auth_provider.to_owned(),
        model_in_path: rule.path.contains("{model}"),
        model,
        endpoint: format!("POST {url}"),
        method: "POST".to_owned(),
        url,
        endpoint_class,
        credential,
        candidates,
        steps: trace.steps,
        warnings: trace.warnings,
    })
}

/// The agent's settings over the defaults, field by field, and the key they are read from at the version.
fn settings(context: &Context<'_>) -> (MemorySearch, String) {
    let config = &context.inputs.config;
    let agent = config.agent(&context.inputs.agent);
    let (defaults, overrides, key) = if context.version >= version(MEMORY_SEARCH_KEY_FROM) {
        (config.memory.search.clone(), agent.and_then(|a| a.memory.search.clone()), "memory.search")
    } else {
        (
            config.agents.defaults.memory_search.clone(),
            agent.and_then(|a| a.memory_search.clone()),
            "agents.defaults.memorySearch",
        )
    };
    let (d, o) = (defaults.unwrap_or_default(), overrides.unwrap_or_default());
    let merged = MemorySearch {
        enabled: o.enabled.or(d.enabled),
        provider: o.provider.or(d.provider),
        model: o.model.or(d.model),
        remote: o.remote.or(d.remote),
    };
    (merged, key.to_owned())
}

/// The embeddings provider: the setting, or what unset or `auto` resolves to at the version.
fn provider(
    context: &Context<'_>,
    settings: &MemorySearch,
    key: &str,
    trace: &mut Trace,
) -> Result<&'static Rule, Refusal> {
    let raw = settings.provider.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let auto_is_openai = context.version >= version(AUTO_IS_OPENAI_FROM);
    let (id, why) = match raw {
        Some("auto") if !auto_is_openai => {
            trace.warn(
                "memory-search",
                format!(
                    "{key}.provider auto: before {AUTO_IS_OPENAI_FROM} OpenClaw picks the first provider by \
                     priority whose credentials resolve; the reference plans openai"
                ),
                SETTINGS_SOURCE,
            );
            return rule(DEFAULT_PROVIDER, trace);
        }
        None if !auto_is_openai => {
            trace.warn(
                "memory-search",
                format!(
                    "{key}.provider is not set, which is auto before {AUTO_IS_OPENAI_FROM}: OpenClaw picks the \
                     first provider by priority whose credentials resolve; the reference plans openai"
                ),
                SETTINGS_SOURCE,
            );
            return rule(DEFAULT_PROVIDER, trace);
        }
        Some("auto") => (
            DEFAULT_PROVIDER,
            format!("{key}.provider auto is {DEFAULT_PROVIDER} from {AUTO_IS_OPENAI_FROM}"),
        ),
        None => (
            DEFAULT_PROVIDER,
            format!("{key}.provider is not set: {DEFAULT_PROVIDER}, the default from {AUTO_IS_OPENAI_FROM}"),
        ),
        Some(id) => (id, format!("{key}.provider")),
    };
    match id {
        "none" => Err(trace.fail(format!("{key}.provider is none: memory search makes no embeddings call"))),
        "local" => Err(trace
            .fail(format!("{key}.provider is local: embeddings are computed in-process, no network call"))),
        _ => {
            trace.step("memory-search", format!("provider {id}"), format!("{why}; {SETTINGS_SOURCE}"));
            rule(id, trace)
        }
    }
}

fn rule(id: &str, trace: &Trace) -> Result<&'static Rule, Refusal> {
    RULES.iter().find(|r| r.id == id).ok_or_else(|| {
        let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        trace.fail(format!(
            "memory embedding provider {id:?} is not modelled by the reference (it models {})",
            known.join(", ")
        ))
    })
}

/// Step: the credential. `memory.search.remote.apiKey` first; else, only when
/// the call goes to the provider's own base URL, the provider's credential
/// (auth profiles, env key, config key) that may reach `host`.
#[allow(clippy::too_many_arguments)]
fn credential(
    context: &Context<'_>,
    rule: &Rule,
    remote: &MemoryRemote,
    key: &str,
    owns: bool,
    host: &str,
    model: &str,
    trace: &mut Trace,
) -> Result<(Option<Chosen>, Vec<Candidate>), Refusal> {
    if let Some(secret) = remote.api_key.as_deref().filter(|k| !k.is_empty()) {
        let profile = format!("config:{key}.remote.apiKey");
        let chosen = credentials::from_secret(
            profile.clone(),
            CredentialSource::Config,
            CredentialType::ApiKey,
            secret,
        );
        trace.step(
            "credential",
            format!("{profile} ({} {}, {})", chosen.ty, chosen.kind, credential::fingerprint(secret)),
            format!("{key}.remote.apiKey is set: it is used for any destination"),
        );
        return Ok((Some(chosen), Vec::new()));
    }
    if !owns {
        return Err(trace.fail(format!(
            "No embeddings credential for {host}: {key}.remote.baseUrl is not provider {}'s base URL, so its \
             credentials are not sent there; set {key}.remote.apiKey",
            rule.auth_provider
        )));
    }
    let target = Target::find(context, rule.auth_provider, model).map_err(|m| trace.fail(m))?;
    let configured = target.configured_base_url().and_then(host_of);
    let admit =
        |chosen: &Chosen| turned_away(context, rule.auth_provider, chosen, host, configured.as_deref());
    let choice = credentials::choose_admitting(context, &target, trace, &admit)?;
    Ok((choice.chosen, choice.candidates))
}

/// Why `chosen`, a credential of `provider`, may not go to `host`, if it may
/// not: neither its provider's hosts for its kind nor the configured base URL's
/// host (`configured`) hold it.
pub(super) fn turned_away(
    context: &Context<'_>,
    provider: &str,
    chosen: &Chosen,
    host: &str,
    configured: Option<&str>,
) -> Option<String> {
    let hosts = context.catalog.allowed_hosts(provider, chosen.kind, Some(chosen.ty), &context.version);
    let reaches = hosts.is_some_and(|h| h.iter().any(|p| host_matches(p, host))) || configured == Some(host);
    (!reaches).then(|| {
        let hosts = hosts.map_or_else(|| "no known host".to_owned(), |h| h.join(", "));
        format!("{} {} credential of {provider}: it may reach {hosts}, not {host}", chosen.ty, chosen.kind)
    })
}

/// The planned form of `chosen`, sent in `header` (after `scheme`) to `host` alone.
pub(super) fn planned_credential(
    chosen: &Chosen,
    header: &str,
    scheme: Option<&str>,
    host: &str,
) -> PlannedCredential {
    PlannedCredential {
        profile: chosen.profile.clone(),
        source: chosen.source,
        migrated_from: chosen.migrated_from.clone(),
        inherited_from: chosen.inherited.then(|| crate::dispatch::inputs::MAIN_AGENT.to_owned()),
        store: chosen.store.clone(),
        stored_type: chosen.ty,
        kind: chosen.kind.to_owned(),
        header: Some(header.to_owned()),
        scheme: scheme.map(str::to_owned),
        fingerprint: credential::fingerprint(&chosen.secret),
        allowed_hosts: vec![host.to_owned()],
        refresh_first: chosen.refresh_first,
    }
}

/// Whether two base URLs are one destination (scheme, host, port and path, a trailing `/` aside).
fn same_destination(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

pub(super) fn host_of(url: &str) -> Option<String> {
    url.parse::<http::Uri>().ok()?.host().map(str::to_ascii_lowercase)
}

/// `pattern` is a host or `*.suffix`.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

pub(super) fn version(text: &str) -> Version {
    text.parse().unwrap_or_else(|_| unreachable!("a version constant of this module"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn plan(inputs: Value, version: &str) -> Result<EmbeddingsPlan, Refusal> {
        let inputs = DispatchInputs::from_scenario_inputs(&inputs, Some(version.parse().unwrap())).unwrap();
        plan_embeddings(&inputs, &Catalog::shipped().unwrap())
    }

    fn openai_key() -> Value {
        json!({"version": 1, "profiles": {"openai:default": {"type": "api_key", "provider": "openai", "key": "sk-proj-fixture-emb"}}})
    }

    #[test]
    fn unset_provider_is_openai_with_the_openai_key_as_a_bearer() {
        let p = plan(json!({"config": {}, "auth_profiles": openai_key()}), "2026.9.6").unwrap();
        assert_eq!(p.endpoint, "POST https://api.openai.com/v1/embeddings");
        assert_eq!(p.endpoint_class.as_deref(), Some("openai-embeddings"));
        assert_eq!(p.model, "text-embedding-3-small");
        let c = p.credential.unwrap();
        assert_eq!(
            (c.profile.as_str(), c.kind.as_str(), c.header.as_deref()),
            ("openai:default", "openai-key", Some("authorization"))
        );
        assert!(p.steps.iter().any(|s| s.name == "memory-search" && s.why.contains("is not set")));
    }

    #[test]
    fn a_chatgpt_login_never_goes_to_api_openai_com() {
        let login = json!({"version": 1, "profiles": {"openai:u@example.com": {"type": "oauth", "provider": "openai",
            "access": {"jwt": {"claims": {}}}, "refresh": "r", "expires": 4102444800000_i64}}});
        let refused = plan(json!({"config": {}, "auth_profiles": login}), "2026.9.6").unwrap_err();
        assert!(refused.message.contains("No API key found for provider \"openai\""), "{}", refused.message);
        let why = &refused.candidates[0].why;
        assert!(why.contains("it may reach chatgpt.com, not api.openai.com"), "{why}");
        let mut both = login;
        both["profiles"]["openai:default"] = openai_key()["profiles"]["openai:default"].clone();
        let p = plan(json!({"config": {}, "auth_profiles": both}), "2026.9.6").unwrap();
        assert_eq!(
            p.credential.unwrap().profile,
            "openai:default",
            "the key, although OAuth comes first for chat"
        );
    }

    #[test]
    fn the_settings_key_and_auto_follow_the_version() {
        let legacy = json!({"config": {"agents": {"defaults": {"memorySearch": {"provider": "gemini"}}}},
                            "env": {"GEMINI_API_KEY": "AIzaSy-fixture-emb"}, "auth_profiles": openai_key()});
        let p = plan(legacy.clone(), "2026.7.35").unwrap();
        assert_eq!(
            p.endpoint,
            "POST https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent"
        );
        assert_eq!(p.credential.unwrap().header.as_deref(), Some("x-goog-api-key"));
        assert_eq!(plan(legacy, "2026.9.6").unwrap().provider, "openai", "memorySearch is no longer read");
        let early = plan(json!({"config": {}, "auth_profiles": openai_key()}), "2026.5.16-beta.4").unwrap();
        assert!(early.warnings[0].contains("auto"), "{:?}", early.warnings);
    }

    #[test]
    fn disabled_none_and_a_foreign_destination_make_no_call() {
        let off =
            json!({"config": {"memory": {"search": {"enabled": false}}}, "auth_profiles": openai_key()});
        assert!(plan(off, "2026.9.6").unwrap_err().message.contains("disabled"));
        let none =
            json!({"config": {"memory": {"search": {"provider": "none"}}}, "auth_profiles": openai_key()});
        assert!(plan(none, "2026.9.6").unwrap_err().message.contains("no embeddings call"));
        let elsewhere = json!({"config": {"memory": {"search": {"remote": {"baseUrl": "https://emb.example.com/v1"}}}},
                               "auth_profiles": openai_key()});
        let refused = plan(elsewhere, "2026.9.6").unwrap_err();
        assert!(refused.message.contains("not provider openai's base URL"), "{}", refused.message);
    }

    #[test]
    fn a_remote_key_goes_to_the_remote_base_url() {
        let remote = json!({"config": {"memory": {"search": {"remote": {"baseUrl": "https://emb.example.com/v1", "apiKey": "emb-fixture-key-0123"}}}}});
        let p = plan(remote, "2026.9.6").unwrap();
        assert_eq!(p.url, "https://emb.example.com/v1/embeddings");
        let c = p.credential.unwrap();
        assert_eq!(
            (c.profile.as_str(), c.allowed_hosts.as_slice()),
            ("config:memory.search.remote.apiKey", ["emb.example.com".to_owned()].as_slice())
        );
    }

    #[test]
    fn local_ollama_needs_no_key() {
        let ollama = json!({"config": {"memory": {"search": {"provider": "ollama"}}}});
        let p = plan(ollama, "2026.9.6").unwrap();
        assert_eq!((p.url.as_str(), p.credential), ("http://127.0.0.1:11434/api/embed", None));
        assert_eq!(p.endpoint_class.as_deref(), Some("ollama-embed"));
    }
}
