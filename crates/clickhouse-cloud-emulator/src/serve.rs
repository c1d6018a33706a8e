//! Serving the emulator from a command line until interrupted: what the
//! `clickhouse-cloud-emulator` binary and `chc emulator` share.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use clickhouse_cloud_auth::{Credentials, KeyMaterial};
use uuid::Uuid;

use crate::{Emulator, FaultPlan, RateLimit, RunningEmulator};

/// How to serve: the command-line options of both front ends.
#[derive(Debug)]
pub struct ServeOptions {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Organization UUID; random when `None`.
    pub organization_id: Option<Uuid>,
    /// Organization name.
    pub organization_name: String,
    /// The bootstrap admin key; generated (and its secret printed) when `None`.
    pub bootstrap: Option<Credentials>,
    /// Most keys per organization.
    pub key_limit: usize,
    /// Per-key rate limit, or none.
    pub rate_limit: Option<RateLimit>,
    /// Faults to inject.
    pub faults: Option<FaultPlan>,
}

/// Why serving stopped before it started.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServeError {
    /// The listener could not be bound.
    Bind {
        /// The address asked for.
        listen: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Bind { listen, source } => {
                write!(f, "cannot start the emulator on {listen}: {source}")
            }
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Bind { source, .. } => Some(source),
        }
    }
}

/// `--faults` in a command's long help.
pub const FAULTS_HELP: &str = "\
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

/// Parses `--rate-limit`: `REQUESTS/SECONDS` (`10/10`, `5/0.5`) or `off`.
///
/// ```
/// use clickhouse_cloud_emulator::serve::parse_rate_limit;
///
/// let limit = parse_rate_limit("10/10").unwrap().unwrap();
/// assert_eq!(limit.requests, 10);
/// assert!(parse_rate_limit("off").unwrap().is_none());
/// assert!(parse_rate_limit("10").is_err());
/// ```
pub fn parse_rate_limit(text: &str) -> Result<Option<RateLimit>, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let usage = || format!("expected REQUESTS/SECONDS (e.g. 10/10) or off, got {text:?}");
    let (requests, seconds) = text.split_once('/').ok_or_else(usage)?;
    let requests: u32 = requests.trim().parse().map_err(|_| usage())?;
    let seconds: f64 = seconds.trim().parse().map_err(|_| usage())?;
    let window = Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|window| !window.is_zero())
        .ok_or_else(usage)?;
    Ok(Some(RateLimit { requests, window }))
}

/// Parses `--faults` (see [`FAULTS_HELP`]).
pub fn parse_faults(text: &str) -> Result<FaultPlan, String> {
    text.parse()
        .map_err(|error: crate::FaultSpecError| error.to_string())
}

/// Starts the emulator, prints `listening on http://HOST:PORT`, the
/// organization, the bootstrap key ID (and its secret when it was generated
/// here) on stdout, calls `started`, and serves until Ctrl-C or SIGTERM.
pub async fn serve(
    options: ServeOptions,
    started: impl FnOnce(&RunningEmulator),
) -> Result<(), ServeError> {
    let (credentials, generated) = match options.bootstrap {
        Some(credentials) => (credentials, false),
        None => (KeyMaterial::generate().into_credentials(), true),
    };
    let mut builder = Emulator::builder()
        .listen(options.listen)
        .organization_name(options.organization_name)
        .bootstrap_credentials(credentials)
        .key_limit(options.key_limit)
        .rate_limit(options.rate_limit);
    if let Some(id) = options.organization_id {
        builder = builder.organization_id(id);
    }
    if let Some(plan) = options.faults {
        if !plan.is_empty() {
            eprintln!("note: fault injection is on: some requests will fail on purpose");
        }
        builder = builder.faults(plan);
    }
    let emulator = builder.start().await.map_err(|source| ServeError::Bind {
        listen: options.listen,
        source,
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
    started(&emulator);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_parse_or_say_what_is_expected() {
        let limit = parse_rate_limit("5/0.5").unwrap().unwrap();
        assert_eq!(
            (limit.requests, limit.window),
            (5, Duration::from_millis(500))
        );
        assert!(parse_rate_limit("OFF").unwrap().is_none());
        for bad in ["", "10", "x/10", "10/x", "10/0", "10/-1"] {
            let error = parse_rate_limit(bad).unwrap_err();
            assert!(error.contains("REQUESTS/SECONDS"), "{bad}: {error}");
        }
    }

    #[test]
    fn fault_specs_parse_or_explain() {
        assert!(parse_faults("1:503").is_ok());
        assert!(!parse_faults("1:nonsense").unwrap_err().is_empty());
    }

    #[tokio::test]
    async fn a_taken_port_is_a_bind_error_naming_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listen = taken.local_addr().unwrap();
        let options = ServeOptions {
            listen,
            organization_id: None,
            organization_name: "x".into(),
            bootstrap: None,
            key_limit: 10,
            rate_limit: None,
            faults: None,
        };
        let error = serve(options, |_| panic!("must not start"))
            .await
            .unwrap_err();
        assert!(error.to_string().contains(&listen.to_string()), "{error}");
    }
}
