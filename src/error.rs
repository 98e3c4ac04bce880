//! One error type for every command, carrying the exit code of DESIGN §3.
//!
//! Errors are values that reach the user: the message must name the file,
//! line:column or flag at fault and say how to fix it. Invariant failures and
//! replay misses are *outcomes* (exit 1), not errors, so they are not here.

use std::fmt;

/// What kind of failure this is; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or usage: a malformed file, a bad flag value. Exit 2.
    Input,
    /// A runtime failure: I/O, a port in use, an upstream that matters is down. Exit 3.
    Runtime,
}

/// A user-facing error: one clear line (more lines allowed for explanations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Bad input or usage (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Input, message: message.into() }
    }

    /// Runtime or I/O failure (exit 3).
    pub fn runtime(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Runtime, message: message.into() }
    }

    /// An I/O failure on `path`, phrased for the user (exit 3).
    pub fn io(action: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::runtime(format!("cannot {action} {}: {err}", path.display()))
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The documented process exit code: 2 for bad input, 3 for runtime failures.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Input => 2,
            ErrorKind::Runtime => 3,
        }
    }

    /// Prefix the message with where it happened, keeping the kind.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Self { kind: self.kind, message: format!("{what}: {}", self.message) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_exit_2_and_runtime_errors_exit_3() {
        assert_eq!(Error::input("bad flag").exit_code(), 2);
        assert_eq!(Error::runtime("port in use").exit_code(), 3);
    }

    #[test]
    fn context_prefixes_and_keeps_kind() {
        let e = Error::input("expected `,`").context("scenarios/a.json:3:5");
        assert_eq!(e.message(), "scenarios/a.json:3:5: expected `,`");
        assert_eq!(e.kind(), ErrorKind::Input);
    }
}
