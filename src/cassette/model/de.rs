//! Reading the types whose content form is a key beside their other fields
//! (`Body`, `Chunk`, `WsMessage`). serde's derive of `#[serde(flatten)]`
//! buffers every field of such an object before it picks the form, which
//! doubles the work of loading a cassette of large JSON bodies; these visitors
//! read each field once, straight into its type, and refuse an object with
//! no form or with more than one.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, de::Error as _};

use serde_json::value::RawValue;

use super::json_text::{leading_model, literal_prefix};
use super::{BODY_FORMS, Body, BodyContent, Chunk, Headers, Payload, Side, WsMessage};

thread_local! {
    /// Set while [`for_observing`] parses: bodies are read for what observing a request needs.
    static OBSERVING: Cell<bool> = const { Cell::new(false) };
}

/// Run `parse` with bodies read for observing only: a JSON body keeps its
/// top-level `model` and `response` (the rest is skipped, never built into
/// values), an SSE body none of its events, a server's WebSocket message no
/// payload, a client's text payload only those fields, as JSON text, up to
/// the first that names a model (observing reads no further; later ones keep
/// none), and a response no headers: observing judges what was sent. The
/// cassette that comes out is for judging requests (`check`), not for serving
/// or exporting.
pub(crate) fn for_observing<T>(parse: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            OBSERVING.with(|o| o.set(false));
        }
    }
    OBSERVING.with(|o| o.set(true));
    let _reset = Reset;
    parse()
}

fn observing() -> bool {
    OBSERVING.with(Cell::get)
}

/// A JSON body as observing reads it: an object of its model fields (`model`, and the model fields of
/// `response` for a WebSocket-style `response.create`), `null` for anything else.
struct ModelOnly(serde_json::Value);

impl<'de> Deserialize<'de> for ModelOnly {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ModelOnlyVisitor)
    }
}

struct ModelOnlyVisitor;

/// The keys [`ModelOnly`] keeps; any other is skipped (read without being copied).
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum ModelKey {
    Model,
    Response,
    #[serde(other)]
    Other,
}

/// `visit_*` methods for scalar bodies, which name no model.
macro_rules! scalars_name_no_model {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<ModelOnly, E> {
            Ok(ModelOnly(serde_json::Value::Null))
        })*
    };
}

impl<'de> Visitor<'de> for ModelOnlyVisitor {
    type Value = ModelOnly;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON body")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ModelOnly, A::Error> {
        let mut kept = serde_json::Map::new();
        while let Some(key) = map.next_key::<ModelKey>()? {
            match key {
                ModelKey::Model => {
                    kept.insert("model".to_owned(), map.next_value()?);
                }
                // A `response.create` names its model inside `response`: only that is kept of it.
                ModelKey::Response => {
                    kept.insert("response".to_owned(), map.next_value::<ModelOnly>()?.0);
                }
                ModelKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(ModelOnly(serde_json::Value::Object(kept)))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ModelOnly, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ModelOnly(serde_json::Value::Null))
    }

    scalars_name_no_model!(visit_str: &str, visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);

    fn visit_unit<E: de::Error>(self) -> Result<ModelOnly, E> {
        Ok(ModelOnly(serde_json::Value::Null))
    }
}

/// A text payload as observing reads it: the model fields of the JSON it holds, as JSON text; empty when it
/// holds no JSON object. Its first bytes are decoded first: a `model` there
/// ([`leading_model`]) spares decoding and reading the rest.
struct ModelText(String);

/// How much of a text payload is decoded to look for a leading `model`.
const LEADING_BYTES: usize = 4096;

