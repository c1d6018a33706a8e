//! The activities operations.

use crate::model::access::Access;
use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};
use clickhouse_cloud_types::Activity;
use clickhouse_cloud_types::ops::{
    ActivityGet, ActivityGetList, ActivityListQuery, ActivityPath, OrganizationPath,
};

impl Handle for ActivityGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        query: ActivityListQuery,
        _: (),
    ) -> Result<Answer<Vec<Activity>>, ApiError> {
        if let (Some(from), Some(to)) = (query.from_date, query.to_date)
            && from > to
        {
            return Err(ApiError::bad_request("from_date must not be after to_date"));
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
