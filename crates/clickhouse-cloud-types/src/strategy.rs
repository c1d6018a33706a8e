//! proptest strategies for the foreign types inside wire types (UUIDs and
//! timestamps), used by the derived `Arbitrary` impls.

use proptest::prelude::*;
use uuid::Uuid;

use crate::{Nullable, Timestamp};

/// Any UUID.
pub fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

/// An optional UUID.
pub fn opt_uuid() -> impl Strategy<Value = Option<Uuid>> {
    proptest::option::of(uuid())
}

/// An optional list of UUIDs.
pub fn opt_uuids() -> impl Strategy<Value = Option<Vec<Uuid>>> {
    proptest::option::of(proptest::collection::vec(uuid(), 0..4))
}

/// A UTC timestamp between 1970 and 2100, with sub-second precision.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| chrono::DateTime::from_timestamp(secs, nanos).unwrap_or_default())
}

/// An optional timestamp.
pub fn opt_timestamp() -> impl Strategy<Value = Option<Timestamp>> {
    proptest::option::of(timestamp())
}

/// A timestamp that may be absent, `null` or set.
pub fn nullable_timestamp() -> impl Strategy<Value = Nullable<Timestamp>> {
    prop_oneof![
        Just(Nullable::Absent),
        Just(Nullable::Null),
        timestamp().prop_map(Nullable::Value),
    ]
}
