//! The `dispatch-vcr` binary: parse flags, call one library function, exit with its code.

use std::process::ExitCode;

use clap::Parser;
use dispatch_vcr::cli::{Cli, Command};
use dispatch_vcr::{Error, Result};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("dispatch-vcr: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Run one command; `Ok` carries the exit code (0 ok, 1 failed checks or child status).
fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Ca(_) | Command::Record(_) | Command::Replay(_) | Command::Check(_) => {
            Err(Error::input("this command is not built yet"))
        }
    }
}
