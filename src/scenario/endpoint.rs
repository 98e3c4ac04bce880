//! The target of a request: method, scheme, host, port, path (and query).
//!
//! Plans, pinned expectations and observed requests all name their target as
//! an [`Endpoint`], so the `endpoint` invariant compares like with like.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a request goes. Hosts are lower-case; the port is always explicit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `POST`, `GET`, …
    pub method: String,
    /// `https`, `http`, `wss`, `ws`.
    pub scheme: String,
    /// Host name or address, lower-case, without brackets.
    pub host: String,
    /// Port, filled in from the scheme when the URL has none.
    pub port: u16,
    /// Path, `/` when empty.
    pub path: String,
    /// Query string without `?`, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

impl Endpoint {
    /// Parse `method` and an absolute `url`.
    pub fn new(method: &str, url: &str) -> Result<Self, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("not an absolute URL {url:?}: {e}"))?;
        let scheme =
            uri.scheme_str().ok_or_else(|| format!("URL {url:?} has no scheme"))?.to_ascii_lowercase();
        let host = uri.host().ok_or_else(|| format!("URL {url:?} has no host"))?;
        let port = match uri.port_u16() {
            Some(port) => port,
            None => default_port(&scheme).ok_or_else(|| format!("URL {url:?}: unknown scheme {scheme:?}"))?,
        };
        let path = match uri.path() {
            "" => "/".to_owned(),
            path => path.to_owned(),
        };
        Ok(Self {
            method: method.to_ascii_uppercase(),
            scheme,
            host: host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase(),
            port,
            path,
            query: uri.query().map(str::to_owned),
        })
    }

    /// Parse the `"METHOD URL"` form of a scenario's `expect.endpoint`.
    pub fn parse_pinned(text: &str) -> Result<Self, String> {
        let hint = "expected \"METHOD URL\", e.g. \"POST https://chatgpt.com/backend-api/codex/responses\"";
        let (method, url) = text.trim().split_once(' ').ok_or_else(|| hint.to_owned())?;
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(hint.to_owned());
        }
        Self::new(method, url.trim()).map_err(|e| format!("{hint}: {e}"))
    }

    /// Whether plain text travels over this endpoint (no TLS).
    pub fn is_plaintext(&self) -> bool {
        matches!(self.scheme.as_str(), "http" | "ws")
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        let host = self.host.as_str();
        host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether `observed` reaches this endpoint. The query counts only when
    /// this (expected) endpoint pins one. A WebSocket upgrade to the same
    /// host and path is the streaming variant of the same dispatch, so
    /// `GET wss://h/p` reaches `POST https://h/p`.
    pub fn is_reached_by(&self, observed: &Endpoint) -> bool {
        let same_method = self.method == observed.method || observed.is_websocket();
        same_method
            && secure_twin(&self.scheme) == secure_twin(&observed.scheme)
            && self.host == observed.host
            && self.port == observed.port
            && self.path == observed.path
            && (self.query.is_none() || self.query == observed.query)
    }

    /// Whether this is a WebSocket URL.
    pub fn is_websocket(&self) -> bool {
        matches!(self.scheme.as_str(), "ws" | "wss")
    }

    /// The URL, with the port only when it is not the scheme's default.
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let port = match default_port(&self.scheme) {
            Some(default) if default == self.port => String::new(),
            _ => format!(":{}", self.port),
        };
        let query = self.query.as_ref().map(|q| format!("?{q}")).unwrap_or_default();
        format!("{}://{host}{port}{}{query}", self.scheme, self.path)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url())
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" | "wss" => Some(443),
        "http" | "ws" => Some(80),
        _ => None,
    }
}

/// WebSocket schemes compare as their HTTP twins.
fn secure_twin(scheme: &str) -> &str {
    match scheme {
        "wss" => "https",
        "ws" => "http",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_the_default_port_and_lowercases_the_host() {
        let e = Endpoint::new("post", "https://API.openai.com/v1/responses").unwrap();
        assert_eq!((e.method.as_str(), e.host.as_str(), e.port), ("POST", "api.openai.com", 443));
        assert_eq!(e.to_string(), "POST https://api.openai.com/v1/responses");
    }

    #[test]
    fn pinned_form_needs_method_and_url() {
        assert!(Endpoint::parse_pinned("POST https://chatgpt.com/backend-api/codex/responses").is_ok());
        let err = Endpoint::parse_pinned("https://chatgpt.com/x").unwrap_err();
        assert!(err.contains("METHOD URL"), "{err}");
        assert!(Endpoint::parse_pinned("POST chatgpt.com").is_err());
    }

    #[test]
    fn query_counts_only_when_pinned() {
        let plain = Endpoint::new("GET", "https://h/p").unwrap();
        let with_query = Endpoint::new("GET", "https://h/p?a=1").unwrap();
        assert!(plain.is_reached_by(&with_query));
        assert!(!with_query.is_reached_by(&plain));
    }

    #[test]
    fn websocket_upgrade_reaches_the_same_dispatch() {
        let planned = Endpoint::new("POST", "https://chatgpt.com/backend-api/codex/responses").unwrap();
        let ws = Endpoint::new("GET", "wss://chatgpt.com/backend-api/codex/responses").unwrap();
        assert!(planned.is_reached_by(&ws));
        let other_host = Endpoint::new("POST", "https://api.openai.com/backend-api/codex/responses").unwrap();
        assert!(!planned.is_reached_by(&other_host));
    }

    #[test]
    fn loopback_and_plaintext() {
        let local = Endpoint::new("POST", "http://127.0.0.1:4000/chat/completions").unwrap();
        assert!(local.is_loopback() && local.is_plaintext());
        assert_eq!(local.url(), "http://127.0.0.1:4000/chat/completions");
        assert!(!Endpoint::new("GET", "http://example.com/").unwrap().is_loopback());
        assert!(Endpoint::new("GET", "http://[::1]:8/").unwrap().is_loopback());
    }
}
