//! Role lookup against a small HTTP server on loopback whose organization
//! lacks a system role (every emulated organization has them all).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use clickhouse_cloud_client::transport::NoRetry;
use clickhouse_cloud_client::{Client, Credentials, Error, KeyId, KeySecret, NewApiKey, Role};
use serde_json::json;
use uuid::Uuid;

#[derive(Default)]
struct Counts {
    roles: AtomicUsize,
    creates: AtomicUsize,
}

#[tokio::test]
async fn a_system_role_the_organization_lacks_is_named_and_nothing_is_created() {
    let counts = Arc::new(Counts::default());
    let router = Router::new()
        .route(
            "/v1/organizations/{org}/roles",
            get(|State(counts): State<Arc<Counts>>| async move {
                counts.roles.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({"result": [
                    {"id": Uuid::from_u128(1).to_string(), "name": "Admin", "type": "system"},
                    {"id": Uuid::from_u128(2).to_string(), "name": "Billing", "type": "custom"},
                ]}))
            }),
        )
        .route(
            "/v1/organizations/{org}/keys",
            post(|State(counts): State<Arc<Counts>>| async move {
                counts.creates.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({"status": 500}))
            }),
        )
        .with_state(Arc::clone(&counts));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = Client::builder()
        .credentials(Credentials::new(
            KeyId::new("local-test").unwrap(),
            KeySecret::new(format!("s-{}", Uuid::new_v4())).unwrap(),
        ))
        .base_url(format!("http://{addr}"))
        .rate_limit(None)
        .retry_policy(NoRetry)
        .build()
        .unwrap();
    let org = Uuid::from_u128(42);
    // A custom role of the same name is not the system role.
    let error = client
        .api_keys(org)
        .create(NewApiKey::new("k").role(Role::Admin).role(Role::Billing))
        .await
        .unwrap_err();
    match &error {
        Error::UnknownRole {
            role,
            organization_id,
        } => {
            assert_eq!(*role, Role::Billing);
            assert_eq!(*organization_id, org);
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("no system role"), "{error}");
    assert_eq!(counts.creates.load(Ordering::SeqCst), 0);
    // Found once, kept: the second lookup asks nobody.
    assert_eq!(
        client.roles(org).resolve(Role::Admin).await.unwrap(),
        Uuid::from_u128(1)
    );
    assert_eq!(counts.roles.load(Ordering::SeqCst), 1);
    // Role IDs need no lookup at all.
    let other_org = Uuid::from_u128(43);
    let id = Uuid::from_u128(7);
    assert_eq!(
        client.roles(other_org).resolve(Role::Id(id)).await.unwrap(),
        id
    );
    assert_eq!(counts.roles.load(Ordering::SeqCst), 1);
}
