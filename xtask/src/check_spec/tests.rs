//! check-spec against the real pinned spec, unmodified and with one change
//! at a time: each change must produce a finding naming what changed.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::check::{Finding, FindingKind, Report, check};
use super::exemptions::Exemptions;
use super::rust::{RustInventory, inventory};
use crate::spec::model_from_value;
use crate::testing::pinned_spec_json;
use crate::workspace;

pub(crate) fn rust() -> &'static RustInventory {
    static RUST: OnceLock<RustInventory> = OnceLock::new();
    RUST.get_or_init(|| inventory(&workspace::root()).unwrap_or_else(|e| panic!("{e}")))
}

fn pristine() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(pinned_spec_json)
}

fn exemptions() -> Exemptions {
    let root = workspace::root();
    super::load_exemptions(&root, &workspace::exemptions_file(&root)).unwrap()
}

fn run(doc: Value) -> Report {
    let spec = model_from_value(doc, "mutated spec").unwrap_or_else(|e| panic!("{e}"));
    check(&spec, rust(), &exemptions())
}

/// The findings after one change to a copy of the pinned spec.
fn mutated(change: impl FnOnce(&mut Value)) -> Vec<Finding> {
    let mut doc = pristine().clone();
    change(&mut doc);
    run(doc).findings
}

fn assert_finds(findings: &[Finding], kind: FindingKind, item: &str) {
    assert!(
        findings.iter().any(|f| f.kind == kind && f.item == item),
        "expected a {} finding for {item}, got:\n{findings:#?}",
        kind.name()
    );
}

fn schema<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    &mut doc["components"]["schemas"][name]
}

fn property<'a>(doc: &'a mut Value, name: &str, field: &str) -> &'a mut Value {
    &mut schema(doc, name)["properties"][field]
}

fn properties<'a>(doc: &'a mut Value, name: &str) -> &'a mut serde_json::Map<String, Value> {
    schema(doc, name)["properties"].as_object_mut().unwrap()
}

const KEY_PATH: &str = "/v1/organizations/{organizationId}/keys/{keyId}";

fn path_item<'a>(doc: &'a mut Value, path: &str) -> &'a mut serde_json::Map<String, Value> {
    doc["paths"][path].as_object_mut().unwrap()
}

#[test]
fn the_pinned_spec_passes() {
    let report = run(pristine().clone());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    // The totals are the spec's; the Rust operation table covers them all.
    let spec = model_from_value(pristine().clone(), "pinned spec").unwrap();
    let (operations, schemas) = (spec.operations.len(), spec.schemas.len());
    assert!(operations > 0 && schemas > 0);
    assert_eq!(report.operations_total, operations);
    assert_eq!(report.schemas_total, schemas);
    assert_eq!(rust().operations.len(), operations);
    assert_eq!(
        report.summary(),
        format!("operations {operations}/{operations}, schemas {schemas}/{schemas}, findings 0")
    );
    assert!(
        report
            .secrets
            .contains(&"ApiKeyPostResponse.keySecret".to_owned())
    );
}

#[test]
fn a_removed_property_is_found() {
    let findings = mutated(|doc| {
        properties(doc, "ApiKey").remove("name");
    });
    assert_finds(&findings, FindingKind::FieldOnlyInRust, "ApiKey.name");
}

#[test]
fn an_added_property_is_found() {
    let findings = mutated(|doc| {
        properties(doc, "ApiKey").insert("colour".into(), json!({"type": "string"}));
    });
    assert_finds(&findings, FindingKind::FieldMissingInRust, "ApiKey.colour");
}

#[test]
fn a_renamed_property_is_found() {
    let findings = mutated(|doc| {
        let props = properties(doc, "ApiKey");
        let value = props.remove("keySuffix").unwrap();
        props.insert("keyTail".into(), value);
    });
    assert_finds(&findings, FindingKind::FieldMissingInRust, "ApiKey.keyTail");
    assert_finds(&findings, FindingKind::FieldOnlyInRust, "ApiKey.keySuffix");
}

#[test]
fn a_changed_type_is_found() {
    let findings = mutated(|doc| {
        *property(doc, "ApiKey", "name") = json!({"type": "integer"});
    });
    assert_finds(&findings, FindingKind::Type, "ApiKey.name");
}

#[test]
fn a_changed_format_is_found() {
    let findings = mutated(|doc| {
        property(doc, "ApiKey", "createdAt")["format"] = json!("date");
    });
    assert_finds(&findings, FindingKind::Format, "ApiKey.createdAt");
}

#[test]
fn a_newly_required_property_is_found() {
    let findings = mutated(|doc| {
        schema(doc, "ApiKey")["required"] = json!(["name"]);
    });
    assert_finds(&findings, FindingKind::Required, "ApiKey.name");
}

#[test]
fn a_newly_nullable_property_is_found() {
    let findings = mutated(|doc| {
        property(doc, "ApiKey", "name")["type"] = json!(["string", "null"]);
    });
    assert_finds(&findings, FindingKind::Nullable, "ApiKey.name");
}

