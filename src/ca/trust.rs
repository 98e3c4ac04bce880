//! What a program needs to go through the proxy and trust its CA (docs/design.md, "Command line"):
//! the child environment, the merged trust bundle, and the text of `ca show`.

use std::fs;
use std::path::Path;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use super::CertAuthority;
use crate::files::write_atomically_with_mode;
use crate::{Error, Result};

/// Variables holding the proxy URL.
const PROXY_VARS: [&str; 5] = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"];
/// Variables listing hosts that bypass the proxy, and their value: a
/// dispatcher's own loopback hops (e.g. OpenClaw relaying to its Codex child)
/// must stay direct.
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];
const NO_PROXY: &str = "127.0.0.1,localhost,::1";
/// Variables that *replace* a program's default trust store, so they get the
/// merged bundle (system roots + our CA) rather than our CA alone.
const BUNDLE_VARS: [&str; 7] = [
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "CARGO_HTTP_CAINFO",
    "AWS_CA_BUNDLE",
    "CODEX_CA_CERTIFICATE",
];
/// Where distributions keep the system roots, most common first.
const SYSTEM_BUNDLES: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
];

/// The environment of a child program using the proxy at `proxy_url`,
/// trusting the CA certificate at `ca_cert` and the merged bundle at `bundle`.
pub fn child_env(proxy_url: &str, ca_cert: &Path, bundle: &Path) -> Vec<(String, String)> {
    let ca_cert = ca_cert.display().to_string();
    let bundle = bundle.display().to_string();
    let pairs = PROXY_VARS
        .iter()
        .map(|name| (*name, proxy_url))
        .chain(NO_PROXY_VARS.iter().map(|name| (*name, NO_PROXY)))
        .chain([("NODE_USE_ENV_PROXY", "1"), ("NODE_EXTRA_CA_CERTS", ca_cert.as_str())])
        .chain(BUNDLE_VARS.iter().map(|name| (*name, bundle.as_str())));
    pairs.map(|(name, value)| (name.to_owned(), value.to_owned())).collect()
}

/// Write the merged bundle (system roots, when found, then the CA) and return
/// the child environment for `proxy_url`.
pub fn proxy_env(ca: &CertAuthority, proxy_url: &str) -> Result<Vec<(String, String)>> {
    write_bundle(ca)?;
    let paths = ca.paths();
    Ok(child_env(proxy_url, &paths.cert, &paths.bundle))
}

/// `HOME/ca/bundle.pem` = the first system bundle found + the CA certificate.
/// Rewritten each time (atomically), so it follows system root updates.
fn write_bundle(ca: &CertAuthority) -> Result<()> {
    let system = SYSTEM_BUNDLES.iter().find_map(|path| fs::read_to_string(path).ok()).unwrap_or_default();
    write_atomically_with_mode(&ca.paths().bundle, merge_bundle(&system, ca.cert_pem()).as_bytes(), 0o644)
}

fn merge_bundle(system: &str, ca_pem: &str) -> String {
    let mut bundle = String::with_capacity(system.len() + ca_pem.len() + 64);
    bundle.push_str(system);
    if !bundle.is_empty() && !bundle.ends_with('\n') {
        bundle.push('\n');
    }
    bundle.push_str("# dispatch-vcr root CA\n");
    bundle.push_str(ca_pem);
    bundle
}

/// Output format of `ca env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvFormat {
    /// `export NAME='value'` lines, for `eval "$(dispatch-vcr ca env --proxy URL)"`.
    Sh,
    /// One JSON object, in the same order.
    Json,
}

/// Render an environment for the shell or as JSON.
pub fn render_env(env: &[(String, String)], format: EnvFormat) -> String {
    match format {
        EnvFormat::Sh => {
            env.iter().map(|(name, value)| format!("export {name}={}\n", sh_quote(value))).collect()
        }
        EnvFormat::Json => {
            let object: serde_json::Map<String, serde_json::Value> =
                env.iter().map(|(name, value)| (name.clone(), value.clone().into())).collect();
            let mut text = serde_json::to_string_pretty(&object).unwrap_or_default();
            text.push('\n');
            text
        }
    }
}

