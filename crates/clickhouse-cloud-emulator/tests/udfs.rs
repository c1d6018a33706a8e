//! UDF uploads, versions and attachments, over real loopback HTTP: the
//! upload URL is the emulator's own and takes a plain `PUT`; a create
//! needs an archive put there; versions build on the scaled clock.

mod common;

use std::time::Duration;

use clickhouse_cloud_auth::KeyMaterial;
use clickhouse_cloud_emulator::{EXAMPLE_HEADER, Emulator, UDF_ARCHIVE_LIMIT};
use common::{ARCHIVE, Api, udf_body};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// At 600x a build takes 0.1 s, an attachment's provisioning 0.05 s.
const FAST: f64 = 600.0;
const PATIENCE: Duration = Duration::from_secs(10);

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A session: its upload ID and URL.
async fn session(api: &Api) -> (String, String) {
    let reply = api
        .call(Method::POST, &api.at("/udfUploads/url"), None)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (
        reply.result()["uploadId"].as_str().unwrap().to_owned(),
        reply.result()["uploadUrl"].as_str().unwrap().to_owned(),
    )
}

async fn put(api: &Api, url: &str, content_type: &str, body: &[u8]) -> reqwest::Response {
    api.http
        .put(url)
        .header("content-type", content_type)
        .body(body.to_vec())
        .send()
        .await
        .expect("the upload URL answers")
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a body");
    let body: Value = serde_json::from_slice(&bytes).expect("a JSON error envelope");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn an_upload_url_points_at_the_emulator_and_keeps_what_was_put() {
    let api = Api::start(Emulator::builder()).await;
    let before = chrono::Utc::now();
    let reply = api
        .call(Method::POST, &api.at("/udfUploads/url"), None)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.headers.get(EXAMPLE_HEADER).is_none());
    let result = reply.result();
    let id = result["uploadId"].as_str().unwrap();
    let url = result["uploadUrl"].as_str().unwrap();
    let prefix = format!("{}/_uploads/{id}?token=", api.emulator.base_url());
    assert!(url.starts_with(&prefix), "{url}");
    let expires: chrono::DateTime<chrono::Utc> =
        result["expiresAt"].as_str().unwrap().parse().unwrap();
    let lifetime = expires - before;
    assert!(
        lifetime > chrono::TimeDelta::minutes(14) && lifetime <= chrono::TimeDelta::minutes(16),
        "{lifetime}"
    );

    // Nothing without the token, or with a key's authorization as well.
    let bare = format!("{}/_uploads/{id}", api.emulator.base_url());
    let (status, error) = error_of(put(&api, &bare, "application/zip", ARCHIVE).await).await;
    assert_eq!(status, 403, "{error}");
    let wrong = format!("{bare}?token={}", "0".repeat(64));
    assert_eq!(
        error_of(put(&api, &wrong, "application/zip", ARCHIVE).await)
            .await
            .0,
        403
    );
    let signed = api
        .http
        .put(url)
        .header("content-type", "application/zip")
        .header("authorization", api.admin().authorization().expose())
        .body(ARCHIVE.to_vec())
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(signed).await;
    assert_eq!(status, 400);
    assert!(error.contains("Authorization"), "{error}");
    let (status, error) = error_of(put(&api, url, "application/json", ARCHIVE).await).await;
    assert_eq!(status, 403);
    assert!(error.contains("application/zip"), "{error}");
    let got = api.http.get(url).send().await.unwrap();
    assert_eq!(got.status().as_u16(), 405);
    assert_eq!(api.emulator.udf_archive(id.parse().unwrap()), None);

    // A plain PUT is kept: its size and SHA-256, not its bytes.
    let ok = put(&api, url, "application/zip", ARCHIVE).await;
    assert_eq!(ok.status().as_u16(), 200);
    let etag = ok.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", hex_sha256(ARCHIVE)));
    let kept = api.emulator.udf_archive(id.parse().unwrap()).unwrap();
    assert_eq!(kept.size, ARCHIVE.len() as u64);
    assert_eq!(kept.sha256, hex_sha256(ARCHIVE));
    // A second PUT replaces it.
    let other = b"PK\x03\x04 another archive";
    assert_eq!(
        put(&api, url, "application/zip", other)
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        api.emulator
            .udf_archive(id.parse().unwrap())
            .unwrap()
            .sha256,
        hex_sha256(other)
    );
}

