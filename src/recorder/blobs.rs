//! Side files: bodies too large to live inside the cassette, kept as
//! `CASSETTE.blobs/<sha256>` beside it and referenced as
//! `{"file": "CASSETTE.blobs/<sha256>", "sha256", "len"}` (docs/cassette.md).
//!
//! The proxy writes such a body to a temporary file while it streams
//! ([`SpilledBody`]). [`keep`] redacts it as any body is redacted — its
//! token-shaped values are learned, every secret seen so far is replaced —
//! reading it block by block so memory stays bounded, names it by the SHA-256
//! of what remains, and moves it into place. At the end of a recording
//! [`rescrub`] checks every side file once more against secrets first seen
//! later, as the interactions themselves are scrubbed again.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use memchr::memmem;
use sha2::{Digest, Sha256};

use super::redact::{Needle, Redactor};
use crate::cassette::model::{Body, BodyContent, Cassette};
use crate::exchange::SpilledBody;

/// How much of a side file is read at a time.
const BLOCK: usize = 1 << 20;
/// What each block carries over from the one before, so a token or secret
/// across a block boundary is still seen whole. JWTs, the longest tokens
/// found by shape, stay under 16 KiB.
const OVERLAP: usize = 32 << 10;

/// `CASSETTE.blobs`: the folder of `cassette`'s side files.
pub(super) fn blobs_dir(cassette: &Path) -> PathBuf {
    let mut name = cassette.as_os_str().to_owned();
    name.push(".blobs");
    PathBuf::from(name)
}

/// Keep `spill` as a side file of the cassette at `cassette`, redacted; the
/// body that refers to it.
pub(crate) fn keep(redactor: &mut Redactor, cassette: &Path, spill: SpilledBody) -> io::Result<Body> {
    let scanned = scan(redactor, spill.open()?, true)?;
    let dir = blobs_dir(cassette);
    std::fs::create_dir_all(&dir)?;
    let (sha256, len) = if scanned.holds_secret {
        let rewritten = rewrite(redactor, spill.open()?, spill.dir())?;
        place(&dir, &rewritten.sha256, |target| rewritten.file.persist(target).map_err(|e| e.error))?;
        (rewritten.sha256, rewritten.len)
    } else {
        place(&dir, &scanned.sha256, |target| spill.persist(target))?;
        (scanned.sha256, scanned.len)
    };
    Ok(file_body(cassette, sha256, len))
}

/// Check every side file of `cassette` (saved at `path`) against the
/// secrets seen so far and rewrite those that hold one, under their new
/// name. Returns the files no longer referenced, for the caller to remove
/// once the cassette that stops referring to them is saved.
pub(crate) fn rescrub(
    redactor: &mut Redactor,
    path: &Path,
    cassette: &mut Cassette,
) -> io::Result<Vec<PathBuf>> {
    let base = path.parent().unwrap_or_else(|| Path::new(""));
    let mut checked: HashMap<String, Body> = HashMap::new();
    let mut stale = Vec::new();
    let bodies = cassette
        .interactions
        .iter_mut()
        .flat_map(|i| std::iter::once(&mut i.request.body).chain(i.response.as_mut().map(|r| &mut r.body)));
    for body in bodies {
        let BodyContent::File(name) = &body.content else { continue };
        if let Some(done) = checked.get(name) {
            *body = done.clone();
            continue;
        }
        let old = base.join(name);
        let name = name.clone();
        if scan(redactor, File::open(&old)?, false)?.holds_secret {
            let dir = blobs_dir(path);
            let rewritten = rewrite(redactor, File::open(&old)?, &dir)?;
            place(&dir, &rewritten.sha256, |target| rewritten.file.persist(target).map_err(|e| e.error))?;
            *body = file_body(path, rewritten.sha256, rewritten.len);
            stale.push(old);
        }
        checked.insert(name, body.clone());
    }
    Ok(stale)
}

/// The body referring to side file `sha256` of `cassette`.
fn file_body(cassette: &Path, sha256: String, len: u64) -> Body {
    let dir_name =
        blobs_dir(cassette).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Body {
        content: BodyContent::File(format!("{dir_name}/{sha256}")),
        decoded_from: None,
        sha256: Some(sha256),
        len: Some(len),
    }
}

/// Move a file into `dir/sha256` with `persist`, unless an identical body
/// is there already (then the file is simply dropped, which deletes it).
fn place(dir: &Path, sha256: &str, persist: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    let target = dir.join(sha256);
    if target.exists() {
        return Ok(());
    }
    persist(&target)
}

/// What one read of a side file found.
struct Scanned {
    /// It holds a secret seen before or a token-shaped value.
    holds_secret: bool,
    sha256: String,
    len: u64,
}

