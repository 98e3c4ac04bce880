//! Steps 5–7: endpoint, headers and body, from the provider's route for the
//! chosen credential, the api of that route, and the config's provider settings.

use std::borrow::Cow;

use serde_json::Value;

use super::credentials::Chosen;
use super::render::{field_text, header_text};
use super::{Context, PlannedAccount, PlannedCredential, PlannedWebSocket, Refusal, Trace};
use crate::credential;
use crate::dispatch::catalog::{Api, EnvKey, Expect, FieldExpect, HeaderExpect, Provider, Route};
use crate::openclaw::config::ProviderConfig;
use crate::version::Version;

/// The api of a custom provider with a `baseUrl` and no `api`: OpenClaw
/// 2026.9.6 falls back to chat completions (`resolveConfiguredProviderDefaultApi`
/// in src/agents/embedded-agent-runner/model.configured-overrides.ts).
const DEFAULT_CUSTOM_API: &str = "openai-completions";

/// The api OpenClaw 2026.9.6 gives a custom provider with neither `api` nor
/// `baseUrl` (the same file's last resort).
const BARE_CUSTOM_API: &str = "openai-responses";

/// Host names OpenClaw treats as local besides loopback, RFC 1918, `localhost`,
/// `0.0.0.0` and `*.local` (src/agents/model-auth-provider-config.ts,
/// src/agents/model-provider-local.ts).
const LOCAL_HOST_ALIASES: [&str; 3] = ["docker.orb.internal", "host.docker.internal", "host.orb.internal"];

/// The provider a request goes to: a catalog entry, config settings, or both.
pub(super) struct Target<'a> {
    pub id: String,
    /// The model id the request is for (its `models[]` entry may override the provider's settings).
    pub model: String,
    pub provider: Option<&'a Provider>,
    pub config: Option<&'a ProviderConfig>,
}

impl<'a> Target<'a> {
    /// Provider `id` from the catalog (at the planned version) and `models.providers`.
    pub(super) fn find(context: &'a Context<'_>, id: &str, model: &str) -> Result<Self, String> {
        let provider = context.catalog.provider(id, &context.version);
        let config = context.inputs.config.models.providers.get(id);
        if provider.is_none() && config.is_none() {
            let configured = context.inputs.config.models.providers.keys().map(String::as_str);
            return Err(context.catalog.unknown_provider(id, &context.version, configured));
        }
        Ok(Self { id: id.to_owned(), model: model.to_owned(), provider, config })
    }

    /// `false` for a provider that works without a credential (a local server).
    pub(super) fn needs_credential(&self) -> bool {
        self.provider.is_none_or(|p| p.needs_credential)
    }

    /// Why no credential header is ever sent, if none is: the config's or the
    /// catalog's `authHeader: false`.
    pub(super) fn no_auth_header(&self) -> Option<String> {
        let id = &self.id;
        if self.config.and_then(|c| c.auth_header) == Some(false) {
            return Some(format!(
                "models.providers.{id}.authHeader is false: no credential header, its headers carry any auth"
            ));
        }
        let provider = self.provider.filter(|p| !p.auth_header)?;
        Some(format!("provider {id} sends no credential header (catalog: {})", provider.about))
    }

    /// The configured base URL for this model: the model's own, else the provider's.
    pub(super) fn configured_base_url(&self) -> Option<&str> {
        self.config?.base_url_for(&self.model)
    }

    /// A custom provider's base URL for this model, or what OpenClaw does without one.
    pub(super) fn custom_base_url(&self) -> Result<&str, String> {
        let id = &self.id;
        self.configured_base_url().ok_or_else(|| {
            let api = match self.configured_api() {
                Some(api) => format!("api {api} (models.providers.{id}.api)"),
                None => format!("api {BARE_CUSTOM_API} (its default when neither api nor baseUrl is set)"),
            };
            format!(
                "Custom provider {id:?} has no baseUrl: OpenClaw falls back to {api} with no endpoint, and its \
                 OpenAI-compatible transport sends nothing (\"Provider {id:?} requires an explicit base URL\", \
                 @openclaw/ai openai-transport-params.ts); set models.providers.{id}.baseUrl in openclaw.json"
            )
        })
    }

