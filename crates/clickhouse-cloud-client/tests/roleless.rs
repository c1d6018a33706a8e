//! A key created without roles, as clients written against the current
//! spec create them: accepted, shown with no roles, and usable for the
//! rest of the key flow.

use clickhouse_cloud_client::transport::{NoRetry, StatusCode};
use clickhouse_cloud_client::{Client, Credentials, Error, KeyUpdate, NewApiKey};
use clickhouse_cloud_emulator::{Emulator, RunningEmulator};

fn client(emulator: &RunningEmulator, credentials: &Credentials) -> Client {
    Client::builder()
        .credentials(credentials.clone())
        .base_url(emulator.base_url())
        .rate_limit(None)
        .retry_policy(NoRetry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_key_without_roles_goes_through_the_key_flow() {
    let emulator = Emulator::builder().rate_limit(None).start().await.unwrap();
    let org = emulator.organization_id();
    let keys = client(&emulator, emulator.bootstrap_credentials()).api_keys(org);

    let created = keys
        .create(NewApiKey::new("roleless"))
        .await
        .unwrap()
        .into_result();
    assert_eq!(created.key.assigned_roles, Some(Vec::new()));
    assert_eq!(created.key.roles, Some(Vec::new()));
    let id = created.key.id.unwrap();
    let listed = keys.list().await.unwrap().into_result();
    let found = listed.iter().find(|key| key.id == Some(id)).unwrap();
    assert_eq!(found.assigned_roles, Some(Vec::new()));

    // It authenticates, and its (absent) roles permit nothing.
    let own = client(&emulator, &created.credentials).api_keys(org);
    match own.list().await {
        Err(Error::Api { error, .. }) => assert_eq!(error.status, StatusCode::FORBIDDEN),
        other => panic!("expected 403, got {other:?}"),
    }

    let renamed = keys
        .update(id, KeyUpdate::new().name("renamed").never_expires())
        .await
        .unwrap()
        .into_result();
    assert_eq!(renamed.name.as_deref(), Some("renamed"));
    keys.disable(id).await.unwrap();
    match own.list().await {
        Err(Error::Api { error, .. }) => assert_eq!(error.status, StatusCode::UNAUTHORIZED),
        other => panic!("expected 401, got {other:?}"),
    }
    keys.delete(id).await.unwrap();
    match keys.get(id).await {
        Err(Error::Api { error, .. }) => assert_eq!(error.status, StatusCode::NOT_FOUND),
        other => panic!("expected 404, got {other:?}"),
    }
}
