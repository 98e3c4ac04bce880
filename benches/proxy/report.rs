//! The markdown the bench prints and `scripts/bench.sh` puts into BENCHMARKS.md:
//! one table of the network figures per target, one of the targets in docs/design.md.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::client::Route;
use crate::load::Concurrent;
use crate::offline::CheckRun;
use crate::stats::Spread;

/// One target of the network measurements and what it measured.
pub struct Column {
    /// Table header.
    pub name: String,
    /// How to reach it; `None` when it could not run.
    pub route: Option<Route>,
    /// Why it could not run.
    pub missing: Option<String>,
    /// Sequential keep-alive dispatches.
    pub latency: Option<Spread>,
    /// The proxy process, when there is one (for its CPU time).
    pub pid: Option<u32>,
    /// Requests per second over 50 connections.
    pub throughput: Option<f64>,
    /// The proxy's CPU time per request in that test.
    pub cpu: Option<Duration>,
    /// New connection + dispatch, host seen before.
    pub cached: Option<Spread>,
    /// New connection + dispatch, host never seen.
    pub fresh: Option<Spread>,
    /// SSE event delivery.
    pub sse: Option<Spread>,
}

impl Column {
    /// A target that runs.
    pub fn available(name: impl Into<String>, route: Route) -> Self {
        Self::maybe(name, Ok(route))
    }

    /// A target that runs, or the reason it does not.
    pub fn maybe(name: impl Into<String>, route: Result<Route, String>) -> Self {
        let (route, missing) = match route {
            Ok(route) => (Some(route), None),
            Err(why) => (None, Some(why)),
        };
        Self {
            name: name.into(),
            route,
            missing,
            pid: None,
            latency: None,
            throughput: None,
            cpu: None,
            cached: None,
            fresh: None,
            sse: None,
        }
    }

    /// The same, measuring the CPU time of process `pid`.
    pub fn pid(self, pid: Option<u32>) -> Self {
        Self { pid, ..self }
    }
}

/// The 1 GiB stream through `record`.
pub struct Rss {
    /// Bytes streamed.
    pub bytes: u64,
    /// Resident memory after start-up.
    pub idle: u64,
    /// Peak resident memory over the whole run, cassette writing included.
    pub peak: u64,
    /// How long the stream took.
    pub took: Duration,
    /// How the cassette stored the body.
    pub recorded: String,
}

/// Sample sizes, for the notes under the table.
pub struct SizesNote {
    /// Timed keep-alive requests per target.
    pub requests: usize,
    /// Concurrent connections of the throughput test.
    pub connections: usize,
    /// Its measuring window.
    pub window: Duration,
    /// Interleaved throughput rounds the window is split into.
    pub throughput_rounds: u32,
    /// New connections per kind.
    pub new_conns: usize,
    /// SSE events.
    pub sse_events: usize,
    /// Their spacing.
    pub sse_gap: Duration,
}

/// Everything one run measured.
pub struct Results {
    /// Network figures per target; the first is `direct`.
    pub columns: Vec<Column>,
    /// dispatch-vcr leaf: median µs for a new host, for a cache hit.
    pub leaf: (f64, f64),
    /// The same for hudsucker's `RcgenAuthority`.
    pub hudsucker_leaf: (f64, f64),
    /// `check` over 1×, 10×, 100× the shipped catalogue.
    pub check: Vec<CheckRun>,
    /// Per cassette size: interactions, bytes, median load time (the first is the target figure's).
    pub cassette: Vec<(usize, u64, Duration)>,
    /// Per concurrency level: direct, then through `record`.
    pub concurrency: Vec<(Concurrent, Concurrent)>,
    /// The large stream.
    pub rss: Rss,
    /// How long `record` took to write its cassette after SIGINT.
    pub record_finish: Duration,
    /// Sample sizes.
    pub sizes: SizesNote,
    /// Cores and CPU model.
    pub machine: String,
    /// 1-minute load average at the start and the end.
    pub load: String,
    /// Wall time of the whole bench.
    pub duration: Duration,
}

