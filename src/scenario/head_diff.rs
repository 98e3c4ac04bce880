//! Request heads as text, secrets as fingerprints, and their diffs.
//!
//! A head is `METHOD URL`, the credential line, a line per header rule, plus
//! the body's model: the facts the invariants judge, laid out so a unified
//! diff of expected against actual shows at a glance what went wrong. A rule
//! the request keeps reads the same on both sides, so only broken ones differ.

use similar::TextDiff;

use super::expected::ExpectedDispatch;
use super::model::Bearer;
use super::observe::{CREDENTIAL_HEADERS, Observation, SeenCredential, fingerprint_of_value};
use crate::credential;
use crate::dispatch::catalog::{Expect, HeaderExpect};

/// The head a planned dispatch should have.
pub fn expected(step: &ExpectedDispatch) -> String {
    let mut lines = vec![step.endpoint.to_string()];
    lines.push(match &step.bearer {
        Bearer::Absent => "(no credential header)".to_owned(),
        Bearer::Present { header, scheme, kind } => {
            let header = header.as_deref().unwrap_or("<credential header>");
            let owner = step.profile.as_deref().map(|p| bound_profile(p, step.store.as_deref()));
            let what = credential_words(
                kind.as_deref().unwrap_or("any"),
                step.fingerprint.as_deref(),
                owner.as_deref(),
            );
            format!("{header}: {}{what}", scheme_prefix(scheme.as_deref()))
        }
    });
    lines.extend(step.headers.iter().map(rule_line));
    if let Some(model) = &step.model {
        lines.push(format!("body.model: {model}"));
    }
    lines.join("\n") + "\n"
}

/// The head an observed request had.
pub fn actual(obs: &Observation) -> String {
    actual_against(obs, &[])
}

/// The head an observed request had, with a line for each of `rules`: the
/// rule's own line when the request keeps it, else what the request sent.
pub fn actual_against(obs: &Observation, rules: &[HeaderExpect]) -> String {
    let mut lines = vec![obs.endpoint.to_string()];
    if obs.credentials.is_empty() {
        lines.push("(no credential header)".to_owned());
    }
    lines.extend(obs.credentials.iter().map(credential_line));
    for rule in rules {
        let value = obs.header(&rule.name);
        lines.push(if rule.holds(value.as_deref()) {
            rule_line(rule)
        } else {
            sent_line(rule, value.as_deref())
        });
    }
    if let Some(model) = &obs.model {
        lines.push(format!("body.model: {model}"));
    }
    lines.join("\n") + "\n"
}

/// The observed head with its credentials taken out: what a request that
/// must not carry them would look like.
pub fn without_credentials(obs: &Observation) -> String {
    actual(&Observation { credentials: Vec::new(), ..obs.clone() })
}

/// The observed head sent over TLS instead.
pub fn over_tls(obs: &Observation) -> String {
    let mut secure = obs.clone();
    secure.endpoint.scheme = if obs.endpoint.is_websocket() { "wss" } else { "https" }.to_owned();
    if secure.endpoint.port == 80 {
        secure.endpoint.port = 443;
    }
    actual(&secure)
}

/// `authorization: Bearer <jwt sha256:… openai-codex:u>`
pub fn credential_line(c: &SeenCredential) -> String {
    let owner =
        c.profile.as_deref().map_or_else(|| "unbound".to_owned(), |p| bound_profile(p, c.store.as_deref()));
    let what = credential_words(&c.kind, Some(&c.fingerprint), Some(&owner));
    format!("{}: {}{what}", c.header, scheme_prefix(c.scheme.as_deref()))
}

/// A profile with the store that holds it: `agent kate's openai:default`.
pub fn bound_profile(profile: &str, store: Option<&str>) -> String {
    match store {
        Some(store) if store.contains(['/', '\\']) || store.ends_with(".json") => {
            format!("store {store}'s {profile}")
        }
        Some(agent) => format!("agent {agent}'s {profile}"),
        None => profile.to_owned(),
    }
}

/// A header rule as a line of the expected head: `x-tenant: acme`,
/// `(no x-api-key)`, `anthropic-beta: …oauth-2025-04-20…`.
pub fn rule_line(rule: &HeaderExpect) -> String {
    let name = &rule.name;
    match &rule.expect {
        Expect::Equals(serde_json::Value::String(value)) => format!("{name}: {value}"),
        Expect::Equals(value) => format!("{name}: {value}"),
        Expect::Contains(part) | Expect::Has(part) => format!("{name}: …{part}…"),
        Expect::Present(true) => format!("{name}: (any)"),
        Expect::Present(false) => format!("(no {name})"),
        Expect::Fingerprint(fp) => format!("{name}: <{fp}>"),
        Expect::Lacks(element) => format!("{name}: (without {element})"),
        Expect::IfSent(inner) => {
            format!("{} (when sent)", rule_line(&HeaderExpect::sent(name.clone(), (**inner).clone())))
        }
    }
}

