//! What the dispatcher itself says it bound: the `profile=` of OpenClaw's
//! failover and fallback decision lines, shown beside the wire verdict.
//!
//! OpenClaw logs a bound profile as `profile=sha256:<12 hex of sha256(profile
//! id)>` (or `profile=-` when none), the same shape as our fingerprints, so
//! the profile ids of the scenario name them. Two forms occur: the console
//! line (`… failover decision: runId=… decision=surface_error reason=auth
//! from=openai-codex/gpt-5.5 profile=-`) and the log file's JSON lines, whose
//! structured part carries `event: "embedded_run_failover_decision"` and
//! `profileId`.

use serde_json::Value;

use crate::credential;

/// Words that mark a decision line in the console form.
const DECISION_MARKERS: [&str; 2] = ["failover decision", "fallback decision"];

/// `event` values (JSON form) that are decisions.
const DECISION_EVENTS: [&str; 2] = ["failover_decision", "fallback_decision"];

/// Fields of a decision worth repeating, console key → JSON keys tried in order.
const FIELDS: &[(&str, &[&str])] = &[
    ("stage", &["stage"]),
    ("decision", &["decision"]),
    ("reason", &["failoverReason", "reason"]),
    ("from", &["from"]),
];

/// One decision the dispatcher logged with a profile field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedProfile {
    /// The logged value: `sha256:…` or `-`.
    pub profile: String,
    /// The decision's other fields, `key=value` in log order.
    pub details: Vec<(String, String)>,
}

impl LoggedProfile {
    /// `<Name> logged profile=sha256:… (<profile id>): decision=… reason=…`,
    /// naming the profile whose id hashes to the logged value.
    pub fn describe(&self, dispatcher: &str, profile_ids: &[String]) -> String {
        let whose = match self.profile.as_str() {
            "-" => "no profile bound".to_owned(),
            logged => profile_ids
                .iter()
                .find(|id| credential::fingerprint(id) == logged)
                .cloned()
                .unwrap_or_else(|| "not a profile of this scenario".to_owned()),
        };
        let details: Vec<String> = self.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{dispatcher} logged profile={} ({whose}): {}", self.profile, details.join(" "))
    }
}

/// Every decision with a profile field in `log`, each once, in order.
pub fn logged_profiles(log: &str) -> Vec<LoggedProfile> {
    let mut found: Vec<LoggedProfile> = Vec::new();
    for line in log.lines() {
        let parsed = match serde_json::from_str::<Value>(line) {
            Ok(value) => from_json(&value),
            Err(_) => from_text(line),
        };
        if let Some(entry) = parsed.filter(|e| !found.contains(e)) {
            found.push(entry);
        }
    }
    found
}

/// The console form: `key=value` tokens after a decision marker.
fn from_text(line: &str) -> Option<LoggedProfile> {
    let at = DECISION_MARKERS.iter().find_map(|m| line.find(m))?;
    let pairs: Vec<(&str, &str)> = line[at..].split_whitespace().filter_map(|t| t.split_once('=')).collect();
    let profile = pairs.iter().find(|(k, _)| *k == "profile")?.1.to_owned();
    let details = FIELDS
        .iter()
        .filter_map(|(key, _)| {
            pairs.iter().find(|(k, _)| k == key).map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        })
        .collect();
    Some(LoggedProfile { profile, details })
}

/// The JSON-lines form: a decision event object anywhere in the line.
fn from_json(value: &Value) -> Option<LoggedProfile> {
    let event = find_event(value)?;
    let text = |key: &str| event.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let profile = text("profileId").or_else(|| text("profile")).unwrap_or("-").to_owned();
    let from = match (
        text("sourceProvider").or_else(|| text("provider")),
        text("sourceModel").or_else(|| text("model")),
    ) {
        (Some(provider), Some(model)) => Some(format!("{provider}/{model}")),
        _ => None,
    };
    let details = FIELDS
        .iter()
        .filter_map(|(key, names)| {
            let value = names.iter().find_map(|n| text(n)).map(str::to_owned);
            let value = if *key == "from" { value.or_else(|| from.clone()) } else { value };
            value.map(|v| ((*key).to_owned(), v))
        })
        .collect();
    Some(LoggedProfile { profile, details })
}

