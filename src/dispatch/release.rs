//! Facts imported from a release of the dispatcher: which providers it bundles,
//! their base URLs and apis, the env vars and auth choices they offer, their
//! model catalogs and the endpoint classes the release knows
//! (`dispatch-vcr catalog import`, read by [`super::manifest`]).
//!
//! Each imported release is a *band*: its facts hold from its version up to the
//! next imported release. They say what exists; the rules of correct dispatch
//! (which credential is eligible, in which header, which hosts it may reach)
//! stay hand-written in the catalog's `providers` (docs/catalog.md).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::version::Version;

/// One imported release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// The release's version (its `package.json`).
    pub version: Version,
    /// Where the facts were read.
    #[serde(default)]
    pub source: String,
    /// The model providers its plugins declare, by id.
    #[serde(default)]
    pub providers: BTreeMap<String, BundledProvider>,
    /// Endpoint classes its plugins declare (`providerEndpoints`), by class name.
    #[serde(default)]
    pub endpoints: BTreeMap<String, ReleaseEndpoint>,
    /// Alias → provider whose auth profiles it shares (`providerAuthAliases`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auth_aliases: BTreeMap<String, String>,
    /// Ids with synthetic auth, a credential made up for a local server (`syntheticAuthRefs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synthetic_auth: Vec<String>,
    /// Values that stand in for a key and are no secret (`nonSecretAuthMarkers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_secret_markers: Vec<String>,
}

/// A provider as a release bundles it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundledProvider {
    /// The plugin declaring it.
    pub plugin: String,
    /// Its request family (`providerRequest`), e.g. `openai-family`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// The api of its model catalog, e.g. `openai-completions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// The base URL of its model catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Env vars holding its credential, in the release's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Env vars holding an admin key for usage queries only, never a model call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage_env: Vec<String>,
    /// The ways onboarding offers to authenticate it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth_choices: Vec<AuthChoice>,
    /// Model ids of its catalog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
}

/// One way to authenticate a provider (`providerAuthChoices`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthChoice {
    /// The choice id, e.g. `openai-api-key`.
    pub id: String,
    /// Its method, e.g. `api-key`, `oauth`, `device-code`, `local`.
    pub method: String,
}

/// Where requests of an endpoint class go (`providerEndpoints`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseEndpoint {
    /// The plugins declaring it.
    pub plugins: Vec<String>,
    /// Exact hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Host suffixes (`.openai.azure.com`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_suffixes: Vec<String>,
    /// Base URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_urls: Vec<String>,
}

impl BundledProvider {
    /// One line of what it is: plugin, api and base URL, env vars, auth methods, models.
    fn summary(&self) -> String {
        let mut parts = vec![format!("plugin {}", self.plugin)];
        match (&self.api, &self.base_url) {
            (Some(api), Some(url)) => parts.push(format!("{api} at {url}")),
            (Some(api), None) => parts.push(api.clone()),
            (None, Some(url)) => parts.push(format!("at {url}")),
            (None, None) => {}
        }
        if !self.env.is_empty() {
            parts.push(format!("env {}", self.env.join(" ")));
        }
        let methods: BTreeSet<&str> = self.auth_choices.iter().map(|c| c.method.as_str()).collect();
        if !methods.is_empty() {
            parts.push(format!("auth {}", methods.into_iter().collect::<Vec<_>>().join(" ")));
        }
        if !self.models.is_empty() {
            parts.push(format!("{} models", self.models.len()));
        }
        parts.join("; ")
    }

    /// What changed from `old`, one line each, prefixed with `at`.
    fn changes(&self, old: &Self, at: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let fields = [
            ("plugin", Some(&old.plugin), Some(&self.plugin)),
            ("family", old.family.as_ref(), self.family.as_ref()),
            ("api", old.api.as_ref(), self.api.as_ref()),
            ("base url", old.base_url.as_ref(), self.base_url.as_ref()),
        ];
        for (label, was, now) in fields {
            if was != now {
                let show = |v: Option<&String>| v.map_or("(none)", String::as_str).to_owned();
                lines.push(format!("{at}: {label} {} -> {}", show(was), show(now)));
            }
        }
        let choice = |c: &AuthChoice| format!("{} ({})", c.id, c.method);
        let lists = [
            ("env", old.env.clone(), self.env.clone()),
            ("usage env", old.usage_env.clone(), self.usage_env.clone()),
            (
                "auth choice",
                old.auth_choices.iter().map(choice).collect(),
                self.auth_choices.iter().map(choice).collect(),
            ),
            ("model", old.models.clone(), self.models.clone()),
        ];
        for (label, was, now) in lists {
            lines.extend(list_changes(&format!("{at}: {label}"), &was, &now));
        }
        lines
    }
}

