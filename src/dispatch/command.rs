//! `dispatch plan` and `dispatch send`: read the inputs, plan, print.
//!
//! A plan that cannot dispatch is a valid answer about valid input, not bad
//! input: it exits 1 with OpenClaw's message on stderr (exit 2 stays for
//! unreadable inputs).

use std::io::Write;
use std::path::PathBuf;

use super::catalog::Catalog;
use super::inputs::{DispatchInputs, InputSources};
use super::plan::{self, DispatchError, render_error_text, render_text};
use crate::error::{Error, Result};

/// How `dispatch plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanFormat {
    /// The plan, then the reasoning one line a step.
    Text,
    /// The plan as JSON (`docs/plan-json.md`).
    Json,
}

/// What `dispatch plan` was asked.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Where the inputs come from.
    pub sources: InputSources,
    /// A catalog file over the shipped catalog.
    pub catalog: Option<PathBuf>,
    /// Output format.
    pub format: PlanFormat,
}

/// Inputs and catalog, with the store warnings printed on `err`.
pub(crate) fn load(
    sources: &InputSources,
    catalog: Option<&PathBuf>,
    err: &mut dyn Write,
) -> Result<(DispatchInputs, Catalog)> {
    let catalog = Catalog::load(catalog.map(PathBuf::as_path))?;
    let inputs = sources.load()?;
    let stores = std::iter::once(&inputs.profiles).chain(inputs.agent_stores.values());
    for warning in stores.flat_map(|s| &s.warnings) {
        write_line(err, &format!("dispatch-vcr: warning: {warning}"))?;
    }
    Ok((inputs, catalog))
}

/// Print a plan error: the message on `err`, the reasoning (or JSON) on `out`. Returns exit code 1.
pub(crate) fn report_refusal(
    error: &DispatchError,
    format: PlanFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    write_line(err, &format!("dispatch-vcr: {}", error.message))?;
    let text = match format {
        PlanFormat::Text => render_error_text(error),
        PlanFormat::Json => to_json(error)?,
    };
    write_text(out, &text)?;
    Ok(1)
}

/// `dispatch plan`: 0 with the plan, 1 when no dispatch is correct, 2 for bad input.
pub fn plan_command(options: &PlanOptions, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let (inputs, catalog) = load(&options.sources, options.catalog.as_ref(), err)?;
    match plan::plan(&inputs, &catalog) {
        Ok(plan) => {
            let text = match options.format {
                PlanFormat::Text => render_text(&plan),
                PlanFormat::Json => to_json(&plan)?,
            };
            write_text(out, &text)?;
            Ok(0)
        }
        Err(error) => report_refusal(&error, options.format, out, err),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Error::runtime(format!("cannot encode JSON: {e}")))
}

fn write_text(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::runtime(format!("cannot write output: {e}")))
}

pub(crate) fn write_line(out: &mut dyn Write, line: &str) -> Result<()> {
    write_text(out, &format!("{line}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sources: InputSources, format: PlanFormat) -> (u8, String, String) {
        let options = PlanOptions { sources, catalog: None, format };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = plan_command(&options, &mut out, &mut err).unwrap();
        (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    }

    #[test]
    fn a_refusal_exits_1_with_the_message_on_stderr_and_json_on_stdout() {
        let sources =
            InputSources { model: Some("openai/gpt-5.5".into()), now_ms: Some(0), ..InputSources::default() };
        let (code, out, err) = run(sources, PlanFormat::Json);
        assert_eq!(code, 1);
        assert!(err.contains("No API key found for provider \"openai\""), "{err}");
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["error"], "No API key found for provider \"openai\"");
        assert!(json["steps"].as_array().is_some_and(|s| !s.is_empty()));
    }

    #[test]
    fn a_plan_exits_0_and_never_prints_the_secret() {
        let sources = InputSources {
            model: Some("openai/gpt-5.5".into()),
            env: vec!["OPENAI_API_KEY=sk-test-secret-0001".into()],
            ..InputSources::default()
        };
        for format in [PlanFormat::Text, PlanFormat::Json] {
            let (code, out, _) = run(sources.clone(), format);
            assert_eq!(code, 0);
            assert!(
                out.contains("https://api.openai.com/v1/responses") && !out.contains("sk-test-secret"),
                "{out}"
            );
        }
    }
}
