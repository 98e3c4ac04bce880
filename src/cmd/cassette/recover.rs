//! `cassette recover CASSETTE`: the journal of an interrupted recording
//! (`CASSETTE.journal`) turned into the cassette.

use std::path::PathBuf;

use crate::cassette::recover;
use crate::error::Result;

/// The cassette the recording was writing.
#[derive(Debug, Clone)]
pub struct Options {
    /// Its journal is `CASSETTE.journal`.
    pub cassette: PathBuf,
}

/// Recover and say what was recovered.
pub fn run(options: &Options) -> Result<u8> {
    crate::files::write_stdout(&format!("{}\n", recover(&options.cassette)?))?;
    Ok(0)
}
