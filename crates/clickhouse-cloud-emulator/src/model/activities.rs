//! The activity log: one entry per change, attributed to the calling key.

use clickhouse_cloud_types::{Activity, ActorType};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::access::Context;

/// One organization's activities, oldest first.
#[derive(Serialize, Deserialize)]
pub(crate) struct Log {
    pub(crate) org: Uuid,
    pub(crate) next: u64,
    pub(crate) entries: Vec<Activity>,
}

impl Log {
    pub(crate) fn new(org: Uuid) -> Self {
        Self {
            org,
            next: 1,
            entries: Vec::new(),
        }
    }

    /// Appends `activity` (made with [`Context::activity`]), giving it an
    /// ID and the organization.
    pub(crate) fn record(&mut self, cx: &Context, mut activity: Activity) {
        activity.id = Some(format!("act_{}", self.next));
        self.next += 1;
        activity.created_at = Some(activity.created_at.unwrap_or(cx.now));
        activity.organization_id = Some(self.org.to_string());
        activity.actor_type = Some(ActorType::Api);
        self.entries.push(activity);
    }
}
