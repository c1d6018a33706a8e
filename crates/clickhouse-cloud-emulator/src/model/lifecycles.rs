//! The rules some stored resources have beyond plain storage: states that
//! move on the scaled clock, references that must exist, the actions the
//! spec has for them, and the activities the spec has a type for.
//!
//! As for services, nothing runs in the background: each moving item has
//! a [`Life`] (its state and when that began), and a state is brought up
//! to date whenever the store is used, `since + delay / speed` at a time.
//!
//! ```text
//! Postgres     creating ──2 min──▶ running ◀──1 min── restarting ◀── restart, switchover, promote
//!              restore: restoring_backup ──2 min──▶ finalizing_restore ──30 s──▶ running
//! ClickPipes   Provisioning ──1 min──▶ Running ──stop──▶ Stopping ──30 s──▶ Stopped ──start──▶ Provisioning
//!              Running ──resync──▶ Resync ──1 min──▶ Running;  scaling: Modifying ──30 s──▶ Running
//! endpoints    Provisioning ──2 min──▶ Ready
//! BYOC         infra-provisioning ──10 min──▶ infra-ready
//! UDFs         version building ──1 min──▶ ready;  attachment provisioning ──30 s──▶ deployed
//! ```

use std::time::Duration;

use clickhouse_cloud_types::{Activity, ActivityType, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::model::access::Context;
use crate::model::clock::Clock;
use crate::model::error::ApiError;
use crate::model::services::generate_password;
use crate::model::shapes::{Collection, Shape, table};
use crate::model::store::{Store, id_text, overlay_with};

/// What kind of resource moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    Postgres,
    ClickPipe,
    ReverseEndpoint,
    Byoc,
    UdfAttachment,
    /// A UDF version's build (and the function, which shows its latest
    /// version).
    UdfBuild,
}

impl Kind {
    /// The field that shows the state.
    fn field(self) -> &'static str {
        match self {
            Kind::ReverseEndpoint | Kind::UdfAttachment | Kind::UdfBuild => "status",
            _ => "state",
        }
    }

    /// What a passing state becomes, and after how long at speed 1.
    fn next(self, state: &str) -> Option<(Duration, &'static str)> {
        let secs = Duration::from_secs;
        Some(match (self, state) {
            (Kind::Postgres, "creating") => (secs(120), "running"),
            (Kind::Postgres, "restarting") => (secs(60), "running"),
            (Kind::Postgres, "restoring_backup") => (secs(120), "finalizing_restore"),
            (Kind::Postgres, "finalizing_restore") => (secs(30), "running"),
            (Kind::ClickPipe, "Provisioning") => (secs(60), "Running"),
            (Kind::ClickPipe, "Stopping") => (secs(30), "Stopped"),
            (Kind::ClickPipe, "Resync") => (secs(60), "Running"),
            (Kind::ClickPipe, "Modifying") => (secs(30), "Running"),
            (Kind::ReverseEndpoint, "Provisioning") => (secs(120), "Ready"),
            (Kind::Byoc, "infra-provisioning") => (secs(600), "infra-ready"),
            (Kind::UdfAttachment, "provisioning") => (secs(30), "deployed"),
            (Kind::UdfBuild, "building") => (secs(60), "ready"),
            _ => return None,
        })
    }
}

/// One stored item whose state moves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Life {
    kind: Kind,
    /// The concrete path of its collection.
    collection: String,
    id_field: String,
    id: String,
    state: String,
    since: Timestamp,
    /// For a Postgres read replica: its primary's ID.
    #[serde(default)]
    primary: Option<String>,
    /// When it first reached `running` (a Postgres service's backups count
    /// from then).
    #[serde(default)]
    first_running: Option<Timestamp>,
}

impl Life {
    /// Item `id` (by `id_field`) of the collection at `collection`, in
    /// `state` from `now`.
    fn new(
        kind: Kind,
        collection: &str,
        id_field: &str,
        id: &str,
        state: &str,
        now: Timestamp,
    ) -> Self {
        Self {
            kind,
            collection: collection.to_owned(),
            id_field: id_field.to_owned(),
            id: id.to_owned(),
            state: state.to_owned(),
            since: now,
            primary: None,
            first_running: (state == "running").then_some(now),
        }
    }

    fn settle(&mut self, clock: &Clock, now: Timestamp) {
        while let Some((delay, next)) = self.kind.next(&self.state) {
            let end = self.since + clock.scaled(delay);
            if now < end {
                return;
            }
            self.state = next.to_owned();
            self.since = end;
            if next == "running" {
                self.first_running.get_or_insert(end);
            }
        }
    }

