#![doc = include_str!("../README.md")]

#[macro_use]
#[allow(unused_macros)]
mod string_enum;

mod envelope;
mod extras;
mod generated;
mod nullable;
pub mod operation;
mod secret;
mod timestamp;
mod union;

pub use envelope::{Envelope, ErrorBody};
// Empty when no area is compiled in.
#[allow(unused_imports, unreachable_pub)]
pub use generated::types::*;
#[cfg(feature = "schema")]
pub use generated::visit_described_schemas;
pub use generated::{SECRET_FIELDS, SECRET_PROPERTIES, ops, visit_schemas};
pub use nullable::Nullable;
pub use operation::{Method, Operation, Request};
pub use secret::SecretValue;
pub use timestamp::Timestamp;
pub use union::{IntegerOrString, JsonScalar, NumberOrString};

/// What generated code uses: the union picker and its tables.
///
/// Not part of the stable API: it changes whenever the generator does, in
/// any release. Do not use it.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "schema")]
    pub use crate::union::schema;
    pub use crate::union::{Alt, JsonShape, JsonType, decode, pick};
}

/// A calendar date on the wire (`YYYY-MM-DD`).
pub type Date = chrono::NaiveDate;
