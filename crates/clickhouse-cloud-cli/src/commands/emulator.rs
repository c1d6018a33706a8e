//! `chc emulator`: the in-memory API server, in this process.

use clickhouse_cloud_emulator::serve::{ServeArgs, serve};

use crate::error::CliError;

/// Starts the emulator, prints the same lines as its own binary
/// (`listening on http://HOST:PORT` first), and serves until Ctrl-C or
/// SIGTERM.
pub(crate) async fn run(args: ServeArgs) -> Result<(), CliError> {
    serve(args.into_options(), |emulator| {
        eprintln!(
            "In another terminal: chc --base-url {} --api-key KEY_ID --api-secret SECRET keys list \
             (or set CLICKHOUSE_API_URL, CLICKHOUSE_CLOUD_API_KEY, CLICKHOUSE_CLOUD_API_SECRET). \
             Ctrl-C stops.",
            emulator.base_url()
        );
    })
    .await
    .map_err(|error| CliError::Other(error.to_string()))
}
