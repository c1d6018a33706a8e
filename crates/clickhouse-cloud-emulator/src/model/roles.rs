//! Roles: the system roles every organization has (stable IDs), custom
//! roles, and what a set of roles lets a key do here.

use std::collections::BTreeSet;

use clickhouse_cloud_types::{
    Activity, ActivityType, AssignedRole, LegacyRole, RbacPolicy, RbacPolicyAllowDeny,
    RbacPolicyCreateRequest, RbacRole, RbacRoleType, RoleType, Timestamp,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::access::Context;
use crate::model::access::Grade;
use crate::model::error::ApiError;
use crate::model::world::Org;

/// UUID of the system role "Admin" (legacy role `admin`).
pub const ADMIN_ROLE_ID: Uuid = Uuid::from_u128(0x8da6b9c1_2bf1_4a57_8f44_c0378b0b8dc6);
/// UUID of the system role "Developer" (legacy role `developer`).
pub const DEVELOPER_ROLE_ID: Uuid = Uuid::from_u128(0x5431cba9_cafe_40bd_a87c_1638a9c835f0);
/// UUID of the system role "Query Endpoints" (legacy role `query_endpoints`).
pub const QUERY_ENDPOINTS_ROLE_ID: Uuid = Uuid::from_u128(0xff33a10b_d6ee_451b_81b3_e72b722638c4);

/// Longest role name accepted.
pub(crate) const MAX_NAME_CHARS: usize = 100;

/// A role every organization has.
pub(crate) struct SystemRole {
    pub(crate) id: Uuid,
    pub(crate) name: &'static str,
    pub(crate) legacy: Option<LegacyRole>,
    pub(crate) grade: Grade,
    pub(crate) permissions: &'static [&'static str],
}

/// In the order lists show them.
pub(crate) fn system_roles() -> [SystemRole; 9] {
    [
        SystemRole {
            id: ADMIN_ROLE_ID,
            name: "Admin",
            legacy: Some(LegacyRole::Admin),
            grade: Grade::Full,
            permissions: &[
                "control-plane:organization:manage",
                "control-plane:organization:create-service",
                "control-plane:organization:create-api-keys",
                "control-plane:service:manage",
                "control-plane:service:delete",
            ],
        },
        SystemRole {
            id: DEVELOPER_ROLE_ID,
            name: "Developer",
            legacy: Some(LegacyRole::Developer),
            grade: Grade::Read,
            permissions: &[
                "control-plane:organization:view",
                "control-plane:organization:view-api-keys",
                "control-plane:service:view",
            ],
        },
        SystemRole {
            id: Uuid::from_u128(0x2f3e6a1c_7d44_4f0a_9b7e_5c1d2a3b4c01),
            name: "Billing",
            legacy: None,
            grade: Grade::Read,
            permissions: &[
                "control-plane:organization:view",
                "control-plane:organization:view-billing",
            ],
        },
        SystemRole {
            id: Uuid::from_u128(0x2f3e6a1c_7d44_4f0a_9b7e_5c1d2a3b4c02),
            name: "Member",
            legacy: None,
            grade: Grade::Read,
            permissions: &["control-plane:organization:view"],
        },
        SystemRole {
            id: Uuid::from_u128(0x2f3e6a1c_7d44_4f0a_9b7e_5c1d2a3b4c03),
            name: "Service Admin",
            legacy: None,
            grade: Grade::Read,
            permissions: &["control-plane:service:manage", "control-plane:service:view"],
        },
        SystemRole {
            id: Uuid::from_u128(0x2f3e6a1c_7d44_4f0a_9b7e_5c1d2a3b4c04),
            name: "Service Read Only",
            legacy: None,
            grade: Grade::Read,
            permissions: &["control-plane:service:view"],
        },
        SystemRole {
            id: Uuid::from_u128(0x2f3e6a1c_7d44_4f0a_9b7e_5c1d2a3b4c05),
            name: "SQL Console Admin",
            legacy: None,
            grade: Grade::None,
            permissions: &["sql-console:admin"],
        },
        SystemRole {
            id: Uuid::from_u128(0x2f3e6a1c_7d44_4f0a_9b7e_5c1d2a3b4c06),
            name: "SQL Console Read Only",
            legacy: None,
            grade: Grade::None,
            permissions: &["sql-console:readonly"],
        },
        SystemRole {
            id: QUERY_ENDPOINTS_ROLE_ID,
            name: "Query Endpoints",
            legacy: Some(LegacyRole::QueryEndpoints),
            grade: Grade::None,
            permissions: &["query-endpoints:execute"],
        },
    ]
}

