//! The integration tests, as one test binary (`cargo test --test it`; one
//! topic: `cargo test --test it check::`). Each module is one topic:
//!
//! - [`audit`] — `audit` finds every secret planted in a cassette and a HAR file; the shipped files are clean.
//! - [`bisect`] — `bisect` and `run --openclaw` through a stand-in npm and OpenClaw: the answer, its evidence, inconclusive steps, Ctrl-C.
//! - [`ca_cli`] — `ca init | show | env` through the built binary.
//! - [`cassette_cli`] — `cassette recover | audit | diff` and the loader's errors.
//! - [`catalog`] — `catalog import` on release trees made in the test; its bands in `dispatch plan`; docs/catalog.md's import output.
//! - [`check`] — `check` end to end: the shipped catalogue, report formats, shards, exit codes.
//! - [`ci_recipes`] — the CI recipes of `docs/ci.md` parse and their shards cover every cell once.
//! - [`dispatch_cli`] — `dispatch plan` as users run it, with text snapshots.
//! - [`dispatch_headers`] — the `headers` invariant and store-qualified binding on recordings made through the proxy.
//! - [`dispatch_plan_cases`] — the reference dispatcher, step by step and table row by row.
//! - [`dispatch_providers`] — every model provider of the imported 2026.9.6 band planned with a fixture credential.
//! - [`dispatch_record`] — `dispatch send` recorded by `record` matches its plan.
//! - [`dispatch_send`] — `dispatch send` through a CONNECT proxy to the test upstream.
//! - [`embeddings`] — memory-search embeddings and image calls judged (`judge`), and `dispatch plan --call`.
//! - [`from_openclaw`] — `scenario from-openclaw` on homes made in the test: same plan, no planted secret anywhere.
//! - [`har`] — `cassette export --har` and `cassette import`, round trips and foreign HAR files.
//! - [`html_report`] — `check --format html` rendered in headless Chromium.
//! - [`leaks`] — no secret reaches any file, however it was sent, learned late or left by a crash.
//! - [`listener`] — stops, silent clients, huge URLs and `--allow-remote` at the listener.
//! - [`load`] — `record` under 1,000 concurrent connections: every exchange recorded once.
//! - [`progress`] — `check`'s progress bar: on a terminal only, never changing the report.
//! - [`proxy`] — the proxy as a library over real sockets and TLS, with a collecting tap.
//! - [`reconstruct`] — the shipped cassettes equal their reconstruction from the reports.
//! - [`record`] — `record` end to end with curl, Python, hyper and WebSocket clients.
//! - [`recorder`] — the recorder behind the tap: a redacted cassette v1 comes out.
//! - [`replay`] — `replay` end to end, through the binary and the in-process handle.
//! - [`run`] — `run`: a child under the proxy and the stub, judged against its scenario.
//! - [`scenario_guide`] — `docs/scenario.md` runs as written.
//! - [`schema`] — the JSON Schemas in `docs/schema/` are current, met and strict.
//! - [`shell`] — shell completions and the man page load and render.
//! - [`side_files`] — side files that are links, FIFOs, devices, missing or changed are refused.
//! - [`spill`] — large bodies spill to redacted side files; `kill -9` leaves no secret.
//! - [`stub`] — `record --stub`: provider-shaped answers with no upstream.
//!
//! [`support`] holds what they share: test TLS, the local upstream, the
//! library proxy, clients, the built binary and fixtures.
//!
//! All of them share this one process and run on parallel threads. So a test
//! never changes the process environment or its current directory (children
//! get theirs through `Command`) and writes to a temporary directory of its
//! own; only the opt-in rewrites of committed files (`UPDATE_DOCS=1`,
//! `DISPATCH_VCR_RECONSTRUCT=1`) write elsewhere, each file replaced at once
//! ([`support::update_committed`]) as other tests may be reading it. The one
//! process-wide setting a test changes is [`load`]'s open-file limit, which
//! only goes up.

mod support;

mod audit;
mod bisect;
mod ca_cli;
mod cassette_cli;
mod catalog;
mod check;
mod ci_recipes;
mod dispatch_cli;
mod dispatch_headers;
mod dispatch_plan_cases;
mod dispatch_providers;
mod dispatch_record;
mod dispatch_send;
mod embeddings;
mod from_openclaw;
mod har;
mod html_report;
mod leaks;
mod listener;
mod load;
mod progress;
mod proxy;
mod reconstruct;
mod record;
mod recorder;
mod releases;
mod replay;
mod run;
mod scenario_guide;
mod schema;
mod shell;
mod side_files;
mod spill;
mod stub;
