//! `plan()`: what a correct OpenClaw sends for given inputs, and why.
//!
//! The steps follow "Resolution" of `shared/openclaw/DISPATCH.md` in order:
//! model ref, runtime, auth provider, credential, endpoint, headers, body,
//! fallbacks. Each records a [`Step`] (what was decided and which key decided
//! it) so `dispatch plan` can explain itself. A plan never holds a secret:
//! credentials appear as profile id, kind and fingerprint.

mod credentials;
mod embeddings;
mod images;
mod migrate;
mod render;
mod route;
mod select;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, FieldExpect, HeaderExpect};
use crate::dispatch::inputs::{DispatchInputs, EffectiveStore};
use crate::openclaw::profiles::CredentialType;
use crate::version::Version;

pub use embeddings::{EmbeddingsPlan, plan_embeddings};
pub use images::{ImagesPlan, plan_images};
pub(crate) use migrate::rename_profile_id;
pub use render::{render_embeddings_text, render_error_text, render_images_text, render_text};

/// One decision of the resolution, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The step: `version`, `migrate`, `agent`, `model`, `runtime`, `auth-provider`,
    /// `credential`, `endpoint`, `headers`, `body`, `fallbacks`.
    pub name: String,
    /// What was decided.
    pub decision: String,
    /// Why: the key, file or rule that decided it.
    pub why: String,
}

/// A credential source considered in step 4, and whether it could be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Profile id.
    pub profile: String,
    /// Whether it is eligible.
    pub eligible: bool,
    /// Why (or why not): type, expiry, cooldown, mismatch.
    pub why: String,
}

/// Where the planned credential comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    /// An auth profile of the agent's store (or main's, inherited).
    Profile,
    /// A provider environment variable (`env:VAR`).
    Env,
    /// `models.providers.<id>.apiKey` of the config.
    Config,
}

/// The credential a correct dispatch carries, without its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedCredential {
    /// Profile id, or pseudo-profile `env:VAR` / `config:models.providers.<id>.apiKey`.
    pub profile: String,
    /// Where it comes from.
    pub source: CredentialSource,
    /// The profile id before the version band's renames, when it was renamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<String>,
    /// The agent whose store it was inherited from (`main`), when inherited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited_from: Option<String>,
    /// The agent whose store holds the bound entry (`kate`, `main`), for a
    /// profile: the same id may be in an agent's store and in main's with
    /// different secrets, and the recording must show this one's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Stored type: `oauth`, `token`, `api_key`.
    #[serde(rename = "type")]
    pub stored_type: CredentialType,
    /// Kind by value shape: `jwt`, `openai-key`, `anthropic-key`, `anthropic-oauth`, `openrouter-key`, `opaque`.
    pub kind: String,
    /// Lower-case header carrying it; `None` when it is not sent in a header.
    pub header: Option<String>,
    /// Scheme before the value (`Bearer`); `None` for a bare value (`x-api-key`).
    pub scheme: Option<String>,
    /// `sha256:` + 12 hex of SHA-256 over the value.
    pub fingerprint: String,
    /// Hosts this credential may reach.
    pub allowed_hosts: Vec<String>,
    /// An expired OAuth login with a refresh token: it is refreshed before use.
    pub refresh_first: bool,
}

/// The ChatGPT account header a correct dispatch carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAccount {
    /// Lower-case header name (`chatgpt-account-id`).
    pub header: String,
    /// The account id (not a secret).
    pub value: String,
    /// Its fingerprint, as cassettes store accounts.
    pub fingerprint: String,
}

/// The WebSocket variant tried before the HTTP request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedWebSocket {
    /// `wss://…` URL (same host and path as the HTTP request).
    pub url: String,
    /// Headers of the upgrade request that matter.
    pub headers: Vec<HeaderExpect>,
}

/// A fallback ref, resolved again from step 1: a plan, or why it cannot dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Fallback {
    /// It would dispatch like this.
    Plan(Box<DispatchPlan>),
    /// It cannot dispatch.
    Error(Box<DispatchError>),
}

