//! `chc emulator`: the in-memory API server, in this process.

use std::io::Write as _;

use clickhouse_cloud_client::auth::KeyMaterial;
use clickhouse_cloud_client::{Credentials, KeyId, KeySecret};
use clickhouse_cloud_emulator::{Emulator, RateLimit};

use crate::cli::EmulatorArgs;
use crate::error::CliError;

/// Starts the emulator, prints the same lines as its own binary
/// (`listening on http://HOST:PORT` first), and serves until Ctrl-C or
/// SIGTERM.
pub(crate) async fn run(args: EmulatorArgs) -> Result<(), CliError> {
    let usage =
        |error: clickhouse_cloud_client::auth::AuthError| CliError::Usage(error.to_string());
    let (credentials, generated) = match (args.bootstrap_key_id, args.bootstrap_key_secret) {
        (Some(id), Some(secret)) => (
            Credentials::new(
                KeyId::new(id).map_err(usage)?,
                KeySecret::new(secret).map_err(usage)?,
            ),
            false,
        ),
        (None, None) => (KeyMaterial::generate().into_credentials(), true),
        // clap's `requires` refuses these before we get here.
        _ => {
            return Err(CliError::Usage(
                "--bootstrap-key-id and --bootstrap-key-secret must be given together".into(),
            ));
        }
    };
    let mut builder = Emulator::builder()
        .listen(args.listen)
        .organization_name(args.org_name)
        .bootstrap_credentials(credentials)
        .key_limit(args.key_limit)
        .rate_limit(
            args.rate_limit
                .0
                .map(|(requests, window)| RateLimit { requests, window }),
        );
    if let Some(id) = args.org_id {
        builder = builder.organization_id(id);
    }
    if let Some(plan) = args.faults {
        if !plan.is_empty() {
            eprintln!("note: fault injection is on: some requests will fail on purpose");
        }
        builder = builder.faults(plan);
    }
    let emulator = builder.start().await.map_err(|error| {
        CliError::Other(format!(
            "cannot start the emulator on {}: {error}",
            args.listen
        ))
    })?;

    {
        let credentials = emulator.bootstrap_credentials();
        let mut out = std::io::stdout().lock();
        // Write errors (a closed pipe) must not stop the server.
        let _ = writeln!(out, "listening on {}", emulator.base_url());
        let _ = writeln!(out, "organization: {}", emulator.organization_id());
        let _ = writeln!(out, "key id: {}", credentials.key_id());
        if generated {
            let _ = writeln!(out, "key secret: {}", credentials.key_secret().expose());
        }
        let _ = out.flush();
    }
    eprintln!(
        "In another terminal: chc --base-url {} --api-key KEY_ID --api-secret SECRET keys list \
         (or set CLICKHOUSE_API_URL, CLICKHOUSE_CLOUD_API_KEY, CLICKHOUSE_CLOUD_API_SECRET). \
         Ctrl-C stops.",
        emulator.base_url()
    );

    wait_for_signal().await;
    emulator.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
