//! The network measurements: the same load through every target.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Conn, Route};
use crate::stats::Spread;
use crate::upstream::now_ns;
use crate::{Fallible, pki};

/// Requests sent on each connection before any is timed.
const WARMUP: usize = 200;

/// The host every keep-alive measurement talks to.
pub fn main_host() -> String {
    format!("api.{}", pki::DOMAIN)
}

/// `n` host names no proxy has seen, distinct per `column`.
pub fn fresh_hosts(column: &str, n: usize) -> Vec<String> {
    let slug: String = column.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    (0..n).map(|i| format!("fresh-{i}-{slug}.{}", pki::DOMAIN)).collect()
}

/// Sequential keep-alive dispatches: for every route one connection, then
/// `rounds` rounds of `per_round` requests, route after route, so a change
/// in machine load hits every route alike. Returns the spread per route.
pub async fn latency(routes: &[&Route], rounds: usize, per_round: usize) -> Fallible<Vec<Spread>> {
    let mut conns = Vec::with_capacity(routes.len());
    for route in routes {
        let mut conn = route.open(&main_host()).await?;
        for _ in 0..WARMUP {
            conn.dispatch().await?;
        }
        conns.push(conn);
    }
    let mut samples = vec![Vec::with_capacity(rounds * per_round); routes.len()];
    for _ in 0..rounds {
        for (conn, samples) in conns.iter_mut().zip(&mut samples) {
            for _ in 0..per_round {
                let started = Instant::now();
                conn.dispatch().await?;
                samples.push(started.elapsed());
            }
        }
    }
    Ok(samples.iter_mut().map(|s| Spread::of(s)).collect())
}

/// What the throughput test measured.
pub struct Throughput {
    /// Requests per second over the window.
    pub rate: f64,
    /// CPU time (user + system) of the proxy process per request, over
    /// every request of the test (warm-up included) and all the work they
    /// caused, background work included; opening the connections (TLS
    /// handshakes) is not counted.
    pub cpu_per_request: Option<Duration>,
}

impl Throughput {
    /// The median rate and the median CPU time per request of several rounds.
    pub fn median(mut rounds: Vec<Throughput>) -> Option<Throughput> {
        let mut cpu: Vec<Duration> = rounds.iter().filter_map(|r| r.cpu_per_request).collect();
        cpu.sort_unstable();
        rounds.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        let rate = rounds.get(rounds.len() / 2)?.rate;
        Some(Throughput { rate, cpu_per_request: cpu.get(cpu.len() / 2).copied() })
    }
}

