//! The emulator over real loopback HTTP.

use std::time::Duration;

use clickhouse_cloud_auth::{Credentials, KeyId, KeyMaterial, KeySecret};
use clickhouse_cloud_emulator::{
    ADMIN_ROLE_ID, DEVELOPER_ROLE_ID, Emulator, EmulatorBuilder, RateLimit, RunningEmulator,
};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use uuid::Uuid;

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }
}

struct Api {
    http: reqwest::Client,
    emulator: RunningEmulator,
}

impl Api {
    async fn start(builder: EmulatorBuilder) -> Self {
        let emulator = builder.start().await.expect("emulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client builds");
        Self { http, emulator }
    }

    /// Rate limiting off, so tests can make as many requests as they like.
    async fn unlimited() -> Self {
        Self::start(Emulator::builder().rate_limit(None)).await
    }

    fn org(&self) -> Uuid {
        self.emulator.organization_id()
    }

    fn admin(&self) -> &Credentials {
        self.emulator.bootstrap_credentials()
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.emulator.base_url()))
            .header("user-agent", "emulator-tests/1");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body is read");
        assert_eq!(
            headers.get("content-type").unwrap(),
            "application/json",
            "{path}"
        );
        let body: Value = serde_json::from_slice(&bytes).expect("body is JSON");
        assert_eq!(body["status"], status, "{body}");
        let request_id = body["requestId"].as_str().expect("requestId is present");
        Uuid::parse_str(request_id).expect("requestId is a UUID");
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        credentials: &Credentials,
        body: Option<Value>,
    ) -> Reply {
        let header = credentials.authorization();
        let body = body.map(|body| serde_json::to_vec(&body).unwrap());
        self.raw(method, path, Some(header.expose()), body).await
    }

    fn keys_path(&self) -> String {
        format!("/v1/organizations/{}/keys", self.org())
    }

    fn key_path(&self, id: &str) -> String {
        format!("/v1/organizations/{}/keys/{id}", self.org())
    }

    /// Creates a key with the bootstrap key; returns (key UUID, credentials).
    async fn create_key(&self, body: Value) -> (String, Credentials) {
        let reply = self
            .call(Method::POST, &self.keys_path(), self.admin(), Some(body))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let result = &reply.body["result"];
        let credentials = Credentials::new(
            KeyId::new(result["keyId"].as_str().unwrap()).unwrap(),
            KeySecret::new(result["keySecret"].as_str().unwrap().to_owned()).unwrap(),
        );
        (
            result["key"]["id"].as_str().unwrap().to_owned(),
            credentials,
        )
    }

    /// UUID of the bootstrap key, found by its suffix.
    async fn bootstrap_key_uuid(&self) -> String {
        let reply = self
            .call(Method::GET, &self.keys_path(), self.admin(), None)
            .await;
        let suffix = self.admin().key_id().suffix().to_owned();
        reply.body["result"]
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["keySuffix"] == suffix.as_str())
            .map(|key| key["id"].as_str().unwrap().to_owned())
            .unwrap()
    }
}

#[tokio::test]
async fn success_and_error_envelopes_carry_a_fresh_request_id() {
    let api = Api::unlimited().await;
    let first = api
        .call(Method::GET, "/v1/organizations", api.admin(), None)
        .await;
    assert_eq!(first.status, 200);
    let orgs = first.body["result"].as_array().unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["id"], api.org().to_string());
    assert_eq!(orgs[0]["name"], "Emulated organization");
    assert!(first.body.get("error").is_none());

    let second = api
        .call(Method::GET, "/v1/organizations", api.admin(), None)
        .await;
    assert_ne!(first.body["requestId"], second.body["requestId"]);

    let denied = api.raw(Method::GET, "/v1/organizations", None, None).await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.error(), "UNAUTHORIZED: Key is not found");
    assert!(denied.body.get("result").is_none());
    let keys: Vec<&String> = denied.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error", "requestId", "status"]);
}

