//! The text form of a plan: the request, then the reasoning, one line a step.
//! Credentials appear as profile id, kind and fingerprint only.

use std::fmt::Write as _;

use super::{
    Candidate, DispatchError, DispatchPlan, EmbeddingsPlan, Fallback, ImagesPlan, PlannedCredential, Step,
};
use crate::dispatch::catalog::{Expect, FieldExpect, HeaderExpect};

/// `name: value` of a header expectation.
pub(crate) fn header_text(header: &HeaderExpect) -> String {
    let name = &header.name;
    match &header.expect {
        Expect::Equals(serde_json::Value::String(value)) => format!("{name}: {value}"),
        Expect::Equals(value) => format!("{name}: {value}"),
        Expect::Contains(part) => format!("{name}: …{part}…"),
        Expect::Present(true) => format!("{name}: (any)"),
        Expect::Present(false) => format!("no {name}"),
        Expect::Fingerprint(fp) => format!("{name}: <secret {fp}>"),
        Expect::Has(element) => format!("{name}: …{element}…"),
        Expect::Lacks(element) => format!("{name}: no {element}"),
        Expect::IfSent(inner) => {
            format!("{} (when sent)", header_text(&HeaderExpect::sent(name.clone(), (**inner).clone())))
        }
    }
}

/// `field = value` of a body expectation.
pub(crate) fn field_text(field: &FieldExpect) -> String {
    let name = &field.field;
    match &field.expect {
        Expect::Equals(value) => format!("{name} = {value}"),
        Expect::Contains(part) => format!("{name} contains {part:?}"),
        Expect::Present(true) => format!("{name} present"),
        Expect::Present(false) => format!("no {name}"),
        Expect::Fingerprint(fp) => format!("{name} = <secret {fp}>"),
        Expect::Has(element) => format!("{name} lists {element:?}"),
        Expect::Lacks(element) => format!("{name} does not list {element:?}"),
        Expect::IfSent(inner) => format!(
            "{} (when present)",
            field_text(&FieldExpect { field: name.clone(), expect: (**inner).clone() })
        ),
    }
}

fn line(out: &mut String, label: &str, text: &str) {
    let _ = writeln!(out, "  {label:<11} {text}");
}

fn candidates(out: &mut String, list: &[Candidate]) {
    for (i, c) in list.iter().enumerate() {
        let mark = if c.eligible { "✓" } else { "✗" };
        line(out, if i == 0 { "candidates" } else { "" }, &format!("{mark} {} — {}", c.profile, c.why));
    }
}

fn fallbacks(out: &mut String, list: &[Fallback]) {
    for fallback in list {
        let text = match fallback {
            Fallback::Plan(p) => {
                let cred = p.credential.as_ref().map_or("no credential".to_owned(), |c| c.profile.clone());
                format!("{} → {} ({cred})", p.model_ref, p.endpoint)
            }
            Fallback::Error(e) => {
                format!("{} → no dispatch: {}", e.model_ref.as_deref().unwrap_or("?"), e.message)
            }
        };
        line(out, "fallback", &text);
    }
}

fn steps(out: &mut String, heading: &str, list: &[Step]) {
    let _ = writeln!(out, "{heading}");
    for step in list {
        let why = if step.why.is_empty() { String::new() } else { format!(" — {}", step.why) };
        let _ = writeln!(out, "  {:<13} {}{why}", step.name, step.decision);
    }
}

/// `profile · type kind · fingerprint · header: scheme · may reach hosts`, or `none`.
fn credential_text(credential: Option<&PlannedCredential>) -> String {
    let Some(c) = credential else { return "none".to_owned() };
    let header = c.header.as_deref().unwrap_or("no header");
    let scheme = c.scheme.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
    let refresh = if c.refresh_first { " · refreshed first" } else { "" };
    format!(
        "{} · {} {} · {} · {header}:{scheme} · may reach {}{refresh}",
        c.profile,
        c.stored_type,
        c.kind,
        c.fingerprint,
        c.allowed_hosts.join(", ")
    )
}

