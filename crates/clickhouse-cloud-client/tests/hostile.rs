//! What a server sends cannot change what a call does: a `Retry-After` of
//! days, pages capped below the size asked for, a redirect to another
//! origin, an answer without its `result`, a response whose body breaks
//! off. Each against a small HTTP server on loopback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use clickhouse_cloud_client::transport::{DEFAULT_MAX_PAUSE, Error as TransportError};
use clickhouse_cloud_client::types::ops::{
    ActiveBalancesGetQuery, ClickStackListAlertsQuery, OpenapiKeyGetListQuery,
};
use clickhouse_cloud_client::types::{
    ClickStackCreateDashboardRequest, ServiceStatePatchRequest, ServiceStatePatchRequestCommand,
};
use clickhouse_cloud_client::{Client, Error, NewApiKey, Role};
use serde_json::{Value, json};
use uuid::Uuid;

/// Serves `router` on a loopback port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    url
}

/// A client of `url` with a key of its own (so that no other test shares
/// its rate limiter).
fn client(url: &str) -> clickhouse_cloud_client::ClientBuilder {
    Client::builder()
        .credentials(clickhouse_cloud_client::auth::KeyMaterial::generate().into_credentials())
        .base_url(url)
}

fn json_response(status: StatusCode, body: Value, headers: &[(&'static str, &str)]) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    response
}

// --- A `Retry-After` of days -------------------------------------------

/// Answers the first request with `429` and `Retry-After: 864000` (ten
/// days), every later one with an empty organization list.
async fn ten_days_server() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route(
            "/v1/organizations",
            get(|State(count): State<Arc<AtomicUsize>>| async move {
                if count.fetch_add(1, Ordering::SeqCst) == 0 {
                    json_response(
                        StatusCode::TOO_MANY_REQUESTS,
                        json!({"error": "TOO_MANY_REQUESTS", "requestId": "r-429"}),
                        &[("retry-after", "864000")],
                    )
                } else {
                    json_response(
                        StatusCode::OK,
                        json!({"status": 200, "requestId": "r-ok", "result": []}),
                        &[],
                    )
                }
            }),
        )
        .with_state(Arc::clone(&count));
    (serve(router).await, count)
}

#[tokio::test]
async fn a_retry_after_of_days_ends_the_call_at_once_naming_the_wait() {
    let (url, count) = ten_days_server().await;
    let credentials = clickhouse_cloud_client::auth::KeyMaterial::generate().into_credentials();
    let build = || {
        Client::builder()
            .credentials(credentials.clone())
            .base_url(&url)
            .rate_limit_max_pause(Duration::from_millis(800))
            .build()
            .unwrap()
    };
    let (first, second) = (build(), build());
    let started = Instant::now();
    let error = first.organizations().list().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(error.is_rate_limited(), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(864_000)));
    assert_eq!(error.request_id(), Some("r-429"));
    let text = error.to_string();
    assert!(text.contains("864000 s (10.0 days)"), "{text}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "nothing was resent");

    // The other client of the key is held back for the bounded pause only.
    let started = Instant::now();
    let orgs = second.organizations().list().await.unwrap();
    assert!(orgs.is_empty());
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test]
async fn by_default_one_answer_pauses_the_key_for_minutes_at_most() {
    let (url, _count) = ten_days_server().await;
    let credentials = clickhouse_cloud_client::auth::KeyMaterial::generate().into_credentials();
    let build = |budget: Duration| {
        Client::builder()
            .credentials(credentials.clone())
            .base_url(&url)
            .total_timeout(Some(budget))
            .build()
            .unwrap()
    };
    // The first client stays alive: clients of a key share the limiter
    // while one of them holds it.
    let first = build(Duration::from_secs(120));
    first.organizations().list().await.unwrap_err();
    // A second client with a short budget is refused at once, and the
    // wait it is told is the bounded pause, not ten days.
    let started = Instant::now();
    let error = build(Duration::from_secs(2))
        .organizations()
        .list()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    match &error {
        Error::Transport {
            source: TransportError::RateLimited { wait, .. },
            ..
        } => {
            assert!(*wait <= DEFAULT_MAX_PAUSE, "{wait:?}");
            assert!(*wait > Duration::from_secs(60), "{wait:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("rate limited"), "{error}");
}

#[tokio::test]
async fn a_rate_limit_reset_of_days_on_a_success_pauses_briefly() {
    let count = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route(
            "/v1/organizations",
            get(|State(count): State<Arc<AtomicUsize>>| async move {
                count.fetch_add(1, Ordering::SeqCst);
                json_response(
                    StatusCode::OK,
                    json!({"status": 200, "result": []}),
                    &[
                        ("x-ratelimit-remaining", "0"),
                        ("x-ratelimit-reset", "864000"),
                    ],
                )
            }),
        )
        .with_state(Arc::clone(&count));
    let url = serve(router).await;
    let client = client(&url)
        .rate_limit_max_pause(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        client.organizations().list().await.unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() < Duration::from_secs(5));
}

// --- Pages capped below the size asked for ------------------------------

/// An offset list of `total` alerts that serves at most `cap` per page,
/// whatever the request asks; with `says_limit`, the envelope names the
/// cap. Keeps every `limit` asked for.
fn capped_alerts(total: usize, cap: usize, says_limit: bool) -> (Router, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let router = Router::new()
        .route(
            "/v1/organizations/{org}/services/{service}/clickstack/alerts",
            get(
                move |State(asked): State<Arc<Mutex<Vec<String>>>>,
                      Query(query): Query<HashMap<String, String>>| async move {
                    let limit = query.get("limit").cloned().unwrap_or_default();
                    asked.lock().unwrap().push(limit.clone());
                    let offset: usize = query
                        .get("offset")
                        .and_then(|o| o.parse().ok())
                        .unwrap_or(0);
                    let limit: usize = limit.parse().unwrap_or(cap).min(cap);
                    let items: Vec<Value> = (offset..total.min(offset + limit))
                        .map(|i| json!({"id": format!("alert-{i}")}))
                        .collect();
                    let mut body = json!({"status": 200, "result": items});
                    if says_limit {
                        body["limit"] = json!(limit);
                    }
                    json_response(StatusCode::OK, body, &[])
                },
            ),
        )
        .with_state(Arc::clone(&asked));
    (router, asked)
}

#[tokio::test]
async fn an_offset_list_capped_below_the_page_size_is_read_to_the_end() {
    for says_limit in [false, true] {
        let (router, asked) = capped_alerts(23, 7, says_limit);
        let url = serve(router).await;
        let client = client(&url).rate_limit(None).build().unwrap();
        let alerts = client
            .clickstack(Uuid::nil())
            .click_stack_list_alerts_stream(Uuid::nil(), ClickStackListAlertsQuery::default())
            .page_size(10)
            .all()
            .await
            .unwrap();
        let ids: Vec<String> = alerts.into_iter().filter_map(|a| a.id).collect();
        let expected: Vec<String> = (0..23).map(|i| format!("alert-{i}")).collect();
        assert_eq!(ids, expected, "says_limit {says_limit}");
        let asked = asked.lock().unwrap().clone();
        // 7 + 7 + 7 + 2; without the envelope's limit, one more (empty)
        // page says the list is over.
        let pages = if says_limit { 4 } else { 5 };
        assert_eq!(asked.len(), pages, "{asked:?}");
        assert!(asked.iter().all(|limit| limit == "10"), "{asked:?}");
    }
}

#[tokio::test]
async fn an_offset_list_stops_at_the_total_count() {
    let asked = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route(
            "/v1/organizations/{org}/activeBalances",
            get(
                |State(asked): State<Arc<AtomicUsize>>,
                 Query(query): Query<HashMap<String, String>>| async move {
                    asked.fetch_add(1, Ordering::SeqCst);
                    let offset: usize = query
                        .get("offset")
                        .and_then(|o| o.parse().ok())
                        .unwrap_or(0);
                    let items: Vec<Value> = (offset..6.min(offset + 3))
                        .map(|i| json!({"totalAmount": i}))
                        .collect();
                    json_response(
                        StatusCode::OK,
                        json!({"status": 200, "totalCount": 6, "result": {"prepaidBalances": items}}),
                        &[],
                    )
                },
            ),
        )
        .with_state(Arc::clone(&asked));
    let url = serve(router).await;
    let client = client(&url).rate_limit(None).build().unwrap();
    let balances = client
        .billing(Uuid::nil())
        .active_balances_get_stream(ActiveBalancesGetQuery::default())
        .all()
        .await
        .unwrap();
    assert_eq!(balances.len(), 6);
    // Three items a page although 100 were asked for; the total says when
    // to stop, with no extra request.
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_page_size_above_the_lists_maximum_is_clamped_to_it() {
    let (router, asked) = capped_alerts(3, 5000, false);
    let url = serve(router).await;
    let client = client(&url).rate_limit(None).build().unwrap();
    let stream = client
        .clickstack(Uuid::nil())
        .click_stack_list_alerts_stream(Uuid::nil(), ClickStackListAlertsQuery::default())
        .page_size(5000);
    assert_eq!(stream.asked_page_size(), 1000);
    assert_eq!(stream.all().await.unwrap().len(), 3);
    // The spec's maximum for clickStackListAlerts is 1000.
    assert_eq!(asked.lock().unwrap()[0], "1000");
}

#[tokio::test]
async fn a_cursor_list_that_hands_out_empty_pages_ends() {
    let count = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route(
            "/v1/organizations/{org}/keys",
            get(|State(count): State<Arc<AtomicUsize>>| async move {
                let n = count.fetch_add(1, Ordering::SeqCst);
                json_response(
                    StatusCode::OK,
                    json!({"status": 200, "result": [], "nextCursor": format!("c{n}")}),
                    &[],
                )
            }),
        )
        .with_state(Arc::clone(&count));
    let url = serve(router).await;
    let client = client(&url).rate_limit(None).build().unwrap();
    let keys = client
        .items::<clickhouse_cloud_client::types::ops::OpenapiKeyGetList>(
            clickhouse_cloud_client::types::ops::OrganizationPath {
                organization_id: Uuid::nil(),
            },
            OpenapiKeyGetListQuery::default(),
        )
        .all()
        .await
        .unwrap();
    assert!(keys.is_empty());
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

// --- Request IDs on every error an answer came with -----------------------

#[tokio::test]
async fn errors_keep_the_request_id_of_the_answer_they_came_from() {
    let router = Router::new()
        // A body that does not decode, its ID only in a header.
        .route(
            "/v1/organizations",
            get(|| async {
                json_response(
                    StatusCode::OK,
                    json!({"status": 200, "result": [{"name": 42}]}),
                    &[("x-request-id", "hdr-decode")],
                )
            }),
        );
    let url = serve(router).await;
    let client = client(&url)
        .rate_limit(None)
        .retry_policy(clickhouse_cloud_client::transport::NoRetry)
        .build()
        .unwrap();
    let error = client.organizations().list().await.unwrap_err();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert_eq!(error.request_id(), Some("hdr-decode"));

    // A body cut off after the head (status and headers) arrived.
    let cut = cut_off_server().await;
    let client = self::client(&cut)
        .rate_limit(None)
        .retry_policy(clickhouse_cloud_client::transport::NoRetry)
        .build()
        .unwrap();
    let error = client
        .organization(Uuid::nil())
        .organization_get()
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Transport {
                source: TransportError::Io { .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.request_id(), Some("hdr-cut"), "{error:?}");
    assert!(error.to_string().contains("hdr-cut"), "{error}");
}

/// Answers one request with a head promising 400 bytes, sends a few, and
/// closes the connection.
async fn cut_off_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                      x-request-id: hdr-cut\r\ncontent-length: 400\r\n\r\n{\"result\":{";
        socket.write_all(answer.as_bytes()).await.unwrap();
        socket.flush().await.unwrap();
        drop(socket);
    });
    url
}

// --- Redirects ------------------------------------------------------------

#[tokio::test]
async fn a_redirect_to_another_origin_is_an_error_naming_it_and_is_not_followed() {
    let elsewhere_hits = Arc::new(AtomicUsize::new(0));
    let elsewhere = serve(
        Router::new()
            .fallback(any(|State(hits): State<Arc<AtomicUsize>>| async move {
                hits.fetch_add(1, Ordering::SeqCst);
                json_response(StatusCode::OK, json!({"result": []}), &[])
            }))
            .with_state(Arc::clone(&elsewhere_hits)),
    )
    .await;
    let hits = Arc::new(AtomicUsize::new(0));
    let target = format!("{elsewhere}/v1/organizations");
    let origin = serve(
        Router::new()
            .fallback(any(move |State(hits): State<Arc<AtomicUsize>>| {
                let target = target.clone();
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    json_response(
                        StatusCode::TEMPORARY_REDIRECT,
                        json!({}),
                        &[("location", &target), ("x-request-id", "r-307")],
                    )
                }
            }))
            .with_state(Arc::clone(&hits)),
    )
    .await;
    let client = client(&origin).rate_limit(None).build().unwrap();

    let error = client.organizations().list().await.unwrap_err();
    match &error {
        Error::Transport {
            source: TransportError::Redirect { location, .. },
            ..
        } => assert_eq!(
            location.as_deref(),
            Some(format!("{elsewhere}/v1/organizations").as_str())
        ),
        other => panic!("{other:?}"),
    }
    assert!(!error.is_retryable());
    assert_eq!(error.request_id(), Some("r-307"));
    assert!(error.to_string().contains(&elsewhere), "{error}");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "a redirect is not retried");

    // A POST is not sent on either.
    let org = Uuid::nil();
    let error = client
        .api_keys(org)
        .create(NewApiKey::new("k").role(Role::Id(Uuid::nil())))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::TEMPORARY_REDIRECT));
    assert!(!error.may_have_acted());
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
}

// --- Answers without a result ---------------------------------------------

#[tokio::test]
async fn an_answer_without_a_result_fails_a_read_or_create_but_not_an_update() {
    let router = Router::new()
        .route(
            "/v1/organizations/{org}/services/{service}/state",
            any(|| async { json_response(StatusCode::OK, json!({}), &[]) }),
        )
        .route(
            "/v1/organizations/{org}/services/{service}/clickstack/dashboards/validate",
            any(|| async { json_response(StatusCode::OK, json!({"status": 200}), &[]) }),
        )
        .route(
            "/v1/organizations/{org}/services/{service}",
            get(|| async {
                json_response(
                    StatusCode::OK,
                    json!({"status": 200, "requestId": "r-empty"}),
                    &[],
                )
            }),
        )
        .route(
            "/v1/organizations/{org}/keys",
            any(|| async {
                json_response(
                    StatusCode::OK,
                    json!({"status": 200, "requestId": "r-new"}),
                    &[],
                )
            }),
        );
    let url = serve(router).await;
    let client = client(&url).rate_limit(None).build().unwrap();
    let (org, service) = (Uuid::nil(), Uuid::nil());

    // A state change: done when the service says 200; its result is empty.
    let stopped = client
        .services(org)
        .instance_state_update(
            service,
            ServiceStatePatchRequest::new(ServiceStatePatchRequestCommand::Stop),
        )
        .await
        .unwrap();
    assert!(!stopped.carried_result());
    assert_eq!(stopped.state, None);

    // A validation answering only a status.
    let validated = client
        .clickstack(org)
        .click_stack_validate_dashboard(service, ClickStackCreateDashboardRequest::new("d", vec![]))
        .await
        .unwrap();
    assert!(!validated.carried_result());
    assert_eq!(validated.valid, None);

    // A read: the caller needs the result.
    let error = client
        .services(org)
        .instance_get(service)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MissingResult { .. }), "{error:?}");
    assert_eq!(error.request_id(), Some("r-empty"));
    assert!(error.to_string().contains("no result"), "{error}");

    // A list and a create too.
    let error = client.api_keys(org).list().await.unwrap_err();
    assert!(matches!(error, Error::MissingResult { .. }), "{error:?}");
    let error = client
        .api_keys(org)
        .create(NewApiKey::new("k").role(Role::Id(Uuid::nil())))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MissingResult { .. }), "{error:?}");
    assert_eq!(error.request_id(), Some("r-new"));
}
