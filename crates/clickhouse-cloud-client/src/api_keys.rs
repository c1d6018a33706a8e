//! API keys: the console's "API Keys" page as methods.

use clickhouse_cloud_auth::{Credentials, KeyId, KeyMaterial, KeySecret, Role};
use clickhouse_cloud_types::ops::{
    ApiKeyPath, OpenapiKeyCreate, OpenapiKeyDelete, OpenapiKeyGet, OpenapiKeyGetList,
    OpenapiKeyGetListQuery, OpenapiKeyUpdate, OrganizationPath,
};
use clickhouse_cloud_types::{
    ApiKey, ApiKeyHashData, ApiKeyPatchRequest, ApiKeyPostRequest, ApiKeyState, IpAccessListEntry,
    LegacyRole, Nullable, Request, SecretValue, Timestamp,
};
use uuid::Uuid;

use crate::{ApiKeys, Error, Items, Response, RoleTable};

/// A key just created, with the credentials to use it.
///
/// For a key made by the service, this is the only time its secret is
/// available; store it now. `Debug` keeps it redacted.
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
pub struct CreatedKey {
    /// The key as the service stores it.
    pub key: ApiKey,
    /// Key ID and secret.
    pub credentials: Credentials,
}

impl ApiKeys {
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

    /// Every key of the organization, across pages (the `requestId` is the
    /// last page's).
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// for key in client.api_keys(org).list().await?.iter() {
    ///     println!("{:?} ...{:?}", key.name, key.key_suffix);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Response<Vec<ApiKey>>, Error> {
        self.stream().collect_response().await
    }

    /// Every key of the organization as a stream, a page at a time.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt as _;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let mut keys = client.api_keys(org).stream().page_size(20);
    /// while let Some(key) = keys.try_next().await? {
    ///     println!("{:?}", key.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(&self) -> Items<OpenapiKeyGetList> {
        self.client
            .items::<OpenapiKeyGetList>(self.org_path(), OpenapiKeyGetListQuery::default())
    }

    /// One key, by its UUID (`ApiKey::id`).
    pub async fn get(&self, key_id: Uuid) -> Result<Response<ApiKey>, Error> {
        let request = Request::<OpenapiKeyGet>::new(self.key_path(key_id), ());
        self.client.send(request).await
    }

    /// The body of `new_key`, its roles resolved to the organization's
    /// role UUIDs (the list is read once per client).
    async fn body_of(&self, new_key: NewApiKey) -> Result<ApiKeyPostRequest, Error> {
        let ids = self
            .client
            .roles(self.organization_id)
            .resolve_all(&new_key.roles)
            .await?;
        Ok(new_key.with_role_ids(ids))
    }

    /// Creates a key; the service generates its ID and secret and returns
    /// them this once. System roles ([`Role::Developer`], ...) are sent as
    /// the organization's role UUIDs (`assignedRoleIds`).
    pub async fn create(
        &self,
        new_key: impl Into<NewApiKey>,
    ) -> Result<Response<CreatedKey>, Error> {
        let mut body = self.body_of(new_key.into()).await?;
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
        new_key: impl Into<NewApiKey>,
    ) -> Result<Response<CreatedKey>, Error> {
        let mut body = self.body_of(new_key.into()).await?;
        let material = KeyMaterial::generate();
        let hashes = material.hash_data();
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

    /// Changes a key: only what `changes` sets is sent (roles as the
    /// organization's role UUIDs).
    pub async fn update(
        &self,
        key_id: Uuid,
        changes: impl Into<KeyUpdate>,
    ) -> Result<Response<ApiKey>, Error> {
        let changes = changes.into();
        let body = match &changes.roles {
            None => changes.body,
            Some(roles) => {
                let ids = self
                    .client
                    .roles(self.organization_id)
                    .resolve_all(roles)
                    .await?;
                changes.with_role_ids(ids)
            }
        };
        let request = Request::<OpenapiKeyUpdate>::new(self.key_path(key_id), body);
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

/// What a new key should be: name, roles, expiry, state, allowed addresses.
///
/// Roles are resolved when the key is created: a system role to its UUID in
/// the organization's roles list, sent as `assignedRoleIds`. The deprecated
/// `roles` field is sent only when asked for ([`NewApiKey::legacy_role`]).
///
/// ```
/// use clickhouse_cloud_client::{NewApiKey, Role, RoleTable};
/// use clickhouse_cloud_client::types::{RbacRole, RbacRoleType};
/// let admin = uuid::Uuid::from_u128(0xad);
/// let roles = RoleTable::new(vec![RbacRole {
///     id: Some(admin.to_string()),
///     name: Some("Admin".into()),
///     r#type: Some(RbacRoleType::System),
///     ..Default::default()
/// }]);
/// let body = NewApiKey::new("ci").role(Role::Admin).allow_ip("10.0.0.0/8").into_body(&roles).unwrap();
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     format!(r#"{{"assignedRoleIds":["{admin}"],"ipAccessList":[{{"source":"10.0.0.0/8"}}],"name":"ci"}}"#)
/// );
/// ```
#[derive(Debug, Clone)]
pub struct NewApiKey {
    body: ApiKeyPostRequest,
    roles: Vec<Role>,
}

impl NewApiKey {
    /// A key called `name`, with no roles yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            body: ApiKeyPostRequest::new(name),
            roles: Vec::new(),
        }
    }

    /// Grants a role: a system role by name, or any role by UUID.
    pub fn role(mut self, role: Role) -> Self {
        self.roles.push(role);
        self
    }

    /// Also sends a role in the deprecated `roles` field, as the service's
    /// older API wanted it. Use [`NewApiKey::role`] unless a service
    /// requires this.
    pub fn legacy_role(mut self, role: LegacyRole) -> Self {
        self.body.roles.get_or_insert_with(Vec::new).push(role);
        self
    }

    /// Makes the key stop working at `at` (default: never).
    pub fn expires_at(mut self, at: impl Into<Timestamp>) -> Self {
        self.body.expire_at = Nullable::Value(at.into());
        self
    }

    /// Creates the key disabled.
    pub fn disabled(mut self) -> Self {
        self.body.state = Some(ApiKeyState::Disabled);
        self
    }

    /// Allows use from `source` (an IP or CIDR). Without any, the service's
    /// default applies.
    pub fn allow_ip(mut self, source: impl Into<String>) -> Self {
        self.body
            .ip_access_list
            .get_or_insert_with(Vec::new)
            .push(IpAccessListEntry::new(source));
        self
    }

    /// Sets the whole list of allowed addresses. An empty list admits
    /// nobody; without a list the service's default applies.
    pub fn ip_access_list(mut self, entries: Vec<IpAccessListEntry>) -> Self {
        self.body.ip_access_list = Some(entries);
        self
    }

    /// The roles to resolve.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The body to send, the roles resolved with `roles`; the role that has
    /// no UUID there is the error.
    pub fn into_body(self, roles: &RoleTable) -> Result<ApiKeyPostRequest, Role> {
        let ids = self
            .roles
            .iter()
            .map(|role| roles.id_of(*role).ok_or(*role))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.with_role_ids(ids))
    }

    /// The body, with `ids` (the resolved roles, in order) added to
    /// `assignedRoleIds`.
    fn with_role_ids(self, ids: Vec<Uuid>) -> ApiKeyPostRequest {
        let mut body = self.body;
        if !ids.is_empty() {
            let assigned = body.assigned_role_ids.get_or_insert_with(Vec::new);
            for id in ids {
                if !assigned.contains(&id) {
                    assigned.push(id);
                }
            }
        }
        body
    }
}

