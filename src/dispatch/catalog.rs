//! The provider catalog: what the reference dispatcher knows about providers,
//! as data (`catalog.json`, compiled in; `--catalog FILE` corrects or extends it).
//!
//! A provider has credential *routes*: the first route whose condition matches
//! the credential gives the base URL, the api (wire protocol) and the hosts the
//! credential may reach. An api gives the method and path, how each kind of
//! credential goes on the wire (header and scheme), the headers and body fields
//! that matter. Endpoint classes say which `(method, URL)` pairs are model-API
//! dispatches and how their provider answers a request without credentials.
//! Version bands rename providers where a release merged them.
//!
//! Beside these hand-written rules sit the facts imported from releases
//! (`releases.json`, written by `dispatch-vcr catalog import`): which
//! providers each release bundles, with their base URLs, env vars, auth
//! choices and models ([`Release`]). They say what exists at a version; the
//! rules above say what a correct dispatch does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::release::{self, BundledProvider, Release};
use crate::credential;
use crate::error::{Error, Result};
use crate::files;
use crate::openclaw::profiles::CredentialType;
use crate::version::{Version, VersionRange};

/// The `format` value of a catalog file.
pub const FORMAT_V1: &str = "dispatch-vcr/catalog@1";

/// The catalog shipped inside the binary.
const SHIPPED: &str = include_str!("catalog.json");

/// The facts imported from releases, shipped inside the binary.
const SHIPPED_RELEASES: &str = include_str!("releases.json");

/// What an expectation demands of a header value or a body field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Exactly this value.
    Equals(Value),
    /// A text value containing this.
    Contains(String),
    /// Present (`true`) or absent (`false`), any value.
    Present(bool),
    /// A secret whose fingerprint is this (the value itself is never shown).
    Fingerprint(String),
    /// A comma-separated list (`anthropic-beta: a,b`) with this element.
    Has(String),
    /// A comma-separated list without this element; an absent header holds.
    Lacks(String),
    /// This expectation when the header is sent; an absent header holds.
    IfSent(Box<Expect>),
}

impl Expect {
    /// Whether `actual` (absent = `None`) satisfies the expectation. A text
    /// that is a redaction marker satisfies `Fingerprint` by its fingerprint.
    pub fn holds(&self, actual: Option<&Value>) -> bool {
        match (self, actual) {
            (Self::Present(wanted), actual) => *wanted == actual.is_some(),
            (Self::Lacks(element), actual) => !actual.is_some_and(|v| has_element(v, element)),
            (Self::IfSent(inner), actual) => actual.is_none_or(|v| inner.holds(Some(v))),
            (_, None) => false,
            (Self::Has(element), Some(actual)) => has_element(actual, element),
            (Self::Equals(wanted), Some(actual)) => wanted == actual,
            (Self::Contains(part), Some(actual)) => actual.as_str().is_some_and(|text| text.contains(part)),
            (Self::Fingerprint(fp), Some(actual)) => actual.as_str().is_some_and(|text| {
                credential::fingerprint_in_marker(text)
                    .map_or_else(|| credential::fingerprint(text), str::to_owned)
                    == *fp
            }),
        }
    }
}

/// Whether the comma-separated list `value` has `element` (spaces around elements ignored).
fn has_element(value: &Value, element: &str) -> bool {
    value.as_str().is_some_and(|text| text.split(',').any(|e| e.trim().eq_ignore_ascii_case(element)))
}

/// A header that matters, and what its value must be. Names are lower-case;
/// a name starting with `?` is a query parameter of the URL (`?api-version`).
///
/// A header with a `why` is a *rule*: the provider refuses (or misbills) a
/// call that breaks it, and the `headers` invariant judges it. One without is
/// what the dispatcher also sends: the plan shows it, `dispatch send` sends it,
/// nothing judges it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeaderExpect {
    /// Lower-case header name, or `?name` for a query parameter.
    pub name: String,
    /// What the value must be.
    #[serde(flatten)]
    pub expect: Expect,
    /// Why the provider needs it and where that is known from; set on rules only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The dispatcher versions the rule holds at; absent = all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<VersionRange>,
}

impl HeaderExpect {
    /// A header the dispatcher sends, judged by nothing.
    pub fn sent(name: impl Into<String>, expect: Expect) -> Self {
        Self { name: name.into(), expect, why: None, versions: None }
    }

    /// A rule the `headers` invariant judges, with its reason.
    pub fn rule(name: impl Into<String>, expect: Expect, why: impl Into<String>) -> Self {
        Self { name: name.into(), expect, why: Some(why.into()), versions: None }
    }

    /// Whether a request carrying `value` for this header (or none) satisfies it.
    pub fn holds(&self, value: Option<&str>) -> bool {
        self.expect.holds(value.map(|v| Value::String(v.to_owned())).as_ref())
    }

    /// Whether the `headers` invariant judges it.
    pub fn is_rule(&self) -> bool {
        self.why.is_some()
    }

    /// Whether it is about a query parameter rather than a header.
    pub fn is_query(&self) -> bool {
        self.name.starts_with('?')
    }

    /// What two expectations of the same header replace each other by: the
    /// name, and the element of a comma-list rule (`has`/`lacks` of different
    /// elements of `anthropic-beta` stand side by side).
    pub fn key(&self) -> (&str, Option<&str>) {
        match &self.expect {
            Expect::Has(e) | Expect::Lacks(e) => (&self.name, Some(e)),
            _ => (&self.name, None),
        }
    }
}

/// A top-level field of the JSON request body, and what it must be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldExpect {
    /// Top-level field name, e.g. `store`.
    pub field: String,
    /// What the value must be.
    #[serde(flatten)]
    pub expect: Expect,
}

impl FieldExpect {
    /// Whether the JSON request `body` satisfies it.
    pub fn holds(&self, body: &Value) -> bool {
        self.expect.holds(body.get(&self.field))
    }
}

/// A credential condition; a condition with neither list matches every credential.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// Credential kinds by value shape ([`credential::classify`]): `jwt`, `anthropic-oauth`, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Stored credential types: `oauth`, `token`, `api_key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<CredentialType>,
}

