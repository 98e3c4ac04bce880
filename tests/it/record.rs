//! `dispatch-vcr record` end to end: real clients (curl, Python's urllib,
//! hyper, a WebSocket) record through the built binary into cassettes, from
//! a local HTTPS upstream reached as the real provider names.

use std::path::{Path, PathBuf};

use dispatch_vcr::upstream::body;
use futures_util::{SinkExt as _, StreamExt as _};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;

use crate::support::*;

const RESPONSES: &str = "https://api.openai.com/v1/responses";

fn cassette(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_records_with_the_bearer_as_its_fingerprint() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("curl.json");
    let secret = unique("sk-proj-");
    let profiles = dir.path().join("auth-profiles.json");
    let store = serde_json::json!({"version": 1, "profiles": {
        "openai:default": {"type": "api_key", "provider": "openai", "key": secret}
    }});
    std::fs::write(&profiles, store.to_string()).unwrap();
    let script = r#"curl -sS --fail-with-body --proxy "$HTTPS_PROXY" --cacert "$NODE_EXTRA_CA_CERTS" \
        https://api.openai.com/v1/responses -H "Authorization: Bearer $SECRET" \
        -H 'content-type: application/json' -d '{"model":"gpt-5.5","input":"hi"}'"#;
    let profiles_arg = profiles.display().to_string();
    let extra = ["--dispatcher", "openclaw@2026.5.16", "--profiles", &profiles_arg, "--", "sh", "-c", script];
    let args = upstream.record_args(&out, &extra);
    let output = bin.command(args).env("SECRET", &secret).output().await.unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(text(&output.stderr).contains("listening on http://127.0.0.1:"), "{}", text(&output.stderr));
    assert!(
        stdout.contains("resp_1") && !stdout.contains("listening on"),
        "curl's answer, and only it: {stdout}"
    );

    let cassette = cassette(&out);
    assert_eq!(cassette["format"], "dispatch-vcr/cassette@1");
    assert_eq!(
        cassette["meta"]["dispatcher"],
        serde_json::json!({"name": "openclaw", "version": "2026.5.16"})
    );
    let interaction = &cassette["interactions"][0];
    assert_eq!(interaction["request"]["url"], RESPONSES);
    assert_eq!(interaction["request"]["body"]["json"]["model"], "gpt-5.5");
    let fingerprint = dispatch_vcr::credential::fingerprint(&secret);
    let authorization = interaction["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == "authorization")
        .unwrap()[1]
        .clone();
    assert_eq!(authorization, format!("Bearer [REDACTED {fingerprint}]"));
    let facts = &cassette["meta"]["credentials"][&fingerprint];
    assert_eq!((&facts["profile"], &facts["kind"]), (&"openai:default".into(), &"openai-key".into()));
    assert_eq!(interaction["response"]["status"], 200);
    assert!(!std::fs::read_to_string(&out).unwrap().contains(&secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_urllib_streams_sse_unbuffered_and_records_it() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("python.json");
    // urllib honours HTTPS_PROXY and the ssl module SSL_CERT_FILE, both set by `record`.
    // Event 2 comes only after the ack, which the script sends only after event 1
    // arrived: a buffering proxy would deadlock here instead of passing.
    let script = r#"
import json, urllib.request
headers = {"content-type": "application/json", "accept": "text/event-stream", "authorization": "Bearer sk-test-python-0123456789"}
body = json.dumps({"model": "gpt-5.5", "stream": True}).encode()
stream = urllib.request.urlopen(urllib.request.Request("https://api.openai.com/v1/responses", data=body, headers=headers))
first = b""
while not first.endswith(b"\n\n"):
    first += stream.readline()
print("event 1:", first.decode().split("\n")[0])
urllib.request.urlopen(urllib.request.Request("https://api.openai.com/ack", data=b"", method="POST")).read()
print("rest:", stream.read().decode().count("event:"), "events")
"#;
    let args = upstream.record_args(&out, &["--", "python3", "-c", script]);
    let output = tokio::time::timeout(GUARD, bin.command(args).output()).await.expect("deadlock").unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("event 1: event: response.created"), "{stdout}");
    assert!(stdout.contains("rest: 2 events"), "{stdout}");

    let cassette = cassette(&out);
    let stream = cassette["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["request"]["url"] == RESPONSES)
        .unwrap()
        .clone();
    let events: Vec<&str> = stream["response"]["body"]["sse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["response.created", "response.output_text.delta", "response.completed"]);
    assert_eq!(stream["request"]["body"]["json"]["stream"], true);
    let fingerprint = dispatch_vcr::credential::fingerprint("sk-test-python-0123456789");
    let headers = stream["request"]["headers"].to_string();
    assert!(headers.contains(&format!("Bearer [REDACTED {fingerprint}]")), "{headers}");
}

/// Start `record` without a command, let `drive` talk through it, stop it with SIGINT.
async fn record_until_sigint<F, Fut>(upstream: &TestUpstream, out: &Path, drive: F) -> Value
where
    F: FnOnce(std::net::SocketAddr, PathBuf) -> Fut,
    Fut: Future<Output = ()>,
{
    let bin = Bin::new();
    let running = bin.spawn(upstream.record_args(out, &[])).await;
    drive(running.addr, bin.home.path().join("ca/ca-cert.pem")).await;
    running.signal(libc::SIGINT);
    let (status, stderr) = running.wait().await;
    assert!(status.success(), "{stderr}");
    cassette(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_http2_client_is_recorded_as_http2() {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h2.json");
    let cassette = record_until_sigint(&upstream, &out, |proxy, ca| async move {
        let mut client = ProxiedClient::connect(proxy, &ca, "api.openai.com", Http::H2).await;
        let request = Request::post(RESPONSES).body(body::full(r#"{"model":"gpt-5.5"}"#)).unwrap();
        let response = client.send(request).await;
        assert_eq!(response.status(), StatusCode::OK);
        crate::support::text(response).await;
    })
    .await;
    assert_eq!(cassette["interactions"][0]["request"]["http_version"], "HTTP/2");
    assert_eq!(cassette["interactions"][0]["response"]["body"]["json"]["id"], "resp_1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_session_is_recorded_in_order() {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ws.json");
    let cassette = record_until_sigint(&upstream, &out, |proxy, ca| async move {
        let mut socket = ws_connect(proxy, &ca, "api.openai.com", "/ws").await;
        for message in ["first", "second", "third"] {
            socket.send(text_message(message)).await.unwrap();
            socket.next().await.unwrap().unwrap();
        }
        socket.close(None).await.unwrap();
        while socket.next().await.is_some() {}
    })
    .await;
    let messages = cassette["interactions"][0]["websocket"]["messages"].as_array().unwrap().clone();
    let order: Vec<(String, String)> = messages
        .iter()
        .map(|m| (m["from"].as_str().unwrap().to_owned(), m["text"].as_str().unwrap().to_owned()))
        .collect();
    let expected: Vec<(String, String)> = ["first", "second", "third"]
        .iter()
        .flat_map(|m| [("client".to_owned(), m.to_string()), ("server".to_owned(), m.to_string())])
        .collect();
    assert_eq!(order, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_secrets_appear_in_no_file_and_no_output() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("canary.json");
    let base = unique("c4n4ry");
    let canary = |place: &str| format!("{base}{place}");
    let (auth, key, cookie, query, refresh) =
        (canary("auth"), canary("xkey"), canary("cookie"), canary("query"), canary("refresh"));
    let rotated = rotated_refresh_token(&refresh);
    let script = r#"set -e
        curl='curl -sS --fail-with-body -o /dev/null --proxy '"$HTTPS_PROXY"' --cacert '"$NODE_EXTRA_CA_CERTS"
        $curl "https://api.openai.com/v1/responses?key=$QUERY" -H "Authorization: Bearer $AUTH" \
          -H "x-api-key: $KEY" -H "Cookie: session=$COOKIE" -H 'content-type: application/json' -d '{"model":"gpt-5.5"}'
        $curl https://api.openai.com/oauth/token -H 'content-type: application/json' \
          -d '{"grant_type":"refresh_token","refresh_token":"'"$REFRESH"'"}'"#;
    let args = upstream.record_args(&out, &["--", "sh", "-c", script]);
    let output = bin
        .command(args)
        .env("RUST_LOG", "debug")
        .envs([("AUTH", &auth), ("KEY", &key), ("COOKIE", &cookie), ("QUERY", &query), ("REFRESH", &refresh)])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let interactions = cassette(&out)["interactions"].as_array().unwrap().len();
    assert_eq!(interactions, 2, "both exchanges were recorded");
    assert_eq!(upstream.seen()[1].path, "/oauth/token", "the refresh really happened");

    let mut haystacks: Vec<(String, String)> = files_under(dir.path())
        .into_iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(&f).unwrap()))
        .collect();
    haystacks.push(("stdout".into(), text(&output.stdout)));
    haystacks.push(("stderr".into(), text(&output.stderr)));
    for secret in [&base, &auth, &key, &cookie, &query, &refresh, &rotated] {
        for (name, haystack) in &haystacks {
            assert!(!haystack.contains(secret.as_str()), "{secret} leaked into {name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_n_exchanges_leaves_a_journal_that_recovers() {
    const N: usize = 3;
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("killed.json");
    let journal = dir.path().join("killed.json.journal");
    let (mut running, mut client) = record_with_client(&bin, &upstream, &out).await;
    for i in 0..N {
        let request = Request::post(RESPONSES).body(body::full(format!(r#"{{"n":{i}}}"#))).unwrap();
        let response = client.send(request).await;
        assert_eq!(response.status(), StatusCode::OK);
        crate::support::text(response).await;
    }
    // The journal is written by another process: nothing to wait on but the file itself.
    let lines = || std::fs::read_to_string(&journal).map(|t| t.lines().count()).unwrap_or(0);
    let deadline = tokio::time::Instant::now() + GUARD;
    while lines() < N + 1 {
        assert!(tokio::time::Instant::now() < deadline, "journal has {} lines", lines());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    running.child.start_kill().unwrap();
    running.child.wait().await.unwrap();
    assert!(!out.exists(), "no cassette without a clean finish");
    assert_eq!(lines(), N + 1, "a header and one line per exchange");

    let recovered = bin.run(["cassette".as_ref(), "recover".as_ref(), out.as_os_str()]).await;
    assert!(recovered.status.success(), "{}", text(&recovered.stderr));
    assert!(
        text(&recovered.stdout).starts_with(&format!("recovered {N} interactions")),
        "{}",
        text(&recovered.stdout)
    );
    let loaded = dispatch_vcr::cassette::load(&out).expect("the recovered cassette loads and validates");
    assert_eq!(loaded.interactions.len(), N);
    let recovered = cassette(&out);
    let bodies: Vec<&Value> = recovered["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["request"]["body"]["json"]["n"])
        .collect();
    assert_eq!(bodies, [0, 1, 2]);
    assert!(!journal.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_cassette_snapshot() {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let free_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut args = upstream.record_args(&out, &[]);
    // Checked before the upstream's own rules: this host has no server behind it.
    args.splice(5..5, ["--connect-to".to_owned(), format!("api.anthropic.com:443:127.0.0.1:{free_port}")]);
    let bin = Bin::new();
    let running = bin.spawn(&args).await;
    let ca = bin.home.path().join("ca/ca-cert.pem");

    let mut openai = ProxiedClient::connect(running.addr, &ca, "api.openai.com", Http::H1).await;
    let request = Request::post(RESPONSES)
        .header("authorization", "Bearer sk-proj-snapshot0123456789abcdef")
        .header("content-type", "application/json")
        .body(body::full(r#"{"model":"gpt-5.5","input":"hi"}"#))
        .unwrap();
    crate::support::text(openai.send(request).await).await;
    let mut sse = openai.send(Request::get("https://api.openai.com/sse").body(body::empty()).unwrap()).await;
    sse.body_mut().frame().await.unwrap().unwrap();
    upstream.ack();
    sse.into_body().collect().await.unwrap();
    let mut anthropic = ProxiedClient::connect(running.addr, &ca, "api.anthropic.com", Http::H1).await;
    let down = Request::post("https://api.anthropic.com/v1/messages").body(body::full("{}")).unwrap();
    assert_eq!(anthropic.send(down).await.status(), StatusCode::BAD_GATEWAY);
    drop((openai, anthropic));

    running.signal(libc::SIGTERM);
    let (status, stderr) = running.wait().await;
    assert_eq!(status.code(), Some(3), "the anthropic upstream was down: {stderr}");
    assert!(stderr.contains("3 interaction(s)") && stderr.contains(", 1 failed"), "{stderr}");
    let mut cassette = cassette(&out);
    stabilise(&mut cassette, free_port);
    insta::assert_json_snapshot!(cassette, {
        ".meta.recorded_at" => "[time]",
        ".meta.tool" => "[tool]",
        ".interactions[].t_ms" => "[t_ms]",
        ".interactions[].duration_ms" => "[duration_ms]",
        ".interactions[].response.body.sse[].t_ms" => "[t_ms]",
    });
}

/// Replace what differs between runs and is not a time: `date` headers and the free port.
fn stabilise(value: &mut Value, port: u16) {
    match value {
        Value::Array(items) => {
            if items.len() == 2 && items[0] == "date" {
                items[1] = "[date]".into();
            }
            items.iter_mut().for_each(|item| stabilise(item, port));
        }
        Value::Object(map) => map.values_mut().for_each(|item| stabilise(item, port)),
        Value::String(text) => *text = text.replace(&format!(":{port})"), ":[port])"),
        _ => {}
    }
}

#[tokio::test]
async fn child_exit_status_is_returned_and_the_cassette_written() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("exit.json");
    let output = bin.run(upstream.record_args(&out, &["--", "sh", "-c", "exit 7"])).await;
    assert_eq!(output.status.code(), Some(7), "{}", text(&output.stderr));
    assert_eq!(cassette(&out)["interactions"], serde_json::json!([]));
}

#[tokio::test]
async fn sigterm_is_forwarded_to_the_child() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("term.json");
    let running = bin.spawn(upstream.record_args(&out, &["--", "sleep", "30"])).await;
    running.signal(libc::SIGTERM);
    let (status, stderr) = running.wait().await;
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{stderr}");
    assert!(out.exists(), "the recording still finished");
}

#[tokio::test]
async fn usage_errors_exit_2_and_leave_no_file() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("never.json");
    let profiles = dir.path().join("profiles").join("auth-profiles.json");
    std::fs::create_dir(profiles.parent().unwrap()).unwrap();
    std::fs::write(&profiles, "{\n  \"profiles\": {,}\n}").unwrap();
    let bad_profiles = profiles.display().to_string();
    let profiles_needle = format!("{bad_profiles}:2:");
    let cases: [(&[&str], &str); 6] = [
        (&["--bogus"], "--bogus"),
        (&["--listen", "0.0.0.0:0"], "--allow-remote"),
        (&["--connect-to", "api.openai.com:443"], "--connect-to `api.openai.com:443`"),
        (&["--dispatcher", "openclaw"], "--dispatcher `openclaw`"),
        (&["--", "no-such-program-for-dispatch-vcr"], "`no-such-program-for-dispatch-vcr`"),
        (&["--profiles", &bad_profiles], &profiles_needle),
    ];
    for (extra, needle) in cases {
        let mut args = upstream.record_args(&out, &[]);
        if extra[0] == "--listen" {
            args[4] = extra[1].to_owned();
        } else {
            args.extend(extra.iter().map(|s| s.to_string()));
        }
        let output = bin.run(args).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
        assert_eq!(files_under(dir.path()), std::slice::from_ref(&profiles), "{extra:?} left a file");
    }
}

#[tokio::test]
async fn port_in_use_exits_3() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let mut args = upstream.record_args(&dir.path().join("c.json"), &[]);
    args[4] = listen.clone();
    let output = bin.run(args).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("cannot listen on {listen}")), "{stderr}");
    assert!(files_under(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_counted_in_the_summary_and_exits_3() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("down.json");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let rule = format!("api.openai.com:443:127.0.0.1:{closed}");
    let script = "curl -s -o /dev/null https://api.openai.com/v1/models";
    let args = ["record", "-o", out.to_str().unwrap(), "--connect-to", &rule, "--", "sh", "-c", script];
    let output = bin.run(args).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "the child succeeded, the upstream did not: {stderr}");
    let summary = format!("recorded 1 interaction(s) into {}, 1 failed", out.display());
    assert!(stderr.contains(&summary), "{stderr}");
    let failure =
        "failed: #1 GET https://api.openai.com/v1/models: upstream connect failed: api.openai.com:443";
    assert!(stderr.contains(failure), "{stderr}");
    assert_eq!(cassette(&out)["interactions"].as_array().unwrap().len(), 1, "the failure is recorded");

    let failing = "curl -s --fail -o /dev/null https://api.openai.com/v1/models";
    let args = ["record", "-o", out.to_str().unwrap(), "--connect-to", &rule, "--", "sh", "-c", failing];
    let output = bin.run(args).await;
    assert_eq!(output.status.code(), Some(22), "a failing child keeps its status: {}", text(&output.stderr));
}
