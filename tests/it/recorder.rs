//! The recorder as the proxy uses it: exchanges go in through the tap, a
//! redacted cassette v1 comes out, with `meta.credentials` naming profiles.

use std::io::Write;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use dispatch_vcr::cassette::{self, BodyContent, Side, journal_path, save::to_json};
use dispatch_vcr::credential::{fingerprint, mint_unsigned_jwt};
use dispatch_vcr::exchange::{
    Exchange, RequestHead, ResponseHead, TimedChunk, WsCapture, WsCloseInfo, WsData, WsFrame,
};
use dispatch_vcr::openclaw::profiles::AuthStore;
use dispatch_vcr::recorder::{Recorder, RecorderOptions};
use serde_json::json;

fn chunk(ms: u64, data: impl Into<Bytes>) -> TimedChunk {
    TimedChunk { at: Duration::from_millis(ms), data: data.into() }
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn exchange(method: &str, url: &str, request: Vec<(String, String)>, body: &str) -> Exchange {
    Exchange {
        request_spill: None,
        response_spill: None,
        conn: 1,
        started: SystemTime::now(),
        duration: Duration::from_millis(40),
        request: RequestHead {
            method: method.into(),
            url: url.into(),
            http_version: "HTTP/1.1".into(),
            headers: request,
        },
        request_body: if body.is_empty() { Vec::new() } else { vec![chunk(0, body.to_owned())] },
        response: None,
        response_body: Vec::new(),
        websocket: None,
        error: None,
    }
}

fn codex_jwt() -> String {
    mint_unsigned_jwt(
        &json!({"https://api.openai.com/auth": {"chatgpt_account_id": "acct-fixture"}, "exp": 4102444800u64}),
    )
}

fn profiles() -> AuthStore {
    AuthStore::from_value(&json!({"version": 1, "profiles": {"openai-codex:user@example.com": {
        "type": "oauth", "provider": "openai-codex", "access": codex_jwt(), "refresh": "fixture-refresh",
        "accountId": "acct-fixture"}}}))
    .unwrap()
}

/// A Codex SSE exchange, a gzipped JSON answer, a WebSocket session and a failure.
fn exchanges() -> Vec<Exchange> {
    let bearer = format!("Bearer {}", codex_jwt());
    let mut sse = exchange(
        "POST",
        "https://chatgpt.com/backend-api/codex/responses",
        headers(&[
            ("authorization", &bearer),
            ("chatgpt-account-id", "acct-fixture"),
            ("content-type", "application/json"),
        ]),
        r#"{"model":"gpt-5.5","stream":true,"store":false}"#,
    );
    sse.response =
        Some(ResponseHead { status: 200, headers: headers(&[("content-type", "text/event-stream")]) });
    sse.response_body = vec![
        chunk(35, "event: response.created\ndata: {\"type\":\"response.created\"}\n\n"),
        chunk(80, "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n"),
    ];

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(br#"{"object":"list","data":[]}"#).unwrap();
    let mut models = exchange(
        "GET",
        "https://api.openai.com/v1/models",
        headers(&[("authorization", "Bearer sk-proj-recorder-test-0001")]),
        "",
    );
    models.response = Some(ResponseHead {
        status: 200,
        headers: headers(&[("content-type", "application/json"), ("content-encoding", "gzip")]),
    });
    models.response_body = vec![chunk(3, gz.finish().unwrap())];

    let mut ws = exchange(
        "GET",
        "wss://chatgpt.com/backend-api/codex/responses",
        headers(&[("authorization", &bearer)]),
        "",
    );
    ws.response = Some(ResponseHead { status: 101, headers: headers(&[("upgrade", "websocket")]) });
    ws.websocket = Some(WsCapture {
        frames: vec![
            WsFrame {
                from: Side::Client,
                at: Duration::from_millis(1),
                data: WsData::Text(r#"{"type":"response.create"}"#.into()),
            },
            WsFrame {
                from: Side::Server,
                at: Duration::from_millis(9),
                data: WsData::Text(r#"{"type":"response.done"}"#.into()),
            },
        ],
        close: Some(WsCloseInfo { from: Side::Client, code: Some(1000), reason: None }),
    });

    let mut failed = exchange(
        "POST",
        "https://api.anthropic.com/v1/messages",
        headers(&[("x-api-key", "sk-ant-api03-recorder-test-000000001")]),
        "{}",
    );
    failed.error = Some("upstream connect failed: connection refused".into());

    let telemetry = exchange("POST", "https://telemetry.example.com/v1/events", Vec::new(), "{}");
    vec![sse, models, ws, failed, telemetry]
}

#[tokio::test]
async fn a_recording_is_a_redacted_cassette_v1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codex.json");
    let options = RecorderOptions {
        profiles: vec![profiles()],
        exclude: vec!["*.example.com".into()],
        ..RecorderOptions::default()
    };
    let recorder = Recorder::create(&path, options).unwrap();
    assert!(journal_path(&path).exists());
    let tap = recorder.tap();
    exchanges().into_iter().for_each(|e| tap.record(e));
    let summary = recorder.finish().await.unwrap();
    assert_eq!((summary.interactions, summary.excluded), (4, 1));
    assert!(!journal_path(&path).exists());

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(&codex_jwt()) && !text.contains("recorder-test"));
    let mut cassette = cassette::load(&path).unwrap();
    let facts = &cassette.meta.credentials[&fingerprint(&codex_jwt())];
    assert_eq!(facts.profile.as_deref(), Some("openai-codex:user@example.com"));
    assert_eq!(facts.account, Some(fingerprint("acct-fixture")));
    let models = &cassette.interactions[1].response.as_ref().unwrap().body;
    assert!(matches!(models.content, BodyContent::Json(_)));

    // Times since the start of the recording vary from run to run.
    cassette.meta.recorded_at = Some("[recorded_at]".into());
    cassette.meta.tool = Some("[tool]".into());
    cassette.interactions.iter_mut().for_each(|i| i.t_ms = 0);
    insta::assert_snapshot!(to_json(&cassette).unwrap());
}
