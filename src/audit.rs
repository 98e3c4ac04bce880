//! `audit PATH...`: find secrets left in clear in files.
//!
//! Two kinds of evidence: values matching a token pattern ([`PATTERNS`](crate::credential::tokens::PATTERNS):
//! JWTs, provider keys, GitHub tokens, AWS keys…) and *known* secrets (for
//! example those of `--profiles` stores, or everything a recording redacted).
//! Anything inside a `[REDACTED …]` marker is not a hit. Hits name the file,
//! line, kind and fingerprint — never the secret itself. The recorder runs
//! the same scan over every cassette it writes, and the redactor uses
//! the same token finder to redact token-shaped values wherever they appear.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::credential::tokens::find_tokens;
use crate::credential::{self, fingerprint};
use crate::error::{Error, Result};

/// One secret found by the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// The file it is in.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What it looks like (`openai-key`, `jwt`, … or the kind of a known secret).
    pub kind: String,
    /// The fingerprint of the secret (never the secret).
    pub fingerprint: String,
}

impl fmt::Display for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {} ({})", self.path.display(), self.line, self.kind, self.fingerprint)
    }
}

/// The secrets in `text` (the contents of `path`), line by line: token
/// patterns, and every occurrence of one of `known`.
pub(crate) fn scan_text(path: &Path, text: &str, known: &[String]) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let hit = |kind: &str, secret: &str| Hit {
            path: path.to_owned(),
            line: index + 1,
            kind: kind.to_owned(),
            fingerprint: fingerprint(secret),
        };
        let tokens = find_tokens(line);
        hits.extend(tokens.iter().map(|t| hit(t.kind, &line[t.range.clone()])));
        for secret in known.iter().filter(|s| !s.is_empty() && line.contains(s.as_str())) {
            let seen = tokens.iter().any(|t| &line[t.range.clone()] == secret);
            if !seen {
                hits.push(hit(&format!("known {}", credential::classify(secret)), secret));
            }
        }
    }
    hits
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
            assert_eq!(line, format!("c.json:2: openai-key ({})", fingerprint(secret)));
            assert!(!line.contains(secret));
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
            assert_eq!(report.hits[0].line, 2);
            assert_eq!(report.exit_code(), 1);
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
