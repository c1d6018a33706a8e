//! The client and its one request path.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use clickhouse_cloud_auth::Credentials;
use clickhouse_cloud_transport::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_PAUSE, DEFAULT_REQUEST_TIMEOUT, DEFAULT_TOTAL_TIMEOUT,
    ExponentialBackoff, HttpRequest, HttpResponse, Method, RateLimit, RateLimiter,
    ReqwestTransport, Resilient, RetryPolicy, StatusCode, Transport, check_status_of,
    request_id_header, safe_decode_message,
};
use clickhouse_cloud_types::operation::{Paged, ResponseFormat};
#[cfg(feature = "services")]
use clickhouse_cloud_types::ops::InstanceStateUpdate;
use clickhouse_cloud_types::{Envelope, Operation, Request};
use serde::Deserialize;
use tracing::Instrument as _;
use uuid::Uuid;

#[cfg(feature = "roles")]
use crate::roles::RoleCache;
#[cfg(feature = "organization")]
use crate::{Activities, Organizations};
use crate::{Error, Items};

const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// An async client for the ClickHouse Cloud API. Cheap to clone; clones share
/// one connection pool.
///
/// ```no_run
/// # async fn run() -> Result<(), clickhouse_cloud_client::Error> {
/// let client = clickhouse_cloud_client::Client::from_env()?;
/// for org in client.organizations().list().await?.iter() {
///     println!("{:?} {:?}", org.id, org.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    transport: Arc<Resilient<Arc<dyn Transport>>>,
    shared: Arc<Shared>,
    // Read only with the `services` feature (waking needs its operations).
    #[cfg_attr(not(feature = "services"), allow(dead_code))]
    wake_idle_services: bool,
}

/// What a client and its clones share besides the transport.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Role tables by organization.
    #[cfg(feature = "roles")]
    pub(crate) roles: RoleCache,
    /// The base URL of the API, when the client made its own transport
    /// (`None` for one given to [`ClientBuilder::transport`]).
    #[cfg_attr(not(feature = "udfs"), allow(dead_code))]
    pub(crate) api_base: Option<String>,
}

/// A successful call's `result`, with the `requestId` of the response.
///
/// Derefs to the result; [`Response::into_result`] takes it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    result: T,
    request_id: Option<String>,
    status: StatusCode,
    next_cursor: Option<String>,
    total_count: Option<i64>,
    limit: Option<i64>,
    carried_result: bool,
}

impl<T> Response<T> {
    /// The `result`.
    pub fn into_result(self) -> T {
        self.result
    }

    /// The service's ID for this request.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The HTTP status (a 2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// On a page of a list: the cursor of the next page (`None` on the
    /// last).
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    /// On a page of a list: how many items all pages hold, when the service
    /// says (best effort).
    pub fn total_count(&self) -> Option<i64> {
        self.total_count
    }

    /// On a page of a list: the most items the service says the page
    /// could hold (the envelope's `limit`), when it says.
    pub fn page_limit(&self) -> Option<i64> {
        self.limit
    }

    /// Whether the answer carried a `result`. An operation whose result is
    /// informational (an update, a state change, a validation) succeeds
    /// without one, with an empty result (every field absent): this tells
    /// such an empty result from one the service sent.
    pub fn carried_result(&self) -> bool {
        self.carried_result
    }

    /// A response put together from its parts (a listing across pages).
    pub(crate) fn from_parts(
        result: T,
        request_id: Option<String>,
        status: StatusCode,
        next_cursor: Option<String>,
        total_count: Option<i64>,
    ) -> Self {
        Self {
            result,
            request_id,
            status,
            next_cursor,
            total_count,
            limit: None,
            carried_result: true,
        }
    }

    /// Replaces the result by `f(result, request_id)`, keeping the rest.
    pub(crate) fn try_map<U>(
        self,
        f: impl FnOnce(T, Option<&str>) -> Result<U, Error>,
    ) -> Result<Response<U>, Error> {
        let result = f(self.result, self.request_id.as_deref())?;
        Ok(Response {
            result,
            request_id: self.request_id,
            status: self.status,
            next_cursor: self.next_cursor,
            total_count: self.total_count,
            limit: self.limit,
            carried_result: self.carried_result,
        })
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.result
    }
}

