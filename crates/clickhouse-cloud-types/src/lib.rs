#![doc = include_str!("../README.md")]

#[macro_use]
mod string_enum;

mod envelope;
mod extras;
mod generated;
mod nullable;
pub mod operation;
mod secret;
mod timestamp;
pub mod union;

pub use envelope::{Envelope, ErrorBody};
pub use generated::types::*;
pub use generated::{SECRET_FIELDS, SECRET_PROPERTIES, ops, visit_schemas};
pub use nullable::Nullable;
pub use operation::{Method, Operation, Request};
pub use secret::SecretValue;
pub use timestamp::Timestamp;
pub use union::{IntegerOrString, NumberOrString};

/// A calendar date on the wire (`YYYY-MM-DD`).
pub type Date = chrono::NaiveDate;
