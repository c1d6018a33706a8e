#![no_main]
//! Error responses: any status and any body must become a typed error.

use clickhouse_cloud_transport::{HttpResponse, StatusCode, check_status};
use clickhouse_cloud_types::ErrorBody;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_round_trip::<ErrorBody>(data);
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = StatusCode::from_u16(400 + u16::from(first) % 200).expect("400..=599 is valid");
    let response = HttpResponse {
        status,
        headers: Default::default(),
        body: body.to_vec().into(),
    };
    let error = check_status(response).expect_err("a 4xx/5xx is never a success");
    assert_eq!(error.status(), Some(status));
    let _ = error.to_string();
});
