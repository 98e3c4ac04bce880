//! The stub's answer table: one provider-shaped answer per endpoint class.
//!
//! Rows are keyed by an endpoint class *name* of the catalog, or else by a
//! class *protocol*, so a class a user adds to the catalog with a known
//! protocol gets an answer without a rebuild. Each row builds its answer from
//! an [`Ask`] (the model echoed, streaming or not) as realistic JSON: real
//! clients (OpenAI and Anthropic SDKs, the Codex binary) parse these shapes,
//! so every field they read is there.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::dispatch::catalog::EndpointClass;

/// The assistant text every model answer carries.
pub const STUB_TEXT: &str = "Hello from the dispatch-vcr provider stub.";

/// The model named in answers to a request that names none.
const DEFAULT_MODEL: &str = "stub-model";

/// Token counts reported in `usage` (realistic, not measured).
const INPUT_TOKENS: u64 = 12;
const OUTPUT_TOKENS: u64 = 9;

/// Dimensions of an embedding when the request does not ask for some
/// (`text-embedding-3-small`'s).
const EMBEDDING_DIMENSIONS: usize = 1536;

/// What a request asked for, as far as an answer depends on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    /// The request's `model`, echoed in the answer.
    pub model: String,
    /// Whether to stream (`stream: true`, or the row's default when absent).
    pub stream: bool,
    /// The JSON request body, when there is one.
    pub body: Value,
    /// A number unique within the stub's run, for answer ids.
    pub serial: u64,
    /// Seconds since the epoch, for `created` fields.
    pub created: u64,
}

impl Ask {
    /// The ask of a JSON request `body` (`Value::Null` when none) to `url`
    /// for `row`; the model is the body's, else the one the path names
    /// (`…/models/{model}:streamGenerateContent`).
    pub fn new(body: Value, url: &str, row: &Row, serial: u64, created: u64) -> Self {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .or_else(|| model_in_path(url))
            .unwrap_or(DEFAULT_MODEL)
            .to_owned();
        let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(row.streams_by_default);
        Self { model, stream, body, serial, created }
    }
}

/// The model a Gemini-style path names: the segment after `/models/`, up to `:`.
fn model_in_path(url: &str) -> Option<&str> {
    let path = url.split('?').next()?;
    let rest = &path[path.rfind("/models/")? + "/models/".len()..];
    let model = rest.split(':').next()?;
    (!model.is_empty() && !model.contains('/')).then_some(model)
}

/// One answer, before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A JSON document with this status.
    Json(u16, Value),
    /// A `200` stream of already framed pieces, each sent as one body chunk.
    Stream {
        /// The `content-type` of the stream.
        content_type: &'static str,
        /// The framed pieces (SSE events, NDJSON lines).
        pieces: Vec<String>,
    },
}

/// A row of the answer table.
#[derive(Debug)]
pub struct Row {
    /// An endpoint class name, or a class protocol.
    pub key: &'static str,
    /// The method the answer is for (`POST` model calls, `GET` lists).
    pub method: &'static str,
    /// Whether the provider streams when the request does not say.
    pub streams_by_default: bool,
    /// The HTTP answer.
    pub answer: fn(&Ask) -> Answer,
    /// The events of a WebSocket session's answer to one `response.create`,
    /// for classes that speak the Responses WebSocket protocol.
    pub websocket: Option<fn(&Ask) -> Vec<Value>>,
}

