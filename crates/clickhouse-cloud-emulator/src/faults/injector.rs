//! The middleware: counts every request, decides its fault and makes it
//! happen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use uuid::Uuid;

use super::broken::{cut_off, reset};
use super::{Fault, FaultPlan, InjectedFault, Selector};
use crate::RateLimit;
use crate::error::ApiError;
use crate::pipeline::{error_response, seconds};
use crate::routes::{MAX_BODY, Table};

/// The plan in force and what it has counted and done so far.
struct Progress {
    plan: FaultPlan,
    requests: u64,
    per_operation: HashMap<&'static str, u64>,
    per_method: HashMap<Method, u64>,
    log: Vec<InjectedFault>,
}

impl Progress {
    fn new(plan: FaultPlan) -> Self {
        Self {
            plan,
            requests: 0,
            per_operation: HashMap::new(),
            per_method: HashMap::new(),
            log: Vec::new(),
        }
    }
}

/// The middleware's state: shared with [`crate::RunningEmulator`].
pub(crate) struct Injector {
    progress: Mutex<Progress>,
    routes: Arc<Table>,
    rate_limit: RateLimit,
}

impl Injector {
    pub(crate) fn new(routes: Arc<Table>, plan: FaultPlan, rate_limit: Option<RateLimit>) -> Self {
        Self {
            progress: Mutex::new(Progress::new(plan)),
            routes,
            rate_limit: rate_limit.unwrap_or_default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Installs a plan and starts counting (and logging) afresh.
    pub(crate) fn set_plan(&self, plan: FaultPlan) {
        *self.lock() = Progress::new(plan);
    }

    pub(crate) fn log(&self) -> Vec<InjectedFault> {
        self.lock().log.clone()
    }

    pub(crate) fn injected(&self) -> usize {
        self.lock().log.len()
    }

    pub(crate) fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Counts a request and decides its fault.
    fn decide(&self, method: &Method, path: &str) -> Option<Fault> {
        let operation = self.routes.operation_id(method.as_str(), path);
        let mut progress = self.lock();
        let progress = &mut *progress;
        progress.requests = progress.requests.saturating_add(1);
        let request = progress.requests;
        let by_operation = operation.map(|id| {
            let count = progress.per_operation.entry(id).or_insert(0);
            *count = count.saturating_add(1);
            *count
        });
        let by_method = {
            let count = progress.per_method.entry(method.clone()).or_insert(0);
            *count = count.saturating_add(1);
            *count
        };
        let scripted = progress.plan.rules.iter().find(|rule| {
            let count = match &rule.selector {
                Selector::Every => Some(request),
                Selector::Operation(id) => by_operation.filter(|_| operation == Some(id.as_str())),
                Selector::Method(m) => (m == method).then_some(by_method),
            };
            count == Some(rule.nth)
        });
        let fault = match scripted {
            Some(rule) => rule.fault.clone(),
            None => progress.plan.draw(request)?,
        };
        progress.log.push(InjectedFault {
            request,
            method: method.clone(),
            path: path.to_owned(),
            operation_id: operation,
            fault: fault.clone(),
        });
        Some(fault)
    }

    /// The answer to a request that gets `fault` without being executed.
    fn answer(&self, fault: &Fault) -> Option<Response> {
        let response = match fault {
            Fault::TooManyRequests { retry_after } => {
                let mut response = error_response(Uuid::new_v4(), &ApiError::rate_limited(), None);
                let limit = self.rate_limit;
                let headers = response.headers_mut();
                let mut set = |name: &'static str, value: String| {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(HeaderName::from_static(name), value);
                    }
                };
                set("x-ratelimit-limit", limit.requests.to_string());
                set("x-ratelimit-remaining", "0".to_owned());
                set(
                    "x-ratelimit-policy",
                    format!(
                        "{};w={}",
                        limit.requests,
                        seconds(limit.window.as_secs_f64())
                    ),
                );
                if let Some(wait) = retry_after {
                    set("x-ratelimit-reset", seconds(wait.as_secs_f64()));
                    let whole = wait
                        .as_secs()
                        .saturating_add(u64::from(wait.subsec_nanos() > 0));
                    headers.insert(RETRY_AFTER, HeaderValue::from(whole));
                }
                response
            }
            Fault::BareTooManyRequests => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    r#"{"error":"TOO_MANY_REQUESTS"}"#,
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Fault::Status(code) => {
                let status = StatusCode::from_u16(*code)
                    .ok()
                    .filter(|status| status.is_client_error() || status.is_server_error())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let error = ApiError::new(status, "fault injected by the emulator");
                error_response(Uuid::new_v4(), &error, None)
            }
            Fault::HtmlGateway(code) => {
                let status = StatusCode::from_u16(*code)
                    .ok()
                    .filter(|status| status.is_client_error() || status.is_server_error())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                let title = format!(
                    "{} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("Error")
                );
                let page = format!(
                    "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n\
                     <center><h1>{title}</h1></center>\r\n<hr><center>emulated-cdn</center>\r\n\
                     </body>\r\n</html>\r\n"
                );
                let mut response = (status, page).into_response();
                let headers = response.headers_mut();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
                let cdn_id = format!("{}==", Uuid::new_v4().simple());
                if let Ok(value) = HeaderValue::from_str(&cdn_id) {
                    headers.insert("x-amz-cf-id", value);
                }
                response
            }
            Fault::ResetBeforeActing => reset(),
            Fault::Slow(_) | Fault::CutOffBody | Fault::ResetAfterActing => return None,
        };
        Some(response)
    }
}

