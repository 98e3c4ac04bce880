//! The proxy as a library, over real sockets and real TLS: a hyper client
//! → CONNECT → the proxy (its own CA) → a local HTTPS upstream reached as
//! the real provider names, with a collecting tap in place of the recorder.

use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use dispatch_vcr::cassette::Side;
use dispatch_vcr::exchange::WsData;
use dispatch_vcr::proxy::ProxyConfig;
use dispatch_vcr::upstream::body;
use futures_util::{SinkExt as _, StreamExt as _};
use http::{Request, StatusCode, Version};
use http_body_util::BodyExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::*;

const RESPONSES: &str = "https://api.openai.com/v1/responses";

fn post_json(url: &str, json: &str) -> Request<dispatch_vcr::upstream::Body> {
    Request::post(url)
        .header("content-type", "application/json")
        .header("authorization", "Bearer sk-test-0123456789abcdef")
        .body(body::full(json.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn https_request_is_forwarded_and_captured() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let mut client = ProxiedClient::connect(proxy.addr, &proxy.ca_path, "api.openai.com", Http::H1).await;

    let response = client.send(post_json(RESPONSES, r#"{"model":"gpt-5.5","input":"hi"}"#)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let echo: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
    assert_eq!(echo["body"]["model"], "gpt-5.5");
    assert_eq!(echo["path"], "/v1/responses");
    // The upstream offers h2 as well, but an HTTP/1.1 client's request goes on in HTTP/1.1.
    assert_eq!(echo["http_version"], "HTTP/1.1");
    assert_eq!(upstream.seen()[0].version, Version::HTTP_11);

    let exchange = proxy.tap.wait_for(1).await.remove(0);
    assert_eq!(exchange.request.url, RESPONSES);
    assert_eq!(exchange.request.method, "POST");
    assert_eq!(exchange.request.http_version, "HTTP/1.1");
    assert!(
        exchange
            .request
            .headers
            .contains(&("authorization".into(), "Bearer sk-test-0123456789abcdef".into()))
    );
    let sent: Vec<u8> = exchange.request_body.iter().flat_map(|c| c.data.to_vec()).collect();
    assert_eq!(sent, br#"{"model":"gpt-5.5","input":"hi"}"#);
    assert_eq!(exchange.response.as_ref().unwrap().status, 200);
    let received: Vec<u8> = exchange.response_body.iter().flat_map(|c| c.data.to_vec()).collect();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&received).unwrap()["id"], "resp_1");
    assert_eq!(exchange.error, None);
    assert_eq!(exchange.conn, 1);
}

#[tokio::test]
async fn http2_client_is_captured_as_http2() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let mut client = ProxiedClient::connect(proxy.addr, &proxy.ca_path, "chatgpt.com", Http::H2).await;

    let url = "https://chatgpt.com/backend-api/codex/responses";
    let response = client.send(post_json(url, r#"{"model":"gpt-5.5"}"#)).await;
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    text(response).await;

    let exchange = proxy.tap.wait_for(1).await.remove(0);
    assert_eq!(exchange.request.http_version, "HTTP/2");
    assert_eq!(exchange.request.url, url);
    // The upstream offered h2 too, so the proxy's own hop spoke it as well.
    assert_eq!(upstream.seen()[0].version, Version::HTTP_2);
}

/// The upstream holds event 2 until the client acknowledges event 1: a
/// proxy that buffered would never deliver event 1, and the test would fail.
async fn sse_arrives_event_by_event(http: Http) {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let mut client = ProxiedClient::connect(proxy.addr, &proxy.ca_path, "api.openai.com", http).await;
    let mut request = post_json(RESPONSES, r#"{"model":"gpt-5.5","stream":true}"#);
    request.headers_mut().insert("accept", "text/event-stream".parse().unwrap());
    let mut response = client.send(request).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");

    let mut received = Vec::new();
    while !received.ends_with(SSE_EVENTS[0].as_bytes()) {
        let frame =
            tokio::time::timeout(GUARD, response.body_mut().frame()).await.expect("event 1 held back");
        received.extend_from_slice(&frame.unwrap().unwrap().into_data().unwrap());
    }
    assert_eq!(received, SSE_EVENTS[0].as_bytes(), "event 1 alone, before any ack");
    upstream.ack();
    let rest = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(rest, [SSE_EVENTS[1], SSE_EVENTS[2]].concat().as_bytes());

    let exchange = proxy.tap.wait_for(1).await.remove(0);
    assert_eq!(exchange.response_body[0].data, SSE_EVENTS[0].as_bytes());
    let all: Vec<u8> = exchange.response_body.iter().flat_map(|c| c.data.to_vec()).collect();
    assert_eq!(all, SSE_EVENTS.concat().as_bytes());
    assert!(exchange.response_body.last().unwrap().at >= exchange.response_body[0].at);
}

#[tokio::test]
async fn sse_is_unbuffered_over_http1() {
    sse_arrives_event_by_event(Http::H1).await;
}

#[tokio::test]
async fn sse_is_unbuffered_over_http2() {
    sse_arrives_event_by_event(Http::H2).await;
}

#[tokio::test]
async fn websocket_session_is_relayed_and_captured_in_order() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let mut socket = ws_connect(proxy.addr, &proxy.ca_path, "api.openai.com", "/ws").await;

    for text in ["one", "two"] {
        socket.send(text_message(text)).await.unwrap();
        let echoed = tokio::time::timeout(GUARD, socket.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), text);
    }
    socket.send(tokio_tungstenite::tungstenite::Message::binary(vec![0u8, 1, 2])).await.unwrap();
    assert!(socket.next().await.unwrap().unwrap().is_binary());
    socket.close(None).await.unwrap();
    while socket.next().await.is_some() {}

    let exchange = proxy.tap.wait_for(1).await.remove(0);
    assert_eq!(exchange.request.url, "https://api.openai.com/ws");
    assert_eq!(exchange.response.as_ref().unwrap().status, 101);
    let session = exchange.websocket.unwrap();
    let order: Vec<(Side, WsData)> = session.frames.into_iter().map(|f| (f.from, f.data)).collect();
    let text = |s: &str| WsData::Text(s.to_owned());
    assert_eq!(
        order,
        [
            (Side::Client, text("one")),
            (Side::Server, text("one")),
            (Side::Client, text("two")),
            (Side::Server, text("two")),
            (Side::Client, WsData::Binary(Bytes::from_static(&[0, 1, 2]))),
            (Side::Server, WsData::Binary(Bytes::from_static(&[0, 1, 2]))),
        ]
    );
    assert_eq!(session.close.unwrap().from, Side::Client);
}

#[tokio::test]
async fn unreachable_upstream_gives_502_and_an_error_exchange_and_recording_goes_on() {
    let upstream = TestUpstream::start().await;
    let free_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let rules = vec![
        format!("api.anthropic.com:443:127.0.0.1:{free_port}").parse().unwrap(),
        format!("api.openai.com:443:127.0.0.1:{}", upstream.port()).parse().unwrap(),
    ];
    let live = dispatch_vcr::upstream::live::Live::new(dispatch_vcr::upstream::live::LiveOptions {
        upstream_ca: vec![upstream.ca_path().to_owned()],
        connect_to: rules,
    })
    .unwrap();
    let proxy = TestProxy::start(live).await;

    let mut down = ProxiedClient::connect(proxy.addr, &proxy.ca_path, "api.anthropic.com", Http::H1).await;
    let response =
        down.send(post_json("https://api.anthropic.com/v1/messages", r#"{"model":"claude"}"#)).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let reason: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
    let message = reason["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("upstream connect failed") && message.contains("api.anthropic.com:443"),
        "{message}"
    );

    let mut up = ProxiedClient::connect(proxy.addr, &proxy.ca_path, "api.openai.com", Http::H1).await;
    assert_eq!(up.send(post_json(RESPONSES, "{}")).await.status(), StatusCode::OK);

    let exchanges = proxy.tap.wait_for(2).await;
    let failed = exchanges.iter().find(|e| e.request.url.contains("anthropic")).unwrap();
    assert!(failed.response.is_none());
    assert!(failed.error.as_deref().unwrap().starts_with("upstream connect failed"));
    let sent: Vec<u8> = failed.request_body.iter().flat_map(|c| c.data.to_vec()).collect();
    assert_eq!(sent, br#"{"model":"claude"}"#, "a failed exchange still shows what was sent");
    assert!(exchanges.iter().any(|e| e.request.url == RESPONSES && e.error.is_none()));
}

#[tokio::test]
async fn plain_http_absolute_form_is_forwarded() {
    let upstream =
        TestUpstream::start_with(UpstreamOptions { tls: false, ..UpstreamOptions::default() }).await;
    let proxy = TestProxy::start(upstream.live()).await;

    let mut tcp = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    let request = "GET http://api.openai.com/v1/models?limit=1 HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n\r\n";
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""path":"/v1/models?limit=1""#), "{response}");

    let exchange = proxy.tap.wait_for(1).await.remove(0);
    assert_eq!(exchange.request.url, "http://api.openai.com/v1/models?limit=1");
}

#[tokio::test]
async fn plain_http_inside_a_connect_tunnel_is_sniffed_and_forwarded() {
    let upstream =
        TestUpstream::start_with(UpstreamOptions { tls: false, ..UpstreamOptions::default() }).await;
    let proxy = TestProxy::start(upstream.live()).await;

    let mut tunnel = connect_tunnel(proxy.addr, "api.openai.com:80").await;
    tunnel
        .write_all(b"GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tunnel.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let exchange = proxy.tap.wait_for(1).await.remove(0);
    assert_eq!(exchange.request.url, "http://api.openai.com/v1/models");
}

#[tokio::test]
async fn origin_form_requests_to_the_proxy_itself_are_refused() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let mut tcp = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("HTTPS_PROXY"), "{response}");
}

#[tokio::test]
async fn passthrough_hosts_are_tunnelled_blindly_and_not_captured() {
    let upstream = TestUpstream::start().await;
    let config = ProxyConfig { passthrough: vec!["*.anthropic.com".into()], ..ProxyConfig::default() };
    let proxy = TestProxy::start_with(Arc::new(upstream.live()), config).await;

    // The client sees the upstream's own certificate: trust its CA, not ours.
    let mut blind =
        ProxiedClient::connect(proxy.addr, upstream.ca_path(), "api.anthropic.com", Http::H1).await;
    let response = blind.send(post_json("https://api.anthropic.com/v1/messages", "{}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    text(response).await;

    let mut seen = ProxiedClient::connect(proxy.addr, &proxy.ca_path, "api.openai.com", Http::H1).await;
    text(seen.send(post_json(RESPONSES, "{}")).await).await;
    let exchanges = proxy.tap.wait_for(1).await;
    proxy.stop().await;
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].request.url, RESPONSES);
    assert_eq!(upstream.seen().len(), 2, "both requests reached the upstream");
}

#[tokio::test]
async fn compressed_request_body_reaches_the_upstream_untouched() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(br#"{"model":"gpt-5.5"}"#).unwrap();
    let compressed = gzip.finish().unwrap();

    let mut client = ProxiedClient::connect(proxy.addr, &proxy.ca_path, "api.openai.com", Http::H1).await;
    let request = Request::post(RESPONSES)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(body::full(compressed.clone()))
        .unwrap();
    text(client.send(request).await).await;

    let seen = upstream.seen().remove(0);
    assert_eq!(seen.headers["content-encoding"], "gzip");
    assert_eq!(seen.body, compressed);
    let exchange = proxy.tap.wait_for(1).await.remove(0);
    let captured: Vec<u8> = exchange.request_body.iter().flat_map(|c| c.data.to_vec()).collect();
    assert_eq!(captured, compressed, "the tap gets the wire bytes; decoding is the recorder's job");
}

#[tokio::test]
async fn ip_literal_without_sni_gets_a_certificate_for_the_ip() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let authority = format!("127.0.0.1:{}", upstream.port());
    let tcp = connect_tunnel(proxy.addr, &authority).await;
    // rustls sends no SNI for an IP address; the proxy must mint for the CONNECT host.
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = client_tls(&proxy.ca_path, &[b"http/1.1"]).connect(name, tcp).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await.unwrap();
    tokio::spawn(connection);
    let request = Request::get("/v1/models").header("host", &authority).body(body::empty()).unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let exchange = proxy.tap.wait_for(1).await.remove(0);
    assert_eq!(exchange.request.url, format!("https://{authority}/v1/models"));
}

#[tokio::test]
async fn shutdown_lets_a_running_stream_finish() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let mut client = ProxiedClient::connect(proxy.addr, &proxy.ca_path, "api.openai.com", Http::H1).await;
    let mut response =
        client.send(Request::get("https://api.openai.com/sse").body(body::empty()).unwrap()).await;
    let first = response.body_mut().frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, SSE_EVENTS[0].as_bytes());

    let tap = proxy.tap.clone();
    let stopping = tokio::spawn(proxy.stop());
    upstream.ack();
    let rest = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(rest, [SSE_EVENTS[1], SSE_EVENTS[2]].concat().as_bytes());
    stopping.await.unwrap();
    let exchanges = tap.exchanges();
    assert_eq!(exchanges.len(), 1, "the exchange reached the tap before serve returned");
    assert_eq!(exchanges[0].error, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_uploads_a_large_body_with_expect_continue() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("big.json");
    let big = format!(r#"{{"model":"gpt-5.5","input":"{}"}}"#, "x".repeat(2 << 20));
    std::fs::write(&payload, &big).unwrap();

    // Over HTTP/1.1, above 1 MiB, curl sends `Expect: 100-continue` and waits for the go-ahead.
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "--http1.1", "--fail-with-body", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["--proxy", &proxy.url(), "--cacert"])
        .arg(&proxy.ca_path)
        .args(["-H", "content-type: application/json", "--data-binary"])
        .arg(format!("@{}", payload.display()))
        .arg(RESPONSES)
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "200", "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(upstream.seen()[0].body.len(), big.len());
    let exchange = proxy.tap.wait_for(1).await.remove(0);
    assert!(exchange.request.headers.contains(&("expect".into(), "100-continue".into())));
    assert_eq!(exchange.request_body.iter().map(|c| c.data.len()).sum::<usize>(), big.len());
}
