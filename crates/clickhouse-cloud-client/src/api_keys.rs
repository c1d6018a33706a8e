//! API keys: the console's "API Keys" page as methods.

use clickhouse_cloud_auth::{Credentials, KeyId, KeyMaterial, KeySecret, Role};
use clickhouse_cloud_types::ops::{
    ApiKeyPath, OpenapiKeyCreate, OpenapiKeyDelete, OpenapiKeyGet, OpenapiKeyGetList,
    OpenapiKeyUpdate, OrganizationPath,
};
use clickhouse_cloud_types::{
    ApiKey, ApiKeyHashData, ApiKeyPatchRequest, ApiKeyPostRequest, ApiKeyState, IpAccessListEntry,
    LegacyRole, Nullable, Request, SecretValue, Timestamp,
};
use uuid::Uuid;

use crate::{Client, Error, Response};

/// API keys of one organization: `client.api_keys(org_id)`.
///
/// ```no_run
/// use clickhouse_cloud_client::{Client, NewApiKey, Role};
/// # async fn run(client: Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
/// let keys = client.api_keys(org);
/// let created = keys.create(NewApiKey::new("ci-deploy").role(Role::Developer)).await?;
/// println!("Key ID: {}", created.credentials.key_id()); // the secret: created.credentials.key_secret()
/// keys.disable(created.key.id.unwrap()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ApiKeys {
    client: Client,
    organization_id: Uuid,
}

/// A key just created, with the credentials to use it.
///
/// For a key made by the service, this is the only time its secret is
/// available; store it now. `Debug` keeps it redacted.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The key as the service stores it.
    pub key: ApiKey,
    /// Key ID and secret.
    pub credentials: Credentials,
}

impl ApiKeys {
    pub(crate) fn new(client: Client, organization_id: Uuid) -> Self {
        Self {
            client,
            organization_id,
        }
    }

    fn org_path(&self) -> OrganizationPath {
        OrganizationPath {
            organization_id: self.organization_id,
        }
    }

    fn key_path(&self, key_id: Uuid) -> ApiKeyPath {
        ApiKeyPath {
            organization_id: self.organization_id,
            key_id,
        }
    }

    /// Every key of the organization.
    pub async fn list(&self) -> Result<Response<Vec<ApiKey>>, Error> {
        let request = Request::<OpenapiKeyGetList>::new(self.org_path(), ());
        self.client.send(request).await
    }

    /// One key, by its UUID (`ApiKey::id`).
    pub async fn get(&self, key_id: Uuid) -> Result<Response<ApiKey>, Error> {
        let request = Request::<OpenapiKeyGet>::new(self.key_path(key_id), ());
        self.client.send(request).await
    }

    /// Creates a key; the service generates its ID and secret and returns
    /// them this once.
    pub async fn create(
        &self,
        new_key: impl Into<ApiKeyPostRequest>,
    ) -> Result<Response<CreatedKey>, Error> {
        let mut body = new_key.into();
        body.hash_data = None;
        let response = self
            .client
            .send(Request::<OpenapiKeyCreate>::new(self.org_path(), body))
            .await?;
        response.try_map(|created, request_id| {
            let key_id = created.key_id.ok_or_else(|| missing("keyId", request_id))?;
            let secret = created
                .key_secret
                .ok_or_else(|| missing("keySecret", request_id))?;
            let credentials = Credentials::new(
                KeyId::new(key_id)?,
                KeySecret::new(secret.expose().to_owned())?,
            );
            let key = created.key.ok_or_else(|| missing("key", request_id))?;
            Ok(CreatedKey { key, credentials })
        })
    }

