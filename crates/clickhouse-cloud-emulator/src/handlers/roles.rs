//! The roles operations.

use crate::model::access::Access;
use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::roles::*;
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};
use clickhouse_cloud_types::ops::{
    OrganizationPath, OrganizationRoleDelete, OrganizationRoleGet, OrganizationRolePatch,
    OrganizationRolePost, OrganizationRolesGetList, RolePath,
};
use clickhouse_cloud_types::{ActivityType, RbacRole, RoleCreateRequest, RoleUpdateRequest};
use uuid::Uuid;

impl Handle for OrganizationRolesGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        _: (),
    ) -> Result<Answer<Vec<RbacRole>>, ApiError> {
        let org = world.org(cx.caller.org)?;
        Ok(org
            .roles
            .all()
            .iter()
            .filter_map(|role| org.roles.to_api(role.id, actors_of(org, role.id)))
            .collect::<Vec<_>>()
            .into())
    }
}

impl Handle for OrganizationRoleGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: RolePath,
        _: (),
        _: (),
    ) -> Result<Answer<RbacRole>, ApiError> {
        let org = world.org(cx.caller.org)?;
        org.roles
            .to_api(path.role_id, actors_of(org, path.role_id))
            .map(Answer::from)
            .ok_or_else(|| role_not_found(path.role_id))
    }
}

impl Handle for OrganizationRolePost {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        body: RoleCreateRequest,
    ) -> Result<Answer<RbacRole>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let name = check_name(body.name.as_deref())?;
        if org.roles.name_taken(&name, None) {
            return Err(ApiError::conflict(format_args!(
                "a role named {name:?} already exists"
            )));
        }
        let actors = body
            .actors
            .ok_or_else(|| ApiError::bad_request("actors is required"))?;
        let actors = check_actors(org, &actors)?;
        let id = Uuid::new_v4();
        let policies = body
            .policies
            .ok_or_else(|| ApiError::bad_request("policies is required"))?;
        let policies = check_policies(id, cx.caller.org, policies)?;
        org.roles.custom.push(CustomRole {
            id,
            name: name.clone(),
            policies,
            created_at: cx.now,
            updated_at: cx.now,
        });
        assign(org, id, &actors);
        org.activities.record(
            cx,
            role_activity(cx, ActivityType::RoleCreate, id, &name, &actors),
        );
        let role = org.roles.to_api(id, actors_of(org, id));
        role.map(Answer::from).ok_or_else(|| role_not_found(id))
    }
}

impl Handle for OrganizationRolePatch {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: RolePath,
        _: (),
        body: RoleUpdateRequest,
    ) -> Result<Answer<RbacRole>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let id = path.role_id;
        let view = org.roles.view(id).ok_or_else(|| role_not_found(id))?;
        if view.system {
            return Err(ApiError::bad_request(format_args!(
                "{} is a system role and cannot be changed",
                view.name
            )));
        }
        let name = match body.name.as_deref() {
            Some(name) => {
                let name = check_name(Some(name))?;
                if org.roles.name_taken(&name, Some(id)) {
                    return Err(ApiError::conflict(format_args!(
                        "a role named {name:?} already exists"
                    )));
                }
                name
            }
            None => view.name.clone(),
        };
        let actors = body
            .actors
            .as_deref()
            .map(|actors| check_actors(org, actors))
            .transpose()?;
        let policies = body
            .policies
            .map(|policies| check_policies(id, cx.caller.org, policies))
            .transpose()?;
        if let Some(role) = org.roles.custom.iter_mut().find(|role| role.id == id) {
            role.name = name.clone();
            if let Some(policies) = policies {
                role.policies = policies;
            }
            role.updated_at = cx.now;
        }
        if let Some(actors) = &actors {
            assign(org, id, actors);
        }
        let holders = actors.unwrap_or_default();
        org.activities.record(
            cx,
            role_activity(cx, ActivityType::RoleUpdate, id, &name, &holders),
        );
        let role = org.roles.to_api(id, actors_of(org, id));
        role.map(Answer::from).ok_or_else(|| role_not_found(id))
    }
}

impl Handle for OrganizationRoleDelete {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: RolePath,
        _: (),
        _: (),
    ) -> Result<Answer<()>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let id = path.role_id;
        let view = org.roles.view(id).ok_or_else(|| role_not_found(id))?;
        if view.system {
            return Err(ApiError::bad_request(format_args!(
                "{} is a system role and cannot be deleted",
                view.name
            )));
        }
        assign(org, id, &[]);
        org.roles.custom.retain(|role| role.id != id);
        org.activities.record(
            cx,
            role_activity(cx, ActivityType::RoleDelete, id, &view.name, &[]),
        );
        Ok(().into())
    }
}
