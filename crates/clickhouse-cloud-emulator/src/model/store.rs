//! The generic resource store: plain CRUD for every collection and
//! singleton the operation table describes ([`crate::model::shapes`]),
//! kept as JSON in the shape of the spec's examples.
//!
//! Collections are keyed by their concrete path
//! (`/v1/organizations/O/services/S/clickstack/dashboards`), singletons
//! likewise, so whatever lives under an item goes with it: deleting
//! `.../services/S` removes every key below `.../services/S/`.

use std::collections::BTreeMap;

use clickhouse_cloud_types::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::model::error::ApiError;
use crate::model::shapes::{Collection, IdKind, Singleton};

/// One stored item, with its place in creation order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Item {
    pub(crate) seq: u64,
    pub(crate) value: Value,
}

/// One organization's plainly stored resources.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Store {
    collections: BTreeMap<String, Vec<Item>>,
    singletons: BTreeMap<String, Value>,
    /// The last number handed out per collection, for counted IDs.
    counters: BTreeMap<String, i64>,
    next_seq: u64,
    /// States moving on the clock ([`crate::model::lifecycles`]).
    #[serde(default)]
    pub(crate) lives: Vec<crate::model::lifecycles::Life>,
    /// Where each service's backup and snapshot schedules stand
    /// ([`crate::model::backups`]), by the path of the list they fill.
    #[serde(default)]
    pub(crate) schedules: BTreeMap<String, crate::model::backups::Schedule>,
}

/// An identifier as text, whether the JSON holds a string or a number.
pub(crate) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn same_kind(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Object(_), Value::Object(_))
            | (Value::Array(_), Value::Array(_))
            | (Value::String(_), Value::String(_))
            | (Value::Number(_), Value::Number(_))
            | (Value::Bool(_), Value::Bool(_))
    )
}

