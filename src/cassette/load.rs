//! Loading cassettes: strict about what is wrong, kind in how it says so.
//!
//! Every problem is one input error (exit 2) naming the file and either the
//! `LINE:COL` (syntax and type errors) or the JSON path
//! (`interactions[2].response.body`) of what is wrong, and how to fix it.
//! A leftover `CASSETTE.journal` is mentioned with the command that recovers
//! it. Older formats would be upgraded in [`parse`], the one place for
//! migrations (there is only v1 so far). [`load`] also opens every side file
//! and checks it (`side_file`): a link, FIFO, device, missing file or wrong
//! length or digest is an input error naming the interaction and the file.
//! Nothing here panics, whatever the bytes: a property test feeds it
//! arbitrary and mutated input.

use std::collections::HashSet;
use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use super::journal::journal_path;
use super::model::{BODY_FORMS, Body, BodyContent, Cassette, FORMAT_V1, Headers, Interaction, Payload};
use super::side_file::SideFile;
use super::wire::{BASE64, is_relative_inside};
use crate::credential::is_fingerprint;
use crate::error::{Error, Result};

/// The cassette formats this version reads.
pub const SUPPORTED_FORMATS: &[&str] = &[FORMAT_V1];

/// The content encodings a body may be `decoded_from`.
pub(crate) const ENCODINGS: &[&str] = &["gzip", "br", "deflate", "zstd"];

/// URL schemes an interaction may have.
pub(crate) const SCHEMES: &[&str] = &["http", "https", "ws", "wss"];

/// Read and validate the cassette at `path`.
pub fn load(path: &Path) -> Result<Cassette> {
    let cassette = parse(path, &read(path)?)?;
    check_side_files(path, &cassette)?;
    Ok(cassette)
}

/// The cassette at `path` as judging its requests needs it, validated as
/// [`load`] validates: request bodies keep only their model fields
/// ([`ModelFields`](super::ModelFields)), the rest skipped without being built,
/// a response's headers are skipped, and side files are not opened. For
/// `check`, which reads a cassette per cell; never for serving, exporting or saving.
pub fn load_for_observing(path: &Path) -> Result<Cassette> {
    parse_for_observing(path, &read(path)?)
}

/// [`parse`] as [`load_for_observing`] reads: skimmed first (`skim`), then
/// parsed with bodies read for observing.
fn parse_for_observing(path: &Path, bytes: &[u8]) -> Result<Cassette> {
    let skimmed = super::skim::for_observing(bytes);
    super::model::for_observing(|| parse_skimmed(path, skimmed.as_deref(), bytes))
}

/// The bytes of the cassette at `path`; a missing one whose journal exists
/// says how to recover it, a present one beside a journal warns.
fn read(path: &Path) -> Result<Vec<u8>> {
    let journal = journal_path(path);
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(_) if journal.exists() => {
            return Err(Error::input(format!(
                "{} does not exist, but {} does: a recording was interrupted; \
                 turn it into the cassette with `dispatch-vcr cassette recover {}`",
                path.display(),
                journal.display(),
                path.display()
            )));
        }
        Err(e) => return Err(Error::input(format!("cannot read cassette {}: {e}", path.display()))),
    };
    if journal.exists() {
        crate::files::write_stderr(&format!(
            "warning: {} exists: a recording to {} is running or was interrupted; \
             `dispatch-vcr cassette recover {}` turns it into the cassette\n",
            journal.display(),
            path.display(),
            path.display()
        ));
    }
    Ok(bytes)
}

/// Open every side file `cassette` (read from `path`) refers to, without
/// following links, and check its kind, length and digest (`side_file`),
/// so that nothing but the cassette's own files is ever served or exported.
fn check_side_files(path: &Path, cassette: &Cassette) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new(""));
    let mut checked = HashSet::new();
    for (i, interaction) in cassette.interactions.iter().enumerate() {
        let response = interaction.response.as_ref().map(|r| &r.body);
        for (side, body) in [("request", Some(&interaction.request.body)), ("response", response)] {
            let Some(body @ Body { content: BodyContent::File(name), .. }) = body else { continue };
            if !checked.insert(name.as_str()) {
                continue;
            }
            let file = SideFile { name, len: body.len, sha256: body.sha256.as_deref() };
            file.verify(dir).map_err(|why| {
                Error::input(format!(
                    "{}: interactions[{i}].{side}.body (seq {}): side file {name} {why}; \
                     restore the file the cassette came with, or record it again",
                    path.display(),
                    interaction.seq
                ))
            })?;
        }
    }
    Ok(())
}

