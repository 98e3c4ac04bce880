//! A proxy session, as `record`, `replay` and `run` share it: announce the
//! proxy, then either run `-- CMD` under it (and stop when it exits, with its
//! status) or serve until SIGINT/SIGTERM.

pub(crate) mod child;

use std::path::Path;
use std::sync::Arc;

use self::child::{Inherit, Signals};
use crate::ca::{LeafIssuer, ensure, home_dir, proxy_env};
use crate::proxy::{Proxy, Served, Wiring};
use crate::{Result, files};

/// The leaf issuer of the home's CA, creating the CA on first use.
pub(crate) fn leaf_issuer() -> Result<Arc<LeafIssuer>> {
    leaf_issuer_in(&home_dir()?)
}

/// The leaf issuer of the CA in `home`, creating the CA on first use
/// (for callers that embed a proxy with a home of their own).
pub(crate) fn leaf_issuer_in(home: &Path) -> Result<Arc<LeafIssuer>> {
    let ca = ensure(home)?;
    Ok(Arc::new(LeafIssuer::new(Arc::new(ca))?))
}

/// Serve `proxy` with `wiring`. Announces `listening on http://ADDR`: as the
/// first stdout line without a command; on stderr with one, so that stdout is
/// the command's own. With a `command`, runs it with the proxy environment and
/// returns its exit code once it ends; without, serves until SIGINT/SIGTERM
/// and returns 0, or 128 + the signal's number ([`interrupted`]) when the
/// stop cut exchanges short. Either way the proxy has stopped (in-flight
/// exchanges given their grace, then cut short) when this returns, so the
/// tap has everything.
pub(crate) async fn run(proxy: Proxy, wiring: Wiring, command: &[String]) -> Result<u8> {
    Ok(run_with(proxy, wiring, command, &ChildSetup::default()).await?.code)
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ended {
    /// The exit code: the command's, or as [`run`] says without one.
    pub code: u8,
    /// The SIGINT or SIGTERM we caught (and passed on to the command), if one came.
    pub signal: Option<i32>,
}

/// What a child gets besides the proxy environment.
#[derive(Debug, Clone)]
pub(crate) struct ChildSetup {
    /// Variables set for it (`HOME`, a scenario's env…); the proxy and trust
    /// variables are set after them, so the child always goes through the proxy.
    pub env: Vec<(String, String)>,
    /// Which of our own variables it keeps.
    pub inherit: Inherit,
    /// Whether to print the `listening on` line (not for the steps of a
    /// command that says what it does itself, as `bisect`).
    pub announce: bool,
}

impl Default for ChildSetup {
    fn default() -> Self {
        Self { env: Vec::new(), inherit: Inherit::All, announce: true }
    }
}

/// [`run`], with the child's environment made by `setup`, saying whether a signal came.
pub(crate) async fn run_with(
    proxy: Proxy,
    wiring: Wiring,
    command: &[String],
    setup: &ChildSetup,
) -> Result<Ended> {
    let mut signals = Signals::install()?;
    let url = format!("http://{}", proxy.local_addr()?);
    let mut env = setup.env.clone();
    env.extend(proxy_env(wiring.leaves.ca(), &url)?);
    if setup.announce {
        announce(&url, !command.is_empty())?;
    }
    if command.is_empty() {
        let mut signal = 0;
        let served = proxy
            .serve(wiring, async {
                signal = signals.recv().await;
                tracing::info!(signal, "stopping");
            })
            .await?;
        return Ok(Ended { code: interrupted(signal, served), signal: Some(signal) });
    }
    let child = child::spawn_with(command, &env, setup.inherit)?;
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = proxy.serve(wiring, async move {
        let _ = stopped_rx.await;
    });
    let waiting = async move {
        let code = child.wait(&mut signals).await;
        let _ = stopped_tx.send(());
        code.map(|code| Ended { code, signal: signals.received() })
    };
    let (served, ended) = tokio::join!(serving, waiting);
    served?;
    ended
}

/// The exit code of a run stopped by `signal`: 128 + its number (as a shell
/// reports a process the signal ended) when the stop cut exchanges short,
/// saying so on stderr, else 0.
fn interrupted(signal: i32, served: Served) -> u8 {
    if served.cut_short == 0 {
        return 0;
    }
    let n = served.cut_short;
    files::write_stderr(&format!(
        "interrupted: {n} exchange{} still under way {} kept cut short, with what went through\n",
        if n == 1 { "" } else { "s" },
        if n == 1 { "was" } else { "were" },
    ));
    u8::try_from(128 + signal).unwrap_or(1)
}

/// `listening on URL`, flushed at once (scripts wait for it): the first stdout
/// line when we serve alone; on stderr when a command runs, whose stdout is
/// its own (`replay x.json -- curl … > out.txt` holds curl's output only).
/// A reader that went away is no reason to stop.
fn announce(url: &str, with_command: bool) -> Result<()> {
    let line = format!("listening on {url}\n");
    if with_command {
        files::write_stderr(&line);
        return Ok(());
    }
    files::write_stdout(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_that_cut_exchanges_short_exits_128_plus_the_signal() {
        assert_eq!(interrupted(libc::SIGINT, Served { cut_short: 0 }), 0);
        assert_eq!(interrupted(libc::SIGINT, Served { cut_short: 2 }), 130);
        assert_eq!(interrupted(libc::SIGTERM, Served { cut_short: 1 }), 143);
    }
}
