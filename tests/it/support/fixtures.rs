//! What tests are made of: the repository's own files ([`root`]), unique
//! values for canaries and names ([`unique`]), fixture tokens
//! ([`chatgpt_jwt`]), files found on disk ([`files_under`]) and the
//! rewrite of a committed file ([`update_committed`]).

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest as _, Sha256};

/// The repository root (where `scenarios/`, `cassettes/` and `docs/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A value no test run shares with another: for canaries and names. The
/// tests share one process, so a counter tells apart calls on other threads
/// that read the clock at the same moment.
pub fn unique(prefix: &str) -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let seed = format!("{nanos}-{}-{call}-{prefix}", std::process::id());
    format!("{prefix}{}", &hex::encode(Sha256::digest(seed.as_bytes()))[..32])
}

/// An unsigned ChatGPT OAuth access token whose account claim is `account`
/// (fixture credentials for the reference dispatcher).
pub fn chatgpt_jwt(account: &str) -> String {
    dispatch_vcr::credential::mint_unsigned_jwt(
        &serde_json::json!({"https://api.openai.com/auth": {"chatgpt_account_id": account}}),
    )
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    files
}

/// Make the committed file at `path` hold `contents` (the `UPDATE_DOCS=1` and
/// `DISPATCH_VCR_RECONSTRUCT=1` rewrites). Tests on other threads of this
/// process may be reading it, so an unchanged file is left alone and a
/// changed one is replaced at once: written beside it under a temporary name
/// (no extension, so no scan for `*.json` sees it) and renamed over it.
pub fn update_committed(path: &Path, contents: impl AsRef<[u8]>) {
    let contents = contents.as_ref();
    if std::fs::read(path).is_ok_and(|committed| committed == contents) {
        return;
    }
    let mut file = tempfile::NamedTempFile::new_in(path.parent().unwrap()).unwrap();
    file.write_all(contents).unwrap();
    file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).unwrap();
    file.persist(path).unwrap();
}