impl<'de> Deserialize<'de> for ModelText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let literal = Box::<RawValue>::deserialize(deserializer)?;
        let literal = literal.get();
        if !literal.starts_with('"') {
            return Err(D::Error::invalid_type(
                de::Unexpected::Other("a JSON value other than a string"),
                &"a text payload",
            ));
        }
        if let Some(kept) = leading_model_fields(literal) {
            return Ok(ModelText(kept));
        }
        let text: String = serde_json::from_str(literal).map_err(D::Error::custom)?;
        let kept = match serde_json::from_str::<ModelOnly>(&text) {
            Ok(ModelOnly(fields @ serde_json::Value::Object(_))) => fields.to_string(),
            _ => String::new(),
        };
        Ok(ModelText(kept))
    }
}

/// What observing keeps of the text payload `literal` (a JSON string literal)
/// when the JSON it holds names its model in its first bytes: that model, as
/// the JSON text `{"model": …}`. `None` when the model is not found there.
pub(crate) fn leading_model_fields(literal: &str) -> Option<String> {
    let model = literal_prefix(literal, LEADING_BYTES).as_deref().and_then(leading_model)?;
    Some(serde_json::json!({ "model": model }).to_string())
}

/// The keys of a body object.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum BodyKey {
    Empty,
    Json,
    Text,
    Base64,
    Sse,
    Chunks,
    File,
    DecodedFrom,
    Sha256,
    Len,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a body: an object with one of {}", BODY_FORMS.join(", "))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Body, A::Error> {
        let (mut decoded_from, mut sha256, mut len, mut form) = (None, None, None, OneForm::default());
        while let Some(key) = map.next_key()? {
            match key {
                BodyKey::Empty => form.put(BodyContent::Empty(map.next_value()?))?,
                BodyKey::Json if observing() => {
                    form.put(BodyContent::Json(map.next_value::<ModelOnly>()?.0))?
                }
                BodyKey::Json => form.put(BodyContent::Json(map.next_value()?))?,
                BodyKey::Sse if observing() => {
                    map.next_value::<IgnoredAny>()?;
                    form.put(BodyContent::Sse(Vec::new()))?;
                }
                BodyKey::Text => form.put(BodyContent::Text(map.next_value()?))?,
                BodyKey::Base64 => form.put(BodyContent::Base64(map.next_value()?))?,
                BodyKey::Sse => form.put(BodyContent::Sse(map.next_value()?))?,
                BodyKey::Chunks => form.put(BodyContent::Chunks(map.next_value()?))?,
                BodyKey::File => form.put(BodyContent::File(map.next_value()?))?,
                BodyKey::DecodedFrom => decoded_from = map.next_value()?,
                BodyKey::Sha256 => sha256 = map.next_value()?,
                BodyKey::Len => len = map.next_value()?,
                BodyKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let content = form.take(|| format!("a body needs one of {}", BODY_FORMS.join(", ")))?;
        Ok(Body { content, decoded_from, sha256, len })
    }
}

/// The keys of a chunk or WebSocket message object.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum PieceKey {
    From,
    TMs,
    Text,
    Base64,
    #[serde(other)]
    Other,
}

/// The fields of a chunk or a WebSocket message, as read.
struct Piece {
    from: Option<Side>,
    t_ms: Option<u64>,
    payload: Payload,
}

impl<'de> Deserialize<'de> for Piece {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PieceVisitor { model_named: false })
    }
}

/// Reads a [`Piece`]; `model_named` when observing has its model already (an
/// earlier client message named it), so a client's text is skipped too.
struct PieceVisitor {
    model_named: bool,
}

