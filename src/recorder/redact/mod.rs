//! Redaction: every secret is replaced by `[REDACTED sha256:…]` before an
//! interaction reaches the journal or the cassette.
//!
//! Each interaction is redacted in two steps:
//! 1. **by position in its structure** — credential headers, known
//!    (`credential::CREDENTIAL_HEADERS`, keeping the scheme; each cookie value, keeping
//!    names) or named like one (`x-custom-secret`), with the password of
//!    `Basic` credentials learned; secret fields (`SECRET_FIELDS`) of a JSON
//!    body at any depth;
//! 2. **in every text** ([`texts`]: the URL, header values, each JSON string,
//!    text and base64 bodies as their bytes, the chunks of a stream joined,
//!    SSE fields, WebSocket messages, error text), one finder:
//!    by position ([`finder`]: JSON fields even pretty, escaped or nested in
//!    a string, form and query pairs, multipart parts, quoted header lines,
//!    credential path segments), by shape (token-shaped values,
//!    [`find_tokens`]) and by value (every form — as is, JSON-escaped,
//!    percent-encoded — of every secret seen in this or an earlier
//!    interaction, or in the `--profiles` stores).
//!
//! Secrets live only in memory. Values shorter than [`MIN_SEEN_LEN`] are
//! redacted where they were found but not hunted elsewhere: replacing a
//! four-letter cookie value in every body would destroy data and hide nothing.
//! Every fingerprint written gets its facts (kind, profile, account) in
//! [`Redactor::credentials`], which becomes `meta.credentials`.

mod fields;
mod finder;
mod texts;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use base64::Engine as _;
use serde_json::Value;

use self::fields::{field_secret, header_secrets, is_redacted, replace_pair_values, url_marker};
use self::finder::TextKind;
use self::texts::{Text, Visit, as_text, for_each_text};
use crate::cassette::model::json_text::JsonString;
use crate::cassette::model::{Body, BodyContent, Cassette, CredentialFacts, Headers, Interaction, JsonText};
use crate::cassette::wire::BASE64;
use crate::credential::tokens::{find_tokens, may_hold_token};
use crate::credential::{self, Placement, fingerprint, redaction_marker};
use crate::exchange::content::percent_encode;
use crate::openclaw::profiles::AuthStore;

/// Shortest secret that is hunted by value everywhere.
pub const MIN_SEEN_LEN: usize = 8;

/// A secret hunted by value, with the forms it can take in text.
#[derive(Debug, Clone)]
struct Seen {
    secret: String,
    fingerprint: String,
    marker: String,
    /// How many secrets were known before this one.
    learned_after: usize,
    /// The value, JSON-escaped and percent-encoded (each once).
    forms: Vec<Form>,
}

/// One way a secret is written in text, with its searcher built once.
#[derive(Debug, Clone)]
struct Form {
    text: String,
    /// The URL-encoded form, which gets a URL-safe marker.
    url: bool,
    finder: memchr::memmem::Finder<'static>,
}

impl Form {
    fn new(text: String, url: bool) -> Self {
        let finder = memchr::memmem::Finder::new(text.as_bytes()).into_owned();
        Self { text, url, finder }
    }
}

impl Seen {
    fn new(secret: &str, learned_after: usize) -> Self {
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let mut forms = vec![Form::new(secret.to_owned(), false)];
        for (form, url) in [(escaped.trim_matches('"').to_owned(), false), (percent_encode(secret), true)] {
            if !forms.iter().any(|f| f.text == form) {
                forms.push(Form::new(form, url));
            }
        }
        Self {
            secret: secret.to_owned(),
            fingerprint: fingerprint(secret),
            marker: redaction_marker(secret),
            learned_after,
            forms,
        }
    }
}

/// One form of a secret to find in bytes, and the marker that replaces it.
pub(crate) struct Needle {
    /// The bytes to find.
    pub(crate) form: Vec<u8>,
    /// What goes in their place.
    pub(crate) marker: Vec<u8>,
    /// The secret this is a form of.
    pub(crate) secret: String,
}

/// What the profile stores say about one secret.
#[derive(Debug, Clone)]
struct ProfileFact {
    profile: String,
    account: Option<String>,
    store: Option<String>,
}

/// How much of the finder a pass over a text runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Positions, shapes and values: what a new interaction gets.
    Find,
    /// Secrets learned since the seen count was this, by value: enough
    /// again after learning one.
    Seen(usize),
}

