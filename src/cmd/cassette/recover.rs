//! `cassette recover CASSETTE [--force]`: the journal of an interrupted
//! recording (`CASSETTE.journal`) turned into the cassette.

use std::path::PathBuf;

use crate::cassette::{journal_path, recover};
use crate::error::{Error, Result};

/// The cassette the recording was writing.
#[derive(Debug, Clone)]
pub struct Options {
    /// Its journal is `CASSETTE.journal`.
    pub cassette: PathBuf,
    /// Replace `cassette` when it exists.
    pub force: bool,
}

/// Recover and say what was recovered, with a warning on stderr for each
/// journal line left out (damaged, or repeating a `seq`). An existing
/// cassette is kept (exit 2) unless `force`: it may be the one a later
/// recording finished.
pub fn run(options: &Options) -> Result<u8> {
    let cassette = &options.cassette;
    if !options.force && cassette.exists() && journal_path(cassette).exists() {
        return Err(Error::input(format!(
            "{} exists; pass --force to replace it with what {} holds, or move it away first",
            cassette.display(),
            journal_path(cassette).display()
        )));
    }
    let recovery = recover(cassette)?;
    for skipped in &recovery.skipped {
        crate::files::write_stderr(&format!("warning: {skipped}\n"));
    }
    crate::files::write_stdout(&format!("{recovery}\n"))?;
    Ok(0)
}
