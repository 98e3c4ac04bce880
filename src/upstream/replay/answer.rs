//! Recorded answers back onto the wire: status, headers and body as
//! recorded, with the framing headers made true for the bytes actually sent.
//!
//! Bodies are stored decoded (`decoded_from` names the wire encoding) and are
//! served **identity**: `content-encoding` is dropped, and the length is
//! announced for the identity bytes — `content-length` for whole bodies,
//! chunked transfer (h1) or plain data frames (h2) for streams (`sse`,
//! `chunks`) unless the recording announced a length. Streams go out piece
//! by piece, each piece its own frame, after the recorded gap when pacing
//! is `recorded`.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};

use super::Pace;
use crate::cassette::Piece;
use crate::cassette::model::{self, Body as StoredBody};
use crate::dispatch::catalog::ProviderAnswer;
use crate::upstream::{Body, BoxError, UpstreamError, body, websocket_accept};

/// Headers that describe one hop or the recorded framing, never replayed as
/// recorded: the framing is recomputed for the bytes replay sends.
const NOT_REPLAYED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Headers a WebSocket head gets anew: the accept key answers this client's
/// key, and no extension is negotiated (the proxy relays plain messages).
const WEBSOCKET_RENEWED: &[&str] = &["sec-websocket-accept", "sec-websocket-extensions"];

/// How the replayed body's length is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// As recorded (an empty stored body: a `HEAD` or `304` keeps its length).
    Recorded,
    /// `content-length` of the identity bytes sent.
    Exact(u64),
    /// None: chunked (h1) or data frames (h2).
    Streamed,
}

/// The length rule for a body of `wire_len` identity bytes.
fn length(recorded: bool, streamed: bool, empty: bool, wire_len: u64) -> Length {
    match (empty, streamed, recorded) {
        (true, _, _) => Length::Recorded,
        (false, true, false) => Length::Streamed,
        _ => Length::Exact(wire_len),
    }
}

/// The response headers replay sends for `recorded` headers and a stored
/// `body` of `wire_len` identity bytes.
fn replayed_headers(
    recorded: &[(String, String)],
    body: &StoredBody,
    wire_len: u64,
) -> Vec<(String, String)> {
    let recorded_length = recorded.iter().find(|(name, _)| name == "content-length");
    let empty = matches!(body.content, model::BodyContent::Empty(_));
    let rule = length(recorded_length.is_some(), body.is_streamed(), empty, wire_len);
    let decoded = body.decoded_from.is_some();
    let mut headers: Vec<(String, String)> = recorded
        .iter()
        .filter(|(name, _)| !NOT_REPLAYED.contains(&name.as_str()))
        .filter(|(name, _)| !(decoded && name == "content-encoding"))
        .cloned()
        .collect();
    match (rule, recorded_length) {
        (Length::Recorded, Some(pair)) => headers.push(pair.clone()),
        (Length::Exact(len), _) => headers.push(("content-length".to_owned(), len.to_string())),
        _ => {}
    }
    headers
}

/// How long to wait before each piece: the recorded gaps, or nothing.
fn gaps(times_ms: &[u64], pace: Pace) -> Vec<Duration> {
    let mut previous = 0;
    times_ms
        .iter()
        .map(|&t| {
            let gap = t.saturating_sub(previous);
            previous = previous.max(t);
            match pace {
                Pace::Recorded => Duration::from_millis(gap),
                Pace::None => Duration::ZERO,
            }
        })
        .collect()
}

/// Header pairs as a map; a pair that is not a valid header is left out
/// (the loader accepted its name; a value with control bytes cannot be sent).
fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            (Ok(name), Ok(value)) => {
                map.append(name, value);
            }
            _ => tracing::debug!(header = %name, "recorded header cannot be sent; left out"),
        }
    }
    map
}

