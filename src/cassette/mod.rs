//! Cassettes: the data model (DESIGN §4), loading with validation, atomic
//! saving, the crash-safe journal and redaction of secrets.
//!
//! - [`model`] — cassette v1 as Rust types; [`wire`] — a stored body back to bytes.
//! - [`capture`] — a captured exchange → an interaction; [`redact`] — secrets → fingerprints.
//! - [`blobs`] — side files for bodies too large for the cassette, redacted as they are kept.
//! - [`recorder`] — the proxy's tap when recording: journal, atomic save, audit;
//!   `handoff` — how exchanges get from the proxy to its thread without waking it.
//! - [`journal`] — the crash-safe NDJSON journal and `cassette recover`.
//! - [`save`] — pretty, stable, atomic writing.
//! - [`har`] — HAR 1.2 import and export.

pub mod blobs;
pub mod capture;
pub mod diff;
mod handoff;
pub mod har;
pub mod journal;
pub mod load;
pub mod model;
pub mod recorder;
pub mod redact;
pub mod save;
pub mod wire;

pub use diff::{CassetteDiff, diff, diff_files};
pub use journal::{Recovery, journal_path, recover};
pub use load::{load, parse};
pub use model::*;
pub use recorder::{RecordSummary, Recorder, RecorderOptions};
pub use redact::Redactor;
pub use save::save;
pub use wire::{Piece, sse_event_text};
