//! The console's "API Keys" page, step by step.
//!
//! With no credentials in the environment (unset or empty) it starts the emulator in this
//! process. With `CLICKHOUSE_CLOUD_API_KEY`, `CLICKHOUSE_CLOUD_API_SECRET` and
//! `CLICKHOUSE_ORG_ID` set it runs against the real service (and creates,
//! then deletes, one key there).
//!
//! ```text
//! cargo run -p clickhouse-cloud-client --example api_keys
//! ```

use std::time::Duration;

use clickhouse_cloud_client::types::ApiKey;
use clickhouse_cloud_client::{Client, Credentials, Error, KeyUpdate, NewApiKey, Role};
use clickhouse_cloud_emulator::{Emulator, RunningEmulator};
use uuid::Uuid;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setup = connect().await?;
    let keys = setup.admin.api_keys(setup.org);

    step("Look up the organization's roles: keys take role IDs");
    let roles = setup.admin.roles(setup.org).table().await?;
    for role in roles.roles() {
        println!(
            "{:<24} {:<8} {}",
            role.name.as_deref().unwrap_or("-"),
            role.r#type.as_ref().map_or("-", |t| t.as_str()),
            role.id.as_deref().unwrap_or("-")
        );
    }
    let developer = roles
        .id_of(Role::Developer)
        .ok_or("the organization has no Developer role")?;
    println!("Role::Developer is sent as assignedRoleIds [{developer}]");

    step("Create a key with a name, a role and an expiry");
    let expires = clickhouse_cloud_client::types::Timestamp::now() + chrono::Duration::days(30);
    let created = keys
        .create(
            NewApiKey::new("quickstart-deploy")
                .role(Role::Developer)
                .expires_at(expires),
        )
        .await?;
    let key_uuid = created
        .key
        .id
        .ok_or("the service returned a key without an id")?;
    let assigned: Vec<_> = created
        .key
        .assigned_roles
        .iter()
        .flatten()
        .filter_map(|r| r.role_id)
        .collect();
    if !assigned.contains(&developer) {
        return Err(format!("the key was given {assigned:?}, not the Developer role").into());
    }
    println!("Key ID:     {}", created.credentials.key_id());
    println!("Key secret: {}", created.credentials.key_secret().expose());
    println!("Store them now: the secret is not shown again.");

    step("Call the API with the new key");
    let as_new_key = client_for(&setup.base_url, created.credentials.clone())?;
    let orgs = call_when_ready(&as_new_key).await?;
    println!("The new key sees {orgs} organization(s).");

    step("List keys");
    print_table(&keys.list().await?);

    step("Rename it, make it an admin key, and let it never expire");
    keys.update(key_uuid, KeyUpdate::new().name("quickstart-renamed"))
        .await?;
    keys.update(key_uuid, KeyUpdate::new().roles([Role::Admin]))
        .await?;
    let key = keys
        .update(key_uuid, KeyUpdate::new().never_expires())
        .await?;
    print_table(std::slice::from_ref(&*key));

    step("Disable it: its requests are refused");
    keys.disable(key_uuid).await?;
    show_refusal(&as_new_key).await;

    step("Enable it again");
    keys.enable(key_uuid).await?;
    let orgs = as_new_key.organizations().list().await?;
    println!("Works again: {} organization(s).", orgs.len());

    step("Delete it: irreversible, and it stops working at once");
    let deleted = keys.delete(key_uuid).await?;
    println!(
        "Deleted (requestId {}).",
        deleted.request_id().unwrap_or("none")
    );
    show_refusal(&as_new_key).await;
    Ok(())
}

/// Where the example runs.
struct Setup {
    admin: Client,
    org: Uuid,
    /// `None` for the real service (or `CLICKHOUSE_API_URL`).
    base_url: Option<String>,
    /// Kept alive until the end of `main`.
    _emulator: Option<RunningEmulator>,
}

/// An admin client and organization: the real service when the environment
/// says so, else an emulator started here.
async fn connect() -> Result<Setup, Box<dyn std::error::Error>> {
    if std::env::var("CLICKHOUSE_CLOUD_API_KEY").is_ok_and(|v| !v.is_empty()) {
        let org: Uuid = std::env::var("CLICKHOUSE_ORG_ID")
            .map_err(|_| "CLICKHOUSE_ORG_ID must be set with CLICKHOUSE_CLOUD_API_KEY")?
            .parse()?;
        println!(
            "Using the service with key ...{}",
            Credentials::from_env()?.key_id().suffix()
        );
        return Ok(Setup {
            admin: Client::from_env()?,
            org,
            base_url: None,
            _emulator: None,
        });
    }
    let emulator = Emulator::builder().start().await?;
    println!(
        "No credentials in the environment: using an emulator at {}",
        emulator.base_url()
    );
    let base_url = Some(emulator.base_url());
    Ok(Setup {
        admin: client_for(&base_url, emulator.bootstrap_credentials().clone())?,
        org: emulator.organization_id(),
        base_url,
        _emulator: Some(emulator),
    })
}

fn client_for(base_url: &Option<String>, credentials: Credentials) -> Result<Client, Error> {
    let mut builder = Client::builder().credentials(credentials);
    if let Some(url) = base_url {
        builder = builder.base_url(url.clone());
    }
    builder.build()
}

/// A new key can take a few seconds to be accepted everywhere: retry a 401
/// briefly before giving up.
async fn call_when_ready(client: &Client) -> Result<usize, Error> {
    let mut delay = Duration::from_millis(500);
    for _ in 0..5 {
        match client.organizations().list().await {
            Ok(orgs) => return Ok(orgs.len()),
            Err(e) if e.status().is_some_and(|s| s.as_u16() == 401) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    client.organizations().list().await.map(|orgs| orgs.len())
}

async fn show_refusal(client: &Client) {
    match client.organizations().list().await {
        Ok(_) => println!("Unexpected: the key still works."),
        Err(e) => println!("Refused as expected: {e}"),
    }
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn print_table(keys: &[ApiKey]) {
    let fmt_time = |t: Option<&clickhouse_cloud_client::types::Timestamp>| {
        t.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    println!(
        "{:<24} {:<6} {:<22} {:<9} {:<17} {:<17} {:<17}",
        "NAME", "KEY", "ROLES", "STATE", "EXPIRES", "CREATED", "LAST USED"
    );
    for key in keys {
        let roles = key
            .roles
            .iter()
            .flatten()
            .map(|r| r.as_str())
            .collect::<Vec<_>>();
        let assigned = key
            .assigned_roles
            .iter()
            .flatten()
            .filter_map(|r| r.role_name.as_deref())
            .collect::<Vec<_>>();
        // The assigned roles' names; the deprecated list only when a
        // service sends nothing else.
        let roles = if assigned.is_empty() {
            roles.join(",")
        } else {
            assigned.join(",")
        };
        println!(
            "{:<24} {:<6} {:<22} {:<9} {:<17} {:<17} {:<17}",
            key.name.as_deref().unwrap_or("-"),
            key.key_suffix.as_deref().unwrap_or("-"),
            roles,
            key.state.as_ref().map_or("-", |s| s.as_str()),
            key.expires()
                .map_or_else(|| "never".to_owned(), |t| fmt_time(Some(t))),
            fmt_time(key.created_at.as_ref()),
            fmt_time(key.used_at.as_ref()),
        );
    }
}
