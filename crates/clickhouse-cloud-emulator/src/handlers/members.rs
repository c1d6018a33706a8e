//! The members operations.

use crate::model::access::Access;
use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::members::*;
use crate::model::roles::ADMIN_ROLE_ID;
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};
use clickhouse_cloud_types::ops::{
    MemberDelete, MemberGet, MemberGetList, MemberPath, MemberUpdate, OrganizationPath,
};
use clickhouse_cloud_types::{Activity, ActivityType, Member, MemberPatchRequest};
use uuid::Uuid;

impl Handle for MemberGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        _: (),
    ) -> Result<Answer<Vec<Member>>, ApiError> {
        let org = world.org(cx.caller.org)?;
        Ok(org
            .members
            .iter()
            .map(|member| member.to_api(&org.roles))
            .collect::<Vec<_>>()
            .into())
    }
}

impl Handle for MemberGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: MemberPath,
        _: (),
        _: (),
    ) -> Result<Answer<Member>, ApiError> {
        let org = world.org(cx.caller.org)?;
        org.members
            .get(path.user_id)
            .map(|member| member.to_api(&org.roles).into())
            .ok_or_else(|| member_not_found(path.user_id))
    }
}

impl Handle for MemberUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: MemberPath,
        _: (),
        body: MemberPatchRequest,
    ) -> Result<Answer<Member>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let id = path.user_id;
        let current = org
            .members
            .get(id)
            .cloned()
            .ok_or_else(|| member_not_found(id))?;
        let Some(roles) = requested_roles(
            &org.roles,
            body.role.as_ref(),
            body.assigned_role_ids.as_deref(),
        )?
        else {
            return Ok(current.to_api(&org.roles).into());
        };
        if roles.is_empty() {
            return Err(ApiError::bad_request("at least one role is required"));
        }
        if !roles.contains(&ADMIN_ROLE_ID) && org.members.admins_other_than(id) == 0 {
            return Err(ApiError::conflict(
                "the organization's last Admin cannot lose the Admin role",
            ));
        }
        let kind = if body.assigned_role_ids.is_some() {
            ActivityType::OrganizationMemberUpdateRoles
        } else {
            ActivityType::OrganizationMemberUpdateRole
        };
        let names = org.roles.names(&roles);
        let role_ids = roles.iter().map(Uuid::to_string).collect();
        let mut updated = current;
        updated.roles = roles;
        if let Some(member) = org.members.iter_mut().find(|member| member.user_id == id) {
            *member = updated.clone();
        }
        org.activities.record(
            cx,
            Activity {
                target_actor_ids: Some(vec![format!("user/{id}")]),
                target_role_ids: Some(role_ids),
                target_role_names: Some(names),
                ..cx.activity(kind)
            },
        );
        Ok(updated.to_api(&org.roles).into())
    }
}

impl Handle for MemberDelete {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: MemberPath,
        _: (),
        _: (),
    ) -> Result<Answer<()>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let id = path.user_id;
        let member = org.members.get(id).ok_or_else(|| member_not_found(id))?;
        if member.roles.contains(&ADMIN_ROLE_ID) && org.members.admins_other_than(id) == 0 {
            return Err(ApiError::conflict(
                "the organization's last Admin cannot be removed",
            ));
        }
        org.members.list.retain(|member| member.user_id != id);
        org.activities.record(
            cx,
            Activity {
                target_actor_ids: Some(vec![format!("user/{id}")]),
                ..cx.activity(ActivityType::OrganizationMemberDelete)
            },
        );
        Ok(().into())
    }
}
