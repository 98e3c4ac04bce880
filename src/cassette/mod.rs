//! Cassettes: the data model (DESIGN §4), loading with validation, atomic
//! saving, the crash-safe journal and redaction of secrets.

pub mod model;

pub use model::*;
