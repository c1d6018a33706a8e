//! HTTP side: the router, the request pipeline every operation shares, and
//! the JSON envelope of every response.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{MethodFilter, on};
use clickhouse_cloud_types::operation::{decode_path, match_path};
use clickhouse_cloud_types::ops::{
    ActivityGet, ActivityGetList, OpenapiKeyCreate, OpenapiKeyDelete, OpenapiKeyGet,
    OpenapiKeyGetList, OpenapiKeyUpdate, OrganizationGet, OrganizationGetList, OrganizationUpdate,
};
use clickhouse_cloud_types::{
    Activity, ActivityType, Envelope, ErrorBody, Method, Operation, Timestamp,
};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::error::ApiError;
use crate::roles::Access;
use crate::store::{Caller, RateInfo, Store};

/// The state every handler shares.
pub(crate) type Shared = Arc<Mutex<Store>>;

/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// Path parameters that must be UUIDs.
const UUID_PARAMS: [&str; 2] = ["organizationId", "keyId"];

/// Who is calling, from where, and when.
pub(crate) struct Context {
    pub(crate) caller: Caller,
    pub(crate) peer: IpAddr,
    pub(crate) user_agent: Option<String>,
    pub(crate) now: Timestamp,
}

impl Context {
    /// An activity of type `kind` attributed to the calling key.
    pub(crate) fn activity(&self, kind: ActivityType) -> Activity {
        Activity {
            r#type: Some(kind),
            actor_id: Some(self.caller.key.to_string()),
            actor_details: Some(self.caller.key_name.clone()),
            actor_ip_address: Some(self.peer.to_string()),
            user_agent: self.user_agent.clone(),
            ..Activity::default()
        }
    }
}

/// The emulator's implementation of one operation.
pub(crate) trait Handle: Operation {
    /// What the calling key's roles must allow.
    const ACCESS: Access;

    /// Decodes the query string; operations without a query ignore it.
    fn query(uri: &Uri) -> Result<Self::Query, ApiError> {
        if let Ok(unit) = serde_json::from_value(Value::Null) {
            return Ok(unit);
        }
        axum::extract::Query::<Self::Query>::try_from_uri(uri)
            .map(|query| query.0)
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }

    /// Runs the operation on the store, under its lock.
    fn run(
        store: &mut Store,
        cx: &Context,
        path: Self::Path,
        query: Self::Query,
        body: Self::Body,
    ) -> Result<Self::Output, ApiError>;
}

/// Every operation on its path template, and JSON answers for the rest.
pub(crate) fn router(shared: Shared) -> Router {
    let router = Router::new();
    let router = add::<OrganizationGetList>(router);
    let router = add::<OrganizationGet>(router);
    let router = add::<OrganizationUpdate>(router);
    let router = add::<OpenapiKeyGetList>(router);
    let router = add::<OpenapiKeyCreate>(router);
    let router = add::<OpenapiKeyGet>(router);
    let router = add::<OpenapiKeyUpdate>(router);
    let router = add::<OpenapiKeyDelete>(router);
    let router = add::<ActivityGetList>(router);
    let router = add::<ActivityGet>(router);
    router
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(shared)
}

fn add<O: Handle>(router: Router<Shared>) -> Router<Shared> {
    let filter = match O::METHOD {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Patch => MethodFilter::PATCH,
        Method::Delete => MethodFilter::DELETE,
    };
    router.route(O::PATH, on(filter, serve::<O>))
}

async fn serve<O: Handle>(State(shared): State<Shared>, request: Request) -> Response {
    let request_id = Uuid::new_v4();
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let error = ApiError::bad_request("request body is unreadable or larger than 1 MiB");
        return error_response(request_id, &error, None);
    };
    let mut rate = None;
    let outcome = {
        let mut store = shared.lock().unwrap_or_else(PoisonError::into_inner);
        handle::<O>(&mut store, &parts, &body, &mut rate)
    };
    match outcome {
        Ok(result) => {
            let envelope = Envelope {
                status: Some(StatusCode::OK.as_u16()),
                request_id: Some(request_id.to_string()),
                result: (!result.is_null()).then_some(result),
                limit: None,
                total_count: None,
                next_cursor: None,
            };
            json_response(StatusCode::OK, &envelope, rate)
        }
        Err(error) => error_response(request_id, &error, rate),
    }
}

/// The shared pipeline: authenticate, rate-limit, check the peer, the path,
/// the organization and the roles, decode, then run.
fn handle<O: Handle>(
    store: &mut Store,
    parts: &Parts,
    body: &Bytes,
    rate: &mut Option<RateInfo>,
) -> Result<Value, ApiError> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_canonical())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "peer address unavailable",
            )
        })?;
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let (caller, info) = store.authenticate(authorization, peer);
    *rate = info;
    let caller = caller?;

    let params = match_path(O::PATH, parts.uri.path()).unwrap_or_default();
    for name in UUID_PARAMS {
        if let Some(value) = params.get(name).and_then(Value::as_str) {
            let id = Uuid::parse_str(value).map_err(|_| {
                ApiError::bad_request(format_args!("{name} is not a valid UUID: {value:?}"))
            })?;
            if name == "organizationId" && id != caller.org {
                return Err(ApiError::organization_not_found(id));
            }
        }
    }
    if !caller.permission.allows(O::ACCESS) {
        return Err(ApiError::forbidden(format_args!(
            "the key's roles do not permit {}",
            O::ID
        )));
    }

    let path: O::Path = decode_path(O::PATH, parts.uri.path())
        .unwrap_or_else(|| serde_json::from_value(Value::Null))
        .map_err(ApiError::bad_request)?;
    let query = O::query(&parts.uri)?;
    let body: O::Body = match O::METHOD {
        Method::Get | Method::Delete => serde_json::from_value(Value::Null),
        Method::Post | Method::Put | Method::Patch => serde_json::from_slice(body),
    }
    .map_err(ApiError::bad_request)?;

    let cx = Context {
        caller,
        peer,
        user_agent: parts
            .headers
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        now: store.now(),
    };
    let output = O::run(store, &cx, path, query, body)?;
    serde_json::to_value(output)
        .map_err(|error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error))
}

async fn not_found(method: axum::http::Method, uri: Uri) -> Response {
    let error = ApiError::not_found(format_args!("no route for {method} {}", uri.path()));
    error_response(Uuid::new_v4(), &error, None)
}

async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> Response {
    let error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format_args!("method {method} is not allowed on {}", uri.path()),
    );
    error_response(Uuid::new_v4(), &error, None)
}

pub(crate) fn error_response(
    request_id: Uuid,
    error: &ApiError,
    rate: Option<RateInfo>,
) -> Response {
    let body = ErrorBody {
        status: Some(error.status.as_u16()),
        error: Some(error.error_text()),
        request_id: Some(request_id.to_string()),
        ..ErrorBody::default()
    };
    json_response(error.status, &body, rate)
}

/// Seconds with at most three decimals and no trailing zeros: `10`, `3.25`.
pub(crate) fn seconds(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn json_response(status: StatusCode, body: &impl Serialize, rate: Option<RateInfo>) -> Response {
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
    if let Some(rate) = rate {
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
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_drop_trailing_zeros() {
        assert_eq!(seconds(10.0), "10");
        assert_eq!(seconds(3.25), "3.25");
        assert_eq!(seconds(0.0005), "0.001");
        assert_eq!(seconds(0.0), "0");
    }
}
