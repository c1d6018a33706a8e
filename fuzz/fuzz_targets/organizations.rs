#![no_main]
//! Organization responses.

use clickhouse_cloud_types::{Envelope, Organization};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_round_trip::<Envelope<Vec<Organization>>>(data);
    common::decode_round_trip::<Envelope<Organization>>(data);
});
