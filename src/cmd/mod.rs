//! The commands: one module each (a group such as `dispatch` a folder), every
//! one an `Options` (what the command was asked, in library terms, converted
//! once from the flags by the binary) and a `run` that returns the exit code.
//! Tests call the same functions the binary does.
//!
//! Proxy commands ([`record`], [`replay`], [`run`]) are async; the binary
//! runs them on a multi-threaded runtime.

pub mod audit;
pub mod bisect;
pub mod ca;
pub mod cassette;
pub mod catalog;
pub mod check;
pub mod completions;
pub mod diff;
pub mod dispatch;
pub mod man;
pub mod record;
pub mod releases;
pub mod replay;
pub mod run;
pub mod scenario;
pub mod schema;
