//! The command line: every command, flag and value parser.

use std::time::Duration;

use chrono::{DateTime, Duration as TimeDelta, Utc};
use clap::builder::PossibleValuesParser;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use clickhouse_cloud_client::KeySecret;
use clickhouse_cloud_client::types::{IpAccessListEntry, UdfRuntime, UdfSandboxType, UdfType};
use uuid::Uuid;

const AFTER_HELP: &str = "\
Credentials, first found wins: --api-key/--api-secret, then CLICKHOUSE_CLOUD_API_KEY/\
CLICKHOUSE_CLOUD_API_SECRET, then the profile written by `chc auth login`. The base URL \
(--base-url, CLICKHOUSE_API_URL, profile) and organization (--org, CLICKHOUSE_ORG_ID, \
profile) follow the same order; the profile's values apply only with the profile's key. \
Without an organization, chc picks the only one the key sees.

Exit codes: 0 success, 2 usage error (bad flags or values, missing credentials, \
no terminal to confirm on), 3 authentication or permission refused (401/403), \
4 not found, 5 rate limited after retries, 6 a --wait that ran out of time (the work \
goes on at the service), 1 anything else (including refusals such as deleting the key chc \
is signed in with).";

/// Manage ClickHouse Cloud from a shell or CI: API keys, roles, services,
/// members, and any operation of the API by name.
#[derive(Debug, Parser)]
#[command(name = "chc", version, after_help = AFTER_HELP, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes, before or after the subcommand.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
// The field docs are `--help` text, where a bare URL reads best.
#[allow(rustdoc::bare_urls)]
pub(crate) struct GlobalArgs {
    /// API base URL, e.g. an emulator's http://127.0.0.1:PORT
    /// [default: CLICKHOUSE_API_URL, the profile's, or https://api.clickhouse.cloud]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Key ID to sign requests with [default: CLICKHOUSE_CLOUD_API_KEY, or the profile's]
    #[arg(long, global = true, value_name = "KEY_ID")]
    pub(crate) api_key: Option<String>,
    /// Key secret. Visible to other local users in the process list: prefer
    /// CLICKHOUSE_CLOUD_API_SECRET or `chc auth login`
    #[arg(long, global = true, value_name = "SECRET", value_parser = parse_secret)]
    pub(crate) api_secret: Option<KeySecret>,
    /// Organization UUID [default: CLICKHOUSE_ORG_ID, the profile's, or the
    /// only one the key sees]
    #[arg(long, global = true, value_name = "UUID")]
    pub(crate) org: Option<Uuid>,
    /// Output format: `table` for people, `json` for scripts (the API's
    /// `result`)
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
}

/// `--api-secret`, held as a secret from the start (redacted in `Debug`).
fn parse_secret(text: &str) -> Result<KeySecret, String> {
    KeySecret::new(text.to_owned()).map_err(|error| error.to_string())
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Aligned columns and labelled lines.
    Table,
    /// The API's `result`, as JSON.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// API keys of the organization.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Organizations the key belongs to.
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// The organization's audit log.
    #[command(subcommand)]
    Activities(ActivitiesCommand),
    /// The organization's roles, system and custom.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// Services: list, create, start, stop, wake, delete; --wait for the
    /// state to settle.
    #[command(subcommand)]
    Services(ServicesCommand),
    /// People in the organization.
    #[command(subcommand)]
    Members(MembersCommand),
    /// Invitations to join the organization.
    #[command(subcommand)]
    Invitations(InvitationsCommand),
    /// User-defined functions: `deploy` a folder, versions, uploads and
    /// attachments to services.
    #[command(subcommand)]
    Udfs(UdfsCommand),
    /// Save credentials to the profile, or show which are in use.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Call any operation of the API by its operationId; prints the result
    /// as JSON.
    #[command(after_help = "\
The organization's ID is filled in from --org, the environment, the profile or the only \
organization the key sees when the path takes one and --path organizationId is not given.

A list that pages is read to its end and printed as one JSON array of the items of every \
page. Give --query limit=N (with --query cursor=C or offset=N) for one page: its result on \
standard output, nextCursor and totalCount on standard error.

Examples:
  chc api --list
  chc api instanceGetList --query filter=tag:env=prod
  chc api instanceGet --path serviceId=8b2c...
  chc api instanceStateUpdate --path serviceId=8b2c... --body '{\"command\":\"stop\"}'
  chc api udfCreate --body @udf.json")]
    Api(ApiArgs),
    /// Print a shell completion script (bash, zsh or fish) to standard output.
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Run a local, in-memory emulator of the API until Ctrl-C.
    #[cfg(feature = "emulator")]
    Emulator(clickhouse_cloud_emulator::serve::ServeArgs),
}