impl When {
    /// Matches when the kind is listed **or** the type is listed (or nothing is listed).
    pub fn matches(&self, kind: &str, ty: Option<CredentialType>) -> bool {
        (self.kinds.is_empty() && self.types.is_empty())
            || self.kinds.iter().any(|k| k == kind)
            || ty.is_some_and(|ty| self.types.contains(&ty))
    }
}

/// A version band: rules that hold for the versions in `range`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// The versions this band covers.
    pub range: VersionRange,
    /// What changed, and where it is documented.
    #[serde(default)]
    pub about: String,
    /// Old provider id → new one (refs, profile ids and profile providers are rewritten).
    #[serde(default)]
    pub renames: BTreeMap<String, String>,
}

/// A runtime: who makes the HTTP call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    /// What it is.
    #[serde(default)]
    pub about: String,
    /// The process that sends the request, for explanations.
    pub sender: String,
    /// The plugin providing it; the runtime is unavailable when that plugin is disabled or not allowed.
    #[serde(default)]
    pub plugin: Option<String>,
    /// Model providers it can serve; absent = all.
    #[serde(default)]
    pub serves: Option<Vec<String>>,
    /// Model providers it claims under runtime `auto`.
    #[serde(default)]
    pub claims: Vec<String>,
    /// Model provider → auth provider it authenticates as, always.
    #[serde(default)]
    pub auth_providers: BTreeMap<String, String>,
    /// Model provider → auth provider, when the provider's first explicitly
    /// ordered profile belongs to that auth provider.
    #[serde(default)]
    pub auth_by_order: BTreeMap<String, String>,
}

impl Runtime {
    /// Whether it can serve model provider `provider`.
    pub fn serves(&self, provider: &str) -> bool {
        self.serves.as_ref().is_none_or(|list| list.iter().any(|p| p == provider))
    }
}

/// An environment variable holding a provider credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvKey {
    /// Variable name, e.g. `OPENAI_API_KEY`.
    pub var: String,
    /// The credential type it holds.
    #[serde(rename = "type")]
    pub kind: CredentialType,
}

/// Where one kind of credential of a provider goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Why this route exists.
    #[serde(default)]
    pub about: String,
    /// Which credentials take this route; absent = all.
    #[serde(default)]
    pub when: Option<When>,
    /// Base URL the api path is appended to; absent when the provider has no
    /// default endpoint and `models.providers.<id>.baseUrl` must give one. It
    /// may hold `{env:VAR}` placeholders (the env value is put in).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Base URLs that replace `base_url` when its first `{env:VAR}` has one
    /// of these values (Vertex's `global` location has no regional host).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub base_url_cases: BTreeMap<String, String>,
    /// The api (key of [`Catalog::apis`]).
    pub api: String,
    /// Models that speak another api on this route, by model id or `prefix*`
    /// (the release's `modelCatalog` gives some models their own api).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_apis: BTreeMap<String, String>,
    /// How a credential goes on the wire on this route, tried before the
    /// api's own rules (an Azure key in `api-key` on a chat-completions api).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth: Vec<AuthRule>,
    /// Credential kinds whose home this route is (for [`Catalog::hosts_for_kind`]).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// The hosts a credential on this route may reach.
    pub hosts: Vec<String>,
    /// A configured `baseUrl` on one of these hosts is replaced by `base_url`.
    #[serde(default)]
    pub replaces_hosts: Vec<String>,
    /// Headers that matter on this route.
    #[serde(default)]
    pub headers: Vec<HeaderExpect>,
}

impl Route {
    /// The api `model` speaks on this route: its own in [`Route::model_apis`], else the route's.
    pub fn api_for(&self, model: &str) -> &str {
        let matches = |pattern: &str| match pattern.strip_suffix('*') {
            Some(prefix) => model.starts_with(prefix),
            None => model == pattern,
        };
        self.model_apis.iter().find(|(pattern, _)| matches(pattern)).map_or(&self.api, |(_, api)| api)
    }
}

/// A provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// What it is.
    #[serde(default)]
    pub about: String,
    /// The versions it exists in; absent = all.
    #[serde(default)]
    pub versions: Option<VersionRange>,
    /// Authenticate (and route) as this provider instead.
    #[serde(default)]
    pub auth_provider: Option<String>,
    /// Environment variables holding its credentials, in the order they are tried.
    #[serde(default)]
    pub env: Vec<EnvKey>,
    /// Headers that matter on every route.
    #[serde(default)]
    pub headers: Vec<HeaderExpect>,
    /// Credential routes; the first whose `when` matches is taken.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// `false` when a request needs no credential (a local server).
    #[serde(default = "yes")]
    pub needs_credential: bool,
    /// `false` when no credential is ever sent (the release configures the
    /// provider with `authHeader: false`).
    #[serde(default = "yes")]
    pub auth_header: bool,
    /// Credentials the reference does not model (Vertex application default
    /// credentials), named when no modelled one is eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmodelled_auth: Option<String>,
}

fn yes() -> bool {
    true
}

impl Provider {
    /// The route a credential of `kind` / `ty` takes.
    pub fn route(&self, kind: &str, ty: Option<CredentialType>) -> Option<&Route> {
        self.routes.iter().find(|r| r.when.as_ref().is_none_or(|w| w.matches(kind, ty)))
    }
}

/// The models of a provider that a range of versions is known to accept or
/// refuse, from recordings of real releases.
///
/// A model outside `known` may still be one the release knows (its own list is
/// longer than what was recorded), so the plan warns rather than refuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelList {
    /// The provider (after the version's renames).
    pub provider: String,
    /// The versions this list holds for.
    pub range: VersionRange,
    /// Model ids seen going out at these versions.
    #[serde(default)]
    pub known: Vec<String>,
    /// Model id → the message with which these versions refused it, sending nothing.
    #[serde(default)]
    pub refused: BTreeMap<String, String>,
    /// Where the facts come from.
    #[serde(default)]
    pub about: String,
}

/// How a credential goes on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthRule {
    /// Which credentials; absent = all.
    #[serde(default)]
    pub when: Option<When>,
    /// Lower-case header name; absent = the credential is not sent in a header.
    #[serde(default)]
    pub header: Option<String>,
    /// Scheme before the value, e.g. `Bearer`; absent = the bare value.
    #[serde(default)]
    pub scheme: Option<String>,
    /// Headers that come with this kind of credential.
    #[serde(default)]
    pub headers: Vec<HeaderExpect>,
}

