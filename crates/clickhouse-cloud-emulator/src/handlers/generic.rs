//! Plain CRUD for every operation the shapes table classifies
//! ([`crate::model::shapes`]): the request goes through the whole pipeline,
//! its path and body are checked against the operation's types, and the
//! generic store does the rest. Resources with their own rules (lifecycles,
//! references) get them from [`crate::model::lifecycles`] on the way, and
//! UDFs (uploads, versions) from [`crate::model::udfs`].

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use clickhouse_cloud_types::Operation;
use clickhouse_cloud_types::operation::match_path;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::model::access::Context;
use crate::model::backups;
use crate::model::catalogue::{example_result, examples};
use crate::model::computed;
use crate::model::error::ApiError;
use crate::model::lifecycles;
use crate::model::paging::{self, PageMeta};
use crate::model::services::check_service;
use crate::model::shapes::{Collection, Shape, table};
use crate::model::store::{Store, sort_key};
use crate::model::udfs;
use crate::model::world::World;
use crate::pipeline::{
    access_of, admit, decode_body, decode_params, envelope_with, error_response,
};

/// Serves operation `O` from the generic store.
pub(crate) fn serve<O: Operation>(
    world: &mut World,
    parts: &Parts,
    body: &Bytes,
    request_id: Uuid,
) -> Response {
    let mut rate = None;
    let outcome = (|| {
        let shape = table()
            .shape(O::ID)
            .ok_or_else(|| ApiError::internal(format_args!("{} has no shape", O::ID)))?;
        let cx = admit(
            world,
            parts,
            O::PATH,
            O::ID,
            access_of(O::METHOD),
            &mut rate,
        )?;
        let path = parts.uri.path();
        let _: O::Path = decode_params(O::PATH, path)?;
        let _: O::Body = decode_body(body)?;
        let raw: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(body).map_err(ApiError::bad_request)?
        };
        let params = match_path(O::PATH, path).unwrap_or_default();
        if let Some(id) = params.get("serviceId").and_then(Value::as_str) {
            let id = Uuid::parse_str(id).map_err(|_| {
                ApiError::bad_request(format_args!("serviceId is not a valid UUID: {id:?}"))
            })?;
            check_service(world, &cx, id, O::ID)?;
        }
        let query: HashMap<String, String> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).unwrap_or_default();
        let clock = world.clock.clone();
        let org = world.org_mut(cx.caller.org)?;
        lifecycles::settle(&mut org.store, &clock, cx.now);
        // Backups owed up to now, for the lists that show them.
        backups::settle(org, cx.caller.org, &clock, cx.now);
        check_parents(&org.store, O::PATH, path)?;
        let raw = udfs::before(O::ID, &mut org.uploads, &org.store, path, raw, cx.now)?;
        computed::before(O::ID, &raw)?;
        let (mut result, page) = match shape {
            Shape::Action => {
                let acted = lifecycles::act(O::ID, &mut org.store, &clock, &cx, path, &raw)?;
                (answer_with(O::ID, acted, None), None)
            }
            Shape::Computed => {
                let asked = computed::Asked {
                    params: &params,
                    query: &query,
                    now: cx.now,
                };
                computed::answer(O::ID, &mut org.store, path, &asked, &raw)?
            }
            _ => run(&mut org.store, &cx, O::ID, shape, path, &raw, &query)?,
        };
        udfs::after(O::ID, &mut org.store, cx.now, path, &raw, &mut result);
        lifecycles::after(O::ID, &mut org.store, &clock, &cx, path, &mut result);
        computed::after(O::ID, &mut org.store, path, &raw, &result);
        // A schedule changed now counts from now.
        backups::settle(org, cx.caller.org, &clock, cx.now);
        let activity = lifecycles::activity(O::ID, &cx, path, &result);
        if let Some(activity) = activity {
            org.activities.record(&cx, activity);
        }
        let status = examples()
            .get(O::ID)
            .and_then(|example| StatusCode::from_u16(example.status).ok())
            .unwrap_or(StatusCode::OK);
        Ok::<_, ApiError>((status, result, page))
    })();
    match outcome {
        Ok((status, result, page)) => {
            envelope_with(status, request_id, result, page.as_ref(), rate)
        }
        Err(error) => error_response(request_id, &error, rate),
    }
}