#[tokio::test]
async fn unknown_keys_wrong_secrets_and_garbled_headers_are_not_found() {
    let api = Api::unlimited().await;
    let stranger = KeyMaterial::generate().into_credentials();
    let wrong_secret = Credentials::new(
        api.admin().key_id().clone(),
        KeyMaterial::generate().key_secret().clone(),
    );
    for credentials in [&stranger, &wrong_secret] {
        let reply = api
            .call(Method::GET, "/v1/organizations", credentials, None)
            .await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.error(), "UNAUTHORIZED: Key is not found");
        assert!(reply.headers.get("x-ratelimit-limit").is_none());
    }
    for garbled in ["Basic !!!", "Bearer abc", "Basic"] {
        let reply = api
            .raw(Method::GET, "/v1/organizations", Some(garbled), None)
            .await;
        assert_eq!(reply.error(), "UNAUTHORIZED: Key is not found");
    }
}

#[tokio::test]
async fn disabled_and_expired_keys_are_not_active() {
    let api = Api::unlimited().await;
    let (id, credentials) = api
        .create_key(json!({"name": "short-lived", "roles": ["developer"]}))
        .await;
    let path = api.key_path(&id);
    let ok = api.call(Method::GET, &path, &credentials, None).await;
    assert_eq!(ok.status, 200);

    let disabled = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({"state": "disabled"})),
        )
        .await;
    assert_eq!(disabled.body["result"]["state"], "disabled");
    let reply = api.call(Method::GET, &path, &credentials, None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.error(), "UNAUTHORIZED: Key is not active");

    let soon = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let reply = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({"state": "enabled", "expireAt": soon.to_rfc3339()})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        api.call(Method::GET, &path, &credentials, None)
            .await
            .status,
        200
    );

    api.emulator.advance_clock(Duration::from_secs(2 * 3600));
    let reply = api.call(Method::GET, &path, &credentials, None).await;
    assert_eq!(reply.error(), "UNAUTHORIZED: Key is not active");

    // An explicit null clears the expiry.
    let reply = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({"expireAt": null})),
        )
        .await;
    assert_eq!(reply.body["result"]["expireAt"], Value::Null);
    assert_eq!(
        api.call(Method::GET, &path, &credentials, None)
            .await
            .status,
        200
    );

    // An expiry in the (emulator's) past is refused.
    let reply = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({"expireAt": soon.to_rfc3339()})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error(), "BAD_REQUEST: expireAt must be in the future");
}

#[tokio::test]
async fn developers_read_and_query_endpoint_keys_do_nothing_here() {
    let api = Api::unlimited().await;
    let (_, developer) = api
        .create_key(json!({"name": "dev", "assignedRoleIds": [DEVELOPER_ROLE_ID]}))
        .await;
    let keys = api.keys_path();
    assert_eq!(
        api.call(Method::GET, &keys, &developer, None).await.status,
        200
    );
    let reply = api
        .call(
            Method::POST,
            &keys,
            &developer,
            Some(json!({"name": "x", "roles": ["admin"]})),
        )
        .await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.error().starts_with("FORBIDDEN: "),
        "{}",
        reply.error()
    );
    let org_path = format!("/v1/organizations/{}", api.org());
    let reply = api
        .call(
            Method::PATCH,
            &org_path,
            &developer,
            Some(json!({"name": "mine"})),
        )
        .await;
    assert_eq!(reply.status, 403);

    let (_, query_only) = api
        .create_key(json!({"name": "qe", "roles": ["query_endpoints"]}))
        .await;
    let reply = api
        .call(Method::GET, "/v1/organizations", &query_only, None)
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(api.emulator.key_count(api.org()), 3);
}

