//! Running `-- CMD ARGS` under the proxy: spawn it with the proxy env,
//! forward SIGINT/SIGTERM to it, and report its exit status as ours.

use std::ffi::OsStr;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::{Error, Result};

/// SIGINT and SIGTERM, caught. Install them before announcing the proxy, so
/// a signal sent right after the `listening on` line is never fatal.
pub(crate) struct Signals {
    interrupt: Signal,
    terminate: Signal,
    received: Option<i32>,
}

impl Signals {
    /// Catch SIGINT and SIGTERM from now on.
    pub(crate) fn install() -> Result<Self> {
        let catch = |kind: SignalKind| {
            signal(kind).map_err(|err| Error::runtime(format!("cannot install a signal handler: {err}")))
        };
        Ok(Self {
            interrupt: catch(SignalKind::interrupt())?,
            terminate: catch(SignalKind::terminate())?,
            received: None,
        })
    }

    /// The next SIGINT or SIGTERM, as its number.
    pub(crate) async fn recv(&mut self) -> i32 {
        let signal = tokio::select! {
            _ = self.interrupt.recv() => libc::SIGINT,
            _ = self.terminate.recv() => libc::SIGTERM,
        };
        self.received = Some(signal);
        signal
    }

    /// The last signal caught, if any.
    pub(crate) fn received(&self) -> Option<i32> {
        self.received
    }
}

/// Check that `command` names a program that can be run, before anything
/// is started for it. Exit 2 naming the program otherwise.
pub(crate) fn locate_program(command: &[String]) -> Result<PathBuf> {
    let program = command.first().ok_or_else(|| Error::input("-- needs a command to run after it"))?;
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    find_program(program, &path_var).ok_or_else(|| {
        Error::input(format!("cannot run `{program}`: command not found (check the name, or give its path)"))
    })
}

/// Where `program` is: itself when it has a `/`, else the first executable
/// file of that name in `path_var`.
fn find_program(program: &str, path_var: &OsStr) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable(&path).then_some(path);
    }
    std::env::split_paths(path_var).map(|dir| dir.join(program)).find(|path| is_executable(path))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// A running child.
pub(crate) struct Child {
    inner: tokio::process::Child,
    program: String,
}

/// Which of our environment variables a child starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inherit {
    /// All of them (`record`, `replay`).
    All,
    /// Only these (`run`: a dispatcher must see the scenario's env, not the user's shell).
    Only(&'static [&'static str]),
}

/// Start `command` with the `inherit`ed part of our environment plus `env`
/// (later entries win); it shares our stdin, stdout and stderr.
pub(crate) fn spawn_with(command: &[String], env: &[(String, String)], inherit: Inherit) -> Result<Child> {
    let program = locate_program(command)?;
    let name = command[0].clone();
    let mut process = tokio::process::Command::new(&program);
    process.args(&command[1..]);
    if let Inherit::Only(names) = inherit {
        process.env_clear();
        process.envs(names.iter().filter_map(|name| std::env::var_os(name).map(|value| (name, value))));
    }
    let inner = process
        .envs(env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .map_err(|err| Error::input(format!("cannot run `{name}`: {err}")))?;
    Ok(Child { inner, program: name })
}

impl Child {
    /// Wait for the child, passing on each SIGINT/SIGTERM we get, and return
    /// its exit code (128 + N when a signal N ended it, as shells report).
    pub(crate) async fn wait(mut self, signals: &mut Signals) -> Result<u8> {
        loop {
            tokio::select! {
                status = self.inner.wait() => {
                    let status = status.map_err(|err| Error::runtime(format!("lost track of `{}`: {err}", self.program)))?;
                    return Ok(exit_code(status));
                }
                signal = signals.recv() => self.forward(signal),
            }
        }
    }

    fn forward(&self, signal: i32) {
        let Some(pid) = self.inner.id().and_then(|pid| libc::pid_t::try_from(pid).ok()) else { return };
        tracing::debug!(pid, signal, "forwarding signal to the child");
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child's, not yet reaped.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// The shell's view of an exit status: the code, or 128 + the signal number.
pub(crate) fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from((128 + signal) & 0xff).unwrap_or(1),
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_is_the_code_or_128_plus_the_signal() {
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGTERM)), 128 + 15);
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
    }

    #[test]
    fn programs_are_found_in_path_or_by_path() {
        let path_var = std::env::var_os("PATH").unwrap();
        assert!(find_program("sh", &path_var).is_some());
        assert!(find_program("/bin/sh", OsStr::new("")).is_some());
        assert!(find_program("no-such-program-for-dispatch-vcr", &path_var).is_none());
    }

    #[test]
    fn a_missing_command_is_a_usage_error_naming_it() {
        let err = locate_program(&["no-such-program-for-dispatch-vcr".to_owned()]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("`no-such-program-for-dispatch-vcr`"), "{err}");
    }

    #[tokio::test]
    async fn the_child_status_is_returned() {
        let mut signals = Signals::install().unwrap();
        let child = spawn_with(&["sh".into(), "-c".into(), "exit 7".into()], &[], Inherit::All).unwrap();
        assert_eq!(child.wait(&mut signals).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_child_inheriting_only_some_variables_sees_just_those_and_its_env() {
        let mut signals = Signals::install().unwrap();
        let env = [("DISPATCH_VCR_TEST_VAR".to_owned(), "42".to_owned())];
        let script =
            "test \"$DISPATCH_VCR_TEST_VAR\" = 42 && test -n \"$PATH\" && test -z \"$CARGO_PKG_NAME\"";
        let child =
            spawn_with(&["sh".into(), "-c".into(), script.into()], &env, Inherit::Only(&["PATH"])).unwrap();
        assert_eq!(child.wait(&mut signals).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn the_child_sees_the_env() {
        let mut signals = Signals::install().unwrap();
        let env = [("DISPATCH_VCR_TEST_VAR".to_owned(), "42".to_owned())];
        let child = spawn_with(
            &["sh".into(), "-c".into(), "test \"$DISPATCH_VCR_TEST_VAR\" = 42".into()],
            &env,
            Inherit::All,
        )
        .unwrap();
        assert_eq!(child.wait(&mut signals).await.unwrap(), 0);
    }
}