/// What a correct dispatcher sends. Serialised as documented in `docs/plan-json.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchPlan {
    /// The dispatcher modelled (`openclaw`).
    pub dispatcher: String,
    /// The version planned for.
    pub version: Version,
    /// Agent id.
    pub agent: String,
    /// The model ref resolved (`openai-codex/gpt-5.5-pro`), after the version's renames.
    pub model_ref: String,
    /// The model provider (`openai-codex`).
    pub provider: String,
    /// The model id sent in the body (`gpt-5.5-pro`).
    pub model: String,
    /// The runtime (`pi`, `codex`).
    pub runtime: String,
    /// The process that sends the request.
    pub sender: String,
    /// The provider whose credentials and routes are used.
    pub auth_provider: String,
    /// `METHOD URL`, the form of a scenario's `expect.endpoint`.
    pub endpoint: String,
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// The catalog's endpoint class of `method` + `url`.
    pub endpoint_class: Option<String>,
    /// The api (wire protocol).
    pub api: String,
    /// The model id is in the URL's path (Google's `…/models/{model}:streamGenerateContent`), not the body.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub model_in_path: bool,
    /// The WebSocket variant tried first, in the versions that do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<PlannedWebSocket>,
    /// The credential; `None` when the request carries none.
    pub credential: Option<PlannedCredential>,
    /// The ChatGPT account header, when the api sends one and the credential has an account.
    pub account: Option<PlannedAccount>,
    /// Other headers that matter.
    pub headers: Vec<HeaderExpect>,
    /// Body fields the provider insists on.
    pub body: Vec<FieldExpect>,
    /// Every credential candidate considered, in order.
    pub candidates: Vec<Candidate>,
    /// The fallback chain, each resolved again.
    #[serde(default)]
    pub fallbacks: Vec<Fallback>,
    /// The reasoning, one step per decision.
    pub steps: Vec<Step>,
    /// What may make real OpenClaw differ from this plan (a model its catalog may not know), one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Why no dispatch is correct: OpenClaw's own message, and the steps up to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchError {
    /// OpenClaw's message, e.g. `No API key found for provider "openai"`.
    #[serde(rename = "error")]
    pub message: String,
    /// The model ref being resolved, when known.
    #[serde(default)]
    pub model_ref: Option<String>,
    /// The auth provider, when known.
    #[serde(default)]
    pub auth_provider: Option<String>,
    /// Credential candidates considered, when step 4 was reached.
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    /// The fallback chain: OpenClaw moves on to these when the primary cannot dispatch.
    #[serde(default)]
    pub fallbacks: Vec<Fallback>,
    /// The reasoning up to the failure.
    pub steps: Vec<Step>,
    /// Warnings of the steps up to the failure, as in a plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl fmt::Display for DispatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DispatchError {}

/// A plan error, boxed: it travels up through every step, and a plan is
/// returned far more often than a refusal.
pub type Refusal = Box<DispatchError>;

/// The planned request with the secrets it needs on the wire; only `send` uses these.
#[derive(Debug, Clone)]
pub(crate) struct Resolution {
    /// The plan (no secrets).
    pub plan: DispatchPlan,
    /// The credential value.
    pub secret: Option<String>,
    /// Header values the plan shows only as fingerprints (config `headers`).
    pub secret_headers: Vec<(String, String)>,
}

/// Plan the dispatch of `inputs` with `catalog`.
pub fn plan(inputs: &DispatchInputs, catalog: &Catalog) -> Result<DispatchPlan, Refusal> {
    resolve(inputs, catalog).map(|r| r.plan)
}

/// Plan, keeping the secrets the request needs.
pub(crate) fn resolve(inputs: &DispatchInputs, catalog: &Catalog) -> Result<Resolution, Refusal> {
    let context = Context::new(inputs, catalog);
    let mut trace = context.prelude.clone();
    let choice = select::choose_model(&context, &mut trace)?;
    let fallbacks: Vec<Fallback> = choice
        .fallbacks
        .iter()
        .enumerate()
        .map(|(i, reference)| {
            let from = format!("fallback {} of {}", i + 1, choice.fallbacks_from);
            match context.resolve_ref(reference, &from, Trace::default()) {
                Ok(resolution) => Fallback::Plan(Box::new(resolution.plan)),
                Err(error) => Fallback::Error(error),
            }
        })
        .collect();
    let fallback_step = fallbacks_step(&choice, &fallbacks);
    match context.resolve_ref(&choice.reference, &choice.from, trace) {
        Ok(mut resolution) => {
            resolution.plan.steps.extend(fallback_step);
            resolution.plan.fallbacks = fallbacks;
            Ok(resolution)
        }
        Err(mut error) => {
            error.steps.extend(fallback_step);
            error.fallbacks = fallbacks;
            Err(error)
        }
    }
}

fn fallbacks_step(choice: &select::ModelChoice, fallbacks: &[Fallback]) -> Option<Step> {
    if fallbacks.is_empty() {
        return None;
    }
    let outcomes: Vec<String> = fallbacks
        .iter()
        .map(|f| match f {
            Fallback::Plan(p) => format!("{} → {}", p.model_ref, p.endpoint),
            Fallback::Error(e) => format!("{} → {}", e.model_ref.as_deref().unwrap_or("?"), e.message),
        })
        .collect();
    Some(Step {
        name: "fallbacks".into(),
        decision: outcomes.join("; "),
        why: format!(
            "{}: tried in order when the primary fails, each resolved again with its own runtime",
            choice.fallbacks_from
        ),
    })
}

