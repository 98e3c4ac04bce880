//! `$include` in `openclaw.json`, resolved as OpenClaw resolves it (learned
//! from 2026.9.6's dist, `src/config/includes.ts`):
//!
//! - `{"$include": "./base.json5"}` anywhere in the tree is replaced by that
//!   file's content; `{"$include": ["./a.json5", "./b.json5"]}` by the files
//!   merged in order. Paths are relative to the file that names them.
//! - Keys beside `$include` are merged over the included content, which must
//!   then be an object.
//! - Merging: objects key by key, arrays concatenated, anything else the
//!   later value wins.
//! - An included file must stay inside the config's folder, be at most
//!   2 MiB, and may include others to a depth of 10; a cycle is an error.
//!
//! OpenClaw also accepts roots named by `OPENCLAW_INCLUDE_ROOTS`; this
//! reader does not, and says so.

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::files;

/// The key that names included files.
pub const INCLUDE_KEY: &str = "$include";
/// OpenClaw's limit on nested includes.
const MAX_DEPTH: usize = 10;
/// OpenClaw's limit on an included file's size.
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Whether `value` names an include anywhere.
pub fn has_includes(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key(INCLUDE_KEY) || map.values().any(has_includes),
        Value::Array(items) => items.iter().any(has_includes),
        _ => false,
    }
}

/// `config` (read from `path`) with every `$include` replaced by what it names.
/// Errors (exit 2) name the including file, the include and how to fix it.
pub fn resolve(config: &Value, path: &Path) -> Result<Value> {
    let root = lexical(&path.parent().map(Path::to_path_buf).unwrap_or_default());
    Resolver { root, chain: vec![lexical(path)] }.value(config)
}

struct Resolver {
    /// The config's folder: no include may leave it.
    root: PathBuf,
    /// The files being included, outermost first (the cycle check and the depth).
    chain: Vec<PathBuf>,
}

impl Resolver {
    fn value(&mut self, value: &Value) -> Result<Value> {
        match value {
            Value::Object(map) if map.contains_key(INCLUDE_KEY) => self.include(map),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.value(v)?)))
                .collect::<Result<Map<_, _>>>()
                .map(Value::Object),
            Value::Array(items) => {
                items.iter().map(|v| self.value(v)).collect::<Result<Vec<_>>>().map(Value::Array)
            }
            other => Ok(other.clone()),
        }
    }

    /// An object holding `$include`: the files' content, its other keys merged over it.
    fn include(&mut self, map: &Map<String, Value>) -> Result<Value> {
        let included = match &map[INCLUDE_KEY] {
            Value::String(name) => self.file(name)?,
            Value::Array(names) => {
                let mut merged = Value::Object(Map::new());
                for name in names {
                    let Value::String(name) = name else {
                        return Err(
                            self.error(&name.to_string(), "an $include list holds file names (strings) only")
                        );
                    };
                    merged = merge(merged, self.file(name)?);
                }
                merged
            }
            other => return Err(self.error(&other.to_string(), "$include is a file name or a list of them")),
        };
        let rest: Map<String, Value> =
            map.iter().filter(|(k, _)| *k != INCLUDE_KEY).map(|(k, v)| (k.clone(), v.clone())).collect();
        if rest.is_empty() {
            return Ok(included);
        }
        if !included.is_object() {
            return Err(self.error(
                &map[INCLUDE_KEY].to_string(),
                "keys beside $include need the included file to hold an object",
            ));
        }
        Ok(merge(included, self.value(&Value::Object(rest))?))
    }

    /// The content of the file `name` names, its own includes resolved.
    fn file(&mut self, name: &str) -> Result<Value> {
        let including = self.chain.last().cloned().unwrap_or_default();
        let path = lexical(&including.parent().unwrap_or(Path::new("")).join(name));
        if !path.starts_with(&self.root) {
            return Err(self.error(
                name,
                &format!(
                    "it leaves the config's folder {} (OpenClaw refuses that too; OPENCLAW_INCLUDE_ROOTS is not read here)",
                    self.root.display()
                ),
            ));
        }
        if self.chain.contains(&path) {
            return Err(self.error(name, "a cycle: the file includes itself through this chain"));
        }
        if self.chain.len() > MAX_DEPTH {
            return Err(self.error(name, &format!("more than {MAX_DEPTH} nested includes, OpenClaw's limit")));
        }
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
            return Err(self.error(name, "larger than 2 MiB, OpenClaw's limit for an included file"));
        }
        let text = files::read_input(&path, "included OpenClaw config")?;
        let value = json5::from_str::<Value>(&text)
            .map_err(|e: json5::Error| Error::json5(path.display(), &text, &e))?;
        self.chain.push(path);
        let resolved = self.value(&value);
        self.chain.pop();
        resolved
    }

    fn error(&self, include: &str, why: &str) -> Error {
        let file = self.chain.last().map(|p| p.display().to_string()).unwrap_or_default();
        Error::input(format!("{file}: $include {include}: {why}"))
    }
}

