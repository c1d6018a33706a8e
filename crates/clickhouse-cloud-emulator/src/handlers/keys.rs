//! The keys operations.

use crate::model::access::Access;
use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::gate::{check_ip_list, open_access_list};
use crate::model::keys::*;
use crate::model::paging;
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};
use clickhouse_cloud_auth::{KeyMaterial, sha256_base64};
use clickhouse_cloud_types::ops::{
    ApiKeyPath, OpenapiKeyCreate, OpenapiKeyDelete, OpenapiKeyGet, OpenapiKeyGetList,
    OpenapiKeyGetListQuery, OpenapiKeyUpdate, OrganizationPath,
};
use clickhouse_cloud_types::{
    Activity, ActivityType, ApiKey, ApiKeyPatchRequest, ApiKeyPostRequest, ApiKeyPostResponse,
    KeyUpdateType, Nullable, SecretValue,
};
use uuid::Uuid;

impl Handle for OpenapiKeyGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        query: OpenapiKeyGetListQuery,
        _: (),
    ) -> Result<Answer<Vec<ApiKey>>, ApiError> {
        let org = world.org(cx.caller.org)?;
        let (keys, page) = paging::page(
            org.keys.ordered(),
            |key| key.sort_key(),
            query.limit,
            query.cursor.as_deref(),
        )?;
        Ok(Answer {
            result: keys.into_iter().map(|key| key.to_api(&org.roles)).collect(),
            page: Some(page),
        })
    }
}

impl Handle for OpenapiKeyGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ApiKeyPath,
        _: (),
        _: (),
    ) -> Result<Answer<ApiKey>, ApiError> {
        let org = world.org(cx.caller.org)?;
        org.keys
            .get(path.key_id)
            .map(|key| key.to_api(&org.roles).into())
            .ok_or_else(|| key_not_found(path.key_id))
    }
}

impl Handle for OpenapiKeyCreate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        body: ApiKeyPostRequest,
    ) -> Result<Answer<ApiKeyPostResponse>, ApiError> {
        let name = check_name(
            body.name
                .as_deref()
                .ok_or_else(|| ApiError::bad_request("name is required"))?,
        )?;
        let key_limit = world.settings.key_limit;
        let org = world.org(cx.caller.org)?;
        // No role at all is allowed: the key then can do nothing but say who it is.
        let roles = org
            .roles
            .resolve(body.roles.as_deref(), body.assigned_role_ids.as_deref())?;
        let expire_at = match body.expire_at {
            Nullable::Value(at) => Some(check_future(at, cx.now)?),
            Nullable::Absent | Nullable::Null => None,
        };
        let enabled = body.state.as_ref().map_or(Ok(true), check_state)?;
        let ip_access_list = match body.ip_access_list {
            Some(list) => check_ip_list("ipAccessList", list)?,
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
        if org.keys.len() >= key_limit {
            return Err(ApiError::bad_request(format_args!(
                "organization already has the maximum of {key_limit} API keys"
            )));
        }
        if world.gate.knows(&id_hash) {
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
        let id = record.id;
        world.gate.admit(record.id_hash.clone(), cx.caller.org, id);
        let org = world.org_mut(cx.caller.org)?;
        let key = record.to_api(&org.roles);
        org.keys.insert(record);
        org.activities
            .record(cx, key_activity(cx, ActivityType::KeyCreate, id));
        Ok(ApiKeyPostResponse {
            key: Some(key),
            key_id: material.as_ref().map(|m| m.key_id().as_str().to_owned()),
            key_secret: material
                .as_ref()
                .map(|m| SecretValue::new(m.key_secret().expose())),
        }
        .into())
    }
}

impl Handle for OpenapiKeyUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ApiKeyPath,
        _: (),
        body: ApiKeyPatchRequest,
    ) -> Result<Answer<ApiKey>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let current = org
            .keys
            .get(path.key_id)
            .cloned()
            .ok_or_else(|| key_not_found(path.key_id))?;
        let mut updated = current.clone();
        if let Some(name) = body.name.as_deref() {
            updated.name = check_name(name)?;
        }
        if body.roles.is_some() || body.assigned_role_ids.is_some() {
            updated.roles = org
                .roles
                .resolve(body.roles.as_deref(), body.assigned_role_ids.as_deref())?;
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
            updated.ip_access_list = check_ip_list("ipAccessList", list)?;
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

        let key = updated.to_api(&org.roles);
        org.keys.insert(updated);
        for change in changes {
            let activity = Activity {
                key_update_type: Some(change),
                ..key_activity(cx, ActivityType::OpenapiKeyUpdate, path.key_id)
            };
            org.activities.record(cx, activity);
        }
        Ok(key.into())
    }
}

impl Handle for OpenapiKeyDelete {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ApiKeyPath,
        _: (),
        _: (),
    ) -> Result<Answer<()>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        if org.keys.get(path.key_id).is_none() {
            return Err(key_not_found(path.key_id));
        }
        if path.key_id == cx.caller.key {
            return Err(ApiError::conflict("a key cannot delete itself"));
        }
        let removed = org.keys.map.remove(&path.key_id);
        org.activities
            .record(cx, key_activity(cx, ActivityType::KeyDelete, path.key_id));
        if let Some(removed) = removed {
            world.gate.forget(&removed.id_hash, removed.id);
        }
        Ok(().into())
    }
}
