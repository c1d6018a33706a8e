//! API keys: create (a generated secret or `hashData`), list in pages, get,
//! update, delete; stored as hashes only.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clickhouse_cloud_auth::{Credentials, sha256_base64};
use clickhouse_cloud_types::{
    Activity, ActivityType, ApiKey, ApiKeyState, IpAccessListEntry, Timestamp,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::gate::open_access_list;
use crate::model::roles::{ADMIN_ROLE_ID, Roles};

/// Longest key name accepted.
pub(crate) const MAX_NAME_CHARS: usize = 50;

/// A stored key: hashes only, never the key ID or secret.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) enabled: bool,
    /// Role IDs, in the roles list's order; may be empty.
    pub(crate) roles: Vec<Uuid>,
    pub(crate) key_suffix: String,
    pub(crate) created_at: Timestamp,
    pub(crate) expire_at: Option<Timestamp>,
    pub(crate) used_at: Option<Timestamp>,
    pub(crate) ip_access_list: Vec<IpAccessListEntry>,
    /// `sha256_base64(key ID)`.
    pub(crate) id_hash: String,
    /// `sha256_base64(key secret)`.
    pub(crate) secret_hash: String,
}

impl KeyRecord {
    /// The admin key an organization starts with.
    pub(crate) fn bootstrap(credentials: &Credentials, now: Timestamp) -> Self {
        Self {
            id: Uuid::new_v4(),
            name: "Bootstrap key".to_owned(),
            enabled: true,
            roles: vec![ADMIN_ROLE_ID],
            key_suffix: credentials.key_id().suffix().to_owned(),
            created_at: now,
            expire_at: None,
            used_at: None,
            ip_access_list: open_access_list(),
            id_hash: sha256_base64(credentials.key_id().as_str()),
            secret_hash: sha256_base64(credentials.key_secret().expose()),
        }
    }

    /// The key as the API shows it.
    pub(crate) fn to_api(&self, roles: &Roles) -> ApiKey {
        ApiKey {
            id: Some(self.id),
            name: Some(self.name.clone()),
            state: Some(if self.enabled {
                ApiKeyState::Enabled
            } else {
                ApiKeyState::Disabled
            }),
            roles: Some(roles.legacy(&self.roles)),
            assigned_roles: Some(roles.assigned(&self.roles)),
            key_suffix: Some(self.key_suffix.clone()),
            created_at: Some(self.created_at),
            expire_at: self.expire_at,
            used_at: self.used_at,
            ip_access_list: Some(self.ip_access_list.clone()),
        }
    }

    /// Position in the list: oldest first.
    pub(crate) fn sort_key(&self) -> String {
        format!("{:020}:{}", self.created_at.timestamp_millis(), self.id)
    }
}

/// One organization's keys.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Keys {
    pub(crate) map: HashMap<Uuid, KeyRecord>,
}

impl Keys {
    pub(crate) fn get(&self, id: Uuid) -> Option<&KeyRecord> {
        self.map.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: Uuid) -> Option<&mut KeyRecord> {
        self.map.get_mut(&id)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn insert(&mut self, key: KeyRecord) {
        self.map.insert(key.id, key);
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut KeyRecord> {
        self.map.values_mut()
    }

    /// Every key, oldest first.
    pub(crate) fn ordered(&self) -> Vec<&KeyRecord> {
        let mut keys: Vec<&KeyRecord> = self.map.values().collect();
        keys.sort_by_key(|key| key.sort_key());
        keys
    }
}

pub(crate) fn key_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format_args!("API key {id} not found"))
}

pub(crate) fn check_name(name: &str) -> Result<String, ApiError> {
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

pub(crate) fn check_future(at: Timestamp, now: Timestamp) -> Result<Timestamp, ApiError> {
    if at <= now {
        return Err(ApiError::bad_request("expireAt must be in the future"));
    }
    Ok(at)
}

pub(crate) fn check_state(state: &ApiKeyState) -> Result<bool, ApiError> {
    match state {
        ApiKeyState::Enabled => Ok(true),
        ApiKeyState::Disabled => Ok(false),
        other => Err(ApiError::bad_request(format_args!(
            "state must be enabled or disabled, not {}",
            other.as_str()
        ))),
    }
}

/// A `hashData` hash: standard base64 of exactly 32 bytes.
pub(crate) fn check_hash(field: &str, value: Option<&str>) -> Result<String, ApiError> {
    let decoded = value.and_then(|value| STANDARD.decode(value.trim()).ok());
    match decoded {
        Some(bytes) if bytes.len() == 32 => Ok(STANDARD.encode(bytes)),
        _ => Err(ApiError::bad_request(format_args!(
            "{field}: Not a sha256sum"
        ))),
    }
}

pub(crate) fn key_activity(cx: &Context, kind: ActivityType, target: Uuid) -> Activity {
    Activity {
        target_key_id: Some(target.to_string()),
        ..cx.activity(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(crate) fn hashes_must_be_32_bytes_of_standard_base64() {
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
    pub(crate) fn names_are_checked() {
        assert!(check_name("  ").is_err());
        assert!(check_name(&"x".repeat(51)).is_err());
        assert_eq!(check_name("ci").unwrap(), "ci");
    }
}
