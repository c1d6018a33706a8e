//! A next spec build, derived from the pinned one, absorbed by `absorb` in
//! a scratch copy of what the generator and check-spec read: no hand edit
//! is needed, and each change of the build shows up where it should.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Options, absorb};
use crate::check_spec::check::{FindingKind, check};
use crate::spec::fetch::{Layout, sha256_hex};
use crate::testing::pinned_spec;
use crate::workspace;

/// Copies `from` (a file or a folder) to the same place under `to`.
fn copy(root: &Path, to: &Path, relative: &str) {
    let source = root.join(relative);
    let target = to.join(relative);
    if source.is_dir() {
        for entry in std::fs::read_dir(&source).unwrap().flatten() {
            let name = entry.file_name();
            copy(root, to, &format!("{relative}/{}", name.to_string_lossy()));
        }
    } else {
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&source, &target).unwrap();
    }
}

/// A scratch workspace: the pin and pinned spec, the two TOML files and
/// the generated folders.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("xtask-spec-upgrade-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = workspace::root();
    let spec = pinned_spec();
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::copy(&spec, workspace::spec_file(&dir)).unwrap();
    copy(&root, &dir, "specs/spec.pin");
    copy(&root, &dir, crate::codegen::OVERRIDES);
    copy(&root, &dir, "xtask/check-spec-exemptions.toml");
    for generated in [
        crate::codegen::render::OUT_DIR,
        crate::codegen::client::OUT_DIR,
        crate::codegen::CASSETTES,
        crate::codegen::EMULATOR_EXAMPLES_DIR,
    ] {
        copy(&root, &dir, generated);
    }
    dir
}

fn operation<'a>(doc: &'a mut Value, id: &str) -> (String, String, &'a mut Value) {
    let paths = doc["paths"].as_object_mut().unwrap();
    let (path, method) = paths
        .iter()
        .find_map(|(path, item)| {
            item.as_object()?.iter().find_map(|(method, op)| {
                (op["operationId"] == id).then(|| (path.clone(), method.clone()))
            })
        })
        .unwrap_or_else(|| panic!("no operation {id}"));
    let op = &mut paths[&path][&method];
    (path, method, op)
}

fn remove_operation(doc: &mut Value, id: &str) {
    let (path, method, _) = operation(doc, id);
    let item = doc["paths"][&path].as_object_mut().unwrap();
    item.remove(&method);
    if item.keys().all(|k| k == "parameters" || k == "summary") {
        doc["paths"].as_object_mut().unwrap().remove(&path);
    }
}

/// The next build: a new tag with a new operation and schema, a new
/// optional field, a new enum value, a new query parameter, and two
/// operations gone (one named by an exemption, one by an override).
fn next_build(mut doc: Value) -> Value {
    let (_, _, organization_get) = operation(&mut doc, "organizationGet");
    let mut station = organization_get.clone();
    organization_get["parameters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"in": "query", "name": "include", "description": "Extra details to return.", "schema": {"type": "string"}}));
    station["operationId"] = json!("weatherStationGet");
    station["tags"] = json!(["Weather stations"]);
    station["summary"] = json!("Get the organization's weather station");
    station["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["result"] =
        json!({"$ref": "#/components/schemas/WeatherStation"});
    doc["paths"]["/v1/organizations/{organizationId}/weatherStation"] = json!({"get": station});
    doc["tags"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "Weather stations"}));
    let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
    schemas.insert(
        "WeatherStation".into(),
        json!({"type": "object", "properties": {
            "id": {"type": "string", "format": "uuid", "description": "ID of the station."},
            "name": {"type": "string", "description": "Name of the station."}
        }}),
    );
    let api_key = &mut schemas["ApiKey"]["properties"];
    api_key["colour"] =
        json!({"type": "string", "description": "Colour of the key in the console."});
    api_key["state"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("suspended"));
    remove_operation(&mut doc, "instancePrometheusGet");
    remove_operation(&mut doc, "clickStackValidateDashboard");
    doc
}

