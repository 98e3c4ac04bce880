//! Dispatcher versions and version ranges.
//!
//! OpenClaw numbers its releases by calendar (`2026.5.16`, `2026.5.16-beta.4`),
//! which is valid semver, so [`Version`] is a [`semver::Version`] and orders by
//! semver precedence: numeric components compared as numbers, a pre-release
//! below its release, pre-release identifiers compared numerically when both
//! are numbers (`beta.4 < beta.10`) and as text otherwise. Ranges
//! (`>=2026.5.12 <2026.5.30`) select the versions a scenario expectation or a
//! catalog band applies to.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A dispatcher version: `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, e.g. `2026.5.16-beta.4`.
///
/// Derefs to [`semver::Version`], so `version.major` (the year for OpenClaw),
/// `.minor` (the month) and `.patch` (the day) read as fields. Build metadata
/// has no precedence; it is compared last only to keep `Ord` consistent with `Eq`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(semver::Version);

impl Version {
    /// A release version without pre-release or build parts.
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self(semver::Version::new(major, minor, patch))
    }

    /// Whether this is a pre-release (`-beta.4`).
    pub fn is_prerelease(&self) -> bool {
        !self.0.pre.is_empty()
    }
}

impl Deref for Version {
    type Target = semver::Version;

    fn deref(&self) -> &semver::Version {
        &self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a version or range did not parse; the message quotes the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

impl From<ParseError> for crate::Error {
    fn from(err: ParseError) -> Self {
        crate::Error::input(err.0)
    }
}

const VERSION_HINT: &str = "expected a version like 2026.5.16 or 2026.5.16-beta.4";

impl FromStr for Version {
    type Err = ParseError;

    /// Semver, except that leading zeros in numbers are tolerated and dropped
    /// (`2026.05.09` is `2026.5.9`), because calendar versions are sometimes
    /// written that way.
    fn from_str(text: &str) -> Result<Self, ParseError> {
        let bad =
            |why: &dyn fmt::Display| ParseError(format!("invalid version {text:?}: {why} ({VERSION_HINT})"));
        let (rest, build) = text.split_once('+').map_or((text, None), |(rest, build)| (rest, Some(build)));
        let (core, pre) = rest.split_once('-').map_or((rest, None), |(core, pre)| (core, Some(pre)));
        let numeric = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
        if core.split('.').count() != 3 || !core.split('.').all(numeric) {
            return Err(bad(&"needs three numeric components MAJOR.MINOR.PATCH"));
        }
        let core = without_leading_zeros(core);
        let pre = pre.map(|pre| format!("-{}", without_leading_zeros(pre))).unwrap_or_default();
        let build = build.map(|build| format!("+{build}")).unwrap_or_default();
        semver::Version::parse(&format!("{core}{pre}{build}")).map(Self).map_err(|e| bad(&e))
    }
}

/// Drop the leading zeros of each all-digit dot-separated identifier (`05` → `5`).
fn without_leading_zeros(text: &str) -> String {
    text.split('.').map(trim_zeros).collect::<Vec<_>>().join(".")
}

fn trim_zeros(id: &str) -> &str {
    if id.len() < 2 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return id;
    }
    match id.trim_start_matches('0') {
        "" => "0",
        kept => kept,
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A comparison operator of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// Operators with their spelling; two-character ones first so `>=` is not read as `>`.
const OPS: [(&str, Op); 5] = [(">=", Op::Ge), ("<=", Op::Le), (">", Op::Gt), ("<", Op::Lt), ("=", Op::Eq)];

impl Op {
    fn symbol(self) -> &'static str {
        OPS.iter().find(|(_, op)| *op == self).map_or("=", |(symbol, _)| symbol)
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Lt => ordering == Ordering::Less,
            Self::Le => ordering != Ordering::Greater,
            Self::Gt => ordering == Ordering::Greater,
            Self::Ge => ordering != Ordering::Less,
            Self::Eq => ordering == Ordering::Equal,
        }
    }
}

/// One `OP VERSION` of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    version: Version,
}

/// A set of versions: comparators joined by spaces or commas, all of which
/// must hold (`>=2026.5.12 <2026.5.30`); alternatives separated by `||`;
/// `*` for every version. A bare version means `=VERSION`.
///
/// Pre-releases are ordinary points of the ordering here (unlike npm, which
/// hides them from ranges): `<2026.5.30` contains `2026.5.16-beta.4`, because
/// a catalog band or an expectation is about behaviour, and betas behave like
/// the releases around them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    /// Alternatives (`||`), each a conjunction; empty conjunction = every version.
    alternatives: Vec<Vec<Comparator>>,
}