#[test]
fn a_property_no_longer_nullable_is_found() {
    let findings = mutated(|doc| {
        property(doc, "ApiKey", "expireAt")["type"] = json!("string");
    });
    assert_finds(&findings, FindingKind::Nullable, "ApiKey.expireAt");
}

#[test]
fn an_added_enum_value_is_found() {
    let findings = mutated(|doc| {
        let values = property(doc, "ApiKey", "state")["enum"]
            .as_array_mut()
            .unwrap();
        values.push(json!("suspended"));
    });
    assert_finds(
        &findings,
        FindingKind::EnumValuesMissingInRust,
        "ApiKey.state",
    );
}

#[test]
fn a_removed_enum_value_is_found() {
    let findings = mutated(|doc| {
        let values = property(doc, "ApiKey", "state")["enum"]
            .as_array_mut()
            .unwrap();
        values.retain(|v| v != "disabled");
    });
    assert_finds(&findings, FindingKind::EnumValuesOnlyInRust, "ApiKey.state");
}

#[test]
fn an_enum_change_inside_array_items_is_found() {
    let findings = mutated(|doc| {
        let values = property(doc, "ApiKey", "roles")["items"]["enum"]
            .as_array_mut()
            .unwrap();
        values.push(json!("owner"));
    });
    assert_finds(
        &findings,
        FindingKind::EnumValuesMissingInRust,
        "ApiKey.roles[]",
    );
}

#[test]
fn a_dropped_deprecation_is_found() {
    let findings = mutated(|doc| {
        property(doc, "ApiKey", "roles")
            .as_object_mut()
            .unwrap()
            .remove("deprecated");
    });
    assert_finds(&findings, FindingKind::Deprecated, "ApiKey.roles");
}

#[test]
fn a_changed_path_is_found() {
    let findings = mutated(|doc| {
        let get = path_item(doc, KEY_PATH).remove("get").unwrap();
        doc["paths"]["/v1/organizations/{organizationId}/apikeys/{keyId}"] = json!({"get": get});
    });
    assert_finds(&findings, FindingKind::Path, "openapiKeyGet");
}

#[test]
fn a_changed_method_is_found() {
    let findings = mutated(|doc| {
        let item = path_item(doc, KEY_PATH);
        let delete = item.remove("delete").unwrap();
        item.insert("post".into(), delete);
    });
    assert_finds(&findings, FindingKind::Method, "openapiKeyDelete");
}

#[test]
fn an_added_operation_is_found() {
    let findings = mutated(|doc| {
        let mut op = doc["paths"][KEY_PATH]["get"].clone();
        op["operationId"] = json!("openapiKeyRotate");
        doc["paths"]["/v1/organizations/{organizationId}/keys/{keyId}/rotate"] =
            json!({"post": op});
    });
    assert_finds(
        &findings,
        FindingKind::UncoveredOperation,
        "openapiKeyRotate",
    );
}

#[test]
fn a_removed_operation_is_found() {
    let findings = mutated(|doc| {
        path_item(doc, KEY_PATH).remove("delete");
    });
    assert_finds(&findings, FindingKind::UnknownOperation, "openapiKeyDelete");
}

#[test]
fn a_beta_badge_is_found() {
    let findings = mutated(|doc| {
        doc["paths"][KEY_PATH]["get"]["x-badges"] = json!([{"name": "Beta"}]);
    });
    assert_finds(&findings, FindingKind::Beta, "openapiKeyGet");
}

#[test]
fn a_removed_query_parameter_is_found() {
    let findings = mutated(|doc| {
        let params =
            doc["paths"]["/v1/organizations/{organizationId}/activities"]["get"]["parameters"]
                .as_array_mut()
                .unwrap();
        params.retain(|p| p["name"] != "from_date");
    });
    assert_finds(
        &findings,
        FindingKind::QueryParameter,
        "activityGetList query from_date",
    );
}

#[test]
fn a_changed_path_parameter_format_is_found() {
    let findings = mutated(|doc| {
        let params = doc["paths"][KEY_PATH]["get"]["parameters"]
            .as_array_mut()
            .unwrap();
        for p in params.iter_mut().filter(|p| p["name"] == "keyId") {
            p["schema"] = json!({"type": "string"});
        }
    });
    assert_finds(&findings, FindingKind::Format, "openapiKeyGet path keyId");
}

#[test]
fn a_changed_request_body_is_found() {
    let findings = mutated(|doc| {
        doc["paths"][KEY_PATH]["patch"]["requestBody"]["content"]["application/json"]["schema"] =
            json!({"$ref": "#/components/schemas/ApiKeyPostRequest"});
    });
    assert_finds(&findings, FindingKind::RequestBody, "openapiKeyUpdate");
}

