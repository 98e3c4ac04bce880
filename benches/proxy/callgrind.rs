//! `--callgrind TARGET`: instructions per keep-alive request, counted by
//! valgrind, for comparing changes on a machine too busy for timings.
//!
//! Runs the target proxy (`record` or `hudsucker`) under callgrind, warms a
//! connection up, zeroes the counters, sends the requests, waits for
//! background work (the recorder) to settle, dumps, and divides. Every
//! thread of the proxy process counts, the recorder's included.

use std::path::Path;
use std::time::Duration;

use crate::load::main_host;
use crate::peers::{self, Peer};
use crate::upstream::Upstream;
use crate::{Fallible, Ours, pki, via};

/// Requests before counting starts: pools, caches and allocator warm.
const WARMUP: usize = 200;

/// Count instructions per request through `target` over `requests` requests.
/// With `keep`, the dump is copied there for `callgrind_annotate`.
pub async fn run(exe: &Path, target: &str, requests: usize, keep: Option<&Path>) -> Fallible<()> {
    let scratch = tempfile::tempdir()?;
    let out = scratch.path().join("callgrind.out");
    let wrapper = vec![
        "valgrind".to_owned(),
        "--tool=callgrind".to_owned(),
        format!("--callgrind-out-file={}", out.display()),
    ];
    let ca = pki::UpstreamCa::new(scratch.path())?;
    let upstream = Upstream::start(ca.server_config()?).await?;
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home)?;
    let peer = start(target, &wrapper, exe, &home, &upstream, &ca.pem_path).await?;
    let pid = peer.pid().ok_or("no pid")?.to_string();
    let mut conn = via(&peer)?.open(&main_host()).await?;
    for _ in 0..WARMUP {
        conn.dispatch().await?;
    }
    control(&["-z", &pid]).await?;
    for _ in 0..requests {
        conn.dispatch().await?;
    }
    drop(conn);
    tokio::time::sleep(Duration::from_secs(2)).await;
    control(&["-d", &pid]).await?;
    peer.stop(&mut 0).await?;
    let dumped = std::fs::read_dir(scratch.path())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("callgrind.out.")))
        .ok_or("no callgrind dump")?;
    if let Some(keep) = keep {
        std::fs::copy(&dumped, keep)?;
    }
    let total = instructions(&std::fs::read_to_string(&dumped)?).ok_or("no totals in the callgrind dump")?;
    println!(
        "{target}: {total} instructions over {requests} requests = {} per request",
        total / requests as u64
    );
    Ok(())
}

async fn start(
    target: &str,
    wrapper: &[String],
    exe: &Path,
    home: &Path,
    upstream: &Upstream,
    upstream_ca: &Path,
) -> Fallible<Peer> {
    match target {
        "record" => {
            let ours = Ours { wrapper, exe, home, upstream, upstream_ca };
            ours.record(&home.join("callgrind.json")).await
        }
        "hudsucker" => peers::hudsucker(wrapper, home, upstream.addr, upstream_ca).await,
        other => Err(format!("--callgrind {other}: expected record or hudsucker").into()),
    }
}

async fn control(args: &[&str]) -> Fallible<()> {
    let status = tokio::process::Command::new("callgrind_control").args(args).status().await?;
    if !status.success() {
        return Err(format!("callgrind_control {args:?}: {status}").into());
    }
    Ok(())
}

/// The `totals:` (or `summary:`) instruction count of a callgrind dump.
fn instructions(dump: &str) -> Option<u64> {
    dump.lines()
        .find_map(|line| line.strip_prefix("totals:").or_else(|| line.strip_prefix("summary:")))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}