/// The WebSocket variant of an api.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSocket {
    /// Versions that try it first.
    pub versions: VersionRange,
    /// Headers of the upgrade request.
    #[serde(default)]
    pub headers: Vec<HeaderExpect>,
}

/// A wire protocol: where on a base URL the request goes and what it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// What it is.
    #[serde(default)]
    pub about: String,
    /// HTTP method.
    pub method: String,
    /// Path appended to the base URL; `{model}` is replaced by the model id
    /// (Google's `/models/{model}:streamGenerateContent`) and `{env:VAR}` by
    /// that env var's value.
    pub path: String,
    /// How credentials go on the wire; the first matching rule wins.
    pub auth: Vec<AuthRule>,
    /// Header carrying the ChatGPT account id of an OAuth credential.
    #[serde(default)]
    pub account_header: Option<String>,
    /// Headers that matter.
    #[serde(default)]
    pub headers: Vec<HeaderExpect>,
    /// Body fields the provider insists on.
    #[serde(default)]
    pub body: Vec<FieldExpect>,
    /// The WebSocket variant, in the versions that use one.
    #[serde(default)]
    pub websocket: Option<WebSocket>,
    /// A realistic request body (`dispatch send`); `model` is filled in.
    pub sample_body: Value,
}

impl Api {
    /// Whether the model id goes in the path (`{model}`) rather than the body.
    pub fn model_in_path(&self) -> bool {
        self.path.contains("{model}")
    }

    /// The auth rule for a credential of `kind` / `ty`.
    pub fn auth_rule(&self, kind: &str, ty: Option<CredentialType>) -> Option<&AuthRule> {
        first_rule(&self.auth, kind, ty)
    }
}

impl Route {
    /// The auth rule for a credential of `kind` / `ty` on this route: the
    /// route's own rules first, then `api`'s.
    pub fn auth_rule<'a>(
        &'a self,
        api: &'a Api,
        kind: &str,
        ty: Option<CredentialType>,
    ) -> Option<&'a AuthRule> {
        first_rule(&self.auth, kind, ty).or_else(|| api.auth_rule(kind, ty))
    }
}

fn first_rule<'a>(rules: &'a [AuthRule], kind: &str, ty: Option<CredentialType>) -> Option<&'a AuthRule> {
    rules.iter().find(|r| r.when.as_ref().is_none_or(|w| w.matches(kind, ty)))
}

/// A class of requests: which `(method, URL)` pairs it covers and what they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointClass {
    /// Class name, e.g. `chatgpt-codex-responses`.
    pub name: String,
    /// Notes.
    #[serde(default)]
    pub about: String,
    /// Methods covered (upper-case). `GET` on a Responses path is the WebSocket upgrade.
    pub methods: Vec<String>,
    /// Hosts covered; empty = any host.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Path pattern: exact, or `*suffix` for any path ending in `suffix`
    /// (`*/responses`, `*:streamGenerateContent`; `*` alone: any path).
    pub path: String,
    /// Whether a request of this class is a model-API dispatch (compared with the plan).
    pub dispatch: bool,
    /// The request/response protocol, e.g. `openai-responses`, `models`.
    pub protocol: String,
    /// The provider answer shape (key of [`Catalog::shapes`]), if it answers like a known provider.
    #[serde(default)]
    pub shape: Option<String>,
}

impl EndpointClass {
    /// Whether it covers `method` on `host` + `path`.
    pub fn covers(&self, method: &str, host: &str, path: &str) -> bool {
        self.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
            && (self.hosts.is_empty() || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
            && path_matches(&self.path, path)
    }
}

/// `*/suffix` matches any path ending in `/suffix`; anything else matches exactly.
fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => path.ends_with(suffix),
        None => pattern == path,
    }
}

/// A canned provider answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderAnswer {
    /// Status code.
    pub status: u16,
    /// Extra headers (`content-type: application/json` is implied for a JSON body).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Value,
}

/// How a provider answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    /// Its answer to a model call without credentials.
    #[serde(default)]
    pub unauthorized: Option<ProviderAnswer>,
}

/// A catalog file as written; every part optional so an override can be small.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    format: String,
    #[serde(default)]
    about: Option<String>,
    #[serde(default)]
    dispatcher: Option<String>,
    #[serde(default)]
    default_version: Option<Version>,
    #[serde(default)]
    default_runtime: Option<String>,
    #[serde(default)]
    bands: Option<Vec<Band>>,
    #[serde(default)]
    runtimes: BTreeMap<String, Runtime>,
    #[serde(default)]
    providers: BTreeMap<String, Provider>,
    #[serde(default)]
    apis: BTreeMap<String, Api>,
    #[serde(default)]
    models: Vec<ModelList>,
    #[serde(default)]
    endpoint_classes: Vec<EndpointClass>,
    #[serde(default)]
    shapes: BTreeMap<String, Shape>,
    #[serde(default)]
    secret_headers: Vec<String>,
    #[serde(default)]
    releases: Vec<Release>,
}

/// The loaded catalog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    /// What this catalog is and how to change it.
    pub about: String,
    /// The dispatcher it models, e.g. `openclaw`.
    pub dispatcher: String,
    /// The version planned for when none is given.
    pub default_version: Version,
    /// The runtime when nothing selects one.
    pub default_runtime: String,
    /// Version bands, in order.
    pub bands: Vec<Band>,
    /// Runtimes by id.
    pub runtimes: BTreeMap<String, Runtime>,
    /// Providers by id.
    pub providers: BTreeMap<String, Provider>,
    /// Known models per provider and versions; the first entry that covers a
    /// provider at a version is its list.
    pub models: Vec<ModelList>,
    /// Apis by name.
    pub apis: BTreeMap<String, Api>,
    /// Endpoint classes; the first that covers a request is its class.
    pub endpoint_classes: Vec<EndpointClass>,
    /// Provider answer shapes by name.
    pub shapes: BTreeMap<String, Shape>,
    /// Header names whose values are secrets (shown as fingerprints).
    pub secret_headers: Vec<String>,
    /// Facts imported from releases, by ascending version: each holds from
    /// its version up to the next one's (a *band*).
    pub releases: Vec<Release>,
}

