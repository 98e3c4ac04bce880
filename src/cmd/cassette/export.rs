//! `cassette export CASSETTE [--har] [-o FILE]`: a cassette as a HAR 1.2 file (the only format).

use std::path::{Path, PathBuf};

use crate::cassette::{har, load};
use crate::error::Result;

/// What `cassette export` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The cassette to export.
    pub cassette: PathBuf,
    /// Where to write the HAR (atomically); stdout when `None`.
    pub output: Option<PathBuf>,
}

/// Write the HAR.
pub fn run(options: &Options) -> Result<u8> {
    if let Some(path) = &options.output {
        crate::files::check_output("-o", path, "run.har")?;
    }
    let loaded = load(&options.cassette)?;
    let dir = options.cassette.parent().unwrap_or_else(|| Path::new(""));
    let har = har::to_har(&loaded, dir)?;
    // A HAR is plain data (strings and numbers): serialising it cannot fail.
    let mut text = serde_json::to_string_pretty(&har).unwrap_or_default();
    text.push('\n');
    crate::files::write(options.output.as_deref(), &text)?;
    Ok(0)
}
