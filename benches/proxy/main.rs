//! The dispatch-vcr benchmark, the `dispatch-vcr-bench` binary (`scripts/bench.sh`;
//! results in BENCHMARKS.md).
//!
//! Starts on loopback a local HTTPS upstream, dispatch-vcr in `record` and
//! `replay` mode (the built binary), a hudsucker pass-through proxy and
//! mitmproxy's `mitmdump`, and drives the same load through each in one run:
//! sequential keep-alive latency, throughput over 50 connections, new
//! connections to cached and first-seen hosts, SSE delivery, then in-process
//! leaf minting, `check` throughput and cassette loading, and finally the
//! peak RSS of `record` streaming 1 GiB. Prints a markdown section and
//! writes it to `--output`.
//!
//! - [`upstream`] — the HTTPS server every path ends at; [`pki`] — its CA and client TLS.
//! - [`client`] — HTTP/1.1 keep-alive over TLS, direct or through CONNECT.
//! - [`peers`] — the proxy processes; [`hudsucker_peer`] — the hudsucker one.
//! - [`load`] — the network measurements; [`offline`] — the in-process ones.
//! - [`report`] — the markdown; [`stats`] — medians and percentiles.
//! - [`callgrind`] — instructions per request under valgrind, for before/after comparisons.

mod callgrind;
mod client;
mod hudsucker_peer;
mod load;
mod offline;
mod peers;
mod pki;
mod report;
mod stats;
mod upstream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;

use crate::client::{Hop, Route};
use crate::peers::Peer;
use crate::report::{Column, Results, Rss};
use crate::upstream::Upstream;

/// The replay column's name.
const REPLAY: &str = "dispatch-vcr replay";

/// Errors end the bench with a message; nothing here is user input to be gentle with.
pub type Fallible<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser, Debug)]
#[command(about = "Benchmark dispatch-vcr against direct connections, hudsucker and mitmdump")]
struct Args {
    /// The dispatch-vcr binary to measure [default: the one built beside this bench].
    #[arg(long, default_value_os_t = sibling_dispatch_vcr(), hide_default_value = true)]
    dispatch_vcr: PathBuf,
    /// mitmproxy's `mitmdump`; without it the mitmdump column says why.
    #[arg(long)]
    mitmdump: Option<PathBuf>,
    /// Why there is no mitmdump (shown in the table), e.g. a failed install.
    #[arg(long)]
    mitmdump_missing: Option<String>,
    /// Also measure this dispatch-vcr build in `record` mode, as a column
    /// named LABEL (before/after comparisons in one run).
    #[arg(long, value_name = "LABEL=PATH")]
    compare: Vec<String>,
    /// Write the markdown section here too.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Fewer samples and a smaller stream: a smoke run, not a measurement.
    #[arg(long)]
    quick: bool,
    /// Instead of the bench: count instructions per request through `record`
    /// or `hudsucker` under valgrind (for before/after comparisons).
    #[arg(long, value_name = "TARGET")]
    callgrind: Option<String>,
    /// Requests counted by `--callgrind`.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Keep the `--callgrind` dump in this file (for `callgrind_annotate`).
    #[arg(long, value_name = "FILE")]
    keep_dump: Option<PathBuf>,
    /// Run as the hudsucker peer (internal).
    #[arg(long, hide = true)]
    serve_hudsucker: bool,
    /// The upstream address (hudsucker peer).
    #[arg(long, hide = true)]
    upstream: Option<SocketAddr>,
    /// The upstream CA (hudsucker peer).
    #[arg(long, hide = true)]
    upstream_ca: Option<PathBuf>,
    /// Where the hudsucker peer writes its CA.
    #[arg(long, hide = true)]
    dir: Option<PathBuf>,
}

/// `dispatch-vcr` in this binary's folder: `cargo build --profile bench --features bench`
/// puts both there, built from the same code.
fn sibling_dispatch_vcr() -> PathBuf {
    std::env::current_exe()
        .map_or_else(|_| PathBuf::from("dispatch-vcr"), |exe| exe.with_file_name("dispatch-vcr"))
}