impl Catalog {
    /// The catalog shipped inside the binary.
    pub fn shipped() -> Result<Self> {
        let file = parse(SHIPPED, "the shipped catalog")?;
        let rules = Self::merge(None, file).map_err(|e| e.context("the shipped catalog"))?;
        let releases = parse(SHIPPED_RELEASES, "the shipped releases")?;
        Self::merge(Some(rules), releases).map_err(|e| e.context("the shipped releases"))
    }

    /// `path` as a catalog file over the shipped catalog, and its imported
    /// releases alone (`None` when there is no such file yet).
    pub fn load_file(path: &Path) -> Result<(Self, Vec<Release>)> {
        let shipped = Self::shipped()?;
        if !path.exists() {
            return Ok((shipped, Vec::new()));
        }
        let text = files::read_input(path, "catalog")?;
        let file = parse(&text, &path.display().to_string())?;
        let own = file.releases.clone();
        let catalog = Self::merge(Some(shipped), file).map_err(|e| e.context(path.display()))?;
        Ok((catalog, own))
    }

    /// The shipped catalog, with `path`'s entries replacing or adding to it.
    ///
    /// Providers, apis, runtimes and shapes replace same-named entries whole;
    /// endpoint classes of the file are tried before the shipped ones (and
    /// replace same-named ones), and so are its model lists; `bands`, when
    /// given, replace the list.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let shipped = Self::shipped()?;
        let Some(path) = path else { return Ok(shipped) };
        let text = files::read_input(path, "catalog")
            .map_err(|e| e.hint("pass a catalog JSON file to --catalog"))?;
        let file = parse(&text, &path.display().to_string())?;
        Self::merge(Some(shipped), file).map_err(|e| e.context(path.display()))
    }

    fn merge(base: Option<Self>, file: CatalogFile) -> Result<Self> {
        let missing = |field: &str| Error::input(format!("field `{field}` is required"));
        let (mut providers, mut apis, mut runtimes, mut shapes) = base
            .as_ref()
            .map(|b| (b.providers.clone(), b.apis.clone(), b.runtimes.clone(), b.shapes.clone()))
            .unwrap_or_default();
        providers.extend(file.providers);
        apis.extend(file.apis);
        runtimes.extend(file.runtimes);
        shapes.extend(file.shapes);
        let base_classes = base.as_ref().map(|b| b.endpoint_classes.clone()).unwrap_or_default();
        let mut endpoint_classes = file.endpoint_classes;
        let overridden: BTreeSet<String> = endpoint_classes.iter().map(|c| c.name.clone()).collect();
        endpoint_classes.extend(base_classes.into_iter().filter(|c| !overridden.contains(&c.name)));
        let mut models = file.models;
        models.extend(base.as_ref().map(|b| b.models.clone()).unwrap_or_default());
        let mut secret_headers = base.as_ref().map(|b| b.secret_headers.clone()).unwrap_or_default();
        let mut releases = base.as_ref().map(|b| b.releases.clone()).unwrap_or_default();
        releases.retain(|r| !file.releases.iter().any(|f| f.version == r.version));
        releases.extend(file.releases);
        releases.sort_by(|a, b| a.version.cmp(&b.version));
        secret_headers.extend(file.secret_headers.into_iter().map(|h| h.to_ascii_lowercase()));
        let catalog = Self {
            about: file.about.or(base.as_ref().map(|b| b.about.clone())).unwrap_or_default(),
            dispatcher: file
                .dispatcher
                .or(base.as_ref().map(|b| b.dispatcher.clone()))
                .ok_or(missing("dispatcher"))?,
            default_version: file
                .default_version
                .or(base.as_ref().map(|b| b.default_version.clone()))
                .ok_or(missing("default_version"))?,
            default_runtime: file
                .default_runtime
                .or(base.as_ref().map(|b| b.default_runtime.clone()))
                .ok_or(missing("default_runtime"))?,
            bands: file.bands.or(base.map(|b| b.bands)).unwrap_or_default(),
            runtimes,
            providers,
            models,
            apis,
            endpoint_classes,
            shapes,
            secret_headers,
            releases,
        };
        catalog.validate()?;
        Ok(catalog)
    }

    /// Every cross-reference resolves and header names are lower-case.
    fn validate(&self) -> Result<()> {
        let bad = |at: String, why: String| Err(Error::input(format!("{at}: {why}")));
        if !self.runtimes.contains_key(&self.default_runtime) {
            return bad("default_runtime".into(), format!("unknown runtime {:?}", self.default_runtime));
        }
        for (id, provider) in &self.providers {
            if let Some(target) = &provider.auth_provider
                && !self.providers.contains_key(target)
            {
                return bad(format!("providers.{id}.auth_provider"), format!("unknown provider {target:?}"));
            }
            if provider.routes.is_empty() && provider.auth_provider.is_none() {
                return bad(format!("providers.{id}"), "needs `routes` or `auth_provider`".into());
            }
            for (i, route) in provider.routes.iter().enumerate() {
                if !self.apis.contains_key(&route.api) {
                    return bad(
                        format!("providers.{id}.routes[{i}].api"),
                        format!("unknown api {:?}", route.api),
                    );
                }
                check_headers(&format!("providers.{id}.routes[{i}].headers"), &route.headers)?;
                for (j, rule) in route.auth.iter().enumerate() {
                    check_headers(&format!("providers.{id}.routes[{i}].auth[{j}].headers"), &rule.headers)?;
                }
            }
            check_headers(&format!("providers.{id}.headers"), &provider.headers)?;
        }
        for (i, list) in self.models.iter().enumerate() {
            if !self.providers.contains_key(&list.provider) {
                return bad(format!("models[{i}].provider"), format!("unknown provider {:?}", list.provider));
            }
        }
        for (name, api) in &self.apis {
            check_headers(&format!("apis.{name}.headers"), &api.headers)?;
            for (i, rule) in api.auth.iter().enumerate() {
                check_headers(&format!("apis.{name}.auth[{i}].headers"), &rule.headers)?;
            }
        }
        for (i, class) in self.endpoint_classes.iter().enumerate() {
            if let Some(shape) = &class.shape
                && !self.shapes.contains_key(shape)
            {
                return bad(format!("endpoint_classes[{i}].shape"), format!("unknown shape {shape:?}"));
            }
        }
        for (id, runtime) in &self.runtimes {
            for target in runtime.auth_providers.values().chain(runtime.auth_by_order.values()) {
                if !self.providers.contains_key(target) {
                    return bad(format!("runtimes.{id}"), format!("unknown auth provider {target:?}"));
                }
            }
        }
        Ok(())
    }

    /// The provider renames in force at `version` (all bands containing it).
    pub fn renames(&self, version: &Version) -> BTreeMap<String, String> {
        self.bands.iter().filter(|b| b.range.contains(version)).flat_map(|b| b.renames.clone()).collect()
    }

    /// `id` after the renames in force at `version`.
    pub fn renamed(&self, id: &str, version: &Version) -> String {
        self.renames(version).get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// Provider `id`, if it exists at `version`.
    pub fn provider(&self, id: &str, version: &Version) -> Option<&Provider> {
        self.providers.get(id).filter(|p| p.versions.as_ref().is_none_or(|r| r.contains(version)))
    }

    /// The imported band covering `version`: the newest release not after it.
    pub fn release(&self, version: &Version) -> Option<&Release> {
        self.releases.iter().rev().find(|r| r.version <= *version)
    }

    /// The band before `version`'s own: the newest imported release older than it.
    pub fn release_before(&self, version: &Version) -> Option<&Release> {
        self.releases.iter().rev().find(|r| r.version < *version)
    }

    /// Provider `id` as the release of `version`'s band bundles it.
    pub fn bundled(&self, id: &str, version: &Version) -> Option<&BundledProvider> {
        self.release(version)?.providers.get(id)
    }

    /// Why provider `id` cannot be planned at `version`, for a user who typed
    /// it: whether that release bundles it (and the rules for it are missing)
    /// or which bands do, and the closest known id among the catalog's, the
    /// release's and `configured` (the config's `models.providers`).
    pub fn unknown_provider<'a>(
        &'a self,
        id: &str,
        version: &Version,
        configured: impl Iterator<Item = &'a str>,
    ) -> String {
        let at = format!("{} {version}", self.dispatcher);
        if let Some(bundled) = self.bundled(id, version) {
            return format!(
                "Provider {id:?} is bundled in {at} (plugin {}) but the catalog has no dispatch rules for it yet: \
                 add providers.{id} with a --catalog FILE (docs/catalog.md)",
                bundled.plugin
            );
        }
        let ruled = self.providers.keys().filter(|p| self.provider(p, version).is_some());
        let band = self.release(version).into_iter().flat_map(|r| r.providers.keys());
        let candidates: Vec<&str> = ruled.chain(band).map(String::as_str).chain(configured).collect();
        let suggestion = crate::error::closest(id, candidates)
            .map(|p| format!(" (did you mean {p}?)"))
            .unwrap_or_default();
        let bands = self.bands_bundling(id);
        let elsewhere = if bands.is_empty() {
            String::new()
        } else {
            format!("; {at} does not bundle it, bands {bands} do (plan for one of them with --version)")
        };
        format!(
            "Unknown provider {id:?}: not in the catalog at {at} and no models.providers.{id} in the config{elsewhere}{suggestion}"
        )
    }

    /// The imported bands that bundle provider `id`, as spans of consecutive bands.
    pub fn bands_bundling(&self, id: &str) -> String {
        let all: Vec<&Version> = self.releases.iter().map(|r| &r.version).collect();
        let chosen =
            self.releases.iter().filter(|r| r.providers.contains_key(id)).map(|r| &r.version).collect();
        release::spans(&all, &chosen)
    }

    /// The models the catalog knows of `provider` at `version`, if it has a list.
    pub fn models(&self, provider: &str, version: &Version) -> Option<&ModelList> {
        self.models.iter().find(|m| m.provider == provider && m.range.contains(version))
    }

    /// The class of a request, if the catalog knows it. `url` is absolute
    /// (`https://chatgpt.com/backend-api/codex/responses`); the query is ignored.
    pub fn classify(&self, method: &str, url: &str) -> Option<&EndpointClass> {
        let uri: http::Uri = url.parse().ok()?;
        let host = uri.host()?;
        self.endpoint_classes.iter().find(|c| c.covers(method, host, uri.path()))
    }

    /// Whether `method` + `url` is a model-API dispatch (compared with the plan by the checks).
    pub fn is_dispatch(&self, method: &str, url: &str) -> bool {
        self.classify(method, url).is_some_and(|c| c.dispatch)
    }

    /// How the provider answers `method` + `url` without credentials, if the catalog knows.
    pub fn unauthorized_for(&self, method: &str, url: &str) -> Option<&ProviderAnswer> {
        self.unauthorized(self.classify(method, url)?)
    }

    /// The class named `name`.
    pub fn endpoint_class(&self, name: &str) -> Option<&EndpointClass> {
        self.endpoint_classes.iter().find(|c| c.name == name)
    }

    /// How the provider of `class` answers a model call without credentials.
    pub fn unauthorized(&self, class: &EndpointClass) -> Option<&ProviderAnswer> {
        self.shapes.get(class.shape.as_deref()?)?.unauthorized.as_ref()
    }

    /// The hosts a credential of `kind` (and stored type `ty`, when known) of
    /// `provider` may reach at `version`, following `auth_provider` links and
    /// renames. `None` when the catalog does not know the provider.
    pub fn allowed_hosts(
        &self,
        provider: &str,
        kind: &str,
        ty: Option<CredentialType>,
        version: &Version,
    ) -> Option<&[String]> {
        let provider = self.renamed(provider, version);
        let entry = self.provider(&provider, version)?;
        let entry = match &entry.auth_provider {
            Some(target) => self.provider(&self.renamed(target, version), version)?,
            None => entry,
        };
        entry.route(kind, ty).map(|r| r.hosts.as_slice())
    }

    /// The hosts a credential of `kind` may reach whatever its provider: the
    /// hosts of every route that is the home of that kind. Empty for kinds no
    /// route claims (`opaque`), which only a known provider can scope.
    pub fn hosts_for_kind(&self, kind: &str) -> BTreeSet<&str> {
        let routes = self.providers.values().flat_map(|p| &p.routes);
        routes
            .filter(|r| r.kinds.iter().any(|k| k == kind))
            .flat_map(|r| r.hosts.iter().map(String::as_str))
            .collect()
    }

    /// Whether a header's value is a secret.
    pub fn is_secret_header(&self, name: &str) -> bool {
        self.secret_headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }
}

