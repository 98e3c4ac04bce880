//! `completions SHELL`: a shell completion script for the command line.

use crate::error::Result;

/// Print the completion script of `shell` for `command`, the binary's
/// command-line definition.
pub fn run(shell: clap_complete::Shell, mut command: clap::Command) -> Result<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "dispatch-vcr", &mut out);
    let mut script = String::from_utf8_lossy(&out).into_owned();
    if shell == clap_complete::Shell::Bash {
        // clap_complete spells the bash case arms of a hyphenated binary
        // `dispatch__subcmd__vcr…` while its dispatch loop arrives at
        // `dispatch__vcr…`, so nothing after the first word would complete
        // (clap-rs/clap#6421). Spell the arms as the loop does.
        script = script.replace("dispatch__subcmd__vcr", "dispatch__vcr");
    }
    crate::files::write(None, &script)?;
    Ok(0)
}
