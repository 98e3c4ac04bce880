//! [`Replay`]: answer intercepted requests from a cassette instead of the network.
//!
//! - [`matcher`] — the match key (method + scheme + host + port + path +
//!   order-insensitive query; headers are not part of it) and the per-key
//!   FIFO queues, with `--repeat`.
//! - [`mod@explain`] — a miss, the nearest recorded interaction and the diff of
//!   their heads.
//! - `answer` — recorded responses back onto the wire: bodies stored decoded
//!   are served **identity** (`content-encoding` dropped, `content-length`
//!   recomputed for whole bodies; `sse` and `chunks` stream piece by piece,
//!   chunked unless the recording announced a length), paced as recorded
//!   with [`Pace::Recorded`].
//! - `websocket` — a recorded session played as the server: each server
//!   message goes out after the client messages that preceded it.
//! - `auth` — `--emulate-auth`: a request lacking the recorded credential
//!   gets the provider's 401 from the catalog (per endpoint class).
//!
//! Live requests are redacted by the cassette's own [`Redactor`] before they
//! are matched, so a secret query value compares as the recorder stored it
//! (`[REDACTED%20sha256:…]`) and explanations show credentials as fingerprints.
//! Every request body is read in full before the answer, as a server would,
//! so the proxy's tap sees what the client sent.
//!
//! Offline means offline: unless misses are forwarded ([`ReplayConfig::forward_misses`]),
//! no code path here opens a connection, and `--passthrough` tunnels are refused.
//! A recorded failure (`error` without a response) replays as the same
//! failure: the proxy answers `502` naming it.

mod answer;
mod auth;
pub mod explain;
pub mod matcher;
mod websocket;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::future::BoxFuture;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;

use self::explain::{Entry, Head, Miss, explain};
use self::matcher::{Book, Key, Take};
use super::{Body, BoxIo, Upstream, UpstreamError, UpstreamResponse, WsSession, body, is_websocket_upgrade};
use crate::cassette::model::{self, Cassette, Interaction, RESPONSE_CUT_SHORT};
use crate::dispatch::catalog::{Catalog, ProviderAnswer};
use crate::recorder::redact::Redactor;

/// How streamed bodies and WebSocket messages are paced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Pace {
    /// Keep the recorded gaps between events, chunks and server messages.
    Recorded,
    /// Send everything as fast as the client reads.
    #[default]
    None,
}

/// How a [`Replay`] answers.
#[derive(Clone, Default)]
pub struct ReplayConfig {
    /// Let the last recorded answer of a request serve again once its answers are used up.
    pub repeat: bool,
    /// Pacing of streams.
    pub pace: Pace,
    /// `--emulate-auth`: answer a request lacking the recorded credential
    /// with this catalog's provider 401 for its endpoint class.
    pub emulate_auth: Option<Arc<Catalog>>,
    /// `--on-miss forward`: where misses (and `--passthrough` tunnels) go.
    /// `None` keeps replay offline: misses get an explained `502`.
    pub forward_misses: Option<Arc<dyn Upstream>>,
    /// Print each miss's explanation to stderr as it happens.
    pub echo_misses: bool,
}

/// A cassette as an [`Upstream`].
pub struct Replay {
    interactions: Vec<Interaction>,
    entries: Vec<Entry>,
    /// The cassette's directory, where side files live.
    dir: PathBuf,
    config: ReplayConfig,
    state: Mutex<State>,
}

/// What changes while replaying.
struct State {
    book: Book,
    /// Redacts live requests exactly as the recorder redacted the recorded ones.
    redactor: Redactor,
    misses: Vec<Miss>,
    forwarded: Vec<String>,
    unauthorized: Vec<String>,
}

/// What one request gets: an answer from here, or the network's.
enum Decision {
    Local(Local),
    Forward(Arc<dyn Upstream>),
}

/// An answer replay gives itself.
enum Local {
    Serve(usize),
    Unauthorized(ProviderAnswer),
    Miss(Miss),
}