/// The table. Class names come before protocols so that a specific class
/// (the Codex backend, which always streams) wins over its protocol.
pub const ROWS: &[Row] = &[
    Row {
        key: "chatgpt-codex-responses",
        method: "POST",
        streams_by_default: true,
        answer: responses,
        websocket: Some(responses_events),
    },
    Row {
        key: "chatgpt-codex-models",
        method: "GET",
        streams_by_default: false,
        answer: codex_models,
        websocket: None,
    },
    Row {
        key: "anthropic-models",
        method: "GET",
        streams_by_default: false,
        answer: anthropic_models,
        websocket: None,
    },
    Row {
        key: "openai-responses",
        method: "POST",
        streams_by_default: false,
        answer: responses,
        websocket: Some(responses_events),
    },
    Row {
        key: "openai-completions",
        method: "POST",
        streams_by_default: false,
        answer: chat_completions,
        websocket: None,
    },
    Row {
        key: "anthropic-messages",
        method: "POST",
        streams_by_default: false,
        answer: anthropic_messages,
        websocket: None,
    },
    Row { key: "ollama", method: "POST", streams_by_default: true, answer: ollama_chat, websocket: None },
    Row {
        key: "openai-embeddings",
        method: "POST",
        streams_by_default: false,
        answer: embeddings,
        websocket: None,
    },
    Row {
        key: "google-generative-ai",
        method: "POST",
        streams_by_default: true,
        answer: gemini_stream,
        websocket: None,
    },
    Row {
        key: "ollama-embed",
        method: "POST",
        streams_by_default: false,
        answer: ollama_embed,
        websocket: None,
    },
    Row { key: "openai-images", method: "POST", streams_by_default: false, answer: images, websocket: None },
    Row {
        key: "github-copilot-user",
        method: "GET",
        streams_by_default: false,
        answer: copilot_user,
        websocket: None,
    },
    Row { key: "models", method: "GET", streams_by_default: false, answer: openai_models, websocket: None },
];

/// The row answering `class`: by its name, else by its protocol.
pub fn row_for(class: &EndpointClass) -> Option<&'static Row> {
    ROWS.iter()
        .find(|row| row.key == class.name)
        .or_else(|| ROWS.iter().find(|row| row.key == class.protocol))
}

// ---------------------------------------------------------------------------
// Framing

/// One server-sent event: `event: NAME` + `data: JSON`.
fn sse_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// A data-only server-sent event, as chat completions send them.
fn sse_data(data: &str) -> String {
    format!("data: {data}\n\n")
}

fn event_stream(pieces: Vec<String>) -> Answer {
    Answer::Stream { content_type: "text/event-stream; charset=utf-8", pieces }
}

/// SSE framing of typed events (each carries its name in `type`).
fn typed_events(events: &[Value]) -> Vec<String> {
    events.iter().map(|event| sse_event(event["type"].as_str().unwrap_or("message"), event)).collect()
}

// ---------------------------------------------------------------------------
// OpenAI Responses (api.openai.com/v1/responses, chatgpt.com/backend-api/codex/responses)

fn responses(ask: &Ask) -> Answer {
    if ask.stream {
        event_stream(typed_events(&responses_events(ask)))
    } else {
        Answer::Json(200, response_object(ask, "completed"))
    }
}

/// The Responses object, `in_progress` (empty output, no usage) or `completed`.
fn response_object(ask: &Ask, status: &str) -> Value {
    let done = status == "completed";
    json!({
        "id": format!("resp_stub{:06}", ask.serial),
        "object": "response",
        "created_at": ask.created,
        "status": status,
        "error": null,
        "incomplete_details": null,
        "instructions": ask.body.get("instructions").cloned().unwrap_or(Value::Null),
        "model": ask.model,
        "output": if done { json!([message_item(ask, "completed")]) } else { json!([]) },
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null},
        "store": ask.body.get("store").cloned().unwrap_or(Value::Bool(true)),
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": if done { responses_usage() } else { Value::Null },
        "metadata": {}
    })
}

fn responses_usage() -> Value {
    json!({
        "input_tokens": INPUT_TOKENS,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": OUTPUT_TOKENS,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS
    })
}

fn message_item(ask: &Ask, status: &str) -> Value {
    let content = if status == "completed" { json!([output_text(STUB_TEXT)]) } else { json!([]) };
    json!({
        "id": format!("msg_stub{:06}", ask.serial),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content
    })
}

fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

