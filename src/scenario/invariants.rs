//! The invariants (docs/check.md), judged over the observations of one cell.
//!
//! `endpoint`, `bearer`, `profile`, `headers` and `model` judge dispatches
//! against their planned step; `credential-scope` and `tls` judge every
//! request, dispatch or not (a token refresh or telemetry call can leak a
//! credential too).

use super::expected::{Expected, ExpectedDispatch};
use super::head_diff;
use super::model::Bearer;
use super::observe::{Observation, SeenCredential, UNKNOWN_KIND};
use crate::dispatch::catalog::{Expect, HeaderExpect};
use crate::report::{Failure, Invariant, InvariantOutcome, Status};

/// The hosts an observed credential may reach; `None` when nobody knows.
pub type Scope<'a> = &'a dyn Fn(&SeenCredential) -> Option<Vec<String>>;

/// The message of a dispatch that should not have happened.
pub const NO_ELIGIBLE_CREDENTIAL: &str = "dispatched although no credential is eligible";

/// Judge every invariant; the result is in [`Invariant::ALL`] order.
pub fn evaluate(
    expected: &Expected,
    observations: &[Observation],
    scope: Scope<'_>,
) -> Vec<InvariantOutcome> {
    let dispatches: Vec<&Observation> = observations.iter().filter(|o| o.dispatch).collect();
    let mut outcomes: Vec<InvariantOutcome> = match expected {
        Expected::Dispatch(steps) => judge_dispatches(steps, &dispatches),
        Expected::NoDispatch { reason } => judge_refusal(reason, &dispatches),
    };
    outcomes.push(outcome(Invariant::CredentialScope, scope_failures(observations, scope)));
    outcomes.push(outcome(Invariant::Tls, tls_failures(observations)));
    outcomes.sort_by_key(|o| Invariant::ALL.iter().position(|i| *i == o.invariant));
    outcomes
}

fn outcome(invariant: Invariant, failures: Vec<Failure>) -> InvariantOutcome {
    let status = if failures.is_empty() { Status::Pass } else { Status::Fail };
    InvariantOutcome { invariant, status, note: None, failures }
}

fn skipped(invariant: Invariant, note: &str) -> InvariantOutcome {
    InvariantOutcome { invariant, status: Status::Skip, note: Some(note.to_owned()), failures: Vec::new() }
}

/// `endpoint`, `bearer`, `profile`, `headers`, `model` when a dispatch is planned.
fn judge_dispatches(steps: &[ExpectedDispatch], dispatches: &[&Observation]) -> Vec<InvariantOutcome> {
    let Some(primary) = steps.first() else {
        return [
            Invariant::Endpoint,
            Invariant::Bearer,
            Invariant::Profile,
            Invariant::Headers,
            Invariant::Model,
        ]
        .into_iter()
        .map(|i| skipped(i, "the plan has no step"))
        .collect();
    };
    if dispatches.is_empty() {
        let head = head_diff::expected(primary);
        let failure = Failure {
            invariant: Invariant::Endpoint,
            seq: None,
            message: "no dispatch was observed: no request went to a model API".to_owned(),
            expected: primary.endpoint.to_string(),
            actual: "no dispatch".to_owned(),
            diff: head_diff::diff(&head, "(no dispatch)"),
        };
        let note = "no dispatch was observed";
        return vec![
            outcome(Invariant::Endpoint, vec![failure]),
            skipped(Invariant::Bearer, note),
            skipped(Invariant::Profile, note),
            skipped(Invariant::Headers, note),
            skipped(Invariant::Model, note),
        ];
    }
    let pairs: Vec<(&ExpectedDispatch, &Observation)> =
        dispatches.iter().enumerate().map(|(n, obs)| (step_for(steps, n, obs), *obs)).collect();
    let collect = |judge: fn(&ExpectedDispatch, &Observation) -> Option<Judgement>, invariant| {
        pairs
            .iter()
            .filter_map(|(step, obs)| judge(step, obs).map(|j| j.into_failure(invariant, step, obs)))
            .collect()
    };
    let mut outcomes = vec![
        outcome(Invariant::Endpoint, collect(judge_endpoint, Invariant::Endpoint)),
        outcome(Invariant::Bearer, collect(judge_bearer, Invariant::Bearer)),
        outcome(Invariant::Profile, collect(judge_profile, Invariant::Profile)),
        outcome(
            Invariant::Headers,
            pairs
                .iter()
                .flat_map(|(step, obs)| {
                    judge_headers(step, obs)
                        .into_iter()
                        .map(|j| j.into_failure(Invariant::Headers, step, obs))
                })
                .collect(),
        ),
    ];
    outcomes.push(if primary.model.is_some() {
        outcome(Invariant::Model, collect(judge_model, Invariant::Model))
    } else {
        skipped(Invariant::Model, "the plan names no model")
    });
    outcomes
}

