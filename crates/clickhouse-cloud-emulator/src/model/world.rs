//! Everything the emulator holds: its clock, its settings, and one
//! [`Org`] per organization, each made of the resource modules' own state.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::activities::Log;
use crate::model::clock::Clock;
use crate::model::error::ApiError;
use crate::model::gate::Gate;
use crate::model::invitations::Invitations;
use crate::model::keys::Keys;
use crate::model::members::Members;
use crate::model::organizations::Profile;
use crate::model::roles::Roles;
use crate::model::services::Services;
use crate::model::store::Store;
use crate::model::udfs::Uploads;
use std::time::Duration;

/// A per-key fixed-window rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one window.
    pub requests: u32,
    /// Length of the window.
    pub window: Duration,
}

impl Default for RateLimit {
    /// The published limit: 10 requests per 10 seconds.
    fn default() -> Self {
        Self {
            requests: 10,
            window: Duration::from_secs(10),
        }
    }
}

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
    /// The address the emulator listens on, once bound: where URLs that
    /// point back at it go when a request does not say how it reached it.
    pub(crate) address: Option<SocketAddr>,
}

/// One organization: each field belongs to the module of that resource.
/// It is what a state file holds, one per organization.
#[derive(Serialize, Deserialize)]
pub(crate) struct Org {
    pub(crate) profile: Profile,
    pub(crate) keys: Keys,
    pub(crate) roles: Roles,
    pub(crate) members: Members,
    pub(crate) invitations: Invitations,
    pub(crate) services: Services,
    pub(crate) activities: Log,
    /// Everything kept by the generic store.
    pub(crate) store: Store,
    /// UDF upload sessions and what was put to their URLs.
    #[serde(default)]
    pub(crate) uploads: Uploads,
    /// The key whose ID and secret are given (or generated) at each start.
    #[serde(default)]
    pub(crate) bootstrap_key: Option<Uuid>,
}

impl World {
    pub(crate) fn new(settings: Settings, speed: f64) -> Self {
        Self {
            clock: Clock::new(speed),
            gate: Gate::new(settings.rate_limit),
            settings,
            orgs: HashMap::new(),
            address: None,
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
