//! `chc keys ...`.

use std::collections::HashMap;
use std::time::Duration;

use clickhouse_cloud_client::types::ops::ActivityListQuery;
use clickhouse_cloud_client::types::{Activity, ActivityType, ApiKey};
use clickhouse_cloud_client::{ApiKeys, KeyId, KeyUpdate, NewApiKey, Role};
use uuid::Uuid;

use crate::cli::{
    CreateArgs, DeleteArgs, Expiry, GlobalArgs, KeyArg, KeysCommand, Output, UpdateArgs,
};
use crate::commands::roles::role_ids;
use crate::config::{KeyRecord, KeyRecords};
use crate::context::{Session, confirm_delete, refuse_unconfirmed, wait};
use crate::error::CliError;
use crate::output::{self, print_json, print_text};

/// The longest the optional "created by" lookup may take.
const CREATORS_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one `keys` subcommand.
pub(crate) async fn run(command: KeysCommand, global: &GlobalArgs) -> Result<(), CliError> {
    // Refusals that need no request come first.
    match &command {
        KeysCommand::Create(args) if args.roles.is_empty() && !args.no_role => {
            return Err(CliError::Usage(
                "give the key a role: --role NAME (admin, developer, ...: `chc roles list`) or \
                 --role-id UUID, or --no-role for a key that can only say who it is"
                    .into(),
            ));
        }
        KeysCommand::Create(args) if !args.roles.is_empty() && args.no_role => {
            return Err(CliError::Usage(
                "--no-role cannot go with --role or --role-id".into(),
            ));
        }
        KeysCommand::Update(args) if is_empty_update(args) => {
            return Err(CliError::Usage(
                "nothing to change: give --name, --role, --role-id, --expires or --ip".into(),
            ));
        }
        KeysCommand::Delete(args) => {
            refuse_unconfirmed(args.yes, &format!("key {:?}", args.key.key), "it")?;
        }
        _ => {}
    }

    let session = Session::open(global)?;
    let org = session.org().await?.value;
    let keys = session.client.api_keys(org);
    let output = global.output;
    match command {
        KeysCommand::List => list(&session, &keys, org, output).await,
        KeysCommand::Create(args) => create(&session, &keys, org, args, output).await,
        KeysCommand::Get(KeyArg { key }) => {
            let id = resolve(&session, &keys, org, &key).await?.id;
            let found = wait("Fetching the key", keys.get(id)).await?;
            if output == Output::Json {
                return print_json(&*found);
            }
            print_text(&output::key_details(&found, None))
        }
        KeysCommand::Update(args) => update(&session, &keys, org, args, output).await,
        KeysCommand::Enable(KeyArg { key }) => {
            let id = resolve(&session, &keys, org, &key).await?.id;
            let key = wait("Enabling the key", keys.enable(id)).await?;
            if output == Output::Json {
                return print_json(&*key);
            }
            print_text(&format!("Enabled key {}.\n", output::key_label(&key)))
        }
        KeysCommand::Disable(KeyArg { key }) => {
            let resolved = resolve(&session, &keys, org, &key).await?;
            let id = resolved.id;
            let (target, listed) = target_of(&keys, resolved).await?;
            refuse_own_key(&session, org, &target, &listed, "disable").await?;
            let key = wait("Disabling the key", keys.disable(id)).await?;
            if output == Output::Json {
                return print_json(&*key);
            }
            print_text(&format!(
                "Disabled key {}. It is refused until enabled again (`chc keys enable`).\n",
                output::key_label(&key)
            ))
        }
        KeysCommand::Delete(args) => delete(&session, &keys, org, args, output).await,
    }
}

fn is_empty_update(args: &UpdateArgs) -> bool {
    args.name.is_none() && args.roles.is_empty() && args.expires.is_none() && args.ips.is_empty()
}

/// Keys in creation order (the service's order is not stable).
fn sorted(mut keys: Vec<ApiKey>) -> Vec<ApiKey> {
    keys.sort_by(|a, b| (a.created_at, &a.name, a.id).cmp(&(b.created_at, &b.name, b.id)));
    keys
}

