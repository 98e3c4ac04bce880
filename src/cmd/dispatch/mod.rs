//! `dispatch plan` and `dispatch send`: read the inputs, plan, print (and send).
//!
//! A plan that cannot dispatch is a valid answer about valid input, not bad
//! input: it exits 1 with OpenClaw's message on stderr (exit 2 stays for
//! unreadable inputs).

pub mod plan;
pub mod send;

use std::io::Write;
use std::path::PathBuf;

use crate::dispatch::Catalog;
use crate::dispatch::inputs::{DispatchInputs, InputSources};
use crate::dispatch::plan::{DispatchError, render_error_text};
use crate::error::{Error, Result};

/// How `dispatch plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// The plan, then the reasoning one line a step.
    Text,
    /// The plan as JSON (`docs/plan-json.md`).
    Json,
}

/// Inputs and catalog, with the config's and the stores' warnings printed on `err`.
pub(crate) fn load(
    sources: &InputSources,
    catalog: Option<&PathBuf>,
    err: &mut dyn Write,
) -> Result<(DispatchInputs, Catalog)> {
    let catalog = Catalog::load(catalog.map(PathBuf::as_path))?;
    let inputs = sources.load()?;
    let stores = std::iter::once(&inputs.profiles).chain(inputs.agent_stores.values());
    for warning in inputs.config.warnings.iter().chain(stores.flat_map(|s| &s.warnings)) {
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
    warn(err, &error.warnings)?;
    write_line(err, &format!("dispatch-vcr: {}", error.message))?;
    let text = match format {
        PlanFormat::Text => render_error_text(error),
        PlanFormat::Json => to_json(error)?,
    };
    write_text(out, &text)?;
    Ok(1)
}

/// Print a plan's warnings on `err`, one line each.
pub(crate) fn warn(err: &mut dyn Write, warnings: &[String]) -> Result<()> {
    warnings.iter().try_for_each(|w| write_line(err, &format!("dispatch-vcr: warning: {w}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Error::runtime(format!("cannot encode JSON: {e}")))
}

/// Write `text`; a reader that went away (`| head`) is not an error.
pub(crate) fn write_text(out: &mut dyn Write, text: &str) -> Result<()> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::runtime(format!("cannot write output: {e}")))
        }
        _ => Ok(()),
    }
}

pub(crate) fn write_line(out: &mut dyn Write, line: &str) -> Result<()> {
    write_text(out, &format!("{line}\n"))
}
