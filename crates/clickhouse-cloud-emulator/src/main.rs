//! `clickhouse-cloud-emulator`: serves the emulated API until interrupted.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clickhouse_cloud_auth::{Credentials, KeyId, KeyMaterial, KeySecret};
use clickhouse_cloud_emulator::{Emulator, FaultPlan, RateLimit};
use uuid::Uuid;

/// An in-memory ClickHouse Cloud API server for tests and demos.
#[derive(Debug, Parser)]
#[command(name = "clickhouse-cloud-emulator", version)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Organization UUID (random by default).
    #[arg(long, value_name = "UUID")]
    org_id: Option<Uuid>,
    /// Organization name.
    #[arg(long, value_name = "NAME", default_value = "Emulated organization")]
    org_name: String,
    /// Key ID of the bootstrap admin key (needs --bootstrap-key-secret).
    #[arg(long, value_name = "ID", requires = "bootstrap_key_secret", value_parser = parse_key_id)]
    bootstrap_key_id: Option<KeyId>,
    /// Secret of the bootstrap admin key (needs --bootstrap-key-id).
    #[arg(long, value_name = "SECRET", requires = "bootstrap_key_id", value_parser = parse_key_secret)]
    bootstrap_key_secret: Option<KeySecret>,
    /// Most API keys per organization, the bootstrap key included.
    #[arg(long, value_name = "N", default_value_t = 100)]
    key_limit: usize,
    /// Per-key rate limit as REQUESTS/SECONDS, or `off`.
    #[arg(long, value_name = "N/SECONDS|off", default_value = "10/10", value_parser = parse_rate_limit)]
    rate_limit: RateSetting,
    /// Inject faults (see --help for SPEC), e.g. `1:503,openapiKeyCreate#1:reset-after`.
    #[arg(long, value_name = "SPEC", value_parser = parse_faults, long_help = FAULTS_HELP)]
    faults: Option<FaultPlan>,
}

/// `--faults` in `--help`.
const FAULTS_HELP: &str = "\
Inject faults, for testing clients' retries and timeouts.

SPEC is a comma-separated list of items:
  N:FAULT             the Nth request (1-based, every request counted)
  OPERATION#N:FAULT   the Nth request of an operationId (openapiKeyCreate#1)
  METHOD#N:FAULT      the Nth request with an HTTP method (POST#2)
  seed=U64            random faults: PRNG seed (default 0)
  rate=R              random faults: probability per request, 0 to 1
  kinds=FAULT|FAULT   random faults: what to choose from (rate and kinds
                      are required together; scripted items take precedence)
  off                 (alone) no faults

FAULT is one of:
  429            429 + X-RateLimit-* headers, no Retry-After (not executed)
  429@DURATION   the same with Retry-After (whole seconds, rounded up)
  429-bare       429 with body {\"error\":\"TOO_MANY_REQUESTS\"} only
  500, 503       JSON error envelope (any 400-599; json-NNN forces JSON)
  502, 504       text/html gateway page (html-NNN for any status)
  slow@DURATION  executed, then the response is held back DURATION
  cut-off        executed, then half the body and the connection closes
  reset-before   connection closed without a response, not executed
  reset-after    executed, then connection closed without a response
DURATION: 2, 2s, 1.5s or 250ms.

Examples:
  --faults 'seed=7,rate=0.2,kinds=429|503|502|reset-after'
  --faults '1:503,3:reset-before,openapiKeyCreate#1:reset-after'";

/// `--rate-limit`: a limit, or none.
#[derive(Debug, Clone, Copy)]
struct RateSetting(Option<RateLimit>);

fn parse_key_id(text: &str) -> Result<KeyId, String> {
    KeyId::new(text).map_err(|error| error.to_string())
}

fn parse_key_secret(text: &str) -> Result<KeySecret, String> {
    KeySecret::new(text.to_owned()).map_err(|error| error.to_string())
}

fn parse_faults(text: &str) -> Result<FaultPlan, String> {
    text.parse()
        .map_err(|error: clickhouse_cloud_emulator::FaultSpecError| error.to_string())
}

fn parse_rate_limit(text: &str) -> Result<RateSetting, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(RateSetting(None));
    }
    let usage = || format!("expected REQUESTS/SECONDS (e.g. 10/10) or off, got {text:?}");
    let (requests, seconds) = text.split_once('/').ok_or_else(usage)?;
    let requests: u32 = requests.trim().parse().map_err(|_| usage())?;
    let seconds: f64 = seconds.trim().parse().map_err(|_| usage())?;
    let window = Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|window| !window.is_zero())
        .ok_or_else(usage)?;
    Ok(RateSetting(Some(RateLimit { requests, window })))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let (credentials, generated) = match (args.bootstrap_key_id, args.bootstrap_key_secret) {
        (Some(id), Some(secret)) => (Credentials::new(id, secret), false),
        (None, None) => (KeyMaterial::generate().into_credentials(), true),
        // clap's `requires` refuses these before we get here.
        _ => {
            eprintln!(
                "error: --bootstrap-key-id and --bootstrap-key-secret must be given together"
            );
            return ExitCode::from(2);
        }
    };
    let mut builder = Emulator::builder()
        .listen(args.listen)
        .organization_name(args.org_name)
        .bootstrap_credentials(credentials)
        .key_limit(args.key_limit)
        .rate_limit(args.rate_limit.0);
    if let Some(id) = args.org_id {
        builder = builder.organization_id(id);
    }
    if let Some(plan) = args.faults {
        if !plan.is_empty() {
            eprintln!("note: fault injection is on: some requests will fail on purpose");
        }
        builder = builder.faults(plan);
    }
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!(
                "error: cannot start the emulator on {}: {error}",
                args.listen
            );
            return ExitCode::FAILURE;
        }
    };

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

    wait_for_signal().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
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
