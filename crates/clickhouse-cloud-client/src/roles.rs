//! Roles as the service wants them: UUIDs from the organization's roles
//! list, looked up once per client and organization.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use clickhouse_cloud_auth::Role;
use clickhouse_cloud_types::{RbacRole, RbacRoleType};
use uuid::Uuid;

use crate::{Error, Roles};

/// The roles of one organization (`GET /v1/organizations/{id}/roles`), as
/// the client read them.
///
/// ```no_run
/// use clickhouse_cloud_client::Role;
/// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
/// let table = client.roles(org).table().await?;
/// println!("Developer is {:?}", table.id_of(Role::Developer));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RoleTable {
    roles: Vec<RbacRole>,
}

impl RoleTable {
    /// A table of these roles.
    pub fn new(roles: Vec<RbacRole>) -> Self {
        Self { roles }
    }

    /// The roles as listed.
    pub fn roles(&self) -> &[RbacRole] {
        &self.roles
    }

    /// The UUID of `role`: given for [`Role::Id`], else the system role of
    /// that name (ignoring case, spaces and underscores).
    ///
    /// ```
    /// use clickhouse_cloud_client::{Role, RoleTable};
    /// use clickhouse_cloud_client::types::{RbacRole, RbacRoleType};
    /// let admin = uuid::Uuid::from_u128(1);
    /// let table = RoleTable::new(vec![RbacRole {
    ///     id: Some(admin.to_string()),
    ///     name: Some("Admin".into()),
    ///     r#type: Some(RbacRoleType::System),
    ///     ..Default::default()
    /// }]);
    /// assert_eq!(table.id_of(Role::Admin), Some(admin));
    /// assert_eq!(table.id_of(Role::Billing), None);
    /// ```
    pub fn id_of(&self, role: Role) -> Option<Uuid> {
        if let Role::Id(id) = role {
            return Some(id);
        }
        self.roles
            .iter()
            .filter(|r| r.r#type.as_ref().is_none_or(|t| *t == RbacRoleType::System))
            .find(|r| r.name.as_deref().is_some_and(|name| role.is_named(name)))
            .and_then(|r| r.id.as_deref())
            .and_then(|id| id.parse().ok())
    }
}

impl RoleTable {
    /// The roles called `name`, system or custom: the one whose name is
    /// exactly `name` when there is one, else every role whose name matches
    /// ignoring case, spaces, `-` and `_` (`developer`, `service-admin`).
    /// Several means the name is ambiguous.
    ///
    /// ```
    /// use clickhouse_cloud_client::RoleTable;
    /// use clickhouse_cloud_client::types::{RbacRole, RbacRoleType};
    /// let role = |id: u128, name: &str, kind| RbacRole {
    ///     id: Some(uuid::Uuid::from_u128(id).to_string()),
    ///     name: Some(name.into()),
    ///     r#type: Some(kind),
    ///     ..Default::default()
    /// };
    /// let table = RoleTable::new(vec![
    ///     role(1, "Service Admin", RbacRoleType::System),
    ///     role(2, "auditors", RbacRoleType::Custom),
    /// ]);
    /// assert_eq!(table.named("service_admin").len(), 1);
    /// assert_eq!(table.named("Auditors")[0].name.as_deref(), Some("auditors"));
    /// assert!(table.named("owner").is_empty());
    /// ```
    pub fn named(&self, name: &str) -> Vec<&RbacRole> {
        let exact: Vec<&RbacRole> = self
            .roles
            .iter()
            .filter(|role| role.name.as_deref() == Some(name))
            .collect();
        if exact.len() == 1 {
            return exact;
        }
        let wanted = fold_role_name(name);
        self.roles
            .iter()
            .filter(|role| {
                role.name
                    .as_deref()
                    .is_some_and(|own| fold_role_name(own) == wanted)
            })
            .collect()
    }
}

/// A role name without case, spaces, `-` or `_`.
fn fold_role_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Role tables by organization, shared by a client and its clones.
#[derive(Debug, Default)]
pub(crate) struct RoleCache(Mutex<HashMap<Uuid, Arc<RoleTable>>>);

impl RoleCache {
    fn get(&self, organization_id: Uuid) -> Option<Arc<RoleTable>> {
        let tables = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        tables.get(&organization_id).cloned()
    }

