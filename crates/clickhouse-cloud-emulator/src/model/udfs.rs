//! User-defined functions beyond plain storage: upload sessions and the
//! archives put to their URLs, the version a create or version-create
//! makes from one archive (with the request schema's defaults), the
//! function showing its latest version, which version an attach takes,
//! and when the spec refuses a function or version delete (`409`).
//!
//! An upload session is `{uploadId, uploadUrl, expiresAt}`. Its URL points
//! at the emulator itself (`/_uploads/{uploadId}?token=...`) and, like a
//! presigned URL, needs nothing but the random token in it: a `PUT` of
//! `application/zip` bytes before `expiresAt`, without an `Authorization`
//! header. Only the SHA-256 of the token is kept, and of the archive only
//! its size and SHA-256. The archive serves one create or version-create
//! of the same organization; then, or a day after the URL expired, it is
//! gone.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use clickhouse_cloud_auth::sha256_base64;
use clickhouse_cloud_types::Timestamp;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::model::error::ApiError;
use crate::model::lifecycles;
use crate::model::store::{Store, id_text};
use crate::model::world::World;

/// Where upload URLs point, below the emulator's base URL.
pub(crate) const UPLOAD_ROUTE: &str = "/_uploads";

/// The largest archive an upload URL takes: 100 MiB. The API does not
/// document a limit; this one is the emulator's.
pub const UDF_ARCHIVE_LIMIT: u64 = 100 * 1024 * 1024;

/// The content type an upload URL is signed for.
pub(crate) const ARCHIVE_CONTENT_TYPE: &str = "application/zip";

/// How long an upload URL takes a `PUT`, on the emulator's clock (not
/// scaled by its speed: a deadline for the client, like a key's expiry).
pub(crate) fn url_lifetime() -> TimeDelta {
    TimeDelta::minutes(15)
}

/// How long a session (an archive nobody used) is kept after its URL
/// expired.
fn kept_after_expiry() -> TimeDelta {
    TimeDelta::days(1)
}

/// What an upload URL received: the archive's size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdfArchive {
    /// Its length in bytes.
    pub size: u64,
    /// Its SHA-256, in lower-case hexadecimal.
    pub sha256: String,
}

/// One upload session.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Session {
    /// `base64(sha256(token))`: the token itself is not kept.
    token_hash: String,
    expires_at: Timestamp,
    #[serde(default)]
    archive: Option<UdfArchive>,
    /// A create or version-create took the archive.
    #[serde(default)]
    used: bool,
}

impl Session {
    /// Whether it is gone: a day after its URL expired.
    fn forgotten(&self, now: Timestamp) -> bool {
        now > self.expires_at + kept_after_expiry()
    }
}

/// One organization's upload sessions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Uploads {
    sessions: BTreeMap<Uuid, Session>,
}

/// A new upload session: its ID, the token of its URL, its expiry.
pub(crate) struct Opened {
    pub(crate) id: Uuid,
    pub(crate) token: String,
    pub(crate) expires_at: Timestamp,
}

impl Uploads {
    /// Opens a session whose URL takes a `PUT` until `now` plus
    /// [`url_lifetime`].
    pub(crate) fn open(&mut self, now: Timestamp) -> Opened {
        self.prune(now);
        let id = Uuid::new_v4();
        let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let expires_at = now + url_lifetime();
        self.sessions.insert(
            id,
            Session {
                token_hash: sha256_base64(&token),
                expires_at,
                archive: None,
                used: false,
            },
        );
        Opened {
            id,
            token,
            expires_at,
        }
    }

    /// Drops what can no longer be used.
    fn prune(&mut self, now: Timestamp) {
        self.sessions.retain(|_, session| !session.forgotten(now));
    }

    /// Takes the archive of upload `id` for one create or version attempt:
    /// `410` when there is none to take (an unknown ID, another
    /// organization's, nothing put to its URL, already taken, or dropped).
    pub(crate) fn take(&mut self, id: Uuid, now: Timestamp) -> Result<UdfArchive, ApiError> {
        self.prune(now);
        let gone = |why: String| ApiError::new(StatusCode::GONE, why);
        let Some(session) = self.sessions.get_mut(&id) else {
            return Err(gone(format!(
                "no source archive for uploadId {id}: it is not an upload of this organization, \
                 or it was dropped; ask for a new upload URL and put the archive to it"
            )));
        };
        if session.used {
            return Err(gone(format!(
                "the source archive of upload {id} was already used by a create or version \
                 attempt; ask for a new upload URL and put the archive again"
            )));
        }
        let Some(archive) = session.archive.clone() else {
            return Err(gone(format!(
                "nothing was put to the URL of upload {id}; put the archive to its uploadUrl \
                 (before {}) first",
                session.expires_at
            )));
        };
        session.used = true;
        Ok(archive)
    }

