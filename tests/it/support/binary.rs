//! The built `dispatch-vcr`: [`BIN`], its path, for plain `Command`s, and
//! [`Bin`], runs with a private `DISPATCH_VCR_HOME` (its CA lands in
//! `home/ca/ca-cert.pem`): [`Bin::run`] runs to the end, [`Bin::spawn`]
//! starts a proxy command and reads its `listening on` line;
//! [`Running::signal`] and [`Running::wait`] stop it.

use std::net::SocketAddr;
use std::process::Stdio;

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};

use super::GUARD;

/// The path of the built binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_dispatch-vcr");

/// The built `dispatch-vcr` binary, with a private home.
pub struct Bin {
    /// `DISPATCH_VCR_HOME` for every run.
    pub home: TempDir,
}

/// A running proxy command: its `listening on` address and the process.
pub struct Running {
    /// The proxy address from the `listening on` line.
    pub addr: SocketAddr,
    /// The process (stdout after the first line and stderr are piped).
    pub child: tokio::process::Child,
    /// Stderr after the `listening on` line, when that came on stderr (`-- CMD`).
    stderr: Option<tokio::io::BufReader<tokio::process::ChildStderr>>,
}

impl Bin {
    /// A binary runner with a fresh home.
    pub fn new() -> Self {
        Self { home: tempfile::tempdir().unwrap() }
    }

    /// `dispatch-vcr ARGS` with the private home and no inherited proxy env.
    pub fn command<I, S>(&self, args: I) -> tokio::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = tokio::process::Command::new(BIN);
        command.args(args).env("DISPATCH_VCR_HOME", self.home.path()).env_remove("RUST_LOG");
        for name in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"] {
            command.env_remove(name);
        }
        command.kill_on_drop(true);
        command
    }

    /// Run to the end; stdout and stderr captured.
    pub async fn run<I, S>(&self, args: I) -> std::process::Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let output = self.command(args).stdin(Stdio::null()).output();
        tokio::time::timeout(GUARD, output).await.expect("dispatch-vcr did not finish").unwrap()
    }

    /// Start a proxy command and wait for its `listening on http://ADDR` line:
    /// the first stdout line, or on stderr with `-- CMD` (stdout is the command's).
    pub async fn spawn<I, S>(&self, args: I) -> Running
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let with_command = args.iter().any(|a| a == "--");
        let mut child = self
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Keep reading stdout so the child never blocks on a full pipe.
        let drain = |mut stdout: tokio::io::BufReader<tokio::process::ChildStdout>| {
            tokio::spawn(async move {
                let mut sink = Vec::new();
                let _ = stdout.read_to_end(&mut sink).await;
            })
        };
        let mut stdout = tokio::io::BufReader::new(stdout);
        let mut stderr = None;
        let mut first = String::new();
        if with_command {
            drain(stdout);
            let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap());
            while !first.starts_with("listening on ") {
                first.clear();
                let read = tokio::time::timeout(GUARD, lines.read_line(&mut first));
                assert_ne!(read.await.expect("no listening line").unwrap(), 0, "no listening line on stderr");
            }
            stderr = Some(lines);
        } else {
            tokio::time::timeout(GUARD, stdout.read_line(&mut first))
                .await
                .expect("no listening line")
                .unwrap();
            drain(stdout);
        }
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first stdout line: {first:?}"))
            .parse()
            .unwrap();
        Running { addr, child, stderr }
    }
}

impl Running {
    /// Send `signal` (e.g. `libc::SIGINT`) to the process.
    pub fn signal(&self, signal: i32) {
        let pid = self.child.id().unwrap() as i32;
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    /// Wait for the exit; returns the status and the stderr text.
    pub async fn wait(mut self) -> (std::process::ExitStatus, String) {
        let mut stderr = String::new();
        if let Some(mut rest) = self.stderr.take() {
            tokio::time::timeout(GUARD, rest.read_to_string(&mut stderr))
                .await
                .expect("stderr open")
                .unwrap();
        } else if let Some(mut pipe) = self.child.stderr.take() {
            tokio::time::timeout(GUARD, pipe.read_to_string(&mut stderr))
                .await
                .expect("stderr open")
                .unwrap();
        }
        let status = tokio::time::timeout(GUARD, self.child.wait()).await.expect("did not exit").unwrap();
        (status, stderr)
    }
}
