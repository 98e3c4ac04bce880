//! The planned request, sent for real through an HTTP proxy (`dispatch send`).
//!
//! The reference dispatcher is its own first real client: run under
//! `dispatch-vcr record`, it must produce a cassette whose dispatch matches the
//! plan. HTTPS goes through the proxy with `CONNECT` and rustls (web roots plus
//! `--ca`); plain HTTP goes to the proxy in absolute form. The body is the
//! api's sample body from the catalog with the planned model and body fields.
//!
//! Exit codes: 0 on a 2xx answer, 1 on any other answer (the body goes to
//! stderr) or when no dispatch is correct, 2 for bad input, 3 when the proxy
//! or the upstream cannot be reached. An intercepting proxy that cannot reach
//! the upstream answers itself (typically 502): that is an answer, exit 1.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::catalog::{Catalog, Expect, HeaderExpect};
use super::plan::Resolution;
use crate::ca::add_pem_roots;
use crate::error::{Error, Result};

/// How long a send may take, from connecting to the last body byte.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// The most response head bytes accepted from a proxy answering `CONNECT`.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

/// A request ready for the wire. It holds the credential: never print or store it.
pub(crate) struct WireRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The answer: status and body.
pub(crate) struct Answer {
    pub status: http::StatusCode,
    pub body: Bytes,
}

/// A value that satisfies a planned header (the least one that fits).
fn header_value(expect: &Expect, name: &str, secrets: &[(String, String)]) -> Option<String> {
    match expect {
        Expect::Equals(Value::String(value)) => Some(value.clone()),
        Expect::Equals(value) => Some(value.to_string()),
        Expect::Contains(part) | Expect::Has(part) => Some(part.clone()),
        Expect::Present(true) => Some("dispatch-vcr".to_owned()),
        Expect::Present(false) | Expect::Lacks(_) | Expect::IfSent(_) => None,
        Expect::Fingerprint(_) => secrets.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()),
    }
}

/// The request a correct dispatcher sends for `resolution`.
pub(crate) fn wire_request(resolution: &Resolution, catalog: &Catalog) -> Result<WireRequest> {
    let plan = &resolution.plan;
    let api =
        catalog.apis.get(&plan.api).ok_or_else(|| Error::input(format!("unknown api {:?}", plan.api)))?;
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let (Some(credential), Some(secret)) = (&plan.credential, &resolution.secret)
        && let Some(header) = &credential.header
    {
        let value = credential.scheme.as_ref().map_or_else(|| secret.clone(), |s| format!("{s} {secret}"));
        headers.push((header.clone(), value));
    }
    if let Some(account) = &plan.account {
        headers.push((account.header.clone(), account.value.clone()));
    }
    for header in plan.headers.iter().filter(|h| !h.is_query()) {
        if let Some(value) = header_value(&header.expect, &header.name, &resolution.secret_headers) {
            headers.push((header.name.clone(), value));
        }
    }
    let mut body = api.sample_body.clone();
    if let Some(fields) = body.as_object_mut() {
        if !api.model_in_path() {
            fields.insert("model".to_owned(), Value::String(plan.model.clone()));
        }
        for field in &plan.body {
            if let Expect::Equals(value) = &field.expect {
                fields.insert(field.field.clone(), value.clone());
            }
        }
    }
    let body =
        serde_json::to_vec(&body).map_err(|e| Error::runtime(format!("cannot encode the body: {e}")))?;
    Ok(WireRequest { method: plan.method.clone(), url: with_query(&plan.url, &plan.headers), headers, body })
}

/// `host:port` of a URI, with the scheme's default port.
fn authority(uri: &http::Uri) -> Option<(String, u16)> {
    let port = uri.port_u16().or(match uri.scheme_str()? {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    })?;
    Some((uri.host()?.trim_matches(['[', ']']).to_owned(), port))
}

/// TLS client trusting the web roots and the `--ca` certificates.
fn tls_config(ca: &[PathBuf]) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for path in ca {
        add_pem_roots(&mut roots, "--ca", path)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::runtime(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Ask the proxy on `stream` for a tunnel to `host:port`.
async fn open_tunnel(stream: &mut TcpStream, host: &str, port: u16) -> Result<()> {
    let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let unreachable =
        |e: std::io::Error| Error::runtime(format!("proxy connection failed during CONNECT {target}: {e}"));
    stream
        .write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .map_err(unreachable)?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte: nothing after the head may be consumed, it belongs to TLS.
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_CONNECT_HEAD || stream.read(&mut byte).await.map_err(unreachable)? == 0 {
            return Err(Error::runtime(format!(
                "the proxy closed or garbled its answer to CONNECT {target}"
            )));
        }
        head.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
    let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(200..=299) => Ok(()),
        _ => Err(Error::runtime(format!("the proxy refused CONNECT {target}: {status_line}"))),
    }
}

/// Send `request` on an open connection and read the whole answer.
async fn exchange<S>(io: S, request: http::Request<Full<Bytes>>) -> Result<Answer>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let failed = |e: hyper::Error| Error::runtime(format!("the request failed: {e}"));
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(failed)?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(failed)?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(failed)?.to_bytes();
    Ok(Answer { status, body })
}

