//! The JSON Schemas in `docs/schema/`: current with the Rust types
//! (`UPDATE_DOCS=1 cargo test --test it schema::` rewrites them), met by every
//! shipped cassette and scenario, named by each file's `$schema`, and as
//! strict as the loaders where it matters.

use std::path::{Path, PathBuf};
use std::process::Command;

use dispatch_vcr::schema::Kind;
use serde_json::{Value, json};

use crate::support::{BIN, root, update_committed};

fn schema_path(kind: Kind) -> PathBuf {
    root().join("docs/schema").join(kind.file_name())
}

fn validator(kind: Kind) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path(kind)).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root().join(dir)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                found.push(path);
            }
        }
    }
    found.sort();
    assert!(!found.is_empty(), "no files under {dir}");
    found
}

#[test]
fn committed_schemas_match_the_types() {
    for kind in Kind::ALL {
        let path = schema_path(kind);
        let generated = kind.schema();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            update_committed(&path, &generated);
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `UPDATE_DOCS=1 cargo test --test it schema::`",
            path.display()
        );
    }
}

#[test]
fn the_schema_command_prints_the_committed_schemas() {
    for (arg, kind) in [("cassette", Kind::Cassette), ("scenario", Kind::Scenario)] {
        let out = Command::new(BIN).args(["schema", arg]).output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            std::fs::read_to_string(schema_path(kind)).unwrap()
        );
    }
}

/// Validate every file under `dir` against `kind`'s schema, and check its
/// `$schema` names that schema's file, relative to where the file lies.
fn shipped_files_validate(dir: &str, kind: Kind) {
    let validator = validator(kind);
    for path in json_files(dir) {
        let instance: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let problems = errors(&validator, &instance);
        assert!(problems.is_empty(), "{}:\n{}", path.display(), problems.join("\n"));
        let named =
            instance["$schema"].as_str().unwrap_or_else(|| panic!("{} has no $schema", path.display()));
        let target = path.parent().unwrap().join(named);
        assert_eq!(canonical(&target), canonical(&schema_path(kind)), "{}: $schema", path.display());
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_shipped_cassette_validates_against_its_schema() {
    shipped_files_validate("cassettes", Kind::Cassette);
}

#[test]
fn every_shipped_scenario_validates_against_its_schema() {
    shipped_files_validate("scenarios", Kind::Scenario);
}

fn cassette(body: Value) -> Value {
    json!({"format": "dispatch-vcr/cassette@1", "interactions": [{"seq": 1,
        "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "headers": [["a", "b"]], "body": body},
        "response": {"status": 200, "body": {"empty": true}}}]})
}

#[test]
fn the_cassette_schema_rejects_what_the_loader_rejects() {
    let validator = validator(Kind::Cassette);
    let good = cassette(json!({"json": {"model": "m"}, "decoded_from": "gzip"}));
    assert_eq!(errors(&validator, &good), Vec::<String>::new());
    assert!(dispatch_vcr::cassette::parse(Path::new("c.json"), good.to_string().as_bytes()).is_ok());
    let bad = [
        ("two body forms", cassette(json!({"json": {}, "text": "x"}))),
        ("no body form", cassette(json!({"decoded_from": "gzip"}))),
        ("another format", json!({"format": "dispatch-vcr/cassette@9"})),
        ("an unknown encoding", cassette(json!({"text": "x", "decoded_from": "lzma"}))),
        ("an empty body that is not empty", cassette(json!({"empty": false}))),
        ("a header that is not a pair", cassette(json!({"empty": true}))),
        ("neither response nor error", cassette(json!({"empty": true}))),
        ("a fingerprint that is not one", cassette(json!({"empty": true}))),
    ];
    for (what, mut instance) in bad {
        match what {
            "a header that is not a pair" => {
                instance["interactions"][0]["request"]["headers"] = json!([["only-a-name"]])
            }
            "neither response nor error" => {
                drop(instance["interactions"][0].as_object_mut().unwrap().remove("response"))
            }
            "a fingerprint that is not one" => {
                instance["meta"] = json!({"credentials": {"sk-live-1": {"kind": "opaque"}}})
            }
            _ => {}
        }
        assert!(!validator.is_valid(&instance), "the schema accepts {what}");
        let loaded = dispatch_vcr::cassette::parse(Path::new("c.json"), instance.to_string().as_bytes());
        assert!(loaded.is_err(), "the loader accepts {what}");
    }
}

#[test]
fn the_scenario_schema_rejects_what_the_loader_rejects() {
    let validator = validator(Kind::Scenario);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.json"), "{}").unwrap();
    let scenario = |extra: Value| {
        let mut s = json!({"$schema": "x.json", "format": "dispatch-vcr/scenario@1", "name": "s", "dispatcher": "openclaw",
            "inputs": {"env": {"OPENAI_API_KEY": "sk-test"}}, "cassettes": {"2026.5.12": "c.json"},
            "expect": {"bearer": {"header": "authorization", "kind": "openai-key"}, "profile": null}});
        s.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        s
    };
    let load = |instance: &Value| {
        dispatch_vcr::scenario::load::parse(&instance.to_string(), &dir.path().join("s.json"))
    };
    // No cassette yet is a scenario too: `run --stub` records its first.
    for good in [scenario(json!({})), scenario(json!({"cassettes": {}}))] {
        assert_eq!(errors(&validator, &good), Vec::<String>::new());
        assert!(load(&good).is_ok(), "{:?}", load(&good).err());
    }
    let bad = [
        ("an unknown key", json!({"expectations": {}})),
        ("a bearer word", json!({"expect": {"bearer": "yes"}})),
        ("an unknown credential kind", json!({"expect": {"bearer": {"kind": "password"}}})),
        ("a dispatcher that is not a name", json!({"dispatcher": "my gateway"})),
        ("a header pinned in no known form", json!({"expect": {"headers": {"x-tenant": {"is": "acme"}}}})),
    ];
    for (what, extra) in bad {
        let instance = scenario(extra);
        assert!(!validator.is_valid(&instance), "the schema accepts {what}");
        assert!(load(&instance).is_err(), "the loader accepts {what}");
    }
    // `inputs` are read when the reference dispatcher plans, not when the file loads.
    let unknown_input = json!({"env": {}, "secrets": {}});
    assert!(
        !validator.is_valid(&scenario(json!({"inputs": unknown_input}))),
        "the schema accepts an unknown input"
    );
    assert!(
        dispatch_vcr::dispatch::inputs::DispatchInputs::from_scenario_inputs(&unknown_input, None).is_err()
    );
}
