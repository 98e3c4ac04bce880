//! Command-line definitions (clap): flags and help text, private to the
//! binary. [`options`] converts them, once, into each command's library
//! `Options`; the value enums (formats, modes) are the library's own.

mod options;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use dispatch_vcr::ca::EnvFormat;
use dispatch_vcr::cmd::dispatch::PlanFormat;
use dispatch_vcr::cmd::replay::OnMiss;
use dispatch_vcr::report::{self, ShardInfo};
use dispatch_vcr::scenario::Judge;
use dispatch_vcr::schema;
use dispatch_vcr::upstream::replay::Pace;

/// Record, replay and check the model-API dispatches of AI agent gateways.
///
/// dispatch-vcr sits between a dispatcher (e.g. OpenClaw) and its model
/// providers as a TLS-intercepting proxy. It records every exchange into a
/// cassette (secrets replaced by fingerprints), serves cassettes back offline,
/// and checks six invariants against a reference dispatcher: endpoint, bearer
/// and profile for the dispatch it plans (the target, the credential's
/// presence and shape, the auth profile it belongs to), and credential-scope,
/// tls and model for every request.
///
/// Exit codes: 0 ok · 1 an invariant failed or a replay missed · 2 bad input
/// or usage · 3 runtime failure (I/O, port in use, upstream unreachable).
#[derive(Debug, Parser)]
#[command(name = "dispatch-vcr", version, about, long_about, max_term_width = 100)]
#[command(after_help = "Environment:\n  \
    DISPATCH_VCR_HOME  the home holding the root CA (DISPATCH_VCR_HOME/ca); default ~/.dispatch-vcr\n  \
    RUST_LOG           what is logged on stderr: error, warn (default), info, debug, trace, or per module,\n  \
    \x20                  e.g. RUST_LOG=dispatch_vcr::proxy=debug\n  \
    NO_COLOR           set and not empty: no colour in reports (there is colour only on a terminal anyway)\n  \
    OPENCLAW_CACHE     where `releases install`, `run --openclaw` and `bisect` keep OpenClaw releases;\n  \
    \x20                  default DISPATCH_VCR_HOME/openclaw (DISPATCH_VCR_NPM: the npm they run)\n  \
    HTTPS_PROXY        the default of `dispatch send --proxy`; SSL_CERT_FILE that of `--ca` (record and\n  \
    \x20                  replay set both for their command)\n\n\
    `dispatch-vcr help COMMAND` documents each command; `dispatch-vcr man` prints them all as one page.")]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage the root CA used to intercept TLS.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Record traffic through the intercepting proxy into a cassette.
    Record(RecordArgs),
    /// Serve a cassette back, offline, and report every request it lacks.
    Replay(ReplayArgs),
    /// Compare the dispatches of two cassettes (endpoint, credential, headers, body).
    Diff(DiffArgs),
    /// Scan files and directories for secrets left in clear.
    Audit(AuditArgs),
    /// Work with cassette files.
    #[command(subcommand)]
    Cassette(CassetteCommand),
    /// The reference dispatcher: what a correct OpenClaw sends, and why.
    #[command(subcommand)]
    Dispatch(DispatchCommand),
    /// The reference dispatcher's catalog: import a release's facts.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Make scenarios: from a user's OpenClaw setup, secrets swapped for look-alike fixtures.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Check scenarios: every scenario × dispatcher version against the invariants.
    Check(CheckArgs),
    /// Run a live dispatcher on a scenario's inputs under the proxy, and check what it sends.
    Run(RunArgs),
    /// OpenClaw's published releases: list them, install one (Node 24 included) into the cache.
    #[command(subcommand)]
    Releases(ReleasesCommand),
    /// Find the first OpenClaw release that broke (or fixed) a scenario, by bisection over published releases.
    Bisect(BisectArgs),
    /// Print the JSON Schema of a file format (committed in docs/schema/), for editors and validators.
    Schema {
        /// Which format.
        #[arg(value_enum)]
        kind: schema::Kind,
    },
    /// Print a shell completion script.
    #[command(after_help = "Install, e.g.:\n  \
        dispatch-vcr completions bash > ~/.local/share/bash-completion/completions/dispatch-vcr\n  \
        dispatch-vcr completions zsh > ~/.zfunc/_dispatch-vcr    # with fpath+=(~/.zfunc) before compinit\n  \
        dispatch-vcr completions fish > ~/.config/fish/completions/dispatch-vcr.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), every command in one page.
    #[command(after_help = "Read it with: dispatch-vcr man > dispatch-vcr.1 && man -l dispatch-vcr.1")]
    Man,
}

