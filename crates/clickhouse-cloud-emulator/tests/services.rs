//! The service state machine and service fields, over real loopback HTTP,
//! on a clock sped up with `speed`.

mod common;

use std::time::{Duration, Instant};

use clickhouse_cloud_emulator::{EXAMPLE_HEADER, Emulator};
use clickhouse_cloud_types::ServiceState;
use common::Api;
use reqwest::Method;
use serde_json::{Value, json};

/// At 600x: provisioning 0.2 s, start and stop 0.1 s, wake 0.05 s,
/// termination 0.05 s, a 5-minute idle timeout 0.5 s.
const FAST: f64 = 600.0;
const PATIENCE: Duration = Duration::from_secs(10);

fn new_service(name: &str) -> Value {
    json!({
        "name": name,
        "provider": "aws",
        "region": "eu-west-1",
        "ipAccessList": [{"source": "203.0.113.0/24", "description": "office"}],
        "idleScaling": false,
        "tags": [{"key": "env", "value": "ci"}, {"key": "owner", "value": "tests"}],
    })
}

async fn create(api: &Api, body: Value) -> (String, Value) {
    let result = api.ok(Method::POST, &api.at("/services"), Some(body)).await;
    let id = result["service"]["id"].as_str().unwrap().to_owned();
    (id, result)
}

async fn command(api: &Api, id: &str, command: &str) -> common::Reply {
    api.call(
        Method::PATCH,
        &api.at(&format!("/services/{id}/state")),
        Some(json!({"command": command})),
    )
    .await
}

/// `udfAttach` needs the service running and a ready version of the
/// function. Attaches function `f` (created first from an upload, with a
/// second version, if need be) to service `id`, once built when the
/// service runs.
async fn attach(api: &Api, id: &str) -> common::Reply {
    let upload = api.upload(common::ARCHIVE).await;
    let made = api
        .call(
            Method::POST,
            &api.at("/udfs"),
            Some(common::udf_body(Some("f"), &upload)),
        )
        .await;
    assert!([201, 409].contains(&made.status), "{}", made.body);
    if made.status != 409 {
        let upload = api.upload(common::ARCHIVE).await;
        let version = api
            .call(
                Method::POST,
                &api.at("/udfs/f/versions"),
                Some(common::udf_body(None, &upload)),
            )
            .await;
        assert_eq!(version.status, 201, "{}", version.body);
    }
    // A version is attached once built; a service that is not running
    // refuses the attach before that matters.
    let service = api
        .ok(Method::GET, &api.at(&format!("/services/{id}")), None)
        .await;
    if service["state"] == "running" {
        api.wait_for_udf_ready("f", PATIENCE).await;
    }
    api.call(
        Method::PUT,
        &api.at(&format!("/udfs/f/attachments/{id}")),
        Some(json!({})),
    )
    .await
}

#[tokio::test]
async fn a_created_service_answers_at_once_with_what_clients_read_back() {
    let api = Api::start(Emulator::builder().speed(FAST)).await;
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let mut body = new_service("warehouse");
    body["endpoints"] = json!([{"protocol": "mysql", "enabled": true}]);
    let (id, created) = create(&api, body).await;
    let service = &created["service"];
    assert_eq!(service["state"], "provisioning");
    assert_eq!(service["name"], "warehouse");
    assert_eq!(
        (service["provider"].as_str(), service["region"].as_str()),
        (Some("aws"), Some("eu-west-1"))
    );
    assert_eq!(
        service["ipAccessList"],
        json!([{"source": "203.0.113.0/24", "description": "office"}])
    );
    assert_eq!(
        service["tags"],
        json!([{"key": "env", "value": "ci"}, {"key": "owner", "value": "tests"}])
    );
    let protocols: Vec<&str> = service["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|endpoint| endpoint["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["https", "nativesecure", "mysql"]);
    assert!(
        service["endpoints"][0]["host"]
            .as_str()
            .unwrap()
            .ends_with(".eu-west-1.aws.clickhouse.cloud")
    );
    assert_eq!(service["endpoints"][0]["port"], 8443);
    assert_eq!(service["autoscalingMode"], "vertical");
    assert_eq!(service["numReplicas"], 3);
    assert_eq!(service["currentScaling"]["effectiveMaxReplicas"], 3);
    assert_eq!(service["idleScaling"], false);
    assert_eq!(
        (
            service["isPrimary"].as_bool(),
            service["dataWarehouseId"].as_str()
        ),
        (Some(true), Some(id.as_str()))
    );
    let created_at: chrono::DateTime<chrono::Utc> =
        service["createdAt"].as_str().unwrap().parse().unwrap();
    assert!(created_at >= before);
    let password = created["password"].as_str().unwrap();
    assert!(password.len() >= 16);

    // The password is shown once: a read has none.
    let read = api
        .call(Method::GET, &api.at(&format!("/services/{id}")), None)
        .await;
    assert!(read.result().get("password").is_none());
    assert!(read.headers.get(EXAMPLE_HEADER).is_none());
    let again = create(&api, new_service("second")).await.1;
    assert_ne!(again["password"].as_str().unwrap(), password);
    assert_eq!(
        api.activity_types().await,
        ["service_create", "service_create"]
    );
}