/// A system role by name, ignoring case, spaces, `-` and `_`
/// (`developer`, `service-admin`, `SQL Console Read Only`).
pub(crate) fn system_role_named(name: &str) -> Option<(Uuid, &'static str)> {
    let squash = |text: &str| {
        text.chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let wanted = squash(name);
    system_roles()
        .into_iter()
        .find(|role| squash(role.name) == wanted)
        .map(|role| (role.id, role.name))
}

/// Names of the system roles, for messages.
pub(crate) fn system_role_names() -> Vec<&'static str> {
    system_roles().iter().map(|role| role.name).collect()
}

/// A role an organization created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CustomRole {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) policies: Vec<RbacPolicy>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

impl CustomRole {
    /// `Full` when an allowing policy grants anything but viewing, `Read`
    /// when it grants only viewing, `None` without allowing policies.
    pub(crate) fn grade(&self) -> Grade {
        let allowed = self
            .policies
            .iter()
            .filter(|policy| policy.allow_deny == Some(RbacPolicyAllowDeny::Allow))
            .flat_map(|policy| policy.permissions.iter().flatten());
        allowed
            .map(|permission| {
                if permission.contains(":view") {
                    Grade::Read
                } else {
                    Grade::Full
                }
            })
            .max()
            .unwrap_or(Grade::None)
    }
}

/// One organization's roles.
#[derive(Serialize, Deserialize)]
pub(crate) struct Roles {
    pub(crate) org: Uuid,
    pub(crate) created_at: Timestamp,
    pub(crate) custom: Vec<CustomRole>,
}

/// What lists and keys show of a role.
pub(crate) struct RoleView {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) system: bool,
    pub(crate) grade: Grade,
    pub(crate) legacy: Option<LegacyRole>,
}

impl Roles {
    pub(crate) fn new(org: Uuid, created_at: Timestamp) -> Self {
        Self {
            org,
            created_at,
            custom: Vec::new(),
        }
    }

    /// Every role: system roles first, then custom ones by creation.
    pub(crate) fn all(&self) -> Vec<RoleView> {
        let system = system_roles().into_iter().map(|role| RoleView {
            id: role.id,
            name: role.name.to_owned(),
            system: true,
            grade: role.grade,
            legacy: role.legacy,
        });
        let custom = self.custom.iter().map(|role| RoleView {
            id: role.id,
            name: role.name.clone(),
            system: false,
            grade: role.grade(),
            legacy: None,
        });
        system.chain(custom).collect()
    }

    pub(crate) fn view(&self, id: Uuid) -> Option<RoleView> {
        self.all().into_iter().find(|role| role.id == id)
    }

    /// The role IDs that legacy names and role IDs stand for, in list
    /// order; an unknown one is refused. Empty when neither names any.
    pub(crate) fn resolve(
        &self,
        legacy: Option<&[LegacyRole]>,
        ids: Option<&[Uuid]>,
    ) -> Result<Vec<Uuid>, ApiError> {
        let all = self.all();
        let mut wanted = BTreeSet::new();
        for role in legacy.unwrap_or_default() {
            let found = all.iter().find(|known| known.legacy.as_ref() == Some(role));
            match found {
                Some(known) => wanted.insert(known.id),
                None => {
                    return Err(ApiError::bad_request(format_args!(
                        "unknown role {}",
                        role.as_str()
                    )));
                }
            };
        }
        for id in ids.unwrap_or_default() {
            if !all.iter().any(|known| known.id == *id) {
                return Err(ApiError::bad_request(format_args!("unknown role {id}")));
            }
            wanted.insert(*id);
        }
        Ok(all
            .iter()
            .map(|known| known.id)
            .filter(|id| wanted.contains(id))
            .collect())
    }

