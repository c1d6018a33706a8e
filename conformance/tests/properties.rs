//! Properties of the wire types, the client's decoding and the auth crate.

use std::sync::LazyLock;

use base64::Engine as _;
use clickhouse_cloud_auth::{
    AuthorizationHeader, Credentials, HashData, KeyId, KeyMaterial, KeySecret, sha256_base64,
};
use clickhouse_cloud_client::types::LegacyRole;
use clickhouse_cloud_client::{Client, CreatedKey, Error as ClientError, NewApiKey};
use clickhouse_cloud_conformance::arbitrary::Shapes;
use clickhouse_cloud_conformance::spec::Spec;
use clickhouse_cloud_conformance::workspace_root;
use clickhouse_cloud_transport::replay::{Cassette, RecordedRequest, RecordedResponse};
use clickhouse_cloud_transport::{
    Error as TransportError, HttpResponse, NoRetry, ReplayTransport, ReqwestTransport, StatusCode,
    check_status,
};
use clickhouse_cloud_types::operation::{
    EncodeError, Operation, OperationVisitor, encode_path, match_path,
};
use clickhouse_cloud_types::ops::{OpenapiKeyGetList, OrganizationPath};
use clickhouse_cloud_types::{
    Activity, ApiKey, ApiKeyPostResponse, Envelope, ErrorBody, Organization, Request, SecretValue,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::FileFailurePersistence;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use sha2::Digest as _;
use uuid::Uuid;

/// `cases` per property; failing inputs are saved in
/// `conformance/proptest-regressions/properties.txt` (committed, replayed first).
fn config_with(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        ..ProptestConfig::with_cases(cases)
    }
}

fn config() -> ProptestConfig {
    config_with(256)
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
});

/// `decode(encode(x)) == x`.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let bytes = serde_json::to_vec(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = serde_json::from_slice(&bytes)
        .map_err(|e| TestCaseError::fail(format!("{e} in {}", String::from_utf8_lossy(&bytes))))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

/// What the spec describes, for a component schema.
fn spec_value(schema: &'static str) -> BoxedStrategy<Value> {
    Shapes::new(SPEC.document()).component(schema)
}

static SPEC: LazyLock<Spec> =
    LazyLock::new(|| Spec::load_pinned(&workspace_root()).expect("the pinned spec"));

/// A string enum value no version of the SDK knows.
fn unknown_word() -> impl Strategy<Value = String> {
    "new-[a-z]{1,10}"
}

/// Field names the SDK does not know (it knows no name starting `x`).
fn unknown_fields() -> impl Strategy<Value = Vec<(String, Value)>> {
    vec(("x[A-Za-z]{1,8}", json_value()), 0..4)
}

/// Removes the keys `drops` point at.
fn drop_keys(object: &mut Map<String, Value>, drops: &[Index]) {
    for index in drops {
        if object.is_empty() {
            return;
        }
        let key = object.keys().nth(index.index(object.len())).cloned();
        if let Some(key) = key {
            object.remove(&key);
        }
    }
}

/// Decodes `sent` as `T` and checks it re-encodes to `expected`.
fn survives<T: Serialize + DeserializeOwned>(
    sent: Value,
    expected: &Value,
) -> Result<(), TestCaseError> {
    let decoded: T =
        serde_json::from_value(sent).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let again = serde_json::to_value(&decoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again, expected);
    Ok(())
}