#[tokio::test]
async fn create_refuses_what_the_spec_refuses() {
    let api = Api::start(Emulator::builder()).await;
    let cases = [
        (
            json!({"name": "x", "provider": "aws", "region": "eu-west-1"}),
            "ipAccessList is required",
        ),
        (
            json!({"name": "x", "provider": "gcp", "region": "eu-west-1", "ipAccessList": []}),
            "not a gcp region",
        ),
        (
            json!({"name": "x", "provider": "aws", "region": "mars-1", "ipAccessList": []}),
            "region mars-1",
        ),
        (
            json!({"name": " ", "provider": "aws", "region": "eu-west-1", "ipAccessList": []}),
            "blank",
        ),
        (
            json!({"name": "x", "provider": "aws", "region": "eu-west-1", "ipAccessList": [{"source": "nope"}]}),
            "not an IP",
        ),
        (
            json!({"name": "x", "provider": "aws", "region": "eu-west-1", "ipAccessList": [], "idleTimeoutMinutes": 1}),
            "at least 5",
        ),
        (
            json!({"name": "x", "provider": "aws", "region": "eu-west-1", "ipAccessList": [], "numReplicas": 3, "minReplicas": 1}),
            "exclude",
        ),
        (
            json!({"name": "x", "provider": "aws", "region": "eu-west-1", "ipAccessList": [], "minReplicaMemoryGb": 10}),
            "multiple of 4",
        ),
        (
            json!({"name": "x", "provider": "aws", "region": "eu-west-1", "ipAccessList": [], "isReadonly": true}),
            "dataWarehouseId",
        ),
    ];
    for (body, needle) in cases {
        let reply = api
            .call(Method::POST, &api.at("/services"), Some(body.clone()))
            .await;
        assert_eq!(reply.status, 400, "{body}");
        assert!(reply.error().contains(needle), "{body}: {}", reply.error());
    }
    let (_, developer, _) = api
        .create_key(json!({"name": "dev", "roles": ["developer"]}))
        .await;
    let refused = api
        .send(
            Method::POST,
            &api.at("/services"),
            Some(&developer),
            Some(new_service("x")),
        )
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn speed_scales_every_delay() {
    // At 60x provisioning takes 2 s; at 600x, 0.2 s.
    let slow = Api::start(Emulator::builder().speed(60.0)).await;
    let fast = Api::start(Emulator::builder().speed(FAST)).await;
    let started = Instant::now();
    let (slow_id, _) = create(&slow, new_service("slow")).await;
    let (fast_id, _) = create(&fast, new_service("fast")).await;
    fast.wait_for_state(&fast_id, "running", PATIENCE).await;
    let fast_took = started.elapsed();
    let slow_now = slow
        .ok(Method::GET, &slow.at(&format!("/services/{slow_id}")), None)
        .await;
    assert_eq!(slow_now["state"], "provisioning", "after {fast_took:?}");
    slow.wait_for_state(&slow_id, "running", PATIENCE).await;
    let slow_took = started.elapsed();
    assert!(fast_took >= Duration::from_millis(200), "{fast_took:?}");
    assert!(slow_took >= Duration::from_secs(2), "{slow_took:?}");
    assert!(slow_took < Duration::from_secs(4), "{slow_took:?}");
    // Moving the clock moves the state machine too.
    let (later, _) = create(&slow, new_service("later")).await;
    slow.emulator.advance_clock(Duration::from_secs(3));
    let state = slow
        .ok(Method::GET, &slow.at(&format!("/services/{later}")), None)
        .await;
    assert_eq!(state["state"], "running");
}

#[tokio::test]
async fn every_transition_and_every_refusal() {
    let api = Api::start(Emulator::builder().speed(FAST)).await;
    let (id, _) = create(&api, new_service("life")).await;
    let path = api.at(&format!("/services/{id}"));

    // provisioning: start, stop and awake are refused; udfAttach answers 424.
    for cmd in ["start", "stop", "awake"] {
        let reply = command(&api, &id, cmd).await;
        assert_eq!(reply.status, 409, "{cmd}: {}", reply.body);
        assert_eq!(reply.body["serviceState"], "provisioning");
    }
    let held = attach(&api, &id).await;
    assert_eq!(held.status, 424);
    assert_eq!(
        (
            held.body["code"].as_str(),
            held.body["serviceState"].as_str(),
            held.body["canWake"].as_bool()
        ),
        (
            Some("SERVICE_NOT_RUNNING"),
            Some("provisioning"),
            Some(false)
        )
    );
    api.wait_for_state(&id, "running", PATIENCE).await;

    // running: delete refused with the state; udfAttach works; start is a no-op.
    let refused = api.call(Method::DELETE, &path, None).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.body["serviceState"], "running");
    assert!(
        refused.error().starts_with("CONFLICT: "),
        "{}",
        refused.error()
    );
    let attached = attach(&api, &id).await;
    assert_eq!(attached.status, 200, "{}", attached.body);
    assert!(attached.headers.get(EXAMPLE_HEADER).is_none());
    assert_eq!(attached.result()["serviceId"], id.as_str());
    assert_eq!(
        command(&api, &id, "start").await.result()["state"],
        "running"
    );

    // stop: stopping, then stopped; awake does not start it; 424 says stopped.
    assert_eq!(
        command(&api, &id, "stop").await.result()["state"],
        "stopping"
    );
    api.wait_for_state(&id, "stopped", PATIENCE).await;
    let awake = command(&api, &id, "awake").await;
    assert_eq!(awake.status, 409);
    assert!(
        awake
            .error()
            .contains("awake does not start a stopped service"),
        "{}",
        awake.error()
    );
    let held = attach(&api, &id).await;
    assert_eq!(
        (held.body["code"].as_str(), held.body["canWake"].as_bool()),
        (Some("SERVICE_STOPPED"), Some(false))
    );
    assert_eq!(
        command(&api, &id, "stop").await.result()["state"],
        "stopped"
    );

    // start: starting, then running.
    assert_eq!(
        command(&api, &id, "start").await.result()["state"],
        "starting"
    );
    let refused = api.call(Method::DELETE, &path, None).await;
    assert_eq!(
        refused.status, 200,
        "starting accepts a delete: {}",
        refused.body
    );
    let terminating = api.ok(Method::GET, &path, None).await;
    assert_eq!(terminating["state"], "terminating");
    // A repeated delete while terminating is accepted; changes are not.
    assert_eq!(api.call(Method::DELETE, &path, None).await.status, 200);
    let rename = api
        .call(Method::PATCH, &path, Some(json!({"name": "late"})))
        .await;
    assert_eq!(rename.status, 409);
    let deadline = Instant::now() + PATIENCE;
    while api.call(Method::GET, &path, None).await.status != 404 {
        assert!(Instant::now() < deadline, "still there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let listed = api.ok(Method::GET, &api.at("/services"), None).await;
    assert_eq!(listed, json!([]));
    assert_eq!(api.call(Method::DELETE, &path, None).await.status, 404);
    assert_eq!(
        api.activity_types().await,
        [
            "service_create",
            "udf_create",
            "udf_version_create",
            "udf_attach",
            "service_stop",
            "service_start",
            "service_delete"
        ]
    );
}

#[tokio::test]
async fn idle_services_answer_424_until_woken() {
    let api = Api::start(Emulator::builder().speed(FAST)).await;
    let mut body = new_service("sleepy");
    body["idleScaling"] = json!(true);
    body["idleTimeoutMinutes"] = json!(5);
    let (id, _) = create(&api, body).await;
    api.wait_for_state(&id, "running", PATIENCE).await;
    // Idle 5 minutes of emulated time (0.5 s) after the last use.
    let idle = api.wait_for_state(&id, "idle", PATIENCE).await;
    assert_eq!(idle["idleScaling"], true);
    let held = attach(&api, &id).await;
    assert_eq!(held.status, 424);
    assert_eq!(
        (
            held.body["code"].as_str(),
            held.body["serviceState"].as_str(),
            held.body["canWake"].as_bool()
        ),
        (Some("SERVICE_IDLE"), Some("idle"), Some(true))
    );
    assert!(
        held.error().starts_with("SERVICE_IDLE: "),
        "{}",
        held.error()
    );

    // A developer key may wake it, not stop it.
    let (_, developer, _) = api
        .create_key(json!({"name": "dev", "roles": ["developer"]}))
        .await;
    let state = api.at(&format!("/services/{id}/state"));
    let stop = api
        .send(
            Method::PATCH,
            &state,
            Some(&developer),
            Some(json!({"command": "stop"})),
        )
        .await;
    assert_eq!(stop.status, 403);
    let wake = api
        .send(
            Method::PATCH,
            &state,
            Some(&developer),
            Some(json!({"command": "awake"})),
        )
        .await;
    assert_eq!(wake.status, 200, "{}", wake.body);
    assert_eq!(wake.result()["state"], "awaking");
    api.wait_for_state(&id, "running", PATIENCE).await;
    assert_eq!(attach(&api, &id).await.status, 200);

    // Idle accepts a delete; running does not.
    api.wait_for_state(&id, "idle", PATIENCE).await;
    assert_eq!(
        api.call(Method::DELETE, &api.at(&format!("/services/{id}")), None)
            .await
            .status,
        200
    );
    let types = api.activity_types().await;
    assert!(types.contains(&"service_awaken".to_owned()), "{types:?}");
}

#[tokio::test]
async fn degraded_and_failed_services_can_be_deleted() {
    let api = Api::start(Emulator::builder().speed(FAST)).await;
    for state in [ServiceState::Failed, ServiceState::Degraded] {
        let (id, _) = create(&api, new_service("broken")).await;
        let uuid = id.parse().unwrap();
        assert!(api.emulator.force_service_state(uuid, state.clone()));
        let service = api
            .ok(Method::GET, &api.at(&format!("/services/{id}")), None)
            .await;
        assert_eq!(service["state"], state.as_str());
        assert_eq!(
            api.call(Method::DELETE, &api.at(&format!("/services/{id}")), None)
                .await
                .status,
            200
        );
    }
    assert!(
        !api.emulator
            .force_service_state(uuid::Uuid::new_v4(), ServiceState::Failed)
    );
    let (id, _) = create(&api, new_service("x")).await;
    assert!(
        !api.emulator
            .force_service_state(id.parse().unwrap(), ServiceState::Starting)
    );
}

#[tokio::test]
async fn lists_filter_by_tag() {
    let api = Api::start(Emulator::builder()).await;
    create(&api, new_service("tagged")).await;
    let mut prod = new_service("prod");
    prod["tags"] = json!([{"key": "env", "value": "prod"}, {"key": "isActive"}]);
    create(&api, prod).await;
    create(
        &api,
        json!({"name": "bare", "provider": "gcp", "region": "us-east1", "ipAccessList": []}),
    )
    .await;
    let names = |list: Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|service| service["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases = [
        ("", vec!["tagged", "prod", "bare"]),
        ("?filter=tag:env=ci", vec!["tagged"]),
        ("?filter[]=tag:env=prod", vec!["prod"]),
        ("?filter%5B%5D=tag:env=prod", vec!["prod"]),
        ("?filter=tag:env", vec!["tagged", "prod"]),
        ("?filter=tag:isActive", vec!["prod"]),
        ("?filter=tag:env&filter[]=tag:owner=tests", vec!["tagged"]),
        ("?filter=tag:env=nowhere", vec![]),
    ];
    for (query, expected) in cases {
        let list = api
            .ok(Method::GET, &api.at(&format!("/services{query}")), None)
            .await;
        assert_eq!(names(list), expected, "{query}");
    }
    let bad = api
        .call(Method::GET, &api.at("/services?filter=name:x"), None)
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn updates_scaling_and_passwords_change_the_service_and_are_recorded() {
    let api = Api::start(Emulator::builder()).await;
    let (id, _) = create(&api, new_service("before")).await;
    let path = api.at(&format!("/services/{id}"));
    let patch = json!({
        "name": "after",
        "ipAccessList": {"add": [{"source": "198.51.100.7"}], "remove": [{"source": "203.0.113.0/24"}]},
        "tags": {"add": [{"key": "team", "value": "data"}], "remove": [{"key": "owner"}]},
        "endpoints": [{"protocol": "mysql", "enabled": true}],
        "releaseChannel": "fast",
        "enableCoreDumps": true,
    });
    let updated = api.ok(Method::PATCH, &path, Some(patch)).await;
    assert_eq!(updated["name"], "after");
    assert_eq!(updated["ipAccessList"], json!([{"source": "198.51.100.7"}]));
    assert_eq!(
        updated["tags"],
        json!([{"key": "env", "value": "ci"}, {"key": "team", "value": "data"}])
    );
    assert_eq!(updated["endpoints"].as_array().unwrap().len(), 3);
    assert_eq!(updated["releaseChannel"], "fast");
    let filtered = api
        .ok(Method::GET, &api.at("/services?filter=tag:team=data"), None)
        .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);

    let scaled = api
        .ok(
            Method::PATCH,
            &format!("{path}/replicaScaling"),
            Some(json!({"numReplicas": 5, "idleScaling": true, "idleTimeoutMinutes": 10})),
        )
        .await;
    assert_eq!(
        (
            scaled["numReplicas"].as_i64(),
            scaled["idleTimeoutMinutes"].as_f64()
        ),
        (Some(5), Some(10.0))
    );
    assert_eq!(scaled["currentScaling"]["effectiveIdleTimeoutMinutes"], 10);
    let bad = api
        .call(
            Method::PATCH,
            &format!("{path}/scaling"),
            Some(json!({"idleTimeoutMinutes": 2})),
        )
        .await;
    assert_eq!(bad.status, 400);

    let password = api
        .ok(Method::PATCH, &format!("{path}/password"), Some(json!({})))
        .await;
    assert!(password["password"].as_str().unwrap().len() >= 16);
    let hashed = api
        .ok(
            Method::PATCH,
            &format!("{path}/password"),
            Some(json!({"newDoubleSha1Hash": "a".repeat(40)})),
        )
        .await;
    assert!(hashed.get("password").is_none());

    let types = api.activity_types().await;
    assert_eq!(
        types,
        [
            "service_create",
            "service_update_name",
            "service_update_ip_access_list",
            "service_update_release_channel",
            "service_update_mysql_interface",
            "service_update_core_dump",
            "service_update_autoscaling_replicas",
            "service_update_autoscaling_idling",
            "service_update_password",
            "service_update_password",
        ]
    );
    let list = api.ok(Method::GET, &api.at("/activities"), None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|activity| activity["serviceId"] == id.as_str())
    );
}

/// A fresh directory under the system's temporary one.
fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("emulator-state-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_state_file_keeps_keys_services_and_stored_resources_across_restarts() {
    let dir = temp_dir();
    let path = dir.join("org.json");
    let first = Api::start(Emulator::builder().speed(FAST).state(&path)).await;
    let org = first.org();
    let (key_id, key, _) = first
        .create_key(json!({"name": "kept", "roles": ["admin"]}))
        .await;
    let (service, _) = create(&first, new_service("kept")).await;
    first.wait_for_state(&service, "running", PATIENCE).await;
    let pipe = first
        .ok(
            Method::POST,
            &first.at(&format!("/services/{service}/clickpipes")),
            Some(json!({"name": "events"})),
        )
        .await;
    let pipe_id = pipe["id"].as_str().unwrap().to_owned();
    assert_eq!(attach(&first, &service).await.status, 200);
    first
        .ok(
            Method::PATCH,
            &first.at(&format!("/services/{service}/clickhouseSettings")),
            Some(json!({"settings": {"max_threads": 4}})),
        )
        .await;
    first
        .ok(
            Method::POST,
            &first.at(&format!("/services/{service}/privateEndpoint")),
            Some(json!({"id": "vpce-kept"})),
        )
        .await;
    let old_bootstrap = first.admin().clone();
    assert!(!path.exists(), "nothing is written before a save");
    first.emulator.shutdown().await;

    let written = std::fs::read_to_string(&path).unwrap();
    assert!(!written.contains(key.key_secret().expose()));
    assert!(!written.contains(key.key_id().as_str()));
    assert!(!written.contains(old_bootstrap.key_secret().expose()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A new start reads it: same organization, the key created through the
    // API still signs in, the bootstrap key takes this start's credentials.
    let second = Api::start(Emulator::builder().speed(FAST).state(&path)).await;
    assert_eq!(second.org(), org);
    let keys = second.ok(Method::GET, &second.at("/keys"), None).await;
    let names: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bootstrap key", "kept"]);
    let me = second
        .send(Method::GET, "/v1/whoami", Some(&key), None)
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.result()["keyId"], key_id.as_str());
    let stale = second
        .send(Method::GET, "/v1/whoami", Some(&old_bootstrap), None)
        .await;
    assert_eq!(stale.status, 401);
    let read = second
        .ok(
            Method::GET,
            &second.at(&format!("/services/{service}")),
            None,
        )
        .await;
    assert_eq!(
        (read["name"].as_str(), read["state"].as_str()),
        (Some("kept"), Some("running"))
    );
    assert_eq!(read["privateEndpointIds"], json!(["vpce-kept"]));
    let setting = second
        .ok(
            Method::GET,
            &second.at(&format!(
                "/services/{service}/clickhouseSettings/max_threads"
            )),
            None,
        )
        .await;
    assert_eq!(setting["value"], 4);
    let pipe = second
        .ok(
            Method::GET,
            &second.at(&format!("/services/{service}/clickpipes/{pipe_id}")),
            None,
        )
        .await;
    assert_eq!(pipe["name"], "events");
    let attachment = second
        .ok(
            Method::GET,
            &second.at(&format!("/udfs/f/attachments/{service}")),
            None,
        )
        .await;
    assert_eq!(attachment["serviceId"], service.as_str());
    assert!(
        second
            .activity_types()
            .await
            .contains(&"service_create".to_owned())
    );
    // An explicit save while serving, then a different organization asked
    // for is refused rather than mixed in.
    second.emulator.save().unwrap();
    let other = Emulator::builder()
        .organization_id(uuid::Uuid::new_v4())
        .state(&path)
        .start()
        .await
        .unwrap_err();
    assert_eq!(other.kind(), std::io::ErrorKind::InvalidInput, "{other}");
    second.emulator.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_corrupt_state_file_stops_the_start_and_is_left_alone() {
    let dir = temp_dir();
    let path = dir.join("org.json");
    std::fs::write(&path, b"{\"kind\": truncated").unwrap();
    let error = Emulator::builder().state(&path).start().await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("org.json"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"kind\": truncated");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// At 3600x a day lasts 24 s: the default backup schedule.
const HOURLY: f64 = 3600.0;

async fn backups_of(api: &Api, id: &str) -> Vec<Value> {
    api.ok(
        Method::GET,
        &api.at(&format!("/services/{id}/backups")),
        None,
    )
    .await
    .as_array()
    .expect("a list")
    .clone()
}

#[tokio::test]
async fn backups_come_on_the_schedule_belong_to_their_service_and_restore() {
    let api = Api::start(Emulator::builder().speed(HOURLY)).await;
    let (first, _) = create(&api, new_service("first")).await;
    assert!(backups_of(&api, &first).await.is_empty());
    api.wait_for_state(&first, "running", PATIENCE).await;
    // The default: every 24 hours, counted from when it first ran.
    let config = api
        .ok(
            Method::GET,
            &api.at(&format!("/services/{first}/backupConfiguration")),
            None,
        )
        .await;
    assert_eq!(config["backupPeriodInHours"], 24);
    assert!(backups_of(&api, &first).await.is_empty());
    api.emulator.advance_clock(Duration::from_secs(12));
    assert!(backups_of(&api, &first).await.is_empty());
    api.emulator.advance_clock(Duration::from_secs(13));
    let made = backups_of(&api, &first).await;
    assert_eq!(made.len(), 1, "{made:?}");
    let backup = &made[0];
    assert_eq!(backup["serviceId"], first.as_str());
    assert_eq!(backup["status"], "done");
    assert_eq!(backup["type"], "full");
    assert!(backup["sizeInBytes"].as_f64().unwrap() > 0.0);
    assert!(backup["startedAt"].as_str() < backup["finishedAt"].as_str());
    let backup_id = backup["id"].as_str().unwrap().to_owned();
    assert_eq!(backups_of(&api, &first).await, made, "stable across reads");
    let one = api
        .ok(
            Method::GET,
            &api.at(&format!("/services/{first}/backups/{backup_id}")),
            None,
        )
        .await;
    assert_eq!(&one, backup);

    // A shorter period counts from the change: hourly is one a second.
    api.ok(
        Method::PATCH,
        &api.at(&format!("/services/{first}/backupConfiguration")),
        Some(json!({"backupPeriodInHours": 1})),
    )
    .await;
    api.emulator.advance_clock(Duration::from_millis(3500));
    let more = backups_of(&api, &first).await;
    assert_eq!(more.len(), 4, "{more:?}");
    assert_eq!(more[0], made[0]);
    assert_eq!(more[1]["type"], "incremental");
    assert!(
        api.activity_types()
            .await
            .contains(&"service_update_backup_configuration".to_owned())
    );

    // Another service's backup is not this one's; an unknown one is not anyone's.
    let (second, _) = create(&api, new_service("second")).await;
    api.wait_for_state(&second, "running", PATIENCE).await;
    for (service, backup) in [
        (second.as_str(), backup_id.clone()),
        (first.as_str(), uuid::Uuid::new_v4().to_string()),
    ] {
        let reply = api
            .call(
                Method::GET,
                &api.at(&format!("/services/{service}/backups/{backup}")),
                None,
            )
            .await;
        assert_eq!(reply.status, 404, "{}", reply.body);
        assert!(reply.error().contains("not found"), "{}", reply.body);
    }

    // A restore needs an existing backup, in the same region.
    let restore = |backup: &str| {
        let mut body = new_service("restored");
        body["backupId"] = json!(backup);
        body
    };
    let missing = api
        .call(
            Method::POST,
            &api.at("/services"),
            Some(restore(&uuid::Uuid::new_v4().to_string())),
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let mut elsewhere = restore(&backup_id);
    elsewhere["region"] = json!("us-east-1");
    let elsewhere = api
        .call(Method::POST, &api.at("/services"), Some(elsewhere))
        .await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    let (restored, answer) = create(&api, restore(&backup_id)).await;
    assert_eq!(answer["service"]["state"], "provisioning");
    assert!(backups_of(&api, &restored).await.is_empty());
    assert!(
        api.activity_types()
            .await
            .contains(&"service_restore_backup".to_owned())
    );

    // Deleting a service takes its backups along.
    assert_eq!(command(&api, &first, "stop").await.status, 200);
    api.wait_for_state(&first, "stopped", PATIENCE).await;
    let deleted = api
        .call(Method::DELETE, &api.at(&format!("/services/{first}")), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let listed = api
        .call(
            Method::GET,
            &api.at(&format!("/services/{first}/backups")),
            None,
        )
        .await;
    // Terminating (an empty list), or gone already.
    assert!(
        listed.status == 404 || listed.result() == &json!([]),
        "{}",
        listed.body
    );
    api.emulator.advance_clock(Duration::from_secs(1));
    let gone = api
        .call(
            Method::GET,
            &api.at(&format!("/services/{first}/backups/{backup_id}")),
            None,
        )
        .await;
    assert_eq!(gone.status, 404);
    let again = api
        .call(
            Method::POST,
            &api.at("/services"),
            Some(restore(&backup_id)),
        )
        .await;
    assert_eq!(again.status, 404, "{}", again.body);
}

#[tokio::test]
async fn snapshots_follow_their_configuration_and_page() {
    let api = Api::start(Emulator::builder().speed(HOURLY)).await;
    let (id, _) = create(&api, new_service("snapped")).await;
    let snapshots = api.at(&format!("/services/{id}/snapshots"));
    assert!(api.ok(Method::GET, &snapshots, None).await == json!([]));
    api.wait_for_state(&id, "running", PATIENCE).await;
    // Every 60 minutes by default: one a second here.
    api.emulator.advance_clock(Duration::from_millis(3500));
    let reply = api
        .call(Method::GET, &format!("{snapshots}?limit=2"), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.result().as_array().unwrap().len(), 2);
    assert_eq!(reply.body["totalCount"], 3);
    assert!(reply.body["nextCursor"].is_string());
    let all = api.ok(Method::GET, &snapshots, None).await;
    let first = &all[0];
    assert_eq!(first["type"], "full");
    assert_eq!(first["serviceId"], id.as_str());
    let one = api
        .ok(
            Method::GET,
            &format!("{snapshots}/{}", first["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(&one, first);
    // Turned off, none come; stopped, none either.
    api.ok(
        Method::PATCH,
        &api.at(&format!("/services/{id}/snapshotConfiguration")),
        Some(json!({"enabled": false})),
    )
    .await;
    api.emulator.advance_clock(Duration::from_secs(3));
    assert_eq!(api.ok(Method::GET, &snapshots, None).await, all);
    // Back on, they count from then, each kept the `timeFrame` in force
    // when it was taken: two hours here is 2 s, a day 24 s.
    let config = api.at(&format!("/services/{id}/snapshotConfiguration"));
    let on = json!({"enabled": true, "timeFrame": 120});
    api.ok(Method::PATCH, &config, Some(on)).await;
    api.emulator.advance_clock(Duration::from_millis(2500));
    let old = all.as_array().unwrap();
    let newer = |list: &Value| -> usize {
        let list = list.as_array().unwrap();
        assert!(old.iter().all(|s| list.contains(s)), "{list:?}");
        list.len() - old.len()
    };
    assert_eq!(newer(&api.ok(Method::GET, &snapshots, None).await), 2);
    api.ok(Method::PATCH, &config, Some(json!({"enabled": false})))
        .await;
    api.emulator.advance_clock(Duration::from_secs(3));
    assert_eq!(newer(&api.ok(Method::GET, &snapshots, None).await), 0);
}

/// The quota `code`'s `usage` (`None` when not reported) and `value`.
async fn quota(api: &Api, code: &str) -> (Option<i64>, i64) {
    let quota = api
        .ok(Method::GET, &api.at(&format!("/quotas/{code}")), None)
        .await;
    assert_eq!(quota["quotaCode"], code);
    (quota["usage"].as_i64(), quota["value"].as_i64().unwrap())
}

#[tokio::test]
async fn quotas_count_what_exists_through_creates_and_deletes() {
    let api = Api::start(Emulator::builder().speed(FAST).key_limit(7)).await;
    let all = api.ok(Method::GET, &api.at("/quotas"), None).await;
    let codes: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|quota| quota["quotaCode"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "services-per-organization",
            "postgres-services-per-organization",
            "replicas-per-warehouse",
            "api-keys-per-organization"
        ]
    );
    assert_eq!(
        quota(&api, "services-per-organization").await,
        (Some(0), 20)
    );
    assert_eq!(quota(&api, "api-keys-per-organization").await, (Some(1), 7));
    assert_eq!(
        quota(&api, "postgres-services-per-organization").await,
        (Some(0), 10)
    );
    assert_eq!(quota(&api, "replicas-per-warehouse").await, (None, 20));

    let (first, _) = create(&api, new_service("first")).await;
    let (second, _) = create(&api, new_service("second")).await;
    let (key, _, _) = api
        .create_key(json!({"name": "counted", "roles": ["developer"]}))
        .await;
    let postgres = api
        .ok(
            Method::POST,
            &api.at("/postgres"),
            Some(json!({"name": "pg", "provider": "aws", "region": "eu-west-1"})),
        )
        .await;
    assert_eq!(quota(&api, "services-per-organization").await.0, Some(2));
    assert_eq!(quota(&api, "api-keys-per-organization").await.0, Some(2));
    assert_eq!(
        quota(&api, "postgres-services-per-organization").await.0,
        Some(1)
    );

    let deleted = api
        .call(Method::DELETE, &api.at(&format!("/services/{first}")), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    api.ok(Method::DELETE, &api.at(&format!("/keys/{key}")), None)
        .await;
    let pg = postgres["id"].as_str().unwrap();
    api.ok(Method::DELETE, &api.at(&format!("/postgres/{pg}")), None)
        .await;
    // Terminating still counts; gone does not.
    let deadline = Instant::now() + PATIENCE;
    while quota(&api, "services-per-organization").await.0 != Some(1) {
        assert!(
            Instant::now() < deadline,
            "the deleted service still counts"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(quota(&api, "api-keys-per-organization").await.0, Some(1));
    assert_eq!(
        quota(&api, "postgres-services-per-organization").await.0,
        Some(0)
    );
    api.ok(Method::GET, &api.at(&format!("/services/{second}")), None)
        .await;

    let unknown = api
        .call(Method::GET, &api.at("/quotas/nothing"), None)
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(
        unknown.error().starts_with("NOT_FOUND: "),
        "{}",
        unknown.body
    );
    assert!(unknown.header(EXAMPLE_HEADER).is_empty());
}

/// `usageCost` from `from` to `to` (`YYYY-MM-DD`), with `extra` query.
async fn usage(api: &Api, from: &str, to: &str, extra: &str) -> common::Reply {
    let path = api.at(&format!("/usageCost?from_date={from}&to_date={to}{extra}"));
    api.call(Method::GET, &path, None).await
}

/// Each service's summed `totalCHC`, by ID.
fn cost_by_service(result: &Value) -> std::collections::BTreeMap<String, f64> {
    let mut costs = std::collections::BTreeMap::new();
    for record in result["costs"].as_array().unwrap() {
        assert_eq!(record["entityType"], "service");
        assert_eq!(record["serviceId"], record["entityId"]);
        assert_eq!(record["totalCHC"], record["metrics"]["computeCHC"]);
        let id = record["serviceId"].as_str().unwrap().to_owned();
        *costs.entry(id).or_insert(0.0) += record["totalCHC"].as_f64().unwrap();
    }
    costs
}

#[tokio::test]
async fn usage_cost_charges_existing_services_for_their_running_time() {
    let api = Api::start(Emulator::builder().speed(FAST)).await;
    let today = chrono::Utc::now().date_naive();
    // The range holds today even if advancing the clock crosses midnight.
    let (from, to) = (
        today.pred_opt().unwrap().to_string(),
        today.succ_opt().unwrap().to_string(),
    );
    let empty = usage(&api, &from, &to, "").await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.result()["costs"], json!([]));
    assert_eq!(empty.result()["grandTotalCHC"], 0);

    let (running, _) = create(&api, new_service("running")).await;
    let (stopped, _) = create(&api, new_service("stopped")).await;
    api.wait_for_state(&running, "running", PATIENCE).await;
    api.wait_for_state(&stopped, "running", PATIENCE).await;
    assert_eq!(command(&api, &stopped, "stop").await.status, 200);
    api.wait_for_state(&stopped, "stopped", PATIENCE).await;
    api.emulator.advance_clock(Duration::from_secs(3600));

    let reply = usage(&api, &from, &to, "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.header(EXAMPLE_HEADER).is_empty());
    let costs = cost_by_service(reply.result());
    assert_eq!(costs.len(), 2, "{}", reply.body);
    // An hour and a few real moments running, at 0.5 CHC an hour.
    let charged = costs[&running];
    assert!((0.5..0.52).contains(&charged), "{charged}");
    assert!(costs[&stopped] < 0.01, "{}", costs[&stopped]);
    let total = reply.result()["grandTotalCHC"].as_f64().unwrap();
    assert!(
        (total - costs.values().sum::<f64>()).abs() < 0.001,
        "{total}"
    );
    // Tag filters narrow it; a deleted service no longer shows.
    let none = usage(&api, &from, &to, "&filter=tag:env=prod").await;
    assert_eq!(none.result()["costs"], json!([]), "{}", none.body);
    let deleted = api
        .call(
            Method::DELETE,
            &api.at(&format!("/services/{stopped}")),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    api.emulator.advance_clock(Duration::from_secs(60));
    let after = usage(&api, &from, &to, "&filter=tag:env=ci").await;
    let costs = cost_by_service(after.result());
    assert_eq!(costs.keys().collect::<Vec<_>>(), [&running]);
    // Before the service existed there is nothing.
    let long_ago = usage(&api, "2020-01-01", "2020-01-31", "").await;
    assert_eq!(long_ago.result()["costs"], json!([]), "{}", long_ago.body);

    for (query, why) in [
        (api.at("/usageCost"), "no dates"),
        (
            api.at(&format!("/usageCost?from_date={from}")),
            "no to_date",
        ),
        (
            api.at(&format!("/usageCost?from_date={to}&to_date={from}")),
            "reversed",
        ),
        (
            api.at("/usageCost?from_date=2024-01-01&to_date=2024-02-01"),
            "32 days",
        ),
        (
            api.at("/usageCost?from_date=soon&to_date=later"),
            "not dates",
        ),
    ] {
        let refused = api.call(Method::GET, &query, None).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
        assert!(refused.error().starts_with("BAD_REQUEST: "), "{why}");
    }
}

#[tokio::test]
async fn byoc_progress_moves_with_the_clock() {
    let api = Api::start(Emulator::builder()).await;
    let infra = api
        .ok(
            Method::POST,
            &api.at("/byocInfrastructure"),
            Some(json!({"regionId": "eu-west-1", "accountId": "123456789012"})),
        )
        .await;
    let id = infra["id"].as_str().unwrap().to_owned();
    let progress_path = api.at(&format!("/byocInfrastructure/{id}/progress"));
    let statuses = |progress: &Value| -> Vec<String> {
        progress["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|stage| stage["status"].as_str().unwrap().to_owned())
            .collect()
    };
    let progress = api.ok(Method::GET, &progress_path, None).await;
    assert_eq!(progress["id"], id.as_str());
    assert_eq!(progress["status"], "in_progress");
    assert_eq!(progress["stages"][0]["name"], "vpc");
    assert_eq!(
        statuses(&progress),
        ["in_progress", "pending", "pending", "pending", "pending"]
    );
    // Ten minutes in all, two a stage.
    api.emulator.advance_clock(Duration::from_secs(250));
    let progress = api.ok(Method::GET, &progress_path, None).await;
    assert_eq!(
        statuses(&progress),
        ["ready", "ready", "in_progress", "pending", "pending"]
    );
    assert_eq!(progress["stages"][2]["message"], "2 of 5 stages done");
    api.emulator.advance_clock(Duration::from_secs(400));
    let progress = api.ok(Method::GET, &progress_path, None).await;
    assert_eq!(progress["status"], "ready");
    assert_eq!(statuses(&progress), ["ready"; 5]);
    let infra = api
        .ok(
            Method::GET,
            &api.at(&format!("/byocInfrastructure/{id}")),
            None,
        )
        .await;
    assert_eq!(infra["state"], "infra-ready");

    let unknown = api
        .call(
            Method::GET,
            &api.at(&format!(
                "/byocInfrastructure/{}/progress",
                uuid::Uuid::new_v4()
            )),
            None,
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    api.ok(
        Method::DELETE,
        &api.at(&format!("/byocInfrastructure/{id}")),
        None,
    )
    .await;
    let gone = api.call(Method::GET, &progress_path, None).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
}

#[tokio::test]
async fn one_clickhouse_setting_is_read_and_deleted_in_the_settings_map() {
    let api = Api::start(Emulator::builder().speed(FAST)).await;
    let (id, _) = create(&api, new_service("tuned")).await;
    let settings = api.at(&format!("/services/{id}/clickhouseSettings"));
    let one = |name: &str| format!("{settings}/{name}");
    // Not running yet: 424, as for the map.
    let early = api.call(Method::GET, &one("max_threads"), None).await;
    assert_eq!(early.status, 424, "{}", early.body);
    api.wait_for_state(&id, "running", PATIENCE).await;

    let listed = api.ok(Method::GET, &settings, None).await;
    assert_eq!(listed, json!({"settings": []}));
    let unknown = api.call(Method::GET, &one("max_threads"), None).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(
        unknown.error().starts_with("NOT_FOUND: "),
        "{}",
        unknown.body
    );
    assert!(unknown.header(EXAMPLE_HEADER).is_empty());

    let set = api
        .ok(
            Method::PATCH,
            &settings,
            Some(json!({"settings": {"max_threads": 8, "compatibility": "24.8"}})),
        )
        .await;
    assert_eq!(
        set["settings"],
        json!({"max_threads": 8, "compatibility": "24.8"})
    );
    let warned: Vec<&str> = set["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["name"].as_str())
        .collect();
    assert_eq!(warned, ["compatibility"]);
    assert_eq!(
        api.ok(Method::GET, &one("max_threads"), None).await,
        json!({"name": "max_threads", "value": 8})
    );
    // A second PATCH changes one and keeps the other.
    api.ok(
        Method::PATCH,
        &settings,
        Some(json!({"settings": {"max_threads": "16"}})),
    )
    .await;
    assert_eq!(
        api.ok(Method::GET, &settings, None).await["settings"],
        json!([
            {"name": "compatibility", "value": "24.8"},
            {"name": "max_threads", "value": "16"},
        ])
    );
    let empty = api
        .call(Method::PATCH, &settings, Some(json!({"settings": {}})))
        .await;
    assert_eq!(empty.status, 400, "{}", empty.body);

    // Deleted: absent from the map and from its own get.
    let deleted = api.call(Method::DELETE, &one("max_threads"), None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(deleted.body.get("result").is_none(), "{}", deleted.body);
    assert_eq!(
        api.ok(Method::GET, &settings, None).await["settings"],
        json!([{"name": "compatibility", "value": "24.8"}])
    );
    let gone = api.call(Method::GET, &one("max_threads"), None).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let again = api.call(Method::DELETE, &one("max_threads"), None).await;
    assert_eq!(again.status, 404, "{}", again.body);

    // Stopped: 424 again, with what is set kept.
    assert_eq!(command(&api, &id, "stop").await.status, 200);
    let held = api.call(Method::GET, &one("compatibility"), None).await;
    assert_eq!(held.status, 424, "{}", held.body);
    assert_eq!(held.body["code"], "SERVICE_STOPPED");
    api.wait_for_state(&id, "stopped", PATIENCE).await;
    assert_eq!(command(&api, &id, "start").await.status, 200);
    api.wait_for_state(&id, "running", PATIENCE).await;
    assert_eq!(
        api.ok(Method::GET, &one("compatibility"), None).await["value"],
        "24.8"
    );
}

#[tokio::test]
async fn a_private_endpoint_made_for_a_service_shows_on_it_and_on_the_organization() {
    let api = Api::start(Emulator::builder().speed(FAST)).await;
    let (first, _) = create(&api, new_service("first")).await;
    let (second, _) = create(&api, new_service("second")).await;
    let endpoint_of = |id: &str| api.at(&format!("/services/{id}/privateEndpoint"));
    let made = api
        .call(
            Method::POST,
            &endpoint_of(&first),
            Some(json!({"id": "vpce-0123", "description": "from the VPC"})),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.header(EXAMPLE_HEADER).is_empty());
    assert_eq!(
        made.result(),
        &json!({"id": "vpce-0123", "description": "from the VPC", "cloudProvider": "aws", "region": "eu-west-1"})
    );
    let service = api
        .ok(Method::GET, &api.at(&format!("/services/{first}")), None)
        .await;
    assert_eq!(service["privateEndpointIds"], json!(["vpce-0123"]));
    let org = api.ok(Method::GET, &api.at(""), None).await;
    assert_eq!(org["privateEndpoints"], json!([made.result().clone()]));
    let types = api.activity_types().await;
    for kind in [
        "service_update_private_endpoints",
        "organization_update_private_endpoints",
    ] {
        assert!(types.iter().any(|t| t == kind), "{kind} in {types:?}");
    }

    // Again for the same service: 409; for another in the region: added.
    let again = api
        .call(
            Method::POST,
            &endpoint_of(&first),
            Some(json!({"id": "vpce-0123"})),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    api.ok(
        Method::POST,
        &endpoint_of(&second),
        Some(json!({"id": "vpce-0123"})),
    )
    .await;
    let service = api
        .ok(Method::GET, &api.at(&format!("/services/{second}")), None)
        .await;
    assert_eq!(service["privateEndpointIds"], json!(["vpce-0123"]));
    let org = api.ok(Method::GET, &api.at(""), None).await;
    assert_eq!(org["privateEndpoints"].as_array().unwrap().len(), 1);

    // Elsewhere: 400; without an ID: 400; no such service: 404.
    let mut far = new_service("far");
    far["region"] = json!("us-east-1");
    let (third, _) = create(&api, far).await;
    let elsewhere = api
        .call(
            Method::POST,
            &endpoint_of(&third),
            Some(json!({"id": "vpce-0123"})),
        )
        .await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    let blank = api
        .call(Method::POST, &endpoint_of(&third), Some(json!({"id": " "})))
        .await;
    assert_eq!(blank.status, 400, "{}", blank.body);
    let missing = api
        .call(
            Method::POST,
            &endpoint_of(&uuid::Uuid::new_v4().to_string()),
            Some(json!({"id": "vpce-9"})),
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[tokio::test]
async fn postgres_backups_come_on_the_schedule_and_go_with_the_service() {
    let api = Api::start(Emulator::builder().speed(HOURLY)).await;
    let made = api
        .ok(
            Method::POST,
            &api.at("/postgres"),
            Some(json!({"name": "pg", "provider": "aws", "region": "eu-west-1"})),
        )
        .await;
    let pg = made["id"].as_str().unwrap().to_owned();
    let list = api.at(&format!("/postgres/{pg}/backups"));
    let fresh = api.call(Method::GET, &list, None).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert!(fresh.header(EXAMPLE_HEADER).is_empty());
    assert_eq!(fresh.body["result"], json!([]));
    assert_eq!(fresh.body["totalCount"], 0);
    assert_eq!(fresh.body["nextCursor"], Value::Null);
    // Every 24 hours from when it first ran (2 minutes after the create).
    api.emulator.advance_clock(Duration::from_secs(12));
    assert_eq!(api.ok(Method::GET, &list, None).await, json!([]));
    api.emulator.advance_clock(Duration::from_secs(13));
    let first = api.ok(Method::GET, &list, None).await;
    assert_eq!(first.as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first[0]["status"], "done");
    assert!(
        first[0]["key"]
            .as_str()
            .unwrap()
            .starts_with("basebackups_005/"),
        "{first}"
    );
    assert!(first[0]["lastModified"].is_string());
    assert_eq!(api.ok(Method::GET, &list, None).await, first, "stable");
    // Each kept 24 hours: a day later the next has taken its place.
    api.emulator.advance_clock(Duration::from_secs(24));
    let second = api.ok(Method::GET, &list, None).await;
    assert_eq!(second.as_array().unwrap().len(), 1, "{second}");
    assert_ne!(second[0]["key"], first[0]["key"]);
    // A service's backups are its own.
    let other = api
        .ok(
            Method::POST,
            &api.at("/postgres"),
            Some(json!({"name": "other", "provider": "aws", "region": "eu-west-1"})),
        )
        .await;
    let other = other["id"].as_str().unwrap().to_owned();
    let others = api.at(&format!("/postgres/{other}/backups"));
    assert_eq!(api.ok(Method::GET, &others, None).await, json!([]));

    api.ok(Method::DELETE, &api.at(&format!("/postgres/{pg}")), None)
        .await;
    let gone = api.call(Method::GET, &list, None).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
}

#[tokio::test]
async fn byoc_tags_are_kept_on_the_infrastructure() {
    let api = Api::start(Emulator::builder()).await;
    let infra = api
        .ok(
            Method::POST,
            &api.at("/byocInfrastructure"),
            Some(json!({
                "regionId": "eu-west-1", "accountId": "123456789012",
                "tags": {"team": "data", "env": "ci"},
            })),
        )
        .await;
    let id = infra["id"].as_str().unwrap().to_owned();
    let item = api.at(&format!("/byocInfrastructure/{id}"));
    let tags = format!("{item}/tags");
    let read = api.call(Method::GET, &tags, None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(read.header(EXAMPLE_HEADER).is_empty());
    assert_eq!(
        read.result(),
        &json!({"tags": {"team": "data", "env": "ci"}})
    );
    // An update without tags keeps them; with tags replaces them.
    api.ok(
        Method::PATCH,
        &item,
        Some(json!({"displayName": "renamed"})),
    )
    .await;
    assert_eq!(
        api.ok(Method::GET, &tags, None).await["tags"],
        json!({"team": "data", "env": "ci"})
    );
    api.ok(Method::PATCH, &item, Some(json!({"tags": {"env": "prod"}})))
        .await;
    assert_eq!(
        api.ok(Method::GET, &tags, None).await["tags"],
        json!({"env": "prod"})
    );
    let too_many: serde_json::Map<String, Value> =
        (0..51).map(|n| (format!("k{n}"), json!("v"))).collect();
    let refused = api
        .call(Method::PATCH, &item, Some(json!({"tags": too_many})))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        api.ok(Method::GET, &tags, None).await["tags"],
        json!({"env": "prod"})
    );
    // None sent: an empty map.
    let bare = api
        .ok(
            Method::POST,
            &api.at("/byocInfrastructure"),
            Some(json!({"regionId": "eu-west-1", "accountId": "123456789012"})),
        )
        .await;
    let bare_tags = api.at(&format!(
        "/byocInfrastructure/{}/tags",
        bare["id"].as_str().unwrap()
    ));
    assert_eq!(
        api.ok(Method::GET, &bare_tags, None).await,
        json!({"tags": {}})
    );
    // Deleted: its tags are gone with it.
    api.ok(Method::DELETE, &item, None).await;
    let gone = api.call(Method::GET, &tags, None).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
}
