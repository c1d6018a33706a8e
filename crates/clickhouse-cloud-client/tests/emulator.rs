//! The client against the emulator over loopback HTTP: every step of the
//! console's API-key flow, and every refusal.

use std::time::Duration;

use clickhouse_cloud_client::transport::{
    Error as TransportError, HttpRequest, Method, NoRetry, ReqwestTransport, StatusCode, Transport,
    check_status,
};
use clickhouse_cloud_client::types::ops::ActivityListQuery;
use clickhouse_cloud_client::types::{
    ActivityType, ApiKeyState, IpAccessListEntry, KeyUpdateType, LegacyRole,
};
use clickhouse_cloud_client::{
    Client, Credentials, Error, KeyId, KeySecret, KeyUpdate, NewApiKey, Role,
};
use clickhouse_cloud_emulator::{
    ADMIN_ROLE_ID, DEVELOPER_ROLE_ID, Emulator, EmulatorBuilder, QUERY_ENDPOINTS_ROLE_ID,
    RateLimit, RunningEmulator,
};
use uuid::Uuid;

/// An emulator without the rate limit (tests that need it set their own).
async fn emulator() -> RunningEmulator {
    start(Emulator::builder().rate_limit(None)).await
}

async fn start(builder: EmulatorBuilder) -> RunningEmulator {
    builder.start().await.expect("emulator starts on loopback")
}

/// A client with client-side limiting and retries off, so each call is
/// exactly one request and every refusal reaches the test.
fn client(emulator: &RunningEmulator, credentials: &Credentials) -> Client {
    Client::builder()
        .credentials(credentials.clone())
        .base_url(emulator.base_url())
        .rate_limit(None)
        .retry_policy(NoRetry)
        .build()
        .unwrap()
}

fn admin(emulator: &RunningEmulator) -> Client {
    client(emulator, emulator.bootstrap_credentials())
}