/// Redacts interactions one after another, remembering (in memory only) the
/// secrets it has seen so later occurrences are redacted too.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Hunted secrets, longest first so a secret containing another goes first.
    seen: Vec<Seen>,
    profiles: HashMap<String, ProfileFact>,
    credentials: BTreeMap<String, CredentialFacts>,
}

impl Redactor {
    /// A redactor that already knows the secrets of `stores` (their access
    /// tokens, tokens and keys), so they are redacted wherever they appear and
    /// named by profile in [`Self::credentials`].
    pub fn new(stores: &[AuthStore]) -> Self {
        let mut redactor = Self::default();
        // Several stores may hold the same profile id: then each fact names its store.
        let named = stores.len() > 1;
        for store in stores {
            for (id, cred) in &store.profiles {
                let Some(secret) = cred.secret.as_deref().filter(|s| !s.is_empty()) else { continue };
                let account = cred.account().map(|a| fingerprint(&a));
                let store = store.name.clone().filter(|_| named);
                let fact = ProfileFact { profile: id.clone(), account, store };
                redactor.profiles.entry(secret.to_owned()).or_insert(fact);
                redactor.learn(secret);
            }
        }
        redactor
    }

    /// Redact every secret in `interaction`, learning new ones on the way.
    /// When that taught a secret, the texts searched before it was known
    /// are searched once more.
    pub fn redact(&mut self, interaction: &mut Interaction) {
        let known = self.seen.len();
        self.redact_structure(interaction);
        for_each_text(interaction, &mut PassOver { redactor: self, pass: Pass::Find, changed: false });
        if self.seen.len() > known {
            self.scrub(interaction);
        }
    }

    /// Replace every secret seen so far in `interaction`, by value. The
    /// recorder runs it over the whole cassette at the end.
    pub fn scrub(&mut self, interaction: &mut Interaction) -> bool {
        self.scrub_since(interaction, 0)
    }

    /// Replace, by value, the secrets learned since [`Self::seen_count`] was
    /// `since`; whether anything changed. The recorder runs it over earlier
    /// interactions when it learns a secret.
    pub(crate) fn scrub_since(&mut self, interaction: &mut Interaction, since: usize) -> bool {
        let mut over = PassOver { redactor: self, pass: Pass::Seen(since), changed: false };
        for_each_text(interaction, &mut over);
        over.changed
    }

    /// The last step of a recording or an import: scrub every interaction
    /// again (a secret first seen late may sit in earlier ones), turn the
    /// JSON bodies held as text into values ([`Interaction::settle`]) and
    /// add the facts of every fingerprint to `meta.credentials`.
    pub fn finish(&mut self, cassette: &mut Cassette) {
        for interaction in &mut cassette.interactions {
            self.scrub(interaction);
            interaction.settle();
        }
        cassette.meta.credentials.extend(self.credentials.clone());
    }

    /// Fingerprint → facts for every secret of the stores this redactor was
    /// made with, seen or not: what `meta.credentials` would say of each.
    pub fn profile_facts(&self) -> BTreeMap<String, CredentialFacts> {
        self.profiles.keys().map(|secret| (fingerprint(secret), facts(secret, &self.profiles))).collect()
    }

    /// Fingerprint → facts for every secret redacted so far: `meta.credentials`.
    pub fn credentials(&self) -> &BTreeMap<String, CredentialFacts> {
        &self.credentials
    }

    /// The secrets hunted by value (for the audit of what was written).
    pub fn seen_secrets(&self) -> Vec<String> {
        self.seen.iter().map(|s| s.secret.clone()).collect()
    }

    /// How many secrets are hunted by value: it grows when one is learned.
    pub(crate) fn seen_count(&self) -> usize {
        self.seen.len()
    }

    /// Learn the secrets `bytes` (a block of a side file, see
    /// [`super::blobs`]) holds by position or shape; whether any was new.
    pub(crate) fn learn_from(&mut self, bytes: &[u8]) -> bool {
        let known = self.seen.len();
        for found in finder::find(TextKind::Plain, bytes) {
            self.learn(&found.secret);
        }
        for token in tokens_in(bytes) {
            self.learn(&token);
        }
        self.seen.len() > known
    }

