//! One error type for every command, carrying its exit code (docs/design.md,
//! "Exit codes").
//!
//! Errors are values that reach the user: the message must name the file,
//! line:column or flag at fault and say how to fix it. Invariant failures and
//! replay misses are *outcomes* (exit 1), not errors, so they are not here.

use std::fmt;

/// What kind of failure this is; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or usage: a malformed file, a bad flag value. Exit 2.
    Input,
    /// A runtime failure: I/O, a port in use, an upstream that matters is down. Exit 3.
    Runtime,
    /// Stopped by SIGINT (Ctrl-C) or SIGTERM before it could finish: exit 128 + the signal's number.
    Interrupted(i32),
}

/// A user-facing error: one clear line (more lines allowed for explanations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Bad input or usage (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Input, message: message.into() }
    }

    /// Runtime or I/O failure (exit 3).
    pub fn runtime(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Runtime, message: message.into() }
    }

    /// Stopped by `signal` before the work was done (exit 128 + `signal`, as shells report).
    pub fn interrupted(signal: i32, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Interrupted(signal), message: message.into() }
    }

    /// An I/O failure on `path`, phrased for the user (exit 3).
    pub fn io(action: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::runtime(format!("cannot {action} {}: {err}", path.display()))
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The documented process exit code: 2 for bad input, 3 for runtime
    /// failures, 128 + N when signal N stopped the work (130 for Ctrl-C).
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Input => 2,
            ErrorKind::Runtime => 3,
            ErrorKind::Interrupted(signal) => u8::try_from(128 + signal).unwrap_or(3),
        }
    }

    /// Bad JSON input (exit 2): `ORIGIN:LINE:COL: MESSAGE`. serde_json's own
    /// " at line L column C" is dropped: the position already leads.
    pub fn json(origin: impl fmt::Display, err: &serde_json::Error) -> Self {
        Self::input(format!("{origin}:{}:{}: {}", err.line(), err.column(), json_message(err)))
    }

    /// A file that is not JSON at all (exit 2): `ORIGIN:LINE:COL: not valid JSON: MESSAGE`.
    pub fn not_json(origin: impl fmt::Display, err: &serde_json::Error) -> Self {
        Self::input(format!(
            "{origin}:{}:{}: not valid JSON: {}",
            err.line(),
            err.column(),
            json_message(err)
        ))
    }

    /// Bad JSON5 input `text` (exit 2): `ORIGIN:LINE:COL: MESSAGE` (json5 counts from 0, we from 1).
    ///
    /// A file that ends too early is reported at its end, naming the object,
    /// array or string left open and where it was opened (json5 itself gives
    /// only the opening's position, which reads as if the error were there).
    pub fn json5(origin: impl fmt::Display, text: &str, err: &json5::Error) -> Self {
        let at = |p: json5::Position| format!("{}:{}", p.line + 1, p.column + 1);
        if let Some(why) = json5_end_of_file(text, err) {
            let end = json5::Position::from_offset(text.len(), text);
            return Self::input(format!("{origin}:{}: {why}", at(end)));
        }
        let place = err.position().map(|p| format!(":{}", at(p))).unwrap_or_default();
        let message = err.to_string();
        Self::input(format!("{origin}{place}: {}", strip_position(&message)))
    }

    /// A JSON5 value of the wrong type (exit 2): `ORIGIN:LINE:COL: FIELD: MESSAGE`,
    /// `field` being its path (`agents.defaults.model.primary`).
    pub fn json5_field(origin: impl fmt::Display, field: &str, err: &json5::Error) -> Self {
        let place = err.position().map(|p| format!(":{}:{}", p.line + 1, p.column + 1)).unwrap_or_default();
        let field = if field.is_empty() || field == "." { String::new() } else { format!(" {field}:") };
        let message = json5_type_message(err).map_or_else(|| err.to_string(), str::to_owned);
        Self::input(format!("{origin}{place}:{field} {}", strip_position(&message)))
    }

    /// Append how to fix it: `MESSAGE (HINT)`, keeping the kind.
    pub fn hint(self, hint: impl fmt::Display) -> Self {
        Self { kind: self.kind, message: format!("{} ({hint})", self.message) }
    }

    /// Prefix the message with where it happened, keeping the kind.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Self { kind: self.kind, message: format!("{what}: {}", self.message) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The candidate closest to `word` when it is close enough to be a likely
/// typo of it, for "did you mean …?": the same but for case, or one edit away
/// (two for words of 6 letters or more), counting an insertion, a deletion, a
/// substitution or a swap of neighbours as one (optimal string alignment, the
/// distance `strsim` keeps).
pub(crate) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::osa_distance(&word_lower, &c.to_lowercase()), c))
        .filter(|(distance, c)| {
            let shorter = word.chars().count().min(c.chars().count());
            *distance <= if shorter >= 6 { 2 } else { 1 }
        })
        .min()
        .map(|(_, c)| c)
}

/// A serde_json error's message without its " at line L column C" tail, for
/// messages that put the position first.
pub fn json_message(err: &serde_json::Error) -> String {
    strip_position(&err.to_string()).to_owned()
}

