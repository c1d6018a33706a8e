//! Every public type of the auth, transport and client crates that can hold
//! a request or response body or a secret, printed with `{:?}`, `{:#?}` and,
//! where it has one, `{}`, with a secret made at run time inside: the secret
//! never shows. (The CLI's own types have the same test in the CLI crate;
//! the types crate's wire types have theirs.)
//!
//! The secrets are real: a key created on an emulator over loopback, and
//! key material generated here.

use std::fmt::{Debug, Display};
use std::sync::Arc;

use clickhouse_cloud_auth::{AuthError, Credentials, HashData, KeyMaterial, KeySecret};
use clickhouse_cloud_client::{Client, Error as ClientError, NewApiKey, Role};
use clickhouse_cloud_emulator::Emulator;
use clickhouse_cloud_transport::record::RecordingTransport;
use clickhouse_cloud_transport::replay::{Cassette, ReplayTransport, json_difference};
use clickhouse_cloud_transport::{
    Attempt, HttpRequest, HttpResponse, NoRetry, RateLimit, RateLimiter, ReqwestTransport,
    Resilient, StatusCode, Transport, check_status,
};
use clickhouse_cloud_types::ops::{OpenapiKeyCreate, OrganizationPath};
use clickhouse_cloud_types::{ApiKeyHashData, ApiKeyPostRequest, LegacyRole, Request, SecretValue};
use serde_json::{Value, json};

/// Prints values and remembers what it printed, to search for secrets.
struct Printed {
    secrets: Vec<String>,
    checked: Vec<&'static str>,
}

impl Printed {
    fn new(secrets: &[&str]) -> Self {
        for secret in secrets {
            assert!(secret.len() >= 16, "a secret too short to search for");
        }
        Self {
            secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
            checked: Vec::new(),
        }
    }

    fn check(&mut self, label: &'static str, texts: &[String]) {
        for text in texts {
            // Also as bytes: a derived `Debug` of a `Vec<u8>` body prints
            // `[52, 98, 49, 100, ...]`.
            let numbers: Vec<&str> = text
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .collect();
            for secret in &self.secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{label} printed a secret: {text}"
                );
                let bytes: Vec<String> = secret.bytes().map(|b| b.to_string()).collect();
                let as_bytes = numbers
                    .windows(bytes.len())
                    .any(|window| window.iter().zip(&bytes).all(|(a, b)| a == b));
                assert!(!as_bytes, "{label} printed a secret as bytes: {text}");
            }
        }
        self.checked.push(label);
    }

    /// `{:?}` and `{:#?}`.
    fn debug(&mut self, label: &'static str, value: &dyn Debug) {
        self.check(label, &[format!("{value:?}"), format!("{value:#?}")]);
    }

    /// `{:?}`, `{:#?}` and `{}`.
    fn both<T: Debug + Display + ?Sized>(&mut self, label: &'static str, value: &T) {
        self.check(
            label,
            &[
                format!("{value:?}"),
                format!("{value:#?}"),
                value.to_string(),
            ],
        );
    }
}

fn create_request(organization_id: uuid::Uuid, name: &str) -> HttpRequest {
    let body = ApiKeyPostRequest {
        roles: Some(vec![LegacyRole::Developer]),
        ..ApiKeyPostRequest::new(name)
    };
    let encoded = Request::<OpenapiKeyCreate>::new(OrganizationPath { organization_id }, body)
        .encode()
        .unwrap();
    HttpRequest::from(encoded)
}

