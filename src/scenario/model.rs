//! Scenario v1 as Rust types (docs/design.md, "Scenarios").
//!
//! Values with a grammar (versions, ranges, endpoints, bearer rules) are
//! parsed while deserialising, so an error carries the JSON field path and
//! the line:column of the offending value.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::endpoint::Endpoint;
use crate::dispatch::catalog::{Expect as HeaderValueExpect, HeaderExpect};
use crate::report::Invariant;
use crate::version::{Version, VersionRange};

/// The `format` value of a scenario v1 file.
pub const FORMAT_V1: &str = "dispatch-vcr/scenario@1";

/// Dispatchers with a reference model in dispatch-vcr. A scenario may name
/// any other: it is then judged by its pinned `expect` alone.
pub const DISPATCHERS: &[&str] = &["openclaw"];

/// Credential kinds a `bearer.kind` may name (the vocabulary of [`crate::credential::classify`]).
pub const CREDENTIAL_KINDS: &[&str] =
    &["jwt", "openai-key", "anthropic-key", "anthropic-oauth", "openrouter-key", "opaque"];

/// One scenario: inputs for a dispatcher, the expected dispatch, and the
/// recordings (one cassette per dispatcher version) to hold against it.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The JSON Schema of this format (`docs/schema/scenario-v1.json`), for
    /// editors; optional, and ignored by dispatch-vcr.
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// Always [`FORMAT_V1`].
    #[schemars(extend("const" = FORMAT_V1))]
    pub format: String,
    /// Short unique name, used in reports.
    pub name: String,
    /// One sentence: what correct dispatch looks like here.
    #[serde(default)]
    pub about: Option<String>,
    /// Where the case comes from, e.g. `openclaw/openclaw#83380`.
    #[serde(default)]
    pub source: Option<String>,
    /// The dispatcher the inputs are for: `openclaw`, which has a reference
    /// model, or any other name (`litellm-proxy`, `acme-gateway`), judged by
    /// the pinned `expect` alone (what it does not pin is reported not judged).
    #[schemars(extend("examples" = DISPATCHERS, "pattern" = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    pub dispatcher: String,
    /// The dispatcher's inputs, handed to its reference dispatcher as they
    /// are: OpenClaw's are below; a dispatcher without a model may keep any
    /// object here, for the reader.
    #[schemars(schema_with = "inputs_schema")]
    pub inputs: Value,
    /// Which model calls are judged: `chat` (the agent turn, the default),
    /// `embeddings` (memory search's), `images` (the `image_generate` tool's),
    /// or `all`. `expect` pins the judged call; with `all`, the chat turn.
    #[serde(default)]
    pub judge: Judge,
    /// The human-pinned expectation; absent fields come from the reference plan.
    #[serde(default)]
    pub expect: Expect,
    /// Expectation overrides for the versions in a range, applied in order.
    #[serde(default)]
    pub versions: Vec<VersionRule>,
    /// Cassette per dispatcher version, relative to the scenario file; none
    /// yet is allowed (`run --stub` needs none, `check` says it has nothing to judge).
    #[serde(default, deserialize_with = "version_map")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub cassettes: BTreeMap<Version, PathBuf>,
    /// Versions known to fail, with the report or reason (`openclaw/openclaw#83380`).
    #[serde(default, deserialize_with = "version_map")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub known_failures: BTreeMap<Version, String>,
    /// The file this scenario was loaded from (set by the loader).
    #[serde(skip)]
    pub path: PathBuf,
}

impl Scenario {
    /// The pinned expectation at `version`: `expect` with every matching
    /// `versions[]` override applied in order.
    pub fn expect_at(&self, version: &Version) -> Expect {
        self.versions
            .iter()
            .filter(|rule| rule.range.contains(version))
            .fold(self.expect.clone(), |base, rule| base.overridden_by(&rule.expect))
    }

    /// The cassette of `version`, resolved against the scenario's folder.
    pub fn cassette_path(&self, version: &Version) -> Option<PathBuf> {
        let relative = self.cassettes.get(version)?;
        let dir = self.path.parent().unwrap_or_else(|| Path::new(""));
        Some(join_lexically(dir, relative))
    }
}

/// `dir/relative` with `.` and `name/..` folded away without touching the
/// file system, so reports show `cassettes/x.json`, not `scenarios/../cassettes/x.json`.
pub fn join_lexically(dir: &Path, relative: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in dir.join(relative).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The model calls a scenario judges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Judge {
    /// The chat turn (the agent's model request and its fallbacks).
    #[default]
    Chat,
    /// The memory-search embeddings call(s).
    Embeddings,
    /// The image-generation call(s) of the `image_generate` tool.
    Images,
    /// Every call, each against its own plan; an embeddings or image call
    /// the recording does not hold is not judged.
    All,
}

impl Judge {
    /// The calls judged, in report order.
    pub fn calls(self) -> &'static [Call] {
        match self {
            Judge::Chat => &[Call::Chat],
            Judge::Embeddings => &[Call::Embeddings],
            Judge::Images => &[Call::Images],
            Judge::All => &[Call::Chat, Call::Embeddings, Call::Images],
        }
    }
}

