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

impl Error {
    /// The service's error, when it answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { error, .. } => Some(error.status),
            Error::Transport { source, .. } => source.status(),
            _ => None,
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
            _ => false,
        }
    }

    /// How long to wait before trying again, when known (the service's
    /// `Retry-After`, or the client-side limiter's wait).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Api { error, .. } => error.retry_after,
            Error::Transport { source, .. } => source.retry_after(),
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
            Error::Decode { request_id, .. } | Error::RepeatedCursor { request_id, .. } => {
                request_id.as_deref()
            }
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
