//! Where credentials, base URL and organization come from, and the client
//! built from them.

use std::fmt;
use std::future::Future;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use clickhouse_cloud_client::auth::{ENV_KEY_ID, ENV_KEY_SECRET};
use clickhouse_cloud_client::transport::{DEFAULT_BASE_URL, ENV_BASE_URL};
use clickhouse_cloud_client::types::Organization;
use clickhouse_cloud_client::{Client, Credentials, KeyId, KeySecret};
use uuid::Uuid;

use crate::cli::GlobalArgs;
use crate::config::{self, LoadedProfile};
use crate::error::CliError;

/// The organization, from the environment.
pub(crate) const ENV_ORG_ID: &str = "CLICKHOUSE_ORG_ID";

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A command-line flag.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// The profile file.
    Profile(PathBuf),
    /// Built in.
    Default,
    /// Chosen by asking the service.
    Auto,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "environment variable {var}"),
            Source::Profile(path) => write!(f, "profile {}", path.display()),
            Source::Default => f.write_str("default"),
            Source::Auto => f.write_str("the only organization this key sees"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Sourced<T> {
    pub(crate) value: T,
    pub(crate) source: Source,
}

/// The credentials in use: key ID and secret may come from different places
/// (e.g. `--api-key` with the secret in the environment).
#[derive(Debug, Clone)]
pub(crate) struct ResolvedCredentials {
    pub(crate) credentials: Credentials,
    pub(crate) key_id_source: Source,
    pub(crate) secret_source: Source,
}

/// Settings for one run, resolved from flags, environment and profile.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) credentials: Result<ResolvedCredentials, CliError>,
    pub(crate) base_url: Sourced<String>,
    pub(crate) org: Option<Sourced<Uuid>>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

impl Settings {
    /// Flags, then environment, then profile.
    pub(crate) fn resolve(global: &GlobalArgs) -> Result<Self, CliError> {
        let profile = config::load_profile()?;
        Self::resolve_with(global, profile.as_ref(), env)
    }

    /// [`Settings::resolve`] with the environment read through `env`
    /// (non-empty values only), so tests need not touch the process's.
    pub(crate) fn resolve_with(
        global: &GlobalArgs,
        profile: Option<&LoadedProfile>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CliError> {
        let from_profile = |path: &PathBuf| Source::Profile(path.clone());

        let key_id = global
            .api_key
            .clone()
            .map(|id| (id, Source::Flag("--api-key")))
            .or_else(|| env(ENV_KEY_ID).map(|id| (id, Source::Env(ENV_KEY_ID))))
            .or_else(|| {
                profile.map(|loaded| (loaded.profile.key_id.clone(), from_profile(&loaded.path)))
            });
        // The profile is one bundle: its secret, base URL and organization
        // belong to its key ID and apply only when that key is in use.
        let profile = profile.filter(|loaded| {
            key_id
                .as_ref()
                .is_some_and(|(id, _)| *id == loaded.profile.key_id)
        });
        let secret = global
            .api_secret
            .clone()
            .map(|secret| (Ok(secret), Source::Flag("--api-secret")))
            .or_else(|| {
                env(ENV_KEY_SECRET)
                    .map(|secret| (KeySecret::new(secret), Source::Env(ENV_KEY_SECRET)))
            })
            .or_else(|| {
                profile.map(|loaded| {
                    (
                        Ok(loaded.profile.key_secret.clone()),
                        from_profile(&loaded.path),
                    )
                })
            });
        let credentials = match (key_id, secret) {
            (Some((id, key_id_source)), Some((secret, secret_source))) => {
                let key_id = KeyId::new(id).map_err(|error| {
                    CliError::Usage(format!("{error} (key ID from {key_id_source})"))
                })?;
                let secret = secret.map_err(|error| {
                    CliError::Usage(format!("{error} (secret from {secret_source})"))
                })?;
                Ok(ResolvedCredentials {
                    credentials: Credentials::new(key_id, secret),
                    key_id_source,
                    secret_source,
                })
            }
            (None, _) => Err(CliError::Usage(format!(
                "no credentials: pass --api-key and --api-secret, set {ENV_KEY_ID} and \
                 {ENV_KEY_SECRET}, or run `chc auth login`"
            ))),
            (Some((_, source)), None) => Err(CliError::Usage(format!(
                "no secret for the key ID from {source}: pass --api-secret, set {ENV_KEY_SECRET}, \
                 or run `chc auth login`"
            ))),
        };

        let base_url = global
            .base_url
            .clone()
            .map(|url| (url, Source::Flag("--base-url")))
            .or_else(|| env(ENV_BASE_URL).map(|url| (url, Source::Env(ENV_BASE_URL))))
            .or_else(|| {
                profile.and_then(|loaded| {
                    loaded
                        .profile
                        .base_url
                        .clone()
                        .map(|url| (url, from_profile(&loaded.path)))
                })
            })
            .map_or_else(
                || Sourced {
                    value: DEFAULT_BASE_URL.to_owned(),
                    source: Source::Default,
                },
                |(value, source)| Sourced { value, source },
            );

        let org = match (global.org, env(ENV_ORG_ID)) {
            (Some(id), _) => Some(Sourced {
                value: id,
                source: Source::Flag("--org"),
            }),
            (None, Some(text)) => Some(Sourced {
                value: Uuid::parse_str(text.trim()).map_err(|_| {
                    CliError::Usage(format!("{ENV_ORG_ID} is not a UUID: {text:?}"))
                })?,
                source: Source::Env(ENV_ORG_ID),
            }),
            (None, None) => profile.and_then(|loaded| {
                loaded.profile.organization_id.map(|id| Sourced {
                    value: id,
                    source: from_profile(&loaded.path),
                })
            }),
        };

        Ok(Self {
            credentials,
            base_url,
            org,
        })
    }
}

/// Builds a client for `base_url` signed with `credentials`.
pub(crate) fn build_client(credentials: &Credentials, base_url: &str) -> Result<Client, CliError> {
    Ok(Client::builder()
        .credentials(credentials.clone())
        .base_url(base_url)
        .build()?)
}

/// A ready client and the settings it came from.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) credentials: ResolvedCredentials,
    pub(crate) org: Option<Sourced<Uuid>>,
}

impl Session {
    /// Resolves settings and builds the client; fails without credentials.
    pub(crate) fn open(global: &GlobalArgs) -> Result<Self, CliError> {
        let Settings {
            credentials,
            base_url,
            org,
        } = Settings::resolve(global)?;
        let credentials = credentials?;
        let client = build_client(&credentials.credentials, &base_url.value)?;
        Ok(Self {
            client,
            credentials,
            org,
        })
    }

    /// The organization: the configured one, else the only one the key sees.
    pub(crate) async fn org(&self) -> Result<Sourced<Uuid>, CliError> {
        if let Some(org) = &self.org {
            return Ok(org.clone());
        }
        let orgs = wait(
            "Finding the organization",
            self.client.organizations().list(),
        )
        .await?;
        sole_org(&orgs).map(|value| Sourced {
            value,
            source: Source::Auto,
        })
    }
}

/// The ID of the only organization in `orgs`, or a usage error saying how
/// to pick one.
pub(crate) fn sole_org(orgs: &[Organization]) -> Result<Uuid, CliError> {
    match orgs {
        [only] => only
            .id
            .ok_or_else(|| CliError::Other("the organization has no ID".into())),
        [] => Err(CliError::Other("this key sees no organization".into())),
        several => {
            let ids: Vec<String> = several
                .iter()
                .map(|org| {
                    format!(
                        "{} ({})",
                        org.id.map_or_else(|| "?".into(), |id| id.to_string()),
                        org.name.as_deref().unwrap_or("unnamed")
                    )
                })
                .collect();
            Err(CliError::Usage(format!(
                "this key sees {} organizations: pick one with --org or {ENV_ORG_ID}: {}",
                several.len(),
                ids.join(", ")
            )))
        }
    }
}

/// Refuses a delete that was not confirmed with `--yes` when there is no
/// terminal to ask on (scripts, CI): a usage error, raised before any
/// request. `what` names the resource (`key "ci"`), `consequence` what
/// `--yes` lets go (`it`, `it and its data`).
pub(crate) fn refuse_unconfirmed(yes: bool, what: &str, consequence: &str) -> Result<(), CliError> {
    if yes || std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "refusing to delete {what} without confirmation: there is no terminal to ask on; pass \
         --yes to delete {consequence} (irreversible)"
    )))
}

