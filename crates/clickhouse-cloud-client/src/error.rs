//! The client's error: what went wrong, with the `requestId` when there is one.

use clickhouse_cloud_auth::{AuthError, Role};
use clickhouse_cloud_transport::{ApiError, StatusCode};
use clickhouse_cloud_types::operation::EncodeError;

/// Why a call failed.
///
/// No variant ever carries a key secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service refused the request (non-2xx with its error body).
    #[error("{operation}: {error}")]
    Api {
        /// The `operationId`.
        operation: &'static str,
        /// Status, code, message and `requestId` (boxed: it is the
        /// largest variant's bulk, and errors travel in every `Result`).
        error: Box<ApiError>,
    },
    /// The request did not complete: connect failure, timeout, broken
    /// connection, a non-JSON error page, or bad transport configuration.
    #[error("{operation}: {source}")]
    Transport {
        /// The `operationId`.
        operation: &'static str,
        /// What the transport saw.
        #[source]
        source: clickhouse_cloud_transport::Error,
    },
    /// The call failed, yet the service may have acted on it: an earlier
    /// attempt failed in transit after the request may have reached the
    /// service (so a retried `DELETE` answering `404` may have deleted),
    /// or this attempt did, for an operation that is not resent (so a
    /// create may have created). `error` is the call's own failure; every
    /// accessor ([`Error::status`], [`Error::api`], [`Error::request_id`],
    /// ...) reads it.
    #[error(
        "{error}{}; {advice}",
        earlier.map(|how| format!(" (an earlier attempt failed in transit: {how})")).unwrap_or_default()
    )]
    MayHaveActed {
        /// The `operationId`.
        operation: &'static str,
        /// The call's final error.
        #[source]
        error: Box<Error>,
        /// How an earlier attempt failed in transit (`"timeout"`,
        /// `"connection error"`, `"HTTP 502"`, ...), when one did.
        earlier: Option<&'static str>,
        /// What to do about it, e.g. `the service may have created it;
        /// list before trying again`.
        advice: &'static str,
    },
    /// A 2xx answer without the `result` an operation's caller needs (a
    /// read, a list, a create): the envelope carried none.
    #[error(
        "{operation}: the answer carried no result (requestId {})",
        request_id.as_deref().unwrap_or("none")
    )]
    MissingResult {
        /// The `operationId`.
        operation: &'static str,
        /// The answer's `requestId` (or request-ID header), when it had one.
        request_id: Option<String>,
    },
    /// A 2xx response whose body does not match the expected type.
    #[error(
        "{operation}: response does not decode at `{path}`: {message} (requestId {})",
        request_id.as_deref().unwrap_or("none")
    )]
    Decode {
        /// The `operationId`.
        operation: &'static str,
        /// JSON path of the problem, e.g. `result[2].createdAt`.
        path: String,
        /// What serde said, without any value it quoted from the body:
        /// `invalid type: string, expected u16`.
        message: String,
        /// The body's `requestId` when it has one, else a request-ID
        /// header's.
        request_id: Option<String>,
    },
    /// The typed request could not be encoded.
    #[error("{operation}: request does not encode: {source}")]
    Encode {
        /// The `operationId`.
        operation: &'static str,
        /// Why.
        #[source]
        source: EncodeError,
    },
    /// The builder was given neither credentials nor a transport.
    #[error("no credentials: call ClientBuilder::credentials, or use Client::from_env")]
    MissingCredentials,
    /// The builder was given a transport that already retries and
    /// rate-limits (a `Resilient`): the client's own layer on top would
    /// retry each retry and wait twice.
    #[error(
        "the transport already retries and rate-limits (a Resilient): give ClientBuilder::transport \
         the transport inside it, and set retry_policy, rate_limit and total_timeout on the builder"
    )]
    StackedRetries,
    /// Credentials are missing or malformed (including ones the service
    /// returned).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A paged list handed out a cursor it had handed out before: following
    /// it would loop for ever, so the listing stops here.
    #[error(
        "{operation}: page {page} gave a next cursor an earlier page gave; stopped instead of looping (requestId {})",
        request_id.as_deref().unwrap_or("none")
    )]
    RepeatedCursor {
        /// The `operationId`.
        operation: &'static str,
        /// The page (1 for the first) whose cursor repeats.
        page: u32,
        /// That page's `requestId`.
        request_id: Option<String>,
    },
    /// A list paged by offset answered the same items for the next offset
    /// as for the previous one (it ignores `offset`): reading on would loop
    /// for ever, so the listing stops here.
    #[error(
        "{operation}: page {page} repeated the page before it; stopped instead of looping (requestId {})",
        request_id.as_deref().unwrap_or("none")
    )]
    RepeatedPage {
        /// The `operationId`.
        operation: &'static str,
        /// The page (1 for the first) that repeats the one before.
        page: u32,
        /// That page's `requestId`.
        request_id: Option<String>,
    },
    /// A wait ran out of time before the resource reached the state.
    #[error(
        "{resource} {id}: not {target} within {budget:?} (last state seen: {})",
        last_state.as_deref().unwrap_or("none")
    )]
    WaitTimedOut {
        /// What was waited for (`service`, `ClickPipe`, ...).
        resource: &'static str,
        /// Its ID.
        id: String,
        /// The state waited for (`running`, `gone`, ...).
        target: String,
        /// The last state the service reported, if any poll succeeded.
        last_state: Option<String>,
        /// The time budget that ran out.
        budget: std::time::Duration,
    },
    /// The resource reached a state it will not leave for the one waited
    /// for (`failed`, `terminated`, ...): the wait ended at once.
    #[error("{resource} {id}: {state} while waiting until {target}")]
    WaitFailed {
        /// What was waited for.
        resource: &'static str,
        /// Its ID.
        id: String,
        /// The state waited for.
        target: String,
        /// The state it reached instead.
        state: String,
    },
    /// The upload URL the service handed out cannot be used: it is not
    /// HTTPS (plain HTTP only to the API's own origin, as an emulator
    /// serves it), or it carries a user name, password or fragment, or the
    /// upload session lacked it. Nothing was sent to it, and the URL is not
    /// repeated here: its query is the upload's token.
    #[error("the upload URL cannot be used: {reason}")]
    UnusableUploadUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A system role has no counterpart in the organization's roles list
    /// (`GET /v1/organizations/{id}/roles`).
    #[error("role {role}: the organization {organization_id} has no system role of that name")]
    UnknownRole {
        /// The role asked for.
        role: Role,
        /// The organization whose roles were looked up.
        organization_id: uuid::Uuid,
    },
}

