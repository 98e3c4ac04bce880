//! OpenClaw's auth-profile store (`agents/<id>/agent/auth-profiles.json`).
//!
//! `{"version": 1, "profiles": {ID: CREDENTIAL}}` where CREDENTIAL is
//! `{"type": "oauth" | "api_key" | "token", "provider", …}`. The loader
//! accepts OpenClaw's aliases (`mode` → `type`, `apiKey` → `key`) and, like
//! OpenClaw, skips entries without a type or provider (with a warning).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credential;
use crate::error::{Error, Result};
use crate::files;

/// The kind of a stored credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialType {
    /// An OAuth login: `access`, `refresh`, `expires`.
    Oauth,
    /// A bearer-style token, e.g. an Anthropic `sk-ant-oat…` setup token.
    Token,
    /// A provider API key.
    ApiKey,
}

impl CredentialType {
    /// Parse a stored `type` (or config `mode`), accepting OpenClaw's spellings.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "oauth" => Some(Self::Oauth),
            "token" => Some(Self::Token),
            "api_key" | "api-key" | "apiKey" => Some(Self::ApiKey),
            _ => None,
        }
    }

    /// The canonical spelling: `oauth`, `token`, `api_key`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oauth => "oauth",
            Self::Token => "token",
            Self::ApiKey => "api_key",
        }
    }
}

impl std::fmt::Display for CredentialType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored credential, after aliases are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCredential {
    /// Credential kind.
    pub kind: CredentialType,
    /// Provider id, e.g. `openai-codex`.
    pub provider: String,
    /// The secret that goes on the wire: `access`, `token` or `key`.
    pub secret: Option<String>,
    /// Whether an OAuth refresh token is present.
    pub has_refresh: bool,
    /// Expiry, milliseconds since the epoch.
    pub expires_ms: Option<i64>,
    /// `email`, when stored.
    pub email: Option<String>,
    /// `accountId`, when stored.
    pub account_id: Option<String>,
}

impl StoredCredential {
    /// The ChatGPT account of this credential: the JWT claim, else `accountId`.
    pub fn account(&self) -> Option<String> {
        self.secret.as_deref().and_then(credential::chatgpt_account_id).or_else(|| self.account_id.clone())
    }
}

/// A loaded store: profile id → credential, in id order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthStore {
    /// The usable profiles.
    pub profiles: BTreeMap<String, StoredCredential>,
    /// One line per entry that was skipped, and why.
    pub warnings: Vec<String>,
    /// Whose store it is: the agent id of `…/agents/<id>/agent/auth-profiles.json`,
    /// else the file as given; `None` for a store not read from a file.
    pub name: Option<String>,
}

impl AuthStore {
    /// Read and parse `path`; errors name the path and line:column (exit 2).
    pub fn load(path: &Path) -> Result<Self> {
        let text = files::read_input(path, "auth profiles")
            .map_err(|e| e.hint("pass an OpenClaw auth-profiles.json"))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            Error::not_json(path.display(), &e)
                .hint("an auth-profiles.json is {\"version\": 1, \"profiles\": {…}}")
        })?;
        let store = Self::from_value(&value).map_err(|e| e.context(path.display()))?;
        Ok(Self { name: Some(store_name(path)), ..store })
    }

    /// [`AuthStore::load`] each of `paths` (the `--profiles` flags), in order.
    pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Self>> {
        paths.iter().map(|path| Self::load(path)).collect()
    }

    /// Build from a parsed JSON document (a scenario's `auth_profiles`).
    pub fn from_value(value: &Value) -> Result<Self> {
        let Some(entries) = value.get("profiles").and_then(Value::as_object) else {
            return Err(Error::input("field `profiles` must be an object of profile id → credential"));
        };
        let mut store = Self::default();
        for (id, entry) in entries {
            match parse_entry(entry) {
                Ok(cred) => {
                    store.profiles.insert(id.clone(), cred);
                }
                Err(why) => store.warnings.push(format!("profile {id:?} ignored: {why}")),
            }
        }
        Ok(store)
    }
}

/// The agent id of a store laid out as OpenClaw lays it out
/// (`agents/<id>/agent/auth-profiles.json`), else the path as given.
pub fn store_name(path: &Path) -> String {
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        [.., "agents", id, "agent", _file] => (*id).to_owned(),
        _ => path.display().to_string(),
    }
}

fn parse_entry(entry: &Value) -> Result<StoredCredential, String> {
    let field = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_owned);
    let type_text = field("type").or_else(|| field("mode")).ok_or("no `type`")?;
    let kind = CredentialType::parse(&type_text).ok_or_else(|| format!("unknown type {type_text:?}"))?;
    let provider = field("provider").ok_or("no `provider`")?;
    let secret = match kind {
        CredentialType::Oauth => field("access"),
        CredentialType::Token => field("token"),
        CredentialType::ApiKey => field("key").or_else(|| field("apiKey")),
    };
    Ok(StoredCredential {
        kind,
        provider,
        secret,
        has_refresh: field("refresh").is_some_and(|r| !r.is_empty()),
        expires_ms: entry.get("expires").and_then(Value::as_i64),
        email: field("email"),
        account_id: field("accountId"),
    })
}

/// The secrets of auth-profile stores: what `audit --profiles` and the recorder look for.
pub fn secrets(stores: &[AuthStore]) -> Vec<String> {
    stores.iter().flat_map(|s| s.profiles.values()).filter_map(|c| c.secret.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aliases_mode_and_api_key_are_accepted() {
        let store = AuthStore::from_value(&json!({"version": 1, "profiles": {
            "openai:default": {"mode": "api_key", "provider": "openai", "apiKey": "sk-1"}
        }}))
        .unwrap();
        let cred = &store.profiles["openai:default"];
        assert_eq!(cred.kind, CredentialType::ApiKey);
        assert_eq!(cred.secret.as_deref(), Some("sk-1"));
    }

    #[test]
    fn entries_without_type_or_provider_are_skipped_with_a_warning() {
        let store = AuthStore::from_value(&json!({"profiles": {
            "a": {"provider": "openai", "key": "k"},
            "b": {"type": "token", "token": "t"}
        }}))
        .unwrap();
        assert!(store.profiles.is_empty());
        assert_eq!(store.warnings.len(), 2);
    }

    #[test]
    fn account_prefers_the_jwt_claim() {
        let jwt = credential::mint_unsigned_jwt(
            &json!({"https://api.openai.com/auth": {"chatgpt_account_id": "acct-jwt"}}),
        );
        let store = AuthStore::from_value(&json!({"profiles": {
            "openai-codex:u": {"type": "oauth", "provider": "openai-codex", "access": jwt, "accountId": "acct-stored"}
        }}))
        .unwrap();
        assert_eq!(store.profiles["openai-codex:u"].account().as_deref(), Some("acct-jwt"));
    }

    #[test]
    fn a_store_is_named_by_its_agent_or_its_path() {
        assert_eq!(store_name(Path::new("/h/.openclaw/agents/kate/agent/auth-profiles.json")), "kate");
        assert_eq!(store_name(Path::new("fixtures/kate.json")), "fixtures/kate.json");
    }

    #[test]
    fn malformed_file_names_path_and_line_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth-profiles.json");
        std::fs::write(&path, "{\n  \"profiles\": {,}\n}").unwrap();
        let err = AuthStore::load(&path).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("auth-profiles.json:2:"), "{}", err.message());
    }
}