    /// The configured api for this model: the model's own, else the provider's.
    pub(super) fn configured_api(&self) -> Option<&str> {
        self.config?.api_for(&self.model)
    }

    /// Why OpenClaw authenticates this provider with its synthetic local key
    /// (`custom-local`), if it does: a `models.providers` entry with a base URL,
    /// an api and models, no `apiKey`, and a base URL on a local host.
    pub(super) fn synthetic_local(&self) -> Option<String> {
        let config = self.config?;
        let (url, api) = (self.configured_base_url()?, self.configured_api()?);
        let host = host_of(url)?;
        let local = config.api_key.as_deref().is_none_or(str::is_empty) && !config.models.is_empty();
        let wire = match api {
            "ollama" => "the ollama api sends it as a bearer that is no secret",
            "openai-completions" => {
                "over chat completions OpenClaw drops the authorization header (src/agents/model-auth.ts)"
            }
            _ => "it is no secret",
        };
        (local && is_local_host(&host)).then(|| {
            format!(
                "models.providers.{id} has baseUrl, api and models but no apiKey, and {host} is a local host: \
                 OpenClaw authenticates it with the non-secret marker custom-local (synthetic local auth, \
                 src/agents/model-auth-runtime.ts); {wire}",
                id = self.id
            )
        })
    }

    /// The provider's env keys (none for a custom provider).
    pub(super) fn env(&self) -> &[EnvKey] {
        self.provider.map_or(&[], |p| p.env.as_slice())
    }
}

/// Whether OpenClaw counts `host` as local: loopback, RFC 1918, `localhost`,
/// `0.0.0.0`, `*.local` or a container host alias.
fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if host == "localhost" || host == "0.0.0.0" || host.ends_with(".local") {
        return true;
    }
    if LOCAL_HOST_ALIASES.contains(&host.as_str()) {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// What goes on the wire.
pub(super) struct Wire {
    pub method: String,
    pub url: String,
    pub endpoint_class: Option<String>,
    pub api: String,
    pub model_in_path: bool,
    pub websocket: Option<PlannedWebSocket>,
    pub credential: Option<PlannedCredential>,
    pub account: Option<PlannedAccount>,
    pub headers: Vec<HeaderExpect>,
    pub body: Vec<FieldExpect>,
    pub secret_headers: Vec<(String, String)>,
}

/// The host of an absolute URL.
fn host_of(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    uri.scheme()?;
    uri.host().map(str::to_owned)
}

/// The route for the credential: the catalog's, or one made of a custom provider's config.
fn route<'r>(target: &'r Target<'_>, chosen: Option<&Chosen>) -> Result<Cow<'r, Route>, String> {
    let (kind, ty) = chosen.map_or(("", None), |c| (c.kind, Some(c.ty)));
    if let Some(provider) = target.provider {
        let route = provider.route(kind, ty);
        return route.map(Cow::Borrowed).ok_or_else(|| {
            format!("Provider {:?} has no route for a {kind} credential in the catalog", target.id)
        });
    }
    let base_url = target.custom_base_url()?;
    Ok(Cow::Owned(Route {
        about: String::new(),
        when: None,
        hosts: host_of(base_url).into_iter().collect(),
        base_url: Some(base_url.to_owned()),
        base_url_cases: Default::default(),
        api: target.configured_api().unwrap_or(DEFAULT_CUSTOM_API).to_owned(),
        model_apis: Default::default(),
        auth: Vec::new(),
        kinds: Vec::new(),
        replaces_hosts: Vec::new(),
        headers: Vec::new(),
    }))
}

/// `text` with `{model}` and `{env:VAR}` filled in; an unset variable is an error.
fn expand(text: &str, model: &str, context: &Context<'_>, id: &str) -> Result<String, String> {
    let mut out = text.replace("{model}", model);
    while let Some(start) = out.find("{env:") {
        let end = out[start..]
            .find('}')
            .map(|e| start + e)
            .ok_or_else(|| format!("unclosed {{env: in {text:?}"))?;
        let var = &out[start + 5..end];
        let value = context.inputs.env.get(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            format!(
                "Provider {id:?} needs env {var} to build its endpoint ({text}): pass --env {var}=… (OpenClaw \
                 refuses to send without it)"
            )
        })?;
        out = format!("{}{}{}", &out[..start], value, &out[end + 1..]);
    }
    Ok(out)
}

