//! Leaf certificates for intercepted hosts, minted on demand and cached.
//!
//! Every leaf shares one ECDSA P-256 key pair generated at start-up: a leaf
//! then costs one signature (tens of microseconds) instead of a key generation
//! plus a signature, and rustls reuses one parsed signing key for all of them.
//! The key never leaves memory; what makes a leaf trustworthy is the CA's
//! signature, not the secrecy of the leaf key across hosts.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::{CertifiedKey, SigningKey};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::cache::Cache;
use super::{BACKDATE, CertAuthority, random_serial};
use crate::{Error, Result};

/// How many leaves stay cached by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;
/// How long a leaf is valid at most (within the limit browsers put on TLS leaves).
const LEAF_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// Mints and caches leaf certificates signed by the root CA.
pub struct LeafIssuer {
    ca: Arc<CertAuthority>,
    leaf_key: KeyPair,
    signer: Arc<dyn SigningKey>,
    cache: Cache<Arc<CertifiedKey>>,
}

impl fmt::Debug for LeafIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeafIssuer").field("ca", &self.ca.info().subject).finish_non_exhaustive()
    }
}

impl LeafIssuer {
    /// An issuer signing with `ca`, caching up to [`DEFAULT_CACHE_CAPACITY`] leaves.
    pub fn new(ca: Arc<CertAuthority>) -> Result<Self> {
        Self::with_capacity(ca, DEFAULT_CACHE_CAPACITY)
    }

    /// An issuer signing with `ca`, caching up to `capacity` leaves.
    pub fn with_capacity(ca: Arc<CertAuthority>, capacity: usize) -> Result<Self> {
        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|err| Error::runtime(format!("cannot generate the leaf key: {err}")))?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let signer = rustls::crypto::ring::sign::any_ecdsa_type(&der)
            .map_err(|err| Error::runtime(format!("cannot load the leaf key into rustls: {err}")))?;
        Ok(Self { ca, leaf_key, signer, cache: Cache::new(capacity) })
    }

    /// The CA this issuer signs with.
    pub fn ca(&self) -> &Arc<CertAuthority> {
        &self.ca
    }

    /// The certificate for `server_name` (a DNS name or an IP literal), from
    /// the cache or freshly minted.
    pub fn leaf(&self, server_name: &str) -> Result<Arc<CertifiedKey>> {
        let name = normalize(server_name);
        if let Some(hit) = self.cache.get(&name) {
            return Ok(hit);
        }
        let leaf = self.mint(&name)?;
        self.cache.insert(&name, leaf.clone());
        Ok(leaf)
    }

    /// Mint a new leaf for `server_name`, bypassing the cache.
    pub fn mint(&self, server_name: &str) -> Result<Arc<CertifiedKey>> {
        let name = normalize(server_name);
        let params = self.leaf_params(&name)?;
        let cert = params
            .signed_by(&self.leaf_key, self.ca.issuer())
            .map_err(|err| Error::runtime(format!("cannot sign a certificate for {name}: {err}")))?;
        Ok(Arc::new(CertifiedKey::new(vec![cert.der().clone()], self.signer.clone())))
    }

    fn leaf_params(&self, name: &str) -> Result<CertificateParams> {
        let san = match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => {
                let invalid = || Error::input(format!("`{name}` is not a valid server name"));
                rustls_pki_types::DnsName::try_from(name).map_err(|_| invalid())?;
                SanType::DnsName(name.try_into().map_err(|_| invalid())?)
            }
        };
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![san];
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // Strict verifiers (Python ≥ 3.13's VERIFY_X509_STRICT) require the AKI.
        params.use_authority_key_identifier_extension = true;
        let now = SystemTime::now();
        params.not_before = (now - BACKDATE).into();
        params.not_after = (now + LEAF_VALIDITY).min(self.ca.info().not_after).into();
        params.serial_number = Some(random_serial()?);
        Ok(params)
    }

    /// A rustls resolver minting by SNI; `fallback` names the host for
    /// clients that send no SNI (IP literals), typically the CONNECT target.
    pub fn resolver(self: &Arc<Self>, fallback: Option<String>) -> Arc<LeafResolver> {
        Arc::new(LeafResolver { issuer: self.clone(), fallback })
    }
}

/// Lower-case, without the trailing dot of a fully qualified name, without IPv6 brackets.
fn normalize(name: &str) -> String {
    let name = name.trim_end_matches('.');
    let name = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    name.to_ascii_lowercase()
}

/// Serves each TLS handshake the leaf for its SNI.
pub struct LeafResolver {
    issuer: Arc<LeafIssuer>,
    fallback: Option<String>,
}

impl fmt::Debug for LeafResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeafResolver").field("fallback", &self.fallback).finish_non_exhaustive()
    }
}

impl ResolvesServerCert for LeafResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name().or(self.fallback.as_deref())?;
        self.issuer
            .leaf(name)
            .inspect_err(|err| tracing::warn!(server_name = name, "no certificate: {err}"))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    use x509_parser::extensions::GeneralName;

    fn issuer() -> (tempfile::TempDir, LeafIssuer) {
        let home = tempfile::tempdir().unwrap();
        let (ca, _) = CertAuthority::init(home.path(), false).unwrap();
        (home, LeafIssuer::with_capacity(Arc::new(ca), 8).unwrap())
    }

    fn sans(leaf: &CertifiedKey) -> Vec<String> {
        let (_, cert) = x509_parser::parse_x509_certificate(leaf.cert[0].as_ref()).unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap();
        san.value
            .general_names
            .iter()
            .map(|name| match name {
                GeneralName::DNSName(dns) => format!("dns:{dns}"),
                GeneralName::IPAddress(ip) => format!("ip:{ip:?}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn names_get_a_dns_san() {
        let (_home, issuer) = issuer();
        assert_eq!(sans(&issuer.mint("API.OpenAI.com.").unwrap()), ["dns:api.openai.com"]);
    }

    #[test]
    fn ip_literals_get_an_ip_san() {
        let (_home, issuer) = issuer();
        assert_eq!(sans(&issuer.mint("127.0.0.1").unwrap()), ["ip:[127, 0, 0, 1]"]);
        assert_eq!(sans(&issuer.mint("[::1]").unwrap()).len(), 1);
    }

    #[test]
    fn leaves_verify_against_the_ca_and_differ_in_serial() {
        let (_home, issuer) = issuer();
        let ca_der = CertificateDer::from_pem_slice(issuer.ca().cert_pem().as_bytes()).unwrap();
        let (_, ca) = x509_parser::parse_x509_certificate(ca_der.as_ref()).unwrap();
        let a = issuer.mint("a.example").unwrap();
        let b = issuer.mint("b.example").unwrap();
        let (_, leaf_a) = x509_parser::parse_x509_certificate(a.cert[0].as_ref()).unwrap();
        let (_, leaf_b) = x509_parser::parse_x509_certificate(b.cert[0].as_ref()).unwrap();
        leaf_a.verify_signature(Some(ca.public_key())).unwrap();
        assert_eq!(leaf_a.issuer(), ca.subject());
        assert_ne!(leaf_a.serial, leaf_b.serial);
        assert!(leaf_a.validity().not_after <= ca.validity().not_after);
    }

    #[test]
    fn leaf_is_cached_per_name() {
        let (_home, issuer) = issuer();
        let first = issuer.leaf("api.openai.com").unwrap();
        let again = issuer.leaf("API.openai.com").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &issuer.leaf("chatgpt.com").unwrap()));
    }

    #[test]
    fn invalid_names_are_refused() {
        let (_home, issuer) = issuer();
        assert!(issuer.mint("bad name").is_err());
    }
}