/// One kind of model call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// The chat turn.
    Chat,
    /// A memory-search embeddings call.
    Embeddings,
    /// An image-generation call.
    Images,
}

impl Call {
    /// How reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Call::Chat => "chat",
            Call::Embeddings => "embeddings",
            Call::Images => "image",
        }
    }
}

/// `versions[]`: an expectation override for a version range.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionRule {
    /// e.g. `>=2026.5.30`.
    #[serde(deserialize_with = "range")]
    #[schemars(with = "String")]
    pub range: VersionRange,
    /// Fields that replace the base `expect` for versions in the range.
    pub expect: Expect,
}

/// The pinned expectation. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `"METHOD URL"` of the dispatch.
    #[serde(default, deserialize_with = "pinned_endpoint", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = r"^[A-Z]+ \S+$"))]
    pub endpoint: Option<Endpoint>,
    /// Whether, and how, a credential is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<Bearer>,
    /// The profile the credential must belong to; `Some(None)` (JSON `null`)
    /// means no profile may be bound.
    #[serde(default, deserialize_with = "present_or_null", skip_serializing_if = "Option::is_none")]
    pub profile: Option<Option<String>>,
    /// The model id the body must name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Request headers (and `?name` query parameters) by lower-case name, and
    /// what each must be: `"acme"` (equals), `true` (present), `false`
    /// (absent), or `{"equals" | "contains" | "fingerprint": …}`, `{"has" | "lacks": [elements]}`.
    #[serde(default, deserialize_with = "header_pins", skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "header_pins_schema")]
    pub headers: BTreeMap<String, HeaderPin>,
}

impl Expect {
    /// `self` with every field that `other` sets replaced (headers name by name).
    pub fn overridden_by(&self, other: &Expect) -> Expect {
        let mut headers = self.headers.clone();
        headers.extend(other.headers.clone());
        Expect {
            endpoint: other.endpoint.clone().or_else(|| self.endpoint.clone()),
            bearer: other.bearer.clone().or_else(|| self.bearer.clone()),
            profile: other.profile.clone().or_else(|| self.profile.clone()),
            model: other.model.clone().or_else(|| self.model.clone()),
            headers,
        }
    }

    /// The pinned headers as rules of the `headers` invariant.
    pub fn header_rules(&self) -> Vec<HeaderExpect> {
        let why = |name: &str| format!("pinned by the scenario's expect.headers[{name:?}]");
        self.headers
            .iter()
            .flat_map(|(name, pin)| {
                pin.0.iter().map(|e| HeaderExpect::rule(name.clone(), e.clone(), why(name)))
            })
            .collect()
    }

    /// The invariants this expectation pins a value for.
    pub fn pinned(&self) -> Vec<Invariant> {
        let pins = [
            (Invariant::Endpoint, self.endpoint.is_some()),
            (Invariant::Bearer, self.bearer.is_some()),
            (Invariant::Profile, self.profile.is_some()),
            (Invariant::Headers, !self.headers.is_empty()),
            (Invariant::Model, self.model.is_some()),
        ];
        pins.into_iter().filter(|(_, pinned)| *pinned).map(|(invariant, _)| invariant).collect()
    }
}

/// What one pinned header must be: one expectation, or several elements of a
/// comma list (`{"has": ["a", "b"]}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct HeaderPin(pub Vec<HeaderValueExpect>);

/// Lower-case names; each value in one of the forms of [`HeaderPin`].
fn header_pins<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, HeaderPin>, D::Error> {
    let raw = BTreeMap::<String, Value>::deserialize(deserializer)?;
    let mut pins = BTreeMap::new();
    for (name, value) in raw {
        let pin = header_pin(&value).map_err(|e| de::Error::custom(format!("headers.{name}: {e}")))?;
        if pins.insert(name.to_ascii_lowercase(), pin).is_some() {
            return Err(de::Error::custom(format!(
                "headers.{name}: pinned twice (names are case-insensitive)"
            )));
        }
    }
    Ok(pins)
}

