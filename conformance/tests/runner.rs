//! The runner on the suite's own cassettes, and on deliberately broken ones.

use std::path::Path;
use std::process::Command;

use clickhouse_cloud_client::Client;
use clickhouse_cloud_client::types::ops::{self, OpenapiKeyCreate, OrganizationPath};
use clickhouse_cloud_client::types::{ApiKeyPostRequest, Request};
use clickhouse_cloud_conformance::runner::{Runner, cassette_files, relative_label};
use clickhouse_cloud_conformance::scrub::find_secret_shape;
use clickhouse_cloud_conformance::spec::Spec;
use clickhouse_cloud_conformance::{default_cassette_dir, workspace_root};
use clickhouse_cloud_transport::replay::Cassette;
use clickhouse_cloud_transport::{NoRetry, ReplayMismatch, ReplayTransport};
use serde_json::{Value, json};

fn runner() -> Runner {
    let spec = Spec::load_pinned(&workspace_root()).expect("the OpenAPI spec is needed");
    Runner::new(Some(spec)).unwrap()
}

fn cassette(file: &str) -> Value {
    let path = default_cassette_dir().join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every failure of a cassette, as printed: `file: path: message`.
fn failures(runner: &Runner, value: &Value) -> Vec<String> {
    runner
        .check_text("broken.json", &value.to_string())
        .failures
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_suite_passes() {
    let summary = runner().run_dir(&default_cassette_dir()).unwrap();
    let failures: Vec<String> = summary.failures().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(summary.passed() >= 27, "{}", summary.closing_line());
    assert_eq!(
        summary.closing_line(),
        format!("{} passed, 0 failed, 0 drifted", summary.reports.len())
    );
}

#[test]
fn a_wrong_type_in_a_response_is_reported_with_its_json_path() {
    let runner = runner();
    let mut get = cassette("keys/openapiKeyGet.json");
    get["response"]["body"]["result"]["createdAt"] = json!(42);
    let found = failures(&runner, &get);
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("broken.json: response.body.result.createdAt: invalid type")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.contains("result.createdAt: 42 is not of type")
                && f.ends_with("(spec schema)")),
        "{found:#?}"
    );

    let mut list = cassette("keys/openapiKeyGetList.json");
    list["response"]["body"]["result"][0]["createdAt"] = json!(42);
    let found = failures(&runner, &list);
    assert!(
        found
            .iter()
            .any(|f| f.contains("response.body.result[0].createdAt: invalid type")),
        "{found:#?}"
    );
}

/// Every drift of a cassette, as printed: `file: path: message`.
fn drift(runner: &Runner, value: &Value) -> Vec<String> {
    runner
        .check_text("broken.json", &value.to_string())
        .drift
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_spec_alone_catches_what_the_types_accept() {
    let runner = runner();
    let mut list = cassette("keys/openapiKeyGetList.json");
    list["response"]["body"]["requestId"] = json!("not-a-uuid");
    list["response"]["body"]["result"][0]["state"] = json!("suspended");
    // A requestId that is no UUID breaks the spec: a failure.
    let found = failures(&runner, &list);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("broken.json: response.body.requestId: "));
    // A state the pinned enum lacks is what a newer server sends: drift,
    // which the client decoded.
    let drifted = drift(&runner, &list);
    assert_eq!(drifted.len(), 1, "{drifted:#?}");
    assert!(drifted[0].starts_with("broken.json: response.body.result[0].state: "));
    assert!(drifted[0].ends_with("(spec schema)"), "{drifted:#?}");

    list["response"]["body"]["requestId"] = get_request_id();
    let report = runner.check_text("broken.json", &list.to_string());
    assert!(report.drifted() && !report.failed() && !report.passed());
    assert!(report.outcome.is_some());

    // Declared as a deviation, the same body passes; a declared deviation
    // that does not occur fails.
    list["schemaDeviations"] = json!(["result[0].state"]);
    assert_eq!(failures(&runner, &list), Vec::<String>::new());
    assert_eq!(drift(&runner, &list), Vec::<String>::new());
    list["schemaDeviations"] = json!(["result[0].state", "result[0].name"]);
    let found = failures(&runner, &list);
    assert!(
        found[0].contains("schemaDeviations: declared deviation at result[0].name"),
        "{found:#?}"
    );
}

