//! `dispatch-vcr replay` end to end: cassettes recorded from (or written
//! like) a local HTTPS upstream, served back with the upstream gone, to real
//! clients (curl, Python's urllib, hyper over h1 and h2, a WebSocket) through
//! the built binary and through the in-process `replay::start` handle.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use dispatch_vcr::cmd::replay::{self, ReplayHandle};
use dispatch_vcr::upstream::body;
use futures_util::{SinkExt as _, StreamExt as _};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};

use crate::support::*;

const RESPONSES: &str = "https://api.openai.com/v1/responses";
const MODELS: &str = "https://api.openai.com/v1/models";
const MESSAGES: &str = "https://api.anthropic.com/v1/messages";
const BEARER: &str = "Bearer [REDACTED sha256:1f0c2a9b7d3e]";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A cassette v1 file holding `interactions`.
fn write_cassette(dir: &Path, name: &str, interactions: Vec<Value>) -> PathBuf {
    let path = dir.join(name);
    let cassette = json!({"format": "dispatch-vcr/cassette@1", "interactions": interactions});
    std::fs::write(&path, serde_json::to_string_pretty(&cassette).unwrap()).unwrap();
    path
}

/// One interaction: `method url` with `headers`, answered `response`.
fn exchange(seq: u64, method: &str, url: &str, headers: Value, response: Value) -> Value {
    json!({
        "seq": seq, "conn": 1, "t_ms": seq * 10, "duration_ms": 1,
        "request": {"method": method, "url": url, "headers": headers, "body": {"empty": true}},
        "response": response,
    })
}

fn json_response(body: Value) -> Value {
    json!({"status": 200, "headers": [["content-type", "application/json"]], "body": {"json": body}})
}