/// The first dispatch is the primary; a later one is the fallback whose
/// model it names, else a retry of the primary.
fn step_for<'a>(steps: &'a [ExpectedDispatch], index: usize, obs: &Observation) -> &'a ExpectedDispatch {
    let fallback = || steps.iter().skip(1).find(|s| s.model.is_some() && s.model == obs.model);
    if index == 0 { &steps[0] } else { fallback().unwrap_or(&steps[0]) }
}

/// One broken expectation of one dispatch, before it gets its head diff.
struct Judgement {
    message: String,
    expected: String,
    actual: String,
}

impl Judgement {
    fn new(
        message: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Option<Self> {
        Some(Self { message: message.into(), expected: expected.into(), actual: actual.into() })
    }

    fn into_failure(self, invariant: Invariant, step: &ExpectedDispatch, obs: &Observation) -> Failure {
        Failure {
            invariant,
            seq: obs.seq,
            message: self.message,
            expected: self.expected,
            actual: self.actual,
            diff: head_diff::diff(&head_diff::expected(step), &head_diff::actual_against(obs, &step.headers)),
        }
    }
}

fn judge_endpoint(step: &ExpectedDispatch, obs: &Observation) -> Option<Judgement> {
    if step.endpoint.is_reached_by(&obs.endpoint) {
        return None;
    }
    Judgement::new(
        "the dispatch went to another endpoint",
        step.endpoint.to_string(),
        obs.endpoint.to_string(),
    )
}

fn judge_bearer(step: &ExpectedDispatch, obs: &Observation) -> Option<Judgement> {
    let planned = head_diff::describe_bearer(&step.bearer);
    let (header, scheme, kind) = match &step.bearer {
        Bearer::Absent => {
            let sent = obs.credentials.first()?;
            return Judgement::new(
                "a credential was sent where none is planned",
                planned,
                head_diff::credential_line(sent),
            );
        }
        Bearer::Present { header, scheme, kind } => (header.as_deref(), scheme.as_deref(), kind.as_deref()),
    };
    let Some(sent) = obs.credential_in(header) else {
        return match obs.credentials.first() {
            Some(other) => Judgement::new(
                format!("the credential went in `{}` instead of `{}`", other.header, header.unwrap_or("?")),
                planned,
                head_diff::credential_line(other),
            ),
            None => Judgement::new("no credential was sent", planned, "no credential header"),
        };
    };
    let scheme_ok = scheme.is_none_or(|s| sent.scheme.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(s)));
    if !scheme_ok {
        let got = sent.scheme.as_deref().unwrap_or("no scheme");
        return Judgement::new(
            format!("the credential was sent with auth scheme {got}, not {}", scheme.unwrap_or("?")),
            planned,
            head_diff::credential_line(sent),
        );
    }
    if kind.is_some() && sent.kind == UNKNOWN_KIND {
        return Judgement::new(
            format!(
                "credential {} is of unknown kind: its fingerprint is in neither the cassette's meta.credentials nor the scenario",
                sent.fingerprint
            ),
            planned,
            head_diff::credential_line(sent),
        );
    }
    if kind.is_some_and(|k| k != sent.kind) {
        return Judgement::new(
            format!(
                "a credential of kind {} was sent where one of kind {} is planned",
                sent.kind,
                kind.unwrap_or("?")
            ),
            planned,
            head_diff::credential_line(sent),
        );
    }
    None
}

