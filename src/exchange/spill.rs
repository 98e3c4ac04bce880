//! Bodies too large for memory, kept in a file while they stream, in a form
//! that is harmless whenever the process dies.
//!
//! A spill file has no name (an unlinked temporary file, mode 0600), so a
//! `kill -9` leaves nothing behind, and what it holds is sealed with
//! AES-256-GCM under a key drawn for that file and kept only in memory: the
//! disk blocks it used, or a copy taken while it ran, give nothing away.
//! The file is a sequence of records, each `u32` (little-endian) ciphertext
//! length, then the ciphertext and its tag, sealed with the record's index
//! as nonce: a key never sees a nonce twice, and records cannot be
//! reordered or swapped.
//!
//! Persisting a body decrypts it into a named temporary file beside the
//! spill (`.spill-<pid>-…`) that is renamed into place; a run killed during
//! that copy leaves the temporary file, which [`remove_strays`] clears on
//! the next start.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom as _, SystemRandom};

/// How the names of the temporary files of spilled bodies start.
pub const SPILL_PREFIX: &str = ".spill-";

/// Plaintext bytes per sealed record: fewer, larger writes.
const RECORD: usize = 256 << 10;

/// Bytes before a record's ciphertext: its length.
const HEADER: usize = 4;

/// A body being written to a spill file.
pub struct SpillWriter {
    body: SpilledBody,
    /// Plaintext not sealed yet.
    pending: Vec<u8>,
}

impl SpillWriter {
    /// A new, empty spill file in `dir`, under a new key.
    pub fn create(dir: &Path) -> io::Result<Self> {
        let file = tempfile::tempfile_in(dir)?;
        let mut key = [0u8; 32];
        SystemRandom::new().fill(&mut key).map_err(|_| io::Error::other("no randomness for a spill key"))?;
        let key = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| io::Error::other("bad spill key"))?;
        let body = SpilledBody {
            file: Arc::new(file),
            key: Arc::new(LessSafeKey::new(key)),
            dir: dir.into(),
            records: 0,
            stored: 0,
            len: 0,
        };
        Ok(Self { body, pending: Vec::with_capacity(RECORD) })
    }

    /// Add `data` to the body.
    pub fn write(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let take = data.len().min(RECORD - self.pending.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == RECORD {
                self.seal_pending()?;
            }
        }
        Ok(())
    }

    /// Seal what is pending and hand over the body.
    pub fn finish(mut self) -> io::Result<SpilledBody> {
        self.seal_pending()?;
        Ok(self.body)
    }

    fn seal_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut record = std::mem::replace(&mut self.pending, Vec::with_capacity(RECORD));
        self.body.seal(&mut record)
    }
}

/// A body too large to hold in memory: the proxy wrote it, bytes exactly as
/// on the wire, to a spill file while it streamed (see
/// [`super::Tap::spill_dir`]), encrypted under a key that only this value
/// (and its clones) holds. [`SpilledBody::open`] reads it back; the file is
/// gone when the last clone is dropped.
#[derive(Clone)]
pub struct SpilledBody {
    file: Arc<File>,
    key: Arc<LessSafeKey>,
    /// Where it was spilled; [`SpilledBody::persist`] copies through it.
    dir: Arc<Path>,
    /// Records sealed so far: the nonce of the next one.
    records: u64,
    /// Bytes in the file.
    stored: u64,
    /// Length of the body in bytes.
    pub len: u64,
}

impl SpilledBody {
    /// The body, decrypted as it is read.
    pub fn open(&self) -> io::Result<impl Read + use<>> {
        Ok(SpillReader {
            file: self.file.clone(),
            key: self.key.clone(),
            end: self.stored,
            offset: 0,
            record: 0,
            plain: Vec::new(),
            at: 0,
        })
    }

    /// The folder the body was spilled in (spill files themselves have no name).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Add `data` at the end of the body.
    pub fn append(&mut self, data: &[u8]) -> io::Result<()> {
        data.chunks(RECORD).try_for_each(|chunk| self.seal(&mut chunk.to_vec()))
    }

    /// Write the body, decrypted, to `to` (on the file system of
    /// [`SpilledBody::dir`]): through a temporary file renamed into place,
    /// so `to` is whole or absent.
    pub fn persist(self, to: &Path) -> io::Result<()> {
        let prefix = format!("{SPILL_PREFIX}{}-", std::process::id());
        let mut copy = tempfile::Builder::new().prefix(&prefix).tempfile_in(&self.dir)?;
        io::copy(&mut self.open()?, copy.as_file_mut())?;
        copy.persist(to).map(drop).map_err(|err| err.error)
    }

    /// Seal `plain` as the next record and write it at the end of the file.
    fn seal(&mut self, plain: &mut Vec<u8>) -> io::Result<()> {
        let len = plain.len() as u64;
        self.key
            .seal_in_place_append_tag(nonce(self.records), Aad::empty(), plain)
            .map_err(|_| io::Error::other("cannot encrypt a spilled body"))?;
        let header = u32::try_from(plain.len()).map_err(io::Error::other)?.to_le_bytes();
        self.file.write_all_at(&header, self.stored)?;
        self.file.write_all_at(plain, self.stored + HEADER as u64)?;
        self.stored += (HEADER + plain.len()) as u64;
        self.records += 1;
        self.len += len;
        Ok(())
    }
}