fn check_headers(at: &str, headers: &[HeaderExpect]) -> Result<()> {
    if let Some(h) = headers.iter().find(|h| h.name != h.name.to_ascii_lowercase()) {
        return Err(Error::input(format!("{at}: header name {:?} must be lower-case", h.name)));
    }
    match headers.iter().find(|h| h.why.as_deref().is_some_and(|w| w.trim().is_empty())) {
        Some(h) => Err(Error::input(format!(
            "{at}: header {:?}: an empty `why`; a rule says why the provider needs it and where that is known from",
            h.name
        ))),
        None => Ok(()),
    }
}

fn parse(text: &str, origin: &str) -> Result<CatalogFile> {
    let file: CatalogFile = serde_json::from_str(text).map_err(|e| {
        Error::json(origin, &e).hint(format_args!(
            "a catalog is {{\"format\": \"{FORMAT_V1}\", \"providers\": {{…}}, …}}; see docs/catalog.md"
        ))
    })?;
    if file.format != FORMAT_V1 {
        return Err(Error::input(format!(
            "{origin}: unsupported catalog format {:?} (this build reads {FORMAT_V1:?})",
            file.format
        )));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shipped() -> Catalog {
        Catalog::shipped().unwrap()
    }

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    mod classify {
        use super::*;

        fn class(method: &str, url: &str) -> Option<String> {
            shipped().classify(method, url).map(|c| c.name.clone())
        }

        #[test]
        fn model_api_endpoints_by_method_and_path() {
            let cases = [
                ("POST", "https://chatgpt.com/backend-api/codex/responses", "chatgpt-codex-responses"),
                ("GET", "https://chatgpt.com/backend-api/codex/responses", "chatgpt-codex-responses"),
                ("POST", "https://api.openai.com/v1/responses", "openai-responses"),
                ("POST", "https://api.openai.com/v1/chat/completions", "openai-chat-completions"),
                ("POST", "https://openrouter.ai/api/v1/chat/completions", "openai-chat-completions"),
                ("POST", "http://localhost:4000/chat/completions", "openai-chat-completions"),
                ("POST", "https://api.anthropic.com/v1/messages", "anthropic-messages"),
                ("POST", "https://api.openai.com/v1/embeddings", "openai-embeddings"),
                ("GET", "https://chatgpt.com/backend-api/codex/models", "chatgpt-codex-models"),
                ("GET", "https://api.anthropic.com/v1/models", "anthropic-models"),
                ("GET", "https://api.openai.com/v1/models", "models-list"),
                ("POST", "https://auth.openai.com/oauth/token", "openai-oauth-token"),
            ];
            for (method, url, want) in cases {
                assert_eq!(class(method, url).as_deref(), Some(want), "{method} {url}");
            }
        }

        #[test]
        fn query_is_ignored_and_unknown_requests_have_no_class() {
            assert_eq!(
                class("POST", "https://api.openai.com/v1/responses?x=1").as_deref(),
                Some("openai-responses")
            );
            assert_eq!(class("GET", "https://api.openai.com/v1/responses/resp_1"), None);
            assert_eq!(class("DELETE", "https://api.openai.com/v1/responses"), None);
            assert_eq!(class("POST", "not a url"), None);
        }

        #[test]
        fn only_generation_classes_are_dispatches() {
            let c = shipped();
            let dispatch = |url| c.is_dispatch("POST", url);
            assert!(dispatch("https://api.openai.com/v1/responses"));
            assert!(!dispatch("https://api.openai.com/v1/embeddings"));
            assert!(!dispatch("https://auth.openai.com/oauth/token"));
        }

        #[test]
        fn path_patterns_are_exact_or_suffix() {
            assert!(path_matches("*/responses", "/v1/responses"));
            assert!(!path_matches("*/responses", "/v1/responses/x"));
            assert!(path_matches("/v1/models", "/v1/models"));
            assert!(!path_matches("/v1/models", "/x/v1/models"));
        }
    }

    mod answers {
        use super::*;

        #[test]
        fn openai_and_chatgpt_answer_missing_bearer() {
            let c = shipped();
            for url in
                ["https://api.openai.com/v1/responses", "https://chatgpt.com/backend-api/codex/responses"]
            {
                let answer = c.unauthorized(c.classify("POST", url).unwrap()).unwrap();
                assert_eq!(answer.status, 401);
                assert_eq!(
                    answer.body,
                    json!({"error": {"message": "Missing bearer or basic authentication in header",
                                     "type": "invalid_request_error", "param": null, "code": null}})
                );
            }
        }

        #[test]
        fn requests_without_a_provider_shape_have_no_canned_answer() {
            let c = shipped();
            assert!(c.unauthorized_for("POST", "https://auth.openai.com/oauth/token").is_none());
            assert!(c.unauthorized_for("POST", "http://127.0.0.1:11434/api/chat").is_none());
            assert!(c.unauthorized_for("GET", "https://example.test/unknown").is_none());
            assert_eq!(
                c.unauthorized_for("GET", "https://api.openai.com/v1/models").map(|a| a.status),
                Some(401)
            );
        }

        #[test]
        fn anthropic_answers_invalid_x_api_key() {
            let c = shipped();
            let answer =
                c.unauthorized(c.classify("POST", "https://api.anthropic.com/v1/messages").unwrap()).unwrap();
            assert_eq!(
                answer.body,
                json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
            );
        }
    }

    mod scopes {
        use super::*;

        #[test]
        fn chatgpt_token_reaches_only_chatgpt() {
            let c = shipped();
            let old = v("2026.5.16");
            let hosts = c.allowed_hosts("openai-codex", "jwt", Some(CredentialType::Oauth), &old).unwrap();
            assert_eq!(hosts, ["chatgpt.com"]);
            let new = v("2026.5.30");
            let hosts = c.allowed_hosts("openai", "jwt", Some(CredentialType::Oauth), &new).unwrap();
            assert_eq!(hosts, ["chatgpt.com"]);
            assert_eq!(c.hosts_for_kind("jwt"), BTreeSet::from(["chatgpt.com"]));
        }

        #[test]
        fn codex_refs_follow_their_auth_provider_and_renames() {
            let c = shipped();
            for version in ["2026.5.12", "2026.9.6"] {
                let hosts =
                    c.allowed_hosts("codex", "jwt", Some(CredentialType::Oauth), &v(version)).unwrap();
                assert_eq!(hosts, ["chatgpt.com"], "{version}");
            }
        }

        #[test]
        fn api_keys_reach_their_own_provider_only() {
            let c = shipped();
            let now = v("2026.9.6");
            assert_eq!(
                c.allowed_hosts("openai", "openai-key", Some(CredentialType::ApiKey), &now).unwrap(),
                ["api.openai.com"]
            );
            assert_eq!(c.hosts_for_kind("anthropic-key"), BTreeSet::from(["api.anthropic.com"]));
            assert_eq!(c.hosts_for_kind("openrouter-key"), BTreeSet::from(["openrouter.ai"]));
            assert!(c.hosts_for_kind("opaque").is_empty());
        }

        #[test]
        fn model_lists_hold_for_their_versions_only() {
            let c = shipped();
            let openai = c.models("openai", &v("2026.9.6")).unwrap();
            assert!(openai.known.iter().any(|m| m == "gpt-5.5") && openai.refused.is_empty());
            assert!(c.models("openai", &v("2026.9.5")).unwrap().refused.contains_key("gpt-5.4"));
            let anthropic = c.models("anthropic", &v("2026.9.5")).unwrap();
            assert!(anthropic.refused["claude-sonnet-4-5"].starts_with("Unknown model:"));
            assert!(c.models("openai", &v("2026.5.16-beta.4")).is_none(), "no recorded list there");
        }

        #[test]
        fn openai_codex_exists_only_in_the_old_band() {
            let c = shipped();
            assert!(c.provider("openai-codex", &v("2026.5.29")).is_some());
            assert!(c.provider("openai-codex", &v("2026.5.30")).is_none());
            assert_eq!(c.renamed("openai-codex", &v("2026.5.30")), "openai");
            assert_eq!(c.renamed("openai-codex", &v("2026.5.16-beta.4")), "openai-codex");
        }
    }

    mod releases {
        use super::*;

        #[test]
        fn a_band_holds_from_its_release_to_the_next() {
            let c = shipped();
            let band = |version: &str| c.release(&v(version)).map(|r| r.version.to_string());
            assert_eq!(band("2026.5.16-beta.4"), None, "older than every imported release");
            assert_eq!(band("2026.6.1").as_deref(), Some("2026.5.28"));
            assert_eq!(band("2026.9.6").as_deref(), Some("2026.9.6"));
            assert_eq!(
                c.release_before(&v("2026.9.6")).map(|r| r.version.to_string()).as_deref(),
                Some("2026.9.5")
            );
            assert!(c.bundled("google", &v("2026.9.6")).is_some());
            assert_eq!(c.bands_bundling("deepseek"), "2026.5.27–2026.5.28");
        }

        #[test]
        fn hand_written_env_vars_are_ones_the_release_reads() {
            let c = shipped();
            for release in &c.releases {
                for (id, provider) in &c.providers {
                    let (Some(bundled), Some(_)) =
                        (release.providers.get(id), c.provider(id, &release.version))
                    else {
                        continue;
                    };
                    for key in &provider.env {
                        assert!(bundled.env.contains(&key.var), "{id}: {} at {}", key.var, release.version);
                    }
                }
            }
        }

        #[test]
        fn unknown_providers_get_the_closest_id_and_the_bands_that_bundle_them() {
            let c = shipped();
            let now = v("2026.9.6");
            let none = std::iter::empty();
            assert!(c.unknown_provider("googel", &now, none).ends_with("(did you mean google?)"));
            let gone = c.unknown_provider("deepseek", &now, std::iter::empty());
            assert!(gone.contains("bands 2026.5.27–2026.5.28 do"), "{gone}");
            let custom = c.unknown_provider("ollama-sprak", &now, ["ollama-spark"].into_iter());
            assert!(custom.ends_with("(did you mean ollama-spark?)"), "{custom}");
        }
    }

    mod rules {
        use super::*;

        #[test]
        fn a_model_of_a_route_may_speak_its_own_api() {
            let c = shipped();
            let route = &c.providers["github-copilot"].routes[0];
            assert_eq!(route.api_for("claude-sonnet-5"), "anthropic-messages");
            assert_eq!(route.api_for("gpt-5.5"), "openai-responses");
            let exact =
                Route { model_apis: [("o3".into(), "openai-completions".into())].into(), ..route.clone() };
            assert_eq!(
                (exact.api_for("o3"), exact.api_for("o3-mini")),
                ("openai-completions", "openai-responses")
            );
        }

        #[test]
        fn anthropic_key_goes_in_x_api_key_and_oauth_token_as_bearer() {
            let c = shipped();
            let api = &c.apis["anthropic-messages"];
            let key = api.auth_rule("anthropic-key", Some(CredentialType::Token)).unwrap();
            assert_eq!((key.header.as_deref(), key.scheme.as_deref()), (Some("x-api-key"), None));
            let oat = api.auth_rule("anthropic-oauth", Some(CredentialType::ApiKey)).unwrap();
            assert_eq!(
                (oat.header.as_deref(), oat.scheme.as_deref()),
                (Some("authorization"), Some("Bearer"))
            );
        }

        #[test]
        fn every_sample_body_satisfies_its_api_expectations() {
            for (name, api) in &shipped().apis {
                for field in &api.body {
                    assert!(field.holds(&api.sample_body), "{name}: {field:?}");
                }
            }
        }

        #[test]
        fn every_route_plans_a_dispatch_class() {
            let c = shipped();
            let fill = |text: &str| {
                text.replace("{model}", "m-1")
                    .replace("{env:GOOGLE_CLOUD_LOCATION}", "europe-west4")
                    .replace("{env:GOOGLE_CLOUD_PROJECT}", "p-1")
            };
            for (id, provider) in &c.providers {
                // A route without a base URL takes the configured one (microsoft-foundry).
                for route in provider.routes.iter().filter(|r| r.base_url.is_some()) {
                    let api = &c.apis[&route.api];
                    let base = route.base_url.as_deref().map(fill).unwrap_or_default();
                    let url = format!("{base}{}", fill(&api.path));
                    for case in route.base_url_cases.values() {
                        let host: http::Uri = case.parse().unwrap();
                        assert!(route.hosts.iter().any(|h| Some(h.as_str()) == host.host()), "{id}: {case}");
                    }
                    assert!(c.classify(&api.method, &url).is_some_and(|k| k.dispatch), "{id}: {url}");
                    if base.contains("europe-west4") {
                        continue; // a host made of the location, allowed as the plan's own
                    }
                    let host: http::Uri = url.parse().unwrap();
                    assert!(route.hosts.iter().any(|h| Some(h.as_str()) == host.host()), "{id}: {url}");
                }
            }
        }

        #[test]
        fn expectations_check_values_and_markers() {
            let fp = credential::fingerprint("s3cret");
            let expect = HeaderExpect::sent("api-key", Expect::Fingerprint(fp));
            assert!(expect.holds(Some("s3cret")));
            assert!(expect.holds(Some(&credential::redaction_marker("s3cret"))));
            assert!(!expect.holds(Some("other")) && !expect.holds(None));
            let beta = HeaderExpect::sent("anthropic-beta", Expect::Contains("oauth".into()));
            assert!(beta.holds(Some("x,oauth-2025-04-20")));
            let has = HeaderExpect::sent("anthropic-beta", Expect::Has("oauth-2025-04-20".into()));
            assert!(has.holds(Some("claude-code-20250219, oauth-2025-04-20")));
            assert!(!has.holds(Some("oauth-2025-04-20-x")) && !has.holds(None));
            let lacks = HeaderExpect::sent("anthropic-beta", Expect::Lacks("context-1m-2025-08-07".into()));
            assert!(lacks.holds(None) && lacks.holds(Some("oauth-2025-04-20")));
            assert!(!lacks.holds(Some("oauth-2025-04-20,context-1m-2025-08-07")));
            let absent = FieldExpect { field: "store".into(), expect: Expect::Present(false) };
            assert!(absent.holds(&json!({})) && !absent.holds(&json!({"store": true})));
        }
    }

    mod loading {
        use super::*;

        fn load_text(text: &str) -> Result<Catalog> {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("my-catalog.json");
            std::fs::write(&path, text).unwrap();
            Catalog::load(Some(&path))
        }

        #[test]
        fn a_file_adds_a_provider_and_keeps_the_shipped_ones() {
            let c = load_text(
                r#"{"format": "dispatch-vcr/catalog@1", "providers": {"acme": {"env": [{"var": "ACME_KEY", "type": "api_key"}],
                    "routes": [{"base_url": "https://llm.acme.test/v1", "api": "openai-completions", "hosts": ["llm.acme.test"]}]}}}"#,
            )
            .unwrap();
            assert!(c.providers.contains_key("acme") && c.providers.contains_key("openai"));
        }

        #[test]
        fn a_file_replaces_a_provider_and_puts_its_classes_first() {
            let c = load_text(
                r#"{"format": "dispatch-vcr/catalog@1",
                    "providers": {"openai": {"routes": [{"base_url": "https://gw.test/v1", "api": "openai-responses", "hosts": ["gw.test"]}]}},
                    "endpoint_classes": [{"name": "gw", "methods": ["POST"], "path": "/v1/responses", "dispatch": true, "protocol": "openai-responses"}]}"#,
            )
            .unwrap();
            assert_eq!(c.providers["openai"].routes[0].base_url.as_deref(), Some("https://gw.test/v1"));
            assert_eq!(c.classify("POST", "https://x/v1/responses").unwrap().name, "gw");
        }

        #[test]
        fn syntax_and_schema_errors_name_file_and_line_column() {
            let err =
                load_text("{\"format\": \"dispatch-vcr/catalog@1\",\n  \"providers\": {,}}").unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.message().contains("my-catalog.json:2:"), "{}", err.message());
            let err = load_text("{\"format\": \"dispatch-vcr/catalog@1\",\n \"providerz\": {}}").unwrap_err();
            assert!(
                err.message().contains("my-catalog.json:2:") && err.message().contains("providerz"),
                "{err}"
            );
        }

        #[test]
        fn a_files_model_lists_come_first_and_name_known_providers() {
            let c = load_text(
                r#"{"format": "dispatch-vcr/catalog@1", "models": [{"provider": "openai", "range": "*", "known": ["gpt-9-ultra"]}]}"#,
            )
            .unwrap();
            assert_eq!(c.models("openai", &v("2026.9.6")).unwrap().known, ["gpt-9-ultra"]);
            let err = load_text(
                r#"{"format": "dispatch-vcr/catalog@1", "models": [{"provider": "opeani", "range": "*"}]}"#,
            )
            .unwrap_err();
            assert!(err.message().contains("models[0].provider: unknown provider \"opeani\""), "{err}");
        }

        #[test]
        fn dangling_references_and_wrong_format_are_refused() {
            let err = load_text(
                r#"{"format": "dispatch-vcr/catalog@1", "providers": {"x": {"routes": [{"base_url": "https://x", "api": "nope", "hosts": []}]}}}"#,
            )
            .unwrap_err();
            assert!(err.message().contains("providers.x.routes[0].api: unknown api \"nope\""), "{err}");
            assert!(err.message().contains("my-catalog.json"), "{err}");
            let err = load_text(r#"{"format": "dispatch-vcr/catalog@9"}"#).unwrap_err();
            assert!(err.message().contains("unsupported catalog format"), "{err}");
        }
    }
}
