//! The recorder: what `record` (and `run`, and `replay --observed`) plug into
//! the proxy as its [`Tap`], turning captured exchanges into a cassette.
//!
//! The proxy hands each finished [`Exchange`] to the tap, which only queues
//! it (`handoff`: no wake-up, no system call). A worker thread takes
//! the queue in batches, turns each exchange into an interaction
//! ([`interaction`]), redacts it ([`redact`]), keeps a body the
//! proxy spilled to a file as a side file (`blobs`), appends the
//! batch to `CASSETTE.journal` in one write and keeps it. [`Recorder::finish`] scrubs once more with every secret
//! seen, writes the cassette atomically, removes the journal and audits the
//! file it wrote.
//!
//! A thread rather than a tokio task: the work is CPU (decoding, JSON) and
//! blocking file writes, which must not stall the proxy's runtime.

mod blobs;
mod handoff;
pub mod har;
pub mod interaction;
pub mod redact;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::SystemTime;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use self::handoff::Handoff;
use self::interaction::millis;
use self::redact::Redactor;
use crate::cassette::journal::{JournalWriter, journal_path};
use crate::cassette::model::{Body, Cassette, Interaction, Meta};
use crate::cassette::save::save_checked;
use crate::error::{Error, Result};
use crate::exchange::{Exchange, SpilledBody, Tap, UPSTREAM_UNREACHABLE};
use crate::openclaw::profiles::AuthStore;

/// How to record.
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// The flag that named the cassette, for error messages (`-o`,
    /// `--observed`, `--record-to`).
    pub output_flag: &'static str,
    /// The cassette's `meta`; `recorded_at` and `tool` are filled in when absent.
    pub meta: Meta,
    /// `--profiles` stores: their secrets are redacted everywhere and name
    /// the fingerprints in `meta.credentials`.
    pub profiles: Vec<AuthStore>,
    /// `--exclude` host globs: exchanges with these hosts are left out.
    pub exclude: Vec<String>,
}

impl Default for RecorderOptions {
    fn default() -> Self {
        Self { output_flag: "-o", meta: Meta::default(), profiles: Vec::new(), exclude: Vec::new() }
    }
}

/// What a finished recording wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// The cassette.
    pub path: PathBuf,
    /// Interactions in it.
    pub interactions: usize,
    /// Exchanges left out by `--exclude`.
    pub excluded: usize,
    /// Entries in `meta.credentials`.
    pub credentials: usize,
    /// The recorded exchanges that got no answer from their upstream
    /// (unreachable, TLS refused, reset before answering…), one
    /// `#SEQ METHOD URL: REASON` each; they are in the cassette too, with
    /// their `error`.
    pub failed: Vec<String>,
    /// How many of `failed` never reached their upstream (connect or TLS failure).
    pub unreachable: usize,
    /// Things that went wrong without losing the recording (a journal write failed…).
    pub warnings: Vec<String>,
}

impl fmt::Display for RecordSummary {
    /// One line: `recorded N interaction(s) into PATH (K excluded), F failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "recorded {} interaction(s) into {}", self.interactions, self.path.display())?;
        if self.excluded > 0 {
            write!(f, " ({} excluded)", self.excluded)?;
        }
        if !self.failed.is_empty() {
            write!(f, ", {} failed (no answer from the upstream)", self.failed.len())?;
        }
        Ok(())
    }
}

/// Records exchanges into a cassette. Create it, give [`Recorder::tap`] to
/// the proxy, and call [`Recorder::finish`] once the proxy has stopped.
/// Dropped without `finish`, it leaves the journal for `cassette recover`.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    queue: Arc<Handoff<Box<Exchange>>>,
    worker: JoinHandle<Worker>,
}

