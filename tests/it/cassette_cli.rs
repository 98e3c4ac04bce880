//! The cassette commands through the real binary: `cassette recover`,
//! `audit`, `diff`, and the loader's errors (exit codes, file:line:col).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dispatch_vcr::cassette::journal::JournalWriter;
use dispatch_vcr::cassette::{
    Body, BodyContent, Cassette, Interaction, Meta, Request, Response, journal_path, save,
};
use dispatch_vcr::credential::{fingerprint, redaction_marker};

use crate::support::BIN;

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn interaction(seq: u64, url: &str) -> Interaction {
    let bearer = format!("Bearer {}", redaction_marker("sk-proj-cli-test-000000000001"));
    let headers = vec![("authorization".into(), bearer), ("content-type".into(), "application/json".into())];
    let body = Body::from(BodyContent::Json(serde_json::json!({"model": "gpt-5.5", "input": "hi"})));
    let response = Response {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Body::from(BodyContent::Json(serde_json::json!({"id": "resp_1"}))),
    };
    Interaction {
        t_ms: seq * 10,
        duration_ms: 5,
        response: Some(response),
        ..Interaction::new(seq, Request::new("POST", url, headers, body))
    }
}

fn write_cassette(dir: &Path, name: &str, urls: &[&str]) -> PathBuf {
    let mut cassette = Cassette::new(Meta::default());
    cassette.interactions = urls.iter().enumerate().map(|(i, url)| interaction(i as u64 + 1, url)).collect();
    let path = dir.join(name);
    save(&path, &cassette).unwrap();
    path
}

const RESPONSES: &str = "https://api.openai.com/v1/responses";
const CODEX: &str = "https://chatgpt.com/backend-api/codex/responses";

mod recover {
    use super::*;

    #[test]
    fn a_journal_with_a_torn_last_line_becomes_a_valid_cassette() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("run.json");
        let journal = journal_path(&cassette);
        let mut writer = JournalWriter::create(&journal, &Meta::default()).unwrap();
        for seq in 1..=3 {
            writer.append(&interaction(seq, RESPONSES), &BTreeMap::new()).unwrap();
        }
        drop(writer);
        // The write in flight when the recorder was killed.
        let mut bytes = std::fs::read(&journal).unwrap();
        bytes.extend_from_slice(br#"{"interaction":{"seq":4,"req"#);
        std::fs::write(&journal, bytes).unwrap();

        let out = run(&[&"cassette", &"recover", &cassette]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stdout(&out).starts_with("recovered 3 interactions into"), "{}", stdout(&out));
        assert!(stdout(&out).contains("torn last line"));
        assert!(!journal.exists());
        let loaded = dispatch_vcr::cassette::load(&cassette).unwrap();
        assert_eq!(loaded.interactions.iter().map(|i| i.seq).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn without_a_journal_it_says_there_is_nothing_to_recover() {
        let dir = tempfile::tempdir().unwrap();
        let out = run(&[&"cassette", &"recover", &dir.path().join("run.json")]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("run.json.journal: no journal to recover"), "{}", stderr(&out));
    }

    #[test]
    fn an_existing_cassette_is_replaced_only_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("k.json");
        std::fs::write(&cassette, "keep me").unwrap();
        let mut writer = JournalWriter::create(&journal_path(&cassette), &Meta::default()).unwrap();
        writer.append(&interaction(1, RESPONSES), &BTreeMap::new()).unwrap();
        drop(writer);

        let out = run(&[&"cassette", &"recover", &cassette]);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        let expected = format!("{} exists; pass --force to replace it", cassette.display());
        assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&cassette).unwrap(), "keep me");
        assert!(journal_path(&cassette).exists(), "the journal is kept");