#[tokio::test]
async fn a_created_key_works_and_reports_roles_both_ways() {
    let api = Api::unlimited().await;
    let reply = api
        .call(
            Method::POST,
            &api.keys_path(),
            api.admin(),
            Some(json!({"name": "ci", "roles": ["admin"]})),
        )
        .await;
    assert_eq!(reply.status, 200);
    let result = &reply.body["result"];
    let key_id = result["keyId"].as_str().unwrap();
    let secret = result["keySecret"].as_str().unwrap();
    let key = &result["key"];
    assert_eq!(key["name"], "ci");
    assert_eq!(key["state"], "enabled");
    assert_eq!(key["keySuffix"], &key_id[key_id.len() - 4..]);
    assert_eq!(key["roles"], json!(["admin"]));
    assert_eq!(
        key["assignedRoles"],
        json!([{"roleId": ADMIN_ROLE_ID, "roleName": "Admin", "roleType": "system"}])
    );
    assert_eq!(
        key["ipAccessList"],
        json!([{"source": "0.0.0.0/0"}, {"source": "::/0"}])
    );
    assert!(key.get("usedAt").is_none());
    assert!(key["createdAt"].is_string());

    let credentials = Credentials::new(
        KeyId::new(key_id).unwrap(),
        KeySecret::new(secret.to_owned()).unwrap(),
    );
    assert!(credentials.key_secret().has_service_format());
    let path = api.key_path(key["id"].as_str().unwrap());
    let reply = api.call(Method::GET, &path, &credentials, None).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body["result"]["usedAt"].is_string());
    assert!(reply.body["result"].get("keySecret").is_none());
}

#[tokio::test]
async fn a_hash_data_key_authenticates_with_the_kept_secret() {
    let api = Api::unlimited().await;
    let material = KeyMaterial::generate();
    let hashes = material.hash_data();
    let body = json!({
        "name": "local",
        "roles": ["developer"],
        "hashData": {
            "keyIdHash": hashes.key_id_hash,
            "keyIdSuffix": hashes.key_id_suffix,
            "keySecretHash": hashes.key_secret_hash,
        },
    });
    let reply = api
        .call(
            Method::POST,
            &api.keys_path(),
            api.admin(),
            Some(body.clone()),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let result = reply.body["result"].as_object().unwrap();
    assert!(!result.contains_key("keyId"));
    assert!(!result.contains_key("keySecret"));
    assert_eq!(result["key"]["keySuffix"], material.key_id().suffix());

    let reply = api
        .call(Method::GET, &api.keys_path(), material.credentials(), None)
        .await;
    assert_eq!(reply.status, 200);

    let again = api
        .call(Method::POST, &api.keys_path(), api.admin(), Some(body))
        .await;
    assert_eq!(again.status, 409);
    assert!(again.error().starts_with("CONFLICT: "));
    assert_eq!(api.emulator.key_count(api.org()), 2);
}

#[tokio::test]
async fn malformed_hash_data_is_refused() {
    let api = Api::unlimited().await;
    let hashes = KeyMaterial::generate().hash_data();
    let cases = [
        (
            json!({"keyIdHash": "not-base64", "keyIdSuffix": "abcd", "keySecretHash": hashes.key_secret_hash}),
            "BAD_REQUEST: hashData.keyIdHash: Not a sha256sum",
        ),
        (
            json!({"keyIdHash": hashes.key_id_hash, "keyIdSuffix": "abcd", "keySecretHash": "AAAA"}),
            "BAD_REQUEST: hashData.keySecretHash: Not a sha256sum",
        ),
        (
            json!({"keyIdHash": hashes.key_id_hash, "keyIdSuffix": "abc", "keySecretHash": hashes.key_secret_hash}),
            "BAD_REQUEST: hashData.keyIdSuffix: must be 4 characters",
        ),
    ];
    for (hash_data, expected) in cases {
        let body = json!({"name": "h", "roles": ["admin"], "hashData": hash_data});
        let reply = api
            .call(Method::POST, &api.keys_path(), api.admin(), Some(body))
            .await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.error(), expected);
    }
    assert_eq!(api.emulator.key_count(api.org()), 1);
}