    /// Role IDs given as strings (members and invitations take them so).
    pub(crate) fn resolve_strings(&self, ids: &[String]) -> Result<Vec<Uuid>, ApiError> {
        let parsed = ids
            .iter()
            .map(|id| {
                Uuid::parse_str(id).map_err(|_| {
                    ApiError::bad_request(format_args!(
                        "assignedRoleIds: {id:?} is not a valid UUID"
                    ))
                })
            })
            .collect::<Result<Vec<Uuid>, ApiError>>()?;
        self.resolve(None, Some(&parsed))
    }

    /// The strongest grade among `ids`.
    pub(crate) fn grade(&self, ids: &[Uuid]) -> Grade {
        self.all()
            .iter()
            .filter(|role| ids.contains(&role.id))
            .map(|role| role.grade)
            .max()
            .unwrap_or(Grade::None)
    }

    /// The `roles` field: legacy names of the roles that have one.
    pub(crate) fn legacy(&self, ids: &[Uuid]) -> Vec<LegacyRole> {
        self.all()
            .into_iter()
            .filter(|role| ids.contains(&role.id))
            .filter_map(|role| role.legacy)
            .collect()
    }

    /// The `assignedRoles` field.
    pub(crate) fn assigned(&self, ids: &[Uuid]) -> Vec<AssignedRole> {
        self.all()
            .into_iter()
            .filter(|role| ids.contains(&role.id))
            .map(|role| AssignedRole {
                role_id: Some(role.id),
                role_name: Some(role.name),
                role_type: Some(if role.system {
                    RoleType::System
                } else {
                    RoleType::Custom
                }),
            })
            .collect()
    }

    /// Names of `ids`, for activities.
    pub(crate) fn names(&self, ids: &[Uuid]) -> Vec<String> {
        self.assigned(ids)
            .into_iter()
            .filter_map(|role| role.role_name)
            .collect()
    }

    pub(crate) fn to_api(&self, id: Uuid, actors: Vec<String>) -> Option<RbacRole> {
        let tenant = format!("organization/{}", self.org);
        let policy =
            |index: usize, allow: RbacPolicyAllowDeny, permissions, resources| RbacPolicy {
                id: Some(Uuid::from_u128(id.as_u128() ^ (index as u128 + 1)).to_string()),
                role_id: Some(id.to_string()),
                tenant_id: Some(tenant.clone()),
                allow_deny: Some(allow),
                permissions: Some(permissions),
                resources: Some(resources),
                tags: None,
            };
        if let Some(system) = system_roles().into_iter().find(|role| role.id == id) {
            let permissions = system.permissions.iter().map(|p| (*p).to_owned()).collect();
            let resources = vec![tenant.clone(), "instance/*".to_owned()];
            return Some(RbacRole {
                id: Some(id.to_string()),
                name: Some(system.name.to_owned()),
                r#type: Some(RbacRoleType::System),
                tenant_id: Some(tenant.clone()),
                owner_id: Some(tenant.clone()),
                actors: Some(actors),
                policies: Some(vec![policy(
                    0,
                    RbacPolicyAllowDeny::Allow,
                    permissions,
                    resources,
                )]),
                created_at: Some(self.created_at),
                updated_at: Some(self.created_at),
            });
        }
        let custom = self.custom.iter().find(|role| role.id == id)?;
        Some(RbacRole {
            id: Some(id.to_string()),
            name: Some(custom.name.clone()),
            r#type: Some(RbacRoleType::Custom),
            tenant_id: Some(tenant.clone()),
            owner_id: Some(tenant.clone()),
            actors: Some(actors),
            policies: Some(custom.policies.clone()),
            created_at: Some(custom.created_at),
            updated_at: Some(custom.updated_at),
        })
    }

