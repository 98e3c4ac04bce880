//! `replay`: the proxy answering from a cassette ([`Replay`]) instead of the
//! network, optionally writing what the client sent (`--observed`) through
//! the same recorder `record` uses, so the observed cassette is redacted
//! exactly like a recording.
//!
//! Two ways in:
//! - [`run`] — the command: serve until `-- CMD` ends (its status, but 1
//!   when a request missed and it succeeded) or until SIGINT/SIGTERM (1 when
//!   a request missed), then print the summary on stderr.
//! - [`start`] → [`ReplayHandle`] → [`ReplayHandle::finish`] — in-process,
//!   for `run` and tests: the proxy serves in the background while the caller
//!   drives clients with [`ReplayHandle::env`].
//!
//! Everything that can be wrong with the input is checked before the proxy
//! listens: the cassette (exit 2 naming file and line:column), flags, the
//! command; the observed cassette's journal is opened last, so a usage error
//! leaves no file behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::ca::{home_dir, proxy_env};
use crate::cassette::Meta;
use crate::dispatch::catalog::Catalog;
use crate::exchange::{Exchange, Tap};
use crate::openclaw::profiles::AuthStore;
use crate::proxy::{Proxy, ProxyConfig, Served, Wiring};
use crate::recorder::{Recorder, RecorderOptions};
use crate::session::child::locate_program;
use crate::upstream::Upstream;
use crate::upstream::live::{ConnectTo, Live, LiveOptions};
pub use crate::upstream::replay::explain::Miss;
pub use crate::upstream::replay::{Pace, Replay, ReplayConfig, ReplaySummary, Unused};
use crate::{Error, Result, session};

/// What `replay` does with a request the cassette lacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OnMiss {
    /// Answer an explained `502`; never open an upstream connection.
    #[default]
    Error,
    /// Send it to the network (with `connect_to` and `upstream_ca`).
    Forward,
}

/// What `replay` was asked to do, in library terms.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The cassette to serve.
    pub cassette: PathBuf,
    /// Listener and passthrough.
    pub proxy: ProxyConfig,
    /// What a miss gets.
    pub on_miss: OnMiss,
    /// `--upstream-ca` files, for `OnMiss::Forward`.
    pub upstream_ca: Vec<PathBuf>,
    /// `--connect-to` rules, unparsed, for `OnMiss::Forward` (checked in any mode).
    pub connect_to: Vec<String>,
    /// `--repeat`.
    pub repeat: bool,
    /// `--pace`.
    pub pace: Pace,
    /// `--emulate-auth`.
    pub emulate_auth: bool,
    /// A catalog correcting the shipped one, for `--emulate-auth`'s provider answers.
    pub catalog: Option<PathBuf>,
    /// `--observed FILE`: write what the client sent as a cassette.
    pub observed: Option<PathBuf>,
    /// Auth-profile stores naming the fingerprints of the observed cassette
    /// (`meta.credentials[…].profile`), as `record --profiles` does.
    pub profiles: Vec<AuthStore>,
    /// The dispatch-vcr home holding the CA; `None`: `$DISPATCH_VCR_HOME`, else `~/.dispatch-vcr`.
    pub home: Option<PathBuf>,
    /// Print each miss's explanation on stderr as it happens (the command does).
    pub echo_misses: bool,
}

/// Serve the cassette until `command` ends (returning its exit code, or 1
/// when it succeeded but a request missed) or, without a command, until
/// SIGINT/SIGTERM (0, or 1 when a request missed). The summary goes to stderr.
pub async fn run(options: Options, command: &[String]) -> Result<u8> {
    if !command.is_empty() {
        locate_program(command)?;
    }
    let prepared = prepare(options).await?;
    let wiring = prepared.wiring();
    let Prepared { proxy, replay, observer, .. } = prepared;
    let outcome = session::run(proxy, wiring, command).await;
    // Conclude even when the session failed: what was observed is kept.
    let summary = conclude(&replay, observer).await;
    let code = outcome?;
    let summary = summary?;
    crate::files::say(&summary);
    Ok(exit_code(code, &summary))
}

/// The command's exit code: the child's when it failed, else 1 for misses.
fn exit_code(child: u8, summary: &ReplaySummary) -> u8 {
    if child == 0 { summary.exit_code() } else { child }
}

/// Start replaying in the background: the proxy listens when this returns.
pub async fn start(options: Options) -> Result<ReplayHandle> {
    let prepared = prepare(options).await?;
    let wiring = prepared.wiring();
    let Prepared { proxy, replay, observer, .. } = prepared;
    let proxy_url = format!("http://{}", proxy.local_addr()?);
    let ca = wiring.leaves.ca().clone();
    let env = proxy_env(&ca, &proxy_url)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(proxy.serve(wiring, async move {
        let _ = stopped.await;
    }));
    Ok(ReplayHandle {
        proxy_url,
        ca_pem_path: ca.paths().cert.clone(),
        env,
        replay,
        observer,
        stop: Some(stop),
        serving: Some(serving),
    })
}