/// The `keySecret` of a create response.
fn key_secret_of(response: &HttpResponse) -> String {
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    body["result"]["keySecret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn no_debug_or_display_prints_a_secret() {
    let emulator = Emulator::builder().rate_limit(None).start().await.unwrap();
    let org = emulator.organization_id();
    let admin = emulator.bootstrap_credentials().clone();

    // A create response from the service, recorded below the client.
    let wire = ReqwestTransport::builder(admin.clone())
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let recorder = RecordingTransport::new(wire.clone());
    let request = create_request(org, "printed");
    let response = recorder.send(request.clone()).await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    let issued = key_secret_of(&response);

    // A key created through the client, and locally generated material.
    let client = Client::builder()
        .credentials(admin.clone())
        .base_url(emulator.base_url())
        .rate_limit(None)
        .build()
        .unwrap();
    let created = client
        .api_keys(org)
        .create(NewApiKey::new("printed-too").role(Role::Developer))
        .await
        .unwrap();
    let material = KeyMaterial::generate();
    let generated = material.key_secret().expose().to_owned();
    let admin_secret = admin.key_secret().expose().to_owned();
    let header = admin.authorization();
    let mut printed = Printed::new(&[
        &issued,
        created.credentials.key_secret().expose(),
        &generated,
        &admin_secret,
        header.expose(),
    ]);

    // auth
    printed.debug("KeySecret", material.key_secret());
    printed.debug("Credentials", &admin);
    printed.debug("AuthorizationHeader", &header);
    printed.debug("KeyMaterial", &material);
    printed.debug(
        "HashData",
        &HashData::for_credentials(material.credentials()),
    );
    printed.both(
        "AuthError",
        &KeySecret::new(String::new()).map(|_| ()).unwrap_err(),
    );

    // types: a typed request whose body holds a secret, and its encoding.
    let hashed = Request::<OpenapiKeyCreate>::new(
        OrganizationPath {
            organization_id: org,
        },
        ApiKeyPostRequest {
            hash_data: Some(ApiKeyHashData {
                key_secret_hash: Some(SecretValue::new(issued.clone())),
                ..Default::default()
            }),
            ..ApiKeyPostRequest::new("hashed")
        },
    );
    printed.debug("Request<OpenapiKeyCreate>", &hashed);
    let encoded = hashed.encode().unwrap();
    assert!(String::from_utf8_lossy(encoded.body.as_deref().unwrap()).contains(&issued));
    printed.debug("EncodedRequest", &encoded);

    // transport: the exchange, a request carrying a secret, an attempt.
    printed.debug("HttpResponse", &response);
    let mut carrying = request.clone();
    carrying.body = Some(json!({ "keySecret": issued }).to_string().into());
    carrying.query = vec![("secret".into(), issued.clone())];
    printed.debug("HttpRequest", &carrying);
    let attempt = Attempt {
        operation: request.operation,
        method: &request.method,
        idempotent: request.idempotent,
        number: 1,
        elapsed: std::time::Duration::ZERO,
        outcome: Ok(&response),
    };
    printed.debug("Attempt", &attempt);
    let checked = check_status(response.clone()).unwrap();
    printed.debug("check_status result", &checked);

    // transport: every layer holding credentials.
    printed.debug("ReqwestTransport", &wire);
    printed.debug(
        "ReqwestTransportBuilder",
        &ReqwestTransport::builder(admin.clone()),
    );
    let resilient = Resilient::new(wire.clone())
        .rate_limiter(Arc::new(RateLimiter::new(RateLimit::PUBLISHED)))
        .retry_policy(NoRetry);
    printed.debug("Resilient", &resilient);
    let dynamic: Arc<dyn Transport> = Arc::new(wire.clone());
    printed.debug("Arc<dyn Transport>", &dynamic);

    // transport, test-util: cassettes and the transports that hold them.
    printed.debug("RecordingTransport", &recorder);
    let cassettes = recorder.cassettes();
    assert_eq!(cassettes.len(), 1);
    let cassette = cassettes[0].clone();
    printed.debug("Cassette", &cassette);
    printed.debug("RecordedRequest", &cassette.request);
    printed.debug("RecordedResponse", &cassette.response);
    let replay = ReplayTransport::new([cassette.clone()]);
    printed.debug("ReplayTransport", &replay);
    let other = HttpRequest {
        path: format!("{}/", request.path),
        ..request.clone()
    };
    let mismatch = replay.send(other).await.unwrap_err();
    printed.both("transport Error::Io (replay mismatch)", &mismatch);
    let failed = Attempt {
        outcome: Err(&mismatch),
        ..attempt
    };
    printed.debug("Attempt (failed)", &failed);
    let difference = json_difference(&cassette.response.body, &json!({"result": {}})).unwrap();
    printed.debug("JsonDifference", &difference);
    let mut broken = serde_json::to_value(&cassette).unwrap();
    broken["response"]["status"] = json!(issued);
    let format_error = Cassette::from_json(&broken.to_string()).unwrap_err();
    printed.both("FormatError", &format_error);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, broken.to_string()).unwrap();
    printed.both("CassetteError", &Cassette::load(&file).unwrap_err());

    // client
    printed.debug("Client", &client);
    printed.debug(
        "ClientBuilder",
        &Client::builder().credentials(admin.clone()),
    );
    printed.debug("CreatedKey", &created);
    printed.debug("ApiKeys", &client.api_keys(org));
    let response = client
        .send(create_request_typed(org, "printed-three"))
        .await
        .unwrap();
    assert!(response.key_secret.is_some());
    printed.debug("Response<ApiKeyPostResponse>", &response);

    // client errors about a body that holds a secret
    let mut wrong = cassette.clone();
    wrong.response.body["result"]["key"]["roles"] = json!(issued);
    let decode = replay_create(wrong, org).await;
    assert!(matches!(decode, ClientError::Decode { .. }), "{decode:?}");
    printed.both("client Error::Decode", &decode);
    let mut bad_id = cassette.clone();
    bad_id.response.body["result"]["keyId"] = json!(format!("a:{issued}"));
    let auth = replay_create(bad_id, org).await;
    assert!(
        matches!(auth, ClientError::Auth(AuthError::InvalidKeyId { .. })),
        "{auth:?}"
    );
    printed.both("client Error::Auth", &auth);
    let replayed = Client::builder()
        .transport(ReplayTransport::new([cassette.clone()]))
        .retry_policy(NoRetry)
        .rate_limit(None)
        .build()
        .unwrap();
    let transport = replayed.organizations().list().await.unwrap_err();
    assert!(
        matches!(transport, ClientError::Transport { .. }),
        "{transport:?}"
    );
    printed.both("client Error::Transport", &transport);
    printed.both(
        "client Error::StackedRetries",
        &Client::builder().transport(resilient).build().unwrap_err(),
    );
    printed.both(
        "transport Error::Api",
        &check_status(HttpResponse {
            status: StatusCode::CONFLICT,
            headers: Default::default(),
            body: r#"{"error":"CONFLICT: taken","requestId":"r-1"}"#.into(),
        })
        .unwrap_err(),
    );

    assert!(printed.checked.len() >= 30, "{:?}", printed.checked);
}