    /// What upload `id` received, if anything.
    pub(crate) fn archive(&self, id: Uuid) -> Option<&UdfArchive> {
        self.sessions.get(&id)?.archive.as_ref()
    }
}

/// How a `PUT` to an upload URL came.
pub(crate) struct Put<'a> {
    pub(crate) upload: &'a str,
    pub(crate) token: Option<&'a str>,
    pub(crate) authorization: bool,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) length: Option<u64>,
}

fn forbidden(message: impl std::fmt::Display) -> ApiError {
    ApiError::forbidden(message)
}

/// The upload a `PUT` names, when it may put an archive there: checked
/// before the body is read, and again (with the body) before it is kept.
pub(crate) fn admit_put(world: &mut World, put: &Put<'_>) -> Result<(Uuid, Uuid), ApiError> {
    if put.authorization {
        return Err(ApiError::bad_request(
            "an upload URL carries its own authorization: send the archive without an \
             Authorization header",
        ));
    }
    let refused = || forbidden("the upload URL is not valid (unknown upload, or a wrong token)");
    let id = Uuid::parse_str(put.upload).map_err(|_| refused())?;
    let token = put.token.ok_or_else(refused)?;
    let now = world.clock.now();
    let hash = sha256_base64(token);
    let found = world.orgs.iter_mut().find_map(|(org, state)| {
        state.uploads.prune(now);
        let session = state.uploads.sessions.get(&id)?;
        bool::from(session.token_hash.as_bytes().ct_eq(hash.as_bytes())).then_some(*org)
    });
    let org = found.ok_or_else(refused)?;
    let session = &world.orgs[&org].uploads.sessions[&id];
    if now > session.expires_at {
        return Err(forbidden(format_args!(
            "the upload URL expired at {}; ask for a new one",
            session.expires_at
        )));
    }
    if session.used {
        return Err(forbidden(
            "this upload was already used by a create or version attempt; ask for a new upload URL",
        ));
    }
    let content_type = put
        .content_type
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    if !content_type.is_some_and(|value| value.eq_ignore_ascii_case(ARCHIVE_CONTENT_TYPE)) {
        return Err(forbidden(format_args!(
            "the upload URL is signed for Content-Type {ARCHIVE_CONTENT_TYPE}, not {}",
            content_type.unwrap_or("none")
        )));
    }
    if put.length.is_some_and(|length| length > UDF_ARCHIVE_LIMIT) {
        return Err(too_large());
    }
    Ok((org, id))
}

/// `413`: more than [`UDF_ARCHIVE_LIMIT`] bytes.
pub(crate) fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format_args!(
            "an archive may be at most {UDF_ARCHIVE_LIMIT} bytes ({} MiB)",
            UDF_ARCHIVE_LIMIT / (1024 * 1024)
        ),
    )
}

/// Keeps what `bytes` are (size and SHA-256) as upload `id`'s archive,
/// replacing one put before.
pub(crate) fn keep(world: &mut World, put: &Put<'_>, bytes: &[u8]) -> Result<UdfArchive, ApiError> {
    let (org, id) = admit_put(world, put)?;
    if bytes.len() as u64 > UDF_ARCHIVE_LIMIT {
        return Err(too_large());
    }
    let digest = Sha256::digest(bytes);
    let sha256 = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    let archive = UdfArchive {
        size: bytes.len() as u64,
        sha256,
    };
    let session = world
        .orgs
        .get_mut(&org)
        .and_then(|state| state.uploads.sessions.get_mut(&id))
        .ok_or_else(|| forbidden("the upload is gone"))?;
    session.archive = Some(archive.clone());
    Ok(archive)
}

/// `path` without its last segment, and that segment.
fn split_last(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or((path, ""))
}