fn status(code: u16) -> Result<StatusCode, UpstreamError> {
    StatusCode::from_u16(code)
        .map_err(|_| UpstreamError::new(format!("recorded status {code} is not an HTTP status")))
}

/// The recorded `response`, its body streamed as recorded. `failure`: the
/// recorded upstream failure that cut the body short, replayed as a body
/// error after the recorded pieces. `dir` is the cassette's directory (side files).
pub(super) fn recorded(
    response: &model::Response,
    dir: &Path,
    pace: Pace,
    failure: Option<String>,
) -> Result<Response<Body>, UpstreamError> {
    let pieces = response
        .body
        .pieces(dir)
        .map_err(|err| UpstreamError::new(format!("cannot replay the recorded body: {err}")))?;
    let wire_len = pieces.iter().map(|p| p.bytes.len() as u64).sum();
    let headers = header_map(&replayed_headers(&response.headers, &response.body, wire_len));
    let body = if response.body.is_streamed() || failure.is_some() {
        paced(pieces, pace, failure)
    } else {
        body::full(pieces.into_iter().flat_map(|p| p.bytes).collect::<Bytes>())
    };
    let mut answer = Response::new(body);
    *answer.status_mut() = status(response.status)?;
    *answer.headers_mut() = headers;
    Ok(answer)
}

/// A body yielding each piece as its own frame, after its gap, then `failure` if any.
fn paced(pieces: Vec<Piece>, pace: Pace, failure: Option<String>) -> Body {
    let times: Vec<u64> = pieces.iter().map(|p| p.t_ms).collect();
    let timed = pieces.into_iter().zip(gaps(&times, pace));
    let chunks = futures_util::stream::iter(timed).then(|(piece, gap)| async move {
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
        Ok::<_, BoxError>(piece.bytes)
    });
    let tail = futures_util::stream::iter(failure.map(|reason| Err(BoxError::from(reason))));
    body::from_stream(chunks.chain(tail))
}

/// The `101` head accepting this client's upgrade (`client_key`: its
/// `sec-websocket-key`), with the recorded headers otherwise.
pub(super) fn websocket_head(response: &model::Response, client_key: Option<&[u8]>) -> Response<()> {
    let kept: Vec<(String, String)> = response
        .headers
        .iter()
        .filter(|(name, _)| {
            !NOT_REPLAYED.contains(&name.as_str()) && !WEBSOCKET_RENEWED.contains(&name.as_str())
        })
        .cloned()
        .collect();
    let mut head = Response::new(());
    *head.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = head.headers_mut();
    *headers = header_map(&kept);
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if let Some(accept) = client_key.and_then(|key| HeaderValue::from_str(&websocket_accept(key)).ok()) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    head
}