fn header_pin(value: &Value) -> Result<HeaderPin, String> {
    let hint = r#"expected "VALUE", true (present), false (absent), or one of {"equals": "…"}, {"contains": "…"}, {"fingerprint": "sha256:…"}, {"has": ["element", …]}, {"lacks": ["element", …]}"#;
    let one = |e| Ok(HeaderPin(vec![e]));
    let Some(map) = value.as_object() else {
        return match value {
            Value::String(text) => one(HeaderValueExpect::Equals(Value::String(text.clone()))),
            Value::Bool(present) => one(HeaderValueExpect::Present(*present)),
            _ => Err(hint.to_owned()),
        };
    };
    let (Some((key, inner)), 1) = (map.iter().next(), map.len()) else { return Err(hint.to_owned()) };
    let text = || inner.as_str().map(str::to_owned).ok_or_else(|| format!("{key}: expected a string"));
    let elements = || match inner {
        Value::String(e) => Ok(vec![e.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|e| e.as_str().map(str::to_owned).ok_or_else(|| format!("{key}: expected strings")))
            .collect(),
        _ => Err(format!("{key}: expected an element or a non-empty list of elements")),
    };
    match key.as_str() {
        "equals" => one(HeaderValueExpect::Equals(Value::String(text()?))),
        "contains" => one(HeaderValueExpect::Contains(text()?)),
        "fingerprint" if crate::credential::is_fingerprint(&text()?) => {
            one(HeaderValueExpect::Fingerprint(text()?))
        }
        "fingerprint" => Err("fingerprint: expected sha256: and 12 hex digits".to_owned()),
        "has" => Ok(HeaderPin(elements()?.into_iter().map(HeaderValueExpect::Has).collect())),
        "lacks" => Ok(HeaderPin(elements()?.into_iter().map(HeaderValueExpect::Lacks).collect())),
        _ => Err(hint.to_owned()),
    }
}

fn header_pins_schema(_: &mut SchemaGenerator) -> Schema {
    let text = json!({"type": "string"});
    let elements =
        json!({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]});
    let only = |key: &str, value: &Value| json!({"type": "object", "properties": {key: value}, "required": [key], "additionalProperties": false});
    json_schema!({
        "type": "object",
        "description": "Request headers (case-insensitive names; `?name` for a query parameter) and what each must be: a string (equals), true (present), false (absent), or one of equals, contains, fingerprint (a secret's sha256:… fingerprint), has / lacks (elements of a comma list such as anthropic-beta).",
        "additionalProperties": {"oneOf": [
            {"type": "string"},
            {"type": "boolean"},
            only("equals", &text),
            only("contains", &text),
            only("fingerprint", &json!({"type": "string", "pattern": "^sha256:[0-9a-f]{12}$"})),
            only("has", &elements),
            only("lacks", &elements)
        ]}
    })
}

/// A bearer rule: `"present"`, `"absent"`, or `{"header", "scheme", "kind"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bearer {
    /// No credential header at all.
    Absent,
    /// A credential, in the given header/scheme/kind where those are set.
    Present {
        /// Header name, lower-case (`authorization`, `x-api-key`); any credential header when `None`.
        #[serde(skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// Auth scheme (`Bearer`); none for raw-key headers such as `x-api-key`.
        #[serde(skip_serializing_if = "Option::is_none")]
        scheme: Option<String>,
        /// Credential kind, one of [`CREDENTIAL_KINDS`].
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
    },
}

impl Bearer {
    /// A credential in any header, of any kind.
    pub fn any() -> Self {
        Bearer::Present { header: None, scheme: None, kind: None }
    }
}

