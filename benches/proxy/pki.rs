//! Certificates for the bench: the upstream's own CA (every proxy trusts it
//! as `--upstream-ca`), and client TLS configs trusting one CA each.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::Fallible;

/// The domain every bench host name lives under (`api.bench.test`,
/// `fresh-17.bench.test`): `.test` never resolves, so nothing can leave loopback.
pub const DOMAIN: &str = "bench.test";

/// The ring provider, as the proxy under test uses: every peer does the same crypto.
pub fn ring() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A CA that signs the upstream's wildcard certificate.
pub struct UpstreamCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM, for `--upstream-ca` and direct clients.
    pub pem_path: PathBuf,
}

impl UpstreamCa {
    /// A fresh ECDSA P-256 CA, its certificate written into `dir`.
    pub fn new(dir: &Path) -> Fallible<Self> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, "dispatch-vcr bench upstream CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key)?;
        let pem_path = dir.join("upstream-ca.pem");
        std::fs::write(&pem_path, cert.pem())?;
        Ok(Self { issuer: Issuer::new(params, key), pem_path })
    }

    /// A server config for `*.bench.test` (and 127.0.0.1), offering h2 and http/1.1.
    pub fn server_config(&self) -> Fallible<Arc<ServerConfig>> {
        let key = KeyPair::generate()?;
        let names = vec![format!("*.{DOMAIN}"), DOMAIN.to_owned(), "127.0.0.1".to_owned()];
        let cert = CertificateParams::new(names)?.signed_by(&key, &self.issuer)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key_der)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A client config trusting only the CA in `pem`, offering `alpn`.
///
/// Session resumption is off, so every new connection pays a full handshake:
/// otherwise a host seen before would resume and look cheaper than a new one
/// for reasons that have nothing to do with the proxy.
pub fn client_config(pem: &Path, alpn: &[&[u8]]) -> Fallible<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(pem)? {
        roots.add(cert?)?;
    }
    let mut config = ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}
