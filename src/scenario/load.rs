//! Finding and loading scenario files, with errors that say where and how to fix.
//!
//! JSON syntax errors name `FILE:LINE:COLUMN`; semantic errors add the JSON
//! field path (`FILE:LINE:COLUMN: versions[1].range: expected a range …`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model::{DISPATCHERS, FORMAT_V1, Scenario};
use super::parallel::run_parallel;
use crate::error::{Error, Result};
use crate::files;

/// Read and validate one scenario file.
pub fn load(path: &Path) -> Result<Scenario> {
    parse(&files::read_input(path, "scenario")?, path)
}

/// Parse and validate scenario `text` that came from `path`.
pub fn parse(text: &str, path: &Path) -> Result<Scenario> {
    // Check the format first, so a file of another kind or version gets that
    // message rather than a complaint about its first unknown field.
    let value: Value = serde_json::from_str(text).map_err(|e| Error::not_json(path.display(), &e))?;
    check_format(&value).map_err(|e| e.context(path.display()))?;
    let mut scenario: Scenario = files::parse_json_fields(text, path)?;
    scenario.path = path.to_path_buf();
    validate(&scenario).map_err(|e| e.context(path.display()))?;
    Ok(scenario)
}

fn check_format(value: &Value) -> Result<()> {
    match value.get("format").and_then(Value::as_str) {
        Some(FORMAT_V1) => Ok(()),
        Some(other) if is_cassette_format(other) => {
            Err(Error::input("this is a cassette, not a scenario: pass the scenario that names it"))
        }
        Some(other) => Err(Error::input(format!(
            "format: unsupported scenario format {other:?}; this version reads {FORMAT_V1:?}"
        ))),
        None => Err(Error::input(format!(
            "format: missing; a scenario starts with {{\"format\": \"{FORMAT_V1}\", …}}"
        ))),
    }
}

