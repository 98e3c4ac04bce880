//! A release's facts from its own files: `package.json` for the version and
//! every `dist/extensions/<plugin>/openclaw.plugin.json` for the providers its
//! plugins declare ([`read_release`]).
//!
//! Only the fields that several releases keep are read; the rest of a manifest
//! is ignored. Env vars come from `providerAuthEnvVars` (older releases) and
//! `setup.providers[].envVars` (newer ones), in that order without repeats.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::release::{AuthChoice, BundledProvider, Release};
use crate::error::{Error, Result};
use crate::files;
use crate::version::Version;

/// What to pass instead, said with every error about the release folder.
const WHAT_TO_PASS: &str = "pass the folder of an installed OpenClaw package, e.g. oc/node_modules/openclaw after `npm i openclaw@VERSION` in oc/";

#[derive(Deserialize)]
struct Package {
    #[serde(default)]
    name: Option<String>,
    version: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Manifest {
    id: Option<String>,
    providers: Vec<String>,
    provider_endpoints: Vec<Endpoint>,
    provider_request: Option<Requests>,
    provider_auth_choices: Vec<Choice>,
    provider_auth_env_vars: BTreeMap<String, Vec<String>>,
    provider_usage_auth_env_vars: BTreeMap<String, Vec<String>>,
    provider_auth_aliases: BTreeMap<String, String>,
    synthetic_auth_refs: Vec<String>,
    non_secret_auth_markers: Vec<String>,
    setup: Option<Setup>,
    model_catalog: Option<ModelCatalog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    endpoint_class: String,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    host_suffixes: Vec<String>,
    #[serde(default)]
    base_urls: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Requests {
    providers: BTreeMap<String, Request>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Request {
    family: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Choice {
    provider: String,
    method: String,
    choice_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Setup {
    providers: Vec<SetupProvider>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetupProvider {
    id: String,
    #[serde(default)]
    env_vars: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ModelCatalog {
    providers: BTreeMap<String, CatalogProvider>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct CatalogProvider {
    api: Option<String>,
    base_url: Option<String>,
    models: Vec<Model>,
}

#[derive(Deserialize)]
struct Model {
    id: String,
}

/// Read the release installed at `root` (a `node_modules/openclaw` folder).
/// A folder without `package.json` or plugin manifests, or a file that is not
/// JSON or not shaped as expected, is bad input (exit 2) naming the file.
pub fn read_release(root: &Path) -> Result<Release> {
    let version = read_version(root)?;
    let mut release = Release::new(version);
    let paths = manifest_paths(root)?;
    for path in &paths {
        let manifest: Manifest = read_json(path, "plugin manifest")?;
        let plugin = manifest.id.clone().unwrap_or_else(|| plugin_folder(path));
        add_manifest(&mut release, &plugin, manifest);
    }
    release.source = format!(
        "openclaw {} dist/extensions/*/openclaw.plugin.json: {} of {} plugins declare providers",
        release.version,
        release.providers.values().map(|p| &p.plugin).collect::<std::collections::BTreeSet<_>>().len(),
        paths.len()
    );
    for list in [&mut release.synthetic_auth, &mut release.non_secret_markers] {
        list.sort();
        list.dedup();
    }
    Ok(release)
}

fn read_version(root: &Path) -> Result<Version> {
    let path = root.join("package.json");
    if !path.is_file() {
        return Err(Error::input(format!("{}: not found; {WHAT_TO_PASS}", path.display())));
    }
    let package: Package = read_json(&path, "package.json")?;
    if let Some(name) = package.name.filter(|n| n != "openclaw") {
        return Err(Error::input(format!(
            "{}: package {name:?}, not openclaw; {WHAT_TO_PASS}",
            path.display()
        )));
    }
    package.version.parse().map_err(|e| Error::input(format!("{}: version: {e}", path.display())))
}

/// `dist/extensions/*/openclaw.plugin.json`, by plugin folder name.
fn manifest_paths(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join("dist").join("extensions");
    let none = || {
        Error::input(format!(
            "{}: no plugin manifests (*/openclaw.plugin.json); {WHAT_TO_PASS}",
            dir.display()
        ))
    };
    let entries = std::fs::read_dir(&dir).map_err(|_| none())?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("openclaw.plugin.json"))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(none());
    }
    Ok(paths)
}

fn plugin_folder(path: &Path) -> String {
    let folder = path.parent().and_then(Path::file_name);
    folder.map_or_else(String::new, |f| f.to_string_lossy().into_owned())
}

/// Parse a release file: syntax first (`FILE:L:C: not valid JSON`), then the
/// fields read (`FILE:L:C: FIELD: …`).
fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let reinstall = "the installed release is damaged or not an OpenClaw release; install it again";
    let text = files::read_input(path, what)?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| Error::not_json(path.display(), &e).hint(reinstall))?;
    files::parse_json_fields(&text, path).map_err(|e| e.hint(reinstall))
}

/// Add one plugin's declarations to `release`.
fn add_manifest(release: &mut Release, plugin: &str, manifest: Manifest) {
    let requests = manifest.provider_request.unwrap_or_default().providers;
    let mut catalogs = manifest.model_catalog.unwrap_or_default().providers;
    let setup = manifest.setup.unwrap_or_default().providers;
    for id in &manifest.providers {
        let catalog = catalogs.remove(id).unwrap_or_default();
        let mut env = manifest.provider_auth_env_vars.get(id).cloned().unwrap_or_default();
        for var in setup.iter().filter(|s| &s.id == id).flat_map(|s| &s.env_vars) {
            if !env.contains(var) {
                env.push(var.clone());
            }
        }
        let choices = manifest.provider_auth_choices.iter().filter(|c| &c.provider == id);
        let provider = BundledProvider {
            plugin: plugin.to_owned(),
            family: requests.get(id).and_then(|r| r.family.clone()),
            api: catalog.api,
            base_url: catalog.base_url,
            env,
            usage_env: manifest.provider_usage_auth_env_vars.get(id).cloned().unwrap_or_default(),
            auth_choices: choices
                .map(|c| AuthChoice { id: c.choice_id.clone(), method: c.method.clone() })
                .collect(),
            models: catalog.models.into_iter().map(|m| m.id).collect(),
        };
        release.providers.insert(id.clone(), provider);
    }
    if manifest.providers.is_empty() {
        return;
    }
    for endpoint in manifest.provider_endpoints {
        let entry = release.endpoints.entry(endpoint.endpoint_class).or_default();
        merge(&mut entry.plugins, [plugin.to_owned()]);
        merge(&mut entry.hosts, endpoint.hosts);
        merge(&mut entry.host_suffixes, endpoint.host_suffixes);
        merge(&mut entry.base_urls, endpoint.base_urls);
    }
    release.auth_aliases.extend(manifest.provider_auth_aliases);
    release.synthetic_auth.extend(manifest.synthetic_auth_refs);
    release.non_secret_markers.extend(manifest.non_secret_auth_markers);
}

/// Append what `list` lacks of `items`, keeping the release's order.
fn merge(list: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A release tree in a temporary folder: `package.json` and one manifest per plugin.
    fn tree(package: &str, manifests: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), package).unwrap();
        for (plugin, text) in manifests {
            let folder = dir.path().join("dist/extensions").join(plugin);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("openclaw.plugin.json"), text).unwrap();
        }
        dir
    }

    const PACKAGE: &str = r#"{"name": "openclaw", "version": "2026.9.6"}"#;

    #[test]
    fn a_manifest_gives_providers_env_vars_choices_models_and_endpoints() {
        let google = r#"{"id": "google", "providers": ["google", "google-vertex"],
            "providerEndpoints": [{"endpointClass": "google-vertex", "hosts": ["aiplatform.googleapis.com"]},
                                  {"endpointClass": "google-vertex", "hostSuffixes": ["-aiplatform.googleapis.com"]}],
            "providerRequest": {"providers": {"google": {"family": "google"}}},
            "providerAuthChoices": [{"provider": "google", "method": "api-key", "choiceId": "gemini-api-key", "choiceLabel": "x"}],
            "providerAuthEnvVars": {"google": ["GEMINI_API_KEY"]},
            "setup": {"providers": [{"id": "google", "envVars": ["GEMINI_API_KEY", "GOOGLE_API_KEY"]},
                                    {"id": "google-vertex", "authMethods": ["api-key"]}]},
            "modelCatalog": {"providers": {"google": {"api": "google-generative-ai",
                "baseUrl": "https://generativelanguage.googleapis.com/v1beta", "models": [{"id": "gemini-2.5-flash", "name": "x"}]}}},
            "uiHints": {"anything": "ignored"}}"#;
        let dir = tree(PACKAGE, &[("google", google), ("canvas", r#"{"id": "canvas"}"#)]);
        let release = read_release(dir.path()).unwrap();
        assert_eq!(release.version.to_string(), "2026.9.6");
        assert_eq!(release.providers.keys().collect::<Vec<_>>(), ["google", "google-vertex"]);
        let g = &release.providers["google"];
        assert_eq!(g.env, ["GEMINI_API_KEY", "GOOGLE_API_KEY"]);
        assert_eq!((g.api.as_deref(), g.family.as_deref()), (Some("google-generative-ai"), Some("google")));
        assert_eq!(g.models, ["gemini-2.5-flash"]);
        assert_eq!(g.auth_choices, [AuthChoice { id: "gemini-api-key".into(), method: "api-key".into() }]);
        assert!(release.providers["google-vertex"].env.is_empty());
        let vertex = &release.endpoints["google-vertex"];
        assert_eq!((vertex.hosts.len(), vertex.host_suffixes.len(), vertex.plugins.len()), (1, 1, 1));
        assert!(release.source.contains("1 of 2 plugins"), "{}", release.source);
    }

    #[test]
    fn synthetic_auth_aliases_and_markers_are_kept_sorted() {
        let ollama = r#"{"id": "ollama", "providers": ["ollama"], "syntheticAuthRefs": ["ollama"],
            "nonSecretAuthMarkers": ["ollama-local"], "providerAuthAliases": {"ollama-spark": "ollama"}}"#;
        let lm = r#"{"id": "lmstudio", "providers": ["lmstudio"], "syntheticAuthRefs": ["lmstudio"]}"#;
        let release = read_release(tree(PACKAGE, &[("ollama", ollama), ("lmstudio", lm)]).path()).unwrap();
        assert_eq!(release.synthetic_auth, ["lmstudio", "ollama"]);
        assert_eq!(release.non_secret_markers, ["ollama-local"]);
        assert_eq!(release.auth_aliases["ollama-spark"], "ollama");
    }

    #[test]
    fn a_manifest_that_is_not_json_is_named_with_its_position() {
        let dir = tree(PACKAGE, &[("bad", "{\"id\": \"bad\",\n  \"providers\": [,]}")]);
        let err = read_release(dir.path()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("bad/openclaw.plugin.json:2:"), "{err}");
        assert!(
            err.message().contains("not valid JSON") && err.message().contains("install it again"),
            "{err}"
        );
    }

    #[test]
    fn a_field_of_the_wrong_shape_is_named() {
        let dir = tree(PACKAGE, &[("x", r#"{"id": "x", "providers": "x"}"#)]);
        let err = read_release(dir.path()).unwrap_err();
        assert!(
            err.message().contains("x/openclaw.plugin.json:1:") && err.message().contains("providers"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_without_package_json_or_manifests_says_what_to_pass() {
        let empty = tempfile::tempdir().unwrap();
        let err = read_release(empty.path()).unwrap_err();
        assert!(
            err.message().contains("package.json: not found")
                && err.message().contains("node_modules/openclaw")
        );
        let err = read_release(tree(PACKAGE, &[]).path()).unwrap_err();
        assert!(err.message().contains("no plugin manifests"), "{err}");
        let err = read_release(tree(r#"{"name": "left-pad", "version": "1.0.0"}"#, &[]).path()).unwrap_err();
        assert!(err.message().contains("package \"left-pad\", not openclaw"), "{err}");
    }
}
