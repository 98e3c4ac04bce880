//! Dispatcher versions and version ranges (placeholder until the reference
//! dispatcher's version module lands; same API: `Version` is `Ord + FromStr +
//! Display`, `VersionRange` is `FromStr` with `contains`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// An OpenClaw calendar version (`2026.5.16-beta.4`) or a semver.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    text: String,
    numbers: Vec<u64>,
    /// `None` for a release; a pre-release sorts before its release.
    pre: Option<Vec<String>>,
}

impl FromStr for Version {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("expected a version like 2026.5.16 or 2026.5.16-beta.4, got {text:?}");
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre.split('.').map(str::to_owned).collect())),
            None => (text, None),
        };
        let numbers =
            core.split('.').map(|n| n.parse::<u64>().map_err(|_| bad())).collect::<Result<Vec<_>, _>>()?;
        if numbers.is_empty() {
            return Err(bad());
        }
        Ok(Self { text: text.to_owned(), numbers, pre })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `>=2026.5.30`, `<2026.5.30`, `=2026.5.12`, or a conjunction `>=A, <B`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    bounds: Vec<(String, Version)>,
}

impl VersionRange {
    /// Whether `version` satisfies every bound.
    pub fn contains(&self, version: &Version) -> bool {
        self.bounds.iter().all(|(op, bound)| match op.as_str() {
            ">=" => version >= bound,
            ">" => version > bound,
            "<=" => version <= bound,
            "<" => version < bound,
            _ => version == bound,
        })
    }
}

impl FromStr for VersionRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bounds = text
            .split(',')
            .map(|part| {
                let part = part.trim();
                let op_len = part.find(|c: char| c.is_ascii_digit()).unwrap_or(part.len());
                let (op, version) = part.split_at(op_len);
                let op = if op.is_empty() { "=" } else { op };
                if ![">=", ">", "<=", "<", "="].contains(&op) {
                    return Err(format!("unknown operator {op:?}"));
                }
                Ok((op.to_owned(), version.parse()?))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self { bounds })
    }
}
