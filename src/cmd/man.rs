//! `man`: the manual page (roff), every command in one page.

use crate::error::Result;

/// Print the manual page of `command`, the binary's command-line definition.
pub fn run(command: clap::Command) -> Result<u8> {
    crate::files::write(None, &String::from_utf8_lossy(&page(command)))?;
    Ok(0)
}

/// The top-level page, then a section per command with its synopsis,
/// description and options, so one `man` shows everything.
fn page(mut cli: clap::Command) -> Vec<u8> {
    cli.build();
    let mut out = Vec::new();
    // The top-level page without its list of per-command pages (there is one
    // page): each command gets a section below instead. Writing into a Vec cannot fail.
    let top = clap_mangen::Man::new(cli.clone());
    let _ = top.render_title(&mut out);
    let _ = top.render_name_section(&mut out);
    let _ = top.render_synopsis_section(&mut out);
    let _ = top.render_description_section(&mut out);
    let _ = top.render_options_section(&mut out);
    let _ = top.render_version_section(&mut out);
    for command in leaf_commands(&cli) {
        let name = command.get_bin_name().unwrap_or(command.get_name()).to_uppercase();
        out.extend_from_slice(format!(".SH \"{name}\"\n").as_bytes());
        let man = clap_mangen::Man::new(command.clone());
        let mut part = Vec::new();
        let _ = man.render_synopsis_section(&mut part);
        let _ = man.render_description_section(&mut part);
        if command.get_arguments().any(|a| !a.is_hide_set()) {
            let _ = man.render_options_section(&mut part);
        }
        if command.get_after_help().is_some() || command.get_after_long_help().is_some() {
            let _ = man.render_extra_section(&mut part);
        }
        // Each command's own sections become subsections of its section.
        out.extend_from_slice(
            String::from_utf8_lossy(&part).replace("\n.SH ", "\n.SS ").replacen(".SH ", ".SS ", 1).as_bytes(),
        );
    }
    out
}

/// Every command that runs something (not a group like `ca`), depth first.
fn leaf_commands(command: &clap::Command) -> Vec<&clap::Command> {
    command
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .flat_map(|c| if c.has_subcommands() { leaf_commands(c) } else { vec![c] })
        .collect()
}
