//! `diff A B`: what differs between the dispatches of two cassettes.
//!
//! Interactions are paired by order and endpoint: the sequences of
//! endpoints (method, scheme, host, port, path) are aligned with a Myers
//! diff, so an interaction added in the middle does not shift every pair
//! after it, and interactions that differ only in endpoint still pair up by
//! position. Each pair is compared aspect by aspect ([`ASPECTS`]):
//! endpoint (with query), credential (fingerprint with its kind, profile and
//! account from `meta.credentials`), request headers (sorted, without the
//! credential headers and without [`VOLATILE_HEADERS`]), request body (JSON
//! with sorted keys, pretty-printed, so key order does not count) and the
//! response status. Response bodies are left out: two recordings of the same
//! dispatch get different generated answers, ids and timestamps.
//!
//! `user-agent` is deliberately *not* volatile: it names the dispatcher and
//! its version, a difference worth seeing when comparing versions.

use std::fmt;
use std::path::Path;

use serde_json::Value;
use similar::{Algorithm, DiffOp, TextDiff, capture_diff_slices};

use super::model::{Body, BodyContent, Cassette, Interaction, Meta, Payload};
use super::wire::{BASE64, sse_event_text};
use crate::credential::fingerprint_in_marker;
use crate::credential::is_credential_header;
use crate::error::Result;
use base64::Engine as _;

/// Request headers a diff leaves out, with the reason. A trailing `*`
/// matches a prefix.
pub const VOLATILE_HEADERS: &[(&str, &str)] = &[
    ("date", "the time of the request"),
    ("content-length", "follows the body, which is compared itself"),
    ("host", "part of the endpoint"),
    ("cookie", "session state that changes per run (values are redacted anyway)"),
    ("x-request-id", "random per request"),
    ("request-id", "random per request"),
    ("x-client-request-id", "random per request"),
    ("idempotency-key", "random per request"),
    ("session_id", "random per run (Codex)"),
    ("session-id", "random per run"),
    ("x-stainless-retry-count", "counts retries, not what was sent"),
    ("x-stainless-timeout", "a client timeout setting per call"),
    ("traceparent", "tracing id"),
    ("tracestate", "tracing state"),
    ("baggage", "tracing context"),
    ("sentry-trace", "tracing id"),
    ("x-amzn-trace-id", "tracing id"),
    ("x-cloud-trace-context", "tracing id"),
    ("x-b3-*", "tracing ids"),
    ("x-datadog-*", "tracing ids"),
    ("connection", "hop-by-hop transport"),
    ("keep-alive", "hop-by-hop transport"),
    ("proxy-connection", "hop-by-hop transport"),
    ("transfer-encoding", "hop-by-hop transport"),
    ("te", "hop-by-hop transport"),
];

/// Whether header `name` is left out of a diff.
pub fn is_volatile(name: &str) -> bool {
    VOLATILE_HEADERS.iter().any(|(pattern, _)| match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *pattern,
    })
}

type Aspect = fn(&Interaction, &Meta) -> String;

/// What is compared for each pair, in the order it is shown.
pub const ASPECTS: &[(&str, Aspect)] = &[
    ("endpoint", endpoint),
    ("credential", credential),
    ("request headers", request_headers),
    ("request body", request_body),
    ("response", response),
];

/// One aspect that differs: its text in A and in B.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The aspect's name, e.g. `endpoint`.
    pub aspect: &'static str,
    /// The aspect's text in A.
    pub old: String,
    /// The aspect's text in B.
    pub new: String,
}

/// One line of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A pair of interactions that differ.
    Changed {
        /// `seq` in A.
        a: u64,
        /// `seq` in B.
        b: u64,
        /// A's `METHOD URL`.
        title: String,
        /// The aspects that differ.
        differences: Vec<Difference>,
    },
    /// An interaction of A without a partner in B.
    OnlyInA {
        /// `seq` in A.
        seq: u64,
        /// Its `METHOD URL`.
        title: String,
    },
    /// An interaction of B without a partner in A.
    OnlyInB {
        /// `seq` in B.
        seq: u64,
        /// Its `METHOD URL`.
        title: String,
    },
}