impl ReleaseEndpoint {
    fn summary(&self) -> String {
        let places = self.hosts.iter().chain(&self.base_urls).cloned();
        let places: Vec<String> = places.chain(self.host_suffixes.iter().map(|s| format!("*{s}"))).collect();
        let at = if places.is_empty() { String::new() } else { format!(": {}", places.join(" ")) };
        format!("plugin {}{at}", self.plugins.join(" "))
    }

    fn changes(&self, old: &Self, at: &str) -> Vec<String> {
        let lists = [
            ("plugin", &old.plugins, &self.plugins),
            ("host", &old.hosts, &self.hosts),
            ("host suffix", &old.host_suffixes, &self.host_suffixes),
            ("base url", &old.base_urls, &self.base_urls),
        ];
        lists
            .into_iter()
            .flat_map(|(label, was, now)| list_changes(&format!("{at}: {label}"), was, now))
            .collect()
    }
}

/// `PREFIX + a, b` and `PREFIX - c` for what `now` gained and lost against `was`
/// (an order-only change is none).
fn list_changes(prefix: &str, was: &[String], now: &[String]) -> Vec<String> {
    let was_set: BTreeSet<&String> = was.iter().collect();
    let now_set: BTreeSet<&String> = now.iter().collect();
    let join = |items: Vec<&&String>| items.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    let added: Vec<_> = now_set.difference(&was_set).collect();
    let removed: Vec<_> = was_set.difference(&now_set).collect();
    let mut lines = Vec::new();
    if !added.is_empty() {
        lines.push(format!("{prefix} + {}", join(added)));
    }
    if !removed.is_empty() {
        lines.push(format!("{prefix} - {}", join(removed)));
    }
    lines
}

/// What changed in a map of named entries: `+ KIND id: summary` for an added
/// one, `- KIND id` for a removed one, `~ KIND id: …` for each change of one
/// in both; in id order.
fn map_changes<T>(
    kind: &str,
    was: &BTreeMap<String, T>,
    now: &BTreeMap<String, T>,
    summary: impl Fn(&T) -> String,
    changes: impl Fn(&T, &T, &str) -> Vec<String>,
) -> Vec<String> {
    let ids: BTreeSet<&String> = was.keys().chain(now.keys()).collect();
    let mut lines = Vec::new();
    for id in ids {
        match (was.get(id), now.get(id)) {
            (None, Some(new)) => lines.push(format!("+ {kind} {id}: {}", summary(new))),
            (Some(_), None) => lines.push(format!("- {kind} {id}")),
            (Some(old), Some(new)) => lines.extend(changes(new, old, &format!("~ {kind} {id}"))),
            (None, None) => {}
        }
    }
    lines
}

impl Release {
    /// What changed against the band before it (`None`: there is none, so
    /// everything is added), one plain line each, in a stable order: a
    /// heading, then providers, endpoint classes, auth aliases, synthetic
    /// auth and non-secret markers, each by id.
    pub fn changes_from(&self, previous: Option<&Release>) -> Vec<String> {
        let empty = Release { version: self.version.clone(), ..Release::empty() };
        let old = previous.unwrap_or(&empty);
        let against =
            previous.map_or_else(|| "no earlier band".to_owned(), |p| format!("against {}", p.version));
        let mut lines = vec![format!(
            "{} {against}: {} providers, {} endpoint classes",
            self.version,
            self.providers.len(),
            self.endpoints.len()
        )];
        lines.extend(map_changes(
            "provider",
            &old.providers,
            &self.providers,
            BundledProvider::summary,
            |n, o, at| n.changes(o, at),
        ));
        lines.extend(map_changes(
            "endpoint",
            &old.endpoints,
            &self.endpoints,
            ReleaseEndpoint::summary,
            |n, o, at| n.changes(o, at),
        ));
        let alias =
            |m: &BTreeMap<String, String>| m.iter().map(|(a, p)| format!("{a} -> {p}")).collect::<Vec<_>>();
        lines.extend(list_changes("~ auth alias", &alias(&old.auth_aliases), &alias(&self.auth_aliases)));
        lines.extend(list_changes("~ synthetic auth", &old.synthetic_auth, &self.synthetic_auth));
        lines.extend(list_changes("~ non-secret marker", &old.non_secret_markers, &self.non_secret_markers));
        if lines.len() == 1 {
            lines.push("no change".to_owned());
        }
        lines
    }