/// `ca …` subcommands. Every one of them (and every proxy command) creates
/// the CA on first use and says so on stderr; `ca init` only makes that explicit.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create the root CA in $DISPATCH_VCR_HOME/ca (kept if it exists, saying when it was created).
    Init {
        /// Replace an existing CA (clients that trust the old one will stop working).
        #[arg(long)]
        force: bool,
    },
    /// Print the CA's paths, subject, fingerprint, expiry and how to trust it (creating it on first use).
    Show,
    /// Print the environment a program needs to use the proxy and trust the CA (creating it on first use).
    #[command(after_help = "Example, with `record` serving in another terminal:\n  \
        dispatch-vcr record -o run.json               # prints: listening on http://127.0.0.1:40123\n  \
        eval \"$(dispatch-vcr ca env --proxy http://127.0.0.1:40123)\"   # then run programs in this shell")]
    Env {
        /// The proxy URL to point programs at: the one on the `listening on http://ADDR` line that
        /// `record`, `replay` and `run` print (the first stdout line; on stderr when they run a
        /// command, which gets this environment by itself). Pin it with their `--listen ADDR`.
        #[arg(long, value_name = "URL")]
        proxy: String,
        /// Output as shell `export` lines or a JSON object.
        #[arg(long, value_enum, default_value_t = EnvFormat::Sh)]
        format: EnvFormat,
    },
}

/// Options shared by every command that runs the proxy.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Address to listen on; port 0 picks a free port (announced as `listening on http://ADDR`: the
    /// first stdout line, or on stderr with `-- CMD`). The proxy forwards any host a client asks for,
    /// plain http:// and plaintext CONNECT included, so it listens on loopback only unless
    /// --allow-remote.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,
    /// Allow listening on a non-loopback address. Anyone who can reach it can then send requests
    /// through the proxy to any host, and they are recorded; a warning says so on stderr.
    #[arg(long)]
    pub allow_remote: bool,
    /// Close a client connection that sends no complete request head (or, in a CONNECT tunnel, no
    /// first bytes or TLS handshake) within this many seconds.
    #[arg(long, default_value_t = dispatch_vcr::proxy::IDLE_TIMEOUT.as_secs(), value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Extra CA certificate (PEM) to trust for upstream servers, instead of the usual web roots.
    #[arg(long = "upstream-ca", value_name = "PEM")]
    pub upstream_ca: Vec<PathBuf>,
    /// Connect to ADDR:PORT whenever HOST:PORT is requested (curl's --connect-to).
    #[arg(long = "connect-to", value_name = "HOST:PORT:ADDR:PORT")]
    pub connect_to: Vec<String>,
    /// Tunnel hosts matching this glob blindly, without interception or recording.
    #[arg(long, value_name = "HOSTGLOB")]
    pub passthrough: Vec<String>,
}

