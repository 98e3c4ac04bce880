//! Bodies too large to hold in memory while recording go to side files
//! (`CASSETTE.blobs/<sha256>`): the cassette refers to them, they give back
//! what was recorded, and a secret inside them never reaches the disk.

use dispatch_vcr::cassette::BodyContent;
use dispatch_vcr::upstream::body;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;

use http::{Request, StatusCode};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_request_and_response_bodies_become_redacted_side_files() {
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("large.json");
    let (running, mut client) = record_with_client(&bin, &upstream, &out).await;
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

/// Whether process `pid` holds open a file made in `dir` that has no name
/// there (a spill file; `/proc` still says where it was made).
fn holds_a_nameless_file_in(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .any(|target| target.starts_with(dir) && target.to_string_lossy().ends_with(" (deleted)"))
}

/// Wait (guarded, never timed) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    tokio::time::timeout(GUARD, async {
        while !done() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never happened: {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_large_upload_leaves_no_secret_and_recover_keeps_what_finished() {
    use std::os::unix::fs::PermissionsExt as _;
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("killed.json");
    // What an older version left: a named spill file, which the next start clears.
    std::fs::write(dir.path().join(".spill-left-by-an-old-run"), "x").unwrap();
    let (running, mut client) = record_with_client(&bin, &upstream, &out).await;
    let finished =
        client.send(Request::post("https://api.openai.com/v1/responses").body(body::full("{}")).unwrap());
    assert_eq!(finished.await.status(), StatusCode::OK);
    let journal = dispatch_vcr::cassette::journal_path(&out);
    until("the finished exchange is journaled", || {
        std::fs::read_to_string(&journal).is_ok_and(|text| text.lines().count() == 2)
    })
    .await;
    assert_eq!(std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!dir.path().join(".spill-left-by-an-old-run").exists(), "cleared on start");

    // A 10 MiB upload that never ends, its secrets in the first bytes: one
    // shaped like a key, one the redactor could not know.
    let (key, password) = (unique("sk-proj-"), unique("plain-password-"));
    let (mut tx, rx) = futures_channel::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let upload = Request::post("https://api.openai.com/v1/files").body(body::from_stream(rx)).unwrap();
    let sending = tokio::spawn(async move { client.try_send(upload).await.map(drop) });
    let head = format!("key={key}&password={password}&data=");
    futures_util::SinkExt::send(&mut tx, Ok(head.into())).await.unwrap();
    for _ in 0..10 {
        futures_util::SinkExt::send(&mut tx, Ok(vec![b'a'; 1 << 20].into())).await.unwrap();
    }
    let pid = running.child.id().unwrap();
    until("the proxy spills the upload", || holds_a_nameless_file_in(pid, dir.path())).await;
    running.signal(libc::SIGKILL);
    let (status, _) = running.wait().await;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    drop((tx, sending));

    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [&key, &password] {
            assert!(
                memchr::memmem::find(&bytes, secret.as_bytes()).is_none(),
                "{} holds {secret}",
                file.display()
            );
        }
    }
    let recovered = bin.run(["cassette", "recover", out.to_str().unwrap()]).await;
    assert!(recovered.status.success(), "{}", String::from_utf8_lossy(&recovered.stderr));
    assert!(String::from_utf8_lossy(&recovered.stdout).contains("recovered 1 interaction"));
    assert_eq!(dispatch_vcr::cassette::load(&out).unwrap().interactions.len(), 1);
}
