//! OpenClaw's reference dispatcher as the checks see it: its plan mapped into
//! the vocabulary of observations, its catalog's endpoint classes and hosts.

use super::endpoint::Endpoint;
use super::expected::{Expected, ExpectedDispatch};
use super::model::{Bearer, Call, Scenario};
use super::observe::{Binding, Bindings, provider_of_profile};
use super::runner::{Planned, Reference};
use crate::dispatch::catalog::{Catalog, HeaderExpect};
use crate::dispatch::inputs::DispatchInputs;
use crate::dispatch::plan::{
    DispatchPlan, EmbeddingsPlan, Fallback, ImagesPlan, PlannedCredential, plan, plan_embeddings, plan_images,
};
use crate::error::{Error, Result};
use crate::version::Version;

/// The OpenClaw reference dispatcher with its catalog.
pub struct OpenClaw {
    catalog: Catalog,
}

impl OpenClaw {
    /// With the catalog compiled into the binary.
    pub fn shipped() -> Result<Self> {
        Ok(Self { catalog: Catalog::shipped()? })
    }

    /// With `catalog`.
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    /// Which provider a pseudo-profile's key belongs to: the provider that
    /// reads `env:VAR`, or `<id>` of `config:models.providers.<id>.apiKey`.
    fn provider_of(&self, profile: &str) -> Option<String> {
        if let Some(var) = profile.strip_prefix("env:") {
            let owner = self.catalog.providers.iter().find(|(_, p)| p.env.iter().any(|k| k.var == var));
            return owner.map(|(id, _)| id.clone());
        }
        if let Some(rest) = profile.strip_prefix("config:models.providers.") {
            return rest.strip_suffix(".apiKey").map(str::to_owned);
        }
        provider_of_profile(profile)
    }
}

impl Reference for OpenClaw {
    fn plan(&self, scenario: &Scenario, version: &Version) -> Result<Planned> {
        let inputs = DispatchInputs::from_scenario_inputs(&scenario.inputs, Some(version.clone()))
            .map_err(|e| e.context(scenario.path.display()))?;
        // Stores are named only where two may hold the same id: with one, the name says nothing.
        let several = inputs.stores().iter().filter(|(_, s)| !s.profiles.is_empty()).count() > 1;
        let store = |store: Option<String>| store.filter(|_| several);
        let mut bindings = Bindings::default();
        let expected = match plan(&inputs, &self.catalog) {
            Ok(plan) => {
                bind_plan(&mut bindings, &plan, several);
                let fallbacks = plan.fallbacks.iter().filter_map(|f| match f {
                    Fallback::Plan(p) => Some(p.as_ref()),
                    Fallback::Error(_) => None,
                });
                let steps = std::iter::once(&plan).chain(fallbacks).map(|p| {
                    expected_dispatch(p)
                        .map(|step| ExpectedDispatch { store: store(step.store.clone()), ..step })
                });
                Expected::Dispatch(steps.collect::<Result<_>>()?)
            }
            Err(refusal) => Expected::NoDispatch { reason: refusal.message },
        };
        let judged = |call: Call| scenario.judge.calls().contains(&call);
        let embeddings = judged(Call::Embeddings)
            .then(|| match plan_embeddings(&inputs, &self.catalog) {
                Ok(plan) => side_call(&mut bindings, &plan.as_side_call(), several),
                Err(refusal) => Ok(Expected::NoDispatch { reason: refusal.message }),
            })
            .transpose()?;
        let images = judged(Call::Images)
            .then(|| match plan_images(&inputs, &self.catalog) {
                Ok(plan) => side_call(&mut bindings, &plan.as_side_call(), several),
                Err(refusal) => Ok(Expected::NoDispatch { reason: refusal.message }),
            })
            .transpose()?;
        for (fingerprint, facts) in inputs.credential_facts(&self.catalog) {
            let provider = facts.profile.as_deref().and_then(|p| self.provider_of(p));
            let binding =
                Binding { kind: facts.kind, profile: facts.profile, provider, store: store(facts.store) };
            bindings.insert(fingerprint, binding);
        }
        Ok(Planned { expected, embeddings, images, bindings, unmodelled: None })
    }