/// `record` options.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: the command's when it fails; else 3 when an exchange could not reach its \
upstream (refused, unresolvable, TLS refused; --exclude the hosts that do not matter), else 0. 2 bad input, \
3 a runtime failure. Every exchange that got no answer is counted in the summary, listed on stderr with its \
reason and kept in the cassette with its `error`. Without a command, stopped by SIGINT/SIGTERM while an exchange \
is still under way after a 3 s grace: 128 + the signal (130, 143), that exchange kept cut short.\n\n\
The proxy forwards any host a client asks for (plain http:// and plaintext CONNECT tunnels included) and \
listens on loopback only unless --allow-remote.\n\n\
Example:\n  dispatch-vcr record -o run.json -- curl https://api.openai.com/v1/models"
)]
pub struct RecordArgs {
    /// Cassette to write (a journal `CASSETTE.journal` is kept while recording).
    #[arg(short = 'o', long = "output", value_name = "CASSETTE")]
    pub output: PathBuf,
    /// Proxy options.
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// An OpenClaw auth-profiles.json whose credentials name the fingerprints in meta.credentials.
    #[arg(long, value_name = "FILE")]
    pub profiles: Vec<PathBuf>,
    /// The dispatcher being recorded, for meta.dispatcher.
    #[arg(long, value_name = "NAME@VERSION")]
    pub dispatcher: Option<String>,
    /// Leave out of the cassette the exchanges with hosts matching this glob (still proxied).
    #[arg(long, value_name = "HOSTGLOB")]
    pub exclude: Vec<String>,
    /// The provider stub instead of the network.
    #[command(flatten)]
    pub stub: StubArgs,
    /// Run this command with the proxy environment; stop when it exits, with its status.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `--stub [--stub-status N]`: answer like the providers, with no network at all.
#[derive(Debug, Clone, Args)]
pub struct StubArgs {
    /// Answer from a built-in provider stub instead of the network: Responses, chat completions,
    /// Anthropic messages, embeddings, model lists and Responses WebSockets, per endpoint class;
    /// 404 JSON for anything else. No connection ever leaves the machine.
    #[arg(long)]
    pub stub: bool,
    /// With --stub: answer every model call with this error status instead (400–599); 401 sends
    /// the provider's real 401 body, which makes dispatchers log their failover decision.
    #[arg(long, value_name = "N", requires = "stub")]
    pub stub_status: Option<u16>,
}

/// `replay` options.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The cassette to serve.
    #[arg(value_name = "CASSETTE")]
    pub cassette: PathBuf,
    /// Proxy options (`--upstream-ca`/`--connect-to` apply to `--on-miss forward`).
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// What to do with a request the cassette lacks.
    #[arg(long, value_enum, default_value_t = OnMiss::Error)]
    pub on_miss: OnMiss,
    /// Let the last recorded answer of a request serve again when its recordings are used up.
    #[arg(long)]
    pub repeat: bool,
    /// Pacing of streamed bodies.
    #[arg(long, value_enum, default_value_t = Pace::None)]
    pub pace: Pace,
    /// Answer like the provider (its 401) when the recorded request carried a credential header and
    /// this one carries none of the same (none at all, or another kind such as x-api-key).
    #[arg(long)]
    pub emulate_auth: bool,
    /// Write what the client actually sent as a cassette (redacted).
    #[arg(long, value_name = "FILE")]
    pub observed: Option<PathBuf>,
    /// Run this command with the proxy environment; stop when it exits.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `diff` options.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when the cassettes match, 1 when they differ, 2 when one cannot be read.\n\
    Interactions pair up by order and endpoint; dates, request and trace ids are left out."
)]
pub struct DiffArgs {
    /// The first cassette (shown as `-`).
    #[arg(value_name = "CASSETTE_A")]
    pub a: PathBuf,
    /// The second cassette (shown as `+`).
    #[arg(value_name = "CASSETTE_B")]
    pub b: PathBuf,
}

