//! A version band's provider renames applied to the inputs, as
//! `openclaw doctor --fix` does when upgrading: `openai-codex/<m>` refs become
//! `openai/<m>`, `openai-codex:<name>` profiles become `openai:<name>` with
//! provider `openai`, and orders, state and provider settings follow.

use std::collections::BTreeMap;

use crate::dispatch::inputs::DispatchInputs;
use crate::openclaw::config::{ModelSetting, OpenClawConfig};
use crate::openclaw::profiles::AuthStore;
use crate::openclaw::state::AuthState;

/// Provider renames: old id → new id.
type Renames = BTreeMap<String, String>;

/// The migrated inputs and what changed.
pub(super) struct Migrated {
    /// The inputs after the renames.
    pub inputs: DispatchInputs,
    /// New profile id → id before the renames.
    pub profiles: BTreeMap<String, String>,
    /// One line per kind of change, for the `migrate` step.
    pub changes: Vec<String>,
}

/// `provider` after the renames.
fn rename_provider(provider: &str, renames: &Renames) -> String {
    renames.get(provider).cloned().unwrap_or_else(|| provider.to_owned())
}

/// A model ref `provider/model` with its provider renamed.
fn rename_ref(reference: &str, renames: &Renames) -> String {
    match reference.split_once('/') {
        Some((provider, model)) => format!("{}/{model}", rename_provider(provider, renames)),
        None => reference.to_owned(),
    }
}

/// A profile id `provider:name` with its provider renamed.
pub(crate) fn rename_profile_id(id: &str, renames: &Renames) -> String {
    match id.split_once(':') {
        Some((provider, name)) => format!("{}:{name}", rename_provider(provider, renames)),
        None => id.to_owned(),
    }
}

/// Re-key `map` with `rename`; an entry already under the new key wins over a renamed one.
fn rekey<V>(map: BTreeMap<String, V>, rename: impl Fn(&str) -> String) -> BTreeMap<String, V> {
    let (kept, moved): (Vec<_>, Vec<_>) = map.into_iter().partition(|(k, _)| rename(k) == *k);
    let mut out: BTreeMap<String, V> = kept.into_iter().collect();
    for (key, value) in moved {
        out.entry(rename(&key)).or_insert(value);
    }
    out
}

fn migrate_setting(setting: &mut Option<ModelSetting>, renames: &Renames) {
    match setting {
        Some(ModelSetting::Ref(r)) => *r = rename_ref(r, renames),
        Some(ModelSetting::Chain(chain)) => {
            if let Some(p) = &mut chain.primary {
                *p = rename_ref(p, renames);
            }
            chain.fallbacks.iter_mut().for_each(|f| *f = rename_ref(f, renames));
        }
        None => {}
    }
}

fn migrate_config(config: &mut OpenClawConfig, renames: &Renames) {
    let defaults = &mut config.agents.defaults;
    migrate_setting(&mut defaults.model, renames);
    defaults.models = rekey(std::mem::take(&mut defaults.models), |r| rename_ref(r, renames));
    for agent in &mut config.agents.list {
        migrate_setting(&mut agent.model, renames);
    }
    let auth = &mut config.auth;
    auth.profiles = rekey(std::mem::take(&mut auth.profiles), |id| rename_profile_id(id, renames));
    for profile in auth.profiles.values_mut() {
        profile.provider = profile.provider.as_deref().map(|p| rename_provider(p, renames));
    }
    auth.order = rekey(std::mem::take(&mut auth.order), |p| rename_provider(p, renames));
    for ids in auth.order.values_mut() {
        ids.iter_mut().for_each(|id| *id = rename_profile_id(id, renames));
    }
    let providers = &mut config.models.providers;
    *providers = rekey(std::mem::take(providers), |p| rename_provider(p, renames));
}

fn migrate_store(store: &mut AuthStore, renames: &Renames) {
    store.profiles = rekey(std::mem::take(&mut store.profiles), |id| rename_profile_id(id, renames));
    for cred in store.profiles.values_mut() {
        cred.provider = rename_provider(&cred.provider, renames);
    }
}

