//! The organizations operations.

use crate::model::access::Access;
use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::paging;
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};
use clickhouse_cloud_types::ops::{
    OrganizationGet, OrganizationGetList, OrganizationGetListQuery, OrganizationPath,
    OrganizationUpdate,
};
use clickhouse_cloud_types::{
    ActivityType, Organization, OrganizationPatchRequest, OrganizationPrivateEndpoint,
};

impl Handle for OrganizationGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: (),
        query: OrganizationGetListQuery,
        _: (),
    ) -> Result<Answer<Vec<Organization>>, ApiError> {
        let org = world.org(cx.caller.org)?;
        let (orgs, page) = paging::page(
            vec![org.profile.info.clone()],
            |org| org.id.map(|id| id.to_string()).unwrap_or_default(),
            query.limit,
            query.cursor.as_deref(),
        )?;
        Ok(Answer {
            result: orgs,
            page: Some(page),
        })
    }
}

impl Handle for OrganizationGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        _: (),
    ) -> Result<Answer<Organization>, ApiError> {
        Ok(world.org(cx.caller.org)?.profile.info.clone().into())
    }
}

impl Handle for OrganizationUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        body: OrganizationPatchRequest,
    ) -> Result<Answer<Organization>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let old = org.profile.info.clone();
        let mut info = old.clone();
        if let Some(name) = body.name.as_deref() {
            if name.trim().is_empty() {
                return Err(ApiError::bad_request("name must not be blank"));
            }
            info.name = Some(name.to_owned());
        }
        if let Some(flag) = body.enable_core_dumps {
            info.enable_core_dumps = Some(flag);
        }
        if let Some(patch) = body.private_endpoints {
            let mut list = info.private_endpoints.take().unwrap_or_default();
            for removed in patch.remove.unwrap_or_default() {
                let id = removed.id.ok_or_else(|| {
                    ApiError::bad_request("privateEndpoints.remove: every entry needs an id")
                })?;
                list.retain(|endpoint| endpoint.id.as_deref() != Some(id.as_str()));
            }
            for added in patch.add.unwrap_or_default() {
                let id = added.id.ok_or_else(|| {
                    ApiError::bad_request("privateEndpoints.add: every entry needs an id")
                })?;
                list.retain(|endpoint| endpoint.id.as_deref() != Some(id.as_str()));
                list.push(OrganizationPrivateEndpoint {
                    id: Some(id),
                    description: added.description,
                    cloud_provider: added.cloud_provider,
                    region: added.region,
                });
            }
            info.private_endpoints = Some(list);
        }
        org.profile.info = info.clone();
        let changes = [
            (info.name != old.name, ActivityType::OrganizationUpdateName),
            (
                info.enable_core_dumps != old.enable_core_dumps,
                ActivityType::OrganizationUpdateCoreDumps,
            ),
            (
                info.private_endpoints != old.private_endpoints,
                ActivityType::OrganizationUpdatePrivateEndpoints,
            ),
        ];
        for (changed, kind) in changes {
            if changed {
                org.activities.record(cx, cx.activity(kind));
            }
        }
        Ok(info.into())
    }
}
