//! `record`: the proxy with the recorder as its tap, answered by the network
//! or (`--stub`) by the provider stub.
//!
//! Everything that can be wrong with the input is checked before the
//! recorder opens its journal (flags, profiles, the command, the port), so a
//! usage error leaves no file behind.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cassette::{DispatcherId, Meta};
use crate::dispatch::Catalog;
use crate::openclaw::profiles::AuthStore;
use crate::proxy::{Proxy, ProxyConfig, Wiring};
use crate::recorder::{RecordSummary, Recorder, RecorderOptions};
use crate::session::child::locate_program;
use crate::upstream::Upstream;
use crate::upstream::live::{ConnectTo, Live, LiveOptions};
use crate::upstream::stub::{Stub, StubOptions};
use crate::{Error, Result, files, session};

/// What `record` was asked to do, in library terms.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The cassette to write.
    pub output: PathBuf,
    /// Listener and passthrough.
    pub proxy: ProxyConfig,
    /// `--upstream-ca` files.
    pub upstream_ca: Vec<PathBuf>,
    /// `--connect-to` rules, unparsed.
    pub connect_to: Vec<String>,
    /// `--profiles` files.
    pub profiles: Vec<PathBuf>,
    /// `--dispatcher NAME@VERSION`.
    pub dispatcher: Option<String>,
    /// `--exclude` host globs.
    pub exclude: Vec<String>,
    /// `--stub [--stub-status N]`: the provider stub answers instead of the network.
    pub stub: Option<StubOptions>,
    /// `-- CMD ARGS`, empty to record until SIGINT/SIGTERM.
    pub command: Vec<String>,
}

/// How many failed exchanges the summary lists one by one.
const FAILURES_LISTED: usize = 10;

/// Record until the command ends or until a signal. Returns the command's
/// exit code when it failed; else 3 when a recorded exchange could not reach
/// its upstream (an upstream that matters was unreachable), else 0.
pub async fn run(options: Options) -> Result<u8> {
    files::check_output("-o", &options.output, "run.json")?;
    let dispatcher = options.dispatcher.as_deref().map(parse_dispatcher).transpose()?;
    let upstream = upstream(&options)?;
    let profiles = AuthStore::load_all(&options.profiles)?;
    if !options.command.is_empty() {
        locate_program(&options.command)?;
    }
    let leaves = session::leaf_issuer()?;
    let proxy = Proxy::bind(&options.proxy).await?;
    let meta = Meta { dispatcher, ..Meta::default() };
    let recorder = Recorder::create(
        &options.output,
        RecorderOptions { meta, profiles, exclude: options.exclude, ..RecorderOptions::default() },
    )?;
    // The journal is ours now: what a killed run left beside it can go.
    crate::cassette::remove_stray_spills(&options.output);
    let wiring = Wiring { leaves, upstream, tap: recorder.tap() };
    let outcome = session::run(proxy, wiring, &options.command).await;
    // Finish even when the session failed: what was recorded is kept.
    let summary = recorder.finish().await?;
    files::say(&summary);
    for failure in summary.failed.iter().take(FAILURES_LISTED) {
        files::say(format_args!("failed: {failure}"));
    }
    if summary.failed.len() > FAILURES_LISTED {
        let more = summary.failed.len() - FAILURES_LISTED;
        files::say(format_args!("… and {more} more failed (each has its `error` in the cassette)"));
    }
    for warning in &summary.warnings {
        files::say(format_args!("warning: {warning}"));
    }
    Ok(exit_code(outcome?, &summary))
}

/// The command's status when it failed; else 3 when an exchange could not
/// reach its upstream (the contract's "upstream unreachable"), else 0. Other
/// failures (an upstream that reset the request) are listed, not an exit code.
fn exit_code(child: u8, summary: &RecordSummary) -> u8 {
    match child {
        0 if summary.unreachable > 0 => 3,
        code => code,
    }
}

/// What answers: the provider stub with `--stub`, else the network.
fn upstream(options: &Options) -> Result<Arc<dyn Upstream>> {
    if let Some(stub) = options.stub {
        let network = [
            ("--upstream-ca", options.upstream_ca.is_empty()),
            ("--connect-to", options.connect_to.is_empty()),
            ("--passthrough", options.proxy.passthrough.is_empty()),
        ];
        if let Some((flag, _)) = network.iter().find(|(_, unused)| !unused) {
            return Err(Error::input(format!("--stub answers without any network: drop {flag}")));
        }
        return Ok(Arc::new(Stub::new(Catalog::shipped()?, stub)?));
    }
    let connect_to =
        options.connect_to.iter().map(|rule| rule.parse()).collect::<Result<Vec<ConnectTo>>>()?;
    let upstream_ca = options.upstream_ca.clone();
    Ok(Arc::new(Live::new(LiveOptions { upstream_ca, connect_to })?))
}

/// `NAME@VERSION`, e.g. `openclaw@2026.5.16-beta.4`.
fn parse_dispatcher(value: &str) -> Result<DispatcherId> {
    match value.split_once('@') {
        Some((name, version)) if !name.is_empty() && !version.is_empty() && !version.contains('@') => {
            Ok(DispatcherId { name: name.to_owned(), version: version.to_owned() })
        }
        _ => Err(Error::input(format!(
            "--dispatcher `{value}`: expected NAME@VERSION, e.g. openclaw@2026.5.16-beta.4"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(failed: usize, unreachable: usize) -> RecordSummary {
        RecordSummary {
            path: PathBuf::from("c.json"),
            interactions: failed,
            excluded: 0,
            credentials: 0,
            failed: vec!["#1 GET https://a.example/: upstream connect failed: refused".into(); failed],
            unreachable,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn a_failing_child_keeps_its_status_else_an_unreachable_upstream_is_3() {
        assert_eq!(exit_code(7, &summary(1, 1)), 7);
        assert_eq!(exit_code(0, &summary(1, 1)), 3);
        assert_eq!(exit_code(0, &summary(1, 0)), 0, "reached, then failed: listed, not exit 3");
        assert_eq!(exit_code(0, &summary(0, 0)), 0);
        assert_eq!(
            summary(2, 2).to_string(),
            "recorded 2 interaction(s) into c.json, 2 failed (no answer from the upstream)"
        );
    }

    #[test]
    fn dispatcher_is_name_at_version() {
        let id = parse_dispatcher("openclaw@2026.5.16-beta.4").unwrap();
        assert_eq!((id.name.as_str(), id.version.as_str()), ("openclaw", "2026.5.16-beta.4"));
    }

    #[test]
    fn malformed_dispatcher_names_the_flag() {
        for bad in ["openclaw", "@1", "openclaw@", "a@b@c"] {
            let err = parse_dispatcher(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.message().starts_with("--dispatcher"), "{err}");
        }
    }
}