/// The object whose `event` names a decision that binds a profile (fallback
/// decisions between models carry none and are left out).
fn find_event(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(map) => {
            let event = map.get("event").and_then(Value::as_str).unwrap_or("");
            let is_decision = DECISION_EVENTS.iter().any(|e| event.ends_with(e));
            let binds =
                map.contains_key("profileId") || map.contains_key("profile") || event.contains("failover");
            if is_decision && binds {
                return Some(value);
            }
            map.values().find_map(find_event)
        }
        Value::Array(items) => items.iter().find_map(find_event),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSOLE_UNBOUND: &str = "[agent/embedded] embedded run failover decision: runId=r1 stage=prompt \
        decision=surface_error reason=auth from=openai-codex/gpt-5.5-pro profile=-";
    const CONSOLE_BOUND: &str = "[agent/embedded] embedded run failover decision: runId=r2 stage=assistant \
        decision=surface_error reason=auth from=openai-codex/gpt-5.5 profile=sha256:52c34d3a1a78 rawError=401 Missing bearer";
    const FALLBACK: &str = "[model-fallback/decision] model fallback decision: decision=candidate_failed \
        requested=a candidate=a reason=auth next=none";

    fn json_line(event: &str, extra: &str) -> String {
        format!(
            r#"{{"0":"{{\"subsystem\":\"agent/embedded\"}}","1":{{"event":"{event}","runId":"r","stage":"assistant","decision":"surface_error","failoverReason":"auth","sourceProvider":"openai-codex","sourceModel":"gpt-5.5"{extra}}},"2":"embedded run failover decision","time":"t"}}"#
        )
    }

    #[test]
    fn console_lines_give_the_profile_and_the_decision() {
        let found = logged_profiles(&format!("noise\n{CONSOLE_UNBOUND}\n{FALLBACK}\n{CONSOLE_BOUND}\n"));
        assert_eq!(found.len(), 2, "the fallback line names no profile");
        assert_eq!(found[0].profile, "-");
        assert_eq!(found[1].profile, "sha256:52c34d3a1a78");
        assert_eq!(
            found[1].details,
            [
                ("stage", "assistant"),
                ("decision", "surface_error"),
                ("reason", "auth"),
                ("from", "openai-codex/gpt-5.5")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn json_lines_give_profile_id_or_none() {
        let bound = json_line("embedded_run_failover_decision", r#","profileId":"sha256:52c34d3a1a78""#);
        let unbound = json_line("embedded_run_failover_decision", "");
        let other = json_line("embedded_run_agent_end", r#","profileId":"sha256:000000000000""#);
        let found = logged_profiles(&[bound.as_str(), &other, &unbound, &bound].join("\n"));
        assert_eq!(
            found.iter().map(|f| f.profile.as_str()).collect::<Vec<_>>(),
            ["sha256:52c34d3a1a78", "-"]
        );
        assert!(found[0].details.contains(&("from".to_owned(), "openai-codex/gpt-5.5".to_owned())));
    }

    #[test]
    fn describe_names_the_profile_by_the_hash_of_its_id() {
        let ids = vec!["openai:default".to_owned(), "openai-codex:user@example.com".to_owned()];
        let found = logged_profiles(CONSOLE_BOUND);
        assert_eq!(credential::fingerprint("openai-codex:user@example.com"), "sha256:52c34d3a1a78");
        assert_eq!(
            found[0].describe("OpenClaw", &ids),
            "OpenClaw logged profile=sha256:52c34d3a1a78 (openai-codex:user@example.com): \
             stage=assistant decision=surface_error reason=auth from=openai-codex/gpt-5.5"
        );
        let none = logged_profiles(CONSOLE_UNBOUND);
        assert!(
            none[0].describe("OpenClaw", &ids).starts_with("OpenClaw logged profile=- (no profile bound)")
        );
        assert!(found[0].describe("OpenClaw", &[]).contains("(not a profile of this scenario)"));
    }
}
