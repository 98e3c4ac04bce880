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
use std::collections::hash_map::Entry as Slot;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, Write};
use std::os::unix::fs::OpenOptionsExt as _;
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
        // 0600: until the recording finishes, the journal is the only copy of what it holds.
        let file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
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

    /// Write the journal anew from `interactions` (the whole recording so
    /// far), dropping what it held and anything staged: after a secret is
    /// learned late, the lines written before it was known must not keep it.
    /// The new file (0600, from [`tempfile`]) replaces the old one in one rename.
    pub fn rewrite(
        &mut self,
        meta: &Meta,
        interactions: &[Interaction],
        credentials: &BTreeMap<String, CredentialFacts>,
    ) -> io::Result<()> {
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let temp = tempfile::Builder::new().prefix(".journal-").tempfile_in(dir)?;
        let mut fresh = Self {
            file: temp.reopen()?,
            path: self.path.clone(),
            written: BTreeSet::new(),
            pending: Vec::new(),
        };
        fresh.stage_line(&Header { format: Cow::Borrowed(JOURNAL_FORMAT), meta: Cow::Borrowed(meta) })?;
        for interaction in interactions {
            fresh.stage(interaction, credentials)?;
        }
        fresh.flush()?;
        fresh.file = temp.persist(&self.path).map_err(|e| e.error)?;
        fresh.file.seek(io::SeekFrom::End(0))?;
        *self = fresh;
        Ok(())
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
    /// One line per journal line left out (`FILE:LINE: …`): damaged, not a
    /// valid interaction, or repeating a `seq` already read.
    pub skipped: Vec<String>,
}

/// Read the journal at `path` (its text is `bytes`).
///
/// A last line that does not parse is a write cut short and is dropped. Any
/// other line that is damaged, holds an interaction a cassette may not
/// hold, or repeats a `seq` is left out and named in
/// [`Journaled::skipped`], so that what is read always makes a cassette
/// that loads: interactions in `seq` order, each `seq` once (the first). A
/// file that is not a journal is an error naming `path:1` (exit 2).
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
    let mut journaled = Journaled {
        cassette: Cassette::new(header.meta.into_owned()),
        torn_last_line: false,
        skipped: Vec::new(),
    };
    let mut line_of_seq = HashMap::new();
    for (index, line) in entries.iter().enumerate() {
        let at = format!("{}:{}", path.display(), index + 2);
        let entry = match serde_json::from_slice::<Entry>(line) {
            Ok(entry) => entry,
            Err(_) if index + 1 == entries.len() => {
                journaled.torn_last_line = true;
                continue;
            }
            Err(e) => {
                let why = crate::error::json_message(&e);
                journaled.skipped.push(format!("{at}:{}: skipped a damaged line: {why}", e.column()));
                continue;
            }
        };
        let interaction = entry.interaction.into_owned();
        if let Err(why) = check_entry(&interaction, &mut line_of_seq, index + 2) {
            journaled.skipped.push(format!("{at}: skipped: {why}"));
            continue;
        }
        journaled.cassette.meta.credentials.extend(entry.credentials.into_owned());
        journaled.cassette.interactions.push(interaction);
    }
    journaled.cassette.interactions.sort_by_key(|i| i.seq);
    super::load::validate(&journaled.cassette)
        .map_err(|e| Error::input(format!("{}: {e} (the journal is damaged)", path.display())))?;
    Ok(journaled)
}

/// Why a journaled `interaction` (on `line`) cannot go into the cassette;
/// records its `seq` as taken otherwise.
fn check_entry(
    interaction: &Interaction,
    line_of_seq: &mut HashMap<u64, usize>,
    line: usize,
) -> Result<(), String> {
    let seq = interaction.seq;
    if seq == 0 {
        return Err("seq 0 (seq numbers start at 1)".to_owned());
    }
    super::load::validate_interaction(interaction).map_err(|e| format!("interaction{e}"))?;
    match line_of_seq.entry(seq) {
        Slot::Occupied(first) => Err(format!("seq {seq} again (kept the one on line {})", first.get())),
        Slot::Vacant(slot) => {
            slot.insert(line);
            Ok(())
        }
    }
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
    /// The journal lines left out, each `FILE:LINE: why` ([`Journaled::skipped`]).
    pub skipped: Vec<String>,
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
    remove_stray_spills(cassette);
    let journal = journal_path(cassette);
    let bytes = std::fs::read(&journal).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::input(format!(
            "{}: no journal to recover (a recording to {} leaves one only while it runs or when it was interrupted)",
            journal.display(),
            cassette.display()
        )),
        _ => Error::io("read", &journal, &e),
    })?;
    let Journaled { cassette: recovered, torn_last_line, skipped } = parse(&journal, &bytes)?;
    super::save::save_checked(cassette, &recovered, &[])?;
    std::fs::remove_file(&journal).map_err(|e| Error::io("remove", &journal, &e))?;
    let interactions = recovered.interactions.len();
    Ok(Recovery { path: cassette.to_owned(), interactions, torn_last_line, skipped })
}

