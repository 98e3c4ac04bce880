//! The cassette format: cassette v1 as Rust types, loading with validation,
//! atomic saving, the crash-safe journal, side files, HAR, and the semantic
//! diff. The format only: how a recording is made is the recorder's
//! business (docs/cassette.md is the reference for the file).
//!
//! - [`model`] — cassette v1 as Rust types; [`wire`] — a stored body back to bytes;
//!   `side_file` — side files opened without following links, length and digest checked.
//! - [`mod@load`] — read and validate (migrations go there); [`mod@save`] — pretty, stable, atomic.
//! - `skim` — the values observing ignores, emptied before `check`'s parse, found 64 bytes at a time.
//! - [`journal`] — the crash-safe NDJSON journal a recording appends to, and `recover`.
//! - [`har`] — HAR 1.2: the model, and export of a cassette.
//! - [`mod@diff`] — the semantic diff of two cassettes' dispatches.

pub mod diff;
pub mod har;
pub mod journal;
pub mod load;
pub mod model;
pub mod save;
mod side_file;
mod skim;
pub mod wire;

pub use diff::{Brief, CassetteDiff, diff, diff_files};
pub use journal::{Recovery, journal_path, recover, remove_stray_spills};
pub use load::{load, load_for_observing, parse};
pub use model::*;
pub use save::save;
pub use wire::{Piece, sse_event_text};