/// `audit` options.
#[derive(Debug, Args)]
#[command(
    after_help = "Finds secrets left in clear, three ways. By position, in cassettes, journals and HAR \
    files: any value that is not a [REDACTED sha256:…] marker or a placeholder (empty, short, `Bearer` alone, \
    ${VAR}, <your key>) in a credential header (authorization, x-api-key, cookie, and headers named like \
    *token*, *secret*, *api-key*, *auth*, *password*, *session* when the value looks like a secret), a body field \
    at any depth (api_key, access_token, refresh_token, client_secret, password, id_token, secret, token…; JSON \
    inside JSON strings, forms, multipart parts), a query parameter (api_key, key, token, access_token, auth, sig…) \
    or a path segment that is a token (/bot<token>/), with chunked, base64 and SSE bodies joined first. By shape, \
    anywhere: provider keys (sk-, sk-proj-, sk-ant-, sk-or-, AIza, ya29., xai-, gsk_, hf_, nvapi-, pplx-, r8_), \
    JWTs, GitHub, GitLab, AWS, Slack and Stripe tokens. By value: the secrets of --profiles stores. Shapes and \
    known secrets are also found base64-, percent- and \\u-encoded, and split across lines. \
    Each finding prints FILE[:LINE]: [PLACE: ]KIND `PREFIX…` (FINGERPRINT) — at most six characters of a secret, \
    never all of it; a file named twice (leak.json and .) is read once. Fake keys that are meant to be there \
    (test fixtures) are allowed by their fingerprint: --allow sha256:… or a file of them, one a line with \
    # comments, given to --allow-file; allowed findings are counted, not listed. Details: docs/cassette.md, \
    \"What audit checks\". Exit status: 0 clean, 1 secrets found, 2 bad input.\n\n\
    Example:\n  dispatch-vcr audit cassettes/ scenarios/ --allow-file audit-allow.txt"
)]
pub struct AuditArgs {
    /// Files or directories (searched recursively, skipping .git and target).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// An OpenClaw auth-profiles.json whose secrets must not appear in clear either.
    #[arg(long, value_name = "FILE")]
    pub profiles: Vec<PathBuf>,
    /// A fingerprint (sha256:…, as a hit shows it) that is not a hit: a fixture key meant to be there.
    #[arg(long, value_name = "FINGERPRINT")]
    pub allow: Vec<String>,
    /// A file of fingerprints to allow, one a line; `#` starts a comment.
    #[arg(long = "allow-file", value_name = "FILE")]
    pub allow_files: Vec<PathBuf>,
}

/// `scenario …` subcommands.
#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Write a scenario whose inputs reproduce an OpenClaw home, every secret replaced by a look-alike fixture.
    FromOpenclaw(FromOpenClawArgs),
}

/// `scenario from-openclaw` options.
#[derive(Debug, Args)]
#[command(
    after_help = "Reads HOME/.openclaw/openclaw.json (its $include files resolved), the provider variables of HOME/.openclaw/.env, \
and every agent's auth store (auth-profiles.json and \
auth-state.json before 2026.5.30, the SQLite store after), opened read-only. API keys keep their prefix and length, \
OAuth JWTs are re-minted with their account, plan and expiry claims, refresh tokens and other tokens become opaque \
fixtures, email addresses become user@example.com unless --keep-email (those at example domains, reserved by \
RFC 2606, are no one's and stay). Each --cassette gets the same \
replacements: the fingerprints in meta.credentials and in every redaction marker become the fixtures' fingerprints, \
so `check` judges the shared pair as it judged the original. What was replaced (never a value) and what \
could not be read go to stderr. Exit 2 for a folder that is not an OpenClaw home, a locked or newer-schema store, \
or an existing -o without --force; nothing is written then.\n\n\
Example:\n  dispatch-vcr scenario from-openclaw -o my-setup.json\n  \
dispatch-vcr dispatch plan --scenario my-setup.json\n  \
dispatch-vcr scenario from-openclaw --cassette rec.json -o my-setup.json && dispatch-vcr check my-setup.json"
)]
pub struct FromOpenClawArgs {
    /// The HOME OpenClaw ran with, holding .openclaw/ (default: $HOME).
    #[arg(long, value_name = "DIR", env = "HOME")]
    pub home: PathBuf,
    /// OpenClaw's state folder when it is not HOME/.openclaw (as OpenClaw, default: $OPENCLAW_STATE_DIR).
    #[arg(long, value_name = "DIR", env = "OPENCLAW_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// The agent to plan for; its store becomes auth_profiles, the other agents' agent_stores.
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Read the home as this OpenClaw release does (before 2026.5.30: the JSON stores); default the newest.
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// The scenario to write.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Replace FILE when it exists.
    #[arg(long)]
    pub force: bool,
    /// Keep email addresses (in profile ids, emails and JWT claims).
    #[arg(long, conflicts_with = "redact_email")]
    pub keep_email: bool,
    /// Replace email addresses with user@example.com, user2@example.com, … (the default).
    #[arg(long)]
    pub redact_email: bool,
    /// Include the provider variables OpenClaw reads that are set in this shell, values replaced by fixtures.
    #[arg(long)]
    pub env_from_shell: bool,
    /// A cassette recorded with this setup (`record --profiles …`): rebound to the fixtures and written beside
    /// FILE as FILE-STEM.VERSION.cassette.json (repeatable, one per release).
    #[arg(long = "cassette", value_name = "REC")]
    pub cassettes: Vec<PathBuf>,
}

