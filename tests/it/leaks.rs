//! No secret on disk: each way a secret once reached a file, planted through
//! the real proxy with curl, then every file the recording left (cassette,
//! journal, side files, HAR export, the command's output) searched for it in
//! clear, percent-encoded and in base64.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::support::*;

/// An opaque secret: nothing but its position gives it away.
fn opaque() -> String {
    unique("")
}

/// The ways `secret` could sit in a file: as is, percent-encoded, and its
/// base64 at each of the three alignments (the part that does not depend
/// on the bytes around it).
fn encodings(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned(), dispatch_vcr::exchange::content::percent_encode(secret)];
    for pad in 0..3 {
        let encoded = STANDARD.encode(format!("{}{secret}", "x".repeat(pad)));
        let start = if pad == 0 { 0 } else { 4 };
        forms.push(encoded[start..encoded.len() - 4].to_owned());
    }
    forms
}

/// Which of `texts` and the files under `dir` hold `secret` in any of its encodings.
fn holders(dir: &Path, texts: &[(&str, &[u8])], secret: &str) -> Vec<String> {
    let files: Vec<(String, Vec<u8>)> = files_under(dir)
        .into_iter()
        .map(|f| (f.display().to_string(), std::fs::read(&f).unwrap()))
        .chain(texts.iter().map(|(name, bytes)| (name.to_string(), bytes.to_vec())))
        .collect();
    let forms = encodings(secret);
    files
        .into_iter()
        .filter(|(_, bytes)| forms.iter().any(|form| memchr::memmem::find(bytes, form.as_bytes()).is_some()))
        .map(|(name, _)| name)
        .collect()
}

