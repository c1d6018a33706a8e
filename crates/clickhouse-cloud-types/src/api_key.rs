//! API keys: the resource, its create and update bodies, and their parts.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Nullable, SecretValue, Timestamp};

string_enum! {
    /// Whether a key may be used.
    pub enum ApiKeyState {
        /// The key authenticates requests.
        Enabled = "enabled",
        /// The key is refused until enabled again.
        Disabled = "disabled",
    }
}

string_enum! {
    /// The legacy roles of the `roles` field.
    pub enum LegacyRole {
        /// Full access.
        Admin = "admin",
        /// Read access.
        Developer = "developer",
        /// Query endpoints only.
        QueryEndpoints = "query_endpoints",
    }
}

string_enum! {
    /// Where a role comes from.
    pub enum RoleType {
        /// Predefined by the service.
        System = "system",
        /// Defined by the organization.
        Custom = "custom",
    }
}

/// An API key as the service lists it. The secret is never part of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct ApiKey {
    /// The key's UUID (not the key ID used for Basic auth).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_uuid()")
    )]
    pub id: Option<Uuid>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Enabled or disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ApiKeyState>,
    /// Legacy roles. Deprecated by the service in favour of `assignedRoles`;
    /// frozen for organizations that moved to custom roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("deprecated" = true)))]
    pub roles: Option<Vec<LegacyRole>>,
    /// System and custom roles held by the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_roles: Option<Vec<AssignedRole>>,
    /// Last four characters of the key ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_suffix: Option<String>,
    /// When the key was created.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::timestamp::option"
    )]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_timestamp()")
    )]
    pub created_at: Option<Timestamp>,
    /// When the key stops working; absent, `null` or `""` means never.
    #[serde(
        skip_serializing_if = "Nullable::is_absent",
        deserialize_with = "crate::timestamp::blank_as_null"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Nullable<Timestamp>"))]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::nullable_timestamp()")
    )]
    pub expire_at: Nullable<Timestamp>,
    /// Last use, to the minute; absent when never used.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::timestamp::option"
    )]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_timestamp()")
    )]
    pub used_at: Option<Timestamp>,
    /// Addresses the key may be used from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_access_list: Option<Vec<IpAccessListEntry>>,
}

impl ApiKey {
    /// The expiry, if the key has one.
    pub fn expires(&self) -> Option<&Timestamp> {
        self.expire_at.value()
    }
}

/// A role held by a key, as returned in `assignedRoles`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct AssignedRole {
    /// The role's UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_uuid()")
    )]
    pub role_id: Option<Uuid>,
    /// The role's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// System or custom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_type: Option<RoleType>,
}

/// One allowed source of requests: an IP address or CIDR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct IpAccessListEntry {
    /// IP address or CIDR, e.g. `203.0.113.0/24`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl IpAccessListEntry {
    /// An entry for `source` with no description.
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: Some(source.into()),
            description: None,
        }
    }
}

/// Hashes that let a key be created without sending its secret:
/// `base64(sha256(..))` of the key ID and the secret, and the ID's suffix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct ApiKeyHashData {
    /// `base64(sha256(key ID))`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id_hash: Option<String>,
    /// Last four characters of the key ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id_suffix: Option<String>,
    /// `base64(sha256(key secret))`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_secret_hash: Option<String>,
}

/// The body that creates a key.
///
/// ```
/// use clickhouse_cloud_types::{ApiKeyPostRequest, IpAccessListEntry, LegacyRole};
/// let body = ApiKeyPostRequest {
///     name: Some("ci".into()),
///     roles: Some(vec![LegacyRole::Developer]),
///     ip_access_list: Some(vec![IpAccessListEntry::new("0.0.0.0/0")]),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_string(&body)?,
///     r#"{"name":"ci","roles":["developer"],"ipAccessList":[{"source":"0.0.0.0/0"}]}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct ApiKeyPostRequest {
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expiry; absent or `null` for a key that never expires.
    #[serde(
        skip_serializing_if = "Nullable::is_absent",
        deserialize_with = "crate::timestamp::nullable"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Nullable<Timestamp>"))]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::nullable_timestamp()")
    )]
    pub expire_at: Nullable<Timestamp>,
    /// Initial state (the service's default is enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ApiKeyState>,
    /// Create the key from locally made material; the response then carries
    /// no key ID or secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_data: Option<ApiKeyHashData>,
    /// Legacy roles. Deprecated by the service in favour of
    /// `assignedRoleIds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("deprecated" = true)))]
    pub roles: Option<Vec<LegacyRole>>,
    /// UUIDs of system or custom roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_uuids()")
    )]
    pub assigned_role_ids: Option<Vec<Uuid>>,
    /// Addresses the key may be used from. An empty list admits nobody.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_access_list: Option<Vec<IpAccessListEntry>>,
}

