//! Invitations: create, list, get, delete. Nobody accepts them here.

use clickhouse_cloud_types::{Activity, ActivityType, Invitation, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::members::legacy_member_role;
use crate::model::roles::Roles;

/// How long an invitation stays open.
pub(crate) const VALID_FOR_DAYS: i64 = 30;

/// A pending invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InvitationRecord {
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) roles: Vec<Uuid>,
    pub(crate) created_at: Timestamp,
    pub(crate) expire_at: Timestamp,
}

impl InvitationRecord {
    pub(crate) fn to_api(&self, roles: &Roles) -> Invitation {
        Invitation {
            id: Some(self.id),
            email: Some(self.email.clone()),
            role: Some(legacy_member_role(&self.roles)),
            assigned_roles: Some(roles.assigned(&self.roles)),
            created_at: Some(self.created_at),
            expire_at: Some(self.expire_at),
        }
    }
}

/// One organization's invitations, oldest first.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Invitations {
    pub(crate) list: Vec<InvitationRecord>,
}

pub(crate) fn invitation_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format_args!("invitation {id} not found"))
}

pub(crate) fn invitation_activity(
    cx: &Context,
    kind: ActivityType,
    invitation: &InvitationRecord,
) -> Activity {
    Activity {
        target_resource_ids: Some(vec![invitation.id.to_string()]),
        target_role_ids: Some(invitation.roles.iter().map(Uuid::to_string).collect()),
        ..cx.activity(kind)
    }
}
