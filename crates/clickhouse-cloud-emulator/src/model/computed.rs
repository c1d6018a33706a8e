//! Operations of the generic store that are not a plain collection or
//! singleton, answered from what the store keeps:
//!
//! - a service's ClickHouse settings: one list under
//!   `.../services/{id}/clickhouseSettings`, which the settings-map
//!   operations (`PATCH` sets some, `GET` lists them) and the single-setting
//!   operations (`GET`/`DELETE .../clickhouseSettings/{name}`) share. A
//!   setting never set (or deleted) is absent: its get and its delete are
//!   `404`.
//! - a Postgres service's backups (`.../postgres/{id}/backups`), made on
//!   its schedule by [`crate::model::backups`] and paged by cursor.
//! - a BYOC infrastructure's tags: what its create or update sent as
//!   `tags` (an update's map replaces the one before; at most 50), kept at
//!   `.../byocInfrastructure/{id}/tags` so that they go with it, and read
//!   by `.../tags` (`{"tags": {}}` when none were sent).

use std::collections::HashMap;

use clickhouse_cloud_types::Timestamp;
use serde_json::{Map, Value, json};

use crate::model::backups;
use crate::model::catalogue::example_result;
use crate::model::error::ApiError;
use crate::model::paging::{self, PageMeta};
use crate::model::store::{Store, sort_key};

/// The operations answered here.
pub(crate) const COMPUTED: [&str; 6] = [
    "organizationByocInfrastructureTagsGet",
    "serviceClickhouseSettingsListGet",
    "serviceClickhouseSettingsUpdate",
    "serviceClickhouseSettingGet",
    "serviceClickhouseSettingDelete",
    "postgresServiceBackupGetList",
];

/// What a request gives besides its path and body.
pub(crate) struct Asked<'a> {
    /// The path's parameters.
    pub(crate) params: &'a Map<String, Value>,
    /// The query string's parameters.
    pub(crate) query: &'a HashMap<String, String>,
    pub(crate) now: Timestamp,
}

/// What operation `id` answers for the request at `path`; `params` are the
/// path's parameters, `body` the request's JSON (`null` when none).
pub(crate) fn answer(
    id: &str,
    store: &mut Store,
    path: &str,
    asked: &Asked<'_>,
    body: &Value,
) -> Result<(Value, Option<PageMeta>), ApiError> {
    let setting = || {
        asked
            .params
            .get("settingName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let parent = || path.rsplit_once('/').map_or(path, |(parent, _)| parent);
    let value = match id {
        "serviceClickhouseSettingsListGet" => json!({ "settings": settings(store, path) }),
        "serviceClickhouseSettingsUpdate" => set_settings(store, path, body)?,
        "serviceClickhouseSettingGet" => {
            let name = setting();
            settings(store, parent())
                .into_iter()
                .find(|entry| entry.get("name").and_then(Value::as_str) == Some(name.as_str()))
                .ok_or_else(|| setting_not_found(&name))?
        }
        "serviceClickhouseSettingDelete" => {
            let name = setting();
            let mut list = settings(store, parent());
            let before = list.len();
            list.retain(|entry| entry.get("name").and_then(Value::as_str) != Some(name.as_str()));
            if list.len() == before {
                return Err(setting_not_found(&name));
            }
            store.put_singleton(parent(), json!({ "settings": list }));
            Value::Null
        }
        "postgresServiceBackupGetList" => {
            let items: Vec<_> = store
                .list(path)
                .iter()
                .map(|item| {
                    let mut item = item.clone();
                    item.value = backups::view(&item.value, asked.now);
                    item
                })
                .collect();
            let limit = asked
                .query
                .get("limit")
                .map(|text| {
                    text.parse::<i64>().map_err(|_| {
                        ApiError::bad_request(format_args!("limit is not a number: {text:?}"))
                    })
                })
                .transpose()?;
            let cursor = asked.query.get("cursor").map(String::as_str);
            let (page, meta) = paging::page(items, sort_key, limit, cursor)?;
            let values = page.into_iter().map(|item| item.value).collect();
            return Ok((Value::Array(values), Some(meta)));
        }
        "organizationByocInfrastructureTagsGet" => store
            .singleton(path)
            .cloned()
            .unwrap_or_else(|| json!({ "tags": {} })),
        other => {
            return Err(ApiError::internal(format_args!(
                "{other} is not answered from the store"
            )));
        }
    };
    Ok((value, None))
}

/// Most tags an infrastructure has (the spec's `maxProperties`).
const MAX_TAGS: usize = 50;

/// The tags a BYOC infrastructure's create or update sends, checked
/// before it runs: `None` when it sends none.
fn sent_tags<'a>(id: &str, body: &'a Value) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    if !matches!(
        id,
        "organizationByocInfrastructureCreate" | "organizationByocInfrastructureUpdate"
    ) {
        return Ok(None);
    }
    let tags = match body.get("tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(tags)) => tags,
        Some(_) => {
            return Err(ApiError::bad_request(
                "tags must be a map of names to values",
            ));
        }
    };
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad_request(format_args!(
            "tags: at most {MAX_TAGS}, not {}",
            tags.len()
        )));
    }
    if let Some((name, _)) = tags.iter().find(|(_, value)| !value.is_string()) {
        return Err(ApiError::bad_request(format_args!(
            "tags.{name}: a value is a string"
        )));
    }
    Ok(Some(tags))
}