/// The catalog route's base URL: a case picked by its first `{env:VAR}`'s value, else the URL itself.
fn route_base(route: &Route, context: &Context<'_>, id: &str) -> Result<String, String> {
    let base = route.base_url.as_deref().ok_or_else(|| {
        format!(
            "Provider {id:?} has no default endpoint: set models.providers.{id}.baseUrl in openclaw.json ({})",
            route.about
        )
    })?;
    let first_var = base.find("{env:").and_then(|s| base[s + 5..].split_once('}').map(|(v, _)| v));
    let case =
        first_var.and_then(|var| context.inputs.env.get(var)).and_then(|v| route.base_url_cases.get(v));
    Ok(case.cloned().unwrap_or_else(|| base.to_owned()))
}

/// Base URL, the hosts the credential may reach, and why.
fn base_url(
    context: &Context<'_>,
    target: &Target<'_>,
    route: &Route,
) -> Result<(String, Vec<String>, String), String> {
    let id = &target.id;
    let from_catalog = format!("catalog route of {id}");
    let configured = target.configured_base_url().filter(|_| target.provider.is_some());
    let Some(url) = configured.map(str::to_owned) else {
        let (url, why) = match target.provider {
            Some(_) => (expand(&route_base(route, context, id)?, &target.model, context, id)?, from_catalog),
            None => (
                route.base_url.clone().unwrap_or_default(),
                format!("models.providers.{id} (custom provider{})", inherited(target)),
            ),
        };
        let mut hosts = route.hosts.clone();
        hosts.extend(host_of(&url).filter(|h| !hosts.contains(h)));
        return Ok((url, hosts, why));
    };
    let host = host_of(&url).ok_or_else(|| {
        format!("models.providers.{id}.baseUrl {url:?} is not an absolute URL (e.g. https://host/v1)")
    })?;
    if route.replaces_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        let base = route_base(route, context, id)?;
        let why = format!("models.providers.{id}.baseUrl {url} normalised to {base}: {}", route.about);
        return Ok((base, route.hosts.clone(), why));
    }
    let mut hosts = route.hosts.clone();
    if !hosts.contains(&host) {
        hosts.push(host);
    }
    Ok((url, hosts, format!("models.providers.{id}.baseUrl{}", inherited(target))))
}

/// Whether the model's base URL is its own or the provider's, for explanations.
fn inherited(target: &Target<'_>) -> String {
    let own = target.config.and_then(|c| c.model(&target.model)).and_then(|m| m.base_url.as_ref());
    match (own, target.config.is_some_and(|c| c.model(&target.model).is_some())) {
        (Some(_), _) => format!("; models[{}].baseUrl, over the provider's", target.model),
        (None, true) => format!("; models[{}] inherits the provider's baseUrl", target.model),
        (None, false) => String::new(),
    }
}

/// `ws(s)://` for the WebSocket variant of an `http(s)://` URL.
fn websocket_url(url: &str) -> String {
    match url.split_once("://") {
        Some(("http", rest)) => format!("ws://{rest}"),
        Some((_, rest)) => format!("wss://{rest}"),
        None => url.to_owned(),
    }
}

/// Headers of all `lists` in order, leaving out rules that do not hold at
/// `version`; a later header replaces an earlier one with the same
/// [`HeaderExpect::key`].
fn merge_headers<'h>(
    lists: impl IntoIterator<Item = &'h HeaderExpect>,
    version: &Version,
) -> Vec<HeaderExpect> {
    let mut out: Vec<HeaderExpect> = Vec::new();
    for header in lists.into_iter().filter(|h| h.versions.as_ref().is_none_or(|r| r.contains(version))) {
        match out.iter_mut().find(|h| h.key() == header.key()) {
            Some(slot) => *slot = header.clone(),
            None => out.push(header.clone()),
        }
    }
    out
}

