#![doc = include_str!("../README.md")]
// A build with only some areas leaves shared helpers (waits, the role
// cache, response mapping) unused; the full build, which CI lints with
// `-D warnings`, keeps these lints strict.
#![cfg_attr(
    not(all(
        feature = "organization",
        feature = "billing",
        feature = "members",
        feature = "api-keys",
        feature = "notifications",
        feature = "postgres",
        feature = "prometheus",
        feature = "roles",
        feature = "services",
        feature = "backups",
        feature = "clickpipes",
        feature = "clickstack",
        feature = "query-api-endpoints",
        feature = "saved-queries",
        feature = "snapshots",
        feature = "udfs"
    )),
    allow(dead_code, unused_imports)
)]

// Each area's hand-written conveniences are compiled with its feature, like
// its generated handle.
#[cfg(feature = "api-keys")]
mod api_keys;
mod client;
mod error;
mod generated;
mod pages;
#[cfg(feature = "organization")]
mod resources;
#[cfg(feature = "roles")]
mod roles;
#[cfg(feature = "services")]
mod services;
#[cfg(feature = "udfs")]
mod udfs;
mod wait;
#[cfg(any(feature = "clickpipes", feature = "postgres", feature = "udfs"))]
mod waiters;

#[cfg(feature = "api-keys")]
pub use api_keys::{CreatedKey, KeyUpdate, NewApiKey};
pub use client::{Client, ClientBuilder, Response};
pub use error::Error;
pub use generated::*;
pub use pages::{DEFAULT_PAGE_SIZE, Items};
#[cfg(feature = "organization")]
pub use resources::{Activities, Organizations};
#[cfg(feature = "roles")]
pub use roles::RoleTable;
#[cfg(feature = "services")]
pub use services::{SERVICE_CREATE_BUDGET, SERVICE_DELETE_BUDGET, SERVICE_STATE_BUDGET};
#[cfg(feature = "udfs")]
pub use udfs::UDF_ARCHIVE_CONTENT_TYPE;
pub use wait::{Progress, Wait};
#[cfg(feature = "clickpipes")]
pub use waiters::CLICKPIPE_BUDGET;
#[cfg(feature = "postgres")]
pub use waiters::{POSTGRES_BUDGET, POSTGRES_RESTORE_BUDGET};
#[cfg(feature = "udfs")]
pub use waiters::{UDF_ATTACHMENT_BUDGET, UDF_BUILD_BUDGET};

/// The crates this one is built on, re-exported so one dependency is enough.
pub use clickhouse_cloud_auth as auth;
pub use clickhouse_cloud_transport as transport;
pub use clickhouse_cloud_types as types;

pub use clickhouse_cloud_auth::{Credentials, KeyId, KeySecret, Role};
pub use clickhouse_cloud_transport::ApiError;
/// The stream trait [`Items`] implements (use `futures_util::StreamExt` or
/// `TryStreamExt` to drive it).
pub use futures_core::Stream;