/// The event sequence of one streamed Responses answer, as the API sends it
/// over SSE and over a WebSocket.
pub fn responses_events(ask: &Ask) -> Vec<Value> {
    let item_id = format!("msg_stub{:06}", ask.serial);
    let events = [
        json!({"type": "response.created", "response": response_object(ask, "in_progress")}),
        json!({"type": "response.in_progress", "response": response_object(ask, "in_progress")}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": message_item(ask, "in_progress")}),
        json!({"type": "response.content_part.added", "item_id": item_id, "output_index": 0, "content_index": 0,
               "part": output_text("")}),
        json!({"type": "response.output_text.delta", "item_id": item_id, "output_index": 0, "content_index": 0,
               "delta": STUB_TEXT, "logprobs": []}),
        json!({"type": "response.output_text.done", "item_id": item_id, "output_index": 0, "content_index": 0,
               "text": STUB_TEXT, "logprobs": []}),
        json!({"type": "response.content_part.done", "item_id": item_id, "output_index": 0, "content_index": 0,
               "part": output_text(STUB_TEXT)}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": message_item(ask, "completed")}),
        json!({"type": "response.completed", "response": response_object(ask, "completed")}),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(n, mut event)| {
            event["sequence_number"] = json!(n);
            event
        })
        .collect()
}

// ---------------------------------------------------------------------------
// OpenAI chat completions

fn chat_completions(ask: &Ask) -> Answer {
    let id = format!("chatcmpl-stub{:06}", ask.serial);
    let usage = json!({"prompt_tokens": INPUT_TOKENS, "completion_tokens": OUTPUT_TOKENS,
                       "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS});
    if !ask.stream {
        return Answer::Json(
            200,
            json!({
                "id": id, "object": "chat.completion", "created": ask.created, "model": ask.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": STUB_TEXT, "refusal": null},
                             "logprobs": null, "finish_reason": "stop"}],
                "usage": usage, "system_fingerprint": null
            }),
        );
    }
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": ask.created, "model": ask.model,
               "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    };
    let mut chunks = vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": STUB_TEXT}), Value::Null),
        chunk(json!({}), json!("stop")),
    ];
    // Clients that ask for usage get it in a last chunk with no choices.
    if ask.body.pointer("/stream_options/include_usage") == Some(&Value::Bool(true)) {
        chunks.push(json!({"id": id, "object": "chat.completion.chunk", "created": ask.created,
                           "model": ask.model, "choices": [], "usage": usage}));
    }
    let mut pieces: Vec<String> = chunks.iter().map(|c| sse_data(&c.to_string())).collect();
    pieces.push(sse_data("[DONE]"));
    event_stream(pieces)
}

// ---------------------------------------------------------------------------
// Anthropic messages

fn anthropic_message(ask: &Ask, done: bool) -> Value {
    json!({
        "id": format!("msg_stub{:06}", ask.serial),
        "type": "message",
        "role": "assistant",
        "model": ask.model,
        "content": if done { json!([{"type": "text", "text": STUB_TEXT}]) } else { json!([]) },
        "stop_reason": if done { json!("end_turn") } else { Value::Null },
        "stop_sequence": null,
        "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": if done { OUTPUT_TOKENS } else { 1 },
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    })
}

fn anthropic_messages(ask: &Ask) -> Answer {
    if !ask.stream {
        return Answer::Json(200, anthropic_message(ask, true));
    }
    let events = [
        json!({"type": "message_start", "message": anthropic_message(ask, false)}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": STUB_TEXT}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": OUTPUT_TOKENS}}),
        json!({"type": "message_stop"}),
    ];
    event_stream(typed_events(&events))
}

// ---------------------------------------------------------------------------
// Ollama's native chat

fn ollama_chat(ask: &Ask) -> Answer {
    let created_at = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(ask.created),
    )
    .to_string();
    let last = json!({"model": ask.model, "created_at": created_at,
                      "message": {"role": "assistant", "content": if ask.stream { "" } else { STUB_TEXT }},
                      "done": true, "done_reason": "stop", "prompt_eval_count": INPUT_TOKENS,
                      "eval_count": OUTPUT_TOKENS});
    if !ask.stream {
        return Answer::Json(200, last);
    }
    let first = json!({"model": ask.model, "created_at": created_at,
                       "message": {"role": "assistant", "content": STUB_TEXT}, "done": false});
    Answer::Stream {
        content_type: "application/x-ndjson",
        pieces: vec![format!("{first}\n"), format!("{last}\n")],
    }
}

// ---------------------------------------------------------------------------
// Gemini (generativelanguage.googleapis.com, Vertex AI): streamGenerateContent?alt=sse

