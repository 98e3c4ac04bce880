//! Bodies too large to hold in memory while recording go to side files
//! (`CASSETTE.blobs/<sha256>`): the cassette refers to them, they give back
//! what was recorded, and a secret inside them never reaches the disk.

use dispatch_vcr::cassette::BodyContent;
use dispatch_vcr::upstream::body;
use http::{Request, StatusCode};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_request_and_response_bodies_become_redacted_side_files() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("large.json");
    let running = bin.spawn(upstream.record_args(&out, &[])).await;
    let ca = bin.home.path().join("ca/ca-cert.pem");
    let mut client = ProxiedClient::connect(running.addr, &ca, "api.openai.com", Http::H1).await;
    // Over the 8 MiB threshold, with a key in the middle that only its shape gives away.
    let secret = unique("sk-proj-");
    let filler = "lorem ipsum ".repeat(400_000);
    let sent = format!("{filler}{secret}{filler}");
    let request = Request::post("https://api.openai.com/v1/files")
        .header("content-type", "text/plain")
        .body(body::full(sent.clone()))
        .unwrap();
    let response = client.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let echoed = text(response).await;
    assert!(echoed.contains(&secret), "the client gets the bytes untouched");
    drop(client);
    running.signal(libc::SIGINT);
    let (status, stderr) = running.wait().await;
    assert!(status.success(), "{stderr}");

    let cassette = dispatch_vcr::cassette::load(&out).expect("the cassette loads");
    let interaction = &cassette.interactions[0];
    let bodies = [&interaction.request.body, &interaction.response.as_ref().unwrap().body];
    for (body, original) in bodies.into_iter().zip([sent.len(), echoed.len()]) {
        let BodyContent::File(name) = &body.content else { panic!("not a side file: {body:?}") };
        assert!(name.starts_with("large.json.blobs/"), "{name}");
        let kept = body.wire_bytes(dir.path()).expect("length and digest match the file");
        let kept = String::from_utf8(kept.to_vec()).unwrap();
        assert!(kept.contains("[REDACTED sha256:"), "the key became its marker");
        let marker_growth = kept.len() as i64 - original as i64;
        assert!(marker_growth.abs() < 100, "only the key changed ({marker_growth} bytes)");
    }
    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&secret), "{} holds the key", file.display());
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with(".spill-") && !name.starts_with(".redacted-"), "left behind: {name}");
    }
}
