//! Opening side files, the bodies kept beside a cassette as
//! `CASSETTE.blobs/<sha256>`, so that a cassette can name nothing else.
//!
//! A side file is `FOLDER/FILE` relative to the cassette's directory, where
//! `FOLDER` ends in `.blobs`. Both are opened without following symbolic
//! links (the file relative to the folder's descriptor, so neither can be
//! swapped for a link in between), and without blocking, so a FIFO cannot
//! wedge the reader; what is opened must be a regular file of the recorded
//! length, and its bytes must have the recorded SHA-256. Anything else — a
//! link, a FIFO, a device, a directory, a missing file, another length or
//! digest — is refused, and never more than the recorded length is read.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path};

use rustix::fs::{CWD, Mode, OFlags, openat};
use sha2::{Digest, Sha256};

/// What names a side file's folder.
const FOLDER_SUFFIX: &str = ".blobs";

/// A side file, as a `file` body refers to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SideFile<'a> {
    /// `FOLDER.blobs/FILE`, relative to the cassette's directory.
    pub(crate) name: &'a str,
    /// Its recorded length.
    pub(crate) len: Option<u64>,
    /// Its recorded SHA-256, hex.
    pub(crate) sha256: Option<&'a str>,
}

impl SideFile<'_> {
    /// Check the file in `dir` (the cassette's directory) without keeping its bytes.
    pub(crate) fn verify(&self, dir: &Path) -> Result<(), String> {
        self.read_with(dir, |file, len| {
            let (mut file, mut hasher, mut block) = (file.take(len), Sha256::new(), vec![0; 1 << 16]);
            let mut read = 0;
            loop {
                match file.read(&mut block) {
                    Ok(0) => return Ok((read, hasher.finalize(), ())),
                    Ok(n) => {
                        hasher.update(&block[..n]);
                        read += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("cannot be read: {e}")),
                }
            }
        })
    }

    /// The file's bytes, checked.
    pub(crate) fn read(&self, dir: &Path) -> Result<Vec<u8>, String> {
        self.read_with(dir, |file, len| {
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            file.take(len).read_to_end(&mut bytes).map_err(|e| format!("cannot be read: {e}"))?;
            let digest = Sha256::digest(&bytes);
            Ok((bytes.len() as u64, digest, bytes))
        })
    }

    /// Open the file, check what it is and its length, let `consume` read
    /// up to that length (returning bytes read, digest and result), and
    /// check the digest. Errors say what is wrong with the file.
    fn read_with<T>(
        &self,
        dir: &Path,
        consume: impl FnOnce(File, u64) -> Result<(u64, sha2::digest::Output<Sha256>, T), String>,
    ) -> Result<T, String> {
        let file = self.open(dir)?;
        let meta = file.metadata().map_err(|e| format!("cannot be read: {e}"))?;
        if !meta.file_type().is_file() {
            return Err(format!("is {}, not a regular file", kind(&meta.file_type())));
        }
        let len = self.len.ok_or("has no recorded \"len\"")?;
        if meta.len() != len {
            return Err(format!("is {} bytes long, but the cassette recorded {len}", meta.len()));
        }
        let (read, digest, value) = consume(file, len)?;
        if read != len {
            return Err(format!("ended after {read} of its {len} bytes"));
        }
        let recorded = self.sha256.ok_or("has no recorded \"sha256\"")?;
        if !recorded.eq_ignore_ascii_case(&hex::encode(digest)) {
            return Err("does not match its recorded sha256 (it was changed or replaced)".to_owned());
        }
        Ok(value)
    }

    /// The file, opened without following links or blocking.
    fn open(&self, dir: &Path) -> Result<File, String> {
        let (folder, file) = split(self.name).ok_or_else(|| {
            format!("must be FOLDER{FOLDER_SUFFIX}/FILE, a file directly inside a side-file folder beside the cassette")
        })?;
        let no_follow = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let folder_fd = openat(CWD, dir.join(folder), no_follow | OFlags::DIRECTORY, Mode::empty())
            .map_err(|e| refusal(e, &format!("its folder {folder}")))?;
        let fd = openat(&folder_fd, file, no_follow | OFlags::NONBLOCK, Mode::empty())
            .map_err(|e| refusal(e, "it"))?;
        Ok(File::from(fd))
    }
}