    fn is_dispatch(&self, endpoint: &Endpoint) -> bool {
        self.catalog.is_dispatch(&endpoint.method, &endpoint.url())
    }

    fn is_call(&self, call: Call, endpoint: &Endpoint) -> bool {
        let classes = match call {
            Call::Chat => return self.is_dispatch(endpoint),
            Call::Embeddings => EMBEDDINGS_CLASSES,
            Call::Images => IMAGES_CLASSES,
        };
        let class = self.catalog.classify(&endpoint.method, &endpoint.url());
        class.is_some_and(|c| classes.contains(&c.name.as_str()))
    }

    fn allowed_hosts(&self, provider: &str, kind: &str, version: &Version) -> Option<Vec<String>> {
        self.catalog.allowed_hosts(provider, kind, None, version).map(<[String]>::to_vec)
    }
}

/// The planned credential is bound to the planned profile first: at versions
/// that rename profiles, that is the name the recording must show.
fn bind_plan(bindings: &mut Bindings, plan: &DispatchPlan, several_stores: bool) {
    if let Some(credential) = &plan.credential {
        let binding = Binding {
            kind: credential.kind.clone(),
            profile: Some(credential.profile.clone()),
            provider: Some(plan.auth_provider.clone()),
            store: credential.store.clone().filter(|_| several_stores),
        };
        bindings.insert(credential.fingerprint.clone(), binding);
    }
}

/// The catalog's endpoint classes of memory-search embeddings calls.
pub const EMBEDDINGS_CLASSES: &[&str] = &["openai-embeddings", "ollama-embed", "google-embed-content"];

/// The catalog's endpoint classes of image-generation calls.
pub const IMAGES_CLASSES: &[&str] = &["openai-images"];

/// A side call's plan (embeddings, image) in the terms the checks need.
pub struct SideCall<'a> {
    /// The provider whose credentials it uses.
    pub auth_provider: &'a str,
    /// Method and URL.
    pub method: &'a str,
    /// Absolute URL.
    pub url: &'a str,
    /// The credential, if one is sent.
    pub credential: Option<&'a PlannedCredential>,
    /// The model the body names, when not in the path.
    pub model: Option<&'a str>,
}

impl EmbeddingsPlan {
    /// As a side call.
    fn as_side_call(&self) -> SideCall<'_> {
        SideCall {
            auth_provider: &self.auth_provider,
            method: &self.method,
            url: &self.url,
            credential: self.credential.as_ref(),
            model: (!self.model_in_path).then_some(self.model.as_str()),
        }
    }
}

impl ImagesPlan {
    /// As a side call.
    fn as_side_call(&self) -> SideCall<'_> {
        SideCall {
            auth_provider: &self.provider,
            method: &self.method,
            url: &self.url,
            credential: self.credential.as_ref(),
            model: Some(&self.model),
        }
    }
}

/// The side call as an expectation, its credential bound to its profile (or pseudo-profile) and provider.
fn side_call(bindings: &mut Bindings, call: &SideCall<'_>, several_stores: bool) -> Result<Expected> {
    if let Some(credential) = call.credential {
        let binding = Binding {
            kind: credential.kind.clone(),
            profile: Some(credential.profile.clone()),
            provider: Some(call.auth_provider.to_owned()),
            store: credential.store.clone().filter(|_| several_stores),
        };
        bindings.insert(credential.fingerprint.clone(), binding);
    }
    Ok(Expected::Dispatch(vec![side_dispatch(call)?]))
}