/// The config's `headers` of the provider, then those of the model (which
/// override them), as rules: what the user configured must be sent. Secret
/// values become fingerprints (their values kept for `send`); a header the
/// catalog treats as a comma list (`anthropic-beta`) must list each element.
fn config_headers(
    context: &Context<'_>,
    target: &Target<'_>,
    model: &str,
    lists: &[HeaderExpect],
) -> (Vec<HeaderExpect>, Vec<(String, String)>) {
    let id = &target.id;
    let provider = target.config.map(|c| (&c.headers, format!("models.providers.{id}.headers")));
    let model_level = target
        .config
        .and_then(|c| c.model_headers(model))
        .map(|h| (h, format!("models.providers.{id}.models[{model}].headers, over the provider's")));
    let mut expects = Vec::new();
    let mut secrets = Vec::new();
    for (headers, from) in provider.into_iter().chain(model_level) {
        let why = format!("{from}: the user's configured header");
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            let is_list = lists.iter().any(|h| h.name == name && h.key().1.is_some());
            let secret = context.catalog.is_secret_header(&name) || credential::classify(value) != "opaque";
            let values: Vec<Expect> = if secret {
                secrets.push((name.clone(), value.clone()));
                vec![Expect::Fingerprint(credential::fingerprint(value))]
            } else if is_list {
                value.split(',').map(|e| Expect::Has(e.trim().to_owned())).collect()
            } else {
                vec![Expect::Equals(Value::String(value.clone()))]
            };
            // A model-level header replaces the provider-level one of that name.
            expects.retain(|h: &HeaderExpect| h.name != name);
            expects.extend(values.into_iter().map(|e| HeaderExpect::rule(name.clone(), e, why.clone())));
        }
    }
    (expects, secrets)
}

/// The versions from which a ChatGPT login's request must name its account.
const ACCOUNT_REQUIRED_FROM: &str = ">=2026.5.30";

/// The rule that a ChatGPT login's request names the login's account: from
/// 2026.5.30 it must be sent; before, it must be the login's when sent.
fn account_rule(account: &PlannedAccount, from: &str, version: &Version) -> HeaderExpect {
    let names = Expect::Fingerprint(account.fingerprint.clone());
    let required =
        ACCOUNT_REQUIRED_FROM.parse::<crate::version::VersionRange>().is_ok_and(|r| r.contains(version));
    let (expect, when) = if required {
        (
            names,
            "from 2026.5.30 OpenClaw's ChatGPT transport (the Codex client) sends it on every call, as the Codex CLI and pi do (earendil-works/pi#2336; recorded 2026.9.5, 2026.9.6)",
        )
    } else {
        (
            Expect::IfSent(Box::new(names)),
            "releases before 2026.5.30 sent the bearer alone and the backend served it (recorded 2026.5.16-beta.4), so only a header naming another account is wrong",
        )
    };
    HeaderExpect::rule(
        account.header.clone(),
        expect,
        format!(
            "the ChatGPT backend acts for the account this header names, which must be the bound login's ({from}); {when}"
        ),
    )
}