/// `base` with `patch` laid over it: objects merge field by field, a
/// `null` clears a field when `clear` (else it is ignored), and only
/// fields `base` has are taken (with the same JSON kind; the items of a
/// list take the shape of `base`'s first item), so what is stored keeps
/// the shape of the answers.
pub(crate) fn overlay_with(base: &Value, patch: &Value, clear: bool) -> Value {
    let (Value::Object(base), Value::Object(patch)) = (base, patch) else {
        return base.clone();
    };
    let mut out = base.clone();
    for (name, value) in patch {
        match (out.get(name), value) {
            (Some(_), Value::Null) if clear => {
                out.remove(name);
            }
            (_, Value::Null) => {}
            (Some(current @ Value::Object(_)), Value::Object(_)) => {
                let merged = overlay_with(current, value, clear);
                out.insert(name.clone(), merged);
            }
            (Some(Value::Array(current)), Value::Array(items))
                if current.first().is_some_and(Value::is_object) =>
            {
                let shape = current[0].clone();
                let items = items
                    .iter()
                    .filter(|item| item.is_object())
                    .map(|item| overlay_with(&shape, item, clear))
                    .collect();
                out.insert(name.clone(), Value::Array(items));
            }
            (Some(current), _) if same_kind(current, value) => {
                out.insert(name.clone(), value.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

fn timestamp(now: Timestamp) -> Value {
    serde_json::to_value(now).unwrap_or(Value::Null)
}

/// Sets `createdAt` (when `created`) and `updatedAt` where the shape has them.
fn stamp(value: &mut Value, now: Timestamp, created: bool) {
    if let Value::Object(map) = value {
        if created && map.contains_key("createdAt") {
            map.insert("createdAt".into(), timestamp(now));
        }
        if map.contains_key("updatedAt") {
            map.insert("updatedAt".into(), timestamp(now));
        }
    }
}

fn hex24() -> String {
    let mut text = Uuid::new_v4().simple().to_string();
    text.truncate(24);
    text
}

fn not_found(collection: &Collection, id: &str) -> ApiError {
    ApiError::not_found(format_args!("{} {id} not found", collection.param))
}

impl Store {
    /// The items of the collection at `path`, oldest first.
    pub(crate) fn list(&self, path: &str) -> &[Item] {
        self.collections.get(path).map_or(&[], Vec::as_slice)
    }

    /// Whether the collection at `path` holds an item `id`.
    pub(crate) fn has(&self, collection: &Collection, path: &str, id: &str) -> bool {
        self.find(collection, path, id).is_some()
    }

    fn find(&self, collection: &Collection, path: &str, id: &str) -> Option<usize> {
        self.list(path).iter().position(|item| {
            item.value
                .get(&collection.id_field)
                .and_then(id_text)
                .is_some_and(|have| have == id)
        })
    }

    /// Stores a new item made of `body` laid over the collection's item
    /// shape, with a fresh identifier and timestamps; `id` is the one the
    /// request's path gives (for collections filled by `PUT P/{x}`).
    pub(crate) fn create(
        &mut self,
        collection: &Collection,
        path: &str,
        body: &Value,
        id: Option<&str>,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let mut value = overlay_with(&collection.item, body, false);
        let field = collection.id_field.as_str();
        let id = match collection.id_kind {
            IdKind::Uuid => Value::String(Uuid::new_v4().to_string()),
            IdKind::Hex24 => Value::String(hex24()),
            IdKind::Counter => {
                let highest = self
                    .list(path)
                    .iter()
                    .filter_map(|item| item.value.get(field).and_then(Value::as_i64))
                    .max()
                    .unwrap_or(0);
                let counter = self.counters.entry(path.to_owned()).or_insert(0);
                *counter = (*counter).max(highest) + 1;
                Value::from(*counter)
            }
            IdKind::Given => match body.get(field).and_then(Value::as_str) {
                Some(given) if !given.trim().is_empty() => Value::String(given.to_owned()),
                _ => {
                    return Err(ApiError::bad_request(format_args!("{field} is required")));
                }
            },
            IdKind::FromPath => Value::String(id.unwrap_or_default().to_owned()),
        };
        let text = id_text(&id).unwrap_or_default();
        if self.has(collection, path, &text) {
            return Err(ApiError::conflict(format_args!(
                "{field} {text:?} already exists"
            )));
        }
        if let Value::Object(map) = &mut value {
            map.insert(field.to_owned(), id);
        }
        stamp(&mut value, now, true);
        self.insert(path, value.clone());
        Ok(value)
    }

    /// Appends `value` to the collection at `path` as it is.
    pub(crate) fn insert(&mut self, path: &str, value: Value) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.collections
            .entry(path.to_owned())
            .or_default()
            .push(Item { seq, value });
    }

    /// The item `id` of the collection at `path`.
    pub(crate) fn get(
        &self,
        collection: &Collection,
        path: &str,
        id: &str,
    ) -> Result<&Value, ApiError> {
        let index = self
            .find(collection, path, id)
            .ok_or_else(|| not_found(collection, id))?;
        Ok(&self.list(path)[index].value)
    }

    /// The item `id`, to change in place.
    pub(crate) fn get_mut(
        &mut self,
        collection: &Collection,
        path: &str,
        id: &str,
    ) -> Result<&mut Value, ApiError> {
        let index = self
            .find(collection, path, id)
            .ok_or_else(|| not_found(collection, id))?;
        self.collections
            .get_mut(path)
            .and_then(|items| items.get_mut(index))
            .map(|item| &mut item.value)
            .ok_or_else(|| not_found(collection, id))
    }

    /// Lays `body` over item `id` (`PATCH`), or over the item shape
    /// (`PUT`, `replace`), keeping its identifier and creation time.
    pub(crate) fn update(
        &mut self,
        collection: &Collection,
        path: &str,
        id: &str,
        body: &Value,
        replace: bool,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let stored = self.get_mut(collection, path, id)?;
        let base = if replace { &collection.item } else { &*stored };
        let mut value = overlay_with(base, body, !replace);
        if let (Value::Object(map), Value::Object(old)) = (&mut value, &*stored) {
            for kept in [collection.id_field.as_str(), "createdAt"] {
                if let Some(old) = old.get(kept) {
                    map.insert(kept.to_owned(), old.clone());
                }
            }
        }
        stamp(&mut value, now, false);
        *stored = value.clone();
        Ok(value)
    }

    /// Item `id` of the collection at `path`, found by `field`.
    pub(crate) fn item_mut(&mut self, path: &str, field: &str, id: &str) -> Option<&mut Value> {
        self.collections.get_mut(path)?.iter_mut().find_map(|item| {
            let matches = item
                .value
                .get(field)
                .and_then(id_text)
                .is_some_and(|have| have == id);
            matches.then_some(&mut item.value)
        })
    }

    /// Removes item `id` and everything stored under its path.
    pub(crate) fn delete(
        &mut self,
        collection: &Collection,
        path: &str,
        id: &str,
    ) -> Result<Value, ApiError> {
        let index = self
            .find(collection, path, id)
            .ok_or_else(|| not_found(collection, id))?;
        let removed = self
            .collections
            .get_mut(path)
            .map(|items| items.remove(index).value)
            .unwrap_or(Value::Null);
        self.remove_under(&format!("{path}/{id}"));
        Ok(removed)
    }

    /// Drops every collection and singleton below `prefix`.
    pub(crate) fn remove_under(&mut self, prefix: &str) {
        let below = format!("{prefix}/");
        self.collections.retain(|path, _| !path.starts_with(&below));
        self.singletons.retain(|path, _| !path.starts_with(&below));
        self.counters.retain(|path, _| !path.starts_with(&below));
        self.schedules.retain(|path, _| !path.starts_with(&below));
    }

    /// Every collection whose path starts with `prefix` and ends with
    /// `suffix`, with its items.
    pub(crate) fn collections_like<'a>(
        &'a self,
        prefix: &'a str,
        suffix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [Item])> + 'a {
        self.collections
            .range(prefix.to_owned()..)
            .take_while(move |(path, _)| path.starts_with(prefix))
            .filter(move |(path, _)| path.ends_with(suffix))
            .map(|(path, items)| (path.as_str(), items.as_slice()))
    }

    /// Keeps, in the collection at `path`, the items `keep` says to.
    pub(crate) fn retain(&mut self, path: &str, keep: impl FnMut(&Item) -> bool) {
        if let Some(items) = self.collections.get_mut(path) {
            items.retain(keep);
        }
    }

    /// Removes, from every collection whose items are keyed by
    /// `field`, the items whose key is `id` (attachments of a deleted
    /// service, say).
    pub(crate) fn remove_keyed(&mut self, field: &str, id: &str) {
        for items in self.collections.values_mut() {
            items.retain(|item| {
                item.value
                    .get(field)
                    .and_then(id_text)
                    .is_none_or(|have| have != id)
            });
        }
    }

    /// The singleton at `path`: what was last set, or its default.
    pub(crate) fn read(&self, singleton: &Singleton, path: &str) -> Value {
        self.singletons
            .get(path)
            .cloned()
            .unwrap_or_else(|| singleton.default.clone())
    }

    /// Whether anything was set at `path` since the default.
    pub(crate) fn is_set(&self, path: &str) -> bool {
        self.singletons.contains_key(path)
    }

    /// Sets the singleton at `path`: `body` over what it reads now
    /// (`merge`), or over its default.
    pub(crate) fn set(
        &mut self,
        singleton: &Singleton,
        path: &str,
        body: &Value,
        merge: bool,
        now: Timestamp,
    ) -> Value {
        let base = if merge {
            self.read(singleton, path)
        } else {
            singleton.default.clone()
        };
        // Fields the default leaves out are taken too, in the spec's shape.
        let mut value = overlay_with(&overlay_with(&singleton.shape, &base, false), body, merge);
        if let (Value::Object(map), Value::Object(had), Value::Object(sent)) =
            (&mut value, &base, body)
        {
            map.retain(|name, _| {
                had.contains_key(name) || sent.get(name).is_some_and(|v| !v.is_null())
            });
        }
        stamp(&mut value, now, !self.is_set(path));
        self.singletons.insert(path.to_owned(), value.clone());
        value
    }

    /// What was stored at `path` as it is, if anything.
    pub(crate) fn singleton(&self, path: &str) -> Option<&Value> {
        self.singletons.get(path)
    }

    /// Stores `value` at `path` as it is.
    pub(crate) fn put_singleton(&mut self, path: &str, value: Value) {
        self.singletons.insert(path.to_owned(), value);
    }

    /// Puts the singleton at `path` back to its default.
    pub(crate) fn reset(&mut self, path: &str) -> bool {
        self.singletons.remove(path).is_some()
    }
}

/// Every item's sort key in a list: creation order.
pub(crate) fn sort_key(item: &Item) -> String {
    format!("{:020}", item.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overlays_keep_the_shape_and_clear_with_null() {
        let base = json!({"name": "a", "n": 1, "nested": {"x": 1, "y": 2}, "list": [1]});
        let patch = json!({"name": "b", "n": "wrong kind", "nested": {"y": 3}, "list": null, "extra": true});
        assert_eq!(overlay_with(&base, &json!({"list": null}), false), base);
        assert_eq!(
            overlay_with(&base, &patch, true),
            json!({"name": "b", "n": 1, "nested": {"x": 1, "y": 3}})
        );
    }

    fn dashboards() -> Collection {
        Collection {
            template: "/x/dashboards",
            param: "dashboardId".into(),
            id_field: "id".into(),
            id_kind: IdKind::Uuid,
            item: json!({"id": "", "name": "", "createdAt": "", "updatedAt": ""}),
            cursor_paged: false,
            listed: None,
        }
    }

    #[test]
    fn items_live_until_deleted_with_what_is_under_them() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut store = Store::default();
        let c = dashboards();
        let made = store
            .create(&c, "/x/dashboards", &json!({"name": "d"}), None, now)
            .unwrap();
        let id = made["id"].as_str().unwrap().to_owned();
        assert!(Uuid::parse_str(&id).is_ok());
        assert_eq!(made["createdAt"], "2026-01-01T00:00:00Z");
        store.insert(&format!("/x/dashboards/{id}/tiles"), json!({"id": "t"}));
        let later = now + chrono::TimeDelta::seconds(5);
        let changed = store
            .update(
                &c,
                "/x/dashboards",
                &id,
                &json!({"name": "e"}),
                false,
                later,
            )
            .unwrap();
        assert_eq!(
            (changed["name"].as_str(), changed["id"].as_str()),
            (Some("e"), Some(id.as_str()))
        );
        assert_eq!(changed["createdAt"], "2026-01-01T00:00:00Z");
        assert_ne!(changed["updatedAt"], changed["createdAt"]);
        store.delete(&c, "/x/dashboards", &id).unwrap();
        assert!(store.get(&c, "/x/dashboards", &id).is_err());
        assert!(store.list(&format!("/x/dashboards/{id}/tiles")).is_empty());
    }

    #[test]
    fn counted_and_given_ids() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut store = Store::default();
        let mut versions = dashboards();
        versions.id_field = "version".into();
        versions.id_kind = IdKind::Counter;
        versions.item = json!({"version": 0});
        for expected in [1, 2] {
            let made = store
                .create(&versions, "/v", &json!({}), None, now)
                .unwrap();
            assert_eq!(made["version"], expected);
        }
        let mut named = dashboards();
        named.id_field = "functionName".into();
        named.id_kind = IdKind::Given;
        named.item = json!({"functionName": ""});
        assert_eq!(
            store
                .create(&named, "/f", &json!({}), None, now)
                .unwrap_err()
                .status,
            http::StatusCode::BAD_REQUEST
        );
        store
            .create(&named, "/f", &json!({"functionName": "f"}), None, now)
            .unwrap();
        assert_eq!(
            store
                .create(&named, "/f", &json!({"functionName": "f"}), None, now)
                .unwrap_err()
                .status,
            http::StatusCode::CONFLICT
        );
    }
}