/// `replay CASSETTE --listen 127.0.0.1:0 EXTRA…`
fn replay_args(cassette: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["replay".to_owned(), cassette.display().to_string()];
    args.extend(["--listen".to_owned(), "127.0.0.1:0".to_owned()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The in-process replay of `cassette`, its CA in `home`.
async fn start(cassette: &Path, home: &Path, tweak: impl FnOnce(&mut replay::Options)) -> ReplayHandle {
    let mut options = replay::Options {
        cassette: cassette.to_owned(),
        home: Some(home.to_owned()),
        ..replay::Options::default()
    };
    tweak(&mut options);
    replay::start(options).await.unwrap()
}

fn addr(handle: &ReplayHandle) -> SocketAddr {
    handle.proxy_url().strip_prefix("http://").unwrap().parse().unwrap()
}

async fn post(client: &mut ProxiedClient, url: &str, body: &str) -> (StatusCode, String) {
    let response = client.send(Request::post(url).body(body::full(body.to_owned())).unwrap()).await;
    (response.status(), crate::support::text(response).await)
}

/// curl, then Python streaming SSE with an ack, each writing what it got into `$OUT`.
const ROUND_TRIP: &str = r#"set -e
curl -sS --fail-with-body https://api.openai.com/v1/responses -H "Authorization: Bearer $SECRET" \
  -H 'content-type: application/json' -d '{"model":"gpt-5.5","input":"hi"}' > "$OUT/curl.out"
python3 -c '
import json, sys, urllib.request
headers = {"content-type": "application/json", "accept": "text/event-stream", "authorization": "Bearer sk-test-python-0123456789"}
body = json.dumps({"model": "gpt-5.5", "stream": True}).encode()
stream = urllib.request.urlopen(urllib.request.Request("https://api.openai.com/v1/responses", data=body, headers=headers))
first = b""
while not first.endswith(b"\n\n"):
    first += stream.readline()
urllib.request.urlopen(urllib.request.Request("https://api.openai.com/ack", data=b"", method="POST")).read()
sys.stdout.buffer.write(first + stream.read())
' > "$OUT/python.out"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_and_python_replay_offline_byte_for_byte() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let (live, replayed) = (dir.path().join("live"), dir.path().join("replayed"));
    std::fs::create_dir_all(&live).unwrap();
    std::fs::create_dir_all(&replayed).unwrap();
    let cassette = dir.path().join("round-trip.json");
    let secret = unique("sk-proj-");

    let mut record = vec!["record".to_owned(), "-o".into(), cassette.display().to_string()];
    record.extend(["--listen".into(), "127.0.0.1:0".into()]);
    record.extend(upstream.proxy_args());
    record.extend(["--".into(), "sh".into(), "-c".into(), ROUND_TRIP.into()]);
    let output = bin.command(&record).env("SECRET", &secret).env("OUT", &live).output().await.unwrap();
    assert!(output.status.success(), "record: {}", text(&output.stderr));
    assert_eq!(upstream.seen().len(), 3, "curl, the stream and the ack reached the upstream");
    drop(upstream);

    let args = replay_args(&cassette, &["--", "sh", "-c", ROUND_TRIP]);
    let output = bin.command(&args).env("SECRET", &secret).env("OUT", &replayed).output().await.unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("replayed 3 of 3 recorded interaction(s); 0 miss(es), 0 unused"), "{stderr}");
    for name in ["curl.out", "python.out"] {
        let (recorded, replayed) =
            (std::fs::read(live.join(name)).unwrap(), std::fs::read(replayed.join(name)).unwrap());
        assert_eq!(text(&replayed), text(&recorded), "{name}");
    }
    let curl = read_json(&replayed.join("curl.out"));
    assert_eq!((curl["id"].as_str(), curl["body"]["model"].as_str()), (Some("resp_1"), Some("gpt-5.5")));
    let events = std::fs::read_to_string(replayed.join("python.out")).unwrap();
    assert_eq!(events, SSE_EVENTS.concat(), "the same SSE events, in order");
}

/// Two recorded requests; the client asks for a third the cassette lacks.
fn miss_cassette(dir: &Path) -> PathBuf {
    write_cassette(
        dir,
        "miss.json",
        vec![
            exchange(
                1,
                "POST",
                RESPONSES,
                json!([["authorization", BEARER], ["content-type", "application/json"]]),
                json_response(json!({"id": "resp_1"})),
            ),
            exchange(2, "GET", MODELS, json!([]), json_response(json!({"data": []}))),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miss_is_a_502_explained_to_client_and_stderr_and_exits_1() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let cassette = miss_cassette(dir.path());
    let running = bin.spawn(replay_args(&cassette, &[])).await;
    let ca = bin.home.path().join("ca/ca-cert.pem");
    let secret = "sk-proj-miss0123456789abcdefghij";
    let mut client = ProxiedClient::connect(running.addr, &ca, "chatgpt.com", Http::H1).await;
    let request = Request::post("https://chatgpt.com/backend-api/codex/responses")
        .header("authorization", format!("Bearer {secret}"))
        .header("content-type", "application/json")
        .body(body::full(r#"{"model":"gpt-5.5"}"#))
        .unwrap();
    let response = client.send(request).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body = crate::support::text(response).await;
    assert!(!body.contains(secret), "{body}");
    let explanation: Value = serde_json::from_str(&body).unwrap();
    insta::assert_json_snapshot!("miss_explanation_for_the_client", explanation);

    running.signal(libc::SIGINT);
    let (status, stderr) = running.wait().await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
    let at_the_miss = "replay miss: POST https://chatgpt.com/backend-api/codex/responses is not in the cassette; \
                       nearest recorded: #1 POST https://api.openai.com/v1/responses";
    assert!(stderr.contains(at_the_miss), "{stderr}");
    assert!(stderr.contains("+POST https://chatgpt.com/backend-api/codex/responses"), "the diff: {stderr}");
    assert!(stderr.contains("replayed 0 of 2 recorded interaction(s); 1 miss(es), 2 unused"), "{stderr}");
    assert!(stderr.contains("unused: #2 GET https://api.openai.com/v1/models"), "{stderr}");
}

/// Two answers to the same request, then another request.
fn fifo_cassette(dir: &Path) -> PathBuf {
    write_cassette(
        dir,
        "fifo.json",
        vec![
            exchange(1, "POST", RESPONSES, json!([]), json_response(json!({"n": 1}))),
            exchange(2, "POST", RESPONSES, json!([]), json_response(json!({"n": 2}))),
            exchange(3, "GET", MODELS, json!([]), json_response(json!({"data": []}))),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_requests_are_answered_in_recorded_order_then_used_up() {
    let dir = tempfile::tempdir().unwrap();
    let handle = start(&fifo_cassette(dir.path()), dir.path(), |_| {}).await;
    let mut client =
        ProxiedClient::connect(addr(&handle), handle.ca_pem_path(), "api.openai.com", Http::H2).await;
    assert_eq!(post(&mut client, RESPONSES, "{}").await, (StatusCode::OK, r#"{"n":1}"#.to_owned()));
    assert_eq!(post(&mut client, RESPONSES, "{}").await, (StatusCode::OK, r#"{"n":2}"#.to_owned()));
    let (status, third) = post(&mut client, RESPONSES, "{}").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(third.contains("2 answer(s) to it were all served already"), "{third}");
    drop(client);
    let summary = handle.finish().await.unwrap();
    assert_eq!((summary.served, summary.misses.len(), summary.exit_code()), (2, 1, 1));
    let unused: Vec<u64> = summary.unused.iter().map(|u| u.seq).collect();
    assert_eq!(unused, [3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeat_serves_the_last_answer_again() {
    let dir = tempfile::tempdir().unwrap();
    let handle = start(&fifo_cassette(dir.path()), dir.path(), |o| o.repeat = true).await;
    let proxy = ("HTTPS_PROXY".to_owned(), handle.proxy_url().to_owned());
    assert!(handle.env().contains(&proxy), "a child gets the proxy: {:?}", handle.env());
    let mut client =
        ProxiedClient::connect(addr(&handle), handle.ca_pem_path(), "api.openai.com", Http::H1).await;
    let mut bodies = Vec::new();
    for _ in 0..4 {
        bodies.push(post(&mut client, RESPONSES, "{}").await.1);
    }
    assert_eq!(bodies, [r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":2}"#, r#"{"n":2}"#]);
    drop(client);
    let summary = handle.finish().await.unwrap();
    assert_eq!((summary.misses.len(), summary.exit_code()), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulate_auth_answers_a_request_without_the_recorded_credential_as_the_provider() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let anthropic_key = "x-api-key";
    let cassette = write_cassette(
        dir.path(),
        "auth.json",
        vec![
            exchange(
                1,
                "POST",
                RESPONSES,
                json!([["authorization", BEARER]]),
                json_response(json!({"id": "r"})),
            ),
            exchange(
                2,
                "POST",
                MESSAGES,
                json!([[anthropic_key, "[REDACTED sha256:77aa01c3b2f4]"]]),
                json_response(json!({"id": "m"})),
            ),
        ],
    );
    let script = r#"set -e
        call() { curl -sS -w ' %{http_code}\n' "$@"; }
        call https://api.openai.com/v1/responses -d '{}'
        call https://api.openai.com/v1/responses -d '{}' -H 'Authorization: Bearer sk-proj-other0123456789'
        call https://api.anthropic.com/v1/messages -d '{}' -H 'Authorization: Bearer sk-ant-oat01-abcdef0123456789'"#;
    let output = bin.run(replay_args(&cassette, &["--emulate-auth", "--", "sh", "-c", script])).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let answers: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        answers,
        [
            r#"{"error":{"message":"Missing bearer or basic authentication in header","type":"invalid_request_error","param":null,"code":null}} 401"#,
            r#"{"id":"r"} 200"#,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}} 401"#,
        ],
        "{stderr}"
    );
    let refused = "answered 401 as the provider (--emulate-auth): POST https://api.openai.com/v1/responses";
    assert!(stderr.contains(refused), "{stderr}");
    assert!(stderr.contains("unused: #2 POST https://api.anthropic.com/v1/messages"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_websocket_session_replays_the_same_server_messages() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let cassette = dir.path().join("ws.json");
    let mut args = vec!["record".to_owned(), "-o".into(), cassette.display().to_string()];
    args.extend(["--listen".into(), "127.0.0.1:0".into()]);
    args.extend(upstream.proxy_args());
    let running = bin.spawn(&args).await;
    let ca = bin.home.path().join("ca/ca-cert.pem");
    let sent = ["first", "second", "third"];
    let talk = |proxy, ca: PathBuf| async move {
        let mut socket = ws_connect(proxy, &ca, "api.openai.com", "/ws").await;
        let mut got = Vec::new();
        for message in sent {
            socket.send(text_message(message)).await.unwrap();
            got.push(socket.next().await.unwrap().unwrap().into_text().unwrap().as_str().to_owned());
        }
        socket.close(None).await.unwrap();
        while socket.next().await.is_some() {}
        got
    };
    let live = talk(running.addr, ca).await;
    running.signal(libc::SIGINT);
    let (status, stderr) = running.wait().await;
    assert!(status.success(), "{stderr}");
    drop(upstream);

    let handle = start(&cassette, dir.path(), |_| {}).await;
    let replayed = talk(addr(&handle), handle.ca_pem_path().to_owned()).await;
    assert_eq!(live, sent);
    assert_eq!(replayed, live);
    let summary = handle.finish().await.unwrap();
    assert_eq!((summary.served, summary.misses.len()), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observed_cassette_holds_what_the_client_sent_redacted() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let cassette = miss_cassette(dir.path());
    let observed = dir.path().join("observed.json");
    let secret = unique("sk-proj-");
    let script = r#"
        curl -sS -o /dev/null https://api.openai.com/v1/responses -H "Authorization: Bearer $SECRET" \
          -H 'content-type: application/json' -d '{"model":"gpt-5.5-observed"}'
        curl -sS -o /dev/null https://chatgpt.com/backend-api/codex/responses -d '{}'"#;
    let args = replay_args(&cassette, &["--observed", observed.to_str().unwrap(), "--", "sh", "-c", script]);
    let output = bin.command(args).env("SECRET", &secret).output().await.unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "the second request missed: {stderr}");
    assert!(stderr.contains(&format!("observed requests written to {}", observed.display())), "{stderr}");

    let file = std::fs::read_to_string(&observed).unwrap();
    assert!(!file.contains(&secret) && !stderr.contains(&secret), "the bearer never lands in clear");
    let observed = read_json(&observed);
    assert_eq!(observed["format"], "dispatch-vcr/cassette@1");
    assert_eq!(observed["meta"]["labels"]["replay_of"], cassette.display().to_string());
    let first = &observed["interactions"][0];
    assert_eq!(first["request"]["url"], RESPONSES);
    assert_eq!(first["request"]["body"]["json"]["model"], "gpt-5.5-observed");
    let fingerprint = dispatch_vcr::credential::fingerprint(&secret);
    let headers = first["request"]["headers"].as_array().unwrap();
    assert!(
        headers.contains(&json!(["authorization", format!("Bearer [REDACTED {fingerprint}]")])),
        "{headers:?}"
    );
    assert_eq!(observed["meta"]["credentials"][&fingerprint]["kind"], "openai-key");
    assert_eq!(first["response"]["status"], 200);
    let second = &observed["interactions"][1];
    assert_eq!(second["request"]["url"], "https://chatgpt.com/backend-api/codex/responses");
    assert_eq!(second["response"]["status"], 502);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_replay_never_opens_an_upstream_connection() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let mut interactions = vec![exchange(1, "GET", MODELS, json!([]), json_response(json!({"data": []})))];
    interactions.push(json!({
        "seq": 2, "t_ms": 20,
        "request": {"method": "GET", "url": "https://api.openai.com/v1/down", "body": {"empty": true}},
        "error": "upstream connect failed: api.openai.com:443: connection refused",
    }));
    let cassette = write_cassette(dir.path(), "offline.json", interactions);
    // A listener nobody accepts on: any connection to it would complete in the
    // kernel's backlog and show up below. And a port with nothing behind it.
    let watched = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    watched.set_nonblocking(true).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let watched_rule = format!("api.openai.com:443:127.0.0.1:{}", watched.local_addr().unwrap().port());
    let closed_rule = format!("chatgpt.com:443:127.0.0.1:{closed}");
    let pass_rule = format!("passthrough.example:443:127.0.0.1:{}", watched.local_addr().unwrap().port());
    let flags = ["--connect-to", &watched_rule, "--connect-to", &closed_rule, "--connect-to", &pass_rule];
    let mut args = replay_args(&cassette, &flags);
    args.extend(["--passthrough".into(), "passthrough.example".into()]);
    let running = bin.spawn(&args).await;
    let ca = bin.home.path().join("ca/ca-cert.pem");

    let mut openai = ProxiedClient::connect(running.addr, &ca, "api.openai.com", Http::H1).await;
    let get = |url: &str| Request::get(url).body(body::empty()).unwrap();
    assert_eq!(openai.send(get(MODELS)).await.status(), StatusCode::OK);
    let down = openai.send(get("https://api.openai.com/v1/down")).await;
    assert_eq!(down.status(), StatusCode::BAD_GATEWAY);
    let down = crate::support::text(down).await;
    assert!(down.contains("upstream connect failed: api.openai.com:443: connection refused"), "{down}");
    let missed = openai.send(get("https://api.openai.com/v1/files")).await;
    assert_eq!(missed.status(), StatusCode::BAD_GATEWAY);
    assert!(crate::support::text(missed).await.contains("replay_miss"));
    let mut chatgpt = ProxiedClient::connect(running.addr, &ca, "chatgpt.com", Http::H2).await;
    let missed = chatgpt.send(get("https://chatgpt.com/backend-api/codex/models")).await;
    assert!(crate::support::text(missed).await.contains("replay_miss"), "a miss, not a connect failure");
    let (status, _) = connect_tunnel_status(running.addr, "passthrough.example:443").await;
    assert_eq!(status, 502, "a passthrough tunnel would need the network");
    drop((openai, chatgpt));

    running.signal(libc::SIGTERM);
    let (status, stderr) = running.wait().await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    let accepted = watched.accept().map(|(_, peer)| peer);
    assert_eq!(
        accepted.as_ref().map_err(std::io::Error::kind).unwrap_err(),
        std::io::ErrorKind::WouldBlock,
        "replay connected upstream: {accepted:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_miss_forward_sends_misses_to_the_network() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let cassette = miss_cassette(dir.path());
    let mut args = replay_args(&cassette, &["--on-miss", "forward"]);
    args.extend(upstream.proxy_args());
    args.extend(["--".into(), "sh".into(), "-c".into()]);
    args.push("curl -sS --fail-with-body https://chatgpt.com/backend-api/codex/models".into());
    let output = bin.run(args).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains(r#""path":"/backend-api/codex/models""#), "the upstream answered: {stdout}");
    assert_eq!(upstream.seen().len(), 1);
    assert!(
        stderr.contains("forwarded (not in the cassette): GET https://chatgpt.com/backend-api/codex/models")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_faithful_decoded_bodies_go_out_identity_and_streams_stream() {
    let dir = tempfile::tempdir().unwrap();
    let gzip = json!({
        "status": 200,
        "headers": [["content-type", "text/plain"], ["content-encoding", "gzip"], ["content-length", "999"], ["x-request-id", "req_7"]],
        "body": {"text": "hello, identity", "decoded_from": "gzip"},
    });
    let chunks = json!({
        "status": 201,
        "headers": [["transfer-encoding", "chunked"]],
        "body": {"chunks": [{"t_ms": 0, "text": "one,"}, {"t_ms": 1, "base64": "/w=="}, {"t_ms": 2, "text": "three"}]},
    });
    let cassette = write_cassette(
        dir.path(),
        "faithful.json",
        vec![
            exchange(1, "GET", "https://api.openai.com/gzip", json!([]), gzip),
            exchange(2, "GET", "https://api.openai.com/chunks", json!([]), chunks),
        ],
    );
    let handle = start(&cassette, dir.path(), |o| {
        o.pace = replay::Pace::Recorded;
        o.repeat = true;
    })
    .await;
    for http in [Http::H1, Http::H2] {
        let mut client =
            ProxiedClient::connect(addr(&handle), handle.ca_pem_path(), "api.openai.com", http).await;
        let response =
            client.send(Request::get("https://api.openai.com/gzip").body(body::empty()).unwrap()).await;
        let headers = response.headers().clone();
        assert_eq!(headers["content-length"], "15", "{http:?}");
        assert_eq!(headers["x-request-id"], "req_7");
        assert!(!headers.contains_key("content-encoding"), "{http:?}: served identity");
        assert_eq!(crate::support::text(response).await, "hello, identity");

        let response =
            client.send(Request::get("https://api.openai.com/chunks").body(body::empty()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert!(!response.headers().contains_key("content-length"), "{http:?}: streamed");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(bytes.as_ref(), b"one,\xffthree");
    }
    let summary = handle.finish().await.unwrap();
    assert_eq!((summary.served, summary.misses.len()), (2, 0));
}

#[tokio::test]
async fn a_malformed_cassette_exits_2_naming_line_and_column_before_listening() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"format\": \"dispatch-vcr/cassette@1\",\n \"interactions\": [ {\"seq\": 1,,} ] }",
    )
    .unwrap();
    let output = bin.run(replay_args(&bad, &[])).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:2:", bad.display())), "{stderr}");
    assert!(output.stdout.is_empty(), "never listened: {}", text(&output.stdout));
}

#[tokio::test]
async fn the_childs_failure_is_the_exit_status() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let cassette = miss_cassette(dir.path());
    let output = bin.run(replay_args(&cassette, &["--", "sh", "-c", "exit 7"])).await;
    assert_eq!(output.status.code(), Some(7), "{}", text(&output.stderr));
}

/// `ARGS -- sh -c 'SCRIPT'` for replay of a one-request cassette, `record
/// --stub` and `run --stub`, each with `home` as its `DISPATCH_VCR_HOME`.
fn proxy_commands(dir: &Path, script: &str) -> Vec<Vec<String>> {
    let cassette = miss_cassette(dir).display().to_string();
    let recorded = dir.join("recorded.json").display().to_string();
    let scenario = root().join("scenarios/openclaw/codex-oauth-goes-to-chatgpt-backend.json");
    let tail = ["--", "sh", "-c", script];
    [
        vec!["replay", &cassette],
        vec!["record", "--stub", "-o", &recorded],
        vec!["run", scenario.to_str().unwrap(), "--stub"],
    ]
    .into_iter()
    .map(|head| head.into_iter().chain(tail).map(str::to_owned).collect())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_command_stdout_is_the_commands_own_and_the_proxy_is_announced_on_stderr() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    for args in proxy_commands(dir.path(), "echo child-output") {
        let output = bin.run(&args).await;
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert!(stdout.starts_with("child-output\n"), "{}: stdout {stdout:?}", args[0]);
        if args[0] != "run" {
            assert_eq!(stdout, "child-output\n", "{}", args[0]);
        }
        assert!(stderr.contains("listening on http://127.0.0.1:"), "{}: stderr {stderr:?}", args[0]);
    }
}

/// A reader that goes away (`2>&1 | head -1`) costs us the rest of the
/// output, never a panic: stdout and stderr share one pipe whose reader
/// closes after the first line; only then does the command's child (waiting
/// for the file `go`) make its request, so every later line meets a broken pipe.
#[test]
fn a_reader_that_goes_away_is_no_panic_and_the_exit_code_is_the_documented_one() {
    use std::io::BufRead as _;

    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let init = std::process::Command::new(BIN)
        .args(["ca", "init"])
        .env("DISPATCH_VCR_HOME", bin.home.path())
        .output()
        .unwrap();
    assert!(init.status.success());
    let go = dir.path().join("go");
    let script = format!(
        "while [ ! -e '{}' ]; do sleep 0.02; done; \
         curl -s https://api.openai.com/v1/not-recorded -o /dev/null; exit 3",
        go.display()
    );
    // replay: the request misses (1); record: the child's status (3); run: the verdict, not the child's status.
    for (args, code) in proxy_commands(dir.path(), &script).into_iter().zip([3, 3, 1]) {
        let _ = std::fs::remove_file(&go);
        let (reader, writer) = std::io::pipe().unwrap();
        let mut child = std::process::Command::new(BIN)
            .args(&args)
            .env("DISPATCH_VCR_HOME", bin.home.path())
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(writer.try_clone().unwrap())
            .stderr(writer)
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(reader).read_line(&mut first).unwrap();
        assert!(first.starts_with("listening on http://"), "{}: {first:?}", args[0]);
        std::fs::write(&go, "").unwrap();
        let (done, exited) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(child.wait()));
        let status = exited.recv_timeout(GUARD).expect("did not exit").unwrap();
        assert_ne!(status.code(), Some(101), "{}: panicked", args[0]);
        assert_eq!(status.code(), Some(code), "{}", args[0]);
    }
}