    /// Creates a key from material generated on this machine: only
    /// `hashData` is sent, so the secret never leaves the process.
    pub async fn create_with_local_secret(
        &self,
        new_key: impl Into<ApiKeyPostRequest>,
    ) -> Result<Response<CreatedKey>, Error> {
        let material = KeyMaterial::generate();
        let hashes = material.hash_data();
        let mut body = new_key.into();
        body.hash_data = Some(ApiKeyHashData {
            key_id_hash: Some(hashes.key_id_hash),
            key_id_suffix: Some(hashes.key_id_suffix),
            key_secret_hash: Some(SecretValue::new(hashes.key_secret_hash)),
        });
        let response = self
            .client
            .send(Request::<OpenapiKeyCreate>::new(self.org_path(), body))
            .await?;
        response.try_map(|created, request_id| {
            let key = created.key.ok_or_else(|| missing("key", request_id))?;
            Ok(CreatedKey {
                key,
                credentials: material.into_credentials(),
            })
        })
    }

    /// Changes a key: only what `changes` sets is sent.
    pub async fn update(
        &self,
        key_id: Uuid,
        changes: impl Into<ApiKeyPatchRequest>,
    ) -> Result<Response<ApiKey>, Error> {
        let request = Request::<OpenapiKeyUpdate>::new(self.key_path(key_id), changes.into());
        self.client.send(request).await
    }

    /// Enables a key.
    pub async fn enable(&self, key_id: Uuid) -> Result<Response<ApiKey>, Error> {
        self.update(key_id, KeyUpdate::new().state(ApiKeyState::Enabled))
            .await
    }

    /// Disables a key; it is refused until enabled again.
    pub async fn disable(&self, key_id: Uuid) -> Result<Response<ApiKey>, Error> {
        self.update(key_id, KeyUpdate::new().state(ApiKeyState::Disabled))
            .await
    }

    /// Deletes a key. Irreversible: it stops working at once. The service
    /// refuses to delete the key that signs this request.
    pub async fn delete(&self, key_id: Uuid) -> Result<Response<()>, Error> {
        let request = Request::<OpenapiKeyDelete>::new(self.key_path(key_id), ());
        self.client.send(request).await
    }
}

/// The error for a create response that lacks `field`.
fn missing(field: &str, request_id: Option<&str>) -> Error {
    Error::Decode {
        operation: "openapiKeyCreate",
        path: format!("result.{field}"),
        message: format!("missing field `{field}`"),
        request_id: request_id.map(str::to_owned),
    }
}

/// Splits roles into legacy names and role UUIDs, as the API wants them.
fn split_roles(roles: &[Role]) -> (Vec<LegacyRole>, Vec<Uuid>) {
    let mut legacy = Vec::new();
    let mut ids = Vec::new();
    for role in roles {
        match (role.legacy_name(), role.role_id()) {
            (Some(name), _) => legacy.push(LegacyRole::from(name)),
            (None, Some(id)) => ids.push(id),
            (None, None) => {}
        }
    }
    (legacy, ids)
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// What a new key should be: name, roles, expiry, state, allowed addresses.
///
/// ```
/// use clickhouse_cloud_client::{NewApiKey, Role};
/// use clickhouse_cloud_client::types::ApiKeyPostRequest;
/// let body: ApiKeyPostRequest = NewApiKey::new("ci").role(Role::Admin).allow_ip("10.0.0.0/8").into();
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"ipAccessList":[{"source":"10.0.0.0/8"}],"name":"ci","roles":["admin"]}"#
/// );
/// ```
#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    name: String,
    roles: Vec<Role>,
    expire_at: Option<Timestamp>,
    disabled: bool,
    ip_access_list: Vec<IpAccessListEntry>,
}

impl NewApiKey {
    /// A key called `name` (no roles yet: add at least one).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Grants a role: a legacy one or a role UUID.
    pub fn role(mut self, role: Role) -> Self {
        self.roles.push(role);
        self
    }

    /// Makes the key stop working at `at` (default: never).
    pub fn expires_at(mut self, at: impl Into<Timestamp>) -> Self {
        self.expire_at = Some(at.into());
        self
    }

    /// Creates the key disabled.
    pub fn disabled(mut self) -> Self {
        self.disabled = true;
        self
    }

