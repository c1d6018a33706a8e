//! The comparison itself: spec model against Rust inventory, then the
//! exemptions.

use std::collections::{BTreeMap, BTreeSet};

use super::exemptions::{Deviation, Exemptions};
pub use super::finding::{Finding, FindingKind};
use super::rust::{RustInventory, RustOperation};
use crate::spec::compare::{Change, ChangeKind, Comparer, Mode};
use crate::spec::model::{Node, Object, OperationModel, Param, SpecModel, Success};
use crate::spec_diff::describe_success;

/// A deviation and the findings it absorbed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedDeviation {
    /// The entry.
    pub deviation: Deviation,
    /// What it matched.
    pub matched: Vec<Finding>,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// What is wrong, sorted by kind then item.
    pub findings: Vec<Finding>,
    /// Each deviation with what it matched.
    pub deviations: Vec<AppliedDeviation>,
    /// Spec operations with a Rust operation.
    pub operations_covered: usize,
    /// Spec operations.
    pub operations_total: usize,
    /// Spec component schemas with a Rust type.
    pub schemas_covered: usize,
    /// Spec component schemas.
    pub schemas_total: usize,
    /// Spec operations without a Rust operation (exempt or not).
    pub uncovered_operations: Vec<String>,
    /// Spec component schemas without a Rust type (exempt or not).
    pub uncovered_schemas: Vec<String>,
    /// Fields the Rust types hold as secrets (`SecretValue`).
    pub secrets: Vec<String>,
}

impl Report {
    /// `operations 10/142, schemas 14/346, findings 0`.
    pub fn summary(&self) -> String {
        format!(
            "operations {}/{}, schemas {}/{}, findings {}",
            self.operations_covered,
            self.operations_total,
            self.schemas_covered,
            self.schemas_total,
            self.findings.len()
        )
    }
}

