//! `chc completions SHELL`.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell};
use crate::error::CliError;

/// Writes the completion script for `shell` to standard output.
pub(crate) fn run(shell: CompletionShell) -> Result<(), CliError> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut command = crate::commands::generated::augment(Cli::command(), &[], true);
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "chc", &mut script);
    let text = String::from_utf8(script)
        .map_err(|e| CliError::Other(format!("the completion script is not UTF-8: {e}")))?;
    crate::output::print_text(text.trim_end())
}