/// How much of everything to do.
struct Sizes {
    rounds: usize,
    per_round: usize,
    connections: usize,
    warmup: Duration,
    window: Duration,
    new_conns: usize,
    sse_events: usize,
    sse_gap: Duration,
    leaf_samples: usize,
    /// Copies of the shipped catalogue `check` runs over (the scaling row; the last is the headline figure).
    check_times: &'static [usize],
    /// Interactions of the cassettes whose load is timed (the first is the target figure's).
    cassette_sizes: &'static [usize],
    /// Concurrent connections through `record` (and direct, to subtract).
    concurrency: &'static [usize],
    big_bytes: u64,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        let full = !quick;
        Self {
            rounds: 5,
            per_round: if full { 400 } else { 40 },
            connections: 50,
            warmup: Duration::from_millis(if full { 500 } else { 100 }),
            window: Duration::from_secs(if full { 3 } else { 1 }),
            new_conns: if full { 200 } else { 20 },
            sse_events: if full { 200 } else { 20 },
            sse_gap: Duration::from_millis(3),
            leaf_samples: if full { 500 } else { 50 },
            check_times: if full { &[1, 10, 100] } else { &[1, 10] },
            cassette_sizes: if full { &[1_000, 10_000, 100_000] } else { &[1_000, 10_000] },
            concurrency: if full { &[10, 100, 1000] } else { &[10, 100] },
            big_bytes: if full { 1 << 30 } else { 64 << 20 },
        }
    }
}

fn main() {
    let args = Args::parse();
    let outcome = match &args.callgrind {
        _ if args.serve_hudsucker => serve_hudsucker(&args),
        Some(target) => tokio::runtime::Runtime::new().map_err(Into::into).and_then(|rt| {
            rt.block_on(callgrind::run(&args.dispatch_vcr, target, args.requests, args.keep_dump.as_deref()))
        }),
        None => run(&args),
    };
    if let Err(err) = outcome {
        eprintln!("bench: {err}");
        std::process::exit(1);
    }
}

fn serve_hudsucker(args: &Args) -> Fallible<()> {
    hudsucker_peer::serve(&hudsucker_peer::PeerArgs {
        upstream: args.upstream.ok_or("--upstream is required")?,
        upstream_ca: args.upstream_ca.clone().ok_or("--upstream-ca is required")?,
        dir: args.dir.clone().ok_or("--dir is required")?,
    })
}

fn run(args: &Args) -> Fallible<()> {
    let started = Instant::now();
    let load_before = load_average();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut results = runtime.block_on(measure(args, &Sizes::new(args.quick)))?;
    results.machine = machine();
    results.load = format!("{load_before} → {}", load_average());
    results.duration = started.elapsed();
    let markdown = report::render(&results);
    print!("{markdown}");
    if let Some(path) = &args.output {
        std::fs::write(path, &markdown)?;
    }
    Ok(())
}