/// Asks `question` on the terminal, then `Type "yes" to delete it:`; true
/// only for an explicit "yes".
pub(crate) fn confirm_delete(question: &str) -> Result<bool, CliError> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question}\nType \"yes\" to delete it: ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|error| CliError::Other(format!("cannot read the answer: {error}")))?;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}

/// Awaits `future`, with a spinner saying `message` on standard error when
/// it is a terminal (nothing at all in pipes).
pub(crate) async fn wait<T>(message: &str, future: impl Future<Output = T>) -> T {
    if !std::io::stderr().is_terminal() {
        return future.await;
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    spinner.set_message(format!("{message}..."));
    spinner.enable_steady_tick(Duration::from_millis(100));
    let output = future.await;
    spinner.finish_and_clear();
    output
}

/// Runs a client wait, with a live line on standard error when it is a
/// terminal (`service analytics: provisioning, 1m 12s`), nothing at all in
/// pipes; `budget` replaces the wait's default when given.
pub(crate) async fn follow<T: Send + 'static>(
    label: &str,
    wait: clickhouse_cloud_client::Wait<T>,
    budget: Option<Duration>,
) -> Result<T, clickhouse_cloud_client::Error> {
    let wait = match budget {
        Some(budget) => wait.budget(budget),
        None => wait,
    };
    if !std::io::stderr().is_terminal() {
        return wait.await;
    }
    let line = indicatif::ProgressBar::new_spinner();
    line.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}, {elapsed}") {
        line.set_style(style);
    }
    line.set_message(format!("{label}: waiting"));
    line.enable_steady_tick(Duration::from_millis(100));
    let shown = line.clone();
    let label = label.to_owned();
    let output = wait
        .on_progress(move |progress| {
            let state = progress.state.as_deref().unwrap_or("gone");
            shown.set_message(format!("{label}: {state}"));
        })
        .await;
    line.finish_and_clear();
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Output;
    use crate::config::Profile;

    fn global() -> GlobalArgs {
        GlobalArgs {
            base_url: None,
            api_key: None,
            api_secret: None,
            org: None,
            output: Output::Table,
        }
    }

    fn profile(key_id: &str) -> LoadedProfile {
        LoadedProfile {
            profile: Profile {
                key_id: key_id.into(),
                key_secret: KeySecret::new("profile-secret".into()).unwrap(),
                base_url: Some("http://127.0.0.1:1".into()),
                organization_id: Some(Uuid::from_u128(1)),
            },
            path: PathBuf::from("/cfg/profile.json"),
        }
    }

    /// An environment with nothing set: the process's own is never read.
    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flags_win_over_the_profile_and_the_environment() {
        let mut args = global();
        args.api_key = Some("flag-id".into());
        args.api_secret = Some(KeySecret::new("flag-secret".into()).unwrap());
        args.base_url = Some("http://example.test".into());
        args.org = Some(Uuid::from_u128(2));
        let everything = |name: &str| Some(format!("env-{name}"));
        let settings =
            Settings::resolve_with(&args, Some(&profile("profile-id")), everything).unwrap();
        let creds = settings.credentials.unwrap();
        assert_eq!(creds.credentials.key_id().as_str(), "flag-id");
        assert_eq!(creds.credentials.key_secret().expose(), "flag-secret");
        assert_eq!(creds.key_id_source, Source::Flag("--api-key"));
        assert_eq!(creds.secret_source, Source::Flag("--api-secret"));
        assert_eq!(settings.base_url.value, "http://example.test");
        assert_eq!(settings.org.unwrap().value, Uuid::from_u128(2));
    }

    #[test]
    fn the_environment_wins_over_the_profile() {
        let env = |name: &str| (name == ENV_KEY_SECRET).then(|| "env-secret".to_owned());
        let settings =
            Settings::resolve_with(&global(), Some(&profile("profile-id")), env).unwrap();
        let creds = settings.credentials.unwrap();
        assert_eq!(creds.credentials.key_id().as_str(), "profile-id");
        assert_eq!(creds.credentials.key_secret().expose(), "env-secret");
        assert_eq!(creds.secret_source, Source::Env(ENV_KEY_SECRET));
    }

    #[test]
    fn the_profile_applies_only_to_its_own_key() {
        let mut args = global();
        args.api_key = Some("other-id".into());
        let settings = Settings::resolve_with(&args, Some(&profile("profile-id")), no_env).unwrap();
        assert!(matches!(settings.credentials, Err(CliError::Usage(_))));
        // Nor do its base URL and organization.
        assert_eq!(settings.base_url.source, Source::Default);
        assert!(settings.org.is_none());

        let settings =
            Settings::resolve_with(&global(), Some(&profile("profile-id")), no_env).unwrap();
        let creds = settings.credentials.unwrap();
        assert_eq!(creds.credentials.key_secret().expose(), "profile-secret");
        assert!(matches!(creds.secret_source, Source::Profile(_)));
    }
}
