//! `--emulate-auth`: whether a replayed request lacks the credential its
//! recording carried, so the provider would have refused it.
//!
//! Credentials are compared by header, not by value: a recording with
//! `authorization` replayed with only `x-api-key` (or nothing) lacks it; a
//! different bearer in the same header does not (the `profile` check judges
//! which credential was sent, replay only plays the provider's door).

use crate::credential::is_credential_header;

/// The credential headers of `headers` that carry something (a token after
/// the scheme, or a whole key).
fn credential_headers(headers: &[(String, String)]) -> Vec<&str> {
    headers
        .iter()
        .filter(|(name, value)| is_credential_header(name) && carries_token(value))
        .map(|(name, _)| name.as_str())
        .collect()
}

/// Words that name an auth scheme: alone in a header, they carry no token.
const SCHEMES: &[&str] = &["bearer", "basic", "token"];

/// `Bearer abc` or `abc` carry a token; `Bearer `, `Bearer` or an empty value do not.
fn carries_token(value: &str) -> bool {
    let mut words = value.split_whitespace();
    match (words.next(), words.next()) {
        (Some(_), Some(_)) => true,
        (Some(word), None) => !SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s)),
        (None, _) => false,
    }
}

/// Whether the recording carried a credential and `live` carries none in
/// any of the headers the recording used.
pub(super) fn lacks_recorded_credential(recorded: &[(String, String)], live: &[(String, String)]) -> bool {
    let recorded = credential_headers(recorded);
    let live = credential_headers(live);
    !recorded.is_empty() && !recorded.iter().any(|name| live.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    const BEARER: &[(&str, &str)] = &[("authorization", "Bearer [REDACTED sha256:1f0c2a9b7d3e]")];

    #[test]
    fn no_credential_where_one_was_recorded_lacks_it() {
        assert!(lacks_recorded_credential(&pairs(BEARER), &pairs(&[("content-type", "application/json")])));
    }

    #[test]
    fn another_header_kind_lacks_it() {
        assert!(lacks_recorded_credential(&pairs(BEARER), &pairs(&[("x-api-key", "sk-ant-x")])));
    }

    #[test]
    fn another_value_in_the_same_header_does_not() {
        assert!(!lacks_recorded_credential(&pairs(BEARER), &pairs(&[("authorization", "Bearer other")])));
    }

    #[test]
    fn an_empty_bearer_is_no_credential() {
        assert!(lacks_recorded_credential(&pairs(BEARER), &pairs(&[("authorization", "Bearer ")])));
        assert!(lacks_recorded_credential(&pairs(BEARER), &pairs(&[("authorization", "")])));
    }

    #[test]
    fn a_recording_without_credential_never_lacks_one() {
        assert!(!lacks_recorded_credential(&[], &[]));
        assert!(!lacks_recorded_credential(&pairs(&[("cookie", "a=b")]), &[]));
    }
}