proptest! {
    #![proptest_config(config_with(128))]

    /// What a newer server sends (fields missing, unknown enum values) comes
    /// back out unchanged; unknown fields are dropped and break nothing.
    #[test]
    fn api_key_from_a_newer_server_survives(
        key in spec_value("ApiKey"),
        drops in vec(any::<Index>(), 0..5),
        state in unknown_word(),
        role in unknown_word(),
        role_type in unknown_word(),
        extra in unknown_fields(),
    ) {
        let decoded: ApiKey = serde_json::from_value(key).unwrap();
        let mut json = serde_json::to_value(&decoded).unwrap();
        let object = json.as_object_mut().unwrap();
        drop_keys(object, &drops);
        object.insert("state".into(), json!(state));
        match object.get_mut("roles") {
            Some(Value::Array(roles)) => roles.push(json!(role)),
            _ => { object.insert("roles".into(), json!([role])); }
        }
        let first_role = object
            .get_mut("assignedRoles")
            .and_then(Value::as_array_mut)
            .and_then(|assigned| assigned.first_mut())
            .and_then(Value::as_object_mut);
        if let Some(first) = first_role {
            first.insert("roleType".into(), json!(role_type));
        }
        let expected = json.clone();
        let object = json.as_object_mut().unwrap();
        for (name, value) in extra {
            object.insert(name, value);
        }
        survives::<ApiKey>(json, &expected)?;
    }

    #[test]
    fn activity_from_a_newer_server_survives(
        activity in spec_value("Activity"),
        drops in vec(any::<Index>(), 0..5),
        kind in unknown_word(),
        actor in unknown_word(),
        update in unknown_word(),
        extra in unknown_fields(),
    ) {
        let decoded: Activity = serde_json::from_value(activity).unwrap();
        let mut json = serde_json::to_value(&decoded).unwrap();
        let object = json.as_object_mut().unwrap();
        drop_keys(object, &drops);
        object.insert("type".into(), json!(kind));
        object.insert("actorType".into(), json!(actor));
        object.insert("keyUpdateType".into(), json!(update));
        let expected = json.clone();
        let object = json.as_object_mut().unwrap();
        for (name, value) in extra {
            object.insert(name, value);
        }
        survives::<Activity>(json, &expected)?;
    }

    #[test]
    fn organization_from_a_newer_server_survives(
        organization in spec_value("Organization"),
        drops in vec(any::<Index>(), 0..4),
        provider in unknown_word(),
        region in unknown_word(),
        byoc_state in unknown_word(),
        extra in unknown_fields(),
    ) {
        let decoded: Organization = serde_json::from_value(organization).unwrap();
        let mut json = serde_json::to_value(&decoded).unwrap();
        let object = json.as_object_mut().unwrap();
        drop_keys(object, &drops);
        object.insert(
            "privateEndpoints".into(),
            json!([{"id": "pe-1", "cloudProvider": provider, "region": region}]),
        );
        object.insert("byocConfig".into(), json!([{"id": "b-1", "state": byoc_state}]));
        let expected = json.clone();
        let object = json.as_object_mut().unwrap();
        for (name, value) in extra {
            object.insert(name, value);
        }
        survives::<Organization>(json, &expected)?;
    }
}

/// Field names of the API, so arbitrary objects reach into the types.
const FIELD_NAMES: &[&str] = &[
    "status",
    "requestId",
    "result",
    "error",
    "id",
    "name",
    "state",
    "roles",
    "assignedRoles",
    "roleId",
    "roleName",
    "roleType",
    "keySuffix",
    "createdAt",
    "expireAt",
    "usedAt",
    "ipAccessList",
    "source",
    "description",
    "key",
    "keyId",
    "keySecret",
    "type",
    "actorType",
    "actorId",
    "privateEndpoints",
    "byocConfig",
    "region",
    "cloudProvider",
    "enableCoreDumps",
    "targetKeyId",
    "keyUpdateType",
];

/// Any JSON value, objects leaning towards the API's field names.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        Just(json!("2026-01-02T03:04:05Z")),
        Just(json!("")),
        Just(json!("enabled")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![select(FIELD_NAMES).prop_map(str::to_owned), "[a-zA-Z]{0,6}"];
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(key, inner, 0..8).prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A body that decodes as `T` survives its own encoding; one that does
/// not gives serde's error, never a panic.
fn decodes_or_refuses<T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        round_trip(&value)?;
    }
    Ok(())
}