async fn list(
    session: &Session,
    keys: &ApiKeys,
    org: Uuid,
    output: Output,
) -> Result<(), CliError> {
    let listed = wait("Listing keys", keys.list()).await?;
    if output == Output::Json {
        return print_json(&*listed);
    }
    let listed = sorted(listed.into_result());
    let creators = creators(session, org, &listed).await;
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|key| {
            vec![
                key.name.clone().unwrap_or_else(|| "-".into()),
                output::suffix(key),
                output::roles(key),
                output::state(key),
                output::time_or(key.expire_at.as_ref(), "never"),
                output::time_or(key.created_at.as_ref(), "-"),
                output::time_or(key.used_at.as_ref(), "never"),
                key.id
                    .and_then(|id| creators.get(&id).cloned())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_text(&output::table(
        &[
            "NAME",
            "KEY ID",
            "ROLES",
            "STATE",
            "EXPIRES",
            "CREATED",
            "LAST USED",
            "CREATED BY",
        ],
        &rows,
    ))
}

/// Who created each key, from `key_create` activities. Empty when the
/// activity log cannot be read (forbidden, failed): the listing goes on.
async fn creators(session: &Session, org: Uuid, keys: &[ApiKey]) -> HashMap<Uuid, String> {
    let query = ActivityListQuery {
        from_date: keys.iter().filter_map(|key| key.created_at).min(),
        to_date: None,
    };
    // Optional: bounded, so a client waiting out a spent rate-limit budget
    // does not hold the listing up.
    let activities = wait(
        "Reading the activity log",
        tokio::time::timeout(CREATORS_TIMEOUT, session.client.activities(org).list(query)),
    )
    .await;
    let Ok(Ok(activities)) = activities else {
        return HashMap::new();
    };
    activities
        .iter()
        .filter(|activity| activity.r#type == Some(ActivityType::KeyCreate))
        .filter_map(|activity| {
            let target = Uuid::parse_str(activity.target_key_id.as_deref()?).ok()?;
            Some((target, actor_label(activity, keys)))
        })
        .collect()
}

/// The actor of an activity: the acting key's name and suffix when it is
/// among `keys`, else what the log says about the actor.
pub(crate) fn actor_label(activity: &Activity, keys: &[ApiKey]) -> String {
    let actor_id = activity.actor_id.as_deref().unwrap_or_default();
    let by_uuid = Uuid::parse_str(actor_id)
        .ok()
        .and_then(|id| keys.iter().find(|key| key.id == Some(id)));
    // An API actor's ID can be the key ID: match its suffix when unique.
    let by_suffix = || {
        let suffix = last_four(actor_id)?;
        let mut matches = keys
            .iter()
            .filter(|key| key.key_suffix.as_deref() == Some(suffix));
        let first = matches.next()?;
        matches.next().is_none().then_some(first)
    };
    let key = if Uuid::parse_str(actor_id).is_ok() {
        by_uuid
    } else {
        by_suffix()
    };
    if let Some(key) = key {
        return format!(
            "{} ({})",
            key.name.as_deref().unwrap_or("unnamed"),
            output::suffix(key)
        );
    }
    activity
        .actor_details
        .clone()
        .filter(|details| !details.is_empty())
        .or_else(|| activity.actor_id.clone().filter(|id| !id.is_empty()))
        .unwrap_or_else(|| "-".into())
}

fn last_four(text: &str) -> Option<&str> {
    let start = text.char_indices().rev().nth(3)?.0;
    Some(&text[start..])
}

/// `keys create --output json`: the create result's shape.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedOutput<'a> {
    key: &'a ApiKey,
    key_id: &'a str,
    key_secret: &'a str,
}

async fn create(
    session: &Session,
    keys: &ApiKeys,
    org: Uuid,
    args: CreateArgs,
    output: Output,
) -> Result<(), CliError> {
    let mut new_key = NewApiKey::new(args.name.clone());
    for id in role_ids(session, org, &args.roles).await? {
        new_key = new_key.role(Role::Id(id));
    }
    if let Some(Expiry::At(at)) = args.expires {
        new_key = new_key.expires_at(at);
    }
    if args.disabled {
        new_key = new_key.disabled();
    }
    // No `--ip`: no list at all, so the service's default (any address)
    // applies. Never an empty list, which would admit nobody.
    if !args.ips.is_empty() {
        new_key = new_key.ip_access_list(args.ips);
    }
    let body = new_key;

    let created = if args.local_secret {
        wait("Creating the key", keys.create_with_local_secret(body)).await
    } else {
        wait("Creating the key", keys.create(body)).await
    };
    let created = match created {
        Ok(created) => created.into_result(),
        Err(error) if error.may_have_acted() => {
            return Err(CliError::MayExist {
                error: Box::new(error),
                what: format!("a key named {}", output::quoted(&args.name)),
                check: "chc keys list",
            });
        }
        Err(error) => return Err(error.into()),
    };
    let key_id = created.credentials.key_id().as_str().to_owned();

    if output == Output::Json {
        // The one output that carries a secret: the create result, with the
        // locally generated key ID and secret when --local-secret was used.
        print_json(&CreatedOutput {
            key: &created.key,
            key_id: &key_id,
            key_secret: created.credentials.key_secret().expose(),
        })?;
    } else {
        let mut text = format!(
            "Created key {}, id {}.\n\n",
            output::key_label(&created.key),
            created
                .key
                .id
                .map_or_else(|| "unknown".into(), |id| id.to_string())
        );
        text.push_str(&format!("Key ID: {key_id}\n"));
        text.push_str(&format!(
            "Key secret: {}\n\n",
            created.credentials.key_secret().expose()
        ));
        text.push_str(
            "Warning: the key ID and secret are shown only this once and cannot be retrieved \
             again. Store them now.\n",
        );
        if args.local_secret {
            text.push_str(
                "The secret was generated on this machine; the service only has its hash.\n",
            );
        }
        text.push_str(
            "A new key can take a few seconds before every part of the service accepts it.\n",
        );
        print_text(&text)?;
    }

    if created
        .key
        .ip_access_list
        .as_ref()
        .is_some_and(Vec::is_empty)
    {
        eprintln!(
            "warning: the service gave the key an empty IP access list, so nobody can use it; \
             allow addresses with `chc keys update {key_id} --ip CIDR`"
        );
    }
    if let Some(id) = created.key.id {
        let record = KeyRecord {
            key_id,
            id,
            organization_id: org,
            name: created.key.name.clone(),
        };
        if let Err(error) = KeyRecords::add(record) {
            eprintln!("warning: the key was created but not recorded locally: {error}");
        }
    }
    Ok(())
}

async fn update(
    session: &Session,
    keys: &ApiKeys,
    org: Uuid,
    args: UpdateArgs,
    output: Output,
) -> Result<(), CliError> {
    let resolved = resolve(session, keys, org, &args.key.key).await?;
    let id = resolved.id;
    if !args.ips.is_empty() {
        // A new IP access list may leave out the address this command runs
        // from, and nothing here can tell which address the service sees.
        let (target, listed) = target_of(keys, resolved).await?;
        refuse_own_key(
            session,
            org,
            &target,
            &listed,
            "replace the IP access list of",
        )
        .await?;
    }
    let roles = role_ids(session, org, &args.roles).await?;
    let mut changes = KeyUpdate::new();
    if let Some(name) = args.name {
        changes = changes.name(name);
    }
    if !args.roles.is_empty() {
        changes = changes.roles(roles.into_iter().map(Role::Id));
    }
    match args.expires {
        Some(Expiry::Never) => changes = changes.never_expires(),
        Some(Expiry::At(at)) => changes = changes.expires_at(at),
        None => {}
    }
    if !args.ips.is_empty() {
        changes = changes.ip_access_list(args.ips);
    }
    let key = wait("Updating the key", keys.update(id, changes)).await?;
    if output == Output::Json {
        return print_json(&*key);
    }
    print_text(&format!(
        "Updated key {}.\n{}",
        output::key_label(&key),
        output::key_details(&key, None)
    ))
}

/// A key found from the command line, and the listing when one was needed.
struct Resolved {
    id: Uuid,
    listed: Option<Vec<ApiKey>>,
}

/// How an argument named a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    /// Its full key ID: from the record of keys this tool created, or the
    /// key it is signed in with.
    KeyId,
    /// Its name, exactly.
    Name,
    /// Its key ID suffix, written as `keys list` shows it (`...ABCD`).
    Suffix,
}

impl Naming {
    fn phrase(self) -> &'static str {
        match self {
            Naming::KeyId => "by key ID",
            Naming::Name => "by name",
            Naming::Suffix => "by key ID suffix",
        }
    }
}

