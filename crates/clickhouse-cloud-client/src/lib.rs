#![doc = include_str!("../README.md")]

mod api_keys;
mod client;
mod error;
mod resources;

pub use api_keys::{ApiKeys, CreatedKey, KeyUpdate, NewApiKey};
pub use client::{Client, ClientBuilder, Response};
pub use error::Error;
pub use resources::{Activities, Organizations};

/// The crates this one is built on, re-exported so one dependency is enough.
pub use clickhouse_cloud_auth as auth;
pub use clickhouse_cloud_transport as transport;
pub use clickhouse_cloud_types as types;

pub use clickhouse_cloud_auth::{Credentials, KeyId, KeySecret, Role};
pub use clickhouse_cloud_transport::ApiError;
