//! Why a request missed, and which recorded interaction it came closest to.
//! Pure: the caller hands in heads whose secrets are fingerprints already.
//!
//! Nearness ranks, in order: the same request (its answers used up), the
//! same host and path (another method or query), the same host, anything;
//! within a rank the request line (`METHOD URL`) most similar by characters,
//! then the earliest interaction. The explanation shows a unified diff of the
//! two heads: request line, then headers sorted by name.

use std::fmt;

use serde_json::{Value, json};
use similar::TextDiff;

use super::matcher::Key;

/// Headers left out of the heads compared: they describe one hop (or repeat
/// the URL), so a recorded and a replayed head differ there by construction.
const HOP_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

/// A request head as explanations show it; secrets are fingerprints already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `GET`, `POST`, …
    pub method: String,
    /// Absolute URL, secret query values redacted.
    pub url: String,
    /// Headers in order, names lower-case, credentials redacted.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// `METHOD URL`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    /// The request line, then one `name: value` line per header, sorted by
    /// name (duplicates in their order), hop-by-hop headers left out.
    fn text(&self) -> String {
        let mut headers: Vec<&(String, String)> =
            self.headers.iter().filter(|(name, _)| !HOP_HEADERS.contains(&name.as_str())).collect();
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        let mut text = self.line();
        text.push('\n');
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text
    }
}

/// One recorded interaction as the matcher and the explainer see it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its `seq` in the cassette.
    pub seq: u64,
    /// Its match key (`None` if its URL cannot match anything).
    pub key: Option<Key>,
    /// Its request head.
    pub head: Head,
}

/// How close the nearest recorded interaction is to a missed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Closeness {
    /// The same request: method, URL and query.
    SameRequest,
    /// The same host and path; method, scheme, port or query differ.
    SameHostAndPath,
    /// The same host, another path.
    SameHost,
    /// Another host: only the request line's text is alike.
    Elsewhere,
}

impl Closeness {
    fn of(recorded: Option<&Key>, live: &Key) -> Self {
        match recorded {
            Some(key) if key == live => Self::SameRequest,
            Some(key) if key.host() == live.host() && key.path() == live.path() => Self::SameHostAndPath,
            Some(key) if key.host() == live.host() => Self::SameHost,
            _ => Self::Elsewhere,
        }
    }

    /// How the explanation words it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::SameRequest => "the same request",
            Self::SameHostAndPath => "same host and path",
            Self::SameHost => "same host, another path",
            Self::Elsewhere => "another host",
        }
    }
}

/// The recorded interaction nearest to a missed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nearest {
    /// Its `seq`.
    pub seq: u64,
    /// Its request line.
    pub request: String,
    /// How close it is.
    pub closeness: Closeness,
    /// Unified diff from its head (`---`) to the missed request's (`+++`).
    pub diff: String,
}

/// A request the cassette could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// `METHOD URL` of the request, secrets redacted.
    pub request: String,
    /// When the cassette has this very request but each of its answers was
    /// served already: how many it has.
    pub used_up: Option<usize>,
    /// The nearest recorded interaction; `None` for an empty cassette.
    pub nearest: Option<Nearest>,
}

/// Index of the entry nearest to `live` (see the module doc), and how near.
pub fn nearest(live_key: Option<&Key>, live_line: &str, entries: &[Entry]) -> Option<(usize, Closeness)> {
    let rank = |entry: &Entry| {
        let closeness = live_key.map_or(Closeness::Elsewhere, |key| Closeness::of(entry.key.as_ref(), key));
        let similarity = TextDiff::from_chars(entry.head.line().as_str(), live_line).ratio();
        (closeness, similarity)
    };
    let ranked = entries.iter().enumerate().map(|(i, entry)| (i, rank(entry)));
    // Lowest closeness, then highest similarity; `min_by` keeps the first of equals.
    ranked
        .min_by(|(_, (ca, sa)), (_, (cb, sb))| ca.cmp(cb).then(sb.total_cmp(sa)))
        .map(|(i, (closeness, _))| (i, closeness))
}

/// Explain why `live` missed: `used_up` when its key's answers are all served.
pub fn explain(live: &Head, live_key: Option<&Key>, used_up: Option<usize>, entries: &[Entry]) -> Miss {
    let request = live.line();
    let nearest = nearest(live_key, &request, entries).map(|(i, closeness)| {
        let entry = &entries[i];
        let (old, new) = (entry.head.text(), live.text());
        let diff = TextDiff::from_lines(&old, &new)
            .unified_diff()
            .header(&format!("recorded #{}", entry.seq), "request")
            .to_string();
        Nearest { seq: entry.seq, request: entry.head.line(), closeness, diff }
    });
    Miss { request, used_up, nearest }
}

impl Miss {
    /// One line: what missed and why.
    pub fn reason(&self) -> String {
        match (&self.used_up, &self.nearest) {
            (Some(recorded), _) => format!(
                "{}: the cassette's {recorded} answer(s) to it were all served already \
                 (--repeat serves the last one again)",
                self.request
            ),
            (None, Some(nearest)) => format!(
                "{} is not in the cassette; nearest recorded: #{} {} ({})",
                self.request,
                nearest.seq,
                nearest.request,
                nearest.closeness.describe()
            ),
            (None, None) => format!("{} is not in the cassette, which has no interactions", self.request),
        }
    }