/// Send `request` through the HTTP proxy at `proxy`.
pub(crate) async fn send_via_proxy(request: &WireRequest, proxy: &str, ca: &[PathBuf]) -> Result<Answer> {
    let bad_proxy = || Error::input(format!("--proxy {proxy:?}: expected http://HOST:PORT"));
    let proxy_uri: http::Uri = proxy.parse().map_err(|_| bad_proxy())?;
    if proxy_uri.scheme_str() != Some("http") {
        return Err(bad_proxy());
    }
    let (proxy_host, proxy_port) = authority(&proxy_uri).ok_or_else(bad_proxy)?;
    let uri: http::Uri = request
        .url
        .parse()
        .map_err(|e| Error::input(format!("planned URL {:?} is invalid: {e}", request.url)))?;
    let (host, port) =
        authority(&uri).ok_or_else(|| Error::input(format!("planned URL {:?} has no host", request.url)))?;
    let host_header = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_else(|| host.clone());
    tracing::debug!(proxy, url = %request.url, "connecting to the proxy");
    let mut stream = TcpStream::connect((proxy_host.as_str(), proxy_port))
        .await
        .map_err(|e| Error::runtime(format!("cannot reach the proxy {proxy}: {e}")))?;
    let https = uri.scheme_str() == Some("https");
    // Through a tunnel the request is in origin form; to a proxy in plain HTTP, absolute form.
    let target =
        if https { uri.path_and_query().map_or("/", |p| p.as_str()).to_owned() } else { request.url.clone() };
    let mut builder =
        http::Request::builder().method(request.method.as_str()).uri(target).header("host", host_header);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let http_request = builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|e| Error::input(format!("cannot build the request: {e}")))?;
    if !https {
        return exchange(stream, http_request).await;
    }
    open_tunnel(&mut stream, &host, port).await?;
    tracing::debug!(host, port, "tunnel open, TLS handshake");
    let server_name =
        ServerName::try_from(host.clone()).map_err(|e| Error::input(format!("bad host {host:?}: {e}")))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config(ca)?).connect(server_name, stream).await.map_err(
        |e| {
            Error::runtime(format!(
                "TLS with {host} through the proxy failed: {e} (pass the proxy's CA with --ca)"
            ))
        },
    )?;
    exchange(tls, http_request).await
}

/// `url` with the query parameters the plan's rules fix (`?alt=sse`).
fn with_query(url: &str, headers: &[HeaderExpect]) -> String {
    let pairs: Vec<String> = headers
        .iter()
        .filter_map(|h| match (&h.expect, h.name.strip_prefix('?')) {
            (Expect::Equals(Value::String(v)), Some(name)) => Some(format!("{name}={v}")),
            _ => None,
        })
        .collect();
    match pairs.is_empty() {
        true => url.to_owned(),
        false => format!("{url}?{}", pairs.join("&")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::inputs::DispatchInputs;
    use crate::dispatch::plan;
    use serde_json::json;

    fn resolve(inputs: Value) -> (Resolution, Catalog) {
        let catalog = Catalog::shipped().unwrap();
        let mut inputs =
            DispatchInputs::from_scenario_inputs(&inputs, Some("2026.5.16".parse().unwrap())).unwrap();
        inputs.now_ms = 0;
        (plan::resolve(&inputs, &catalog).unwrap(), catalog)
    }

    fn header<'r>(request: &'r WireRequest, name: &str) -> Option<&'r str> {
        request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn codex_request_carries_bearer_account_and_the_backend_body_fields() {
        let claims = json!({"https://api.openai.com/auth": {"chatgpt_account_id": "acct-9"}});
        let (resolution, catalog) = resolve(json!({"model": "openai-codex/gpt-5.5",
            "auth_profiles": {"profiles": {"openai-codex:u": {"type": "oauth", "provider": "openai-codex",
                "access": {"jwt": {"claims": claims}}}}}}));
        let request = wire_request(&resolution, &catalog).unwrap();
        assert_eq!(request.url, "https://chatgpt.com/backend-api/codex/responses");
        assert!(header(&request, "authorization").is_some_and(|v| v.starts_with("Bearer ey")));
        assert_eq!(header(&request, "chatgpt-account-id"), Some("acct-9"));
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            (body["model"].as_str(), &body["store"], &body["stream"]),
            (Some("gpt-5.5"), &json!(false), &json!(true))
        );
        assert!(body["instructions"].is_string());
    }

    #[test]
    fn anthropic_key_goes_bare_in_x_api_key_with_the_version_header() {
        let (resolution, catalog) =
            resolve(json!({"model": "anthropic/claude-x", "env": {"ANTHROPIC_API_KEY": "sk-ant-api03-k"}}));
        let request = wire_request(&resolution, &catalog).unwrap();
        assert_eq!(header(&request, "x-api-key"), Some("sk-ant-api03-k"));
        assert_eq!(header(&request, "authorization"), None);
        assert_eq!(header(&request, "anthropic-version"), Some("2023-06-01"));
    }

    #[test]
    fn secret_config_headers_are_sent_with_their_value() {
        let (resolution, catalog) = resolve(
            json!({"model": "gw/m", "config": {"models": {"providers": {"gw": {
            "baseUrl": "https://gw.test/v1", "authHeader": false, "headers": {"api-key": "gw-secret", "X-Team": "blue"}}}}}}),
        );
        let request = wire_request(&resolution, &catalog).unwrap();
        assert_eq!(header(&request, "api-key"), Some("gw-secret"));
        assert_eq!(header(&request, "x-team"), Some("blue"));
        assert_eq!(header(&request, "authorization"), None);
    }

    #[test]
    fn authority_defaults_the_port_by_scheme() {
        let uri: http::Uri = "https://chatgpt.com/x".parse().unwrap();
        assert_eq!(authority(&uri), Some(("chatgpt.com".to_owned(), 443)));
        let uri: http::Uri = "http://127.0.0.1:4000/x".parse().unwrap();
        assert_eq!(authority(&uri), Some(("127.0.0.1".to_owned(), 4000)));
    }
}