#[test]
fn a_client_that_cannot_decode_a_newer_value_fails_not_drifts() {
    // A value the spec allows nowhere and the types reject: the client's
    // failure, reported as such even though the spec flags the spot too.
    let runner = runner();
    let mut get = cassette("keys/openapiKeyGet.json");
    get["response"]["body"]["result"]["roles"] = json!("admin");
    let report = runner.check_text("broken.json", &get.to_string());
    assert!(report.failed(), "{report:#?}");
    assert!(
        report.failures.iter().any(
            |f| f.path == "response.body.result.roles" && f.message.starts_with("invalid type")
        ),
        "{report:#?}"
    );
}

fn get_request_id() -> Value {
    cassette("keys/openapiKeyGetList.json")["response"]["body"]["requestId"].clone()
}

#[test]
fn a_request_body_the_types_cannot_reproduce_is_reported() {
    let runner = runner();
    let mut create = cassette("keys/openapiKeyCreate.json");
    create["request"]["body"]["nmae"] = json!("typo");
    let found = failures(&runner, &create);
    assert_eq!(
        found,
        vec![r#"broken.json: request.body.nmae: recorded "typo", re-encoded nothing"#]
    );

    let mut create = cassette("keys/openapiKeyCreate.json");
    create["request"]["body"]["expireAt"] = json!("soon");
    let found = failures(&runner, &create);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("broken.json: request.body.expireAt: "));
}

#[test]
fn a_request_that_differs_from_the_recording_is_refused() {
    // Through the client: the replay transport names the differing field.
    let recorded =
        Cassette::load(default_cassette_dir().join("keys/openapiKeyCreate.json")).unwrap();
    let organization_id = recorded
        .request
        .path
        .split('/')
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    let recorded_roles: Vec<uuid::Uuid> =
        serde_json::from_value(recorded.request.body["assignedRoleIds"].clone()).unwrap();
    let client = Client::builder()
        .transport(ReplayTransport::new([recorded]))
        .retry_policy(NoRetry)
        .rate_limit(None)
        .build()
        .unwrap();

    let body = ApiKeyPostRequest {
        assigned_role_ids: Some(recorded_roles),
        ..ApiKeyPostRequest::new("someone-else")
    };
    let request = Request::<OpenapiKeyCreate>::new(OrganizationPath { organization_id }, body);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let error = runtime.block_on(client.send(request)).unwrap_err();
    let clickhouse_cloud_client::Error::Transport {
        source: clickhouse_cloud_transport::Error::Io { source, .. },
        ..
    } = &error
    else {
        panic!("expected a transport I/O error, got {error:?}");
    };
    let mismatch = source.downcast_ref::<ReplayMismatch>().unwrap();
    assert_eq!(
        mismatch.differences,
        vec![r#"body.name: recorded "conformance-developer", sent "someone-else""#]
    );

    // In a cassette: a recorded query the typed query drops.
    let runner = runner();
    let mut list = cassette("activities/activityGetList-from_date.json");
    list["request"]["query"]["page"] = json!("2");
    let found = failures(&runner, &list);
    assert_eq!(
        found,
        vec![r#"broken.json: request.query.page: recorded "2", sent nothing"#]
    );
}

#[test]
fn unknown_operations_and_wrong_statuses_fail() {
    let runner = runner();
    let mut other = cassette("organizations/organizationGet.json");
    other["operation"] = json!("serviceGetList");
    let found = failures(&runner, &other);
    assert!(
        found
            .iter()
            .any(|f| f.contains("operation: unsupported operation")),
        "{found:#?}"
    );

    let mut odd_error = cassette("errors/404-unknown-key.json");
    odd_error["response"]["body"]["error"] = json!(42);
    let found = failures(&runner, &odd_error);
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("broken.json: response.body.error: 42 is not of type")),
        "{found:#?}"
    );

    let not_json = runner.check_text("x.json", "<html>");
    assert_eq!(not_json.failures.len(), 1);
    assert!(
        not_json.failures[0]
            .to_string()
            .starts_with("x.json: .: not a cassette: ")
    );
    let mut no_status = cassette("errors/500-internal.json");
    no_status["response"]
        .as_object_mut()
        .unwrap()
        .remove("status");
    let found = failures(&runner, &no_status);
    assert!(
        found[0].starts_with("broken.json: response: not a cassette: missing field `status`"),
        "{found:#?}"
    );

    let mut html_ok = cassette("errors/502-html-gateway.json");
    html_ok["response"]["status"] = json!(200);
    let found = failures(&runner, &html_ok);
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("broken.json: response.body: ")),
        "{found:#?}"
    );
}