    fn enter(&mut self, state: &str, now: Timestamp) {
        self.state = state.to_owned();
        self.since = now;
    }
}

/// Brings every stored lifecycle up to `now`, writing each state into its
/// item; lives whose item is gone end.
pub(crate) fn settle(store: &mut Store, clock: &Clock, now: Timestamp) {
    let mut lives = std::mem::take(&mut store.lives);
    lives.retain_mut(|life| {
        life.settle(clock, now);
        write_state(store, life)
    });
    store.lives = lives;
}

/// The state of item `id` of the collection at `collection` and when it
/// began, with how long that state lasts (at this clock's speed) when it
/// passes; `None` when the item has no lifecycle.
pub(crate) fn state_of(
    store: &Store,
    clock: &Clock,
    collection: &str,
    id: &str,
) -> Option<(String, Timestamp, Option<chrono::TimeDelta>)> {
    let life = store
        .lives
        .iter()
        .find(|life| life.collection == collection && life.id == id)?;
    let lasts = life
        .kind
        .next(&life.state)
        .map(|(delay, _)| clock.scaled(delay));
    Some((life.state.clone(), life.since, lasts))
}

/// Every Postgres service that has run: the path of its item
/// (`.../postgres/{id}`), its ID and when it first ran.
pub(crate) fn postgres_that_ran(store: &Store) -> Vec<(String, String, Timestamp)> {
    store
        .lives
        .iter()
        .filter(|life| life.kind == Kind::Postgres)
        .filter_map(|life| {
            let first = life
                .first_running
                .or_else(|| (life.state == "running").then_some(life.since))?;
            Some((
                format!("{}/{}", life.collection, life.id),
                life.id.clone(),
                first,
            ))
        })
        .collect()
}

/// Shows `life`'s state in its item; `false` when the item is gone.
fn write_state(store: &mut Store, life: &Life) -> bool {
    match store.item_mut(&life.collection, &life.id_field, &life.id) {
        Some(Value::Object(map)) => {
            map.insert(
                life.kind.field().to_owned(),
                Value::String(life.state.clone()),
            );
            true
        }
        _ => false,
    }
}

fn life_of<'a>(store: &'a mut Store, collection: &str, id: &str) -> Option<&'a mut Life> {
    store
        .lives
        .iter_mut()
        .find(|life| life.collection == collection && life.id == id)
}

/// Starts `life` (an item in its first state), replacing any earlier
/// life of the same item; returns it.
fn begin(store: &mut Store, life: Life) -> Life {
    store
        .lives
        .retain(|old| !(old.collection == life.collection && old.id == life.id));
    write_state(store, &life);
    store.lives.push(life.clone());
    life
}

/// `path` without its last segment, and that segment.
fn split_last(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or((path, ""))
}

/// The collection operation `create` adds to.
fn collection_of(create: &str) -> Result<&'static Collection, ApiError> {
    match table().shape(create) {
        Some(Shape::Create(collection) | Shape::Replace(collection, _)) => Ok(collection),
        _ => Err(ApiError::internal(format_args!("{create} stores nothing"))),
    }
}

/// Starts the build of item `id` (by `id_field`) of the collection at
/// `collection`: `building` from `now`, then `ready`.
pub(crate) fn start_build(
    store: &mut Store,
    collection: &str,
    id_field: &str,
    id: &str,
    now: Timestamp,
) {
    begin(
        store,
        Life::new(Kind::UdfBuild, collection, id_field, id, "building", now),
    );
}

/// Gives item `to` (collection, ID field, ID) the build state of item
/// `from` (collection, ID): the same life when `from` is still moving, none
/// when it has settled (its item then keeps the state it shows).
pub(crate) fn follow_build(store: &mut Store, from: (&str, &str), to: (&str, &str, &str)) {
    let (collection, id_field, id) = to;
    store
        .lives
        .retain(|life| !(life.collection == collection && life.id == id));
    let moving = store
        .lives
        .iter()
        .find(|life| life.collection == from.0 && life.id == from.1)
        .filter(|life| life.kind.next(&life.state).is_some())
        .cloned();
    if let Some(mut life) = moving {
        life.collection = collection.to_owned();
        life.id_field = id_field.to_owned();
        life.id = id.to_owned();
        begin(store, life);
    }
}

