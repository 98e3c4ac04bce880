//! Steps before the credential: version, agent, model ref (1), runtime (2)
//! and auth provider (3).

use super::credentials::explicit_order;
use super::{Context, Refusal, Trace};
use crate::dispatch::catalog::{Catalog, Runtime};
use crate::dispatch::inputs::{DispatchInputs, EffectiveStore, MAIN_AGENT};
use crate::openclaw::config::{ModelSetting, RuntimeSetting};
use crate::version::Version;

/// The runtime setting read from the environment when the config sets none.
const RUNTIME_ENV: &str = "OPENCLAW_AGENT_RUNTIME";

/// The runtime id that lets a harness claim the providers it supports.
const AUTO: &str = "auto";

/// The model ref to resolve, and the fallback chain.
pub(super) struct ModelChoice {
    /// The ref (`openai-codex/gpt-5.5-pro`).
    pub reference: String,
    /// Which key gave it.
    pub from: String,
    /// Fallback refs in order.
    pub fallbacks: Vec<String>,
    /// Which key gave them.
    pub fallbacks_from: String,
}

/// A model ref split into provider and model id.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ModelRef {
    pub provider: String,
    pub model: String,
}

/// The runtime that makes the call.
pub(super) struct RuntimeChoice<'a> {
    pub id: String,
    pub sender: String,
    runtime: &'a Runtime,
}

/// The version planned for (`--version`, else the catalog's default), and the bands in force.
pub(super) fn version_step(inputs: &DispatchInputs, catalog: &Catalog, trace: &mut Trace) -> Version {
    let (version, mut why) = match &inputs.version {
        Some(v) => (v.clone(), "the version given".to_owned()),
        None => (
            catalog.default_version.clone(),
            "no version given: the catalog's default_version, the newest it models (pass --version)"
                .to_owned(),
        ),
    };
    for band in catalog.bands.iter().filter(|b| b.range.contains(&version)) {
        why.push_str(&format!("; band {} applies", band.range));
    }
    trace.step("version", format!("{} {version}", catalog.dispatcher), why);
    version
}

/// The agent, its config entry and what it inherits.
pub(super) fn agent_step(inputs: &DispatchInputs, store: &EffectiveStore, trace: &mut Trace) {
    let mut why = match inputs.config.agent(&inputs.agent) {
        Some(_) => format!("agents.list entry {:?}", inputs.agent),
        None => "no agents.list entry: agents.defaults apply".to_owned(),
    };
    if !store.inherited.is_empty() {
        let ids: Vec<&str> = store.inherited.iter().map(String::as_str).collect();
        why.push_str(&format!(
            "; inherits from agent {MAIN_AGENT}: {} (its own entries win)",
            ids.join(", ")
        ));
    }
    trace.step("agent", inputs.agent.clone(), why);
}

/// Step 1, choosing: `--model`, else the agent's model, else `agents.defaults.model.primary`.
pub(super) fn choose_model(context: &Context<'_>, trace: &mut Trace) -> Result<ModelChoice, Refusal> {
    let inputs = &context.inputs;
    let agent = inputs.config.agent(&inputs.agent).and_then(|a| a.model.as_ref());
    let defaults = inputs.config.agents.defaults.model.as_ref();
    let agent_key = format!("agents.list[{}].model", inputs.agent);
    let (reference, from) = if let Some(model) = &inputs.model {
        (model.clone(), "--model".to_owned())
    } else if let Some(primary) = agent.and_then(ModelSetting::primary) {
        (primary.to_owned(), agent_key.clone())
    } else if let Some(primary) = defaults.and_then(ModelSetting::primary) {
        (primary.to_owned(), "agents.defaults.model.primary".to_owned())
    } else {
        return Err(trace.fail(
            "No model configured: set agents.defaults.model.primary in openclaw.json or pass --model",
        ));
    };
    let (fallbacks, fallbacks_from) =
        match (agent.and_then(ModelSetting::fallbacks), defaults.and_then(ModelSetting::fallbacks)) {
            (Some(list), _) => (list.to_vec(), format!("{agent_key}.fallbacks")),
            (None, Some(list)) => (list.to_vec(), "agents.defaults.model.fallbacks".to_owned()),
            (None, None) => (Vec::new(), String::new()),
        };
    let fallbacks = fallbacks.into_iter().filter(|f| *f != reference).collect();
    Ok(ModelChoice { reference, from, fallbacks, fallbacks_from })
}