/// `over` merged into `base` as OpenClaw merges includes.
fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut base), Value::Object(over)) => {
            for (key, value) in over {
                let merged = match base.remove(&key) {
                    Some(old) => merge(old, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Object(base)
        }
        (Value::Array(mut base), Value::Array(over)) => {
            base.extend(over);
            Value::Array(base)
        }
        (_, over) => over,
    }
}

/// `path` with `.` and `..` folded away, without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn resolved(dir: &Path, config: &str) -> Result<Value> {
        let path = write(dir, "openclaw.json", config);
        resolve(&json5::from_str(config).unwrap(), &path)
    }

    #[test]
    fn files_are_merged_in_order_and_sibling_keys_win() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.json5", "{models: {providers: {x: {baseUrl: 'http://a'}}}, list: [1]}");
        write(dir.path(), "parts/b.json5", "{models: {providers: {x: {api: 'ollama'}}}, list: [2]}");
        let config = resolved(
            dir.path(),
            "{$include: ['./a.json5', 'parts/b.json5'], models: {providers: {x: {baseUrl: 'http://c'}}}}",
        )
        .unwrap();
        assert_eq!(
            config,
            json!({"models": {"providers": {"x": {"baseUrl": "http://c", "api": "ollama"}}}, "list": [1, 2]})
        );
    }

    #[test]
    fn an_include_deep_in_the_tree_is_relative_to_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "parts/providers.json5", "{x: {$include: './x.json5'}}");
        write(dir.path(), "parts/x.json5", "{api: 'openai-completions'}");
        let config =
            resolved(dir.path(), "{models: {providers: {$include: './parts/providers.json5'}}}").unwrap();
        assert_eq!(config, json!({"models": {"providers": {"x": {"api": "openai-completions"}}}}));
        assert!(!has_includes(&config));
    }

    #[test]
    fn leaving_the_folder_cycles_and_missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let outside = resolved(&dir.path().join("home"), "{$include: '../secrets.json5'}").unwrap_err();
        assert!(outside.message().contains("leaves the config's folder"), "{}", outside.message());
        write(dir.path(), "loop.json5", "{$include: './openclaw.json'}");
        let cycle = resolved(dir.path(), "{$include: './loop.json5'}").unwrap_err();
        assert!(
            cycle.message().contains("loop.json5: $include ./openclaw.json: a cycle"),
            "{}",
            cycle.message()
        );
        let missing = resolved(dir.path(), "{$include: './nope.json5'}").unwrap_err();
        assert!(missing.message().contains("nope.json5"), "{}", missing.message());
        write(dir.path(), "list.json5", "[1]");
        let beside = resolved(dir.path(), "{$include: './list.json5', a: 1}").unwrap_err();
        assert!(
            beside.message().contains("need the included file to hold an object"),
            "{}",
            beside.message()
        );
    }
}