/// Steps 5 (endpoint), 6 (headers) and 7 (body).
pub(super) fn plan_wire(
    context: &Context<'_>,
    target: &Target<'_>,
    model: &str,
    chosen: Option<&Chosen>,
    trace: &mut Trace,
) -> Result<Wire, Refusal> {
    let route = route(target, chosen).map_err(|m| trace.fail(m))?;
    let (base, hosts, base_why) = base_url(context, target, &route).map_err(|m| trace.fail(m))?;
    let api_name = target.configured_api().unwrap_or_else(|| route.api_for(model)).to_owned();
    if target.provider.is_none() && target.configured_api().is_none() {
        trace.warn(
            "api",
            format!(
                "models.providers.{}.api is not set: OpenClaw falls back to {DEFAULT_CUSTOM_API} for a custom \
                 provider with a baseUrl; set api if the server speaks another protocol",
                target.id
            ),
            "resolveConfiguredProviderDefaultApi, src/agents/embedded-agent-runner/model.configured-overrides.ts (2026.9.6)",
        );
    }
    let api = context.catalog.apis.get(&api_name).ok_or_else(|| {
        let known: Vec<&str> = context.catalog.apis.keys().map(String::as_str).collect();
        trace.fail(format!(
            "Unknown api {api_name:?} for provider {:?} (the catalog knows {})",
            target.id,
            known.join(", ")
        ))
    })?;
    let path = expand(&api.path, model, context, &target.id).map_err(|m| trace.fail(m))?;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let endpoint_class = context.catalog.classify(&api.method, &url).map(|c| c.name.clone());
    let websocket = api
        .websocket
        .as_ref()
        .filter(|w| w.versions.contains(&context.version))
        .map(|w| PlannedWebSocket { url: websocket_url(&url), headers: w.headers.clone() });
    let class_text = endpoint_class.as_deref().unwrap_or("unclassified");
    trace.step(
        "endpoint",
        format!("{} {url} [{class_text}]", api.method),
        format!("{base_why}; api {api_name} sends {} {{base}}{}", api.method, api.path),
    );
    if let Some(ws) = &websocket {
        trace.step(
            "websocket",
            ws.url.clone(),
            format!("api {api_name} tries a WebSocket first at this version"),
        );
    }
    let credential =
        chosen.map(|c| planned_credential(c, &route, api, &hosts)).transpose().map_err(|m| trace.fail(m))?;
    let account = account(api, chosen);
    let rule_headers =
        chosen.and_then(|c| route.auth_rule(api, c.kind, Some(c.ty))).map(|r| r.headers.as_slice());
    let provider_headers = target.provider.map(|p| p.headers.as_slice());
    let catalog_headers = merge_headers(
        api.headers
            .iter()
            .chain(provider_headers.unwrap_or_default())
            .chain(&route.headers)
            .chain(rule_headers.unwrap_or_default()),
        &context.version,
    );
    let (config_headers, secret_headers) = config_headers(context, target, model, &catalog_headers);
    let from = chosen.and_then(|c| c.account.as_ref()).map_or("", |(_, from)| *from);
    let account_rule = account.as_ref().map(|a| account_rule(a, from, &context.version));
    let headers =
        merge_headers(catalog_headers.iter().chain(&account_rule).chain(&config_headers), &context.version);
    let wire = Wire {
        method: api.method.clone(),
        url,
        endpoint_class,
        api: api_name,
        model_in_path: api.model_in_path(),
        websocket,
        credential,
        account,
        headers,
        body: api.body.clone(),
        secret_headers,
    };
    let by_route = chosen.is_some_and(|c| {
        route.auth.iter().any(|rule| rule.when.as_ref().is_none_or(|w| w.matches(c.kind, Some(c.ty))))
    });
    headers_step(trace, &wire, api, chosen, by_route);
    body_step(trace, &wire.api, api);
    Ok(wire)
}

fn planned_credential(
    chosen: &Chosen,
    route: &Route,
    api: &Api,
    hosts: &[String],
) -> Result<PlannedCredential, String> {
    let rule = route
        .auth_rule(api, chosen.kind, Some(chosen.ty))
        .ok_or_else(|| format!("the api has no auth rule for a {} {} credential", chosen.ty, chosen.kind))?;
    Ok(PlannedCredential {
        profile: chosen.profile.clone(),
        source: chosen.source,
        migrated_from: chosen.migrated_from.clone(),
        inherited_from: chosen.inherited.then(|| crate::dispatch::inputs::MAIN_AGENT.to_owned()),
        store: chosen.store.clone(),
        stored_type: chosen.ty,
        kind: chosen.kind.to_owned(),
        header: rule.header.clone(),
        scheme: rule.scheme.clone(),
        fingerprint: credential::fingerprint(&chosen.secret),
        allowed_hosts: hosts.to_vec(),
        refresh_first: chosen.refresh_first,
    })
}

fn account(api: &Api, chosen: Option<&Chosen>) -> Option<PlannedAccount> {
    let header = api.account_header.clone()?;
    let (value, _) = chosen?.account.clone()?;
    Some(PlannedAccount { header, fingerprint: credential::fingerprint(&value), value })
}