/// `chc api`'s arguments.
#[derive(Debug, Clone, Args)]
pub(crate) struct ApiArgs {
    /// The operation's operationId (see --list)
    #[arg(value_name = "OPERATION_ID", required_unless_present = "list")]
    pub(crate) operation: Option<String>,
    /// List every operation: operationId, method, path, area, beta
    #[arg(long, conflicts_with_all = ["operation", "path", "query", "body"])]
    pub(crate) list: bool,
    /// A path parameter (repeatable)
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) path: Vec<String>,
    /// A query parameter (repeatable; a name given twice is a list)
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) query: Vec<String>,
    /// The JSON body: @FILE, - for standard input, or the JSON itself
    #[arg(long, value_name = "@FILE|-|JSON")]
    pub(crate) body: Option<String>,
}

/// Shells `chc completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompletionShell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// The key a command acts on.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyArg {
    /// The key: its UUID (`id`), its exact name, its key ID suffix as `keys
    /// list` shows it (`...ABCD`), or its full key ID (for a key chc created
    /// or is signed in with); an argument that names several keys is refused
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// List keys: name, key ID suffix, roles, state, expiry, creation, last
    /// use and creator (from the activity log, `-` when unavailable).
    List,
    /// Create a key and print its key ID and secret, once.
    #[command(after_help = "\
Without --ip, chc sends no IP access list and the service applies its default, which \
admits any address (the console's \"anywhere\"). chc never sends an empty list: that would \
create a key nobody can use. Pass --ip (repeatable) to restrict the key.

The key ID and secret are printed once and cannot be retrieved again.")]
    Create(CreateArgs),
    /// Show one key.
    Get(KeyArg),
    /// Change a key's name, roles, expiry or IP access list; what is not
    /// given stays as it is.
    #[command(after_help = "\
--role and --role-id together replace the key's roles; a role given by name, system or \
custom, is sent as its ID from the organization's roles list (`chc roles list`). --ip replaces the whole IP access list (0.0.0.0/0 and ::/0 allow any \
address); there is no way to send an empty list, which would lock the key out. --ip is \
refused for the key chc is signed in with: the new list may leave out this machine's address.")]
    Update(UpdateArgs),
    /// Enable a key.
    Enable(KeyArg),
    /// Disable a key (reversible: `chc keys enable`). Refused for the key
    /// chc is signed in with.
    Disable(KeyArg),
    /// Delete a key. Irreversible: it stops working at once.
    #[command(after_help = "\
Asks for confirmation on a terminal; without one (scripts, CI) it refuses unless --yes \
is given. It always refuses to delete the key chc is signed in with.")]
    Delete(DeleteArgs),
}

/// Roles from `--role` and `--role-id`.
#[derive(Debug, Clone, Args)]
pub(crate) struct RoleArgs {
    /// A role by name, system or custom (`admin`, `developer`,
    /// `"Service Admin"`, ...; case, spaces, `-` and `_` do not matter),
    /// sent as its ID from the organization's roles list (repeatable)
    #[arg(long = "role", value_name = "NAME")]
    pub(crate) names: Vec<String>,
    /// A role by UUID (repeatable)
    #[arg(long = "role-id", value_name = "UUID")]
    pub(crate) ids: Vec<Uuid>,
}

