#![doc = include_str!("../README.md")]

mod error;
mod headers;
mod limiter;
mod reqwest_transport;
mod resilient;
mod retry;
mod upload;

#[cfg(feature = "test-util")]
pub mod record;
#[cfg(feature = "test-util")]
pub mod replay;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub use bytes::Bytes;
/// The HTTP method of a request: the types crate's, the one the whole SDK
/// uses (the operation table declares it, the client sends it, retries
/// judge it). `http::Method` appears only where an HTTP library needs one,
/// inside [`ReqwestTransport`] ([`http_method`] converts).
pub use clickhouse_cloud_types::Method;
pub use error::{ApiError, Error, ServiceHold, check_status, check_status_of, safe_decode_message};
pub use headers::{REQUEST_ID_HEADERS, request_id_header};
pub use http::{HeaderMap, StatusCode};
pub use limiter::{DEFAULT_MAX_PAUSE, RateLimit, RateLimiter};
#[cfg(feature = "test-util")]
pub use record::RecordingTransport;
#[cfg(feature = "test-util")]
pub use replay::{Cassette, ReplayMismatch, ReplayTransport};
pub use reqwest_transport::{
    DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, ENV_BASE_URL,
    ReqwestTransport, ReqwestTransportBuilder, USER_AGENT,
};
pub use resilient::{CallOutcome, DEFAULT_TOTAL_TIMEOUT, Resilient};
pub use retry::{Attempt, ExponentialBackoff, NoRetry, RetryDecision, RetryPolicy, Retryable};
pub use upload::{DEFAULT_UPLOAD_TIMEOUT, UPLOAD_OPERATION, put_presigned};

/// A boxed, sendable future: what [`Transport::send`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `method` as the `http` crate's type, for transports built on an HTTP
/// library.
///
/// ```
/// use clickhouse_cloud_transport::{Method, http_method};
/// assert_eq!(http_method(Method::Patch), http::Method::PATCH);
/// ```
pub fn http_method(method: Method) -> http::Method {
    match method {
        Method::Get => http::Method::GET,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Patch => http::Method::PATCH,
        Method::Delete => http::Method::DELETE,
    }
}

/// One HTTP request to the API, already encoded.
///
/// Its `Debug` shows the operation, method, path, query names and the
/// body's length: never the body.
#[derive(Clone, PartialEq, Eq)]
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
    /// Whether the operation may be sent again after the service may have
    /// acted on it (the operation table's `Operation::IDEMPOTENT`): what a
    /// [`RetryPolicy`] asks before retrying a gateway error or a timeout.
    pub idempotent: bool,
}

impl HttpRequest {
    /// A request without query or body, idempotent when its method is
    /// (GET, PUT, DELETE); set [`HttpRequest::idempotent`] from the
    /// operation table when it says otherwise.
    ///
    /// ```
    /// use clickhouse_cloud_transport::{HttpRequest, Method};
    /// let request = HttpRequest::new("organizationGetList", Method::Get, "/v1/organizations");
    /// assert!(request.body.is_none());
    /// ```
    pub fn new(operation: &'static str, method: Method, path: impl Into<String>) -> Self {
        Self {
            operation,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            idempotent: method.is_idempotent(),
        }
    }
}

impl From<clickhouse_cloud_types::operation::EncodedRequest> for HttpRequest {
    /// The encoded request of an operation, its idempotence from the
    /// operation table.
    ///
    /// ```
    /// use clickhouse_cloud_transport::HttpRequest;
    /// use clickhouse_cloud_types::ops::{InstancePasswordUpdate, ServicePath};
    /// use clickhouse_cloud_types::{Request, ServicePasswordPatchRequest};
    /// let nil = "00000000-0000-0000-0000-000000000000";
    /// let path = ServicePath { organization_id: nil.parse()?, service_id: nil.parse()? };
    /// let request = Request::<InstancePasswordUpdate>::new(path, ServicePasswordPatchRequest::default());
    /// let request = HttpRequest::from(request.encode()?);
    /// assert!(!request.idempotent); // a PATCH that generates a new password
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn from(encoded: clickhouse_cloud_types::operation::EncodedRequest) -> Self {
        Self {
            operation: encoded.operation,
            method: encoded.method,
            path: encoded.path,
            query: encoded.query,
            body: encoded.body.map(Into::into),
            idempotent: encoded.idempotent,
        }
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<&str> = self.query.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

/// One HTTP response, whatever its status.
///
/// Its `Debug` shows the status, content type and the body's length: never
/// the body (a create-key response holds the new secret) nor the headers.
#[derive(Clone)]
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

    /// The ID of this request: the body's `requestId` when the body is a
    /// JSON object that has one, else the first of
    /// [`REQUEST_ID_HEADERS`].
    ///
    /// ```
    /// use clickhouse_cloud_transport::{HttpResponse, StatusCode};
    /// let mut response = HttpResponse {
    ///     status: StatusCode::BAD_GATEWAY,
    ///     headers: Default::default(),
    ///     body: "<html>502 Bad Gateway</html>".into(),
    /// };
    /// assert_eq!(response.request_id(), None);
    /// response.headers.insert("x-amz-cf-id", "cf-1==".parse().unwrap());
    /// assert_eq!(response.request_id().as_deref(), Some("cf-1=="));
    /// ```
    pub fn request_id(&self) -> Option<String> {
        clickhouse_cloud_types::ErrorBody::parse(&self.body)
            .and_then(|body| body.request_id)
            .or_else(|| request_id_header(&self.headers).map(str::to_owned))
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type())
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
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

    /// Whether this transport already retries and rate-limits (it is, or
    /// forwards to, a [`Resilient`]), so that no second such layer goes on
    /// top of it. `false` unless overridden; a wrapper that forwards to
    /// another transport should forward this too.
    fn is_resilient(&self) -> bool {
        false
    }
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        (**self).send(request)
    }

    fn is_resilient(&self) -> bool {
        (**self).is_resilient()
    }
}