/// Every response decoder and the status check, on any bytes: each gives a
/// value that round-trips, or an error of the kind the bytes call for.
fn decode_everything(bytes: &[u8]) -> Result<(), TestCaseError> {
    decodes_or_refuses::<Envelope<Vec<ApiKey>>>(bytes)?;
    decodes_or_refuses::<Envelope<ApiKey>>(bytes)?;
    decodes_or_refuses::<Envelope<ApiKeyPostResponse>>(bytes)?;
    decodes_or_refuses::<Envelope<Vec<Activity>>>(bytes)?;
    decodes_or_refuses::<Envelope<Activity>>(bytes)?;
    decodes_or_refuses::<Envelope<Vec<Organization>>>(bytes)?;
    decodes_or_refuses::<Envelope<Organization>>(bytes)?;
    decodes_or_refuses::<Envelope<()>>(bytes)?;
    decodes_or_refuses::<ErrorBody>(bytes)?;
    // The lenient reading agrees with serde on every object serde accepts
    // (serde also takes a struct as an array, `[]`; an error body never is).
    let lenient = ErrorBody::parse(bytes);
    let object = matches!(serde_json::from_slice(bytes), Ok(Value::Object(_)));
    if let (true, Ok(strict)) = (object, serde_json::from_slice::<ErrorBody>(bytes)) {
        prop_assert_eq!(lenient.as_ref(), Some(&strict));
    }
    for status in [200, 204, 400, 401, 429, 500, 502] {
        let status = StatusCode::from_u16(status).unwrap();
        let response = HttpResponse {
            status,
            headers: Default::default(),
            body: bytes.to_vec().into(),
        };
        match (check_status(response), &lenient) {
            (Ok(passed), _) => {
                prop_assert!(status.is_success());
                prop_assert_eq!(&passed.body[..], bytes);
            }
            (Err(error), _) if status.is_success() => {
                return Err(TestCaseError::fail(format!("{status} refused: {error}")));
            }
            (Err(TransportError::Api(api)), Some(body)) => {
                prop_assert_eq!(api.status, status);
                prop_assert_eq!(api.code.as_deref(), body.code());
                prop_assert_eq!(&api.request_id, &body.request_id);
            }
            (Err(error @ TransportError::UnexpectedBody { .. }), None) => {
                prop_assert_eq!(error.status(), Some(status));
                let TransportError::UnexpectedBody { excerpt, .. } = &error else {
                    unreachable!()
                };
                prop_assert!(excerpt.chars().count() <= 201, "{}", excerpt);
            }
            (Err(error), lenient) => {
                return Err(TestCaseError::fail(format!(
                    "{status}: {error:?} for an error body read as {lenient:?}"
                )));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_json_decodes_or_is_refused(value in json_value(), wrap in any::<bool>()) {
        let value = if wrap { json!({"status": 200, "result": value}) } else { value };
        decode_everything(value.to_string().as_bytes())?;
    }

    #[test]
    fn arbitrary_bytes_decode_or_are_refused(bytes in vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes)?;
    }
}

#[test]
fn known_bodies_decode_as_expected() {
    // A key list and a bare 429 body, as the service sends them.
    let list = br#"{"status":200,"requestId":"r","result":[{"id":"00000000-0000-0000-0000-000000000001","name":"k","state":"enabled","roles":["admin"],"expireAt":null,"createdAt":"2026-01-01T00:00:00Z"}]}"#;
    decode_everything(list).unwrap();
    let keys: Envelope<Vec<ApiKey>> = serde_json::from_slice(list).unwrap();
    assert_eq!(keys.result.unwrap()[0].name.as_deref(), Some("k"));
    let bare = br#"{"error":"TOO_MANY_REQUESTS"}"#;
    decode_everything(bare).unwrap();
    assert_eq!(
        ErrorBody::parse(bare).unwrap().code(),
        Some("TOO_MANY_REQUESTS")
    );
    decode_everything(b"<html>502</html>").unwrap();
    decode_everything(b"").unwrap();
}

proptest! {
    #![proptest_config(config_with(64))]

    /// The whole client path (status check, envelope, typed result) on any
    /// body: a 2xx gives the keys or a decode error under `result`; any
    /// other status gives the API error with that status.
    #[test]
    fn the_client_answers_any_body_with_a_value_or_the_right_error(
        value in json_value(),
        status in select(&[200u16, 400, 404, 429, 500, 502][..]),
    ) {
        let organization_id = Uuid::nil();
        let cassette = Cassette {
            operation: "openapiKeyGetList".into(),
            request: RecordedRequest {
                method: "GET".into(),
                path: format!("/v1/organizations/{organization_id}/keys"),
                query: Default::default(),
                body: Value::Null,
            },
            response: RecordedResponse {
                status,
                headers: Default::default(),
                body: json!({"status": status, "requestId": "r-1", "result": value}),
            },
            extra: Map::new(),
        };
        let client = replay_client(cassette);
        let request = Request::<OpenapiKeyGetList>::new(OrganizationPath { organization_id }, ());
        match (status, RUNTIME.block_on(client.send(request))) {
            (200, Ok(keys)) => {
                prop_assert_eq!(keys.request_id(), Some("r-1"));
                let again = serde_json::to_value(keys.into_result()).unwrap();
                let back: Vec<ApiKey> = serde_json::from_value(again.clone()).unwrap();
                prop_assert_eq!(serde_json::to_value(back).unwrap(), again);
            }
            (200, Err(ClientError::Decode { path, request_id, .. })) => {
                prop_assert!(path.starts_with("result"), "{}", path);
                prop_assert_eq!(request_id.as_deref(), Some("r-1"));
            }
            // A list answered with `"result": null` has no result to give.
            (200, Err(ClientError::MissingResult { request_id, .. })) if value.is_null() => {
                prop_assert_eq!(request_id.as_deref(), Some("r-1"));
            }
            (_, Err(ClientError::Api { error, .. })) if status != 200 => {
                prop_assert_eq!(error.status.as_u16(), status);
                prop_assert_eq!(error.code, None);
                prop_assert_eq!(error.request_id.as_deref(), Some("r-1"));
            }
            (status, other) => {
                return Err(TestCaseError::fail(format!("HTTP {status}: {other:?}")));
            }
        }
    }
}

fn replay_client(cassette: Cassette) -> Client {
    Client::builder()
        .transport(ReplayTransport::new([cassette]))
        .retry_policy(NoRetry)
        .rate_limit(None)
        .total_timeout(None)
        .build()
        .expect("a client")
}

/// Key IDs Basic auth can carry: no `:`, no control characters.
fn key_id() -> impl Strategy<Value = String> {
    "[^:\\p{Cc}]{1,40}"
}

fn independent_sha256_base64(value: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(value.as_bytes()))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_basic_header_decodes_back_to_the_same_key(
        id in key_id(),
        secret in any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ) {
        let credentials = Credentials::new(KeyId::new(id.clone()).unwrap(), KeySecret::new(secret.clone()).unwrap());
        let header = credentials.authorization();
        let back = AuthorizationHeader::parse(header.expose()).unwrap();
        prop_assert_eq!(back.key_id().as_str(), id.as_str());
        prop_assert_eq!(back.key_secret().expose(), secret.as_str());
        prop_assert_eq!(back, credentials);
    }

    #[test]
    fn hashes_match_an_independent_sha256_base64(id in key_id(), secret in "\\PC{1,64}") {
        prop_assert_eq!(sha256_base64(&secret), independent_sha256_base64(&secret));
        let credentials = Credentials::new(KeyId::new(id.clone()).unwrap(), KeySecret::new(secret.clone()).unwrap());
        let hashes = HashData::for_credentials(&credentials);
        prop_assert_eq!(&hashes.key_id_hash, &independent_sha256_base64(&id));
        prop_assert_eq!(&hashes.key_secret_hash, &independent_sha256_base64(&secret));
        let suffix: String = {
            let chars: Vec<char> = id.chars().collect();
            chars[chars.len().saturating_sub(4)..].iter().collect()
        };
        prop_assert_eq!(hashes.key_id_suffix, suffix);
    }

    /// No `Debug` of anything holding a secret shows it.
    #[test]
    fn nothing_prints_a_secret(id in "[a-z]{8,20}", secret in "[A-Za-z0-9]{16,42}") {
        prop_assume!(!id.contains(&secret));
        let credentials = Credentials::new(KeyId::new(id.clone()).unwrap(), KeySecret::new(secret.clone()).unwrap());
        let header = credentials.authorization();
        let response = ApiKeyPostResponse {
            key: Some(ApiKey::default()),
            key_id: Some(id.clone()),
            key_secret: Some(SecretValue::new(secret.clone())),
        };
        let created = CreatedKey { key: ApiKey::default(), credentials: credentials.clone() };
        let transport = ReqwestTransport::builder(credentials.clone()).build().unwrap();
        let texts = [
            format!("{credentials:?}"),
            format!("{credentials:#?}"),
            format!("{:?}", credentials.key_secret()),
            format!("{header:?}"),
            format!("{response:?}"),
            format!("{response:#?}"),
            format!("{:?}", response.key_secret),
            format!("{created:?}"),
            format!("{created:#?}"),
            format!("{transport:?}"),
            format!("{:?}", Client::builder().credentials(credentials.clone())),
        ];
        for text in &texts {
            prop_assert!(!text.contains(&secret), "{}", text);
            prop_assert!(!text.contains(header.expose()), "{}", text);
        }
        let material = KeyMaterial::generate();
        let generated = material.key_secret().expose();
        let material_text = format!("{material:?}");
        let credentials_text = format!("{:?}", material.credentials());
        prop_assert!(!material_text.contains(generated));
        prop_assert!(!credentials_text.contains(generated));
    }
}

/// A create call answered with `result`; returns the client's error.
fn create_error(result: Value) -> clickhouse_cloud_client::Error {
    let organization_id = Uuid::nil();
    let cassette = Cassette {
        operation: "openapiKeyCreate".into(),
        request: RecordedRequest {
            method: "POST".into(),
            path: format!("/v1/organizations/{organization_id}/keys"),
            query: Default::default(),
            body: json!({"name": "k", "roles": ["admin"]}),
        },
        response: RecordedResponse {
            status: 200,
            headers: Default::default(),
            body: json!({"status": 200, "result": result}),
        },
        extra: Map::new(),
    };
    let client = replay_client(cassette);
    let created = RUNTIME.block_on(
        client
            .api_keys(organization_id)
            .create(NewApiKey::new("k").legacy_role(LegacyRole::Admin)),
    );
    match created {
        Ok(_) => panic!("a malformed create response was accepted"),
        Err(error) => error,
    }
}

proptest! {
    #![proptest_config(config_with(64))]

    /// Client errors about a response that carries a secret never show it.
    #[test]
    fn client_errors_never_print_a_secret(secret in "[A-Za-z0-9]{16,42}", which in 0..4usize) {
        let result = match which {
            0 => json!({"keyId": "bad:id", "keySecret": secret}),
            1 => json!({"keyId": "ok", "keySecret": secret, "key": {"createdAt": 42}}),
            2 => json!({"keyId": "ok", "keySecret": [secret]}),
            _ => json!({"keySecret": secret}),
        };
        let error = create_error(result);
        // Each malformed answer is the error its defect calls for.
        match (which, &error) {
            (0, clickhouse_cloud_client::Error::Auth(_)) => {}
            (1, clickhouse_cloud_client::Error::Decode { path, .. }) => {
                prop_assert_eq!(path.as_str(), "result.key.createdAt");
            }
            (2, clickhouse_cloud_client::Error::Decode { path, .. }) => {
                prop_assert_eq!(path.as_str(), "result.keySecret");
            }
            (3, clickhouse_cloud_client::Error::Decode { path, .. }) => {
                prop_assert_eq!(path.as_str(), "result.keyId");
            }
            (which, other) => {
                return Err(TestCaseError::fail(format!("case {which}: {other:?}")));
            }
        }
        for text in [format!("{error}"), format!("{error:?}"), format!("{error:#?}")] {
            prop_assert!(!text.contains(&secret), "{}", text);
        }
    }
}

/// Fills an operation's path from JSON values (`None`: they do not make
/// its `Path` type).
type EncodePath = fn(&Map<String, Value>) -> Option<Result<String, EncodeError>>;

/// One operation of the table, able to fill its path from JSON values.
struct PathCase {
    id: &'static str,
    template: &'static str,
    /// Parameters whose type takes any string.
    free: Vec<String>,
    /// A value every parameter accepts (a UUID, or a number).
    base: Map<String, Value>,
    /// Fills its path.
    encode: EncodePath,
}

fn encode_with<O: Operation>(values: &Map<String, Value>) -> Option<Result<String, EncodeError>> {
    // An operation without path parameters takes `()`, which is `null`.
    let json = if values.is_empty() {
        Value::Null
    } else {
        Value::Object(values.clone())
    };
    let path: O::Path = serde_json::from_value(json).ok()?;
    Some(encode_path::<O>(&path))
}

struct PathCases(Vec<PathCase>);

impl OperationVisitor for PathCases {
    fn visit<O: Operation>(&mut self) {
        let names: Vec<String> = O::PATH
            .split('/')
            .filter_map(|s| Some(s.strip_prefix('{')?.strip_suffix('}')?.to_owned()))
            .collect();
        let fits = |values: &Map<String, Value>| encode_with::<O>(values).is_some();
        // Each parameter is a UUID or a number (a UDF's version): the first
        // combination the `Path` type takes.
        let base = (0..1u32 << names.len())
            .map(|numbers| -> Map<String, Value> {
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let value = if numbers & (1 << i) == 0 {
                            Value::String(Uuid::nil().to_string())
                        } else {
                            json!(1)
                        };
                        (n.clone(), value)
                    })
                    .collect()
            })
            .find(|values| fits(values));
        let Some(base) = base else {
            panic!("{}: no values make its path", O::ID);
        };
        let free = names
            .iter()
            .filter(|name| {
                let mut values = base.clone();
                values.insert((*name).clone(), json!("free text"));
                fits(&values)
            })
            .cloned()
            .collect();
        self.0.push(PathCase {
            id: O::ID,
            template: O::PATH,
            free,
            base,
            encode: encode_with::<O>,
        });
    }
}

