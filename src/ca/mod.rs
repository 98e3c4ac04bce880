//! The root CA that lets the proxy intercept TLS, and what clients need to trust it.
//!
//! - this module: the CA files in `HOME/ca` — create once (ECDSA P-256, key
//!   0600, unique subject per home), load, describe.
//! - [`leaf`]: per-host leaf certificates minted on demand and cached, served
//!   to rustls by SNI.
//! - [`trust`]: the environment a child program needs to use the proxy and
//!   trust the CA, the merged trust bundle, `ca show`'s text, and the PEM
//!   roots a client trusts besides (`--upstream-ca`, `dispatch send --ca`).

mod cache;
pub mod leaf;
pub mod trust;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PublicKeyData as _,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use sha2::{Digest, Sha256};

pub use leaf::{LeafIssuer, LeafResolver};
pub use trust::{EnvFormat, add_pem_roots, child_env, proxy_env, render_env};

use crate::files::write_atomically_with_mode;
use crate::{Error, Result};

/// File name of the CA certificate inside `HOME/ca`.
pub const CERT_FILE: &str = "ca-cert.pem";
/// File name of the CA private key inside `HOME/ca` (mode 0600).
pub const KEY_FILE: &str = "ca-key.pem";
/// File name of the merged trust bundle (system roots + the CA) inside `HOME/ca`.
pub const BUNDLE_FILE: &str = "bundle.pem";

/// How long a new root CA is valid.
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Certificates start a day in the past so clients with a slow clock accept them.
const BACKDATE: Duration = Duration::from_secs(24 * 3600);

/// The dispatch-vcr home: `$DISPATCH_VCR_HOME`, else `~/.dispatch-vcr`.
pub fn home_dir() -> Result<PathBuf> {
    let non_empty = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(home) = non_empty("DISPATCH_VCR_HOME") {
        return Ok(PathBuf::from(home));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".dispatch-vcr")).ok_or_else(|| {
        Error::input("cannot find the dispatch-vcr home: set DISPATCH_VCR_HOME (or HOME) to a directory")
    })
}

/// Where the CA files of one home live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaPaths {
    /// `HOME/ca`.
    pub dir: PathBuf,
    /// `HOME/ca/ca-cert.pem`.
    pub cert: PathBuf,
    /// `HOME/ca/ca-key.pem`.
    pub key: PathBuf,
    /// `HOME/ca/bundle.pem`.
    pub bundle: PathBuf,
}

impl CaPaths {
    /// The CA paths under `home`.
    pub fn in_home(home: &Path) -> Self {
        let dir = home.join("ca");
        Self { cert: dir.join(CERT_FILE), key: dir.join(KEY_FILE), bundle: dir.join(BUNDLE_FILE), dir }
    }
}

/// Facts about the CA certificate, for `ca show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaInfo {
    /// Subject DN, e.g. `CN=dispatch-vcr CA 3f9a1c2e, O=dispatch-vcr`.
    pub subject: String,
    /// SHA-256 over the DER certificate, upper-case hex pairs joined by `:`.
    pub sha256: String,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
}

impl CaInfo {
    /// When the CA was created: the start of its validity, which is backdated
    /// a day for clients with a slow clock.
    pub fn created(&self) -> SystemTime {
        self.not_before + BACKDATE
    }
}

/// A loaded root CA: its certificate, facts and signing key.
pub struct CertAuthority {
    paths: CaPaths,
    cert_pem: String,
    info: CaInfo,
    issuer: Issuer<'static, KeyPair>,
}

/// Whether `init` made a new CA or kept the one it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitOutcome {
    /// A new CA was written.
    Created,
    /// A CA existed and was kept.
    Kept,
}

impl CertAuthority {
    /// Create the CA in `home` unless one exists (or replace it with `force`).
    pub fn init(home: &Path, force: bool) -> Result<(Self, InitOutcome)> {
        let paths = CaPaths::in_home(home);
        if !force && (paths.cert.exists() || paths.key.exists()) {
            return Ok((Self::load_paths(paths)?, InitOutcome::Kept));
        }
        create(&paths)?;
        Ok((Self::load_paths(paths)?, InitOutcome::Created))
    }

