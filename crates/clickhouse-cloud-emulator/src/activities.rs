//! The activity log: one entry per change, attributed to the calling key.

use clickhouse_cloud_types::ops::{
    ActivityGet, ActivityGetList, ActivityListQuery, ActivityPath, OrganizationPath,
};
use clickhouse_cloud_types::{Activity, ActorType};
use uuid::Uuid;

use crate::error::ApiError;
use crate::pipeline::{Answer, Context, Handle};
use crate::roles::Access;
use crate::world::World;

/// One organization's activities, oldest first.
pub(crate) struct Log {
    org: Uuid,
    next: u64,
    entries: Vec<Activity>,
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

impl Handle for ActivityGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        query: ActivityListQuery,
        _: (),
    ) -> Result<Answer<Vec<Activity>>, ApiError> {
        if let (Some(from), Some(to)) = (query.from_date, query.to_date) {
            if from > to {
                return Err(ApiError::bad_request("from_date must not be after to_date"));
            }
        }
        let within = |activity: &&Activity| {
            let at = activity.created_at;
            query
                .from_date
                .is_none_or(|from| at.is_some_and(|at| at >= from))
                && query.to_date.is_none_or(|to| at.is_some_and(|at| at <= to))
        };
        Ok(world
            .org(cx.caller.org)?
            .activities
            .entries
            .iter()
            .filter(within)
            .cloned()
            .collect::<Vec<_>>()
            .into())
    }
}

impl Handle for ActivityGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ActivityPath,
        _: (),
        _: (),
    ) -> Result<Answer<Activity>, ApiError> {
        world
            .org(cx.caller.org)?
            .activities
            .entries
            .iter()
            .find(|activity| activity.id.as_deref() == Some(path.activity_id.as_str()))
            .cloned()
            .map(Answer::from)
            .ok_or_else(|| {
                ApiError::not_found(format_args!("activity {} not found", path.activity_id))
            })
    }
}
