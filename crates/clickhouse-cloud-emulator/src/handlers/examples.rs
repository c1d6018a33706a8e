//! Answers for the operations the emulator does not model: the spec's own
//! example of a successful response (`generated/examples.json`, written by
//! `cargo xtask codegen`), marked `x-emulator-example: true`.
//!
//! The request still goes through the whole pipeline first: the key, its
//! rate limit and roles, the organization, a typed path and body, and, for
//! operations under a service, the service itself (it must exist, and be
//! running for those that need it).

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use clickhouse_cloud_types::Operation;
use clickhouse_cloud_types::operation::match_path;
use serde_json::Value;
use uuid::Uuid;

use crate::model::catalogue::{Example, examples};
use crate::model::error::ApiError;
use crate::model::services::check_service;
use crate::model::world::World;
use crate::pipeline::{
    access_of, admit, decode_body, decode_params, error_response, set_rate_headers,
};

/// The header that marks an answer made of example data.
pub const EXAMPLE_HEADER: &str = "x-emulator-example";

/// Serves operation `O` from its example.
pub(crate) fn serve<O: Operation>(
    world: &mut World,
    parts: &Parts,
    body: &Bytes,
    request_id: Uuid,
) -> Response {
    let mut rate = None;
    let outcome = (|| {
        let cx = admit(
            world,
            parts,
            O::PATH,
            O::ID,
            access_of(O::METHOD),
            &mut rate,
        )?;
        let _: O::Path = decode_params(O::PATH, parts.uri.path())?;
        let _: O::Body = decode_body(body)?;
        let params = match_path(O::PATH, parts.uri.path()).unwrap_or_default();
        if let Some(id) = params.get("serviceId").and_then(Value::as_str) {
            let id = Uuid::parse_str(id).map_err(|_| {
                ApiError::bad_request(format_args!("serviceId is not a valid UUID: {id:?}"))
            })?;
            check_service(world, &cx, id, O::ID)?;
        }
        examples()
            .get(O::ID)
            .ok_or_else(|| ApiError::internal(format_args!("no example answer for {}", O::ID)))
    })();
    let mut response = match outcome {
        Ok(example) => answer(example, request_id),
        Err(error) => return error_response(request_id, &error, rate),
    };
    set_rate_headers(&mut response, rate);
    response
}

/// The example, with this request's ID where the body has one.
fn answer(example: &Example, request_id: Uuid) -> Response {
    let status = StatusCode::from_u16(example.status).unwrap_or(StatusCode::OK);
    let bytes = match &example.body {
        Value::String(text) => text.clone().into_bytes(),
        Value::Object(map) => {
            let mut map = map.clone();
            if map.contains_key("requestId") {
                map.insert("requestId".into(), Value::String(request_id.to_string()));
            }
            serde_json::to_vec(&map).unwrap_or_default()
        }
        other => serde_json::to_vec(other).unwrap_or_default(),
    };
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&example.content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(
        HeaderName::from_static(EXAMPLE_HEADER),
        HeaderValue::from_static("true"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_an_example() {
        struct Check(Vec<&'static str>);
        impl clickhouse_cloud_types::operation::OperationVisitor for Check {
            fn visit<O: Operation>(&mut self) {
                if !examples().contains_key(O::ID) {
                    self.0.push(O::ID);
                }
            }
        }
        let mut missing = Check(Vec::new());
        clickhouse_cloud_types::ops::visit_all(&mut missing);
        assert!(missing.0.is_empty(), "no example for {:?}", missing.0);
    }
}
