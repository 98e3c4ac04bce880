//! What a cell expects: the reference plan, overlaid with the scenario's
//! pinned `expect`, and the disagreements between the two.
//!
//! The pinned expectation is the human truth, so it wins where it speaks;
//! every place where it contradicts the reference plan is reported as a
//! *reference failure* (the model of correct dispatch is wrong, or the
//! scenario is).

use serde::{Deserialize, Serialize};

use super::endpoint::Endpoint;
use super::head_diff;
use super::model::{Bearer, Expect};
use super::observe::ACCOUNT_HEADER;
use crate::dispatch::catalog::HeaderExpect;
use crate::report::{Failure, Invariant};

/// One planned dispatch, in the vocabulary of observations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedDispatch {
    /// Where it must go.
    pub endpoint: Endpoint,
    /// Whether and how a credential is sent.
    pub bearer: Bearer,
    /// The profile the credential must belong to; `None`: no profile may be bound.
    pub profile: Option<String>,
    /// The store holding that profile (`kate`, `main`), when the plan says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Fingerprint of the planned credential (for the request head only).
    pub fingerprint: Option<String>,
    /// The header rules the `headers` invariant judges, each with its why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderExpect>,
    /// The model id the body must name, when planned.
    pub model: Option<String>,
}

/// What a cell expects to see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expected {
    /// A dispatch: the primary first, then each fallback.
    Dispatch(Vec<ExpectedDispatch>),
    /// No dispatch at all: no credential is eligible (the reference's error).
    NoDispatch {
        /// The dispatcher's refusal, e.g. `No API key found for provider "openai"`.
        reason: String,
    },
}

/// Overlay `pinned` on the reference's answer. Returns the expectation the
/// observations are checked against and the reference failures.
pub fn resolve(pinned: &Expect, reference: Expected) -> (Expected, Vec<Failure>) {
    match reference {
        Expected::NoDispatch { reason } => {
            let failures = disagreements_with_refusal(pinned, &reason);
            (Expected::NoDispatch { reason }, failures)
        }
        Expected::Dispatch(mut steps) => {
            let Some(primary) = steps.first_mut() else {
                return (Expected::Dispatch(steps), Vec::new());
            };
            let planned = primary.clone();
            *primary = overlay(pinned, &planned);
            let failures = disagreements(pinned, &planned, primary);
            (Expected::Dispatch(steps), failures)
        }
    }
}

fn overlay(pinned: &Expect, plan: &ExpectedDispatch) -> ExpectedDispatch {
    let profile = pinned.profile.clone().unwrap_or_else(|| plan.profile.clone());
    // The planned credential, store and account belong to the planned profile;
    // once a pin names another profile they describe nothing that is expected.
    let same_profile = profile == plan.profile;
    let mut headers: Vec<HeaderExpect> =
        plan.headers.iter().filter(|h| same_profile || h.name != ACCOUNT_HEADER).cloned().collect();
    for pin in pinned.header_rules() {
        match headers.iter_mut().find(|h| h.key() == pin.key()) {
            Some(slot) => *slot = pin,
            None => headers.push(pin),
        }
    }
    ExpectedDispatch {
        store: plan.store.clone().filter(|_| same_profile),
        headers,
        endpoint: pinned.endpoint.clone().unwrap_or_else(|| plan.endpoint.clone()),
        bearer: match (&pinned.bearer, &plan.bearer) {
            (Some(pin), planned) => refine(pin, planned),
            (None, planned) => planned.clone(),
        },
        fingerprint: plan.fingerprint.clone().filter(|_| same_profile),
        profile,
        model: pinned.model.clone().or_else(|| plan.model.clone()),
    }
}

/// A pinned bearer rule, with the details it leaves open taken from the plan
/// when the plan agrees with what it does pin.
fn refine(pin: &Bearer, planned: &Bearer) -> Bearer {
    match (pin, planned) {
        (Bearer::Present { header, scheme, kind }, Bearer::Present { header: ph, scheme: ps, kind: pk })
            if bearer_agrees(pin, planned) =>
        {
            Bearer::Present {
                header: header.clone().or_else(|| ph.clone()),
                scheme: scheme.clone().or_else(|| ps.clone()),
                kind: kind.clone().or_else(|| pk.clone()),
            }
        }
        _ => pin.clone(),
    }
}