/// What a JSON5 error at the end of the file means, when it is one: the file
/// is empty, or something opened is not closed (and where it was opened).
fn json5_end_of_file(text: &str, err: &json5::Error) -> Option<String> {
    use json5::ErrorCode as Code;
    let code = err.code()?;
    if text.trim().is_empty() {
        return Some("the file is empty (it needs a value, e.g. `{}`)".to_owned());
    }
    let opened = |what: &str, close: &str| match err.position() {
        Some(p) => format!(
            "unexpected end of file: the {what} opened at {}:{} is not closed; add its `{close}`",
            p.line + 1,
            p.column + 1
        ),
        None => format!("unexpected end of file: an {what} is not closed; add its `{close}`"),
    };
    Some(match code {
        Code::EofParsingObject => opened("object", "}"),
        Code::EofParsingArray => opened("array", "]"),
        Code::EofParsingString => "unexpected end of file inside a string; add its closing quote".to_owned(),
        Code::EofParsingComment => "unexpected end of file inside a comment; add its `*/`".to_owned(),
        Code::EofParsingValue => "unexpected end of file where a value should be".to_owned(),
        Code::EofParsingBool
        | Code::EofParsingEscapeSequence
        | Code::EofParsingIdentifier
        | Code::EofParsingNull
        | Code::EofParsingNumber => format!("unexpected end of file ({err})"),
        _ => return None,
    })
}

/// json5's terse type errors (`expected string`), said as a sentence.
fn json5_type_message(err: &json5::Error) -> Option<&'static str> {
    use json5::ErrorCode as Code;
    Some(match err.code()? {
        Code::ExpectedString => "expected a string",
        Code::ExpectedNumber => "expected a number",
        Code::ExpectedBool => "expected true or false",
        Code::ExpectedNull => "expected null",
        Code::ExpectedOpeningBrace => "expected an object {…}",
        Code::ExpectedOpeningBracket => "expected a list […]",
        Code::ExpectedStringOrObject => "expected a string or an object {…}",
        _ => return None,
    })
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_exit_2_and_runtime_errors_exit_3() {
        assert_eq!(Error::input("bad flag").exit_code(), 2);
        assert_eq!(Error::runtime("port in use").exit_code(), 3);
    }

    #[test]
    fn json_errors_lead_with_the_position_once() {
        let err = serde_json::from_str::<serde_json::Value>("{\n  \"a\": }").unwrap_err();
        let e = Error::not_json("a.json", &err);
        assert_eq!(e.message(), "a.json:2:8: not valid JSON: expected value");
        assert_eq!(Error::json("a.json", &err).message(), "a.json:2:8: expected value");
        assert_eq!(e.exit_code(), 2);
        let err = serde_json::from_str::<u8>("\"x\"").unwrap_err();
        assert!(Error::json("b.json", &err).message().starts_with("b.json:1:3: invalid type"));
    }

    #[test]
    fn json5_positions_count_from_one() {
        let text = "{a: 1,,}";
        let err = json5::from_str::<serde_json::Value>(text).unwrap_err();
        assert!(Error::json5("c.json5", text, &err).message().starts_with("c.json5:1:"), "{err}");
    }

    fn json5_message(text: &str) -> String {
        let err = json5::from_str::<serde_json::Value>(text).unwrap_err();
        Error::json5("c.json5", text, &err).message().to_owned()
    }

    #[test]
    fn json5_end_of_file_is_reported_at_the_end_naming_what_is_open() {
        assert_eq!(
            json5_message("{\n  a: { b: 1 }\n"),
            "c.json5:3:1: unexpected end of file: the object opened at 1:1 is not closed; add its `}`"
        );
        assert_eq!(
            json5_message("{a: {b: [1, 2"),
            "c.json5:1:14: unexpected end of file: the array opened at 1:9 is not closed; add its `]`"
        );
        assert_eq!(
            json5_message("{a: {b: 1"),
            "c.json5:1:10: unexpected end of file: the object opened at 1:5 is not closed; add its `}`"
        );
        assert_eq!(
            json5_message("{a: 'x}"),
            "c.json5:1:8: unexpected end of file inside a string; add its closing quote"
        );
        let comment = json5_message("{a: 1} /* note");
        assert!(comment.contains("inside a comment"), "{comment}");
        assert_eq!(json5_message(" \n"), "c.json5:2:1: the file is empty (it needs a value, e.g. `{}`)");
    }

    #[test]
    fn json5_type_errors_name_the_field_and_what_it_must_be() {
        let text = "{a: {b: 42}}";
        let mut de = json5::Deserializer::from_str(text);
        let err = serde_path_to_error::deserialize::<
            _,
            std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
        >(&mut de)
        .unwrap_err();
        let e = Error::json5_field("c.json5", &err.path().to_string(), err.inner());
        assert_eq!(e.message(), "c.json5:1:9: a.b: expected a string");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn closest_suggests_likely_typos_only() {
        let providers = ["anthropic", "openai", "ollama", "openrouter"];
        assert_eq!(closest("opeani", providers), Some("openai"));
        assert_eq!(closest("antropic", providers), Some("anthropic"));
        assert_eq!(closest("OpenAI", providers), Some("openai"));
        assert_eq!(closest("llama", providers), Some("ollama"));
        assert_eq!(closest("mistral", providers), None);
        assert_eq!(closest("openai", providers), None, "a word is no typo of itself");
        assert_eq!(closest("modle", ["model", "models"]), Some("model"));
        assert_eq!(closest("gateway", ["agents", "auth", "models", "plugins"]), None);
    }

    #[test]
    fn hints_follow_in_parentheses() {
        assert_eq!(Error::input("bad").hint("do this").message(), "bad (do this)");
    }

    #[test]
    fn context_prefixes_and_keeps_kind() {
        let e = Error::input("expected `,`").context("scenarios/a.json:3:5");
        assert_eq!(e.message(), "scenarios/a.json:3:5: expected `,`");
        assert_eq!(e.kind(), ErrorKind::Input);
    }
}