impl Recorder {
    /// Start recording into `path`: check the flags (exit 2, naming the
    /// flag), then open `PATH.journal` and write its header.
    pub fn create(path: &Path, options: RecorderOptions) -> Result<Recorder> {
        check_output(options.output_flag, path)?;
        let exclude = host_globs(&options.exclude)?;
        let start = SystemTime::now();
        let mut meta = options.meta;
        meta.recorded_at.get_or_insert_with(|| humantime::format_rfc3339_seconds(start).to_string());
        meta.tool.get_or_insert_with(|| format!("dispatch-vcr {}", env!("CARGO_PKG_VERSION")));
        let journal_file = journal_path(path);
        let journal = JournalWriter::create(&journal_file, &meta).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::input(format!(
                "{} exists: an earlier recording to {} was interrupted; keep it with \
                 `dispatch-vcr cassette recover {}` or delete it",
                journal_file.display(),
                path.display(),
                path.display()
            )),
            _ => Error::io("create", &journal_file, &e),
        })?;
        let worker = Worker {
            path: path.to_owned(),
            journal: Some(journal),
            redactor: Redactor::new(&options.profiles),
            cassette: Cassette::new(meta),
            start,
            exclude,
            excluded: 0,
            warnings: Vec::new(),
        };
        let queue = Arc::new(Handoff::new());
        let worker = std::thread::Builder::new()
            .name("recorder".into())
            .spawn({
                let queue = queue.clone();
                move || worker.run(&queue)
            })
            .map_err(|e| Error::runtime(format!("cannot start the recorder thread: {e}")))?;
        Ok(Recorder { path: path.to_owned(), queue, worker })
    }

    /// The tap to give the proxy. Non-blocking: it queues the exchange.
    pub fn tap(&self) -> Arc<dyn Tap> {
        // Spilled bodies land beside the cassette, so keeping one is a rename.
        let spill_dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        Arc::new(RecorderTap { queue: self.queue.clone(), spill_dir })
    }

    /// Drain the queue, write the cassette atomically, remove the journal,
    /// and audit the written file (`audit`): a secret left in it — in a
    /// credential position, by shape, or one seen — is a runtime failure
    /// (exit 3) naming each finding and what to do. Exchanges tapped after this call are lost,
    /// so stop the proxy first.
    pub async fn finish(self) -> Result<RecordSummary> {
        let Recorder { path, queue, worker } = self;
        queue.close();
        tokio::task::spawn_blocking(move || {
            let worker = worker.join().map_err(|_| {
                Error::runtime(format!(
                    "the recorder crashed; `dispatch-vcr cassette recover {}` turns its journal into the cassette",
                    path.display()
                ))
            })?;
            worker.finish(&path)
        })
        .await
        .map_err(|e| Error::runtime(format!("the recorder's final write did not run: {e}")))?
    }
}

/// The proxy's side of the queue.
struct RecorderTap {
    queue: Arc<Handoff<Box<Exchange>>>,
    spill_dir: PathBuf,
}

impl Tap for RecorderTap {
    fn record(&self, exchange: Exchange) {
        if self.queue.push(Box::new(exchange)).is_err() {
            tracing::warn!("exchange finished after the recording ended; not recorded");
        }
    }

    fn spill_dir(&self) -> Option<PathBuf> {
        Some(self.spill_dir.clone())
    }
}

/// The bodies of an exchange the proxy spilled to files.
struct Spills {
    request: Option<SpilledBody>,
    response: Option<SpilledBody>,
}

/// The recording in progress, owned by the worker thread.
struct Worker {
    /// The cassette being recorded (its side files go beside it).
    path: PathBuf,
    /// `None` after a write failed: recording goes on in memory.
    journal: Option<JournalWriter>,
    redactor: Redactor,
    cassette: Cassette,
    start: SystemTime,
    exclude: GlobSet,
    excluded: usize,
    warnings: Vec<String>,
}

impl Worker {
    fn run(mut self, queue: &Handoff<Box<Exchange>>) -> Self {
        while let Some(batch) = queue.next_batch(&mut release_freed_memory) {
            let known = self.redactor.seen_count();
            for exchange in batch {
                self.record(*exchange);
            }
            self.end_batch(known);
        }
        self
    }