impl Client {
    /// Starts a builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for the real service with credentials from
    /// `CLICKHOUSE_CLOUD_API_KEY` / `CLICKHOUSE_CLOUD_API_SECRET` and the
    /// base URL from `CLICKHOUSE_API_URL` when set.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder()
            .credentials(Credentials::from_env()?)
            .build()
    }

    /// Organizations visible to the key.
    #[cfg(feature = "organization")]
    pub fn organizations(&self) -> Organizations {
        Organizations::new(self.clone())
    }

    /// The audit log of an organization.
    #[cfg(feature = "organization")]
    pub fn activities(&self, organization_id: Uuid) -> Activities {
        Activities::new(self.clone(), organization_id)
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// This client, set to wake an idle service and try once more when an
    /// operation is refused because the service it needs is idle (`424`,
    /// see [`ApiError::is_service_idle`](clickhouse_cloud_transport::ApiError::is_service_idle)).
    /// Off unless asked for: waking a service starts its billing.
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, service: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let waking = client.waking_idle_services();
    /// let settings = waking.services(org).service_clickhouse_settings_list_get(service).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "services")]
    pub fn waking_idle_services(&self) -> Client {
        Client {
            wake_idle_services: true,
            ..self.clone()
        }
    }

    /// Calls operation `O` with its path parameters, query and body: the
    /// same as [`Client::send`] with a [`Request`] made of them.
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::ops::{InstanceGet, ServicePath};
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let service = client.call::<InstanceGet>(ServicePath { organization_id: org, service_id: id }, (), ()).await?;
    /// println!("{:?}", service.state);
    /// # Ok(()) }
    /// ```
    pub async fn call<O: Operation>(
        &self,
        path: O::Path,
        query: O::Query,
        body: O::Body,
    ) -> Result<Response<O::Output>, Error> {
        self.send(Request::<O>::with_parts(path, query, body)).await
    }

    /// Every item of the paged list `O`, as a stream that fetches a page
    /// when the items before it are used up (see [`Items`]).
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::ops::{OrganizationGetList, OrganizationGetListQuery};
    /// # async fn run(client: clickhouse_cloud_client::Client) -> Result<(), clickhouse_cloud_client::Error> {
    /// let orgs = client.items::<OrganizationGetList>((), OrganizationGetListQuery::default()).all().await?;
    /// println!("{} organization(s)", orgs.len());
    /// # Ok(()) }
    /// ```
    pub fn items<O: Paged<Body = ()>>(&self, path: O::Path, query: O::Query) -> Items<O> {
        Items::new(self.clone(), path, query)
    }

    /// Calls any operation: encode, send, check the status, decode the
    /// envelope. Every convenience method goes through here.
    ///
    /// On a client made by [`Client::waking_idle_services`], an operation
    /// refused because its service is idle wakes the service (`awake`),
    /// waits until it runs, and is sent once more.
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::{ops::OrganizationGetList, Request};
    /// # async fn run(client: clickhouse_cloud_client::Client) -> Result<(), clickhouse_cloud_client::Error> {
    /// let orgs = client.send(Request::<OrganizationGetList>::new((), ())).await?;
    /// println!("{} organization(s), requestId {:?}", orgs.len(), orgs.request_id());
    /// # Ok(()) }
    /// ```
    pub async fn send<O: Operation>(
        &self,
        request: Request<O>,
    ) -> Result<Response<O::Output>, Error> {
        let result = self.send_once(&request).await;
        #[cfg(feature = "services")]
        if self.wake_idle_services && O::ID != InstanceStateUpdate::ID {
            return self.wake_and_resend(request, result).await;
        }
        result
    }

    /// After `result`: wakes the service and sends `request` once more
    /// when the service was idle, else gives `result`.
    #[cfg(feature = "services")]
    async fn wake_and_resend<O: Operation>(
        &self,
        request: Request<O>,
        result: Result<Response<O::Output>, Error>,
    ) -> Result<Response<O::Output>, Error> {
        let idle = matches!(&result, Err(e) if e.api().is_some_and(|e| e.is_service_idle()));
        let Some((organization_id, service_id)) = idle.then(|| service_of(&request.path)).flatten()
        else {
            return result;
        };
        tracing::info!(
            operation = O::ID,
            %service_id,
            "the service is idle: waking it, then sending once more"
        );
        self.wake_for_retry(organization_id, service_id).await?;
        self.send_once(&request).await
    }

    /// One call, without waking an idle service.
    pub(crate) async fn send_once<O: Operation>(
        &self,
        request: &Request<O>,
    ) -> Result<Response<O::Output>, Error> {
        let span = tracing::debug_span!(
            "clickhouse_cloud.call",
            operation = O::ID,
            method = O::METHOD.as_str(),
            path = O::PATH,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            attempts = tracing::field::Empty,
            limiter_wait_ms = tracing::field::Empty,
        );
        async move {
            let encoded = request.encode().map_err(|source| Error::Encode {
                operation: O::ID,
                source,
            })?;
            let http_request = HttpRequest::from(encoded);
            let outcome = self.transport.send_reporting(http_request).await;
            let earlier = outcome.earlier_in_transit;
            let result = match outcome.result {
                Ok(response) => {
                    let span = tracing::Span::current();
                    span.record("status", response.status.as_u16());
                    check_status_of(O::ID, response)
                        .map_err(|e| Error::from_transport(O::ID, e))
                        .and_then(|response| decode::<O>(&response))
                }
                Err(e) => Err(Error::from_transport(O::ID, e)),
            };
            let decoded = result.map_err(|error| {
                let error = may_have_acted::<O>(error, earlier);
                if let Some(id) = error.request_id() {
                    tracing::Span::current().record("request_id", id);
                }
                error
            })?;
            if let Some(id) = &decoded.request_id {
                tracing::Span::current().record("request_id", id.as_str());
            }
            tracing::debug!("call succeeded");
            Ok(decoded)
        }
        .instrument(span)
        .await
    }
}