impl<'de> de::DeserializeSeed<'de> for PieceVisitor {
    type Value = Piece;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Piece, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PieceVisitor {
    type Value = Piece;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with t_ms and one of text, base64")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Piece, A::Error> {
        let (mut from, mut t_ms, mut form) = (None, None, OneForm::default());
        while let Some(key) = map.next_key()? {
            match key {
                PieceKey::From => from = Some(map.next_value()?),
                PieceKey::TMs => t_ms = Some(map.next_value()?),
                PieceKey::Text if observing() && (from == Some(Side::Server) || self.model_named) => {
                    map.next_value::<IgnoredAny>()?;
                    form.put(Payload::Text(String::new()))?;
                }
                PieceKey::Text if observing() => form.put(Payload::Text(map.next_value::<ModelText>()?.0))?,
                PieceKey::Text => form.put(Payload::Text(map.next_value()?))?,
                PieceKey::Base64 => form.put(Payload::Base64(map.next_value()?))?,
                PieceKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Piece { from, t_ms, payload: form.take(|| "it needs one of text, base64".to_owned())? })
    }
}

impl<'de> Deserialize<'de> for Chunk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let piece = Piece::deserialize(deserializer)?;
        Ok(Chunk { t_ms: piece.t_ms.ok_or_else(|| D::Error::missing_field("t_ms"))?, payload: piece.payload })
    }
}

impl<'de> Deserialize<'de> for WsMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Piece::deserialize(deserializer)?.message()
    }
}

impl Piece {
    fn message<E: de::Error>(self) -> Result<WsMessage, E> {
        Ok(WsMessage {
            from: self.from.ok_or_else(|| E::missing_field("from"))?,
            t_ms: self.t_ms.ok_or_else(|| E::missing_field("t_ms"))?,
            payload: self.payload,
        })
    }
}

/// `Response::headers`: none when observing, which judges what was sent.
pub(super) fn response_headers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Headers, D::Error> {
    if observing() {
        IgnoredAny::deserialize(deserializer)?;
        return Ok(Headers::new());
    }
    Headers::deserialize(deserializer)
}

/// `WebSocketSession::messages`: when observing, a client's text is read for
/// its model fields until one names a model, and skipped after.
pub(super) fn messages<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<WsMessage>, D::Error> {
    struct Messages;

    impl<'de> Visitor<'de> for Messages {
        type Value = Vec<WsMessage>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of messages")
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<WsMessage>, A::Error> {
            let mut messages = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            let mut model_named = false;
            while let Some(piece) = seq.next_element_seed(PieceVisitor { model_named })? {
                let message = piece.message()?;
                model_named |= observing() && message.from == Side::Client && names_model(&message.payload);
                messages.push(message);
            }
            Ok(messages)
        }
    }

    deserializer.deserialize_seq(Messages)
}

/// Whether the model fields observing kept of a text payload name a model
/// (`model`, or `response.model`, a string).
fn names_model(payload: &Payload) -> bool {
    let Payload::Text(kept) = payload else { return false };
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(kept) else {
        return false;
    };
    let model = fields.get("model").or_else(|| fields.get("response")?.get("model"));
    model.is_some_and(serde_json::Value::is_string)
}

/// Exactly one content form of an object.
struct OneForm<T>(Option<T>);

impl<T> Default for OneForm<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T> OneForm<T> {
    fn put<E: de::Error>(&mut self, form: T) -> Result<(), E> {
        match self.0.replace(form) {
            Some(_) => Err(E::custom("more than one content form; keep exactly one")),
            None => Ok(()),
        }
    }