impl VersionRange {
    /// Every version.
    pub fn any() -> Self {
        Self { alternatives: vec![Vec::new()] }
    }

    /// Whether `version` is in the range.
    pub fn contains(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|all| all.iter().all(|c| c.op.holds(version.cmp(&c.version))))
    }
}

const RANGE_HINT: &str = "expected comparators like >=2026.5.30 or \">=2026.5.12 <2026.5.30\"";

impl FromStr for VersionRange {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let alternatives = text
            .split("||")
            .map(|alternative| parse_conjunction(text, alternative))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { alternatives })
    }
}

fn parse_conjunction(whole: &str, text: &str) -> Result<Vec<Comparator>, ParseError> {
    let bad = |why: String| ParseError(format!("invalid version range {whole:?}: {why} ({RANGE_HINT})"));
    let tokens =
        glue_operators(text.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()));
    if tokens.is_empty() {
        return Err(bad("empty range (use * for every version)".into()));
    }
    if tokens == ["*"] {
        return Ok(Vec::new());
    }
    tokens
        .iter()
        .map(|token| {
            let (op, rest) = OPS
                .iter()
                .find_map(|(symbol, op)| token.strip_prefix(symbol).map(|rest| (*op, rest)))
                .unwrap_or((Op::Eq, token.as_str()));
            let version = rest.parse::<Version>().map_err(|e| bad(e.0))?;
            Ok(Comparator { op, version })
        })
        .collect()
}

/// Join an operator written apart from its version (`>= 2026.5.30`) to it.
fn glue_operators<'a>(tokens: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in tokens {
        match out.last_mut() {
            Some(last) if OPS.iter().any(|(symbol, _)| last == symbol) => last.push_str(token),
            _ => out.push(token.to_owned()),
        }
    }
    out
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, all) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str(" || ")?;
            }
            if all.is_empty() {
                f.write_str("*")?;
            }
            for (j, c) in all.iter().enumerate() {
                let sep = if j > 0 { " " } else { "" };
                write!(f, "{sep}{}{}", c.op.symbol(), c.version)?;
            }
        }
        Ok(())
    }
}

