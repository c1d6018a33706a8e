//! `chc`: manage ClickHouse Cloud API keys, organizations and the activity
//! log from a shell or CI, on top of `clickhouse-cloud-client`.
//!
//! Exit codes: 0 success, 1 anything else, 2 usage error, 3 authentication
//! or permission refused, 4 not found, 5 rate limited after retries.

mod cli;
mod commands;
mod config;
mod context;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::error::{CliError, code};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with 0; usage errors to stderr
            // with 2.
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(code::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return CliError::Other(format!("cannot start the async runtime: {error}")).report();
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(),
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let global = cli.global;
    match cli.command {
        Command::Keys(command) => commands::keys::run(command, &global).await,
        Command::Orgs(command) => commands::orgs::run(command, &global).await,
        Command::Activities(command) => commands::activities::run(command, &global).await,
        Command::Auth(command) => commands::auth::run(command, &global).await,
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => commands::emulator::run(args).await,
    }
}
