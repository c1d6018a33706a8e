//! What each operation does to the store.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clickhouse_cloud_auth::{KeyMaterial, sha256_base64};
use clickhouse_cloud_types::ops::{
    ActivityGet, ActivityGetList, ActivityListQuery, ActivityPath, ApiKeyPath, OpenapiKeyCreate,
    OpenapiKeyDelete, OpenapiKeyGet, OpenapiKeyGetList, OpenapiKeyGetListQuery, OpenapiKeyUpdate,
    OrganizationGet, OrganizationGetList, OrganizationGetListQuery, OrganizationPath,
    OrganizationUpdate,
};
use clickhouse_cloud_types::{
    Activity, ActivityType, ApiKey, ApiKeyPatchRequest, ApiKeyPostRequest, ApiKeyPostResponse,
    ApiKeyState, IpAccessListEntry, KeyUpdateType, Nullable, Organization,
    OrganizationPatchRequest, OrganizationPrivateEndpoint, SecretValue, Timestamp,
};
use uuid::Uuid;

use crate::api::{Context, Handle};
use crate::error::ApiError;
use crate::roles::{Access, RoleSet};
use crate::store::{KeyRecord, Org, Store, open_access_list, parse_source};

/// Longest key name accepted.
const MAX_NAME_CHARS: usize = 50;

fn caller_org<'a>(store: &'a Store, cx: &Context) -> Result<&'a Org, ApiError> {
    store
        .org(cx.caller.org)
        .ok_or_else(|| ApiError::organization_not_found(cx.caller.org))
}

fn key_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format_args!("API key {id} not found"))
}

fn check_name(name: &str) -> Result<String, ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("name must not be blank"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::bad_request(format_args!(
            "name must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

fn check_future(at: Timestamp, now: Timestamp) -> Result<Timestamp, ApiError> {
    if at <= now {
        return Err(ApiError::bad_request("expireAt must be in the future"));
    }
    Ok(at)
}

fn check_state(state: &ApiKeyState) -> Result<bool, ApiError> {
    match state {
        ApiKeyState::Enabled => Ok(true),
        ApiKeyState::Disabled => Ok(false),
        other => Err(ApiError::bad_request(format_args!(
            "state must be enabled or disabled, not {}",
            other.as_str()
        ))),
    }
}

fn check_ip_list(list: Vec<IpAccessListEntry>) -> Result<Vec<IpAccessListEntry>, ApiError> {
    for entry in &list {
        let source = entry
            .source
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("ipAccessList: every entry needs a source"))?;
        if parse_source(source).is_none() {
            return Err(ApiError::bad_request(format_args!(
                "ipAccessList: {source:?} is not an IP address or CIDR"
            )));
        }
    }
    Ok(list)
}

/// A `hashData` hash: standard base64 of exactly 32 bytes.
fn check_hash(field: &str, value: Option<&str>) -> Result<String, ApiError> {
    let decoded = value.and_then(|value| STANDARD.decode(value.trim()).ok());
    match decoded {
        Some(bytes) if bytes.len() == 32 => Ok(STANDARD.encode(bytes)),
        _ => Err(ApiError::bad_request(format_args!(
            "{field}: Not a sha256sum"
        ))),
    }
}

impl Handle for OrganizationGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        store: &mut Store,
        cx: &Context,
        _: (),
        _: OrganizationGetListQuery,
        _: (),
    ) -> Result<Vec<Organization>, ApiError> {
        Ok(vec![caller_org(store, cx)?.info.clone()])
    }
}

impl Handle for OrganizationGet {
    const ACCESS: Access = Access::Read;

    fn run(
        store: &mut Store,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        _: (),
    ) -> Result<Organization, ApiError> {
        Ok(caller_org(store, cx)?.info.clone())
    }
}

impl Handle for OrganizationUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        store: &mut Store,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        body: OrganizationPatchRequest,
    ) -> Result<Organization, ApiError> {
        let old = caller_org(store, cx)?.info.clone();
        let mut info = old.clone();
        if let Some(name) = body.name.as_deref() {
            if name.trim().is_empty() {
                return Err(ApiError::bad_request("name must not be blank"));
            }
            info.name = Some(name.to_owned());
        }
        if let Some(flag) = body.enable_core_dumps {
            info.enable_core_dumps = Some(flag);
        }
        if let Some(patch) = body.private_endpoints {
            let mut list = info.private_endpoints.take().unwrap_or_default();
            for removed in patch.remove.unwrap_or_default() {
                let id = removed.id.ok_or_else(|| {
                    ApiError::bad_request("privateEndpoints.remove: every entry needs an id")
                })?;
                list.retain(|endpoint| endpoint.id.as_deref() != Some(id.as_str()));
            }
            for added in patch.add.unwrap_or_default() {
                let id = added.id.ok_or_else(|| {
                    ApiError::bad_request("privateEndpoints.add: every entry needs an id")
                })?;
                list.retain(|endpoint| endpoint.id.as_deref() != Some(id.as_str()));
                list.push(OrganizationPrivateEndpoint {
                    id: Some(id),
                    description: added.description,
                    cloud_provider: added.cloud_provider,
                    region: added.region,
                });
            }
            info.private_endpoints = Some(list);
        }
        let renamed = info.name != old.name;
        if let Some(org) = store.org_mut(cx.caller.org) {
            org.info = info.clone();
        }
        if renamed {
            store.record(
                cx.caller.org,
                cx.activity(ActivityType::OrganizationUpdateName),
            );
        }
        Ok(info)
    }
}