/// Read `file` block by block: learn its token-shaped values (when
/// `learn`), look for every secret seen so far, and digest it.
fn scan(redactor: &mut Redactor, mut file: impl Read, learn: bool) -> io::Result<Scanned> {
    let needles = redactor.needles();
    let mut window = Vec::with_capacity(BLOCK + OVERLAP);
    let (mut hasher, mut len, mut holds_secret) = (Sha256::new(), 0u64, false);
    loop {
        let before = window.len();
        if read_block(&mut file, &mut window)? == 0 {
            break;
        }
        hasher.update(&window[before..]);
        len += (window.len() - before) as u64;
        if learn && redactor.learn_from(&window) {
            holds_secret = true;
        }
        holds_secret = holds_secret || needles.iter().any(|n| memmem::find(&window, &n.form).is_some());
        window.drain(..window.len().saturating_sub(OVERLAP));
    }
    Ok(Scanned { holds_secret, sha256: hex::encode(hasher.finalize()), len })
}

/// A redacted copy of a side file, not yet in place.
struct Rewritten {
    file: tempfile::TempPath,
    sha256: String,
    len: u64,
}

/// Copy `source` with every secret seen so far replaced by its marker, into
/// a new file in `dir`.
fn rewrite(redactor: &mut Redactor, mut source: impl Read, dir: &Path) -> io::Result<Rewritten> {
    let needles = redactor.needles();
    // A match that starts before the end of what is written out must lie whole in the window.
    let longest = needles.iter().map(|n| n.form.len()).max().unwrap_or(1);
    let mut out = Digesting::new(tempfile::Builder::new().prefix(".redacted-").tempfile_in(dir)?);
    let mut window = Vec::with_capacity(BLOCK + longest);
    let mut replaced: Vec<&str> = Vec::new();
    loop {
        let end = read_block(&mut source, &mut window)? == 0;
        let commit = if end { window.len() } else { window.len().saturating_sub(longest - 1) };
        let mut at = 0;
        while let Some((start, needle)) = earliest(&window, at, commit, &needles) {
            out.write_all(&window[at..start])?;
            out.write_all(&needle.marker)?;
            replaced.push(&needle.secret);
            at = start + needle.form.len();
        }
        if at < commit {
            out.write_all(&window[at..commit])?;
            at = commit;
        }
        window.drain(..at);
        if end {
            break;
        }
    }
    for secret in replaced {
        redactor.credit(secret);
    }
    let (file, sha256, len) = out.finish()?;
    Ok(Rewritten { file, sha256, len })
}

/// The first needle found in `window[from..]` starting before `before`;
/// the longest one when several start at the same place.
fn earliest<'n>(
    window: &[u8],
    from: usize,
    before: usize,
    needles: &'n [Needle],
) -> Option<(usize, &'n Needle)> {
    needles
        .iter()
        .filter_map(|needle| memmem::find(&window[from..], &needle.form).map(|i| (from + i, needle)))
        .filter(|(start, _)| *start < before)
        // Needles come longest first and `min_by_key` keeps the first of equals.
        .min_by_key(|(start, _)| *start)
}

/// Append up to [`BLOCK`] bytes of `file` to `window`; how many.
fn read_block(file: &mut impl Read, window: &mut Vec<u8>) -> io::Result<usize> {
    let limit = u64::try_from(BLOCK).unwrap_or(u64::MAX);
    file.take(limit).read_to_end(window)
}

/// A temporary file that digests what is written to it.
struct Digesting {
    file: BufWriter<tempfile::NamedTempFile>,
    hasher: Sha256,
    len: u64,
}

impl Digesting {
    fn new(file: tempfile::NamedTempFile) -> Self {
        Self { file: BufWriter::with_capacity(BLOCK, file), hasher: Sha256::new(), len: 0 }
    }

    fn finish(self) -> io::Result<(tempfile::TempPath, String, u64)> {
        let file = self.file.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok((file.into_temp_path(), hex::encode(self.hasher.finalize()), self.len))
    }
}

