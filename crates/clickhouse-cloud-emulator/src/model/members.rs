//! Organization members: the owner, members added at start, and what the
//! API does with them (list, get, change roles, remove).

use std::fmt;
use std::str::FromStr;

use clickhouse_cloud_types::{Member, MemberRole, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::error::ApiError;
use crate::model::roles::{
    ADMIN_ROLE_ID, DEVELOPER_ROLE_ID, Roles, system_role_named, system_role_names,
};

/// A member to add at start: `NAME=EMAIL[:ROLE]` on the command line.
///
/// ROLE is a system role's name (`admin`, `developer`, `billing`,
/// `member`, `service-admin`, ...; case, spaces, `-` and `_` do not
/// matter); `developer` when not given.
///
/// ```
/// use clickhouse_cloud_emulator::MemberSpec;
/// let spec: MemberSpec = "Ada Lovelace=ada@example.com:admin".parse()?;
/// assert_eq!((spec.name(), spec.email(), spec.role()), ("Ada Lovelace", "ada@example.com", "Admin"));
/// assert_eq!("bob=bob@example.com".parse::<MemberSpec>()?.role(), "Developer");
/// assert!("bob".parse::<MemberSpec>().is_err());
/// # Ok::<(), clickhouse_cloud_emulator::MemberSpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSpec {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) role: Uuid,
    pub(crate) role_name: &'static str,
}

impl MemberSpec {
    /// A member named `name` with e-mail `email` and the system role
    /// called `role` (see the type's docs for names).
    pub fn new(
        name: impl Into<String>,
        email: impl Into<String>,
        role: &str,
    ) -> Result<Self, MemberSpecError> {
        let name = name.into();
        let email = email.into().trim().to_lowercase();
        if name.trim().is_empty() {
            return Err(MemberSpecError("the member's name is empty".into()));
        }
        if !plausible_email(&email) {
            return Err(MemberSpecError(format!(
                "{email:?} is not an e-mail address"
            )));
        }
        let (role, role_name) = system_role_named(role).ok_or_else(|| {
            MemberSpecError(format!(
                "unknown role {role:?} (expected one of {})",
                system_role_names().join(", ")
            ))
        })?;
        Ok(Self {
            name,
            email,
            role,
            role_name,
        })
    }

    /// The same member as an Admin (the owner always is).
    pub(crate) fn into_admin(mut self) -> Self {
        self.role = ADMIN_ROLE_ID;
        self.role_name = "Admin";
        self
    }

    /// The member's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The member's e-mail address, in lower case.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The name of the member's system role.
    pub fn role(&self) -> &str {
        self.role_name
    }
}

impl FromStr for MemberSpec {
    type Err = MemberSpecError;

    /// `NAME=EMAIL` or `NAME=EMAIL:ROLE`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, rest) = text
            .split_once('=')
            .ok_or_else(|| MemberSpecError(format!("{text:?} is not NAME=EMAIL[:ROLE]")))?;
        let (email, role) = rest.split_once(':').unwrap_or((rest, "developer"));
        Self::new(name.trim(), email, role.trim())
    }
}

/// A member specification that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSpecError(String);

impl fmt::Display for MemberSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MemberSpecError {}

/// A member of a running emulator's organization, as
/// [`RunningEmulator::members`](crate::RunningEmulator::members) lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmulatedMember {
    /// The member's user ID (what the member routes take).
    pub user_id: Uuid,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Names of the member's roles.
    pub roles: Vec<String>,
}

/// One at sign, something on each side, a dot in the domain.
pub(crate) fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// A stored member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MemberRecord {
    pub(crate) user_id: Uuid,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) joined_at: Timestamp,
    /// Role IDs, in the roles list's order.
    pub(crate) roles: Vec<Uuid>,
}

impl MemberRecord {
    pub(crate) fn from_spec(spec: &MemberSpec, now: Timestamp) -> Self {
        Self {
            user_id: Uuid::new_v4(),
            name: spec.name.clone(),
            email: spec.email.clone(),
            joined_at: now,
            roles: vec![spec.role],
        }
    }

