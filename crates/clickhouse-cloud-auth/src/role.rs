//! Roles a key can hold, and whether a key may be used at a given time.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::AuthError;

/// A permission granted to an API key, a member or an invitation.
///
/// The service takes role UUIDs (`assignedRoleIds`): a system role
/// (`Admin`, `Developer`, `Billing`, ...) is looked up by its name in the
/// organization's roles list ([`Role::system_name`]); a custom role is
/// given by its UUID ([`Role::Id`]). The three legacy names (`admin`,
/// `developer`, `query_endpoints`) of the deprecated `roles` field are
/// [`Role::legacy_name`].
///
/// ```
/// use clickhouse_cloud_auth::Role;
/// assert_eq!("developer".parse::<Role>()?, Role::Developer);
/// let custom: Role = "1b4e28ba-2fa1-11d2-883f-0016d3cca427".parse()?;
/// assert!(custom.role_id().is_some());
/// # Ok::<(), clickhouse_cloud_auth::AuthError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Full access, including key management.
    Admin,
    /// Read access; writes are refused.
    Developer,
    /// Access to query endpoints only.
    QueryEndpoints,
    /// Usage, invoices and payment methods.
    Billing,
    /// Sign-in and one's own profile only.
    Member,
    /// A system or custom role by its UUID.
    Id(Uuid),
}

impl Role {
    /// The legacy wire name (`admin`, `developer`, `query_endpoints`), or
    /// `None` for a role UUID.
    pub fn legacy_name(&self) -> Option<&'static str> {
        match self {
            Role::Admin => Some("admin"),
            Role::Developer => Some("developer"),
            Role::QueryEndpoints => Some("query_endpoints"),
            Role::Billing | Role::Member | Role::Id(_) => None,
        }
    }

    /// The name of the system role in the organization's roles list
    /// (`Admin`, `Developer`, `Query Endpoints`, `Billing`, `Member`), or
    /// `None` for a role UUID. Matched ignoring case, spaces and
    /// underscores.
    ///
    /// ```
    /// use clickhouse_cloud_auth::Role;
    /// assert_eq!(Role::QueryEndpoints.system_name(), Some("Query Endpoints"));
    /// assert!(Role::QueryEndpoints.is_named("query_endpoints"));
    /// assert!(!Role::Admin.is_named("Billing"));
    /// ```
    pub fn system_name(&self) -> Option<&'static str> {
        match self {
            Role::Admin => Some("Admin"),
            Role::Developer => Some("Developer"),
            Role::QueryEndpoints => Some("Query Endpoints"),
            Role::Billing => Some("Billing"),
            Role::Member => Some("Member"),
            Role::Id(_) => None,
        }
    }

    /// Whether `name` (a role's name in the organization's list) names
    /// this system role.
    pub fn is_named(&self, name: &str) -> bool {
        let fold = |text: &str| -> String {
            text.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect()
        };
        self.system_name()
            .is_some_and(|own| fold(own) == fold(name))
    }

    /// The UUID of a role given by ID.
    pub fn role_id(&self) -> Option<Uuid> {
        match self {
            Role::Id(id) => Some(*id),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.legacy_name(), self) {
            (Some(name), _) => f.write_str(name),
            (None, Role::Id(id)) => write!(f, "{id}"),
            (None, Role::Billing) => f.write_str("billing"),
            (None, Role::Member) => f.write_str("member"),
            (None, _) => Ok(()),
        }
    }
}

impl FromStr for Role {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "developer" => Ok(Role::Developer),
            "query_endpoints" => Ok(Role::QueryEndpoints),
            "billing" => Ok(Role::Billing),
            "member" => Ok(Role::Member),
            other => Uuid::parse_str(other)
                .map(Role::Id)
                .map_err(|_| AuthError::UnknownRole(other.to_owned())),
        }
    }
}

/// Whether a key may be used at time `at`: it is enabled and either never
/// expires or expires after `at`.
///
/// Generic over the time type, so it works with `SystemTime`, `chrono` or
/// any ordered instant.
///
/// ```
/// use clickhouse_cloud_auth::usable_at;
/// assert!(usable_at(true, None, 5));
/// assert!(usable_at(true, Some(10), 5));
/// assert!(!usable_at(true, Some(10), 10));
/// assert!(!usable_at(false, None, 5));
/// ```
pub fn usable_at<T: PartialOrd>(enabled: bool, expire_at: Option<T>, at: T) -> bool {
    enabled && expire_at.is_none_or(|expiry| at < expiry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn legacy_names_round_trip() {
        for role in [
            Role::Admin,
            Role::Developer,
            Role::QueryEndpoints,
            Role::Billing,
            Role::Member,
        ] {
            assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
        }
    }

    #[test]
    fn uuids_parse_and_garbage_is_refused() {
        let id = Uuid::from_u128(7);
        assert_eq!(id.to_string().parse::<Role>().unwrap(), Role::Id(id));
        assert_eq!(
            "owner".parse::<Role>(),
            Err(AuthError::UnknownRole("owner".into()))
        );
    }

    #[test]
    fn usable_at_checks_state_and_expiry() {
        let now = SystemTime::now();
        let later = now + Duration::from_secs(60);
        assert!(usable_at(true, None, now));
        assert!(usable_at(true, Some(later), now));
        assert!(!usable_at(true, Some(now), later));
        assert!(!usable_at(true, Some(now), now));
        assert!(!usable_at(false, Some(later), now));
    }
}