/// The steps taken so far.
#[derive(Debug, Clone, Default)]
struct Trace {
    steps: Vec<Step>,
    warnings: Vec<String>,
}

impl Trace {
    /// Record a step.
    fn step(&mut self, name: &str, decision: impl Into<String>, why: impl Into<String>) {
        self.steps.push(Step { name: name.to_owned(), decision: decision.into(), why: why.into() });
    }

    /// Record a step whose decision is also a warning.
    fn warn(&mut self, name: &str, decision: impl Into<String>, why: impl Into<String>) {
        let decision = decision.into();
        self.warnings.push(decision.clone());
        self.step(name, decision, why);
    }

    /// A failure with the steps so far.
    fn fail(&self, message: impl Into<String>) -> Refusal {
        Box::new(DispatchError {
            message: message.into(),
            model_ref: None,
            auth_provider: None,
            candidates: Vec::new(),
            fallbacks: Vec::new(),
            steps: self.steps.clone(),
            warnings: self.warnings.clone(),
        })
    }
}

/// The inputs after the version band's renames, and what every step needs.
struct Context<'a> {
    catalog: &'a Catalog,
    inputs: DispatchInputs,
    version: Version,
    store: EffectiveStore,
    /// New profile id → id in the inputs, for profiles the band renamed.
    renamed_profiles: BTreeMap<String, String>,
    prelude: Trace,
}

impl<'a> Context<'a> {
    fn new(inputs: &DispatchInputs, catalog: &'a Catalog) -> Self {
        let mut prelude = Trace::default();
        if !inputs.sources.is_empty() {
            prelude.step("inputs", inputs.sources.join("; "), "what was read");
        }
        let version = select::version_step(inputs, catalog, &mut prelude);
        let renames = catalog.renames(&version);
        let migrated = migrate::migrate(inputs, &renames);
        if !migrated.changes.is_empty() {
            let about = catalog.bands.iter().filter(|b| b.range.contains(&version)).map(|b| b.about.as_str());
            prelude.step("migrate", migrated.changes.join("; "), about.collect::<Vec<_>>().join(" "));
        }
        let inputs = migrated.inputs;
        let store = inputs.effective_store();
        select::agent_step(&inputs, &store, &mut prelude);
        Self { catalog, inputs, version, store, renamed_profiles: migrated.profiles, prelude }
    }

    /// Steps 1–7 for one model ref, which `from` names the source of.
    fn resolve_ref(&self, reference: &str, from: &str, mut trace: Trace) -> Result<Resolution, Refusal> {
        let with_ref = |mut e: Refusal| {
            e.model_ref = Some(reference.to_owned());
            e
        };
        let model = select::split_ref(reference).map_err(|m| with_ref(trace.fail(m)))?;
        let implied = if reference.contains('/') { "" } else { "; no provider prefix: provider openai" };
        trace.step(
            "model",
            format!("{reference}: provider {}, model {}", model.provider, model.model),
            format!("{from}{implied}"),
        );
        select::model_list(self, &model, &mut trace);
        let runtime = select::runtime(self, reference, &model, &mut trace).map_err(with_ref)?;
        let auth_provider = select::auth_provider(self, &model, &runtime, &mut trace);
        let with_auth = |e: Refusal| {
            Box::new(DispatchError { auth_provider: Some(auth_provider.clone()), ..*with_ref(e) })
        };
        let target =
            route::Target::find(self, &auth_provider, &model.model).map_err(|m| with_auth(trace.fail(m)))?;
        if target.provider.is_none() {
            target.custom_base_url().map_err(|m| with_auth(trace.fail(m)))?;
        }
        let choice = credentials::choose(self, &target, &mut trace).map_err(with_auth)?;
        let chosen = choice.chosen;
        let wire =
            route::plan_wire(self, &target, &model.model, chosen.as_ref(), &mut trace).map_err(with_auth)?;
        Ok(Resolution {
            plan: DispatchPlan {
                dispatcher: self.catalog.dispatcher.clone(),
                version: self.version.clone(),
                agent: self.inputs.agent.clone(),
                model_ref: reference.to_owned(),
                provider: model.provider.clone(),
                model: model.model.clone(),
                runtime: runtime.id.clone(),
                sender: runtime.sender.clone(),
                auth_provider: auth_provider.clone(),
                endpoint: format!("{} {}", wire.method, wire.url),
                method: wire.method,
                url: wire.url,
                endpoint_class: wire.endpoint_class,
                api: wire.api,
                model_in_path: wire.model_in_path,
                websocket: wire.websocket,
                credential: wire.credential,
                account: wire.account,
                headers: wire.headers,
                body: wire.body,
                candidates: choice.candidates,
                fallbacks: Vec::new(),
                steps: trace.steps,
                warnings: trace.warnings,
            },
            secret: chosen.map(|c| c.secret),
            secret_headers: wire.secret_headers,
        })
    }
}
