//! `chc emulator`: the in-memory API server, in this process.

use clickhouse_cloud_client::{Credentials, KeyId, KeySecret};
use clickhouse_cloud_emulator::serve::{ServeOptions, serve};

use crate::cli::EmulatorArgs;
use crate::error::CliError;

/// Starts the emulator, prints the same lines as its own binary
/// (`listening on http://HOST:PORT` first), and serves until Ctrl-C or
/// SIGTERM.
pub(crate) async fn run(args: EmulatorArgs) -> Result<(), CliError> {
    let usage =
        |error: clickhouse_cloud_client::auth::AuthError| CliError::Usage(error.to_string());
    let bootstrap = match (args.bootstrap_key_id, args.bootstrap_key_secret) {
        (Some(id), Some(secret)) => Some(Credentials::new(
            KeyId::new(id).map_err(usage)?,
            KeySecret::new(secret).map_err(usage)?,
        )),
        (None, None) => None,
        // clap's `requires` refuses these before we get here.
        _ => {
            return Err(CliError::Usage(
                "--bootstrap-key-id and --bootstrap-key-secret must be given together".into(),
            ));
        }
    };
    let options = ServeOptions {
        listen: args.listen,
        organization_id: args.org_id,
        organization_name: args.org_name,
        bootstrap,
        key_limit: args.key_limit,
        rate_limit: args.rate_limit.0,
        faults: args.faults,
    };
    serve(options, |emulator| {
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
