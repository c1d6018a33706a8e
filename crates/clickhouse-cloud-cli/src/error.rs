//! What can go wrong, and the exit code each failure gets.

use std::process::ExitCode;

use clickhouse_cloud_client::Error as ClientError;
use clickhouse_cloud_client::transport::Error as TransportError;

use crate::output::clean;

/// Exit codes (documented in `--help` and the README).
pub(crate) mod code {
    /// Anything else: a refusal of this tool, a conflict, a network failure.
    pub(crate) const FAILURE: u8 = 1;
    /// Usage error: bad flags or values, missing input, no terminal to confirm on.
    pub(crate) const USAGE: u8 = 2;
    /// The service refused the credentials or the permission (401, 403).
    pub(crate) const AUTH: u8 = 3;
    /// Not found (404, or no key matches).
    pub(crate) const NOT_FOUND: u8 = 4;
    /// Rate limited (429) after the client's retries.
    pub(crate) const RATE_LIMITED: u8 = 5;
    /// A `--wait` ran out of time; the work goes on at the service.
    pub(crate) const WAIT_TIMED_OUT: u8 = 6;
}

/// A failure of one command.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad input, caught before any request (exit 2).
    Usage(String),
    /// Nothing matches (exit 4).
    NotFound(String),
    /// This tool refuses to go on (exit 1).
    Refused(String),
    /// A call to the service failed (exit code by status).
    Api(ClientError),
    /// A create failed in a way that leaves open whether the service
    /// created the resource (exit code by the error, like [`CliError::Api`]).
    MayExist {
        /// The call's failure.
        error: Box<ClientError>,
        /// What may exist, for a sentence: `a key named "ci"`.
        what: String,
        /// The command that shows whether it does: `chc keys list`.
        check: &'static str,
    },
    /// A `--wait` that failed or ran out of time (exit code by the error,
    /// like [`CliError::Api`]); the hint names `check`, the command that
    /// shows the resource waited on (`chc postgres get 0f3e...`).
    Wait {
        /// The wait's failure.
        error: Box<ClientError>,
        /// The command that shows where the work is.
        check: String,
    },
    /// Anything else (exit 1).
    Other(String),
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        CliError::Api(error)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl CliError {
    /// The process exit code for this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => code::USAGE,
            CliError::NotFound(_) => code::NOT_FOUND,
            CliError::Refused(_) | CliError::Other(_) => code::FAILURE,
            CliError::Api(error) => api_exit_code(error),
            CliError::MayExist { error, .. } | CliError::Wait { error, .. } => api_exit_code(error),
        }
    }

    /// Prints `error: ...` (and a hint when there is a useful one) to
    /// standard error, with control characters escaped: a message can
    /// quote what the service said.
    pub(crate) fn report(&self) -> ExitCode {
        eprintln!("error: {}", clean(&self.message()));
        if let Some(hint) = self.hint() {
            eprintln!("hint: {}", clean(&hint));
        }
        ExitCode::from(self.exit_code())
    }

    fn message(&self) -> String {
        match self {
            CliError::Usage(message)
            | CliError::NotFound(message)
            | CliError::Refused(message)
            | CliError::Other(message) => message.clone(),
            CliError::Api(error) => api_message(error),
            CliError::Wait { error, .. } => api_message(error),
            CliError::MayExist { error, what, .. } => format!(
                "{}; the service may have created {what} before the answer was lost",
                api_message(error)
            ),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            CliError::Api(error) => api_hint(error, "chc services get"),
            CliError::Wait { error, check } => api_hint(error, check),
            CliError::MayExist { what, check, .. } => Some(format!(
                "check with `{check}` whether {what} exists before creating it again, so as not \
                 to make a second one"
            )),
            _ => None,
        }
    }
}

/// The hint for a failed call or wait; `check` is the command that shows
/// where the work of a wait out of time is.
fn api_hint(error: &ClientError, check: &str) -> Option<String> {
    let status = error.status().map(|status| status.as_u16());
    match status {
        Some(401) => Some(
            "check the key ID and secret, and that the key is enabled and not expired \
             (`chc auth status` shows which credentials are in use)"
                .into(),
        ),
        Some(403) => Some(match operation_of(error) {
            Some(operation) => format!(
                "the key's roles do not allow {operation}; use a key with a role that does \
                 (`chc auth status` shows which key is in use)"
            ),
            None => "the key's roles do not allow this operation".into(),
        }),
        _ if matches!(error, ClientError::WaitTimedOut { .. }) => Some(format!(
            "the service goes on with the work; see where it is with `{check}`, or wait longer \
             with --timeout"
        )),
        _ if error.is_rate_limited() => Some(match error.retry_after() {
            Some(wait) => format!(
                "rate limited even after retries; try again in {} s",
                wait.as_secs_f64().ceil().max(1.0)
            ),
            None => "rate limited even after retries; try again later".into(),
        }),
        _ => None,
    }
}