impl JsonSchema for Bearer {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Bearer".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Whether, and how, a credential is sent: \"present\", \"absent\", or the header, scheme and kind it must have.",
            "oneOf": [
                {"type": "string", "enum": ["present", "absent"]},
                {
                    "type": "object",
                    "properties": {
                        "header": {"type": "string", "description": "e.g. authorization, x-api-key"},
                        "scheme": {"type": "string", "description": "e.g. Bearer"},
                        "kind": {"type": "string", "enum": CREDENTIAL_KINDS}
                    },
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// The schema of `inputs`: the keys [`crate::dispatch::inputs`] reads.
fn inputs_schema(_: &mut SchemaGenerator) -> Schema {
    let store = json!({"type": ["object", "null"], "description": "An OpenClaw auth-profiles.json store"});
    json_schema!({
        "type": "object",
        "description": "The dispatcher's inputs: OpenClaw's config, the agent's auth stores, env, agent and model.",
        "properties": {
            "config": {"type": ["object", "null"], "description": "openclaw.json"},
            "auth_profiles": store,
            "auth_state": {"type": ["object", "null"], "description": "The agent's auth-state.json"},
            "agent_stores": {"type": "object", "additionalProperties": store, "description": "Other agents' stores by id"},
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            "agent": {"type": ["string", "null"]},
            "model": {"type": ["string", "null"], "description": "A model ref overriding the configured one"},
            "now": {"type": ["integer", "null"], "description": "Milliseconds since the epoch"}
        },
        "additionalProperties": false
    })
}

impl<'de> Deserialize<'de> for Bearer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Spec {
            header: Option<String>,
            scheme: Option<String>,
            kind: Option<String>,
        }
        let hint = r#"expected "present", "absent" or {"header": "authorization", "scheme": "Bearer", "kind": "jwt"}"#;
        match Value::deserialize(deserializer)? {
            Value::String(text) if text == "present" => Ok(Bearer::any()),
            Value::String(text) if text == "absent" => Ok(Bearer::Absent),
            object @ Value::Object(_) => {
                let spec: Spec =
                    serde_json::from_value(object).map_err(|e| de::Error::custom(format!("{hint}: {e}")))?;
                if let Some(kind) = spec.kind.as_deref().filter(|k| !CREDENTIAL_KINDS.contains(k)) {
                    return Err(de::Error::custom(format!(
                        "unknown credential kind {kind:?}; expected one of {}",
                        CREDENTIAL_KINDS.join(", ")
                    )));
                }
                Ok(Bearer::Present {
                    header: spec.header.map(|h| h.to_ascii_lowercase()),
                    scheme: spec.scheme,
                    kind: spec.kind,
                })
            }
            _ => Err(de::Error::custom(hint)),
        }
    }
}

fn parsed<'de, D: Deserializer<'de>, T>(deserializer: D, hint: &str) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|e: T::Err| de::Error::custom(format!("{hint} (got {text:?}: {e})")))
}

fn range<'de, D: Deserializer<'de>>(deserializer: D) -> Result<VersionRange, D::Error> {
    parsed(deserializer, r#"expected a range like ">=2026.5.30" or ">=2026.5.12, <2026.5.30""#)
}

fn pinned_endpoint<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Endpoint>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Endpoint::parse_pinned(&text).map(Some).map_err(de::Error::custom)
}

/// Tell a field set to `null` (`Some(None)`) from an absent one (`None`, via `default`).
fn present_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// A map keyed by dispatcher version.
fn version_map<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    deserializer: D,
) -> Result<BTreeMap<Version, V>, D::Error> {
    let raw = BTreeMap::<String, V>::deserialize(deserializer)?;
    raw.into_iter()
        .map(|(key, value)| {
            let version = key.parse::<Version>().map_err(|e| {
                de::Error::custom(format!("key {key:?} is not a dispatcher version like \"2026.5.12\": {e}"))
            })?;
            Ok((version, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expect(value: Value) -> Expect {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn profile_null_differs_from_absent() {
        assert_eq!(expect(json!({"profile": null})).profile, Some(None));
        assert_eq!(expect(json!({})).profile, None);
        assert_eq!(expect(json!({"profile": "openai:default"})).profile, Some(Some("openai:default".into())));
    }

    #[test]
    fn bearer_forms() {
        assert_eq!(expect(json!({"bearer": "present"})).bearer, Some(Bearer::any()));
        assert_eq!(expect(json!({"bearer": "absent"})).bearer, Some(Bearer::Absent));
        let spec = expect(json!({"bearer": {"header": "X-Api-Key", "kind": "anthropic-key"}})).bearer;
        assert_eq!(
            spec,
            Some(Bearer::Present {
                header: Some("x-api-key".into()),
                scheme: None,
                kind: Some("anthropic-key".into())
            })
        );
    }

    #[test]
    fn bearer_rejects_unknown_kind_and_words() {
        let err = serde_json::from_value::<Expect>(json!({"bearer": {"kind": "password"}})).unwrap_err();
        assert!(err.to_string().contains("unknown credential kind"), "{err}");
        let err = serde_json::from_value::<Expect>(json!({"bearer": "yes"})).unwrap_err();
        assert!(err.to_string().contains(r#""present", "absent""#), "{err}");
    }

    #[test]
    fn cassette_paths_fold_parent_steps() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            join_lexically(&p("scenarios/openclaw"), &p("../../cassettes/a.json")),
            p("cassettes/a.json")
        );
        assert_eq!(join_lexically(&p("s"), &p("./a.json")), p("s/a.json"));
        assert_eq!(join_lexically(&p(""), &p("../a.json")), p("../a.json"));
        assert_eq!(join_lexically(&p("/x/s"), &p("/abs/a.json")), p("/abs/a.json"));
    }

    #[test]
    fn overrides_replace_only_what_they_set() {
        let base = expect(json!({"endpoint": "POST https://a/x", "profile": "p1"}));
        let merged = base.overridden_by(&expect(json!({"profile": "p2"})));
        assert_eq!(merged.profile, Some(Some("p2".into())));
        assert_eq!(merged.endpoint, base.endpoint);
    }
}
