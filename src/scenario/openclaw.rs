//! OpenClaw's reference dispatcher as the checks see it: its plan mapped into
//! the vocabulary of observations, its catalog's endpoint classes and hosts.

use super::endpoint::Endpoint;
use super::expected::{Expected, ExpectedDispatch};
use super::model::{Bearer, Scenario};
use super::observe::{Binding, Bindings, provider_of_profile};
use super::runner::{Planned, Reference};
use crate::dispatch::catalog::Catalog;
use crate::dispatch::inputs::DispatchInputs;
use crate::dispatch::plan::{DispatchPlan, Fallback, plan};
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
        let mut bindings = Bindings::default();
        let expected = match plan(&inputs, &self.catalog) {
            Ok(plan) => {
                bind_plan(&mut bindings, &plan);
                let fallbacks = plan.fallbacks.iter().filter_map(|f| match f {
                    Fallback::Plan(p) => Some(p.as_ref()),
                    Fallback::Error(_) => None,
                });
                let steps = std::iter::once(&plan).chain(fallbacks).map(expected_dispatch);
                Expected::Dispatch(steps.collect::<Result<_>>()?)
            }
            Err(refusal) => Expected::NoDispatch { reason: refusal.message },
        };
        for (fingerprint, facts) in inputs.credential_facts(&self.catalog) {
            let provider = facts.profile.as_deref().and_then(|p| self.provider_of(p));
            bindings.insert(fingerprint, Binding { kind: facts.kind, profile: facts.profile, provider });
        }
        Ok(Planned { expected, bindings })
    }

    fn is_dispatch(&self, endpoint: &Endpoint) -> bool {
        self.catalog.is_dispatch(&endpoint.method, &endpoint.url())
    }

    fn allowed_hosts(&self, provider: &str, kind: &str, version: &Version) -> Option<Vec<String>> {
        self.catalog.allowed_hosts(provider, kind, None, version).map(<[String]>::to_vec)
    }
}

/// The planned credential is bound to the planned profile first: at versions
/// that rename profiles, that is the name the recording must show.
fn bind_plan(bindings: &mut Bindings, plan: &DispatchPlan) {
    if let Some(credential) = &plan.credential {
        let binding = Binding {
            kind: credential.kind.clone(),
            profile: Some(credential.profile.clone()),
            provider: Some(plan.auth_provider.clone()),
        };
        bindings.insert(credential.fingerprint.clone(), binding);
    }
}

/// A plan as an expected dispatch.
pub fn expected_dispatch(plan: &DispatchPlan) -> Result<ExpectedDispatch> {
    let endpoint = Endpoint::new(&plan.method, &plan.url)
        .map_err(|e| Error::runtime(format!("the reference planned an unusable URL: {e}")))?;
    let credential = plan.credential.as_ref().filter(|c| c.header.is_some());
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
        fingerprint: credential.map(|c| c.fingerprint.clone()),
        account: plan.account.as_ref().map(|a| a.fingerprint.clone()),
        model: Some(plan.model.clone()),
    })
}
