//! Serving the emulator from a command line until interrupted: what the
//! `clickhouse-cloud-emulator` binary and `chc emulator` share.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clickhouse_cloud_auth::{Credentials, KeyId, KeyMaterial, KeySecret};
use uuid::Uuid;

use crate::{Emulator, FaultPlan, MemberSpec, RateLimit, RunningEmulator};

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
    /// How much faster than real time services change state.
    pub speed: f64,
    /// Members besides the owner.
    pub members: Vec<MemberSpec>,
    /// Where the world is kept between runs; in memory only when `None`.
    pub state: Option<PathBuf>,
}

/// The command-line options, as a clap argument group: the emulator's own
/// binary and `chc emulator` both flatten it, so the two take the same flags.
///
/// ```
/// use clap::Parser;
/// use clickhouse_cloud_emulator::serve::ServeArgs;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     serve: ServeArgs,
/// }
///
/// let cli = Cli::parse_from(["emu", "--listen", "127.0.0.1:0", "--rate-limit", "off"]);
/// let options = cli.serve.into_options();
/// assert!(options.rate_limit.is_none() && options.bootstrap.is_none());
/// ```
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Organization UUID [default: random]
    #[arg(long, value_name = "UUID")]
    pub org_id: Option<Uuid>,
    /// Organization name
    #[arg(long, value_name = "NAME", default_value = "Emulated organization")]
    pub org_name: String,
    /// Key ID of the bootstrap admin key (needs --bootstrap-key-secret)
    #[arg(long, value_name = "ID", requires = "bootstrap_key_secret", value_parser = parse_key_id)]
    pub bootstrap_key_id: Option<KeyId>,
    /// Secret of the bootstrap admin key (needs --bootstrap-key-id); visible
    /// in the process list, so only for throwaway keys
    #[arg(long, value_name = "SECRET", requires = "bootstrap_key_id", value_parser = parse_key_secret)]
    pub bootstrap_key_secret: Option<KeySecret>,
    /// Most API keys per organization, the bootstrap key included
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub key_limit: usize,
    /// Per-key rate limit as REQUESTS/SECONDS, or `off`
    #[arg(long, value_name = "N/SECONDS|off", default_value = "10/10", value_parser = parse_rate_setting)]
    pub rate_limit: RateSetting,
    /// Inject faults (see --help for SPEC), e.g. `1:503,openapiKeyCreate#1:reset-after`
    #[arg(long, value_name = "SPEC", value_parser = parse_faults, long_help = FAULTS_HELP)]
    pub faults: Option<FaultPlan>,
    /// Run service state changes this many times faster than real time
    /// (60: a minute of provisioning takes a second)
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Add a member to the organization, as NAME=EMAIL or NAME=EMAIL:ROLE
    /// (ROLE: a system role such as admin, developer, billing; default
    /// developer); repeatable
    #[arg(long = "member", value_name = "NAME=EMAIL[:ROLE]", value_parser = parse_member)]
    pub members: Vec<MemberSpec>,
    /// Keep the organization in FILE between runs: read at start when it
    /// exists, written back (mode 0600) on Ctrl-C or SIGTERM; key secrets
    /// and passwords are never written, only hashes of keys. Without it
    /// nothing is written to disk
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

impl ServeArgs {
    /// The options these flags describe. clap's `requires` makes the two
    /// bootstrap flags come together; a lone one is ignored (a key is generated).
    pub fn into_options(self) -> ServeOptions {
        let bootstrap = match (self.bootstrap_key_id, self.bootstrap_key_secret) {
            (Some(id), Some(secret)) => Some(Credentials::new(id, secret)),
            _ => None,
        };
        ServeOptions {
            listen: self.listen,
            organization_id: self.org_id,
            organization_name: self.org_name,
            bootstrap,
            key_limit: self.key_limit,
            rate_limit: self.rate_limit.0,
            faults: self.faults,
            speed: self.speed,
            members: self.members,
            state: self.state,
        }
    }
}

/// `--rate-limit`'s value: a limit, or none (`off`).
#[derive(Debug, Clone, Copy)]
pub struct RateSetting(pub Option<RateLimit>);

fn parse_rate_setting(text: &str) -> Result<RateSetting, String> {
    parse_rate_limit(text).map(RateSetting)
}

/// Parses `--speed`: a positive, finite number.
///
/// ```
/// use clickhouse_cloud_emulator::serve::parse_speed;
/// assert_eq!(parse_speed("60"), Ok(60.0));
/// assert!(parse_speed("0").is_err() && parse_speed("fast").is_err());
/// ```
pub fn parse_speed(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|speed| speed.is_finite() && *speed > 0.0)
        .ok_or_else(|| format!("expected a positive number (e.g. 1, 60, 0.5), got {text:?}"))
}

fn parse_member(text: &str) -> Result<MemberSpec, String> {
    text.parse()
        .map_err(|error: crate::MemberSpecError| error.to_string())
}