/// Checks the Rust inventory against the spec, then applies the exemptions.
pub fn check(spec: &SpecModel, rust: &RustInventory, exemptions: &Exemptions) -> Report {
    let mut findings: BTreeSet<Finding> = BTreeSet::new();
    let mut comparer = Comparer::new(Mode::SpecToRust, &spec.schemas, &rust.schemas);

    // Operations.
    for (id, op) in &spec.operations {
        match rust.operations.get(id) {
            Some(rust_op) => check_operation(op, rust_op, rust, &mut comparer, &mut findings),
            None if exemptions.operations.contains(id) => {}
            None => {
                findings.insert(Finding::new(
                    FindingKind::UncoveredOperation,
                    id,
                    format!("a Rust operation for {} {}", op.method, op.path),
                    "none",
                ));
            }
        }
    }
    for (id, rust_op) in &rust.operations {
        if !spec.operations.contains_key(id) {
            findings.insert(Finding::new(
                FindingKind::UnknownOperation,
                id,
                "an operation with this id in the spec",
                format!("{} {}", rust_op.method, rust_op.path),
            ));
        }
    }
    for id in &rust.duplicate_ids {
        findings.insert(Finding::new(
            FindingKind::DuplicateOperation,
            id,
            "one declaration",
            "several",
        ));
    }

    // Named schemas.
    let mut unnamed_rust: Vec<&String> = Vec::new();
    for (name, rust_node) in &rust.schemas {
        match spec.schemas.get(name) {
            Some(spec_node) => comparer.compare(spec_node, rust_node, name),
            None => unnamed_rust.push(name),
        }
    }

    // Coverage.
    let covered_ops: BTreeSet<&String> = rust
        .operations
        .keys()
        .filter(|id| spec.operations.contains_key(*id))
        .collect();
    let mut covered_schemas: BTreeSet<&String> = rust
        .schemas
        .keys()
        .filter(|name| spec.schemas.contains_key(*name))
        .collect();
    covered_schemas.extend(
        comparer
            .old_inlined
            .iter()
            .filter(|name| spec.schemas.contains_key(*name)),
    );
    for name in unnamed_rust {
        if !comparer.new_inlined.contains(name) {
            findings.insert(Finding::new(
                FindingKind::UnknownSchema,
                name,
                "a component schema of this name",
                "a Rust type only",
            ));
        }
    }
    for name in spec.schemas.keys() {
        if !covered_schemas.contains(name) && !exemptions.schemas.contains(name) {
            findings.insert(Finding::new(
                FindingKind::UncoveredSchema,
                name,
                "a Rust type of this name",
                "none",
            ));
        }
    }
    for (listed, known, covered, what) in [
        (
            &exemptions.operations,
            spec.operations.keys().collect::<BTreeSet<_>>(),
            &covered_ops,
            "operation",
        ),
        (
            &exemptions.schemas,
            spec.schemas.keys().collect(),
            &covered_schemas,
            "schema",
        ),
    ] {
        for name in listed {
            if !known.contains(name) {
                findings.insert(Finding::new(
                    FindingKind::StaleExemption,
                    name,
                    format!("a spec {what} of this name"),
                    "none (remove it from [not_yet_covered])",
                ));
            } else if covered.contains(name) {
                findings.insert(Finding::new(
                    FindingKind::CoveredButExempt,
                    name,
                    "not listed in [not_yet_covered]",
                    format!("listed, but the SDK covers this {what}"),
                ));
            }
        }
    }

    findings.extend(comparer.changes.iter().map(finding_of_change));
    let secrets: BTreeSet<String> = rust.secrets.iter().cloned().collect();
    findings.extend(super::secret_names::untyped_secrets(
        spec,
        &secrets,
        &exemptions.reviewed_not_secret,
    ));

    // Deviations.
    let mut applied: Vec<AppliedDeviation> = exemptions
        .deviations
        .iter()
        .map(|d| AppliedDeviation {
            deviation: d.clone(),
            matched: Vec::new(),
        })
        .collect();
    let mut kept: Vec<Finding> = Vec::new();
    for finding in findings {
        match applied.iter_mut().find(|a| a.deviation.matches(&finding)) {
            Some(a) => a.matched.push(finding),
            None => kept.push(finding),
        }
    }
    for a in &applied {
        if a.matched.is_empty() {
            kept.push(Finding::new(
                FindingKind::UnusedDeviation,
                &a.deviation.item,
                format!(
                    "a finding{} to excuse",
                    a.deviation
                        .kind
                        .as_ref()
                        .map_or(String::new(), |k| format!(" of kind {k}"))
                ),
                "none (remove the deviation)",
            ));
        }
    }
    kept.sort();

    Report {
        findings: kept,
        deviations: applied,
        operations_covered: covered_ops.len(),
        operations_total: spec.operations.len(),
        schemas_covered: covered_schemas.len(),
        schemas_total: spec.schemas.len(),
        uncovered_operations: spec
            .operations
            .keys()
            .filter(|id| !covered_ops.contains(id))
            .cloned()
            .collect(),
        uncovered_schemas: spec
            .schemas
            .keys()
            .filter(|name| !covered_schemas.contains(name))
            .cloned()
            .collect(),
        secrets: rust.secrets.clone(),
    }
}

fn finding_of_change(change: &Change) -> Finding {
    let (kind, expected, found) = match change.kind {
        ChangeKind::PropertyRemoved => (
            FindingKind::FieldMissingInRust,
            change.old.clone(),
            "no such field".to_owned(),
        ),
        ChangeKind::PropertyAdded => (
            FindingKind::FieldOnlyInRust,
            "no such property".to_owned(),
            change.new.clone(),
        ),
        ChangeKind::EnumValuesRemoved => (
            FindingKind::EnumValuesMissingInRust,
            change.old.clone(),
            "not in the Rust enum".to_owned(),
        ),
        ChangeKind::EnumValuesAdded => (
            FindingKind::EnumValuesOnlyInRust,
            "not in the spec enum".to_owned(),
            change.new.clone(),
        ),
        other => (
            match other {
                ChangeKind::Type => FindingKind::Type,
                ChangeKind::Format => FindingKind::Format,
                ChangeKind::EnumConstraint => FindingKind::EnumConstraint,
                ChangeKind::BecameRequired | ChangeKind::BecameOptional => FindingKind::Required,
                ChangeKind::Nullable => FindingKind::Nullable,
                ChangeKind::Deprecated => FindingKind::Deprecated,
                ChangeKind::Reference => FindingKind::Reference,
                _ => FindingKind::AdditionalProperties,
            },
            change.old.clone(),
            change.new.clone(),
        ),
    };
    Finding {
        kind,
        item: change.at.clone(),
        expected,
        found,
    }
}