static PATH_CASES: LazyLock<Vec<PathCase>> = LazyLock::new(|| {
    let mut cases = PathCases(Vec::new());
    clickhouse_cloud_types::ops::visit_all(&mut cases);
    cases.0
});

/// The base URL as the transport keeps it (normalized by its builder).
static TRANSPORT_BASE: LazyLock<String> = LazyLock::new(|| {
    let secret: String = (0..24).map(|i| char::from(b'a' + (i % 26))).collect();
    let credentials = Credentials::new(
        KeyId::new("path-property".to_owned()).unwrap(),
        KeySecret::new(secret).unwrap(),
    );
    ReqwestTransport::builder(credentials)
        .base_url("http://127.0.0.1:1/")
        .build()
        .unwrap()
        .base_url()
        .to_owned()
});

/// Path values a caller or a server might hand over: dots, slashes,
/// percent signs, escapes of dots, unicode, nothing at all.
fn path_value() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "", ".", "..", "...", "%2e", "%2E%2e", ".%2e", "./..", "a/../b", "\\..", "?", "#", ";",
            "%"
        ])
        .prop_map(str::to_owned),
        "[./%\\\\?#;a-z2eE]{0,6}",
        "\\PC{0,10}",
    ]
}

proptest! {
    #![proptest_config(config())]

    /// For every operation, any path values are refused before sending, or
    /// make exactly the template's segments once parsed as a URL the way
    /// the reqwest transport does (its base URL, then reqwest's parsing),
    /// and read back as the same values.
    #[test]
    fn path_values_never_change_the_endpoint(values in vec(path_value(), 1..5)) {
        prop_assert!(!PATH_CASES.is_empty());
        let client = reqwest::Client::new();
        for case in PATH_CASES.iter() {
            let mut params = case.base.clone();
            for (name, value) in case.free.iter().zip(values.iter().cycle()) {
                params.insert(name.clone(), Value::String(value.clone()));
            }
            let Some(encoded) = (case.encode)(&params) else {
                return Err(TestCaseError::fail(format!("{}: {params:?} is not its path type", case.id)));
            };
            let path = match encoded {
                Err(EncodeError::UnsafePathValue { name, value }) => {
                    prop_assert!(matches!(value.as_str(), "" | "." | ".."), "{}: {name} = {value:?} refused", case.id);
                    prop_assert_eq!(&params[&name], &Value::String(value));
                    continue;
                }
                Err(other) => return Err(TestCaseError::fail(format!("{}: {other}", case.id))),
                Ok(path) => path,
            };
            let request = client
                .request(reqwest::Method::DELETE, format!("{}{path}", *TRANSPORT_BASE))
                .build()
                .map_err(|e| TestCaseError::fail(format!("{}: {path}: {e}", case.id)))?;
            let url = request.url();
            let segments: Vec<&str> = url.path_segments().map(Iterator::collect).unwrap_or_default();
            let template: Vec<&str> = case.template.trim_start_matches('/').split('/').collect();
            prop_assert_eq!(segments.len(), template.len(), "{}: {} -> {}", case.id, path, url);
            prop_assert!(url.query().is_none() && url.fragment().is_none(), "{}: {}", case.id, url);
            let back = match_path(case.template, url.path());
            prop_assert!(back.is_some(), "{}: {} does not match {}", case.id, url.path(), case.template);
            let back = back.unwrap_or_default();
            for name in &case.free {
                prop_assert_eq!(&back[name], &params[name], "{}: {}", case.id, url);
            }
        }
    }
}