impl From<ApiKeyPostRequest> for NewApiKey {
    /// A body built by hand, sent as it is (plus any roles added after).
    fn from(body: ApiKeyPostRequest) -> Self {
        Self {
            body,
            roles: Vec::new(),
        }
    }
}

/// Changes to a key. Whatever is not set stays as it is.
///
/// ```
/// use clickhouse_cloud_client::{KeyUpdate, RoleTable};
/// let body = KeyUpdate::new().name("renamed").never_expires().into_body(&RoleTable::new(vec![])).unwrap();
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"expireAt":null,"name":"renamed"}"#
/// );
/// ```
#[derive(Debug, Clone, Default)]
pub struct KeyUpdate {
    body: ApiKeyPatchRequest,
    roles: Option<Vec<Role>>,
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

    /// Replaces the key's roles (sent as `assignedRoleIds`; an empty list
    /// leaves it with none).
    pub fn roles(mut self, roles: impl IntoIterator<Item = Role>) -> Self {
        self.roles = Some(roles.into_iter().collect());
        self
    }

    /// Replaces the deprecated `roles` field, as the service's older API
    /// wanted it. Use [`KeyUpdate::roles`] unless a service requires this.
    pub fn legacy_roles(mut self, roles: impl IntoIterator<Item = LegacyRole>) -> Self {
        self.body.roles = Some(roles.into_iter().collect());
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

    /// The body to send, the roles resolved with `roles`; the role that has
    /// no UUID there is the error.
    pub fn into_body(self, roles: &RoleTable) -> Result<ApiKeyPatchRequest, Role> {
        match &self.roles {
            None => Ok(self.body),
            Some(wanted) => {
                let ids = wanted
                    .iter()
                    .map(|role| roles.id_of(*role).ok_or(*role))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.with_role_ids(ids))
            }
        }
    }

