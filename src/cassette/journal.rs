//! The crash-safe journal `CASSETTE.journal`: NDJSON, written while
//! recording so a killed recorder loses nothing that had finished.
//!
//! Line 1 is a header `{"format": "dispatch-vcr/journal@1", "meta": …}`;
//! each further line is one redacted interaction, with the facts of the
//! credentials it introduced: `{"interaction": …, "credentials": {…}}`.
//! Lines go to the file in one write per batch as soon as the recorder has
//! redacted the batch (milliseconds after the exchanges finished), so a
//! `kill -9` can at worst tear the last line being written.
//! [`recover`] turns a journal into its cassette.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{Cassette, CredentialFacts, Interaction, Meta};
use crate::error::{Error, Result};

/// The `format` of a journal's header line.
pub const JOURNAL_FORMAT: &str = "dispatch-vcr/journal@1";

/// `CASSETTE.journal`: where the journal of `cassette` lives.
pub fn journal_path(cassette: &Path) -> PathBuf {
    let mut name = cassette.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

#[derive(Serialize, Deserialize)]
struct Header<'a> {
    format: Cow<'a, str>,
    meta: Cow<'a, Meta>,
}

#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    interaction: Cow<'a, Interaction>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    credentials: Cow<'a, BTreeMap<String, CredentialFacts>>,
}

/// Appends interactions to a journal: [`JournalWriter::stage`] lines, then
/// [`JournalWriter::flush`] them in one write ([`JournalWriter::append`] does both).
#[derive(Debug)]
pub struct JournalWriter {
    file: File,
    path: PathBuf,
    /// Fingerprints whose facts are already in the journal (or staged).
    written: BTreeSet<String>,
    /// Staged lines not written yet.
    pending: Vec<u8>,
}

impl JournalWriter {
    /// Create `path` (it must not exist: an old journal is someone's
    /// unrecovered recording) and write the header.
    pub fn create(path: &Path, meta: &Meta) -> io::Result<Self> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut writer = Self { file, path: path.to_owned(), written: BTreeSet::new(), pending: Vec::new() };
        writer.stage_line(&Header { format: Cow::Borrowed(JOURNAL_FORMAT), meta: Cow::Borrowed(meta) })?;
        writer.flush()?;
        Ok(writer)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append `interaction` with the facts of credentials not journaled yet,
    /// and write it (with anything staged before) at once.
    pub fn append(
        &mut self,
        interaction: &Interaction,
        credentials: &BTreeMap<String, CredentialFacts>,
    ) -> io::Result<()> {
        self.stage(interaction, credentials)?;
        self.flush()
    }

    /// Add `interaction` to the lines the next [`JournalWriter::flush`] writes.
    pub fn stage(
        &mut self,
        interaction: &Interaction,
        credentials: &BTreeMap<String, CredentialFacts>,
    ) -> io::Result<()> {
        let new: BTreeMap<String, CredentialFacts> = credentials
            .iter()
            .filter(|(fp, _)| !self.written.contains(*fp))
            .map(|(fp, facts)| (fp.clone(), facts.clone()))
            .collect();
        self.stage_line(&Entry {
            interaction: Cow::Borrowed(interaction),
            credentials: Cow::Borrowed(&new),
        })?;
        self.written.extend(new.into_keys());
        Ok(())
    }

    /// Write the staged lines in one write. Once this returns they are in
    /// the kernel and survive the death of the process.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.pending);
        self.pending.clear();
        written
    }

    fn stage_line(&mut self, line: &impl Serialize) -> io::Result<()> {
        let start = self.pending.len();
        if let Err(err) = serde_json::to_writer(&mut self.pending, line) {
            // Never leave half a line staged.
            self.pending.truncate(start);
            return Err(err.into());
        }
        self.pending.push(b'\n');
        Ok(())
    }
}

/// A cassette read back from a journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Journaled {
    /// The cassette it holds.
    pub cassette: Cassette,
    /// Whether a torn last line (a write cut short by a crash) was dropped.
    pub torn_last_line: bool,
}