impl Serialize for VersionRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VersionRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    fn r(text: &str) -> VersionRange {
        text.parse().unwrap()
    }

    mod ordering {
        use super::*;

        #[test]
        fn beta_before_release_before_later_release() {
            assert!(v("2026.5.16-beta.4") < v("2026.5.16"));
            assert!(v("2026.5.16") < v("2026.5.18"));
        }

        #[test]
        fn components_compare_as_numbers() {
            assert!(v("2026.5.9") < v("2026.5.16"));
            assert!(v("2026.9.5") < v("2026.10.1"));
        }

        #[test]
        fn numeric_pre_release_identifiers_compare_as_numbers() {
            assert!(v("2026.5.16-beta.4") < v("2026.5.16-beta.10"));
        }

        #[test]
        fn text_identifiers_compare_as_text_and_above_numbers() {
            assert!(v("1.0.0-alpha") < v("1.0.0-beta"));
            assert!(v("1.0.0-1") < v("1.0.0-alpha"));
            assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        }

        #[test]
        fn semver_spec_example_chain() {
            let chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2"];
            let chain = chain.iter().chain(&["1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]).map(|t| v(t));
            let versions: Vec<Version> = chain.collect();
            assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        }

        #[test]
        fn numeric_republish_suffixes_order_below_text_pre_releases() {
            // OpenClaw publishes both `2026.7.1-1` and `2026.7.1-beta.6`: a number sorts below text.
            let chain = ["2026.7.1-1", "2026.7.1-2", "2026.7.1-beta.1", "2026.7.1-beta.6", "2026.7.1"];
            let versions: Vec<Version> = chain.iter().map(|t| v(t)).collect();
            assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        }

        #[test]
        fn build_metadata_does_not_change_precedence_against_other_versions() {
            assert!(v("2026.5.16+build.1") > v("2026.5.16-beta.4"));
            assert!(v("2026.5.16+build.1") < v("2026.5.17"));
        }
    }

    mod parsing {
        use super::*;

        #[test]
        fn display_round_trips() {
            for text in ["2026.5.16-beta.4", "2026.5.16", "1.2.3-rc.1+sha.5", "0.0.1"] {
                assert_eq!(v(text).to_string(), text);
            }
        }

        #[test]
        fn rejects_two_components_with_a_clear_message() {
            let err = "2026.5".parse::<Version>().unwrap_err().to_string();
            assert!(err.contains("\"2026.5\"") && err.contains("three numeric components"), "{err}");
        }

        #[test]
        fn rejects_text_in_numeric_components_and_empty_identifiers() {
            for bad in ["2026.x.1", "2026.5.16-", "2026.5.16-beta..4", "2026.5.16+", "", "v2026.5.16"] {
                assert!(bad.parse::<Version>().is_err(), "{bad} parsed");
            }
        }

        #[test]
        fn leading_zeros_are_tolerated_and_dropped() {
            assert_eq!(v("2026.05.09"), v("2026.5.9"));
            assert_eq!(v("2026.05.09").to_string(), "2026.5.9");
            assert_eq!(v("2026.5.16-beta.04"), v("2026.5.16-beta.4"));
            assert_eq!(v("2026.00.0-00").to_string(), "2026.0.0-0");
        }

        #[test]
        fn errors_name_the_bad_part() {
            let err = |text: &str| text.parse::<Version>().unwrap_err().to_string();
            assert!(err("2026.5.16-beta..4").contains("pre-release"), "{}", err("2026.5.16-beta..4"));
            assert!(err("2026.5.16+").contains("build metadata"), "{}", err("2026.5.16+"));
            assert!(err("2026.5.16-").contains("pre-release"), "{}", err("2026.5.16-"));
            assert!(err("2026.5.16-beta!").contains("'!'"), "{}", err("2026.5.16-beta!"));
        }

        #[test]
        fn components_read_as_fields() {
            let version = v("2026.5.16-beta.4");
            assert_eq!((version.major, version.minor, version.patch), (2026, 5, 16));
            assert!(version.is_prerelease() && !Version::new(2026, 5, 16).is_prerelease());
        }

        #[test]
        fn serde_uses_the_text_form() {
            let json = serde_json::to_string(&v("2026.5.16-beta.4")).unwrap();
            assert_eq!(json, "\"2026.5.16-beta.4\"");
            assert_eq!(serde_json::from_str::<Version>(&json).unwrap(), v("2026.5.16-beta.4"));
        }
    }

    mod ranges {
        use super::*;

        #[test]
        fn each_operator() {
            let x = v("2026.5.30");
            assert!(r(">=2026.5.30").contains(&x) && !r(">2026.5.30").contains(&x));
            assert!(r("<=2026.5.30").contains(&x) && !r("<2026.5.30").contains(&x));
            assert!(r("=2026.5.30").contains(&x) && r("2026.5.30").contains(&x));
            assert!(!r("=2026.5.29").contains(&x));
        }

        #[test]
        fn pre_releases_are_ordinary_points() {
            assert!(r("<2026.5.30").contains(&v("2026.5.16-beta.4")));
            assert!(!r(">=2026.5.16").contains(&v("2026.5.16-beta.4")));
        }

        #[test]
        fn space_and_comma_conjunctions() {
            for text in [">=2026.5.12 <2026.5.30", ">=2026.5.12, <2026.5.30", ">= 2026.5.12 < 2026.5.30"] {
                let range = r(text);
                assert!(range.contains(&v("2026.5.12")), "{text}");
                assert!(range.contains(&v("2026.5.29")), "{text}");
                assert!(!range.contains(&v("2026.5.30")), "{text}");
                assert!(!range.contains(&v("2026.5.11")), "{text}");
            }
        }

        #[test]
        fn alternatives_and_star() {
            let range = r("2026.5.12 || >=2026.9.0");
            assert!(range.contains(&v("2026.5.12")) && range.contains(&v("2026.9.6")));
            assert!(!range.contains(&v("2026.5.16")));
            assert!(r("*").contains(&v("1.0.0")) && VersionRange::any().contains(&v("1.0.0")));
        }

        #[test]
        fn display_is_canonical() {
            assert_eq!(r(">= 2026.5.12,<2026.5.30").to_string(), ">=2026.5.12 <2026.5.30");
            assert_eq!(r("1.0.0 || *").to_string(), "=1.0.0 || *");
        }

        #[test]
        fn errors_quote_the_range_and_the_bad_version() {
            let err = ">=2026.5".parse::<VersionRange>().unwrap_err().to_string();
            assert!(err.contains("\">=2026.5\"") && err.contains("three numeric components"), "{err}");
            assert!("".parse::<VersionRange>().unwrap_err().to_string().contains("empty range"));
            assert!(">=".parse::<VersionRange>().is_err());
        }
    }
}
