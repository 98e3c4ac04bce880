//! `diff CASSETTE_A CASSETTE_B`: the semantic difference of two recordings'
//! dispatches (endpoint, credential, headers, body).

use std::path::PathBuf;

use crate::cassette::diff_files;
use crate::error::Result;

/// The two cassettes to compare.
#[derive(Debug, Clone)]
pub struct Options {
    /// Shown as `-`.
    pub a: PathBuf,
    /// Shown as `+`.
    pub b: PathBuf,
}

/// Print the diff; 0 when they match, 1 when they differ.
pub fn run(options: &Options) -> Result<u8> {
    let diff = diff_files(&options.a, &options.b)?;
    crate::files::write_stdout(&diff.to_string())?;
    Ok(diff.exit_code())
}
