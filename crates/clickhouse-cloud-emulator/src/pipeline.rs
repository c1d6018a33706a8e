//! The request pipeline every route shares: authenticate, rate-limit, check
//! the peer, the path and the roles, decode, run, and answer in the JSON
//! envelope.

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, RETRY_AFTER, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use clickhouse_cloud_types::operation::match_path;
use clickhouse_cloud_types::{ErrorBody, Method, Operation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::model::access::{Access, Context};
use crate::model::error::ApiError;
use crate::model::gate::{RateInfo, authenticate};
use crate::model::paging::PageMeta;
use crate::model::world::World;

/// A successful result, and its page when it is one.
pub(crate) struct Answer<T> {
    pub(crate) result: T,
    pub(crate) page: Option<PageMeta>,
}

impl<T> From<T> for Answer<T> {
    fn from(result: T) -> Self {
        Self { result, page: None }
    }
}

/// The emulator's own implementation of one operation.
pub(crate) trait Handle: Operation {
    /// What the calling key's roles must allow.
    const ACCESS: Access;

    /// The status of a success: `200`, or what the spec says instead
    /// (`201` for some creates).
    const STATUS: StatusCode = StatusCode::OK;

    /// Decodes the query string; operations without a query ignore it.
    fn query(uri: &Uri) -> Result<Self::Query, ApiError> {
        if let Ok(unit) = serde_json::from_value(Value::Null) {
            return Ok(unit);
        }
        axum::extract::Query::<Self::Query>::try_from_uri(uri)
            .map(|query| query.0)
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }

    /// Runs the operation, under the lock.
    fn run(
        world: &mut World,
        cx: &Context,
        path: Self::Path,
        query: Self::Query,
        body: Self::Body,
    ) -> Result<Answer<Self::Output>, ApiError>;
}

/// What every operation needs from a method: reads for GET, writes else.
pub(crate) fn access_of(method: Method) -> Access {
    match method {
        Method::Get => Access::Read,
        _ => Access::Write,
    }
}

/// The checks before any operation runs: the key, its rate limit and IP
/// list, the organization in the path, and the roles for `access`.
pub(crate) fn admit(
    world: &mut World,
    parts: &Parts,
    template: &str,
    operation: &str,
    access: Access,
    rate: &mut Option<RateInfo>,
) -> Result<Context, ApiError> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<crate::listener::Peer>>()
        .map(|info| info.0.0.ip().to_canonical())
        .ok_or_else(|| ApiError::internal("peer address unavailable"))?;
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let (caller, info) = authenticate(world, authorization, peer);
    *rate = info;
    let caller = caller?;
    let params = match_path(template, parts.uri.path()).unwrap_or_default();
    if let Some(value) = params.get("organizationId").and_then(Value::as_str) {
        let id = Uuid::parse_str(value).map_err(|_| {
            ApiError::bad_request(format_args!(
                "organizationId is not a valid UUID: {value:?}"
            ))
        })?;
        if id != caller.org {
            return Err(ApiError::organization_not_found(id));
        }
    }
    let cx = Context {
        caller,
        peer,
        user_agent: parts
            .headers
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        host: parts
            .headers
            .get(HOST)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        now: world.clock.now(),
    };
    cx.require(access, operation)?;
    Ok(cx)
}

/// Reads the path parameters as `P`, naming a parameter that should be a
/// UUID and is not.
pub(crate) fn decode_params<P: DeserializeOwned>(
    template: &str,
    path: &str,
) -> Result<P, ApiError> {
    let params = match_path(template, path).unwrap_or_default();
    if params.is_empty()
        && let Ok(none) = serde_json::from_value(Value::Null)
    {
        return Ok(none);
    }
    let attempt = |params: &Map<String, Value>| -> Result<P, serde_json::Error> {
        serde_json::from_value(Value::Object(params.clone())).or_else(|first| {
            let numbers: Map<String, Value> = params
                .iter()
                .map(|(name, value)| {
                    let number = value.as_str().and_then(|s| s.parse::<i64>().ok());
                    (
                        name.clone(),
                        number.map_or_else(|| value.clone(), Value::from),
                    )
                })
                .collect();
            serde_json::from_value(Value::Object(numbers)).map_err(|_| first)
        })
    };
    attempt(&params).map_err(|error| {
        for (name, value) in &params {
            let Some(text) = value.as_str() else { continue };
            if Uuid::parse_str(text).is_ok() {
                continue;
            }
            let mut fixed = params.clone();
            fixed.insert(name.clone(), Value::String(Uuid::nil().to_string()));
            if attempt(&fixed).is_ok() {
                return ApiError::bad_request(format_args!("{name} is not a valid UUID: {text:?}"));
            }
        }
        ApiError::bad_request(format_args!("path: {error}"))
    })
}

/// Reads a request body as `B` (nothing for GET and DELETE).
pub(crate) fn decode_body<B: DeserializeOwned>(body: &Bytes) -> Result<B, ApiError> {
    if let Ok(none) = serde_json::from_value(Value::Null) {
        return Ok(none);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("a JSON body is required"));
    }
    serde_json::from_slice(body).map_err(ApiError::bad_request)
}