/// Step 1, splitting: provider before the first `/`; no slash means provider `openai`.
pub(super) fn split_ref(reference: &str) -> Result<ModelRef, String> {
    let (provider, model) = reference.split_once('/').unwrap_or(("openai", reference));
    if provider.is_empty() || model.is_empty() {
        return Err(format!("Invalid model ref {reference:?}: expected provider/model, e.g. openai/gpt-5.5"));
    }
    Ok(ModelRef { provider: provider.to_owned(), model: model.to_owned() })
}

/// Step 1, checking: whether the catalog knows the model at this version
/// (`models[]`, facts from recordings of real releases). OpenClaw sends no
/// request for a model its own list lacks, but that list is longer than the
/// catalog's, so a model outside it is a warning, never a refusal: the plan
/// stays the dispatch OpenClaw makes when it knows the model.
pub(super) fn model_list(context: &Context<'_>, model: &ModelRef, trace: &mut Trace) {
    let (catalog, version) = (context.catalog, &context.version);
    let Some(list) = catalog.models(&model.provider, version) else { return };
    let id = &model.model;
    let at = format!("{} {version}", catalog.dispatcher);
    if let Some(message) = list.refused.get(id) {
        trace.warn(
            "model-list",
            format!(
                "model {id}: {at} sends no request for it ({message:?}); the plan is the dispatch it makes \
                 for a model it knows"
            ),
            list.about.clone(),
        );
    } else if !list.known.contains(id) {
        let known = match list.known.as_slice() {
            [] => "none recorded going out".to_owned(),
            known => format!("{}, the ones recorded going out", known.join(", ")),
        };
        let suggestion = crate::error::closest(id, list.known.iter().map(String::as_str))
            .map(|m| format!(" (did you mean {m}?)"))
            .unwrap_or_default();
        trace.warn(
            "model-list",
            format!(
                "model {id} is not in {}'s known models at {at} ({known}){suggestion}; OpenClaw sends no \
                 request for a model its own list lacks (\"Unknown model: {}/{id}\")",
                model.provider, model.provider
            ),
            list.about.clone(),
        );
    }
}

/// A runtime setting and the key it came from.
struct Setting {
    id: String,
    fallback: Option<String>,
    from: String,
}

impl Setting {
    fn from_config(setting: Option<&RuntimeSetting>, from: String) -> Option<Self> {
        let setting = setting?;
        let id = setting.id()?.to_owned();
        Some(Self { id, fallback: setting.fallback().map(str::to_owned), from })
    }
}

/// The runtime setting for `reference`: per-model beats per-agent beats defaults beats env.
fn runtime_setting(context: &Context<'_>, reference: &str, model: &ModelRef) -> Setting {
    let inputs = &context.inputs;
    let defaults = &inputs.config.agents.defaults;
    let full_ref = format!("{}/{}", model.provider, model.model);
    let per_model = [reference, full_ref.as_str()].into_iter().find_map(|key| {
        let setting = defaults.models.get(key)?.agent_runtime.as_ref();
        Setting::from_config(setting, format!("agents.defaults.models[{key:?}].agentRuntime"))
    });
    let per_agent = || {
        let setting = inputs.config.agent(&inputs.agent)?.agent_runtime.as_ref();
        Setting::from_config(setting, format!("agents.list[{}].agentRuntime", inputs.agent))
    };
    let harness = || {
        let old = defaults.embedded_harness.as_ref()?;
        let id = old.runtime.clone()?;
        let from = "agents.defaults.embeddedHarness (the older spelling of agentRuntime)".to_owned();
        Some(Setting { id, fallback: old.fallback.clone(), from })
    };
    let env = || {
        let id = inputs.env.get(RUNTIME_ENV)?.clone();
        Some(Setting { id, fallback: None, from: format!("env {RUNTIME_ENV}") })
    };
    per_model
        .or_else(per_agent)
        .or_else(|| {
            Setting::from_config(defaults.agent_runtime.as_ref(), "agents.defaults.agentRuntime".into())
        })
        .or_else(harness)
        .or_else(env)
        .unwrap_or_else(|| Setting { id: AUTO.into(), fallback: None, from: "nothing sets a runtime".into() })
}

/// Why `runtime` cannot serve `provider`, if it cannot.
fn unavailable(context: &Context<'_>, id: &str, runtime: &Runtime, provider: &str) -> Option<String> {
    let blocked = runtime.plugin.as_deref().and_then(|plugin| context.inputs.config.plugins.blocked(plugin));
    blocked.or_else(|| {
        (!runtime.serves(provider)).then(|| format!("the {id} runtime does not serve provider {provider}"))
    })
}