/// Gemini's stream: data-only events, each a `GenerateContentResponse`;
/// the text, then the last one with `finishReason` and `usageMetadata`.
fn gemini_stream(ask: &Ask) -> Answer {
    let chunk = |text: &str, done: bool| {
        let mut candidate = json!({"content": {"role": "model", "parts": [{"text": text}]}, "index": 0});
        let mut chunk = json!({"modelVersion": ask.model, "responseId": format!("stub-{}", ask.serial)});
        if done {
            candidate["finishReason"] = json!("STOP");
            chunk["usageMetadata"] = json!({"promptTokenCount": INPUT_TOKENS, "candidatesTokenCount": OUTPUT_TOKENS,
                                            "totalTokenCount": INPUT_TOKENS + OUTPUT_TOKENS});
        }
        chunk["candidates"] = json!([candidate]);
        sse_data(&chunk.to_string())
    };
    event_stream(vec![chunk(STUB_TEXT, false), chunk("", true)])
}

// ---------------------------------------------------------------------------
// Embeddings, images and model lists

/// Ollama's `/api/embed`: one vector per input (a string or an array of them).
fn ollama_embed(ask: &Ask) -> Answer {
    let texts = embedding_inputs(&ask.body["input"]);
    let vectors: Vec<Vec<f32>> = texts.iter().map(|text| embedding(text, OLLAMA_DIMENSIONS)).collect();
    Answer::Json(
        200,
        json!({"model": ask.model, "embeddings": vectors, "total_duration": 1_000_000,
               "load_duration": 100_000, "prompt_eval_count": texts.len() as u64 * INPUT_TOKENS}),
    )
}

/// Dimensions of an Ollama embedding (`nomic-embed-text`'s).
const OLLAMA_DIMENSIONS: usize = 768;

/// OpenAI's image generation: `n` images (1 by default) as `b64_json` PNGs.
fn images(ask: &Ask) -> Answer {
    let n = ask.body.get("n").and_then(Value::as_u64).unwrap_or(1).clamp(1, 10);
    let prompt = ask.body.get("prompt").and_then(Value::as_str).unwrap_or_default();
    let data: Vec<Value> =
        (0..n).map(|_| json!({"b64_json": STUB_PNG_BASE64, "revised_prompt": prompt})).collect();
    Answer::Json(
        200,
        json!({"created": ask.created, "data": data,
               "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 0, "total_tokens": INPUT_TOKENS}}),
    )
}

/// A 1×1 transparent PNG.
const STUB_PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

fn embeddings(ask: &Ask) -> Answer {
    let texts = embedding_inputs(&ask.body["input"]);
    let dimensions =
        ask.body.get("dimensions").and_then(Value::as_u64).map_or(EMBEDDING_DIMENSIONS, |d| d as usize);
    // SDKs ask for base64 by default and decode it; answering floats to them breaks them.
    let base64 = ask.body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = embedding(text, dimensions);
            let embedding = if base64 { json!(embedding_base64(&vector)) } else { json!(vector) };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let tokens = texts.len() as u64 * INPUT_TOKENS;
    Answer::Json(
        200,
        json!({"object": "list", "data": data, "model": ask.model,
               "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
    )
}

/// The texts an embeddings `input` holds: a string, an array of strings, a
/// token array (one input), or an array of token arrays.
fn embedding_inputs(input: &Value) -> Vec<String> {
    match input {
        Value::Array(items) if items.iter().all(Value::is_number) => vec![input.to_string()],
        Value::Array(items) => {
            items.iter().map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned)).collect()
        }
        Value::String(text) => vec![text.clone()],
        other => vec![other.to_string()],
    }
}

/// A deterministic unit vector for `text`: the same text always embeds the
/// same, different texts differ, so similarity searches behave.
fn embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let seed = Sha256::digest(text.as_bytes());
    let raw: Vec<f32> = (0..dimensions)
        .map(|i| f32::from(seed[i % seed.len()] ^ (i / seed.len()) as u8) / 255.0 - 0.5)
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::EPSILON);
    raw.iter().map(|x| (x / norm * 1e6).round() / 1e6).collect()
}