    fn put(&self, organization_id: Uuid, table: Arc<RoleTable>) {
        let mut tables = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        tables.insert(organization_id, table);
    }

    fn forget(&self, organization_id: Uuid) {
        let mut tables = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        tables.remove(&organization_id);
    }
}

impl Roles {
    /// The organization's roles, read once per client (and its clones) and
    /// organization, then kept.
    pub async fn table(&self) -> Result<Arc<RoleTable>, Error> {
        let cache = &self.client.shared().roles;
        if let Some(table) = cache.get(self.organization_id) {
            return Ok(table);
        }
        let listed = self.organization_roles_get_list().await?.into_result();
        let table = Arc::new(RoleTable::new(listed));
        cache.put(self.organization_id, Arc::clone(&table));
        Ok(table)
    }

    /// Drops the kept table, so the next lookup reads the list again (after
    /// creating or deleting a custom role, say).
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let roles = client.roles(org);
    /// roles.forget_table();
    /// let fresh = roles.table().await?;
    /// # Ok(()) }
    /// ```
    pub fn forget_table(&self) {
        self.client.shared().roles.forget(self.organization_id);
    }

    /// The UUID of one role ([`Role::Id`] as it is; a system role from the
    /// organization's list).
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::Role;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let developer = client.roles(org).resolve(Role::Developer).await?;
    /// println!("Developer: {developer}");
    /// # Ok(()) }
    /// ```
    pub async fn resolve(&self, role: Role) -> Result<Uuid, Error> {
        Ok(self.resolve_all(&[role]).await?.remove(0))
    }

    /// The UUIDs of `roles`, in order; the list is read only when one of
    /// them is a system role.
    pub async fn resolve_all(&self, roles: &[Role]) -> Result<Vec<Uuid>, Error> {
        if let Some(ids) = roles.iter().map(Role::role_id).collect::<Option<Vec<_>>>() {
            return Ok(ids);
        }
        let table = self.table().await?;
        roles
            .iter()
            .map(|role| {
                table.id_of(*role).ok_or(Error::UnknownRole {
                    role: *role,
                    organization_id: self.organization_id,
                })
            })
            .collect()
    }
}

#[cfg(feature = "members")]
impl crate::Members {
    /// Invites `email` into the organization with `roles`, sent as the
    /// organization's role IDs (`assignedRoleIds`).
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::Role;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let invitation = client.members(org).invite("dev@example.com", &[Role::Developer]).await?;
    /// println!("{:?} expires {:?}", invitation.id, invitation.expire_at);
    /// # Ok(()) }
    /// ```
    pub async fn invite(
        &self,
        email: impl Into<String>,
        roles: &[Role],
    ) -> Result<crate::Response<clickhouse_cloud_types::Invitation>, Error> {
        let ids = self.role_ids(roles).await?;
        let body = clickhouse_cloud_types::InvitationPostRequest {
            assigned_role_ids: Some(ids),
            ..clickhouse_cloud_types::InvitationPostRequest::new(email)
        };
        self.invitation_create(body).await
    }

    /// Replaces a member's roles, sent as the organization's role IDs.
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::Role;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, user: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// client.members(org).set_roles(user, &[Role::Admin]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_roles(
        &self,
        user_id: Uuid,
        roles: &[Role],
    ) -> Result<crate::Response<clickhouse_cloud_types::Member>, Error> {
        let body = clickhouse_cloud_types::MemberPatchRequest {
            assigned_role_ids: Some(self.role_ids(roles).await?),
            ..Default::default()
        };
        self.member_update(user_id, body).await
    }

    async fn role_ids(&self, roles: &[Role]) -> Result<Vec<String>, Error> {
        let roles_area = Roles {
            client: self.client.clone(),
            organization_id: self.organization_id,
        };
        let ids = roles_area.resolve_all(roles).await?;
        Ok(ids.iter().map(Uuid::to_string).collect())
    }
}