fn judge_profile(step: &ExpectedDispatch, obs: &Observation) -> Option<Judgement> {
    let planned = head_diff::describe_profile(&step.profile);
    let header = match &step.bearer {
        Bearer::Present { header, .. } => header.as_deref(),
        Bearer::Absent => None,
    };
    let sent = obs.credential_in(header).or_else(|| obs.credentials.first());
    match (&step.profile, sent) {
        (None, None) => None,
        (None, Some(c)) => c.profile.as_ref().and_then(|bound| {
            Judgement::new(
                format!("a credential of profile {bound} was sent where no profile may be bound"),
                planned,
                bound.clone(),
            )
        }),
        (Some(_), None) => Judgement::new(
            "no credential was sent, so no profile is bound",
            planned,
            "no profile (no credential)",
        ),
        (Some(want), Some(c)) => match c.profile.as_deref() {
            None if c.recorded_without_profile => Judgement::new(
                format!(
                    "credential {} belongs to no known profile: the cassette was recorded without --profiles \
                     (its meta.credentials entry names no profile) and no credential of the scenario has \
                     this fingerprint",
                    c.fingerprint
                ),
                planned,
                format!("unbound credential {} (recorded without --profiles)", c.fingerprint),
            ),
            None => Judgement::new(
                format!("credential {} belongs to no known profile", c.fingerprint),
                planned,
                format!("unbound credential {}", c.fingerprint),
            ),
            Some(bound) if bound != want => Judgement::new(
                format!("the credential of profile {bound} was sent instead of {want}'s"),
                planned,
                bound,
            ),
            // The same id in two stores: the secret of the other store's entry.
            Some(bound) => match (step.store.as_deref(), c.store.as_deref()) {
                (Some(want_store), Some(got_store)) if want_store != got_store => {
                    let (wanted, sent) = (
                        head_diff::bound_profile(want, Some(want_store)),
                        head_diff::bound_profile(bound, Some(got_store)),
                    );
                    Judgement::new(
                        format!(
                            "the credential of {sent} was sent instead of {wanted}'s: both stores hold {want}, \
                             with different secrets"
                        ),
                        wanted,
                        sent,
                    )
                }
                _ => None,
            },
        },
    }
}

/// Every header rule of the step the request breaks, one judgement each.
fn judge_headers(step: &ExpectedDispatch, obs: &Observation) -> Vec<Judgement> {
    step.headers
        .iter()
        .filter_map(|rule| {
            let value = obs.header(&rule.name);
            (!rule.holds(value.as_deref())).then(|| header_judgement(rule, value.as_deref()))
        })
        .collect()
}

fn header_judgement(rule: &HeaderExpect, value: Option<&str>) -> Judgement {
    let what = match rule.name.strip_prefix('?') {
        Some(parameter) => format!("query parameter {parameter}"),
        None => format!("header {}", rule.name),
    };
    let sent = head_diff::sent_line(rule, value);
    let why = rule.why.as_deref().unwrap_or("planned");
    let message = match (&rule.expect, value) {
        (Expect::Present(false), _) => format!("{what} was sent, which must not be: {why}"),
        (Expect::Lacks(element), _) => format!("{what} lists {element}, which must not be sent: {why}"),
        (Expect::Has(element), Some(_)) => format!("{what} does not list {element}: {why}"),
        (_, None) => format!("{what} is missing: {why}"),
        (_, Some(_)) => format!("{what} has another value: {why}"),
    };
    Judgement { message, expected: head_diff::rule_line(rule), actual: sent }
}

fn judge_model(step: &ExpectedDispatch, obs: &Observation) -> Option<Judgement> {
    let want = step.model.as_deref()?;
    match obs.model.as_deref() {
        Some(got) if got == want => None,
        Some(got) => Judgement::new(format!("the body asks for model {got}, not {want}"), want, got),
        None => Judgement::new("the body names no model", want, "no model"),
    }
}

/// A planned refusal: every dispatch fails `bearer` and `profile`.
fn judge_refusal(reason: &str, dispatches: &[&Observation]) -> Vec<InvariantOutcome> {
    let refusal = |invariant| {
        let failures = dispatches
            .iter()
            .map(|obs| Failure {
                invariant,
                seq: obs.seq,
                message: NO_ELIGIBLE_CREDENTIAL.to_owned(),
                expected: format!("no dispatch ({reason})"),
                actual: obs.endpoint.to_string(),
                diff: head_diff::diff("(no dispatch)\n", &head_diff::actual(obs)),
            })
            .collect();
        outcome(invariant, failures)
    };
    let note = "no dispatch is planned";
    vec![
        skipped(Invariant::Endpoint, note),
        refusal(Invariant::Bearer),
        refusal(Invariant::Profile),
        skipped(Invariant::Headers, note),
        skipped(Invariant::Model, note),
    ]
}