/// What creating a key returns: the key, and, unless it was created from
/// `hashData`, its key ID and secret. They are shown this once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct ApiKeyPostResponse {
    /// The new key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<ApiKey>,
    /// The generated key ID (Basic auth user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The generated secret (Basic auth password); redacted in `Debug`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_secret: Option<SecretValue>,
}

/// The body that changes a key. Only the fields that are set are sent.
///
/// ```
/// use clickhouse_cloud_types::{ApiKeyPatchRequest, ApiKeyState, Nullable};
/// let body = ApiKeyPatchRequest {
///     state: Some(ApiKeyState::Disabled),
///     expire_at: Nullable::Null, // never expires
///     ..Default::default()
/// };
/// assert_eq!(serde_json::to_string(&body)?, r#"{"expireAt":null,"state":"disabled"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct ApiKeyPatchRequest {
    /// New display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New legacy roles. Deprecated by the service in favour of
    /// `assignedRoleIds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("deprecated" = true)))]
    pub roles: Option<Vec<LegacyRole>>,
    /// New role UUIDs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_uuids()")
    )]
    pub assigned_role_ids: Option<Vec<Uuid>>,
    /// Absent: unchanged; `Null`: never expires; a value: expires then.
    #[serde(
        skip_serializing_if = "Nullable::is_absent",
        deserialize_with = "crate::timestamp::nullable"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Nullable<Timestamp>"))]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::nullable_timestamp()")
    )]
    pub expire_at: Nullable<Timestamp>,
    /// Enable or disable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ApiKeyState>,
    /// Replaces the whole IP access list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_access_list: Option<Vec<IpAccessListEntry>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_key_decodes_and_unknowns_survive() {
        let key: ApiKey = serde_json::from_str(
            r#"{"name":"k","state":"suspended","roles":["owner"],"newField":1}"#,
        )
        .unwrap();
        assert_eq!(key.state, Some(ApiKeyState::Unknown("suspended".into())));
        let back = serde_json::to_value(&key).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"name":"k","state":"suspended","roles":["owner"]})
        );
    }

    #[test]
    fn expiry_accepts_null_blank_and_time() {
        for (wire, expected) in [
            (r#"{}"#, Nullable::Absent),
            (r#"{"expireAt":null}"#, Nullable::Null),
            (r#"{"expireAt":""}"#, Nullable::Null),
            (r#"{"expireAt":" "}"#, Nullable::Null),
            (
                r#"{"expireAt":"2030-01-02T03:04:05Z"}"#,
                Nullable::Value("2030-01-02T03:04:05Z".parse().unwrap()),
            ),
        ] {
            let key: ApiKey = serde_json::from_str(wire).unwrap();
            assert_eq!(key.expire_at, expected, "{wire}");
        }
        assert!(serde_json::from_str::<ApiKey>(r#"{"expireAt":"soon"}"#).is_err());
        // Only `expireAt` reads a blank as "none"; other timestamps refuse it.
        assert!(serde_json::from_str::<ApiKey>(r#"{"createdAt":""}"#).is_err());
        let key: ApiKey = serde_json::from_str(r#"{"createdAt":null}"#).unwrap();
        assert_eq!(key.created_at, None);
    }

    #[test]
    fn create_response_debug_hides_the_secret() {
        let secret = format!("{}{}", "4b1d", "x".repeat(38));
        let response = ApiKeyPostResponse {
            key_secret: Some(SecretValue::new(secret.clone())),
            ..Default::default()
        };
        assert!(!format!("{response:?}").contains(&secret));
        assert!(serde_json::to_string(&response).unwrap().contains(&secret));
    }
}
