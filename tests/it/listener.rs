//! The listener against clients that stall, shout or stop midway: a stop
//! (SIGINT) keeps what an unfinished exchange got through, cut short, and
//! exits 130; a silent connection or tunnel is closed after
//! `--idle-timeout`; a 2 MiB URL is answered with a status; and
//! `--allow-remote` warns that the proxy is open to the network.

use std::sync::Arc;
use std::time::Duration;

use dispatch_vcr::exchange::{RESPONSE_CUT_SHORT, STOPPED_MIDWAY};
use dispatch_vcr::proxy::ProxyConfig;
use dispatch_vcr::upstream::body;
use http::Request;
use http_body_util::BodyExt as _;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_a_stream_keeps_what_went_through_and_exits_130() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("stream.json");
    let (running, mut client) = record_with_client(&bin, &upstream, &out).await;
    let response =
        client.send(Request::get("https://api.openai.com/hang").body(body::empty()).unwrap()).await;
    let mut streaming = response.into_body();
    let first = streaming.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, FIRST_CHUNK, "the first part went through");
    running.signal(libc::SIGINT);
    let (status, stderr) = running.wait().await;
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: 1 exchange still under way was kept cut short"), "{stderr}");

    let cassette = dispatch_vcr::cassette::load(&out).unwrap();
    let interaction = &cassette.interactions[0];
    let body = interaction.response.as_ref().unwrap().body.wire_bytes(dir.path()).unwrap();
    assert_eq!(body, FIRST_CHUNK);
    assert_eq!(
        interaction.error.as_deref(),
        Some(format!("{RESPONSE_CUT_SHORT}: {STOPPED_MIDWAY}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_an_upload_keeps_what_was_sent() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("upload.json");
    let (running, mut client) = record_with_client(&bin, &upstream, &out).await;
    let (mut tx, rx) = futures_channel::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let upload = Request::post("https://api.openai.com/v1/files").body(body::from_stream(rx)).unwrap();
    let sending = tokio::spawn(async move { client.try_send(upload).await.map(drop) });
    futures_util::SinkExt::send(&mut tx, Ok("first part of the upload;".into())).await.unwrap();
    // Give the part time to pass the proxy; nothing is asserted on time: the
    // body kept is checked to be a prefix of what was sent, whatever passed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.signal(libc::SIGINT);
    let (status, stderr) = running.wait().await;
    drop((tx, sending));
    assert_eq!(status.code(), Some(130), "{stderr}");
    let cassette = dispatch_vcr::cassette::load(&out).unwrap();
    let interaction = &cassette.interactions[0];
    assert_eq!(interaction.error.as_deref(), Some(STOPPED_MIDWAY));
    let kept = interaction.request.body.wire_bytes(dir.path()).unwrap();
    assert!(b"first part of the upload;".starts_with(&kept), "{kept:?}");
}

#[tokio::test]
async fn a_silent_connection_and_a_silent_tunnel_are_closed() {
    let upstream = TestUpstream::start().await;
    let config = ProxyConfig { idle_timeout: Duration::from_secs(1), ..ProxyConfig::default() };
    let proxy = TestProxy::start_with(Arc::new(upstream.live()), config).await;
    let mut silent = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(GUARD, silent.read_to_end(&mut rest)).await;
    assert!(read.expect("a silent connection stays open").is_ok() && rest.is_empty());

    let (status, mut tunnel) = connect_tunnel_status(proxy.addr, "api.openai.com:443").await;
    assert_eq!(status, 200);
    let read = tokio::time::timeout(GUARD, tunnel.read_to_end(&mut rest)).await;
    assert!(read.expect("a silent tunnel stays open").is_ok());
    proxy.stop().await;
}

#[tokio::test]
async fn a_2_mib_url_gets_a_status_directly_and_in_a_tunnel() {
    let upstream = TestUpstream::start().await;
    let proxy = TestProxy::start(upstream.live()).await;
    let path = format!("/v1/{}", "a".repeat(2 << 20));

    let direct = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    let head = format!("GET http://api.openai.com{path} HTTP/1.1\r\nhost: api.openai.com\r\n\r\n");
    let status = send_and_read_status(direct, head.as_bytes()).await;
    assert!(status == 414 || status == 431, "{status}");

    let tunnel = tls_tunnel(proxy.addr, &proxy.ca_path, "api.openai.com", 443, &[b"http/1.1"]).await;
    let head = format!("GET {path} HTTP/1.1\r\nhost: api.openai.com\r\n\r\n");
    let status = send_and_read_status(tunnel, head.as_bytes()).await;
    assert!(status == 414 || status == 431, "{status}");
    proxy.stop().await;
}

/// Write `bytes` while reading the answer (the server may answer before it
/// read everything); the status of the answer.
async fn send_and_read_status(io: impl AsyncRead + AsyncWrite, bytes: &[u8]) -> u16 {
    let (mut reader, mut writer) = tokio::io::split(io);
    let mut answer = [0u8; 12];
    let (_, read) = tokio::join!(writer.write_all(bytes), reader.read_exact(&mut answer));
    read.expect("an answer");
    String::from_utf8_lossy(&answer[9..12]).parse().unwrap()
}

#[tokio::test]
async fn allow_remote_warns_that_the_proxy_is_open_to_the_network() {
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("remote.json");
    let args = ["record", "--stub", "-o", out.to_str().unwrap(), "--listen", "0.0.0.0:0", "--allow-remote"];
    let running = bin.spawn(args).await;
    running.signal(libc::SIGINT);
    let (_, stderr) = running.wait().await;
    assert!(stderr.contains("reachable from the network"), "{stderr}");
    assert!(stderr.contains("to any host"), "{stderr}");
}