/// Parse and validate cassette `bytes` read from `path` (named in errors).
///
/// A cassette that is well-formed takes the fast way (`parse_well_formed`):
/// one typed parse. Anything else takes
/// the careful way, which finds the first problem and names it precisely.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Cassette> {
    parse_skimmed(path, None, bytes)
}

/// [`parse`], the fast way from `skimmed` (`bytes` with values emptied) when
/// there is one: the careful way, and every message, read `bytes` themselves.
fn parse_skimmed(path: &Path, skimmed: Option<&[u8]>, bytes: &[u8]) -> Result<Cassette> {
    let cassette = match parse_well_formed(skimmed.unwrap_or(bytes)) {
        Some(cassette) => cassette,
        None => parse_carefully(path, bytes)?,
    };
    validate(&cassette).map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    Ok(cassette)
}

/// The cassette, if `bytes` are a v1 cassette whose every body has exactly
/// one form (the typed parse refuses any other); `None` for anything
/// [`parse_carefully`] would complain about. `check` loads a cassette per
/// cell and replay loads large ones, so this path reads each byte once,
/// straight into the typed model.
fn parse_well_formed(bytes: &[u8]) -> Option<Cassette> {
    let cassette: Cassette = serde_json::from_slice(bytes).ok()?;
    (cassette.format == FORMAT_V1).then_some(cassette)
}

/// Parse step by step, so the first problem gets a precise message: syntax
/// (with `LINE:COL`), format, body forms (with their JSON path), types.
fn parse_carefully(path: &Path, bytes: &[u8]) -> Result<Cassette> {
    crate::files::check_not_empty(path, bytes, "cassette")?;
    let file = &path.display().to_string();
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let hint = if path.extension().is_some_and(|x| x == "journal") {
            "this is a recording journal: `dispatch-vcr cassette recover CASSETTE` turns it into a cassette"
        } else {
            "a cassette is one JSON document"
        };
        Error::json(file, &e).hint(hint)
    })?;
    // Migrations go here: each older format upgrades its `Value` to the
    // current one before the checks below. v1 is the only format so far.
    match value.get("format").and_then(Value::as_str) {
        Some(FORMAT_V1) => {}
        Some(other) => {
            return Err(Error::input(format!(
                "{file}: unknown cassette format {other:?}; this dispatch-vcr reads {} \
                 (a newer dispatch-vcr may read it)",
                SUPPORTED_FORMATS.join(", ")
            )));
        }
        None => {
            return Err(Error::input(format!(
                "{file}: not a dispatch-vcr cassette: it needs \"format\": {FORMAT_V1:?}"
            )));
        }
    }
    check_forms(&value).map_err(|e| Error::input(format!("{file}: {e}")))?;
    // Typed from the bytes (not the value) so errors carry LINE:COL.
    serde_json::from_slice(bytes).map_err(|e| Error::json(file, &e).hint("see docs/cassette.md"))
}

/// "Exactly one form", checked on the JSON itself so that the error names
/// the body's path (the typed parse refuses such a body too, by position only).
fn check_forms(value: &Value) -> Result<(), String> {
    let Some(interactions) = value.get("interactions").and_then(Value::as_array) else { return Ok(()) };
    for (i, interaction) in interactions.iter().enumerate() {
        for side in ["request", "response"] {
            if let Some(body) = interaction.get(side).and_then(|s| s.get("body")) {
                check_body_forms(&format!("interactions[{i}].{side}.body"), body)?;
            }
        }
        let messages = interaction.pointer("/websocket/messages").and_then(Value::as_array);
        for (j, message) in messages.into_iter().flatten().enumerate() {
            check_payload(&format!("interactions[{i}].websocket.messages[{j}]"), message)?;
        }
    }
    Ok(())
}