/// `error`, saying so when the service may have acted on the call
/// although it failed: an earlier attempt failed in transit (`earlier`), or
/// this one did for an operation that is never resent.
fn may_have_acted<O: Operation>(error: Error, earlier: Option<&'static str>) -> Error {
    let advice = if earlier.is_some() {
        crate::error::ACTED_EARLIER
    } else if !O::IDEMPOTENT && error.may_have_acted() {
        if O::METHOD == Method::Post {
            crate::error::MAY_HAVE_CREATED
        } else {
            crate::error::MAY_HAVE_ACTED
        }
    } else {
        return error;
    };
    Error::MayHaveActed {
        operation: O::ID,
        error: Box::new(error),
        earlier,
        advice,
    }
}

/// The organization and service a request's path names, if it names both.
#[cfg(feature = "services")]
fn service_of(path: &impl serde::Serialize) -> Option<(Uuid, Uuid)> {
    let value = serde_json::to_value(path).ok()?;
    let id = |name: &str| value.get(name)?.as_str()?.parse().ok();
    Some((id("organizationId")?, id("serviceId")?))
}

/// Decodes the envelope of a 2xx response, reporting the JSON path of any
/// mismatch (and never a value from the body).
fn decode<O: Operation>(response: &HttpResponse) -> Result<Response<O::Output>, Error> {
    let decode_error = |path: String, message: String| Error::Decode {
        operation: O::ID,
        path,
        message,
        // The body's `requestId` when it is an object that has one, even
        // though the rest of it does not decode; else the headers'.
        request_id: response.request_id(),
    };
    let header_id = || request_id_header(&response.headers).map(str::to_owned);
    match O::RESPONSE {
        ResponseFormat::Json => {}
        ResponseFormat::Text => {
            let text = std::str::from_utf8(&response.body)
                .map_err(|_| decode_error(".".into(), "the text is not UTF-8".into()))?;
            let result = O::Output::deserialize(serde_json::Value::String(text.to_owned()))
                .map_err(|e| decode_error(".".into(), safe_decode_message(&e)))?;
            return Ok(Response::plain(result, header_id(), response.status));
        }
        ResponseFormat::Bare => {
            let result =
                decode_body::<O::Output>(&response.body).map_err(|(p, m)| decode_error(p, m))?;
            return Ok(Response::plain(result, header_id(), response.status));
        }
    }
    let envelope: Envelope<O::Output> =
        decode_body(&response.body).map_err(|(p, m)| decode_error(p, m))?;
    let request_id = envelope.request_id.or_else(header_id);
    let carried_result = envelope.result.is_some();
    let result = match envelope.result {
        Some(result) => result,
        None => match missing_result::<O>() {
            Some(result) => result,
            None => {
                return Err(Error::MissingResult {
                    operation: O::ID,
                    request_id,
                });
            }
        },
    };
    Ok(Response {
        result,
        request_id,
        status: response.status,
        next_cursor: envelope.next_cursor,
        total_count: envelope.total_count,
        limit: envelope.limit,
        carried_result,
    })
}

