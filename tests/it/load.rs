//! `record` under load — a correctness check, not a benchmark: 1,000
//! concurrent connections through the built binary, HTTP/1.1 and HTTP/2,
//! plain answers and SSE, clients that abort mid-stream and an upstream that
//! resets streams. The proxy keeps serving; every finished exchange is in the
//! cassette exactly once, every cut-short one is there once as an error; and
//! its memory comes back down afterwards. Nothing here is timed: [`LIMIT`]
//! only keeps a broken proxy from hanging the suite.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dispatch_vcr::cassette::Cassette;
use dispatch_vcr::upstream::body;
use futures_util::future::join_all;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tokio::sync::Semaphore;

use crate::support::*;

/// The whole test, start to finish, must take less than this.
const LIMIT: Duration = Duration::from_secs(120);
/// TLS handshakes in flight at once while the connections open.
const OPENING: usize = 64;

/// What one connection does; the counts add up to 1,000 connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Two dispatches, each answered in full.
    Answer(Http),
    /// An event stream read to its end.
    Sse,
    /// A body read in part, then the client hangs up.
    Abort(Http),
    /// A body the upstream cuts short.
    Reset,
}

const PLANS: [(Plan, usize); 6] = [
    (Plan::Answer(Http::H1), 400),
    (Plan::Answer(Http::H2), 300),
    (Plan::Sse, 100),
    (Plan::Abort(Http::H1), 100),
    (Plan::Abort(Http::H2), 50),
    (Plan::Reset, 50),
];

/// How an exchange ended, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Finished,
    Aborted,
    Reset,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_are_recorded_exactly_once() {
    raise_open_file_limit(4096);
    tokio::time::timeout(LIMIT, run()).await.expect("the load test did not finish in time");
}

async fn run() {
    let upstream = Arc::new(TestUpstream::start().await);
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("load.json");
    let running = bin.spawn(upstream.record_args(&out, &[])).await;
    let (proxy, pid) = (running.addr, running.child.id().unwrap());
    let ca = bin.home.path().join("ca/ca-cert.pem");

    let mut expected = BTreeMap::new();
    expected.insert(answer(proxy, &ca, Http::H1, "warm-up").await, Ending::Finished);
    let idle = rss(pid);

    let plans: Vec<Plan> = PLANS.iter().flat_map(|(plan, n)| std::iter::repeat_n(*plan, *n)).collect();
    let clients = open_all(proxy, &ca, &plans).await;
    let outcomes = join_all(
        clients
            .into_iter()
            .zip(plans)
            .enumerate()
            .map(|(n, (client, plan))| drive(client, plan, n, &upstream)),
    )
    .await;
    expected.extend(outcomes.into_iter().flatten());
    expected.insert(answer(proxy, &ca, Http::H2, "after").await, Ending::Finished);

    // The recorder journals every exchange; the journal is the only window into the other process.
    wait_until(|| journal_lines(&out) > expected.len(), "every exchange journaled").await;
    let near_idle = 2 * idle + (20 << 20);
    wait_until(|| rss(pid) <= near_idle, &format!("VmRSS back under {near_idle} (idle {idle})")).await;

    running.signal(libc::SIGINT);
    let (status, stderr) = running.wait().await;
    assert!(status.success(), "{stderr}");
    check_cassette(&dispatch_vcr::cassette::load(&out).unwrap(), &expected);
}

