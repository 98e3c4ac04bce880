//! Redaction: every secret is replaced by `[REDACTED sha256:…]` before an
//! interaction reaches the journal or the cassette.
//!
//! Three passes over each interaction:
//! 1. **by position** — credential headers ([`CREDENTIAL_HEADERS`], keeping
//!    the scheme; each cookie value, keeping names), secret JSON and
//!    form-urlencoded fields (`SECRET_FIELDS`) in requests *and* responses,
//!    and secret query parameters;
//! 2. **by shape** — token-shaped values anywhere ([`find_tokens`]);
//! 3. **by value** — every occurrence of a secret already seen (in this or an
//!    earlier interaction, or in the `--profiles` stores), anywhere: headers,
//!    URL, bodies, SSE data, WebSocket messages, error text.
//!
//! Secrets live only in memory. Values shorter than [`MIN_SEEN_LEN`] are
//! redacted where they were found but not hunted elsewhere: replacing a
//! four-letter cookie value in every body would destroy data and hide nothing.
//! Every fingerprint written gets its facts (kind, profile, account) in
//! [`Redactor::credentials`], which becomes `meta.credentials`.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use serde_json::Value;

use crate::cassette::model::{Body, BodyContent, Cassette, CredentialFacts, Headers, Interaction, Payload};
use crate::cassette::wire::BASE64;
use crate::credential::tokens::find_tokens;
use crate::credential::{self, CREDENTIAL_HEADERS, Placement, fingerprint, redaction_marker};
use crate::exchange::content::{percent_decode, percent_encode};
use crate::exchange::header;
use crate::openclaw::profiles::AuthStore;

/// Shortest secret that is hunted by value everywhere.
pub const MIN_SEEN_LEN: usize = 8;

/// When a field with a secret-sounding name holds a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldRule {
    /// Always (non-empty strings).
    Always,
    /// Only when the value looks like a token ([`secret_shaped`]): names such
    /// as `key` and `token` also label ordinary data (`"token": "Hello"` in logprobs).
    IfSecretShaped,
    /// Like a credential header: `Bearer <secret>`.
    AfterScheme,
}

/// Field names (JSON keys, form fields, query parameters) that hold secrets,
/// compared as [`is_field`] does (`refresh_token`, `refreshToken` and
/// `refresh-token` are one name).
const SECRET_FIELDS: &[(&str, FieldRule)] = &[
    ("accesstoken", FieldRule::Always),
    ("refreshtoken", FieldRule::Always),
    ("idtoken", FieldRule::Always),
    ("clientsecret", FieldRule::Always),
    ("password", FieldRule::Always),
    ("passwd", FieldRule::Always),
    ("apikey", FieldRule::Always),
    ("codeverifier", FieldRule::Always),
    ("secret", FieldRule::Always),
    ("privatekey", FieldRule::Always),
    ("sessiontoken", FieldRule::Always),
    ("authtoken", FieldRule::Always),
    ("xamzsecuritytoken", FieldRule::Always),
    ("xamzsignature", FieldRule::Always),
    ("xamzcredential", FieldRule::Always),
    ("key", FieldRule::IfSecretShaped),
    ("token", FieldRule::IfSecretShaped),
    ("access", FieldRule::IfSecretShaped),
    ("refresh", FieldRule::IfSecretShaped),
    ("signature", FieldRule::IfSecretShaped),
    ("sig", FieldRule::IfSecretShaped),
    ("authorization", FieldRule::AfterScheme),
];

/// Whether `name`, lower-cased without `_` and `-`, is `normalized`.
fn is_field(name: &str, normalized: &str) -> bool {
    name.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).eq(normalized.chars())
}

/// The rule of the secret field `name` is, if it is one. This runs for every
/// JSON key of every exchange, so ASCII names (nearly all) are normalised
/// once on the stack rather than allocated or compared char by char.
fn secret_field_rule(name: &str) -> Option<FieldRule> {
    if !name.is_ascii() {
        return SECRET_FIELDS.iter().find(|(n, _)| is_field(name, n)).map(|(_, rule)| *rule);
    }
    // Longer than every name in SECRET_FIELDS.
    let mut buf = [0u8; 24];
    let mut len = 0;
    for byte in name.bytes().filter(|b| *b != b'_' && *b != b'-') {
        *buf.get_mut(len)? = byte.to_ascii_lowercase();
        len += 1;
    }
    SECRET_FIELDS.iter().find(|(n, _)| n.as_bytes() == &buf[..len]).map(|(_, rule)| *rule)
}