    /// A release of `version` that bundles nothing yet.
    pub(crate) fn new(version: Version) -> Self {
        Release {
            version,
            source: String::new(),
            providers: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            auth_aliases: BTreeMap::new(),
            synthetic_auth: Vec::new(),
            non_secret_markers: Vec::new(),
        }
    }

    fn empty() -> Self {
        Self::new(Version::new(0, 0, 0))
    }
}

/// Consecutive members of `all` (ascending) that are in `chosen`, as ranges:
/// `2026.5.27–2026.5.28, 2026.9.6`.
pub fn spans(all: &[&Version], chosen: &BTreeSet<&Version>) -> String {
    let mut spans: Vec<(&Version, &Version)> = Vec::new();
    let mut open = false;
    for version in all {
        if !chosen.contains(version) {
            open = false;
        } else if open && let Some(last) = spans.last_mut() {
            last.1 = version;
        } else {
            spans.push((version, version));
            open = true;
        }
    }
    let show = |(a, b): &(&Version, &Version)| if a == b { a.to_string() } else { format!("{a}–{b}") };
    spans.iter().map(show).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    fn provider(plugin: &str, env: &[&str]) -> BundledProvider {
        BundledProvider {
            plugin: plugin.into(),
            env: env.iter().map(|s| (*s).to_owned()).collect(),
            ..BundledProvider::default()
        }
    }

    fn release(version: &str, providers: &[(&str, BundledProvider)]) -> Release {
        Release {
            version: v(version),
            providers: providers.iter().map(|(id, p)| ((*id).to_owned(), p.clone())).collect(),
            ..Release::empty()
        }
    }

    #[test]
    fn changes_list_added_removed_and_changed_providers_in_id_order() {
        let old = release("2026.9.5", &[("b", provider("b", &["B_KEY"])), ("c", provider("c", &[]))]);
        let mut google = provider("google", &["GEMINI_API_KEY"]);
        google.api = Some("google-generative-ai".into());
        google.auth_choices = vec![AuthChoice { id: "gemini-api-key".into(), method: "api-key".into() }];
        let new = release("2026.9.6", &[("a", google), ("b", provider("b", &["B_TOKEN", "B_KEY"]))]);
        assert_eq!(
            new.changes_from(Some(&old)),
            [
                "2026.9.6 against 2026.9.5: 2 providers, 0 endpoint classes",
                "+ provider a: plugin google; google-generative-ai; env GEMINI_API_KEY; auth api-key",
                "~ provider b: env + B_TOKEN",
                "- provider c",
            ]
        );
    }

    #[test]
    fn the_same_facts_are_no_change_and_a_first_band_adds_everything() {
        let one = release("2026.9.6", &[("x", provider("x", &[]))]);
        assert_eq!(one.changes_from(Some(&one.clone()))[1..], ["no change"]);
        assert_eq!(one.changes_from(None)[1..], ["+ provider x: plugin x"]);
        assert!(one.changes_from(None)[0].contains("no earlier band"));
    }

    #[test]
    fn endpoint_hosts_and_base_urls_are_compared_as_sets() {
        let mut old = release("1.0.0", &[]);
        old.endpoints.insert(
            "g".into(),
            ReleaseEndpoint { plugins: vec!["google".into()], hosts: vec!["a".into()], ..Default::default() },
        );
        let mut new = old.clone();
        new.version = v("1.0.1");
        new.endpoints.get_mut("g").unwrap().hosts = vec!["b".into(), "a".into()];
        assert_eq!(new.changes_from(Some(&old))[1..], ["~ endpoint g: host + b"]);
    }

    #[test]
    fn spans_join_consecutive_bands() {
        let versions = [v("1.0.1"), v("1.0.2"), v("1.0.3"), v("1.0.4")];
        let all: Vec<&Version> = versions.iter().collect();
        let chosen = BTreeSet::from([&versions[0], &versions[1], &versions[3]]);
        assert_eq!(spans(&all, &chosen), "1.0.1–1.0.2, 1.0.4");
    }
}