    pub(crate) fn name_taken(&self, name: &str, except: Option<Uuid>) -> bool {
        self.all()
            .iter()
            .any(|role| Some(role.id) != except && role.name.eq_ignore_ascii_case(name))
    }
}

/// `apiKey/UUID` or `user/UUID`, checked against the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Actor {
    Key(Uuid),
    User(Uuid),
}

impl Actor {
    pub(crate) fn parse(org: &Org, text: &str) -> Result<Self, ApiError> {
        let bad = || {
            ApiError::bad_request(format_args!(
                "actors: {text:?} is neither apiKey/UUID nor user/UUID of this organization"
            ))
        };
        let (kind, id) = text.split_once('/').ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        match kind {
            "apiKey" if org.keys.get(id).is_some() => Ok(Actor::Key(id)),
            "user" if org.members.get(id).is_some() => Ok(Actor::User(id)),
            _ => Err(bad()),
        }
    }

    pub(crate) fn render(self) -> String {
        match self {
            Actor::Key(id) => format!("apiKey/{id}"),
            Actor::User(id) => format!("user/{id}"),
        }
    }
}

/// Who holds role `role`, keys first.
pub(crate) fn actors_of(org: &Org, role: Uuid) -> Vec<String> {
    let keys = org
        .keys
        .ordered()
        .into_iter()
        .filter(|key| key.roles.contains(&role))
        .map(|key| Actor::Key(key.id).render());
    let users = org
        .members
        .iter()
        .filter(|member| member.roles.contains(&role))
        .map(|member| Actor::User(member.user_id).render());
    keys.chain(users).collect()
}

/// Gives `role` to exactly `actors`, taking it from everyone else.
pub(crate) fn assign(org: &mut Org, role: Uuid, actors: &[Actor]) {
    let order = org.roles.all();
    let sort = |roles: &mut Vec<Uuid>| {
        roles.sort_by_key(|id| order.iter().position(|known| known.id == *id));
        roles.dedup();
    };
    for key in org.keys.iter_mut() {
        let wanted = actors.contains(&Actor::Key(key.id));
        key.roles.retain(|id| *id != role);
        if wanted {
            key.roles.push(role);
            sort(&mut key.roles);
        }
    }
    for member in org.members.iter_mut() {
        let wanted = actors.contains(&Actor::User(member.user_id));
        member.roles.retain(|id| *id != role);
        if wanted {
            member.roles.push(role);
            sort(&mut member.roles);
        }
    }
}

pub(crate) fn check_name(name: Option<&str>) -> Result<String, ApiError> {
    let name = name.ok_or_else(|| ApiError::bad_request("name is required"))?;
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

pub(crate) fn check_policies(
    role: Uuid,
    org: Uuid,
    policies: Vec<RbacPolicyCreateRequest>,
) -> Result<Vec<RbacPolicy>, ApiError> {
    policies
        .into_iter()
        .enumerate()
        .map(|(index, policy)| {
            let allow_deny = policy
                .allow_deny
                .filter(|value| !value.is_unknown())
                .ok_or_else(|| {
                    ApiError::bad_request(format_args!(
                        "policies[{index}].allowDeny must be ALLOW or DENY"
                    ))
                })?;
            let permissions = policy.permissions.ok_or_else(|| {
                ApiError::bad_request(format_args!("policies[{index}].permissions is required"))
            })?;
            let resources = policy.resources.ok_or_else(|| {
                ApiError::bad_request(format_args!("policies[{index}].resources is required"))
            })?;
            Ok(RbacPolicy {
                id: Some(Uuid::new_v4().to_string()),
                role_id: Some(role.to_string()),
                tenant_id: Some(format!("organization/{org}")),
                allow_deny: Some(allow_deny),
                permissions: Some(permissions),
                resources: Some(resources),
                tags: policy.tags,
            })
        })
        .collect()
}

pub(crate) fn check_actors(org: &Org, actors: &[String]) -> Result<Vec<Actor>, ApiError> {
    let mut parsed = actors
        .iter()
        .map(|actor| Actor::parse(org, actor))
        .collect::<Result<Vec<Actor>, ApiError>>()?;
    parsed.sort();
    parsed.dedup();
    Ok(parsed)
}

pub(crate) fn role_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format_args!("role {id} not found"))
}