    /// Write the batch to the journal; if it taught secrets (those after
    /// the first `known`), redact what came before it first.
    fn end_batch(&mut self, known: usize) {
        if self.redactor.seen_count() > known {
            self.redact_earlier(known);
        } else {
            self.flush_journal();
        }
    }

    fn record(&mut self, mut exchange: Exchange) {
        if !self.exclude.is_empty() && host(&exchange.request.url).is_some_and(|h| self.exclude.is_match(h)) {
            self.excluded += 1;
            return;
        }
        let seq = self.cassette.interactions.len() as u64 + 1;
        let t_ms = millis(exchange.started.duration_since(self.start).unwrap_or_default());
        let spills =
            Spills { request: exchange.request_spill.take(), response: exchange.response_spill.take() };
        let mut interaction = interaction::interaction(exchange, seq, t_ms);
        let _span = tracing::debug_span!("record", seq, url = %interaction.request.url).entered();
        self.redactor.redact(&mut interaction);
        self.keep_spills(spills, &mut interaction);
        if let Some(journal) = &mut self.journal {
            let staged = journal.stage(&interaction, self.redactor.credentials());
            self.journal_failed_if(staged);
        }
        self.cassette.interactions.push(interaction);
    }

    /// Make the bodies the proxy spilled to files side files of the cassette
    /// (redacted, under their digest) and point `interaction` at them.
    fn keep_spills(&mut self, spills: Spills, interaction: &mut Interaction) {
        let Spills { request: request_spill, response: response_spill } = spills;
        if request_spill.is_none() && response_spill.is_none() {
            return;
        }
        // Keeping a large body takes a while: what finished before it goes to the journal first.
        self.flush_journal();
        let known = self.redactor.seen_count();
        if let Some(spill) = request_spill {
            interaction.request.body = self.keep_blob(spill);
        }
        if let (Some(spill), Some(response)) = (response_spill, interaction.response.as_mut()) {
            response.body = self.keep_blob(spill);
        }
        // A secret found in a side file may also sit in the rest of the interaction.
        if self.redactor.seen_count() > known {
            self.redactor.scrub(interaction);
        }
    }

    fn keep_blob(&mut self, spill: SpilledBody) -> Body {
        blobs::keep(&mut self.redactor, &self.path, spill).unwrap_or_else(|err| {
            let message = format!("a large body could not be kept beside {}: {err}", self.path.display());
            tracing::warn!("{message}; it is recorded as empty");
            self.warnings.push(message);
            Body::default()
        })
    }

    /// The batch taught secrets (those after the first `since`) that may sit
    /// in clear in interactions journaled before, and in side files kept
    /// before: redact those again and write the journal anew, so that from
    /// now on no crash leaves them on disk.
    fn redact_earlier(&mut self, since: usize) {
        let mut changed = false;
        for interaction in &mut self.cassette.interactions {
            changed |= self.redactor.scrub_since(interaction, since);
        }
        let stale =
            blobs::rescrub(&mut self.redactor, &self.path, &mut self.cassette).unwrap_or_else(|err| {
                self.warnings
                    .push(format!("side files of {} not redacted again: {err}", self.path.display()));
                Vec::new()
            });
        if !changed && stale.is_empty() {
            return self.flush_journal();
        }
        if let Some(journal) = &mut self.journal {
            let rewritten = journal.rewrite(
                &self.cassette.meta,
                &self.cassette.interactions,
                self.redactor.credentials(),
            );
            self.journal_failed_if(rewritten);
        }
        for file in stale {
            // The copies from before the redaction, no longer referenced.
            let _ = std::fs::remove_file(file);
        }
    }

    /// Write what the last batch staged in the journal.
    fn flush_journal(&mut self) {
        if let Some(journal) = &mut self.journal {
            let flushed = journal.flush();
            self.journal_failed_if(flushed);
        }
    }