/// `cassette …` subcommands.
#[derive(Debug, Subcommand)]
pub enum CassetteCommand {
    /// Turn the journal of an interrupted recording (CASSETTE.journal) into CASSETTE.
    Recover {
        /// The cassette the recording was writing (its journal is CASSETTE.journal).
        #[arg(value_name = "CASSETTE")]
        cassette: PathBuf,
        /// Replace CASSETTE when it exists (without, an existing file is kept and nothing is done).
        #[arg(long)]
        force: bool,
    },
    /// Turn a HAR file (browser devtools, mitmproxy) into a cassette, secrets redacted as `record` does.
    Import(ImportArgs),
    /// Write a cassette as a HAR 1.2 file, for HAR viewers (docs/har.md says what HAR cannot hold).
    Export(ExportArgs),
}

/// `cassette import` options.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  dispatch-vcr cassette import devtools.har -o cassettes/run.json")]
pub struct ImportArgs {
    /// The HAR file.
    #[arg(value_name = "FILE.har")]
    pub har: PathBuf,
    /// The cassette to write.
    #[arg(short = 'o', long = "output", value_name = "CASSETTE")]
    pub output: PathBuf,
    /// An OpenClaw auth-profiles.json whose credentials name the fingerprints in meta.credentials.
    #[arg(long, value_name = "FILE")]
    pub profiles: Vec<PathBuf>,
}

/// `cassette export` options.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  dispatch-vcr cassette export cassettes/run.json -o run.har")]
pub struct ExportArgs {
    /// Write HAR 1.2: the default, and the only export format so far (accepted, not needed).
    #[arg(long)]
    pub har: bool,
    /// The cassette to export.
    #[arg(value_name = "CASSETTE")]
    pub cassette: PathBuf,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `dispatch …` subcommands.
#[derive(Debug, Subcommand)]
pub enum DispatchCommand {
    /// Print the dispatch a correct OpenClaw makes for these inputs, and the reasoning.
    ///
    /// The inputs are --config (with the stores beside it), or --scenario, or at
    /// least --model. Exit 0 with a plan; 1 when no dispatch is correct (OpenClaw
    /// would refuse, e.g. `No API key found for provider "openai"`; the message goes
    /// to stderr); 2 for unreadable or missing inputs.
    #[command(
        after_help = "Example:\n  dispatch-vcr dispatch plan --config ~/.openclaw/openclaw.json --version 2026.5.16-beta.4"
    )]
    Plan(DispatchPlanArgs),
    /// Send the planned request for real, through an HTTP proxy, and print the response status line.
    ///
    /// Exit 0 on a 2xx answer; 1 on any other answer, or when no dispatch is
    /// correct; 2 for bad input; 3 when the proxy or upstream cannot be reached.
    #[command(
        after_help = "Example:\n  dispatch-vcr dispatch send --config cfg.json --proxy http://127.0.0.1:8080 --ca ca.pem"
    )]
    Send(DispatchSendArgs),
}

/// The inputs of a dispatch: a scenario, or OpenClaw's files.
#[derive(Debug, Clone, Args)]
pub struct DispatchInputArgs {
    /// Take the inputs from this scenario file's `inputs`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "profiles", "state"])]
    pub scenario: Option<PathBuf>,
    /// OpenClaw's openclaw.json (JSON5). Stores are looked for beside it, as OpenClaw lays them out
    /// (agents/<agent>/agent/auth-profiles.json, auth-state.json, and main's store for inheritance).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The agent's auth-profiles.json.
    #[arg(long, value_name = "FILE")]
    pub profiles: Option<PathBuf>,
    /// The agent's auth-state.json.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// An environment variable the dispatcher sees (the process environment is never read).
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Agent id.
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Model ref, overriding the configured one.
    #[arg(long, value_name = "REF")]
    pub model: Option<String>,
    /// OpenClaw version (default: the catalog's newest).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// A provider catalog that corrects or extends the shipped one.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// "Now" in milliseconds since the epoch, for expiry and cooldown (default: the clock).
    #[arg(long, value_name = "MS")]
    pub now: Option<i64>,
}

