//! `audit PATH...`: find secrets left in clear in files.
//!
//! What counts as a secret:
//!
//! - **by position** — in a cassette, a journal or a HAR file, any value in a
//!   credential position (credential headers and headers named like one,
//!   cookies, query parameters such as `api_key`, body fields such as
//!   `client_secret` at any depth, JSON inside JSON strings, form and
//!   multipart fields, token-like path segments) that is not a
//!   `[REDACTED …]` marker or a placeholder, whatever its shape
//!   ([`crate::credential::tokens`] says which positions and values);
//! - **by shape** — values matching a token pattern
//!   ([`PATTERNS`](crate::credential::tokens::PATTERNS): provider keys, JWTs,
//!   Google, GitHub and AWS tokens…) anywhere;
//! - **by value** — *known* secrets (those of `--profiles` stores, or
//!   everything a recording redacted) anywhere.
//!
//! Shapes and known secrets are also found encoded (base64, percent,
//! `\u`-escaped) and split (across lines, across the chunks or events of a
//! streamed body). Hits name the file, the line when the secret is there in
//! clear, the place in the exchange, the kind, the first characters and the
//! fingerprint — never the whole secret. The recorder runs the same audit
//! over every cassette it writes ([`check_written`]).

mod scan;
mod walk;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::credential::{self, fingerprint};
use crate::error::{Error, Result};

/// One secret found by the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// The file it is in.
    pub path: PathBuf,
    /// 1-based line number, when the secret is on a line in clear.
    pub line: Option<usize>,
    /// Where in an exchange (`interaction 3, request header x-api-key`), or empty.
    pub place: String,
    /// What it looks like (`openai-key`, `opaque value`, `jwt, base64-encoded`, `known opaque`…).
    pub kind: String,
    /// Its first few characters ([`prefix`]): enough to recognise it, never all of it.
    pub prefix: String,
    /// The fingerprint of the secret (never the secret).
    pub fingerprint: String,
}

impl fmt::Display for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if !self.place.is_empty() {
            write!(f, "{}: ", self.place)?;
        }
        write!(f, "{} `{}…` ({})", self.kind, self.prefix, self.fingerprint)
    }
}

/// Most characters of a secret a hit shows.
const PREFIX_CHARS: usize = 6;

/// The first characters of `secret` a hit shows: six, and never more than a
/// third of it, so a short password is not given away.
pub(crate) fn prefix(secret: &str) -> String {
    let count = secret.chars().count();
    secret.chars().take(PREFIX_CHARS.min(count / 3)).collect()
}

/// The secrets in `text`, the contents of `path`: a JSON document (a
/// cassette, a HAR file, anything) or NDJSON (a journal) is read by position
/// and every string scanned; any other text is scanned line by line.
pub(crate) fn scan_text(path: &Path, text: &str, known: &[String]) -> Vec<Hit> {
    let placed = match json_documents(text) {
        Some(documents) => documents.iter().flat_map(|d| walk::walk(d, known)).collect(),
        None => scan_lines(text, known),
    };
    let lines = LineIndex::new(text);
    let mut seen = BTreeSet::new();
    placed
        .into_iter()
        .filter(|p| seen.insert(p.found.secret.clone()))
        .map(|p| Hit {
            path: path.to_owned(),
            line: p.line.or_else(|| lines.line_of(&p.found.secret)),
            place: p.place,
            kind: p.found.kind,
            prefix: prefix(&p.found.secret),
            fingerprint: fingerprint(&p.found.secret),
        })
        .collect()
}

/// The document of a JSON file, or the lines of an NDJSON file; `None` for other text.
fn json_documents(text: &str) -> Option<Vec<Value>> {
    let start = text.trim_start();
    if !start.starts_with(['{', '[']) {
        return None;
    }
    if let Ok(document) = serde_json::from_str(text) {
        return Some(vec![document]);
    }
    let lines = text.lines().filter(|line| !line.trim().is_empty());
    lines.map(|line| serde_json::from_str(line).ok()).collect()
}