fn scope_failures(observations: &[Observation], scope: Scope<'_>) -> Vec<Failure> {
    let mut failures = Vec::new();
    for obs in observations {
        for cred in &obs.credentials {
            let Some(hosts) = scope(cred) else { continue };
            let provider = cred.provider.as_deref().unwrap_or("its provider");
            if hosts.iter().any(|pattern| host_matches(pattern, &obs.endpoint.host)) {
                continue;
            }
            let owner = cred.profile.as_deref().unwrap_or(provider);
            failures.push(Failure {
                invariant: Invariant::CredentialScope,
                seq: obs.seq,
                message: format!(
                    "the {} credential of {owner} reached {}, outside {provider}'s hosts",
                    cred.kind, obs.endpoint.host
                ),
                expected: format!("one of {}", hosts.join(", ")),
                actual: obs.endpoint.host.clone(),
                diff: head_diff::diff(&head_diff::without_credentials(obs), &head_diff::actual(obs)),
            });
        }
    }
    failures
}

fn tls_failures(observations: &[Observation]) -> Vec<Failure> {
    observations
        .iter()
        .filter(|o| o.endpoint.is_plaintext() && !o.endpoint.is_loopback() && !o.credentials.is_empty())
        .map(|obs| Failure {
            invariant: Invariant::Tls,
            seq: obs.seq,
            message: format!("a credential went over plain {} to {}", obs.endpoint.scheme, obs.endpoint.host),
            expected: "TLS (https/wss), or a loopback host".to_owned(),
            actual: obs.endpoint.url(),
            diff: head_diff::diff(&head_diff::over_tls(obs), &head_diff::actual(obs)),
        })
        .collect()
}