fn api_error(result: Result<impl std::fmt::Debug, Error>) -> clickhouse_cloud_client::ApiError {
    match result {
        Err(Error::Api { error, .. }) => *error,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn in_days(days: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(days)
}

#[tokio::test]
async fn console_flow_end_to_end() {
    let emulator = emulator().await;
    let org = emulator.organization_id();
    let admin = admin(&emulator);
    let keys = admin.api_keys(org);

    // Organizations.
    let orgs = admin.organizations().list().await.unwrap();
    assert!(orgs.request_id().is_some());
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].id, Some(org));
    assert_eq!(
        admin.organizations().sole().await.unwrap().unwrap().id,
        Some(org)
    );

    // Create: the secret comes back once, in the service's format.
    let expires = in_days(30);
    let created = keys
        .create(
            NewApiKey::new("deploy")
                .role(Role::Developer)
                .expires_at(expires),
        )
        .await
        .unwrap();
    let id = created.key.id.unwrap();
    assert!(created.credentials.key_secret().has_service_format());
    assert_eq!(created.key.name.as_deref(), Some("deploy"));
    assert_eq!(
        created.key.key_suffix.as_deref(),
        Some(created.credentials.key_id().suffix())
    );
    let assigned: Vec<_> = created
        .key
        .assigned_roles
        .iter()
        .flatten()
        .map(|r| (r.role_id, r.role_name.as_deref()))
        .collect();
    assert_eq!(assigned, [(Some(DEVELOPER_ROLE_ID), Some("Developer"))]);
    assert_eq!(created.key.state, Some(ApiKeyState::Enabled));
    assert_eq!(
        created.key.expires().map(|t| t.timestamp()),
        Some(expires.timestamp())
    );
    let secret = created.credentials.key_secret().expose().to_owned();
    assert!(!format!("{created:?}").contains(&secret));

    // The new key works, and its use is recorded to the minute.
    let as_new = client(&emulator, &created.credentials);
    assert_eq!(as_new.organizations().list().await.unwrap().len(), 1);
    let fetched = keys.get(id).await.unwrap();
    assert!(fetched.used_at.is_some());
    assert_eq!(fetched.used_at.unwrap().timestamp() % 60, 0);
    assert!(fetched.created_at.is_some());

    // Listed, never with a secret.
    let listed = keys.list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|k| k.id == Some(id)));
    let raw = serde_json::to_string(&*listed).unwrap();
    assert!(!raw.contains(&secret));

    // Rename, change role, never expires.
    let renamed = keys
        .update(id, KeyUpdate::new().name("deploy-2"))
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("deploy-2"));
    assert_eq!(
        renamed.expires().map(|t| t.timestamp()),
        Some(expires.timestamp())
    );
    let promoted = keys
        .update(id, KeyUpdate::new().roles([Role::Admin]))
        .await
        .unwrap();
    let promoted_to: Vec<_> = promoted
        .assigned_roles
        .iter()
        .flatten()
        .filter_map(|r| r.role_id)
        .collect();
    assert_eq!(promoted_to, [ADMIN_ROLE_ID]);
    let forever = keys
        .update(id, KeyUpdate::new().never_expires())
        .await
        .unwrap();
    assert_eq!(forever.expires(), None);
    assert_eq!(forever.name.as_deref(), Some("deploy-2"));

    // Disable: refused as not active; enable: works again.
    let disabled = keys.disable(id).await.unwrap();
    assert_eq!(disabled.state, Some(ApiKeyState::Disabled));
    let refused = api_error(as_new.organizations().list().await);
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code.as_deref(), Some("UNAUTHORIZED"));
    assert_eq!(refused.message, "Key is not active");
    assert!(refused.request_id.is_some());
    keys.enable(id).await.unwrap();
    as_new.organizations().list().await.unwrap();

    // Delete: gone at once.
    let deleted = keys.delete(id).await.unwrap();
    assert!(deleted.request_id().is_some());
    let refused = api_error(as_new.organizations().list().await);
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.message, "Key is not found");
    assert_eq!(api_error(keys.get(id).await).status, StatusCode::NOT_FOUND);
    assert_eq!(keys.list().await.unwrap().len(), 1);

    // The audit log saw it all, with actor and target.
    let activities = admin
        .activities(org)
        .list(ActivityListQuery::default())
        .await
        .unwrap();
    let about_key: Vec<_> = activities
        .iter()
        .filter(|a| a.target_key_id.as_deref() == Some(id.to_string().as_str()))
        .collect();
    let types: Vec<_> = about_key.iter().filter_map(|a| a.r#type.clone()).collect();
    assert!(types.contains(&ActivityType::KeyCreate), "{types:?}");
    assert!(types.contains(&ActivityType::KeyDelete), "{types:?}");
    let updates: Vec<_> = about_key
        .iter()
        .filter_map(|a| a.key_update_type.clone())
        .collect();
    for expected in [
        KeyUpdateType::NameChanged,
        KeyUpdateType::RolesV2Changed,
        KeyUpdateType::DateChanged,
        KeyUpdateType::StateChanged,
    ] {
        assert!(
            updates.contains(&expected),
            "{expected:?} missing from {updates:?}"
        );
    }
    let bootstrap_key = listed
        .iter()
        .find(|k| k.id != Some(id))
        .and_then(|k| k.id)
        .unwrap();
    assert!(
        about_key
            .iter()
            .all(|a| a.actor_id.as_deref() == Some(bootstrap_key.to_string().as_str()))
    );
    let one = admin
        .activities(org)
        .get(about_key[0].id.clone().unwrap())
        .await
        .unwrap();
    assert_eq!(one.id, about_key[0].id);
}