fn check_body_forms(at: &str, body: &Value) -> Result<(), String> {
    let Some(object) = body.as_object() else { return Ok(()) };
    let forms: Vec<&str> = BODY_FORMS.iter().copied().filter(|f| object.contains_key(*f)).collect();
    if forms.len() != 1 {
        let found = if forms.is_empty() { "none".to_owned() } else { forms.join(" and ") };
        return Err(format!("{at}: a body has exactly one form of {}; found {found}", BODY_FORMS.join(", ")));
    }
    let chunks = object.get("chunks").and_then(Value::as_array);
    for (k, chunk) in chunks.into_iter().flatten().enumerate() {
        check_payload(&format!("{at}.chunks[{k}]"), chunk)?;
    }
    Ok(())
}

fn check_payload(at: &str, payload: &Value) -> Result<(), String> {
    let count = ["text", "base64"].iter().filter(|k| payload.get(**k).is_some()).count();
    if payload.is_object() && count != 1 {
        return Err(format!("{at}: needs exactly one of \"text\" or \"base64\""));
    }
    Ok(())
}

/// Semantic checks on the typed cassette; errors start with a JSON path.
pub(super) fn validate(cassette: &Cassette) -> Result<(), String> {
    for fp in cassette.meta.credentials.keys() {
        if !is_fingerprint(fp) {
            return Err(format!("meta.credentials: {fp:?} is not a fingerprint (sha256: and 12 hex digits)"));
        }
    }
    let mut previous = 0;
    for (i, interaction) in cassette.interactions.iter().enumerate() {
        if interaction.seq <= previous {
            return Err(format!(
                "interactions[{i}].seq: {} after {previous}; seq numbers start at 1 and increase",
                interaction.seq
            ));
        }
        previous = interaction.seq;
        // Paths are spelled out only on failure: this runs for every interaction loaded.
        validate_interaction(interaction).map_err(|e| format!("interactions[{i}]{e}"))?;
    }
    Ok(())
}

/// Errors start with the path inside the interaction (`.request.url: …`).
pub(super) fn validate_interaction(interaction: &Interaction) -> Result<(), String> {
    let request = &interaction.request;
    if http::Method::from_bytes(request.method.as_bytes()).is_err() {
        return Err(format!(".request.method: {:?} is not an HTTP method", request.method));
    }
    validate_url(".request.url", &request.url)?;
    validate_headers(".request.headers", &request.headers)?;
    validate_body(".request.body", &request.body)?;
    match &interaction.response {
        Some(response) => {
            if http::StatusCode::from_u16(response.status).is_err() {
                return Err(format!(".response.status: {} is not an HTTP status", response.status));
            }
            validate_headers(".response.headers", &response.headers)?;
            validate_body(".response.body", &response.body)?;
        }
        None if interaction.websocket.is_some() => {
            return Err(": a websocket session needs the response that upgraded it".to_owned());
        }
        None if interaction.error.is_none() => {
            return Err(": needs a response, or an error saying why there is none".to_owned());
        }
        None => {}
    }
    let messages = interaction.websocket.iter().flat_map(|ws| ws.messages.iter());
    for (j, message) in messages.enumerate() {
        validate_payload(&message.payload).map_err(|e| format!(".websocket.messages[{j}]{e}"))?;
    }
    Ok(())
}

fn validate_url(at: &str, url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{at}: {url:?} is not a URL: {e}"))?;
    let scheme_ok = uri.scheme_str().is_some_and(|s| SCHEMES.contains(&s));
    if !scheme_ok || uri.host().is_none() {
        return Err(format!("{at}: {url:?} must be an absolute {} URL", SCHEMES.join("/")));
    }
    Ok(())
}

fn validate_headers(at: &str, headers: &Headers) -> Result<(), String> {
    for (k, (name, _)) in headers.iter().enumerate() {
        let valid = http::HeaderName::from_bytes(name.as_bytes()).is_ok_and(|n| n.as_str() == name);
        if !valid {
            return Err(format!(
                "{at}[{k}]: {name:?} is not a lower-case header name (write {:?})",
                name.to_ascii_lowercase()
            ));
        }
    }
    Ok(())
}