/// What the provider answers a request without the credential it needs.
pub(super) fn unauthorized(answer: &ProviderAnswer) -> Result<Response<Body>, UpstreamError> {
    let mut headers = header_map(&answer.headers);
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let mut response = Response::new(body::full(answer.body.to_string()));
    *response.status_mut() = status(answer.status)?;
    *response.headers_mut() = headers;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::{BodyContent, Chunk, Payload, SseEvent};
    use http_body_util::BodyExt as _;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn sse(times: &[u64]) -> StoredBody {
        let event = |t_ms| SseEvent { t_ms, event: None, id: None, retry: None, data: "x".into() };
        StoredBody::from(BodyContent::Sse(times.iter().map(|t| event(*t)).collect()))
    }

    #[test]
    fn decoded_bodies_go_out_identity_with_their_own_length() {
        let mut body = StoredBody::from(BodyContent::Text("hello".into()));
        body.decoded_from = Some("gzip".into());
        let recorded = pairs(&[("content-encoding", "gzip"), ("content-length", "25"), ("x-a", "1")]);
        let headers = replayed_headers(&recorded, &body, 5);
        assert_eq!(headers, pairs(&[("x-a", "1"), ("content-length", "5")]));
    }

    #[test]
    fn undecoded_content_encoding_stays() {
        let body = StoredBody::from(BodyContent::Base64("AAE=".into()));
        let headers = replayed_headers(&pairs(&[("content-encoding", "x-custom")]), &body, 2);
        assert_eq!(value(&headers, "content-encoding"), Some("x-custom"));
    }

    #[test]
    fn streams_without_a_recorded_length_are_chunked() {
        let recorded = pairs(&[("content-type", "text/event-stream"), ("transfer-encoding", "chunked")]);
        let headers = replayed_headers(&recorded, &sse(&[0, 5]), 20);
        assert_eq!(headers, pairs(&[("content-type", "text/event-stream")]));
    }

    #[test]
    fn streams_with_a_recorded_length_get_the_exact_one() {
        let headers = replayed_headers(&pairs(&[("content-length", "99")]), &sse(&[0]), 9);
        assert_eq!(value(&headers, "content-length"), Some("9"));
    }

    #[test]
    fn empty_bodies_keep_the_recorded_length() {
        let head = replayed_headers(&pairs(&[("content-length", "1234")]), &StoredBody::default(), 0);
        assert_eq!(value(&head, "content-length"), Some("1234"));
        assert_eq!(replayed_headers(&[], &StoredBody::default(), 0), []);
    }

    #[test]
    fn whole_bodies_always_announce_their_length() {
        let body = StoredBody::from(BodyContent::Json(serde_json::json!({"a": 1})));
        assert_eq!(value(&replayed_headers(&[], &body, 7), "content-length"), Some("7"));
    }

    #[test]
    fn gaps_follow_the_recording_or_vanish() {
        let ms = Duration::from_millis;
        assert_eq!(gaps(&[3, 10, 10, 25], Pace::Recorded), [ms(3), ms(7), ms(0), ms(15)]);
        assert_eq!(gaps(&[3, 10], Pace::None), [Duration::ZERO, Duration::ZERO]);
        assert_eq!(gaps(&[10, 4, 12], Pace::Recorded), [ms(10), ms(0), ms(2)], "never negative");
    }

    #[tokio::test]
    async fn chunks_are_served_one_frame_each_and_a_failure_ends_the_body() {
        let chunks = ["a", "b"].map(|t| Chunk { t_ms: 0, payload: Payload::Text(t.into()) }).to_vec();
        let response = model::Response {
            status: 200,
            headers: vec![],
            body: StoredBody::from(BodyContent::Chunks(chunks)),
        };
        let failure = Some(format!("{}: reset", model::RESPONSE_CUT_SHORT));
        let mut body = recorded(&response, Path::new("."), Pace::None, failure).unwrap().into_body();
        assert_eq!(body.frame().await.unwrap().unwrap().into_data().unwrap(), "a");
        assert_eq!(body.frame().await.unwrap().unwrap().into_data().unwrap(), "b");
        let err = body.frame().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("reset"), "{err}");
    }

    #[test]
    fn websocket_head_answers_this_clients_key() {
        let response = model::Response {
            status: 101,
            headers: pairs(&[
                ("sec-websocket-accept", "stale"),
                ("sec-websocket-extensions", "permessage-deflate"),
                ("x-a", "1"),
            ]),
            body: StoredBody::default(),
        };
        let head = websocket_head(&response, Some(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(head.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(head.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(head.headers()["upgrade"], "websocket");
        assert_eq!(head.headers()["x-a"], "1");
        assert!(!head.headers().contains_key("sec-websocket-extensions"));
    }

    #[tokio::test]
    async fn unauthorized_is_json_with_the_providers_status() {
        let answer = ProviderAnswer {
            status: 401,
            headers: vec![],
            body: serde_json::json!({"error": {"message": "no"}}),
        };
        let response = unauthorized(&answer).unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["content-type"], "application/json");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(bytes, r#"{"error":{"message":"no"}}"#);
    }
}