/// Requests per second over `window`, with `conns` keep-alive connections
/// each sending one dispatch after another (after `warmup`). With the
/// proxy's `pid`, also its CPU time per request.
pub async fn throughput(
    route: &Route,
    pid: Option<u32>,
    conns: usize,
    warmup: Duration,
    window: Duration,
) -> Fallible<Throughput> {
    let mut opened = Vec::with_capacity(conns);
    for _ in 0..conns {
        opened.push(route.open(&main_host()).await?);
    }
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = pid.and_then(cpu_time);
    let tasks: Vec<_> =
        opened.into_iter().map(|conn| tokio::spawn(keep_sending(conn, done.clone(), stop.clone()))).collect();
    tokio::time::sleep(warmup).await;
    let (start_count, start) = (done.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(window).await;
    let (end_count, elapsed) = (done.load(Ordering::Relaxed), start.elapsed());
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    let rate = (end_count - start_count) as f64 / elapsed.as_secs_f64();
    let total = done.load(Ordering::Relaxed);
    let cpu_after = match pid {
        Some(pid) => settled_cpu_time(pid).await,
        None => None,
    };
    let cpu_per_request = cpu_before.zip(cpu_after).map(|(b, a)| a.saturating_sub(b) / total.max(1) as u32);
    Ok(Throughput { rate, cpu_per_request })
}

/// What `conns` connections sending at once saw, and what holding them cost the proxy.
pub struct Concurrent {
    /// Connections.
    pub conns: usize,
    /// Every request's latency over the window.
    pub latency: Spread,
    /// The proxy's resident memory before the connections were opened, and once they were (bytes).
    pub rss: Option<(u64, u64)>,
}

/// `conns` keep-alive connections, opened one by one (a dispatch each), then
/// all sending dispatches one after another for `window`: the spread of every
/// request's latency, and the RSS of the proxy `pid` before and after opening
/// them (taken before the window, so what the recording holds by then does
/// not count as the connections').
pub async fn concurrent(
    route: &Route,
    pid: Option<u32>,
    conns: usize,
    window: Duration,
) -> Fallible<Concurrent> {
    let idle = pid.and_then(|p| crate::peers::status_bytes(p, "VmRSS"));
    let mut opened = Vec::with_capacity(conns);
    for _ in 0..conns {
        let mut conn = route.open(&main_host()).await?;
        conn.dispatch().await?;
        opened.push(conn);
    }
    let loaded = pid.and_then(|p| crate::peers::status_bytes(p, "VmRSS"));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> =
        opened.into_iter().map(|conn| tokio::spawn(timed_sending(conn, stop.clone()))).collect();
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    Ok(Concurrent { conns, latency: Spread::of(&mut samples), rss: idle.zip(loaded) })
}

async fn timed_sending(mut conn: Conn, stop: Arc<AtomicBool>) -> Fallible<Vec<Duration>> {
    let mut samples = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        conn.dispatch().await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// User + system CPU time of process `pid` so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok().filter(|t| *t > 0)?;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// The CPU time of `pid` once it stopped growing: background work (the
/// recorder) finishes after the last response.
async fn settled_cpu_time(pid: u32) -> Option<Duration> {
    let mut last = cpu_time(pid)?;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = cpu_time(pid)?;
        if now == last {
            return Some(now);
        }
        last = now;
    }
    Some(last)
}

async fn keep_sending(mut conn: Conn, done: Arc<AtomicU64>, stop: Arc<AtomicBool>) -> Fallible<()> {
    while !stop.load(Ordering::Relaxed) {
        conn.dispatch().await?;
        done.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// One dispatch per new connection (TCP, CONNECT, TLS, request), to each of
/// `hosts` in turn; the spread of the whole thing.
pub async fn new_connections(route: &Route, hosts: &[String]) -> Fallible<Spread> {
    let mut samples = Vec::with_capacity(hosts.len());
    for host in hosts {
        let started = Instant::now();
        let mut conn = route.open(host).await?;
        conn.dispatch().await?;
        samples.push(started.elapsed());
    }
    Ok(Spread::of(&mut samples))
}

/// `n` server-sent events `gap` apart: how long each took from the
/// upstream handing it to hyper to the client reading it.
pub async fn sse(route: &Route, n: usize, gap: Duration) -> Fallible<Spread> {
    let mut conn = route.open(&main_host()).await?;
    let mut pending = Vec::new();
    let mut samples = Vec::with_capacity(n);
    let path = format!("/sse?n={n}&gap_us={}", gap.as_micros());
    conn.get(&path, |chunk| {
        let arrived = now_ns();
        pending.extend_from_slice(chunk);
        while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = pending.drain(..end + 2).collect();
            if let Some(sent) = sent_ns(&event) {
                samples.push(Duration::from_nanos(arrived.saturating_sub(sent)));
            }
        }
    })
    .await?;
    if samples.len() != n {
        return Err(format!("expected {n} events, got {}", samples.len()).into());
    }
    Ok(Spread::of(&mut samples))
}

/// The `sent_ns` stamp in an event's data.
fn sent_ns(event: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(event).ok()?;
    let digits = text.split("\"sent_ns\":").nth(1)?;
    digits.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}

/// Stream `bytes` from `/big` through `route`; returns the time it took.
pub async fn big_download(route: &Route, bytes: u64) -> Fallible<Duration> {
    let mut conn = route.open(&format!("big.{}", pki::DOMAIN)).await?;
    let mut received = 0u64;
    let started = Instant::now();
    conn.get(&format!("/big?bytes={bytes}"), |chunk| received += chunk.len() as u64).await?;
    if received != bytes {
        return Err(format!("expected {bytes} bytes, got {received}").into());
    }
    Ok(started.elapsed())
}