#[tokio::test]
async fn system_roles_are_looked_up_once_and_sent_as_ids() {
    let emulator = emulator().await;
    let org = emulator.organization_id();
    let admin = admin(&emulator);
    let keys = admin.api_keys(org);
    let before = emulator.requests_received();
    let first = keys
        .create(NewApiKey::new("first").role(Role::Developer))
        .await
        .unwrap();
    // The roles list, then the create.
    assert_eq!(emulator.requests_received() - before, 2);
    let second = admin
        .clone()
        .api_keys(org)
        .create(
            NewApiKey::new("second")
                .role(Role::QueryEndpoints)
                .role(Role::Admin),
        )
        .await
        .unwrap();
    // A clone shares what the first call learnt: the create alone.
    assert_eq!(emulator.requests_received() - before, 3);
    let role_ids = |key: &clickhouse_cloud_client::types::ApiKey| -> Vec<Uuid> {
        key.assigned_roles
            .iter()
            .flatten()
            .filter_map(|r| r.role_id)
            .collect()
    };
    assert_eq!(role_ids(&first.key), [DEVELOPER_ROLE_ID]);
    let mut second_ids = role_ids(&second.key);
    second_ids.sort();
    let mut expected = vec![QUERY_ENDPOINTS_ROLE_ID, ADMIN_ROLE_ID];
    expected.sort();
    assert_eq!(second_ids, expected);
    assert_eq!(
        admin.roles(org).resolve(Role::Developer).await.unwrap(),
        DEVELOPER_ROLE_ID
    );
    // The other system roles too.
    let billing = keys
        .create(NewApiKey::new("billing").role(Role::Billing))
        .await
        .unwrap();
    let names: Vec<_> = billing
        .key
        .assigned_roles
        .iter()
        .flatten()
        .filter_map(|r| r.role_name.clone())
        .collect();
    assert_eq!(names, ["Billing"]);

    // No roles at all is allowed; the deprecated field only when asked for.
    let roleless = keys.create(NewApiKey::new("roleless")).await.unwrap();
    assert!(role_ids(&roleless.key).is_empty());
    let legacy = keys
        .create(NewApiKey::new("legacy").legacy_role(LegacyRole::Developer))
        .await
        .unwrap();
    assert_eq!(role_ids(&legacy.key), [DEVELOPER_ROLE_ID]);
}

#[tokio::test]
async fn local_secret_never_leaves_and_works() {
    let emulator = emulator().await;
    let keys = admin(&emulator).api_keys(emulator.organization_id());
    let created = keys
        .create_with_local_secret(NewApiKey::new("local").role(Role::Developer))
        .await
        .unwrap();
    assert!(created.credentials.key_secret().has_service_format());
    assert_eq!(
        created.key.key_suffix.as_deref(),
        Some(created.credentials.key_id().suffix())
    );
    let as_local = client(&emulator, &created.credentials);
    assert_eq!(as_local.organizations().list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_secret_is_key_not_found() {
    let emulator = emulator().await;
    let wrong = Credentials::new(
        emulator.bootstrap_credentials().key_id().clone(),
        clickhouse_cloud_client::auth::KeyMaterial::generate()
            .key_secret()
            .clone(),
    );
    let error = api_error(client(&emulator, &wrong).organizations().list().await);
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error.message, "Key is not found");
    let error_text = format!("{error} {error:?}");
    assert!(!error_text.contains(wrong.key_secret().expose()));
}

#[tokio::test]
async fn expired_key_is_not_active() {
    let emulator = emulator().await;
    let keys = admin(&emulator).api_keys(emulator.organization_id());
    let created = keys
        .create(
            NewApiKey::new("short-lived")
                .role(Role::Admin)
                .expires_at(in_days(1)),
        )
        .await
        .unwrap();
    let as_new = client(&emulator, &created.credentials);
    as_new.organizations().list().await.unwrap();
    emulator.advance_clock(Duration::from_secs(2 * 24 * 3600));
    let error = api_error(as_new.organizations().list().await);
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error.message, "Key is not active");
}

