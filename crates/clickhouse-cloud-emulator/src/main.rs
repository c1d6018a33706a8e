//! `clickhouse-cloud-emulator`: serves the emulated API until interrupted.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use clickhouse_cloud_auth::{Credentials, KeyId, KeySecret};
use clickhouse_cloud_emulator::serve::{
    FAULTS_HELP, ServeOptions, parse_faults, parse_rate_limit, serve,
};
use clickhouse_cloud_emulator::{FaultPlan, RateLimit};
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
    #[arg(long, value_name = "N/SECONDS|off", default_value = "10/10", value_parser = rate_setting)]
    rate_limit: RateSetting,
    /// Inject faults (see --help for SPEC), e.g. `1:503,openapiKeyCreate#1:reset-after`.
    #[arg(long, value_name = "SPEC", value_parser = parse_faults, long_help = FAULTS_HELP)]
    faults: Option<FaultPlan>,
}

/// `--rate-limit`: a limit, or none (clap wants one value type per option).
#[derive(Debug, Clone, Copy)]
struct RateSetting(Option<RateLimit>);

fn rate_setting(text: &str) -> Result<RateSetting, String> {
    parse_rate_limit(text).map(RateSetting)
}

fn parse_key_id(text: &str) -> Result<KeyId, String> {
    KeyId::new(text).map_err(|error| error.to_string())
}

fn parse_key_secret(text: &str) -> Result<KeySecret, String> {
    KeySecret::new(text.to_owned()).map_err(|error| error.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let bootstrap = match (args.bootstrap_key_id, args.bootstrap_key_secret) {
        (Some(id), Some(secret)) => Some(Credentials::new(id, secret)),
        (None, None) => None,
        // clap's `requires` refuses these before we get here.
        _ => {
            eprintln!(
                "error: --bootstrap-key-id and --bootstrap-key-secret must be given together"
            );
            return ExitCode::from(2);
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
    match serve(options, |_| {}).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
