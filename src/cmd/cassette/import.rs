//! `cassette import FILE.har -o CASSETTE`: a HAR file as a cassette, through
//! the recorder's own capture and redaction.

use std::path::PathBuf;

use crate::error::Result;
use crate::openclaw::profiles::AuthStore;
use crate::recorder::har;

/// What `cassette import` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The HAR file.
    pub har: PathBuf,
    /// The cassette to write.
    pub output: PathBuf,
    /// Auth-profile stores naming the fingerprints in `meta.credentials`.
    pub profiles: Vec<PathBuf>,
}

/// Import and say what was imported (on stderr).
pub fn run(options: Options) -> Result<u8> {
    let profiles = AuthStore::load_all(&options.profiles)?;
    let summary = har::import(&har::ImportOptions { har: options.har, output: options.output, profiles })?;
    crate::files::say(summary);
    Ok(0)
}
