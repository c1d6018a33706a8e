//! Every operation of the pinned spec, called once against the emulator,
//! each answer validated against the spec: what a client written from the
//! spec alone can count on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clickhouse_cloud_conformance::spec::Spec;
use clickhouse_cloud_conformance::workspace_root;
use clickhouse_cloud_emulator::{EXAMPLE_HEADER, Emulator, MemberSpec, RunningEmulator};
use clickhouse_cloud_types::operation::match_path;
use serde_json::{Value, json};

/// Operations that remove what others use: called last, in this order.
const LAST: [&str; 6] = [
    "openapiKeyDelete",
    "organizationRoleDelete",
    "memberDelete",
    "invitationDelete",
    "instanceStateUpdate",
    "instanceDelete",
];

struct Call {
    id: String,
    method: reqwest::Method,
    template: String,
    params: BTreeMap<String, String>,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

struct Harness {
    http: reqwest::Client,
    emulator: RunningEmulator,
}

impl Harness {
    async fn send(&self, call: &Call) -> (u16, Option<String>, String, bool) {
        let mut path = call.template.clone();
        for (name, value) in &call.params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let mut request = self
            .http
            .request(
                call.method.clone(),
                format!("{}{path}", self.emulator.base_url()),
            )
            .query(&call.query)
            .header(
                "authorization",
                self.emulator
                    .bootstrap_credentials()
                    .authorization()
                    .expose(),
            );
        if let Some(body) = &call.body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap());
        }
        let response = request.send().await.expect("answered");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let example = response.headers().get(EXAMPLE_HEADER).is_some();
        let text = response.text().await.expect("body");
        (status, content_type, text, example)
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let call = Call {
            id: String::new(),
            method,
            template: path.to_owned(),
            params: BTreeMap::new(),
            query: Vec::new(),
            body,
        };
        let (status, _, text, _) = self.send(&call).await;
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str::<Value>(&text).unwrap()["result"].clone()
    }
}

/// Bodies for the operations the emulator models, whose spec examples hold
/// placeholders (`"example"` as an IP address, say) that it refuses.
fn stateful_body(id: &str, key: &str, member: &str) -> Option<Value> {
    let body = match id {
        "openapiKeyCreate" => json!({"name": "second", "roles": ["developer"]}),
        "openapiKeyUpdate" => json!({"name": "renamed", "expireAt": null}),
        "organizationUpdate" => json!({"name": "Renamed organization"}),
        "organizationRolePost" => json!({
            "name": "Viewers",
            "actors": [format!("apiKey/{key}"), format!("user/{member}")],
            "policies": [{"allowDeny": "ALLOW", "permissions": ["control-plane:service:view"], "resources": ["instance/*"]}],
        }),
        "organizationRolePatch" => json!({"name": "Readers"}),
        "memberUpdate" => json!({"role": "developer"}),
        "invitationCreate" => json!({"email": "invitee@example.com", "role": "developer"}),
        "instanceCreate" => json!({
            "name": "second", "provider": "aws", "region": "eu-west-1",
            "ipAccessList": [{"source": "0.0.0.0/0"}], "tags": [{"key": "env", "value": "ci"}],
            "idleScaling": false,
        }),
        "instanceUpdate" => {
            json!({"name": "renamed", "tags": {"add": [{"key": "team", "value": "data"}]}})
        }
        "instanceStateUpdate" => json!({"command": "stop"}),
        "instanceScalingUpdate" => json!({"idleScaling": false}),
        "instanceReplicaScalingUpdate" => json!({"numReplicas": 2}),
        "instancePasswordUpdate" => json!({}),
        _ => return None,
    };
    Some(body)
}

