//! `dispatch send`: the planned request, sent for real through an HTTP proxy,
//! and the status line of the answer.

use std::io::Write;
use std::path::PathBuf;

use super::{PlanFormat, load, report_refusal, warn, write_line};
use crate::dispatch::inputs::InputSources;
use crate::dispatch::plan;
use crate::dispatch::send::{SEND_TIMEOUT, send_via_proxy, wire_request};
use crate::error::{Error, Result};

/// What `dispatch send` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the inputs come from.
    pub sources: InputSources,
    /// A catalog file over the shipped catalog.
    pub catalog: Option<PathBuf>,
    /// `http://HOST:PORT` of the proxy.
    pub proxy: String,
    /// Extra CA certificates (PEM) to trust.
    pub ca: Vec<PathBuf>,
}

/// `dispatch send`: 0 on a 2xx answer, 1 on another answer or when no
/// dispatch is correct, 2 for bad input, 3 when nothing answers.
pub fn run(options: &Options, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let (inputs, catalog) = load(&options.sources, options.catalog.as_ref(), err)?;
    let resolution = match plan::resolve(&inputs, &catalog) {
        Ok(resolution) => resolution,
        Err(error) => {
            let mut sink = Vec::new();
            let code = report_refusal(&error, PlanFormat::Text, &mut sink, err)?;
            err.write_all(&sink).map_err(|e| Error::runtime(format!("cannot write output: {e}")))?;
            return Ok(code);
        }
    };
    warn(err, &resolution.plan.warnings)?;
    let request = wire_request(&resolution, &catalog)?;
    let credential = resolution
        .plan
        .credential
        .as_ref()
        .map_or("no credential".to_owned(), |c| format!("{} {}", c.profile, c.fingerprint));
    write_line(
        err,
        &format!("dispatch-vcr: {} {} ({credential}) through {}", request.method, request.url, options.proxy),
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the async runtime: {e}")))?;
    let answer = runtime
        .block_on(async {
            tokio::time::timeout(SEND_TIMEOUT, send_via_proxy(&request, &options.proxy, &options.ca)).await
        })
        .map_err(|_| Error::runtime(format!("no complete answer within {} s", SEND_TIMEOUT.as_secs())))??;
    let reason = answer.status.canonical_reason().unwrap_or("");
    write_line(out, &format!("HTTP/1.1 {} {reason}", answer.status.as_u16()))?;
    if answer.status.is_success() {
        return Ok(0);
    }
    let body = String::from_utf8_lossy(&answer.body);
    write_line(
        err,
        &format!(
            "dispatch-vcr: the provider answered {}: {}",
            answer.status,
            body.chars().take(2000).collect::<String>()
        ),
    )?;
    Ok(1)
}
