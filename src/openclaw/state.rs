//! OpenClaw's `auth-state.json`, beside an agent's `auth-profiles.json`:
//! the explicit order, the last good profile and per-profile usage stats.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::files;

/// `auth-state.json`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthState {
    /// `order.<provider>`: explicit profile order, which beats the config's `auth.order`.
    pub order: BTreeMap<String, Vec<String>>,
    /// `lastGood.<provider>`: the profile that last worked.
    pub last_good: BTreeMap<String, String>,
    /// `usageStats.<profile id>`.
    pub usage_stats: BTreeMap<String, UsageStats>,
}

/// `usageStats.<profile id>`; times are milliseconds since the epoch.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UsageStats {
    /// When the profile was last used.
    pub last_used: Option<i64>,
    /// Rate-limited until then.
    pub cooldown_until: Option<i64>,
    /// Disabled (e.g. after billing failures) until then.
    pub disabled_until: Option<i64>,
}

impl UsageStats {
    /// Why the profile is set aside at `now_ms`, if it is.
    pub fn cooling_down(&self, now_ms: i64) -> Option<String> {
        let until = |t: Option<i64>| t.filter(|t| *t > now_ms);
        match (until(self.cooldown_until), until(self.disabled_until)) {
            (_, Some(t)) => Some(format!("disabled until {t}")),
            (Some(t), None) => Some(format!("in cooldown until {t}")),
            (None, None) => None,
        }
    }
}

impl AuthState {
    /// Read and parse `path`; errors name the path and line:column (exit 2).
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            files::read_input(path, "auth state").map_err(|e| e.hint("pass an OpenClaw auth-state.json"))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::json(path.display(), &e)
                .hint("an auth-state.json is {\"version\": 1, \"order\": {…}, \"usageStats\": {…}}")
        })
    }

    /// Build from a JSON value (a scenario's `inputs.auth_state`); `null` is an empty state.
    pub fn from_value(value: &Value) -> Result<Self> {
        if value.is_null() {
            return Ok(Self::default());
        }
        Self::deserialize(value).map_err(|e| Error::input(e.to_string()))
    }

    /// The usage stats of `profile` (empty when none are kept).
    pub fn usage(&self, profile: &str) -> UsageStats {
        self.usage_stats.get(profile).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_order_last_good_and_usage_stats() {
        let state =
            AuthState::from_value(&json!({"version": 1, "order": {"openai": ["openai:b", "openai:a"]},
            "lastGood": {"openai": "openai:b"},
            "usageStats": {"openai:a": {"lastUsed": 5, "cooldownUntil": 100, "errorCount": 2}}}))
            .unwrap();
        assert_eq!(state.order["openai"], ["openai:b", "openai:a"]);
        assert_eq!(state.last_good["openai"], "openai:b");
        assert_eq!(state.usage("openai:a").last_used, Some(5));
        assert_eq!(state.usage("openai:zz"), UsageStats::default());
    }

    #[test]
    fn cooldown_and_disable_hold_only_until_their_time() {
        let stats = UsageStats { cooldown_until: Some(100), ..UsageStats::default() };
        assert_eq!(stats.cooling_down(99).as_deref(), Some("in cooldown until 100"));
        assert_eq!(stats.cooling_down(100), None);
        let stats =
            UsageStats { disabled_until: Some(200), cooldown_until: Some(100), ..UsageStats::default() };
        assert_eq!(stats.cooling_down(50).as_deref(), Some("disabled until 200"));
    }

    #[test]
    fn malformed_file_names_path_and_line_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth-state.json");
        std::fs::write(&path, "{\n \"order\": [}").unwrap();
        let err = AuthState::load(&path).unwrap_err();
        assert!(err.message().contains("auth-state.json:2:"), "{}", err.message());
    }
}