    /// After a journal failure, stop journaling and say so; recording goes on in memory.
    fn journal_failed_if(&mut self, outcome: std::io::Result<()>) {
        let (Err(err), Some(journal)) = (outcome, &self.journal) else { return };
        let message = format!("journal {} stopped: {err}", journal.path().display());
        tracing::warn!("{message}; recording continues in memory");
        self.warnings.push(message);
        self.journal = None;
    }

    fn finish(mut self, path: &Path) -> Result<RecordSummary> {
        let stale = blobs::rescrub(&mut self.redactor, path, &mut self.cassette)
            .map_err(|err| Error::io("redact the side files of", path, &err))?;
        self.redactor.finish(&mut self.cassette);
        save_checked(path, &self.cassette, &self.redactor.seen_secrets())?;
        for file in stale {
            // Only unreferenced copies from before a late redaction; leaving one is harmless.
            let _ = std::fs::remove_file(file);
        }
        let journal = journal_path(path);
        if let Err(err) = std::fs::remove_file(&journal)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            self.warnings.push(format!("cannot remove {}: {err}; delete it by hand", journal.display()));
        }
        let unanswered = || {
            let interactions = self.cassette.interactions.iter().filter(|i| i.response.is_none());
            interactions.filter_map(|i| Some((i, i.error.as_deref()?)))
        };
        Ok(RecordSummary {
            path: path.to_owned(),
            interactions: self.cassette.interactions.len(),
            excluded: self.excluded,
            credentials: self.cassette.meta.credentials.len(),
            // Redacted: read from the cassette as written.
            failed: unanswered()
                .map(|(i, reason)| format!("#{} {} {}: {reason}", i.seq, i.request.method, i.request.url))
                .collect(),
            unreachable: unanswered().filter(|(_, reason)| reason.starts_with(UPSTREAM_UNREACHABLE)).count(),
            warnings: self.warnings,
        })
    }
}

/// Give the memory freed since the last burst of traffic back to the system
/// (called when the recorder, and so the proxy, has been idle a while).
/// glibc keeps freed pages in its per-thread arenas: after a thousand
/// connections a proxy would otherwise stay at its peak size while idle.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free pages back; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The host of an absolute URL, lower-case, without port or user info.
fn host(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    uri.host().map(str::to_ascii_lowercase)
}

/// `flag` (`-o`, `--observed`, …) must name a cassette file in an existing
/// directory ([`files::check_output`](crate::files::check_output), as every output flag).
/// A recording keeps `CASSETTE.journal` and its side files beside the
/// cassette, so the cassette must be a regular file (or not exist yet): a
/// device or a pipe (`-o /dev/null`) has no "beside" to write them to.
pub(crate) fn check_output(flag: &str, path: &Path) -> Result<()> {
    crate::files::check_output(flag, path, "run.json")?;
    if std::fs::metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return Err(Error::input(format!(
            "{flag} {}: not a regular file; a recording keeps {} and its side files beside the cassette, \
             so name a file, e.g. {flag} run.json",
            path.display(),
            journal_path(path).display()
        )));
    }
    Ok(())
}