        let out = run(&[&"cassette", &"recover", &cassette, &"--force"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(dispatch_vcr::cassette::load(&cassette).unwrap().interactions.len(), 1);
    }

    #[test]
    fn a_damaged_middle_line_is_skipped_with_a_warning_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("run.json");
        let mut writer = JournalWriter::create(&journal_path(&cassette), &Meta::default()).unwrap();
        writer.append(&interaction(1, RESPONSES), &BTreeMap::new()).unwrap();
        writer.append(&interaction(2, RESPONSES), &BTreeMap::new()).unwrap();
        let text =
            std::fs::read_to_string(journal_path(&cassette)).unwrap().replacen("\"seq\":1", "\"seq\":x", 1);
        std::fs::write(journal_path(&cassette), text).unwrap();
        let out = run(&[&"cassette", &"recover", &cassette]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("warning: ") && stderr(&out).contains("run.json.journal:2:"),
            "{}",
            stderr(&out)
        );
        let recovered = dispatch_vcr::cassette::load(&cassette).unwrap();
        assert_eq!(recovered.interactions.iter().map(|i| i.seq).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn a_repeated_seq_is_recovered_once_into_a_cassette_that_loads() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("run.json");
        let mut writer = JournalWriter::create(&journal_path(&cassette), &Meta::default()).unwrap();
        for seq in [1, 2, 2] {
            writer.append(&interaction(seq, RESPONSES), &BTreeMap::new()).unwrap();
        }
        let out = run(&[&"cassette", &"recover", &cassette]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stderr(&out).contains("run.json.journal:4: skipped: seq 2 again"), "{}", stderr(&out));
        assert!(stdout(&out).contains("recovered 2 interactions"), "{}", stdout(&out));
        assert_eq!(dispatch_vcr::cassette::load(&cassette).unwrap().interactions.len(), 2, "replay loads it");
    }
}

mod audit {
    use super::*;

    #[test]
    fn finds_a_planted_secret_without_printing_it() {
        let dir = tempfile::tempdir().unwrap();
        write_cassette(dir.path(), "clean.json", &[RESPONSES]);
        let secret = "sk-ant-api03-plantedplantedplanted0001";
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join("logs/run.log"), format!("start\nsending x-api-key: {secret}\n"))
            .unwrap();

        let out = run(&[&"audit", &dir.path()]);
        assert_eq!(out.status.code(), Some(1));
        let expected = format!(
            "{}:2: anthropic-key `sk-ant…` ({})",
            dir.path().join("logs/run.log").display(),
            fingerprint(secret)
        );
        assert!(stdout(&out).contains(&expected), "{}", stdout(&out));
        assert!(!stdout(&out).contains(secret) && !stderr(&out).contains(secret));
    }

    #[test]
    fn passes_a_redacted_cassette() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_cassette(dir.path(), "c.json", &[RESPONSES, CODEX]);
        let out = run(&[&"audit", &path]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        assert_eq!(stdout(&out), "no secrets found in 1 file\n");
    }

    #[test]
    fn finds_profile_secrets_of_any_shape() {
        let dir = tempfile::tempdir().unwrap();
        let profiles = dir.path().join("auth-profiles.json");
        std::fs::write(
            &profiles,
            r#"{"version": 1, "profiles": {"x:default": {"type": "api_key", "provider": "x", "key": "plain-opaque-key-42"}}}"#,
        )
        .unwrap();
        let notes = dir.path().join("notes.txt");
        std::fs::write(&notes, "the key is plain-opaque-key-42\n").unwrap();
        let out = run(&[&"audit", &notes, &"--profiles", &profiles]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stdout(&out).contains("notes.txt:1: known opaque"), "{}", stdout(&out));
    }

    #[test]
    fn a_file_named_twice_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "sk-ant-api03-plantedplantedplanted0002";
        std::fs::write(dir.path().join("leak.json"), format!("{{\"key\": \"{secret}\"}}\n")).unwrap();
        let out = Command::new(BIN)
            .args(["audit", "leak.json", ".", "./leak.json"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let expected = format!(
            "leak.json:1: anthropic-key `sk-ant…` ({})\n1 secret found in 1 file",
            fingerprint(secret)
        );
        assert!(stdout(&out).starts_with(&expected), "{}", stdout(&out));
    }

    #[test]
    fn allowed_fingerprints_are_counted_not_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (fixture, leaked) =
            ("sk-ant-api03-fixturefixturefixture0001", "sk-ant-api03-plantedplantedplanted0003");
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, format!("{fixture}\n{leaked}\n")).unwrap();
        let allowed = fingerprint(fixture);

        let out = run(&[&"audit", &file, &"--allow", &allowed]);
        assert_eq!(out.status.code(), Some(1));
        assert!(!stdout(&out).contains(&allowed), "{}", stdout(&out));
        assert!(stdout(&out).contains(&fingerprint(leaked)), "{}", stdout(&out));
        assert!(stdout(&out).contains("1 secret found in 1 file (1 allowed)"), "{}", stdout(&out));