#[tokio::test]
async fn developer_key_cannot_write() {
    let emulator = emulator().await;
    let org = emulator.organization_id();
    let keys = admin(&emulator).api_keys(org);
    for role in [Role::Developer, Role::Id(DEVELOPER_ROLE_ID)] {
        let dev = keys.create(NewApiKey::new("dev").role(role)).await.unwrap();
        let as_dev = client(&emulator, &dev.credentials).api_keys(org);
        as_dev.list().await.unwrap();
        let error = api_error(
            as_dev
                .create(NewApiKey::new("nope").role(Role::Admin))
                .await,
        );
        assert_eq!(error.status, StatusCode::FORBIDDEN);
        assert_eq!(error.code.as_deref(), Some("FORBIDDEN"));
        let error = api_error(as_dev.disable(dev.key.id.unwrap()).await);
        assert_eq!(error.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn key_limit_refuses_the_next_key_and_creates_nothing() {
    let emulator = start(Emulator::builder().rate_limit(None).key_limit(3)).await;
    let org = emulator.organization_id();
    let keys = admin(&emulator).api_keys(org);
    for n in 0..2 {
        keys.create(NewApiKey::new(format!("k{n}")).role(Role::Developer))
            .await
            .unwrap();
    }
    let error = api_error(
        keys.create(NewApiKey::new("one-too-many").role(Role::Developer))
            .await,
    );
    assert_eq!(error.status, StatusCode::BAD_REQUEST);
    assert_eq!(error.code.as_deref(), Some("BAD_REQUEST"));
    assert_eq!(emulator.key_count(org), 3);
    assert_eq!(keys.list().await.unwrap().len(), 3);
}

#[tokio::test]
async fn eleventh_request_in_the_window_is_rate_limited() {
    let emulator = start(Emulator::builder().rate_limit(Some(RateLimit {
        requests: 10,
        window: Duration::from_secs(10),
    })))
    .await;
    let admin = admin(&emulator);
    for _ in 0..10 {
        admin.organizations().list().await.unwrap();
    }
    let error = api_error(admin.organizations().list().await);
    assert_eq!(error.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error.code.as_deref(), Some("TOO_MANY_REQUESTS"));
    assert!(error.request_id.is_some());
    let wait = error.retry_after.expect("Retry-After on a 429");
    assert!(wait <= Duration::from_secs(10), "{wait:?}");
    let error = admin.organizations().list().await.unwrap_err();
    assert!(error.is_retryable());
}

#[tokio::test]
async fn other_organizations_are_invisible() {
    let other_org = Uuid::new_v4();
    let other_admin = clickhouse_cloud_client::auth::KeyMaterial::generate().into_credentials();
    let emulator = start(Emulator::builder().rate_limit(None).extra_organization(
        other_org,
        "Other",
        other_admin.clone(),
    ))
    .await;
    let admin = admin(&emulator);
    let error = api_error(admin.organizations().get(other_org).await);
    assert_eq!(error.status, StatusCode::NOT_FOUND);
    let error = api_error(admin.api_keys(other_org).list().await);
    assert_eq!(error.status, StatusCode::NOT_FOUND);
    // The other org's admin sees only its own.
    let theirs = client(&emulator, &other_admin)
        .organizations()
        .list()
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].id, Some(other_org));
}

#[tokio::test]
async fn ip_access_list_is_enforced() {
    let emulator = emulator().await;
    let keys = admin(&emulator).api_keys(emulator.organization_id());
    let elsewhere = keys
        .create(
            NewApiKey::new("office-only")
                .role(Role::Admin)
                .allow_ip("203.0.113.0/24"),
        )
        .await
        .unwrap();
    let error = api_error(
        client(&emulator, &elsewhere.credentials)
            .organizations()
            .list()
            .await,
    );
    assert_eq!(error.status, StatusCode::FORBIDDEN);

    // Allowing loopback lets it in; an empty list admits nobody.
    let id = elsewhere.key.id.unwrap();
    keys.update(
        id,
        KeyUpdate::new().ip_access_list(vec![IpAccessListEntry::new("127.0.0.1/32")]),
    )
    .await
    .unwrap();
    client(&emulator, &elsewhere.credentials)
        .organizations()
        .list()
        .await
        .unwrap();
    keys.update(id, KeyUpdate::new().ip_access_list(vec![]))
        .await
        .unwrap();
    let error = api_error(
        client(&emulator, &elsewhere.credentials)
            .organizations()
            .list()
            .await,
    );
    assert_eq!(error.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn invalid_bodies_are_bad_requests() {
    let emulator = emulator().await;
    let org = emulator.organization_id();
    let keys = admin(&emulator).api_keys(org);
    let cases = [
        ("empty name", NewApiKey::new("  ").role(Role::Admin)),
        (
            "past expiry",
            NewApiKey::new("old")
                .role(Role::Admin)
                .expires_at(in_days(-1)),
        ),
        (
            "unknown role id",
            NewApiKey::new("r").role(Role::Id(Uuid::new_v4())),
        ),
        (
            "bad cidr",
            NewApiKey::new("ip")
                .role(Role::Admin)
                .allow_ip("300.1.1.1/99"),
        ),
    ];
    for (what, body) in cases {
        let error = api_error(keys.create(body).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(error.code.as_deref(), Some("BAD_REQUEST"), "{what}");
        assert!(error.request_id.is_some(), "{what}");
    }
    let unknown_legacy = clickhouse_cloud_client::types::ApiKeyPostRequest {
        roles: Some(vec![LegacyRole::from("owner")]),
        ..clickhouse_cloud_client::types::ApiKeyPostRequest::new("x")
    };
    assert_eq!(
        api_error(keys.create(unknown_legacy).await).status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(emulator.key_count(org), 1);

    // Bytes that are not JSON at all, through the bare transport.
    let transport = ReqwestTransport::builder(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let mut request = HttpRequest::new(
        "openapiKeyCreate",
        Method::Post,
        format!("/v1/organizations/{org}/keys"),
    );
    request.body = Some("{\"name\": ".into());
    match check_status(transport.send(request).await.unwrap()) {
        Err(TransportError::Api(error)) => {
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
            assert_eq!(error.code.as_deref(), Some("BAD_REQUEST"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_key_cannot_delete_itself() {
    let emulator = emulator().await;
    let org = emulator.organization_id();
    let admin = admin(&emulator);
    let me = admin
        .api_keys(org)
        .list()
        .await
        .unwrap()
        .into_result()
        .into_iter()
        .find(|k| {
            k.key_suffix.as_deref() == Some(emulator.bootstrap_credentials().key_id().suffix())
        })
        .unwrap();
    let error = api_error(admin.api_keys(org).delete(me.id.unwrap()).await);
    assert_eq!(error.status, StatusCode::CONFLICT);
    assert_eq!(emulator.key_count(org), 1);
}

#[tokio::test]
async fn unknown_key_is_not_found_and_connection_errors_are_typed() {
    let emulator = emulator().await;
    let admin = admin(&emulator);
    let error = api_error(
        admin
            .api_keys(emulator.organization_id())
            .get(Uuid::new_v4())
            .await,
    );
    assert_eq!(error.status, StatusCode::NOT_FOUND);
    assert_eq!(error.code.as_deref(), Some("NOT_FOUND"));

    let base_url = emulator.base_url();
    emulator.shutdown().await;
    let gone = Client::builder()
        .credentials(Credentials::new(
            KeyId::new("someone").unwrap(),
            KeySecret::new("not-the-secret".into()).unwrap(),
        ))
        .base_url(base_url)
        .build()
        .unwrap();
    match gone.organizations().list().await {
        Err(Error::Transport { source, .. }) => {
            assert!(
                matches!(source, TransportError::Connect { .. }),
                "{source:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}