/// Plain text, line by line, and keys split over lines.
fn scan_lines(text: &str, known: &[String]) -> Vec<walk::Placed> {
    let mut placed = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let found = scan::scan(line, known);
        placed.extend(found.into_iter().map(|found| walk::Placed {
            place: String::new(),
            found,
            line: Some(index + 1),
        }));
    }
    let split = scan::split_across_lines(text);
    placed.extend(split.into_iter().map(|(found, index)| walk::Placed {
        place: String::new(),
        found,
        line: Some(index + 1),
    }));
    placed
}

/// Where lines start in a text, to name the line a secret is on.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let starts =
            std::iter::once(0).chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)).collect();
        Self { text, starts }
    }

    /// The 1-based line of the first occurrence of `secret` in clear
    /// (as is, or as a JSON string writes it).
    fn line_of(&self, secret: &str) -> Option<usize> {
        let escaped = serde_json::to_string(secret).ok()?;
        let escaped = &escaped[1..escaped.len() - 1];
        let at = self.text.find(escaped).or_else(|| self.text.find(secret))?;
        Some(self.starts.partition_point(|&start| start <= at))
    }
}

/// The outcome of an audit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AuditReport {
    /// How many files were read.
    pub files: usize,
    /// Every secret found, in path and line order.
    pub hits: Vec<Hit>,
    /// Hits left out because their fingerprint is allowed.
    pub allowed: usize,
}

impl AuditReport {
    /// 0 when clean, 1 when a secret was found.
    pub(crate) fn exit_code(&self) -> u8 {
        u8::from(!self.hits.is_empty())
    }

    /// Leave out the hits whose fingerprint is in `fingerprints` (known
    /// fixture keys, say), counting them.
    pub(crate) fn allow(&mut self, fingerprints: &BTreeSet<String>) {
        let before = self.hits.len();
        self.hits.retain(|hit| !fingerprints.contains(&hit.fingerprint));
        self.allowed += before - self.hits.len();
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for hit in &self.hits {
            writeln!(f, "{hit}")?;
        }
        let files = plural(self.files, "file");
        let allowed = if self.allowed > 0 { format!(" ({} allowed)", self.allowed) } else { String::new() };
        match self.hits.len() {
            0 => writeln!(f, "no secrets found in {files}{allowed}"),
            n => writeln!(
                f,
                "{} found in {files}{allowed}: replace them with [REDACTED …] markers",
                plural(n, "secret")
            ),
        }
    }
}

/// Parse an allow file: one fingerprint a line as `audit` prints them
/// (`sha256:` and 12 hex digits); `#` starts a comment; blank lines are skipped.
pub(crate) fn parse_allow_file(path: &Path, text: &str) -> Result<BTreeSet<String>> {
    let mut fingerprints = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        let value = line.split('#').next().unwrap_or_default().trim();
        if value.is_empty() {
            continue;
        }
        if !credential::is_fingerprint(value) {
            return Err(Error::input(format!(
                "{}:{}: `{value}` is not a fingerprint; write one a line as audit prints them, e.g. sha256:1f0c2a9b7d3e",
                path.display(),
                index + 1
            )));
        }
        fingerprints.insert(value.to_owned());
    }
    Ok(fingerprints)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// Directories an audit does not descend into.
const SKIPPED_DIRS: &[&str] = &[".git", "target"];

/// Scan `paths` (files, or directories recursively) for secrets.
///
/// A path that does not exist is bad input (exit 2); an unreadable file a
/// runtime error (exit 3). Symbolic links met while walking are not followed.
/// A file reached twice (`audit leak.json .`) is read once, under the name
/// it was first reached by.
pub(crate) fn audit(paths: &[PathBuf], known: &[String]) -> Result<AuditReport> {
    let mut files = Vec::new();
    for path in paths {
        if !path.exists() {
            return Err(Error::input(format!(
                "{}: no such file or directory (audit takes files and directories)",
                path.display()
            )));
        }
        collect_files(path, &mut files)?;
    }
    let mut seen = BTreeSet::new();
    files.retain(|file| seen.insert(std::fs::canonicalize(file).unwrap_or_else(|_| file.clone())));
    let mut report = AuditReport { files: files.len(), hits: Vec::new(), allowed: 0 };
    for file in &files {
        let bytes = std::fs::read(file).map_err(|e| Error::io("read", file, &e))?;
        report.hits.extend(scan_text(file, &String::from_utf8_lossy(&bytes), known));
    }
    Ok(report)
}

