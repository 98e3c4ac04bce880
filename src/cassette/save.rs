//! Writing cassettes: pretty JSON in a stable key order with a trailing
//! newline, written atomically (temporary file, fsync, rename) so a reader
//! never sees half a cassette and a crash never leaves one.

use std::path::Path;

use serde_json::Value;

use super::model::Cassette;
use crate::error::{Error, Result};
use crate::files::write_atomically;

/// The cassette as it is stored: keys in declaration order (bodies keep the
/// order they had on the wire), two-space indent, arrays of plain values on
/// one line so a header pair reads `["content-type", "application/json"]`.
pub fn to_json(cassette: &Cassette) -> Result<String> {
    let value = serde_json::to_value(cassette)
        .map_err(|e| Error::runtime(format!("cannot serialise the cassette: {e}")))?;
    let mut out = String::new();
    write_pretty(&value, 0, &mut out);
    out.push('\n');
    Ok(out)
}

/// Write `cassette` to `path` atomically.
pub fn save(path: &Path, cassette: &Cassette) -> Result<()> {
    write_atomically(path, to_json(cassette)?.as_bytes())
}

/// Save `cassette` to `path` atomically, then audit the file
/// ([`crate::audit`]): a secret left in it, in a credential position, by
/// shape or one of the `known` ones, is an error (exit 3) naming each.
pub fn save_checked(path: &Path, cassette: &Cassette, known: &[String]) -> Result<()> {
    save(path, cassette)?;
    crate::audit::check_written(path, known)
}

fn write_pretty(value: &Value, indent: usize, out: &mut String) {
    let pad = |out: &mut String, level: usize| out.extend(std::iter::repeat_n("  ", level));
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                pad(out, indent + 1);
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write_pretty(item, indent + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            pad(out, indent);
            out.push('}');
        }
        Value::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, indent + 1);
                write_pretty(item, indent + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(out, indent);
            out.push(']');
        }
        Value::Array(items) => {
            let inline: Vec<String> = items.iter().map(Value::to_string).collect();
            out.push('[');
            out.push_str(&inline.join(", "));
            out.push(']');
        }
        scalar_or_empty => out.push_str(&scalar_or_empty.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::Meta;
    use serde_json::json;

    fn pretty(value: &Value) -> String {
        let mut out = String::new();
        write_pretty(value, 0, &mut out);
        out
    }

    #[test]
    fn arrays_of_plain_values_stay_on_one_line() {
        assert_eq!(pretty(&json!({"h": [["a", "1"]]})), "{\n  \"h\": [\n    [\"a\", \"1\"]\n  ]\n}");
    }

    #[test]
    fn empty_containers_are_compact() {
        assert_eq!(pretty(&json!({"a": {}, "b": []})), "{\n  \"a\": {},\n  \"b\": []\n}");
    }

    #[test]
    fn output_parses_back_to_the_same_value_in_the_same_order() {
        let value = json!({"z": 1, "a": [1.5, "x\n\"y\"", null, {"k": true}], "m": {"b": 2, "a": 1}});
        let back: Value = serde_json::from_str(&pretty(&value)).unwrap();
        assert_eq!(back, value);
        assert_eq!(back.to_string(), value.to_string());
    }

    #[test]
    fn cassette_json_ends_with_a_newline_and_starts_with_format() {
        let text = to_json(&Cassette::new(Meta::default())).unwrap();
        assert!(text.starts_with("{\n  \"format\": \"dispatch-vcr/cassette@1\""));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn save_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, "old").unwrap();
        save(&path, &Cassette::new(Meta::default())).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("cassette@1"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn save_checked_refuses_a_file_with_a_known_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let mut cassette = Cassette::new(Meta::default());
        cassette.meta.labels.insert("note".into(), "leaked-secret-1".into());
        let err = save_checked(&path, &cassette, &["leaked-secret-1".into()]).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message().contains("c.json:"), "{}", err.message());
        assert!(!err.message().contains("leaked-secret-1"));
    }

    #[test]
    fn save_into_a_missing_directory_names_the_path() {
        let err = save(Path::new("/nonexistent-dir/c.json"), &Cassette::new(Meta::default())).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message().contains("/nonexistent-dir/c.json"));
    }
}