/// Read the journal at `path` (its text is `bytes`).
///
/// A last line that does not parse is a write cut short and is dropped;
/// any other bad line is an error naming `path:LINE:COL` (exit 2).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Journaled> {
    crate::files::check_not_empty(path, bytes, "recording journal")?;
    let lines: Vec<&[u8]> = bytes.strip_suffix(b"\n").unwrap_or(bytes).split(|b| *b == b'\n').collect();
    let entries = lines.get(1..).unwrap_or_default();
    let header: Header =
        serde_json::from_slice(lines.first().copied().unwrap_or_default()).map_err(|_| {
            Error::input(format!(
                "{}:1: not a dispatch-vcr journal (its first line is not a journal header)",
                path.display()
            ))
        })?;
    if header.format != JOURNAL_FORMAT {
        return Err(Error::input(format!(
            "{}:1: unknown journal format {:?}; this dispatch-vcr reads {JOURNAL_FORMAT}",
            path.display(),
            header.format
        )));
    }
    let mut cassette = Cassette::new(header.meta.into_owned());
    let mut torn_last_line = false;
    for (index, line) in entries.iter().enumerate() {
        match serde_json::from_slice::<Entry>(line) {
            Ok(entry) => {
                cassette.meta.credentials.extend(entry.credentials.into_owned());
                cassette.interactions.push(entry.interaction.into_owned());
            }
            Err(_) if index + 1 == entries.len() => torn_last_line = true,
            Err(e) => {
                return Err(Error::input(format!(
                    "{}:{}:{}: {} (the journal is damaged before its last line)",
                    path.display(),
                    index + 2,
                    e.column(),
                    crate::error::json_message(&e)
                )));
            }
        }
    }
    Ok(Journaled { cassette, torn_last_line })
}

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The cassette written.
    pub path: PathBuf,
    /// How many interactions it holds.
    pub interactions: usize,
    /// Whether a torn last line was dropped.
    pub torn_last_line: bool,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.interactions;
        write!(f, "recovered {n} interaction{} into {}", if n == 1 { "" } else { "s" }, self.path.display())?;
        if self.torn_last_line {
            write!(f, " (dropped a torn last line: the exchange in flight when recording stopped)")?;
        }
        Ok(())
    }
}

/// `cassette recover CASSETTE`: turn `CASSETTE.journal` into `CASSETTE`
/// (written atomically, then audited), and remove the journal.
pub fn recover(cassette: &Path) -> Result<Recovery> {
    let journal = journal_path(cassette);
    let bytes = std::fs::read(&journal).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::input(format!(
            "{}: no journal to recover (a recording to {} leaves one only while it runs or when it was interrupted)",
            journal.display(),
            cassette.display()
        )),
        _ => Error::io("read", &journal, &e),
    })?;
    let Journaled { cassette: recovered, torn_last_line } = parse(&journal, &bytes)?;
    super::save::save_checked(cassette, &recovered, &[])?;
    std::fs::remove_file(&journal).map_err(|e| Error::io("remove", &journal, &e))?;
    Ok(Recovery { path: cassette.to_owned(), interactions: recovered.interactions.len(), torn_last_line })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::{Body, Request};

    fn interaction(seq: u64) -> Interaction {
        let request = Request::new("GET", format!("https://a/{seq}"), Vec::new(), Body::default());
        Interaction { t_ms: seq, duration_ms: 1, error: Some("x".into()), ..Interaction::new(seq, request) }
    }

    fn journal_with(n: u64) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json.journal");
        let mut writer = JournalWriter::create(&path, &Meta::default()).unwrap();
        let facts = BTreeMap::from([(
            "sha256:000000000001".to_owned(),
            CredentialFacts { kind: "opaque".into(), profile: None, account: None, store: None },
        )]);
        for seq in 1..=n {
            writer.append(&interaction(seq), &facts).unwrap();
        }
        (dir, path)
    }

    #[test]
    fn journal_path_appends_the_suffix() {
        assert_eq!(journal_path(Path::new("out/c.json")), PathBuf::from("out/c.json.journal"));
    }

    #[test]
    fn every_appended_interaction_is_on_disk_at_once() {
        let (_dir, path) = journal_with(3);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 4);
        let journaled = parse(&path, text.as_bytes()).unwrap();
        assert_eq!(journaled.cassette.interactions.len(), 3);
        assert_eq!(journaled.cassette.meta.credentials.len(), 1);
    }

    #[test]
    fn staged_lines_reach_the_file_only_when_flushed() {
        let (_dir, path) = journal_with(0);
        let mut writer = JournalWriter {
            file: OpenOptions::new().append(true).open(&path).unwrap(),
            path: path.clone(),
            written: BTreeSet::new(),
            pending: Vec::new(),
        };
        writer.stage(&interaction(1), &BTreeMap::new()).unwrap();
        writer.stage(&interaction(2), &BTreeMap::new()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        writer.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    #[test]
    fn credential_facts_are_journaled_once() {
        let (_dir, path) = journal_with(2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("sha256:000000000001").count(), 1);
    }

    #[test]
    fn a_torn_last_line_is_dropped() {
        let (_dir, path) = journal_with(2);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 10);
        let journaled = parse(&path, &bytes).unwrap();
        assert_eq!(journaled.cassette.interactions.len(), 1);
        assert!(journaled.torn_last_line);
    }

    #[test]
    fn a_damaged_middle_line_names_its_line() {
        let (_dir, path) = journal_with(3);
        let text = std::fs::read_to_string(&path).unwrap().replacen("\"seq\":2", "\"seq\":", 1);
        let err = parse(&path, text.as_bytes()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("c.json.journal:3:"), "{}", err.message());
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_refused() {
        let err = parse(Path::new("x.journal"), b"{\"format\": \"dispatch-vcr/cassette@1\"}\n").unwrap_err();
        assert!(err.message().contains("x.journal:1:"), "{}", err.message());
    }

    #[test]
    fn an_existing_journal_is_never_overwritten() {
        let (_dir, path) = journal_with(1);
        assert_eq!(
            JournalWriter::create(&path, &Meta::default()).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
    }
}