#[tokio::test]
async fn create_validates_its_body() {
    let api = Api::unlimited().await;
    let past = (chrono::Utc::now() - chrono::TimeDelta::minutes(1)).to_rfc3339();
    let cases = [
        (json!({"roles": ["admin"]}), "BAD_REQUEST: name is required"),
        (
            json!({"name": "  ", "roles": ["admin"]}),
            "BAD_REQUEST: name must not be blank",
        ),
        (
            json!({"name": "x".repeat(51), "roles": ["admin"]}),
            "BAD_REQUEST: name must be at most 50 characters",
        ),
        (
            json!({"name": "n", "roles": ["owner"]}),
            "BAD_REQUEST: unknown role owner",
        ),
        (
            json!({"name": "n", "assignedRoleIds": [Uuid::nil()]}),
            "BAD_REQUEST: unknown role 00000000-0000-0000-0000-000000000000",
        ),
        (
            json!({"name": "n", "roles": ["admin"], "expireAt": past}),
            "BAD_REQUEST: expireAt must be in the future",
        ),
        (
            json!({"name": "n", "roles": ["admin"], "ipAccessList": [{"source": "10.0.0.0/40"}]}),
            "BAD_REQUEST: ipAccessList: \"10.0.0.0/40\" is not an IP address or CIDR",
        ),
    ];
    for (body, expected) in cases {
        let reply = api
            .call(Method::POST, &api.keys_path(), api.admin(), Some(body))
            .await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.error(), expected);
    }

    for raw in [
        &b"{not json"[..],
        br#"{"name": 5, "roles": ["admin"]}"#,
        b"",
    ] {
        let header = api.admin().authorization();
        let reply = api
            .raw(
                Method::POST,
                &api.keys_path(),
                Some(header.expose()),
                Some(raw.to_vec()),
            )
            .await;
        assert_eq!(reply.status, 400);
        assert!(
            reply.error().starts_with("BAD_REQUEST: "),
            "{}",
            reply.error()
        );
    }
    assert_eq!(api.emulator.key_count(api.org()), 1);
}