impl std::fmt::Debug for SpilledBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpilledBody").field("dir", &self.dir).field("len", &self.len).finish_non_exhaustive()
    }
}

impl PartialEq for SpilledBody {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.file, &other.file) && self.len == other.len
    }
}

impl Eq for SpilledBody {}

/// The nonce of record `index`.
fn nonce(index: u64) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&index.to_be_bytes());
    Nonce::assume_unique_for_key(bytes)
}

/// Reads a spilled body, one record at a time.
struct SpillReader {
    file: Arc<File>,
    key: Arc<LessSafeKey>,
    /// Bytes of the file written when the reader was opened.
    end: u64,
    offset: u64,
    record: u64,
    /// The current record, decrypted; `plain[at..]` is still to be read.
    plain: Vec<u8>,
    at: usize,
}

impl SpillReader {
    /// Decrypt the next record into `plain`; false at the end.
    fn next_record(&mut self) -> io::Result<bool> {
        if self.offset >= self.end {
            return Ok(false);
        }
        let mut header = [0u8; HEADER];
        self.file.read_exact_at(&mut header, self.offset)?;
        let len = u32::from_le_bytes(header) as usize;
        self.plain.resize(len, 0);
        self.file.read_exact_at(&mut self.plain, self.offset + HEADER as u64)?;
        let opened = self
            .key
            .open_in_place(nonce(self.record), Aad::empty(), &mut self.plain)
            .map_err(|_| io::Error::other("a spilled body does not decrypt (its file was changed)"))?
            .len();
        self.plain.truncate(opened);
        (self.offset, self.record, self.at) = (self.offset + (HEADER + len) as u64, self.record + 1, 0);
        Ok(true)
    }
}

impl Read for SpillReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.plain.len() {
            if !self.next_record()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.plain.len() - self.at);
        buf[..n].copy_from_slice(&self.plain[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Remove the spill files in `dir` left by runs that are no longer running
/// (killed while copying a body into place, or by a version whose spill
/// files had names), and return their paths. Files of a live process are
/// left alone.
pub fn remove_strays(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.file_name().and_then(OsStr::to_str).is_some_and(is_stray))
        .filter(|path| std::fs::remove_file(path).is_ok())
        .collect()
}

/// Whether a file named `name` is a spill file no live process owns.
fn is_stray(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(SPILL_PREFIX) else { return false };
    let owner = rest.split_once('-').and_then(|(pid, _)| pid.parse::<libc::pid_t>().ok());
    !owner.is_some_and(is_alive)
}

/// Whether process `pid` exists.
fn is_alive(pid: libc::pid_t) -> bool {
    // SAFETY: kill(2) with signal 0 sends nothing; it only checks that the process exists.
    let sent = unsafe { libc::kill(pid, 0) };
    sent == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spilled(dir: &Path, parts: &[&[u8]]) -> SpilledBody {
        let mut writer = SpillWriter::create(dir).unwrap();
        parts.iter().for_each(|part| writer.write(part).unwrap());
        writer.finish().unwrap()
    }

    fn read_all(body: &SpilledBody) -> Vec<u8> {
        let mut bytes = Vec::new();
        body.open().unwrap().read_to_end(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_body_reads_back_whole_across_records_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![7u8; RECORD * 2 + 5];
        let mut body = spilled(dir.path(), &[b"head ", &big]);
        body.append(b" tail").unwrap();
        let expected = [b"head ".as_slice(), &big, b" tail"].concat();
        assert_eq!(body.len, expected.len() as u64);
        assert_eq!(read_all(&body), expected);
        assert_eq!(read_all(&body.clone()), expected, "clones read it too");
    }

    #[test]
    fn nothing_of_a_spill_is_visible_in_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let body = spilled(dir.path(), &[b"sk-proj-plaintext-never-on-disk"]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the spill file has no name");
        drop(body);
    }

    #[test]
    fn the_file_holds_ciphertext_only() {
        let dir = tempfile::tempdir().unwrap();
        let secret = b"sk-proj-plaintext-never-on-disk";
        let body = spilled(dir.path(), &[secret]);
        let mut raw = Vec::new();
        (&*body.file).read_to_end(&mut raw).unwrap();
        assert_eq!(raw.len(), HEADER + secret.len() + AES_256_GCM.tag_len());
        assert!(memchr::memmem::find(&raw, secret).is_none());
        assert!(memchr::memmem::find(&raw, b"sk-proj").is_none());
    }

    #[test]
    fn persist_writes_the_plaintext_into_place_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let body = spilled(dir.path(), &[b"the body"]);
        let to = dir.path().join("kept");
        body.persist(&to).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"the body");
        assert_eq!(std::fs::metadata(&to).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn a_changed_file_does_not_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let body = spilled(dir.path(), &[b"some bytes"]);
        body.file.write_all_at(b"X", HEADER as u64).unwrap();
        assert!(body.open().unwrap().read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn strays_of_dead_runs_are_removed_and_those_of_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let own = format!("{SPILL_PREFIX}{}-abc", std::process::id());
        for name in [".spill-old", ".spill-999999999-x", own.as_str(), "run.json", ".spillover"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let mut removed: Vec<_> =
            remove_strays(dir.path()).iter().map(|p| p.file_name().unwrap().to_owned()).collect();
        removed.sort();
        assert_eq!(removed, [".spill-999999999-x", ".spill-old"]);
        assert!(dir.path().join(own).exists());
    }
}