/// The embeddings plan as text, in the form of [`render_text`].
pub fn render_embeddings_text(plan: &EmbeddingsPlan) -> String {
    let body = match plan.model_in_path {
        true => format!("(model {:?} in the path)", plan.model),
        false => format!("model = {:?}", plan.model),
    };
    SideCallText {
        endpoint: &plan.endpoint,
        class: plan.endpoint_class.as_deref(),
        what: format!("memory-search embeddings, provider {}", plan.provider),
        credential: plan.credential.as_ref(),
        body,
        candidates: &plan.candidates,
        steps_title: "why (embeddings)",
        steps: &plan.steps,
    }
    .render()
}

/// The image-generation plan as text, in the form of [`render_text`].
pub fn render_images_text(plan: &ImagesPlan) -> String {
    SideCallText {
        endpoint: &plan.endpoint,
        class: plan.endpoint_class.as_deref(),
        what: format!("image generation, provider {}", plan.provider),
        credential: plan.credential.as_ref(),
        body: format!("model = {:?}", plan.model),
        candidates: &plan.candidates,
        steps_title: "why (image)",
        steps: &plan.steps,
    }
    .render()
}

/// What the text of a non-chat call's plan shows.
struct SideCallText<'a> {
    endpoint: &'a str,
    class: Option<&'a str>,
    what: String,
    credential: Option<&'a PlannedCredential>,
    body: String,
    candidates: &'a [Candidate],
    steps_title: &'a str,
    steps: &'a [Step],
}

impl SideCallText<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.endpoint);
        let class = self.class.unwrap_or("unclassified");
        line(&mut out, "class", &format!("{class} ({})", self.what));
        line(&mut out, "credential", &credential_text(self.credential));
        line(&mut out, "body", &self.body);
        candidates(&mut out, self.candidates);
        steps(&mut out, self.steps_title, self.steps);
        out
    }
}

/// The plan as text.
pub fn render_text(plan: &DispatchPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", plan.endpoint);
    let class = plan.endpoint_class.as_deref().unwrap_or("unclassified");
    line(&mut out, "class", &format!("{class} (api {})", plan.api));
    line(&mut out, "model", &format!("{} (ref {}, provider {})", plan.model, plan.model_ref, plan.provider));
    line(&mut out, "runtime", &format!("{} — {} sends the request", plan.runtime, plan.sender));
    let credential = credential_text(plan.credential.as_ref());
    line(&mut out, "credential", &credential);
    if let Some(a) = &plan.account {
        line(&mut out, "account", &format!("{}: {} ({})", a.header, a.value, a.fingerprint));
    }
    if !plan.headers.is_empty() {
        let headers: Vec<String> = plan.headers.iter().map(header_text).collect();
        line(&mut out, "headers", &headers.join("; "));
    }
    let model = match plan.model_in_path {
        true => format!("(model {:?} in the path)", plan.model),
        false => format!("model = {:?}", plan.model),
    };
    let body: Vec<String> = std::iter::once(model).chain(plan.body.iter().map(field_text)).collect();
    line(&mut out, "body", &body.join(", "));
    if let Some(ws) = &plan.websocket {
        line(&mut out, "websocket", &format!("{} (tried first)", ws.url));
    }
    candidates(&mut out, &plan.candidates);
    fallbacks(&mut out, &plan.fallbacks);
    steps(
        &mut out,
        &format!("why ({} {}, agent {})", plan.dispatcher, plan.version, plan.agent),
        &plan.steps,
    );
    out
}

/// A plan error as text: no dispatch, OpenClaw's message, then the reasoning.
pub fn render_error_text(error: &DispatchError) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "no dispatch: {}", error.message);
    candidates(&mut out, &error.candidates);
    fallbacks(&mut out, &error.fallbacks);
    steps(&mut out, "why", &error.steps);
    out
}
