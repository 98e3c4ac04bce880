//! `record --stub` end to end: real clients (curl, Python's urllib, a
//! WebSocket) get provider-shaped answers through the built binary with no
//! upstream at all, and the cassette records what they sent.

use std::path::Path;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

fn cassette(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn interactions(cassette: &Value) -> Vec<Value> {
    cassette["interactions"].as_array().unwrap().clone()
}

/// `record --stub -o OUT EXTRA… -- sh -c SCRIPT` with `env`; its stdout.
async fn record_script(
    out: &Path,
    extra: &[&str],
    script: &str,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let bin = Bin::new();
    let mut args = vec!["record", "--stub", "-o", out.to_str().unwrap(), "--listen", "127.0.0.1:0"];
    args.extend(extra);
    args.extend(["--", "sh", "-c", script]);
    let mut command = bin.command(args);
    command.envs(env.iter().copied());
    let output = tokio::time::timeout(GUARD, command.output()).await.expect("record --stub hung").unwrap();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_gets_responses_sse_codex_models_and_a_404_and_zstd_bodies_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("curl.json");
    let body = dir.path().join("body.zst");
    let json = br#"{"model":"gpt-5.5","stream":true,"store":false,"instructions":"x","input":[]}"#;
    std::fs::write(&body, zstd::encode_all(&json[..], 3).unwrap()).unwrap();
    let script = r#"set -e
c() { curl -sS --proxy "$HTTPS_PROXY" --cacert "$NODE_EXTRA_CA_CERTS" "$@"; echo; }
c https://api.openai.com/v1/responses -H 'authorization: Bearer sk-proj-stubtest0123456789' \
  -H 'content-type: application/json' -d '{"model":"gpt-5.4","input":"hi","stream":true}'
c https://chatgpt.com/backend-api/codex/responses -H 'content-type: application/json' \
  -H 'content-encoding: zstd' --data-binary @"$BODY"
c https://chatgpt.com/backend-api/codex/models
c -o /dev/null -w 'status=%{http_code}\n' https://registry.example.test/some/package
"#;
    let (code, stdout, stderr) = record_script(&out, &[], script, &[("BODY", body.to_str().unwrap())]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("event: response.created"), "{stdout}");
    assert!(stdout.contains("\"model\":\"gpt-5.4\""), "the model is echoed: {stdout}");
    assert!(stdout.contains("\"model\":\"gpt-5.5\""), "the zstd body was read: {stdout}");
    assert!(stdout.contains(r#"{"models":[]}"#), "{stdout}");
    assert!(stdout.contains("status=404"), "{stdout}");

    let recorded = interactions(&cassette(&out));
    assert_eq!(recorded.len(), 4);
    let codex = &recorded[1];
    assert_eq!(codex["request"]["body"]["decoded_from"], "zstd");
    assert_eq!(codex["request"]["body"]["json"]["model"], "gpt-5.5");
    let events: Vec<&str> = codex["response"]["body"]["sse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events.first(), Some(&"response.created"));
    assert_eq!(events.last(), Some(&"response.completed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_gets_chat_completions_anthropic_messages_and_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("python.json");
    let script = r#"python3 - <<'PY'
import base64, json, urllib.request
def post(url, body, **headers):
    headers = {"content-type": "application/json", **headers}
    with urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)) as r:
        return r.headers.get("content-type"), r.read().decode()
_, chat = post("https://api.openai.com/v1/chat/completions", {"model": "gpt-4o", "messages": []})
chat = json.loads(chat)
print("chat:", chat["object"], chat["model"], chat["choices"][0]["message"]["content"])
kind, stream = post("https://api.anthropic.com/v1/messages", {"model": "claude-x", "stream": True, "max_tokens": 5},
                    **{"x-api-key": "sk-ant-api03-stubtest", "anthropic-version": "2023-06-01"})
names = [l[len("event: "):] for l in stream.splitlines() if l.startswith("event: ")]
print("anthropic:", kind.split(";")[0], names[0], names[-1])
_, emb = post("https://api.openai.com/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"],
              "encoding_format": "base64"})
emb = json.loads(emb)
print("embeddings:", len(emb["data"]), len(base64.b64decode(emb["data"][0]["embedding"])) // 4)
PY"#;
    let (code, stdout, stderr) = record_script(&out, &[], script, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("chat: chat.completion gpt-4o Hello"), "{stdout}");
    assert!(stdout.contains("anthropic: text/event-stream message_start message_stop"), "{stdout}");
    assert!(stdout.contains("embeddings: 2 1536"), "{stdout}");
    assert_eq!(interactions(&cassette(&out)).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_status_401_answers_model_calls_with_the_providers_401_body() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("401.json");
    let script = r#"
c() { curl -sS --proxy "$HTTPS_PROXY" --cacert "$NODE_EXTRA_CA_CERTS" -w ' status=%{http_code}\n' "$@"; }
c https://api.openai.com/v1/responses -H 'content-type: application/json' -d '{"model":"gpt-5.5"}'
c https://chatgpt.com/backend-api/codex/models
"#;
    let (code, stdout, stderr) = record_script(&out, &["--stub-status", "401"], script, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(r#""message":"Missing bearer or basic authentication in header""#), "{stdout}");
    assert!(stdout.contains("status=401"), "{stdout}");
    assert!(stdout.contains(r#"{"models":[]} status=200"#), "only model calls fail: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responses_websocket_is_served_and_recorded() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("ws.json");
    let args = ["record", "--stub", "-o", out.to_str().unwrap(), "--listen", "127.0.0.1:0"];
    let mut running = bin.spawn(args).await;
    let ca = bin.home.path().join("ca/ca-cert.pem");
    let mut socket = ws_connect(running.addr, &ca, "chatgpt.com", "/backend-api/codex/responses").await;
    socket.send(text_message(r#"{"type":"response.create","model":"gpt-5.5","input":[]}"#)).await.unwrap();
    let mut last = Value::Null;
    while let Some(Ok(Message::Text(message))) = socket.next().await {
        last = serde_json::from_str(message.as_str()).unwrap();
        if last["type"] == "response.completed" {
            break;
        }
    }
    assert_eq!(last["response"]["model"], "gpt-5.5");
    socket.close(None).await.unwrap();
    while socket.next().await.is_some() {}
    running.signal(libc::SIGINT);
    let status = tokio::time::timeout(GUARD, running.child.wait()).await.unwrap().unwrap();
    assert!(status.success());

    let recorded = interactions(&cassette(&out));
    let messages = recorded[0]["websocket"]["messages"].as_array().unwrap();
    assert_eq!(messages[0]["from"], "client");
    assert!(
        messages
            .iter()
            .any(|m| m["from"] == "server" && m["text"].as_str().unwrap().contains("response.completed"))
    );
}

#[tokio::test]
async fn stub_refuses_network_flags_and_bad_statuses() {
    let bin = Bin::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.json");
    let out = out.to_str().unwrap();
    let conflict = bin.run(["record", "--stub", "-o", out, "--connect-to", "a:443:127.0.0.1:1"]).await;
    assert_eq!(conflict.status.code(), Some(2), "{}", text(&conflict.stderr));
    let without = bin.run(["record", "-o", out, "--stub-status", "401"]).await;
    assert_eq!(without.status.code(), Some(2), "--stub-status needs --stub");
    let bad = bin.run(["record", "--stub", "--stub-status", "200", "-o", out, "--", "true"]).await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("--stub-status 200"), "{}", text(&bad.stderr));
    assert!(!Path::new(out).exists());
}