/// Checks what operation `id` sends before the store runs it.
pub(crate) fn before(id: &str, body: &Value) -> Result<(), ApiError> {
    sent_tags(id, body).map(|_| ())
}

/// Keeps what operation `id` sent that its item does not hold: a BYOC
/// infrastructure's tags. `path` is the request's, `result` its answer.
pub(crate) fn after(id: &str, store: &mut Store, path: &str, body: &Value, result: &Value) {
    let Ok(Some(tags)) = sent_tags(id, body) else {
        return;
    };
    let item = if id == "organizationByocInfrastructureCreate" {
        match result.get("id").and_then(Value::as_str) {
            Some(made) => format!("{path}/{made}"),
            None => return,
        }
    } else {
        path.to_owned()
    };
    store.put_singleton(&format!("{item}/tags"), json!({ "tags": tags }));
}

fn setting_not_found(name: &str) -> ApiError {
    ApiError::not_found(format_args!("setting {name:?} is not set on this service"))
}

/// The settings set on the service whose settings live at `path`, by
/// name: `{name, value}` each.
fn settings(store: &Store, path: &str) -> Vec<Value> {
    store
        .singleton(path)
        .and_then(|held| held.get("settings"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A setting's value: a string or an integer, as the spec has it.
fn plain_value(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Number(number) => number.is_i64() || number.is_u64(),
        _ => false,
    }
}

/// Sets the settings of `body.settings` (a name-to-value map, at least
/// one), keeping the others; answers what was set, with the warnings the
/// spec shows for a changed `compatibility`.
fn set_settings(store: &mut Store, path: &str, body: &Value) -> Result<Value, ApiError> {
    let sent = body
        .get("settings")
        .and_then(Value::as_object)
        .filter(|map| !map.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("settings must be a map of at least one setting to its value")
        })?;
    let mut list = settings(store, path);
    for (name, value) in sent {
        if name.trim().is_empty() {
            return Err(ApiError::bad_request("settings: a name must not be blank"));
        }
        if !plain_value(value) {
            return Err(ApiError::bad_request(format_args!(
                "settings.{name}: a value is a string or an integer"
            )));
        }
    }
    for (name, value) in sent {
        let entry = json!({ "name": name, "value": value });
        match list
            .iter_mut()
            .find(|held| held.get("name").and_then(Value::as_str) == Some(name.as_str()))
        {
            Some(held) => *held = entry,
            None => list.push(entry),
        }
    }
    list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    store.put_singleton(path, json!({ "settings": list }));
    let warnings: Vec<Value> = example_result("serviceClickhouseSettingsUpdate")
        .and_then(|example| example.get("warnings"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|warning| {
            warning
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| sent.contains_key(name))
        })
        .cloned()
        .collect();
    Ok(json!({ "settings": Value::Object(sent.clone()), "warnings": warnings }))
}