pub(crate) fn role_activity(
    cx: &Context,
    kind: ActivityType,
    id: Uuid,
    name: &str,
    actors: &[Actor],
) -> Activity {
    Activity {
        target_role_ids: Some(vec![id.to_string()]),
        target_role_names: Some(vec![name.to_owned()]),
        target_actor_ids: Some(actors.iter().map(|actor| actor.render()).collect()),
        ..cx.activity(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::access::Access;

    pub(crate) fn roles() -> Roles {
        Roles::new(Uuid::new_v4(), "2026-01-01T00:00:00Z".parse().unwrap())
    }

    #[test]
    pub(crate) fn legacy_and_ids_merge_and_the_strongest_wins() {
        let roles = roles();
        let set = roles
            .resolve(Some(&[LegacyRole::Developer]), Some(&[ADMIN_ROLE_ID]))
            .unwrap();
        assert_eq!(
            roles.legacy(&set),
            vec![LegacyRole::Admin, LegacyRole::Developer]
        );
        assert_eq!(roles.grade(&set), Grade::Full);
        assert_eq!(roles.assigned(&set).len(), 2);
    }

    #[test]
    pub(crate) fn unknown_and_empty_roles() {
        let roles = roles();
        let err = roles
            .resolve(Some(&[LegacyRole::from("owner")]), None)
            .unwrap_err();
        assert_eq!(err.message, "unknown role owner");
        let stranger = Uuid::from_u128(1);
        let err = roles.resolve(None, Some(&[stranger])).unwrap_err();
        assert_eq!(err.message, format!("unknown role {stranger}"));
        assert!(roles.resolve(Some(&[]), Some(&[])).unwrap().is_empty());
        assert_eq!(roles.grade(&[]), Grade::None);
    }

    #[test]
    pub(crate) fn grades() {
        let roles = roles();
        let qe = roles
            .resolve(Some(&[LegacyRole::QueryEndpoints]), None)
            .unwrap();
        assert!(!roles.grade(&qe).allows(Access::Read));
        assert!(roles.grade(&qe).allows(Access::Any));
        let dev = roles.resolve(None, Some(&[DEVELOPER_ROLE_ID])).unwrap();
        assert!(roles.grade(&dev).allows(Access::Read));
        assert!(!roles.grade(&dev).allows(Access::Write));
        let policy = |permissions: &[&str]| RbacPolicy {
            allow_deny: Some(RbacPolicyAllowDeny::Allow),
            permissions: Some(permissions.iter().map(|p| (*p).to_owned()).collect()),
            ..RbacPolicy::default()
        };
        let custom = |policies| CustomRole {
            id: Uuid::new_v4(),
            name: "c".into(),
            policies,
            created_at: roles.created_at,
            updated_at: roles.created_at,
        };
        assert_eq!(custom(vec![]).grade(), Grade::None);
        assert_eq!(
            custom(vec![policy(&["control-plane:service:view"])]).grade(),
            Grade::Read
        );
        assert_eq!(
            custom(vec![policy(&[
                "control-plane:service:view",
                "control-plane:service:manage"
            ])])
            .grade(),
            Grade::Full
        );
    }

    #[test]
    pub(crate) fn system_roles_are_found_by_loose_names() {
        assert_eq!(
            system_role_named("developer").map(|r| r.0),
            Some(DEVELOPER_ROLE_ID)
        );
        assert_eq!(
            system_role_named("service-admin").map(|r| r.1),
            Some("Service Admin")
        );
        assert_eq!(
            system_role_named("sql_console_read_only").map(|r| r.1),
            Some("SQL Console Read Only")
        );
        assert!(system_role_named("owner").is_none());
    }
}
