//! The organization itself: list (one per key), get, update.

use clickhouse_cloud_types::{Organization, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the organization says about itself.
#[derive(Serialize, Deserialize)]
pub(crate) struct Profile {
    pub(crate) info: Organization,
}

impl Profile {
    pub(crate) fn new(id: Uuid, name: String, now: Timestamp) -> Self {
        Self {
            info: Organization {
                id: Some(id),
                created_at: Some(now),
                name: Some(name),
                private_endpoints: Some(Vec::new()),
                byoc_config: Some(Vec::new()),
                enable_core_dumps: Some(false),
                capabilities: None,
            },
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.info.name.as_deref().unwrap_or_default()
    }
}
