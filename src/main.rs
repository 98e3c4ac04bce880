//! The `dispatch-vcr` binary: parse flags, call one library function, exit with its code.

use std::future::Future;
use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use dispatch_vcr::cli::{
    self, AuditArgs, CaCommand, CassetteCommand, CheckArgs, Cli, Command, DispatchCommand, EnvFormat,
    ProxyArgs, RecordArgs, ReplayArgs, ReportFormat, RunArgs,
};
use dispatch_vcr::dispatch::profiles::AuthStore;
use dispatch_vcr::dispatch::{self, InputSources};
use dispatch_vcr::proxy::ProxyConfig;
use dispatch_vcr::record::{RecordOptions, record};
use dispatch_vcr::replay::{OnMiss, Pace, ReplayOptions, replay};
use dispatch_vcr::report;
use dispatch_vcr::run::{self, RunOptions};
use dispatch_vcr::scenario::runner::{self, CheckOptions};
use dispatch_vcr::upstream::stub::StubOptions;
use dispatch_vcr::{Error, Result, audit, ca, cassette, schema};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
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
        Command::Ca(command) => print(ca_command(command)?),
        Command::Record(args) => block_on(record(record_options(args))),
        Command::Replay(args) => {
            let command = args.command.clone();
            block_on(replay(replay_options(args), &command))
        }
        Command::Check(args) => runner::check_command(&check_options(args)),
        Command::Run(args) => block_on(run::run(run_options(args))),
        Command::Completions { shell } => write_bytes(&cli::completions(shell)),
        Command::Man => write_bytes(&cli::man_page()),
        Command::Schema { kind } => print(match kind {
            cli::SchemaKind::Cassette => schema::Kind::Cassette.schema(),
            cli::SchemaKind::Scenario => schema::Kind::Scenario.schema(),
        }),
        Command::Diff(args) => {
            let diff = cassette::diff_files(&args.a, &args.b)?;
            print!("{diff}");
            Ok(diff.exit_code())
        }
        Command::Audit(args) => run_audit(&args),
        Command::Cassette(CassetteCommand::Recover { cassette }) => {
            println!("{}", cassette::recover(&cassette)?);
            Ok(0)
        }
        Command::Cassette(CassetteCommand::Import(args)) => har_import(args),
        Command::Cassette(CassetteCommand::Export(args)) => {
            cassette::har::export_command(&args.cassette, args.output.as_deref())
        }
        Command::Dispatch(DispatchCommand::Plan(args)) => {
            let options = dispatch::command::PlanOptions {
                sources: input_sources(&args.inputs),
                catalog: args.inputs.catalog,
                format: match args.format {
                    cli::PlanFormat::Text => dispatch::command::PlanFormat::Text,
                    cli::PlanFormat::Json => dispatch::command::PlanFormat::Json,
                },
            };
            dispatch::command::plan_command(&options, &mut std::io::stdout(), &mut std::io::stderr())
        }
        Command::Dispatch(DispatchCommand::Send(args)) => {
            let options = dispatch::send::SendOptions {
                sources: input_sources(&args.inputs),
                catalog: args.inputs.catalog,
                proxy: args.proxy,
                ca: args.ca,
            };
            dispatch::send::send_command(&options, &mut std::io::stdout(), &mut std::io::stderr())
        }
    }
}

fn ca_command(command: CaCommand) -> Result<String> {
    match command {
        CaCommand::Init { force } => ca::init_command(force),
        CaCommand::Show => ca::show_command(),
        CaCommand::Env { proxy, format } => {
            let format = match format {
                EnvFormat::Sh => ca::EnvFormat::Sh,
                EnvFormat::Json => ca::EnvFormat::Json,
            };
            ca::env_command(&proxy, format)
        }
    }
}

