//! Raw HTTP against a running emulator, shared by the test files.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use clickhouse_cloud_auth::{Credentials, KeyId, KeySecret};
use clickhouse_cloud_emulator::{EmulatorBuilder, RunningEmulator};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use uuid::Uuid;

/// A UDF create body for function `name` from upload `upload` (a version
/// create body without the name).
pub fn udf_body(name: Option<&str>, upload: &str) -> Value {
    let mut body = serde_json::json!({
        "uploadId": upload,
        "runtime": "python3.11",
        "type": "executable",
        "arguments": [{"name": "x", "type": "UInt64"}],
        "returnType": "UInt64",
    });
    if let Some(name) = name {
        body["functionName"] = Value::from(name);
    }
    body
}

/// Bytes that start like a ZIP archive (the emulator keeps only their
/// size and SHA-256).
pub const ARCHIVE: &[u8] = b"PK\x05\x06 an empty archive, as far as the emulator cares";

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    pub fn result(&self) -> &Value {
        &self.body["result"]
    }
}

pub struct Api {
    pub http: reqwest::Client,
    pub emulator: RunningEmulator,
}

impl Api {
    pub async fn start(builder: EmulatorBuilder) -> Self {
        let emulator = builder
            .rate_limit(None)
            .start()
            .await
            .expect("emulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client builds");
        Self { http, emulator }
    }

    pub fn org(&self) -> Uuid {
        self.emulator.organization_id()
    }

    pub fn admin(&self) -> &Credentials {
        self.emulator.bootstrap_credentials()
    }

    /// `/v1/organizations/{org}` + `rest`.
    pub fn at(&self, rest: &str) -> String {
        format!("/v1/organizations/{}{rest}", self.org())
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        credentials: Option<&Credentials>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.emulator.base_url()))
            .header("user-agent", "emulator-tests/1");
        if let Some(credentials) = credentials {
            request = request.header("authorization", credentials.authorization().expose());
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).expect("JSON"));
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body is read");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// As the bootstrap admin key.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send(method, path, Some(self.admin()), body).await
    }

    /// A 200 answer's `result`, failing the test otherwise.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let reply = self.call(method.clone(), path, body).await;
        assert_eq!(reply.status, 200, "{method} {path}: {}", reply.body);
        reply.body["result"].clone()
    }

    /// Creates a key; returns (key UUID, credentials, the key as answered).
    pub async fn create_key(&self, body: Value) -> (String, Credentials, Value) {
        let result = self.ok(Method::POST, &self.at("/keys"), Some(body)).await;
        let credentials = Credentials::new(
            KeyId::new(result["keyId"].as_str().unwrap()).unwrap(),
            KeySecret::new(result["keySecret"].as_str().unwrap().to_owned()).unwrap(),
        );
        (
            result["key"]["id"].as_str().unwrap().to_owned(),
            credentials,
            result["key"].clone(),
        )
    }

    /// The ID of the role called `name`, from the roles list.
    pub async fn role_id(&self, name: &str) -> String {
        let roles = self.ok(Method::GET, &self.at("/roles"), None).await;
        roles
            .as_array()
            .unwrap()
            .iter()
            .find(|role| role["name"] == name)
            .and_then(|role| role["id"].as_str())
            .unwrap_or_else(|| panic!("no role {name}"))
            .to_owned()
    }

    /// Activity types recorded so far, in order.
    pub async fn activity_types(&self) -> Vec<String> {
        let list = self.ok(Method::GET, &self.at("/activities"), None).await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|activity| activity["type"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Opens a UDF upload session and puts `archive` to its URL, as a
    /// presigned URL takes it (no key); the upload ID.
    pub async fn upload(&self, archive: &[u8]) -> String {
        let session = self
            .call(Method::POST, &self.at("/udfUploads/url"), None)
            .await;
        assert_eq!(session.status, 201, "{}", session.body);
        let url = session.result()["uploadUrl"].as_str().unwrap().to_owned();
        let put = self
            .http
            .put(url)
            .header("content-type", "application/zip")
            .body(archive.to_vec())
            .send()
            .await
            .expect("the upload URL answers");
        assert_eq!(put.status().as_u16(), 200);
        session.result()["uploadId"].as_str().unwrap().to_owned()
    }

    /// Polls function `name` until its latest version's build is ready.
    pub async fn wait_for_udf_ready(&self, name: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let udf = self
                .ok(Method::GET, &self.at(&format!("/udfs/{name}")), None)
                .await;
            if udf["status"] == "ready" {
                return udf;
            }
            assert!(
                Instant::now() < deadline,
                "function {name} still {} after {within:?}",
                udf["status"]
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls service `id` until its state is `state`, within `within`.
    pub async fn wait_for_state(&self, id: &str, state: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let service = self
                .ok(Method::GET, &self.at(&format!("/services/{id}")), None)
                .await;
            if service["state"] == state {
                return service;
            }
            assert!(
                Instant::now() < deadline,
                "service {id} still {} after {within:?}, waiting for {state}",
                service["state"]
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