    /// The form, or an error saying `missing()` (built only when it is).
    fn take<E: de::Error>(self, missing: impl FnOnce() -> String) -> Result<T, E> {
        self.0.ok_or_else(|| E::custom(missing()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: serde_json::Value) -> Result<Body, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn every_form_reads_back_what_was_written() {
        let forms = [
            json!({"empty": true}),
            json!({"json": {"model": "gpt-5.5"}, "decoded_from": "zstd"}),
            json!({"text": "hi"}),
            json!({"base64": "AAE="}),
            json!({"sse": [{"t_ms": 1, "event": "e", "data": "d"}]}),
            json!({"chunks": [{"t_ms": 0, "text": "a"}, {"t_ms": 2, "base64": "AA=="}]}),
            json!({"file": "c.json.blobs/ab", "sha256": "ab", "len": 3}),
        ];
        for form in forms {
            let read = body(form.clone()).unwrap();
            assert_eq!(serde_json::to_value(&read).unwrap(), form);
        }
    }

    #[test]
    fn a_body_needs_exactly_one_form() {
        let two = body(json!({"text": "a", "json": {}})).unwrap_err();
        assert!(two.to_string().contains("more than one content form"), "{two}");
        let none = body(json!({"decoded_from": "gzip"})).unwrap_err();
        assert!(none.to_string().contains("needs one of"), "{none}");
    }

    #[test]
    fn messages_need_their_side_time_and_one_payload() {
        let read: WsMessage =
            serde_json::from_value(json!({"from": "client", "t_ms": 3, "text": "x"})).unwrap();
        assert_eq!(read, WsMessage { from: Side::Client, t_ms: 3, payload: Payload::Text("x".into()) });
        for bad in [
            json!({"t_ms": 3, "text": "x"}),
            json!({"from": "server", "text": "x"}),
            json!({"from": "server", "t_ms": 3}),
            json!({"from": "server", "t_ms": 3, "text": "x", "base64": "AA=="}),
        ] {
            assert!(serde_json::from_value::<WsMessage>(bad.clone()).is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<Chunk>(json!({"text": "x"})).is_err());
    }

    #[test]
    fn observing_reads_client_texts_until_one_names_a_model() {
        let session = json!({"messages": [
            {"from": "client", "t_ms": 0, "text": "{\"type\":\"session.update\",\"tools\":[]}"},
            {"from": "server", "t_ms": 1, "text": "{\"model\":\"server-side\"}"},
            {"from": "client", "t_ms": 2, "text": "{\"response\":{\"model\":\"gpt-5.5\",\"input\":[]}}"},
            {"from": "client", "t_ms": 3, "text": "{\"model\":\"later\"}"},
        ]});
        let read: super::super::WebSocketSession =
            for_observing(|| serde_json::from_value(session.clone())).unwrap();
        let texts: Vec<&Payload> = read.messages.iter().map(|m| &m.payload).collect();
        let text = |t: &str| Payload::Text(t.to_owned());
        assert_eq!(
            texts,
            [&text("{}"), &text(""), &text(r#"{"response":{"model":"gpt-5.5"}}"#), &text("")],
            "the first client text naming a model is the last read"
        );
        let whole: super::super::WebSocketSession = serde_json::from_value(session).unwrap();
        assert_eq!(whole.messages[3].payload, text(r#"{"model":"later"}"#), "a full load keeps every text");
    }

    #[test]
    fn observing_reads_a_long_client_text_only_as_far_as_its_model() {
        let bulk = "\"quoted\" and \\ escaped ".repeat(400);
        let read = |text: String| -> Payload {
            let message = json!({"from": "client", "t_ms": 0, "text": text});
            for_observing(|| serde_json::from_value::<WsMessage>(message)).unwrap().payload
        };
        let leading =
            json!({"type": "response.create", "model": "gpt-5.5", "instructions": bulk}).to_string();
        assert!(leading.len() > LEADING_BYTES);
        assert_eq!(read(leading), Payload::Text(r#"{"model":"gpt-5.5"}"#.into()));
        // Past the first bytes, or only inside `response`: the whole text is read.
        let late = json!({"instructions": bulk, "model": "late"}).to_string();
        assert_eq!(read(late), Payload::Text(r#"{"model":"late"}"#.into()));
        let nested = json!({"response": {"instructions": bulk, "model": "inner"}}).to_string();
        assert_eq!(read(nested), Payload::Text(r#"{"response":{"model":"inner"}}"#.into()));
        let not_text = for_observing(|| {
            serde_json::from_value::<WsMessage>(json!({"from": "client", "t_ms": 0, "text": 5}))
        });
        assert!(not_text.unwrap_err().to_string().contains("expected a text payload"));
    }

    #[test]
    fn unknown_keys_are_skipped() {
        let read = body(json!({"note": [1, 2], "text": "hi"})).unwrap();
        assert_eq!(read.content, BodyContent::Text("hi".into()));
    }
}