/// Single-quote for POSIX shells: `'` becomes `'\''`.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The text of `ca show`: where the CA is, what it is, and how to trust it.
pub fn show(ca: &CertAuthority) -> String {
    let paths = ca.paths();
    let info = ca.info();
    let (cert, bundle) = (paths.cert.display(), paths.bundle.display());
    let when = |t| humantime::format_rfc3339_seconds(t).to_string();
    format!(
        "dispatch-vcr root CA\n\
         \x20 certificate  {cert}\n\
         \x20 private key  {key} (mode 0600; never share it)\n\
         \x20 bundle       {bundle} (system roots + this CA; written by `ca env` and `record`)\n\
         \x20 subject      {subject}\n\
         \x20 sha256       {sha256}\n\
         \x20 valid        {from} to {until}\n\
         \n\
         Trust it only in programs you run through the proxy:\n\
         \x20 everything  eval \"$(dispatch-vcr ca env --proxy http://127.0.0.1:PORT)\"\n\
         \x20             (or `dispatch-vcr record -o FILE -- CMD`, which sets it for CMD)\n\
         \x20 curl        curl --proxy http://127.0.0.1:PORT --cacert {cert} URL\n\
         \x20 Python      SSL_CERT_FILE={bundle} (urllib, httpx); REQUESTS_CA_BUNDLE={bundle} (requests)\n\
         \x20 Node        NODE_EXTRA_CA_CERTS={cert} (adds to the built-in roots);\n\
         \x20             NODE_USE_ENV_PROXY=1 makes recent Node honour HTTPS_PROXY\n\
         \x20 Rust        SSL_CERT_FILE={bundle} (native-tls, rustls-native-certs); or in code:\n\
         \x20             reqwest::Certificate::from_pem(&std::fs::read(\"{cert}\")?) + add_root_certificate\n\
         \x20 Go          SSL_CERT_FILE={bundle} (crypto/x509 on Linux); HTTPS_PROXY is honoured by net/http\n",
        key = paths.key.display(),
        subject = info.subject,
        sha256 = info.sha256,
        from = when(info.not_before),
        until = when(info.not_after),
    )
}

/// Trust the certificates in the PEM file `path`, given by `flag`. A bundle
/// may hold certificates webpki cannot use; the file is refused (exit 2,
/// naming the flag) only when it cannot be read or holds no usable one.
pub fn add_pem_roots(roots: &mut RootCertStore, flag: &str, path: &Path) -> Result<()> {
    let bad =
        |why: String| Error::input(format!("{flag} {}: {why}; pass a PEM certificate file", path.display()));
    let pem = std::fs::read(path).map_err(|err| bad(format!("cannot read it: {err}")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|err| bad(format!("not a PEM certificate file: {err}")))?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(bad("no usable PEM certificate in it".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        child_env("http://127.0.0.1:8080", Path::new("/h/ca/ca-cert.pem"), Path::new("/h/ca/bundle.pem"))
    }

    fn value<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
        env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn proxy_variables_point_at_the_proxy() {
        let env = env();
        for name in PROXY_VARS {
            assert_eq!(value(&env, name), Some("http://127.0.0.1:8080"), "{name}");
        }
        assert_eq!(value(&env, "NO_PROXY"), Some("127.0.0.1,localhost,::1"));
        assert_eq!(value(&env, "NODE_USE_ENV_PROXY"), Some("1"));
    }

    #[test]
    fn node_adds_the_ca_and_store_replacing_variables_get_the_bundle() {
        let env = env();
        assert_eq!(value(&env, "NODE_EXTRA_CA_CERTS"), Some("/h/ca/ca-cert.pem"));
        for name in BUNDLE_VARS {
            assert_eq!(value(&env, name), Some("/h/ca/bundle.pem"), "{name}");
        }
    }

    #[test]
    fn sh_format_quotes_values() {
        let env = vec![("A".to_owned(), "it's".to_owned())];
        assert_eq!(render_env(&env, EnvFormat::Sh), "export A='it'\\''s'\n");
    }

    #[test]
    fn json_format_keeps_order() {
        let text = render_env(&env(), EnvFormat::Json);
        let parsed: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
        let names: Vec<_> = parsed.keys().cloned().collect();
        let expected: Vec<_> = env().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn bundle_is_system_roots_then_the_ca() {
        let merged = merge_bundle("SYSTEM", "CA\n");
        assert_eq!(merged, "SYSTEM\n# dispatch-vcr root CA\nCA\n");
        assert_eq!(merge_bundle("", "CA\n"), "# dispatch-vcr root CA\nCA\n");
    }

    #[test]
    fn show_names_every_runtime() {
        let home = tempfile::tempdir().unwrap();
        let (ca, _) = CertAuthority::init(home.path(), false).unwrap();
        let text = show(&ca);
        for needle in ["curl", "Python", "Node", "Rust", "Go", &ca.info().sha256, &ca.info().subject] {
            assert!(text.contains(needle), "missing {needle}:\n{text}");
        }
    }
}
