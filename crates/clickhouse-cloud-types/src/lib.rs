#![doc = include_str!("../README.md")]

#[macro_use]
mod string_enum;

mod activity;
mod api_key;
mod envelope;
mod nullable;
pub mod operation;
pub mod ops;
mod organization;
mod secret;
#[cfg(feature = "proptest")]
pub mod strategy;
mod timestamp;

pub use activity::{Activity, ActivityType, ActorType, KeyUpdateType};
pub use api_key::{
    ApiKey, ApiKeyHashData, ApiKeyPatchRequest, ApiKeyPostRequest, ApiKeyPostResponse, ApiKeyState,
    AssignedRole, IpAccessListEntry, LegacyRole, RoleType,
};
pub use envelope::{Envelope, ErrorBody};
pub use nullable::Nullable;
pub use operation::{Method, Operation, Request};
pub use organization::{
    ByocConfig, ByocState, CloudProvider, Organization, OrganizationPatchPrivateEndpoint,
    OrganizationPatchRequest, OrganizationPrivateEndpoint, OrganizationPrivateEndpointsPatch,
    Region,
};
pub use secret::SecretValue;

/// Timestamps on the wire: RFC 3339 in UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