/// What a request sent for a broken rule: `(no x-tenant)`, `x-tenant: other`,
/// a secret as its fingerprint.
pub fn sent_line(rule: &HeaderExpect, value: Option<&str>) -> String {
    let name = &rule.name;
    let Some(value) = value else { return format!("(no {name})") };
    let secret = matches!(rule.expect, Expect::Fingerprint(_))
        || CREDENTIAL_HEADERS.contains(&name.as_str())
        || value.split(' ').any(|part| credential::fingerprint_in_marker(part).is_some());
    if secret {
        let fingerprints: Vec<String> = value
            .split(',')
            .map(|v| {
                let v = v.trim();
                // `Bearer <secret>`: the secret after its scheme.
                let secret = match v.split_once(' ') {
                    Some((scheme, rest)) if scheme.bytes().all(|b| b.is_ascii_alphabetic()) => rest,
                    _ => v,
                };
                format!("<{}>", fingerprint_of_value(secret))
            })
            .collect();
        return format!("{name}: {}", fingerprints.join(","));
    }
    format!("{name}: {value}")
}

fn credential_words(kind: &str, fingerprint: Option<&str>, profile: Option<&str>) -> String {
    let parts: Vec<&str> = [Some(kind), fingerprint, profile].into_iter().flatten().collect();
    format!("<{}>", parts.join(" "))
}

fn scheme_prefix(scheme: Option<&str>) -> String {
    scheme.map(|s| format!("{s} ")).unwrap_or_default()
}

/// A bearer rule in words: `authorization: Bearer <jwt>`, `no credential header`.
pub fn describe_bearer(bearer: &Bearer) -> String {
    match bearer {
        Bearer::Absent => "no credential header".to_owned(),
        Bearer::Present { header, scheme, kind } => format!(
            "{}: {}<{}>",
            header.as_deref().unwrap_or("<credential header>"),
            scheme_prefix(scheme.as_deref()),
            kind.as_deref().unwrap_or("any credential")
        ),
    }
}

/// A profile expectation in words.
pub fn describe_profile(profile: &Option<String>) -> String {
    profile.clone().unwrap_or_else(|| "no profile".to_owned())
}

/// Unified diff of two heads, `expected` first.
pub fn diff(expected: &str, actual: &str) -> String {
    let (expected, actual) = (with_newline(expected), with_newline(actual));
    TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(8)
        .header("expected", "actual")
        .to_string()
}

fn with_newline(text: &str) -> String {
    if text.ends_with('\n') { text.to_owned() } else { format!("{text}\n") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::endpoint::Endpoint;

    fn obs(credentials: Vec<SeenCredential>) -> Observation {
        Observation {
            seq: Some(1),
            endpoint: Endpoint::new("POST", "https://api.openai.com/v1/responses").unwrap(),
            dispatch: true,
            credentials,
            headers: Vec::new(),
            model: Some("gpt-5.5".into()),
        }
    }

    #[test]
    fn missing_credential_reads_as_such() {
        assert_eq!(
            actual(&obs(vec![])),
            "POST https://api.openai.com/v1/responses\n(no credential header)\nbody.model: gpt-5.5\n"
        );
    }

    #[test]
    fn credential_line_shows_kind_fingerprint_and_profile() {
        let c = SeenCredential {
            header: "authorization".into(),
            scheme: Some("Bearer".into()),
            fingerprint: "sha256:0123456789ab".into(),
            kind: "openai-key".into(),
            profile: None,
            provider: None,
            store: None,
            recorded_without_profile: false,
        };
        assert_eq!(credential_line(&c), "authorization: Bearer <openai-key sha256:0123456789ab unbound>");
    }

    #[test]
    fn a_kept_rule_reads_alike_on_both_sides_and_a_broken_one_shows_what_was_sent() {
        let rule = HeaderExpect::rule("x-tenant", Expect::Equals("acme".into()), "configured");
        let mut o = obs(vec![]);
        o.headers = vec![("x-tenant".into(), "acme".into())];
        assert!(actual_against(&o, std::slice::from_ref(&rule)).contains("x-tenant: acme\n"));
        o.headers.clear();
        assert!(actual_against(&o, std::slice::from_ref(&rule)).contains("(no x-tenant)\n"));
        let key = HeaderExpect::rule("api-key", Expect::Fingerprint(credential::fingerprint("k")), "azure");
        let sent = sent_line(&key, Some(&credential::redaction_marker("other")));
        assert_eq!(sent, format!("api-key: <{}>", credential::fingerprint("other")));
        assert_eq!(bound_profile("openai:default", Some("kate")), "agent kate's openai:default");
    }

    #[test]
    fn diff_marks_changed_lines() {
        let d = diff("POST https://a/x\n", "POST https://b/x\n");
        assert!(d.contains("--- expected\n+++ actual\n"), "{d}");
        assert!(d.contains("-POST https://a/x\n+POST https://b/x\n"), "{d}");
    }

    #[test]
    fn over_tls_moves_plain_http_to_https() {
        let mut o = obs(vec![]);
        o.endpoint = Endpoint::new("POST", "http://api.openai.com/v1/responses").unwrap();
        assert!(over_tls(&o).starts_with("POST https://api.openai.com/v1/responses\n"));
    }
}