    pub(crate) fn to_api(&self, roles: &Roles) -> Member {
        Member {
            user_id: Some(self.user_id.to_string()),
            name: Some(self.name.clone()),
            email: Some(self.email.clone()),
            joined_at: Some(self.joined_at),
            role: Some(legacy_member_role(&self.roles)),
            assigned_roles: Some(roles.assigned(&self.roles)),
        }
    }

    pub(crate) fn describe(&self, roles: &Roles) -> EmulatedMember {
        EmulatedMember {
            user_id: self.user_id,
            name: self.name.clone(),
            email: self.email.clone(),
            roles: roles.names(&self.roles),
        }
    }
}

/// The deprecated `role`: `admin` for an Admin, `developer` for anyone else.
pub(crate) fn legacy_member_role(roles: &[Uuid]) -> MemberRole {
    if roles.contains(&ADMIN_ROLE_ID) {
        MemberRole::Admin
    } else {
        MemberRole::Developer
    }
}

/// Role IDs for a deprecated `role` and `assignedRoleIds`, in list order;
/// `None` when neither is given. An empty `assignedRoleIds` gives an empty
/// list: what that means is the caller's to decide (an invitation gets
/// Developer, a member cannot be left without a role).
pub(crate) fn requested_roles(
    roles: &Roles,
    legacy: Option<&MemberRole>,
    ids: Option<&[String]>,
) -> Result<Option<Vec<Uuid>>, ApiError> {
    let mut wanted = match ids {
        Some(ids) => roles.resolve_strings(ids)?,
        None => Vec::new(),
    };
    match legacy {
        Some(MemberRole::Admin) => wanted.push(ADMIN_ROLE_ID),
        Some(MemberRole::Developer) => wanted.push(DEVELOPER_ROLE_ID),
        Some(other) => {
            return Err(ApiError::bad_request(format_args!(
                "role must be admin or developer, not {}",
                other.as_str()
            )));
        }
        None => {}
    }
    if legacy.is_none() && ids.is_none() {
        return Ok(None);
    }
    Ok(Some(roles.resolve(None, Some(&wanted))?))
}

/// One organization's members, in the order they joined.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Members {
    pub(crate) list: Vec<MemberRecord>,
}

impl Members {
    pub(crate) fn add(&mut self, member: MemberRecord) {
        self.list.push(member);
    }

    pub(crate) fn get(&self, id: Uuid) -> Option<&MemberRecord> {
        self.list.iter().find(|member| member.user_id == id)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &MemberRecord> {
        self.list.iter()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut MemberRecord> {
        self.list.iter_mut()
    }

    pub(crate) fn has_email(&self, email: &str) -> bool {
        self.list.iter().any(|member| member.email == email)
    }

    pub(crate) fn admins_other_than(&self, id: Uuid) -> usize {
        self.list
            .iter()
            .filter(|member| member.user_id != id && member.roles.contains(&ADMIN_ROLE_ID))
            .count()
    }
}

pub(crate) fn member_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format_args!("member {id} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(crate) fn member_specs_parse_or_say_why() {
        let spec: MemberSpec = " Ada = Ada@Example.com : service admin".parse().unwrap();
        assert_eq!(
            (spec.name(), spec.email(), spec.role()),
            ("Ada", "ada@example.com", "Service Admin")
        );
        for (bad, needle) in [
            ("ada", "NAME=EMAIL"),
            ("=a@b.c", "empty"),
            ("a=nobody", "e-mail"),
            ("a=a@b.c:owner", "unknown role"),
        ] {
            let error = bad.parse::<MemberSpec>().unwrap_err().to_string();
            assert!(error.contains(needle), "{bad}: {error}");
        }
    }

    #[test]
    pub(crate) fn emails_are_checked_loosely() {
        assert!(plausible_email("a@b.co"));
        for bad in ["", "a", "a@b", "@b.c", "a@.b", "a@b.", "a b@c.d", "a@b@c.d"] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