/// Starts what operation `id` set moving, showing the first state in
/// `result` (the answer) too.
pub(crate) fn after(
    id: &str,
    store: &mut Store,
    _clock: &Clock,
    cx: &Context,
    path: &str,
    result: &mut Value,
) {
    let now = cx.now;
    let started = |kind: Kind| match kind {
        Kind::Postgres => "creating",
        Kind::ClickPipe | Kind::ReverseEndpoint => "Provisioning",
        Kind::Byoc => "infra-provisioning",
        Kind::UdfAttachment => "provisioning",
        Kind::UdfBuild => "building",
    };
    let (kind, collection, field) = match id {
        "postgresServiceCreate" => (Kind::Postgres, path, "id"),
        "clickPipeCreate" => (Kind::ClickPipe, path, "id"),
        "clickPipeReversePrivateEndpointCreate" => (Kind::ReverseEndpoint, path, "id"),
        "organizationByocInfrastructureCreate" => (Kind::Byoc, path, "id"),
        "udfAttach" => (Kind::UdfAttachment, split_last(path).0, "serviceId"),
        "postgresServiceDelete" => {
            // Read replicas go with their primary.
            let (collection, primary) = split_last(path);
            let replicas: Vec<String> = store
                .lives
                .iter()
                .filter(|life| life.primary.as_deref() == Some(primary))
                .map(|life| life.id.clone())
                .collect();
            if let Ok(postgres) = collection_of("postgresServiceCreate") {
                for replica in replicas {
                    let _ = store.delete(postgres, collection, &replica);
                }
            }
            return;
        }
        _ => return,
    };
    let Some(item) = result.get(field).and_then(id_text) else {
        return;
    };
    let life = begin(
        store,
        Life::new(kind, collection, field, &item, started(kind), now),
    );
    if let Value::Object(map) = result {
        map.insert(kind.field().to_owned(), Value::String(life.state));
    }
}

fn conflict(what: &str, state: &str, asked: &str) -> ApiError {
    ApiError::conflict(format_args!(
        "{what} is {state}: {asked} is not possible now"
    ))
}

/// Runs action `id` (one of [`crate::model::shapes::ACTIONS`]) on the item its path names.
pub(crate) fn act(
    id: &str,
    store: &mut Store,
    clock: &Clock,
    cx: &Context,
    path: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let now = cx.now;
    settle(store, clock, now);
    let (item_path, _) = split_last(path);
    let (collection, item) = split_last(item_path);
    let command = body.get("command").and_then(Value::as_str).unwrap_or("");
    match id {
        "postgresServicePatchState" => {
            let postgres = collection_of("postgresServiceCreate")?;
            store.get(postgres, collection, item)?;
            let life = life_of(store, collection, item)
                .ok_or_else(|| conflict("the service", "not managed", command))?;
            if life.state != "running" {
                return Err(conflict(
                    "the Postgres service",
                    &life.state.clone(),
                    command,
                ));
            }
            let promote = command == "promote";
            if promote && life.primary.is_none() {
                return Err(ApiError::bad_request(
                    "promote needs a read replica; this service is a primary",
                ));
            }
            if !matches!(command, "restart" | "switchover" | "promote") {
                return Err(ApiError::bad_request(format_args!(
                    "command must be restart, promote or switchover, not {command:?}"
                )));
            }
            life.enter("restarting", now);
            if promote {
                life.primary = None;
            }
            let life = life.clone();
            write_state(store, &life);
            let value = store.get_mut(postgres, collection, item)?;
            if promote && let Value::Object(map) = value {
                map.insert("isPrimary".into(), Value::Bool(true));
            }
            Ok(value.clone())
        }
        "postgresServiceSetPassword" => {
            let postgres = collection_of("postgresServiceCreate")?;
            let password = body
                .get("password")
                .and_then(Value::as_str)
                .map_or_else(generate_password, str::to_owned);
            let value = store.get_mut(postgres, collection, item)?;
            if let Value::Object(map) = value {
                map.insert("password".into(), Value::String(password.clone()));
            }
            Ok(serde_json::json!({ "password": password }))
        }
        "postgresInstanceCreateReadReplica" | "postgresInstanceRestore" => {
            let postgres = collection_of("postgresServiceCreate")?;
            let source = store.get(postgres, collection, item)?.clone();
            let state =
                life_of(store, collection, item).map_or("running".to_owned(), |l| l.state.clone());
            let replica = id == "postgresInstanceCreateReadReplica";
            if replica && state != "running" {
                return Err(conflict("the primary", &state, "a read replica"));
            }
            let mut copied = source.clone();
            if let Value::Object(map) = &mut copied {
                for dropped in ["id", "createdAt", "state", "password", "connectionString"] {
                    map.remove(dropped);
                }
                map.insert("isPrimary".into(), Value::Bool(!replica));
            }
            let laid = overlay_with(&source, body, false);
            if let (Value::Object(map), Some(name)) = (&mut copied, laid.get("name")) {
                map.insert("name".into(), name.clone());
                if let Some(tags) = body.get("tags") {
                    map.insert("tags".into(), tags.clone());
                }
            }
            let made = store.create(postgres, collection, &copied, None, now)?;
            let new_id = made.get("id").and_then(id_text).unwrap_or_default();
            let (first, primary) = if replica {
                ("creating", Some(item.to_owned()))
            } else {
                ("restoring_backup", None)
            };
            let mut life = Life::new(Kind::Postgres, collection, "id", &new_id, first, now);
            life.primary = primary;
            begin(store, life);
            Ok(store.get(postgres, collection, &new_id)?.clone())
        }
        "clickPipeStateUpdate" | "clickPipeScalingUpdate" => {
            let pipes = collection_of("clickPipeCreate")?;
            store.get(pipes, collection, item)?;
            let life = match life_of(store, collection, item) {
                Some(life) => life,
                None => {
                    begin(
                        store,
                        Life::new(Kind::ClickPipe, collection, "id", item, "Running", now),
                    );
                    life_of(store, collection, item).ok_or_else(|| ApiError::internal("no pipe"))?
                }
            };
            let state = life.state.clone();
            if id == "clickPipeScalingUpdate" {
                if matches!(state.as_str(), "Running" | "Modifying") {
                    life.enter("Modifying", now);
                }
            } else {
                let next = match (command, state.as_str()) {
                    ("start", "Running" | "Provisioning") | ("stop", "Stopped" | "Stopping") => {
                        None
                    }
                    ("start", "Stopped" | "Failed" | "Paused") => Some("Provisioning"),
                    ("stop", "Running" | "Provisioning" | "Resync" | "Modifying") => {
                        Some("Stopping")
                    }
                    ("resync", "Running") => Some("Resync"),
                    ("start" | "stop" | "resync", _) => {
                        return Err(conflict("the ClickPipe", &state, command));
                    }
                    _ => {
                        return Err(ApiError::bad_request(format_args!(
                            "command must be start, stop or resync, not {command:?}"
                        )));
                    }
                };
                if let Some(next) = next {
                    life.enter(next, now);
                }
            }
            let life = life.clone();
            write_state(store, &life);
            let value = store.get_mut(pipes, collection, item)?;
            if id == "clickPipeScalingUpdate"
                && let Value::Object(map) = value
            {
                let scaling = map
                    .get("scaling")
                    .cloned()
                    .unwrap_or(Value::Object(Map::new()));
                map.insert("scaling".into(), overlay_with(&scaling, body, false));
            }
            Ok(value.clone())
        }
        other => Err(ApiError::internal(format_args!("{other} is not an action"))),
    }
}