    /// Load the CA of `home`; a missing CA is a usage error that says how to make one.
    pub fn load(home: &Path) -> Result<Self> {
        let paths = CaPaths::in_home(home);
        if !paths.cert.exists() && !paths.key.exists() {
            return Err(Error::input(format!(
                "no CA in {}: run `dispatch-vcr ca init` to create one",
                paths.dir.display()
            )));
        }
        Self::load_paths(paths)
    }

    fn load_paths(paths: CaPaths) -> Result<Self> {
        let cert_pem = read_existing(&paths.cert, &paths)?;
        let key_pem = read_existing(&paths.key, &paths)?;
        let broken = |what: &str, path: &Path| {
            Error::input(format!(
                "{}: {what}; replace the CA with `dispatch-vcr ca init --force` (clients must trust the new one)",
                path.display()
            ))
        };
        let der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|_| broken("not a PEM certificate", &paths.cert))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|_| broken("not a PEM private key", &paths.key))?;
        let info = describe(&der).ok_or_else(|| broken("not a parsable X.509 certificate", &paths.cert))?;
        if spki_of(&der).as_deref() != Some(key.subject_public_key_info().as_slice()) {
            return Err(broken("the key does not belong to the certificate", &paths.key));
        }
        let issuer = Issuer::from_ca_cert_der(&der, key)
            .map_err(|err| broken(&format!("cannot sign with it ({err})"), &paths.cert))?;
        Ok(Self { paths, cert_pem, info, issuer })
    }

    /// The CA's file paths.
    pub fn paths(&self) -> &CaPaths {
        &self.paths
    }

    /// Subject, fingerprint and validity.
    pub fn info(&self) -> &CaInfo {
        &self.info
    }

    /// The certificate as PEM text.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The issuer that signs leaves.
    pub(crate) fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }
}

/// The CA of `home`, created on first use; creation is announced on stderr
/// because clients must then be told to trust the new CA.
pub fn ensure(home: &Path) -> Result<CertAuthority> {
    let (ca, outcome) = CertAuthority::init(home, false)?;
    if outcome == InitOutcome::Created {
        crate::files::say(format_args!(
            "created a new root CA in {} (see `dispatch-vcr ca show` to trust it)",
            ca.paths().dir.display()
        ));
    }
    Ok(ca)
}

fn read_existing(path: &Path, paths: &CaPaths) -> Result<String> {
    fs::read_to_string(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => Error::input(format!(
            "{} is incomplete: {} is missing; run `dispatch-vcr ca init --force` to make a new CA",
            paths.dir.display(),
            path.display()
        )),
        _ => Error::io("read", path, &err),
    })
}

/// Make a new CA and write it: key first (0600), certificate last, each
/// through a temporary file and a rename so a reader never sees half a file.
fn create(paths: &CaPaths) -> Result<()> {
    fs::create_dir_all(&paths.dir).map_err(|err| Error::io("create", &paths.dir, &err))?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|err| Error::runtime(format!("cannot generate the CA key: {err}")))?;
    let cert = ca_params()?
        .self_signed(&key)
        .map_err(|err| Error::runtime(format!("cannot sign the CA certificate: {err}")))?;
    write_atomically_with_mode(&paths.key, key.serialize_pem().as_bytes(), 0o600)?;
    write_atomically_with_mode(&paths.cert, cert.pem().as_bytes(), 0o644)
}

fn ca_params() -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    let tag = hex::encode(random_bytes::<4>()?);
    // A random tag makes each home's CA subject unique, so two CAs trusted
    // side by side (or an old one after `--force`) are never confused.
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, format!("dispatch-vcr CA {tag}"));
    params.distinguished_name.push(DnType::OrganizationName, "dispatch-vcr");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = SystemTime::now();
    params.not_before = (now - BACKDATE).into();
    params.not_after = (now + CA_VALIDITY).into();
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