impl Handle for OpenapiKeyGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        store: &mut Store,
        cx: &Context,
        _: OrganizationPath,
        _: OpenapiKeyGetListQuery,
        _: (),
    ) -> Result<Vec<ApiKey>, ApiError> {
        let mut keys: Vec<&KeyRecord> = caller_org(store, cx)?.keys.values().collect();
        keys.sort_by_key(|key| (key.created_at, key.id));
        Ok(keys.into_iter().map(KeyRecord::to_api).collect())
    }
}

impl Handle for OpenapiKeyGet {
    const ACCESS: Access = Access::Read;

    fn run(
        store: &mut Store,
        cx: &Context,
        path: ApiKeyPath,
        _: (),
        _: (),
    ) -> Result<ApiKey, ApiError> {
        caller_org(store, cx)?
            .keys
            .get(&path.key_id)
            .map(KeyRecord::to_api)
            .ok_or_else(|| key_not_found(path.key_id))
    }
}

impl Handle for OpenapiKeyCreate {
    const ACCESS: Access = Access::Write;

    fn run(
        store: &mut Store,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        body: ApiKeyPostRequest,
    ) -> Result<ApiKeyPostResponse, ApiError> {
        let name = check_name(
            body.name
                .as_deref()
                .ok_or_else(|| ApiError::bad_request("name is required"))?,
        )?;
        let roles = RoleSet::resolve(body.roles.as_deref(), body.assigned_role_ids.as_deref())?
            .ok_or_else(|| {
                ApiError::bad_request("at least one role is required (roles or assignedRoleIds)")
            })?;
        let expire_at = match body.expire_at {
            Nullable::Value(at) => Some(check_future(at, cx.now)?),
            Nullable::Absent | Nullable::Null => None,
        };
        let enabled = body.state.as_ref().map_or(Ok(true), check_state)?;
        let ip_access_list = match body.ip_access_list {
            Some(list) => check_ip_list(list)?,
            None => open_access_list(),
        };
        let (material, id_hash, secret_hash, key_suffix) = match &body.hash_data {
            Some(hashes) => {
                let id_hash = check_hash("hashData.keyIdHash", hashes.key_id_hash.as_deref())?;
                let secret_hash = check_hash(
                    "hashData.keySecretHash",
                    hashes.key_secret_hash.as_ref().map(SecretValue::expose),
                )?;
                let suffix = hashes
                    .key_id_suffix
                    .clone()
                    .filter(|suffix| suffix.chars().count() == 4)
                    .ok_or_else(|| {
                        ApiError::bad_request("hashData.keyIdSuffix: must be 4 characters")
                    })?;
                (None, id_hash, secret_hash, suffix)
            }
            None => {
                let material = KeyMaterial::generate();
                let id_hash = sha256_base64(material.key_id().as_str());
                let secret_hash = sha256_base64(material.key_secret().expose());
                let suffix = material.key_id().suffix().to_owned();
                (Some(material), id_hash, secret_hash, suffix)
            }
        };

        let count = caller_org(store, cx)?.keys.len();
        if count >= store.key_limit {
            return Err(ApiError::bad_request(format_args!(
                "organization already has the maximum of {} API keys",
                store.key_limit
            )));
        }
        if store.id_hash_in_use(&id_hash) {
            return Err(ApiError::conflict("hashData.keyIdHash is already in use"));
        }

        let record = KeyRecord {
            id: Uuid::new_v4(),
            name,
            enabled,
            roles,
            key_suffix,
            created_at: cx.now,
            expire_at,
            used_at: None,
            ip_access_list,
            id_hash,
            secret_hash,
        };
        let key = record.to_api();
        let target = record.id;
        store.insert_key(cx.caller.org, record);
        store.record(
            cx.caller.org,
            Activity {
                target_key_id: Some(target.to_string()),
                ..cx.activity(ActivityType::KeyCreate)
            },
        );
        Ok(ApiKeyPostResponse {
            key: Some(key),
            key_id: material.as_ref().map(|m| m.key_id().as_str().to_owned()),
            key_secret: material
                .as_ref()
                .map(|m| SecretValue::new(m.key_secret().expose())),
        })
    }
}

