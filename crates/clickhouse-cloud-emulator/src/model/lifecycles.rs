//! The rules some stored resources have beyond plain storage: states that
//! move on the scaled clock, references that must exist, and the
//! activities the spec has a type for.

use clickhouse_cloud_types::{Activity, Timestamp};
use serde_json::Value;

use crate::model::access::Context;
use crate::model::clock::Clock;
use crate::model::error::ApiError;
use crate::model::store::Store;

/// Brings every stored lifecycle up to `now`.
pub(crate) fn settle(_store: &mut Store, _clock: &Clock, _now: Timestamp) {}

/// Checks what operation `id` refers to before it runs.
pub(crate) fn before(
    _id: &str,
    _store: &Store,
    _path: &str,
    _body: &Value,
) -> Result<(), ApiError> {
    Ok(())
}

/// Starts what operation `id` set moving.
pub(crate) fn after(
    _id: &str,
    _store: &mut Store,
    _clock: &Clock,
    _cx: &Context,
    _path: &str,
    _result: &Value,
) {
}

/// The activity operation `id` records, where the spec has a type for it.
pub(crate) fn activity(_id: &str, _cx: &Context, _path: &str, _result: &Value) -> Option<Activity> {
    None
}