impl Results {
    fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Median added latency of `name` over direct, µs.
    fn added(&self, name: &str) -> Option<f64> {
        Some(self.column(name)?.latency?.median - self.column("direct")?.latency?.median)
    }

    /// Throughput of `name` relative to direct.
    fn throughput_ratio(&self, name: &str) -> Option<f64> {
        Some(self.column(name)?.throughput? / self.column("direct")?.throughput?)
    }
}

/// The markdown section.
pub fn render(results: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Measured on {}; 1-minute load average {} (start → end); the bench took {:.0} s.\n",
        results.machine,
        results.load,
        results.duration.as_secs_f64()
    );
    network_table(results, &mut out);
    out.push('\n');
    targets_table(results, &mut out);
    out.push('\n');
    scaling_table(results, &mut out);
    out.push('\n');
    notes(results, &mut out);
    out
}

/// A row label and how to show one column's value.
type Row<'a> = (&'a str, Box<dyn Fn(&Column) -> Option<String> + 'a>);

fn network_table(results: &Results, out: &mut String) {
    let spread = |s: Option<Spread>| s.map(|s| format!("{:.0} / {:.0}", s.median, s.p99));
    let median = |s: Option<Spread>| s.map(|s| format!("{:.0}", s.median));
    let rows: Vec<Row> = vec![
        ("keep-alive request, median / p99 (µs)", Box::new(move |c| spread(c.latency))),
        (
            "added latency per request, median (µs)",
            Box::new(|c| {
                (c.name != "direct").then(|| results.added(&c.name)).flatten().map(|a| format!("{a:+.0}"))
            }),
        ),
        (
            "mitmdump's added latency ÷ this one's",
            Box::new(|c| {
                let ratio = results.added("mitmdump")? / results.added(&c.name)?;
                (c.name != "direct").then(|| format!("{ratio:.0}×"))
            }),
        ),
        (
            "throughput, 50 keep-alive connections (req/s)",
            Box::new(|c| c.throughput.map(|t| format!("{t:.0}"))),
        ),
        ("throughput ÷ direct", Box::new(|c| results.throughput_ratio(&c.name).map(|r| format!("{r:.2}")))),
        (
            "proxy CPU time per request, user + system (µs)",
            Box::new(|c| c.cpu.map(|d| format!("{:.0}", d.as_secs_f64() * 1e6))),
        ),
        ("new connection + request, cached host, median (µs)", Box::new(move |c| median(c.cached))),
        ("new connection + request, first-seen host, median (µs)", Box::new(move |c| median(c.fresh))),
        ("SSE event upstream → client, median / p99 (µs)", Box::new(move |c| spread(c.sse))),
    ];
    let _ = write!(out, "| |");
    for column in &results.columns {
        let _ = write!(out, " {} |", column.name);
    }
    let _ = write!(out, "\n|---|");
    for _ in &results.columns {
        out.push_str("---:|");
    }
    out.push('\n');
    for (label, cell) in &rows {
        let _ = write!(out, "| {label} |");
        for column in &results.columns {
            let text = match (&column.missing, cell(column)) {
                (Some(_), _) => "n/a".to_owned(),
                (None, Some(text)) => text,
                (None, None) => "—".to_owned(),
            };
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
}

fn targets_table(results: &Results, out: &mut String) {
    let ours = "dispatch-vcr record";
    let added = results.added(ours);
    let hudsucker_added = results.added("hudsucker");
    let mitm_ratio = results.added("mitmdump").zip(added).map(|(m, o)| m / o);
    let ratio = results.throughput_ratio(ours);
    let hudsucker_ratio = results.throughput_ratio("hudsucker");
    let vs_mitm = results
        .column(ours)
        .and_then(|c| c.throughput)
        .zip(results.column("mitmdump").and_then(|c| c.throughput))
        .map(|(o, m)| o / m);
    let sse_gap_us = results.sizes.sse_gap.as_secs_f64() * 1e6;
    let sse_p99 = results.column(ours).and_then(|c| c.sse).map(|s| s.p99);
    let headline = results.check.last();
    let cells_per_s = headline.map_or(0.0, CheckRun::cells_per_s);
    let (cells, check_time) = headline.map_or((0, Duration::ZERO), |r| (r.cells, r.took));
    let (cassette_count, cassette_bytes, cassette_load) =
        results.cassette.first().copied().unwrap_or_default();
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    let show = |value: Option<f64>, digits: usize, unit: &str| {
        value.map_or("n/a".to_owned(), |v| format!("{v:.digits$}{unit}"))
    };
    let rows: Vec<(String, String, &str, Option<bool>)> = vec![
        (
            "added latency per keep-alive request, recording".into(),
            format!("{} µs (hudsucker {} µs)", show(added, 1, ""), show(hudsucker_added, 1, "")),
            "≤ +25 µs and ≤ hudsucker",
            added.zip(hudsucker_added).map(|(a, h)| a <= 25.0 && a <= h),
        ),
        (
            "less added latency than mitmdump".into(),
            show(mitm_ratio, 1, "×"),
            "≥ 40×",
            mitm_ratio.map(|r| r >= 40.0),
        ),
        (
            "throughput ÷ direct, 50 connections, recording".into(),
            format!("{} (hudsucker {})", show(ratio, 2, ""), show(hudsucker_ratio, 2, "")),
            "≥ 0.5 and ≥ hudsucker",
            ratio.zip(hudsucker_ratio).map(|(r, h)| r >= 0.5 && r >= h),
        ),
        ("throughput ÷ mitmdump's".into(), show(vs_mitm, 1, "×"), "≥ 20×", vs_mitm.map(|r| r >= 20.0)),
        (
            "leaf certificate for a new host".into(),
            format!("{:.1} µs (hudsucker {:.1} µs)", results.leaf.0, results.hudsucker_leaf.0),
            "≤ 50 µs",
            Some(results.leaf.0 <= 50.0),
        ),
        (
            "leaf certificate, cache hit".into(),
            format!("{:.2} µs (hudsucker {:.2} µs)", results.leaf.1, results.hudsucker_leaf.1),
            "≤ 1 µs",
            Some(results.leaf.1 <= 1.0),
        ),
        (
            format!("SSE event delivery while recording, p99 (events {sse_gap_us:.0} µs apart)"),
            show(sse_p99, 1, " µs"),
            "forwarded before the next event",
            sse_p99.map(|p| p < sse_gap_us),
        ),
        (
            "`check`, scenario × version cells, a cassette file each".into(),
            format!("{cells_per_s:.0} cells/s ({cells} cells in {:.2} s)", check_time.as_secs_f64()),
            "≥ 10,000 cells/s",
            Some(cells_per_s >= 10_000.0),
        ),
        (
            format!("load a {cassette_count}-interaction cassette"),
            format!("{:.1} ms ({:.1} MiB)", cassette_load.as_secs_f64() * 1e3, mib(cassette_bytes)),
            "≤ 15 ms",
            Some(cassette_load <= Duration::from_millis(15)),
        ),
        (
            format!("peak RSS streaming {:.0} MiB with recording", mib(results.rss.bytes)),
            format!("{:.1} MiB (idle {:.1} MiB)", mib(results.rss.peak), mib(results.rss.idle)),
            "≤ 64 MiB",
            Some(results.rss.peak <= 64 << 20),
        ),
    ];
    out.push_str("| target figure | measured | target | met |\n|---|---|---|:-:|\n");
    for (figure, measured, target, met) in rows {
        let mark = match met {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "?",
        };
        let _ = writeln!(out, "| {figure} | {measured} | {target} | {mark} |");
    }
}

/// How cost grows with work: `check` over more of the catalogue, larger cassettes, more connections.
fn scaling_table(results: &Results, out: &mut String) {
    out.push_str("| scaling | sizes | measured | per unit |\n|---|---|---|---|\n");
    let join = |items: Vec<String>| items.join(" · ");
    let check = &results.check;
    let _ = writeln!(
        out,
        "| check over the shipped catalogue and its real recordings | {} | {} | {} |",
        join(check.iter().map(|r| format!("{}× ({} cells)", r.times, r.cells)).collect()),
        join(check.iter().map(|r| format!("{:.2} s", r.took.as_secs_f64())).collect()),
        join(check.iter().map(|r| format!("{:.0} cells/s", r.cells_per_s())).collect()),
    );
    let loads = &results.cassette;
    let _ = writeln!(
        out,
        "| cassette load | {} | {} | {} |",
        join(
            loads
                .iter()
                .map(|(n, bytes, _)| format!("{}k interactions ({} MiB)", n / 1000, bytes >> 20))
                .collect()
        ),
        join(loads.iter().map(|(_, _, t)| format!("{:.0} ms", t.as_secs_f64() * 1e3)).collect()),
        join(
            loads
                .iter()
                .map(|(n, _, t)| format!("{:.1} ms per 1k", t.as_secs_f64() * 1e6 / *n as f64))
                .collect()
        ),
    );
    let runs = &results.concurrency;
    let added = |(direct, through): &(Concurrent, Concurrent)| {
        format!(
            "{:+.0} / {:+.0} µs",
            through.latency.median - direct.latency.median,
            through.latency.p99 - direct.latency.p99
        )
    };
    let per_conn = |(_, through): &(Concurrent, Concurrent)| match through.rss {
        Some((idle, loaded)) => {
            format!("{:.0} KiB", loaded.saturating_sub(idle) as f64 / 1024.0 / through.conns as f64)
        }
        None => "n/a".to_owned(),
    };
    let _ = writeln!(
        out,
        "| record, concurrent keep-alive connections: added latency median / p99; RSS per connection | {} | {} | {} |",
        join(runs.iter().map(|(_, t)| format!("{} connections", t.conns)).collect()),
        join(runs.iter().map(added).collect()),
        join(runs.iter().map(per_conn).collect()),
    );
}

fn notes(results: &Results, out: &mut String) {
    let sizes = &results.sizes;
    let _ = writeln!(
        out,
        "- Samples: {} timed keep-alive requests per target in 5 interleaved rounds; throughput and proxy CPU time: \
         the medians of {} interleaved rounds of {:.0} ms with {} connections (CPU counted once the connections are open: \
         their TLS handshakes are not in it); {} new connections of each kind; {} SSE events {} µs apart.",
        sizes.requests,
        sizes.throughput_rounds,
        sizes.window.as_secs_f64() * 1000.0 / f64::from(sizes.throughput_rounds),
        sizes.connections,
        sizes.new_conns,
        sizes.sse_events,
        sizes.sse_gap.as_micros()
    );
    let rss = &results.rss;
    let _ = writeln!(
        out,
        "- Large stream: {:.0} MiB/s through `record`; the cassette stores the body as {}.",
        rss.bytes as f64 / f64::from(1 << 20) / rss.took.as_secs_f64(),
        rss.recorded
    );
    let _ = writeln!(
        out,
        "- `record` wrote its cassette of everything above in {:.1} s after SIGINT.",
        results.record_finish.as_secs_f64()
    );
    for column in results.columns.iter().filter(|c| c.missing.is_none() && c.sse.is_none()) {
        let _ = writeln!(
            out,
            "- {}: SSE not measured (it serves recorded events with their recorded stamps).",
            column.name
        );
    }
    for column in &results.columns {
        if let Some(why) = &column.missing {
            let _ = writeln!(out, "- {}: n/a — {}", column.name, why.lines().next().unwrap_or_default());
        }
    }
}

/// How the cassette at `path` stored its one response body.
pub fn describe_big_body(path: &Path) -> crate::Fallible<String> {
    let size = std::fs::metadata(path)?.len();
    if size > 64 << 20 {
        return Ok(format!("inline JSON ({} MiB cassette)", size >> 20));
    }
    let cassette: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let body = &cassette["interactions"][0]["response"]["body"];
    Ok(match (body["file"].as_str(), body["len"].as_u64()) {
        (Some(file), Some(len)) => format!("a side file (`{file}`, {len} bytes)"),
        _ => format!("inline JSON ({size} bytes cassette)"),
    })
}
