//! `dispatch plan`: the dispatch a correct OpenClaw makes for these inputs,
//! and the reasoning behind it.

use std::io::Write;
use std::path::PathBuf;

use super::{PlanFormat, load, report_refusal, to_json, warn, write_text};
use crate::dispatch::inputs::InputSources;
use crate::dispatch::plan::{self, render_text};
use crate::error::Result;

/// What `dispatch plan` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the inputs come from.
    pub sources: InputSources,
    /// A catalog file over the shipped catalog.
    pub catalog: Option<PathBuf>,
    /// Output format.
    pub format: PlanFormat,
}

/// `dispatch plan`: 0 with the plan, 1 when no dispatch is correct, 2 for bad input.
pub fn run(options: &Options, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let (inputs, catalog) = load(&options.sources, options.catalog.as_ref(), err)?;
    match plan::plan(&inputs, &catalog) {
        Ok(plan) => {
            warn(err, &plan.warnings)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::inputs::InputSources;

    fn plan(sources: InputSources, format: PlanFormat) -> (u8, String, String) {
        let options = Options { sources, catalog: None, format };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = super::run(&options, &mut out, &mut err).unwrap();
        (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    }

    #[test]
    fn a_refusal_exits_1_with_the_message_on_stderr_and_json_on_stdout() {
        let sources =
            InputSources { model: Some("openai/gpt-5.5".into()), now_ms: Some(0), ..InputSources::default() };
        let (code, out, err) = plan(sources, PlanFormat::Json);
        assert_eq!(code, 1);
        assert!(err.contains("No API key found for provider \"openai\""), "{err}");
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["error"], "No API key found for provider \"openai\"");
        assert!(json["steps"].as_array().is_some_and(|s| !s.is_empty()));
    }

    #[test]
    fn a_refusal_carries_the_warnings_of_its_steps() {
        let sources = InputSources {
            model: Some("openai/gpt-9-ultra".into()),
            version: Some("2026.9.6".into()),
            ..InputSources::default()
        };
        let (code, out, err) = plan(sources, PlanFormat::Json);
        assert_eq!(code, 1);
        assert!(
            err.starts_with("dispatch-vcr: warning: model gpt-9-ultra is not in openai's known models"),
            "{err}"
        );
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["warnings"].as_array().map(Vec::len), Some(1), "{out}");
    }

    #[test]
    fn a_plan_exits_0_and_never_prints_the_secret() {
        let sources = InputSources {
            model: Some("openai/gpt-5.5".into()),
            env: vec!["OPENAI_API_KEY=sk-test-secret-0001".into()],
            ..InputSources::default()
        };
        for format in [PlanFormat::Text, PlanFormat::Json] {
            let (code, out, _) = plan(sources.clone(), format);
            assert_eq!(code, 0);
            assert!(
                out.contains("https://api.openai.com/v1/responses") && !out.contains("sk-test-secret"),
                "{out}"
            );
        }
    }
}