/// Every expected URL exactly once, finished ones with their response and
/// no error, cut-short ones with the error that says why.
fn check_cassette(cassette: &Cassette, expected: &BTreeMap<String, Ending>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for interaction in &cassette.interactions {
        *seen.entry(interaction.request.url.as_str()).or_default() += 1;
        let url = &interaction.request.url;
        let ending = expected.get(url).unwrap_or_else(|| panic!("{url} was never sent"));
        let error = interaction.error.as_deref().unwrap_or_default();
        match ending {
            Ending::Finished => {
                assert_eq!(interaction.error, None, "{url}");
                assert_eq!(interaction.response.as_ref().map(|r| r.status), Some(200), "{url}");
            }
            Ending::Aborted => assert!(error.contains("client went away"), "{url}: {error:?}"),
            Ending::Reset => assert!(error.contains("upstream"), "{url}: {error:?}"),
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "recorded more than once: {twice:?}");
    let missing: Vec<_> = expected.keys().filter(|url| !seen.contains_key(url.as_str())).collect();
    assert!(missing.is_empty(), "{} exchanges missing, e.g. {:?}", missing.len(), missing.first());
}

/// Open one connection per plan, all before any is used, so that they are
/// all open at once.
async fn open_all(proxy: std::net::SocketAddr, ca: &Path, plans: &[Plan]) -> Vec<ProxiedClient> {
    let gate = Semaphore::new(OPENING);
    join_all(plans.iter().map(|plan| async {
        let _turn = gate.acquire().await.unwrap();
        let http = match plan {
            Plan::Answer(http) | Plan::Abort(http) => *http,
            Plan::Sse | Plan::Reset => Http::H1,
        };
        ProxiedClient::connect(proxy, ca, "api.openai.com", http).await
    }))
    .await
}

/// Carry out `plan` on connection `n`; the URLs it used and how each ended.
async fn drive(
    mut client: ProxiedClient,
    plan: Plan,
    n: usize,
    upstream: &TestUpstream,
) -> Vec<(String, Ending)> {
    match plan {
        Plan::Answer(_) => {
            let mut done = Vec::new();
            for k in 0..2 {
                done.push((dispatch(&mut client, &format!("load-{n}-{k}")).await, Ending::Finished));
            }
            done
        }
        Plan::Sse => vec![(stream_events(&mut client, n, upstream).await, Ending::Finished)],
        Plan::Abort(_) => {
            let url = format!("https://api.openai.com/hang?load={n}");
            let mut response = client.send(get(&url)).await;
            let first = response.body_mut().frame().await.unwrap().unwrap().into_data().unwrap();
            assert_eq!(first, FIRST_CHUNK);
            // Hang up mid-body: the response and the connection go.
            drop((response, client));
            vec![(url, Ending::Aborted)]
        }
        Plan::Reset => {
            let url = format!("https://api.openai.com/reset?load={n}");
            // The reset may overtake the head on the upstream hop (a 502 from
            // the proxy), come with it (the connection dies before a head) or
            // follow it (a body that fails): each is a failed exchange.
            let failed = match client.try_send(get(&url)).await {
                Err(_) => true,
                Ok(response) if response.status() == StatusCode::BAD_GATEWAY => true,
                Ok(response) if response.status() == StatusCode::OK => {
                    response.into_body().collect().await.is_err()
                }
                Ok(response) => panic!("{url}: {}", response.status()),
            };
            assert!(failed, "{url}: the exchange must fail");
            vec![(url, Ending::Reset)]
        }
    }
}

/// A dispatch to `/v1/{id}` answered in full by the echo route; its URL.
async fn dispatch(client: &mut ProxiedClient, id: &str) -> String {
    let url = format!("https://api.openai.com/v1/{id}");
    let request = Request::post(&url)
        .header(header::AUTHORIZATION, "Bearer sk-proj-loadtestloadtestloadtest0001")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body::full(r#"{"model":"gpt-5.5","input":"hi"}"#))
        .unwrap();
    let response = client.send(request).await;
    let status = response.status();
    let answer = text(response).await;
    assert_eq!(status, StatusCode::OK, "{url}: {answer}");
    assert!(answer.contains(&format!("/v1/{id}")), "{url}: {answer}");
    url
}

/// An event stream read to its end, acknowledging event 1 so the upstream sends the rest.
async fn stream_events(client: &mut ProxiedClient, n: usize, upstream: &TestUpstream) -> String {
    let url = format!("https://api.openai.com/v1/stream-{n}");
    let mut request = get(&url);
    request.headers_mut().insert(header::ACCEPT, "text/event-stream".parse().unwrap());
    let mut body = client.send(request).await.into_body();
    let mut received = Vec::new();
    while !received.ends_with(SSE_EVENTS[0].as_bytes()) {
        received.extend_from_slice(&body.frame().await.unwrap().unwrap().into_data().unwrap());
    }
    upstream.ack();
    received.extend_from_slice(&body.collect().await.unwrap().to_bytes());
    assert_eq!(String::from_utf8(received).unwrap(), SSE_EVENTS.concat(), "{url}");
    url
}

/// One dispatch on a connection of its own; its URL.
async fn answer(proxy: std::net::SocketAddr, ca: &Path, http: Http, id: &str) -> String {
    let mut client = ProxiedClient::connect(proxy, ca, "api.openai.com", http).await;
    dispatch(&mut client, id).await
}

fn get(url: &str) -> Request<dispatch_vcr::upstream::Body> {
    Request::get(url).body(body::empty()).unwrap()
}

/// Lines in the journal of the cassette at `out` (a header, then one per exchange).
fn journal_lines(out: &Path) -> usize {
    let journal = dispatch_vcr::cassette::journal_path(out);
    std::fs::read_to_string(journal).map(|text| text.lines().count()).unwrap_or(0)
}

/// Resident memory of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse::<u64>().unwrap() * 1024
}

/// Wait until `done` holds (another process's state: there is no event to
/// wait on, so look again every few milliseconds); fail after [`GUARD`].
async fn wait_until(done: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + GUARD;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Let this process (and the proxy it starts) hold `wanted` open files, within the hard limit. Every
/// test shares the process: the soft limit only goes up, so the others just get more room.
fn raise_open_file_limit(wanted: u64) {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit on our own process with a valid struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(limit.rlim_cur >= 2_200, "need about 2,200 open files; the hard limit is {}", limit.rlim_max);
}
