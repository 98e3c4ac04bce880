//! `audit PATH… [--profiles FILE]…`: secrets left in clear in files.

use std::path::PathBuf;

use crate::audit::audit;
use crate::error::Result;
use crate::openclaw::profiles::{self, AuthStore};

/// What `audit` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files or folders to scan.
    pub paths: Vec<PathBuf>,
    /// Auth-profile stores whose secrets must not appear either.
    pub profiles: Vec<PathBuf>,
}

/// Scan and print every hit; 0 clean, 1 secrets found.
pub fn run(options: &Options) -> Result<u8> {
    let stores = options.profiles.iter().map(|p| AuthStore::load(p)).collect::<Result<Vec<_>>>()?;
    let report = audit(&options.paths, &profiles::secrets(&stores))?;
    crate::files::write_stdout(&report.to_string())?;
    Ok(report.exit_code())
}