/// Advice when a create failed in transit and was not resent.
pub(crate) const MAY_HAVE_CREATED: &str =
    "the service may have created it; list before trying again";
/// Advice when another operation that is not resent failed in transit.
pub(crate) const MAY_HAVE_ACTED: &str =
    "the service may have acted on it; check before trying again";
/// Advice when an earlier attempt failed in transit.
pub(crate) const ACTED_EARLIER: &str = "the service may have acted on it before this answer";

impl Error {
    /// The service's error, when it answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api { error, .. } => Some(error),
            Error::MayHaveActed { error, .. } => error.api(),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { error, .. } => Some(error.status),
            Error::Transport { source, .. } => source.status(),
            Error::MayHaveActed { error, .. } => error.status(),
            _ => None,
        }
    }

    /// Whether an earlier attempt of this same call failed in transit
    /// after its request may have reached the service (the connection
    /// broke after sending, no answer came in time, a gateway answered
    /// `502` or `504`), so that the service may have acted although this
    /// final answer is an error. A `DELETE` whose first attempt was cut
    /// off after the service deleted is retried and answers `404`: then
    /// this is `true`, and the resource is gone as asked.
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, key: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// match client.api_keys(org).delete(key).await {
    ///     Ok(_) => println!("deleted"),
    ///     Err(e) if e.status().map(|s| s.as_u16()) == Some(404) && e.may_have_acted_earlier() => {
    ///         println!("deleted (the first attempt's answer was lost)")
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn may_have_acted_earlier(&self) -> bool {
        matches!(
            self,
            Error::MayHaveActed {
                earlier: Some(_),
                ..
            }
        )
    }

    /// Whether this call's request may have reached the service and been
    /// acted on although the call failed: its last attempt failed in
    /// transit (a broken connection after sending, a timeout waiting for
    /// the answer, a `502` or `504` from a gateway), or
    /// [`Error::may_have_acted_earlier`]. A create that fails so may have
    /// created: list before creating again.
    ///
    /// ```
    /// use std::time::Duration;
    /// use clickhouse_cloud_client::{Error, transport};
    /// let error = Error::Transport {
    ///     operation: "openapiKeyCreate",
    ///     source: transport::Error::Timeout {
    ///         operation: "openapiKeyCreate",
    ///         after: Duration::from_secs(60),
    ///         request_id: None,
    ///     },
    /// };
    /// assert!(error.may_have_acted());
    /// assert!(!error.may_have_acted_earlier());
    /// ```
    pub fn may_have_acted(&self) -> bool {
        match self {
            Error::MayHaveActed { .. } => true,
            Error::Transport { source, .. } => source.may_have_acted(),
            Error::Api { error, .. } => matches!(
                error.status,
                StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
            ),
            _ => false,
        }
    }

    /// Whether trying again later could succeed (rate limited, gateway or
    /// availability error, timeout, connection failure). The client already
    /// retried what was safe to retry before returning this.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { error, .. } => {
                clickhouse_cloud_transport::Error::Api((**error).clone()).is_retryable()
            }
            Error::Transport { source, .. } => source.is_retryable(),
            Error::MayHaveActed { error, .. } => error.is_retryable(),
            _ => false,
        }
    }

    /// Whether the call was rate limited: a `429` after the client's
    /// retries, or the client-side limiter refusing a wait longer than the
    /// call's remaining time budget
    /// ([`clickhouse_cloud_transport::Error::RateLimited`]).
    pub fn is_rate_limited(&self) -> bool {
        match self {
            Error::Api { error, .. } => error.status == StatusCode::TOO_MANY_REQUESTS,
            Error::Transport { source, .. } => source.is_rate_limited(),
            Error::MayHaveActed { error, .. } => error.is_rate_limited(),
            _ => false,
        }
    }

    /// How long to wait before trying again, when known (the service's
    /// `Retry-After`, or the client-side limiter's wait).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Api { error, .. } => error.retry_after,
            Error::Transport { source, .. } => source.retry_after(),
            Error::MayHaveActed { error, .. } => error.retry_after(),
            _ => None,
        }
    }

    /// The `requestId` to quote to support, when the answer carried one:
    /// the body's, else a request-ID header's (a gateway's HTML page has
    /// only the latter).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { error, .. } => error.request_id.as_deref(),
            Error::Transport { source, .. } => source.request_id(),
            Error::Decode { request_id, .. }
            | Error::RepeatedCursor { request_id, .. }
            | Error::RepeatedPage { request_id, .. }
            | Error::MissingResult { request_id, .. } => request_id.as_deref(),
            Error::MayHaveActed { error, .. } => error.request_id(),
            _ => None,
        }
    }

    pub(crate) fn from_transport(
        operation: &'static str,
        source: clickhouse_cloud_transport::Error,
    ) -> Self {
        match source {
            clickhouse_cloud_transport::Error::Api(error) => Error::Api {
                operation,
                error: Box::new(error),
            },
            source => Error::Transport { operation, source },
        }
    }
}