/// The stored fields of a new version, from a create or version-create
/// request: what it sets, the request schema's defaults for the rest
/// (values are not taken from an earlier version), building.
fn version_of(body: &Value, function: &str) -> Value {
    let pool = body.get("type").and_then(Value::as_str) == Some("executable_pool");
    let mut out = json!({
        "functionName": function,
        "status": "building",
        "error": null,
        "arguments": [],
        "returnName": null,
        "poolSize": if pool { json!(3) } else { Value::Null },
        "maxCommandExecutionTime": 10,
        "commandReadTimeout": 10000,
        "commandWriteTimeout": 10000,
        "memoryLimitMib": null,
        "sendChunkHeader": false,
        "deterministic": false,
        "format": "TabSeparated",
        "sandboxType": "basic",
        "sandboxVersion": "v2",
    });
    let (Value::Object(out_map), Value::Object(sent)) = (&mut out, body) else {
        return out;
    };
    for (name, value) in sent {
        let kept = match name.as_str() {
            "runtime" | "type" | "returnType" | "format" | "sandboxType" => value.is_string(),
            "returnName" => value.is_string() || value.is_null(),
            "commandReadTimeout" | "commandWriteTimeout" => value.is_i64(),
            "memoryLimitMib" | "maxCommandExecutionTime" => value.is_i64() || value.is_null(),
            "poolSize" => (pool && value.is_i64()) || value.is_null(),
            "sendChunkHeader" | "deterministic" => value.is_boolean(),
            "arguments" => value.is_array(),
            _ => false,
        };
        if !kept {
            continue;
        }
        let value = match (name.as_str(), value) {
            ("arguments", Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .filter_map(Value::as_object)
                    .map(|item| {
                        let text = |field: &str| {
                            item.get(field)
                                .and_then(Value::as_str)
                                .map_or(Value::Null, |s| Value::String(s.to_owned()))
                        };
                        json!({"name": text("name"), "type": text("type")})
                    })
                    .collect(),
            ),
            (_, value) => value.clone(),
        };
        out_map.insert(name.clone(), value);
    }
    out
}

/// The upload ID a create or version-create names.
fn upload_id(body: &Value) -> Result<Uuid, ApiError> {
    match body.get("uploadId") {
        Some(Value::String(text)) => Uuid::parse_str(text).map_err(|_| {
            ApiError::bad_request(format_args!("uploadId is not a valid UUID: {text:?}"))
        }),
        _ => Err(ApiError::bad_request(
            "uploadId is required: ask for an upload URL and put the archive to it first",
        )),
    }
}