/// A replay serving in the background. Call [`Self::finish`] to stop it and
/// learn what happened; dropped without it, the proxy stops and an observed
/// cassette is left as its journal.
pub struct ReplayHandle {
    proxy_url: String,
    ca_pem_path: PathBuf,
    env: Vec<(String, String)>,
    replay: Arc<Replay>,
    observer: Option<Recorder>,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<Result<Served>>>,
}

impl ReplayHandle {
    /// `http://127.0.0.1:PORT`: the proxy to point clients at.
    pub fn proxy_url(&self) -> &str {
        &self.proxy_url
    }

    /// The CA certificate (PEM) clients must trust.
    pub fn ca_pem_path(&self) -> &Path {
        &self.ca_pem_path
    }

    /// The environment a child needs to use the proxy and trust the CA
    /// (`HTTPS_PROXY`, `NO_PROXY`, `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`, …).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// What happened so far (the observed cassette is not written yet).
    pub fn summary(&self) -> ReplaySummary {
        self.replay.summary()
    }

    /// Stop the proxy (in-flight exchanges get their grace), write the
    /// observed cassette, and return the summary.
    pub async fn finish(mut self) -> Result<ReplaySummary> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(serving) = self.serving.take() {
            serving
                .await
                .map_err(|err| Error::runtime(format!("the replay proxy stopped abnormally: {err}")))??;
        }
        conclude(&self.replay, self.observer.take()).await
    }
}

impl Drop for ReplayHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Everything a replay needs, checked, with the proxy bound.
struct Prepared {
    proxy: Proxy,
    leaves: Arc<crate::ca::LeafIssuer>,
    replay: Arc<Replay>,
    observer: Option<Recorder>,
}

impl Prepared {
    fn wiring(&self) -> Wiring {
        let tap = match &self.observer {
            Some(observer) => observer.tap(),
            None => Arc::new(Unobserved),
        };
        Wiring { leaves: self.leaves.clone(), upstream: self.replay.clone(), tap }
    }
}

/// The tap when nothing is observed.
struct Unobserved;

impl Tap for Unobserved {
    fn record(&self, _exchange: Exchange) {}
}

async fn prepare(options: Options) -> Result<Prepared> {
    if let Some(observed) = &options.observed {
        crate::files::check_output("--observed", observed, "observed.json")?;
    }
    let connect_to =
        options.connect_to.iter().map(|rule| rule.parse()).collect::<Result<Vec<ConnectTo>>>()?;
    // Offline, nothing that could reach the network is even built.
    let forward_misses = match options.on_miss {
        OnMiss::Error => None,
        OnMiss::Forward => {
            Some(Arc::new(Live::new(LiveOptions { upstream_ca: options.upstream_ca, connect_to })?)
                as Arc<dyn Upstream>)
        }
    };
    let emulate_auth =
        if options.emulate_auth { Some(Arc::new(Catalog::load(options.catalog.as_deref())?)) } else { None };
    let config = ReplayConfig {
        repeat: options.repeat,
        pace: options.pace,
        emulate_auth,
        forward_misses,
        echo_misses: options.echo_misses,
    };
    let replay = Arc::new(Replay::load(&options.cassette, config)?);
    let home = match options.home {
        Some(home) => home,
        None => home_dir()?,
    };
    let leaves = session::leaf_issuer_in(&home)?;
    let proxy = Proxy::bind(&options.proxy).await?;
    let observer = match &options.observed {
        Some(path) => Some(observer(path, &options.cassette, options.profiles)?),
        None => None,
    };
    Ok(Prepared { proxy, leaves, replay, observer })
}

/// The recorder writing `path`, labelled with the cassette it replays.
fn observer(path: &Path, cassette: &Path, profiles: Vec<AuthStore>) -> Result<Recorder> {
    let labels = BTreeMap::from([("replay_of".to_owned(), cassette.display().to_string())]);
    let meta = Meta { labels, ..Meta::default() };
    Recorder::create(path, RecorderOptions { output_flag: "--observed", meta, profiles, exclude: Vec::new() })
}

/// The summary, with the observed cassette written.
async fn conclude(replay: &Replay, observer: Option<Recorder>) -> Result<ReplaySummary> {
    let mut summary = replay.summary();
    if let Some(observer) = observer {
        let written = observer.finish().await?;
        summary.observed = Some(written.path);
        summary.warnings.extend(written.warnings);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(misses: usize) -> ReplaySummary {
        let miss = Miss { request: "GET https://a.example/".into(), used_up: None, nearest: None };
        ReplaySummary {
            interactions: 1,
            served: 0,
            misses: vec![miss; misses],
            unused: Vec::new(),
            forwarded: Vec::new(),
            unauthorized: Vec::new(),
            observed: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn a_failing_child_keeps_its_status() {
        assert_eq!(exit_code(7, &summary(1)), 7);
        assert_eq!(exit_code(7, &summary(0)), 7);
    }

    #[test]
    fn a_succeeding_child_or_a_signal_exits_1_on_misses() {
        assert_eq!(exit_code(0, &summary(1)), 1);
        assert_eq!(exit_code(0, &summary(0)), 0);
    }
}