/// Audit a file this program just wrote (a recorded, recovered or imported
/// cassette): clean, or a runtime error (exit 3) that lists every hit — never
/// a secret — and says what to do. `known` are the secrets redaction
/// replaced, hunted by value too.
pub(crate) fn check_written(path: &Path, known: &[String]) -> Result<()> {
    let report = audit(&[path.to_owned()], known)?;
    if report.hits.is_empty() {
        return Ok(());
    }
    let hits: Vec<String> = report.hits.iter().map(|hit| format!("  {hit}")).collect();
    Err(Error::runtime(format!(
        "{file} was written but its audit found {count} in clear (a redaction bug):\n{hits}\n\
         Do not share or commit {file}: delete it (and {file}.journal if it is there), or replace each value above with a [REDACTED …] marker \
         and check with `dispatch-vcr audit {file}`. Please report the lines above (they hold no secret).",
        file = path.display(),
        count = plural(report.hits.len(), "secret"),
        hits = hits.join("\n"),
    )))
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    if !path.is_dir() {
        files.push(path.to_owned());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::io("list", path, &e))?;
    let mut children = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", path, &e))?;
        let kind = entry.file_type().map_err(|e| Error::io("inspect", &entry.path(), &e))?;
        let skipped_dir = kind.is_dir() && SKIPPED_DIRS.iter().any(|d| entry.file_name() == *d);
        if !(kind.is_symlink() || skipped_dir) {
            children.push(entry.path());
        }
    }
    children.sort();
    children.iter().try_for_each(|child| collect_files(child, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    mod scan_text {
        use super::*;

        #[test]
        fn reports_line_kind_and_fingerprint_but_not_the_secret() {
            let secret = "sk-proj-abcdefghijklmnopqrstuv";
            let hits = scan_text(Path::new("c.json"), &format!("ok\nkey {secret}\n"), &[]);
            assert_eq!(hits.len(), 1);
            let line = hits[0].to_string();
            assert_eq!(line, format!("c.json:2: openai-key `sk-pro…` ({})", fingerprint(secret)));
            assert!(!line.contains(secret));
        }

        #[test]
        fn a_json_hit_names_its_place_and_line() {
            let text = "{\"interactions\": [{\"seq\": 2, \"request\": {\"url\": \"https://h/x\",\n \"headers\": [[\"x-api-key\", \"0123456789abcdef\"]]}}]}\n";
            let hits = scan_text(Path::new("c.json"), text, &[]);
            let expected = format!(
                "c.json:2: interaction 2, request header x-api-key: opaque value `01234…` ({})",
                fingerprint("0123456789abcdef")
            );
            assert_eq!(hits.iter().map(ToString::to_string).collect::<Vec<_>>(), [expected]);
        }

        #[test]
        fn journal_lines_are_read_by_position() {
            let line = r#"{"interaction": {"seq": 4, "request": {"url": "https://h/x?api_key=0123456789abcdef", "headers": []}}}"#;
            let hits =
                scan_text(Path::new("c.json.journal"), &format!("{{\"format\": \"j\"}}\n{line}\n"), &[]);
            assert_eq!(
                (hits[0].line, hits[0].place.as_str()),
                (Some(2), "interaction 4, request url query api_key")
            );
        }

        #[test]
        fn a_hit_shows_at_most_a_third_of_the_secret() {
            assert_eq!(prefix("0123456789abcdef0123"), "012345");
            assert_eq!(prefix("hunter2!"), "hu");
            assert_eq!(prefix("ab"), "");
        }

        #[test]
        fn finds_known_secrets_of_any_shape() {
            let hits = scan_text(Path::new("f"), "password=hunter2-hunter2", &["hunter2-hunter2".into()]);
            assert_eq!(hits[0].kind, "known opaque");
        }

        #[test]
        fn a_known_token_is_reported_once() {
            let secret = "sk-proj-abcdefghijklmnopqrstuv".to_owned();
            assert_eq!(scan_text(Path::new("f"), &secret.clone(), &[secret]).len(), 1);
        }
    }

    mod audit {
        use super::*;

        #[test]
        fn walks_directories_and_counts_files() {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("a/.git")).unwrap();
            std::fs::write(dir.path().join("a/clean.json"), "{}").unwrap();
            std::fs::write(dir.path().join("a/.git/skipped"), "sk-proj-abcdefghijklmnopqrstuv").unwrap();
            std::fs::write(dir.path().join("dirty.txt"), "x\nAKIAIOSFODNN7EXAMPLE\n").unwrap();
            let report = audit(&[dir.path().to_owned()], &[]).unwrap();
            assert_eq!(report.files, 2);
            assert_eq!(report.hits.len(), 1);
            assert_eq!(report.hits[0].line, Some(2));
            assert_eq!(report.exit_code(), 1);
        }

        #[test]
        fn a_written_file_with_a_secret_is_a_runtime_error_that_says_what_to_do() {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("run.json");
            std::fs::write(&file, "{\"note\": \"leaked-secret-1\"}\n").unwrap();
            let err = check_written(&file, &["leaked-secret-1".into()]).unwrap_err();
            assert_eq!(err.exit_code(), 3);
            let message = err.message();
            assert!(message.contains("run.json:1: known opaque `leake…`"), "{message}");
            assert!(
                message.contains("Do not share or commit") && !message.contains("leaked-secret-1"),
                "{message}"
            );
            std::fs::write(&file, "{}\n").unwrap();
            assert!(check_written(&file, &["leaked-secret-1".into()]).is_ok());
        }

        #[test]
        fn a_missing_path_is_bad_input() {
            let err = audit(&[PathBuf::from("/nonexistent/x")], &[]).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.message().contains("/nonexistent/x"));
        }

        #[test]
        fn clean_report_says_how_many_files() {
            let report = AuditReport { files: 3, hits: Vec::new(), allowed: 0 };
            assert_eq!(report.to_string(), "no secrets found in 3 files\n");
            assert_eq!(report.exit_code(), 0);
        }

        #[test]
        fn a_file_reached_twice_is_read_once() {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("leak.txt");
            std::fs::write(&file, "AKIAIOSFODNN7EXAMPLE\n").unwrap();
            let report =
                audit(&[file.clone(), dir.path().to_owned(), dir.path().join("./leak.txt")], &[]).unwrap();
            assert_eq!((report.files, report.hits.len()), (1, 1));
            assert_eq!(report.hits[0].path, file);
        }

        #[test]
        fn allowed_fingerprints_are_counted_not_reported() {
            let hits = scan_text(Path::new("f"), "AKIAIOSFODNN7EXAMPLE\nAKIAIOSFODNN7EXAMPLF\n", &[]);
            let mut report = AuditReport { files: 1, hits, allowed: 0 };
            report.allow(&BTreeSet::from([fingerprint("AKIAIOSFODNN7EXAMPLE")]));
            assert_eq!((report.hits.len(), report.allowed, report.exit_code()), (1, 1, 1));
            assert!(
                report.to_string().ends_with(
                    "1 secret found in 1 file (1 allowed): replace them with [REDACTED …] markers\n"
                )
            );
        }

        #[test]
        fn an_allow_file_takes_fingerprints_and_comments_and_names_a_bad_line() {
            let text = "# fixtures\nsha256:1f0c2a9b7d3e  # the replay fixture\n\n";
            let allowed = parse_allow_file(Path::new("allow.txt"), text).unwrap();
            assert_eq!(allowed, BTreeSet::from(["sha256:1f0c2a9b7d3e".to_owned()]));
            let err = parse_allow_file(Path::new("allow.txt"), "\nsk-proj-x\n").unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.message().starts_with("allow.txt:2: `sk-proj-x` is not a fingerprint"), "{err}");
        }
    }
}
