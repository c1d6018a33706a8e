//! Zero-copy mirrors of the wire types: every string borrowed from the input
//! as `&str`, no timestamp, UUID or enum parsing. Decoding into these is the
//! floor for typed decoding (only the `Vec`s allocate); they are not meant
//! for use, only for measuring.

use serde::Deserialize;

/// The response envelope, with a list result.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a, T> {
    /// HTTP status code.
    pub status: Option<u16>,
    /// The service's request ID.
    #[serde(borrow)]
    pub request_id: Option<&'a str>,
    /// The items.
    pub result: Option<Vec<T>>,
}

/// An API key.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey<'a> {
    /// UUID.
    #[serde(borrow)]
    pub id: Option<&'a str>,
    /// Name.
    #[serde(borrow)]
    pub name: Option<&'a str>,
    /// State.
    #[serde(borrow)]
    pub state: Option<&'a str>,
    /// Legacy roles.
    #[serde(borrow)]
    pub roles: Option<Vec<&'a str>>,
    /// Assigned roles.
    #[serde(borrow)]
    pub assigned_roles: Option<Vec<AssignedRole<'a>>>,
    /// Key ID suffix.
    #[serde(borrow)]
    pub key_suffix: Option<&'a str>,
    /// Creation time.
    #[serde(borrow)]
    pub created_at: Option<&'a str>,
    /// Expiry.
    #[serde(borrow)]
    pub expire_at: Option<&'a str>,
    /// Last use.
    #[serde(borrow)]
    pub used_at: Option<&'a str>,
    /// IP access list.
    #[serde(borrow)]
    pub ip_access_list: Option<Vec<IpAccessListEntry<'a>>>,
}

/// A role held by a key.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedRole<'a> {
    /// UUID.
    #[serde(borrow)]
    pub role_id: Option<&'a str>,
    /// Name.
    #[serde(borrow)]
    pub role_name: Option<&'a str>,
    /// System or custom.
    #[serde(borrow)]
    pub role_type: Option<&'a str>,
}

/// An IP access list entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAccessListEntry<'a> {
    /// Address or CIDR.
    #[serde(borrow)]
    pub source: Option<&'a str>,
    /// Free text.
    #[serde(borrow)]
    pub description: Option<&'a str>,
}

/// An audit-log entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity<'a> {
    /// ID.
    #[serde(borrow)]
    pub id: Option<&'a str>,
    /// Time.
    #[serde(borrow)]
    pub created_at: Option<&'a str>,
    /// What happened.
    #[serde(borrow, rename = "type")]
    pub kind: Option<&'a str>,
    /// Kind of actor.
    #[serde(borrow)]
    pub actor_type: Option<&'a str>,
    /// Actor ID.
    #[serde(borrow)]
    pub actor_id: Option<&'a str>,
    /// Actor details.
    #[serde(borrow)]
    pub actor_details: Option<&'a str>,
    /// Actor IP.
    #[serde(borrow)]
    pub actor_ip_address: Option<&'a str>,
    /// Organization.
    #[serde(borrow)]
    pub organization_id: Option<&'a str>,
    /// Service.
    #[serde(borrow)]
    pub service_id: Option<&'a str>,
    /// User agent.
    #[serde(borrow)]
    pub user_agent: Option<&'a str>,
    /// Key that changed.
    #[serde(borrow)]
    pub target_key_id: Option<&'a str>,
    /// What changed about it.
    #[serde(borrow)]
    pub key_update_type: Option<&'a str>,
}

/// A service: every field [`crate::bodies::service`] writes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service<'a> {
    /// UUID.
    #[serde(borrow)]
    pub id: Option<&'a str>,
    /// Name.
    #[serde(borrow)]
    pub name: Option<&'a str>,
    /// Cloud provider.
    #[serde(borrow)]
    pub provider: Option<&'a str>,
    /// Region.
    #[serde(borrow)]
    pub region: Option<&'a str>,
    /// State.
    #[serde(borrow)]
    pub state: Option<&'a str>,
    /// ClickHouse version.
    #[serde(borrow)]
    pub clickhouse_version: Option<&'a str>,
    /// Endpoints.
    #[serde(borrow)]
    pub endpoints: Option<Vec<Endpoint<'a>>>,
    /// Minimum memory per replica.
    pub min_replica_memory_gb: Option<f64>,
    /// Maximum memory per replica.
    pub max_replica_memory_gb: Option<f64>,
    /// Replica count.
    pub num_replicas: Option<i64>,
    /// Idle scaling.
    pub idle_scaling: Option<bool>,
    /// Idle timeout.
    pub idle_timeout_minutes: Option<f64>,
    /// IP access list.
    #[serde(borrow)]
    pub ip_access_list: Option<Vec<IpAccessListEntry<'a>>>,
    /// Creation time.
    #[serde(borrow)]
    pub created_at: Option<&'a str>,
    /// Encryption key.
    #[serde(borrow)]
    pub encryption_key: Option<&'a str>,
    /// Encryption role.
    #[serde(borrow)]
    pub encryption_assumed_role_identifier: Option<&'a str>,
    /// IAM role.
    #[serde(borrow)]
    pub iam_role: Option<&'a str>,
    /// Private endpoints.
    #[serde(borrow)]
    pub private_endpoint_ids: Option<Vec<&'a str>>,
    /// Available private endpoints.
    #[serde(borrow)]
    pub available_private_endpoint_ids: Option<Vec<&'a str>>,
    /// Warehouse.
    #[serde(borrow)]
    pub data_warehouse_id: Option<&'a str>,
    /// Primary in its warehouse.
    pub is_primary: Option<bool>,
    /// Read-only.
    pub is_readonly: Option<bool>,
    /// Release channel.
    #[serde(borrow)]
    pub release_channel: Option<&'a str>,
    /// BYOC ID.
    #[serde(borrow)]
    pub byoc_id: Option<&'a str>,
    /// TDE.
    pub has_transparent_data_encryption: Option<bool>,
    /// TDE key.
    #[serde(borrow)]
    pub transparent_data_encryption_key_id: Option<&'a str>,
    /// Encryption role ID.
    #[serde(borrow)]
    pub encryption_role_id: Option<&'a str>,
    /// Profile.
    #[serde(borrow)]
    pub profile: Option<&'a str>,
    /// Compliance.
    #[serde(borrow)]
    pub compliance_type: Option<&'a str>,
    /// Tags.
    #[serde(borrow)]
    pub tags: Option<Vec<Tag<'a>>>,
    /// Core dumps.
    pub enable_core_dumps: Option<bool>,
    /// Minimum replicas.
    pub min_replicas: Option<i64>,
    /// Maximum replicas.
    pub max_replicas: Option<i64>,
}

/// A service endpoint.
#[derive(Debug, Deserialize)]
pub struct Endpoint<'a> {
    /// Protocol.
    #[serde(borrow)]
    pub protocol: Option<&'a str>,
    /// Host.
    #[serde(borrow)]
    pub host: Option<&'a str>,
    /// Port.
    pub port: Option<u16>,
    /// User.
    #[serde(borrow)]
    pub username: Option<&'a str>,
}

/// A resource tag.
#[derive(Debug, Deserialize)]
pub struct Tag<'a> {
    /// Key.
    #[serde(borrow)]
    pub key: Option<&'a str>,
    /// Value.
    #[serde(borrow)]
    pub value: Option<&'a str>,
}