/// A `/chunks` request: the upstream answers `body` as `content_type`, its
/// `{secret}` replaced by the secret it mints from `seed`, cut into chunks at
/// `split_at`. Returns the request and the secret.
fn chunked_answer(content_type: &str, body: &str, split_at: &[usize]) -> (Vec<u8>, String) {
    let seed = unique("seed-");
    let request =
        serde_json::json!({"content_type": content_type, "body": body, "seed": seed, "split_at": split_at});
    (request.to_string().into_bytes(), minted_secret(&seed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_probed_leak_stays_off_disk() {
    let upstream = TestUpstream::start().await;
    let (bin, dir, work) = (Bin::new(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = dir.path().join("c.json");
    let s: Vec<String> = (0..9).map(|_| opaque()).collect();
    // A token endpoint's pretty JSON in chunks, without content-length; the name and its value apart.
    let (token, token_secret) = chunked_answer(
        "application/json",
        "{\n  \"access_token\": \"{secret}\",\n  \"token_type\": \"Bearer\"\n}\n",
        &[22, 60],
    );
    // SSE with a comment line (so kept as chunks).
    let (sse, sse_secret) = chunked_answer(
        "text/event-stream",
        ": keep-alive\n\ndata: {\"access_token\":\"{secret}\"}\n\n",
        &[14],
    );
    // A key split over two chunks.
    let (split, split_secret) = chunked_answer("text/plain", "key sk-proj-{secret} end", &[20]);
    let files: [(&str, Vec<u8>); 5] = [
        ("token.json", token),
        ("sse.json", sse),
        ("split.json", split),
        // A form body that is not UTF-8 (kept as base64).
        ("form.bin", [b"\xff\xfe=1&refresh_token=".as_slice(), s[0].as_bytes(), b"&x=\xff"].concat()),
        // JSON inside a JSON string.
        (
            "nested.json",
            serde_json::json!({"model": "m", "payload": format!("{{\"api_key\": \"{}\"}}", s[1])})
                .to_string()
                .into_bytes(),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(work.path().join(name), bytes).unwrap();
    }
    let script = format!(
        r#"set -e
U=https://api.openai.com
B='Authorization: Bearer sk-test-ok-000000'
J='content-type: application/json'
for f in token.json sse.json split.json; do curl -sf $U/chunks -H "$J" --data-binary @$f >/dev/null; done
curl -sf $U/v1/x -H "$B" -H 'content-type: application/x-www-form-urlencoded' --data-binary @form.bin >/dev/null
curl -sf $U/v1/x -H "$B" -H "$J" --data-binary @nested.json >/dev/null
curl -sf $U/v1/x -u 'user:{basic}' -H "$J" -d '{{"model":"m"}}' >/dev/null
curl -sf $U/v1/x -H "$B" -H 'content-type: text/plain' -d 'later the password pw={basic} shows up' >/dev/null
curl -sf $U/v1/x -H "$B" -F api_key={part_key} -F client_secret={part_secret} -F model=m >/dev/null
curl -sf $U/v1/x -H "$B" -H 'x-openai-token: {header_token}' -H 'x-custom-secret: {header_secret}' -H "$J" -d '{{}}' >/dev/null
curl -sf "$U/v1/x?auth={query_auth}&model=m" -H "$B" >/dev/null
curl -sf $U/bot{path_token}/getMe >/dev/null
"#,
        basic = s[2],
        part_key = s[3],
        part_secret = s[4],
        header_token = s[5],
        header_secret = s[6],
        query_auth = s[7],
        path_token = s[8],
    );
    let mut args = upstream.record_args(&out, &[]);
    args.extend(["--", "sh", "-c", &script].map(String::from));
    let output = bin.command(&args).current_dir(work.path()).output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let cassette = dispatch_vcr::cassette::load(&out).expect("the cassette loads");
    assert_eq!(cassette.interactions.len(), 11);
    let har = bin.run(["cassette", "export", "--har", out.to_str().unwrap()]).await;
    assert!(har.status.success(), "{}", String::from_utf8_lossy(&har.stderr));

    let texts: [(&str, &[u8]); 3] =
        [("record stdout", &output.stdout), ("record stderr", &output.stderr), ("HAR export", &har.stdout)];
    let split_key = format!("sk-proj-{split_secret}");
    let planted = [&token_secret, &sse_secret, &split_key].into_iter().chain(&s);
    for (index, secret) in planted.enumerate() {
        let found = holders(dir.path(), &texts, secret);
        assert_eq!(
            found,
            Vec::<String>::new(),
            "secret {index} ({secret}) reached these files\n{}",
            std::fs::read_to_string(&out).unwrap()
        );
    }
    // The requests themselves went out untouched.
    let seen = upstream.seen();
    assert!(seen.iter().any(|r| r.path.contains(&s[8])), "the path token reached the upstream");
    assert!(seen.iter().any(|r| r.headers.get("x-custom-secret").is_some_and(|v| v == s[6].as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_learned_late_is_gone_from_the_journal_before_a_crash() {
    use std::os::unix::fs::PermissionsExt as _;
    let upstream = TestUpstream::start().await;
    let (bin, dir) = (Bin::new(), tempfile::tempdir().unwrap());
    let out = dir.path().join("c.json");
    let late = opaque();
    // A body mentions the value; only the next request shows it is a bearer.
    let script = format!(
        "curl -s https://api.openai.com/v1/x -H 'content-type: text/plain' -d 'note: {late}' >/dev/null; \
         curl -s https://api.openai.com/v1/x -H 'Authorization: Bearer {late}' >/dev/null; exec sleep 30"
    );
    let mut args = upstream.record_args(&out, &[]);
    args.extend(["--", "sh", "-c", &script].map(String::from));
    let running = bin.spawn(&args).await;
    let journal = dir.path().join("c.json.journal");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&journal).map_or(0, |j| j.lines().count()) < 3 {
        assert!(tokio::time::Instant::now() < deadline, "the two exchanges never reached the journal");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.signal(libc::SIGKILL);
    // Not `wait`: the orphaned `sleep` keeps stderr open.
    let mut running = running;
    running.child.wait().await.unwrap();
    let mode = std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the journal is the user's alone");
    assert_eq!(holders(dir.path(), &[], &late), Vec::<String>::new(), "after kill -9");

    let recovered = bin.run(["cassette", "recover", out.to_str().unwrap()]).await;
    assert!(recovered.status.success(), "{}", String::from_utf8_lossy(&recovered.stderr));
    assert_eq!(dispatch_vcr::cassette::load(&out).unwrap().interactions.len(), 2);
    assert_eq!(holders(dir.path(), &[], &late), Vec::<String>::new(), "after recover");
}

/// `kill -9` at moments spread over a recording of small, large (spilled)
/// and streamed bodies: no secret is on disk afterwards, and `cassette
/// recover` gives back every exchange the recorder had finished (journaled)
/// when it died.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_any_moment_leaves_no_secret_and_loses_no_finished_exchange() {
    let upstream = TestUpstream::start().await;
    let mut finished_in_all = 0;
    for round in 0..4u64 {
        let (bin, dir, work) = (Bin::new(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let out = dir.path().join("c.json");
        let (bearer, field, large) = (opaque(), opaque(), opaque());
        let (stream, streamed) =
            chunked_answer("application/json", "{\"refresh_token\": \"{secret}\"}", &[10]);
        std::fs::write(work.path().join("stream.json"), stream).unwrap();
        let script = format!(
            r#"echo $$ > client.pid
U=https://api.openai.com
for round in 1 2 3 4 5 6 7 8 9 10; do
  curl -s $U/v1/x -H 'Authorization: Bearer {bearer}' -H 'content-type: application/x-www-form-urlencoded' -d 'api_key={field}' >/dev/null
  (printf 'api_key={large}&pad='; head -c 9437184 /dev/zero | tr '\0' a) | curl -s $U/v1/upload -H 'content-type: application/x-www-form-urlencoded' -H 'Transfer-Encoding: chunked' -T - >/dev/null
  curl -s $U/chunks -H 'content-type: application/json' --data-binary @stream.json >/dev/null
done"#
        );
        let mut args = upstream.record_args(&out, &[]);
        args.extend(["--", "sh", "-c", &script].map(String::from));
        let mut command = bin.command(&args);
        command
            .current_dir(work.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = command.spawn().unwrap();
        // 1 s to 5.5 s in: before, during and after the large bodies.
        let moment = 1000 + round * 1500 + (unique("").as_bytes()[0] as u64 % 7) * 50;
        tokio::time::sleep(Duration::from_millis(moment)).await;
        let pid = child.id().unwrap() as i32;
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        child.wait().await.unwrap();
        // What the recorder had finished when it died: the journal's whole
        // lines, less the header (a torn last line is no finished exchange).
        let journal = std::fs::read(dir.path().join("c.json.journal")).unwrap_or_default();
        let journaled = journal.iter().filter(|b| **b == b'\n').count().saturating_sub(1);
        finished_in_all += journaled;
        // The client loop would go on without its proxy: stop it too.
        let client = std::fs::read_to_string(work.path().join("client.pid")).unwrap_or_default();
        if let Ok(client) = client.trim().parse::<i32>() {
            // SAFETY: kill(2) on the shell our child started.
            unsafe { libc::kill(client, libc::SIGKILL) };
        }
        for secret in [&bearer, &field, &large, &streamed] {
            assert_eq!(
                holders(dir.path(), &[], secret),
                Vec::<String>::new(),
                "round {round}: after kill -9"
            );
        }
        let recovered = bin.run(["cassette", "recover", out.to_str().unwrap()]).await;
        assert!(recovered.status.success(), "round {round}: {}", String::from_utf8_lossy(&recovered.stderr));
        let kept = dispatch_vcr::cassette::load(&out).map_or(0, |c| c.interactions.len());
        assert!(kept >= journaled, "round {round}: {journaled} exchanges were journaled, {kept} recovered");
        for secret in [&bearer, &field, &large, &streamed] {
            assert_eq!(
                holders(dir.path(), &[], secret),
                Vec::<String>::new(),
                "round {round}: after recover"
            );
        }
    }
    assert!(finished_in_all > 0, "no exchange ever finished: the rounds tested nothing");
}