fn migrate_state(state: &mut AuthState, renames: &Renames) {
    state.order = rekey(std::mem::take(&mut state.order), |p| rename_provider(p, renames));
    for ids in state.order.values_mut() {
        ids.iter_mut().for_each(|id| *id = rename_profile_id(id, renames));
    }
    state.last_good = rekey(std::mem::take(&mut state.last_good), |p| rename_provider(p, renames));
    state.last_good.values_mut().for_each(|id| *id = rename_profile_id(id, renames));
    state.usage_stats = rekey(std::mem::take(&mut state.usage_stats), |id| rename_profile_id(id, renames));
}

/// Apply `renames` to every part of `inputs`.
pub(super) fn migrate(inputs: &DispatchInputs, renames: &Renames) -> Migrated {
    let mut out = inputs.clone();
    let mut profiles = BTreeMap::new();
    if renames.is_empty() {
        return Migrated { inputs: out, profiles, changes: Vec::new() };
    }
    migrate_config(&mut out.config, renames);
    out.model = out.model.as_deref().map(|m| rename_ref(m, renames));
    let stores = std::iter::once(&inputs.profiles).chain(inputs.agent_stores.values());
    for id in stores.flat_map(|s| s.profiles.keys()) {
        let new = rename_profile_id(id, renames);
        if new != *id {
            profiles.insert(new, id.clone());
        }
    }
    migrate_store(&mut out.profiles, renames);
    out.agent_stores.values_mut().for_each(|s| migrate_store(s, renames));
    migrate_state(&mut out.state, renames);
    let mut changes = Vec::new();
    if !profiles.is_empty() {
        let pairs: Vec<String> = profiles.iter().map(|(new, old)| format!("{old} → {new}")).collect();
        changes.push(format!("profiles {}", pairs.join(", ")));
    }
    if out.config != inputs.config || out.model != inputs.model {
        let names: Vec<String> = renames.iter().map(|(old, new)| format!("{old} → {new}")).collect();
        changes.push(format!("config refs and keys {}", names.join(", ")));
    }
    Migrated { inputs: out, profiles, changes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn renames() -> Renames {
        BTreeMap::from([("openai-codex".to_owned(), "openai".to_owned())])
    }

    #[test]
    fn refs_and_profile_ids_are_renamed_by_their_provider_part() {
        assert_eq!(rename_ref("openai-codex/gpt-5.5", &renames()), "openai/gpt-5.5");
        assert_eq!(rename_ref("openrouter/openai-codex/x", &renames()), "openrouter/openai-codex/x");
        assert_eq!(rename_profile_id("openai-codex:u@x", &renames()), "openai:u@x");
        assert_eq!(rename_profile_id("anthropic:default", &renames()), "anthropic:default");
    }

    #[test]
    fn an_existing_entry_under_the_new_key_wins() {
        let map = BTreeMap::from([("openai-codex:a".to_owned(), 1), ("openai:a".to_owned(), 2)]);
        let out = rekey(map, |id| rename_profile_id(id, &renames()));
        assert_eq!(out, BTreeMap::from([("openai:a".to_owned(), 2)]));
    }

    #[test]
    fn migrates_config_store_and_state_together() {
        let inputs = DispatchInputs::from_scenario_inputs(
            &json!({
                "config": {"agents": {"defaults": {"model": {"primary": "openai-codex/gpt-5.5", "fallbacks": ["openai-codex/gpt-5"]}}},
                           "auth": {"order": {"openai-codex": ["openai-codex:u"]}}},
                "auth_profiles": {"profiles": {"openai-codex:u": {"type": "oauth", "provider": "openai-codex", "access": "t"}}},
                "auth_state": {"usageStats": {"openai-codex:u": {"lastUsed": 1}}}
            }),
            None,
        )
        .unwrap();
        let out = migrate(&inputs, &renames());
        let config = &out.inputs.config;
        assert_eq!(
            config.agents.defaults.model.as_ref().and_then(ModelSetting::primary),
            Some("openai/gpt-5.5")
        );
        assert_eq!(config.auth.order["openai"], ["openai:u"]);
        assert_eq!(out.inputs.profiles.profiles["openai:u"].provider, "openai");
        assert!(out.inputs.state.usage_stats.contains_key("openai:u"));
        assert_eq!(out.profiles["openai:u"], "openai-codex:u");
        assert_eq!(out.changes.len(), 2, "{:?}", out.changes);
    }

    #[test]
    fn nothing_to_rename_changes_nothing() {
        let inputs = DispatchInputs::default();
        let out = migrate(&inputs, &renames());
        assert!(out.changes.is_empty() && out.inputs == inputs);
    }
}