/// The suffix an argument names when it is written as one: `...ABCD` or
/// `…ABCD`, exactly four characters after the dots.
fn written_suffix(arg: &str) -> Option<&str> {
    let rest = arg.strip_prefix("...").or_else(|| arg.strip_prefix('…'))?;
    (rest.chars().count() == 4).then_some(rest)
}

/// Finds the key `arg` names, taking `arg` exactly as given (no trimming):
/// a UUID as is; otherwise every key of the listing that `arg` names by
/// full key ID (known for keys this tool created and for the key it is
/// signed in with), by exact name, or by key ID suffix written as
/// `...ABCD`. One key is the answer; none is "not found"; several (two keys
/// of that name, or one by name and another by suffix) is an error listing
/// them by UUID, never a guess.
async fn resolve(
    session: &Session,
    keys: &ApiKeys,
    org: Uuid,
    arg: &str,
) -> Result<Resolved, CliError> {
    if let Ok(id) = Uuid::parse_str(arg) {
        return Ok(Resolved { id, listed: None });
    }
    let listed = wait("Listing keys", keys.list()).await?.into_result();
    let mut found: Vec<(Uuid, Naming)> = Vec::new();
    let mut add = |id: Option<Uuid>, how: Naming| {
        if let Some(id) = id
            && !found.iter().any(|(known, _)| *known == id)
        {
            found.push((id, how));
        }
    };
    if let Some(record) = KeyRecords::load()
        .uuid_of(arg)
        .filter(|record| record.organization_id == org)
    {
        add(Some(record.id), Naming::KeyId);
    } else if arg == session.credentials.credentials.key_id().as_str() {
        let own = SignedIn::ask(session, org).await;
        add(own.id_among(&listed), Naming::KeyId);
    }
    for key in listed.iter().filter(|key| key.name.as_deref() == Some(arg)) {
        add(key.id, Naming::Name);
    }
    if let Some(suffix) = written_suffix(arg) {
        for key in listed
            .iter()
            .filter(|key| key.key_suffix.as_deref() == Some(suffix))
        {
            add(key.id, Naming::Suffix);
        }
    }
    match found.as_slice() {
        [] => Err(CliError::NotFound(format!(
            "no key in organization {org} has the UUID, key ID or name {} (`chc keys list` \
             shows them; give a key ID suffix as it shows it, with the dots)",
            output::quoted(arg)
        ))),
        [(id, _)] => Ok(Resolved {
            id: *id,
            listed: Some(listed),
        }),
        several => {
            let ids: Vec<String> = several
                .iter()
                .map(|(id, how)| {
                    let label = listed
                        .iter()
                        .find(|key| key.id == Some(*id))
                        .map_or_else(String::new, |key| format!(" {}", output::key_label(key)));
                    format!("{id}{label} {}", how.phrase())
                })
                .collect();
            Err(CliError::Usage(format!(
                "{} matches {} keys; name one by its UUID: {}",
                output::quoted(arg),
                several.len(),
                ids.join(", ")
            )))
        }
    }
}