/// Remove the spill files an interrupted recording left in the folder of
/// `cassette`, saying so on stderr: nothing can be read from them or
/// recovered with them (see [`crate::exchange::spill`]).
pub fn remove_stray_spills(cassette: &Path) {
    let dir = match cassette.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    for path in crate::exchange::spill::remove_strays(dir) {
        crate::files::write_stderr(&format!(
            "removed {}: a temporary body file left by an interrupted recording \
             (encrypted under a key that died with it, or a half-made side file: not part of any cassette)\n",
            path.display()
        ));
    }
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

    /// A writer appending to the journal at `path` (its header already written).
    fn appending(path: &Path) -> JournalWriter {
        JournalWriter {
            file: OpenOptions::new().append(true).open(path).unwrap(),
            path: path.to_owned(),
            written: BTreeSet::new(),
            pending: Vec::new(),
        }
    }

    #[test]
    fn staged_lines_reach_the_file_only_when_flushed() {
        let (_dir, path) = journal_with(0);
        let mut writer = appending(&path);
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
    fn a_damaged_middle_line_is_skipped_and_named() {
        let (_dir, path) = journal_with(3);
        let text = std::fs::read_to_string(&path).unwrap().replacen("\"seq\":2", "\"seq\":", 1);
        let journaled = parse(&path, text.as_bytes()).unwrap();
        let seqs: Vec<u64> = journaled.cassette.interactions.iter().map(|i| i.seq).collect();
        assert_eq!(seqs, [1, 3], "the lines after it are kept");
        assert_eq!(journaled.skipped.len(), 1);
        assert!(journaled.skipped[0].contains("c.json.journal:3:"), "{:?}", journaled.skipped);
        assert!(!journaled.torn_last_line);
    }

    #[test]
    fn a_repeated_seq_keeps_the_first_and_the_order_is_by_seq() {
        let (_dir, path) = journal_with(0);
        let mut writer = appending(&path);
        let mut again = interaction(2);
        again.t_ms = 99;
        for entry in [interaction(2), interaction(1), again, interaction(0)] {
            writer.append(&entry, &BTreeMap::new()).unwrap();
        }
        let journaled = parse(&path, &std::fs::read(&path).unwrap()).unwrap();
        let kept: Vec<(u64, u64)> = journaled.cassette.interactions.iter().map(|i| (i.seq, i.t_ms)).collect();
        assert_eq!(kept, [(1, 1), (2, 2)]);
        assert!(journaled.skipped[0].ends_with(":4: skipped: seq 2 again (kept the one on line 2)"));
        assert!(journaled.skipped[1].contains(":5: skipped: seq 0"));
        let text = crate::cassette::save::to_json(&journaled.cassette).unwrap();
        assert!(crate::cassette::parse(&path, text.as_bytes()).is_ok(), "what is recovered loads");
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_refused() {
        let err = parse(Path::new("x.journal"), b"{\"format\": \"dispatch-vcr/cassette@1\"}\n").unwrap_err();
        assert!(err.message().contains("x.journal:1:"), "{}", err.message());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A valid journal of three interactions, one credential.
        fn valid() -> Vec<u8> {
            let (_dir, path) = journal_with(3);
            std::fs::read(path).unwrap()
        }

        /// Parsing never panics; it gives a cassette that saves and loads
        /// back, or an input error (exit 2).
        fn parses_into_a_loadable_cassette_or_exit_2(bytes: &[u8]) -> std::result::Result<(), TestCaseError> {
            let path = Path::new("c.json.journal");
            match parse(path, bytes) {
                Ok(journaled) => {
                    let text = crate::cassette::save::to_json(&journaled.cassette).unwrap();
                    let loaded = crate::cassette::parse(Path::new("c.json"), text.as_bytes());
                    prop_assert!(loaded.is_ok(), "{:?}", loaded.err().map(|e| e.message().to_owned()));
                }
                Err(err) => prop_assert_eq!(err.exit_code(), 2, "{}", err.message()),
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                parses_into_a_loadable_cassette_or_exit_2(&bytes)?;
            }

            #[test]
            fn byte_mutations_and_truncations(at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
                let mut bytes = valid();
                let at = at.index(bytes.len());
                if cut { bytes.truncate(at) } else { bytes[at] = byte }
                parses_into_a_loadable_cassette_or_exit_2(&bytes)?;
            }

            #[test]
            fn replaced_and_repeated_lines(
                line in 1..4usize,
                with in "[ -~]{0,80}",
                repeat in any::<bool>(),
            ) {
                let text = String::from_utf8(valid()).unwrap();
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                if repeat {
                    let copy = lines[line].clone();
                    lines.insert(line, copy);
                } else {
                    lines[line] = with;
                }
                parses_into_a_loadable_cassette_or_exit_2(lines.join("\n").as_bytes())?;
            }
        }
    }

    #[test]
    fn the_journal_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_dir, path) = journal_with(0);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
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