fn validate_body(at: &str, body: &Body) -> Result<(), String> {
    if let Some(encoding) = &body.decoded_from
        && !ENCODINGS.contains(&encoding.as_str())
    {
        return Err(format!("{at}.decoded_from: {encoding:?} is not one of {}", ENCODINGS.join(", ")));
    }
    let is_file = matches!(body.content, BodyContent::File(_));
    if !is_file && (body.sha256.is_some() || body.len.is_some()) {
        return Err(format!("{at}: \"sha256\" and \"len\" belong to \"file\" bodies only"));
    }
    match &body.content {
        BodyContent::Empty(false) => Err(format!("{at}.empty: must be true (or give the body another form)")),
        BodyContent::Base64(text) => check_base64(text).map_err(|e| format!("{at}.base64{e}")),
        BodyContent::Chunks(chunks) => chunks
            .iter()
            .enumerate()
            .try_for_each(|(k, c)| validate_payload(&c.payload).map_err(|e| format!("{at}.chunks[{k}]{e}"))),
        BodyContent::File(name) => validate_file(at, name, body),
        BodyContent::Empty(true)
        | BodyContent::Json(_)
        | BodyContent::JsonText(_)
        | BodyContent::Text(_)
        | BodyContent::Sse(_) => Ok(()),
    }
}

fn validate_file(at: &str, name: &str, body: &Body) -> Result<(), String> {
    if !is_relative_inside(name) {
        return Err(format!("{at}.file: {name:?} must be a relative path inside the cassette's directory"));
    }
    let sha_ok =
        body.sha256.as_deref().is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    if !sha_ok || body.len.is_none() {
        return Err(format!("{at}: a \"file\" body needs \"sha256\" (64 hex digits) and \"len\""));
    }
    Ok(())
}

/// Errors start with the path inside the payload (`.base64: …`).
fn validate_payload(payload: &Payload) -> Result<(), String> {
    match payload {
        Payload::Base64(text) => check_base64(text).map_err(|e| format!(".base64{e}")),
        Payload::Text(_) => Ok(()),
    }
}

