//! `dispatch send` over real sockets: through a plain HTTP CONNECT proxy (a
//! tiny relay made here, so send is shown to work with any such proxy) to the
//! local HTTPS test upstream, reached under the real provider host names.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

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

/// `dispatch send ARGS` in `dir`, with of the proxy variables only `env` set.
async fn send(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Sent {
    let bin = Bin::new();
    let mut command = bin.command(["dispatch", "send"].iter().chain(args));
    command.current_dir(dir).env_remove("SSL_CERT_FILE").envs(env.iter().copied());
    let output = tokio::time::timeout(GUARD, command.output()).await.expect("dispatch send hung").unwrap();
    Sent {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// The #83380 setup (codex runtime, one openai-codex OAuth login) and `ca` as `ca.pem`.
fn write_codex_setup(dir: &Path, ca: &Path) {
    std::fs::copy(ca, dir.join("ca.pem")).unwrap();
    let config =
        "{agents: {defaults: {agentRuntime: {id: 'codex'}, model: {primary: 'openai-codex/gpt-5.5-pro'}}}}";
    std::fs::write(dir.join("openclaw.json"), config).unwrap();
    let store = json!({"version": 1, "profiles": {"openai-codex:user@example.com": {"type": "oauth", "provider": "openai-codex",
        "access": chatgpt_jwt("acct-send"), "refresh": "r", "expires": 4102444800000_i64}}});
    std::fs::write(dir.join("ap.json"), store.to_string()).unwrap();
}

fn header<'s>(seen: &'s Seen, name: &str) -> Option<&'s str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

fn body(seen: &Seen) -> Value {
    serde_json::from_slice(&seen.body).unwrap()
}

const CODEX: [&str; 4] = ["--config", "openclaw.json", "--profiles", "ap.json"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_the_planned_codex_request_through_a_connect_proxy() {
    let upstream = TestUpstream::start().await;
    let (relay, targets) = start_relay(upstream.addr).await;
    let dir = tempfile::tempdir().unwrap();
    write_codex_setup(dir.path(), upstream.ca_path());
    let proxy = format!("http://{relay}");
    let args: Vec<&str> = CODEX
        .iter()
        .copied()
        .chain(["--version", "2026.5.16-beta.4", "--proxy", &proxy, "--ca", "ca.pem"])
        .collect();
    let sent = send(dir.path(), &args, &[]).await;
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert_eq!(sent.stdout, "HTTP/1.1 200 OK\n");
    assert!(!sent.stderr.contains(&chatgpt_jwt("acct-send")), "the token was printed");
    assert_eq!(*targets.lock().unwrap(), ["chatgpt.com:443"]);
    let seen = upstream.seen();
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/backend-api/codex/responses"));
    assert_eq!(header(&seen[0], "host"), Some("chatgpt.com"));
    assert_eq!(
        header(&seen[0], "authorization"),
        Some(format!("Bearer {}", chatgpt_jwt("acct-send")).as_str())
    );
    assert_eq!(header(&seen[0], "chatgpt-account-id"), Some("acct-send"));
    assert_eq!(header(&seen[0], "openai-beta"), Some("responses=experimental"));
    let body = body(&seen[0]);
    assert_eq!(
        (&body["model"], &body["store"], &body["stream"]),
        (&json!("gpt-5.5-pro"), &json!(false), &json!(true))
    );
    assert!(body["instructions"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_and_ca_come_from_the_environment_a_proxied_child_gets() {
    let upstream = TestUpstream::start().await;
    let (relay, targets) = start_relay(upstream.addr).await;
    let dir = tempfile::tempdir().unwrap();
    write_codex_setup(dir.path(), upstream.ca_path());
    let (proxy, ca) = (format!("http://{relay}"), upstream.ca_path().display().to_string());
    let sent = send(dir.path(), &CODEX, &[("HTTPS_PROXY", &proxy), ("SSL_CERT_FILE", &ca)]).await;
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert_eq!(*targets.lock().unwrap(), ["chatgpt.com:443"]);
    assert_eq!(upstream.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_an_anthropic_key_in_x_api_key() {
    let upstream = TestUpstream::start().await;
    let (relay, targets) = start_relay(upstream.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, ca) = (format!("http://{relay}"), upstream.ca_path().display().to_string());
    let args = [
        "--model",
        "anthropic/claude-x",
        "--env",
        "ANTHROPIC_API_KEY=sk-ant-api03-send",
        "--proxy",
        &proxy,
        "--ca",
        &ca,
    ];
    let sent = send(dir.path(), &args, &[]).await;
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert_eq!(*targets.lock().unwrap(), ["api.anthropic.com:443"]);
    let seen = &upstream.seen()[0];
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(header(seen, "x-api-key"), Some("sk-ant-api03-send"));
    assert_eq!(header(seen, "authorization"), None);
    assert_eq!(header(seen, "anthropic-version"), Some("2023-06-01"));
    assert_eq!(body(seen)["model"], "claude-x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_2xx_answer_exits_1_and_shows_the_body() {
    let upstream = TestUpstream::start().await;
    let (relay, _) = start_relay(upstream.addr).await;
    let dir = tempfile::tempdir().unwrap();
    // A catalog provider whose api path is the upstream's `/status/401` route.
    let catalog = json!({"format": "dispatch-vcr/catalog@1",
        "providers": {"probe": {"env": [{"var": "PROBE_KEY", "type": "api_key"}], "routes": [{"base_url": "https://api.openai.com", "api": "status-401", "hosts": ["api.openai.com"]}]}},
        "apis": {"status-401": {"method": "POST", "path": "/status/401", "auth": [{"header": "authorization", "scheme": "Bearer"}], "sample_body": {}}}});
    std::fs::write(dir.path().join("catalog.json"), catalog.to_string()).unwrap();
    let (proxy, ca) = (format!("http://{relay}"), upstream.ca_path().display().to_string());
    let args = [
        "--catalog",
        "catalog.json",
        "--model",
        "probe/m",
        "--env",
        "PROBE_KEY=probe-secret",
        "--proxy",
        &proxy,
        "--ca",
        &ca,
    ];
    let sent = send(dir.path(), &args, &[]).await;
    assert_eq!(sent.code, 1, "{}", sent.stderr);
    assert_eq!(sent.stdout, "HTTP/1.1 401 Unauthorized\n");
    assert!(sent.stderr.contains(r#"{"status":401}"#), "{}", sent.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_proxy_exits_3() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_codex_setup(dir.path(), TestCa::new().cert_path());
    let proxy = format!("http://{closed}");
    let sent =
        send(dir.path(), &CODEX.iter().copied().chain(["--proxy", &proxy]).collect::<Vec<_>>(), &[]).await;
    assert_eq!(sent.code, 3, "{}", sent.stderr);
    assert!(sent.stderr.contains("cannot reach the proxy"), "{}", sent.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_upstream_exits_3_and_says_to_pass_the_ca() {
    let upstream = TestUpstream::start().await;
    let (relay, _) = start_relay(upstream.addr).await;
    let dir = tempfile::tempdir().unwrap();
    write_codex_setup(dir.path(), TestCa::new().cert_path());
    let proxy = format!("http://{relay}");
    let sent = send(
        dir.path(),
        &CODEX.iter().copied().chain(["--proxy", &proxy, "--ca", "ca.pem"]).collect::<Vec<_>>(),
        &[],
    )
    .await;
    assert_eq!(sent.code, 3, "{}", sent.stderr);
    assert!(sent.stderr.contains("--ca"), "{}", sent.stderr);
    assert!(upstream.seen().is_empty(), "a request reached an untrusted upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_sends_nothing_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let sent = send(dir.path(), &["--model", "openai/gpt-5.5", "--proxy", "http://127.0.0.1:9"], &[]).await;
    assert_eq!(sent.code, 1);
    assert!(sent.stderr.contains("No API key found for provider \"openai\""), "{}", sent.stderr);
}