/// Step 6; `by_route` when the provider's route, not the api, decided the credential's header.
fn headers_step(trace: &mut Trace, wire: &Wire, api: &Api, chosen: Option<&Chosen>, by_route: bool) {
    let mut decision = Vec::new();
    let mut why = Vec::new();
    match &wire.credential {
        Some(c) => {
            let header = c.header.as_deref().unwrap_or("(no header)");
            let scheme = c.scheme.as_deref().map(|s| format!("{s} ")).unwrap_or_default();
            decision.push(format!("{header}: {scheme}<{} {}>", c.profile, c.fingerprint));
            let who = if by_route {
                format!("the provider's route (before api {}'s own rule)", wire.api)
            } else {
                format!("api {}", wire.api)
            };
            why.push(format!("{who} sends this credential ({} {}) in {header}", c.stored_type, c.kind));
        }
        None => decision.push("no credential header".to_owned()),
    }
    if let Some(a) = &wire.account {
        decision.push(format!("{}: {}", a.header, a.value));
        let from = chosen.and_then(|c| c.account.as_ref()).map_or("", |(_, from)| from);
        why.push(format!("{} from {from}", a.header));
    } else if let (Some(header), Some(_)) = (&api.account_header, chosen) {
        why.push(format!("no ChatGPT account claim nor stored accountId: {header} cannot be sent"));
    }
    for rule in wire.headers.iter().filter(|h| h.is_rule()) {
        why.push(format!("rule {}: {}", header_text(rule), rule.why.as_deref().unwrap_or_default()));
    }
    // The account header is in the decision already, with its value.
    let account = wire.account.as_ref().map(|a| a.header.as_str());
    decision.extend(wire.headers.iter().filter(|h| Some(h.name.as_str()) != account).map(header_text));
    trace.step("headers", decision.join("; "), why.join("; "));
}

fn body_step(trace: &mut Trace, api_name: &str, api: &Api) {
    let decision: Vec<String> = api.body.iter().map(field_text).collect();
    let why = if decision.is_empty() && api.model_in_path() {
        format!("api {api_name} names the model in the path and insists on no body field")
    } else if decision.is_empty() {
        format!("api {api_name} insists on no body field beyond the model")
    } else {
        format!("api {api_name}: {}", api.about)
    };
    let decision = if decision.is_empty() { "model only".to_owned() } else { decision.join(", ") };
    trace.step("body", decision, why);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_keep_host_and_path() {
        assert_eq!(
            websocket_url("https://chatgpt.com/backend-api/codex/responses"),
            "wss://chatgpt.com/backend-api/codex/responses"
        );
        assert_eq!(websocket_url("http://localhost:4000/x"), "ws://localhost:4000/x");
    }

    #[test]
    fn later_headers_replace_earlier_ones_in_place() {
        let h = |name: &str, v: &str| HeaderExpect::sent(name, Expect::Equals(Value::String(v.into())));
        let version: Version = "2026.5.12".parse().unwrap();
        let merged = merge_headers([h("a", "1"), h("b", "2"), h("a", "3")].iter(), &version);
        assert_eq!(merged, vec![h("a", "3"), h("b", "2")]);
    }

    #[test]
    fn elements_of_a_list_stand_side_by_side_and_rules_keep_to_their_versions() {
        let has = HeaderExpect::rule("anthropic-beta", Expect::Has("oauth-2025-04-20".into()), "oauth");
        let mut lacks =
            HeaderExpect::rule("anthropic-beta", Expect::Lacks("context-1m-2025-08-07".into()), "1m");
        lacks.versions = Some("<2026.3.13".parse().unwrap());
        let early = merge_headers([has.clone(), lacks.clone()].iter(), &"2026.2.17".parse().unwrap());
        assert_eq!(early, vec![has.clone(), lacks.clone()]);
        let late = merge_headers([has.clone(), lacks].iter(), &"2026.5.12".parse().unwrap());
        assert_eq!(late, vec![has]);
    }

    #[test]
    fn host_of_needs_an_absolute_url() {
        assert_eq!(host_of("https://gw.example.test:8443/v1").as_deref(), Some("gw.example.test"));
        assert_eq!(host_of("/v1"), None);
    }
}