#[tokio::test]
async fn the_key_limit_counts_the_bootstrap_key() {
    let api = Api::start(Emulator::builder().rate_limit(None).key_limit(3)).await;
    for name in ["a", "b"] {
        api.create_key(json!({"name": name, "roles": ["developer"]}))
            .await;
    }
    let reply = api
        .call(
            Method::POST,
            &api.keys_path(),
            api.admin(),
            Some(json!({"name": "c", "roles": ["developer"]})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error(),
        "BAD_REQUEST: organization already has the maximum of 3 API keys"
    );
    assert_eq!(api.emulator.key_count(api.org()), 3);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_headers() {
    let limit = RateLimit {
        requests: 3,
        window: Duration::from_secs(60),
    };
    let api = Api::start(Emulator::builder().rate_limit(Some(limit))).await;
    for remaining in ["2", "1", "0"] {
        let reply = api
            .call(Method::GET, "/v1/organizations", api.admin(), None)
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-ratelimit-limit"), "3");
        assert_eq!(reply.header("x-ratelimit-remaining"), remaining);
        assert_eq!(reply.header("x-ratelimit-policy"), "3;w=60");
        let reset: f64 = reply.header("x-ratelimit-reset").parse().unwrap();
        assert!(reset > 0.0 && reset <= 60.0, "{reset}");
    }
    let reply = api
        .call(Method::GET, "/v1/organizations", api.admin(), None)
        .await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.error(), "TOO_MANY_REQUESTS: Rate limit exceeded");
    assert_eq!(reply.header("x-ratelimit-remaining"), "0");
    let retry: u64 = reply.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");

    // Another key has its own window; the unauthenticated get no headers.
    let other = api.raw(Method::GET, "/v1/organizations", None, None).await;
    assert!(other.headers.get("x-ratelimit-limit").is_none());

    api.emulator.advance_clock(Duration::from_secs(61));
    let reply = api
        .call(Method::GET, "/v1/organizations", api.admin(), None)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-ratelimit-remaining"), "2");
}

#[tokio::test]
async fn ip_access_lists_are_enforced_against_the_peer() {
    let api = Api::unlimited().await;
    let (_, elsewhere) = api
        .create_key(
            json!({"name": "vpn", "roles": ["admin"], "ipAccessList": [{"source": "10.0.0.0/8"}]}),
        )
        .await;
    let reply = api
        .call(Method::GET, "/v1/organizations", &elsewhere, None)
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.error(),
        "FORBIDDEN: IP address 127.0.0.1 is not allowed for this key"
    );

    let (_, nobody) = api
        .create_key(json!({"name": "dead", "roles": ["admin"], "ipAccessList": []}))
        .await;
    let reply = api
        .call(Method::GET, "/v1/organizations", &nobody, None)
        .await;
    assert_eq!(reply.status, 403);

    let (_, local) = api
        .create_key(json!({"name": "local", "roles": ["admin"], "ipAccessList": [{"source": "127.0.0.1"}, {"source": "::1/128"}]}))
        .await;
    let reply = api
        .call(Method::GET, "/v1/organizations", &local, None)
        .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn deleting_keys() {
    let api = Api::unlimited().await;
    let own = api.bootstrap_key_uuid().await;
    let reply = api
        .call(Method::DELETE, &api.key_path(&own), api.admin(), None)
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.error(), "CONFLICT: a key cannot delete itself");

    let (id, credentials) = api
        .create_key(json!({"name": "doomed", "roles": ["admin"]}))
        .await;
    let reply = api
        .call(Method::DELETE, &api.key_path(&id), api.admin(), None)
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.get("result").is_none(), "{}", reply.body);

    let reply = api
        .call(Method::GET, "/v1/organizations", &credentials, None)
        .await;
    assert_eq!(reply.error(), "UNAUTHORIZED: Key is not found");
    let reply = api
        .call(Method::GET, &api.key_path(&id), api.admin(), None)
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error(), format!("NOT_FOUND: API key {id} not found"));
    let reply = api
        .call(Method::DELETE, &api.key_path(&id), api.admin(), None)
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(api.emulator.key_count(api.org()), 1);
}

#[tokio::test]
async fn other_organizations_are_invisible() {
    let other_org = Uuid::new_v4();
    let other_admin = KeyMaterial::generate().into_credentials();
    let api = Api::start(Emulator::builder().rate_limit(None).extra_organization(
        other_org,
        "Elsewhere",
        other_admin.clone(),
    ))
    .await;
    let missing = Uuid::new_v4();
    for org in [other_org, missing] {
        for path in [
            format!("/v1/organizations/{org}"),
            format!("/v1/organizations/{org}/keys"),
            format!("/v1/organizations/{org}/activities"),
            format!("/v1/organizations/{org}/keys/{}", Uuid::new_v4()),
        ] {
            let reply = api.call(Method::GET, &path, api.admin(), None).await;
            assert_eq!(reply.status, 404, "{path}");
            assert_eq!(
                reply.error(),
                format!("NOT_FOUND: organization {org} not found")
            );
        }
    }
    let reply = api
        .call(
            Method::PATCH,
            &format!("/v1/organizations/{other_org}"),
            api.admin(),
            Some(json!({"name": "taken"})),
        )
        .await;
    assert_eq!(reply.status, 404);

    let reply = api
        .call(Method::GET, "/v1/organizations", &other_admin, None)
        .await;
    let orgs = reply.body["result"].as_array().unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["id"], other_org.to_string());
    assert_eq!(orgs[0]["name"], "Elsewhere");
    assert_eq!(api.emulator.key_count(other_org), 1);
}