#[tokio::test]
async fn every_operation_answers_as_the_spec_says() {
    let root = workspace_root();
    let spec = Spec::load_pinned(&root).expect("the pinned spec");
    let emulator = Emulator::builder()
        .rate_limit(None)
        .speed(100_000.0)
        .member(
            "Grace=grace@example.com:developer"
                .parse::<MemberSpec>()
                .unwrap(),
        )
        .start()
        .await
        .expect("emulator starts");
    let stateful: Vec<&str> = emulator
        .answerers()
        .into_iter()
        .filter(|(_, answerer)| *answerer == clickhouse_cloud_emulator::Answerer::Stateful)
        .map(|(id, _)| id)
        .collect();
    let harness = Harness {
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        emulator,
    };
    let org = harness.emulator.organization_id().to_string();
    let at = |rest: &str| format!("/v1/organizations/{org}{rest}");

    // What the calls need: a running service, a key, a custom role, a
    // member other than the owner, an invitation and an activity.
    let created = harness
        .json(
            reqwest::Method::POST,
            &at("/services"),
            stateful_body("instanceCreate", "", ""),
        )
        .await;
    let service = created["service"]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while harness
        .json(
            reqwest::Method::GET,
            &at(&format!("/services/{service}")),
            None,
        )
        .await["state"]
        != "running"
    {
        assert!(Instant::now() < deadline, "the service never ran");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let key = harness
        .json(
            reqwest::Method::POST,
            &at("/keys"),
            Some(json!({"name": "target", "roles": ["developer"]})),
        )
        .await["key"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let member = harness.emulator.members()[1].user_id.to_string();
    let role = harness
        .json(
            reqwest::Method::POST,
            &at("/roles"),
            stateful_body("organizationRolePost", &key, &member),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invitation = harness
        .json(
            reqwest::Method::POST,
            &at("/invitations"),
            Some(json!({"email": "first@example.com"})),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let activity = harness
        .json(reqwest::Method::GET, &at("/activities"), None)
        .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ours: BTreeMap<&str, &str> = [
        ("organizationId", org.as_str()),
        ("serviceId", service.as_str()),
        ("keyId", key.as_str()),
        ("roleId", role.as_str()),
        ("userId", member.as_str()),
        ("invitationId", invitation.as_str()),
        ("activityId", activity.as_str()),
    ]
    .into();

    // One call per example cassette, removals last.
    let folder = root.join("conformance/cassettes/examples");
    let mut calls = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let cassette: Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        let id = cassette["operation"].as_str().unwrap().to_owned();
        let request = &cassette["request"];
        let (template, method) = spec.operation(&id).expect("in the spec");
        let mut params: BTreeMap<String, String> =
            match_path(template, request["path"].as_str().unwrap())
                .expect("the path fits its template")
                .into_iter()
                .map(|(name, value)| (name, value.as_str().unwrap_or_default().to_owned()))
                .collect();
        for (name, value) in params.iter_mut() {
            if let Some(own) = ours.get(name.as_str()) {
                *value = (*own).to_owned();
            }
        }
        let is_stateful = stateful.contains(&id.as_str());
        let mut query = Vec::new();
        if !is_stateful {
            for (name, value) in request["query"].as_object().into_iter().flatten() {
                match value {
                    Value::Array(items) => {
                        query.extend(items.iter().map(|item| {
                            (name.clone(), item.as_str().unwrap_or_default().to_owned())
                        }))
                    }
                    other => {
                        query.push((name.clone(), other.as_str().unwrap_or_default().to_owned()))
                    }
                }
            }
        }
        let body = stateful_body(&id, &key, &member)
            .or_else(|| (!request["body"].is_null()).then(|| request["body"].clone()));
        calls.push(Call {
            id,
            method: method.to_uppercase().parse().unwrap(),
            template: template.to_owned(),
            params,
            query,
            body,
        });
    }
    let rank = |call: &Call| {
        LAST.iter()
            .position(|id| *id == call.id)
            .map_or((0, 0), |n| (1, n))
    };
    calls.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.id.cmp(&b.id)));
    assert_eq!(calls.len(), 174);

    let mut passed = 0;
    let mut failures = Vec::new();
    let mut from_examples = 0;
    for call in &calls {
        if call.id == "instanceDelete" {
            // Deletion waits for the stop the previous call asked for.
            let deadline = Instant::now() + Duration::from_secs(10);
            while harness
                .json(
                    reqwest::Method::GET,
                    &at(&format!("/services/{service}")),
                    None,
                )
                .await["state"]
                != "stopped"
            {
                assert!(Instant::now() < deadline, "the service never stopped");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let (status, content_type, text, example) = harness.send(call).await;
        from_examples += usize::from(example);
        if !(200..300).contains(&status) {
            failures.push(format!("{}: status {status}: {text}", call.id));
            continue;
        }
        let is_json = content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json"));
        if !is_json {
            if text.is_empty() {
                failures.push(format!("{}: empty {content_type:?} body", call.id));
            } else {
                passed += 1;
            }
            continue;
        }
        let body: Value = match serde_json::from_str(&text) {
            Ok(body) => body,
            Err(error) => {
                failures.push(format!("{}: not JSON: {error}", call.id));
                continue;
            }
        };
        match spec.validate(&call.id, status, &body) {
            Ok(violations) if violations.is_empty() => passed += 1,
            Ok(violations) => failures.push(format!("{}: {violations:?}", call.id)),
            Err(error) => failures.push(format!("{}: {error}", call.id)),
        }
    }
    println!(
        "operations {passed}/{} answered as the spec says ({} from state, {from_examples} from examples)",
        calls.len(),
        calls.len() - from_examples
    );
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed, 174);
    assert_eq!(calls.len() - from_examples, stateful.len());
}