impl Replay {
    /// Replay `cassette`, whose side files live in `dir`.
    pub fn new(cassette: Cassette, dir: impl Into<PathBuf>, config: ReplayConfig) -> Self {
        let started: Vec<u64> = cassette.interactions.iter().map(|i| i.t_ms).collect();
        let entries: Vec<Entry> = cassette
            .interactions
            .iter()
            .map(|i| Entry {
                seq: i.seq,
                key: Key::of(&i.request.method, &i.request.url),
                head: Head {
                    method: i.request.method.clone(),
                    url: i.request.url.clone(),
                    headers: i.request.headers.clone(),
                },
            })
            .collect();
        let book = Book::new(entries.iter().map(|e| e.key.clone()).zip(started), config.repeat);
        let state = State {
            book,
            redactor: Redactor::new(&[]),
            misses: Vec::new(),
            forwarded: Vec::new(),
            unauthorized: Vec::new(),
        };
        Self {
            interactions: cassette.interactions,
            entries,
            dir: dir.into(),
            config,
            state: Mutex::new(state),
        }
    }

    /// Load the cassette at `path` (exit 2 naming file and line:column when
    /// it is malformed) and replay it.
    pub fn load(path: &Path, config: ReplayConfig) -> crate::Result<Self> {
        let cassette = crate::cassette::load(path)?;
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        Ok(Self::new(cassette, dir, config))
    }

    /// What happened so far: served, missed, unused, forwarded, refused.
    pub fn summary(&self) -> ReplaySummary {
        let state = self.lock();
        let unused = state
            .book
            .unused()
            .into_iter()
            .map(|i| Unused { seq: self.entries[i].seq, request: self.entries[i].head.line() })
            .collect();
        ReplaySummary {
            interactions: self.interactions.len(),
            served: state.book.served(),
            misses: state.misses.clone(),
            unused,
            forwarded: state.forwarded.clone(),
            unauthorized: state.unauthorized.clone(),
            observed: None,
            warnings: Vec::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing holding the lock can leave the state half-changed; a panic elsewhere need not stop replay.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn answer(&self, request: Request<Body>) -> Result<UpstreamResponse, UpstreamError> {
        let live = self.redacted_head(&request);
        let local = match self.decide(&live) {
            Decision::Local(local) => local,
            Decision::Forward(upstream) => {
                tracing::debug!(request = %live.line(), "not in the cassette; forwarding");
                return upstream.send(request).await;
            }
        };
        let websocket = is_websocket_upgrade(&request);
        let client_key = request.headers().get(header::SEC_WEBSOCKET_KEY).map(|k| k.as_bytes().to_vec());
        // Read the whole request before answering, as a server would; a
        // failing client body is the tap's to record, not ours to answer.
        let _ = request.into_body().collect().await;
        match local {
            Local::Serve(index) => self.serve(index, websocket, client_key.as_deref()),
            Local::Unauthorized(answer) => Ok(UpstreamResponse::Http(answer::unauthorized(&answer)?)),
            Local::Miss(miss) => Ok(UpstreamResponse::Http(miss_response(&miss))),
        }
    }

    /// The request's head as the recorder would have stored it.
    fn redacted_head(&self, request: &Request<Body>) -> Head {
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| {
                (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
            })
            .collect();
        let head = model::Request::new(
            request.method().as_str(),
            request.uri().to_string(),
            headers,
            model::Body::default(),
        );
        let mut interaction = Interaction::new(0, head);
        self.lock().redactor.redact(&mut interaction);
        let model::Request { method, url, headers, .. } = interaction.request;
        Head { method, url, headers }
    }

    fn decide(&self, live: &Head) -> Decision {
        let key = Key::of(&live.method, &live.url);
        let mut state = self.lock();
        let mut used_up = None;
        if let Some(key) = &key {
            if let Some(answer) = self.provider_refusal(&state.book, key, live) {
                tracing::debug!(request = %live.line(), "credential missing; answering as the provider");
                state.unauthorized.push(live.line());
                return Decision::Local(Local::Unauthorized(answer));
            }
            match state.book.take(key) {
                Take::Serve { index, again } => {
                    tracing::debug!(seq = self.entries[index].seq, %key, again, "replaying");
                    return Decision::Local(Local::Serve(index));
                }
                Take::UsedUp { recorded } => used_up = Some(recorded),
                Take::Unknown => {}
            }
        }
        if let Some(upstream) = &self.config.forward_misses {
            state.forwarded.push(live.line());
            return Decision::Forward(upstream.clone());
        }
        let miss = explain(live, key.as_ref(), used_up, &self.entries);
        state.misses.push(miss.clone());
        drop(state);
        if self.config.echo_misses {
            crate::files::say(&miss);
        }
        Decision::Local(Local::Miss(miss))
    }

    /// The provider's 401 when `--emulate-auth` is on, the interaction `key`
    /// would get carried a credential and `live` lacks it, and the catalog
    /// knows how the endpoint's provider refuses. Serves nothing: the
    /// recorded answer stays for a retry that carries the credential.
    fn provider_refusal(&self, book: &Book, key: &Key, live: &Head) -> Option<ProviderAnswer> {
        let catalog = self.config.emulate_auth.as_ref()?;
        let recorded = &self.interactions[book.next(key)?].request.headers;
        if !auth::lacks_recorded_credential(recorded, &live.headers) {
            return None;
        }
        catalog.unauthorized_for(&live.method, &live.url).cloned()
    }

    /// Answer with interaction `index`.
    fn serve(
        &self,
        index: usize,
        websocket: bool,
        client_key: Option<&[u8]>,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let interaction = &self.interactions[index];
        let Some(response) = &interaction.response else {
            let error = interaction.error.as_deref().unwrap_or("recorded without a response");
            return Err(UpstreamError::new(error));
        };
        if response.status == StatusCode::SWITCHING_PROTOCOLS.as_u16() {
            if !websocket {
                return Err(UpstreamError::new(format!(
                    "replay: recorded #{} is a WebSocket session, but this request is not an upgrade",
                    interaction.seq
                )));
            }
            let session = interaction.websocket.clone().unwrap_or_default();
            let head = answer::websocket_head(response, client_key);
            return Ok(UpstreamResponse::WebSocket(WsSession {
                head,
                socket: websocket::play(session, self.config.pace),
            }));
        }
        let failure = interaction.error.clone().filter(|e| e.starts_with(RESPONSE_CUT_SHORT));
        Ok(UpstreamResponse::Http(answer::recorded(response, &self.dir, self.config.pace, failure)?))
    }
}

impl Upstream for Replay {
    fn send(&self, request: Request<Body>) -> BoxFuture<'_, Result<UpstreamResponse, UpstreamError>> {
        Box::pin(self.answer(request))
    }

    fn tunnel(&self, host: &str, port: u16) -> BoxFuture<'_, Result<BoxIo, UpstreamError>> {
        match &self.config.forward_misses {
            Some(upstream) => upstream.tunnel(host, port),
            None => {
                let message = format!(
                    "replay is offline: the --passthrough tunnel to {host}:{port} would need the network \
                     (use --on-miss forward to allow it)"
                );
                Box::pin(async move { Err(UpstreamError::new(message)) })
            }
        }
    }
}

