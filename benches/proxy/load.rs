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

/// Requests per second over `window`, with `conns` keep-alive connections
/// each sending one dispatch after another (after `warmup`).
pub async fn throughput(route: &Route, conns: usize, warmup: Duration, window: Duration) -> Fallible<f64> {
    let mut opened = Vec::with_capacity(conns);
    for _ in 0..conns {
        opened.push(route.open(&main_host()).await?);
    }
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
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
    Ok((end_count - start_count) as f64 / elapsed.as_secs_f64())
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
