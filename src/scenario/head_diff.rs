//! Request heads as text, secrets as fingerprints, and their diffs.
//!
//! A head is `METHOD URL`, the credential line and the account line, plus the
//! body's model: the facts the invariants judge, laid out so a unified diff
//! of expected against actual shows at a glance what went wrong.

use similar::TextDiff;

use super::expected::ExpectedDispatch;
use super::model::Bearer;
use super::observe::{ACCOUNT_HEADER, Observation, SeenCredential};

/// The head a planned dispatch should have.
pub fn expected(step: &ExpectedDispatch) -> String {
    let mut lines = vec![step.endpoint.to_string()];
    lines.push(match &step.bearer {
        Bearer::Absent => "(no credential header)".to_owned(),
        Bearer::Present { header, scheme, kind } => {
            let header = header.as_deref().unwrap_or("<credential header>");
            let what = credential_words(
                kind.as_deref().unwrap_or("any"),
                step.fingerprint.as_deref(),
                step.profile.as_deref(),
            );
            format!("{header}: {}{what}", scheme_prefix(scheme.as_deref()))
        }
    });
    if let Some(account) = &step.account {
        lines.push(format!("{ACCOUNT_HEADER}: {account}"));
    }
    if let Some(model) = &step.model {
        lines.push(format!("body.model: {model}"));
    }
    lines.join("\n") + "\n"
}

/// The head an observed request had.
pub fn actual(obs: &Observation) -> String {
    let mut lines = vec![obs.endpoint.to_string()];
    if obs.credentials.is_empty() {
        lines.push("(no credential header)".to_owned());
    }
    lines.extend(obs.credentials.iter().map(credential_line));
    if let Some(account) = &obs.account {
        lines.push(format!("{ACCOUNT_HEADER}: {account}"));
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
    let what =
        credential_words(&c.kind, Some(&c.fingerprint), Some(c.profile.as_deref().unwrap_or("unbound")));
    format!("{}: {}{what}", c.header, scheme_prefix(c.scheme.as_deref()))
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
            account: None,
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
            recorded_without_profile: false,
        };
        assert_eq!(credential_line(&c), "authorization: Bearer <openai-key sha256:0123456789ab unbound>");
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
