//! The organization's audit log.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

string_enum! {
    /// What an activity records.
    pub enum ActivityType {
        /// `create_organization`.
        CreateOrganization = "create_organization",
        /// `organization_update_name`.
        OrganizationUpdateName = "organization_update_name",
        /// `transfer_service_in`.
        TransferServiceIn = "transfer_service_in",
        /// `transfer_service_out`.
        TransferServiceOut = "transfer_service_out",
        /// `save_payment_method`.
        SavePaymentMethod = "save_payment_method",
        /// `marketplace_subscription`.
        MarketplaceSubscription = "marketplace_subscription",
        /// `migrate_marketplace_billing_details_in`.
        MigrateMarketplaceBillingDetailsIn = "migrate_marketplace_billing_details_in",
        /// `migrate_marketplace_billing_details_out`.
        MigrateMarketplaceBillingDetailsOut = "migrate_marketplace_billing_details_out",
        /// `organization_update_tier`.
        OrganizationUpdateTier = "organization_update_tier",
        /// `organization_invite_create`.
        OrganizationInviteCreate = "organization_invite_create",
        /// `organization_invite_delete`.
        OrganizationInviteDelete = "organization_invite_delete",
        /// `organization_member_join`.
        OrganizationMemberJoin = "organization_member_join",
        /// `organization_member_add`.
        OrganizationMemberAdd = "organization_member_add",
        /// `organization_member_leave`.
        OrganizationMemberLeave = "organization_member_leave",
        /// `organization_member_delete`.
        OrganizationMemberDelete = "organization_member_delete",
        /// `organization_member_update_role`.
        OrganizationMemberUpdateRole = "organization_member_update_role",
        /// `organization_member_update_roles`.
        OrganizationMemberUpdateRoles = "organization_member_update_roles",
        /// `organization_member_update_mfa_method`.
        OrganizationMemberUpdateMfaMethod = "organization_member_update_mfa_method",
        /// `organization_saml_connection_create`.
        OrganizationSamlConnectionCreate = "organization_saml_connection_create",
        /// `organization_saml_connection_update`.
        OrganizationSamlConnectionUpdate = "organization_saml_connection_update",
        /// `user_login`.
        UserLogin = "user_login",
        /// `user_login_failed`.
        UserLoginFailed = "user_login_failed",
        /// `user_logout`.
        UserLogout = "user_logout",
        /// `key_create`.
        KeyCreate = "key_create",
        /// `key_delete`.
        KeyDelete = "key_delete",
        /// `openapi_key_update`.
        OpenapiKeyUpdate = "openapi_key_update",
        /// `service_create`.
        ServiceCreate = "service_create",
        /// `service_start`.
        ServiceStart = "service_start",
        /// `service_stop`.
        ServiceStop = "service_stop",
        /// `service_awaken`.
        ServiceAwaken = "service_awaken",
        /// `service_idle`.
        ServiceIdle = "service_idle",
        /// `service_running`.
        ServiceRunning = "service_running",
        /// `service_partially_running`.
        ServicePartiallyRunning = "service_partially_running",
        /// `service_delete`.
        ServiceDelete = "service_delete",
        /// `service_update_name`.
        ServiceUpdateName = "service_update_name",
        /// `service_update_ip_access_list`.
        ServiceUpdateIpAccessList = "service_update_ip_access_list",
        /// `service_update_autoscaling_memory`.
        ServiceUpdateAutoscalingMemory = "service_update_autoscaling_memory",
        /// `service_update_autoscaling_idling`.
        ServiceUpdateAutoscalingIdling = "service_update_autoscaling_idling",
        /// `service_update_password`.
        ServiceUpdatePassword = "service_update_password",
        /// `service_update_autoscaling_replicas`.
        ServiceUpdateAutoscalingReplicas = "service_update_autoscaling_replicas",
        /// `service_update_max_allowable_replicas`.
        ServiceUpdateMaxAllowableReplicas = "service_update_max_allowable_replicas",
        /// `service_update_backup_configuration`.
        ServiceUpdateBackupConfiguration = "service_update_backup_configuration",
        /// `service_update_snapshot_configuration`.
        ServiceUpdateSnapshotConfiguration = "service_update_snapshot_configuration",
        /// `service_restore_backup`.
        ServiceRestoreBackup = "service_restore_backup",
        /// `service_update_release_channel`.
        ServiceUpdateReleaseChannel = "service_update_release_channel",
        /// `service_update_gpt_usage_consent`.
        ServiceUpdateGptUsageConsent = "service_update_gpt_usage_consent",
        /// `service_update_private_endpoints`.
        ServiceUpdatePrivateEndpoints = "service_update_private_endpoints",
        /// `service_import_to_organization`.
        ServiceImportToOrganization = "service_import_to_organization",
        /// `service_export_from_organization`.
        ServiceExportFromOrganization = "service_export_from_organization",
        /// `service_maintenance_start`.
        ServiceMaintenanceStart = "service_maintenance_start",
        /// `service_maintenance_end`.
        ServiceMaintenanceEnd = "service_maintenance_end",
        /// `service_update_core_dump`.
        ServiceUpdateCoreDump = "service_update_core_dump",
        /// `backup_delete`.
        BackupDelete = "backup_delete",
    }
}
string_enum! {
    /// Who performed an activity.
    pub enum ActorType {
        /// `user`.
        User = "user",
        /// `support`.
        Support = "support",
        /// `system`.
        System = "system",
        /// `api`.
        Api = "api",
    }
}
string_enum! {
    /// What changed in an `openapi_key_update` activity.
    pub enum KeyUpdateType {
        /// `created`.
        Created = "created",
        /// `deleted`.
        Deleted = "deleted",
        /// `name-changed`.
        NameChanged = "name-changed",
        /// `role-changed`.
        RoleChanged = "role-changed",
        /// `state-changed`.
        StateChanged = "state-changed",
        /// `date-changed`.
        DateChanged = "date-changed",
        /// `ip-access-list-changed`.
        IpAccessListChanged = "ip-access-list-changed",
        /// `org-role-changed`.
        OrgRoleChanged = "org-role-changed",
        /// `default-service-role-changed`.
        DefaultServiceRoleChanged = "default-service-role-changed",
        /// `service-role-changed`.
        ServiceRoleChanged = "service-role-changed",
        /// `roles-v2-changed`.
        RolesV2Changed = "roles-v2-changed",
    }
}

/// One entry of the audit log: key creation, deletion and updates appear here
/// with the acting key's ID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct Activity {
    /// The activity's ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When it happened.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::timestamp::option"
    )]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_timestamp()")
    )]
    pub created_at: Option<Timestamp>,
    /// What happened.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ActivityType>,
    /// Kind of actor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_type: Option<ActorType>,
    /// The actor's ID (for an API actor, the key ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// More about the actor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_details: Option<String>,
    /// The actor's IP address, for users and API keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_ip_address: Option<String>,
    /// Organization in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Service in scope, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// The actor's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// For key updates: the key that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_key_id: Option<String>,
    /// For key updates: what changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_update_type: Option<KeyUpdateType>,
}