impl Handle for OpenapiKeyUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        store: &mut Store,
        cx: &Context,
        path: ApiKeyPath,
        _: (),
        body: ApiKeyPatchRequest,
    ) -> Result<ApiKey, ApiError> {
        let current = caller_org(store, cx)?
            .keys
            .get(&path.key_id)
            .cloned()
            .ok_or_else(|| key_not_found(path.key_id))?;
        let mut updated = current.clone();
        if let Some(name) = body.name.as_deref() {
            updated.name = check_name(name)?;
        }
        if body.roles.is_some() || body.assigned_role_ids.is_some() {
            updated.roles =
                RoleSet::resolve(body.roles.as_deref(), body.assigned_role_ids.as_deref())?
                    .ok_or_else(|| ApiError::bad_request("at least one role must remain"))?;
        }
        match body.expire_at {
            Nullable::Absent => {}
            Nullable::Null => updated.expire_at = None,
            Nullable::Value(at) => updated.expire_at = Some(check_future(at, cx.now)?),
        }
        if let Some(state) = &body.state {
            updated.enabled = check_state(state)?;
        }
        if let Some(list) = body.ip_access_list {
            updated.ip_access_list = check_ip_list(list)?;
        }

        let mut changes = Vec::new();
        if updated.name != current.name {
            changes.push(KeyUpdateType::NameChanged);
        }
        if updated.roles != current.roles {
            if body.roles.is_some() {
                changes.push(KeyUpdateType::RoleChanged);
            }
            if body.assigned_role_ids.is_some() {
                changes.push(KeyUpdateType::RolesV2Changed);
            }
        }
        if updated.enabled != current.enabled {
            changes.push(KeyUpdateType::StateChanged);
        }
        if updated.expire_at != current.expire_at {
            changes.push(KeyUpdateType::DateChanged);
        }
        if updated.ip_access_list != current.ip_access_list {
            changes.push(KeyUpdateType::IpAccessListChanged);
        }

        let key = updated.to_api();
        store.insert_key(cx.caller.org, updated);
        let base = cx.activity(ActivityType::OpenapiKeyUpdate);
        store.record_key_updates(&cx.caller, &base, path.key_id, &changes);
        Ok(key)
    }
}

impl Handle for OpenapiKeyDelete {
    const ACCESS: Access = Access::Write;

    fn run(
        store: &mut Store,
        cx: &Context,
        path: ApiKeyPath,
        _: (),
        _: (),
    ) -> Result<(), ApiError> {
        if !caller_org(store, cx)?.keys.contains_key(&path.key_id) {
            return Err(key_not_found(path.key_id));
        }
        if path.key_id == cx.caller.key {
            return Err(ApiError::conflict("a key cannot delete itself"));
        }
        store.remove_key(cx.caller.org, path.key_id);
        store.record(
            cx.caller.org,
            Activity {
                target_key_id: Some(path.key_id.to_string()),
                ..cx.activity(ActivityType::KeyDelete)
            },
        );
        Ok(())
    }
}

impl Handle for ActivityGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        store: &mut Store,
        cx: &Context,
        _: OrganizationPath,
        query: ActivityListQuery,
        _: (),
    ) -> Result<Vec<Activity>, ApiError> {
        let within = |activity: &&Activity| {
            let at = activity.created_at;
            query
                .from_date
                .is_none_or(|from| at.is_some_and(|at| at >= from))
                && query.to_date.is_none_or(|to| at.is_some_and(|at| at <= to))
        };
        Ok(caller_org(store, cx)?
            .activities
            .iter()
            .filter(within)
            .cloned()
            .collect())
    }
}

impl Handle for ActivityGet {
    const ACCESS: Access = Access::Read;

    fn run(
        store: &mut Store,
        cx: &Context,
        path: ActivityPath,
        _: (),
        _: (),
    ) -> Result<Activity, ApiError> {
        caller_org(store, cx)?
            .activities
            .iter()
            .find(|activity| activity.id.as_deref() == Some(path.activity_id.as_str()))
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(format_args!("activity {} not found", path.activity_id))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_must_be_32_bytes_of_standard_base64() {
        let good = sha256_base64("x");
        assert_eq!(check_hash("f", Some(&good)).unwrap(), good);
        for bad in [None, Some("abc"), Some("!!!!"), Some("AAAA")] {
            let err = check_hash("hashData.keyIdHash", bad).unwrap_err();
            assert_eq!(
                err.error_text(),
                "BAD_REQUEST: hashData.keyIdHash: Not a sha256sum"
            );
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("  ").is_err());
        assert!(check_name(&"x".repeat(51)).is_err());
        assert_eq!(check_name("ci").unwrap(), "ci");
    }
}