    /// Every form of every secret seen so far, with what replaces it, longest
    /// first: what a byte stream (a side file) is searched for.
    pub(crate) fn needles(&self) -> Vec<Needle> {
        let mut needles: Vec<Needle> = Vec::new();
        for seen in &self.seen {
            for form in &seen.forms {
                if !needles.iter().any(|n| n.form == form.text.as_bytes()) {
                    let marker = if form.url { url_marker(&seen.marker) } else { seen.marker.clone() };
                    needles.push(Needle {
                        form: form.text.as_bytes().to_vec(),
                        marker: marker.into_bytes(),
                        secret: seen.secret.clone(),
                    });
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.form.len()));
        needles
    }

    /// Note that `secret` was replaced somewhere (a side file), so its
    /// fingerprint's facts go into `meta.credentials`.
    pub(crate) fn credit(&mut self, secret: &str) {
        let Self { profiles, credentials, .. } = self;
        credentials.entry(fingerprint(secret)).or_insert_with(|| facts(secret, profiles));
    }

    fn learn(&mut self, secret: &str) {
        if secret.len() < MIN_SEEN_LEN || is_redacted(secret) || self.seen.iter().any(|s| s.secret == secret)
        {
            return;
        }
        let at = self.seen.partition_point(|s| s.secret.len() >= secret.len());
        self.seen.insert(at, Seen::new(secret, self.seen.len()));
    }

    /// The marker for `secret`, recording its facts and learning it. A
    /// secret seen before (every request's bearer, in a recording) reuses
    /// the fingerprint and marker computed when it was first learned.
    fn mark(&mut self, secret: &str) -> String {
        self.learn(secret);
        let (fingerprint, marker) = match self.seen.iter().find(|s| s.secret == secret) {
            Some(seen) => (seen.fingerprint.clone(), seen.marker.clone()),
            // Too short to hunt by value: computed afresh.
            None => (fingerprint(secret), redaction_marker(secret)),
        };
        self.credentials.entry(fingerprint).or_insert_with(|| facts(secret, &self.profiles));
        marker
    }

    /// Step 1: the secrets the interaction's structure puts in known places.
    fn redact_structure(&mut self, interaction: &mut Interaction) {
        self.redact_headers(&mut interaction.request.headers);
        self.redact_body(&mut interaction.request.body);
        if let Some(response) = &mut interaction.response {
            self.redact_headers(&mut response.headers);
            self.redact_body(&mut response.body);
        }
    }

    fn redact_headers(&mut self, headers: &mut Headers) {
        for (name, value) in headers.iter_mut() {
            let Some((placement, secrets)) = header_secrets(name, value) else { continue };
            let secrets: Vec<String> = secrets.into_iter().map(str::to_owned).collect();
            if let Some(password) = basic_password(value) {
                self.learn(&password);
            }
            *value = match placement {
                Placement::Cookies | Placement::SetCookie => {
                    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
                    replace_pair_values(value, &refs, &mut |s| self.mark(s))
                }
                Placement::AfterScheme | Placement::Whole => {
                    secrets.iter().fold(value.clone(), |v, s| v.replace(s.as_str(), &self.mark(s)))
                }
            };
        }
    }

    fn redact_body(&mut self, body: &mut Body) {
        match &mut body.content {
            BodyContent::Json(value) => self.redact_json(value),
            BodyContent::JsonText(json) => self.redact_json_text_fields(json),
            _ => {}
        }
    }

    /// Secret fields of a structured JSON value, at any depth.
    fn redact_json(&mut self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (name, field) in map.iter_mut() {
                    match field {
                        Value::String(text) => {
                            if let Some(secret) = field_secret(name, text).map(str::to_owned) {
                                *text = text.replace(&secret, &self.mark(&secret));
                            }
                        }
                        other => self.redact_json(other),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_json(item)),
            _ => {}
        }
    }

    /// Step 2 on one text: find its secrets (all of the finder, or by value
    /// only), learn them, and splice their markers in; whether it changed.
    fn redact_text(&mut self, kind: TextKind, pass: Pass, text: &mut Text) -> bool {
        if text.single().is_some_and(|bytes| self.nothing_in(kind, pass, bytes)) {
            return false;
        }
        let Some((joined, starts)) = text.joined() else { return false };
        let mut spans: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
        let url_safe = |marker: &str, url: bool| match url || kind == TextKind::Url {
            true => url_marker(marker).into_bytes(),
            false => marker.as_bytes().to_vec(),
        };
        let since = match pass {
            Pass::Find => 0,
            Pass::Seen(since) => since,
        };
        if pass == Pass::Find {
            for found in finder::find(kind, &joined) {
                let marker = self.mark(&found.secret);
                spans.push((found.range, url_safe(&marker, found.url)));
            }
            for token in tokens_in(&joined) {
                self.learn(&token);
            }
        }
        let Self { seen, profiles, credentials } = self;
        for s in seen.iter().filter(|s| s.learned_after >= since) {
            let mut hit = false;
            for form in &s.forms {
                for at in form.finder.find_iter(&joined) {
                    spans.push((at..at + form.text.len(), url_safe(&s.marker, form.url)));
                    hit = true;
                }
            }
            if hit {
                credentials.entry(s.fingerprint.clone()).or_insert_with(|| facts(&s.secret, profiles));
            }
        }
        if spans.is_empty() {
            return false;
        }
        let spans = disjoint(spans);
        text.splice(&joined, &starts, &spans);
        true
    }
}

/// One pass of the redactor over the texts of an interaction.
struct PassOver<'r> {
    redactor: &'r mut Redactor,
    pass: Pass,
    /// Whether any text changed.
    changed: bool,
}