    /// The JSON body of the `502` the client gets, in the error shape model
    /// APIs use (`error.message`, `error.type`), so client logs show the message.
    pub fn to_json(&self) -> Value {
        let nearest = self.nearest.as_ref().map(|n| {
            json!({"seq": n.seq, "request": n.request, "closeness": n.closeness.describe(), "diff": n.diff})
        });
        json!({"error": {
            "message": format!("dispatch-vcr replay miss: {}", self.reason()),
            "type": "replay_miss",
            "code": "replay_miss",
            "request": self.request,
            "nearest": nearest,
        }})
    }
}

/// The explanation for a terminal: the reason, then the indented diff.
impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "replay miss: {}", self.reason())?;
        if let Some(nearest) = &self.nearest {
            for line in nearest.diff.lines() {
                write!(f, "\n    {line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: &str, url: &str, headers: &[(&str, &str)]) -> Head {
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        Head { method: method.into(), url: url.into(), headers }
    }

    fn entry(seq: u64, method: &str, url: &str) -> Entry {
        Entry { seq, key: Key::of(method, url), head: head(method, url, &[]) }
    }

    fn nearest_seq(method: &str, url: &str, entries: &[Entry]) -> (u64, Closeness) {
        let (i, closeness) =
            nearest(Key::of(method, url).as_ref(), &format!("{method} {url}"), entries).unwrap();
        (entries[i].seq, closeness)
    }

    fn cassette() -> Vec<Entry> {
        vec![
            entry(1, "GET", "https://api.openai.com/v1/models"),
            entry(2, "POST", "https://api.openai.com/v1/responses"),
            entry(3, "POST", "https://chatgpt.com/backend-api/codex/responses"),
            entry(4, "POST", "https://api.anthropic.com/v1/messages"),
        ]
    }

    #[test]
    fn same_host_and_path_wins_over_a_closer_looking_url() {
        let entries = cassette();
        assert_eq!(
            nearest_seq("GET", "https://api.openai.com/v1/responses", &entries),
            (2, Closeness::SameHostAndPath)
        );
        assert_eq!(
            nearest_seq("POST", "https://api.openai.com/v1/responses?stream=1", &entries),
            (2, Closeness::SameHostAndPath)
        );
    }

    #[test]
    fn same_host_comes_before_other_hosts() {
        let entries = cassette();
        assert_eq!(
            nearest_seq("POST", "https://chatgpt.com/backend-api/x", &entries),
            (3, Closeness::SameHost)
        );
    }

    #[test]
    fn otherwise_the_most_similar_request_line() {
        let entries = cassette();
        assert_eq!(
            nearest_seq("POST", "https://api.anthropic.example/v1/messages", &entries),
            (4, Closeness::Elsewhere)
        );
    }

    #[test]
    fn ties_go_to_the_earliest_interaction() {
        let entries = vec![entry(5, "GET", "https://a.example/x"), entry(6, "GET", "https://a.example/x")];
        assert_eq!(nearest_seq("GET", "https://a.example/x", &entries), (5, Closeness::SameRequest));
    }

    #[test]
    fn an_empty_cassette_has_no_nearest() {
        let miss = explain(
            &head("GET", "https://a.example/", &[]),
            Key::of("GET", "https://a.example/").as_ref(),
            None,
            &[],
        );
        assert_eq!(miss.nearest, None);
        assert!(miss.reason().ends_with("which has no interactions"), "{}", miss.reason());
    }

    #[test]
    fn heads_sort_headers_and_leave_out_hop_headers() {
        let h = head(
            "POST",
            "https://a.example/",
            &[("x-b", "2"), ("host", "a.example"), ("a", "1"), ("x-b", "1")],
        );
        assert_eq!(h.text(), "POST https://a.example/\na: 1\nx-b: 2\nx-b: 1\n");
    }

    #[test]
    fn used_up_answers_say_so_and_name_the_flag() {
        let entries = cassette();
        let live = head("GET", "https://api.openai.com/v1/models", &[]);
        let miss = explain(&live, entries[0].key.as_ref(), Some(1), &entries);
        assert!(miss.reason().contains("1 answer(s) to it were all served already"), "{}", miss.reason());
        assert!(miss.reason().contains("--repeat"));
        assert_eq!(miss.nearest.unwrap().closeness, Closeness::SameRequest);
    }

    #[test]
    fn the_client_body_names_the_request_and_the_nearest() {
        let entries = cassette();
        let url = "https://chatgpt.com/backend-api/codex/models";
        let miss = explain(&head("GET", url, &[]), Key::of("GET", url).as_ref(), None, &entries);
        let body = miss.to_json();
        assert_eq!(body["error"]["type"], "replay_miss");
        assert_eq!(body["error"]["request"], format!("GET {url}"));
        assert_eq!(body["error"]["nearest"]["seq"], 3);
        assert!(body["error"]["message"].as_str().unwrap().contains(url));
    }

    #[test]
    fn explanation_snapshot() {
        let mut entries = cassette();
        entries[1].head.headers = vec![
            ("authorization".into(), "Bearer [REDACTED sha256:1f0c2a9b7d3e]".into()),
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), "openclaw/2026.5.12".into()),
        ];
        let live = head(
            "POST",
            "https://api.openai.com/v1/chat/completions",
            &[
                ("user-agent", "openclaw/2026.5.16"),
                ("content-type", "application/json"),
                ("authorization", "Bearer [REDACTED sha256:77aa01c3b2f4]"),
                ("host", "api.openai.com"),
            ],
        );
        let key = Key::of(&live.method, &live.url);
        let miss = explain(&live, key.as_ref(), None, &entries);
        insta::assert_snapshot!(miss.to_string());
    }
}
