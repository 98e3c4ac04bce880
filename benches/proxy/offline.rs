//! The in-process measurements: leaf minting, `check` over a generated
//! catalogue, and loading a large cassette.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dispatch_vcr::ca::{CertAuthority, LeafIssuer};
use dispatch_vcr::cassette::{self, Cassette};
use dispatch_vcr::scenario::openclaw::OpenClaw;
use dispatch_vcr::scenario::runner;
use serde_json::Value;

use crate::stats::median_us;
use crate::{Fallible, pki};

/// Median µs of minting a leaf for a new host, and of a cache hit.
pub fn leaf_times(home: &Path, samples: usize) -> Fallible<(f64, f64)> {
    let (ca, _) = CertAuthority::init(home, false)?;
    let issuer = LeafIssuer::new(Arc::new(ca))?;
    let mut mint = Vec::with_capacity(samples);
    for i in 0..samples {
        let name = format!("mint-{i}.{}", pki::DOMAIN);
        let started = Instant::now();
        issuer.leaf(&name)?;
        mint.push(started.elapsed());
    }
    // A hit takes about 100 ns, near the clock's resolution: time batches.
    const BATCH: u32 = 1000;
    let mut hits = Vec::with_capacity(samples);
    for i in 0..samples {
        let name = format!("mint-{i}.{}", pki::DOMAIN);
        let started = Instant::now();
        for _ in 0..BATCH {
            std::hint::black_box(issuer.leaf(std::hint::black_box(&name))?);
        }
        hits.push(started.elapsed() / BATCH);
    }
    Ok((median_us(&mut mint), median_us(&mut hits)))
}

/// One `check` run over the shipped catalogue repeated `times` times.
pub struct CheckRun {
    /// How many copies of the shipped catalogue.
    pub times: usize,
    /// Scenario × version cells judged.
    pub cells: usize,
    /// Time to check them and render the report.
    pub took: Duration,
}

impl CheckRun {
    /// Cells judged per second.
    pub fn cells_per_s(&self) -> f64 {
        self.cells as f64 / self.took.as_secs_f64()
    }
}

/// `check` over the shipped scenarios and their real recordings, repeated
/// `times` times, every cell reading its own copy of its cassette (as in a
/// real catalogue: nothing read once serves two cells).
pub fn check_throughput(repo: &Path, scratch: &Path, times: usize) -> Fallible<CheckRun> {
    let dir = generate_catalogue(repo, &scratch.join(format!("catalogue-{times}")), times)?;
    // Written back before the clock starts: the kernel flushing the copies
    // (on the same two cores) is no part of checking them.
    std::process::Command::new("sync").status()?;
    let reference = OpenClaw::shipped()?;
    let started = Instant::now();
    let report = runner::check(std::slice::from_ref(&dir), None, &reference)?;
    let text = dispatch_vcr::report::render(&report, dispatch_vcr::report::Format::Json, false);
    let took = started.elapsed();
    std::hint::black_box(text);
    std::fs::remove_dir_all(dir.parent().ok_or("a catalogue without a parent")?)?;
    let cells = report.scenarios.iter().map(|s| s.cells.len()).sum();
    Ok(CheckRun { times, cells, took })
}

/// Write `times` copies of every shipped scenario into `root/scenarios`, each
/// copy's cassettes copied under `root/cassettes/<copy>/<version>.json`.
fn generate_catalogue(repo: &Path, root: &Path, times: usize) -> Fallible<PathBuf> {
    let shipped_dir = repo.join("scenarios").join("openclaw");
    let scenario_dir = root.join("scenarios").join("openclaw");
    std::fs::create_dir_all(&scenario_dir)?;
    for scenario in shipped_scenarios(repo)? {
        let cassettes = scenario["cassettes"].as_object().cloned().unwrap_or_default();
        for i in 0..times {
            let mut copy = scenario.clone();
            let name = format!("{}-{i:03}", scenario["name"].as_str().unwrap_or("scenario"));
            let cassette_dir = root.join("cassettes").join(&name);
            std::fs::create_dir_all(&cassette_dir)?;
            let mut own = serde_json::Map::new();
            for (version, path) in &cassettes {
                let source = shipped_dir.join(path.as_str().ok_or("a cassette path is not a string")?);
                std::fs::copy(source, cassette_dir.join(format!("{version}.json")))?;
                own.insert(version.clone(), Value::String(format!("../../cassettes/{name}/{version}.json")));
            }
            copy["name"] = Value::String(name.clone());
            copy["cassettes"] = Value::Object(own);
            std::fs::write(scenario_dir.join(format!("{name}.json")), serde_json::to_vec_pretty(&copy)?)?;
        }
    }
    Ok(root.join("scenarios"))
}

fn shipped_scenarios(repo: &Path) -> Fallible<Vec<Value>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo.join("scenarios").join("openclaw"))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    paths.iter().map(|path| Ok(serde_json::from_slice(&std::fs::read(path)?)?)).collect()
}

/// Save a cassette of `count` interactions (copies of the shipped
/// interactions, renumbered) and time loading it: the median of `samples` loads.
pub fn cassette_load(repo: &Path, scratch: &Path, count: usize, samples: usize) -> Fallible<(u64, Duration)> {
    let source = repo.join("cassettes/openclaw/2026.9.5/codex-runtime-binds-oauth-profile.json");
    let shipped = cassette::load(&source)?;
    let mut big = Cassette::new(shipped.meta.clone());
    for seq in 1..=count {
        let mut interaction = shipped.interactions[(seq - 1) % shipped.interactions.len()].clone();
        interaction.seq = seq as u64;
        big.interactions.push(interaction);
    }
    let path = scratch.join(format!("large-cassette-{count}.json"));
    cassette::save(&path, &big)?;
    drop(big);
    let size = std::fs::metadata(&path)?.len();
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        std::hint::black_box(cassette::load(&path)?);
        times.push(started.elapsed());
    }
    times.sort_unstable();
    std::fs::remove_file(&path)?;
    Ok((size, times[times.len() / 2]))
}
