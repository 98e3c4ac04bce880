//! `ca init | show | env`: the root CA that lets the proxy intercept TLS,
//! and what a program needs to trust it.
//!
//! All three (and every proxy command) create the CA on first use, `show`
//! and `env` saying so on stderr; `init` says whether it created the CA or
//! kept the one made before, and when that was.

use crate::ca::{CertAuthority, EnvFormat, InitOutcome, ensure, home_dir, proxy_env, render_env, trust};
use crate::error::{Error, Result};

/// Which `ca` command.
#[derive(Debug, Clone)]
pub enum Options {
    /// `ca init [--force]`: create the CA (kept if it exists, unless `force`).
    Init {
        /// Replace an existing CA.
        force: bool,
    },
    /// `ca show`: paths, subject, fingerprint, expiry and how to trust it (created on first use).
    Show,
    /// `ca env`: the environment a program needs to use the proxy at `proxy` (the CA created on first use).
    Env {
        /// The proxy URL.
        proxy: String,
        /// Shell `export` lines or JSON.
        format: EnvFormat,
    },
}

/// Run a `ca` command, printing its text on stdout.
pub fn run(options: Options) -> Result<u8> {
    let text = match options {
        Options::Init { force } => init(force)?,
        Options::Show => trust::show(&ensure(&home_dir()?)?),
        Options::Env { proxy, format } => env(&proxy, format)?,
    };
    crate::files::write_stdout(&text)?;
    Ok(0)
}

fn init(force: bool) -> Result<String> {
    let (ca, outcome) = CertAuthority::init(&home_dir()?, force)?;
    let (dir, sha256) = (ca.paths().dir.display(), &ca.info().sha256);
    Ok(match outcome {
        InitOutcome::Created => format!("created a root CA in {dir}\nsha256 {sha256}\n"),
        InitOutcome::Kept => {
            let created = humantime::format_rfc3339_seconds(ca.info().created());
            format!(
                "kept the root CA in {dir}, created on {created} (use --force to replace it)\nsha256 {sha256}\n"
            )
        }
    })
}

/// Write the merged bundle and render the child environment.
fn env(proxy_url: &str, format: EnvFormat) -> Result<String> {
    let valid = proxy_url
        .parse::<http::Uri>()
        .is_ok_and(|uri| matches!(uri.scheme_str(), Some("http" | "https")) && uri.authority().is_some());
    if !valid {
        return Err(Error::input(format!(
            "--proxy `{proxy_url}`: expected a URL such as http://127.0.0.1:8080"
        )));
    }
    let ca = ensure(&home_dir()?)?;
    Ok(render_env(&proxy_env(&ca, proxy_url)?, format))
}
