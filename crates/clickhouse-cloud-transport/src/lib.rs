#![doc = include_str!("../README.md")]

mod error;
mod limiter;
mod reqwest_transport;
mod resilient;
mod retry;

#[cfg(feature = "test-util")]
pub mod record;
#[cfg(feature = "test-util")]
pub mod replay;

use std::future::Future;
use std::pin::Pin;

pub use bytes::Bytes;
pub use error::{ApiError, Error, check_status};
pub use http::{HeaderMap, Method, StatusCode};
pub use limiter::{RateLimit, RateLimiter};
#[cfg(feature = "test-util")]
pub use record::RecordingTransport;
#[cfg(feature = "test-util")]
pub use replay::{Cassette, ReplayMismatch, ReplayTransport};
pub use reqwest_transport::{
    DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, ENV_BASE_URL,
    ReqwestTransport, ReqwestTransportBuilder, USER_AGENT,
};
pub use resilient::{DEFAULT_TOTAL_TIMEOUT, Resilient};
pub use retry::{Attempt, ExponentialBackoff, NoRetry, RetryDecision, RetryPolicy, Retryable};

/// A boxed, sendable future: what [`Transport::send`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One HTTP request to the API, already encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The `operationId`, for logs.
    pub operation: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path from the API root, e.g. `/v1/organizations`.
    pub path: String,
    /// Query pairs, not yet URL-encoded.
    pub query: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<Bytes>,
}

impl HttpRequest {
    /// A request without query or body.
    ///
    /// ```
    /// use clickhouse_cloud_transport::{HttpRequest, Method};
    /// let request = HttpRequest::new("organizationGetList", Method::GET, "/v1/organizations");
    /// assert!(request.body.is_none());
    /// ```
    pub fn new(operation: &'static str, method: Method, path: impl Into<String>) -> Self {
        Self {
            operation,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }
}

/// One HTTP response, whatever its status.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl HttpResponse {
    /// The `content-type` header, if it is readable text.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
    }
}

/// Sends requests and returns responses: the one place bytes cross the
/// network. Implement it to put the client on another HTTP stack, or to
/// serve recorded responses in tests.
///
/// A transport returns every response it receives, whatever its status;
/// [`check_status`] turns a non-2xx into a typed [`Error`].
///
/// ```
/// use clickhouse_cloud_transport::{BoxFuture, Error, HttpRequest, HttpResponse, Transport};
///
/// #[derive(Debug)]
/// struct Teapot;
///
/// impl Transport for Teapot {
///     fn send(&self, _request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
///         Box::pin(async {
///             Ok(HttpResponse {
///                 status: clickhouse_cloud_transport::StatusCode::IM_A_TEAPOT,
///                 headers: Default::default(),
///                 body: "{}".into(),
///             })
///         })
///     }
/// }
/// ```
pub trait Transport: std::fmt::Debug + Send + Sync {
    /// Sends one request.
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>>;
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        (**self).send(request)
    }
}
