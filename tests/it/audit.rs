//! `audit` through the built binary on hand-planted files: every secret of a
//! cassette and of a HAR file is named — opaque values in credential
//! positions, token shapes, and keys encoded or split — and the shipped
//! scenarios, cassettes and docs are clean with the shipped allow file.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use dispatch_vcr::credential::fingerprint;
use serde_json::json;

use crate::support::BIN;

/// `len` random lower-case hex digits: opaque secrets with no shape to find.
fn hex(len: usize) -> String {
    let mut bytes = vec![0u8; len.div_ceil(2)];
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()[..len].to_owned()
}

/// `len` random letters and digits (the body of a provider key).
fn alnum(len: usize) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    hex(len * 2)
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            alphabet[usize::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap() % 62] as char
        })
        .collect()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn audit(path: &Path, extra: &[&str]) -> Output {
    Command::new(BIN).arg("audit").arg(path).args(extra).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit 1, each secret named by its first characters and fingerprint, and
/// none of them printed whole.
fn assert_names_each(out: &Output, secrets: &[(&str, String)]) {
    let text = stdout(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for (what, secret) in secrets {
        let named = format!("`{}…` ({})", &secret[..6], fingerprint(secret));
        assert!(text.contains(&named), "{what} ({named}) is not named:\n{text}");
        assert!(!text.contains(secret.as_str()), "{what} printed whole:\n{text}");
    }
    let summary = format!("{} secrets found in 1 file", secrets.len());
    assert!(text.contains(&summary), "{text}");
}

#[test]
fn finds_every_secret_planted_in_a_cassette() {
    let s: Vec<(&str, String)> = vec![
        ("opaque ?api_key=", hex(32)),
        ("opaque authorization Bearer", hex(32)),
        ("opaque x-api-key", hex(32)),
        ("opaque JSON api_key", hex(32)),
        ("Google ya29. OAuth token", format!("ya29.a0{}", alnum(60))),
        ("base64-encoded OpenAI key", format!("sk-proj-{}", alnum(40))),
        ("percent-encoded Anthropic key", format!("sk-ant-api03-{}", alnum(40))),
        ("\\u-escaped OpenRouter key", format!("sk-or-v1-{}", hex(64))),
        ("key split across chunks", format!("sk-proj-{}", alnum(48))),
        ("JWT split across lines", jwt()),
        ("api_key in JSON inside a JSON string", hex(32)),
        ("multipart client_secret", hex(32)),
        ("refresh_token in a non-UTF-8 form body", hex(32)),
        ("token in the path", format!("123456789:{}", alnum(35))),
        ("opaque x-custom-secret", hex(40)),
        ("Anthropic key streamed over two SSE events", format!("sk-ant-api03-{}", alnum(40))),
        ("Google API key in ?key=", format!("AIza{}", alnum(35))),
        ("xAI key in a message", format!("xai-{}", alnum(80))),
    ];
    let v = |i: usize| s[i].1.as_str();
    let percent: String = v(6).bytes().map(|b| format!("%{b:02X}")).collect();
    let wrapped_jwt =
        v(9).as_bytes().chunks(40).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n  ");
    let multipart = format!(
        "--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n--b0undary\r\n\
         Content-Disposition: form-data; name=\"client_secret\"\r\n\r\n{}\r\n--b0undary--\r\n",
        v(11)
    );
    let mut form = format!("grant_type=refresh_token&refresh_token={}&x=", v(12)).into_bytes();
    form.push(0xff);
    let (head, tail) = v(8).split_at(20);
    let (first, second) = v(15).split_at(17);
    let interactions = json!([
        {"seq": 1, "conn": 1, "t_ms": 0, "duration_ms": 1, "request": {"method": "POST",
            "url": format!("https://api.openai.com/v1/responses?api_key={}&note={percent}", v(0)), "http_version": "HTTP/1.1",
            "headers": [["authorization", format!("Bearer {}", v(1))], ["x-api-key", v(2)], ["x-custom-secret", v(14)],
                        ["content-type", "application/json"]],
            "body": {"json": {"api_key": v(3), "payload": json!({"api_key": v(10)}).to_string(),
                              "input": [{"role": "user", "content": format!("use {}", v(17))}]}}},
         "response": {"status": 200, "headers": [], "body": {"text": format!("token: {}\nblob: {}", v(4), b64(format!("key={}", v(5))))}}},
        {"seq": 2, "conn": 1, "t_ms": 1, "duration_ms": 1, "request": {"method": "POST", "url": "https://oauth2.example/token",
            "http_version": "HTTP/1.1", "headers": [["content-type", "application/x-www-form-urlencoded"]], "body": {"base64": b64(&form)}},
         "response": {"status": 200, "headers": [], "body": {"chunks": [{"t_ms": 0, "text": format!("{{\"note\": \"{head}")},
                                                                        {"t_ms": 1, "text": format!("{tail}\"}}")}]}}},
        {"seq": 3, "conn": 2, "t_ms": 2, "duration_ms": 1, "request": {"method": "POST", "url": "https://upload.example/v1/files",
            "http_version": "HTTP/1.1", "headers": [["content-type", "multipart/form-data; boundary=b0undary"]], "body": {"text": multipart}},
         "response": {"status": 200, "headers": [], "body": {"sse": [
             {"t_ms": 0, "data": json!({"type": "delta", "delta": first}).to_string()},
             {"t_ms": 1, "data": json!({"type": "delta", "delta": second}).to_string()}]}}},
        {"seq": 4, "conn": 3, "t_ms": 3, "duration_ms": 1, "request": {"method": "GET",
            "url": format!("https://api.telegram.org/bot{}/getMe?key={}", v(13), v(16)), "http_version": "HTTP/1.1", "headers": [],
            "body": {"text": format!("token follows\n{wrapped_jwt}\n\nend of it")}},
         "response": {"status": 200, "headers": [], "body": {"text": format!("openrouter: {}", v(7))}}}
    ]);
    let cassette = json!({"format": "dispatch-vcr/cassette@1", "meta": {}, "interactions": interactions});
    // The OpenRouter key only \u-escaped in the file: a plain search does not find it.
    let escaped = v(7).replacen("sk-or", "\\u0073\\u006b-or", 1);
    let text = serde_json::to_string_pretty(&cassette).unwrap().replace(v(7), &escaped);
    assert!(!text.contains(v(7)) && !text.contains(v(6)) && !text.contains(v(5)) && !text.contains(v(9)));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("planted.json");
    std::fs::write(&path, text).unwrap();
    let out = audit(&path, &[]);
    assert_names_each(&out, &s);
    let text = stdout(&out);
    for place in [
        "interaction 1, request url query api_key: opaque value",
        "interaction 1, request header authorization: opaque value",
        "interaction 2, request body (base64 decoded) field refresh_token: opaque value",
        "interaction 3, request body part client_secret: opaque value",
        "interaction 4, request url path: opaque value",
        "openai-key, base64-encoded",
        "interaction 1, request url query: anthropic-key",
        "jwt, split across lines",
        "interaction 2, response body (chunks joined): openai-key",
        "interaction 3, response body (events joined) field delta: anthropic-key",
    ] {
        assert!(text.contains(place), "no `{place}` in:\n{text}");
    }
}

/// A JWT of a realistic length (an OAuth access token).
fn jwt() -> String {
    let claims =
        json!({"sub": hex(24), "exp": 4_102_444_800_u64, "scope": "openid profile email", "pad": alnum(80)});
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        engine.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        engine.encode(claims.to_string()),
        alnum(86)
    )
}

#[test]
fn finds_every_secret_planted_in_a_har_file() {
    let s: Vec<(&str, String)> = vec![
        ("opaque x-api-key", hex(32)),
        ("opaque queryString token", hex(32)),
        ("opaque cookie", hex(32)),
        ("postData password", hex(12)),
        ("base64 response id_token", hex(32)),
        ("opaque set-cookie", hex(32)),
    ];
    let v = |i: usize| s[i].1.as_str();
    let har = json!({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": [{
        "request": {"method": "POST", "url": format!("https://h.example/v1/x?token={}", v(1)), "httpVersion": "HTTP/1.1",
            "headers": [{"name": "X-Api-Key", "value": v(0)}], "queryString": [{"name": "token", "value": v(1)}],
            "cookies": [{"name": "sid", "value": v(2)}],
            "postData": {"mimeType": "application/x-www-form-urlencoded", "text": format!("user=me&password={}", v(3))}},
        "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": format!("sid={}; Path=/; HttpOnly", v(5))}],
            "content": {"mimeType": "application/json", "encoding": "base64",
                        "text": b64(json!({"id_token": v(4)}).to_string())}}}]}});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("planted.har");
    std::fs::write(&path, serde_json::to_string_pretty(&har).unwrap()).unwrap();
    let out = audit(&path, &[]);
    // The 12-character password shows its first 4 characters only.
    let (short, long): (Vec<_>, Vec<_>) = s.iter().cloned().partition(|(_, v)| v.len() < 18);
    assert!(stdout(&out).contains(&format!("`{}…` ({})", &short[0].1[..4], fingerprint(&short[0].1))));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for (what, secret) in &long {
        assert!(text.contains(&format!("`{}…` ({})", &secret[..6], fingerprint(secret))), "{what}:\n{text}");
    }
    assert!(text.contains("6 secrets found in 1 file"), "{text}");
    assert!(text.contains("entry 1, request header X-Api-Key: opaque value"), "{text}");
}

#[test]
fn the_shipped_scenarios_cassettes_and_docs_are_clean_with_the_shipped_allow_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let paths = ["scenarios", "cassettes", "docs", "README.md"].map(|p| root.join(p));
    let out = Command::new(BIN)
        .arg("audit")
        .args(&paths)
        .arg("--allow-file")
        .arg(root.join("audit-allow.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("no secrets found in "), "{}", stdout(&out));
    // The recorded cassettes need no allowance at all.
    let out = audit(&root.join("cassettes"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
