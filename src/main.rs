//! The `dispatch-vcr` binary: parse the flags (`cli`, private to the binary),
//! convert them once into a command's `Options`, call `cmd::<name>::run`, and
//! exit with the code it returns. Everything else is the library's.

mod cli;

use std::future::Future;
use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};
use cli::{CassetteCommand, CatalogCommand, Cli, Command, DispatchCommand, ScenarioCommand};
use dispatch_vcr::cmd::{self, cassette, dispatch};
use dispatch_vcr::{Error, Result};

/// Nothing here prints with `print!` or `eprintln!`: they panic when the
/// reader went away (`2>&1 | head -1`), and the exit code must survive that.
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help, version or a usage error (exit 2), printed the way clap does.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    init_logging();
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let _ = writeln!(std::io::stderr().lock(), "dispatch-vcr: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Run one command; `Ok` carries the exit code (0 ok, 1 failed checks, a miss or the child's status).
fn run(command: Command) -> Result<u8> {
    match command {
        Command::Ca(command) => cmd::ca::run(command.into()),
        Command::Record(args) => block_on(cmd::record::run(args.into())),
        Command::Replay(args) => {
            let command = args.command.clone();
            block_on(cmd::replay::run(args.into(), &command))
        }
        Command::Check(args) => cmd::check::run(&args.into()),
        Command::Run(args) => block_on(cmd::run::run(args.into())),
        Command::Releases(command) => cmd::releases::run(&command.into()),
        Command::Bisect(args) => block_on(cmd::bisect::run(args.into())),
        Command::Diff(args) => cmd::diff::run(&args.into()),
        Command::Audit(args) => cmd::audit::run(&args.into()),
        Command::Schema { kind } => cmd::schema::run(kind),
        Command::Completions { shell } => cmd::completions::run(shell, Cli::command()),
        Command::Man => cmd::man::run(Cli::command()),
        Command::Cassette(CassetteCommand::Recover { cassette, force }) => {
            cassette::recover::run(&cassette::recover::Options { cassette, force })
        }
        Command::Cassette(CassetteCommand::Import(args)) => cassette::import::run(args.into()),
        Command::Cassette(CassetteCommand::Export(args)) => cassette::export::run(&args.into()),
        Command::Dispatch(DispatchCommand::Plan(args)) => {
            dispatch::plan::run(&args.into(), &mut std::io::stdout(), &mut std::io::stderr())
        }
        Command::Dispatch(DispatchCommand::Send(args)) => {
            dispatch::send::run(&args.into(), &mut std::io::stdout(), &mut std::io::stderr())
        }
        Command::Catalog(CatalogCommand::Import(args)) => cmd::catalog::run(&args.into()),
        Command::Scenario(ScenarioCommand::FromOpenclaw(args)) => {
            cmd::scenario::from_openclaw::run(&args.into())
        }
    }
}

/// Run an async command on a multi-threaded runtime.
fn block_on(command: impl Future<Output = Result<u8>>) -> Result<u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::runtime(format!("cannot start the async runtime: {err}")))?
        .block_on(command)
}

/// Logs go to stderr (stdout belongs to the command's output); `RUST_LOG`
/// picks the level, warnings by default. A log line that cannot be written
/// is dropped: by default the subscriber reports that with `eprintln!`, which
/// panics on the very stderr that just failed.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false)
        .init();
}
