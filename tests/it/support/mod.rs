//! What the topics share: real sockets on 127.0.0.1, real TLS, no clocks.
//! Topics `use crate::support::*` or name the items they need. One concern a
//! file:
//!
//! - [`tls`] — [`TestCa`], a CA made for one test (server leaves, its PEM to
//!   pass as `--upstream-ca` or `--cacert`), and [`client_tls`], a client
//!   config trusting one PEM.
//! - [`upstream`] — [`TestUpstream`], the local server posing as the
//!   providers (its routes are listed there), and what it answers.
//! - [`proxy`] — [`TestProxy`], the library proxy in-process, capturing into
//!   a [`CollectingTap`].
//! - [`client`] — clients through a proxy: CONNECT tunnels, TLS over them,
//!   [`ProxiedClient`] (HTTP/1.1 or HTTP/2) and WebSockets.
//! - [`binary`] — the built `dispatch-vcr`: [`BIN`] for plain commands,
//!   [`Bin`] for runs with a private home, [`Running`] for proxy commands.
//! - [`fixtures`] — the repository's files ([`root`]), [`unique`] values,
//!   fixture tokens, and [`update_committed`] for the opt-in rewrites.
//! - [`npm`] — [`FakeNpm`], a stand-in npm that installs a stand-in
//!   OpenClaw, for `releases`, `run --openclaw` and `bisect` offline.
//!
//! And [`GUARD`], the hang guard every wait uses.

use std::time::Duration;

mod binary;
mod client;
mod fixtures;
mod npm;
mod proxy;
mod tls;
mod upstream;

pub use binary::*;
pub use client::*;
pub use fixtures::*;
pub use npm::*;
pub use proxy::*;
pub use tls::*;
pub use upstream::*;

/// How long a test waits for something that should happen at once before
/// failing: a guard against hangs, never a timing assertion.
pub const GUARD: Duration = Duration::from_secs(20);
