//! Everything the emulator holds: its clock, its settings, and one
//! [`Org`] per organization, each made of the resource modules' own state.

use std::collections::HashMap;

use uuid::Uuid;

use crate::RateLimit;
use crate::activities::Log;
use crate::auth::Gate;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::invitations::Invitations;
use crate::keys::Keys;
use crate::members::Members;
use crate::organizations::Profile;
use crate::roles::Roles;
use crate::services::Services;

/// Limits fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Most keys per organization.
    pub(crate) key_limit: usize,
    /// Per-key rate limit.
    pub(crate) rate_limit: Option<RateLimit>,
}

/// The state behind every request; one lock guards it all.
pub(crate) struct World {
    pub(crate) clock: Clock,
    pub(crate) settings: Settings,
    pub(crate) gate: Gate,
    pub(crate) orgs: HashMap<Uuid, Org>,
}

/// One organization: each field belongs to the module of that resource.
pub(crate) struct Org {
    pub(crate) profile: Profile,
    pub(crate) keys: Keys,
    pub(crate) roles: Roles,
    pub(crate) members: Members,
    pub(crate) invitations: Invitations,
    pub(crate) services: Services,
    pub(crate) activities: Log,
}

impl World {
    pub(crate) fn new(settings: Settings, speed: f64) -> Self {
        Self {
            clock: Clock::new(speed),
            gate: Gate::new(settings.rate_limit),
            settings,
            orgs: HashMap::new(),
        }
    }

    /// The organization `id`, which the pipeline has checked is the caller's.
    pub(crate) fn org(&self, id: Uuid) -> Result<&Org, ApiError> {
        self.orgs
            .get(&id)
            .ok_or_else(|| ApiError::organization_not_found(id))
    }

    /// The organization `id`, to change.
    pub(crate) fn org_mut(&mut self, id: Uuid) -> Result<&mut Org, ApiError> {
        self.orgs
            .get_mut(&id)
            .ok_or_else(|| ApiError::organization_not_found(id))
    }
}