/// The secret inside field `name` holding `value`, if the name is a secret's.
fn field_secret<'a>(name: &str, value: &'a str) -> Option<&'a str> {
    let rule = secret_field_rule(name)?;
    let secret = match rule {
        FieldRule::Always => value,
        FieldRule::IfSecretShaped => Some(value).filter(|v| secret_shaped(v))?,
        FieldRule::AfterScheme => after_scheme(value),
    };
    (!secret.is_empty() && !is_redacted(secret)).then_some(secret)
}

/// At least 16 characters of one word, with letters and digits: how keys and tokens look.
fn secret_shaped(value: &str) -> bool {
    value.len() >= 16
        && !value.chars().any(char::is_whitespace)
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
}

/// `Bearer abc` → `abc`; a value without a scheme is all secret.
fn after_scheme(value: &str) -> &str {
    match value.trim().split_once(' ') {
        Some((_, rest)) => rest.trim_start(),
        None => value.trim(),
    }
}

/// Already a marker (or holding one): never a secret again.
fn is_redacted(value: &str) -> bool {
    value.contains("[REDACTED")
}

/// A marker in a URL or form body: the same marker, with its space encoded.
fn url_marker(marker: &str) -> String {
    marker.replace(' ', "%20")
}

/// The secrets in a credential header's value, as slices of it.
fn header_secrets<'a>(placement: Placement, value: &'a str) -> Vec<&'a str> {
    let pair_value = |pair: &'a str| pair.split_once('=').map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let secrets = match placement {
        Placement::AfterScheme => vec![after_scheme(value)],
        Placement::Whole => vec![value.trim()],
        Placement::Cookies => value.split(';').filter_map(pair_value).collect(),
        Placement::SetCookie => value.split(';').next().and_then(pair_value).into_iter().collect(),
    };
    secrets.into_iter().filter(|s| !s.is_empty() && !is_redacted(s)).collect()
}

