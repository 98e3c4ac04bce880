//! Flags → each command's library `Options`, once, in one place.

use dispatch_vcr::cmd;
use dispatch_vcr::dispatch::InputSources;
use dispatch_vcr::proxy::ProxyConfig;
use dispatch_vcr::upstream::stub::StubOptions;

use super::{
    AuditArgs, BisectArgs, CaCommand, CatalogImportArgs, CheckArgs, DiffArgs, DispatchInputArgs,
    DispatchPlanArgs, DispatchSendArgs, ExportArgs, FromOpenClawArgs, ImportArgs, ProxyArgs, RecordArgs,
    ReleasesCommand, ReplayArgs, RunArgs, StubArgs,
};

impl From<CaCommand> for cmd::ca::Options {
    fn from(command: CaCommand) -> Self {
        match command {
            CaCommand::Init { force } => Self::Init { force },
            CaCommand::Show => Self::Show,
            CaCommand::Env { proxy, format } => Self::Env { proxy, format },
        }
    }
}

impl From<RecordArgs> for cmd::record::Options {
    fn from(args: RecordArgs) -> Self {
        Self {
            output: args.output,
            proxy: ProxyConfig::from(&args.proxy),
            upstream_ca: args.proxy.upstream_ca,
            connect_to: args.proxy.connect_to,
            profiles: args.profiles,
            dispatcher: args.dispatcher,
            exclude: args.exclude,
            stub: args.stub.into(),
            command: args.command,
        }
    }
}

impl From<ReplayArgs> for cmd::replay::Options {
    fn from(args: ReplayArgs) -> Self {
        Self {
            cassette: args.cassette,
            proxy: ProxyConfig::from(&args.proxy),
            on_miss: args.on_miss,
            upstream_ca: args.proxy.upstream_ca,
            connect_to: args.proxy.connect_to,
            repeat: args.repeat,
            pace: args.pace,
            emulate_auth: args.emulate_auth,
            observed: args.observed,
            echo_misses: true,
            ..Self::default()
        }
    }
}

impl From<RunArgs> for cmd::run::Options {
    fn from(args: RunArgs) -> Self {
        Self {
            format: args.format,
            scenario: args.scenario,
            version: args.version,
            stub: args.stub.then_some(StubOptions { status: args.stub_status }),
            record_to: args.record_to,
            home: args.home,
            exclude: args.exclude,
            proxy: ProxyConfig { listen: args.listen, ..ProxyConfig::default() },
            output: args.output,
            catalog: args.catalog,
            command: args.command,
            openclaw: args.openclaw.then_some(cmd::run::OpenClawTurn { cache: args.cache }),
            quiet: false,
        }
    }
}

impl From<ReleasesCommand> for cmd::releases::Options {
    fn from(command: ReleasesCommand) -> Self {
        match command {
            ReleasesCommand::List { stable, from, to, shard, quiet, cache } => {
                Self::List(cmd::releases::ListOptions { stable, from, to, shard, quiet, cache })
            }
            ReleasesCommand::Install { version, codex, cache } => Self::Install { version, codex, cache },
        }
    }
}

impl From<BisectArgs> for cmd::bisect::Options {
    fn from(args: BisectArgs) -> Self {
        Self {
            scenario: args.scenario,
            good: args.good,
            bad: args.bad,
            betas: args.betas,
            codex: args.codex,
            record_to: args.record_to,
            cache: args.cache,
            catalog: args.catalog,
        }
    }
}

impl From<CheckArgs> for cmd::check::Options {
    fn from(args: CheckArgs) -> Self {
        Self {
            paths: args.paths,
            format: args.format,
            output: args.output,
            shard: args.shard,
            catalog: args.catalog,
            verbose: args.verbose,
        }
    }
}

impl From<DispatchPlanArgs> for cmd::dispatch::plan::Options {
    fn from(args: DispatchPlanArgs) -> Self {
        Self {
            sources: InputSources::from(&args.inputs),
            catalog: args.inputs.catalog,
            format: args.format,
            call: args.call,
        }
    }
}

impl From<DispatchSendArgs> for cmd::dispatch::send::Options {
    fn from(args: DispatchSendArgs) -> Self {
        Self {
            sources: InputSources::from(&args.inputs),
            catalog: args.inputs.catalog,
            proxy: args.proxy,
            ca: args.ca,
        }
    }
}

impl From<AuditArgs> for cmd::audit::Options {
    fn from(args: AuditArgs) -> Self {
        Self { paths: args.paths, profiles: args.profiles, allow: args.allow, allow_files: args.allow_files }
    }
}

impl From<CatalogImportArgs> for cmd::catalog::Options {
    fn from(args: CatalogImportArgs) -> Self {
        Self { release: args.release, catalog: args.catalog }
    }
}

impl From<DiffArgs> for cmd::diff::Options {
    fn from(args: DiffArgs) -> Self {
        Self { a: args.a, b: args.b }
    }
}

impl From<ImportArgs> for cmd::cassette::import::Options {
    fn from(args: ImportArgs) -> Self {
        Self { har: args.har, output: args.output, profiles: args.profiles }
    }
}

impl From<ExportArgs> for cmd::cassette::export::Options {
    fn from(args: ExportArgs) -> Self {
        Self { cassette: args.cassette, output: args.output }
    }
}

impl From<&DispatchInputArgs> for InputSources {
    fn from(args: &DispatchInputArgs) -> Self {
        Self {
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
}

impl From<&ProxyArgs> for ProxyConfig {
    fn from(args: &ProxyArgs) -> Self {
        Self {
            listen: args.listen.clone(),
            allow_remote: args.allow_remote,
            passthrough: args.passthrough.clone(),
            idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
        }
    }
}

impl From<StubArgs> for Option<StubOptions> {
    fn from(args: StubArgs) -> Self {
        args.stub.then_some(StubOptions { status: args.stub_status })
    }
}

impl From<FromOpenClawArgs> for cmd::scenario::from_openclaw::Options {
    fn from(args: FromOpenClawArgs) -> Self {
        Self {
            home: args.state_dir.unwrap_or(args.home),
            agent: args.agent,
            version: args.version,
            output: args.output,
            force: args.force,
            keep_email: args.keep_email,
            env_from_shell: args.env_from_shell,
            cassettes: args.cassettes,
        }
    }
}