/// `FOLDER.blobs/FILE` split in two; `None` for any other shape.
fn split(name: &str) -> Option<(&str, &str)> {
    let mut components = Path::new(name).components();
    let (Some(Component::Normal(folder)), Some(Component::Normal(file)), None) =
        (components.next(), components.next(), components.next())
    else {
        return None;
    };
    let folder = folder.to_str()?;
    folder.ends_with(FOLDER_SUFFIX).then_some((folder, file.to_str()?))
}

/// Why opening `what` failed, in words.
fn refusal(err: rustix::io::Errno, what: &str) -> String {
    match err {
        rustix::io::Errno::LOOP => {
            format!("is refused: {what} is a symbolic link, which side files never follow")
        }
        // O_DIRECTORY | O_NOFOLLOW on a link to a directory says ENOTDIR.
        rustix::io::Errno::NOTDIR => {
            format!("is refused: {what} is a symbolic link or not a directory, which side files never follow")
        }
        rustix::io::Errno::NOENT => "does not exist".to_owned(),
        _ => format!("cannot be opened: {}", io::Error::from(err)),
    }
}

/// What kind of file `file_type` is, in words.
fn kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BYTES: &[u8] = b"hello";

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    /// A cassette directory with `c.json.blobs/good` holding [`BYTES`].
    fn dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("c.json.blobs")).unwrap();
        std::fs::write(dir.path().join("c.json.blobs/good"), BYTES).unwrap();
        dir
    }

    fn check(dir: &Path, name: &str, len: u64, sha256: &str) -> Result<Vec<u8>, String> {
        let file = SideFile { name, len: Some(len), sha256: Some(sha256) };
        file.verify(dir)?;
        file.read(dir)
    }

    fn refused(dir: &Path, name: &str) -> String {
        check(dir, name, BYTES.len() as u64, &sha(BYTES)).unwrap_err()
    }

    #[test]
    fn a_good_file_reads_back() {
        let dir = dir();
        assert_eq!(check(dir.path(), "c.json.blobs/good", 5, &sha(BYTES)).unwrap(), BYTES);
    }

    #[test]
    fn a_symlink_is_never_followed_even_with_the_right_digest() {
        let dir = dir();
        std::os::unix::fs::symlink(
            dir.path().join("c.json.blobs/good"),
            dir.path().join("c.json.blobs/link"),
        )
        .unwrap();
        assert!(refused(dir.path(), "c.json.blobs/link").contains("symbolic link"));
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("c.json.blobs/zero")).unwrap();
        assert!(refused(dir.path(), "c.json.blobs/zero").contains("symbolic link"));
    }

    #[test]
    fn a_symlinked_folder_is_refused() {
        let dir = dir();
        std::os::unix::fs::symlink(dir.path().join("c.json.blobs"), dir.path().join("x.blobs")).unwrap();
        let why = refused(dir.path(), "x.blobs/good");
        assert!(why.contains("its folder x.blobs is a symbolic link"), "{why}");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = dir();
        let fifo = dir.path().join("c.json.blobs/fifo");
        rustix::fs::mknodat(CWD, &fifo, rustix::fs::FileType::Fifo, Mode::RUSR | Mode::WUSR, 0).unwrap();
        assert_eq!(refused(dir.path(), "c.json.blobs/fifo"), "is a FIFO, not a regular file");
    }

    #[test]
    fn other_places_and_shapes_are_refused() {
        let dir = dir();
        for name in ["good", "c.json.blobs/x/good", "other/good", "../c.json.blobs/good", "/etc/passwd"] {
            assert!(refused(dir.path(), name).contains("must be FOLDER.blobs/FILE"), "{name}");
        }
        assert_eq!(refused(dir.path(), "c.json.blobs/missing"), "does not exist");
    }

    #[test]
    fn length_and_digest_are_checked() {
        let dir = dir();
        let wrong_len = check(dir.path(), "c.json.blobs/good", 4, &sha(BYTES)).unwrap_err();
        assert_eq!(wrong_len, "is 5 bytes long, but the cassette recorded 4");
        let wrong_sha = check(dir.path(), "c.json.blobs/good", 5, &sha(b"other")).unwrap_err();
        assert!(wrong_sha.contains("does not match its recorded sha256"), "{wrong_sha}");
    }
}