/// Everything, in one run.
async fn measure(args: &Args, sizes: &Sizes) -> Fallible<Results> {
    let scratch = tempfile::tempdir()?;
    let dir = |name: &str| -> Fallible<PathBuf> {
        let path = scratch.path().join(name);
        std::fs::create_dir_all(&path)?;
        Ok(path)
    };
    let ca = pki::UpstreamCa::new(scratch.path())?;
    let upstream = Upstream::start(ca.server_config()?).await?;
    let home = dir("home")?;
    let ours = Ours {
        wrapper: &[],
        exe: &args.dispatch_vcr,
        home: &home,
        upstream: &upstream,
        upstream_ca: &ca.pem_path,
    };

    eprintln!("bench: starting the proxies");
    // Replay serves only what was recorded: the main host, and the hosts its
    // first-seen column will ask for.
    let replay_hosts = [vec![load::main_host()], load::fresh_hosts(REPLAY, sizes.new_conns)].concat();
    let replay_cassette = ours.record_hosts(&dir("replay")?.join("replay.json"), &replay_hosts).await?;
    let record = ours.record(&dir("record")?.join("record.json")).await?;
    let replay = ours.replay(&replay_cassette).await;
    let hudsucker = peers::hudsucker(&[], &dir("hudsucker")?, upstream.addr, &ca.pem_path).await?;
    let mitmdump = match (&args.mitmdump, &args.mitmdump_missing) {
        (_, Some(why)) => Err(why.clone()),
        (None, None) => Err("not installed (scripts/bench.sh installs it)".to_owned()),
        (Some(exe), None) => peers::mitmdump(exe, &dir("mitmproxy")?, upstream.addr, &ca.pem_path)
            .await
            .map_err(|err| err.to_string()),
    };
    let direct =
        Route { hop: Hop::Direct(upstream.addr), tls: pki::client_config(&ca.pem_path, &[b"http/1.1"])? };
    let mut columns = vec![Column::available("direct", direct)];
    columns.push(Column::available("dispatch-vcr record", via(&record)?).pid(record.pid()));
    let replay_route = replay.as_ref().map_err(Clone::clone).and_then(via_text);
    columns.push(Column::maybe(REPLAY, replay_route).pid(replay.as_ref().ok().and_then(Peer::pid)));
    let mut compared = Vec::new();
    for spec in &args.compare {
        let (label, exe) = spec.split_once('=').ok_or("--compare takes LABEL=PATH")?;
        let other = Ours { exe: Path::new(exe), ..ours };
        let peer = other.record(&dir(&format!("compare-{}", compared.len()))?.join("record.json")).await?;
        columns.push(Column::available(label, via(&peer)?).pid(peer.pid()));
        compared.push(peer);
    }
    columns.push(Column::available("hudsucker", via(&hudsucker)?).pid(hudsucker.pid()));
    let mitmdump_route = mitmdump.as_ref().map_err(Clone::clone).and_then(via_text);
    columns.push(Column::maybe("mitmdump", mitmdump_route).pid(mitmdump.as_ref().ok().and_then(Peer::pid)));

    network(&mut columns, sizes).await?;
    let concurrency = concurrency(&columns, sizes).await?;

    eprintln!("bench: stopping the proxies");
    let mut ignored = 0;
    let stopping = Instant::now();
    record.stop(&mut ignored).await?;
    let record_finish = stopping.elapsed();
    let others = [replay.ok(), Some(hudsucker), mitmdump.ok()].into_iter().flatten();
    for peer in others.chain(compared) {
        // Peers that fail to stop cleanly have still been measured.
        if let Err(err) = peer.stop(&mut ignored).await {
            eprintln!("bench: {err}");
        }
    }

    eprintln!("bench: leaf certificates, check, cassette load");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let leaf = offline::leaf_times(&dir("leaf-home")?, sizes.leaf_samples)?;
    let hudsucker_leaf = hudsucker_peer::leaf_times(&dir("leaf-hudsucker")?, sizes.leaf_samples).await?;
    let check = sizes
        .check_times
        .iter()
        .map(|times| offline::check_throughput(repo, scratch.path(), *times))
        .collect::<Fallible<Vec<_>>>()?;
    let mut cassette = Vec::new();
    for &count in sizes.cassette_sizes {
        // Fewer samples of the big ones: a 100k-interaction cassette is over a GiB.
        let samples = (21_000 / count).clamp(1, 21);
        let (bytes, took) = offline::cassette_load(repo, scratch.path(), count, samples)?;
        cassette.push((count, bytes, took));
    }

    eprintln!("bench: streaming {} MiB through record", sizes.big_bytes >> 20);
    let rss = ours.big_stream(&dir("big")?.join("big.json"), sizes.big_bytes).await?;

    Ok(Results {
        columns,
        leaf,
        hudsucker_leaf,
        check,
        cassette,
        concurrency,
        rss,
        record_finish,
        sizes: report::SizesNote {
            requests: sizes.rounds * sizes.per_round,
            connections: sizes.connections,
            window: sizes.window,
            throughput_rounds: THROUGHPUT_ROUNDS,
            new_conns: sizes.new_conns,
            sse_events: sizes.sse_events,
            sse_gap: sizes.sse_gap,
        },
        machine: String::new(),
        load: String::new(),
        duration: Duration::ZERO,
    })
}

/// `record` and direct under each of the concurrency levels: latency spreads and the proxy's RSS.
async fn concurrency(
    columns: &[Column],
    sizes: &Sizes,
) -> Fallible<Vec<(load::Concurrent, load::Concurrent)>> {
    let route = |name: &str| {
        columns.iter().find(|c| c.name == name).and_then(|c| c.route.clone().map(|r| (r, c.pid)))
    };
    let (direct, _) = route("direct").ok_or("no direct route")?;
    let (record, pid) = route("dispatch-vcr record").ok_or("no record route")?;
    let mut runs = Vec::new();
    for &conns in sizes.concurrency {
        eprintln!("bench: {conns} concurrent connections, direct and through record");
        let base = load::concurrent(&direct, None, conns, sizes.window).await?;
        let through = load::concurrent(&record, pid, conns, sizes.window).await?;
        runs.push((base, through));
    }
    Ok(runs)
}

/// The network measurements over every available column.
async fn network(columns: &mut [Column], sizes: &Sizes) -> Fallible<()> {
    eprintln!("bench: keep-alive latency");
    let routes: Vec<&Route> = columns.iter().filter_map(|c| c.route.as_ref()).collect();
    let spreads = load::latency(&routes, sizes.rounds, sizes.per_round).await?;
    let mut spreads = spreads.into_iter();
    for column in columns.iter_mut().filter(|c| c.route.is_some()) {
        column.latency = spreads.next();
    }
    throughput(columns, sizes).await?;
    for column in columns.iter_mut() {
        let Some(route) = column.route.clone() else { continue };
        eprintln!("bench: {}: new connections, SSE", column.name);
        let cached = vec![load::main_host(); sizes.new_conns];
        column.cached = Some(load::new_connections(&route, &cached).await?);
        let fresh = load::fresh_hosts(&column.name, sizes.new_conns);
        column.fresh = Some(load::new_connections(&route, &fresh).await?);
        // Replay sends recorded events, stamped when they were recorded: their
        // delivery time means nothing here (pacing them is replay's own feature).
        if column.name != REPLAY {
            column.sse = Some(load::sse(&route, sizes.sse_events, sizes.sse_gap).await?);
        }
    }
    Ok(())
}

