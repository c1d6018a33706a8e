//! Errors as the API reports them: an HTTP status and a `CODE: message` text.

use std::fmt::Display;

use http::StatusCode;

/// A failed request: its status and the message after the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// Set on a `424`: why the service cannot serve the call.
    pub(crate) hold: Option<ServiceHold>,
}

/// What a `424` (or a `409` about a service's state) says about the
/// service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceHold {
    /// `SERVICE_IDLE`, `SERVICE_STOPPED` or `SERVICE_NOT_RUNNING` on a `424`.
    pub(crate) reason: Option<&'static str>,
    /// The service's state on the wire (`idle`, `stopped`, ...).
    pub(crate) state: String,
    /// Whether the `awake` command helps, on a `424`.
    pub(crate) can_wake: Option<bool>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Display) -> Self {
        Self {
            status,
            message: message.to_string(),
            hold: None,
        }
    }

    pub(crate) fn bad_request(message: impl Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn forbidden(message: impl Display) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found(message: impl Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn conflict(message: impl Display) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub(crate) fn internal(message: impl Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// `424`: the operation needs a running service.
    pub(crate) fn service_held(hold: ServiceHold, message: impl Display) -> Self {
        Self {
            status: StatusCode::FAILED_DEPENDENCY,
            message: message.to_string(),
            hold: Some(hold),
        }
    }

    /// `409` naming the service's state, which does not allow the change.
    pub(crate) fn service_conflict(state: String, message: impl Display) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            message: message.to_string(),
            hold: Some(ServiceHold {
                reason: None,
                state,
                can_wake: None,
            }),
        }
    }

    pub(crate) fn key_not_found() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Key is not found")
    }

    pub(crate) fn key_not_active() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Key is not active")
    }

    pub(crate) fn rate_limited() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded")
    }

    pub(crate) fn organization_not_found(id: impl Display) -> Self {
        Self::not_found(format_args!("organization {id} not found"))
    }

    /// The upper-case code that starts the `error` string.
    pub(crate) fn code(&self) -> &'static str {
        if let Some(reason) = self.hold.as_ref().and_then(|hold| hold.reason) {
            return reason;
        }
        match self.status {
            StatusCode::BAD_REQUEST => "BAD_REQUEST",
            StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
            StatusCode::FORBIDDEN => "FORBIDDEN",
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
            StatusCode::CONFLICT => "CONFLICT",
            StatusCode::GONE => "GONE",
            StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
            StatusCode::FAILED_DEPENDENCY => "FAILED_DEPENDENCY",
            StatusCode::TOO_MANY_REQUESTS => "TOO_MANY_REQUESTS",
            StatusCode::BAD_GATEWAY => "BAD_GATEWAY",
            StatusCode::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
            StatusCode::GATEWAY_TIMEOUT => "GATEWAY_TIMEOUT",
            _ => "INTERNAL_ERROR",
        }
    }

    /// `CODE: message`.
    pub(crate) fn error_text(&self) -> String {
        format!("{}: {}", self.code(), self.message)
    }
}