#[test]
fn every_operation_and_error_is_covered() {
    let dir = default_cassette_dir();
    let mut successes = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    for file in cassette_files(&dir).unwrap() {
        let cassette = Cassette::load(&file).unwrap();
        if (200..300).contains(&cassette.response.status) {
            successes.insert(cassette.operation.clone());
        } else {
            statuses.insert(cassette.response.status);
        }
    }
    for id in ops::ALL_IDS {
        assert!(successes.contains(*id), "no success cassette for {id}");
    }
    for status in [400, 401, 403, 404, 409, 429, 500, 502, 504] {
        assert!(statuses.contains(&status), "no cassette for HTTP {status}");
    }
    for file in [
        "errors/401-key-not-found.json",
        "errors/401-key-not-active.json",
        "errors/429-bare-body.json",
        "keys/openapiKeyCreate-hashData.json",
        "keys/openapiKeyUpdate-expireAt-null.json",
        "activities/activityGetList-from_date.json",
        "keys/openapiKeyGetList-newer-server.json",
    ] {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }
}

#[test]
fn cassettes_hold_no_secrets_or_credentials() {
    let dir = default_cassette_dir();
    for file in cassette_files(&dir).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        let label = relative_label(&dir, &file);
        assert_eq!(find_secret_shape(&text), None, "{label} holds a secret");
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "{label} mentions an Authorization header"
        );
        let cassette = Cassette::load(&file).unwrap();
        if let Some(secret) = cassette.response.body["result"]["keySecret"].as_str() {
            assert_eq!(secret, "REDACTED-key-secret-000000", "{label}");
        }
    }
}

fn run_binary(dir: &Path, extra: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .arg("--cassettes")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (output.status.success(), stdout)
}

#[test]
fn the_binary_prints_failures_and_the_closing_line() {
    let (ok, stdout) = run_binary(&default_cassette_dir(), &["--fail-on-drift"]);
    assert!(ok, "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed, 0 drifted"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let mut broken = cassette("keys/openapiKeyGetList.json");
    broken["response"]["body"]["result"][0]["createdAt"] = json!(42);
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/broken.json"), broken.to_string()).unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        cassette("organizations/organizationGet.json").to_string(),
    )
    .unwrap();
    let (ok, stdout) = run_binary(dir.path(), &[]);
    assert!(!ok, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().all(|l| l
            .starts_with("FAIL keys/broken.json: response.body.result[0].createdAt: ")
            || *l == "1 passed, 1 failed, 0 drifted"),
        "{stdout}"
    );
    assert_eq!(lines.last(), Some(&"1 passed, 1 failed, 0 drifted"));
}

#[test]
fn drift_is_reported_apart_and_fails_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut newer = cassette("keys/openapiKeyGetList.json");
    newer["response"]["body"]["result"][0]["state"] = json!("suspended");
    std::fs::write(dir.path().join("newer.json"), newer.to_string()).unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        cassette("organizations/organizationGet.json").to_string(),
    )
    .unwrap();
    let (ok, stdout) = run_binary(dir.path(), &[]);
    assert!(ok, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("DRIFT newer.json: response.body.result[0].state: "),
        "{stdout}"
    );
    assert_eq!(lines[1], "1 passed, 0 failed, 1 drifted");
    let (ok, stdout) = run_binary(dir.path(), &["--fail-on-drift"]);
    assert!(!ok, "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed, 1 drifted"));
}