/// `api.openai.com` matches itself; `*.openai.com` matches its subdomains.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(domain) => host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.')),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::endpoint::Endpoint;

    fn is_dispatch(endpoint: &Endpoint) -> bool {
        endpoint.path.ends_with("/responses")
    }

    fn scope(credential: &SeenCredential) -> Option<Vec<String>> {
        match credential.provider.as_deref()? {
            "openai-codex" => Some(vec!["chatgpt.com".into()]),
            "openai" => Some(vec!["api.openai.com".into()]),
            _ => None,
        }
    }

    const CHATGPT: &str = "https://chatgpt.com/backend-api/codex/responses";
    const PLATFORM: &str = "https://api.openai.com/v1/responses";

    fn plan() -> ExpectedDispatch {
        ExpectedDispatch {
            endpoint: Endpoint::new("POST", CHATGPT).unwrap(),
            bearer: Bearer::Present {
                header: Some("authorization".into()),
                scheme: Some("Bearer".into()),
                kind: Some("jwt".into()),
            },
            profile: Some("openai-codex:u".into()),
            store: Some("kate".into()),
            fingerprint: Some("sha256:00000000000a".into()),
            headers: vec![HeaderExpect::rule(
                "chatgpt-account-id",
                Expect::Fingerprint(crate::credential::fingerprint(ACCOUNT)),
                "the login's account",
            )],
            model: Some("gpt-5.5".into()),
        }
    }

    const ACCOUNT: &str = "acct-u";

    fn jwt_of(profile: &str, provider: &str) -> SeenCredential {
        SeenCredential {
            header: "authorization".into(),
            scheme: Some("Bearer".into()),
            fingerprint: "sha256:00000000000a".into(),
            kind: "jwt".into(),
            profile: Some(profile.into()),
            provider: Some(provider.into()),
            store: Some("kate".into()),
            recorded_without_profile: false,
        }
    }

    fn obs(url: &str, credentials: Vec<SeenCredential>) -> Observation {
        Observation {
            seq: Some(1),
            endpoint: Endpoint::new("POST", url).unwrap(),
            dispatch: is_dispatch(&Endpoint::new("POST", url).unwrap()),
            credentials,
            headers: vec![("chatgpt-account-id".into(), ACCOUNT.into())],
            model: Some("gpt-5.5".into()),
        }
    }

    fn status(outcomes: &[InvariantOutcome], invariant: Invariant) -> Status {
        outcomes.iter().find(|o| o.invariant == invariant).unwrap().status
    }

    fn failure(outcomes: &[InvariantOutcome], invariant: Invariant) -> Failure {
        outcomes.iter().find(|o| o.invariant == invariant).unwrap().failures[0].clone()
    }

    fn run(expected: &Expected, observations: &[Observation]) -> Vec<InvariantOutcome> {
        evaluate(expected, observations, &scope)
    }

    #[test]
    fn the_planned_dispatch_passes_everything() {
        let out = run(
            &Expected::Dispatch(vec![plan()]),
            &[obs(CHATGPT, vec![jwt_of("openai-codex:u", "openai-codex")])],
        );
        assert!(out.iter().all(|o| o.status == Status::Pass), "{out:?}");
        assert_eq!(out.iter().map(|o| o.invariant).collect::<Vec<_>>(), Invariant::ALL.to_vec());
    }

    #[test]
    fn the_83380_dispatch_fails_endpoint_bearer_and_profile() {
        let out = run(&Expected::Dispatch(vec![plan()]), &[obs(PLATFORM, vec![])]);
        let endpoint = failure(&out, Invariant::Endpoint);
        assert_eq!(endpoint.expected, format!("POST {CHATGPT}"));
        assert_eq!(endpoint.actual, format!("POST {PLATFORM}"));
        assert!(endpoint.diff.contains(&format!("+POST {PLATFORM}")), "{}", endpoint.diff);
        assert_eq!(failure(&out, Invariant::Bearer).message, "no credential was sent");
        assert_eq!(failure(&out, Invariant::Profile).actual, "no profile (no credential)");
        assert_eq!(status(&out, Invariant::Model), Status::Pass);
        assert_eq!(status(&out, Invariant::Tls), Status::Pass);
    }

    #[test]
    fn wrong_header_wrong_scheme_and_wrong_kind_fail_bearer() {
        let mut in_api_key = jwt_of("openai-codex:u", "openai-codex");
        in_api_key.header = "x-api-key".into();
        in_api_key.scheme = None;
        let out = run(&Expected::Dispatch(vec![plan()]), &[obs(CHATGPT, vec![in_api_key])]);
        assert!(
            failure(&out, Invariant::Bearer)
                .message
                .contains("went in `x-api-key` instead of `authorization`")
        );
        let mut basic = jwt_of("openai-codex:u", "openai-codex");
        basic.scheme = Some("Basic".into());
        let out = run(&Expected::Dispatch(vec![plan()]), &[obs(CHATGPT, vec![basic])]);
        assert!(failure(&out, Invariant::Bearer).message.contains("auth scheme Basic"));
        let mut key = jwt_of("openai:default", "openai");
        key.kind = "openai-key".into();
        let out = run(&Expected::Dispatch(vec![plan()]), &[obs(CHATGPT, vec![key])]);
        assert!(
            failure(&out, Invariant::Bearer)
                .message
                .contains("kind openai-key was sent where one of kind jwt")
        );
    }

    #[test]
    fn a_credential_nobody_can_identify_fails_bearer_saying_so() {
        let mut unknown = jwt_of("x", "openai-codex");
        (unknown.kind, unknown.profile) = (UNKNOWN_KIND.into(), None);
        let out = run(&Expected::Dispatch(vec![plan()]), &[obs(CHATGPT, vec![unknown])]);
        assert!(failure(&out, Invariant::Bearer).message.contains("is of unknown kind"));
    }

    #[test]
    fn absent_bearer_fails_when_a_credential_is_sent() {
        let mut step = plan();
        step.bearer = Bearer::Absent;
        step.profile = None;
        let out = run(&Expected::Dispatch(vec![step.clone()]), &[obs(CHATGPT, vec![])]);
        assert_eq!(status(&out, Invariant::Bearer), Status::Pass);
        let out = run(
            &Expected::Dispatch(vec![step]),
            &[obs(CHATGPT, vec![jwt_of("openai-codex:u", "openai-codex")])],
        );
        assert_eq!(failure(&out, Invariant::Bearer).message, "a credential was sent where none is planned");
        assert!(failure(&out, Invariant::Profile).message.contains("where no profile may be bound"));
    }

    #[test]
    fn another_profile_or_an_unbound_credential_fails_profile() {
        let out = run(
            &Expected::Dispatch(vec![plan()]),
            &[obs(CHATGPT, vec![jwt_of("openai-codex:other", "openai-codex")])],
        );
        assert_eq!(failure(&out, Invariant::Profile).actual, "openai-codex:other");
        let mut unbound = jwt_of("x", "openai-codex");
        unbound.profile = None;
        let out = run(&Expected::Dispatch(vec![plan()]), &[obs(CHATGPT, vec![unbound])]);
        assert!(failure(&out, Invariant::Profile).message.contains("belongs to no known profile"));
    }

    #[test]
    fn the_account_header_is_a_rule_of_headers() {
        let mut other = obs(CHATGPT, vec![jwt_of("openai-codex:u", "openai-codex")]);
        other.headers = vec![("chatgpt-account-id".into(), "acct-other".into())];
        let out = run(&Expected::Dispatch(vec![plan()]), &[other.clone()]);
        let f = failure(&out, Invariant::Headers);
        assert!(
            f.message.starts_with("header chatgpt-account-id has another value: the login's account"),
            "{}",
            f.message
        );
        assert_eq!(
            f.actual,
            format!("chatgpt-account-id: <{}>", crate::credential::fingerprint("acct-other"))
        );
        assert!(f.diff.contains(&format!("+{}", f.actual)), "{}", f.diff);
        assert_eq!(status(&out, Invariant::Profile), Status::Pass);
        other.headers.clear();
        let f = failure(&run(&Expected::Dispatch(vec![plan()]), &[other]), Invariant::Headers);
        assert!(f.message.starts_with("header chatgpt-account-id is missing"), "{}", f.message);
        assert_eq!(f.actual, "(no chatgpt-account-id)");
    }

    #[test]
    fn forbidden_headers_and_list_elements_fail_headers_with_their_why() {
        let mut step = plan();
        step.headers = vec![
            HeaderExpect::rule("x-api-key", Expect::Present(false), "bearer only"),
            HeaderExpect::rule("anthropic-beta", Expect::Has("oauth-2025-04-20".into()), "oauth needs it"),
            HeaderExpect::rule(
                "anthropic-beta",
                Expect::Lacks("context-1m-2025-08-07".into()),
                "1m breaks oauth",
            ),
        ];
        let mut o = obs(CHATGPT, vec![jwt_of("openai-codex:u", "openai-codex")]);
        o.headers = vec![("anthropic-beta".into(), "claude-code-20250219, context-1m-2025-08-07".into())];
        let out = run(&Expected::Dispatch(vec![step.clone()]), &[o.clone()]);
        let failures = &out.iter().find(|i| i.invariant == Invariant::Headers).unwrap().failures;
        let messages: Vec<&str> = failures.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "header anthropic-beta does not list oauth-2025-04-20: oauth needs it",
                "header anthropic-beta lists context-1m-2025-08-07, which must not be sent: 1m breaks oauth"
            ]
        );
        o.headers = vec![
            ("anthropic-beta".into(), "oauth-2025-04-20".into()),
            ("X-Api-Key".into(), "[REDACTED sha256:0123456789ab]".into()),
        ];
        let f = failure(&run(&Expected::Dispatch(vec![step]), &[o]), Invariant::Headers);
        assert_eq!(f.message, "header x-api-key was sent, which must not be: bearer only");
        assert_eq!(
            (f.expected.as_str(), f.actual.as_str()),
            ("(no x-api-key)", "x-api-key: <sha256:0123456789ab>")
        );
    }

    #[test]
    fn the_same_profile_from_another_store_fails_profile_naming_both_stores() {
        let mut mains = jwt_of("openai-codex:u", "openai-codex");
        mains.store = Some("main".into());
        let out = run(&Expected::Dispatch(vec![plan()]), &[obs(CHATGPT, vec![mains])]);
        let f = failure(&out, Invariant::Profile);
        assert_eq!(
            f.message,
            "the credential of agent main's openai-codex:u was sent instead of agent kate's openai-codex:u's: \
             both stores hold openai-codex:u, with different secrets"
        );
        assert_eq!(
            (f.expected.as_str(), f.actual.as_str()),
            ("agent kate's openai-codex:u", "agent main's openai-codex:u")
        );
    }

    #[test]
    fn oauth_token_on_the_platform_api_fails_credential_scope() {
        let out = run(
            &Expected::Dispatch(vec![plan()]),
            &[obs(PLATFORM, vec![jwt_of("openai-codex:u", "openai-codex")])],
        );
        let f = failure(&out, Invariant::CredentialScope);
        assert!(f.message.contains("reached api.openai.com, outside openai-codex's hosts"), "{}", f.message);
        assert!(f.diff.contains("-(no credential header)"), "{}", f.diff);
        assert_eq!(status(&out, Invariant::Bearer), Status::Pass);
    }

    #[test]
    fn scope_covers_requests_that_are_not_dispatches() {
        let refresh =
            obs("https://telemetry.example.com/v1/events", vec![jwt_of("openai-codex:u", "openai-codex")]);
        assert!(!refresh.dispatch);
        let out = run(
            &Expected::Dispatch(vec![plan()]),
            &[obs(CHATGPT, vec![jwt_of("openai-codex:u", "openai-codex")]), refresh],
        );
        assert_eq!(failure(&out, Invariant::CredentialScope).actual, "telemetry.example.com");
        assert_eq!(status(&out, Invariant::Endpoint), Status::Pass);
    }

    #[test]
    fn credentials_over_plain_http_fail_tls_except_to_loopback() {
        let mut step = plan();
        step.endpoint = Endpoint::new("POST", "http://127.0.0.1:4000/v1/responses").unwrap();
        let local = obs("http://127.0.0.1:4000/v1/responses", vec![jwt_of("l", "litellm")]);
        assert_eq!(
            status(&run(&Expected::Dispatch(vec![step.clone()]), &[local]), Invariant::Tls),
            Status::Pass
        );
        let remote = obs("http://proxy.example.com/v1/responses", vec![jwt_of("l", "litellm")]);
        let f = failure(&run(&Expected::Dispatch(vec![step]), &[remote]), Invariant::Tls);
        assert!(f.diff.contains("-POST https://proxy.example.com/v1/responses"), "{}", f.diff);
    }

    #[test]
    fn wrong_or_missing_model_fails_model() {
        let mut o = obs(CHATGPT, vec![jwt_of("openai-codex:u", "openai-codex")]);
        o.model = Some("gpt-4o".into());
        let out = run(&Expected::Dispatch(vec![plan()]), &[o.clone()]);
        assert_eq!(failure(&out, Invariant::Model).message, "the body asks for model gpt-4o, not gpt-5.5");
        o.model = None;
        assert_eq!(
            failure(&run(&Expected::Dispatch(vec![plan()]), &[o]), Invariant::Model).actual,
            "no model"
        );
    }

    #[test]
    fn no_dispatch_observed_fails_endpoint_and_skips_the_rest() {
        let out = run(&Expected::Dispatch(vec![plan()]), &[]);
        assert!(failure(&out, Invariant::Endpoint).message.starts_with("no dispatch was observed"));
        assert_eq!(status(&out, Invariant::Bearer), Status::Skip);
    }

    #[test]
    fn a_dispatch_against_a_refusal_fails_bearer_and_profile() {
        let refusal = Expected::NoDispatch { reason: "No API key found for provider \"openai\"".into() };
        let out = run(&refusal, &[obs(PLATFORM, vec![])]);
        assert_eq!(failure(&out, Invariant::Bearer).message, NO_ELIGIBLE_CREDENTIAL);
        assert_eq!(failure(&out, Invariant::Profile).message, NO_ELIGIBLE_CREDENTIAL);
        assert_eq!(status(&out, Invariant::Endpoint), Status::Skip);
        assert!(run(&refusal, &[]).iter().all(|o| o.status != Status::Fail));
    }

    #[test]
    fn a_later_dispatch_is_judged_against_the_fallback_it_names() {
        let mut fallback = plan();
        fallback.endpoint = Endpoint::new("POST", PLATFORM).unwrap();
        fallback.model = Some("gpt-4.1".into());
        fallback.profile = Some("openai:default".into());
        fallback.bearer = Bearer::Present {
            header: Some("authorization".into()),
            scheme: Some("Bearer".into()),
            kind: Some("openai-key".into()),
        };
        let mut second = obs(
            PLATFORM,
            vec![SeenCredential { kind: "openai-key".into(), ..jwt_of("openai:default", "openai") }],
        );
        second.model = Some("gpt-4.1".into());
        second.seq = Some(2);
        let first = obs(CHATGPT, vec![jwt_of("openai-codex:u", "openai-codex")]);
        let out = run(&Expected::Dispatch(vec![plan(), fallback]), &[first, second]);
        assert!(out.iter().all(|o| o.status == Status::Pass), "{out:?}");
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("chatgpt.com", "chatgpt.com"));
        assert!(host_matches("*.openai.com", "api.openai.com"));
        assert!(!host_matches("*.openai.com", "evilopenai.com"));
        assert!(!host_matches("chatgpt.com", "api.openai.com"));
    }
}
