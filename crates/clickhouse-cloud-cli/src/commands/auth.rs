//! `chc auth ...`: the profile, and which credentials are in use.

use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};

use clickhouse_cloud_client::auth::{ENV_KEY_ID, ENV_KEY_SECRET};
use clickhouse_cloud_client::transport::{DEFAULT_BASE_URL, ENV_BASE_URL};
use clickhouse_cloud_client::types::Organization;
use clickhouse_cloud_client::{Credentials, KeyId, KeySecret};
use serde_json::json;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::cli::{AuthCommand, GlobalArgs, Output};
use crate::commands::keys::SignedIn;
use crate::config::{self, Profile};
use crate::context::{
    ENV_ORG_ID, ResolvedCredentials, Session, Settings, Source, Sourced, build_client, sole_org,
    wait,
};
use crate::error::CliError;
use crate::output::{self, print_json, print_text};

/// Runs one `auth` subcommand.
pub(crate) async fn run(command: AuthCommand, global: &GlobalArgs) -> Result<(), CliError> {
    match command {
        AuthCommand::Login { secret_stdin } => login(global, secret_stdin).await,
        AuthCommand::Status => status(global).await,
        AuthCommand::Logout => {
            let removed = config::remove_profile()?;
            if global.output == Output::Json {
                return print_json(&json!({ "removed": removed }));
            }
            print_text(&match removed {
                Some(path) => format!("Removed {}.\n", path.display()),
                None => "No profile to remove.\n".into(),
            })
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Reads one line from the terminal after a prompt on standard error.
fn prompt_line(prompt: &str) -> Result<String, CliError> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| CliError::Other(format!("cannot read standard input: {error}")))?;
    Ok(line.trim().to_owned())
}

fn read_secret(global: &GlobalArgs, secret_stdin: bool) -> Result<KeySecret, CliError> {
    if let Some(secret) = &global.api_secret {
        return Ok(secret.clone());
    }
    let secret = if secret_stdin || !std::io::stdin().is_terminal() {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map_err(|error| CliError::Other(format!("cannot read standard input: {error}")))?;
        let trimmed = text.trim_end_matches(['\n', '\r']).to_owned();
        if trimmed.is_empty() {
            return Err(CliError::Usage(
                "no secret on standard input (printf '%s' \"$SECRET\" | chc auth login --api-key ID --secret-stdin)"
                    .into(),
            ));
        }
        trimmed
    } else {
        rpassword::prompt_password("Key secret (not echoed): ")
            .map_err(|error| CliError::Other(format!("cannot read the secret: {error}")))?
    };
    KeySecret::new(secret).map_err(|error| CliError::Usage(error.to_string()))
}

async fn login(global: &GlobalArgs, secret_stdin: bool) -> Result<(), CliError> {
    let key_id = match &global.api_key {
        Some(id) => id.clone(),
        None if std::io::stdin().is_terminal() && !secret_stdin => prompt_line("Key ID: ")?,
        None => {
            return Err(CliError::Usage(
                "pass --api-key KEY_ID when standard input is not a terminal".into(),
            ));
        }
    };
    let key_id = KeyId::new(key_id).map_err(|error| CliError::Usage(error.to_string()))?;
    let secret = read_secret(global, secret_stdin)?;
    let credentials = Credentials::new(key_id, secret);

    let base_url = global.base_url.clone().or_else(|| env(ENV_BASE_URL));
    let org = match (global.org, env(ENV_ORG_ID)) {
        (Some(id), _) => Some(id),
        (None, Some(text)) => Some(
            Uuid::parse_str(text.trim())
                .map_err(|_| CliError::Usage(format!("{ENV_ORG_ID} is not a UUID: {text:?}")))?,
        ),
        (None, None) => None,
    };
    let client = build_client(
        &credentials,
        base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
    )?;
    // The one call that checks the credentials before anything is saved.
    let orgs = wait("Checking the credentials", client.organizations().list())
        .await?
        .into_result();
    let org = match org {
        Some(id) if orgs.iter().any(|known| known.id == Some(id)) => Some(id),
        Some(id) => {
            return Err(CliError::Usage(format!(
                "the key does not see organization {id}; nothing was saved"
            )));
        }
        None => sole_org(&orgs).ok(),
    };

    let path = config::save_profile(&Profile {
        key_id: credentials.key_id().as_str().to_owned(),
        key_secret: credentials.key_secret().clone(),
        base_url: base_url.clone(),
        organization_id: org,
    })?;

    if global.output == Output::Json {
        return print_json(&json!({
            "profile": path,
            "keySuffix": credentials.key_id().suffix(),
            "baseUrl": base_url,
            "organizationId": org,
        }));
    }
    let mut text = format!(
        "Credentials for key ...{} accepted and saved to {} (mode 0600).\n",
        credentials.key_id().suffix(),
        path.display()
    );
    match org.and_then(|id| orgs.iter().find(|known| known.id == Some(id))) {
        Some(found) => text.push_str(&format!("Organization: {}\n", org_label(found))),
        None => text.push_str(&format!(
            "The key sees {} organizations: pick one with --org or {ENV_ORG_ID}.\n",
            orgs.len()
        )),
    }
    print_text(&text)
}

fn org_label(org: &Organization) -> String {
    format!(
        "{} {}",
        org.id.map_or_else(|| "-".into(), |id| id.to_string()),
        output::quoted(org.name.as_deref().unwrap_or("unnamed"))
    )
}

/// Where the credentials came from, in one phrase.
fn credentials_source(resolved: &ResolvedCredentials) -> String {
    match (&resolved.key_id_source, &resolved.secret_source) {
        (Source::Flag(_), Source::Flag(_)) => "flags --api-key and --api-secret".into(),
        (Source::Env(_), Source::Env(_)) => {
            format!("environment variables {ENV_KEY_ID} and {ENV_KEY_SECRET}")
        }
        (Source::Profile(path), Source::Profile(_)) => format!("profile {}", path.display()),
        (id, secret) => format!("key ID from {id}, secret from {secret}"),
    }
}

/// The key in use: its name as the service gives it (`whoamiGet`), else
/// from the listing once its UUID is known; `None` with the reason when
/// neither says.
async fn own_key(session: &Session, org: Uuid) -> (Option<Uuid>, Result<Option<String>, String>) {
    let own = SignedIn::ask(session, org).await;
    if let Some(name) = own.name.clone() {
        return (own.id_among(&[]), Ok(Some(name)));
    }
    let keys = match wait("Listing keys", session.client.api_keys(org).list()).await {
        Ok(keys) => keys.into_result(),
        Err(error) => {
            return (
                own.id_among(&[]),
                Err(format!("cannot list keys: {}", CliError::from(error))),
            );
        }
    };
    match own.id_among(&keys) {
        Some(id) => match keys.iter().find(|key| key.id == Some(id)) {
            Some(key) => (Some(id), Ok(key.name.clone())),
            None => (Some(id), Err("not among the organization's keys".into())),
        },
        None => (
            None,
            Err("the service did not say which key is in use".into()),
        ),
    }
}

async fn status(global: &GlobalArgs) -> Result<(), CliError> {
    let settings = Settings::resolve(global)?;
    let base = format!("{} ({})", settings.base_url.value, settings.base_url.source);
    let resolved = match &settings.credentials {
        Ok(resolved) => resolved.clone(),
        Err(_) => {
            if global.output == Output::Table {
                print_text(&output::fields(&[
                    ("Credentials", "none".into()),
                    ("Base URL", base),
                ]))?;
            }
            return settings.credentials.map(|_| ());
        }
    };
    let own = resolved.credentials.key_id().clone();
    let client = build_client(&resolved.credentials, &settings.base_url.value)?;
    let mut pairs = vec![
        ("Credentials from", credentials_source(&resolved)),
        ("Key", format!("...{}", own.suffix())),
        ("Base URL", base),
    ];

    let orgs = match wait("Checking the credentials", client.organizations().list()).await {
        Ok(orgs) => orgs.into_result(),
        Err(error) => {
            pairs.push(("Status", "refused by the service".into()));
            if global.output == Output::Table {
                print_text(&output::fields(&pairs))?;
            }
            return Err(error.into());
        }
    };
    let org = match &settings.org {
        Some(org) => Some((org.value, org.source.clone())),
        None => sole_org(&orgs).ok().map(|id| (id, Source::Auto)),
    };
    let (key_uuid, name) = match org.as_ref().map(|(id, _)| *id) {
        Some(id) => {
            let session = Session {
                client: client.clone(),
                credentials: resolved.clone(),
                org: Some(Sourced {
                    value: id,
                    source: Source::Auto,
                }),
            };
            own_key(&session, id).await
        }
        None => (None, Err("no organization chosen".into())),
    };

    if global.output == Output::Json {
        return print_json(&json!({
            "keySuffix": own.suffix(),
            "keyName": name.as_ref().ok().cloned().flatten(),
            "keyUuid": key_uuid,
            "keyIdSource": resolved.key_id_source.to_string(),
            "secretSource": resolved.secret_source.to_string(),
            "baseUrl": settings.base_url.value,
            "baseUrlSource": settings.base_url.source.to_string(),
            "organizationId": org.as_ref().map(|(id, _)| *id),
            "organizationSource": org.as_ref().map(|(_, source)| source.to_string()),
            "accepted": true,
        }));
    }
    let name = match name {
        Ok(Some(name)) => output::quoted(&name),
        Ok(None) => "unnamed".into(),
        Err(why) => format!("unknown ({why})"),
    };
    pairs[1].1 = format!("...{} {name}", own.suffix());
    pairs.push((
        "Organization",
        match &org {
            Some((id, source)) => {
                let label = orgs
                    .iter()
                    .find(|known| known.id == Some(*id))
                    .map_or_else(|| id.to_string(), org_label);
                format!("{label} ({source})")
            }
            None => format!(
                "none chosen: the key sees {} organizations (use --org or {ENV_ORG_ID})",
                orgs.len()
            ),
        },
    ));
    pairs.push(("Status", "accepted by the service".into()));
    print_text(&output::fields(&pairs))
}
