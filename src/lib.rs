//! dispatch-vcr: record, replay and check the model-API dispatches of AI agent gateways.
//!
//! Data flows one way, and so do the imports (docs/design.md draws both):
//! recording and replaying, `cmd → session → proxy → upstream`, the proxy
//! handing each captured exchange to a tap (`recorder → cassette`); checking,
//! `cmd → scenario → {dispatch → openclaw, cassette} → report`. Below them all,
//! a small shared vocabulary that imports nothing above it.
//!
//! Commands — one module each, every one an `Options` and a `run`:
//! - [`cmd`] — `record`, `replay`, `run`, `check`, `dispatch plan|send`, `diff`,
//!   `audit`, `cassette recover|import|export`, `ca`, `schema`, `completions`, `man`.
//!
//! Recording and replaying:
//! - `session` — a proxy run as commands share it: announce, run `-- CMD` or wait for a signal.
//! - [`proxy`] — listener, CONNECT, TLS accept, plain-HTTP forwarding, WebSocket relay, the streaming tap.
//! - [`upstream`] — where intercepted requests go: the live network, a cassette, or a provider stub.
//! - [`recorder`] — the tap that turns captured exchanges into a redacted cassette (also from a HAR).
//! - [`ca`] — the root CA and per-host leaf certificates that let the proxy intercept TLS.
//!
//! Checking:
//! - [`scenario`] — scenarios, observations, invariants and the version × scenario runner.
//! - [`dispatch`] — the reference dispatcher: provider catalog, `plan()`, `send`.
//! - [`openclaw`] — OpenClaw's own files: config, auth profiles, auth state, its log.
//! - [`report`] — the outcome model and its renderers: text matrix, JSON, JUnit XML, HTML.
//!
//! Formats and the shared vocabulary:
//! - [`cassette`] — the cassette format: model, load, save, journal, side files, HAR, diff.
//! - [`schema`] — JSON Schemas of the cassette and scenario formats, generated from their types.
//! - [`exchange`] — the raw captured exchange, the `Tap` trait, content decoding.
//! - [`credential`] — fingerprints, credential kinds, JWT claims, token shapes.
//! - [`version`] — dispatcher versions (OpenClaw calendar versions, semver) and ranges.
//! - [`error`] — the error type and the exit codes of every command.
//! - `files`, `progress`, `audit` — input files and atomic output, progress on a terminal, the secret scan.
//!
//! For other crates' tests: [`testing`] — replay a cassette, run code against it, check a scenario.

#![deny(missing_docs, unreachable_pub)]

pub mod ca;
pub mod cassette;
pub mod cmd;
pub mod credential;
pub mod dispatch;
pub mod error;
pub mod exchange;
pub mod openclaw;
pub mod proxy;
pub mod recorder;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod testing;
pub mod upstream;
pub mod version;

mod audit;
mod files;
mod progress;
mod session;

pub use error::{Error, Result};
