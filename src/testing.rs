//! dispatch-vcr from `cargo test` in another crate: replay a cassette behind
//! the real TLS-intercepting proxy, run your code against it, and hold what
//! it sent to a scenario's invariants.
//!
//! ```no_run
//! # async fn demo() -> dispatch_vcr::Result<()> {
//! use dispatch_vcr::testing;
//!
//! let scenario = "scenarios/openclaw/codex-oauth-goes-to-chatgpt-backend.json";
//! let home = tempfile::tempdir().unwrap();
//! // The scenario's config and auth stores as files, for code that reads them.
//! let inputs = testing::materialise(scenario, home.path())?;
//! let replay = testing::replay("cassettes/openclaw/2026.5.16-beta.4/codex-oauth-goes-to-chatgpt-backend.json").await?;
//! // … point your client at replay.proxy_url(), trusting replay.ca_pem() …
//! let traffic = replay.finish().await?;
//! testing::assert_holds(&traffic.check(scenario, "2026.5.16-beta.4")?);
//! # Ok(()) }
//! ```
//!
//! Each [`Replayed`] has a CA of its own in a temporary folder (nothing is
//! read from or written to `~/.dispatch-vcr`), listens on `127.0.0.1:0`, never
//! opens an upstream connection (a request the cassette lacks gets an
//! explained 502 and counts as a miss), and keeps what the client sent as a
//! redacted cassette, which [`Traffic::check`] judges with the OpenClaw
//! reference dispatcher exactly as `dispatch-vcr check` would.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::cassette::{self, Cassette};
use crate::cmd::replay::{self, ReplayHandle, ReplaySummary};
use crate::cmd::run::home::{self, Home};
use crate::dispatch::catalog::Catalog;
use crate::dispatch::inputs::DispatchInputs;
use crate::error::{Error, Result};
use crate::recorder::redact::Redactor;
use crate::report::{self, CellOutcome, Report, Verdict};
use crate::scenario::{load, openclaw::OpenClaw, runner};
use crate::version::Version;

/// A cassette served by a replay proxy in the background. Stop it with [`Self::finish`].
pub struct Replayed {
    handle: ReplayHandle,
    observed: PathBuf,
    // Holds the CA and the observed cassette until the replay is finished.
    _dir: TempDir,
}

/// Start replaying `cassette`: when this returns the proxy listens.
pub async fn replay(cassette: impl AsRef<Path>) -> Result<Replayed> {
    let dir = tempfile::Builder::new()
        .prefix("dispatch-vcr-test-")
        .tempdir()
        .map_err(|e| Error::runtime(format!("cannot create a temporary folder for the replay: {e}")))?;
    let observed = dir.path().join("observed.json");
    let options = replay::Options {
        cassette: cassette.as_ref().to_owned(),
        observed: Some(observed.clone()),
        home: Some(dir.path().join("home")),
        ..replay::Options::default()
    };
    let handle = crate::cmd::replay::start(options).await?;
    Ok(Replayed { handle, observed, _dir: dir })
}

impl Replayed {
    /// `http://127.0.0.1:PORT`: the HTTP proxy to send requests through (CONNECT for https).
    pub fn proxy_url(&self) -> &str {
        self.handle.proxy_url()
    }

    /// The CA certificate (PEM) a client must trust for the proxy's certificates.
    pub fn ca_pem(&self) -> &Path {
        self.handle.ca_pem_path()
    }

    /// The environment a child process needs (`HTTPS_PROXY`, `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`, …).
    pub fn env(&self) -> &[(String, String)] {
        self.handle.env()
    }

    /// Stop the proxy and return what the client sent, and what the replay made of it.
    pub async fn finish(self) -> Result<Traffic> {
        let summary = self.handle.finish().await?;
        let cassette = cassette::load(&self.observed)?;
        Ok(Traffic { summary, cassette })
    }
}

/// What a client sent during a replay.
#[derive(Debug, Clone)]
pub struct Traffic {
    /// Served, missed and unused interactions.
    pub summary: ReplaySummary,
    /// The requests as a cassette (secrets as fingerprints), with the answers the replay gave.
    pub cassette: Cassette,
}

impl Traffic {
    /// Judge the traffic against `scenario` at dispatcher `version` (all
    /// invariants, with the OpenClaw reference dispatcher and the shipped
    /// catalog), as `dispatch-vcr run` judges a live dispatcher: the
    /// scenario's credentials are bound to their profiles as that version
    /// names them.
    pub fn check(&self, scenario: impl AsRef<Path>, version: &str) -> Result<CellOutcome> {
        let path = scenario.as_ref();
        let scenario = load::load(path)?;
        let version: Version =
            version.parse().map_err(|e| Error::input(format!("version {version:?}: {e}")))?;
        let catalog = Catalog::shipped()?;
        let inputs = DispatchInputs::from_scenario_inputs(&scenario.inputs, Some(version.clone()))
            .map_err(|e| e.context(path.display()))?;
        let store = crate::cmd::run::renamed_store(&inputs, &catalog, &version);
        let mut cassette = self.cassette.clone();
        // The observer saw the secrets but not whose they are; the scenario knows.
        cassette.meta.credentials.extend(Redactor::new(&[store]).profile_facts());
        let reference = OpenClaw::new(catalog);
        runner::check_cell(&scenario, &version, &cassette, "the replayed traffic", &reference)
    }
}

/// Write `scenario`'s inputs (config, auth stores, fixture tokens minted)
/// under `home` in OpenClaw's layout, for code under test that reads them.
pub fn materialise(scenario: impl AsRef<Path>, home: &Path) -> Result<Home> {
    home::materialise(&load::load(scenario.as_ref())?.inputs, home)
}

/// Panic, with the cell explained as `dispatch-vcr check` explains it, unless
/// the cell passed (or failed as a listed known failure, or is fixed).
pub fn assert_holds(cell: &CellOutcome) {
    if matches!(cell.verdict, Verdict::Fail | Verdict::ReferenceFailure) {
        let scenario = report::ScenarioOutcome {
            name: "scenario".into(),
            path: String::new(),
            about: None,
            source: None,
            first_bad_version: None,
            cells: vec![cell.clone()],
        };
        let text = report::text::render(&Report::new(vec![scenario], None), false);
        panic!("the dispatch does not hold:\n{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(verdict: Verdict) -> CellOutcome {
        CellOutcome::new("1", "c", verdict)
    }

    #[test]
    fn passing_known_and_fixed_cells_hold() {
        for verdict in [Verdict::Pass, Verdict::ExpectedFailure, Verdict::Fixed] {
            assert_holds(&cell(verdict));
        }
    }

    #[test]
    #[should_panic(expected = "the dispatch does not hold")]
    fn a_failing_cell_panics_with_its_explanation() {
        assert_holds(&cell(Verdict::Fail));
    }
}
