//! The proxies under comparison, each a process of its own: dispatch-vcr
//! (`record`, `replay`), the hudsucker peer, and mitmproxy's `mitmdump`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::Fallible;
use crate::hudsucker_peer::CA_FILE;

/// How long a peer may take to start listening.
const START_PATIENCE: Duration = Duration::from_secs(60);
/// How long a peer may take to stop after SIGINT (a recorder writes its cassette).
const STOP_PATIENCE: Duration = Duration::from_secs(120);

/// A running proxy process.
pub struct Peer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The CA its intercepted connections are signed by.
    pub ca_pem: PathBuf,
    child: Child,
    stderr: tokio::task::JoinHandle<String>,
}

/// A `kB` field of `/proc/PID/status` of process `pid`, in bytes.
pub fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    let kib: u64 = line[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

impl Peer {
    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// A `kB` field of `/proc/PID/status`, e.g. `VmHWM` (peak RSS) or `VmRSS`, in bytes.
    pub fn status_bytes(&self, field: &str) -> Option<u64> {
        status_bytes(self.pid()?, field)
    }

    /// SIGINT, then wait for the exit; returns the stderr text. While it
    /// finishes, keeps the highest `VmHWM` seen in `peak` (the peak RSS of
    /// the whole run, as the process is about to go).
    pub async fn stop(mut self, peak: &mut u64) -> Fallible<String> {
        if let Some(pid) = self.pid() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(pid as i32, libc::SIGINT);
            }
        }
        let wait = async {
            loop {
                *peak = (*peak).max(self.status_bytes("VmHWM").unwrap_or(0));
                tokio::select! {
                    status = self.child.wait() => return status,
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        };
        let status = tokio::time::timeout(STOP_PATIENCE, wait).await.map_err(|_| "peer did not stop")??;
        let stderr = self.stderr.await.unwrap_or_default();
        if !status.success() {
            return Err(format!("peer exited with {status}: {stderr}").into());
        }
        Ok(stderr)
    }
}

/// `exe`, or `exe` run by `wrapper` (e.g. `valgrind --tool=callgrind`).
pub fn wrapped(wrapper: &[String], exe: &Path) -> Command {
    match wrapper.split_first() {
        None => Command::new(exe),
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(exe);
            command
        }
    }
}

/// `dispatch-vcr ARGS` with `home` as `DISPATCH_VCR_HOME`; waits for its `listening on` line.
pub async fn dispatch_vcr(wrapper: &[String], exe: &Path, home: &Path, args: &[String]) -> Fallible<Peer> {
    let mut command = wrapped(wrapper, exe);
    command.args(args).env("DISPATCH_VCR_HOME", home).env_remove("RUST_LOG");
    let ca_pem = home.join("ca").join("ca-cert.pem");
    announced(command, ca_pem).await
}

/// The hudsucker peer: this executable with `--serve-hudsucker`.
pub async fn hudsucker(
    wrapper: &[String],
    dir: &Path,
    upstream: SocketAddr,
    upstream_ca: &Path,
) -> Fallible<Peer> {
    let mut command = wrapped(wrapper, &std::env::current_exe()?);
    command
        .arg("--serve-hudsucker")
        .args(["--upstream", &upstream.to_string()])
        .arg("--upstream-ca")
        .arg(upstream_ca)
        .arg("--dir")
        .arg(dir);
    announced(command, dir.join(CA_FILE)).await
}

/// `mitmdump` with an addon that sends every host to the upstream and
/// streams event streams and large bodies (what a user would configure).
pub async fn mitmdump(exe: &Path, dir: &Path, upstream: SocketAddr, upstream_ca: &Path) -> Fallible<Peer> {
    let addon = dir.join("bench_addon.py");
    std::fs::write(&addon, MITM_ADDON)?;
    let port = free_port()?;
    let mut command = Command::new(exe);
    command
        .args(["--listen-host", "127.0.0.1", "--listen-port", &port.to_string()])
        .args(["--set", &format!("confdir={}", dir.display())])
        .args(["--set", &format!("ssl_verify_upstream_trusted_ca={}", upstream_ca.display())])
        .args(["--set", "flow_detail=0", "--set", "termlog_verbosity=warn"])
        .arg("-s")
        .arg(&addon)
        .env("BENCH_UPSTREAM", upstream.to_string());
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let ca_pem = dir.join("mitmproxy-ca-cert.pem");
    let (child, stderr) = spawn(command)?;
    let mut peer = Peer { addr, ca_pem, child, stderr };
    let ready = async {
        while tokio::net::TcpStream::connect(addr).await.is_err() || !peer.ca_pem.exists() {
            if let Some(status) = peer.child.try_wait()? {
                return Err(format!("mitmdump exited with {status}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Fallible::Ok(())
    };
    tokio::time::timeout(START_PATIENCE, ready).await.map_err(|_| "mitmdump did not start listening")??;
    // The first stdout lines are its banner; keep draining so it never blocks.
    if let Some(stdout) = peer.child.stdout.take() {
        tokio::spawn(drain(stdout));
    }
    Ok(peer)
}

/// The mitmdump addon: route to the upstream; stream SSE and large bodies
/// instead of buffering them (mitmproxy buffers whole bodies by default).
const MITM_ADDON: &str = r#"
import os

host, port = os.environ["BENCH_UPSTREAM"].rsplit(":", 1)
UPSTREAM = (host, int(port))


def server_connect(data):
    data.server.address = UPSTREAM


def responseheaders(flow):
    content_type = flow.response.headers.get("content-type", "")
    if content_type.startswith("text/event-stream") or flow.request.path.startswith("/big"):
        flow.response.stream = True
"#;

fn spawn(mut command: Command) -> Fallible<(Child, tokio::task::JoinHandle<String>)> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = command.spawn()?;
    let mut pipe = child.stderr.take().ok_or("no stderr pipe")?;
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text).await;
        text
    });
    Ok((child, stderr))
}

/// Spawn `command` and wait for its `listening on http://ADDR` first line.
async fn announced(command: Command, ca_pem: PathBuf) -> Fallible<Peer> {
    let (mut child, stderr) = spawn(command)?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut lines = BufReader::new(stdout);
    let mut first = String::new();
    let read = tokio::time::timeout(START_PATIENCE, lines.read_line(&mut first)).await;
    let Some(addr) = first.trim().strip_prefix("listening on http://").and_then(|a| a.parse().ok()) else {
        let _ = child.start_kill();
        let stderr = stderr.await.unwrap_or_default();
        let why = if read.is_err() { "no `listening on` line in time" } else { "no `listening on` line" };
        return Err(format!("{why}: {}", stderr.trim()).into());
    };
    tokio::spawn(drain(lines));
    Ok(Peer { addr, ca_pem, child, stderr })
}

async fn drain(mut reader: impl tokio::io::AsyncRead + Unpin) {
    let _ = tokio::io::copy(&mut reader, &mut tokio::io::sink()).await;
}

/// A port free right now on 127.0.0.1 (for peers that cannot report the one they got).
fn free_port() -> Fallible<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
