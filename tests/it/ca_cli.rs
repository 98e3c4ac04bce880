//! `dispatch-vcr ca init | show | env` through the built binary.

use std::os::unix::fs::PermissionsExt as _;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use sha2::{Digest as _, Sha256};

use crate::support::Bin;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[tokio::test]
async fn init_makes_a_0600_key_and_a_second_init_keeps_the_ca() {
    let bin = Bin::new();
    let first = bin.run(["ca", "init"]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("created a root CA"), "{}", stdout(&first));
    let key = bin.home.path().join("ca/ca-key.pem");
    let cert = bin.home.path().join("ca/ca-cert.pem");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let (key_before, cert_before) = (std::fs::read(&key).unwrap(), std::fs::read(&cert).unwrap());

    let second = bin.run(["ca", "init"]).await;
    assert!(second.status.success());
    assert!(stdout(&second).contains("kept"), "{}", stdout(&second));
    assert_eq!(std::fs::read(&key).unwrap(), key_before);
    assert_eq!(std::fs::read(&cert).unwrap(), cert_before);

    let forced = bin.run(["ca", "init", "--force"]).await;
    assert!(forced.status.success());
    assert_ne!(std::fs::read(&cert).unwrap(), cert_before);
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn show_gives_paths_fingerprint_and_how_to_trust_it() {
    let bin = Bin::new();
    assert!(bin.run(["ca", "init"]).await.status.success());
    let output = bin.run(["ca", "show"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let cert_path = bin.home.path().join("ca/ca-cert.pem");
    let der = CertificateDer::from_pem_file(&cert_path).unwrap();
    let sha256: Vec<String> = Sha256::digest(der.as_ref()).iter().map(|b| format!("{b:02X}")).collect();
    assert!(text.contains(&sha256.join(":")), "{text}");
    assert!(text.contains(&cert_path.display().to_string()), "{text}");
    for runtime in ["curl", "Python", "Node", "Rust", "Go", "CN=dispatch-vcr CA"] {
        assert!(text.contains(runtime), "no {runtime} in:\n{text}");
    }
}

#[tokio::test]
async fn show_before_init_creates_the_ca_and_says_so_on_stderr() {
    let bin = Bin::new();
    let output = bin.run(["ca", "show"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("created a new root CA in"), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("dispatch-vcr root CA\n"), "{}", stdout(&output));
    assert!(bin.home.path().join("ca/ca-cert.pem").exists());
}

#[tokio::test]
async fn every_ca_command_creates_on_first_use_and_init_then_says_when() {
    for first in [&["ca", "env", "--proxy", "http://127.0.0.1:9999"][..], &["ca", "show"]] {
        let bin = Bin::new();
        let created = bin.run(first).await;
        assert_eq!(created.status.code(), Some(0), "{first:?}: {}", stderr(&created));
        assert!(stderr(&created).contains("created a new root CA in"), "{first:?}: {}", stderr(&created));
        let again = bin.run(first).await;
        assert!(!stderr(&again).contains("created"), "{first:?}: created once: {}", stderr(&again));

        let init = bin.run(["ca", "init"]).await;
        assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
        let text = stdout(&init);
        let dir = bin.home.path().join("ca");
        let kept = format!("kept the root CA in {}, created on ", dir.display());
        assert!(text.starts_with(&kept), "{first:?}: {text}");
        assert!(text.contains("(use --force to replace it)"), "{text}");
    }
}

#[tokio::test]
async fn env_needs_the_proxy_url_and_its_help_says_where_it_comes_from() {
    let bin = Bin::new();
    let output = bin.run(["ca", "env"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(stderr(&output).contains("--proxy <URL>"), "{}", stderr(&output));
    assert!(!bin.home.path().join("ca").exists(), "nothing made for a usage error");
    let help = bin.run(["ca", "env", "--help"]).await;
    let help = stdout(&help);
    assert!(help.contains("listening on http://"), "{help}");
}

#[tokio::test]
async fn env_prints_the_child_env_and_writes_a_merged_bundle() {
    let bin = Bin::new();
    let output = bin.run(["ca", "env", "--proxy", "http://127.0.0.1:9999"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let bundle = bin.home.path().join("ca/bundle.pem");
    assert!(text.contains("export HTTPS_PROXY='http://127.0.0.1:9999'"), "{text}");
    assert!(text.contains("export NO_PROXY='127.0.0.1,localhost,::1'"), "{text}");
    assert!(text.contains(&format!("export SSL_CERT_FILE='{}'", bundle.display())), "{text}");
    assert!(text.contains("export NODE_EXTRA_CA_CERTS="), "{text}");

    let bundle_text = std::fs::read_to_string(&bundle).unwrap();
    let ca = std::fs::read_to_string(bin.home.path().join("ca/ca-cert.pem")).unwrap();
    assert!(bundle_text.ends_with(&ca), "the bundle ends with our CA");
    if let Ok(system) = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt") {
        assert!(bundle_text.starts_with(&system), "the bundle starts with the system roots");
    }

    let json = bin.run(["ca", "env", "--proxy", "http://127.0.0.1:9999", "--format", "json"]).await;
    let env: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(env["HTTP_PROXY"], "http://127.0.0.1:9999");
    assert_eq!(env["REQUESTS_CA_BUNDLE"], bundle.display().to_string());
}

#[tokio::test]
async fn bad_input_exits_2_with_one_clear_line() {
    let bin = Bin::new();
    let unknown = bin.run(["ca", "init", "--bogus"]).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("--bogus"));
    let bad_proxy = bin.run(["ca", "env", "--proxy", "not a url"]).await;
    assert_eq!(bad_proxy.status.code(), Some(2));
    assert!(stderr(&bad_proxy).starts_with("dispatch-vcr: --proxy `not a url`"), "{}", stderr(&bad_proxy));
}