#[tokio::test]
async fn malformed_path_ids_are_bad_requests() {
    let api = Api::unlimited().await;
    let reply = api
        .call(
            Method::GET,
            "/v1/organizations/not-a-uuid/keys",
            api.admin(),
            None,
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error(),
        "BAD_REQUEST: organizationId is not a valid UUID: \"not-a-uuid\""
    );
    let reply = api
        .call(Method::GET, &api.key_path("nope"), api.admin(), None)
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.error().contains("keyId"), "{}", reply.error());
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let api = Api::unlimited().await;
    let reply = api
        .call(
            Method::GET,
            "/v1/organizations/x/nothing-here",
            api.admin(),
            None,
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.error(),
        "NOT_FOUND: no route for GET /v1/organizations/x/nothing-here"
    );
    let reply = api.raw(Method::GET, "/", None, None).await;
    assert_eq!(reply.status, 404);
    let reply = api
        .call(Method::PUT, "/v1/organizations", api.admin(), None)
        .await;
    assert_eq!(reply.status, 405);
    assert!(reply.error().starts_with("METHOD_NOT_ALLOWED: "));
}

/// Sends `request` as raw bytes on a fresh connection and reads the whole
/// answer: status code, head and body.
async fn raw_exchange(api: &Api, request: &[u8]) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(api.emulator.local_addr())
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let text = String::from_utf8(answer).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let status = head[9..12].parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn empty_and_dot_segments_name_nothing() {
    let api = Api::unlimited().await;
    let (id, _) = api
        .create_key(json!({"name": "kept", "roles": ["developer"]}))
        .await;
    let authorization = api.admin().authorization();
    for path in [
        format!("{}/", api.key_path(&id)),
        format!("{}//", api.key_path(&id)),
        format!("{}/.", api.key_path(&id)),
        format!("{}/x/..", api.key_path(&id)),
        format!("{}/x/%2e%2E", api.key_path(&id)),
        format!("{}/%2E", api.key_path(&id)),
    ] {
        let request = format!(
            "DELETE {path} HTTP/1.1\r\nhost: emulator\r\nauthorization: {}\r\nconnection: close\r\n\r\n",
            authorization.expose()
        );
        let (status, head, body) = raw_exchange(&api, request.as_bytes()).await;
        assert_eq!(status, 404, "{path}: {head}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert!(
            body["error"].as_str().unwrap().starts_with("NOT_FOUND: "),
            "{body}"
        );
        assert!(body["requestId"].is_string(), "{body}");
    }
    let reply = api
        .call(Method::GET, &api.key_path(&id), api.admin(), None)
        .await;
    assert_eq!(reply.status, 200, "the key is still there");
}

