//! HAR in and out: `cassette export --har` and `cassette import` through the
//! real binary, on the shipped cassettes, on a recording made by the
//! recorder, and on HAR files as browser devtools and mitmproxy write them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use dispatch_vcr::cassette::har::to_har;
use dispatch_vcr::cassette::{self, BodyContent, Cassette, Side};
use dispatch_vcr::credential::{fingerprint, redaction_marker};
use dispatch_vcr::exchange::{
    Exchange, RequestHead, ResponseHead, TimedChunk, WsCapture, WsCloseInfo, WsData, WsFrame,
};
use dispatch_vcr::openclaw::profiles::AuthStore;
use dispatch_vcr::recorder::har::{ImportOptions, import};
use dispatch_vcr::recorder::{Recorder, RecorderOptions};
use serde_json::{Value, json};

use crate::support::{BIN, root};

fn bin(args: &[&str]) -> Output {
    Command::new(BIN).args(args).current_dir(root()).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn shipped_cassettes() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root().join("cassettes")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            match path.is_dir() {
                true => dirs.push(path),
                false if path.extension().is_some_and(|x| x == "json") => found.push(path),
                false => {}
            }
        }
    }
    found.sort();
    assert!(!found.is_empty());
    found
}

/// Export `cassette` to HAR and import it back, through the library.
fn round_trip(cassette: &Cassette, dir: &Path) -> Cassette {
    let har = to_har(cassette, dir).unwrap();
    let har_path = dir.join("x.har");
    std::fs::write(&har_path, serde_json::to_string_pretty(&har).unwrap()).unwrap();
    let output = dir.join("back.json");
    import(&ImportOptions { har: har_path, output: output.clone(), profiles: Vec::new() }).unwrap();
    cassette::load(&output).unwrap()
}

#[test]
fn every_shipped_cassette_survives_the_round_trip_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for path in shipped_cassettes() {
        let mut original = cassette::load(&path).unwrap();
        // `$schema` is an editor hint relative to where the file lies, not part of the recording.
        assert!(original.schema.take().is_some(), "{} names its schema", path.display());
        let back = round_trip(&original, dir.path());
        assert_eq!(back, original, "{}", path.display());
        // Same bytes too: the import writes as `record` does.
        let written = std::fs::read_to_string(dir.path().join("back.json")).unwrap();
        let shipped = std::fs::read_to_string(&path).unwrap();
        let without_schema: String =
            shipped.lines().filter(|l| !l.contains("\"$schema\"")).map(|l| format!("{l}\n")).collect();
        assert_eq!(written, without_schema, "{}", path.display());
    }
}

