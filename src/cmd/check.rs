//! `check [PATH…]`: every scenario × dispatcher version judged against the
//! OpenClaw reference (or, for another dispatcher, the scenario's pins), rendered as text, JSON, JUnit or HTML.

use std::path::PathBuf;

use crate::dispatch::Catalog;
use crate::error::Result;
use crate::progress::Progress;
use crate::report::{self, ShardInfo};
use crate::scenario::Dispatchers;
use crate::scenario::runner::check_showing;

/// What `check` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Scenario files or folders.
    pub paths: Vec<PathBuf>,
    /// How to render the report.
    pub format: report::Format,
    /// Where to write it; stdout when `None`.
    pub output: Option<PathBuf>,
    /// Which shard of the cells to check.
    pub shard: Option<ShardInfo>,
    /// A catalog file that corrects or extends the shipped one.
    pub catalog: Option<PathBuf>,
    /// `--verbose`: the text report explains expected failures too.
    pub verbose: bool,
}

/// Check, render, write. Returns the exit code (0 all pass or known
/// failures, 1 an unexpected or reference failure).
pub fn run(options: &Options) -> Result<u8> {
    if let Some(path) = &options.output {
        crate::files::check_output("-o", path, report_name(options.format))?;
    }
    let reference = Dispatchers::new(Catalog::load(options.catalog.as_deref())?);
    let progress = Progress::bar("cells");
    let report = check_showing(&options.paths, options.shard, &reference, &progress)?;
    progress.finish();
    let view = report::text::View { verbose: options.verbose, ..Default::default() };
    report::emit(&report, options.format, view, options.output.as_deref())?;
    Ok(report.exit_code())
}

/// A file name for a report in `format`, for hints.
pub(crate) fn report_name(format: report::Format) -> &'static str {
    match format {
        report::Format::Text => "report.txt",
        report::Format::Json => "report.json",
        report::Format::Junit => "junit.xml",
        report::Format::Html => "report.html",
    }
}