/// The semantic diff of two cassettes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CassetteDiff {
    /// How A is named in the output.
    pub a_name: String,
    /// How B is named in the output.
    pub b_name: String,
    /// How many interactions paired up.
    pub pairs: usize,
    /// What differs, in order.
    pub entries: Vec<Entry>,
}

impl CassetteDiff {
    /// Whether anything differs.
    pub fn differs(&self) -> bool {
        !self.entries.is_empty()
    }

    /// 1 when the cassettes differ, 0 when they match.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.differs())
    }
}

/// Load both cassettes (strictly) and diff them, naming them by their paths.
pub fn diff_files(a: &Path, b: &Path) -> Result<CassetteDiff> {
    let (left, right) = (super::load(a)?, super::load(b)?);
    Ok(diff(&left, &right, &a.display().to_string(), &b.display().to_string()))
}

/// The semantic diff of `a` and `b`, named `a_name` and `b_name`.
pub fn diff(a: &Cassette, b: &Cassette, a_name: &str, b_name: &str) -> CassetteDiff {
    let keys = |c: &Cassette| c.interactions.iter().map(endpoint_key).collect::<Vec<_>>();
    let (a_keys, b_keys) = (keys(a), keys(b));
    let mut entries = Vec::new();
    let mut pairs = 0;
    let mut pair = |i: usize, j: usize, entries: &mut Vec<Entry>| {
        pairs += 1;
        entries.extend(compare(&a.interactions[i], &a.meta, &b.interactions[j], &b.meta));
    };
    for op in capture_diff_slices(Algorithm::Myers, &a_keys, &b_keys) {
        let (old, new) = (op.old_range(), op.new_range());
        let paired = match op {
            DiffOp::Equal { .. } | DiffOp::Replace { .. } => old.len().min(new.len()),
            DiffOp::Delete { .. } | DiffOp::Insert { .. } => 0,
        };
        for k in 0..paired {
            pair(old.start + k, new.start + k, &mut entries);
        }
        for i in old.start + paired..old.end {
            let x = &a.interactions[i];
            entries.push(Entry::OnlyInA { seq: x.seq, title: title(x) });
        }
        for j in new.start + paired..new.end {
            let x = &b.interactions[j];
            entries.push(Entry::OnlyInB { seq: x.seq, title: title(x) });
        }
    }
    CassetteDiff { a_name: a_name.to_owned(), b_name: b_name.to_owned(), pairs, entries }
}

fn compare(a: &Interaction, a_meta: &Meta, b: &Interaction, b_meta: &Meta) -> Option<Entry> {
    let differences: Vec<Difference> = ASPECTS
        .iter()
        .filter_map(|(aspect, text)| {
            let (old, new) = (text(a, a_meta), text(b, b_meta));
            (old != new).then_some(Difference { aspect, old, new })
        })
        .collect();
    (!differences.is_empty()).then(|| Entry::Changed { a: a.seq, b: b.seq, title: title(a), differences })
}

fn title(interaction: &Interaction) -> String {
    format!("{} {}", interaction.request.method, interaction.request.url)
}

/// Method, scheme, host, port and path: what pairs interactions up.
fn endpoint_key(interaction: &Interaction) -> String {
    let request = &interaction.request;
    let Ok(uri) = request.url.parse::<http::Uri>() else { return title(interaction) };
    let scheme = uri.scheme_str().unwrap_or("");
    let default_port = if matches!(scheme, "https" | "wss") { 443 } else { 80 };
    let host = uri.host().unwrap_or("").to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(default_port);
    format!("{} {scheme}://{host}:{port}{}", request.method, uri.path())
}

fn endpoint(interaction: &Interaction, _: &Meta) -> String {
    title(interaction)
}