/// `dispatch plan` options.
#[derive(Debug, Args)]
pub struct DispatchPlanArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: DispatchInputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Which model call to plan: the chat turn, memory search's embeddings call, the
    /// image_generate tool's call, or all (JSON: {"chat": …, "embeddings": …, "images": …}).
    #[arg(long, value_enum, default_value_t = Judge::Chat)]
    pub call: Judge,
}

/// `dispatch send` options.
#[derive(Debug, Args)]
pub struct DispatchSendArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: DispatchInputArgs,
    /// HTTP proxy to send through (CONNECT for https); under `record -- …` the proxy's own.
    #[arg(long, value_name = "URL", env = "HTTPS_PROXY")]
    pub proxy: String,
    /// Extra CA certificate (PEM) to trust, besides the usual web roots (e.g. the proxy's CA).
    #[arg(long, value_name = "PEM", env = "SSL_CERT_FILE")]
    pub ca: Vec<PathBuf>,
}

/// `catalog …` subcommands.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Read an installed OpenClaw release's plugin manifests into its band of the catalog, and print
    /// what changed against the band before it (providers, endpoints, env vars, auth choices, models).
    ///
    /// Exit 0 when the band is written (or already up to date); 2 for a folder that is not an
    /// installed release, a manifest that is not JSON, or a catalog file that is not one.
    #[command(after_help = "Example, in a dispatch-vcr checkout (updates src/dispatch/releases.json):\n  \
        dispatch-vcr catalog import ~/oc-2026.9.6/node_modules/openclaw")]
    Import(CatalogImportArgs),
}

/// `catalog import` options.
#[derive(Debug, Args)]
pub struct CatalogImportArgs {
    /// The installed release: its package folder (node_modules/openclaw), holding package.json.
    #[arg(value_name = "PATH")]
    pub release: PathBuf,
    /// The catalog file to write the band into (created when missing; `dispatch plan --catalog FILE`
    /// reads it). Default: src/dispatch/releases.json of the dispatch-vcr checkout in the current folder.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
}