/// What operation `O` answers when the envelope carries no `result`, or
/// `None` when the call is then a failure.
///
/// An operation without output (`()`) needs none. A read (`GET`) or an
/// operation that is never resent (a create, a generated password) is
/// called for its result: without one, the call fails with
/// [`Error::MissingResult`]. Any other operation (an update, a state
/// change, a validation, a replacement) has done its work when the service
/// says `2xx`; its result is informational, and a missing one is an empty
/// one (every field absent) when the output type has such a value.
fn missing_result<O: Operation>() -> Option<O::Output> {
    if let Ok(nothing) = O::Output::deserialize(serde_json::Value::Null) {
        return Some(nothing);
    }
    if O::METHOD == Method::Get || !O::IDEMPOTENT {
        return None;
    }
    O::Output::deserialize(serde_json::Value::Object(Default::default())).ok()
}

/// Decodes a JSON body. The fast path is plain serde_json; only a body that
/// fails is decoded again, tracking the path, to say where it fails.
fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, (String, String)> {
    serde_json::from_slice(body).map_err(|error| {
        locate_error::<T>(body).unwrap_or_else(|| (".".into(), safe_decode_message(&error)))
    })
}

impl<T> Response<T> {
    /// A result that came without an envelope.
    fn plain(result: T, request_id: Option<String>, status: StatusCode) -> Self {
        Self {
            result,
            request_id,
            status,
            next_cursor: None,
            total_count: None,
            limit: None,
            carried_result: true,
        }
    }
}

/// Decodes `body` again as a `T`, tracking the JSON path: the path and
/// message of the failure, or `None` if it decodes after all.
fn locate_error<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<(String, String)> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(error) => Some((error.path().to_string(), safe_decode_message(error.inner()))),
        Ok(_) => deserializer
            .end()
            .err()
            .map(|error| (".".into(), safe_decode_message(&error))),
    }
}

/// Configures a [`Client`].
///
/// Defaults: the published rate limit (10 requests per 10 s) enforced on
/// this side and shared by every client in the process using the same key
/// and base URL; [`ExponentialBackoff`] retries; connect timeout 10 s, 60 s
/// per attempt, 120 s per call in all.
///
/// ```
/// use std::time::Duration;
/// use clickhouse_cloud_client::{Client, Credentials, KeyId, KeySecret};
/// use clickhouse_cloud_client::transport::{ExponentialBackoff, RateLimit};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder()
///     .credentials(Credentials::new(KeyId::new("key-id")?, KeySecret::new("secret".into())?))
///     .base_url("http://127.0.0.1:8123")
///     .rate_limit(Some(RateLimit { requests: 5, window: Duration::from_secs(10) }))
///     .retry_policy(ExponentialBackoff { max_attempts: 3, ..Default::default() })
///     .request_timeout(Duration::from_secs(20))
///     .total_timeout(Some(Duration::from_secs(60)))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    base_url: Option<String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    total_timeout: Option<Duration>,
    rate_limit: Option<RateLimit>,
    max_pause: Duration,
    retry_policy: Arc<dyn RetryPolicy>,
    transport: Option<Arc<dyn Transport>>,
    wake_idle_services: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credentials: None,
            base_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            total_timeout: Some(DEFAULT_TOTAL_TIMEOUT),
            rate_limit: Some(RateLimit::PUBLISHED),
            max_pause: DEFAULT_MAX_PAUSE,
            retry_policy: Arc::new(ExponentialBackoff::default()),
            transport: None,
            wake_idle_services: false,
        }
    }
}