#[tokio::test]
async fn an_archive_over_the_limit_is_refused_with_413() {
    let api = Api::start(Emulator::builder()).await;
    let (_, url) = session(&api).await;
    let url = url.strip_prefix(&api.emulator.base_url()).unwrap();
    // The head alone says the body is too large: the answer comes at once.
    let mut stream = tokio::net::TcpStream::connect(api.emulator.local_addr())
        .await
        .unwrap();
    let head = format!(
        "PUT {url} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/zip\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        api.emulator.local_addr(),
        UDF_ARCHIVE_LIMIT + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE: "), "{answer}");
}

#[tokio::test]
async fn a_create_needs_an_archive_put_to_an_upload_of_its_organization() {
    let other_org = uuid::Uuid::new_v4();
    let other_key = KeyMaterial::generate().into_credentials();
    let api = Api::start(Emulator::builder().speed(FAST).extra_organization(
        other_org,
        "Other",
        other_key.clone(),
    ))
    .await;
    let api = &api;
    let create =
        |body: Value| async move { api.call(Method::POST, &api.at("/udfs"), Some(body)).await };

    // Never uploaded to: 410 in the envelope, and nothing is made.
    let (never, _) = session(api).await;
    let refused = create(udf_body(Some("f"), &never)).await;
    assert_eq!(refused.status, 410, "{}", refused.body);
    assert!(refused.error().starts_with("GONE: "), "{}", refused.error());
    assert!(
        refused.error().contains("nothing was put"),
        "{}",
        refused.error()
    );
    assert!(refused.body["requestId"].is_string());
    assert_eq!(
        api.call(Method::GET, &api.at("/udfs/f"), None).await.status,
        404
    );
    // An ID no session has, and none at all.
    let unknown = create(udf_body(Some("f"), &uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(unknown.status, 410);
    let mut without = udf_body(Some("f"), "x");
    without.as_object_mut().unwrap().remove("uploadId");
    assert_eq!(create(without).await.status, 400);
    // Another organization's upload is not this one's.
    let path = format!("/v1/organizations/{other_org}/udfUploads/url");
    let theirs = api.send(Method::POST, &path, Some(&other_key), None).await;
    assert_eq!(theirs.status, 201);
    let put_theirs = put(
        api,
        theirs.result()["uploadUrl"].as_str().unwrap(),
        "application/zip",
        ARCHIVE,
    )
    .await;
    assert_eq!(put_theirs.status().as_u16(), 200);
    let borrowed = create(udf_body(
        Some("f"),
        theirs.result()["uploadId"].as_str().unwrap(),
    ))
    .await;
    assert_eq!(borrowed.status, 410, "{}", borrowed.body);

    // An uploaded archive serves one attempt, whatever comes of it.
    let upload = api.upload(ARCHIVE).await;
    let made = create(udf_body(Some("f"), &upload)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let again = create(udf_body(Some("g"), &upload)).await;
    assert_eq!(again.status, 410);
    assert!(again.error().contains("already used"), "{}", again.error());
    let upload = api.upload(ARCHIVE).await;
    assert_eq!(create(udf_body(Some("f"), &upload)).await.status, 409);
    assert_eq!(create(udf_body(Some("g"), &upload)).await.status, 410);

    // An upload URL expires 15 minutes on; an archive put in time serves
    // a day longer.
    let kept = api.upload(ARCHIVE).await;
    let (_, late) = session(api).await;
    api.emulator.advance_clock(Duration::from_secs(16 * 60));
    let (status, error) = error_of(put(api, &late, "application/zip", ARCHIVE).await).await;
    assert_eq!(status, 403);
    assert!(error.contains("expired"), "{error}");
    let upload = api.upload(ARCHIVE).await;
    api.emulator.advance_clock(Duration::from_secs(25 * 3600));
    assert_eq!(create(udf_body(Some("h"), &kept)).await.status, 410);
    assert_eq!(api.emulator.udf_archive(kept.parse().unwrap()), None);
    assert_eq!(create(udf_body(Some("h"), &upload)).await.status, 410);
}

#[tokio::test]
async fn versions_build_the_function_shows_the_latest_and_attach_takes_a_ready_one() {
    let api = Api::start(Emulator::builder().speed(FAST)).await;
    let upload = api.upload(ARCHIVE).await;
    let mut body = udf_body(Some("f"), &upload);
    body["memoryLimitMib"] = json!(512);
    body["deterministic"] = json!(true);
    let made = api.call(Method::POST, &api.at("/udfs"), Some(body)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let made = made.result();
    assert_eq!(
        (made["functionName"].as_str(), made["version"].as_i64()),
        (Some("f"), Some(1))
    );
    assert_eq!(made["status"], "building");
    assert_eq!(made["error"], Value::Null);
    assert_eq!(made["memoryLimitMib"], 512);
    assert_eq!(made["returnName"], Value::Null);
    assert_eq!(made["arguments"], json!([{"name": "x", "type": "UInt64"}]));
    let versions = api.ok(Method::GET, &api.at("/udfs/f/versions"), None).await;
    assert_eq!(versions.as_array().unwrap().len(), 1);
    assert_eq!(versions[0]["version"], 1);
    assert_eq!(versions[0]["functionName"], "f");

    // A service to attach to.
    let service = api
        .ok(
            Method::POST,
            &api.at("/services"),
            Some(json!({
                "name": "s", "provider": "aws", "region": "eu-west-1",
                "ipAccessList": [{"source": "0.0.0.0/0"}], "idleScaling": false,
            })),
        )
        .await["service"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.wait_for_state(&service, "running", PATIENCE).await;
    let attachment = api.at(&format!("/udfs/f/attachments/{service}"));

    let ready = api.wait_for_udf_ready("f", PATIENCE).await;
    assert_eq!(ready["version"], 1);
    // Version 2, from its own request: nothing comes from version 1.
    let upload = api.upload(ARCHIVE).await;
    let second = api
        .call(
            Method::POST,
            &api.at("/udfs/f/versions"),
            Some(udf_body(None, &upload)),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.result()["version"], 2);
    assert_eq!(second.result()["functionName"], "f");
    assert_eq!(second.result()["memoryLimitMib"], Value::Null);
    assert_eq!(second.result()["deterministic"], false);
    let shown = api.ok(Method::GET, &api.at("/udfs/f"), None).await;
    assert_eq!(
        (shown["version"].as_i64(), shown["status"].as_str()),
        (Some(2), Some("building"))
    );
    let listed = api.ok(Method::GET, &api.at("/udfs"), None).await;
    assert_eq!(listed[0]["version"], 2);

    // While version 2 builds: asking for it is 409, asking for none takes 1.
    let building = api
        .call(Method::PUT, &attachment, Some(json!({"version": 2})))
        .await;
    assert_eq!(building.status, 409, "{}", building.body);
    let missing = api
        .call(Method::PUT, &attachment, Some(json!({"version": 7})))
        .await;
    assert_eq!(missing.status, 404);
    let latest_ready = api.call(Method::PUT, &attachment, Some(json!({}))).await;
    assert_eq!(latest_ready.status, 200, "{}", latest_ready.body);
    assert_eq!(
        (
            latest_ready.result()["version"].as_i64(),
            latest_ready.result()["functionName"].as_str(),
            latest_ready.result()["status"].as_str()
        ),
        (Some(1), Some("f"), Some("provisioning"))
    );

    // Once built, version 2 is attached by name, and deploys.
    api.wait_for_udf_ready("f", PATIENCE).await;
    let attached = api
        .call(Method::PUT, &attachment, Some(json!({"version": 2})))
        .await;
    assert_eq!(attached.status, 200, "{}", attached.body);
    assert_eq!(attached.result()["version"], 2);
    let deadline = std::time::Instant::now() + PATIENCE;
    while api.ok(Method::GET, &attachment, None).await["status"] != "deployed" {
        assert!(std::time::Instant::now() < deadline, "never deployed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let versions = api.ok(Method::GET, &api.at("/udfs/f/versions"), None).await;
    let states: Vec<(i64, &str)> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(states, [(1, "ready"), (2, "ready")]);
}

#[tokio::test]
async fn a_function_without_a_ready_version_cannot_be_attached() {
    // At speed 1 a build takes a minute.
    let api = Api::start(Emulator::builder()).await;
    let upload = api.upload(ARCHIVE).await;
    let made = api
        .call(
            Method::POST,
            &api.at("/udfs"),
            Some(udf_body(Some("slow"), &upload)),
        )
        .await;
    assert_eq!(made.status, 201);
    let service = api
        .ok(
            Method::POST,
            &api.at("/services"),
            Some(json!({
                "name": "s", "provider": "aws", "region": "eu-west-1",
                "ipAccessList": [{"source": "0.0.0.0/0"}],
            })),
        )
        .await["service"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(api.emulator.force_service_state(
        service.parse().unwrap(),
        clickhouse_cloud_types::ServiceState::Running
    ));
    let refused = api
        .call(
            Method::PUT,
            &api.at(&format!("/udfs/slow/attachments/{service}")),
            Some(json!({})),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.error().contains("no ready version"),
        "{}",
        refused.error()
    );
}

/// A service forced to `running`, to attach functions to.
async fn running_service(api: &Api) -> String {
    let service = api
        .ok(
            Method::POST,
            &api.at("/services"),
            Some(json!({
                "name": "s", "provider": "aws", "region": "eu-west-1",
                "ipAccessList": [{"source": "0.0.0.0/0"}],
            })),
        )
        .await["service"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(api.emulator.force_service_state(
        service.parse().unwrap(),
        clickhouse_cloud_types::ServiceState::Running
    ));
    service
}

/// A build takes a minute at speed 1: a little more than that.
const BUILD: Duration = Duration::from_secs(61);

#[tokio::test]
async fn a_function_is_not_deleted_while_one_of_its_versions_builds() {
    let api = Api::start(Emulator::builder()).await;
    let upload = api.upload(ARCHIVE).await;
    let made = api
        .call(
            Method::POST,
            &api.at("/udfs"),
            Some(udf_body(Some("f"), &upload)),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let function = api.at("/udfs/f");
    let refused = api.call(Method::DELETE, &function, None).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.error().starts_with("CONFLICT: "),
        "{}",
        refused.error()
    );
    assert!(refused.error().contains("building"), "{}", refused.error());
    assert!(refused.body["requestId"].is_string());
    // Nothing went: the function and its version are still there.
    assert_eq!(api.ok(Method::GET, &function, None).await["version"], 1);

    // A later version building holds the delete back too.
    api.emulator.advance_clock(BUILD);
    let upload = api.upload(ARCHIVE).await;
    let second = api
        .call(
            Method::POST,
            &api.at("/udfs/f/versions"),
            Some(udf_body(None, &upload)),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(api.call(Method::DELETE, &function, None).await.status, 409);

    api.emulator.advance_clock(BUILD);
    let deleted = api.call(Method::DELETE, &function, None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(api.call(Method::GET, &function, None).await.status, 404);
    assert_eq!(
        api.call(Method::GET, &api.at("/udfs/f/versions"), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_version_delete_spares_building_latest_and_attached_ones() {
    let api = Api::start(Emulator::builder()).await;
    let upload = api.upload(ARCHIVE).await;
    let made = api
        .call(
            Method::POST,
            &api.at("/udfs"),
            Some(udf_body(Some("f"), &upload)),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let version = |n: i64| api.at(&format!("/udfs/f/versions/{n}"));
    let conflict = |reply: &common::Reply, says: &str| {
        assert_eq!(reply.status, 409, "{}", reply.body);
        assert!(reply.error().starts_with("CONFLICT: "), "{}", reply.error());
        assert!(reply.error().contains(says), "{}", reply.error());
        assert!(reply.body["requestId"].is_string());
    };

    // The only version: building, then the latest.
    conflict(
        &api.call(Method::DELETE, &version(1), None).await,
        "still building",
    );
    api.emulator.advance_clock(BUILD);
    conflict(&api.call(Method::DELETE, &version(1), None).await, "latest");

    // Version 1 attached, version 2 building.
    let service = running_service(&api).await;
    let attachment = api.at(&format!("/udfs/f/attachments/{service}"));
    let attached = api.call(Method::PUT, &attachment, Some(json!({}))).await;
    assert_eq!(attached.status, 200, "{}", attached.body);
    let upload = api.upload(ARCHIVE).await;
    let second = api
        .call(
            Method::POST,
            &api.at("/udfs/f/versions"),
            Some(udf_body(None, &upload)),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    conflict(
        &api.call(Method::DELETE, &version(2), None).await,
        "still building",
    );
    api.emulator.advance_clock(BUILD);
    conflict(&api.call(Method::DELETE, &version(2), None).await, "latest");
    conflict(&api.call(Method::DELETE, &version(1), None).await, &service);
    assert_eq!(
        api.call(Method::DELETE, &version(9), None).await.status,
        404
    );

    // Detached, the older version goes; the function shows the newest.
    let detached = api.call(Method::DELETE, &attachment, None).await;
    assert_eq!(detached.status, 200, "{}", detached.body);
    let deleted = api.call(Method::DELETE, &version(1), None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let versions = api.ok(Method::GET, &api.at("/udfs/f/versions"), None).await;
    let left: Vec<i64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(left, [2]);
    let shown = api.ok(Method::GET, &api.at("/udfs/f"), None).await;
    assert_eq!(
        (shown["version"].as_i64(), shown["status"].as_str()),
        (Some(2), Some("ready"))
    );
    let listed = api.ok(Method::GET, &api.at("/udfs"), None).await;
    assert_eq!(listed[0]["version"], 2);
    conflict(&api.call(Method::DELETE, &version(2), None).await, "latest");
    // The function itself goes, with its last version.
    let gone = api.call(Method::DELETE, &api.at("/udfs/f"), None).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
}
