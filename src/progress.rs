//! Progress for people watching a terminal: a bar while `check` works
//! through its cells, a spinner while a command waits (for `run`'s child).
//!
//! Drawn on stderr, and only when stderr is a terminal outside CI (`CI`
//! set, as every CI service sets it) and not a `dumb` one; everywhere else a
//! [`Progress`] is inert, so pipes, files and CI logs see exactly the output
//! they saw without it. Finished or dropped, it clears its line.

use std::ffi::OsStr;
use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar or spinner on stderr, or nothing.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Nothing drawn, whatever the terminal: for library callers.
    pub fn none() -> Self {
        Self { bar: None }
    }

    /// A bar counting `what` (e.g. `cells`); set its length once known.
    pub fn bar(what: &str) -> Self {
        let style = ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {what} {{msg}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        Self::drawn(|| ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()).with_style(style))
    }

    /// A spinner with `message`, ticking by itself until finished: for a
    /// command that waits on something it cannot count, such as a child process.
    pub fn spinner(message: impl Into<String>) -> Self {
        let message = message.into();
        let progress = Self::drawn(|| {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_message(message)
        });
        if let Some(bar) = &progress.bar {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        progress
    }

    fn drawn(make: impl FnOnce() -> ProgressBar) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let env = |name| std::env::var_os(name);
        Self { bar: should_draw(terminal, env("CI").as_deref(), env("TERM").as_deref()).then(make) }
    }

    /// Set the total once it is known.
    pub fn set_length(&self, len: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(len);
            bar.tick();
        }
    }

    /// Count `n` more done. Cheap, and safe to call from many threads.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Stop and clear the line.
    pub fn finish(self) {}
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Draw only on a terminal, never under CI (`CI` set and not empty) and
/// never on a `dumb` terminal, which cannot move its cursor.
fn should_draw(terminal: bool, ci: Option<&OsStr>, term: Option<&OsStr>) -> bool {
    terminal && ci.is_none_or(OsStr::is_empty) && term.is_none_or(|t| t != "dumb")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(text: &str) -> Option<&OsStr> {
        Some(OsStr::new(text))
    }

    #[test]
    fn draws_on_a_terminal_outside_ci() {
        assert!(should_draw(true, None, os("xterm-256color")));
        assert!(should_draw(true, os(""), None));
    }

    #[test]
    fn never_draws_in_a_pipe_in_ci_or_on_a_dumb_terminal() {
        assert!(!should_draw(false, None, os("xterm")));
        assert!(!should_draw(true, os("true"), os("xterm")));
        assert!(!should_draw(true, os("1"), None));
        assert!(!should_draw(true, None, os("dumb")));
    }

    #[test]
    fn an_inert_progress_takes_every_call() {
        let progress = Progress::none();
        progress.set_length(3);
        progress.inc(2);
        progress.finish();
    }
}
