//! `schema KIND`: the JSON Schema of a file format.

use crate::error::Result;
use crate::schema::Kind;

/// Print the schema of `kind`.
pub fn run(kind: Kind) -> Result<u8> {
    crate::files::write_stdout(&kind.schema())?;
    Ok(0)
}