/// The activity operation `id` records, where the spec has a type for it.
pub(crate) fn activity(id: &str, cx: &Context, path: &str, result: &Value) -> Option<Activity> {
    let kind = match id {
        "udfCreate" => "udf_create",
        "udfUpdate" => "udf_update",
        "udfDelete" => "udf_delete",
        "udfVersionCreate" => "udf_version_create",
        "udfVersionDelete" => "udf_version_delete",
        "udfAttach" => "udf_attach",
        "udfDetach" => "udf_detach",
        "backupConfigurationUpdate" => "service_update_backup_configuration",
        "snapshotConfigurationUpdate" => "service_update_snapshot_configuration",
        "backupBucketCreate" => "backup_bucket_create",
        "backupBucketUpdate" => "backup_bucket_update",
        "backupBucketDelete" => "backup_bucket_delete",
        "upgradeWindowUpdate" | "upgradeWindowUpsert" => "service_update_upgrade_window",
        "upgradeWindowDelete" => "service_delete_upgrade_window",
        id if id.starts_with("postgres") && !id.ends_with("Get") && !id.ends_with("GetList") => {
            "postgres_action"
        }
        _ => return None,
    };
    let kind = ActivityType::from(kind);
    if kind.is_unknown() {
        return None;
    }
    let segments: Vec<&str> = path.split('/').collect();
    let after = |name: &str| {
        segments
            .iter()
            .position(|segment| *segment == name)
            .and_then(|at| segments.get(at + 1))
            .filter(|text| Uuid::parse_str(text).is_ok())
            .map(|text| (*text).to_owned())
    };
    let service = after("services").or_else(|| result.get("serviceId").and_then(id_text));
    let target = after("postgres")
        .or_else(|| after("udfs"))
        .or_else(|| result.get("id").and_then(id_text))
        .or_else(|| service.clone());
    Some(Activity {
        service_id: service,
        target_resource_ids: target.map(|t| vec![t]),
        ..cx.activity(kind)
    })
}
