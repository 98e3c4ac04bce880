//! dispatch-vcr: record, replay and check the model-API dispatches of AI agent gateways.
//!
//! Data flows one way (DESIGN §2):
//! `proxy → upstream → cassette` when recording and replaying, and
//! `cli → scenario → {dispatch, cassette} → report` when checking.
//!
//! - [`ca`] — the root CA and per-host leaf certificates that let the proxy intercept TLS.
//! - [`proxy`] — listener, CONNECT, TLS accept, plain-HTTP forwarding, WebSocket relay, the streaming tap.
//! - [`upstream`] — where intercepted requests go: the live network, a cassette, or a provider stub.
//! - [`session`] — a proxy run as commands share it: announce, run `-- CMD` ([`child`]) or wait for a signal.
//! - [`record`] — the `record` command: live upstream (or the provider stub) + recorder.
//! - [`replay`] — the `replay` command and its in-process handle: cassette upstream + observer.
//! - [`run`] — the `run` command: a live dispatcher on a scenario's inputs under the proxy, judged like `check`.
//! - [`cassette`] — the cassette format, loading, journal, atomic save and redaction.
//! - [`dispatch`] — the reference dispatcher: provider catalog, OpenClaw inputs, `plan()`, `send`.
//! - [`scenario`] — scenarios, observations, invariants and the version × scenario runner (`check`).
//! - [`report`] — the outcome model and its renderers: text matrix, JSON, JUnit XML.
//! - [`schema`] — JSON Schemas of the cassette and scenario formats, generated from their types.
//! - [`testing`] — for `cargo test` in other crates: replay a cassette, run code against it, check a scenario.
//! - [`credential`] — fingerprints, credential kinds and JWT claims: the vocabulary all parts share.
//! - [`exchange`] — the raw captured exchange and the `Tap` trait: the contract between proxy and recorders.
//! - [`output`] — where a command's output goes: a file, atomically, or stdout.
//! - [`progress`] — a progress bar or spinner on a terminal, nothing in pipes and CI.
//! - [`error`] — the error type and the exit codes of every command.
//! - [`version`] — dispatcher versions (OpenClaw calendar versions, semver) and version ranges.
//! - [`cli`] — clap definitions only; `main.rs` maps each command to one library function.

pub mod audit;
pub mod ca;
pub mod cassette;
pub mod child;
pub mod cli;
pub mod credential;
pub mod dispatch;
pub mod error;
pub mod exchange;
pub mod output;
pub mod progress;
pub mod proxy;
pub mod record;
pub mod replay;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod session;
pub mod testing;
pub mod upstream;
pub mod version;

pub use error::{Error, Result};
