//! Side files cannot escape their cassette: a `file` body is served,
//! exported or loaded only when it names a regular file directly inside the
//! cassette's `.blobs` folder with the recorded length and SHA-256. Links,
//! FIFOs, devices, missing and changed files are refused with exit 2,
//! naming the interaction and the file, and nothing waits on a FIFO.

use std::path::{Path, PathBuf};

use dispatch_vcr::cassette::{Body, BodyContent, Cassette, Interaction, Meta, Request, Response, save};
use sha2::{Digest as _, Sha256};

use crate::support::*;

/// What the tests plant as `run.json.blobs/body`.
enum Planted {
    /// A symbolic link to `/etc/passwd`, its length and digest recorded.
    LinkToPasswd,
    /// A symbolic link to `/dev/zero`.
    LinkToZero,
    /// A FIFO nobody writes to.
    Fifo,
    /// Nothing.
    Missing,
    /// A regular file whose digest is not the recorded one.
    Changed,
}

/// A cassette whose second interaction's response body is side file
/// `run.json.blobs/body`, planted as `planted`.
fn cassette_with(dir: &Path, planted: &Planted) -> PathBuf {
    let blobs = dir.join("run.json.blobs");
    std::fs::create_dir(&blobs).unwrap();
    let target = blobs.join("body");
    let (len, sha256) = match planted {
        Planted::LinkToPasswd => {
            let passwd = std::fs::read("/etc/passwd").unwrap();
            std::os::unix::fs::symlink("/etc/passwd", &target).unwrap();
            (passwd.len() as u64, hex::encode(Sha256::digest(&passwd)))
        }
        Planted::LinkToZero => {
            std::os::unix::fs::symlink("/dev/zero", &target).unwrap();
            (1 << 20, hex::encode(Sha256::digest(vec![0u8; 1 << 20])))
        }
        Planted::Fifo => {
            let made = std::process::Command::new("mkfifo").arg(&target).status().unwrap();
            assert!(made.success());
            (5, hex::encode(Sha256::digest(b"hello")))
        }
        Planted::Missing => (5, hex::encode(Sha256::digest(b"hello"))),
        Planted::Changed => {
            std::fs::write(&target, b"hellO").unwrap();
            (5, hex::encode(Sha256::digest(b"hello")))
        }
    };
    let mut cassette = Cassette::new(Meta::default());
    for seq in [1, 2] {
        let request =
            Request::new("GET", format!("https://api.openai.com/v1/files/{seq}"), vec![], Body::default());
        let body = if seq == 2 {
            Body {
                sha256: Some(sha256.clone()),
                len: Some(len),
                ..Body::from(BodyContent::File("run.json.blobs/body".into()))
            }
        } else {
            Body::from(BodyContent::Text("small".into()))
        };
        let response = Response { status: 200, headers: vec![], body };
        cassette
            .interactions
            .push(Interaction { response: Some(response), ..Interaction::new(seq, request) });
    }
    let path = dir.join("run.json");
    save(&path, &cassette).unwrap();
    path
}

/// Every way a side file can be wrong.
fn all() -> [(Planted, &'static str); 5] {
    [
        (Planted::LinkToPasswd, "symbolic link"),
        (Planted::LinkToZero, "symbolic link"),
        (Planted::Fifo, "is a FIFO, not a regular file"),
        (Planted::Missing, "does not exist"),
        (Planted::Changed, "does not match its recorded sha256"),
    ]
}

fn assert_refused(output: &std::process::Output, why: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("interactions[1].response.body (seq 2): side file run.json.blobs/body")
            && stderr.contains(why),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("root:"), "nothing of /etc/passwd is written");
}

#[tokio::test]
async fn export_refuses_every_bad_side_file_without_waiting() {
    for (planted, why) in all() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = cassette_with(dir.path(), &planted);
        let output = Bin::new().run(["cassette", "export", cassette.to_str().unwrap()]).await;
        assert_refused(&output, why);
    }
}

#[tokio::test]
async fn replay_refuses_every_bad_side_file_before_serving() {
    for (planted, why) in all() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = cassette_with(dir.path(), &planted);
        let output = Bin::new().run(["replay", cassette.to_str().unwrap(), "--", "true"]).await;
        assert_refused(&output, why);
    }
}

#[tokio::test]
async fn a_good_side_file_is_served_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let cassette = cassette_with(dir.path(), &Planted::Changed);
    std::fs::write(dir.path().join("run.json.blobs/body"), b"hello").unwrap();
    let output = Bin::new().run(["cassette", "export", cassette.to_str().unwrap()]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"text\": \"hello\""));
}