/// Throughput rounds per column, interleaved as the latency rounds are.
const THROUGHPUT_ROUNDS: u32 = 3;

/// Every column's throughput and CPU time per request: the medians of
/// [`THROUGHPUT_ROUNDS`] rounds, each column in turn in each round, so a
/// change in machine load hits every column alike.
async fn throughput(columns: &mut [Column], sizes: &Sizes) -> Fallible<()> {
    let window = sizes.window / THROUGHPUT_ROUNDS;
    let mut rounds: Vec<Vec<load::Throughput>> = columns.iter().map(|_| Vec::new()).collect();
    for round in 1..=THROUGHPUT_ROUNDS {
        eprintln!("bench: throughput, round {round} of {THROUGHPUT_ROUNDS}");
        for (column, runs) in columns.iter().zip(&mut rounds) {
            let Some(route) = &column.route else { continue };
            runs.push(load::throughput(route, column.pid, sizes.connections, sizes.warmup, window).await?);
        }
    }
    for (column, runs) in columns.iter_mut().zip(rounds) {
        if let Some(median) = load::Throughput::median(runs) {
            (column.throughput, column.cpu) = (Some(median.rate), median.cpu_per_request);
        }
    }
    Ok(())
}

/// How to start dispatch-vcr against the bench upstream.
#[derive(Clone, Copy)]
pub struct Ours<'a> {
    /// A program to run it under, e.g. valgrind; empty to run it directly.
    pub wrapper: &'a [String],
    /// The binary.
    pub exe: &'a Path,
    /// Its `DISPATCH_VCR_HOME`.
    pub home: &'a Path,
    /// The bench upstream.
    pub upstream: &'a Upstream,
    /// The upstream's CA.
    pub upstream_ca: &'a Path,
}

impl Ours<'_> {
    /// `record -o cassette` against the upstream.
    pub async fn record(&self, cassette: &Path) -> Fallible<Peer> {
        let args = vec![
            "record".to_owned(),
            "-o".to_owned(),
            cassette.display().to_string(),
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--upstream-ca".to_owned(),
            self.upstream_ca.display().to_string(),
            // Empty host and port match any: every bench host lands on the upstream.
            "--connect-to".to_owned(),
            format!("::{}:{}", self.upstream.addr.ip(), self.upstream.addr.port()),
        ];
        peers::dispatch_vcr(self.wrapper, self.exe, self.home, &args).await
    }

    /// Record one dispatch to each of `hosts` into `cassette`, for replay to serve.
    async fn record_hosts(&self, cassette: &Path, hosts: &[String]) -> Fallible<PathBuf> {
        let peer = self.record(cassette).await?;
        let route = via(&peer)?;
        for host in hosts {
            route.open(host).await?.dispatch().await?;
        }
        peer.stop(&mut 0).await?;
        Ok(cassette.to_owned())
    }

    /// `replay --repeat --pace none`; an error says why replay could not run.
    async fn replay(&self, cassette: &Path) -> Result<Peer, String> {
        let args: Vec<String> = [
            "replay",
            &cassette.display().to_string(),
            "--listen",
            "127.0.0.1:0",
            "--repeat",
            "--pace",
            "none",
        ]
        .map(str::to_owned)
        .into();
        peers::dispatch_vcr(self.wrapper, self.exe, self.home, &args).await.map_err(|err| err.to_string())
    }

    /// Stream `bytes` through a fresh `record`; its RSS before, at the end and at its peak.
    async fn big_stream(&self, cassette: &Path, bytes: u64) -> Fallible<Rss> {
        let peer = self.record(cassette).await?;
        let idle = peer.status_bytes("VmRSS").unwrap_or(0);
        let took = load::big_download(&via(&peer)?, bytes).await?;
        let mut peak = peer.status_bytes("VmHWM").unwrap_or(0);
        peer.stop(&mut peak).await?;
        let recorded = report::describe_big_body(cassette)?;
        Ok(Rss { bytes, idle, peak, took, recorded })
    }
}

/// The route through `peer`, trusting its CA.
pub fn via(peer: &Peer) -> Fallible<Route> {
    let tls = pki::client_config(&peer.ca_pem, &[b"http/1.1"])?;
    Ok(Route { hop: Hop::Proxy(peer.addr), tls })
}

fn via_text(peer: &Peer) -> Result<Route, String> {
    via(peer).map_err(|err| err.to_string())
}

/// `cores× model` of this machine.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores} cores, {model}")
}

/// The 1-minute load average.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().unwrap_or("?").to_owned()
}