    fn with_role_ids(self, ids: Vec<Uuid>) -> ApiKeyPatchRequest {
        let mut body = self.body;
        if self.roles.is_some() {
            body.assigned_role_ids = Some(ids);
        }
        body
    }
}

impl From<ApiKeyPatchRequest> for KeyUpdate {
    /// A body built by hand, sent as it is.
    fn from(body: ApiKeyPatchRequest) -> Self {
        Self { body, roles: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clickhouse_cloud_types::{RbacRole, RbacRoleType};

    fn table() -> RoleTable {
        let role = |id: u128, name: &str, kind: RbacRoleType| RbacRole {
            id: Some(Uuid::from_u128(id).to_string()),
            name: Some(name.into()),
            r#type: Some(kind),
            ..Default::default()
        };
        RoleTable::new(vec![
            role(1, "Admin", RbacRoleType::System),
            role(2, "Developer", RbacRoleType::System),
            role(3, "Developer", RbacRoleType::Custom),
            role(4, "Query endpoints", RbacRoleType::System),
        ])
    }

    #[test]
    fn system_roles_become_ids_and_no_legacy_field_is_sent() {
        let custom = Uuid::from_u128(9);
        let body = NewApiKey::new("k")
            .role(Role::Developer)
            .role(Role::Id(custom))
            .role(Role::QueryEndpoints)
            .into_body(&table())
            .unwrap();
        assert_eq!(body.roles, None);
        assert_eq!(
            body.assigned_role_ids,
            Some(vec![Uuid::from_u128(2), custom, Uuid::from_u128(4)])
        );
        let patch = KeyUpdate::new()
            .roles([Role::Admin])
            .into_body(&table())
            .unwrap();
        assert_eq!(patch.roles, None);
        assert_eq!(patch.assigned_role_ids, Some(vec![Uuid::from_u128(1)]));
        // An unknown system role is named.
        assert_eq!(
            NewApiKey::new("k")
                .role(Role::Billing)
                .into_body(&table())
                .unwrap_err(),
            Role::Billing
        );
    }

    #[test]
    fn legacy_roles_only_when_asked() {
        let body = NewApiKey::new("k")
            .legacy_role(LegacyRole::Admin)
            .into_body(&table())
            .unwrap();
        assert_eq!(body.roles, Some(vec![LegacyRole::Admin]));
        assert_eq!(body.assigned_role_ids, None);
        let patch = KeyUpdate::new()
            .legacy_roles([LegacyRole::Developer])
            .into_body(&table())
            .unwrap();
        assert_eq!(patch.roles, Some(vec![LegacyRole::Developer]));
        assert_eq!(patch.assigned_role_ids, None);
        // Emptied roles: sent as an empty list.
        let patch = KeyUpdate::new().roles([]).into_body(&table()).unwrap();
        assert_eq!(patch.assigned_role_ids, Some(vec![]));
    }

    #[test]
    fn new_key_sends_only_what_was_set() {
        let body = NewApiKey::new("plain").into_body(&table()).unwrap();
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"name":"plain"}"#);
        let at: Timestamp = "2031-01-01T00:00:00Z".parse().unwrap();
        let body = NewApiKey::new("x")
            .expires_at(at)
            .disabled()
            .into_body(&table())
            .unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"name":"x","expireAt":"2031-01-01T00:00:00Z","state":"disabled"})
        );
    }
}