fn check_operation(
    op: &OperationModel,
    rust_op: &RustOperation,
    rust: &RustInventory,
    comparer: &mut Comparer<'_>,
    findings: &mut BTreeSet<Finding>,
) {
    let id = op.id.as_str();
    let mut add = |kind, expected: String, found: String| {
        findings.insert(Finding::new(kind, id, expected, found));
    };
    if op.method != rust_op.method {
        add(
            FindingKind::Method,
            op.method.clone(),
            rust_op.method.clone(),
        );
    }
    if op.path != rust_op.path {
        add(FindingKind::Path, op.path.clone(), rust_op.path.clone());
    }
    if op.beta != rust_op.beta {
        let say = |b: bool| if b { "beta" } else { "not beta" }.to_owned();
        add(FindingKind::Beta, say(op.beta), say(rust_op.beta));
    }
    check_params(
        id,
        "path",
        FindingKind::PathParameter,
        &op.path_params,
        &rust_op.path_params,
        comparer,
        findings,
    );
    check_params(
        id,
        "query",
        FindingKind::QueryParameter,
        &op.query_params,
        &rust_op.query,
        comparer,
        findings,
    );
    for name in op.other_params.keys() {
        findings.insert(Finding::new(
            FindingKind::UnsupportedParameter,
            &format!("{id} {name}"),
            "a parameter the operation can send",
            "operations have path and query parameters only",
        ));
    }

    // Request body.
    match (&op.body, &rust_op.body) {
        (None, None) => {}
        (Some(body), None) => {
            findings.insert(Finding::new(
                FindingKind::RequestBody,
                id,
                format!("{} body {}", body.content_type, body.schema.label()),
                "no body",
            ));
        }
        (None, Some(node)) => {
            findings.insert(Finding::new(
                FindingKind::RequestBody,
                id,
                "no body",
                node.label(),
            ));
        }
        (Some(body), Some(node)) if !body.content_type.starts_with("application/json") => {
            findings.insert(Finding::new(
                FindingKind::RequestBody,
                id,
                format!("{} body", body.content_type),
                format!("JSON body {}", node.label()),
            ));
        }
        (Some(body), Some(node)) => {
            compare_top(
                &body.schema,
                node,
                &format!("{id} body"),
                FindingKind::RequestBody,
                comparer,
                findings,
            );
        }
    }

    // Success response.
    let rust_result =
        |n: Option<&Node>| n.map_or("no result".to_owned(), |n| format!("result {}", n.label()));
    match (&op.success, rust_op.response.as_str()) {
        (
            Success::Json {
                result, envelope, ..
            },
            "Json" | "Bare",
        ) if envelope.properties.is_empty() == (rust_op.response == "Bare") => {
            match (result, &rust_op.output) {
                (None, None) => {}
                (Some(spec), Some(node)) => {
                    compare_top(
                        spec,
                        node,
                        &format!("{id} result"),
                        FindingKind::Response,
                        comparer,
                        findings,
                    );
                }
                (spec, node) => {
                    findings.insert(Finding::new(
                        FindingKind::Response,
                        id,
                        rust_result(spec.as_ref()),
                        rust_result(node.as_ref()),
                    ));
                }
            }
            compare_envelope(envelope, &rust.envelope, comparer);
        }
        (
            Success::Other {
                content_type: Some(_),
                ..
            },
            "Text",
        ) if rust_op
            .output
            .as_ref()
            .is_some_and(|n| n.label() == "string") => {}
        (other, response) => {
            findings.insert(Finding::new(
                FindingKind::Response,
                id,
                describe_success(other),
                match response {
                    "Text" => "text".to_owned(),
                    "Bare" => format!(
                        "JSON without the envelope, {}",
                        rust_result(rust_op.output.as_ref())
                    ),
                    _ => format!(
                        "a JSON envelope with {}",
                        rust_result(rust_op.output.as_ref())
                    ),
                },
            ));
        }
    }
    for error in op.errors.values() {
        compare_shared(error, &rust.error_body, "ErrorBody", comparer);
    }
}

