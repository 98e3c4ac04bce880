//! Which recorded interaction answers a request: the match key and the
//! per-key queues (FIFO, with `--repeat`). Pure: no I/O, no clock.
//!
//! A request matches on method + scheme + host + port + path + query, the
//! query compared as a multiset of `name=value` pairs (order-insensitive).
//! Headers, credentials included, are not part of the match: the checks judge
//! them. Both sides are compared as stored, so the live URL must be redacted
//! like the recorder redacts (secret query values become
//! `[REDACTED%20sha256:…]`) before its key is taken.

use std::collections::{HashMap, VecDeque};
use std::fmt;

/// URL schemes and what they match as: a WebSocket URL written `wss://` in a
/// hand-made cassette is the `https://` upgrade the proxy sees.
const SCHEMES: &[(&str, &str, u16)] =
    &[("http", "http", 80), ("https", "https", 443), ("ws", "http", 80), ("wss", "https", 443)];

/// What two requests must share to be "the same request".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    method: String,
    scheme: &'static str,
    host: String,
    port: u16,
    path: String,
    /// Query pairs, sorted.
    query: Vec<String>,
}

impl Key {
    /// The key of `method` + absolute `url`; `None` when the URL is not an
    /// absolute http(s)/ws(s) URL. The fragment, never sent, is ignored.
    pub fn of(method: &str, url: &str) -> Option<Self> {
        let url = url.split_once('#').map_or(url, |(before, _)| before);
        let uri: http::Uri = url.parse().ok()?;
        let (_, scheme, default_port) = SCHEMES.iter().find(|(s, _, _)| Some(*s) == uri.scheme_str())?;
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let path = if uri.path().is_empty() { "/" } else { uri.path() };
        let mut query: Vec<String> =
            uri.query().unwrap_or_default().split('&').filter(|p| !p.is_empty()).map(str::to_owned).collect();
        query.sort();
        Some(Self {
            method: method.to_ascii_uppercase(),
            scheme,
            host,
            port: uri.port_u16().unwrap_or(*default_port),
            path: path.to_owned(),
            query,
        })
    }

    /// The host, lower-case.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}://{}:{}{}", self.method, self.scheme, self.host, self.port, self.path)?;
        if !self.query.is_empty() {
            write!(f, "?{}", self.query.join("&"))?;
        }
        Ok(())
    }
}

/// What [`Book::take`] found for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Interaction `index` answers; `again` when `--repeat` serves it once more.
    Serve {
        /// Position of the interaction in the cassette.
        index: usize,
        /// Whether it was served before.
        again: bool,
    },
    /// The cassette has this request, but each of its `recorded` answers was
    /// served already (and `--repeat` is off).
    UsedUp {
        /// How many interactions the cassette has for this key.
        recorded: usize,
    },
    /// The cassette never saw this request.
    Unknown,
}

/// The recorded interactions by key, each key's served in the order its requests started.
#[derive(Debug, Clone, Default)]
pub struct Book {
    /// Not yet served, per key, in start order.
    queues: HashMap<Key, VecDeque<usize>>,
    /// How many interactions each key has, and the last of them.
    recorded: HashMap<Key, (usize, usize)>,
    /// Times each interaction was served, by position.
    served: Vec<u32>,
    repeat: bool,
}

impl Book {
    /// A book over the interactions' keys and start times (`t_ms`), by
    /// position (`None`: an interaction that cannot match anything). Each
    /// key's interactions queue in the order their requests started: a
    /// cassette lists interactions as they *finished*, and a long stream
    /// finishes after a short request that started later. With `repeat`, a
    /// key whose answers are used up serves its last one again.
    pub fn new(entries: impl IntoIterator<Item = (Option<Key>, u64)>, repeat: bool) -> Self {
        let mut book = Self { repeat, ..Self::default() };
        let mut by_key: HashMap<Key, Vec<(u64, usize)>> = HashMap::new();
        for (index, (key, t_ms)) in entries.into_iter().enumerate() {
            book.served.push(0);
            if let Some(key) = key {
                by_key.entry(key).or_default().push((t_ms, index));
            }
        }
        for (key, mut started) in by_key {
            started.sort();
            let queue: VecDeque<usize> = started.into_iter().map(|(_, index)| index).collect();
            if let Some(last) = queue.back() {
                book.recorded.insert(key.clone(), (queue.len(), *last));
            }
            book.queues.insert(key, queue);
        }
        book
    }

    /// The interaction [`Self::take`] would serve for `key`, without serving it.
    pub fn next(&self, key: &Key) -> Option<usize> {
        match self.queues.get(key).and_then(|queue| queue.front()) {
            Some(index) => Some(*index),
            None if self.repeat => self.recorded.get(key).map(|(_, last)| *last),
            None => None,
        }
    }

    /// Serve the next interaction for `key`.
    pub fn take(&mut self, key: &Key) -> Take {
        let Some((recorded, last)) = self.recorded.get(key).copied() else { return Take::Unknown };
        let fresh = self.queues.get_mut(key).and_then(VecDeque::pop_front);
        let index = match fresh {
            Some(index) => index,
            None if self.repeat => last,
            None => return Take::UsedUp { recorded },
        };
        let again = self.served[index] > 0;
        self.served[index] = self.served[index].saturating_add(1);
        Take::Serve { index, again }
    }

    /// Positions of the interactions never served, in order.
    pub fn unused(&self) -> Vec<usize> {
        self.served.iter().enumerate().filter(|(_, n)| **n == 0).map(|(i, _)| i).collect()
    }

