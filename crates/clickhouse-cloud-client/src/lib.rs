#![doc = include_str!("../README.md")]

mod api_keys;
mod client;
mod error;
mod generated;
mod pages;
mod resources;
mod roles;
mod services;
mod wait;
mod waiters;

pub use api_keys::{CreatedKey, KeyUpdate, NewApiKey};
pub use client::{Client, ClientBuilder, Response};
pub use error::Error;
pub use generated::*;
pub use pages::{DEFAULT_PAGE_SIZE, Items};
pub use resources::{Activities, Organizations};
pub use roles::RoleTable;
pub use services::{SERVICE_CREATE_BUDGET, SERVICE_DELETE_BUDGET, SERVICE_STATE_BUDGET};
pub use wait::{Progress, Wait};
pub use waiters::{
    CLICKPIPE_BUDGET, POSTGRES_BUDGET, POSTGRES_RESTORE_BUDGET, UDF_ATTACHMENT_BUDGET,
};

/// The crates this one is built on, re-exported so one dependency is enough.
pub use clickhouse_cloud_auth as auth;
pub use clickhouse_cloud_transport as transport;
pub use clickhouse_cloud_types as types;

pub use clickhouse_cloud_auth::{Credentials, KeyId, KeySecret, Role};
pub use clickhouse_cloud_transport::ApiError;
/// The stream trait [`Items`] implements (use `futures_util::StreamExt` or
/// `TryStreamExt` to drive it).
pub use futures_core::Stream;