impl RoleArgs {
    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty() && self.ids.is_empty()
    }
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The key's name
    #[arg(long, value_name = "NAME")]
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) roles: RoleArgs,
    /// Create the key without any role (it can authenticate and ask who it
    /// is, nothing more, until roles are given)
    #[arg(long)]
    pub(crate) no_role: bool,
    /// When the key stops working: RFC 3339 time, a date (2030-01-31: the
    /// end of that day, 23:59:59 UTC), a duration from now (12h, 30d, 2w,
    /// 1y = 365 days), or `never` [default: never]
    #[arg(long, value_name = "WHEN", value_parser = parse_expiry)]
    pub(crate) expires: Option<Expiry>,
    /// Create the key disabled
    #[arg(long)]
    pub(crate) disabled: bool,
    /// Allow use from this IP or CIDR, with an optional description
    /// (repeatable) [default: no list sent; the service's default admits any
    /// address]
    #[arg(long = "ip", value_name = "CIDR[=DESCRIPTION]", value_parser = parse_ip_entry)]
    pub(crate) ips: Vec<IpAccessListEntry>,
    /// Generate the key ID and secret on this machine and send only their
    /// hashes (`hashData`): the service never sees the secret
    #[arg(long)]
    pub(crate) local_secret: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// New name
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    #[command(flatten)]
    pub(crate) roles: RoleArgs,
    /// New expiry: RFC 3339 time, a date (2030-01-31: the end of that day,
    /// 23:59:59 UTC), a duration from now (12h, 30d, 2w, 1y = 365 days), or
    /// `never` to remove it
    #[arg(long, value_name = "WHEN", value_parser = parse_expiry)]
    pub(crate) expires: Option<Expiry>,
    /// Replaces the IP access list with these entries (repeatable);
    /// `0.0.0.0/0` and `::/0` allow any address
    #[arg(long = "ip", value_name = "CIDR[=DESCRIPTION]", value_parser = parse_ip_entry)]
    pub(crate) ips: Vec<IpAccessListEntry>,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OrgsCommand {
    /// List the organizations the key belongs to.
    List,
    /// Show one organization [default: the current one].
    Get {
        /// Organization UUID
        #[arg(value_name = "UUID")]
        id: Option<Uuid>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RolesCommand {
    /// List roles: name, ID, type (system or custom).
    List,
}

/// The service a command acts on.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServiceArg {
    /// The service: its UUID or its exact name
    #[arg(value_name = "SERVICE")]
    pub(crate) service: String,
}

/// `--wait` and `--timeout`.
#[derive(Debug, Clone, Args)]
pub(crate) struct WaitArgs {
    /// Wait until the service reaches the state the command leads to,
    /// showing its state on a terminal
    #[arg(long)]
    pub(crate) wait: bool,
    /// Give up waiting after this long (90s, 20m, 1h) and exit with code 6;
    /// the work goes on at the service [default: 30m to create, 20m to
    /// start, stop or wake, 45m to delete]
    #[arg(long, requires = "wait", value_name = "DURATION", value_parser = parse_timeout)]
    pub(crate) timeout: Option<Duration>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServicesCommand {
    /// List services: name, ID, state, provider, region, creation.
    List {
        /// Only services with this tag (`env=prod`, or `env` for any
        /// value); repeatable, all must match
        #[arg(long = "tag", value_name = "KEY[=VALUE]")]
        tags: Vec<String>,
    },
    /// Show one service.
    Get(ServiceArg),
    /// Create a service; prints the default user's password, once.
    #[command(after_help = "\
The password of the `default` user is printed once and cannot be retrieved again (it can \
be reset). With --wait, it is printed before the wait begins, so a wait that runs out of \
time loses nothing.

For settings these flags do not cover, send the whole body: \
`chc api instanceCreate --body @service.json`.")]
    Create(ServiceCreateArgs),
    /// Start a stopped service.
    Start {
        #[command(flatten)]
        service: ServiceArg,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Stop a service.
    Stop {
        #[command(flatten)]
        service: ServiceArg,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Wake an idle service.
    Awake {
        #[command(flatten)]
        service: ServiceArg,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Delete a service and its data. Irreversible.
    #[command(after_help = "\
A running service cannot be deleted: chc stops it first and waits until it has stopped, \
then deletes it (a 409 while the service moves between states is retried). Without --wait, \
chc returns once the service accepted the delete (it is then terminating); with --wait, \
once it is gone.

Asks for confirmation on a terminal; without one (scripts, CI) it refuses unless --yes is \
given.")]
    Delete {
        #[command(flatten)]
        service: ServiceArg,
        /// Do not ask for confirmation (needed without a terminal)
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ServiceCreateArgs {
    /// The service's name
    #[arg(long, value_name = "NAME")]
    pub(crate) name: String,
    /// Cloud provider: aws, gcp or azure
    #[arg(long, value_name = "PROVIDER")]
    pub(crate) provider: String,
    /// The provider's region, e.g. us-east-1
    #[arg(long, value_name = "REGION")]
    pub(crate) region: String,
    /// Allow connections from this IP or CIDR, with an optional description
    /// (repeatable, at least one; 0.0.0.0/0 allows any address)
    #[arg(long = "ip", required = true, value_name = "CIDR[=DESCRIPTION]", value_parser = parse_ip_entry)]
    pub(crate) ips: Vec<IpAccessListEntry>,
    /// A tag (repeatable)
    #[arg(long = "tag", value_name = "KEY[=VALUE]")]
    pub(crate) tags: Vec<String>,
    /// Number of replicas
    #[arg(long, value_name = "N")]
    pub(crate) replicas: Option<i64>,
    /// Smallest memory per replica, in GB, for autoscaling
    #[arg(long, value_name = "GB")]
    pub(crate) min_replica_memory_gb: Option<f64>,
    /// Largest memory per replica, in GB, for autoscaling
    #[arg(long, value_name = "GB")]
    pub(crate) max_replica_memory_gb: Option<f64>,
    /// Minutes without queries before the service goes idle
    #[arg(long, value_name = "MINUTES")]
    pub(crate) idle_timeout_minutes: Option<f64>,
    /// Never go idle
    #[arg(long)]
    pub(crate) no_idle_scaling: bool,
    /// Restore this backup into the new service (backup IDs: `chc backups
    /// list SERVICE`)
    #[arg(long, value_name = "UUID")]
    pub(crate) backup_id: Option<Uuid>,
    #[command(flatten)]
    pub(crate) wait: WaitArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MembersCommand {
    /// List members: user ID, name, email, roles, when they joined.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum InvitationsCommand {
    /// List pending invitations: ID, email, roles, creation, expiry.
    List,
    /// Invite someone by email, with roles.
    Create {
        /// Who to invite
        #[arg(long, value_name = "EMAIL")]
        email: String,
        #[command(flatten)]
        roles: RoleArgs,
    },
    /// Withdraw an invitation.
    Delete {
        /// The invitation's UUID (`chc invitations list`)
        #[arg(value_name = "UUID")]
        id: Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum UdfsCommand {
    /// Zip a folder, upload it and create the function (or a new version of
    /// it); attach that version to services, waiting until deployed with
    /// --wait.
    #[command(after_help = "\
The archive: for python3.11 every file of DIR, with main.py (the entry point) at its root; \
for native only amd64/ and arm64/, each holding the `main` binary. Hidden files and \
folders, __pycache__ and a udf.json at the root (clickhousectl's definition file) are left \
out; a symbolic link, or a missing entry point, is a usage error before anything is sent. \
Permissions are kept (a binary stays executable), times are fixed: the same folder makes \
the same archive.

The function is created when `udfs get NAME` finds none, else the archive becomes its next \
version; a version takes the flags given and the API's defaults for the rest, nothing from \
an earlier version. A version is attached once its build is ready, so with --service the \
command waits for the build first; --wait also waits until the version is deployed on every \
service. --timeout bounds each wait (exit code 6 when it runs out; the work goes on). An idle \
service refuses an attach: --wake wakes it first.

Steps by hand: `chc udfs upload-url`, a PUT of the ZIP to its uploadUrl (no Authorization \
header), `chc udfs create --body ...` or `create-version`, `chc udfs attach`, `chc udfs \
get-attachment`.")]
    Deploy(Box<UdfDeployArgs>),
}

/// `chc udfs deploy`'s arguments.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("waiting").args(["wait", "services"]).multiple(true)))]
pub(crate) struct UdfDeployArgs {
    /// The function's name: a letter, then letters, digits or `_` (at most
    /// 64)
    #[arg(value_name = "NAME", value_parser = parse_udf_name)]
    pub(crate) name: String,
    /// The folder of the function's sources
    #[arg(value_name = "DIR")]
    pub(crate) dir: std::path::PathBuf,
    /// The runtime the function runs in
    #[arg(long, value_name = "RUNTIME", value_parser = PossibleValuesParser::new(UdfRuntime::KNOWN))]
    pub(crate) runtime: String,
    /// An argument, NAME:TYPE with a ClickHouse type (repeatable, in order)
    #[arg(long = "arg", value_name = "NAME:TYPE", value_parser = parse_udf_argument)]
    pub(crate) arguments: Vec<(String, String)>,
    /// The ClickHouse type of the result
    #[arg(long, value_name = "TYPE")]
    pub(crate) returns: String,
    /// The result's name (the Native and JSONEachRow formats need it)
    #[arg(long, value_name = "NAME", value_parser = parse_udf_name)]
    pub(crate) return_name: Option<String>,
    /// `executable` starts the command for each block; `executable_pool`
    /// keeps a pool of them running
    #[arg(long = "type", value_name = "TYPE", default_value = "executable", value_parser = PossibleValuesParser::new(UdfType::KNOWN))]
    pub(crate) kind: String,
    /// Processes in the pool (`executable_pool` only) [default: 3]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pub(crate) pool_size: Option<i64>,
    /// The format rows are exchanged in [default: TabSeparated]
    #[arg(long, value_name = "FORMAT")]
    pub(crate) format: Option<String>,
    /// Longest a command may run, in seconds [default: 10]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..))]
    pub(crate) max_command_execution_time: Option<i64>,
    /// Longest a read of the command's output may take, in milliseconds
    /// [default: 10000]
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i64).range(1..))]
    pub(crate) command_read_timeout: Option<i64>,
    /// Longest a write to the command's input may take, in milliseconds
    /// [default: 10000]
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i64).range(1..))]
    pub(crate) command_write_timeout: Option<i64>,
    /// Memory for each process of the function, in MiB [default: the
    /// sandbox's]
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(i64).range(1..=1_048_576))]
    pub(crate) memory_limit_mib: Option<i64>,
    /// Send a row count before each block
    #[arg(long)]
    pub(crate) send_chunk_header: bool,
    /// Same arguments, same result: ClickHouse may reuse cached results
    #[arg(long)]
    pub(crate) deterministic: bool,
    /// The sandbox: `netenable` lets the function reach the network
    /// [default: basic]
    #[arg(long, value_name = "SANDBOX", value_parser = PossibleValuesParser::new(UdfSandboxType::KNOWN))]
    pub(crate) sandbox_type: Option<String>,
    /// Attach the new version to this service: its UUID or exact name
    /// (repeatable)
    #[arg(long = "service", value_name = "SERVICE")]
    pub(crate) services: Vec<String>,
    /// Wake a --service that is idle to attach to it, and wait until it
    /// runs (waking starts its billing) [default: an idle service refuses
    /// the attach]
    #[arg(long, requires = "services")]
    pub(crate) wake: bool,
    /// Wait until the build is ready and the version is deployed on every
    /// --service, showing where it is on a terminal
    #[arg(long)]
    pub(crate) wait: bool,
    /// Give up each wait after this long (90s, 20m, 1h) and exit with code
    /// 6; the work goes on [default: 30m for the build, 15m for each
    /// deployment]
    #[arg(long, requires = "waiting", value_name = "DURATION", value_parser = parse_timeout)]
    pub(crate) timeout: Option<Duration>,
}

/// A function or result name, as the API's pattern has it.
fn parse_udf_name(text: &str) -> Result<String, String> {
    let mut chars = text.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && text.len() <= 64;
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "expected a letter, then letters, digits or `_` (at most 64), got {text:?}"
        ))
    }
}

