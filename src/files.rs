//! Files the user hands us and files we write: an input file read with an
//! error that names it, JSON parsed with errors at `FILE:LINE:COL: FIELD`,
//! output written atomically (temporary file, fsync, rename) or to stdout,
//! and our own lines on stderr.
//!
//! Every byte a command prints goes through here, never through `print!` or
//! `eprintln!`: those panic when the reader went away (`2>&1 | head -1`,
//! as Rust ignores SIGPIPE), and a reader that stopped reading is no reason
//! to lose a recording or the exit code.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Every `*.json` file under the folder `dir`, at any depth, added to `files`
/// (in the order the folders list them); an unreadable folder is an error naming it.
pub(crate) fn json_files_under(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io("read folder", dir, &e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io("read folder", dir, &e))?.path();
        if path.is_dir() {
            json_files_under(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    Ok(())
}

/// Read the input file `path`, a `what` (`scenario`, `HAR file`, …); a
/// missing, unreadable or empty file is bad input (exit 2) naming it.
pub(crate) fn read_input(path: &Path, what: &str) -> Result<String> {
    let text = fs::read_to_string(path)
        .map_err(|e| Error::input(format!("cannot read {what} {}: {e}", path.display())))?;
    check_not_empty(path, text.as_bytes(), what)?;
    Ok(text)
}

/// An input file with nothing in it (or only whitespace) is said to be
/// empty, rather than failing as JSON at `1:0: EOF while parsing a value`.
pub(crate) fn check_not_empty(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let but = if bytes.is_empty() { "" } else { " but for whitespace" };
    Err(Error::input(format!("{}: the file is empty{but}; it should hold the {what}", path.display())))
}

/// Parse JSON `text` from `origin` into `T`, a type error naming the field's
/// path: `FILE:LINE:COL: FIELD: MESSAGE` (exit 2). Callers check the syntax
/// first (as a `Value`, to read a format key), so this names fields only.
pub(crate) fn parse_json_fields<T: DeserializeOwned>(text: &str, origin: &Path) -> Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let at = format!("{}:{}:{}", origin.display(), inner.line(), inner.column());
        Error::input(format!("{at}: {field}: {}", crate::error::json_message(&inner)))
    })
}

/// Check, before any work, that `flag PATH` names a file that can be written:
/// not a directory, in a directory that exists. Every output flag (`-o`,
/// `--output`, `--record-to`, `--observed`) answers the same mistake the same
/// way: exit 2 naming the flag, with `example` as the file to name instead.
pub(crate) fn check_output(flag: &str, path: &Path, example: &str) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::input(format!("{flag} needs a file name, e.g. {flag} {example}")));
    }
    if path.is_dir() {
        return Err(Error::input(format!(
            "{flag} {}: is a directory; name a file in it, e.g. {flag} {}",
            path.display(),
            path.join(example).display()
        )));
    }
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(Error::input(format!(
            "{flag} {}: directory {} does not exist; create it first",
            path.display(),
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// Write `text` to `output`, or to stdout when `None`.
pub(crate) fn write(output: Option<&Path>, text: &str) -> Result<()> {
    match output {
        Some(path) => write_atomically(path, text.as_bytes()),
        None => write_stdout(text),
    }
}

/// Replace `path` with `bytes` so that it holds either the old or the new
/// content, whatever happens: write a sibling temporary file, fsync it,
/// rename it over `path`, fsync the directory. A `path` that is not a regular
/// file (`-o /dev/null`, a FIFO, `/dev/stdout`) is written into, never replaced.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, None)
}

/// [`write_atomically`], the file created with exactly `mode` (a CA key is
/// 0600 whatever the umask; a trust bundle stays readable by the child).
pub(crate) fn write_atomically_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    replace(path, bytes, Some(mode))
}

fn replace(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    if path.is_dir() {
        // Commands check their flags first (`check_output`); this is the last word.
        return Err(Error::input(format!("{}: is a directory; name a file in it", path.display())));
    }
    if fs::metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        // Renaming over a device or a pipe would put a plain file in its place (`/dev/null`, as root).
        return OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|err| Error::io("write", path, &err));
    }
    let temp = temp_path(path);
    let write = || -> std::io::Result<()> {
        let _ = fs::remove_file(&temp);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        if let Some(mode) = mode {
            options.mode(mode);
        }
        let mut file = options.open(&temp)?;
        if let Some(mode) = mode {
            // The umask may have narrowed `mode`.
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    };
    if let Err(err) = write() {
        // Best effort: the temporary file is ours and useless now.
        let _ = fs::remove_file(&temp);
        return Err(Error::io("write", path, &err));
    }
    // Make the rename itself durable; some file systems cannot sync a directory.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// `dir/.NAME.PID.tmp`: beside the target so the rename stays on one file system.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Write to stdout; a reader that went away (`| head`) is not an error.
pub(crate) fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::runtime(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Write `text` to stderr as it is. Stderr is the last resort, so a failure
/// (a reader that went away, a closed descriptor) is dropped, never a panic.
pub(crate) fn write_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// One message of ours on stderr: `dispatch-vcr: MESSAGE` and a newline.
pub(crate) fn say(message: impl std::fmt::Display) {
    write_stderr(&format!("dispatch-vcr: {message}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_flag_naming_a_directory_is_bad_input_with_a_file_to_name_instead() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_output("--record-to", dir.path(), "observed.json").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let expected = format!(
            "--record-to {}: is a directory; name a file in it, e.g. --record-to {}",
            dir.path().display(),
            dir.path().join("observed.json").display()
        );
        assert_eq!(err.message(), expected);
        assert_eq!(write_atomically(dir.path(), b"x").unwrap_err().exit_code(), 2);
        assert!(check_output("-o", &dir.path().join("no/such/dir/c.json"), "c.json").is_err());
        assert!(check_output("-o", &dir.path().join("c.json"), "c.json").is_ok());
    }

    #[test]
    fn an_output_that_is_not_a_regular_file_is_written_into_not_replaced() {
        use std::os::unix::fs::FileTypeExt as _;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
        };
        write_atomically(&fifo, b"report\n").unwrap();
        // Checked before joining: a replaced FIFO would leave the reader waiting for ever.
        assert!(
            fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
            "the FIFO was replaced by a file"
        );
        assert_eq!(reader.join().unwrap(), "report\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn an_empty_input_is_said_to_be_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (empty, blank) = (dir.path().join("e.json"), dir.path().join("b.json"));
        std::fs::write(&empty, "").unwrap();
        std::fs::write(&blank, " \n\t\n").unwrap();
        let err = read_input(&empty, "scenario").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.message(),
            format!("{}: the file is empty; it should hold the scenario", empty.display())
        );
        let err = read_input(&blank, "catalog").unwrap_err();
        assert!(
            err.message().ends_with(": the file is empty but for whitespace; it should hold the catalog")
        );
        assert!(check_not_empty(&blank, b" {}", "x").is_ok());
    }
}