impl Visit for PassOver<'_> {
    fn text(&mut self, kind: TextKind, text: &mut Text) {
        self.changed |= self.redactor.redact_text(kind, self.pass, text);
    }

    fn json_text(&mut self, json: &mut JsonText) {
        self.changed |= self.redactor.redact_json_text(self.pass, json);
    }
}

impl Redactor {
    /// Step 1 on a JSON body held as text: the secret fields' values, as
    /// [`Self::redact_json`] does on a parsed one. When it changes none, its
    /// scan stays with the text for step 2.
    fn redact_json_text_fields(&mut self, json: &mut JsonText) {
        let strings = json.take_strings();
        let changed = rewrite_strings(json, &strings, |text, string| {
            let name = decode_string(text, string.field.as_ref()?)?;
            let value = decode_string(text, &string.span)?;
            let secret = field_secret(&name, &value)?;
            Some(value.replace(secret, &self.mark(secret)))
        });
        if !changed {
            json.keep_strings(strings);
        }
    }

    /// Step 2 on a JSON body held as text: each string and each long key
    /// as a text, as for a parsed body, without parsing it. One search of
    /// the whole text for the secrets seen finds the strings holding one;
    /// only those, the strings with an escape, and (on a first pass) those
    /// where the finder or a token shape could match are looked at further.
    /// Its strings are the scan step 1 left with it, when there is one.
    fn redact_json_text(&mut self, pass: Pass, json: &mut JsonText) -> bool {
        let bytes = json.get().as_bytes();
        let hits = self.value_hits(bytes, pass);
        if pass != Pass::Find && hits.is_empty() && memchr::memchr(b'\\', bytes).is_none() {
            // Nothing seen in it, and every string is its bytes: nothing to find.
            return false;
        }
        let strings = json.take_strings();
        rewrite_strings(json, &strings, |text, string| {
            if !may_hold_secret(text, string, pass, &hits) {
                return None;
            }
            let mut value = decode_string(text, &string.span)?.into_owned();
            if string.key && value.len() < MIN_SEEN_LEN {
                return None;
            }
            as_text(&mut value, |t| self.redact_text(TextKind::Plain, pass, t)).then_some(value)
        })
    }

    /// Whether a pass over `bytes` would surely find nothing, as a look at a
    /// few bytes and one search per secret form says: no secret seen in
    /// them, and on a first pass nothing the finder's positions start with
    /// (`"`, `=`, `:`, nor a URL's path) and no token shape. Most header
    /// values are such, and are then not copied.
    fn nothing_in(&self, kind: TextKind, pass: Pass, bytes: &[u8]) -> bool {
        let positions = || {
            kind == TextKind::Url
                || memchr::memchr3(b'"', b'=', b':', bytes).is_some()
                || may_hold_token(bytes)
        };
        let seen_in = || self.hunted_forms(pass).any(|f| f.finder.find(bytes).is_some());
        !((pass == Pass::Find && positions()) || seen_in())
    }

    /// Where in `bytes` the secrets this pass hunts by value sit.
    fn value_hits(&self, bytes: &[u8], pass: Pass) -> Vec<Range<usize>> {
        let forms = self.hunted_forms(pass);
        forms.flat_map(|f| f.finder.find_iter(bytes).map(|at| at..at + f.text.len())).collect()
    }