/// Each credential header with markers shown as fingerprints and what
/// `meta.credentials` says about them.
fn credential(interaction: &Interaction, meta: &Meta) -> String {
    let lines: Vec<String> = interaction
        .request
        .headers
        .iter()
        .filter(|(name, _)| is_credential_header(name))
        .map(|(name, value)| {
            let facts: Vec<String> = fingerprints(value).iter().map(|fp| describe(fp, meta)).collect();
            format!("{name}: {}{}", unmark(value), bracket(&facts))
        })
        .collect();
    if lines.is_empty() { "(none)".to_owned() } else { lines.join("\n") }
}

/// `text` with each marker shown as its bare fingerprint.
fn unmark(text: &str) -> String {
    fingerprints(text).iter().fold(text.to_owned(), |t, fp| t.replace(&format!("[REDACTED {fp}]"), fp))
}

fn bracket(facts: &[String]) -> String {
    if facts.is_empty() { String::new() } else { format!(" ({})", facts.join("; ")) }
}

/// The fingerprints of the markers in `text`.
fn fingerprints(text: &str) -> Vec<&str> {
    text.match_indices("[REDACTED ")
        .filter_map(|(start, _)| {
            let end = start + text[start..].find(']')?;
            fingerprint_in_marker(&text[start..=end])
        })
        .collect()
}

fn describe(fp: &str, meta: &Meta) -> String {
    let Some(facts) = meta.credentials.get(fp) else { return "not in meta.credentials".to_owned() };
    let mut parts = vec![facts.kind.clone()];
    parts.extend(facts.profile.as_ref().map(|p| format!("profile {p}")));
    parts.extend(facts.account.as_ref().map(|a| format!("account {a}")));
    parts.join(", ")
}

fn request_headers(interaction: &Interaction, _: &Meta) -> String {
    let mut lines: Vec<String> = interaction
        .request
        .headers
        .iter()
        .filter(|(name, _)| !is_credential_header(name) && !is_volatile(name))
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    // Order is transport detail (HTTP/1.1 and HTTP/2 clients order differently).
    lines.sort();
    lines.join("\n")
}

fn request_body(interaction: &Interaction, _: &Meta) -> String {
    body_text(&interaction.request.body)
}

fn response(interaction: &Interaction, _: &Meta) -> String {
    let mut lines = Vec::new();
    lines.extend(interaction.response.as_ref().map(|r| format!("status {}", r.status)));
    lines.extend(
        interaction.websocket.as_ref().map(|ws| format!("websocket, {} messages", ws.messages.len())),
    );
    lines.extend(interaction.error.as_ref().map(|e| format!("error: {e}")));
    lines.join("\n")
}

/// A body as comparable text: JSON pretty with sorted keys, streams joined.
fn body_text(body: &Body) -> String {
    let text = match &body.content {
        BodyContent::Empty(_) => String::new(),
        BodyContent::Json(value) => serde_json::to_string_pretty(&sorted(value)).unwrap_or_default(),
        BodyContent::JsonText(json) => serde_json::from_str(json.get())
            .and_then(|value| serde_json::to_string_pretty(&sorted(&value)))
            .unwrap_or_default(),
        BodyContent::Text(text) => text.clone(),
        BodyContent::Base64(data) => bytes_summary(data),
        BodyContent::Sse(events) => events.iter().map(sse_event_text).collect(),
        BodyContent::Chunks(chunks) => chunks
            .iter()
            .map(|c| match &c.payload {
                Payload::Text(text) => text.clone(),
                Payload::Base64(data) => bytes_summary(data),
            })
            .collect(),
        BodyContent::File(name) => format!("<side file {name}, {} bytes>", body.len.unwrap_or(0)),
    };
    match &body.decoded_from {
        Some(encoding) => format!("(decoded from {encoding})\n{text}"),
        None => text,
    }
}

fn bytes_summary(data: &str) -> String {
    let len = BASE64.decode(data).map_or(0, |b| b.len());
    format!("<{len} bytes, base64 {}>", crate::credential::fingerprint(data))
}

