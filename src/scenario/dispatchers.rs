//! Which reference judges a scenario: the one registered for its
//! `dispatcher`, or, for a dispatcher dispatch-vcr has no model of
//! ([`Unmodelled`]), the scenario's pinned `expect` alone.
//!
//! A dispatcher other than OpenClaw is a new [`Reference`] registered here
//! ([`Dispatchers::with`]), not a change to the runner.

use super::endpoint::Endpoint;
use super::expected::{Expected, ExpectedDispatch};
use super::model::{Bearer, Call, Scenario};
use super::observe::Bindings;
use super::openclaw::OpenClaw;
use super::runner::{Planned, Reference};
use crate::dispatch::catalog::Catalog;
use crate::error::{Error, Result};
use crate::version::Version;

/// The references by dispatcher name; any other name is [`Unmodelled`].
pub struct Dispatchers {
    modelled: Vec<(String, Box<dyn Reference>)>,
}

impl Dispatchers {
    /// OpenClaw (`openclaw`) with `catalog`; every other dispatcher judged by its pins alone.
    pub fn new(catalog: Catalog) -> Self {
        Self { modelled: Vec::new() }.with("openclaw", Box::new(OpenClaw::new(catalog)))
    }

    /// Judge scenarios of `dispatcher` with `reference`.
    pub fn with(mut self, dispatcher: &str, reference: Box<dyn Reference>) -> Self {
        self.modelled.push((dispatcher.to_owned(), reference));
        self
    }

    /// The reference of `dispatcher`, when one is registered.
    fn get(&self, dispatcher: &str) -> Option<&dyn Reference> {
        self.modelled.iter().find(|(name, _)| name == dispatcher).map(|(_, r)| r.as_ref())
    }
}

impl Reference for Dispatchers {
    fn plan(&self, scenario: &Scenario, version: &Version) -> Result<Planned> {
        match self.get(&scenario.dispatcher) {
            Some(reference) => reference.plan(scenario, version),
            None => Unmodelled.plan(scenario, version),
        }
    }

    /// The model APIs are the providers' (the catalog's endpoint classes), whoever sends to them.
    fn is_dispatch(&self, endpoint: &Endpoint) -> bool {
        self.modelled.iter().any(|(_, r)| r.is_dispatch(endpoint))
    }

    fn is_call(&self, call: Call, endpoint: &Endpoint) -> bool {
        self.modelled.iter().any(|(_, r)| r.is_call(call, endpoint))
    }

    fn allowed_hosts(&self, provider: &str, kind: &str, version: &Version) -> Option<Vec<String>> {
        self.modelled.iter().find_map(|(_, r)| r.allowed_hosts(provider, kind, version))
    }
}

/// A dispatcher without a reference model (a LiteLLM proxy config, a
/// home-made gateway): what the scenario pins is the whole expectation, and
/// every invariant it pins nothing for is reported not judged. A scenario
/// that pins nothing is refused: a check that judges nothing must not look green.
pub struct Unmodelled;

impl Reference for Unmodelled {
    fn plan(&self, scenario: &Scenario, version: &Version) -> Result<Planned> {
        let pinned = scenario.expect_at(version);
        let dispatcher = &scenario.dispatcher;
        if pinned.pinned().is_empty() {
            return Err(Error::input(format!(
                "{}: expect: dispatcher {dispatcher:?} has no reference model in dispatch-vcr, so only what \
                 \"expect\" pins is judged, and at {version} it pins nothing; pin what the dispatcher must send: \
                 \"endpoint\": \"POST https://…\", \"bearer\": \"present\", \"profile\", \"headers\": {{\"x-tenant\": \"acme\"}} \
                 or \"model\" (docs/scenario.md, \"A dispatcher without a reference model\")",
                scenario.path.display()
            )));
        }
        let first = scenario.judge.calls().first().copied().unwrap_or(Call::Chat);
        let step = ExpectedDispatch {
            // Unpinned, the endpoint is not judged; this one matches nothing.
            endpoint: match pinned.endpoint.clone() {
                Some(endpoint) => endpoint,
                None => Endpoint::new("POST", "https://unpinned.invalid/")
                    .map_err(|e| Error::runtime(format!("the placeholder endpoint: {e}")))?,
            },
            bearer: pinned.bearer.clone().unwrap_or_else(Bearer::any),
            profile: pinned.profile.clone().flatten(),
            store: None,
            fingerprint: None,
            headers: pinned.header_rules(),
            model: pinned.model.clone(),
        };
        Ok(Planned {
            // The pins are the expectation of the (first) call the scenario judges.
            embeddings: (first == Call::Embeddings).then(|| Expected::Dispatch(vec![step.clone()])),
            images: (first == Call::Images).then(|| Expected::Dispatch(vec![step.clone()])),
            expected: Expected::Dispatch(vec![step]),
            bindings: Bindings::default(),
            unmodelled: Some(format!(
                "dispatcher {dispatcher:?} has no reference model and the scenario pins no value for it"
            )),
        })
    }

    fn is_dispatch(&self, _endpoint: &Endpoint) -> bool {
        false
    }

    fn allowed_hosts(&self, _provider: &str, _kind: &str, _version: &Version) -> Option<Vec<String>> {
        None
    }
}
