//! dispatch-vcr in another crate's `cargo test`: replay a shipped cassette,
//! let "our dispatcher" (a hyper + rustls client, as a Rust gateway would
//! have) send its model call through the proxy, and hold what it sent to the
//! scenario's invariants.
//!
//! `cargo test --example replay_in_test` runs the test below (`cargo test`
//! runs it too: the example is declared with `test = true`);
//! `cargo run --example replay_in_test` prints the verdict.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use dispatch_vcr::report::CellOutcome;
use dispatch_vcr::testing;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

type AnyError = Box<dyn Error + Send + Sync>;

const SCENARIO: &str = "scenarios/openclaw/codex-oauth-goes-to-chatgpt-backend.json";
/// A release that sends its Codex turns as an HTTPS `POST` (2026.9.x opens a WebSocket).
const VERSION: &str = "2026.5.16-beta.4";
const CASSETTE: &str = "cassettes/openclaw/2026.5.16-beta.4/codex-oauth-goes-to-chatgpt-backend.json";
/// The ChatGPT login in the scenario's auth store.
const LOGIN: &str = "openai-codex:default";

fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The code under test: a dispatcher that reads its agent's auth store and
/// sends one Codex turn with the ChatGPT login's bearer and account.
async fn dispatch(home: &Path, proxy_url: &str, ca_pem: &Path) -> Result<(u16, String), AnyError> {
    let store: Value =
        serde_json::from_slice(&std::fs::read(home.join(".openclaw/agents/main/agent/auth-profiles.json"))?)?;
    let login = &store["profiles"][LOGIN];
    let (token, account) = (login["access"].as_str().ok_or("no access token")?, login["accountId"].as_str());
    let body = json!({
        "model": "gpt-5.4",
        "instructions": "You are a personal assistant running inside OpenClaw.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        "store": false,
        "stream": true
    });
    let mut request = http::Request::post("/backend-api/codex/responses")
        .header("host", "chatgpt.com")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream");
    if let Some(account) = account {
        request = request.header("chatgpt-account-id", account);
    }
    let request = request.body(Full::new(Bytes::from(body.to_string())))?;

    let tls = tunnel(proxy_url, ca_pem, "chatgpt.com").await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let text = String::from_utf8(response.into_body().collect().await?.to_bytes().to_vec())?;
    Ok((status, text))
}

/// An HTTPS connection to `host` through the proxy: `CONNECT`, then TLS trusting `ca_pem`.
async fn tunnel(
    proxy_url: &str,
    ca_pem: &Path,
    host: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, AnyError> {
    let mut stream = TcpStream::connect(proxy_url.trim_start_matches("http://")).await?;
    stream.write_all(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes()).await?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).await?;
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("CONNECT refused: {status}").into());
    }
    let mut line = String::new();
    while reader.read_line(&mut line).await? > 2 {
        line.clear();
    }
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    Ok(connector.connect(ServerName::try_from(host.to_owned())?, reader.into_inner()).await?)
}

/// Replay the cassette, run the dispatcher against it, judge what it sent.
async fn dispatch_under_replay() -> Result<(u16, String, CellOutcome), AnyError> {
    let home = tempfile::tempdir()?;
    testing::materialise(project(SCENARIO), home.path())?;
    let replay = testing::replay(project(CASSETTE)).await?;
    let (status, text) = dispatch(home.path(), replay.proxy_url(), replay.ca_pem()).await?;
    let traffic = replay.finish().await?;
    assert!(traffic.summary.misses.is_empty(), "a request the cassette lacks: {:?}", traffic.summary.misses);
    let cell = traffic.check(project(SCENARIO), VERSION)?;
    Ok((status, text, cell))
}

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let (status, text, cell) = dispatch_under_replay().await?;
    println!("the replay answered {status} with {} bytes of events", text.len());
    println!("{} {SCENARIO} @ {VERSION}: {}", cell.verdict.symbol(), cell.reason());
    testing::assert_holds(&cell);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dispatch_vcr::report::Verdict;

    #[tokio::test]
    async fn the_codex_turn_binds_the_oauth_profile() {
        let (status, text, cell) = dispatch_under_replay().await.unwrap();
        assert_eq!(status, 200);
        assert!(text.contains("event: response.completed"), "the recorded stream came back: {text}");
        testing::assert_holds(&cell);
        assert_eq!(cell.verdict, Verdict::Pass);
    }

    #[tokio::test]
    async fn a_turn_with_another_token_is_caught() {
        let home = tempfile::tempdir().unwrap();
        testing::materialise(project(SCENARIO), home.path()).unwrap();
        // Break the code under test: the login's token disappears from its store.
        let store = home.path().join(".openclaw/agents/main/agent/auth-profiles.json");
        let mut profiles: Value = serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
        profiles["profiles"][LOGIN]["access"] = json!("not-the-login-token");
        std::fs::write(&store, profiles.to_string()).unwrap();

        let replay = testing::replay(project(CASSETTE)).await.unwrap();
        dispatch(home.path(), replay.proxy_url(), replay.ca_pem()).await.unwrap();
        let cell = replay.finish().await.unwrap().check(project(SCENARIO), VERSION).unwrap();
        assert_eq!(cell.verdict, Verdict::Fail);
        let failed: Vec<&str> = cell.failures().map(|f| f.invariant.name()).collect();
        assert!(failed.contains(&"profile"), "{failed:?}");
        let caught = std::panic::catch_unwind(|| testing::assert_holds(&cell));
        assert!(caught.is_err(), "assert_holds lets a failing cell through");
    }
}