/// Checks and completes what operation `id` asks before the generic store
/// runs it, giving the body to store: a create or version-create takes its
/// upload's archive (`410` when there is none) and gets the request
/// schema's defaults; an attach names the version it takes; a function or
/// version delete is refused (`409`) where the spec says so.
pub(crate) fn before(
    id: &str,
    uploads: &mut Uploads,
    store: &Store,
    path: &str,
    body: Value,
    now: Timestamp,
) -> Result<Value, ApiError> {
    match id {
        "udfCreate" => {
            let upload = upload_id(&body)?;
            let function = body
                .get("functionName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            uploads.take(upload, now)?;
            Ok(version_of(&body, &function))
        }
        "udfVersionCreate" => {
            let upload = upload_id(&body)?;
            let (function_path, _) = split_last(path);
            let (_, function) = split_last(function_path);
            uploads.take(upload, now)?;
            Ok(version_of(&body, function))
        }
        "udfAttach" => {
            let (attachments, _) = split_last(path);
            let (function_path, _) = split_last(attachments);
            let (_, function) = split_last(function_path);
            let version = attachable(store, function_path, function, body.get("version"))?;
            Ok(json!({"version": version, "functionName": function}))
        }
        "udfDelete" => {
            let (_, function) = split_last(path);
            deletable_function(store, path, function)?;
            Ok(body)
        }
        "udfVersionDelete" => {
            let (versions, version) = split_last(path);
            let (function_path, _) = split_last(versions);
            let (_, function) = split_last(function_path);
            deletable_version(store, function_path, function, version)?;
            Ok(body)
        }
        _ => Ok(body),
    }
}

/// The versions of the function at `function_path`, with their status.
fn versions_of(store: &Store, function_path: &str) -> Vec<(i64, String)> {
    store
        .list(&format!("{function_path}/versions"))
        .iter()
        .filter_map(|item| {
            let version = item.value.get("version")?.as_i64()?;
            let status = item.value.get("status").and_then(Value::as_str)?;
            Some((version, status.to_owned()))
        })
        .collect()
}

/// The first version of `versions` that is still building, if any.
fn still_building(versions: &[(i64, String)]) -> Option<i64> {
    versions
        .iter()
        .find(|(_, status)| status == "building")
        .map(|(version, _)| *version)
}

/// A function goes with all its versions, so none of them may still be
/// building (`409`, as the spec's answers for `udfDelete` have it).
fn deletable_function(store: &Store, function_path: &str, function: &str) -> Result<(), ApiError> {
    match still_building(&versions_of(store, function_path)) {
        Some(version) => Err(ApiError::conflict(format_args!(
            "version {version} of function {function} is still building: wait until its build \
             is done before deleting the function"
        ))),
        None => Ok(()),
    }
}

/// The spec's refusals (`409`) of a version delete: the version is still
/// building, it is the function's latest one, or the function is attached
/// to a service (the operation wants no attachment at all). An unknown
/// version is left to the store's `404`.
fn deletable_version(
    store: &Store,
    function_path: &str,
    function: &str,
    asked: &str,
) -> Result<(), ApiError> {
    let versions = versions_of(store, function_path);
    let Ok(asked) = asked.parse::<i64>() else {
        return Ok(());
    };
    let Some((_, status)) = versions.iter().find(|(version, _)| *version == asked) else {
        return Ok(());
    };
    if status == "building" {
        return Err(ApiError::conflict(format_args!(
            "version {asked} of function {function} is still building: wait until its build is \
             done before deleting it"
        )));
    }
    if versions.iter().all(|(version, _)| *version <= asked) {
        return Err(ApiError::conflict(format_args!(
            "version {asked} is the latest version of function {function}: it cannot be deleted \
             (delete the function to remove every version)"
        )));
    }
    let services: Vec<String> = store
        .list(&format!("{function_path}/attachments"))
        .iter()
        .filter_map(|item| item.value.get("serviceId").and_then(id_text))
        .collect();
    if !services.is_empty() {
        return Err(ApiError::conflict(format_args!(
            "function {function} is attached to service(s) {}: detach it from every service \
             before deleting a version",
            services.join(", ")
        )));
    }
    Ok(())
}

/// The version an attach of `function` takes: the one asked for, which
/// must exist (`404`) and be ready (`409`), or the latest ready one.
fn attachable(
    store: &Store,
    function_path: &str,
    function: &str,
    asked: Option<&Value>,
) -> Result<i64, ApiError> {
    let versions = versions_of(store, function_path);
    if let Some(asked) = asked.filter(|value| !value.is_null()) {
        let Some((version, status)) = versions
            .iter()
            .find(|(version, _)| asked.as_i64() == Some(*version))
        else {
            return Err(ApiError::not_found(format_args!(
                "version {asked} of function {function} not found"
            )));
        };
        if status != "ready" {
            return Err(ApiError::conflict(format_args!(
                "version {version} of function {function} is {status}: only a ready version \
                 can be attached"
            )));
        }
        return Ok(*version);
    }
    if versions.is_empty() {
        return Err(ApiError::bad_request(
            "the function has no version to attach: create one first",
        ));
    }
    versions
        .iter()
        .filter(|(_, status)| status == "ready")
        .map(|(version, _)| *version)
        .max()
        .ok_or_else(|| {
            ApiError::conflict(format_args!(
                "function {function} has no ready version yet: wait until its build is ready"
            ))
        })
}

/// Sets `fields` (all of them, `null`s included) on the item of the
/// collection at `collection` whose `field` is `id`.
fn set_fields(
    store: &mut Store,
    collection: &str,
    field: &str,
    id: &str,
    fields: &Map<String, Value>,
) {
    if let Some(Value::Object(item)) = store.item_mut(collection, field, id) {
        for (name, value) in fields {
            if item.contains_key(name) {
                item.insert(name.clone(), value.clone());
            }
        }
    }
}

/// After the generic store ran operation `id` with `body` (what
/// [`before`] gave): a create also makes version 1; a version-create
/// becomes what the function shows; both start building. After a version
/// delete the function shows the newest version left.
pub(crate) fn after(
    id: &str,
    store: &mut Store,
    now: Timestamp,
    path: &str,
    body: &Value,
    result: &mut Value,
) {
    if id == "udfVersionDelete" {
        let (versions, _) = split_last(path);
        let (function_path, _) = split_last(versions);
        let (functions, function) = split_last(function_path);
        show_newest(store, functions, function);
        return;
    }
    let Value::Object(fields) = body else { return };
    match id {
        "udfCreate" => {
            let Some(function) = result.get("functionName").and_then(id_text) else {
                return;
            };
            set_fields(store, path, "functionName", &function, fields);
            let Some(made) = store.item_mut(path, "functionName", &function) else {
                return;
            };
            if let Value::Object(map) = made {
                map.insert("version".into(), Value::from(1));
            }
            let made = made.clone();
            let versions = format!("{path}/{function}/versions");
            store.insert(&versions, made.clone());
            lifecycles::start_build(store, path, "functionName", &function, now);
            lifecycles::start_build(store, &versions, "version", "1", now);
            *result = made;
        }
        "udfVersionCreate" => {
            let Some(version) = result.get("version").and_then(id_text) else {
                return;
            };
            set_fields(store, path, "version", &version, fields);
            let Some(made) = store.item_mut(path, "version", &version).cloned() else {
                return;
            };
            let (function_path, _) = split_last(path);
            let (functions, function) = split_last(function_path);
            if let Some(shown @ Value::Object(_)) =
                store.item_mut(functions, "functionName", function)
            {
                *shown = made.clone();
            }
            lifecycles::start_build(store, functions, "functionName", function, now);
            lifecycles::start_build(store, path, "version", &version, now);
            *result = made;
        }
        _ => {}
    }
}

/// Makes function `function` (of the collection at `functions`) show its
/// newest remaining version, state included, unless it shows it already.
fn show_newest(store: &mut Store, functions: &str, function: &str) {
    let versions = format!("{functions}/{function}/versions");
    let Some(newest) = store
        .list(&versions)
        .iter()
        .filter_map(|item| Some((item.value.get("version")?.as_i64()?, &item.value)))
        .max_by_key(|(version, _)| *version)
        .map(|(version, value)| (version, value.clone()))
    else {
        return;
    };
    let Some(shown) = store.item_mut(functions, "functionName", function) else {
        return;
    };
    if shown.get("version").and_then(Value::as_i64) == Some(newest.0) {
        return;
    }
    *shown = newest.1;
    lifecycles::follow_build(
        store,
        (&versions, &newest.0.to_string()),
        (functions, "functionName", function),
    );
}

/// The base URL upload URLs start with: the authority the request was
/// sent to (its `Host`), else the address the emulator listens on.
pub(crate) fn base_url(host: Option<&str>, world: &World) -> String {
    let host = host
        .filter(|host| !host.contains('@'))
        .filter(|host| host.parse::<http::uri::Authority>().is_ok());
    match (host, world.address) {
        (Some(host), _) => format!("http://{host}"),
        (None, Some(address)) => format!("http://{address}"),
        (None, None) => "http://127.0.0.1".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn an_archive_serves_one_attempt_before_it_is_dropped() {
        let mut uploads = Uploads::default();
        let opened = uploads.open(now());
        assert_eq!(opened.expires_at, now() + url_lifetime());
        assert_eq!(opened.token.len(), 64);
        let gone = uploads.take(opened.id, now()).unwrap_err();
        assert_eq!(gone.status, StatusCode::GONE);
        assert!(gone.message.contains("nothing was put"), "{}", gone.message);
        uploads.sessions.get_mut(&opened.id).unwrap().archive = Some(UdfArchive {
            size: 3,
            sha256: "abc".into(),
        });
        assert_eq!(uploads.take(opened.id, now()).unwrap().size, 3);
        let again = uploads.take(opened.id, now()).unwrap_err();
        assert!(again.message.contains("already used"), "{}", again.message);
        let unknown = uploads.take(Uuid::new_v4(), now()).unwrap_err();
        assert_eq!(unknown.status, StatusCode::GONE);
        // An unused archive outlives its URL by a day, no more.
        let kept = uploads.open(now());
        uploads.sessions.get_mut(&kept.id).unwrap().archive = Some(UdfArchive {
            size: 1,
            sha256: "a".into(),
        });
        let late = kept.expires_at + TimeDelta::hours(23);
        assert!(uploads.archive(kept.id).is_some());
        uploads.prune(late);
        assert!(uploads.archive(kept.id).is_some());
        uploads.prune(late + TimeDelta::hours(2));
        assert!(uploads.archive(kept.id).is_none());
    }

    #[test]
    fn after_a_version_delete_the_function_shows_the_newest_left() {
        use crate::model::clock::Clock;
        let functions = "/v1/organizations/o/udfs";
        let versions = format!("{functions}/f/versions");
        let mut store = Store::default();
        let item =
            |version: i64| json!({"functionName": "f", "version": version, "status": "ready"});
        store.insert(functions, item(3));
        for version in 1..=3 {
            store.insert(&versions, item(version));
        }
        // Version 2 builds; 3 (what the function shows) is gone.
        lifecycles::start_build(&mut store, &versions, "version", "2", now());
        store.retain(&versions, |item| item.value["version"] != 3);
        after(
            "udfVersionDelete",
            &mut store,
            now(),
            &format!("{versions}/3"),
            &Value::Null,
            &mut Value::Null,
        );
        let shown = |store: &Store| store.list(functions)[0].value.clone();
        assert_eq!(shown(&store)["version"], 2);
        assert_eq!(shown(&store)["status"], "building");
        // The function's state follows that version's build.
        let clock = Clock::new(1.0);
        lifecycles::settle(&mut store, &clock, now() + TimeDelta::seconds(61));
        assert_eq!(shown(&store)["status"], "ready");
        // Showing the newest already: nothing changes.
        store.retain(&versions, |item| item.value["version"] != 1);
        after(
            "udfVersionDelete",
            &mut store,
            now(),
            &format!("{versions}/1"),
            &Value::Null,
            &mut Value::Null,
        );
        assert_eq!(shown(&store)["version"], 2);
    }

    #[test]
    fn deletes_wait_for_builds_and_keep_the_latest_and_attached_versions() {
        let function = "/v1/organizations/o/udfs/f";
        let versions = format!("{function}/versions");
        let mut store = Store::default();
        let item = |version: i64, status: &str| json!({"functionName": "f", "version": version, "status": status});
        store.insert(&versions, item(1, "ready"));
        store.insert(&versions, item(2, "building"));
        let refused = |store: &Store, id: &str, path: &str| {
            before(id, &mut Uploads::default(), store, path, Value::Null, now())
                .map(|_| ())
                .map_err(|error| (error.status, error.message))
        };
        let (status, message) = refused(&store, "udfDelete", function).unwrap_err();
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(message.contains("version 2"), "{message}");
        let building = refused(&store, "udfVersionDelete", &format!("{versions}/2"));
        assert!(building.unwrap_err().1.contains("still building"));
        assert_eq!(
            refused(&store, "udfVersionDelete", &format!("{versions}/1")),
            Ok(())
        );
        // An unknown version is the store's 404.
        assert_eq!(
            refused(&store, "udfVersionDelete", &format!("{versions}/9")),
            Ok(())
        );
        store.retain(&versions, |item| item.value["version"] != 2);
        store.insert(&versions, item(2, "ready"));
        assert_eq!(refused(&store, "udfDelete", function), Ok(()));
        let latest = refused(&store, "udfVersionDelete", &format!("{versions}/2"));
        assert!(latest.unwrap_err().1.contains("latest"));
        store.insert(
            &format!("{function}/attachments"),
            json!({"serviceId": "s1", "version": 2, "functionName": "f"}),
        );
        let attached = refused(&store, "udfVersionDelete", &format!("{versions}/1"));
        assert!(attached.unwrap_err().1.contains("s1"));
    }

    #[test]
    fn a_version_takes_what_the_request_sets_and_the_schema_defaults() {
        let body = json!({
            "uploadId": Uuid::nil().to_string(),
            "runtime": "python3.11",
            "type": "executable",
            "arguments": [{"name": "x", "type": "UInt64", "extra": 1}],
            "returnType": "UInt64",
            "memoryLimitMib": 512,
            "poolSize": 4,
            "deterministic": "yes",
        });
        let version = version_of(&body, "f");
        assert_eq!(version["functionName"], "f");
        assert_eq!(version["status"], "building");
        assert_eq!(version["error"], Value::Null);
        assert_eq!(
            version["arguments"],
            json!([{"name": "x", "type": "UInt64"}])
        );
        assert_eq!(version["memoryLimitMib"], 512);
        // An executable function has no pool; a wrong kind keeps the default.
        assert_eq!(version["poolSize"], Value::Null);
        assert_eq!(version["deterministic"], false);
        assert_eq!(version["commandReadTimeout"], 10000);
        assert_eq!(version["format"], "TabSeparated");
        assert!(version.get("uploadId").is_none());
        let pool = version_of(&json!({"type": "executable_pool"}), "g");
        assert_eq!(pool["poolSize"], 3);
    }
}