        let list = dir.path().join("audit-allow.txt");
        let listed = format!("# shipped fixture keys\n{allowed}  # the fixture\n\n{}\n", fingerprint(leaked));
        std::fs::write(&list, listed).unwrap();
        let out = run(&[&"audit", &file, &"--allow-file", &list]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        assert_eq!(stdout(&out), "no secrets found in 1 file (2 allowed)\n");

        let out = run(&[&"audit", &file, &"--allow", &"sk-ant-api03-not-a-fingerprint"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("--allow `sk-ant-api03-not-a-fingerprint`"), "{}", stderr(&out));
        std::fs::write(&list, "sha256:0123\n").unwrap();
        let out = run(&[&"audit", &file, &"--allow-file", &list]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(&format!("{}:1: ", list.display())), "{}", stderr(&out));
    }

    #[test]
    fn a_missing_path_is_bad_input() {
        let out = run(&[&"audit", &"/nonexistent/cassettes"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("/nonexistent/cassettes"), "{}", stderr(&out));
    }
}

mod diff {
    use super::*;

    #[test]
    fn cassettes_differing_only_in_endpoint_show_just_that() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_cassette(dir.path(), "a.json", &[RESPONSES]);
        let b = write_cassette(dir.path(), "b.json", &[CODEX]);
        let out = run(&[&"diff", &a, &b]);
        assert_eq!(out.status.code(), Some(1));
        let expected = format!(
            "--- {a}\n+++ {b}\n#1 ↔ #1 POST {RESPONSES}\n  endpoint\n    @@ -1 +1 @@\n    -POST {RESPONSES}\n    +POST {CODEX}\n\
             1 of 1 interaction pairs differ; 0 only in {a}, 0 only in {b}\n",
            a = a.display(),
            b = b.display()
        );
        assert_eq!(stdout(&out), expected);
    }

    #[test]
    fn equal_cassettes_exit_0() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_cassette(dir.path(), "a.json", &[RESPONSES, CODEX]);
        let b = write_cassette(dir.path(), "b.json", &[RESPONSES, CODEX]);
        let out = run(&[&"diff", &a, &b]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), "no differences: 2 interaction pairs match\n");
    }
}

mod loader_errors {
    use super::*;

    #[test]
    fn a_malformed_cassette_exits_2_naming_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(
            &bad,
            "{\"format\": \"dispatch-vcr/cassette@1\",\n \"interactions\": [ {\"seq\": 1,,} ] }",
        )
        .unwrap();
        let good = write_cassette(dir.path(), "good.json", &[RESPONSES]);
        let out = run(&[&"diff", &bad, &good]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(&format!("{}:2:30: ", bad.display())), "{}", stderr(&out));
    }

    #[test]
    fn an_unknown_format_names_the_supported_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.json");
        std::fs::write(&path, r#"{"format": "dispatch-vcr/cassette@2", "interactions": []}"#).unwrap();
        let out = run(&[&"diff", &path, &path]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("reads dispatch-vcr/cassette@1"), "{}", stderr(&out));
    }

    #[test]
    fn a_semantic_error_names_its_json_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_cassette(dir.path(), "c.json", &[RESPONSES]);
        let text = std::fs::read_to_string(&path).unwrap().replace("\"status\": 200", "\"status\": 20");
        std::fs::write(&path, text).unwrap();
        let out = run(&[&"diff", &path, &path]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("interactions[0].response.status: 20 is not an HTTP status"),
            "{}",
            stderr(&out)
        );
    }

    #[test]
    fn a_leftover_journal_is_mentioned_with_the_recover_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_cassette(dir.path(), "c.json", &[RESPONSES]);
        std::fs::write(journal_path(&path), "").unwrap();
        let out = run(&[&"diff", &path, &path]);
        assert_eq!(out.status.code(), Some(0));
        let recover = format!("dispatch-vcr cassette recover {}", path.display());
        assert!(stderr(&out).contains(&recover), "{}", stderr(&out));
    }
}

mod export {
    use super::*;

    #[test]
    fn har_is_the_default_and_the_flag_still_works() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_cassette(dir.path(), "x.json", &[RESPONSES]);
        let plain = run(&[&"cassette", &"export", &path]);
        assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
        let har: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
        assert_eq!(har["log"]["version"], "1.2");
        let flagged = run(&[&"cassette", &"export", &"--har", &path]);
        assert_eq!(flagged.status.code(), Some(0), "{}", stderr(&flagged));
        assert_eq!(flagged.stdout, plain.stdout);
        let help = stdout(&run(&[&"cassette", &"export", &"--help"]));
        assert!(help.contains("Usage: dispatch-vcr cassette export [OPTIONS] <CASSETTE>"), "{help}");
    }
}