/// What this tool knows of the key it is signed in with, from `whoamiGet`
/// (else from the local record of keys it created).
pub(crate) struct SignedIn {
    /// The key ID in use.
    key_id: KeyId,
    /// Its UUID, when known for certain.
    id: Option<Uuid>,
    /// Its name, as the service gave it.
    pub(crate) name: Option<String>,
    /// Why the key is not known for certain, when it is not.
    unknown: Option<String>,
}

/// Whether a key is the one this tool is signed in with.
enum Own {
    Yes,
    No,
    CannotTell(String),
}

impl SignedIn {
    /// Asks the service who the caller is. The answer names the key by
    /// UUID, or by key ID (then the UUID comes from the local record, or
    /// from the one listed key with that name and suffix).
    pub(crate) async fn ask(session: &Session, org: Uuid) -> Self {
        let key_id = session.credentials.credentials.key_id().clone();
        let recorded = KeyRecords::load()
            .uuid_of(key_id.as_str())
            .filter(|record| record.organization_id == org)
            .map(|record| record.id);
        let answer = wait(
            "Asking which key is in use",
            session.client.members(org).whoami_get(),
        )
        .await;
        let value = match answer {
            Ok(answer) => serde_json::to_value(&*answer).unwrap_or_default(),
            Err(error) => {
                return Self {
                    unknown: recorded.is_none().then(|| {
                        format!(
                            "the service did not say which key is in use ({})",
                            CliError::from(error)
                        )
                    }),
                    key_id,
                    id: recorded,
                    name: None,
                };
            }
        };
        let text = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
        let name = text("name").map(str::to_owned);
        if text("actorType") != Some("apiKey") {
            return Self {
                unknown: recorded
                    .is_none()
                    .then(|| "the service did not answer for an API key".to_owned()),
                key_id,
                id: recorded,
                name: None,
            };
        }
        let said = text("keyId").unwrap_or_default();
        let id = Uuid::parse_str(said).ok().or(recorded);
        let unknown = id.is_none().then(|| {
            if said == key_id.as_str() {
                "the service names the key in use by its key ID, not its UUID".to_owned()
            } else {
                "the service's answer does not identify the key in use".to_owned()
            }
        });
        Self {
            key_id,
            id,
            name,
            unknown,
        }
    }