/// The `502` a missed request gets, its JSON body explaining the miss.
fn miss_response(miss: &Miss) -> Response<Body> {
    let mut response = Response::new(body::full(miss.to_json().to_string()));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A recorded interaction never served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unused {
    /// Its `seq`.
    pub seq: u64,
    /// Its `METHOD URL`.
    pub request: String,
}

/// What a replay did: the outcome `replay` reports and exits by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Interactions in the cassette.
    pub interactions: usize,
    /// Interactions served at least once.
    pub served: usize,
    /// Requests the cassette could not answer, in order, explained.
    pub misses: Vec<Miss>,
    /// Interactions never served.
    pub unused: Vec<Unused>,
    /// Requests not in the cassette sent to the network (`--on-miss forward`), as `METHOD URL`.
    pub forwarded: Vec<String>,
    /// Requests answered with the provider's 401 (`--emulate-auth`), as `METHOD URL`.
    pub unauthorized: Vec<String>,
    /// Where the observed requests were written (`--observed`).
    pub observed: Option<PathBuf>,
    /// Things that went wrong without failing the replay (a journal write of the observed cassette…).
    pub warnings: Vec<String>,
}

impl ReplaySummary {
    /// 1 when any request missed, else 0. Forwarded requests are not misses:
    /// `--on-miss forward` asked for them to reach the network.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.misses.is_empty())
    }
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replayed {} of {} recorded interaction(s); {} miss(es), {} unused",
            self.served,
            self.interactions,
            self.misses.len(),
            self.unused.len()
        )?;
        for miss in &self.misses {
            write!(f, "\n  miss: {}", miss.reason())?;
        }
        for unused in &self.unused {
            write!(f, "\n  unused: #{} {}", unused.seq, unused.request)?;
        }
        for request in &self.forwarded {
            write!(f, "\n  forwarded (not in the cassette): {request}")?;
        }
        for request in &self.unauthorized {
            write!(f, "\n  answered 401 as the provider (--emulate-auth): {request}")?;
        }
        if let Some(path) = &self.observed {
            write!(f, "\n  observed requests written to {}", path.display())?;
        }
        for warning in &self.warnings {
            write!(f, "\n  warning: {warning}")?;
        }
        Ok(())
    }
}
