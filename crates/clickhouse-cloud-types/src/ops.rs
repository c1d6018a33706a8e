//! The operations this SDK covers, one type each, named after the spec's
//! `operationId`, plus the path and query parameter types they share.
//!
//! Every entry follows the same shape, so the rest of the API is added by
//! appending to `operations!` and [`visit_all`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::operation::{Method, Operation, OperationVisitor};
use crate::{
    Activity, ApiKey, ApiKeyPatchRequest, ApiKeyPostRequest, ApiKeyPostResponse, Organization,
    OrganizationPatchRequest, Timestamp,
};

/// Path of operations on one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "camelCase")]
pub struct OrganizationPath {
    /// The organization's UUID.
    #[cfg_attr(feature = "proptest", proptest(strategy = "crate::strategy::uuid()"))]
    pub organization_id: Uuid,
}

/// Path of operations on one API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyPath {
    /// The organization's UUID.
    #[cfg_attr(feature = "proptest", proptest(strategy = "crate::strategy::uuid()"))]
    pub organization_id: Uuid,
    /// The key's UUID (`ApiKey::id`, not the Basic auth key ID).
    #[cfg_attr(feature = "proptest", proptest(strategy = "crate::strategy::uuid()"))]
    pub key_id: Uuid,
}

/// Path of one activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "camelCase")]
pub struct ActivityPath {
    /// The organization's UUID.
    #[cfg_attr(feature = "proptest", proptest(strategy = "crate::strategy::uuid()"))]
    pub organization_id: Uuid,
    /// The activity's ID.
    pub activity_id: String,
}

/// Time window of an activity listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default)]
pub struct ActivityListQuery {
    /// Only activities at or after this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_timestamp()")
    )]
    pub from_date: Option<Timestamp>,
    /// Only activities at or before this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_timestamp()")
    )]
    pub to_date: Option<Timestamp>,
}

/// Declares operation types: `Name = "operationId": METHOD "template"`,
/// then the path, query, body and output types (`()` for none).
macro_rules! operations {
    ($(
        $(#[$meta:meta])*
        $name:ident = $id:literal: $method:ident $path:literal $(beta = $beta:literal)?
            => ($pty:ty, $qty:ty, $bty:ty) -> $oty:ty;
    )+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name;

            impl Operation for $name {
                const ID: &'static str = $id;
                const METHOD: Method = Method::$method;
                const PATH: &'static str = $path;
                const BETA: bool = false $(|| $beta)?;
                type Path = $pty;
                type Query = $qty;
                type Body = $bty;
                type Output = $oty;
            }
        )+

        /// Calls `visitor.visit::<O>()` for every declared operation.
        pub fn visit_all(visitor: &mut impl OperationVisitor) {
            $( visitor.visit::<$name>(); )+
        }

        /// The `operationId` of every declared operation.
        pub const ALL_IDS: &[&str] = &[$($id),+];
    };
}

operations! {
    /// List the organizations the key belongs to.
    OrganizationGetList = "organizationGetList": Get "/v1/organizations"
        => ((), (), ()) -> Vec<Organization>;
    /// Get one organization.
    OrganizationGet = "organizationGet": Get "/v1/organizations/{organizationId}"
        => (OrganizationPath, (), ()) -> Organization;
    /// Change an organization.
    OrganizationUpdate = "organizationUpdate": Patch "/v1/organizations/{organizationId}"
        => (OrganizationPath, (), OrganizationPatchRequest) -> Organization;
    /// List the organization's API keys.
    OpenapiKeyGetList = "openapiKeyGetList": Get "/v1/organizations/{organizationId}/keys"
        => (OrganizationPath, (), ()) -> Vec<ApiKey>;
    /// Create an API key.
    OpenapiKeyCreate = "openapiKeyCreate": Post "/v1/organizations/{organizationId}/keys"
        => (OrganizationPath, (), ApiKeyPostRequest) -> ApiKeyPostResponse;
    /// Get one API key.
    OpenapiKeyGet = "openapiKeyGet": Get "/v1/organizations/{organizationId}/keys/{keyId}"
        => (ApiKeyPath, (), ()) -> ApiKey;
    /// Change an API key.
    OpenapiKeyUpdate = "openapiKeyUpdate": Patch "/v1/organizations/{organizationId}/keys/{keyId}"
        => (ApiKeyPath, (), ApiKeyPatchRequest) -> ApiKey;
    /// Delete an API key, for good.
    OpenapiKeyDelete = "openapiKeyDelete": Delete "/v1/organizations/{organizationId}/keys/{keyId}"
        => (ApiKeyPath, (), ()) -> ();
    /// List the organization's activities.
    ActivityGetList = "activityGetList": Get "/v1/organizations/{organizationId}/activities"
        => (OrganizationPath, ActivityListQuery, ()) -> Vec<Activity>;
    /// Get one activity.
    ActivityGet = "activityGet": Get "/v1/organizations/{organizationId}/activities/{activityId}"
        => (ActivityPath, (), ()) -> Activity;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Request;

    #[test]
    fn every_operation_path_has_matching_parameters() {
        struct Check(Vec<String>);
        impl OperationVisitor for Check {
            fn visit<O: Operation>(&mut self) {
                let names: Vec<&str> = O::PATH
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                    .collect();
                self.0.push(format!("{} {:?}", O::ID, names));
            }
        }
        let mut check = Check(Vec::new());
        visit_all(&mut check);
        assert_eq!(check.0.len(), ALL_IDS.len());
    }

    #[test]
    fn activity_query_uses_snake_case_wire_names() {
        let when: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let request = Request::<ActivityGetList>::new(
            OrganizationPath {
                organization_id: Uuid::nil(),
            },
            (),
        )
        .with_query(ActivityListQuery {
            from_date: Some(when),
            to_date: None,
        });
        let encoded = request.encode().unwrap();
        assert_eq!(
            encoded.query,
            vec![("from_date".into(), "2026-01-01T00:00:00Z".into())]
        );
    }

    #[test]
    fn patch_body_is_encoded_and_delete_has_none() {
        let path = ApiKeyPath {
            organization_id: Uuid::nil(),
            key_id: Uuid::from_u128(1),
        };
        let patch = Request::<OpenapiKeyUpdate>::new(
            path,
            ApiKeyPatchRequest {
                expire_at: crate::Nullable::Null,
                ..Default::default()
            },
        )
        .encode()
        .unwrap();
        assert_eq!(patch.body.as_deref(), Some(&br#"{"expireAt":null}"#[..]));
        let delete = Request::<OpenapiKeyDelete>::new(path, ()).encode().unwrap();
        assert_eq!(delete.method, Method::Delete);
        assert_eq!(delete.body, None);
        assert!(
            delete
                .path
                .ends_with("/keys/00000000-0000-0000-0000-000000000001")
        );
    }
}