/// Subject, SHA-256 and validity of a DER certificate.
fn describe(der: &CertificateDer<'_>) -> Option<CaInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let validity = cert.validity();
    Some(CaInfo {
        subject: cert.subject().to_string(),
        sha256: colon_hex(&Sha256::digest(der.as_ref())),
        not_before: unix_time(validity.not_before.timestamp())?,
        not_after: unix_time(validity.not_after.timestamp())?,
    })
}

fn spki_of(der: &CertificateDer<'_>) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.public_key().raw.to_vec())
}

fn unix_time(seconds: i64) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(seconds).ok()?))
}

/// `AB:CD:…` — the way browsers and `openssl x509 -fingerprint` show digests.
fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// `N` bytes from the system's secure random source.
fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| Error::runtime("the system random source failed"))?;
    Ok(bytes)
}

/// A random positive 128-bit serial number: leaves share one key pair, so
/// serials must not be derived from the key (rcgen's default) or every leaf
/// would carry the same one.
pub(crate) fn random_serial() -> Result<rcgen::SerialNumber> {
    let mut bytes = random_bytes::<16>()?;
    bytes[0] &= 0x7f;
    Ok(rcgen::SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn colon_hex_is_upper_case_pairs() {
        assert_eq!(colon_hex(&[0x0a, 0xff, 0x10]), "0A:FF:10");
    }

    #[test]
    fn paths_live_under_home_ca() {
        let paths = CaPaths::in_home(Path::new("/h"));
        assert_eq!(paths.cert, Path::new("/h/ca/ca-cert.pem"));
        assert_eq!(paths.key, Path::new("/h/ca/ca-key.pem"));
        assert_eq!(paths.bundle, Path::new("/h/ca/bundle.pem"));
    }

    #[test]
    fn init_creates_then_keeps_and_force_replaces() {
        let home = tempfile::tempdir().unwrap();
        let (first, outcome) = CertAuthority::init(home.path(), false).unwrap();
        assert_eq!(outcome, InitOutcome::Created);
        let mode = fs::metadata(&first.paths().key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, outcome) = CertAuthority::init(home.path(), false).unwrap();
        assert_eq!(outcome, InitOutcome::Kept);
        assert_eq!(again.info(), first.info());
        let (forced, outcome) = CertAuthority::init(home.path(), true).unwrap();
        assert_eq!(outcome, InitOutcome::Created);
        assert_ne!(forced.info().sha256, first.info().sha256);
    }

    #[test]
    fn new_ca_is_unique_and_valid_now() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let (ca_a, _) = CertAuthority::init(a.path(), false).unwrap();
        let (ca_b, _) = CertAuthority::init(b.path(), false).unwrap();
        assert_ne!(ca_a.info().subject, ca_b.info().subject);
        assert!(ca_a.info().subject.contains("dispatch-vcr CA"));
        let now = SystemTime::now();
        assert!(ca_a.info().not_before < now && now < ca_a.info().not_after);
    }

    #[test]
    fn missing_ca_says_how_to_make_one() {
        let home = tempfile::tempdir().unwrap();
        let err = CertAuthority::load(home.path()).err().unwrap();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("ca init"), "{err}");
    }

    #[test]
    fn half_a_ca_is_reported_not_replaced() {
        let home = tempfile::tempdir().unwrap();
        let (ca, _) = CertAuthority::init(home.path(), false).unwrap();
        fs::remove_file(&ca.paths().cert).unwrap();
        let err = CertAuthority::init(home.path(), false).err().unwrap();
        assert!(err.message().contains("ca-cert.pem is missing"), "{err}");
        assert!(ca.paths().key.exists());
    }

    #[test]
    fn a_key_from_another_ca_is_refused() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let (ca_a, _) = CertAuthority::init(a.path(), false).unwrap();
        let (ca_b, _) = CertAuthority::init(b.path(), false).unwrap();
        fs::copy(&ca_b.paths().key, &ca_a.paths().key).unwrap();
        let err = CertAuthority::load(a.path()).err().unwrap();
        assert!(err.message().contains("does not belong"), "{err}");
    }
}
