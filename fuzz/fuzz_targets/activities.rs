#![no_main]
//! Activity responses.

use clickhouse_cloud_types::{Activity, Envelope};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_round_trip::<Envelope<Vec<Activity>>>(data);
    common::decode_round_trip::<Envelope<Activity>>(data);
});