    /// The forms of the secrets this pass hunts by value.
    fn hunted_forms(&self, pass: Pass) -> impl Iterator<Item = &Form> {
        let since = match pass {
            Pass::Find => 0,
            Pass::Seen(since) => since,
        };
        self.seen.iter().filter(move |s| s.learned_after >= since).flat_map(|s| &s.forms)
    }
}

/// Whether looking at `string` of `text` could find anything: it holds an
/// escape (its text is not its bytes) or one of `hits` (a secret seen), or
/// on a first pass what the finder's positions start with (`=`, `:`) or a
/// token.
fn may_hold_secret(text: &str, string: &JsonString, pass: Pass, hits: &[Range<usize>]) -> bool {
    let span = &string.span;
    if string.escaped || hits.iter().any(|hit| hit.start < span.end && span.start < hit.end) {
        return true;
    }
    let bytes = &text.as_bytes()[span.clone()];
    pass == Pass::Find && (memchr::memchr2(b'=', b':', bytes).is_some() || may_hold_token(bytes))
}

/// Give each of `strings` (those of `json`) to `redact` (the text, the
/// string); where it answers a new text, that string is written anew.
/// Whether any was.
fn rewrite_strings(
    json: &mut JsonText,
    strings: &[JsonString],
    mut redact: impl FnMut(&str, &JsonString) -> Option<String>,
) -> bool {
    let text = json.get();
    let mut out = String::new();
    let mut cursor = 0;
    let mut changed = false;
    for string in strings {
        let Some(value) = redact(text, string) else { continue };
        let quoted = serde_json::to_string(&value).unwrap_or_default();
        let (start, end) = (string.span.start - 1, string.span.end + 1);
        if quoted.as_bytes() == &text.as_bytes()[start..end] {
            continue;
        }
        out.push_str(&text[cursor..start]);
        out.push_str(&quoted);
        cursor = end;
        changed = true;
    }
    if !changed {
        return false;
    }
    out.push_str(&text[cursor..]);
    match JsonText::new(&out) {
        Some(redacted) => *json = redacted,
        None => tracing::warn!("a redacted JSON body did not read back as JSON"),
    }
    true
}

/// The text of the JSON string whose content is `span` of `text`.
fn decode_string<'t>(text: &'t str, span: &Range<usize>) -> Option<Cow<'t, str>> {
    let content = &text[span.clone()];
    if !content.contains('\\') {
        return Some(Cow::Borrowed(content));
    }
    serde_json::from_str(&text[span.start - 1..span.end + 1]).ok().map(Cow::Owned)
}

/// `spans` in order, each kept only if it does not overlap one before it
/// (of two starting together, the longer wins).
fn disjoint(mut spans: Vec<(Range<usize>, Vec<u8>)>) -> Vec<(Range<usize>, Vec<u8>)> {
    spans.sort_by_key(|(range, _)| (range.start, std::cmp::Reverse(range.end)));
    let mut kept: Vec<(Range<usize>, Vec<u8>)> = Vec::with_capacity(spans.len());
    for span in spans {
        if kept.last().is_none_or(|(last, _)| span.0.start >= last.end) {
            kept.push(span);
        }
    }
    kept
}

/// The password of `Basic base64(user:password)`: hunted by value, since a
/// client may send it again elsewhere.
fn basic_password(value: &str) -> Option<String> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    decoded.split_once(':').map(|(_, password)| password.to_owned())
}

/// Token-shaped values in `bytes`, looked for in its runs of ASCII (tokens are ASCII).
fn tokens_in(bytes: &[u8]) -> Vec<String> {
    let runs = bytes.split(|b| !b.is_ascii() || *b == 0).filter(|run| run.len() >= MIN_SEEN_LEN);
    runs.filter_map(|run| std::str::from_utf8(run).ok())
        .flat_map(|text| find_tokens(text).into_iter().map(|t| text[t.range].to_owned()).collect::<Vec<_>>())
        .collect()
}

/// The facts `meta.credentials` keeps about `secret`.
fn facts(secret: &str, profiles: &HashMap<String, ProfileFact>) -> CredentialFacts {
    let profile = profiles.get(secret);
    let account = credential::chatgpt_account_id(secret)
        .map(|a| fingerprint(&a))
        .or_else(|| profile.and_then(|p| p.account.clone()));
    CredentialFacts {
        kind: credential::classify(secret).to_owned(),
        profile: profile.map(|p| p.profile.clone()),
        account,
        store: profile.and_then(|p| p.store.clone()),
    }
}

#[cfg(test)]
mod tests;
