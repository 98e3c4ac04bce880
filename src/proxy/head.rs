//! Pure helpers for request and response heads: the absolute URL a request
//! meant, the captured header list, and the hop-by-hop headers a proxy drops.

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, Uri, Version, header};

/// Headers that describe one hop, not the exchange (RFC 9110 §7.6.1), and
/// so are never forwarded. `proxy-authorization` is meant for us, not the server.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// Remove hop-by-hop headers, including those the `connection` header names.
/// For a WebSocket upgrade, `upgrade: websocket` and `connection: upgrade`
/// stay (they are the point of the request), but extension offers go: the
/// proxy relays messages, not compressed frames, so none may be negotiated.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap, websocket: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    let upgrade = headers.remove(header::UPGRADE);
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
    if let (true, Some(upgrade)) = (websocket, upgrade) {
        headers.insert(header::CONNECTION, http::HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, upgrade);
        headers.remove(header::SEC_WEBSOCKET_EXTENSIONS);
    }
}

/// Headers as captured: `[name, value]` pairs, names lower-case (hyper keeps
/// them so), in the order of the map; non-UTF-8 bytes become U+FFFD.
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect()
}

/// `HTTP/1.1`, `HTTP/2`, … as the cassette writes it.
pub(crate) fn version_text(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

/// Where a request arrived: on the proxy's own port, or inside a CONNECT
/// tunnel to `target` (decrypted when `scheme` is https).
#[derive(Debug, Clone)]
pub(crate) enum Arrival {
    /// A plain request to the proxy: only absolute-form URIs are proxy requests.
    Direct,
    /// A request inside a CONNECT tunnel.
    Tunnel {
        /// `https` when the tunnel carried TLS, `http` otherwise.
        scheme: Scheme,
        /// The CONNECT target, used when the request names no host itself.
        target: Authority,
    },
}

/// The absolute URL a request meant, default port omitted, host lower-case.
/// Inside a tunnel the request's own authority (`:authority` or `Host`) wins
/// over the CONNECT target, as it is what the client addressed.
pub(crate) fn absolute_url(arrival: &Arrival, uri: &Uri, host_header: Option<&str>) -> Result<Uri, String> {
    let (scheme, authority) = match arrival {
        Arrival::Direct => match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority)) => (scheme.clone(), authority.clone()),
            _ => return Err("not a proxy request: expected an absolute URL (http://host/path)".to_owned()),
        },
        Arrival::Tunnel { scheme, target } => {
            let named = uri.authority().cloned().or_else(|| host_header.and_then(|h| h.parse().ok()));
            (scheme.clone(), named.unwrap_or_else(|| target.clone()))
        }
    };
    let default_port = if scheme == Scheme::HTTPS { 443 } else { 80 };
    let host = authority.host().to_ascii_lowercase();
    let authority = match authority.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host,
    };
    let path = uri.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
    Uri::builder()
        .scheme(scheme)
        .authority(authority)
        .path_and_query(path)
        .build()
        .map_err(|err| format!("cannot form a URL for this request: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel(scheme: Scheme, target: &str) -> Arrival {
        Arrival::Tunnel { scheme, target: target.parse().unwrap() }
    }

    fn url(arrival: &Arrival, uri: &str, host: Option<&str>) -> Result<String, String> {
        absolute_url(arrival, &uri.parse().unwrap(), host).map(|u| u.to_string())
    }

    #[test]
    fn tunnel_request_uses_host_header_and_drops_default_port() {
        let arrival = tunnel(Scheme::HTTPS, "api.openai.com:443");
        assert_eq!(
            url(&arrival, "/v1/responses", Some("API.openai.com:443")).unwrap(),
            "https://api.openai.com/v1/responses"
        );
    }

    #[test]
    fn tunnel_request_without_host_falls_back_to_connect_target() {
        let arrival = tunnel(Scheme::HTTPS, "127.0.0.1:8443");
        assert_eq!(url(&arrival, "/x?y=1", None).unwrap(), "https://127.0.0.1:8443/x?y=1");
    }

    #[test]
    fn h2_authority_wins_over_connect_target() {
        let arrival = tunnel(Scheme::HTTPS, "1.2.3.4:443");
        assert_eq!(
            url(&arrival, "https://chatgpt.com/backend-api", None).unwrap(),
            "https://chatgpt.com/backend-api"
        );
    }

    #[test]
    fn plain_tunnel_keeps_http() {
        let arrival = tunnel(Scheme::HTTP, "example.com:80");
        assert_eq!(url(&arrival, "/", Some("example.com")).unwrap(), "http://example.com/");
    }

    #[test]
    fn direct_requests_must_be_absolute() {
        assert_eq!(url(&Arrival::Direct, "http://example.com:80/a", None).unwrap(), "http://example.com/a");
        assert!(
            url(&Arrival::Direct, "/a", Some("example.com")).unwrap_err().contains("not a proxy request")
        );
    }

    #[test]
    fn hop_by_hop_headers_go_including_those_connection_names() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("proxy-authorization", "Basic x"),
            ("transfer-encoding", "chunked"),
            ("authorization", "Bearer t"),
            ("upgrade", "h2c"),
        ] {
            headers.append(name, value.parse().unwrap());
        }
        strip_hop_by_hop(&mut headers, false);
        let names: Vec<_> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["authorization"]);
    }

    #[test]
    fn websocket_upgrade_keeps_upgrade_but_not_extensions() {
        let mut headers = HeaderMap::new();
        headers.insert("connection", "keep-alive, Upgrade".parse().unwrap());
        headers.insert("upgrade", "websocket".parse().unwrap());
        headers.insert("sec-websocket-extensions", "permessage-deflate".parse().unwrap());
        strip_hop_by_hop(&mut headers, true);
        assert_eq!(headers["connection"], "upgrade");
        assert_eq!(headers["upgrade"], "websocket");
        assert!(!headers.contains_key("sec-websocket-extensions"));
    }

    #[test]
    fn pairs_keep_duplicates_and_replace_invalid_utf8() {
        let mut headers = HeaderMap::new();
        headers.append("set-cookie", "a=1".parse().unwrap());
        headers.append("set-cookie", "b=2".parse().unwrap());
        headers.append("x-bin", http::HeaderValue::from_bytes(b"\xff").unwrap());
        let pairs = header_pairs(&headers);
        assert_eq!(pairs[0], ("set-cookie".to_owned(), "a=1".to_owned()));
        assert_eq!(pairs[1], ("set-cookie".to_owned(), "b=2".to_owned()));
        assert_eq!(pairs[2].1, "\u{fffd}");
    }
}