/// The same mistake, a directory where a file is to be written, gets the same
/// answer from every output flag: exit 2, the flag, and what to write instead.
mod output_flags {
    use super::*;

    #[test]
    fn a_directory_for_any_output_flag_exits_2_naming_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let adir = dir.path().join("adir");
        std::fs::create_dir(&adir).unwrap();
        let cassette = write_cassette(dir.path(), "c.json", &[RESPONSES]);
        let har = dir.path().join("x.har");
        std::fs::write(
            &har,
            r#"{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": []}}"#,
        )
        .unwrap();
        let scenario =
            crate::support::root().join("scenarios/openclaw/codex-oauth-goes-to-chatgpt-backend.json");
        let home = tempfile::tempdir().unwrap();
        let cases: [(&[&dyn AsRef<std::ffi::OsStr>], &str); 8] = [
            (&[&"record", &"--stub", &"-o", &adir, &"--", &"true"], "-o"),
            (&[&"replay", &cassette, &"--observed", &adir, &"--", &"true"], "--observed"),
            (&[&"run", &scenario, &"--stub", &"--record-to", &adir, &"--", &"true"], "--record-to"),
            (&[&"run", &scenario, &"--stub", &"-o", &adir, &"--", &"true"], "-o"),
            (&[&"check", &scenario, &"-o", &adir], "-o"),
            (&[&"cassette", &"import", &har, &"-o", &adir], "-o"),
            (&[&"cassette", &"export", &cassette, &"-o", &adir], "-o"),
            (&[&"check", &scenario, &"--output", &adir], "-o"),
        ];
        for (args, flag) in cases {
            let out = Command::new(BIN).args(args).env("DISPATCH_VCR_HOME", home.path()).output().unwrap();
            let err = stderr(&out);
            let name =
                args.iter().take(2).map(|a| a.as_ref().to_string_lossy().into_owned()).collect::<Vec<_>>();
            assert_eq!(out.status.code(), Some(2), "{name:?}: {err}");
            let expected = format!(
                "dispatch-vcr: {flag} {}: is a directory; name a file in it, e.g. {flag} ",
                adir.display()
            );
            assert!(err.starts_with(&expected), "{name:?}: {err}");
        }
        assert_eq!(std::fs::read_dir(&adir).unwrap().count(), 0, "nothing written into the directory");
    }
}

/// An empty input file is named as such, whatever the file is.
mod empty_files {
    use super::*;

    #[test]
    fn every_json_input_says_the_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "").unwrap();
        let blank = dir.path().join("blank.json");
        std::fs::write(&blank, " \n\n").unwrap();
        let har = dir.path().join("empty.har");
        std::fs::write(&har, "").unwrap();
        let good = write_cassette(dir.path(), "good.json", &[RESPONSES]);
        let home = tempfile::tempdir().unwrap();
        let out_file = dir.path().join("out.json");
        let config = dir.path().join("openclaw.json");
        std::fs::write(&config, "{}").unwrap();
        let cases: [(&[&dyn AsRef<std::ffi::OsStr>], &Path); 13] = [
            (&[&"replay", &empty], &empty),
            (&[&"replay", &blank], &blank),
            (&[&"diff", &good, &empty], &empty),
            (&[&"cassette", &"export", &empty], &empty),
            (&[&"check", &empty], &empty),
            (&[&"run", &empty, &"--stub", &"--", &"true"], &empty),
            (&[&"dispatch", &"plan", &"--scenario", &empty], &empty),
            (&[&"dispatch", &"plan", &"--config", &empty], &empty),
            (&[&"dispatch", &"plan", &"--config", &config, &"--profiles", &empty], &empty),
            (&[&"dispatch", &"plan", &"--config", &config, &"--state", &blank], &blank),
            (&[&"audit", &good, &"--profiles", &empty], &empty),
            (&[&"cassette", &"import", &har, &"-o", &out_file], &har),
            (&[&"check", &"--catalog", &empty], &empty),
        ];
        for (args, file) in cases {
            let out = Command::new(BIN).args(args).env("DISPATCH_VCR_HOME", home.path()).output().unwrap();
            let err = stderr(&out);
            let name = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect::<Vec<_>>();
            assert_eq!(out.status.code(), Some(2), "{name:?}: {err}");
            let expected = format!("dispatch-vcr: {}: the file is empty", file.display());
            assert!(err.starts_with(&expected), "{name:?}: {err}");
        }
    }
}
