//! `chc`: manage ClickHouse Cloud from a shell or CI (API keys, roles,
//! services, members, any operation by name), on top of
//! `clickhouse-cloud-client`.
//!
//! Exit codes: 0 success, 1 anything else, 2 usage error, 3 authentication
//! or permission refused, 4 not found, 5 rate limited after retries, 6 a
//! `--wait` that ran out of time.

mod cli;
mod commands;
mod config;
mod context;
mod error;
mod generated;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::{CliError, code};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut command = commands::generated::augment(Cli::command(), &args, false);
    let parsed = command.try_get_matches_from_mut(&args);
    // The command tree is done with: freeing its many small allocations one
    // by one would only delay every command (the process frees them at exit).
    std::mem::forget(command);
    let matches = match parsed {
        Ok(matches) => matches,
        Err(error) => return usage(&error),
    };
    // A generated command, or a hand-written one.
    let generated = matches.subcommand().and_then(|(area, sub)| {
        let (verb, verb_matches) = sub.subcommand()?;
        Some((commands::generated::find(area, verb)?, verb_matches.clone()))
    });
    let job = match generated {
        Some((cmd, verb_matches)) => match GlobalArgs::from_arg_matches(&matches) {
            Ok(global) => Job::Generated(cmd, verb_matches, global),
            Err(error) => return usage(&error),
        },
        None => match Cli::from_arg_matches(&matches) {
            Ok(cli) => Job::HandWritten(cli),
            Err(error) => return usage(&error),
        },
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
    let outcome = match job {
        Job::HandWritten(cli) => runtime.block_on(run(cli)),
        Job::Generated(cmd, verb_matches, global) => {
            runtime.block_on(commands::generated::run(cmd, &verb_matches, &global))
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(),
    }
}

/// What the command line asked for.
enum Job {
    HandWritten(Cli),
    Generated(
        &'static commands::generated::Cmd,
        clap::ArgMatches,
        GlobalArgs,
    ),
}

/// Help and version go to stdout with 0; usage errors to stderr with 2.
fn usage(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::from(code::USAGE)
    } else {
        ExitCode::SUCCESS
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let global = cli.global;
    match cli.command {
        Command::Keys(command) => commands::keys::run(command, &global).await,
        Command::Orgs(command) => commands::orgs::run(command, &global).await,
        Command::Activities(command) => commands::activities::run(command, &global).await,
        Command::Roles(command) => commands::roles::run(command, &global).await,
        Command::Services(command) => commands::services::run(command, &global).await,
        Command::Members(command) => commands::members::run_members(command, &global).await,
        Command::Invitations(command) => commands::members::run_invitations(command, &global).await,
        Command::Udfs(command) => commands::udfs::run(command, &global).await,
        Command::Auth(command) => commands::auth::run(command, &global).await,
        Command::Api(args) => commands::api::run(args, &global).await,
        Command::Completions { shell } => commands::completions::run(shell),
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => commands::emulator::run(args).await,
    }
}

/// No type of this tool that holds a key secret prints it.
#[cfg(test)]
mod no_secret_printed {
    use std::path::PathBuf;

    use clap::Parser as _;
    use clickhouse_cloud_client::auth::KeyMaterial;

    use crate::cli::Cli;
    use crate::config::{LoadedProfile, Profile};
    use crate::context::{Session, Settings, build_client};
    use crate::error::CliError;

    #[test]
    fn nothing_that_holds_a_secret_prints_it() {
        let material = KeyMaterial::generate();
        let id = material.key_id().as_str();
        let secret = material.key_secret().expose();
        let cli = Cli::try_parse_from([
            "chc",
            "--api-key",
            id,
            "--api-secret",
            secret,
            "--base-url",
            "http://127.0.0.1:1",
            "auth",
            "status",
        ])
        .unwrap();
        let profile = Profile {
            key_id: id.to_owned(),
            key_secret: material.key_secret().clone(),
            base_url: None,
            organization_id: None,
        };
        let loaded = LoadedProfile {
            profile: profile.clone(),
            path: PathBuf::from("/cfg/profile.json"),
        };
        let settings = Settings::resolve_with(&cli.global, Some(&loaded), |_| None).unwrap();
        let resolved = settings.credentials.as_ref().unwrap().clone();
        let session = Session {
            client: build_client(&resolved.credentials, &settings.base_url.value).unwrap(),
            credentials: resolved,
            org: None,
        };
        let refused = CliError::Usage(
            clickhouse_cloud_client::KeySecret::new(String::new())
                .unwrap_err()
                .to_string(),
        );
        let texts = [
            format!("{cli:?}"),
            format!("{cli:#?}"),
            format!("{:?}", cli.global),
            format!("{profile:?}"),
            format!("{profile:#?}"),
            format!("{loaded:?}"),
            format!("{settings:?}"),
            format!("{settings:#?}"),
            format!("{session:?}"),
            format!("{:?}", session.credentials),
            format!("{refused:?}"),
            refused.to_string(),
        ];
        for text in &texts {
            assert!(!text.contains(secret), "{text}");
        }
        // The secret did reach the settings, as a secret.
        let credentials = settings.credentials.unwrap().credentials;
        assert_eq!(credentials.key_secret().expose(), secret);
    }
}