fn read(root: &Path, relative: &str) -> String {
    std::fs::read_to_string(root.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn a_next_build_is_absorbed_without_a_hand_edit() {
    let root = scratch("next");
    let pristine: Value = serde_json::from_slice(&std::fs::read(pinned_spec()).unwrap()).unwrap();
    let next = root.join("next-openapi.json");
    let bytes = serde_json::to_vec_pretty(&next_build(pristine)).unwrap();
    std::fs::write(&next, &bytes).unwrap();
    let layout = Layout {
        pin: workspace::pin_file(&root),
        dest: workspace::spec_file(&root),
        shared_dir: None,
        env_source: None,
    };
    let mut printed = String::new();
    let options = Options {
        spec: Some(next.display().to_string()),
    };
    let upgraded = absorb(&root, &layout, &options, &mut |line| printed.push_str(line))
        .unwrap_or_else(|e| panic!("{e}\n{printed}"));

    // The pin and the kept old spec.
    assert!(upgraded.pin_updated);
    assert!(read(&root, "specs/spec.pin").contains(&sha256_hex(&bytes)));
    assert_eq!(
        std::fs::read(&upgraded.old).unwrap(),
        std::fs::read(pinned_spec()).unwrap()
    );

    // The diff and the changelog.
    assert!(
        upgraded.diff.contains(
            "+ GET /v1/organizations/{organizationId}/weatherStation (weatherStationGet)"
        ),
        "{}",
        upgraded.diff
    );
    let changelog = &upgraded.changelog;
    assert!(
        changelog.contains("#### Weather stations\n\n- New operations: `weatherStationGet`"),
        "{changelog}"
    );
    assert!(
        changelog.contains("`ApiKey.colour` (string)"),
        "{changelog}"
    );
    assert!(
        changelog.contains("`ApiKey.state`: suspended"),
        "{changelog}"
    );
    assert!(
        changelog.contains("`organizationGet query include` (string)"),
        "{changelog}"
    );
    assert!(
        changelog.contains("- Removed operations: `instancePrometheusGet`"),
        "{changelog}"
    );
    assert_eq!(read(&root, "target/spec-upgrade/changelog.md"), *changelog);

    // The new tag's module, named after it and said so.
    assert!(
        printed.contains("tag \"Weather stations\" has no [modules] entry")
            && printed.contains("`weather_stations`"),
        "{printed}"
    );
    let out = crate::codegen::render::OUT_DIR;
    let ops = read(&root, &format!("{out}/ops/weather_stations.rs"));
    assert!(ops.contains("pub struct WeatherStationGet"), "{ops}");
    let types = read(&root, &format!("{out}/types/weather_stations.rs"));
    assert!(types.contains("pub struct WeatherStation "), "{types}");
    assert!(
        root.join(crate::codegen::CASSETTES)
            .join("weatherStationGet.json")
            .is_file()
    );

    // The new field, the new enum value, the new query parameter.
    let keys = read(&root, &format!("{out}/types/api_keys.rs"));
    assert!(
        keys.contains("pub colour: Option<String>"),
        "ApiKey.colour missing"
    );
    assert!(
        keys.contains("\"suspended\""),
        "ApiKeyState suspended missing"
    );
    let generated_ops: String = ["organization", "common"]
        .iter()
        .map(|m| read(&root, &format!("{out}/ops/{m}.rs")))
        .collect();
    assert!(
        generated_ops.contains("pub include: Option<String>"),
        "organizationGet include missing"
    );

    // The removed operations: gone from the table and the examples, and
    // the entries naming them pruned with a line each.
    let table = read(&root, &format!("{out}/ops/mod.rs"));
    assert!(
        !table.contains("<InstancePrometheusGet>")
            && !table.contains("<ClickStackValidateDashboard>")
    );
    assert!(table.contains("<WeatherStationGet>"));
    assert!(
        upgraded
            .codegen
            .removed
            .iter()
            .any(|f| f.ends_with("examples/instancePrometheusGet.json")),
        "{:?}",
        upgraded.codegen.removed
    );
    let exemptions = read(&root, "xtask/check-spec-exemptions.toml");
    assert!(!exemptions.contains("\"instancePrometheusGet query filtered_metrics\""));
    assert!(exemptions.contains("\"organizationPrometheusGet query filtered_metrics\""));
    assert!(
        exemptions.contains("reason = \"As for instancePrometheusGet.\""),
        "a neighbour was removed"
    );
    assert!(printed.contains("pruned xtask/check-spec-exemptions.toml: [[deviation]] \"instancePrometheusGet query filtered_metrics\""), "{printed}");
    let overrides = read(&root, crate::codegen::OVERRIDES);
    assert!(!overrides.contains("operation = \"clickStackValidateDashboard\""));
    assert!(overrides.contains("operation = \"clickStackValidateWebhook\""));
    assert!(
        printed.contains("pruned xtask/codegen.toml: [retry] \"clickStackValidateDashboard\""),
        "{printed}"
    );
    assert!(
        upgraded
            .pruned
            .iter()
            .all(|line| line.contains("\"instancePrometheus")
                || line.contains("\"clickStackValidateDashboard\"")),
        "only entries naming the removed operations go: {:#?}",
        upgraded.pruned
    );

    // check-spec of the new spec with the pruned exemptions, against the
    // Rust types as they were before regeneration: nothing is left to
    // delete or excuse by hand, and every finding is a change of the build
    // that the regenerated files above now carry.
    let new_spec = crate::spec::load_model(&upgraded.new).unwrap();
    let rust = crate::check_spec::rust::inventory(&workspace::root()).unwrap();
    let exemptions =
        crate::check_spec::load_exemptions(&root, &workspace::exemptions_file(&root)).unwrap();
    let report = check(&new_spec, &rust, &exemptions);
    let mut found: Vec<(FindingKind, &str)> = report
        .findings
        .iter()
        .map(|f| (f.kind, f.item.as_str()))
        .collect();
    found.sort();
    let mut expected = vec![
        (FindingKind::UncoveredOperation, "weatherStationGet"),
        (FindingKind::UncoveredSchema, "WeatherStation"),
        (FindingKind::UnknownOperation, "instancePrometheusGet"),
        (FindingKind::UnknownOperation, "clickStackValidateDashboard"),
        (FindingKind::FieldMissingInRust, "ApiKey.colour"),
        (FindingKind::EnumValuesMissingInRust, "ApiKey.state"),
        (FindingKind::QueryParameter, "organizationGet query include"),
    ];
    expected.sort();
    assert_eq!(found, expected, "{:#?}", report.findings);
    assert_eq!(report.operations_total, new_spec.operations.len());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_spec_that_does_not_load_stops_with_the_state_it_leaves() {
    let root = scratch("bad");
    let bad = root.join("bad.json");
    std::fs::write(&bad, "{\"openapi\": \"3.1.0\", \"paths\": ").unwrap();
    let layout = Layout {
        pin: workspace::pin_file(&root),
        dest: workspace::spec_file(&root),
        shared_dir: None,
        env_source: None,
    };
    let pin = read(&root, "specs/spec.pin");
    let options = Options {
        spec: Some(bad.display().to_string()),
    };
    let error = absorb(&root, &layout, &options, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("stopped while taking the new spec"),
        "{error}"
    );
    assert!(
        error.contains("the old spec, kept at target/spec-upgrade/old-openapi.json"),
        "{error}"
    );
    assert!(error.contains("Nothing was restored"), "{error}");
    assert_eq!(
        read(&root, "specs/spec.pin"),
        pin,
        "a refused spec leaves the pin alone"
    );
    let _ = std::fs::remove_dir_all(&root);
}