/// Step 2: the runtime that makes the call.
pub(super) fn runtime<'a>(
    context: &Context<'a>,
    reference: &str,
    model: &ModelRef,
    trace: &mut Trace,
) -> Result<RuntimeChoice<'a>, Refusal> {
    let catalog = context.catalog;
    let setting = runtime_setting(context, reference, model);
    let lookup = |id: &str| {
        catalog.runtimes.get_key_value(id).ok_or_else(|| {
            let known: Vec<&str> = catalog.runtimes.keys().map(String::as_str).collect();
            trace.fail(format!(
                "Unknown agent runtime {id:?} (from {}; the catalog knows {}, add it with --catalog)",
                setting.from,
                known.join(", ")
            ))
        })
    };
    let (id, runtime, why) = if setting.id == AUTO {
        let claimed = catalog.runtimes.iter().find(|(id, r)| {
            r.claims.contains(&model.provider) && unavailable(context, id, r, &model.provider).is_none()
        });
        match claimed {
            Some((id, r)) => (
                id,
                r,
                format!("{}: auto, and the {id} harness claims provider {}", setting.from, model.provider),
            ),
            None => {
                let (id, r) = lookup(&catalog.default_runtime)?;
                (id, r, format!("{}: auto, and no harness claims provider {}", setting.from, model.provider))
            }
        }
    } else {
        let (id, r) = lookup(&setting.id)?;
        match unavailable(context, id, r, &model.provider) {
            None => (id, r, setting.from.clone()),
            Some(why_not) => {
                let fallback = setting.fallback.clone().unwrap_or_else(|| catalog.default_runtime.clone());
                if fallback == "none" {
                    return Err(trace.fail(format!(
                        "Agent runtime {id:?} is unavailable ({why_not}) and its fallback is none"
                    )));
                }
                let (fid, fr) = lookup(&fallback)?;
                (fid, fr, format!("{}: {id}, unavailable ({why_not}), falls back to {fid}", setting.from))
            }
        }
    };
    trace.step("runtime", format!("{id} — {} sends the request", runtime.sender), why);
    Ok(RuntimeChoice { id: id.clone(), sender: runtime.sender.clone(), runtime })
}

/// Step 3: the provider whose credentials authenticate the call.
pub(super) fn auth_provider(
    context: &Context<'_>,
    model: &ModelRef,
    runtime: &RuntimeChoice<'_>,
    trace: &mut Trace,
) -> String {
    let (catalog, version) = (context.catalog, &context.version);
    let provider = &model.provider;
    let by_catalog = catalog.provider(provider, version).and_then(|p| p.auth_provider.clone());
    let by_order = || {
        let target = runtime.runtime.auth_by_order.get(provider)?;
        let (ids, from) = explicit_order(context, provider)?;
        let first = ids.first().filter(|id| id.starts_with(&format!("{target}:")))?;
        Some((target.clone(), format!("runtime {}: {from}[0] is {first}, a {target} profile", runtime.id)))
    };
    let (target, mut why) = if let Some(target) = by_catalog {
        let why = format!("provider {provider} authenticates with the {target} logins (catalog)");
        (target, why)
    } else if let Some(target) = runtime.runtime.auth_providers.get(provider) {
        (target.clone(), format!("runtime {} authenticates provider {provider} as {target}", runtime.id))
    } else if let Some(found) = by_order() {
        found
    } else {
        (provider.clone(), "the model provider".to_owned())
    };
    let renamed = catalog.renamed(&target, version);
    if renamed != target {
        why.push_str(&format!("; {target} is {renamed} at this version"));
    }
    trace.step("auth-provider", renamed.clone(), why);
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_on_the_first_slash() {
        let r = split_ref("openrouter/anthropic/claude-x").unwrap();
        assert_eq!(r, ModelRef { provider: "openrouter".into(), model: "anthropic/claude-x".into() });
    }

    #[test]
    fn no_slash_means_openai() {
        assert_eq!(
            split_ref("gpt-5.5").unwrap(),
            ModelRef { provider: "openai".into(), model: "gpt-5.5".into() }
        );
    }

    #[test]
    fn empty_parts_are_refused() {
        assert!(split_ref("/x").unwrap_err().contains("Invalid model ref"));
        assert!(split_ref("openai/").is_err());
    }
}