/// Compile `--exclude` globs (case-insensitive, like host names).
fn host_globs(patterns: &[String]) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .case_insensitive(true)
            .build()
            .map_err(|e| Error::input(format!("--exclude {pattern}: not a host glob: {e}")))?;
        set.add(glob);
    }
    set.build().map_err(|e| Error::input(format!("--exclude: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{RequestHead, ResponseHead, TimedChunk};
    use bytes::Bytes;
    use std::time::Duration;

    #[test]
    fn a_recording_needs_a_regular_file_for_its_journal_beside_it() {
        let err = Recorder::create(Path::new("/dev/null"), RecorderOptions::default()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("-o /dev/null: not a regular file"), "{err}");
        assert!(!Path::new("/dev/null.journal").exists(), "nothing is written beside a device");
    }

    fn exchange(url: &str, authorization: &str) -> Exchange {
        Exchange {
            request_spill: None,
            response_spill: None,
            conn: 1,
            started: SystemTime::now(),
            duration: Duration::from_millis(5),
            request: RequestHead {
                method: "POST".into(),
                url: url.into(),
                http_version: "HTTP/1.1".into(),
                headers: vec![("authorization".into(), authorization.into())],
            },
            request_body: vec![TimedChunk {
                at: Duration::ZERO,
                data: Bytes::from_static(br#"{"model":"m"}"#),
            }],
            response: Some(ResponseHead { status: 200, headers: Vec::new() }),
            response_body: vec![TimedChunk {
                at: Duration::ZERO,
                data: Bytes::from_static(br#"{"id":"r"}"#),
            }],
            websocket: None,
            error: None,
        }
    }

    fn worker(dir: &Path, exclude: &[String]) -> Worker {
        let journal = JournalWriter::create(&dir.join("c.json.journal"), &Meta::default()).unwrap();
        Worker {
            path: dir.join("c.json"),
            journal: Some(journal),
            redactor: Redactor::new(&[]),
            cassette: Cassette::new(Meta::default()),
            start: SystemTime::now(),
            exclude: host_globs(exclude).unwrap(),
            excluded: 0,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn host_ignores_port_case_and_user_info() {
        assert_eq!(host("https://u@API.openai.com:8443/v1?x").as_deref(), Some("api.openai.com"));
        assert_eq!(host("not a url"), None);
    }

    #[test]
    fn excluded_hosts_are_counted_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let mut worker = worker(dir.path(), &["*.telemetry.example".into()]);
        worker.record(exchange("https://a.telemetry.example/v", "Bearer x"));
        worker.record(exchange("https://api.openai.com/v1/responses", "Bearer x"));
        assert_eq!((worker.excluded, worker.cassette.interactions.len()), (1, 1));
        assert_eq!(worker.cassette.interactions[0].seq, 1);
    }

    #[test]
    fn journal_holds_each_batch_before_finish_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let mut worker = worker(dir.path(), &[]);
        for _ in 0..3 {
            worker.record(exchange(
                "https://api.openai.com/v1/responses",
                "Bearer sk-proj-journalcanary000001",
            ));
        }
        worker.flush_journal();
        // No finish: as after a kill -9, the journal alone must hold all three.
        let text = std::fs::read_to_string(dir.path().join("c.json.journal")).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(!text.contains("journalcanary"));
    }

    #[test]
    fn bad_exclude_glob_names_the_flag() {
        let err = host_globs(&["a[".into()]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().starts_with("--exclude a["), "{}", err.message());
    }

    #[test]
    fn output_in_a_missing_directory_names_the_flag() {
        let err = check_output("-o", Path::new("/nonexistent-dir/c.json")).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().starts_with("-o /nonexistent-dir/c.json"), "{}", err.message());
    }

    #[test]
    fn the_error_names_the_flag_that_gave_the_path() {
        let options = RecorderOptions { output_flag: "--observed", ..RecorderOptions::default() };
        let err = Recorder::create(Path::new("/nonexistent-dir/c.json"), options).unwrap_err();
        assert!(
            err.message().starts_with("--observed /nonexistent-dir/c.json: directory"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn output_that_is_a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check_output("-o", dir.path()).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn a_leftover_journal_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(journal_path(&path), "old").unwrap();
        let err = Recorder::create(&path, RecorderOptions::default()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("cassette recover"), "{}", err.message());
        assert_eq!(std::fs::read_to_string(journal_path(&path)).unwrap(), "old");
    }

    mod planted;

    mod canary {
        use super::*;
        use crate::cassette::Side;
        use crate::exchange::{WsCapture, WsData, WsFrame};
        use proptest::prelude::*;

        fn headers(pairs: &[(&str, String)]) -> Vec<(String, String)> {
            pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
        }

        fn body(text: String) -> Vec<TimedChunk> {
            vec![TimedChunk { at: Duration::ZERO, data: Bytes::from(text) }]
        }

        /// Secret `s[i]` in every position redaction knows, then again where
        /// only "seen before" can catch it.
        fn exchanges(s: &[String]) -> Vec<Exchange> {
            let mut first =
                exchange(&format!("https://api.openai.com/v1/x?api-key={}&access_token={}", s[0], s[1]), "");
            first.request.headers = headers(&[
                ("authorization", format!("Bearer {}", s[2])),
                ("proxy-authorization", format!("Basic {}", s[3])),
                ("x-api-key", s[4].clone()),
                ("api-key", s[5].clone()),
                ("x-goog-api-key", s[6].clone()),
                ("cookie", format!("session={}; theme=dark", s[7])),
                ("content-type", "application/json".into()),
            ]);
            first.request_body =
                body(format!(r#"{{"client_secret":"{}","nested":[{{"password":"{}"}}]}}"#, s[8], s[9]));
            first.response = Some(ResponseHead {
                status: 200,
                headers: headers(&[("set-cookie", format!("sid={}; Path=/; HttpOnly", s[10]))]),
            });
            // Not compact, so stored as text: redaction must work on the text.
            first.response_body = body(format!(
                "{{\"access_token\": \"{}\", \"refresh_token\": \"{}\", \"id_token\": \"{}\"}}\n",
                s[11], s[12], s[13]
            ));

            let mut refresh = exchange("https://auth.openai.com/oauth/token", "");
            refresh.request.headers =
                headers(&[("content-type", "application/x-www-form-urlencoded".into())]);
            refresh.request_body =
                body(format!("grant_type=refresh_token&refresh_token={}&code_verifier={}", s[12], s[14]));
            refresh.response = Some(ResponseHead {
                status: 200,
                headers: headers(&[("content-type", "text/event-stream".into())]),
            });
            refresh.response_body = body(format!("data: {{\"echo\":\"{}\"}}\n\n", s[2]));
            refresh.error = Some(format!("upstream said {}", s[0]));

            let mut ws = exchange(&format!("https://chatgpt.com/ws/{}", s[4]), "");
            ws.request.headers = headers(&[("authorization", format!("Bearer {}", s[11]))]);
            ws.response = Some(ResponseHead { status: 101, headers: Vec::new() });
            ws.websocket = Some(WsCapture {
                frames: vec![
                    WsFrame {
                        from: Side::Client,
                        at: Duration::ZERO,
                        data: WsData::Text(format!("hello {}", s[7])),
                    },
                    WsFrame {
                        from: Side::Server,
                        at: Duration::ZERO,
                        data: WsData::Binary(Bytes::from(s[10].clone())),
                    },
                ],
                close: None,
            });
            vec![first, refresh, ws]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(12))]

            #[test]
            fn no_secret_reaches_the_journal_or_the_cassette(s in prop::collection::vec("[A-Za-z0-9]{12,40}", 15)) {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("c.json");
                let mut worker = worker(dir.path(), &[]);
                exchanges(&s).into_iter().for_each(|e| worker.record(e));
                worker.flush_journal();
                let journal = std::fs::read_to_string(journal_path(&path)).unwrap();
                worker.finish(&path).unwrap();
                let cassette = std::fs::read_to_string(&path).unwrap();
                for secret in &s {
                    prop_assert!(!journal.contains(secret.as_str()), "journal holds {secret}");
                    prop_assert!(!cassette.contains(secret.as_str()), "cassette holds {secret}");
                }
            }
        }
    }

    #[tokio::test]
    async fn tap_then_finish_writes_the_cassette_and_removes_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let recorder = Recorder::create(&path, RecorderOptions::default()).unwrap();
        let tap = recorder.tap();
        tap.record(exchange("https://api.openai.com/v1/responses", "Bearer sk-proj-abcdefghijklmnopqrstuv"));
        tap.record(exchange("https://api.openai.com/v1/models", "Bearer sk-proj-abcdefghijklmnopqrstuv"));
        let summary = recorder.finish().await.unwrap();
        assert_eq!((summary.interactions, summary.credentials), (2, 1));
        assert!(!journal_path(&path).exists());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"tool\": \"dispatch-vcr "));
        assert!(!text.contains("abcdefghijklmnopqrstuv"));
    }
}