/// Errors start with `: `, to follow the path of the value.
fn check_base64(text: &str) -> Result<(), String> {
    BASE64.decode(text).map(drop).map_err(|e| format!(": not valid base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::json_text::tests::json_value;
    use proptest::prelude::*;

    const VALID: &str = r#"{
  "format": "dispatch-vcr/cassette@1",
  "meta": {"credentials": {"sha256:1f0c2a9b7d3e": {"kind": "jwt"}}},
  "interactions": [
    {"seq": 1, "conn": 1, "t_ms": 0, "duration_ms": 4,
     "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "http_version": "HTTP/1.1",
                 "headers": [["authorization", "Bearer [REDACTED sha256:1f0c2a9b7d3e]"]],
                 "body": {"json": {"model": "gpt-5.5"}}},
     "response": {"status": 200, "headers": [["content-type", "text/event-stream"]],
                  "body": {"sse": [{"t_ms": 3, "event": "e", "data": "{}"}]}}},
    {"seq": 2, "request": {"method": "GET", "url": "wss://chatgpt.com/ws", "body": {"empty": true}},
     "response": {"status": 101, "body": {"empty": true}},
     "websocket": {"messages": [{"from": "client", "t_ms": 1, "text": "hi"}, {"from": "server", "t_ms": 2, "base64": "aGk="}]}},
    {"seq": 3, "request": {"method": "GET", "url": "https://a.example/x", "body": {"chunks": [{"t_ms": 0, "text": "a"}]}},
     "error": "upstream connect failed: refused"}
  ]
}
"#;

    fn parse_text(text: &str) -> Result<Cassette> {
        parse(Path::new("c.json"), text.as_bytes())
    }

    fn message(text: &str) -> String {
        let err = parse_text(text).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        err.message().to_owned()
    }

    #[test]
    fn a_valid_cassette_loads() {
        let cassette = parse_text(VALID).unwrap();
        assert_eq!(cassette.interactions.len(), 3);
    }

    #[test]
    fn loading_for_observing_keeps_the_requests_model_fields_and_skips_the_rest() {
        let big = VALID.replace(
            r#"{"json": {"model": "gpt-5.5"}}"#,
            r#"{"json": {"input": [{"role": "user", "content": "x"}], "model": "gpt-5.5", "tools": [1, 2], "response": {"model": "m"}}}"#,
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, &big).unwrap();
        let observed = load_for_observing(&path).unwrap();
        let body = &observed.interactions[0].request.body.content;
        assert_eq!(
            *body,
            BodyContent::Json(serde_json::json!({"model": "gpt-5.5", "response": {"model": "m"}}))
        );
        let response = &observed.interactions[0].response.as_ref().unwrap().body.content;
        assert_eq!(*response, BodyContent::Sse(Vec::new()));
        assert_eq!(observed.meta, load(&path).unwrap().meta);
        // Only inside the call: a plain load afterwards reads everything.
        let full = load(&path).unwrap();
        assert!(
            matches!(&full.interactions[0].request.body.content, BodyContent::Json(v) if v["tools"] == serde_json::json!([1, 2]))
        );
        // A body that is not an object is kept as nothing; bad input is still refused with its place.
        std::fs::write(
            &path,
            VALID.replace(r#"{"json": {"model": "gpt-5.5"}}"#, r#"{"json": [1, {"a": 2}]}"#),
        )
        .unwrap();
        assert_eq!(
            load_for_observing(&path).unwrap().interactions[0].request.body.content,
            BodyContent::Json(serde_json::Value::Null)
        );
        for scalar in ["42", "\"text\"", "true", "null", "1.5"] {
            let body = format!(r#"{{"json": {scalar}}}"#);
            std::fs::write(&path, VALID.replace(r#"{"json": {"model": "gpt-5.5"}}"#, &body)).unwrap();
            let observed = load_for_observing(&path).unwrap();
            assert_eq!(
                observed.interactions[0].request.body.content,
                BodyContent::Json(serde_json::Value::Null)
            );
        }
        std::fs::write(&path, VALID.replace(r#""status": 200"#, r#""status": "ok""#)).unwrap();
        assert_eq!(load_for_observing(&path).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let text = "{\"format\": \"dispatch-vcr/cassette@1\",\n  \"interactions\": [ {\"seq\": 1,,} ] }";
        assert!(message(text).starts_with("c.json:2:31: key must be a string"), "{}", message(text));
    }

    #[test]
    fn type_errors_name_line_and_column() {
        let text = VALID.replace(r#""seq": 2"#, r#""seq": "two""#);
        assert!(message(&text).starts_with("c.json:11:17: invalid type"), "{}", message(&text));
    }

    #[test]
    fn unknown_format_names_the_supported_ones() {
        let text = VALID.replace("cassette@1", "cassette@9");
        let msg = message(&text);
        assert!(
            msg.contains("\"dispatch-vcr/cassette@9\"") && msg.contains("reads dispatch-vcr/cassette@1"),
            "{msg}"
        );
    }

    #[test]
    fn missing_format_says_what_is_expected() {
        assert!(message(r#"{"interactions": []}"#).contains("needs \"format\""));
    }

    #[test]
    fn a_body_with_two_forms_is_named_by_its_path() {
        let text =
            VALID.replace(r#""body": {"json": {"model": "gpt-5.5"}}"#, r#""body": {"json": 1, "text": "x"}"#);
        let msg = message(&text);
        assert!(
            msg.starts_with("c.json: interactions[0].request.body: a body has exactly one form"),
            "{msg}"
        );
        assert!(msg.ends_with("found json and text"), "{msg}");
    }

    #[test]
    fn seq_must_increase() {
        let text = VALID.replace(r#""seq": 3"#, r#""seq": 2"#);
        assert!(message(&text).contains("interactions[2].seq: 2 after 2"), "{}", message(&text));
    }

    #[test]
    fn header_names_must_be_lower_case() {
        let text = VALID.replace(r#"["content-type""#, r#"["Content-Type""#);
        let msg = message(&text);
        assert!(
            msg.contains("interactions[0].response.headers[0]") && msg.contains("write \"content-type\""),
            "{msg}"
        );
    }

    #[test]
    fn url_must_be_absolute() {
        let text = VALID.replace("https://a.example/x", "/x");
        assert!(message(&text).contains("interactions[2].request.url"), "{}", message(&text));
    }

    #[test]
    fn invalid_base64_is_named_by_its_path() {
        let text = VALID.replace("aGk=", "a!k=");
        assert!(
            message(&text).contains("interactions[1].websocket.messages[1].base64"),
            "{}",
            message(&text)
        );
    }

    #[test]
    fn an_interaction_needs_a_response_or_an_error() {
        let text = VALID.replace(r#""error": "upstream connect failed: refused""#, r#""t_ms": 1"#);
        assert!(message(&text).contains("interactions[2]: needs a response"), "{}", message(&text));
    }

    #[test]
    fn side_files_cannot_leave_the_directory() {
        let text = VALID.replace(r#"{"empty": true}}"#, r#"{"file": "../x", "sha256": "00", "len": 1}}"#);
        assert!(message(&text).contains("must be a relative path"), "{}", message(&text));
    }

    #[test]
    fn a_journal_given_as_cassette_gets_the_recover_hint() {
        let err =
            parse(Path::new("c.json.journal"), b"{\"format\":\"x\"}\n{\"interaction\":{}}\n").unwrap_err();
        assert!(err.message().contains("cassette recover"), "{}", err.message());
    }

    #[test]
    fn load_of_a_missing_cassette_with_a_journal_says_how_to_recover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(journal_path(&path), "{}").unwrap();
        let err = load(&path).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains(&format!("dispatch-vcr cassette recover {}", path.display())));
    }

    #[test]
    fn saved_cassettes_load_back_equal() {
        let cassette = parse_text(VALID).unwrap();
        let text = crate::cassette::save::to_json(&cassette).unwrap();
        assert_eq!(parse_text(&text).unwrap(), cassette);
    }

    /// Replace the node reached by following `path` (indices taken modulo
    /// each container's size) with `with`.
    fn mutate(value: &mut Value, path: &[usize], with: Value) {
        let next = match (value, path.split_first()) {
            (Value::Array(items), Some((i, rest))) if !items.is_empty() => {
                let n = items.len();
                Some((&mut items[i % n], rest))
            }
            (Value::Object(map), Some((i, rest))) if !map.is_empty() => {
                let n = map.len();
                map.values_mut().nth(i % n).map(|v| (v, rest))
            }
            (slot, _) => {
                *slot = with;
                return;
            }
        };
        if let Some((child, rest)) = next {
            mutate(child, rest, with);
        }
    }

    /// What the loader may answer: a cassette, or an input error (exit 2).
    fn loads_or_exit_2(result: Result<Cassette>) -> std::result::Result<(), TestCaseError> {
        if let Err(err) = result {
            prop_assert_eq!(err.exit_code(), 2, "{}", err.message());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            loads_or_exit_2(parse(Path::new("x.json"), &bytes))?;
            loads_or_exit_2(parse_for_observing(Path::new("x.json"), &bytes))?;
        }

        #[test]
        fn byte_mutations_of_a_valid_cassette_never_panic(at in 0..VALID.len(), byte in any::<u8>(), cut in any::<bool>()) {
            let mut bytes = VALID.as_bytes().to_vec();
            if cut { bytes.truncate(at) } else { bytes[at] = byte }
            loads_or_exit_2(parse(Path::new("x.json"), &bytes))?;
            loads_or_exit_2(parse_for_observing(Path::new("x.json"), &bytes))?;
        }

        #[test]
        fn structural_mutations_never_panic_and_what_loads_saves_back(
            path in prop::collection::vec(any::<usize>(), 0..7),
            with in json_value("[a-z_]{1,8}"),
        ) {
            let mut value: Value = serde_json::from_str(VALID).unwrap();
            mutate(&mut value, &path, with);
            let text = serde_json::to_string(&value).unwrap();
            let parsed = parse(Path::new("x.json"), text.as_bytes());
            loads_or_exit_2(parse_for_observing(Path::new("x.json"), text.as_bytes()))?;
            if let Ok(cassette) = &parsed {
                let saved = crate::cassette::save::to_json(cassette).unwrap();
                prop_assert_eq!(&parse(Path::new("x.json"), saved.as_bytes()).unwrap(), cassette);
            }
            loads_or_exit_2(parsed)?;
        }
    }
}
