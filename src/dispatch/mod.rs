//! The reference dispatcher: OpenClaw's dispatch as an executable model.
//!
//! - [`catalog`] — providers, apis, endpoint classes and version bands, as data.
//! - [`config`], [`profiles`], [`state`] — the files OpenClaw reads.
//! - [`inputs`] — everything a dispatch depends on, from flags, an OpenClaw home or a scenario.
//! - [`mod@plan`] — [`plan()`]: the correct dispatch and the reasoning behind it.
//! - [`command`], [`send`] — `dispatch plan` and `dispatch send`.

pub mod catalog;
pub mod command;
pub mod config;
pub mod inputs;
pub mod plan;
pub mod profiles;
pub mod send;
pub mod state;

pub use catalog::Catalog;
pub use inputs::{DispatchInputs, InputSources};
pub use plan::{DispatchError, DispatchPlan, Refusal, plan};