/// Whether every detail the pin sets matches the plan.
fn bearer_agrees(pin: &Bearer, planned: &Bearer) -> bool {
    let fits = |pinned: &Option<String>, plan: &Option<String>, fold: bool| match (pinned, plan) {
        (None, _) => true,
        (Some(a), Some(b)) if fold => a.eq_ignore_ascii_case(b),
        (Some(a), Some(b)) => a == b,
        (Some(_), None) => false,
    };
    match (pin, planned) {
        (Bearer::Absent, Bearer::Absent) => true,
        (Bearer::Present { header, scheme, kind }, Bearer::Present { header: ph, scheme: ps, kind: pk }) => {
            fits(header, ph, true) && fits(scheme, ps, true) && fits(kind, pk, false)
        }
        _ => false,
    }
}

fn disagreements(pinned: &Expect, plan: &ExpectedDispatch, expected: &ExpectedDispatch) -> Vec<Failure> {
    let diff = head_diff::diff(&head_diff::expected(expected), &head_diff::expected(plan));
    let failure = |invariant, pinned: String, planned: String| Failure {
        invariant,
        seq: None,
        message: format!(
            "the scenario pins {invariant} {pinned} but the reference dispatcher plans {planned}"
        ),
        expected: pinned,
        actual: planned,
        diff: diff.clone(),
    };
    let mut failures = Vec::new();
    if let Some(endpoint) = pinned.endpoint.as_ref().filter(|e| !e.is_reached_by(&plan.endpoint)) {
        failures.push(failure(Invariant::Endpoint, endpoint.to_string(), plan.endpoint.to_string()));
    }
    if let Some(bearer) = pinned.bearer.as_ref().filter(|b| !bearer_agrees(b, &plan.bearer)) {
        failures.push(failure(
            Invariant::Bearer,
            head_diff::describe_bearer(bearer),
            head_diff::describe_bearer(&plan.bearer),
        ));
    }
    if let Some(profile) = pinned.profile.as_ref().filter(|p| **p != plan.profile) {
        failures.push(failure(
            Invariant::Profile,
            head_diff::describe_profile(profile),
            head_diff::describe_profile(&plan.profile),
        ));
    }
    if let Some(model) = pinned.model.as_ref().filter(|m| Some(*m) != plan.model.as_ref()) {
        let planned = plan.model.clone().unwrap_or_else(|| "no model".to_owned());
        failures.push(failure(Invariant::Model, model.clone(), planned));
    }
    for pin in pinned.header_rules() {
        let planned = plan.headers.iter().find(|h| h.key() == pin.key() && h.expect != pin.expect);
        if let Some(planned) = planned {
            failures.push(failure(
                Invariant::Headers,
                head_diff::rule_line(&pin),
                head_diff::rule_line(planned),
            ));
        }
    }
    failures
}