    /// How many distinct interactions were served at least once.
    pub fn served(&self) -> usize {
        self.served.iter().filter(|n| **n > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(method: &str, url: &str) -> Key {
        Key::of(method, url).unwrap()
    }

    mod key {
        use super::*;

        #[test]
        fn query_order_does_not_matter() {
            assert_eq!(key("GET", "https://a.example/p?x=1&y=2"), key("GET", "https://a.example/p?y=2&x=1"));
            assert_ne!(key("GET", "https://a.example/p?x=1"), key("GET", "https://a.example/p?x=2"));
        }

        #[test]
        fn repeated_query_pairs_count() {
            assert_ne!(key("GET", "https://a.example/p?x=1&x=1"), key("GET", "https://a.example/p?x=1"));
        }

        #[test]
        fn default_ports_and_host_case_are_normalised() {
            assert_eq!(key("get", "https://API.openai.com:443/v1"), key("GET", "https://api.openai.com/v1"));
            assert_ne!(key("GET", "https://api.openai.com:8443/v1"), key("GET", "https://api.openai.com/v1"));
        }

        #[test]
        fn scheme_method_and_path_count() {
            let base = key("POST", "https://a.example/v1/responses");
            assert_ne!(base, key("POST", "http://a.example/v1/responses"));
            assert_ne!(base, key("GET", "https://a.example/v1/responses"));
            assert_ne!(base, key("POST", "https://a.example/v1/responses/"));
        }

        #[test]
        fn websocket_schemes_match_their_http_upgrade() {
            assert_eq!(key("GET", "wss://chatgpt.com/ws"), key("GET", "https://chatgpt.com/ws"));
            assert_eq!(key("GET", "ws://h.example/ws"), key("GET", "http://h.example:80/ws"));
        }

        #[test]
        fn fragment_is_ignored_and_empty_path_is_root() {
            assert_eq!(key("GET", "https://a.example/p?x=1#frag"), key("GET", "https://a.example/p?x=1"));
            assert_eq!(key("GET", "https://a.example"), key("GET", "https://a.example/"));
        }

        #[test]
        fn redacted_query_values_match_as_stored() {
            let marker = "[REDACTED%20sha256:0123456789ab]";
            let stored = format!("https://g.example/v1?key={marker}&alt=sse");
            let live = format!("https://g.example/v1?alt=sse&key={marker}");
            assert_eq!(key("GET", &stored), key("GET", &live));
        }

        #[test]
        fn relative_and_foreign_urls_have_no_key() {
            assert_eq!(Key::of("GET", "/v1/responses"), None);
            assert_eq!(Key::of("GET", "ftp://a.example/x"), None);
        }

        #[test]
        fn display_shows_the_normalised_request() {
            let shown = key("post", "https://API.example/p?b=2&a=1").to_string();
            assert_eq!(shown, "POST https://api.example:443/p?a=1&b=2");
        }
    }

    mod book {
        use super::*;

        const A: &str = "https://api.openai.com/v1/responses";
        const B: &str = "https://api.openai.com/v1/models";

        fn book(repeat: bool) -> Book {
            let entries =
                [(Some(key("POST", A)), 0), (Some(key("GET", B)), 5), (Some(key("POST", A)), 9), (None, 9)];
            Book::new(entries, repeat)
        }

        #[test]
        fn identical_requests_are_served_in_recorded_order() {
            let mut book = book(false);
            let a = key("POST", A);
            assert_eq!(book.take(&a), Take::Serve { index: 0, again: false });
            assert_eq!(book.take(&a), Take::Serve { index: 2, again: false });
            assert_eq!(book.take(&a), Take::UsedUp { recorded: 2 });
        }

        #[test]
        fn identical_requests_queue_by_start_not_by_finish() {
            // #0 is a stream that started last but finished first.
            let entries = [(Some(key("POST", A)), 30), (Some(key("POST", A)), 10)];
            let mut book = Book::new(entries, false);
            assert_eq!(book.take(&key("POST", A)), Take::Serve { index: 1, again: false });
            assert_eq!(book.take(&key("POST", A)), Take::Serve { index: 0, again: false });
        }

        #[test]
        fn repeat_serves_the_last_answer_again() {
            let mut book = book(true);
            let a = key("POST", A);
            book.take(&a);
            book.take(&a);
            assert_eq!(book.next(&a), Some(2));
            assert_eq!(book.take(&a), Take::Serve { index: 2, again: true });
            assert_eq!(book.take(&a), Take::Serve { index: 2, again: true });
        }

        #[test]
        fn unknown_requests_are_unknown_even_with_repeat() {
            let mut book = book(true);
            assert_eq!(book.take(&key("GET", "https://chatgpt.com/")), Take::Unknown);
            assert_eq!(book.next(&key("GET", "https://chatgpt.com/")), None);
        }

        #[test]
        fn next_peeks_without_serving() {
            let mut book = book(false);
            let b = key("GET", B);
            assert_eq!(book.next(&b), Some(1));
            assert_eq!(book.next(&b), Some(1));
            assert_eq!(book.take(&b), Take::Serve { index: 1, again: false });
            assert_eq!(book.next(&b), None);
        }

        #[test]
        fn unused_lists_what_was_never_served_including_unmatchable() {
            let mut book = book(true);
            book.take(&key("POST", A));
            assert_eq!(book.unused(), [1, 2, 3]);
            assert_eq!(book.served(), 1);
        }
    }
}
