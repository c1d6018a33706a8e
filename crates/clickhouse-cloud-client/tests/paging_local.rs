//! Paging against small HTTP servers on loopback that misbehave in ways the
//! emulator does not: a cursor handed out twice, an offset list, a list
//! that says nothing of its size.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use clickhouse_cloud_client::transport::NoRetry;
use clickhouse_cloud_client::types::ops::{ClickStackListAlertsQuery, UdfListQuery};
use clickhouse_cloud_client::{Client, Credentials, Error, KeyId, KeySecret};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use uuid::Uuid;

/// What the server saw: the query of every request, in order.
type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn client(addr: SocketAddr) -> Client {
    Client::builder()
        .credentials(Credentials::new(
            KeyId::new("local-test").unwrap(),
            KeySecret::new(format!("s-{}", Uuid::new_v4())).unwrap(),
        ))
        .base_url(format!("http://{addr}"))
        .rate_limit(None)
        .retry_policy(NoRetry)
        .build()
        .unwrap()
}

fn key(n: usize) -> Value {
    json!({"id": Uuid::from_u128(n as u128).to_string(), "name": format!("key-{n}")})
}

/// Keys 0..5 in pages of two; the third page's cursor is the second's.
async fn repeating_keys(
    State(seen): State<Seen>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    seen.lock().unwrap().push(query.clone());
    let (items, next) = match query.get("cursor").map(String::as_str) {
        None => (vec![key(0), key(1)], json!("c1")),
        Some("c1") => (vec![key(2), key(3)], json!("c2")),
        // Hands out c1 again: following it would loop for ever.
        Some(_) => (vec![key(4)], json!("c1")),
    };
    axum::Json(json!({"status": 200, "requestId": "r", "result": items, "nextCursor": next}))
}

#[tokio::test]
async fn a_repeated_cursor_ends_the_stream_with_an_error() {
    let seen = Seen::default();
    let router = Router::new()
        .route("/v1/organizations/{org}/keys", get(repeating_keys))
        .with_state(Arc::clone(&seen));
    let client = client(serve(router).await);
    let keys = client.api_keys(Uuid::nil());

    let mut stream = keys.stream().page_size(2);
    let mut names = Vec::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(key) => names.push(key.name.unwrap()),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    // Every item the service did send, then the error; nothing after.
    assert_eq!(names, ["key-0", "key-1", "key-2", "key-3", "key-4"]);
    match error {
        Some(Error::RepeatedCursor {
            operation, page, ..
        }) => {
            assert_eq!(operation, "openapiKeyGetList");
            assert_eq!(page, 3);
        }
        other => panic!("{other:?}"),
    }
    assert!(stream.next().await.is_none());
    assert_eq!(seen.lock().unwrap().len(), 3);

    // `list` reports the same error instead of looping.
    let error = keys.list().await.unwrap_err();
    assert!(
        matches!(error, Error::RepeatedCursor { page: 3, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("page 3"), "{error}");

    // Each request asked for the page size and the previous page's cursor.
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].get("limit").map(String::as_str), Some("2"));
    assert_eq!(seen[0].get("cursor"), None);
    assert_eq!(seen[1].get("cursor").map(String::as_str), Some("c1"));
    assert_eq!(seen[2].get("cursor").map(String::as_str), Some("c2"));
}

/// 23 alerts, served by `offset` and `limit`.
async fn alerts(
    State(seen): State<Seen>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    seen.lock().unwrap().push(query.clone());
    let offset: usize = query.get("offset").map_or(0, |o| o.parse().unwrap());
    let limit: usize = query["limit"].parse().unwrap();
    let lines: Vec<Value> = (offset..23.min(offset + limit))
        .map(|n| json!({"id": format!("alert {n}")}))
        .collect();
    axum::Json(json!({"status": 200, "requestId": "r", "result": lines}))
}