#[test]
fn export_through_the_binary_is_har_1_2_on_stdout_and_imports_back() {
    let dir = tempfile::tempdir().unwrap();
    // A reconstruction: one Responses stream (the recorded releases' cassettes open with look-ups).
    let cassette = "cassettes/openclaw/2026.5.7/oauth-login-beats-older-api-key.json";
    let out = bin(&["cassette", "export", "--har", cassette]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let har: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(har["log"]["version"], "1.2");
    let entry = &har["log"]["entries"][0];
    assert_eq!(entry["request"]["url"], "https://api.openai.com/v1/responses");
    assert_eq!(entry["response"]["content"]["mimeType"], "text/event-stream");
    assert!(
        entry["response"]["content"]["text"].as_str().unwrap().starts_with("event: response.created\ndata: ")
    );

    let har_path = dir.path().join("x.har");
    std::fs::write(&har_path, &out.stdout).unwrap();
    let back = dir.path().join("back.json");
    let out = bin(&["cassette", "import", har_path.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("imported 1 interaction(s)"), "{}", stderr(&out));
    let shipped = cassette::Cassette { schema: None, ..cassette::load(&root().join(cassette)).unwrap() };
    assert_eq!(cassette::load(&back).unwrap(), shipped);
}

fn chunk(ms: u64, data: impl Into<Bytes>) -> TimedChunk {
    TimedChunk { at: Duration::from_millis(ms), data: data.into() }
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn exchange(url: &str, request_headers: &[(&str, &str)], body: &str) -> Exchange {
    Exchange {
        request_spill: None,
        response_spill: None,
        conn: 1,
        started: SystemTime::now(),
        duration: Duration::from_millis(12),
        request: RequestHead {
            method: "POST".into(),
            url: url.into(),
            http_version: "HTTP/2".into(),
            headers: headers(request_headers),
        },
        request_body: if body.is_empty() { Vec::new() } else { vec![chunk(0, body.to_owned())] },
        response: Some(ResponseHead { status: 200, headers: Vec::new() }),
        response_body: Vec::new(),
        websocket: None,
        error: None,
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Every body form and exchange shape the recorder writes: timed SSE, a
/// gzip JSON answer, a chunked stream, binary, a WebSocket with a close, a
/// failed exchange, a refresh whose tokens are redacted.
fn varied_exchanges() -> Vec<Exchange> {
    let bearer = ("authorization", "Bearer sk-proj-harroundtrip0000000001");
    let mut sse =
        exchange("https://api.openai.com/v1/responses", &[bearer], r#"{"model":"gpt-5.5","stream":true}"#);
    sse.response =
        Some(ResponseHead { status: 200, headers: headers(&[("content-type", "text/event-stream")]) });
    sse.response_body = vec![
        chunk(3, "event: a\ndata: {\"x\":1}\n\n"),
        chunk(41, "data: 2\n\n"),
        chunk(97, "data: [DONE]\n\n"),
    ];

    let mut gz = exchange("https://api.openai.com/v1/models?limit=2", &[bearer], "");
    gz.request.method = "GET".into();
    gz.response = Some(ResponseHead {
        status: 200,
        headers: headers(&[("content-type", "application/json"), ("content-encoding", "gzip")]),
    });
    gz.response_body = vec![chunk(0, gzip(br#"{"data":[{"id":"gpt-5.5"}]}"#))];

    let mut chunks = exchange("https://api.openai.com/v1/files/f/content", &[bearer], "");
    chunks.response_body = vec![chunk(0, "part one,"), chunk(25, vec![0xff, 0xfe, 0x00]), chunk(60, "end")];

    let mut binary = exchange("https://api.openai.com/v1/audio/speech", &[bearer], r#"{"input":"hi"}"#);
    binary.response = Some(ResponseHead {
        status: 200,
        headers: headers(&[("content-type", "audio/mpeg"), ("content-length", "4")]),
    });
    binary.response_body = vec![chunk(0, vec![0x49, 0x44, 0x33, 0x9f])];

    let mut ws = exchange("https://chatgpt.com/backend-api/codex/responses", &[bearer], "");
    ws.request.method = "GET".into();
    ws.response = Some(ResponseHead { status: 101, headers: headers(&[("upgrade", "websocket")]) });
    ws.websocket = Some(WsCapture {
        frames: vec![
            WsFrame {
                from: Side::Client,
                at: Duration::from_millis(1),
                data: WsData::Text("{\"type\":\"response.create\"}".into()),
            },
            WsFrame {
                from: Side::Server,
                at: Duration::from_millis(1250),
                data: WsData::Binary(Bytes::from_static(b"\x00ok")),
            },
        ],
        close: Some(WsCloseInfo { from: Side::Server, code: Some(1000), reason: Some("done".into()) }),
    });

    let mut refresh = exchange(
        "https://auth.openai.com/oauth/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        "grant_type=refresh_token&refresh_token=rt-harroundtrip-000000000001",
    );
    refresh.response =
        Some(ResponseHead { status: 200, headers: headers(&[("content-type", "application/json")]) });
    refresh.response_body = vec![chunk(
        0,
        r#"{"access_token":"at-harroundtrip-000000000001","refresh_token":"rt-harroundtrip-000000000002"}"#,
    )];

    let mut failed = exchange(
        "https://api.anthropic.com/v1/messages",
        &[("x-api-key", "sk-ant-api03-harroundtrip-01")],
        "{}",
    );
    failed.conn = 2;
    failed.response = None;
    failed.error = Some("upstream connect failed: connection refused".into());
    vec![sse, gz, chunks, binary, ws, refresh, failed]
}

#[tokio::test]
async fn a_recording_with_every_body_form_survives_the_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.json");
    let recorder = Recorder::create(&path, RecorderOptions::default()).unwrap();
    let tap = recorder.tap();
    varied_exchanges().into_iter().for_each(|e| tap.record(e));
    recorder.finish().await.unwrap();
    let recorded = cassette::load(&path).unwrap();
    let forms: Vec<&str> = recorded
        .interactions
        .iter()
        .filter_map(|i| i.response.as_ref())
        .map(|r| match &r.body.content {
            BodyContent::Sse(_) => "sse",
            BodyContent::Json(_) => "json",
            BodyContent::Chunks(_) => "chunks",
            BodyContent::Base64(_) => "base64",
            BodyContent::Empty(_) => "empty",
            _ => "other",
        })
        .collect();
    assert_eq!(forms, ["sse", "json", "chunks", "base64", "empty", "json"]);
    assert_eq!(
        recorded.interactions[1].response.as_ref().unwrap().body.decoded_from.as_deref(),
        Some("gzip")
    );

    let back = round_trip(&recorded, dir.path());
    assert_eq!(back, recorded);
}

/// A HAR as Chrome's devtools save it: HTTP/2 pseudo-headers, a bearer,
/// cookies, a token echoed in the answer, a `data:` entry to skip.
fn devtools_har(secret: &str) -> Value {
    json!({"log": {
        "version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [],
        "entries": [
            {
                "startedDateTime": "2026-05-18T10:00:01.250Z", "time": 412.5, "connection": "8123",
                "_resourceType": "fetch", "_priority": "High",
                "request": {
                    "method": "POST", "url": "https://api.openai.com/v1/responses", "httpVersion": "http/2.0",
                    "headers": [
                        {"name": ":authority", "value": "api.openai.com"},
                        {"name": ":method", "value": "POST"},
                        {"name": "authorization", "value": format!("Bearer {secret}")},
                        {"name": "content-type", "value": "application/json"},
                        {"name": "cookie", "value": "__cf_bm=cfcookievalue0123456789abcdef; theme=dark"}
                    ],
                    "cookies": [{"name": "__cf_bm", "value": "cfcookievalue0123456789abcdef"}],
                    "queryString": [], "headersSize": -1, "bodySize": 17,
                    "postData": {"mimeType": "application/json", "text": "{\"model\":\"gpt-5.5\"}"}
                },
                "response": {
                    "status": 200, "statusText": "", "httpVersion": "http/2.0",
                    "headers": [
                        {"name": "content-type", "value": "application/json"},
                        {"name": "content-encoding", "value": "br"}
                    ],
                    "cookies": [], "redirectURL": "", "headersSize": -1, "bodySize": -1, "_transferSize": 300,
                    "content": {"size": 64, "mimeType": "application/json",
                                "text": format!("{{\"id\":\"resp_1\",\"echo\":\"{secret}\"}}")}
                },
                "cache": {}, "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0.1, "wait": 400, "receive": 12.4}
            },
            {
                "startedDateTime": "2026-05-18T10:00:02.000Z", "time": 0,
                "request": {"method": "GET", "url": "data:image/png;base64,AAAA", "httpVersion": "", "headers": []},
                "response": {"status": 200, "headers": [], "content": {"size": 3, "mimeType": "image/png"}}
            }
        ]
    }})
}

#[test]
fn a_bearer_in_a_devtools_har_is_fingerprinted_as_record_does() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "sk-proj-devtoolsharbearer000000000001";
    let har_path = dir.path().join("devtools.har");
    std::fs::write(&har_path, devtools_har(secret).to_string()).unwrap();
    let out_path = dir.path().join("imported.json");
    let out = bin(&["cassette", "import", har_path.to_str().unwrap(), "-o", out_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("imported 1 interaction(s)") && stderr(&out).contains("1 entries skipped"));

    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(!text.contains(secret), "the bearer reached the file:\n{text}");
    assert!(!text.contains("cfcookievalue0123456789abcdef"), "the cookie reached the file");
    let imported = cassette::load(&out_path).unwrap();
    let i = &imported.interactions[0];
    let auth = i.request.headers.iter().find(|(n, _)| n == "authorization").unwrap();
    assert_eq!(auth.1, format!("Bearer {}", redaction_marker(secret)));
    assert_eq!(imported.meta.credentials[&fingerprint(secret)].kind, "openai-key");
    assert!(i.request.headers.iter().all(|(n, _)| !n.starts_with(':')));
    assert_eq!((i.request.http_version.as_str(), i.conn, i.t_ms, i.duration_ms), ("HTTP/2", 8123, 250, 413));
    assert_eq!(imported.meta.recorded_at.as_deref(), Some("2026-05-18T10:00:01Z"));
    let response = i.response.as_ref().unwrap();
    assert_eq!(response.body.decoded_from.as_deref(), Some("br"), "devtools store bodies decoded");

    // The recorder, fed the same exchange, writes the same interaction and facts.
    let recorded = record_like(&devtools_exchange(secret));
    assert_eq!(recorded.meta.credentials, imported.meta.credentials);
    assert_eq!(recorded.interactions[0].request, i.request);
}

fn devtools_exchange(secret: &str) -> Exchange {
    let mut e = exchange(
        "https://api.openai.com/v1/responses",
        &[
            ("authorization", &format!("Bearer {secret}")),
            ("content-type", "application/json"),
            ("cookie", "__cf_bm=cfcookievalue0123456789abcdef; theme=dark"),
        ],
        r#"{"model":"gpt-5.5"}"#,
    );
    e.response_body = vec![chunk(0, format!(r#"{{"id":"resp_1","echo":"{secret}"}}"#))];
    e
}

/// What `record` writes for `exchange`.
fn record_like(exchange: &Exchange) -> Cassette {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.json");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let recorder = Recorder::create(&path, RecorderOptions::default()).unwrap();
        recorder.tap().record(exchange.clone());
        recorder.finish().await.unwrap();
    });
    cassette::load(&path).unwrap()
}

#[test]
fn profiles_name_the_fingerprint_of_an_imported_bearer() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "sk-proj-devtoolsharprofile00000000001";
    let har_path = dir.path().join("devtools.har");
    std::fs::write(&har_path, devtools_har(secret).to_string()).unwrap();
    let store = json!({"version": 1, "profiles": {"openai:default": {"type": "api_key", "provider": "openai", "key": secret}}});
    let profiles = AuthStore::from_value(&store).unwrap();
    let output = dir.path().join("c.json");
    import(&ImportOptions { har: har_path, output: output.clone(), profiles: vec![profiles] }).unwrap();
    let facts = &cassette::load(&output).unwrap().meta.credentials[&fingerprint(secret)];
    assert_eq!(facts.profile.as_deref(), Some("openai:default"));
}

#[test]
fn a_mitmproxy_har_with_offsets_base64_and_gzip_imports() {
    let dir = tempfile::tempdir().unwrap();
    let har = json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11.0.0"}, "pages": [],
    "entries": [{
        "startedDateTime": "2026-05-18T12:00:00.500000+02:00", "time": 20.0,
        "request": {"method": "GET", "url": "https://chatgpt.com/backend-api/x.bin", "httpVersion": "HTTP/2.0",
                    "cookies": [], "headers": [{"name": "Accept-Encoding", "value": "gzip"}], "queryString": [],
                    "headersSize": 40, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2.0", "cookies": [],
                     "headers": [{"name": "Content-Encoding", "value": "gzip"}, {"name": "Content-Type", "value": "application/octet-stream"}],
                     "content": {"size": 3, "compression": 10, "mimeType": "application/octet-stream", "text": "/wA+", "encoding": "base64"},
                     "redirectURL": "", "headersSize": 60, "bodySize": 23},
        "cache": {}, "timings": {"send": 0, "receive": 0, "wait": 20, "connect": -1, "ssl": -1}, "serverIPAddress": "127.0.0.1"
    }]}});
    let har_path = dir.path().join("flows.har");
    std::fs::write(&har_path, har.to_string()).unwrap();
    let output = dir.path().join("c.json");
    import(&ImportOptions { har: har_path, output: output.clone(), profiles: Vec::new() }).unwrap();
    let c = cassette::load(&output).unwrap();
    let i = &c.interactions[0];
    assert_eq!(c.meta.recorded_at.as_deref(), Some("2026-05-18T10:00:00Z"));
    assert_eq!((i.t_ms, i.request.http_version.as_str()), (500, "HTTP/2"));
    assert_eq!(i.request.headers, headers(&[("accept-encoding", "gzip")]));
    let body = &i.response.as_ref().unwrap().body;
    assert_eq!(
        (&body.content, body.decoded_from.as_deref()),
        (&BodyContent::Base64("/wA+".into()), Some("gzip"))
    );
    assert_eq!(c.meta.labels["source"], "HAR import of flows.har (mitmproxy 11.0.0)");
}

#[test]
fn broken_har_files_are_input_errors_naming_file_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("c.json");
    let cases = [
        ("{\"log\": {\"entries\": [}", "not valid JSON"),
        (
            r#"{"log": {"entries": [{"startedDateTime": "x", "request": {"method": "GET"}, "response": {}}]}}"#,
            "log.entries[0].request",
        ),
        (
            r#"{"log": {"entries": [{"startedDateTime": "noon", "request": {"method": "GET", "url": "https://a/"}, "response": {}}]}}"#,
            "log.entries[0].startedDateTime",
        ),
        (
            r#"{"log": {"entries": [{"startedDateTime": "2026-05-18T10:00:00Z", "request": {"method": "GET", "url": "https://a/"},
            "response": {"status": 200, "content": {"text": "!!", "encoding": "base64"}}}]}}"#,
            "log.entries[0].response.content.text: invalid base64",
        ),
    ];
    for (n, (text, expected)) in cases.iter().enumerate() {
        let har = dir.path().join(format!("bad{n}.har"));
        std::fs::write(&har, text).unwrap();
        let out = bin(&["cassette", "import", har.to_str().unwrap(), "-o", output.to_str().unwrap()]);
        let message = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{message}");
        assert!(
            message.contains(&format!("bad{n}.har")) && message.contains(expected),
            "{expected}: {message}"
        );
    }
    assert!(!output.exists());
}

#[test]
fn export_needs_a_readable_cassette() {
    let out = bin(&["cassette", "export", "--har", "no/such/cassette.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such/cassette.json"), "{}", stderr(&out));
}