#[tokio::test]
async fn unparsable_request_lines_and_long_uris_answer_in_the_envelope() {
    let api = Api::unlimited().await;
    let long = format!(
        "GET /v1/{} HTTP/1.1\r\nhost: emulator\r\n\r\n",
        "a".repeat(70_000)
    );
    let cases: [(&[u8], u16, &str); 4] = [
        (b"GARBAGE\r\n\r\n", 400, "BAD_REQUEST: "),
        (
            b"GET /v1/whoami HTTP/9.9\r\nhost: x\r\n\r\n",
            400,
            "BAD_REQUEST: ",
        ),
        (
            b"G{T /v1/whoami HTTP/1.1\r\nhost: x\r\n\r\n",
            400,
            "BAD_REQUEST: ",
        ),
        (long.as_bytes(), 414, "URI_TOO_LONG: "),
    ];
    for (request, expected, code) in cases {
        let (status, head, body) = raw_exchange(&api, request).await;
        assert_eq!(status, expected, "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        let body: Value = serde_json::from_str(&body).expect("a JSON body");
        assert_eq!(body["status"], expected);
        assert!(body["error"].as_str().unwrap().starts_with(code), "{body}");
        assert!(body["requestId"].is_string(), "{body}");
    }
    // The server keeps serving.
    let reply = api.call(Method::GET, "/v1/whoami", api.admin(), None).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn updates_replace_fields_and_are_recorded() {
    let api = Api::unlimited().await;
    let actor = api.bootstrap_key_uuid().await;
    let (id, _) = api
        .create_key(json!({"name": "before", "roles": ["developer"]}))
        .await;
    let path = api.key_path(&id);
    let reply = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({
                "name": "after",
                "state": "disabled",
                "assignedRoleIds": [ADMIN_ROLE_ID],
                "ipAccessList": [{"source": "192.0.2.0/24", "description": "office"}],
            })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let key = &reply.body["result"];
    assert_eq!(key["name"], "after");
    assert_eq!(key["roles"], json!(["admin"]));
    assert_eq!(
        key["ipAccessList"],
        json!([{"source": "192.0.2.0/24", "description": "office"}])
    );

    let reply = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({"roles": []})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["result"]["roles"], json!([]));
    assert_eq!(reply.body["result"]["assignedRoles"], json!([]));
    let reply = api
        .call(Method::PATCH, &path, api.admin(), Some(json!({"name": ""})))
        .await;
    assert_eq!(reply.error(), "BAD_REQUEST: name must not be blank");

    let reply = api.call(Method::DELETE, &path, api.admin(), None).await;
    assert_eq!(reply.status, 200);

    let activities_path = format!("/v1/organizations/{}/activities", api.org());
    let reply = api
        .call(Method::GET, &activities_path, api.admin(), None)
        .await;
    let activities = reply.body["result"].as_array().unwrap().clone();
    let summary: Vec<(String, String)> = activities
        .iter()
        .map(|activity| {
            (
                activity["type"].as_str().unwrap().to_owned(),
                activity["keyUpdateType"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("key_create", ""),
        ("openapi_key_update", "name-changed"),
        ("openapi_key_update", "roles-v2-changed"),
        ("openapi_key_update", "state-changed"),
        ("openapi_key_update", "ip-access-list-changed"),
        ("openapi_key_update", "role-changed"),
        ("key_delete", ""),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(summary, expected);
    for activity in &activities {
        assert_eq!(activity["actorType"], "api");
        assert_eq!(activity["actorId"], actor.as_str());
        assert_eq!(activity["actorDetails"], "Bootstrap key");
        assert_eq!(activity["actorIpAddress"], "127.0.0.1");
        assert_eq!(activity["organizationId"], api.org().to_string());
        assert_eq!(activity["userAgent"], "emulator-tests/1");
        assert_eq!(activity["targetKeyId"], id.as_str());
    }

    let first_id = activities[0]["id"].as_str().unwrap();
    let reply = api
        .call(
            Method::GET,
            &format!("{activities_path}/{first_id}"),
            api.admin(),
            None,
        )
        .await;
    assert_eq!(reply.body["result"], activities[0]);
    let reply = api
        .call(
            Method::GET,
            &format!("{activities_path}/act_999999"),
            api.admin(),
            None,
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error(), "NOT_FOUND: activity act_999999 not found");

    // Inclusive date filters, and a refusal for a garbled one.
    let first_at = activities[0]["createdAt"].as_str().unwrap();
    let reply = api
        .call(
            Method::GET,
            &format!("{activities_path}?to_date={first_at}"),
            api.admin(),
            None,
        )
        .await;
    let early = reply.body["result"].as_array().unwrap();
    assert!(!early.is_empty() && early.len() < activities.len() + 1);
    assert_eq!(early[0], activities[0]);
    let future = (chrono::Utc::now() + chrono::TimeDelta::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let reply = api
        .call(
            Method::GET,
            &format!("{activities_path}?from_date={future}"),
            api.admin(),
            None,
        )
        .await;
    assert_eq!(reply.body["result"], json!([]));
    let reply = api
        .call(
            Method::GET,
            &format!("{activities_path}?from_date=yesterday"),
            api.admin(),
            None,
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.error().starts_with("BAD_REQUEST: "));
}

#[tokio::test]
async fn organization_updates() {
    let api = Api::unlimited().await;
    let path = format!("/v1/organizations/{}", api.org());
    let reply = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({
                "name": "Renamed",
                "enableCoreDumps": true,
                "privateEndpoints": {"add": [
                    {"id": "vpce-1", "cloudProvider": "aws", "region": "us-east-1"},
                    {"id": "vpce-2"},
                ]},
            })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let org = &reply.body["result"];
    assert_eq!(org["name"], "Renamed");
    assert_eq!(org["enableCoreDumps"], true);
    assert_eq!(org["privateEndpoints"].as_array().unwrap().len(), 2);

    let reply = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({"privateEndpoints": {"remove": [{"id": "vpce-1"}], "add": [{"id": "vpce-3"}]}})),
        )
        .await;
    let ids: Vec<&str> = reply.body["result"]["privateEndpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|endpoint| endpoint["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["vpce-2", "vpce-3"]);

    let reply = api
        .call(
            Method::PATCH,
            &path,
            api.admin(),
            Some(json!({"name": " "})),
        )
        .await;
    assert_eq!(reply.error(), "BAD_REQUEST: name must not be blank");

    let reply = api.call(Method::GET, &path, api.admin(), None).await;
    assert_eq!(reply.body["result"]["name"], "Renamed");
    let reply = api
        .call(
            Method::GET,
            &format!("{path}/activities"),
            api.admin(),
            None,
        )
        .await;
    let types: Vec<&str> = reply.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|activity| activity["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "organization_update_name",
            "organization_update_core_dumps",
            "organization_update_private_endpoints",
            "organization_update_private_endpoints",
        ]
    );
}

#[tokio::test]
async fn shutdown_stops_serving_and_debug_hides_the_secret() {
    let api = Api::unlimited().await;
    let secret = api.admin().key_secret().expose().to_owned();
    assert!(!format!("{:?}", api.emulator).contains(&secret));
    let url = api.emulator.base_url();
    assert!(url.starts_with("http://127.0.0.1:"));
    let Api { http, emulator } = api;
    drop(http);
    emulator.shutdown().await;
    let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(
        fresh
            .get(format!("{url}/v1/organizations"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn duplicate_organizations_are_refused_at_start() {
    let org = Uuid::new_v4();
    let credentials = KeyMaterial::generate().into_credentials();
    let error = Emulator::builder()
        .organization_id(org)
        .extra_organization(org, "twin", credentials)
        .start()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn dropping_the_emulator_stops_the_server() {
    let emulator = Emulator::builder().start().await.unwrap();
    let url = format!("{}/v1/organizations", emulator.base_url());
    drop(emulator);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let mut refused = false;
    for _ in 0..50 {
        if client.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the server still answers after drop");
}

#[tokio::test]
async fn ipv6_peers_are_matched_against_ipv6_entries() {
    let Ok(probe) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback here; skipping");
        return;
    };
    drop(probe);
    let api = Api::start(
        Emulator::builder()
            .rate_limit(None)
            .listen("[::1]:0".parse().unwrap()),
    )
    .await;
    assert!(api.emulator.base_url().starts_with("http://[::1]:"));
    let (_, v4_only) = api
        .create_key(
            json!({"name": "v4", "roles": ["admin"], "ipAccessList": [{"source": "127.0.0.0/8"}]}),
        )
        .await;
    let reply = api
        .call(Method::GET, "/v1/organizations", &v4_only, None)
        .await;
    assert_eq!(
        reply.error(),
        "FORBIDDEN: IP address ::1 is not allowed for this key"
    );
    let (_, v6) = api
        .create_key(json!({"name": "v6", "roles": ["admin"], "ipAccessList": [{"source": "::1"}]}))
        .await;
    let reply = api.call(Method::GET, "/v1/organizations", &v6, None).await;
    assert_eq!(reply.status, 200);
}
