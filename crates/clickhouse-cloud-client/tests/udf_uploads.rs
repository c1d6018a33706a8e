//! A UDF's source archive, uploaded to the URL the API hands out: against
//! the emulator (the whole flow: upload, create, version, build, attach,
//! deploy) and a local server that shows what the `PUT` carried.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{post, put};
use clickhouse_cloud_client::types::{
    IpAccessListEntry, ServicePostRequest, ServiceState, UdfArgument, UdfAttachBody,
    UdfAttachmentStatus, UdfCreateRequest, UdfCreateRequestExecutable,
    UdfCreateRequestExecutableType, UdfRuntime, UdfStatus, UdfVersionCreateRequest,
    UdfVersionCreateRequestExecutable,
};
use clickhouse_cloud_client::{Client, Error};
use clickhouse_cloud_emulator::{Emulator, RunningEmulator};
use serde_json::json;
use uuid::Uuid;

const POLL: Duration = Duration::from_millis(20);
const ARCHIVE: &[u8] = b"PK\x05\x06 the bytes of an archive";

async fn emulator() -> RunningEmulator {
    Emulator::builder()
        .rate_limit(None)
        .speed(600.0)
        .start()
        .await
        .expect("emulator starts")
}

fn client_at(base_url: &str, emulator: &RunningEmulator) -> Client {
    Client::builder()
        .credentials(emulator.bootstrap_credentials().clone())
        .base_url(base_url)
        .rate_limit(None)
        .build()
        .unwrap()
}

fn create_body(upload: Uuid) -> UdfCreateRequest {
    UdfCreateRequest::Executable(UdfCreateRequestExecutable::new(
        upload,
        UdfRuntime::Python311,
        vec![UdfArgument::new("x", "UInt64")],
        "UInt64",
        UdfCreateRequestExecutableType::Executable,
        "double_it",
    ))
}

fn version_body(upload: Uuid) -> UdfVersionCreateRequest {
    UdfVersionCreateRequest::Executable(UdfVersionCreateRequestExecutable::new(
        upload,
        UdfRuntime::Python311,
        vec![UdfArgument::new("x", "UInt64")],
        "UInt64",
        UdfCreateRequestExecutableType::Executable,
    ))
}

#[tokio::test]
async fn an_uploaded_archive_becomes_a_version_that_builds_and_deploys() {
    let emulator = emulator().await;
    let client = client_at(&emulator.base_url(), &emulator);
    let org = emulator.organization_id();
    let udfs = client.udfs(org);

    let upload = udfs.upload_archive(ARCHIVE).await.unwrap();
    let kept = emulator.udf_archive(upload).expect("the emulator has it");
    assert_eq!(kept.size, ARCHIVE.len() as u64);
    assert_eq!(kept.sha256.len(), 64);
    let made = udfs.udf_create(create_body(upload)).await.unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    assert_eq!(
        (made.version, made.status.clone()),
        (Some(1), Some(UdfStatus::Building))
    );
    // An upload serves one create.
    let again = udfs.udf_create(create_body(upload)).await.unwrap_err();
    assert_eq!(again.status().map(|s| s.as_u16()), Some(410), "{again}");

    let service = {
        let body = ServicePostRequest::new(
            "udfs",
            "aws".into(),
            "us-east-1".into(),
            vec![IpAccessListEntry::new("0.0.0.0/0")],
        );
        let services = client.services(org);
        let created = services.instance_create(body).await.unwrap();
        let id = created.service.as_ref().and_then(|s| s.id).unwrap();
        services
            .wait_until(id, ServiceState::Running)
            .interval(POLL)
            .await
            .unwrap();
        id
    };

    let second = udfs.upload_archive(ARCHIVE).await.unwrap();
    assert_eq!(emulator.udf_archive(second).unwrap().sha256, kept.sha256);
    let version = udfs
        .udf_version_create("double_it", version_body(second))
        .await
        .unwrap();
    assert_eq!(version.version, Some(2));
    let built = udfs
        .wait_until_built("double_it", 2)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(built.status, Some(UdfStatus::Ready));
    let attached = udfs
        .udf_attach("double_it", service, UdfAttachBody { version: Some(2) })
        .await
        .unwrap();
    assert_eq!(attached.status, Some(UdfAttachmentStatus::Provisioning));
    let deployed = udfs
        .wait_until_deployed("double_it", service)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        (deployed.status, deployed.version),
        (Some(UdfAttachmentStatus::Deployed), Some(2))
    );
    // A version that does not exist ends its wait at once.
    let missing = udfs
        .wait_until_built("double_it", 9)
        .interval(POLL)
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::WaitFailed { .. }), "{missing}");
}