/// `value` with each `name=secret` replaced by `name=<marker>`, rebuilt
/// pair by pair so a secret equal to a cookie name cannot clobber the name.
fn replace_pair_values(value: &str, secrets: &[&str], mark: &mut dyn FnMut(&str) -> String) -> String {
    value
        .split(';')
        .map(|pair| match pair.split_once('=') {
            Some((name, v)) if secrets.contains(&v.trim()) => format!("{name}={}", mark(v.trim())),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A secret hunted by value, with the forms it can take in text.
#[derive(Debug, Clone)]
struct Seen {
    secret: String,
    fingerprint: String,
    marker: String,
    /// Forms to look for in plain text: the value, and its JSON-escaped form.
    plain: Vec<String>,
    /// Forms to look for in URLs and form bodies: the value, and percent-encoded.
    url: Vec<String>,
}

impl Seen {
    fn new(secret: &str) -> Self {
        Self {
            secret: secret.to_owned(),
            fingerprint: fingerprint(secret),
            marker: redaction_marker(secret),
            plain: plain_forms(secret),
            url: forms(secret, percent_encode(secret)),
        }
    }
}

/// How `secret` can appear in plain text: as is, and JSON-escaped (in
/// bodies kept as text).
fn plain_forms(secret: &str) -> Vec<String> {
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    forms(secret, escaped.trim_matches('"').to_owned())
}

/// `secret`, and `other` if it differs.
fn forms(secret: &str, other: String) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    if other != secret {
        forms.push(other);
    }
    forms
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

/// Which kind of text a string is, for finding and replacing secrets in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Plain text: a header value, a JSON string, SSE data, a message.
    Plain,
    /// A URL: secrets may be percent-encoded; markers get `%20` for the space.
    Url,
    /// Base64 of bytes: secrets are searched in the decoded bytes.
    Base64,
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
    ///
    /// Passes 2 and 3 share one walk over the strings: each string's tokens
    /// are learned, then the string is scrubbed. Only when that taught us a
    /// secret does a second walk follow, for strings scrubbed before it was
    /// known; in a long recording that is rare, and the recorder does this
    /// for every exchange.
    pub fn redact(&mut self, interaction: &mut Interaction) {
        self.redact_by_position(interaction);
        let known = self.seen.len();
        for_each_string(interaction, &mut |slot, text| {
            for token in tokens_in(slot, text) {
                self.learn(&token);
            }
            scrub_string(&self.seen, &self.profiles, &mut self.credentials, slot, text);
        });
        if self.seen.len() > known {
            self.scrub(interaction);
        }
    }

    /// Replace every secret seen so far in `interaction` (pass 3 alone). The
    /// recorder runs it once more over the whole cassette at the end, so a
    /// secret first seen late is also gone from earlier interactions.
    pub fn scrub(&mut self, interaction: &mut Interaction) {
        let Self { seen, profiles, credentials } = self;
        for_each_string(interaction, &mut |slot, text| scrub_string(seen, profiles, credentials, slot, text));
    }

    /// The last step of a recording or an import: scrub every interaction
    /// again (a secret first seen late may sit in earlier ones) and add the
    /// facts of every fingerprint to `meta.credentials`.
    pub fn finish(&mut self, cassette: &mut Cassette) {
        for interaction in &mut cassette.interactions {
            self.scrub(interaction);
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

    /// Learn the token-shaped values in `text` (a block of a side file, see
    /// [`super::blobs`]); whether any of them was new.
    pub(crate) fn learn_tokens(&mut self, text: &str) -> bool {
        let known = self.seen.len();
        for token in tokens_in(Slot::Plain, text) {
            self.learn(&token);
        }
        self.seen.len() > known
    }

    /// Every form of every secret seen so far, with what replaces it, longest
    /// first: what a byte stream (a side file) is searched for.
    pub(crate) fn needles(&self) -> Vec<Needle> {
        let mut needles: Vec<Needle> = Vec::new();
        for seen in &self.seen {
            let url_marker = url_marker(&seen.marker);
            let forms =
                seen.plain.iter().map(|f| (f, &seen.marker)).chain(seen.url.iter().map(|f| (f, &url_marker)));
            for (form, marker) in forms {
                if !needles.iter().any(|n| n.form == form.as_bytes()) {
                    needles.push(Needle {
                        form: form.as_bytes().to_vec(),
                        marker: marker.as_bytes().to_vec(),
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
        self.seen.insert(at, Seen::new(secret));
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

    fn redact_by_position(&mut self, interaction: &mut Interaction) {
        let request = &mut interaction.request;
        self.redact_headers(&mut request.headers);
        request.url = self.redact_url(&request.url);
        let form = is_form(&request.headers);
        self.redact_body(&mut request.body, form);
        if let Some(response) = &mut interaction.response {
            self.redact_headers(&mut response.headers);
            let form = is_form(&response.headers);
            self.redact_body(&mut response.body, form);
        }
        for message in interaction.websocket.iter_mut().flat_map(|ws| ws.messages.iter_mut()) {
            if let Payload::Text(text) = &mut message.payload {
                self.redact_json_text(text);
            }
        }
    }

    fn redact_headers(&mut self, headers: &mut Headers) {
        for (name, value) in headers.iter_mut() {
            let Some((_, placement)) = CREDENTIAL_HEADERS.iter().find(|(n, _)| n == name) else { continue };
            let secrets: Vec<String> =
                header_secrets(*placement, value).into_iter().map(str::to_owned).collect();
            if secrets.is_empty() {
                continue;
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

    /// The URL with secret query parameters replaced by (URL-safe) markers.
    fn redact_url(&mut self, url: &str) -> String {
        let (before_fragment, fragment) = url.split_once('#').map_or((url, None), |(u, f)| (u, Some(f)));
        let Some((base, query)) = before_fragment.split_once('?') else { return url.to_owned() };
        let mut out = format!("{base}?{}", self.redact_pairs(query));
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }

    /// `a=1&key=SECRET` → `a=1&key=[REDACTED%20sha256:…]` (query strings and form bodies).
    fn redact_pairs(&mut self, pairs: &str) -> String {
        pairs
            .split('&')
            .map(|pair| {
                let Some((name, raw)) = pair.split_once('=') else { return pair.to_owned() };
                let name_text = percent_decode(name).unwrap_or_else(|| name.to_owned());
                let value = percent_decode(raw).unwrap_or_else(|| raw.to_owned());
                match field_secret(&name_text, &value) {
                    Some(secret) if secret == value => format!("{name}={}", url_marker(&self.mark(secret))),
                    Some(secret) => {
                        format!("{name}={}", percent_encode(&value.replace(secret, &self.mark(secret))))
                    }
                    None => pair.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    fn redact_body(&mut self, body: &mut Body, form: bool) {
        match &mut body.content {
            BodyContent::Json(value) => self.redact_json(value),
            BodyContent::Text(text) if form => *text = self.redact_pairs(text),
            BodyContent::Text(text) => self.redact_json_text(text),
            BodyContent::Sse(events) => events.iter_mut().for_each(|e| self.redact_json_text(&mut e.data)),
            BodyContent::Empty(_)
            | BodyContent::Base64(_)
            | BodyContent::Chunks(_)
            | BodyContent::File(_) => {}
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

    /// Secret fields of JSON kept as text (a response that must replay byte
    /// for byte, SSE data, a WebSocket message): found in the parsed value,
    /// replaced in the text.
    fn redact_json_text(&mut self, text: &mut String) {
        let Ok(value) = serde_json::from_str::<Value>(text) else { return };
        let mut secrets = Vec::new();
        collect_field_secrets(&value, &mut secrets);
        for secret in secrets {
            let marker = self.mark(&secret);
            replace_forms(text, &plain_forms(&secret), &marker);
        }
    }
}

fn is_form(headers: &[(String, String)]) -> bool {
    header(headers, "content-type")
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

fn collect_field_secrets(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (name, field) in map {
                match field {
                    Value::String(text) => out.extend(field_secret(name, text).map(str::to_owned)),
                    other => collect_field_secrets(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_field_secrets(item, out)),
        _ => {}
    }
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

/// Replace every secret of `seen` in `text`, noting the facts of those replaced.
fn scrub_string(
    seen: &[Seen],
    profiles: &HashMap<String, ProfileFact>,
    credentials: &mut BTreeMap<String, CredentialFacts>,
    slot: Slot,
    text: &mut String,
) {
    for s in seen {
        if replace_seen(slot, text, s) {
            credentials.entry(s.fingerprint.clone()).or_insert_with(|| facts(&s.secret, profiles));
        }
    }
}

/// Token-shaped values in a string (in the decoded bytes for base64).
fn tokens_in(slot: Slot, text: &str) -> Vec<String> {
    let decoded;
    let text = match slot {
        Slot::Base64 => match BASE64.decode(text) {
            Ok(bytes) => {
                decoded = String::from_utf8_lossy(&bytes).into_owned();
                decoded.as_str()
            }
            Err(_) => return Vec::new(),
        },
        Slot::Plain | Slot::Url => text,
    };
    find_tokens(text).into_iter().map(|t| text[t.range].to_owned()).collect()
}

/// Replace every form of `seen` in `text`; whether anything was replaced.
fn replace_seen(slot: Slot, text: &mut String, seen: &Seen) -> bool {
    match slot {
        Slot::Plain => replace_forms(text, &seen.plain, &seen.marker),
        Slot::Url => replace_forms(text, &seen.url, &url_marker(&seen.marker)),
        Slot::Base64 => {
            let Ok(bytes) = BASE64.decode(text.as_str()) else { return false };
            let Some(replaced) = replace_bytes(&bytes, seen.secret.as_bytes(), seen.marker.as_bytes()) else {
                return false;
            };
            *text = BASE64.encode(replaced);
            true
        }
    }
}

fn replace_forms(text: &mut String, forms: &[String], marker: &str) -> bool {
    let mut replaced = false;
    for form in forms {
        if text.contains(form.as_str()) {
            *text = text.replace(form.as_str(), marker);
            replaced = true;
        }
    }
    replaced
}

/// `bytes` with every `needle` replaced, or `None` if there is none.
fn replace_bytes(bytes: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let first = bytes.windows(needle.len()).position(|w| w == needle)?;
    let mut out = bytes[..first].to_vec();
    let mut rest = &bytes[first..];
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    Some(out)
}

/// Call `f` on every string of `interaction` a secret could hide in. `f`
/// must leave strings shorter than [`MIN_SEEN_LEN`] alone (no secret hunted
/// by value or shape is that short), which lets JSON keys skip a copy.
fn for_each_string(interaction: &mut Interaction, f: &mut dyn FnMut(Slot, &mut String)) {
    f(Slot::Url, &mut interaction.request.url);
    for_each_header(&mut interaction.request.headers, f);
    for_each_body_string(&mut interaction.request.body, f);
    if let Some(response) = &mut interaction.response {
        for_each_header(&mut response.headers, f);
        for_each_body_string(&mut response.body, f);
    }
    if let Some(ws) = &mut interaction.websocket {
        ws.messages.iter_mut().for_each(|m| for_each_payload(&mut m.payload, f));
        if let Some(reason) = ws.close.as_mut().and_then(|c| c.reason.as_mut()) {
            f(Slot::Plain, reason);
        }
    }
    if let Some(error) = &mut interaction.error {
        f(Slot::Plain, error);
    }
}

fn for_each_header(headers: &mut Headers, f: &mut dyn FnMut(Slot, &mut String)) {
    headers.iter_mut().for_each(|(_, value)| f(Slot::Plain, value));
}

fn for_each_body_string(body: &mut Body, f: &mut dyn FnMut(Slot, &mut String)) {
    match &mut body.content {
        BodyContent::Json(value) => for_each_json_string(value, f),
        // A form body is URL-encoded text.
        BodyContent::Text(text) => {
            f(Slot::Plain, text);
            f(Slot::Url, text);
        }
        BodyContent::Base64(text) => f(Slot::Base64, text),
        BodyContent::Sse(events) => {
            for event in events {
                event.event.iter_mut().chain(event.id.iter_mut()).for_each(|t| f(Slot::Plain, t));
                f(Slot::Plain, &mut event.data);
            }
        }
        BodyContent::Chunks(chunks) => chunks.iter_mut().for_each(|c| for_each_payload(&mut c.payload, f)),
        BodyContent::Empty(_) | BodyContent::File(_) => {}
    }
}

fn for_each_payload(payload: &mut Payload, f: &mut dyn FnMut(Slot, &mut String)) {
    match payload {
        Payload::Text(text) => f(Slot::Plain, text),
        Payload::Base64(text) => f(Slot::Base64, text),
    }
}

fn for_each_json_string(value: &mut Value, f: &mut dyn FnMut(Slot, &mut String)) {
    match value {
        Value::String(text) => f(Slot::Plain, text),
        Value::Array(items) => items.iter_mut().for_each(|v| for_each_json_string(v, f)),
        Value::Object(map) => {
            map.values_mut().for_each(|v| for_each_json_string(v, f));
            for_each_key(map, f);
        }
        _ => {}
    }
}

/// Keys too: a secret used as a key would otherwise reach the file. Keys
/// cannot change in place, so the map is rebuilt (in order) only if one did.
fn for_each_key(map: &mut serde_json::Map<String, Value>, f: &mut dyn FnMut(Slot, &mut String)) {
    // A key shorter than any hunted secret cannot hold one, and most keys
    // are short: only the others are copied and looked at.
    let mut renamed: Vec<(usize, String)> = Vec::new();
    for (index, key) in map.keys().enumerate().filter(|(_, key)| key.len() >= MIN_SEEN_LEN) {
        let mut candidate = key.clone();
        f(Slot::Plain, &mut candidate);
        if candidate != *key {
            renamed.push((index, candidate));
        }
    }
    if renamed.is_empty() {
        return;
    }
    let entries = std::mem::take(map).into_iter().enumerate().map(|(index, (key, value))| {
        let new = renamed.iter().position(|(i, _)| *i == index).map(|at| renamed[at].1.clone());
        (new.unwrap_or(key), value)
    });
    *map = entries.collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::Side;
    use crate::cassette::model::{Request, Response, SseEvent, WebSocketSession, WsMessage};
    use serde_json::json;

    fn interaction(url: &str, headers: &[(&str, &str)], body: BodyContent) -> Interaction {
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let request = Request::new("POST", url, headers, Body::from(body));
        let response = Response { status: 200, headers: Vec::new(), body: Body::default() };
        Interaction { response: Some(response), ..Interaction::new(1, request) }
    }

    fn text(i: &Interaction) -> String {
        serde_json::to_string(i).unwrap()
    }

    mod pure {
        use super::*;

        #[test]
        fn field_names_are_normalised() {
            assert!(is_field("Refresh-Token", "refreshtoken"));
            assert!(!is_field("Refresh-Tokens", "refreshtoken"));
            assert_eq!(secret_field_rule("Refresh-Token"), Some(FieldRule::Always));
            assert_eq!(secret_field_rule("a_very_long_field_name_that_is_no_secret"), None);
            // Non-ASCII names take the general path: the Kelvin sign lower-cases to `k`.
            assert_eq!(secret_field_rule("\u{212a}ey"), Some(FieldRule::IfSecretShaped));
            assert_eq!(field_secret("refreshToken", "r"), Some("r"));
            assert_eq!(field_secret("client_secret", "abc"), Some("abc"));
        }

        #[test]
        fn generic_names_need_a_secret_shaped_value() {
            assert_eq!(field_secret("token", "Hello"), None);
            assert_eq!(field_secret("key", "temperature setting 1"), None);
            assert_eq!(field_secret("key", "AIzaSyA1234567890abcdef"), Some("AIzaSyA1234567890abcdef"));
        }

        #[test]
        fn authorization_field_keeps_its_scheme() {
            assert_eq!(field_secret("Authorization", "Bearer abc"), Some("abc"));
        }

        #[test]
        fn markers_are_never_secrets() {
            assert_eq!(field_secret("password", &redaction_marker("x")), None);
        }

        #[test]
        fn header_secret_positions() {
            assert_eq!(header_secrets(Placement::AfterScheme, "Bearer sk-1"), ["sk-1"]);
            assert_eq!(header_secrets(Placement::AfterScheme, "sk-1"), ["sk-1"]);
            assert_eq!(header_secrets(Placement::Cookies, "a=1; b=2; c="), ["1", "2"]);
            assert_eq!(header_secrets(Placement::SetCookie, "sid=xyz; Path=/; HttpOnly"), ["xyz"]);
        }

        #[test]
        fn cookie_values_are_replaced_pair_by_pair() {
            let out = replace_pair_values("a=a; b=2", &["a", "2"], &mut |s| format!("<{s}>"));
            assert_eq!(out, "a=<a>; b=<2>");
        }

        #[test]
        fn percent_coding_round_trips() {
            assert_eq!(percent_encode("a/b+c d"), "a%2Fb%2Bc%20d");
            assert_eq!(percent_decode("a%2Fb%2Bc+d").as_deref(), Some("a/b+c d"));
            assert_eq!(percent_decode("%zz"), None);
        }

        #[test]
        fn bytes_are_replaced_everywhere() {
            assert_eq!(replace_bytes(b"xSSySS", b"SS", b"-"), Some(b"x-y-".to_vec()));
            assert_eq!(replace_bytes(b"xy", b"SS", b"-"), None);
        }
    }

    mod by_position {
        use super::*;

        #[test]
        fn bearer_keeps_its_scheme_and_records_facts() {
            let mut i = interaction(
                "https://a/",
                &[("authorization", "Bearer sk-proj-1234")],
                BodyContent::Empty(true),
            );
            let mut r = Redactor::new(&[]);
            r.redact(&mut i);
            let marker = redaction_marker("sk-proj-1234");
            assert_eq!(i.request.headers[0].1, format!("Bearer {marker}"));
            assert_eq!(r.credentials()[&fingerprint("sk-proj-1234")].kind, "openai-key");
        }

        #[test]
        fn cookies_keep_their_names() {
            let mut i =
                interaction("https://a/", &[("cookie", "sid=abc; theme=dark")], BodyContent::Empty(true));
            Redactor::new(&[]).redact(&mut i);
            let value = &i.request.headers[0].1;
            assert!(
                value.starts_with("sid=[REDACTED sha256:") && value.contains("; theme=[REDACTED"),
                "{value}"
            );
        }

        #[test]
        fn secret_query_params_get_url_safe_markers() {
            let mut i =
                interaction("https://g/v1?alt=sse&key=AIzaSyD-secret-1234#f", &[], BodyContent::Empty(true));
            Redactor::new(&[]).redact(&mut i);
            let marker = url_marker(&redaction_marker("AIzaSyD-secret-1234"));
            assert_eq!(i.request.url, format!("https://g/v1?alt=sse&key={marker}#f"));
            assert!(i.request.url.parse::<http::Uri>().is_ok());
        }

        #[test]
        fn json_fields_at_any_depth() {
            let body = BodyContent::Json(json!({"auth": {"refresh_token": "rt-1"}, "model": "m"}));
            let mut i = interaction("https://a/", &[], body);
            Redactor::new(&[]).redact(&mut i);
            assert_eq!(
                i.request.body.content,
                BodyContent::Json(json!({"auth": {"refresh_token": redaction_marker("rt-1")}, "model": "m"}))
            );
        }

        #[test]
        fn form_fields_in_requests() {
            let mut i = interaction(
                "https://auth/oauth/token",
                &[("content-type", "application/x-www-form-urlencoded")],
                BodyContent::Text("grant_type=refresh_token&refresh_token=rt%2F1&client_id=app".into()),
            );
            Redactor::new(&[]).redact(&mut i);
            let marker = url_marker(&redaction_marker("rt/1"));
            assert_eq!(
                i.request.body.content,
                BodyContent::Text(format!("grant_type=refresh_token&refresh_token={marker}&client_id=app"))
            );
        }

        #[test]
        fn token_fields_in_text_responses() {
            let mut i = interaction("https://auth/oauth/token", &[], BodyContent::Empty(true));
            let raw = "{\"access_token\": \"at-123\", \"expires_in\": 3600}\n";
            i.response.as_mut().unwrap().body = Body::from(BodyContent::Text(raw.into()));
            Redactor::new(&[]).redact(&mut i);
            let expected =
                format!("{{\"access_token\": \"{}\", \"expires_in\": 3600}}\n", redaction_marker("at-123"));
            assert_eq!(i.response.unwrap().body.content, BodyContent::Text(expected));
        }
    }

    mod by_value {
        use super::*;

        #[test]
        fn a_secret_seen_once_is_redacted_later_anywhere() {
            let mut r = Redactor::new(&[]);
            let mut first =
                interaction("https://a/", &[("x-api-key", "opaque-secret-1")], BodyContent::Empty(true));
            r.redact(&mut first);
            let body = BodyContent::Json(json!({"note": "key was opaque-secret-1"}));
            let mut later = interaction("https://b/?q=opaque-secret-1", &[], body);
            later.error = Some("failed with opaque-secret-1".into());
            r.redact(&mut later);
            assert!(!text(&later).contains("opaque-secret-1"), "{}", text(&later));
        }

        #[test]
        fn short_secrets_are_redacted_only_where_found() {
            let mut r = Redactor::new(&[]);
            let mut i = interaction("https://a/", &[("cookie", "n=1")], BodyContent::Text("1 2 3".into()));
            r.redact(&mut i);
            assert_eq!(i.request.body.content, BodyContent::Text("1 2 3".into()));
            assert!(r.seen_secrets().is_empty());
        }

        #[test]
        fn token_shaped_values_are_redacted_without_a_name() {
            let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz";
            let mut i = interaction("https://a/", &[], BodyContent::Text(format!("use {key} here")));
            let mut r = Redactor::new(&[]);
            r.redact(&mut i);
            assert_eq!(
                i.request.body.content,
                BodyContent::Text(format!("use {} here", redaction_marker(key)))
            );
            assert_eq!(r.credentials()[&fingerprint(key)].kind, "anthropic-key");
        }

        #[test]
        fn secrets_used_as_json_keys_are_replaced_in_order() {
            let mut r = Redactor::new(&[]);
            r.learn("key-secret-1");
            let mut i =
                interaction("https://a/", &[], BodyContent::Json(json!({"a": 1, "key-secret-1": 2, "z": 3})));
            r.redact(&mut i);
            let BodyContent::Json(Value::Object(map)) = &i.request.body.content else { panic!() };
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            assert_eq!(keys, ["a", redaction_marker("key-secret-1").as_str(), "z"]);
        }

        #[test]
        fn secrets_inside_binary_bodies_are_replaced_in_the_bytes() {
            let mut r = Redactor::new(&[]);
            r.learn("binary-secret-1");
            let bytes = [&[0xff_u8][..], b"binary-secret-1"].concat();
            let mut i = interaction("https://a/", &[], BodyContent::Base64(BASE64.encode(&bytes)));
            r.redact(&mut i);
            let BodyContent::Base64(out) = &i.request.body.content else { panic!() };
            let decoded = BASE64.decode(out).unwrap();
            assert!(decoded.ends_with(redaction_marker("binary-secret-1").as_bytes()));
        }

        #[test]
        fn sse_data_and_websocket_messages_are_scrubbed() {
            let mut r = Redactor::new(&[]);
            r.learn("stream-secret-1");
            let mut i = interaction("https://a/", &[], BodyContent::Empty(true));
            let event =
                SseEvent { t_ms: 0, event: None, id: None, retry: None, data: "x stream-secret-1".into() };
            i.response.as_mut().unwrap().body = Body::from(BodyContent::Sse(vec![event]));
            i.websocket = Some(WebSocketSession {
                messages: vec![WsMessage {
                    from: Side::Server,
                    t_ms: 0,
                    payload: Payload::Text(r#"{"token":"stream-secret-1"}"#.into()),
                }],
                close: None,
            });
            r.redact(&mut i);
            assert!(!text(&i).contains("stream-secret-1"));
        }
    }

    mod profiles {
        use super::*;

        fn store() -> AuthStore {
            let jwt = credential::mint_unsigned_jwt(
                &json!({"https://api.openai.com/auth": {"chatgpt_account_id": "acct-1"}}),
            );
            AuthStore::from_value(&json!({"profiles": {
                "openai-codex:u@example.com": {"type": "oauth", "provider": "openai-codex", "access": jwt},
                "anthropic:k": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-api03-profilekey0000000000"}
            }}))
            .unwrap()
        }

        #[test]
        fn fingerprints_name_profile_kind_and_account() {
            let store = store();
            let jwt = store.profiles["openai-codex:u@example.com"].secret.clone().unwrap();
            let mut r = Redactor::new(&[store]);
            let auth = format!("Bearer {jwt}");
            let mut i = interaction(
                "https://chatgpt.com/backend-api/codex/responses",
                &[("authorization", &auth)],
                BodyContent::Empty(true),
            );
            r.redact(&mut i);
            let facts = &r.credentials()[&fingerprint(&jwt)];
            assert_eq!(facts.kind, "jwt");
            assert_eq!(facts.profile.as_deref(), Some("openai-codex:u@example.com"));
            assert_eq!(facts.account, Some(fingerprint("acct-1")));
        }

        #[test]
        fn profile_secrets_are_redacted_anywhere_but_listed_only_when_used() {
            let mut r = Redactor::new(&[store()]);
            let mut i = interaction(
                "https://a/",
                &[],
                BodyContent::Text("k=sk-ant-api03-profilekey0000000000".into()),
            );
            r.redact(&mut i);
            assert!(!text(&i).contains("profilekey"));
            assert_eq!(r.credentials().len(), 1);
            let facts = r.credentials().values().next().unwrap();
            assert_eq!(facts.profile.as_deref(), Some("anthropic:k"));
        }
    }
}
