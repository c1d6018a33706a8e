#![no_main]
//! API-key responses: lists, single keys, create responses.

use clickhouse_cloud_types::{ApiKey, ApiKeyPostResponse, Envelope};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_round_trip::<Envelope<Vec<ApiKey>>>(data);
    common::decode_round_trip::<Envelope<ApiKey>>(data);
    common::decode_round_trip::<Envelope<ApiKeyPostResponse>>(data);
});