/// What the local server saw.
#[derive(Default)]
struct Seen {
    session_authorized: bool,
    put_headers: Option<HeaderMap>,
    put_body: Vec<u8>,
}

#[tokio::test]
async fn the_put_carries_no_authorization_and_only_the_archive() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let upload_id = Uuid::new_v4();
    let session_url = format!("{base}/storage/{upload_id}?token=t0ken");
    let router = Router::new()
        .route(
            "/v1/organizations/{org}/udfUploads/url",
            post(
                move |State(seen): State<Arc<Mutex<Seen>>>, headers: HeaderMap| async move {
                    seen.lock().unwrap().session_authorized = headers.contains_key("authorization");
                    (
                        StatusCode::CREATED,
                        axum::Json(json!({
                            "status": 201,
                            "requestId": Uuid::new_v4().to_string(),
                            "result": {
                                "uploadId": upload_id.to_string(),
                                "uploadUrl": session_url,
                                "expiresAt": "2030-01-01T00:00:00Z",
                            },
                        })),
                    )
                },
            ),
        )
        .route(
            "/storage/{id}",
            put(
                |State(seen): State<Arc<Mutex<Seen>>>,
                 headers: HeaderMap,
                 body: axum::body::Bytes| async move {
                    let mut seen = seen.lock().unwrap();
                    seen.put_headers = Some(headers);
                    seen.put_body = body.to_vec();
                    StatusCode::OK
                },
            ),
        )
        .with_state(Arc::clone(&seen));
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    let credentials = clickhouse_cloud_client::auth::KeyMaterial::generate().into_credentials();
    let client = Client::builder()
        .credentials(credentials)
        .base_url(&base)
        .rate_limit(None)
        .build()
        .unwrap();

    let uploaded = client
        .udfs(Uuid::new_v4())
        .upload_archive(ARCHIVE)
        .await
        .unwrap();
    assert_eq!(uploaded, upload_id);
    let seen = seen.lock().unwrap();
    assert!(seen.session_authorized, "the API call is signed");
    let headers = seen.put_headers.as_ref().expect("the PUT arrived");
    assert!(
        !headers.contains_key("authorization"),
        "the PUT carried an Authorization header"
    );
    assert_eq!(headers["content-type"], "application/zip");
    assert_eq!(seen.put_body, ARCHIVE);
}

#[tokio::test]
async fn no_error_or_debug_output_shows_the_upload_token() {
    let emulator = emulator().await;
    let client = client_at(&emulator.base_url(), &emulator);
    let udfs = client.udfs(emulator.organization_id());
    let session = udfs
        .udf_upload_session_create()
        .await
        .unwrap()
        .into_result();
    let url = session.upload_url.as_ref().unwrap().expose().to_owned();
    let token = url.split("token=").nth(1).unwrap().to_owned();
    assert!(token.len() >= 32);
    assert!(!format!("{session:?}").contains(&token));

    // An expired URL is refused: the error names the status, not the URL.
    emulator.advance_clock(Duration::from_secs(16 * 60));
    let refused = udfs.put_archive(&session, ARCHIVE).await.unwrap_err();
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(403), "{refused}");
    for text in [refused.to_string(), format!("{refused:?}")] {
        assert!(!text.contains(&token), "{text}");
        assert!(text.contains("presignedUpload"), "{text}");
    }

    // Plain HTTP elsewhere than the API is not used at all; nor is a URL
    // with a password.
    for unusable in [
        url.replace(&emulator.base_url(), "http://127.0.0.1:9"),
        url.replace("http://", "http://user:pw@"),
    ] {
        let mut other = session.clone();
        other.upload_url = Some(clickhouse_cloud_client::types::SecretValue::new(unusable));
        let error = udfs.put_archive(&other, ARCHIVE).await.unwrap_err();
        assert!(
            matches!(error, Error::UnusableUploadUrl { .. }),
            "{error:?}"
        );
        assert!(!format!("{error} {error:?}").contains(&token));
    }
}