/// `check` options.
#[derive(Debug, Args)]
#[command(
    after_help = "The text report explains each cell that needs attention (✗ ‽ ★; ⚠ too with --verbose), \
then shows the version × scenario matrix and the counts.\n\n\
Exit codes: 0 every cell passed or failed as a known failure · 1 an unexpected failure or a \
reference failure · 2 bad input.\n\nExamples:\n  dispatch-vcr check\n  dispatch-vcr check scenarios/openclaw --format junit -o junit.xml --shard 1/4\n  \
dispatch-vcr check --format html -o report.html"
)]
pub struct CheckArgs {
    /// Scenario files, or folders searched for **/*.json (cassettes found there are skipped).
    #[arg(value_name = "PATH", default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = report::Format::Text)]
    pub format: report::Format,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Check only shard I of N: a deterministic partition of the scenario × version cells.
    #[arg(long, value_name = "I/N", value_parser = dispatch_vcr::scenario::runner::parse_shard)]
    pub shard: Option<ShardInfo>,
    /// A provider catalog that corrects or extends the shipped one (as for `dispatch plan`).
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Explain the expected failures (⚠) too. By default the text report explains only the cells that
    /// need attention (✗ fail, ‽ reference failure, ★ fixed); JSON, JUnit and HTML always hold every cell.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// `run` options.
#[derive(Debug, Args)]
#[command(
    after_help = "The command runs in a fresh HOME holding the scenario's inputs in OpenClaw's layout \
    (.openclaw/openclaw.json with logging to HOME/dispatcher.log, .openclaw/agents/<id>/agent/auth-profiles.json, \
    auth-state.json), with a clean environment: the scenario's env, HOME, TERM=dumb, NO_COLOR=1, the proxy and \
    trust variables, PATH LANG LC_ALL TZ USER LOGNAME from ours, a TMPDIR of its own (removed afterwards), and \
    DISPATCH_VCR_RUN_HOME, DISPATCH_VCR_RUN_LOG, DISPATCH_VCR_RUN_AGENT, DISPATCH_VCR_RUN_VERSION, \
    DISPATCH_VCR_RUN_MODEL (the model ref to ask for at this version). Its requests are answered by the provider \
    stub (--stub) or by the scenario's cassette for the version.\n\n\
    Exit status: 0 when every invariant holds (or fails as a known failure), 1 when one fails or the replayed \
    cassette lacks a request, 2 bad input, 3 runtime failure, 130 (143 for SIGTERM) when Ctrl-C stops the command \
    (no verdict then). The command's own status is reported, not used.\n\n\
    Example:\n  dispatch-vcr run scenarios/openclaw/codex-oauth-goes-to-chatgpt-backend.json --version 2026.9.6 \\\n    \
    --stub -- sh -c 'openclaw agent --local --agent main -m hi --model \"$DISPATCH_VCR_RUN_MODEL\"'"
)]
pub struct RunArgs {
    /// The scenario whose inputs the dispatcher gets and whose expectations it is held to.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// The dispatcher version being run: the scenario's expectations for it apply and, without
    /// --stub, its cassette answers (default: the newest version the scenario has a cassette for).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Answer from the built-in provider stub (Responses, chat completions, Anthropic messages, model
    /// lists, Responses WebSockets; no connection leaves the machine). Without --stub the scenario's
    /// cassette for --version is replayed: a request it lacks is answered 502 and fails the run.
    #[arg(long)]
    pub stub: bool,
    /// With --stub: answer every model call with this error status instead (400–599); 401 sends
    /// the provider's real 401 body, which makes dispatchers log their failover decision.
    #[arg(long, value_name = "N", requires = "stub")]
    pub stub_status: Option<u16>,
    /// Keep the observed traffic as a cassette (redacted; meta names the dispatcher and version).
    #[arg(long, value_name = "FILE")]
    pub record_to: Option<PathBuf>,
    /// Leave requests to hosts matching this glob out of the observed traffic (still answered).
    #[arg(long, value_name = "HOSTGLOB")]
    pub exclude: Vec<String>,
    /// Materialise the inputs into DIR (absent or empty; kept afterwards) instead of a temporary
    /// HOME: for dispatchers whose installed plugins record absolute paths under HOME.
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Address the proxy listens on.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,
    /// Report format.
    #[arg(long, value_enum, default_value_t = report::Format::Text)]
    pub format: report::Format,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A provider catalog that corrects or extends the shipped one.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Instead of `-- CMD`: one OpenClaw turn of the release --version, installed in the cache
    /// (`dispatch-vcr releases install V`), with that release's per-version steps (docs/openclaw.md).
    #[arg(long)]
    pub openclaw: bool,
    /// With --openclaw: the release cache (default $OPENCLAW_CACHE, else $DISPATCH_VCR_HOME/openclaw).
    #[arg(long, value_name = "DIR", requires = "openclaw")]
    pub cache: Option<PathBuf>,
    /// The dispatcher command to run.
    #[arg(
        last = true,
        required_unless_present = "openclaw",
        conflicts_with = "openclaw",
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

/// `releases …` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReleasesCommand {
    /// Print OpenClaw's published releases (asked of npm), oldest first: version, publish date, `beta`
    /// for a pre-release, `installed` when the cache holds it.
    #[command(
        after_help = "--from, --to and --shard make the release × scenario matrix of a CI: each job takes \
        shard I of N of the releases (dealt round robin in version order, so N jobs together list every \
        release once) and runs the scenarios on them; docs/ci.md has the recipe. --quiet prints the versions \
        alone, for a shell loop.\n\n\
        Exit status: 0, 2 for a bad --from, --to or --shard, 3 when npm cannot be run or its registry cannot \
        be reached.\n\n\
        Examples:\n  dispatch-vcr releases list --stable\n  \
        dispatch-vcr releases list --stable --from 2026.9.1 --to 2026.9.6 --shard 2/3 --quiet"
    )]
    List {
        /// Leave pre-releases (betas) out.
        #[arg(long)]
        stable: bool,
        /// Only releases at or after V.
        #[arg(long, value_name = "V")]
        from: Option<String>,
        /// Only releases at or before V.
        #[arg(long, value_name = "V")]
        to: Option<String>,
        /// Only shard I of N of the listed releases (round robin in version order).
        #[arg(long, value_name = "I/N", value_parser = dispatch_vcr::scenario::runner::parse_shard)]
        shard: Option<ShardInfo>,
        /// Print the versions alone, one per line.
        #[arg(long, short)]
        quiet: bool,
        /// The release cache (default $OPENCLAW_CACHE, else $DISPATCH_VCR_HOME/openclaw).
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
    },
    /// Install Node 24 and an OpenClaw release into the cache (kept; a second install is a no-op), with
    /// the npm overrides the release needs; prints the release's openclaw.mjs.
    #[command(after_help = "Each install goes to a .NAME.partial folder and is renamed into place when \
        npm is done, so Ctrl-C leaves the cache as it was. The Codex runtime plugin (--codex) is installed by \
        that release's `openclaw plugins install` with CACHE/homes/VERSION as HOME (its install records hold \
        that path, so every run with it uses it) and moved to CACHE/codex-VERSION when done; npm has it for \
        2026.9.4 and later only, so older releases cannot run the Codex runtime offline. Progress lines go to \
        stderr.\n\n\
        Exit status: 0, 2 for a VERSION that is not one, 3 when npm or the plugin install fails.\n\n\
        Examples:\n  dispatch-vcr releases install 2026.9.6\n  \
        dispatch-vcr run my.scenario.json --version 2026.9.6 --stub --openclaw\n  \
        dispatch-vcr releases install 2026.9.5 --codex")]
    Install {
        /// The release, e.g. 2026.9.6 (`releases list` shows them).
        #[arg(value_name = "VERSION")]
        version: String,
        /// Also install the Codex runtime plugin (@openclaw/codex, online, ~340 MB) where npm has one for the
        /// release (2026.9.4 and later); `run --openclaw` then runs with it.
        #[arg(long)]
        codex: bool,
        /// The release cache (default $OPENCLAW_CACHE, else $DISPATCH_VCR_HOME/openclaw).
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
    },
}