/// `--arg NAME:TYPE`: the name up to the first `:`, the type (as ClickHouse
/// spells it) after it.
fn parse_udf_argument(text: &str) -> Result<(String, String), String> {
    let (name, kind) = text
        .split_once(':')
        .ok_or_else(|| format!("expected NAME:TYPE (x:UInt64), got {text:?}"))?;
    let name = parse_udf_name(name.trim())?;
    let kind = kind.trim();
    if kind.is_empty() {
        return Err(format!("{text:?} has no type after the `:`"));
    }
    Ok((name, kind.to_owned()))
}

#[derive(Debug, Subcommand)]
pub(crate) enum ActivitiesCommand {
    /// List activities, oldest first.
    List {
        /// Only activities since this time: RFC 3339, or a duration back
        /// from now (12h, 7d, 2w)
        #[arg(long, value_name = "WHEN", value_parser = parse_since)]
        since: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Check credentials with one API call and save them to the profile
    /// (mode 0600).
    #[command(after_help = "\
The key ID comes from --api-key or a prompt. The secret is read without echo on a \
terminal, or from standard input otherwise:
  printf '%s' \"$SECRET\" | chc auth login --api-key ID --secret-stdin
--base-url and --org, when given, are saved too; without --org, the organization is \
saved when the key sees exactly one.

Profile: $CHC_CONFIG_DIR/profile.json, else $XDG_CONFIG_HOME/chc/profile.json, else \
~/.config/chc/profile.json.")]
    Login {
        /// Read the secret from standard input (the whole input, trailing
        /// newline removed)
        #[arg(long)]
        secret_stdin: bool,
    },
    /// Say which credentials are in use, where they come from, and whether
    /// the service accepts them.
    Status,
    /// Delete the profile.
    Logout,
}

/// `--expires`: a time, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// No expiry.
    Never,
    /// Stops working at this time.
    At(DateTime<Utc>),
}