/// A pinned dispatch against a reference that refuses to dispatch.
fn disagreements_with_refusal(pinned: &Expect, reason: &str) -> Vec<Failure> {
    let headers: Vec<String> = pinned.header_rules().iter().map(head_diff::rule_line).collect();
    let pins: [(Invariant, Option<String>); 5] = [
        (Invariant::Endpoint, pinned.endpoint.as_ref().map(ToString::to_string)),
        (Invariant::Bearer, pinned.bearer.as_ref().map(head_diff::describe_bearer)),
        (Invariant::Profile, pinned.profile.as_ref().map(head_diff::describe_profile)),
        (Invariant::Headers, (!headers.is_empty()).then(|| headers.join("; "))),
        (Invariant::Model, pinned.model.clone()),
    ];
    pins.into_iter()
        .filter_map(|(invariant, pin)| {
            let pin = pin?;
            let actual = format!("no dispatch ({reason})");
            Some(Failure {
                invariant,
                seq: None,
                message: format!(
                    "the scenario pins {invariant} {pin} but the reference dispatcher refuses to dispatch"
                ),
                diff: head_diff::diff(&pin, &actual),
                expected: pin,
                actual,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> ExpectedDispatch {
        ExpectedDispatch {
            endpoint: Endpoint::new("POST", "https://chatgpt.com/backend-api/codex/responses").unwrap(),
            bearer: Bearer::Present {
                header: Some("authorization".into()),
                scheme: Some("Bearer".into()),
                kind: Some("jwt".into()),
            },
            profile: Some("openai-codex:u".into()),
            store: Some("main".into()),
            fingerprint: Some("sha256:000000000001".into()),
            headers: vec![HeaderExpect::rule(
                ACCOUNT_HEADER,
                crate::dispatch::catalog::Expect::Fingerprint("sha256:000000000002".into()),
                "the login's account",
            )],
            model: Some("gpt-5.5".into()),
        }
    }

    fn pinned(value: serde_json::Value) -> Expect {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn agreeing_pins_give_the_plan_and_no_failure() {
        let pin = pinned(serde_json::json!({
            "endpoint": "POST https://chatgpt.com/backend-api/codex/responses",
            "bearer": "present", "profile": "openai-codex:u"}));
        let (expected, failures) = resolve(&pin, Expected::Dispatch(vec![plan()]));
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(expected, Expected::Dispatch(vec![plan()]));
    }

    #[test]
    fn disagreeing_pin_wins_and_is_a_reference_failure() {
        let pin = pinned(
            serde_json::json!({"profile": "openai:u", "endpoint": "POST https://api.openai.com/v1/responses"}),
        );
        let (expected, failures) = resolve(&pin, Expected::Dispatch(vec![plan()]));
        let names: Vec<_> = failures.iter().map(|f| f.invariant).collect();
        assert_eq!(names, vec![Invariant::Endpoint, Invariant::Profile]);
        assert!(
            failures[1]
                .message
                .contains("pins profile openai:u but the reference dispatcher plans openai-codex:u")
        );
        assert!(
            failures[0].diff.contains("-POST https://api.openai.com/v1/responses"),
            "{}",
            failures[0].diff
        );
        let Expected::Dispatch(steps) = expected else { panic!() };
        assert_eq!(steps[0].profile.as_deref(), Some("openai:u"));
        assert!(steps[0].headers.is_empty(), "the planned account belongs to the planned profile");
        assert_eq!(steps[0].store, None, "and so does the planned store");
    }

    #[test]
    fn pinned_dispatch_against_a_refusal_is_a_reference_failure() {
        let pin = pinned(serde_json::json!({"bearer": "present"}));
        let (expected, failures) = resolve(&pin, Expected::NoDispatch { reason: "No API key found".into() });
        assert!(matches!(expected, Expected::NoDispatch { .. }));
        assert_eq!(failures.len(), 1);
        assert!(failures[0].actual.contains("No API key found"));
    }

    #[test]
    fn pinned_headers_join_the_plan_and_a_contradiction_is_a_reference_failure() {
        let pin = pinned(serde_json::json!({"headers": {"X-Tenant": "acme"}}));
        let (expected, failures) = resolve(&pin, Expected::Dispatch(vec![plan()]));
        assert!(failures.is_empty(), "{failures:?}");
        let Expected::Dispatch(steps) = expected else { panic!() };
        assert_eq!(steps[0].headers.len(), 2);
        let absent = pinned(serde_json::json!({"headers": {"chatgpt-account-id": false}}));
        let failures = resolve(&absent, Expected::Dispatch(vec![plan()])).1;
        assert_eq!(failures[0].invariant, Invariant::Headers);
        assert!(
            failures[0].message.contains("pins headers (no chatgpt-account-id)"),
            "{}",
            failures[0].message
        );
    }

    #[test]
    fn bearer_pin_is_refined_by_an_agreeing_plan() {
        let pin = pinned(serde_json::json!({"bearer": {"kind": "jwt"}}));
        let (expected, failures) = resolve(&pin, Expected::Dispatch(vec![plan()]));
        assert!(failures.is_empty());
        let Expected::Dispatch(steps) = expected else { panic!() };
        assert_eq!(steps[0].bearer, plan().bearer);
        let wrong = pinned(serde_json::json!({"bearer": {"header": "x-api-key"}}));
        assert_eq!(resolve(&wrong, Expected::Dispatch(vec![plan()])).1[0].invariant, Invariant::Bearer);
    }
}