/// `bisect` options.
#[derive(Debug, Args)]
#[command(
    after_help = "The candidates are the releases npm lists strictly between --good and --bad (stable ones \
    unless --betas). Each step installs the release into the cache (kept for the next time), runs one OpenClaw \
    turn on the scenario's inputs under the provider stub — what `run --stub --openclaw` does — and judges it: \
    good when every invariant holds, bad when one fails. A step that cannot be judged (the install fails, the \
    reference disagrees with the scenario, or OpenClaw stops before any request for a reason that is not the \
    scenario's, such as a Codex runtime it cannot install offline) is reported inconclusive and skipped, never \
    guessed. --good may be the newer release: then it finds the first good one (a fix).\n\n\
    Prints a line per step (release, verdict, seconds), then `first bad release: X (last good: Y)`, the \
    invariant failures at X and the semantic diff of Y's and X's requests (as `diff`, at most 24 lines per \
    aspect), and the number of runs, \
    at most ⌈log2 n⌉ + 2 for n candidates when no step is inconclusive.\n\n\
    Exit status: 0 when the change is found, 1 when it is not (inconclusive steps around it, or an end that \
    does not give the verdict it was named for; the first release that could be judged is still named, with its \
    evidence), 2 bad input, 3 npm failing, 130 when Ctrl-C stops it (after the turn under way, which gets the \
    signal too).\n\n\
    Example:\n  dispatch-vcr bisect scenarios/openclaw/oauth-login-beats-older-api-key.json \\\n    \
    --good 2026.9.5 --bad 2026.5.16-beta.4 --record-to bisect/"
)]
pub struct BisectArgs {
    /// The scenario to judge each release on.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// A release where the scenario passes.
    #[arg(long, value_name = "V")]
    pub good: String,
    /// A release where it fails.
    #[arg(long, value_name = "V")]
    pub bad: String,
    /// Search pre-releases (betas) too.
    #[arg(long)]
    pub betas: bool,
    /// Install the Codex runtime plugin too, where npm has one for the release (see `releases install --codex`).
    #[arg(long)]
    pub codex: bool,
    /// Keep the cassette of every tested release as DIR/VERSION.json.
    #[arg(long, value_name = "DIR")]
    pub record_to: Option<PathBuf>,
    /// The release cache (default $OPENCLAW_CACHE, else $DISPATCH_VCR_HOME/openclaw).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// A provider catalog that corrects or extends the shipped one.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
