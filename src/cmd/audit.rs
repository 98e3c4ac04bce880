//! `audit PATH… [--profiles FILE]… [--allow FINGERPRINT]… [--allow-file FILE]…`:
//! secrets left in clear in files.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::audit::{audit, parse_allow_file};
use crate::credential::is_fingerprint;
use crate::error::{Error, Result};
use crate::openclaw::profiles::{self, AuthStore};

/// What `audit` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files or folders to scan.
    pub paths: Vec<PathBuf>,
    /// Auth-profile stores whose secrets must not appear either.
    pub profiles: Vec<PathBuf>,
    /// `--allow`: fingerprints that are not hits (known fixture keys).
    pub allow: Vec<String>,
    /// `--allow-file`: files of such fingerprints, one a line, `#` comments.
    pub allow_files: Vec<PathBuf>,
}

/// Scan and print every hit that is not allowed; 0 clean, 1 secrets found.
pub fn run(options: &Options) -> Result<u8> {
    let allowed = allowed(options)?;
    let stores = AuthStore::load_all(&options.profiles)?;
    let mut report = audit(&options.paths, &profiles::secrets(&stores))?;
    report.allow(&allowed);
    crate::files::write_stdout(&report.to_string())?;
    Ok(report.exit_code())
}

/// Every allowed fingerprint, each checked (exit 2 naming the flag or file:line).
fn allowed(options: &Options) -> Result<BTreeSet<String>> {
    let mut allowed = BTreeSet::new();
    for value in &options.allow {
        if !is_fingerprint(value) {
            return Err(Error::input(format!(
                "--allow `{value}`: not a fingerprint; give it as audit prints it, e.g. --allow sha256:1f0c2a9b7d3e"
            )));
        }
        allowed.insert(value.clone());
    }
    for path in &options.allow_files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(format!("--allow-file {}: cannot read it: {e}", path.display())))?;
        allowed.extend(parse_allow_file(path, &text)?);
    }
    Ok(allowed)
}