/// `value` with object keys sorted at every level.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(k, _)| *k);
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

impl fmt::Display for CassetteDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, None)
    }
}

/// A [`CassetteDiff`] showing at most a number of diff lines per aspect.
pub struct Brief<'a>(&'a CassetteDiff, usize);

impl fmt::Display for Brief<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, Some(self.1))
    }
}

impl CassetteDiff {
    /// The diff with at most `lines` diff lines per aspect, saying how many
    /// more there are (for a diff inside another command's report).
    pub fn brief(&self, lines: usize) -> Brief<'_> {
        Brief(self, lines)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, limit: Option<usize>) -> fmt::Result {
        if !self.differs() {
            return writeln!(f, "no differences: {} interaction pairs match", self.pairs);
        }
        writeln!(f, "--- {}\n+++ {}", self.a_name, self.b_name)?;
        let (mut changed, mut only_a, mut only_b) = (0, 0, 0);
        for entry in &self.entries {
            match entry {
                Entry::Changed { a, b, title, differences } => {
                    changed += 1;
                    writeln!(f, "#{a} ↔ #{b} {title}")?;
                    differences.iter().try_for_each(|d| write_difference(f, d, limit))?;
                }
                Entry::OnlyInA { seq, title } => {
                    only_a += 1;
                    writeln!(f, "only in {}: #{seq} {title}", self.a_name)?;
                }
                Entry::OnlyInB { seq, title } => {
                    only_b += 1;
                    writeln!(f, "only in {}: #{seq} {title}", self.b_name)?;
                }
            }
        }
        writeln!(
            f,
            "{changed} of {} interaction pairs differ; {only_a} only in {}, {only_b} only in {}",
            self.pairs, self.a_name, self.b_name
        )
    }
}

fn write_difference(f: &mut fmt::Formatter<'_>, d: &Difference, limit: Option<usize>) -> fmt::Result {
    writeln!(f, "  {}", d.aspect)?;
    let (old, new) = (with_newline(&d.old), with_newline(&d.new));
    let diff = TextDiff::from_lines(&old, &new);
    let hunks: Vec<String> =
        diff.unified_diff().context_radius(3).iter_hunks().map(|h| h.to_string()).collect();
    let lines: Vec<&str> = hunks.iter().flat_map(|h| h.lines()).collect();
    let shown = limit.unwrap_or(usize::MAX).min(lines.len());
    for line in &lines[..shown] {
        writeln!(f, "    {line}")?;
    }
    if shown < lines.len() {
        writeln!(
            f,
            "    … {} more lines of the {} (`dispatch-vcr diff` shows them all)",
            lines.len() - shown,
            d.aspect
        )?;
    }
    Ok(())
}