impl Write for Digesting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::{Interaction, Request, Response};
    use crate::credential::redaction_marker;

    const SECRET: &str = "sk-proj-blobsecret000000000001";

    fn spill(dir: &Path, bytes: &[u8]) -> SpilledBody {
        let mut writer = crate::exchange::SpillWriter::create(dir).unwrap();
        writer.write(bytes).unwrap();
        writer.finish().unwrap()
    }

    fn side_file(cassette: &Path, body: &Body) -> Vec<u8> {
        let BodyContent::File(name) = &body.content else { panic!("{body:?}") };
        std::fs::read(cassette.parent().unwrap().join(name)).unwrap()
    }

    /// A body larger than one block, with `insert` placed across the first block boundary.
    fn large_with(insert: &str) -> Vec<u8> {
        let mut bytes = vec![b'.'; BLOCK + 4096];
        let at = BLOCK - insert.len() / 2;
        bytes[at..at + insert.len()].copy_from_slice(insert.as_bytes());
        bytes
    }

    #[test]
    fn a_clean_body_is_moved_under_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("run.json");
        let bytes = large_with("nothing secret here");
        let body = keep(&mut Redactor::default(), &cassette, spill(dir.path(), &bytes)).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));
        assert_eq!(body.content, BodyContent::File(format!("run.json.blobs/{sha}")));
        assert_eq!((body.sha256.as_deref(), body.len), (Some(sha.as_str()), Some(bytes.len() as u64)));
        assert_eq!(side_file(&cassette, &body), bytes);
        assert_eq!(body.wire_bytes(dir.path()).unwrap().len(), bytes.len(), "the loader's checks agree");
    }

    #[test]
    fn a_token_across_a_block_boundary_is_learned_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("run.json");
        let mut redactor = Redactor::default();
        let body = keep(&mut redactor, &cassette, spill(dir.path(), &large_with(SECRET))).unwrap();
        let kept = String::from_utf8(side_file(&cassette, &body)).unwrap();
        assert!(!kept.contains(SECRET));
        assert!(kept.contains(&redaction_marker(SECRET)));
        assert_eq!(redactor.seen_secrets(), [SECRET]);
        assert_eq!(body.sha256.unwrap(), hex::encode(Sha256::digest(kept.as_bytes())));
        assert_eq!(redactor.credentials().len(), 1);
    }

    #[test]
    fn a_secret_seen_before_is_replaced_even_when_not_token_shaped() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("run.json");
        let mut redactor = Redactor::default();
        assert!(!redactor.learn_from(b"plain words"));
        // A cookie value: learned by position elsewhere, not by shape.
        let mut interaction =
            Interaction::new(1, Request::new("GET", "https://a.example/", Vec::new(), Body::default()));
        interaction.request.headers.push(("cookie".into(), "sid=opaque-cookie-value-42".into()));
        redactor.redact(&mut interaction);
        let body =
            keep(&mut redactor, &cassette, spill(dir.path(), &large_with("opaque-cookie-value-42"))).unwrap();
        assert!(!String::from_utf8(side_file(&cassette, &body)).unwrap().contains("opaque-cookie-value-42"));
    }

    #[test]
    fn identical_bodies_share_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("run.json");
        let mut redactor = Redactor::default();
        let first = keep(&mut redactor, &cassette, spill(dir.path(), b"same bytes")).unwrap();
        let second = keep(&mut redactor, &cassette, spill(dir.path(), b"same bytes")).unwrap();
        assert_eq!(first, second);
        assert_eq!(std::fs::read_dir(blobs_dir(&cassette)).unwrap().count(), 1);
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".spill-"));
        assert_eq!(leftovers.count(), 0, "the second spill file is gone");
    }

    #[test]
    fn rescrub_rewrites_a_side_file_holding_a_secret_seen_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        let mut redactor = Redactor::default();
        let late = "opaque-late-secret-0042";
        let body = keep(&mut redactor, &path, spill(dir.path(), format!("x {late} y").as_bytes())).unwrap();
        let mut cassette = Cassette::new(Default::default());
        for _ in 0..2 {
            let mut interaction =
                Interaction::new(1, Request::new("GET", "https://a.example/", Vec::new(), Body::default()));
            interaction.response = Some(Response { status: 200, headers: Vec::new(), body: body.clone() });
            cassette.interactions.push(interaction);
        }
        let mut later =
            Interaction::new(1, Request::new("GET", "https://a.example/", Vec::new(), Body::default()));
        later.request.headers.push(("x-api-key".into(), late.into()));
        redactor.redact(&mut later);
        let stale = rescrub(&mut redactor, &path, &mut cassette).unwrap();
        let bodies: Vec<&Body> =
            cassette.interactions.iter().map(|i| &i.response.as_ref().unwrap().body).collect();
        assert_ne!(bodies[0], &body);
        assert_eq!(bodies[0], bodies[1], "both references follow the rewritten file");
        assert_eq!(
            String::from_utf8(side_file(&path, bodies[0])).unwrap(),
            format!("x {} y", redaction_marker(late))
        );
        assert_eq!(
            stale,
            [dir.path().join(match &body.content {
                BodyContent::File(name) => name.clone(),
                _ => unreachable!(),
            })]
        );
    }
}
