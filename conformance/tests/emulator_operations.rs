//! Every operation of the pinned spec, called once against the emulator,
//! each answer validated against the spec: what a client written from the
//! spec alone can count on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clickhouse_cloud_conformance::spec::Spec;
use clickhouse_cloud_conformance::workspace_root;
use clickhouse_cloud_emulator::{Answerer, EXAMPLE_HEADER, Emulator, MemberSpec, RunningEmulator};
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
    /// Creates a service and waits (on the emulator's fast clock) until it
    /// runs; its ID.
    async fn running_service(&self, org: &str) -> String {
        let services = format!("/v1/organizations/{org}/services");
        let created = self
            .json(
                reqwest::Method::POST,
                &services,
                stateful_body("instanceCreate", "", ""),
            )
            .await;
        let service = created["service"]["id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self
            .json(reqwest::Method::GET, &format!("{services}/{service}"), None)
            .await["state"]
            != "running"
        {
            assert!(Instant::now() < deadline, "the service never ran");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        service
    }

    /// A new UDF upload of `org` with an archive put to its URL (as a
    /// presigned URL takes it: no key), for a create or version create to
    /// take; its ID.
    async fn fresh_upload(&self, org: &str) -> String {
        let session = self
            .json(
                reqwest::Method::POST,
                &format!("/v1/organizations/{org}/udfUploads/url"),
                None,
            )
            .await;
        let put = self
            .http
            .put(session["uploadUrl"].as_str().unwrap())
            .header("content-type", "application/zip")
            .body(b"PK\x05\x06".repeat(4))
            .send()
            .await
            .expect("the upload URL answers");
        assert_eq!(put.status().as_u16(), 200);
        session["uploadId"].as_str().unwrap().to_owned()
    }

    /// `body` with a fresh upload in place of the `uploadId` it has (each
    /// upload serves one create).
    async fn with_fresh_upload(&self, org: &str, mut body: Value) -> Value {
        if body.get("uploadId").is_some() {
            body["uploadId"] = Value::String(self.fresh_upload(org).await);
        }
        body
    }

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
        assert!([200, 201].contains(&status), "{path}: {text}");
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

/// Every example cassette's request, by `operationId`.
fn cassettes(root: &std::path::Path) -> BTreeMap<String, Value> {
    let folder = root.join("conformance/cassettes/examples");
    std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| {
            let cassette: Value =
                serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
            (
                cassette["operation"].as_str().unwrap().to_owned(),
                cassette["request"].clone(),
            )
        })
        .collect()
}

/// A stored collection, found from the operation table: its template,
/// item parameter and the operations on it.
#[derive(Debug, Default)]
struct Collection {
    template: String,
    param: String,
    create: Option<(String, String)>,
    list: Option<String>,
    get: Option<String>,
    update: Option<(String, String)>,
    delete: Option<String>,
}

/// The collections the emulator stores, from who answers each operation
/// and the spec's templates: a `POST` (or an upserting `PUT`) beside
/// operations on `TEMPLATE/{param}`.
fn stored_collections(spec: &Spec, emulator: &RunningEmulator) -> Vec<Collection> {
    let stored: Vec<(String, String, String)> = emulator
        .answerers()
        .into_iter()
        .filter(|(_, answerer)| *answerer == Answerer::Stored)
        .filter_map(|(id, _)| {
            let (template, method) = spec.operation(id)?;
            Some((id.to_owned(), template.to_owned(), method.to_uppercase()))
        })
        .collect();
    let mut found: BTreeMap<String, Collection> = BTreeMap::new();
    for (_, template, _) in &stored {
        let Some((parent, last)) = template.rsplit_once('/') else {
            continue;
        };
        if !(last.starts_with('{') && last.ends_with('}')) {
            continue;
        }
        let creates = stored.iter().any(|(_, t, m)| t == parent && m == "POST")
            || stored.iter().any(|(_, t, m)| t == template && m == "PUT")
                && !stored.iter().any(|(_, t, m)| t == parent && m == "POST");
        if creates {
            found
                .entry(parent.to_owned())
                .or_insert_with(|| Collection {
                    template: parent.to_owned(),
                    param: last[1..last.len() - 1].to_owned(),
                    ..Collection::default()
                });
        }
    }
    for collection in found.values_mut() {
        let item = format!("{}/{{{}}}", collection.template, collection.param);
        for (id, template, method) in &stored {
            match (
                template == &collection.template,
                template == &item,
                method.as_str(),
            ) {
                (true, _, "POST") => collection.create = Some((id.clone(), "POST".into())),
                (true, _, "GET") => collection.list = Some(id.clone()),
                (_, true, "GET") => collection.get = Some(id.clone()),
                (_, true, "PUT") if collection.create.is_none() => {
                    collection.create = Some((id.clone(), "PUT".into()))
                }
                (_, true, "PATCH" | "PUT") => {
                    let keep = collection
                        .update
                        .as_ref()
                        .is_some_and(|(_, m)| m == "PATCH");
                    if !keep {
                        collection.update = Some((id.clone(), method.clone()));
                    }
                }
                (_, true, "DELETE") => collection.delete = Some(id.clone()),
                _ => {}
            }
        }
    }
    let mut list: Vec<Collection> = found.into_values().collect();
    // Parents first; an attachment names a version of its function, so
    // attachments come after the collections beside them.
    list.sort_by_key(|c| {
        (
            c.template.matches('/').count(),
            c.template.ends_with("/attachments"),
            c.template.clone(),
        )
    });
    list
}

/// Fills a template's parameters from `ours`.
fn fill(template: &str, ours: &BTreeMap<String, String>) -> String {
    let mut path = template.to_owned();
    for (name, value) in ours {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    path
}

/// Creates one item of each stored collection, parents first, with the
/// body of its example cassette; its ID goes into `ours`.
async fn create_one_of_each(
    harness: &Harness,
    collections: &[Collection],
    requests: &BTreeMap<String, Value>,
    ours: &mut BTreeMap<String, String>,
) {
    for collection in collections {
        let Some((create, method)) = &collection.create else {
            continue;
        };
        let body = harness
            .with_fresh_upload(
                &ours["organizationId"],
                requests[create.as_str()]["body"].clone(),
            )
            .await;
        if collection.template.ends_with("/attachments") {
            // A function's version builds in 0.6 ms at the tests' speed;
            // an attachment takes a ready one.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let template = if method == "PUT" {
            format!("{}/{{{}}}", collection.template, collection.param)
        } else {
            collection.template.clone()
        };
        let result = harness
            .json(method.parse().unwrap(), &fill(&template, ours), Some(body))
            .await;
        let id = result
            .get(&collection.param)
            .or_else(|| result.get("id"))
            .map(|id| match id {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| panic!("{create}: no ID in {result}"));
        ours.insert(collection.param.clone(), id);
    }
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
        .filter(|(_, answerer)| *answerer != Answerer::Example)
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
    let service = harness.running_service(&org).await;
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
    let mut ours: BTreeMap<String, String> = [
        ("organizationId", org.as_str()),
        ("serviceId", service.as_str()),
        ("keyId", key.as_str()),
        ("roleId", role.as_str()),
        ("userId", member.as_str()),
        ("invitationId", invitation.as_str()),
        ("activityId", activity.as_str()),
        ("quotaCode", "services-per-organization"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    // One item of every stored collection, for the operations on items.
    let requests = cassettes(&root);
    let collections = stored_collections(&spec, &harness.emulator);
    create_one_of_each(&harness, &collections, &requests, &mut ours).await;
    // A day later (at this speed) the service has a backup and snapshots,
    // kept long enough for the calls below.
    for (config, body) in [
        (
            "backupConfiguration",
            json!({"backupRetentionPeriodInHours": 1080}),
        ),
        ("snapshotConfiguration", json!({"timeFrame": 1_000_000})),
    ] {
        let path = at(&format!("/services/{service}/{config}"));
        harness
            .json(reqwest::Method::PATCH, &path, Some(body))
            .await;
    }
    // The single-setting operations name a setting that is set.
    harness
        .json(
            reqwest::Method::PATCH,
            &at(&format!("/services/{service}/clickhouseSettings")),
            Some(json!({"settings": {"example": "example"}})),
        )
        .await;
    ours.insert("settingName".to_owned(), "example".to_owned());
    harness.emulator.advance_clock(Duration::from_secs(1));
    for (list, param) in [("backups", "backupId"), ("snapshots", "snapshotId")] {
        let items = harness
            .json(
                reqwest::Method::GET,
                &at(&format!("/services/{service}/{list}")),
                None,
            )
            .await;
        let id = items[0]["id"].as_str().expect("one made on schedule");
        ours.insert(param.to_owned(), id.to_owned());
    }

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
                value.clone_from(own);
            }
        }
        let is_stateful = stateful.contains(&id.as_str());
        let mut query = Vec::new();
        if id == "usageCostGet" {
            // A range with today in it, so that the service shows.
            let today = chrono::Utc::now().date_naive();
            let yesterday = today.pred_opt().unwrap_or(today);
            query.push(("from_date".to_owned(), yesterday.to_string()));
            query.push(("to_date".to_owned(), today.to_string()));
        } else if !is_stateful {
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
        let mut body = stateful_body(&id, &key, &member)
            .or_else(|| (!request["body"].is_null()).then(|| request["body"].clone()));
        if id == "udfCreate" {
            // The function the cassette names exists already (made above).
            if let Some(body) = body.as_mut() {
                body["functionName"] = json!("second");
            }
        }
        if let Some(sent) = body.take() {
            body = Some(harness.with_fresh_upload(&org, sent).await);
        }
        calls.push(Call {
            id,
            method: method.to_uppercase().parse().unwrap(),
            template: template.to_owned(),
            params,
            query,
            body,
        });
    }
    // Removals last: stored items deepest first, then those of LAST.
    let rank = |call: &Call| match LAST.iter().position(|id| *id == call.id) {
        Some(n) => (2, n as isize),
        None if call.method == reqwest::Method::DELETE => {
            (1, -(call.template.matches('/').count() as isize))
        }
        None => (0, 0),
    };
    calls.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.id.cmp(&b.id)));
    // One call per operation of the operation table.
    let operations = clickhouse_cloud_types::ops::ALL_IDS.len();
    assert!(operations > 0);
    assert_eq!(calls.len(), operations);

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
    assert_eq!(passed, operations);
    assert_eq!(calls.len() - from_examples, stateful.len());
}

/// Whether `body` is what the spec says operation `id` answers.
fn check(spec: &Spec, id: &str, status: u16, text: &str, failures: &mut Vec<String>) -> Value {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    match spec.validate(id, status, &body) {
        Ok(violations) if violations.is_empty() => {}
        Ok(violations) => failures.push(format!("{id}: {violations:?}")),
        Err(error) => failures.push(format!("{id}: {error}")),
    }
    body
}

#[tokio::test]
async fn every_stored_collection_and_singleton_lives_through_its_operations() {
    let root = workspace_root();
    let spec = Spec::load_pinned(&root).expect("the pinned spec");
    let emulator = Emulator::builder()
        .rate_limit(None)
        .speed(100_000.0)
        .start()
        .await
        .expect("emulator starts");
    let harness = Harness {
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        emulator,
    };
    let org = harness.emulator.organization_id().to_string();
    let service = harness.running_service(&org).await;
    let mut ours: BTreeMap<String, String> = [
        ("organizationId".to_owned(), org.clone()),
        ("serviceId".to_owned(), service.clone()),
    ]
    .into();
    let requests = cassettes(&root);
    let collections = stored_collections(&spec, &harness.emulator);
    assert!(!collections.is_empty());
    // Parents of the collections walked (a UDF for its versions, say).
    create_one_of_each(&harness, &collections, &requests, &mut ours).await;

    let call = |id: &str, params: &BTreeMap<String, String>, body: Option<Value>| {
        let (template, method) = spec.operation(id).unwrap();
        Call {
            id: id.to_owned(),
            method: method.to_uppercase().parse().unwrap(),
            template: fill(template, params),
            params: BTreeMap::new(),
            query: Vec::new(),
            body,
        }
    };
    let mut failures = Vec::new();
    let mut walked = 0;
    for collection in &collections {
        let Some((create, _)) = &collection.create else {
            continue;
        };
        let body = requests[create.as_str()]["body"].clone();
        let mut params = ours.clone();
        let mut id_of = |result: &Value| {
            result
                .get(&collection.param)
                .or_else(|| result.get("id"))
                .map(|id| match id {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
        };
        // create
        let mut create_call = call(create, &params, Some(body.clone()));
        if create_call.method == reqwest::Method::PUT {
            // An upsert by path: a second service would be needed for a
            // second item; the one made above is walked instead.
            params.insert(collection.param.clone(), ours[&collection.param].clone());
            create_call = call(create, &params, Some(body.clone()));
        } else if collection.param == "functionName" {
            let mut walked = body.clone();
            walked["functionName"] = json!("walked");
            create_call.body = Some(walked);
        }
        if let Some(sent) = create_call.body.take() {
            create_call.body = Some(harness.with_fresh_upload(&org, sent).await);
        }
        let (status, _, text, example) = harness.send(&create_call).await;
        assert!(!example, "{create} answered from an example");
        assert!([200, 201].contains(&status), "{create}: {status} {text}");
        let made = check(&spec, create, status, &text, &mut failures);
        let item = id_of(&made["result"]).unwrap_or_else(|| panic!("{create}: no ID: {made}"));
        params.insert(collection.param.clone(), item.clone());
        // get
        if let Some(get) = &collection.get {
            let (status, _, text, _) = harness.send(&call(get, &params, None)).await;
            assert_eq!(status, 200, "{get}: {text}");
            let got = check(&spec, get, status, &text, &mut failures);
            assert_eq!(
                id_of(&got["result"]).as_deref(),
                Some(item.as_str()),
                "{get}"
            );
        }
        // list
        if let Some(list) = &collection.list {
            let (status, _, text, _) = harness.send(&call(list, &params, None)).await;
            assert_eq!(status, 200, "{list}: {text}");
            let listed = check(&spec, list, status, &text, &mut failures);
            let ids: Vec<Option<String>> = listed["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(&mut id_of)
                .collect();
            assert!(
                ids.contains(&Some(item.clone())),
                "{list}: {ids:?} lacks {item}"
            );
        }
        // update, then get what was changed
        if let Some((update, _)) = &collection.update {
            let body = requests[update.as_str()]["body"].clone();
            let (status, _, text, _) = harness.send(&call(update, &params, Some(body))).await;
            assert!([200, 201].contains(&status), "{update}: {text}");
            check(&spec, update, status, &text, &mut failures);
            if let Some(get) = &collection.get {
                let (status, _, text, _) = harness.send(&call(get, &params, None)).await;
                assert_eq!(status, 200, "{get} after {update}: {text}");
                check(&spec, get, status, &text, &mut failures);
            }
        }
        if collection.param == "functionName" {
            // A function goes only once none of its versions builds (0.6 ms
            // at this speed).
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if collection.param == "version" {
            // The spec refuses to delete a function's latest version, one
            // still building, or any while the function is attached to a
            // service: detach it and make a newer version first.
            let detach = call("udfDetach", &params, None);
            let (status, _, text, _) = harness.send(&detach).await;
            assert!([200, 404].contains(&status), "udfDetach: {status} {text}");
            let newer = harness.with_fresh_upload(&org, body.clone()).await;
            let (status, _, text, _) = harness.send(&call(create, &params, Some(newer))).await;
            assert_eq!(status, 201, "{create}: {text}");
            // Both versions build in 0.6 ms at this speed.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // delete, then the item is gone
        if let Some(delete) = &collection.delete {
            let (status, _, text, _) = harness.send(&call(delete, &params, None)).await;
            assert!([200, 204].contains(&status), "{delete}: {text}");
            if !text.is_empty() {
                check(&spec, delete, status, &text, &mut failures);
            }
            let again = match (&collection.get, &collection.update) {
                (Some(get), _) => Some((get.clone(), None)),
                (None, Some((update, _))) => Some((
                    update.clone(),
                    Some(requests[update.as_str()]["body"].clone()),
                )),
                (None, None) => None,
            };
            if let Some((again, body)) = again {
                let (status, _, text, _) = harness.send(&call(&again, &params, body)).await;
                assert_eq!(status, 404, "{again} after {delete}: {text}");
                let body: Value = serde_json::from_str(&text).unwrap();
                assert!(
                    body["error"].as_str().unwrap().starts_with("NOT_FOUND: "),
                    "{body}"
                );
            }
        }
        walked += 1;
    }

    // Singletons: set, read back, delete, read the default again.
    let singletons: BTreeMap<String, Vec<(String, String)>> = harness
        .emulator
        .answerers()
        .into_iter()
        .filter(|(_, answerer)| *answerer == Answerer::Stored)
        .filter_map(|(id, _)| {
            let (template, method) = spec.operation(id)?;
            let last = template.rsplit('/').next()?;
            let inside = collections.iter().any(|c| {
                template == c.template || template == format!("{}/{{{}}}", c.template, c.param)
            });
            (!last.starts_with('{') && !inside)
                .then(|| (template.to_owned(), (id.to_owned(), method.to_uppercase())))
        })
        .fold(BTreeMap::new(), |mut map, (template, op)| {
            map.entry(template).or_insert_with(Vec::new).push(op);
            map
        });
    // Paths without a GET (`.../state`, `.../password`, `.../readReplica`)
    // are actions on a stored item, and paths with only a GET (a Postgres
    // service's backups, an infrastructure's tags) read what others store:
    // both are called in the test above.
    let singletons: BTreeMap<String, Vec<(String, String)>> = singletons
        .into_iter()
        .filter(|(_, ops)| {
            ops.iter().any(|(_, method)| method == "GET")
                && ops.iter().any(|(_, method)| method != "GET")
        })
        .collect();
    assert!(!singletons.is_empty());
    for (template, ops) in &singletons {
        let find = |methods: &[&str]| {
            methods.iter().find_map(|m| {
                ops.iter()
                    .find(|(_, have)| have == m)
                    .map(|(id, _)| id.clone())
            })
        };
        let get = find(&["GET"]).unwrap_or_else(|| panic!("{template}: no GET"));
        let set = find(&["PUT", "POST", "PATCH"]).unwrap_or_else(|| panic!("{template}: no write"));
        let body = requests[set.as_str()]["body"].clone();
        let (status, _, text, example) = harness.send(&call(&set, &ours, Some(body))).await;
        assert!(!example, "{set} answered from an example");
        assert!([200, 201].contains(&status), "{set}: {text}");
        check(&spec, &set, status, &text, &mut failures);
        let (status, _, text, _) = harness.send(&call(&get, &ours, None)).await;
        assert_eq!(status, 200, "{get}: {text}");
        check(&spec, &get, status, &text, &mut failures);
        if let Some(delete) = find(&["DELETE"]) {
            let (status, _, text, _) = harness.send(&call(&delete, &ours, None)).await;
            assert_eq!(status, 200, "{delete}: {text}");
            let (status, _, text, _) = harness.send(&call(&get, &ours, None)).await;
            assert!([200, 404].contains(&status), "{get} after {delete}: {text}");
            if status == 200 {
                check(&spec, &get, status, &text, &mut failures);
            }
        }
        walked += 1;
    }
    println!("walked {walked} collections and singletons");
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
