//! The redactor's reading of credential positions. *Which* names and headers
//! hold secrets is one definition shared with `audit`
//! ([`crate::credential::tokens`]); *what* the redactor takes from such a
//! position is more than `audit` reports — any non-empty value of a field
//! that always holds a secret, each cookie value however short — since
//! replacing a harmless value costs little and keeping a secret costs all.

use crate::credential::tokens::{self, FieldRule};
use crate::credential::{CREDENTIAL_HEADERS, Placement};

pub(super) use crate::credential::tokens::{after_scheme, is_redacted};

/// The secret inside field `name` (a JSON key, a form or multipart field, a
/// query parameter) holding `value`, if the name is a credential's.
pub(super) fn field_secret<'a>(name: &str, value: &'a str) -> Option<&'a str> {
    let secret = match tokens::field_rule(name)? {
        FieldRule::Always => value,
        FieldRule::IfSecretShaped => Some(value).filter(|v| tokens::secret_shaped(v))?,
        FieldRule::AfterScheme => after_scheme(value),
    };
    (!secret.is_empty() && !is_redacted(secret)).then_some(secret)
}

/// The secrets in header `name` (lower-case) holding `value`, and how they
/// sit in it: a listed credential header ([`CREDENTIAL_HEADERS`]) by its
/// placement, any other header named like a credential's
/// (`x-custom-secret`) when its value looks like one.
pub(super) fn header_secrets<'a>(name: &str, value: &'a str) -> Option<(Placement, Vec<&'a str>)> {
    let (placement, secrets) = match CREDENTIAL_HEADERS.iter().find(|(n, _)| *n == name) {
        Some((_, placement)) => (*placement, tokens::placed_secrets(*placement, value)),
        // Most headers: named like no credential, so holding none.
        None if !tokens::header_sounds_secret(name) => return None,
        None => (Placement::AfterScheme, tokens::header_secrets(name, value)),
    };
    let secrets: Vec<&str> = secrets.into_iter().filter(|s| !s.is_empty() && !is_redacted(s)).collect();
    (!secrets.is_empty()).then_some((placement, secrets))
}

/// A marker in a URL or form body: the same marker, with its space encoded.
pub(super) fn url_marker(marker: &str) -> String {
    marker.replace(' ', "%20")
}

/// `value` with each `name=secret` replaced by `name=<marker>`, rebuilt
/// pair by pair so a secret equal to a cookie name cannot clobber the name.
pub(super) fn replace_pair_values(
    value: &str,
    secrets: &[&str],
    mark: &mut dyn FnMut(&str) -> String,
) -> String {
    value
        .split(';')
        .map(|pair| match pair.split_once('=') {
            Some((name, v)) if secrets.contains(&v.trim()) => format!("{name}={}", mark(v.trim())),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}