#[tokio::test]
async fn an_offset_list_stops_on_an_empty_page() {
    // The envelope names neither its limit nor a total: a page shorter
    // than asked may be the service's cap, so only an empty page ends the
    // list (one request more than the pages holding items).
    for (page_size, requests) in [(1, 24), (7, 5), (23, 2), (250, 2)] {
        let seen = Seen::default();
        let router = Router::new()
            .route(
                "/v1/organizations/{org}/services/{id}/clickstack/alerts",
                get(alerts),
            )
            .with_state(Arc::clone(&seen));
        let client = client(serve(router).await);
        let alerts = client
            .clickstack(Uuid::nil())
            .click_stack_list_alerts_stream(Uuid::nil(), ClickStackListAlertsQuery::default())
            .page_size(page_size)
            .all()
            .await
            .unwrap();
        let ids: Vec<String> = alerts.into_iter().filter_map(|a| a.id).collect();
        let expected: Vec<String> = (0..23).map(|n| format!("alert {n}")).collect();
        assert_eq!(ids, expected, "page size {page_size}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), requests, "page size {page_size}");
        for (n, query) in seen.iter().enumerate() {
            assert_eq!(query["limit"], page_size.to_string());
            let offset = query.get("offset").map_or(0, |o| o.parse().unwrap());
            // Each page starts after the items already received.
            assert_eq!(
                offset,
                (n * page_size as usize).min(23),
                "page size {page_size}"
            );
        }
    }
}

/// The same three alerts whatever the offset: a service that ignores it.
async fn alerts_ignoring_offset(
    State(seen): State<Seen>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    seen.lock().unwrap().push(query);
    let lines: Vec<Value> = (0..3)
        .map(|n| json!({"id": format!("alert {n}")}))
        .collect();
    axum::Json(json!({"status": 200, "requestId": "same-page", "result": lines}))
}

#[tokio::test]
async fn an_offset_list_whose_pages_repeat_ends_with_an_error() {
    let seen = Seen::default();
    let router = Router::new()
        .route(
            "/v1/organizations/{org}/services/{id}/clickstack/alerts",
            get(alerts_ignoring_offset),
        )
        .with_state(Arc::clone(&seen));
    let client = client(serve(router).await);
    let error = client
        .clickstack(Uuid::nil())
        .click_stack_list_alerts_stream(Uuid::nil(), ClickStackListAlertsQuery::default())
        .page_size(3)
        .all()
        .await
        .unwrap_err();
    match &error {
        Error::RepeatedPage {
            operation,
            page,
            request_id,
        } => {
            assert_eq!(*operation, "clickStackListAlerts");
            assert_eq!(*page, 2);
            assert_eq!(request_id.as_deref(), Some("same-page"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.request_id(), Some("same-page"));
    // The second page told it; no third request was sent.
    assert_eq!(seen.lock().unwrap().len(), 2);
}

/// A cursor list whose last page has `nextCursor: null`, another whose last
/// page has no `nextCursor` at all.
async fn udfs(Query(query): Query<HashMap<String, String>>) -> axum::Json<Value> {
    let udf = |name: &str| json!({"functionName": name});
    axum::Json(match query.get("cursor").map(String::as_str) {
        None => json!({"result": [udf("a")], "nextCursor": "n1", "totalCount": 3}),
        Some("n1") => json!({"result": [udf("b")], "nextCursor": "n2"}),
        Some(_) => json!({"result": [udf("c")], "nextCursor": null}),
    })
}

async fn udfs_absent(Query(query): Query<HashMap<String, String>>) -> axum::Json<Value> {
    axum::Json(match query.get("cursor") {
        None => json!({"result": [{"functionName": "x"}], "nextCursor": "more"}),
        Some(_) => json!({"result": [{"functionName": "y"}]}),
    })
}

#[tokio::test]
async fn a_null_or_absent_next_cursor_ends_the_list() {
    for (handler, expected) in [
        (get(udfs), vec!["a", "b", "c"]),
        (get(udfs_absent), vec!["x", "y"]),
    ] {
        let router = Router::new().route("/v1/organizations/{org}/udfs", handler);
        let mut stream = client(serve(router).await)
            .udfs(Uuid::nil())
            .udf_list_stream(UdfListQuery::default());
        let mut names = Vec::new();
        while let Some(udf) = stream.next().await {
            names.push(udf.unwrap().function_name.unwrap());
        }
        assert_eq!(names, expected);
        assert_eq!(stream.pages_fetched() as usize, expected.len());
    }
}
