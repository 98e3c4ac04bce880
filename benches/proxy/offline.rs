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

/// Versions the generated scenarios are checked at (shipped cassettes fill them).
const VERSIONS: [&str; 5] = ["2026.4.9", "2026.5.6", "2026.5.12", "2026.5.16-beta.4", "2026.9.5"];

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

/// `check` over `scenarios × 5` cells generated from the shipped scenarios:
/// the number of cells and the time to check them and render the report.
pub fn check_throughput(repo: &Path, scratch: &Path, scenarios: usize) -> Fallible<(usize, Duration)> {
    let dir = generate_catalogue(repo, scratch, scenarios)?;
    let reference = OpenClaw::shipped()?;
    let started = Instant::now();
    let report = runner::check(&[dir], None, &reference)?;
    let text = dispatch_vcr::report::render(&report, dispatch_vcr::report::Format::Json, false);
    let elapsed = started.elapsed();
    std::hint::black_box(text);
    let cells = report.scenarios.iter().map(|s| s.cells.len()).sum();
    Ok((cells, elapsed))
}

/// Write `count` scenarios into `scratch/catalogue/scenarios`, each a shipped
/// scenario under a new name with a cassette at each of [`VERSIONS`] (the
/// shipped cassettes of that scenario, reused for versions it lacks).
fn generate_catalogue(repo: &Path, scratch: &Path, count: usize) -> Fallible<PathBuf> {
    let root = scratch.join("catalogue");
    let scenario_dir = root.join("scenarios").join("openclaw");
    std::fs::create_dir_all(&scenario_dir)?;
    copy_tree(&repo.join("cassettes"), &root.join("cassettes"))?;
    let shipped = shipped_scenarios(repo)?;
    for i in 0..count {
        let mut scenario = shipped[i % shipped.len()].clone();
        let name = format!("{}-{i:04}", scenario["name"].as_str().unwrap_or("scenario"));
        let cassettes = scenario["cassettes"].as_object().cloned().unwrap_or_default();
        let fallback = cassettes.values().next_back().cloned().ok_or("a shipped scenario has no cassette")?;
        let mut spread = serde_json::Map::new();
        for version in VERSIONS {
            spread.insert(version.to_owned(), cassettes.get(version).cloned().unwrap_or(fallback.clone()));
        }
        scenario["name"] = Value::String(name.clone());
        scenario["cassettes"] = Value::Object(spread);
        if let Some(known) = scenario.get_mut("known_failures").and_then(Value::as_object_mut) {
            known.retain(|version, _| VERSIONS.contains(&version.as_str()));
        }
        std::fs::write(scenario_dir.join(format!("{name}.json")), serde_json::to_vec_pretty(&scenario)?)?;
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

fn copy_tree(from: &Path, to: &Path) -> Fallible<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().ok_or("a path without a name")?);
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
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
    let path = scratch.join("large-cassette.json");
    cassette::save(&path, &big)?;
    let size = std::fs::metadata(&path)?.len();
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        std::hint::black_box(cassette::load(&path)?);
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok((size, times[times.len() / 2]))
}