/// The API's base64 form: little-endian f32s.
fn embedding_base64(vector: &[f32]) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// GitHub Copilot's user endpoint: the token is good, and the Copilot API is
/// at the individual plan's host (a `*.githubcopilot.com` host, the only kind
/// OpenClaw trusts there).
fn copilot_user(_: &Ask) -> Answer {
    Answer::Json(
        200,
        json!({"login": "stub-user", "copilot_plan": "individual", "chat_enabled": true,
               "endpoints": {"api": "https://api.individual.githubcopilot.com",
                             "proxy": "https://proxy.individual.githubcopilot.com"}}),
    )
}

/// The Codex binary asks the ChatGPT backend for its model list and accepts an empty one.
fn codex_models(_: &Ask) -> Answer {
    Answer::Json(200, json!({"models": []}))
}

fn openai_models(_: &Ask) -> Answer {
    Answer::Json(200, json!({"object": "list", "data": []}))
}

fn anthropic_models(_: &Ask) -> Answer {
    Answer::Json(200, json!({"data": [], "has_more": false, "first_id": null, "last_id": null}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::catalog::Catalog;

    fn ask(body: Value, key: &str) -> Ask {
        let row = ROWS.iter().find(|r| r.key == key).unwrap();
        Ask::new(body, "https://stub.test/v1", row, 7, 1_700_000_000)
    }

    fn class<'a>(catalog: &'a Catalog, method: &str, url: &str) -> &'a EndpointClass {
        catalog.classify(method, url).unwrap()
    }

    fn sse_payloads(answer: &Answer) -> Vec<(String, Value)> {
        let Answer::Stream { pieces, .. } = answer else { panic!("not a stream: {answer:?}") };
        pieces
            .iter()
            .filter(|p| !p.contains("[DONE]"))
            .map(|piece| {
                let name = piece.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("").to_owned();
                let data = piece.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                (name, serde_json::from_str(data).unwrap())
            })
            .collect()
    }

    mod table {
        use super::*;

        #[test]
        fn every_row_is_reachable_from_a_shipped_class_or_protocol() {
            let catalog = Catalog::shipped().unwrap();
            for row in ROWS {
                let reachable =
                    catalog.endpoint_classes.iter().any(|c| c.name == row.key || c.protocol == row.key);
                assert!(reachable, "{}", row.key);
            }
        }

        #[test]
        fn class_names_win_over_protocols() {
            let catalog = Catalog::shipped().unwrap();
            let codex = class(&catalog, "POST", "https://chatgpt.com/backend-api/codex/responses");
            assert!(row_for(codex).unwrap().streams_by_default);
            let platform = class(&catalog, "POST", "https://api.openai.com/v1/responses");
            assert!(!row_for(platform).unwrap().streams_by_default);
            let models = class(&catalog, "GET", "https://chatgpt.com/backend-api/codex/models");
            assert_eq!(
                (row_for(models).unwrap().answer)(&ask(Value::Null, "models")),
                codex_models(&ask(Value::Null, "models"))
            );
        }

        #[test]
        fn a_class_the_table_does_not_know_has_no_row() {
            let catalog = Catalog::shipped().unwrap();
            let token = class(&catalog, "POST", "https://auth.openai.com/oauth/token");
            assert!(row_for(token).is_none());
        }
    }

    mod asks {
        use super::*;

        #[test]
        fn model_is_echoed_and_stream_defaults_per_row() {
            let a = ask(json!({"model": "gpt-5.5"}), "chatgpt-codex-responses");
            assert_eq!((a.model.as_str(), a.stream), ("gpt-5.5", true));
            let a = ask(json!({"model": "gpt-5.5"}), "openai-responses");
            assert!(!a.stream);
            let a = ask(json!({"stream": false}), "chatgpt-codex-responses");
            assert_eq!((a.model.as_str(), a.stream), (DEFAULT_MODEL, false));
        }
    }

    mod responses {
        use super::*;

        #[test]
        fn the_stream_runs_created_delta_completed_with_the_model_echoed() {
            let events = sse_payloads(&responses(&ask(
                json!({"model": "gpt-5.5", "stream": true}),
                "openai-responses",
            )));
            let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names.first(), Some(&"response.created"));
            assert_eq!(names.last(), Some(&"response.completed"));
            assert!(names.contains(&"response.output_text.delta"));
            for (name, data) in &events {
                assert_eq!(data["type"], json!(name), "the event name is the payload type");
            }
            let done = &events.last().unwrap().1["response"];
            assert_eq!(done["model"], "gpt-5.5");
            assert_eq!(done["id"], "resp_stub000007");
            assert_eq!(done["output"][0]["content"][0]["text"], STUB_TEXT);
            assert_eq!(done["usage"]["total_tokens"], INPUT_TOKENS + OUTPUT_TOKENS);
            let numbers: Vec<u64> =
                events.iter().map(|(_, d)| d["sequence_number"].as_u64().unwrap()).collect();
            assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1));
        }

        #[test]
        fn stream_false_is_one_json_response() {
            let Answer::Json(200, body) =
                responses(&ask(json!({"model": "m", "stream": false}), "chatgpt-codex-responses"))
            else {
                panic!()
            };
            assert_eq!(
                (body["object"].as_str(), body["status"].as_str()),
                (Some("response"), Some("completed"))
            );
            assert_eq!(body["model"], "m");
        }

        #[test]
        fn store_and_instructions_are_echoed() {
            let Answer::Json(_, body) =
                responses(&ask(json!({"store": false, "instructions": "be brief"}), "openai-responses"))
            else {
                panic!()
            };
            assert_eq!(
                (body["store"].clone(), body["instructions"].clone()),
                (json!(false), json!("be brief"))
            );
        }
    }

    mod chat {
        use super::*;

        #[test]
        fn streamed_chunks_end_with_done_and_usage_when_asked() {
            let body = json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true}});
            let answer = chat_completions(&ask(body, "openai-completions"));
            let Answer::Stream { pieces, .. } = &answer else { panic!() };
            assert_eq!(pieces.last().unwrap(), "data: [DONE]\n\n");
            let chunks = sse_payloads(&answer);
            let text: String =
                chunks.iter().filter_map(|(_, c)| c["choices"][0]["delta"]["content"].as_str()).collect();
            assert_eq!(text, STUB_TEXT);
            assert_eq!(chunks.last().unwrap().1["usage"]["total_tokens"], INPUT_TOKENS + OUTPUT_TOKENS);
            assert!(chunks.iter().all(|(name, c)| name.is_empty() && c["model"] == "gpt-4o"));
        }

        #[test]
        fn non_stream_is_a_chat_completion() {
            let Answer::Json(200, body) = chat_completions(&ask(json!({"model": "x"}), "openai-completions"))
            else {
                panic!()
            };
            assert_eq!(body["object"], "chat.completion");
            assert_eq!(body["choices"][0]["message"]["content"], STUB_TEXT);
        }
    }

    mod anthropic {
        use super::*;

        #[test]
        fn the_stream_is_message_start_to_message_stop() {
            let answer =
                anthropic_messages(&ask(json!({"model": "claude-x", "stream": true}), "anthropic-messages"));
            let events = sse_payloads(&answer);
            assert_eq!(events.first().unwrap().0, "message_start");
            assert_eq!(events.first().unwrap().1["message"]["model"], "claude-x");
            assert_eq!(events.last().unwrap().0, "message_stop");
            assert!(events.iter().any(|(_, e)| e["delta"]["text"] == STUB_TEXT));
        }

        #[test]
        fn non_stream_is_a_message() {
            let Answer::Json(200, body) =
                anthropic_messages(&ask(json!({"model": "claude-x"}), "anthropic-messages"))
            else {
                panic!()
            };
            assert_eq!(
                (body["type"].as_str(), body["stop_reason"].as_str()),
                (Some("message"), Some("end_turn"))
            );
        }
    }

    mod embeddings {
        use super::*;

        #[test]
        fn one_unit_vector_per_input_in_the_asked_dimensions() {
            let body = json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8});
            let Answer::Json(200, answer) = embeddings(&ask(body, "openai-embeddings")) else { panic!() };
            let data = answer["data"].as_array().unwrap();
            assert_eq!(data.len(), 2);
            let vector: Vec<f64> =
                data[0]["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            assert_eq!(vector.len(), 8);
            assert!((vector.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-3);
            assert_ne!(data[0]["embedding"], data[1]["embedding"]);
        }

        #[test]
        fn base64_is_little_endian_f32s() {
            use base64::Engine as _;
            let body = json!({"input": "a", "dimensions": 4, "encoding_format": "base64"});
            let Answer::Json(_, answer) = embeddings(&ask(body, "openai-embeddings")) else { panic!() };
            let encoded = answer["data"][0]["embedding"].as_str().unwrap();
            let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
            assert_eq!(bytes.len(), 16);
        }

        #[test]
        fn inputs_are_strings_or_token_arrays() {
            assert_eq!(embedding_inputs(&json!("x")), vec!["x"]);
            assert_eq!(embedding_inputs(&json!([1, 2, 3])).len(), 1);
            assert_eq!(embedding_inputs(&json!([[1, 2], [3]])).len(), 2);
        }
    }

    #[test]
    fn model_lists_have_their_provider_shapes() {
        let none = ask(Value::Null, "models");
        assert_eq!(codex_models(&none), Answer::Json(200, json!({"models": []})));
        assert_eq!(openai_models(&none), Answer::Json(200, json!({"object": "list", "data": []})));
        let Answer::Json(_, body) = anthropic_models(&none) else { panic!() };
        assert_eq!(body["has_more"], false);
    }

    #[test]
    fn ollama_streams_ndjson_lines() {
        let Answer::Stream { content_type, pieces } = ollama_chat(&ask(json!({"model": "llama3"}), "ollama"))
        else {
            panic!()
        };
        assert_eq!(content_type, "application/x-ndjson");
        let last: Value = serde_json::from_str(pieces.last().unwrap()).unwrap();
        assert_eq!((last["done"].clone(), last["model"].clone()), (json!(true), json!("llama3")));
    }

    #[test]
    fn gemini_streams_candidates_with_the_model_from_the_path() {
        let url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
        let row = ROWS.iter().find(|r| r.key == "google-generative-ai").unwrap();
        let ask =
            Ask::new(json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}), url, row, 1, 0);
        assert_eq!(ask.model, "gemini-2.5-flash");
        let events = sse_payloads(&gemini_stream(&ask));
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|(name, _)| name.is_empty()), "data-only events");
        assert_eq!(events[0].1["candidates"][0]["content"]["parts"][0]["text"], STUB_TEXT);
        let last = &events[1].1;
        assert_eq!(
            (last["candidates"][0]["finishReason"].clone(), last["modelVersion"].clone()),
            (json!("STOP"), json!("gemini-2.5-flash"))
        );
        assert_eq!(last["usageMetadata"]["totalTokenCount"], INPUT_TOKENS + OUTPUT_TOKENS);
    }

    #[test]
    fn copilot_user_names_a_trusted_api_host() {
        let Answer::Json(200, body) = copilot_user(&ask(Value::Null, "github-copilot-user")) else {
            panic!()
        };
        let api = body["endpoints"]["api"].as_str().unwrap();
        assert!(api.starts_with("https://") && api.ends_with(".githubcopilot.com"), "{api}");
    }

    #[test]
    fn ollama_embeds_each_input() {
        let Answer::Json(200, body) =
            ollama_embed(&ask(json!({"model": "nomic-embed-text", "input": ["a", "b"]}), "ollama-embed"))
        else {
            panic!()
        };
        let vectors = body["embeddings"].as_array().unwrap();
        assert_eq!(vectors.len(), 2);
        assert_eq!(vectors[0].as_array().unwrap().len(), OLLAMA_DIMENSIONS);
        assert_ne!(vectors[0], vectors[1]);
    }

    #[test]
    fn images_are_pngs_as_b64_json() {
        use base64::Engine as _;
        let Answer::Json(200, body) =
            images(&ask(json!({"model": "gpt-image-1", "prompt": "a cat", "n": 2}), "openai-images"))
        else {
            panic!()
        };
        assert_eq!(body["data"].as_array().unwrap().len(), 2);
        let png = base64::engine::general_purpose::STANDARD
            .decode(body["data"][0]["b64_json"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(body["data"][0]["revised_prompt"], "a cat");
    }

    #[test]
    fn a_path_names_a_model_only_after_models() {
        assert_eq!(
            model_in_path(
                "https://h/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:streamGenerateContent"
            ),
            Some("gemini-2.5-pro")
        );
        assert_eq!(model_in_path("https://api.openai.com/v1/models"), None);
        assert_eq!(model_in_path("https://api.openai.com/v1/responses"), None);
    }
}