/// Every item the path passes through must exist: a dashboard's tiles need
/// the dashboard, a pipe's settings the pipe.
fn check_parents(store: &Store, template: &str, path: &str) -> Result<(), ApiError> {
    let segments: Vec<&str> = path.split('/').collect();
    for collection in &table().collections {
        let item = format!("{}/{{{}}}/", collection.template, collection.param);
        if !template.starts_with(&item) {
            continue;
        }
        let depth = collection.template.split('/').count();
        let (Some(parent), Some(id)) = (segments.get(..depth), segments.get(depth)) else {
            continue;
        };
        if !store.has(collection, &parent.join("/"), id) {
            return Err(ApiError::not_found(format_args!(
                "{} {id} not found",
                collection.param
            )));
        }
    }
    Ok(())
}

/// `path` without its last segment, and that segment.
fn split_last(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or((path, ""))
}

/// What to answer after a change: the stored value, unless the
/// operation's example shows an answer of another shape (a bare
/// acknowledgement), which is then answered as the example has it.
fn answer_with(id: &str, value: Value, id_field: Option<&str>) -> Value {
    match example_result(id) {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Object(example)) => {
            let fits = match (id_field, &value) {
                (Some(field), _) => example.contains_key(field),
                (None, Value::Object(map)) => example.keys().all(|key| map.contains_key(key)),
                _ => false,
            };
            if fits {
                value
            } else {
                Value::Object(example.clone())
            }
        }
        Some(other) => other.clone(),
    }
}

fn run(
    store: &mut Store,
    cx: &Context,
    id: &str,
    shape: &Shape,
    path: &str,
    body: &Value,
    query: &HashMap<String, String>,
) -> Result<(Value, Option<PageMeta>), ApiError> {
    let now = cx.now;
    let empty = Value::Object(Map::new());
    let body = if body.is_null() { &empty } else { body };
    let done = |value: Value| Ok((value, None));
    match shape {
        Shape::List(collection) => list(store, collection, path, query),
        Shape::Create(collection) => {
            let made = store.create(collection, path, body, None, now)?;
            done(answer_with(id, made, Some(&collection.id_field)))
        }
        Shape::Get(collection) => {
            let (parent, item) = split_last(path);
            done(store.get(collection, parent, item)?.clone())
        }
        Shape::Merge(collection) => {
            let (parent, item) = split_last(path);
            let value = store.update(collection, parent, item, body, false, now)?;
            done(answer_with(id, value, Some(&collection.id_field)))
        }
        Shape::Replace(collection, upsert) => {
            let (parent, item) = split_last(path);
            let value = if *upsert && !store.has(collection, parent, item) {
                store.create(collection, parent, body, Some(item), now)?
            } else {
                store.update(collection, parent, item, body, true, now)?
            };
            done(answer_with(id, value, Some(&collection.id_field)))
        }
        Shape::Delete(collection) => {
            let (parent, item) = split_last(path);
            let removed = store.delete(collection, parent, item)?;
            done(answer_with(id, removed, Some(&collection.id_field)))
        }
        Shape::Read(singleton) => done(store.read(singleton, path)),
        Shape::MergeSingleton(singleton) => {
            let value = store.set(singleton, path, body, true, now);
            done(answer_with(id, value, None))
        }
        Shape::ReplaceSingleton(singleton) => {
            let value = store.set(singleton, path, body, false, now);
            done(answer_with(id, value, None))
        }
        Shape::Reset(singleton) => {
            let value = store.read(singleton, path);
            store.reset(path);
            done(answer_with(id, value, None))
        }
        Shape::Action | Shape::Computed => Err(ApiError::internal(format_args!(
            "{id} is not plain storage"
        ))),
    }
}

fn list(
    store: &Store,
    collection: &Collection,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<(Value, Option<PageMeta>), ApiError> {
    let mut items = store.list(path).to_vec();
    if let Some(listed) = &collection.listed {
        for item in &mut items {
            if let Value::Object(map) = &mut item.value {
                map.retain(|key, _| listed.contains(key));
            }
        }
    }
    if !collection.cursor_paged {
        let values = items.into_iter().map(|item| item.value).collect();
        return Ok((Value::Array(values), None));
    }
    let limit = query
        .get("limit")
        .map(|text| {
            text.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format_args!("limit is not a number: {text:?}")))
        })
        .transpose()?;
    let (page, meta) = paging::page(
        items,
        sort_key,
        limit,
        query.get("cursor").map(String::as_str),
    )?;
    let values = page.into_iter().map(|item| item.value).collect();
    Ok((Value::Array(values), Some(meta)))
}
