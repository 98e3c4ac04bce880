//! `dispatch plan`: the dispatch a correct OpenClaw makes for these inputs,
//! and the reasoning behind it.

use std::io::Write;
use std::path::PathBuf;

use super::{PlanFormat, load, to_json, warn, write_line, write_text};
use crate::dispatch::Catalog;
use crate::dispatch::inputs::{DispatchInputs, InputSources};
use crate::dispatch::plan::{
    self, DispatchError, DispatchPlan, EmbeddingsPlan, ImagesPlan, render_embeddings_text, render_error_text,
    render_images_text, render_text,
};
use crate::error::{Error, Result};
use crate::scenario::{Call, Judge};

/// What `dispatch plan` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the inputs come from.
    pub sources: InputSources,
    /// A catalog file over the shipped catalog.
    pub catalog: Option<PathBuf>,
    /// Output format.
    pub format: PlanFormat,
    /// Which model call to plan: the chat turn, memory search's embeddings call, the image call, or all.
    pub call: Judge,
}

/// `dispatch plan`: 0 with the plan, 1 when no dispatch is correct, 2 for bad input.
pub fn run(options: &Options, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let (inputs, catalog) = load(&options.sources, options.catalog.as_ref(), err)?;
    let answers: Vec<(Call, Answer)> = options
        .call
        .calls()
        .iter()
        .map(|call| Ok((*call, answer(*call, &inputs, &catalog, err)?)))
        .collect::<Result<_>>()?;
    let answer = match answers.as_slice() {
        [(_, one)] => one.clone(),
        all => Answer {
            code: all.iter().map(|(_, a)| a.code).max().unwrap_or(0),
            text: all.iter().map(|(_, a)| a.text.as_str()).collect::<Vec<_>>().join("\n"),
            json: all.iter().map(|(call, a)| (json_key(*call).to_owned(), a.json.clone())).collect(),
        },
    };
    let text = match options.format {
        PlanFormat::Text => answer.text,
        PlanFormat::Json => to_json(&answer.json)?,
    };
    write_text(out, &text)?;
    Ok(answer.code)
}

/// The key of a call's plan in the JSON of `--call all`.
fn json_key(call: Call) -> &'static str {
    match call {
        Call::Chat => "chat",
        Call::Embeddings => "embeddings",
        Call::Images => "images",
    }
}

fn answer(call: Call, inputs: &DispatchInputs, catalog: &Catalog, err: &mut dyn Write) -> Result<Answer> {
    match call {
        Call::Chat => chat(inputs, catalog, err),
        Call::Embeddings => embeddings(inputs, catalog, err),
        Call::Images => images(inputs, catalog, err),
    }
}

/// One call's plan (exit 0) or refusal (exit 1), in both forms.
#[derive(Clone)]
struct Answer {
    code: u8,
    text: String,
    json: serde_json::Value,
}

fn chat(inputs: &DispatchInputs, catalog: &Catalog, err: &mut dyn Write) -> Result<Answer> {
    planned(plan::plan(inputs, catalog), |p: &DispatchPlan| &p.warnings, render_text, "", err)
}

fn embeddings(inputs: &DispatchInputs, catalog: &Catalog, err: &mut dyn Write) -> Result<Answer> {
    planned(
        plan::plan_embeddings(inputs, catalog),
        |p: &EmbeddingsPlan| &p.warnings,
        render_embeddings_text,
        "embeddings: ",
        err,
    )
}

fn images(inputs: &DispatchInputs, catalog: &Catalog, err: &mut dyn Write) -> Result<Answer> {
    planned(
        plan::plan_images(inputs, catalog),
        |p: &ImagesPlan| &p.warnings,
        render_images_text,
        "image: ",
        err,
    )
}

/// A plan's answer (its warnings on `err`, its text and JSON), or the refusal of a call it could not plan.
fn planned<P: serde::Serialize>(
    planned: std::result::Result<P, Box<DispatchError>>,
    warnings: fn(&P) -> &[String],
    render: fn(&P) -> String,
    prefix: &str,
    err: &mut dyn Write,
) -> Result<Answer> {
    match planned {
        Ok(plan) => {
            warn(err, warnings(&plan))?;
            Ok(Answer { code: 0, text: render(&plan), json: to_value(&plan)? })
        }
        Err(error) => refusal(&error, prefix, err),
    }
}

/// The message on `err` (after `prefix`), the reasoning for `out`.
fn refusal(error: &DispatchError, prefix: &str, err: &mut dyn Write) -> Result<Answer> {
    warn(err, &error.warnings)?;
    write_line(err, &format!("dispatch-vcr: {prefix}{}", error.message))?;
    Ok(Answer { code: 1, text: format!("{prefix}{}", render_error_text(error)), json: to_value(error)? })
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::runtime(format!("cannot encode JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::inputs::InputSources;

    fn plan(sources: InputSources, format: PlanFormat) -> (u8, String, String) {
        planned(sources, format, Judge::Chat)
    }

    fn planned(sources: InputSources, format: PlanFormat, call: Judge) -> (u8, String, String) {
        let options = Options { sources, catalog: None, format, call };
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

    #[test]
    fn the_embeddings_call_is_planned_alone_or_beside_the_chat_turn() {
        let sources = InputSources {
            model: Some("anthropic/claude-sonnet-4-6".into()),
            env: vec!["ANTHROPIC_API_KEY=sk-ant-api03-fixture".into()],
            version: Some("2026.9.6".into()),
            ..InputSources::default()
        };
        let (code, out, err) = planned(sources.clone(), PlanFormat::Text, Judge::Embeddings);
        assert_eq!(code, 1, "no openai key: no embeddings call");
        assert!(err.contains("dispatch-vcr: embeddings: No API key found for provider \"openai\""), "{err}");
        assert!(out.contains("ANTHROPIC_API_KEY is set but is the key of provider anthropic"), "{out}");
        let (code, out, _) = planned(sources, PlanFormat::Json, Judge::All);
        assert_eq!(code, 1);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["chat"]["endpoint"], "POST https://api.anthropic.com/v1/messages");
        assert!(json["embeddings"]["error"].as_str().unwrap().contains("openai"));
    }
}