/// `12h`, `30d`, `2w`, `1y` (a year is 365 days; also `m` for minutes and
/// `s` for seconds).
fn parse_span(text: &str) -> Option<TimeDelta> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    if number < 0 {
        return None;
    }
    match unit {
        's' => TimeDelta::try_seconds(number),
        'm' => TimeDelta::try_minutes(number),
        'h' => TimeDelta::try_hours(number),
        'd' => TimeDelta::try_days(number),
        'w' => TimeDelta::try_weeks(number),
        'y' => number.checked_mul(365).and_then(TimeDelta::try_days),
        _ => None,
    }
}

/// `--timeout`: a span such as `90s`, `20m` or `1h`.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_span(text)
        .and_then(|span| span.to_std().ok())
        .filter(|span| !span.is_zero())
        .ok_or_else(|| format!("expected a duration such as 90s, 20m or 1h, got {text:?}"))
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// `--expires`: `never`, a span from now, or an RFC 3339 time in the future.
pub(crate) fn parse_expiry(text: &str) -> Result<Expiry, String> {
    parse_expiry_at(text, Utc::now())
}

/// The last second of a calendar day, in UTC: `2030-01-31` ->
/// `2030-01-31T23:59:59Z`.
fn end_of_day(text: &str) -> Option<DateTime<Utc>> {
    let date = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(23, 59, 59)?.and_utc())
}