fn parse_key_id(text: &str) -> Result<KeyId, String> {
    KeyId::new(text).map_err(|error| error.to_string())
}

fn parse_key_secret(text: &str) -> Result<KeySecret, String> {
    KeySecret::new(text.to_owned()).map_err(|error| error.to_string())
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
    /// The state file, or the organizations asked for, cannot be used.
    Start {
        /// Why (naming the file).
        source: std::io::Error,
    },
    /// The state file could not be written when serving stopped.
    Save {
        /// Why (naming the file).
        source: std::io::Error,
    },
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Bind { listen, source } => {
                write!(f, "cannot start the emulator on {listen}: {source}")
            }
            ServeError::Start { source } => write!(f, "cannot start the emulator: {source}"),
            ServeError::Save { source } => write!(f, "the state was not saved: {source}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Bind { source, .. }
            | ServeError::Start { source }
            | ServeError::Save { source } => Some(source),
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
/// here), then one `member: USER_ID NAME <EMAIL> (ROLES)` line per member
/// (the owner first) on stdout, calls `started`, and serves until Ctrl-C
/// or SIGTERM.
pub async fn serve(
    options: ServeOptions,
    started: impl FnOnce(&RunningEmulator),
) -> Result<(), ServeError> {
    let shutdown = Shutdown::listen();
    let (credentials, generated) = match options.bootstrap {
        Some(credentials) => (credentials, false),
        None => (KeyMaterial::generate().into_credentials(), true),
    };
    let mut builder = Emulator::builder()
        .listen(options.listen)
        .organization_name(options.organization_name)
        .bootstrap_credentials(credentials)
        .key_limit(options.key_limit)
        .rate_limit(options.rate_limit)
        .speed(options.speed);
    for member in options.members {
        builder = builder.member(member);
    }
    if let Some(path) = options.state {
        builder = builder.state(path);
    }
    if let Some(id) = options.organization_id {
        builder = builder.organization_id(id);
    }
    if let Some(plan) = options.faults {
        if !plan.is_empty() {
            eprintln!("note: fault injection is on: some requests will fail on purpose");
        }
        builder = builder.faults(plan);
    }
    let emulator = builder
        .start()
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                ServeError::Start { source }
            }
            _ => ServeError::Bind {
                listen: options.listen,
                source,
            },
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
        for member in emulator.members() {
            let _ = writeln!(
                out,
                "member: {} {} <{}> ({})",
                member.user_id,
                member.name,
                member.email,
                member.roles.join(", ")
            );
        }
        let _ = out.flush();
    }
    started(&emulator);
    shutdown.received().await;
    emulator
        .close()
        .await
        .map_err(|source| ServeError::Save { source })
}

/// Ctrl-C, or SIGTERM on Unix, listened for from the moment it is made:
/// a signal that arrives while the banner is printed still stops the
/// server gracefully (and saves its state).
struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    /// Installs the handlers; call it inside the runtime, before start-up.
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(term), Ok(interrupt)) => Some((term, interrupt)),
                _ => None,
            };
            Self { signals }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for the first signal.
    async fn received(self) {
        #[cfg(unix)]
        if let Some((mut term, mut interrupt)) = self.signals {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
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
    fn flags_become_options() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let material = KeyMaterial::generate();
        let credentials = material.into_credentials();
        let cli = Cli::try_parse_from([
            "emu",
            "--bootstrap-key-id",
            credentials.key_id().as_str(),
            "--bootstrap-key-secret",
            credentials.key_secret().expose(),
            "--rate-limit",
            "3/1",
            "--key-limit",
            "7",
            "--speed",
            "60",
            "--member",
            "Ada=ada@example.com:admin",
            "--member",
            "Bob=bob@example.com",
        ])
        .unwrap();
        let options = cli.serve.into_options();
        assert_eq!(options.key_limit, 7);
        assert_eq!(options.speed, 60.0);
        let roles: Vec<&str> = options.members.iter().map(|m| m.role()).collect();
        assert_eq!(roles, ["Admin", "Developer"]);
        assert!(Cli::try_parse_from(["emu", "--speed", "-1"]).is_err());
        assert!(Cli::try_parse_from(["emu", "--member", "nobody"]).is_err());
        assert_eq!(options.rate_limit.map(|l| l.requests), Some(3));
        let bootstrap = options.bootstrap.unwrap();
        assert_eq!(bootstrap.key_id(), credentials.key_id());
        assert!(Cli::try_parse_from(["emu", "--bootstrap-key-id", "abc"]).is_err());
        assert!(Cli::try_parse_from(["emu", "--rate-limit", "ten"]).is_err());
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
            speed: 1.0,
            members: Vec::new(),
            state: None,
        };
        let error = serve(options, |_| panic!("must not start"))
            .await
            .unwrap_err();
        assert!(error.to_string().contains(&listen.to_string()), "{error}");
    }
}