impl ClientBuilder {
    /// Signs requests with these credentials (needed unless a custom
    /// transport is given).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Talks to `url` instead of `https://api.clickhouse.cloud` (or
    /// `CLICKHOUSE_API_URL`), e.g. an emulator.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Limit for establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for one attempt, from sending to the end of the body
    /// (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Limit for one call, every attempt and wait included (default 120 s;
    /// `None` for no limit beyond the per-attempt one and the retry policy).
    pub fn total_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.total_timeout = timeout;
        self
    }

    /// Client-side rate limit (default: the published 10 per 10 s); `None`
    /// turns it off. Clients with the same key, base URL and limit share it.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// The longest the service's `Retry-After` or `X-RateLimit-Reset` may
    /// hold back every call with the key at once (default
    /// [`DEFAULT_MAX_PAUSE`], 2 min): a header asking for hours or days
    /// pauses the rate limiter for this long, no longer. The call that got
    /// such an answer ends at once when the wait is beyond its time budget,
    /// with the wait the service asked for in its error.
    ///
    /// ```
    /// use std::time::Duration;
    /// # fn main() -> Result<(), clickhouse_cloud_client::Error> {
    /// let client = clickhouse_cloud_client::Client::builder()
    ///     .credentials(clickhouse_cloud_client::auth::KeyMaterial::generate().into_credentials())
    ///     .rate_limit_max_pause(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn rate_limit_max_pause(mut self, max_pause: Duration) -> Self {
        self.max_pause = max_pause;
        self
    }

    /// Replaces the retry policy (default [`ExponentialBackoff`]); pass
    /// [`clickhouse_cloud_transport::NoRetry`] to turn retries off.
    pub fn retry_policy(mut self, policy: impl RetryPolicy + 'static) -> Self {
        self.retry_policy = Arc::new(policy);
        self
    }

    /// Sends through `transport` instead of the built-in reqwest one. The
    /// rate limit (then per client, as there is no key to share it by),
    /// retries and total timeout still apply; credentials, base URL and
    /// per-attempt timeouts are the transport's business.
    ///
    /// The client adds its own retry layer, so `transport` must not retry:
    /// [`ClientBuilder::build`] refuses a [`Resilient`] (or any transport
    /// whose [`Transport::is_resilient`] says so) with
    /// [`Error::StackedRetries`] rather than retry each retry. Give the
    /// transport inside it, and set the policy, limit and budget here.
    pub fn transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Wakes an idle service and tries once more when an operation is
    /// refused because the service is idle (default off; see
    /// [`Client::waking_idle_services`]).
    #[cfg(feature = "services")]
    pub fn wake_idle_services(mut self, wake: bool) -> Self {
        self.wake_idle_services = wake;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let (inner, limiter, api_base): (Arc<dyn Transport>, _, _) = match self.transport {
            Some(transport) if transport.is_resilient() => {
                return Err(Error::StackedRetries);
            }
            Some(transport) => {
                let limiter = self
                    .rate_limit
                    .map(|limit| Arc::new(RateLimiter::with_max_pause(limit, self.max_pause)));
                (transport, limiter, None)
            }
            None => {
                let credentials = self.credentials.ok_or(Error::MissingCredentials)?;
                let key_id = credentials.key_id().to_string();
                let mut builder = ReqwestTransport::builder(credentials)
                    .user_agent_prefix(USER_AGENT)
                    .connect_timeout(self.connect_timeout)
                    .request_timeout(self.request_timeout);
                if let Some(url) = self.base_url {
                    builder = builder.base_url(url);
                }
                let transport = builder.build().map_err(|source| Error::Transport {
                    operation: "build",
                    source,
                })?;
                let scope = format!("{}|{key_id}", transport.base_url());
                let limiter = self
                    .rate_limit
                    .map(|limit| RateLimiter::shared_with_max_pause(&scope, limit, self.max_pause));
                let api_base = Some(transport.base_url().to_owned());
                (Arc::new(transport), limiter, api_base)
            }
        };
        let mut resilient = Resilient::new(inner)
            .retry_policy_arc(self.retry_policy)
            .total_timeout(self.total_timeout);
        if let Some(limiter) = limiter {
            resilient = resilient.rate_limiter(limiter);
        }
        Ok(Client {
            transport: Arc::new(resilient),
            shared: Arc::new(Shared {
                api_base,
                ..Shared::default()
            }),
            wake_idle_services: self.wake_idle_services,
        })
    }
}