#[test]
fn a_changed_result_is_found() {
    let findings = mutated(|doc| {
        doc["paths"][KEY_PATH]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["properties"]["result"] =
            json!({"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}});
    });
    assert_finds(&findings, FindingKind::Response, "openapiKeyGet");
}

#[test]
fn an_added_schema_is_found() {
    let findings = mutated(|doc| {
        *schema(doc, "Widget") = json!({"type": "object"});
    });
    assert_finds(&findings, FindingKind::UncoveredSchema, "Widget");
}

#[test]
fn an_exemption_for_a_vanished_schema_is_found() {
    let spec = model_from_value(pristine().clone(), "spec").unwrap();
    let mut exempt = exemptions();
    exempt.schemas.insert("NoLongerThere".into());
    let report = check(&spec, rust(), &exempt);
    assert_finds(
        &report.findings,
        FindingKind::StaleExemption,
        "NoLongerThere",
    );
}

#[test]
fn coverage_that_drops_is_a_finding() {
    let findings = mutated(|doc| {
        doc["paths"]["/v1/organizations/{organizationId}/keys"]["get"]["operationId"] =
            json!("openapiKeyGetListRenamed");
    });
    assert_finds(
        &findings,
        FindingKind::UncoveredOperation,
        "openapiKeyGetListRenamed",
    );
    assert_finds(
        &findings,
        FindingKind::UnknownOperation,
        "openapiKeyGetList",
    );
}

#[test]
fn exemptions_that_name_covered_items_and_unused_deviations_are_found() {
    let spec = model_from_value(pristine().clone(), "spec").unwrap();
    let mut exempt = exemptions();
    exempt.operations.insert("openapiKeyGet".into());
    exempt.schemas.insert("ApiKey".into());
    exempt.deviations.push(super::exemptions::Deviation {
        item: "ApiKey.name".into(),
        kind: None,
        reason: "test".into(),
    });
    let findings = check(&spec, rust(), &exempt).findings;
    assert_finds(&findings, FindingKind::CoveredButExempt, "openapiKeyGet");
    assert_finds(&findings, FindingKind::CoveredButExempt, "ApiKey");
    assert_finds(&findings, FindingKind::UnusedDeviation, "ApiKey.name");
}

#[test]
fn a_deviation_absorbs_its_finding() {
    let mut doc = pristine().clone();
    property(&mut doc, "ApiKey", "createdAt")["format"] = json!("date");
    let spec = model_from_value(doc, "spec").unwrap();
    let mut exempt = exemptions();
    exempt.deviations.push(super::exemptions::Deviation {
        item: "ApiKey.createdAt".into(),
        kind: Some("format".into()),
        reason: "test".into(),
    });
    let report = check(&spec, rust(), &exempt);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn the_text_report_groups_and_ends_with_the_summary() {
    let mut doc = pristine().clone();
    *property(&mut doc, "ApiKey", "name") = json!({"type": "integer"});
    properties(&mut doc, "Activity").remove("id");
    let report = run(doc);
    let text = super::to_text(&report, "header");
    assert!(
        text.contains("\nType differs (1):\n  ApiKey.name: expected integer, found string\n"),
        "{text}"
    );
    assert!(
        text.contains("\nRust fields the spec does not have (1):\n  Activity.id: "),
        "{text}"
    );
    let last = text.trim_end().lines().last().unwrap();
    assert_eq!(last, report.summary());
    assert!(last.ends_with(", findings 2"), "{last}");
    let json = super::to_json(&report, "spec");
    assert_eq!(json["findings"].as_array().unwrap().len(), 2);
    assert_eq!(json["findings"][0]["kind"], "field-only-in-rust");
}

#[test]
fn a_property_named_like_a_secret_and_not_typed_one_is_a_finding() {
    // A new property whose name says token, and one that says key material.
    let findings = mutated(|doc| {
        properties(doc, "ApiKey").insert("refreshToken".into(), json!({"type": "string"}));
        properties(doc, "Service").insert("signingKey".into(), json!({"type": "string"}));
        properties(doc, "Service").insert("signingKeyId".into(), json!({"type": "string"}));
        properties(doc, "Service").insert("tokenCount".into(), json!({"type": "integer"}));
    });
    assert_finds(&findings, FindingKind::UntypedSecret, "ApiKey.refreshToken");
    assert_finds(&findings, FindingKind::UntypedSecret, "Service.signingKey");
    for item in ["Service.signingKeyId", "Service.tokenCount"] {
        assert!(
            !findings
                .iter()
                .any(|f| f.kind == FindingKind::UntypedSecret && f.item == item),
            "{item}: {findings:#?}"
        );
    }
}

#[test]
fn a_secret_the_types_do_not_hold_is_a_finding_and_a_review_excuses_it() {
    let spec = model_from_value(pristine().clone(), "pinned spec").unwrap();
    let mut inventory = rust().clone();
    inventory
        .secrets
        .retain(|s| s != "ServicePasswordPatchRequest.newDoubleSha1Hash");
    let mut reviewed = exemptions();
    let report = check(&spec, &inventory, &reviewed);
    assert_finds(
        &report.findings,
        FindingKind::UntypedSecret,
        "ServicePasswordPatchRequest.newDoubleSha1Hash",
    );
    reviewed
        .reviewed_not_secret
        .insert("ServicePasswordPatchRequest.newDoubleSha1Hash".into());
    assert!(check(&spec, &inventory, &reviewed).findings.is_empty());
}
