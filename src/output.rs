//! Where a command's output goes: `-o FILE` (written atomically, so a
//! reader never sees half a report) or stdout.

use std::io::Write as _;
use std::path::Path;

use crate::error::{Error, Result};

/// Write `text` to `output`, or to stdout when `None`.
pub fn write(output: Option<&Path>, text: &str) -> Result<()> {
    match output {
        Some(path) => crate::cassette::save::write_atomically(path, text.as_bytes()),
        None => write_stdout(text),
    }
}

/// Write to stdout; a reader that went away (`| head`) is not an error.
fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::runtime(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