#[cfg(test)]
mod tests {
    use clickhouse_cloud_transport::{BoxFuture, Bytes, HttpRequest, NoRetry};
    use uuid::Uuid;

    use super::*;

    /// Answers every request with `200` and the same body.
    #[derive(Debug)]
    struct Fixed(Bytes);

    impl Transport for Fixed {
        fn send(
            &self,
            _request: HttpRequest,
        ) -> BoxFuture<'_, Result<HttpResponse, clickhouse_cloud_transport::Error>> {
            let body = self.0.clone();
            Box::pin(async move {
                Ok(HttpResponse {
                    status: StatusCode::OK,
                    headers: Default::default(),
                    body,
                })
            })
        }
    }

    async fn list_keys(body: impl Into<String>) -> Result<Response<Vec<ApiKeyOut>>, Error> {
        let client = Client::builder()
            .transport(Fixed(Bytes::from(body.into())))
            .rate_limit(None)
            .retry_policy(NoRetry)
            .build()?;
        client.api_keys(Uuid::nil()).list().await
    }

    type ApiKeyOut = clickhouse_cloud_types::ApiKey;

    #[tokio::test]
    async fn a_good_body_decodes() {
        let keys = list_keys(r#"{"status":200,"requestId":"r1","result":[{"name":"k"}]}"#)
            .await
            .unwrap();
        assert_eq!(keys.request_id(), Some("r1"));
        assert_eq!(keys[0].name.as_deref(), Some("k"));
    }

    #[tokio::test]
    async fn a_wrong_typed_field_still_names_its_path() {
        let error = list_keys(r#"{"requestId":"r2","result":[{"name":"k"},{"name":42}]}"#)
            .await
            .unwrap_err();
        match &error {
            Error::Decode { path, message, .. } => {
                assert_eq!(path, "result[1].name");
                assert!(
                    message.starts_with("invalid type: integer, expected"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("`result[1].name`"), "{error}");
        // The body's requestId, although the body does not decode.
        assert_eq!(error.request_id(), Some("r2"));
    }

    #[tokio::test]
    async fn a_decode_error_never_quotes_the_body() {
        let material = clickhouse_cloud_auth::KeyMaterial::generate();
        let secret = material.key_secret().expose();
        let body = format!(r#"{{"requestId":"r3","result":[{{"name":"k","roles":"{secret}"}}]}}"#);
        let error = list_keys(body).await.unwrap_err();
        let Error::Decode { path, message, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(path, "result[0].roles");
        assert!(
            message.starts_with("invalid type: string, expected a sequence"),
            "{message}"
        );
        for text in [
            error.to_string(),
            format!("{error:?}"),
            format!("{error:#?}"),
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn a_transport_that_already_retries_is_refused() {
        let fixed = || Fixed(Bytes::from_static(b"{}"));
        let resilient = clickhouse_cloud_transport::Resilient::new(fixed());
        let error = Client::builder().transport(resilient).build().unwrap_err();
        assert!(matches!(error, Error::StackedRetries), "{error:?}");
        assert!(error.to_string().contains("already retries"), "{error}");
        // Also behind an Arc.
        let shared = Arc::new(clickhouse_cloud_transport::Resilient::new(fixed()));
        let error = Client::builder().transport(shared).build().unwrap_err();
        assert!(matches!(error, Error::StackedRetries), "{error:?}");
        // The transport inside it is fine.
        assert!(Client::builder().transport(fixed()).build().is_ok());
    }

    #[tokio::test]
    async fn trailing_bytes_and_broken_json_are_decode_errors() {
        let error = list_keys(r#"{"result":[]} trailing"#).await.unwrap_err();
        assert!(
            matches!(&error, Error::Decode { path, .. } if path == "."),
            "{error:?}"
        );
        let error = list_keys(r#"{"result":[{"name":"#).await.unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    }
}