    /// The UUID of the key in use, when known or found in `listed` by name
    /// and suffix together.
    pub(crate) fn id_among(&self, listed: &[ApiKey]) -> Option<Uuid> {
        if self.id.is_some() {
            return self.id;
        }
        let name = self.name.as_deref()?;
        let mut matching = listed.iter().filter(|key| {
            key.key_suffix.as_deref() == Some(self.key_id.suffix())
                && key.name.as_deref() == Some(name)
        });
        let only = matching.next()?;
        matching.next().is_none().then_some(only.id).flatten()
    }

    /// Whether `key` is the key in use. A key whose suffix differs is not;
    /// one that shares it is told apart only by a certain answer.
    fn is(&self, key: &ApiKey, listed: &[ApiKey]) -> Own {
        if let Some(id) = self.id_among(listed) {
            return if key.id == Some(id) {
                Own::Yes
            } else {
                Own::No
            };
        }
        if key.key_suffix.as_deref() != Some(self.key_id.suffix()) {
            return Own::No;
        }
        Own::CannotTell(format!(
            "its key ID ends in {}, like the key chc is signed in with, and chc cannot tell \
             whether it is that key: {}",
            self.key_id.suffix(),
            self.unknown
                .as_deref()
                .unwrap_or("the service did not say which key is in use")
        ))
    }
}

/// Refuses to `action` (`delete`, `disable`, ...) the key the tool is
/// signed in with, and a key it cannot tell from it: afterwards every call
/// with these credentials could be refused.
async fn refuse_own_key(
    session: &Session,
    org: Uuid,
    target: &ApiKey,
    listed: &[ApiKey],
    action: &str,
) -> Result<(), CliError> {
    let own = SignedIn::ask(session, org).await;
    let (why, consequence) = match own.is(target, listed) {
        Own::No => return Ok(()),
        Own::Yes => (
            "it is the key chc is signed in with".to_owned(),
            "That would cut off",
        ),
        Own::CannotTell(why) => (why, "If it is, that would cut off"),
    };
    Err(CliError::Refused(format!(
        "refusing to {action} key {}: {why}. {consequence} the credentials this command runs \
         with; do it while signed in with another admin key",
        output::key_label(target)
    )))
}

/// The key `resolved` names, from its listing or fetched.
async fn target_of(keys: &ApiKeys, resolved: Resolved) -> Result<(ApiKey, Vec<ApiKey>), CliError> {
    let listed = match resolved.listed {
        Some(listed) => listed,
        None => wait("Listing keys", keys.list()).await?.into_result(),
    };
    let target = match listed.iter().find(|key| key.id == Some(resolved.id)) {
        Some(key) => key.clone(),
        // Not listed: let the service say whether it exists (404 -> exit 4).
        None => wait("Fetching the key", keys.get(resolved.id))
            .await?
            .into_result(),
    };
    Ok((target, listed))
}

async fn delete(
    session: &Session,
    keys: &ApiKeys,
    org: Uuid,
    args: DeleteArgs,
    output: Output,
) -> Result<(), CliError> {
    let resolved = resolve(session, keys, org, &args.key.key).await?;
    let target_id = resolved.id;
    let (target, listed) = target_of(keys, resolved).await?;
    refuse_own_key(session, org, &target, &listed, "delete").await?;

    if !args.yes && !confirm(&target)? {
        return Err(CliError::Refused(
            "not confirmed; nothing was deleted".into(),
        ));
    }
    let first_answer_lost = match wait("Deleting the key", keys.delete(target_id)).await {
        Ok(_) => false,
        // An earlier attempt reached the service and deleted the key; its
        // answer was lost, and the retry found the key gone.
        Err(error) if is_not_found(&error) && error.may_have_acted_earlier() => true,
        Err(error) => return Err(error.into()),
    };
    if let Err(error) = KeyRecords::forget(target_id) {
        eprintln!("warning: could not update the local key record: {error}");
    }
    if first_answer_lost {
        eprintln!(
            "note: the service's first answer to the delete was lost in transit; the request \
             was sent again and found the key already gone"
        );
    }
    if output == Output::Json {
        return print_json(&());
    }
    print_text(&format!("Deleted key {}.\n", output::key_label(&target)))
}

/// Whether the service answered `404`.
fn is_not_found(error: &clickhouse_cloud_client::Error) -> bool {
    error.status().map(|status| status.as_u16()) == Some(404)
}

/// Asks on the terminal; true only for an explicit "yes".
fn confirm(target: &ApiKey) -> Result<bool, CliError> {
    confirm_delete(&format!(
        "Delete key {} ({}, id {})? It stops working at once and cannot be restored.",
        output::quoted(target.name.as_deref().unwrap_or("unnamed")),
        output::clean(&output::suffix(target)),
        target.id.map_or_else(|| "?".into(), |id| id.to_string())
    ))
}