    /// Allows use from `source` (an IP or CIDR). Without any, the service's
    /// default applies.
    pub fn allow_ip(mut self, source: impl Into<String>) -> Self {
        self.ip_access_list.push(IpAccessListEntry::new(source));
        self
    }
}

impl From<NewApiKey> for ApiKeyPostRequest {
    fn from(new_key: NewApiKey) -> Self {
        let (legacy, ids) = split_roles(&new_key.roles);
        ApiKeyPostRequest {
            name: Some(new_key.name),
            expire_at: new_key.expire_at.map_or(Nullable::Absent, Nullable::Value),
            state: new_key.disabled.then_some(ApiKeyState::Disabled),
            hash_data: None,
            roles: non_empty(legacy),
            assigned_role_ids: non_empty(ids),
            ip_access_list: non_empty(new_key.ip_access_list),
        }
    }
}

/// Changes to a key. Whatever is not set stays as it is.
///
/// ```
/// use clickhouse_cloud_client::KeyUpdate;
/// use clickhouse_cloud_client::types::ApiKeyPatchRequest;
/// let body: ApiKeyPatchRequest = KeyUpdate::new().name("renamed").never_expires().into();
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"expireAt":null,"name":"renamed"}"#
/// );
/// ```
#[derive(Debug, Clone, Default)]
pub struct KeyUpdate {
    body: ApiKeyPatchRequest,
}

impl KeyUpdate {
    /// No changes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the key.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.body.name = Some(name.into());
        self
    }

    /// Replaces the key's roles. Legacy roles go to `roles`, role UUIDs to
    /// `assignedRoleIds`; a kind not named is left as it is.
    pub fn roles(mut self, roles: impl IntoIterator<Item = Role>) -> Self {
        let roles: Vec<Role> = roles.into_iter().collect();
        let (legacy, ids) = split_roles(&roles);
        self.body.roles = non_empty(legacy);
        self.body.assigned_role_ids = non_empty(ids);
        self
    }

    /// Makes the key expire at `at`.
    pub fn expires_at(mut self, at: impl Into<Timestamp>) -> Self {
        self.body.expire_at = Nullable::Value(at.into());
        self
    }

    /// Removes the expiry: the key never expires (`"expireAt": null`).
    pub fn never_expires(mut self) -> Self {
        self.body.expire_at = Nullable::Null;
        self
    }

    /// Enables or disables the key.
    pub fn state(mut self, state: ApiKeyState) -> Self {
        self.body.state = Some(state);
        self
    }

    /// Replaces the list of allowed addresses. An empty list admits nobody.
    pub fn ip_access_list(mut self, entries: Vec<IpAccessListEntry>) -> Self {
        self.body.ip_access_list = Some(entries);
        self
    }
}

impl From<KeyUpdate> for ApiKeyPatchRequest {
    fn from(update: KeyUpdate) -> Self {
        update.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_split_by_kind() {
        let id = Uuid::from_u128(9);
        let body: ApiKeyPostRequest = NewApiKey::new("k")
            .role(Role::Developer)
            .role(Role::Id(id))
            .into();
        assert_eq!(body.roles, Some(vec![LegacyRole::Developer]));
        assert_eq!(body.assigned_role_ids, Some(vec![id]));
        let patch: ApiKeyPatchRequest = KeyUpdate::new().roles([Role::Id(id)]).into();
        assert_eq!(patch.roles, None);
        assert_eq!(patch.assigned_role_ids, Some(vec![id]));
    }

    #[test]
    fn new_key_sends_only_what_was_set() {
        let body: ApiKeyPostRequest = NewApiKey::new("plain").into();
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"name":"plain"}"#);
        let at: Timestamp = "2031-01-01T00:00:00Z".parse().unwrap();
        let body: ApiKeyPostRequest = NewApiKey::new("x").expires_at(at).disabled().into();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"name":"x","expireAt":"2031-01-01T00:00:00Z","state":"disabled"})
        );
    }
}
