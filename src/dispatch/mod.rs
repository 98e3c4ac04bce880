//! The reference dispatcher: OpenClaw's dispatch as an executable model.
//!
//! - [`catalog`] — providers, apis, endpoint classes and version bands, as data.
//! - [`release`] — facts imported from a release: the providers it bundles, their endpoints,
//!   env vars, auth choices and models; [`manifest`] reads them from the release's plugin manifests.
//! - [`inputs`] — everything a dispatch depends on, from flags, an OpenClaw home or a scenario
//!   (OpenClaw's own files are read by [`crate::openclaw`]).
//! - [`mod@plan`] — [`plan()`]: the correct dispatch and the reasoning behind it.
//! - [`send`] — the planned request sent for real, through a proxy.

pub mod catalog;
pub mod inputs;
pub mod manifest;
pub mod plan;
pub mod release;
pub mod send;

pub use catalog::Catalog;
pub use inputs::{DispatchInputs, InputSources};
pub use plan::{
    DispatchError, DispatchPlan, EmbeddingsPlan, ImagesPlan, Refusal, plan, plan_embeddings, plan_images,
};