/// Compares an operation's envelope with the one Rust `Envelope` every
/// operation shares: each field the spec lists must be there with its type;
/// the Rust side may have more (the paging fields, which only lists carry).
fn compare_envelope(spec: &Object, rust: &Object, comparer: &mut Comparer<'_>) {
    compare_shared(spec, rust, "Envelope", comparer);
}

/// Compares one operation's object with the Rust type every operation
/// shares (`Envelope`, `ErrorBody`): only the spec's fields, none required,
/// other properties allowed (unknown fields are ignored when reading).
fn compare_shared(spec: &Object, rust: &Object, at: &str, comparer: &mut Comparer<'_>) {
    let mut spec = spec.clone();
    spec.required.clear();
    spec.additional = None;
    let mut rust = rust.clone();
    rust.required.clear();
    rust.additional = None;
    rust.properties
        .retain(|name, _| spec.properties.contains_key(name));
    compare_object_fields(&spec, &rust, at, comparer);
}

/// Compares two objects' fields at `at` (envelopes: not named schemas).
fn compare_object_fields(spec: &Object, rust: &Object, at: &str, comparer: &mut Comparer<'_>) {
    let wrap = |o: &Object| Node::new(crate::spec::model::Kind::Object(o.clone()));
    comparer.compare(&wrap(spec), &wrap(rust), at);
}

/// A body or result: `Foo` / `array of Foo` compare by name, anything else
/// by structure.
fn compare_top(
    spec: &Node,
    rust: &Node,
    at: &str,
    kind: FindingKind,
    comparer: &mut Comparer<'_>,
    findings: &mut BTreeSet<Finding>,
) {
    match (spec.named_shape(), rust.named_shape()) {
        (Some(a), Some(b)) => {
            if a != b {
                let id = at.split(' ').next().unwrap_or(at);
                findings.insert(Finding::new(kind, id, a, b));
            }
        }
        _ => comparer.compare(spec, rust, at),
    }
}

fn check_params(
    id: &str,
    location: &str,
    kind: FindingKind,
    spec: &BTreeMap<String, Param>,
    rust: &Object,
    comparer: &mut Comparer<'_>,
    findings: &mut BTreeSet<Finding>,
) {
    let names: BTreeSet<&String> = spec.keys().chain(rust.properties.keys()).collect();
    for name in names {
        let at = format!("{id} {location} {name}");
        match (spec.get(name), rust.properties.get(name)) {
            (Some(param), Some(field)) => {
                comparer.compare(&param.schema, field, &at);
                let rust_required = rust.required.contains(name);
                if param.required != rust_required {
                    let say = |r: bool| if r { "required" } else { "optional" }.to_owned();
                    findings.insert(Finding::new(
                        FindingKind::Required,
                        &at,
                        say(param.required),
                        say(rust_required),
                    ));
                }
            }
            (Some(param), None) => {
                findings.insert(Finding::new(
                    kind,
                    &at,
                    format!("{location} parameter {name} ({})", param.schema.label()),
                    "no such field",
                ));
            }
            (None, Some(field)) => {
                findings.insert(Finding::new(
                    kind,
                    &at,
                    "no such parameter",
                    format!("field {name} ({})", field.label()),
                ));
            }
            (None, None) => {}
        }
    }
}