fn input_sources(args: &cli::DispatchInputArgs) -> InputSources {
    InputSources {
        scenario: args.scenario.clone(),
        config: args.config.clone(),
        profiles: args.profiles.clone(),
        state: args.state.clone(),
        env: args.env.clone(),
        agent: args.agent.clone(),
        model: args.model.clone(),
        version: args.version.clone(),
        now_ms: args.now,
    }
}

fn har_import(args: cli::ImportArgs) -> Result<u8> {
    let profiles = args.profiles.iter().map(|p| AuthStore::load(p)).collect::<Result<Vec<_>>>()?;
    let options = cassette::har::ImportOptions { har: args.har, output: args.output, profiles };
    eprintln!("dispatch-vcr: {}", cassette::har::import(&options)?);
    Ok(0)
}

fn run_audit(args: &AuditArgs) -> Result<u8> {
    let stores = args.profiles.iter().map(|p| AuthStore::load(p)).collect::<Result<Vec<_>>>()?;
    let report = audit::audit(&args.paths, &audit::known_secrets(&stores))?;
    print!("{report}");
    Ok(report.exit_code())
}

/// `check` flags as the library's options.
fn check_options(args: CheckArgs) -> CheckOptions {
    let format = report_format(args.format, args.output.is_some());
    CheckOptions { paths: args.paths, format, output: args.output, shard: args.shard, catalog: args.catalog }
}

fn report_format(format: ReportFormat, to_file: bool) -> report::Format {
    match format {
        ReportFormat::Text => report::Format::Text { color: report::text::use_color(to_file) },
        ReportFormat::Json => report::Format::Json,
        ReportFormat::Junit => report::Format::Junit,
        ReportFormat::Html => report::Format::Html,
    }
}

fn run_options(args: RunArgs) -> RunOptions {
    RunOptions {
        format: report_format(args.format, args.output.is_some()),
        scenario: args.scenario,
        version: args.version,
        stub: stub_options(&args.stub),
        record_to: args.record_to,
        home: args.home,
        exclude: args.exclude,
        proxy: ProxyConfig { listen: args.listen, ..ProxyConfig::default() },
        output: args.output,
        catalog: args.catalog,
        command: args.command,
    }
}

fn record_options(args: RecordArgs) -> RecordOptions {
    RecordOptions {
        output: args.output,
        proxy: proxy_config(&args.proxy),
        upstream_ca: args.proxy.upstream_ca,
        connect_to: args.proxy.connect_to,
        profiles: args.profiles,
        dispatcher: args.dispatcher,
        exclude: args.exclude,
        stub: stub_options(&args.stub),
        command: args.command,
    }
}

fn replay_options(args: ReplayArgs) -> ReplayOptions {
    ReplayOptions {
        cassette: args.cassette,
        proxy: proxy_config(&args.proxy),
        on_miss: match args.on_miss {
            cli::OnMiss::Error => OnMiss::Error,
            cli::OnMiss::Forward => OnMiss::Forward,
        },
        upstream_ca: args.proxy.upstream_ca,
        connect_to: args.proxy.connect_to,
        repeat: args.repeat,
        pace: match args.pace {
            cli::Pace::Recorded => Pace::Recorded,
            cli::Pace::None => Pace::None,
        },
        emulate_auth: args.emulate_auth,
        observed: args.observed,
        echo_misses: true,
        ..ReplayOptions::default()
    }
}

fn stub_options(args: &cli::StubArgs) -> Option<StubOptions> {
    args.stub.then_some(StubOptions { status: args.stub_status })
}

fn proxy_config(args: &ProxyArgs) -> ProxyConfig {
    ProxyConfig {
        listen: args.listen.clone(),
        allow_remote: args.allow_remote,
        passthrough: args.passthrough.clone(),
    }
}

fn write_bytes(bytes: &[u8]) -> Result<u8> {
    dispatch_vcr::output::write(None, &String::from_utf8_lossy(bytes))?;
    Ok(0)
}

fn print(text: String) -> Result<u8> {
    print!("{text}");
    Ok(0)
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
/// picks the level, warnings by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
