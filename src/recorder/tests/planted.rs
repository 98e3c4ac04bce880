//! The property behind "no secret on disk": random secrets planted in random
//! positions, in random body forms (split over chunks at random places, or
//! bytes that are not UTF-8), never reach the journal, the cassette or a
//! side file — in clear, percent-encoded or in base64.

use base64::Engine as _;
use proptest::prelude::*;

use super::*;
use crate::cassette::wire::BASE64;
use crate::exchange::content::percent_encode;

/// Where a secret is planted: a body, a header or the URL.
#[derive(Debug, Clone, Copy)]
enum Position {
    JsonField,
    PrettyJson,
    JsonInString,
    Form,
    Multipart,
    HeaderLineInText,
    SseWithComment,
    CustomHeader,
    QueryParam,
    BearerThenBody,
}

const POSITIONS: [Position; 10] = [
    Position::JsonField,
    Position::PrettyJson,
    Position::JsonInString,
    Position::Form,
    Position::Multipart,
    Position::HeaderLineInText,
    Position::SseWithComment,
    Position::CustomHeader,
    Position::QueryParam,
    Position::BearerThenBody,
];

/// One planted secret: where, on which side, and how its body is cut.
#[derive(Debug, Clone)]
struct Plant {
    secret: String,
    position: Position,
    response: bool,
    not_utf8: bool,
    cuts: Vec<usize>,
}

fn plant() -> impl Strategy<Value = Plant> {
    (
        "[A-Za-z0-9]{8,40}",
        0..POSITIONS.len(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(0usize..200, 0..4),
    )
        .prop_map(|(secret, at, response, not_utf8, cuts)| Plant {
            // Opaque, and unlike anything else in the exchange.
            secret: format!("Q{secret}"),
            position: POSITIONS[at],
            response,
            not_utf8,
            cuts,
        })
}

/// The body text and content type that put `secret` at `position`.
fn body_for(position: Position, secret: &str) -> (String, &'static str) {
    match position {
        Position::JsonField => (format!(r#"{{"model":"m","api_key":"{secret}"}}"#), "application/json"),
        Position::PrettyJson => {
            (format!("{{\n  \"client_secret\" : \"{secret}\",\n  \"n\": 1\n}}\n"), "application/json")
        }
        Position::JsonInString => {
            (format!(r#"{{"payload":"{{\"password\": \"{secret}\"}}"}}"#), "application/json")
        }
        Position::Form => (format!("a=1&refresh_token={secret}&b=2"), "application/x-www-form-urlencoded"),
        Position::Multipart => (
            format!(
                "--X\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\n{secret}\r\n--X--\r\n"
            ),
            "multipart/form-data; boundary=X",
        ),
        Position::HeaderLineInText => {
            (format!("request was:\nAuthorization: Bearer {secret}\n"), "text/plain")
        }
        Position::SseWithComment => {
            (format!(": ping\n\ndata: {{\"id_token\":\"{secret}\"}}\n\n"), "text/event-stream")
        }
        // The body mentions it; the request's bearer says what it is.
        Position::BearerThenBody => (format!("it was {secret} all along"), "text/plain"),
        Position::CustomHeader | Position::QueryParam => (String::new(), "text/plain"),
    }
}

/// `bytes` cut at `cuts` (offsets modulo its length) into timed chunks.
fn chunks(bytes: Vec<u8>, cuts: &[usize]) -> Vec<TimedChunk> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % bytes.len().max(1)).filter(|c| *c > 0).collect();
    at.sort_unstable();
    at.dedup();
    at.push(bytes.len());
    let mut start = 0;
    let mut out = Vec::new();
    for end in at {
        out.push(TimedChunk {
            at: Duration::from_millis(out.len() as u64),
            data: Bytes::copy_from_slice(&bytes[start..end]),
        });
        start = end;
    }
    out
}

fn exchange_for(plant: &Plant) -> Exchange {
    let (text, content_type) = body_for(plant.position, &plant.secret);
    let mut bytes = text.into_bytes();
    if plant.not_utf8 && !bytes.is_empty() {
        bytes.insert(0, 0xff);
    }
    let url = match plant.position {
        Position::QueryParam => format!("https://api.openai.com/v1/x?access_token={}&m=1", plant.secret),
        _ => "https://api.openai.com/v1/x".to_owned(),
    };
    let mut exchange = super::exchange(&url, "Bearer sk-proj-plantedbearer000000000000");
    let mut headers = vec![("content-type".to_owned(), content_type.to_owned())];
    match plant.position {
        Position::CustomHeader => headers.push(("x-custom-secret".into(), plant.secret.clone())),
        Position::BearerThenBody => {
            headers.push(("authorization".into(), format!("Bearer {}", plant.secret)))
        }
        _ => {}
    }
    let body = chunks(bytes, &plant.cuts);
    if plant.response {
        exchange.response = Some(ResponseHead { status: 200, headers });
        exchange.response_body = body;
    } else {
        exchange.request.headers.extend(headers);
        exchange.request_body = body;
    }
    exchange
}

/// Every way `secret` could sit in a file: as is, percent-encoded, and its
/// base64 at each of the three alignments.
fn encodings(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned(), percent_encode(secret)];
    for pad in 0..3 {
        let encoded = BASE64.encode(format!("{}{secret}", "x".repeat(pad)));
        let start = if pad == 0 { 0 } else { 4 };
        forms.push(encoded[start..encoded.len().saturating_sub(4)].to_owned());
    }
    forms.retain(|f| f.len() >= 6);
    forms
}

fn holds(bytes: &[u8], secret: &str) -> bool {
    encodings(secret).iter().any(|form| memchr::memmem::find(bytes, form.as_bytes()).is_some())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_planted_secret_reaches_any_file(plants in prop::collection::vec(plant(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let mut worker = worker(dir.path(), &[]);
        // A secret that is a bearer only later is mentioned first.
        let mut ordered = plants.clone();
        ordered.sort_by_key(|p| !matches!(p.position, Position::BearerThenBody));
        let mentions = ordered.iter().filter(|p| matches!(p.position, Position::BearerThenBody));
        let mut exchanges: Vec<Exchange> = mentions.map(|p| {
            let mut mention = super::exchange("https://api.openai.com/v1/note", "Bearer sk-proj-plantedbearer000000000000");
            mention.request_body = chunks(format!("note: {}", p.secret).into_bytes(), &p.cuts);
            mention
        }).collect();
        exchanges.extend(ordered.iter().map(exchange_for));
        for exchange in exchanges {
            let known = worker.redactor.seen_count();
            worker.record(exchange);
            worker.end_batch(known);
        }
        let journal = std::fs::read(journal_path(&path)).unwrap();
        for plant in &plants {
            prop_assert!(!holds(&journal, &plant.secret), "the journal holds {plant:?}");
        }
        worker.finish(&path).unwrap();
        for file in walk(dir.path()) {
            let bytes = std::fs::read(&file).unwrap();
            for plant in &plants {
                prop_assert!(!holds(&bytes, &plant.secret), "{} holds {plant:?}", file.display());
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}
