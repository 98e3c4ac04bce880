//! `catalog import PATH`: a release's facts from its plugin manifests, written
//! as that release's band of a catalog file, and what changed against the band
//! before it printed one plain line each (docs/catalog.md).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::dispatch::Catalog;
use crate::dispatch::catalog::FORMAT_V1;
use crate::dispatch::manifest::read_release;
use crate::dispatch::release::Release;
use crate::error::{Error, Result};
use crate::files;

/// Where the shipped bands live, relative to a dispatch-vcr checkout.
pub const SHIPPED_RELEASES: &str = "src/dispatch/releases.json";

/// What `catalog import` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The installed release: a `node_modules/openclaw` folder.
    pub release: PathBuf,
    /// The catalog file to write the band into; `None`: [`SHIPPED_RELEASES`]
    /// in the current folder, which must exist (a dispatch-vcr checkout).
    pub catalog: Option<PathBuf>,
}

/// Import the release, print the changes against the band before it, write
/// its band; 0 on success, 2 for bad input.
pub fn run(options: &Options) -> Result<u8> {
    let target = target(options)?;
    let release = read_release(&options.release)?;
    let (catalog, own) = Catalog::load_file(&target)?;
    let previous = catalog.release_before(&release.version);
    let mut text = release.changes_from(previous).join("\n");
    text.push('\n');
    files::write_stdout(&text)?;
    if own.contains(&release) {
        files::say(format!("band {} in {} is up to date", release.version, target.display()));
        return Ok(0);
    }
    write_band(&target, release.clone())?;
    files::say(format!(
        "wrote band {} ({} providers) to {}",
        release.version,
        release.providers.len(),
        target.display()
    ));
    Ok(0)
}

/// The file to write: `--catalog FILE`, or the checkout's shipped bands.
fn target(options: &Options) -> Result<PathBuf> {
    match &options.catalog {
        Some(path) => {
            files::check_output("--catalog", path, "my-catalog.json")?;
            Ok(path.clone())
        }
        None if Path::new(SHIPPED_RELEASES).is_file() => Ok(PathBuf::from(SHIPPED_RELEASES)),
        None => Err(Error::input(format!(
            "no --catalog FILE given and no {SHIPPED_RELEASES} here: run it in a dispatch-vcr checkout to update \
             the shipped bands, or pass --catalog FILE to write a catalog file that `dispatch plan --catalog FILE` reads"
        ))),
    }
}

/// Put `release` into `path`'s `releases` (replacing the same version, by
/// ascending version), keeping the rest of the file; a new file holds only it.
fn write_band(path: &Path, release: Release) -> Result<()> {
    let mut file = if path.exists() {
        serde_json::from_str::<Map<String, Value>>(&files::read_input(path, "catalog")?)
            .map_err(|e| Error::json(path.display(), &e))?
    } else {
        Map::from_iter([("format".to_owned(), Value::from(FORMAT_V1))])
    };
    let old = file.remove("releases").unwrap_or(Value::Array(Vec::new()));
    let mut releases: Vec<Release> = serde_json::from_value(old)
        .map_err(|e| Error::input(format!("{}: releases: {e}", path.display())))?;
    releases.retain(|r| r.version != release.version);
    releases.push(release);
    releases.sort_by(|a, b| a.version.cmp(&b.version));
    let releases = serde_json::to_value(releases)
        .map_err(|e| Error::runtime(format!("cannot serialise the releases: {e}")))?;
    file.insert("releases".to_owned(), releases);
    let mut text = serde_json::to_string_pretty(&file)
        .map_err(|e| Error::runtime(format!("cannot serialise {}: {e}", path.display())))?;
    text.push('\n');
    files::write_atomically(path, text.as_bytes())
}
