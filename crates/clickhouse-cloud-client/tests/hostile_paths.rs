//! A path value that would change the endpoint never leaves the client: a
//! setting named `..` would make `DELETE .../services/{id}/clickhouseSettings/..`,
//! which URL parsing turns into `DELETE .../services/{id}`.

use clickhouse_cloud_client::types::operation::EncodeError;
use clickhouse_cloud_client::types::{IpAccessListEntry, ServicePostRequest};
use clickhouse_cloud_client::{Client, Error};
use clickhouse_cloud_emulator::Emulator;

#[tokio::test]
async fn a_dot_dot_setting_name_is_refused_before_sending_and_the_service_stays() {
    let emulator = Emulator::builder()
        .rate_limit(None)
        .start()
        .await
        .expect("emulator starts");
    let client = Client::builder()
        .credentials(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .rate_limit(None)
        .build()
        .unwrap();
    let services = client.services(emulator.organization_id());
    let request = ServicePostRequest::new(
        "kept",
        "aws".into(),
        "us-east-1".into(),
        vec![IpAccessListEntry::new("0.0.0.0/0")],
    );
    let created = services.instance_create(request).await.unwrap();
    let service_id = created.service.as_ref().and_then(|s| s.id).unwrap();

    for name in ["..", ".", ""] {
        let sent_before = emulator.requests_received();
        let result = services
            .service_clickhouse_setting_delete(service_id, name)
            .await;
        match result {
            Err(Error::Encode {
                operation,
                source: EncodeError::UnsafePathValue { name: param, value },
            }) => {
                assert_eq!(operation, "serviceClickhouseSettingDelete");
                assert_eq!((param.as_str(), value.as_str()), ("settingName", name));
            }
            other => panic!("{name:?}: expected a refusal, got {other:?}"),
        }
        assert_eq!(
            emulator.requests_received(),
            sent_before,
            "{name:?}: nothing was sent"
        );
    }

    let service = services.instance_get(service_id).await.unwrap();
    assert_eq!(service.id, Some(service_id));
    assert_eq!(service.name.as_deref(), Some("kept"));
    emulator.shutdown().await;
}
