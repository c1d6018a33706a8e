//! `clickhouse-cloud-emulator`: serves the emulated API until interrupted.

use std::process::ExitCode;

use clap::Parser;
use clickhouse_cloud_emulator::serve::{ServeArgs, serve};

/// An in-memory ClickHouse Cloud API server for tests and demos.
#[derive(Debug, Parser)]
#[command(name = "clickhouse-cloud-emulator", version)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match serve(cli.serve.into_options(), |_| {}).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
