//! `dispatch send` over real sockets: through an HTTP CONNECT proxy (a tiny
//! relay made here) to a local HTTPS upstream whose certificate comes from a
//! test CA, reached under the real provider host names.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_dispatch-vcr");
const HOSTS: [&str; 3] = ["chatgpt.com", "api.openai.com", "api.anthropic.com"];

/// A request as the upstream saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A test CA (PEM) and a TLS server config for `HOSTS` signed by it.
fn test_pki() -> (String, Arc<rustls::ServerConfig>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf =
        CertificateParams::new(HOSTS.map(String::from).to_vec()).unwrap().signed_by(&leaf_key, &ca).unwrap();
    let key = rustls_pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
        .unwrap();
    (ca.pem(), Arc::new(config))
}

/// An HTTPS upstream answering every request with `status` and `body`, remembering what it saw.
async fn start_upstream(
    tls: Arc<rustls::ServerConfig>,
    status: u16,
    answer: &'static str,
) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, log) = (acceptor.clone(), log.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else { return };
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    async move {
                        let method = req.method().to_string();
                        let path = req.uri().path().to_owned();
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
                            .collect();
                        let bytes = req.into_body().collect().await?.to_bytes();
                        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        log.lock().unwrap().push(Seen { method, path, headers, body });
                        Ok::<_, hyper::Error>(
                            hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from(answer)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// A CONNECT proxy that tunnels every target to `upstream`, remembering the targets asked for.
async fn start_relay(upstream: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let targets = Arc::new(Mutex::new(Vec::new()));
    let log = targets.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
                log.lock().unwrap().push(line.split_whitespace().nth(1).unwrap_or_default().to_owned());
                let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    (addr, targets)
}

struct Sent {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn send(dir: &Path, args: &[&str]) -> Sent {
    let output = tokio::process::Command::new(BIN)
        .arg("dispatch")
        .arg("send")
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .unwrap();
    Sent {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn jwt(account: &str) -> String {
    dispatch_vcr::credential::mint_unsigned_jwt(
        &json!({"https://api.openai.com/auth": {"chatgpt_account_id": account}}),
    )
}

/// The #83380 setup: codex runtime, one openai-codex OAuth login.
fn write_codex_setup(dir: &Path, ca_pem: &str) {
    std::fs::write(dir.join("ca.pem"), ca_pem).unwrap();
    std::fs::write(
        dir.join("openclaw.json"),
        "{agents: {defaults: {agentRuntime: {id: 'codex'}, model: {primary: 'openai-codex/gpt-5.5-pro'}}}}",
    )
    .unwrap();
    let store = json!({"version": 1, "profiles": {"openai-codex:user@example.com": {"type": "oauth", "provider": "openai-codex",
        "access": jwt("acct-send"), "refresh": "r", "expires": 4102444800000_i64}}});
    std::fs::write(dir.join("ap.json"), store.to_string()).unwrap();
}

const SSE: &str = "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_the_planned_codex_request_through_a_connect_proxy() {
    let (ca_pem, tls) = test_pki();
    let (upstream, seen) = start_upstream(tls, 200, SSE).await;
    let (relay, targets) = start_relay(upstream).await;
    let dir = tempfile::tempdir().unwrap();
    write_codex_setup(dir.path(), &ca_pem);
    let proxy = format!("http://{relay}");
    let args = [
        "--config",
        "openclaw.json",
        "--profiles",
        "ap.json",
        "--version",
        "2026.5.16-beta.4",
        "--proxy",
        &proxy,
        "--ca",
        "ca.pem",
    ];
    let sent = send(dir.path(), &args).await;
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert_eq!(sent.stdout, "HTTP/1.1 200 OK\n");
    assert!(!sent.stderr.contains(&jwt("acct-send")), "the token was printed");
    assert_eq!(*targets.lock().unwrap(), ["chatgpt.com:443"]);
    let seen = seen.lock().unwrap()[0].clone();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/backend-api/codex/responses"));
    assert_eq!(seen.header("host"), Some("chatgpt.com"));
    assert_eq!(seen.header("authorization"), Some(format!("Bearer {}", jwt("acct-send")).as_str()));
    assert_eq!(seen.header("chatgpt-account-id"), Some("acct-send"));
    assert_eq!(seen.header("openai-beta"), Some("responses=experimental"));
    assert_eq!(
        (&seen.body["model"], &seen.body["store"], &seen.body["stream"]),
        (&json!("gpt-5.5-pro"), &json!(false), &json!(true))
    );
    assert!(seen.body["instructions"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_an_anthropic_key_in_x_api_key() {
    let (ca_pem, tls) = test_pki();
    let (upstream, seen) = start_upstream(tls, 200, "{}").await;
    let (relay, targets) = start_relay(upstream).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
    let proxy = format!("http://{relay}");
    let args = [
        "--model",
        "anthropic/claude-x",
        "--env",
        "ANTHROPIC_API_KEY=sk-ant-api03-send",
        "--proxy",
        &proxy,
        "--ca",
        "ca.pem",
    ];
    let sent = send(dir.path(), &args).await;
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert_eq!(*targets.lock().unwrap(), ["api.anthropic.com:443"]);
    let seen = seen.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.header("x-api-key"), Some("sk-ant-api03-send"));
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.body["model"], "claude-x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_2xx_answer_exits_1_and_shows_the_body() {
    let (ca_pem, tls) = test_pki();
    let body = r#"{"error":{"message":"Missing bearer or basic authentication in header","type":"invalid_request_error","param":null,"code":null}}"#;
    let (upstream, _) = start_upstream(tls, 401, body).await;
    let (relay, _) = start_relay(upstream).await;
    let dir = tempfile::tempdir().unwrap();
    write_codex_setup(dir.path(), &ca_pem);
    let proxy = format!("http://{relay}");
    let sent = send(
        dir.path(),
        &["--config", "openclaw.json", "--profiles", "ap.json", "--proxy", &proxy, "--ca", "ca.pem"],
    )
    .await;
    assert_eq!(sent.code, 1);
    assert_eq!(sent.stdout, "HTTP/1.1 401 Unauthorized\n");
    assert!(sent.stderr.contains("Missing bearer"), "{}", sent.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_proxy_exits_3() {
    let (ca_pem, _) = test_pki();
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_codex_setup(dir.path(), &ca_pem);
    let proxy = format!("http://{closed}");
    let sent =
        send(dir.path(), &["--config", "openclaw.json", "--profiles", "ap.json", "--proxy", &proxy]).await;
    assert_eq!(sent.code, 3, "{}", sent.stderr);
    assert!(sent.stderr.contains("cannot reach the proxy"), "{}", sent.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_upstream_exits_3_and_says_to_pass_the_ca() {
    let (_, tls) = test_pki();
    let (upstream, seen) = start_upstream(tls, 200, SSE).await;
    let (relay, _) = start_relay(upstream).await;
    let dir = tempfile::tempdir().unwrap();
    let (other_ca, _) = test_pki();
    write_codex_setup(dir.path(), &other_ca);
    let proxy = format!("http://{relay}");
    let sent = send(
        dir.path(),
        &["--config", "openclaw.json", "--profiles", "ap.json", "--proxy", &proxy, "--ca", "ca.pem"],
    )
    .await;
    assert_eq!(sent.code, 3, "{}", sent.stderr);
    assert!(sent.stderr.contains("--ca"), "{}", sent.stderr);
    assert!(seen.lock().unwrap().is_empty(), "a request reached an untrusted upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_sends_nothing_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let sent = send(dir.path(), &["--model", "openai/gpt-5.5", "--proxy", "http://127.0.0.1:9"]).await;
    assert_eq!(sent.code, 1);
    assert!(sent.stderr.contains("No API key found for provider \"openai\""), "{}", sent.stderr);
}