fn create_request_typed(organization_id: uuid::Uuid, name: &str) -> Request<OpenapiKeyCreate> {
    let body = ApiKeyPostRequest {
        roles: Some(vec![LegacyRole::Developer]),
        ..ApiKeyPostRequest::new(name)
    };
    Request::new(OrganizationPath { organization_id }, body)
}

/// The client's error for a create answered by `cassette`'s response.
async fn replay_create(mut cassette: Cassette, organization_id: uuid::Uuid) -> ClientError {
    let name = "replayed";
    cassette.request = Cassette::from_exchange(
        &create_request(organization_id, name),
        &HttpResponse {
            status: StatusCode::OK,
            headers: Default::default(),
            body: Default::default(),
        },
    )
    .request;
    let client = Client::builder()
        .transport(ReplayTransport::new([cassette]))
        .retry_policy(NoRetry)
        .rate_limit(None)
        .build()
        .unwrap();
    let body = ApiKeyPostRequest {
        roles: Some(vec![LegacyRole::Developer]),
        ..ApiKeyPostRequest::new(name)
    };
    client
        .api_keys(organization_id)
        .create(body)
        .await
        .map(|_| ())
        .unwrap_err()
}

#[test]
fn credentials_built_by_hand_print_no_secret_either() {
    let material = KeyMaterial::generate();
    let secret = material.key_secret().clone();
    let credentials = Credentials::new(material.key_id().clone(), secret.clone());
    let mut printed = Printed::new(&[secret.expose()]);
    printed.debug("Credentials", &credentials);
    printed.debug("KeySecret", &secret);
    printed.debug("Client", &Client::builder().credentials(credentials));
}
