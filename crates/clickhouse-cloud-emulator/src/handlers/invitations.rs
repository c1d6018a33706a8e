//! The invitations operations.

use crate::model::access::Access;
use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::invitations::*;
use crate::model::members::{plausible_email, requested_roles};
use crate::model::roles::DEVELOPER_ROLE_ID;
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};
use chrono::TimeDelta;
use clickhouse_cloud_types::ops::{
    InvitationCreate, InvitationDelete, InvitationGet, InvitationGetList, InvitationPath,
    OrganizationPath,
};
use clickhouse_cloud_types::{ActivityType, Invitation, InvitationPostRequest};
use uuid::Uuid;

impl Handle for InvitationGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        _: (),
    ) -> Result<Answer<Vec<Invitation>>, ApiError> {
        let org = world.org(cx.caller.org)?;
        Ok(org
            .invitations
            .list
            .iter()
            .map(|invitation| invitation.to_api(&org.roles))
            .collect::<Vec<_>>()
            .into())
    }
}

impl Handle for InvitationGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: InvitationPath,
        _: (),
        _: (),
    ) -> Result<Answer<Invitation>, ApiError> {
        let org = world.org(cx.caller.org)?;
        org.invitations
            .list
            .iter()
            .find(|invitation| invitation.id == path.invitation_id)
            .map(|invitation| invitation.to_api(&org.roles).into())
            .ok_or_else(|| invitation_not_found(path.invitation_id))
    }
}

impl Handle for InvitationCreate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        body: InvitationPostRequest,
    ) -> Result<Answer<Invitation>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let email = body
            .email
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("email is required"))?
            .trim()
            .to_lowercase();
        if !plausible_email(&email) {
            return Err(ApiError::bad_request(format_args!(
                "email: {email:?} is not an e-mail address"
            )));
        }
        let roles = requested_roles(
            &org.roles,
            body.role.as_ref(),
            body.assigned_role_ids.as_deref(),
        )?
        .filter(|roles| !roles.is_empty())
        .unwrap_or_else(|| vec![DEVELOPER_ROLE_ID]);
        if org.members.has_email(&email) {
            return Err(ApiError::conflict(format_args!(
                "{email} is already a member"
            )));
        }
        if org.invitations.list.iter().any(|open| open.email == email) {
            return Err(ApiError::conflict(format_args!(
                "{email} already has an open invitation"
            )));
        }
        let invitation = InvitationRecord {
            id: Uuid::new_v4(),
            email,
            roles,
            created_at: cx.now,
            expire_at: cx.now + TimeDelta::days(VALID_FOR_DAYS),
        };
        org.activities.record(
            cx,
            invitation_activity(cx, ActivityType::OrganizationInviteCreate, &invitation),
        );
        let answer = invitation.to_api(&org.roles);
        org.invitations.list.push(invitation);
        Ok(answer.into())
    }
}

impl Handle for InvitationDelete {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: InvitationPath,
        _: (),
        _: (),
    ) -> Result<Answer<()>, ApiError> {
        let org = world.org_mut(cx.caller.org)?;
        let index = org
            .invitations
            .list
            .iter()
            .position(|invitation| invitation.id == path.invitation_id)
            .ok_or_else(|| invitation_not_found(path.invitation_id))?;
        let invitation = org.invitations.list.remove(index);
        org.activities.record(
            cx,
            invitation_activity(cx, ActivityType::OrganizationInviteDelete, &invitation),
        );
        Ok(().into())
    }
}