/// Serves operation `O` with its handler.
pub(crate) fn serve<O: Handle>(
    world: &mut World,
    parts: &Parts,
    body: &Bytes,
    request_id: Uuid,
) -> Response {
    let mut rate = None;
    let outcome = (|| {
        let cx = admit(world, parts, O::PATH, O::ID, O::ACCESS, &mut rate)?;
        let path: O::Path = decode_params(O::PATH, parts.uri.path())?;
        let query = O::query(&parts.uri)?;
        let body: O::Body = decode_body(body)?;
        let answer = O::run(world, &cx, path, query, body)?;
        let mut result = serde_json::to_value(answer.result).map_err(ApiError::internal)?;
        whole_numbers(&mut result);
        Ok::<_, ApiError>((result, answer.page))
    })();
    match outcome {
        Ok((result, page)) => envelope_with(O::STATUS, request_id, result, page.as_ref(), rate),
        Err(error) => error_response(request_id, &error, rate),
    }
}

/// Writes whole floating-point numbers as integers (`8443`, not `8443.0`),
/// as the service does: its JSON does not tell the two apart.
fn whole_numbers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                *value = Value::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// `{status, requestId, result}` (the status `200`, or `201` for some
/// creates), with `limit`, `totalCount` and `nextCursor` on a page.
pub(crate) fn envelope_with(
    status: StatusCode,
    request_id: Uuid,
    result: Value,
    page: Option<&PageMeta>,
    rate: Option<RateInfo>,
) -> Response {
    let mut body = Map::new();
    body.insert("status".into(), Value::from(status.as_u16()));
    body.insert("requestId".into(), Value::String(request_id.to_string()));
    if !result.is_null() {
        body.insert("result".into(), result);
    }
    if let Some(page) = page {
        body.insert("limit".into(), Value::from(page.limit));
        body.insert(
            "totalCount".into(),
            page.total_count.map_or(Value::Null, Value::from),
        );
        body.insert(
            "nextCursor".into(),
            page.next_cursor.clone().map_or(Value::Null, Value::String),
        );
    }
    json_response(status, &Value::Object(body), rate)
}

pub(crate) fn error_response(
    request_id: Uuid,
    error: &ApiError,
    rate: Option<RateInfo>,
) -> Response {
    let hold = error.hold.as_ref();
    let body = ErrorBody {
        status: Some(error.status.as_u16()),
        error: Some(error.error_text()),
        request_id: Some(request_id.to_string()),
        reason: hold.and_then(|hold| hold.reason).map(str::to_owned),
        service_state: hold.map(|hold| hold.state.clone()),
        can_wake: hold.and_then(|hold| hold.can_wake),
        ..ErrorBody::default()
    };
    json_response(error.status, &body, rate)
}

/// Seconds with at most three decimals and no trailing zeros: `10`, `3.25`.
pub(crate) fn seconds(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

pub(crate) fn json_response(
    status: StatusCode,
    body: &impl Serialize,
    rate: Option<RateInfo>,
) -> Response {
    let (status, bytes) = match serde_json::to_vec(body) {
        Ok(bytes) => (status, bytes),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"status":500,"error":"INTERNAL_ERROR: response could not be encoded"}"#.to_vec(),
        ),
    };
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    set_rate_headers(&mut response, rate);
    response
}

/// `X-RateLimit-*`, and `Retry-After` when the window is used up.
pub(crate) fn set_rate_headers(response: &mut Response, rate: Option<RateInfo>) {
    let Some(rate) = rate else { return };
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("x-ratelimit-limit", rate.limit.to_string());
    set("x-ratelimit-remaining", rate.remaining.to_string());
    set("x-ratelimit-reset", seconds(rate.reset));
    set(
        "x-ratelimit-policy",
        format!("{};w={}", rate.limit, seconds(rate.window)),
    );
    if rate.exceeded {
        let wait = rate.reset.ceil().max(1.0) as u64;
        headers.insert(RETRY_AFTER, HeaderValue::from(wait));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clickhouse_cloud_types::ops::{ApiKeyPath, UdfVersionPath};

    #[test]
    fn seconds_drop_trailing_zeros() {
        assert_eq!(seconds(10.0), "10");
        assert_eq!(seconds(3.25), "3.25");
        assert_eq!(seconds(0.0005), "0.001");
        assert_eq!(seconds(0.0), "0");
    }

    #[test]
    fn whole_floats_lose_their_point() {
        let mut value = serde_json::json!({"port": 8443.0, "gb": [16.0, 1.5], "n": 3});
        whole_numbers(&mut value);
        assert_eq!(value.to_string(), r#"{"gb":[16,1.5],"n":3,"port":8443}"#);
    }

    #[test]
    fn path_errors_name_the_parameter() {
        let template = "/v1/organizations/{organizationId}/keys/{keyId}";
        let org = Uuid::new_v4();
        let error =
            decode_params::<ApiKeyPath>(template, &format!("/v1/organizations/{org}/keys/x"))
                .unwrap_err();
        assert_eq!(error.message, "keyId is not a valid UUID: \"x\"");
        let template = "/v1/organizations/{organizationId}/udfs/{functionName}/versions/{version}";
        let path: UdfVersionPath = decode_params(
            template,
            &format!("/v1/organizations/{org}/udfs/f/versions/3"),
        )
        .unwrap();
        assert_eq!(path.version, 3);
        let error = decode_params::<UdfVersionPath>(
            template,
            &format!("/v1/organizations/{org}/udfs/f/versions/three"),
        )
        .unwrap_err();
        assert!(error.message.starts_with("path: "), "{}", error.message);
    }

    #[test]
    fn bodies_are_required_where_they_are_sent() {
        let empty = Bytes::new();
        let error = decode_body::<clickhouse_cloud_types::ApiKeyPostRequest>(&empty).unwrap_err();
        assert!(error.message.contains("required"), "{}", error.message);
        decode_body::<()>(&Bytes::from_static(b"{}")).unwrap();
    }
}