/// Every line ends with a newline, so a last line is not reported as
/// "no newline at end" when only its text changed.
fn with_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') { text.to_owned() } else { format!("{text}\n") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::{CredentialFacts, Request, Response};
    use crate::credential::redaction_marker;
    use serde_json::json;

    fn interaction(seq: u64, url: &str, body: Value) -> Interaction {
        let headers = vec![
            ("authorization".into(), format!("Bearer {}", redaction_marker("tok"))),
            ("content-type".into(), "application/json".into()),
            ("date".into(), format!("day {seq}")),
        ];
        let request = Request::new("POST", url, headers, Body::from(BodyContent::Json(body)));
        let response = Response { status: 200, headers: Vec::new(), body: Body::default() };
        Interaction { response: Some(response), ..Interaction::new(seq, request) }
    }

    fn cassette(interactions: Vec<Interaction>) -> Cassette {
        let mut c = Cassette::new(Meta::default());
        c.meta.credentials.insert(
            crate::credential::fingerprint("tok"),
            CredentialFacts {
                kind: "jwt".into(),
                profile: Some("openai-codex:u".into()),
                account: None,
                store: None,
            },
        );
        c.interactions = interactions;
        c
    }

    const URL: &str = "https://api.openai.com/v1/responses";

    #[test]
    fn volatile_headers_include_prefixes() {
        assert!(is_volatile("x-datadog-trace-id"));
        assert!(is_volatile("date"));
        assert!(!is_volatile("user-agent"));
    }

    #[test]
    fn equal_cassettes_do_not_differ() {
        let a = cassette(vec![interaction(1, URL, json!({"model": "m"}))]);
        let d = diff(&a, &a.clone(), "a", "b");
        assert!(!d.differs());
        assert_eq!(d.to_string(), "no differences: 1 interaction pairs match\n");
    }

    #[test]
    fn json_key_order_and_volatile_headers_do_not_count() {
        let a = cassette(vec![interaction(1, URL, json!({"model": "m", "stream": true}))]);
        let b = cassette(vec![interaction(7, URL, json!({"stream": true, "model": "m"}))]);
        assert!(!diff(&a, &b, "a", "b").differs());
    }

    #[test]
    fn differing_only_in_endpoint_shows_just_the_endpoint() {
        let a = cassette(vec![interaction(1, URL, json!({"model": "m"}))]);
        let b = cassette(vec![interaction(
            1,
            "https://chatgpt.com/backend-api/codex/responses",
            json!({"model": "m"}),
        )]);
        let d = diff(&a, &b, "a.json", "b.json");
        let Entry::Changed { differences, .. } = &d.entries[0] else { panic!("{d:?}") };
        assert_eq!(differences.iter().map(|x| x.aspect).collect::<Vec<_>>(), ["endpoint"]);
        insta::assert_snapshot!(d.to_string());
    }

    #[test]
    fn credential_and_body_differences_are_shown_with_facts() {
        let a = cassette(vec![interaction(1, URL, json!({"model": "gpt-5.5", "input": "hi"}))]);
        let mut b = cassette(vec![interaction(1, URL, json!({"model": "gpt-5.4", "input": "hi"}))]);
        b.interactions[0].request.headers[0].1 = format!("Bearer {}", redaction_marker("other"));
        insta::assert_snapshot!(diff(&a, &b, "a.json", "b.json").to_string());
    }

    #[test]
    fn a_brief_diff_caps_each_aspect_and_says_how_much_is_left() {
        let long = |tag: &str| json!((0..40).map(|i| format!("{tag} {i}")).collect::<Vec<_>>());
        let a = cassette(vec![interaction(1, URL, json!({"model": "m", "input": long("a")}))]);
        let b = cassette(vec![interaction(1, URL, json!({"model": "m", "input": long("b")}))]);
        let d = diff(&a, &b, "a", "b");
        let (full, brief) = (d.to_string(), d.brief(10).to_string());
        assert!(full.lines().count() > 80, "{full}");
        let body: Vec<&str> = brief.lines().skip_while(|l| *l != "  request body").skip(1).collect();
        assert_eq!(body.len(), 12, "10 lines, the note, the summary: {brief}");
        assert!(
            body[10].contains("more lines of the request body (`dispatch-vcr diff` shows them all)"),
            "{brief}"
        );
    }

    #[test]
    fn an_inserted_interaction_does_not_shift_the_pairs() {
        let a =
            cassette(vec![interaction(1, URL, json!({})), interaction(2, "https://x.example/2", json!({}))]);
        let b = cassette(vec![
            interaction(1, URL, json!({})),
            interaction(2, "https://new.example/t", json!({})),
            interaction(3, "https://x.example/2", json!({})),
        ]);
        let d = diff(&a, &b, "a", "b");
        assert_eq!(d.entries, [Entry::OnlyInB { seq: 2, title: "POST https://new.example/t".into() }]);
        assert_eq!(d.pairs, 2);
    }

    #[test]
    fn marker_fingerprints_are_found() {
        let text = format!("a {} b {}", redaction_marker("x"), redaction_marker("y"));
        assert_eq!(fingerprints(&text).len(), 2);
    }
}
