//! Scenarios and the verdict: does each dispatcher version send the right
//! request?
//!
//! A [`Scenario`] (docs/design.md, "Scenarios") holds a dispatcher's inputs, the pinned
//! expectation and one cassette per version. For each scenario × version
//! cell the [`runner`] asks the reference dispatcher for its plan
//! ([`expected`]), reduces every recorded request to an [`Observation`]
//! ([`observe`]), and judges the [`invariants`] (docs/check.md); the outcome goes
//! to [`crate::report`]. [`openclaw`] adapts the OpenClaw reference
//! dispatcher (plan and catalog) to the checks; [`dispatchers`] picks the
//! reference of a scenario's dispatcher, or judges one without a model by its pins.
//! Loading and judging run on every core (`parallel`).

pub mod dispatchers;
pub mod endpoint;
pub mod expected;
pub mod head_diff;
pub mod invariants;
pub mod load;
pub mod model;
pub mod observe;
pub mod openclaw;
mod parallel;
pub mod runner;

pub use dispatchers::{Dispatchers, Unmodelled};
pub use endpoint::Endpoint;
pub use expected::{Expected, ExpectedDispatch};
pub use model::{Bearer, Call, Expect, Judge, Scenario};
pub use observe::{Bindings, Observation, SeenCredential};
pub use runner::{Planned, Reference, check, check_cell};