/// Status, code, message and requestId, without the operation name in
/// front; for a call the service may have acted on, what is known of that.
fn api_message(error: &ClientError) -> String {
    match error {
        ClientError::Api { error, .. } => error.to_string(),
        ClientError::Transport { source, .. } => source.to_string(),
        ClientError::MayHaveActed { error, earlier, .. } => match earlier {
            Some(how) => format!(
                "{} (an earlier attempt failed in transit: {how})",
                api_message(error)
            ),
            None => api_message(error),
        },
        other => other.to_string(),
    }
}

/// The `operationId` of the call that failed, when the error names it.
fn operation_of(error: &ClientError) -> Option<&'static str> {
    match error {
        ClientError::Api { operation, .. }
        | ClientError::Transport { operation, .. }
        | ClientError::MayHaveActed { operation, .. } => Some(operation),
        _ => None,
    }
}

/// 401/403 -> 3, 404 -> 4, rate limited (a 429, or the client-side
/// limiter's wait beyond the time budget) -> 5, a wait out of time -> 6, a
/// bad base URL -> 2, the rest -> 1.
fn api_exit_code(error: &ClientError) -> u8 {
    if let ClientError::WaitTimedOut { .. } = error {
        return code::WAIT_TIMED_OUT;
    }
    if let ClientError::Transport {
        source: TransportError::Config(_),
        ..
    } = error
    {
        return code::USAGE;
    }
    if error.is_rate_limited() {
        return code::RATE_LIMITED;
    }
    match error.status().map(|status| status.as_u16()) {
        Some(401 | 403) => code::AUTH,
        Some(404) => code::NOT_FOUND,
        _ => code::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clickhouse_cloud_client::transport::{ApiError, StatusCode};

    use super::*;

    #[test]
    fn rate_limiting_exits_5_whoever_noticed_it() {
        let client_side = CliError::Api(ClientError::Transport {
            operation: "organizationGet",
            source: TransportError::RateLimited {
                operation: "organizationGet",
                wait: Duration::from_millis(8200),
                budget_left: Duration::from_secs(1),
            },
        });
        assert_eq!(client_side.exit_code(), code::RATE_LIMITED);
        assert_eq!(
            client_side.hint().as_deref(),
            Some("rate limited even after retries; try again in 9 s")
        );
        let server_side = CliError::Api(ClientError::Api {
            operation: "organizationGet",
            error: Box::new(ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: Some("TOO_MANY_REQUESTS".into()),
                message: String::new(),
                request_id: None,
                retry_after: None,
                service_hold: None,
            }),
        });
        assert_eq!(server_side.exit_code(), code::RATE_LIMITED);
        let timeout = CliError::Api(ClientError::Transport {
            operation: "organizationGet",
            source: TransportError::Timeout {
                operation: "organizationGet",
                after: Duration::from_secs(1),
                request_id: None,
            },
        });
        assert_eq!(timeout.exit_code(), code::FAILURE);
    }

    #[test]
    fn a_wait_out_of_time_exits_6_and_a_failed_one_1() {
        let timed_out = CliError::Api(ClientError::WaitTimedOut {
            resource: "service",
            id: "8b2c".into(),
            target: "running".into(),
            last_state: Some("provisioning".into()),
            budget: Duration::from_secs(1),
        });
        assert_eq!(timed_out.exit_code(), code::WAIT_TIMED_OUT);
        assert!(timed_out.hint().unwrap().contains("--timeout"));
        assert!(timed_out.hint().unwrap().contains("`chc services get`"));
        let waited = CliError::Wait {
            error: Box::new(ClientError::WaitTimedOut {
                resource: "Postgres service",
                id: "8b2c".into(),
                target: "running".into(),
                last_state: None,
                budget: Duration::from_secs(1),
            }),
            check: "chc postgres get 8b2c".into(),
        };
        assert_eq!(waited.exit_code(), code::WAIT_TIMED_OUT);
        let hint = waited.hint().unwrap();
        assert!(hint.contains("`chc postgres get 8b2c`"), "{hint}");
        assert!(!hint.contains("services"), "{hint}");
        let failed = CliError::Api(ClientError::WaitFailed {
            resource: "service",
            id: "8b2c".into(),
            target: "running".into(),
            state: "failed".into(),
        });
        assert_eq!(failed.exit_code(), code::FAILURE);
    }
}
