//! The system roles the emulator knows, and what each one permits.

use clickhouse_cloud_types::{AssignedRole, LegacyRole, RoleType};
use uuid::Uuid;

use crate::error::ApiError;

/// UUID of the system role "Admin" (legacy role `admin`).
pub const ADMIN_ROLE_ID: Uuid = Uuid::from_u128(0x8da6b9c1_2bf1_4a57_8f44_c0378b0b8dc6);
/// UUID of the system role "Developer" (legacy role `developer`).
pub const DEVELOPER_ROLE_ID: Uuid = Uuid::from_u128(0x5431cba9_cafe_40bd_a87c_1638a9c835f0);
/// UUID of the system role "Query Endpoints" (legacy role `query_endpoints`).
pub const QUERY_ENDPOINTS_ROLE_ID: Uuid = Uuid::from_u128(0xff33a10b_d6ee_451b_81b3_e72b722638c4);

/// What a key may do with the operations the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Permission {
    /// Nothing (query endpoints only, which the emulator does not serve).
    None,
    /// GET requests.
    Read,
    /// Everything.
    Full,
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

impl Permission {
    pub(crate) fn allows(self, access: Access) -> bool {
        match self {
            Permission::Full => true,
            Permission::Read => access == Access::Read,
            Permission::None => false,
        }
    }
}

struct SystemRole {
    id: Uuid,
    name: &'static str,
    legacy: LegacyRole,
    permission: Permission,
}

/// In the order responses list them.
fn system_roles() -> [SystemRole; 3] {
    [
        SystemRole {
            id: ADMIN_ROLE_ID,
            name: "Admin",
            legacy: LegacyRole::Admin,
            permission: Permission::Full,
        },
        SystemRole {
            id: DEVELOPER_ROLE_ID,
            name: "Developer",
            legacy: LegacyRole::Developer,
            permission: Permission::Read,
        },
        SystemRole {
            id: QUERY_ENDPOINTS_ROLE_ID,
            name: "Query Endpoints",
            legacy: LegacyRole::QueryEndpoints,
            permission: Permission::None,
        },
    ]
}

/// A key's roles: a set of known role IDs, kept in table order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleSet(Vec<Uuid>);

impl RoleSet {
    /// Just the admin role.
    pub(crate) fn admin() -> Self {
        Self(vec![ADMIN_ROLE_ID])
    }

    /// The union of legacy roles and role IDs; unknown ones are refused.
    /// `None` when neither list names any role.
    pub(crate) fn resolve(
        legacy: Option<&[LegacyRole]>,
        ids: Option<&[Uuid]>,
    ) -> Result<Option<Self>, ApiError> {
        let table = system_roles();
        let mut wanted = Vec::new();
        for role in legacy.unwrap_or_default() {
            let found = table.iter().find(|known| known.legacy == *role);
            match found {
                Some(known) => wanted.push(known.id),
                None => {
                    return Err(ApiError::bad_request(format_args!(
                        "unknown role {}",
                        role.as_str()
                    )));
                }
            }
        }
        for id in ids.unwrap_or_default() {
            if !table.iter().any(|known| known.id == *id) {
                return Err(ApiError::bad_request(format_args!("unknown role {id}")));
            }
            wanted.push(*id);
        }
        let set: Vec<Uuid> = table
            .iter()
            .map(|known| known.id)
            .filter(|id| wanted.contains(id))
            .collect();
        Ok((!set.is_empty()).then_some(Self(set)))
    }

    /// The strongest permission among the roles.
    pub(crate) fn permission(&self) -> Permission {
        system_roles()
            .iter()
            .filter(|known| self.0.contains(&known.id))
            .map(|known| known.permission)
            .max()
            .unwrap_or(Permission::None)
    }

    /// The `roles` field: legacy names of the roles that have one.
    pub(crate) fn legacy(&self) -> Vec<LegacyRole> {
        system_roles()
            .into_iter()
            .filter(|known| self.0.contains(&known.id))
            .map(|known| known.legacy)
            .collect()
    }

    /// The `assignedRoles` field.
    pub(crate) fn assigned(&self) -> Vec<AssignedRole> {
        system_roles()
            .into_iter()
            .filter(|known| self.0.contains(&known.id))
            .map(|known| AssignedRole {
                role_id: Some(known.id),
                role_name: Some(known.name.to_owned()),
                role_type: Some(RoleType::System),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_and_ids_merge_and_the_strongest_wins() {
        let set = RoleSet::resolve(Some(&[LegacyRole::Developer]), Some(&[ADMIN_ROLE_ID]))
            .unwrap()
            .unwrap();
        assert_eq!(set.legacy(), vec![LegacyRole::Admin, LegacyRole::Developer]);
        assert_eq!(set.permission(), Permission::Full);
        assert_eq!(set.assigned().len(), 2);
    }

    #[test]
    fn unknown_and_empty_roles() {
        let err = RoleSet::resolve(Some(&[LegacyRole::from("owner")]), None).unwrap_err();
        assert_eq!(err.message, "unknown role owner");
        let stranger = Uuid::from_u128(1);
        let err = RoleSet::resolve(None, Some(&[stranger])).unwrap_err();
        assert_eq!(err.message, format!("unknown role {stranger}"));
        assert_eq!(RoleSet::resolve(Some(&[]), None).unwrap(), None);
    }

    #[test]
    fn query_endpoints_permits_nothing_here() {
        let set = RoleSet::resolve(Some(&[LegacyRole::QueryEndpoints]), None)
            .unwrap()
            .unwrap();
        assert!(!set.permission().allows(Access::Read));
        let dev = RoleSet::resolve(None, Some(&[DEVELOPER_ROLE_ID]))
            .unwrap()
            .unwrap();
        assert!(dev.permission().allows(Access::Read));
        assert!(!dev.permission().allows(Access::Write));
    }
}