/// A side call as an expected dispatch.
pub fn side_dispatch(call: &SideCall<'_>) -> Result<ExpectedDispatch> {
    dispatch_of(call.method, call.url, call.credential, Vec::new(), call.model.map(str::to_owned))
}

/// A plan as an expected dispatch.
pub fn expected_dispatch(plan: &DispatchPlan) -> Result<ExpectedDispatch> {
    let credential = plan.credential.as_ref().filter(|c| c.header.is_some());
    let headers = plan.headers.iter().filter(|h| h.is_rule()).cloned().collect();
    // A model in the path (Google's `…/models/{model}:…`) is judged by the
    // endpoint; the body then names none.
    dispatch_of(
        &plan.method,
        &plan.url,
        credential,
        headers,
        (!plan.model_in_path).then(|| plan.model.clone()),
    )
}

/// The expectation of a planned call: its endpoint, and its credential's header, profile and fingerprint.
fn dispatch_of(
    method: &str,
    url: &str,
    credential: Option<&PlannedCredential>,
    headers: Vec<HeaderExpect>,
    model: Option<String>,
) -> Result<ExpectedDispatch> {
    let endpoint = Endpoint::new(method, url)
        .map_err(|e| Error::runtime(format!("the reference planned an unusable URL: {e}")))?;
    Ok(ExpectedDispatch {
        endpoint,
        bearer: match credential {
            Some(c) => Bearer::Present {
                header: c.header.clone(),
                scheme: c.scheme.clone(),
                kind: Some(c.kind.clone()),
            },
            None => Bearer::Absent,
        },
        profile: credential.map(|c| c.profile.clone()),
        store: credential.and_then(|c| c.store.clone()),
        fingerprint: credential.map(|c| c.fingerprint.clone()),
        headers,
        model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential;
    use crate::dispatch::catalog::Expect;
    use serde_json::json;

    fn scenario(inputs: serde_json::Value) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.json"), "{}").unwrap();
        let text = json!({
            "format": "dispatch-vcr/scenario@1", "name": "s", "dispatcher": "openclaw",
            "inputs": inputs, "cassettes": {"2026.5.12": "c.json"}
        });
        crate::scenario::load::parse(&text.to_string(), &dir.path().join("s.json")).unwrap()
    }

    fn codex_oauth() -> Scenario {
        scenario(json!({
            "config": {"agents": {"defaults": {"agentRuntime": {"id": "codex"}, "model": {"primary": "openai-codex/gpt-5.5-pro"}}},
                       "plugins": {"entries": {"codex": {"enabled": true}}, "allow": ["codex"]}},
            "auth_profiles": {"version": 1, "profiles": {"openai-codex:u@example.com": {
                "type": "oauth", "provider": "openai-codex", "refresh": "r", "expires": 4102444800000_i64,
                "access": {"jwt": {"claims": {"https://api.openai.com/auth": {"chatgpt_account_id": "acct-1"}}}}}}},
            "env": {"OPENAI_API_KEY": "sk-proj-env"}
        }))
    }

    fn planned(scenario: &Scenario, version: &str) -> Planned {
        OpenClaw::shipped().unwrap().plan(scenario, &version.parse().unwrap()).unwrap()
    }

    #[test]
    fn a_plan_becomes_the_expected_dispatch_with_its_bearer_profile_and_account() {
        let Expected::Dispatch(steps) = planned(&codex_oauth(), "2026.5.16-beta.4").expected else {
            panic!()
        };
        let step = &steps[0];
        assert_eq!(step.endpoint.to_string(), "POST https://chatgpt.com/backend-api/codex/responses");
        let bearer = Bearer::Present {
            header: Some("authorization".into()),
            scheme: Some("Bearer".into()),
            kind: Some("jwt".into()),
        };
        assert_eq!(step.bearer, bearer);
        assert_eq!(step.profile.as_deref(), Some("openai-codex:u@example.com"));
        let account = step.headers.iter().find(|h| h.name == "chatgpt-account-id").unwrap();
        let names = Expect::Fingerprint(credential::fingerprint("acct-1"));
        assert_eq!(account.expect, Expect::IfSent(Box::new(names.clone())), "before 2026.5.30: when sent");
        assert!(account.why.as_deref().unwrap().contains("bound login"));
        let Expected::Dispatch(later) = planned(&codex_oauth(), "2026.9.5").expected else { panic!() };
        let account = later[0].headers.iter().find(|h| h.name == "chatgpt-account-id").unwrap();
        assert_eq!(account.expect, names, "from 2026.5.30: required");
        assert_eq!(step.store, None, "one store: nothing to tell apart");
        assert_eq!(step.model.as_deref(), Some("gpt-5.5-pro"));
    }

    #[test]
    fn from_2026_5_30_the_login_is_bound_under_its_migrated_name() {
        let planned = planned(&codex_oauth(), "2026.9.5");
        let Expected::Dispatch(steps) = &planned.expected else { panic!() };
        assert_eq!(steps[0].profile.as_deref(), Some("openai:u@example.com"));
        let binding = planned.bindings.get(steps[0].fingerprint.as_deref().unwrap()).unwrap();
        assert_eq!(binding.profile.as_deref(), Some("openai:u@example.com"));
    }

    #[test]
    fn a_model_in_the_path_is_judged_by_the_endpoint_not_the_body() {
        let gemini = scenario(json!({
            "config": {"agents": {"defaults": {"model": {"primary": "google/gemini-2.5-flash"}}}},
            "env": {"GEMINI_API_KEY": "AIzaSy-fixture"}
        }));
        let Expected::Dispatch(steps) = planned(&gemini, "2026.9.6").expected else { panic!() };
        assert!(steps[0].endpoint.to_string().ends_with("/models/gemini-2.5-flash:streamGenerateContent"));
        assert_eq!(steps[0].model, None, "Gemini's body names no model");
    }

    #[test]
    fn env_keys_are_bound_as_pseudo_profiles_of_their_provider() {
        let planned = planned(&codex_oauth(), "2026.5.16-beta.4");
        let binding = planned.bindings.get(&credential::fingerprint("sk-proj-env")).unwrap();
        assert_eq!(binding.profile.as_deref(), Some("env:OPENAI_API_KEY"));
        assert_eq!(binding.provider.as_deref(), Some("openai"));
        assert_eq!(binding.kind, "openai-key");
    }

    #[test]
    fn no_eligible_credential_plans_no_dispatch() {
        let bare =
            scenario(json!({"config": {"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5"}}}}}));
        let Expected::NoDispatch { reason } = planned(&bare, "2026.5.12").expected else { panic!() };
        assert!(reason.contains("No API key found for provider \"openai\""), "{reason}");
    }

    #[test]
    fn catalog_rules_classify_dispatches_and_scope_chatgpt_logins() {
        let reference = OpenClaw::shipped().unwrap();
        let dispatch = Endpoint::new("POST", "https://chatgpt.com/backend-api/codex/responses").unwrap();
        let refresh = Endpoint::new("POST", "https://auth.openai.com/oauth/token").unwrap();
        assert!(reference.is_dispatch(&dispatch) && !reference.is_dispatch(&refresh));
        let hosts = reference.allowed_hosts("openai-codex", "jwt", &"2026.5.12".parse().unwrap()).unwrap();
        assert!(hosts.contains(&"chatgpt.com".to_owned()) && !hosts.contains(&"api.openai.com".to_owned()));
    }

    #[test]
    fn unreadable_inputs_are_input_errors_naming_the_scenario() {
        let bad = scenario(json!({"config": {}, "nonsense": 1}));
        let err = OpenClaw::shipped().unwrap().plan(&bad, &"2026.5.12".parse().unwrap()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.message().contains("s.json") && err.message().contains("inputs.nonsense"),
            "{}",
            err.message()
        );
    }
}