/// The middleware: counts every request, and injects the fault the plan
/// gives it, if any.
pub(crate) async fn inject(
    State(injector): State<Arc<Injector>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(fault) = injector.decide(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    if let Some(response) = injector.answer(&fault) {
        // Read the request body, unexecuted: closing a connection with
        // unread bytes would make the kernel send a reset the client may
        // see before (or instead of) the answer.
        let _ = axum::body::to_bytes(request.into_body(), MAX_BODY).await;
        return response;
    }
    let response = next.run(request).await;
    match fault {
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            response
        }
        Fault::CutOffBody => cut_off(response).await,
        _ => reset(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_rules_count_their_own_requests() {
        let org = Uuid::new_v4();
        let keys = format!("/v1/organizations/{org}/keys");
        let injector = Injector::new(
            Arc::new(Table::new()),
            FaultPlan::new()
                .on_operation("openapiKeyCreate", 2, Fault::ResetAfterActing)
                .on_request(3, Fault::Status(503))
                .on_method(Method::GET, 3, Fault::Status(500))
                .on_request(0, Fault::CutOffBody),
            None,
        );
        let seen: Vec<Option<Fault>> = [
            (Method::GET, keys.as_str()),  // 1, GET 1
            (Method::POST, keys.as_str()), // 2, create 1
            (Method::GET, keys.as_str()),  // 3, GET 2: 3rd request
            (Method::POST, keys.as_str()), // 4, create 2
            (Method::GET, "/nowhere"),     // 5, GET 3
            (Method::GET, keys.as_str()),  // 6
        ]
        .iter()
        .map(|(method, path)| injector.decide(method, path))
        .collect();
        assert_eq!(
            seen,
            [
                None,
                None,
                Some(Fault::Status(503)),
                Some(Fault::ResetAfterActing),
                Some(Fault::Status(500)),
                None
            ]
        );
        let log = injector.log();
        assert_eq!(log.len(), 3);
        assert_eq!(log[1].request, 4);
        assert_eq!(log[1].operation_id, Some("openapiKeyCreate"));
        assert_eq!(log[2].operation_id, None);
        assert_eq!(log[2].path, "/nowhere");
        assert_eq!(injector.requests(), 6);

        injector.set_plan(FaultPlan::new().on_request(1, Fault::CutOffBody));
        assert_eq!((injector.injected(), injector.requests()), (0, 0));
        assert_eq!(injector.decide(&Method::GET, "/"), Some(Fault::CutOffBody));
    }
}