/// Checks that span fields: names, dispatchers, and versions that must agree.
fn validate(scenario: &Scenario) -> Result<()> {
    if scenario.name.trim().is_empty() {
        return Err(Error::input("name: must not be empty"));
    }
    let name = &scenario.dispatcher;
    let well_formed = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !well_formed {
        return Err(Error::input(format!(
            "dispatcher: {name:?} is not a dispatcher name; use {} (which has a reference model) or a name \
             of letters, digits, '.', '_' and '-' for a dispatcher judged by its pinned expect alone",
            DISPATCHERS.join(", ")
        )));
    }
    if let Some(version) = scenario.known_failures.keys().find(|v| !scenario.cassettes.contains_key(*v)) {
        return Err(Error::input(format!(
            "known_failures.{version}: no cassette for this version; add it to \"cassettes\" or remove this entry"
        )));
    }
    for version in scenario.cassettes.keys() {
        let Some(path) = scenario.cassette_path(version) else { continue };
        if !path.is_file() {
            return Err(Error::input(format!(
                "cassettes.{version}: {} does not exist (paths are relative to the scenario file)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Whether `format` names a cassette (of any version).
fn is_cassette_format(format: &str) -> bool {
    format.starts_with(CASSETTE_FORMAT_PREFIX)
}

/// `dispatch-vcr/cassette@` of every cassette format.
const CASSETTE_FORMAT_PREFIX: &str = "dispatch-vcr/cassette@";

/// Whether the JSON file at `path` is a cassette, by its `format` (read
/// without building the rest of it). Unreadable files are not: loading them
/// says what is wrong.
fn is_cassette_file(path: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Head {
        format: Option<String>,
    }
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    serde_json::from_str::<Head>(&text).ok().and_then(|h| h.format).is_some_and(|f| is_cassette_format(&f))
}

/// Every scenario file under `paths`: files as given, folders searched for
/// `**/*.json` (cassettes, which a scenario's folder often holds beside it,
/// are skipped), in path order so runs and shards are deterministic.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut cassettes = 0;
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            crate::files::json_files_under(path, &mut found)?;
            let is_cassette = run_parallel(&found, |file| Ok(is_cassette_file(file)))?;
            cassettes += is_cassette.iter().filter(|c| **c).count();
            files.extend(found.into_iter().zip(is_cassette).filter(|(_, c)| !c).map(|(file, _)| file));
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(Error::input(format!(
                "{}: no such scenario file or folder (check PATH, or run from the project root)",
                path.display()
            )));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let skipped = match cassettes {
            0 => String::new(),
            1 => " (1 cassette skipped)".to_owned(),
            n => format!(" ({n} cassettes skipped)"),
        };
        return Err(Error::input(format!("no scenario files (*.json) under {}{skipped}", shown.join(", "))));
    }
    Ok(files)
}

/// Load every file (on every core), refusing two scenarios with the same name (reports key on it).
pub fn load_all(files: &[PathBuf]) -> Result<Vec<Scenario>> {
    let scenarios = run_parallel(files, |f| load(f))?;
    let mut seen = std::collections::BTreeMap::new();
    for scenario in &scenarios {
        if let Some(first) = seen.insert(scenario.name.as_str(), &scenario.path) {
            return Err(Error::input(format!(
                "{}: name: {:?} is already used by {}; scenario names must be unique",
                scenario.path.display(),
                scenario.name,
                first.display()
            )));
        }
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "format": "dispatch-vcr/scenario@1",
  "name": "s",
  "dispatcher": "openclaw",
  "inputs": {},
  "versions": [{"range": ">=2026.5.30", "expect": {"profile": "openai:u"}}],
  "cassettes": {"2026.5.12": "c.json"}
}"#;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn error_of(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "c.json", "{}");
        let path = write(dir.path(), "x.json", text);
        let err = load(&path).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        err.message().replace(&dir.path().display().to_string(), "DIR")
    }

    #[test]
    fn loads_a_valid_scenario_with_cassettes_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "c.json", "{}");
        let scenario = load(&write(dir.path(), "x.json", GOOD)).unwrap();
        let version = "2026.5.12".parse().unwrap();
        assert_eq!(scenario.cassette_path(&version), Some(dir.path().join("c.json")));
        assert_eq!(scenario.expect_at(&"2026.9.5".parse().unwrap()).profile, Some(Some("openai:u".into())));
        assert_eq!(scenario.expect_at(&version).profile, None);
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let msg = error_of(
            "{\n  \"format\": \"dispatch-vcr/scenario@1\",\n  \"name\": \"s\"\n  \"dispatcher\": 1\n}",
        );
        assert!(msg.starts_with("DIR/x.json:4:3: not valid JSON: expected `,` or `}`"), "{msg}");
    }

    #[test]
    fn bad_range_names_the_field_path_and_position() {
        let msg = error_of(&GOOD.replace(">=2026.5.30", "soon"));
        assert!(
            msg.starts_with("DIR/x.json:6:31: versions[0].range: expected a range like \">=2026.5.30\""),
            "{msg}"
        );
    }

    #[test]
    fn wrong_type_names_the_field_path() {
        let msg = error_of(&GOOD.replace("\"name\": \"s\"", "\"name\": 7"));
        assert!(msg.contains(": name: invalid type: integer `7`, expected a string"), "{msg}");
    }

    #[test]
    fn unknown_field_is_refused_with_its_path() {
        let msg = error_of(&GOOD.replace("\"inputs\": {}", "\"inputs\": {}, \"expcet\": {}"));
        assert!(msg.contains("unknown field `expcet`"), "{msg}");
    }

    #[test]
    fn other_format_is_named() {
        let msg = error_of(&GOOD.replace("scenario@1", "scenario@9"));
        assert!(msg.contains("format: unsupported scenario format \"dispatch-vcr/scenario@9\""), "{msg}");
        assert!(error_of(r#"{"format": "dispatch-vcr/report@1"}"#).contains("unsupported scenario format"));
    }

    #[test]
    fn a_cassette_is_named_as_one() {
        let msg = error_of(r#"{"format": "dispatch-vcr/cassette@1", "meta": {}, "interactions": []}"#);
        assert_eq!(msg, "DIR/x.json: this is a cassette, not a scenario: pass the scenario that names it");
    }

    #[test]
    fn cassettes_in_a_folder_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "s.json", "{}");
        write(dir.path(), "c.json", r#"{"format": "dispatch-vcr/cassette@1", "interactions": []}"#);
        write(dir.path(), "broken.json", "{");
        let files = discover(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(files, vec![dir.path().join("broken.json"), dir.path().join("s.json")]);
        let only = tempfile::tempdir().unwrap();
        write(only.path(), "c.json", r#"{"format": "dispatch-vcr/cassette@1"}"#);
        let err = discover(&[only.path().to_path_buf()]).unwrap_err();
        assert!(err.message().ends_with("(1 cassette skipped)"), "{}", err.message());
    }

    #[test]
    fn a_scenario_without_cassettes_loads() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            GOOD.replace(r#""2026.5.12": "c.json""#, ""),
            GOOD.replace(",\n  \"cassettes\": {\"2026.5.12\": \"c.json\"}", ""),
        ] {
            assert_ne!(text, GOOD);
            let scenario = parse(&text, &dir.path().join("x.json")).unwrap();
            assert!(scenario.cassettes.is_empty());
        }
    }

    #[test]
    fn known_failure_needs_a_cassette() {
        let msg =
            error_of(&GOOD.replace("\"inputs\"", "\"known_failures\": {\"2026.5.13\": \"#1\"}, \"inputs\""));
        assert!(msg.contains("known_failures.2026.5.13: no cassette for this version"), "{msg}");
    }

    #[test]
    fn missing_cassette_file_is_named() {
        let msg = error_of(&GOOD.replace("c.json", "gone.json"));
        assert!(msg.contains("cassettes.2026.5.12: DIR/gone.json does not exist"), "{msg}");
    }

    #[test]
    fn a_dispatcher_name_must_be_a_name() {
        let msg = error_of(&GOOD.replace("\"openclaw\"", "\"my gateway\""));
        assert!(msg.contains("dispatcher: \"my gateway\" is not a dispatcher name"), "{msg}");
    }

    #[test]
    fn discover_recurses_in_path_order_and_names_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        write(&dir.path().join("b"), "z.json", "{}");
        write(dir.path(), "a.json", "{}");
        write(dir.path(), "notes.txt", "");
        let files = discover(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(files, vec![dir.path().join("a.json"), dir.path().join("b/z.json")]);
        let err = discover(&[dir.path().join("nope")]).unwrap_err();
        assert!(err.message().contains("no such scenario file or folder"));
    }

    #[test]
    fn duplicate_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "c.json", "{}");
        let a = write(dir.path(), "a.json", GOOD);
        let b = write(dir.path(), "b.json", GOOD);
        let err = load_all(&[a, b]).unwrap_err();
        assert!(err.message().contains("is already used by"), "{}", err.message());
    }
}