fn parse_expiry_at(text: &str, now: DateTime<Utc>) -> Result<Expiry, String> {
    if text.trim().eq_ignore_ascii_case("never") {
        return Ok(Expiry::Never);
    }
    let at = match parse_span(text) {
        Some(span) => now
            .checked_add_signed(span)
            .ok_or_else(|| format!("{text:?} is too far in the future"))?,
        None => parse_time(text)
            .or_else(|| end_of_day(text))
            .ok_or_else(|| {
                format!(
                    "expected an RFC 3339 time (2030-01-31T00:00:00Z), a date (2030-01-31: the end \
                 of that day, UTC), a duration (12h, 30d, 2w, 1y) or `never`, got {text:?}"
                )
            })?,
    };
    if at <= now {
        return Err(format!(
            "{} is in the past",
            at.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    Ok(Expiry::At(at))
}

/// `--since`: a span back from now, or an RFC 3339 time.
fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    let now = Utc::now();
    match parse_span(text) {
        Some(span) => now
            .checked_sub_signed(span)
            .ok_or_else(|| format!("{text:?} is too far back")),
        None => parse_time(text).ok_or_else(|| {
            format!(
                "expected an RFC 3339 time (2030-01-31T00:00:00Z) or a duration (12h, 7d, 2w), got {text:?}"
            )
        }),
    }
}

/// `--ip CIDR[=DESCRIPTION]`: an IP address or network, checked here so a
/// typo is a usage error before any request.
pub(crate) fn parse_ip_entry(text: &str) -> Result<IpAccessListEntry, String> {
    let (source, description) = match text.split_once('=') {
        Some((source, description)) => (source.trim(), Some(description.trim())),
        None => (text.trim(), None),
    };
    let valid =
        source.parse::<ipnet::IpNet>().is_ok() || source.parse::<std::net::IpAddr>().is_ok();
    if !valid {
        return Err(format!(
            "expected an IP address or CIDR (203.0.113.0/24, 2001:db8::/32), got {source:?}"
        ));
    }
    Ok(IpAccessListEntry {
        source: Some(source.to_owned()),
        description: description
            .filter(|description| !description.is_empty())
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn expiry_accepts_spans_times_and_never() {
        let now: DateTime<Utc> = "2030-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(parse_expiry_at("never", now), Ok(Expiry::Never));
        assert_eq!(
            parse_expiry_at("30d", now),
            Ok(Expiry::At("2030-01-31T00:00:00Z".parse().unwrap()))
        );
        assert_eq!(
            parse_expiry_at("12h", now),
            Ok(Expiry::At("2030-01-01T12:00:00Z".parse().unwrap()))
        );
        assert_eq!(
            parse_expiry_at("2030-02-01T01:00:00+01:00", now),
            Ok(Expiry::At("2030-02-01T00:00:00Z".parse().unwrap()))
        );
        assert!(
            parse_expiry_at("2029-12-31T00:00:00Z", now)
                .unwrap_err()
                .contains("past")
        );
        assert!(parse_expiry_at("0d", now).unwrap_err().contains("past"));
        // A date is the end of that day, in UTC; a year is 365 days.
        assert_eq!(
            parse_expiry_at("2030-01-31", now),
            Ok(Expiry::At("2030-01-31T23:59:59Z".parse().unwrap()))
        );
        assert_eq!(
            parse_expiry_at("2030-01-01", now),
            Ok(Expiry::At("2030-01-01T23:59:59Z".parse().unwrap()))
        );
        assert!(
            parse_expiry_at("2029-12-31", now)
                .unwrap_err()
                .contains("past")
        );
        assert_eq!(
            parse_expiry_at("1y", now),
            Ok(Expiry::At("2031-01-01T00:00:00Z".parse().unwrap()))
        );
        assert_eq!(
            parse_expiry_at("90d", now),
            Ok(Expiry::At("2030-04-01T00:00:00Z".parse().unwrap()))
        );
        for bad in [
            "",
            "d",
            "-3d",
            "30x",
            "tomorrow",
            "30 days",
            "9999999999999999w",
            "9999999999999999y",
            "2030-02-30",
            "2030-1-1x",
        ] {
            assert!(parse_expiry_at(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn timeouts_are_positive_spans() {
        assert_eq!(parse_timeout("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("20m"), Ok(Duration::from_secs(1200)));
        for bad in ["0s", "", "20", "soon", "-1m"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn udf_names_and_arguments_follow_the_api() {
        assert_eq!(parse_udf_name("double_it"), Ok("double_it".into()));
        for bad in ["", "1x", "_x", "a-b", "a b", "../x", &"x".repeat(65)] {
            assert!(parse_udf_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_udf_argument("x:UInt64"),
            Ok(("x".into(), "UInt64".into()))
        );
        assert_eq!(
            parse_udf_argument("m: Map(String, UInt8)"),
            Ok(("m".into(), "Map(String, UInt8)".into()))
        );
        for bad in ["x", "x:", ":UInt64", "1x:UInt64"] {
            assert!(parse_udf_argument(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ip_entries_are_checked() {
        let entry = parse_ip_entry("10.0.0.0/8=office").unwrap();
        assert_eq!(entry.source.as_deref(), Some("10.0.0.0/8"));
        assert_eq!(entry.description.as_deref(), Some("office"));
        let entry = parse_ip_entry("2001:db8::1").unwrap();
        assert_eq!(entry.description, None);
        assert!(parse_ip_entry("10.0.0.0/33").is_err());
        assert!(parse_ip_entry("office").is_err());
        assert!(parse_ip_entry("").is_err());
    }
}
