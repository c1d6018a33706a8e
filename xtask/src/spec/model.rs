//! A small model of schemas and operations that both sides of a comparison
//! are reduced to: a loaded spec (through `openapiv3`) and the Rust types
//! (through their JSON Schema).
//!
//! It keeps what the checks compare (type, format, enum values, properties,
//! requiredness, nullability, deprecation, references) and drops the rest
//! (descriptions, examples, numeric bounds, patterns).

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    AdditionalProperties, AnySchema, OpenAPI, Operation, Parameter, ParameterSchemaOrContent,
    ReferenceOr, RequestBody, Response, Schema, SchemaKind, StatusCode, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;

/// One use of a schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Whether `null` is a value (`nullable`, a `null` type or branch).
    pub nullable: bool,
    /// Marked `deprecated`.
    pub deprecated: bool,
}

/// The shape of a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// No constraint.
    Any,
    /// Only `null`.
    Null,
    /// A named schema (`#/components/schemas/X` or a Rust type `X`).
    Ref(String),
    /// String, number, integer or boolean.
    Scalar(Scalar),
    /// An array of items.
    Array(Box<Node>),
    /// An object.
    Object(Object),
    /// `oneOf`, `anyOf` or `allOf`.
    Union(Combinator, Vec<Node>),
    /// `not`.
    Not(Box<Node>),
}

/// A scalar type.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The JSON type.
    pub ty: ScalarType,
    /// `format`, if any.
    pub format: Option<String>,
    /// The `enum` values (strings as they are, others as JSON), without `null`.
    pub values: Option<BTreeSet<String>>,
}

/// The scalar JSON types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    /// `string`.
    String,
    /// `integer`.
    Integer,
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
}

impl ScalarType {
    /// The JSON Schema name.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::String => "string",
            ScalarType::Integer => "integer",
            ScalarType::Number => "number",
            ScalarType::Boolean => "boolean",
        }
    }

    fn parse(name: &str) -> Option<ScalarType> {
        Some(match name {
            "string" => ScalarType::String,
            "integer" => ScalarType::Integer,
            "number" => ScalarType::Number,
            "boolean" => ScalarType::Boolean,
            _ => return None,
        })
    }
}

/// An object's properties.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    /// Properties by wire name.
    pub properties: BTreeMap<String, Node>,
    /// Wire names listed in `required`.
    pub required: BTreeSet<String>,
    /// The schema of other properties (a map's values), if they are allowed
    /// and described.
    pub additional: Option<Box<Node>>,
}

/// How the branches of a union combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combinator {
    /// `oneOf`.
    OneOf,
    /// `anyOf`.
    AnyOf,
    /// `allOf`.
    AllOf,
}

impl Combinator {
    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Combinator::OneOf => "oneOf",
            Combinator::AnyOf => "anyOf",
            Combinator::AllOf => "allOf",
        }
    }
}

impl Node {
    /// A node of `kind`, neither nullable nor deprecated.
    pub fn new(kind: Kind) -> Node {
        Node {
            kind,
            nullable: false,
            deprecated: false,
        }
    }

    /// A short description of the type: `string (uuid)`, `array of ApiKey`,
    /// `enum string`, ...
    pub fn label(&self) -> String {
        match &self.kind {
            Kind::Any => "any".into(),
            Kind::Null => "null".into(),
            Kind::Ref(name) => name.clone(),
            Kind::Scalar(s) => {
                let mut out = String::new();
                if s.values.is_some() {
                    out.push_str("enum ");
                }
                out.push_str(s.ty.name());
                if let Some(format) = &s.format {
                    out.push_str(&format!(" ({format})"));
                }
                out
            }
            Kind::Array(items) => format!("array of {}", items.label()),
            Kind::Object(o) if o.properties.is_empty() && o.additional.is_some() => {
                format!(
                    "map of {}",
                    o.additional.as_ref().map_or("any".into(), |a| a.label())
                )
            }
            Kind::Object(_) => "object".into(),
            Kind::Union(c, branches) => format!(
                "{} [{}]",
                c.name(),
                branches
                    .iter()
                    .map(Node::label)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::Not(inner) => format!("not {}", inner.label()),
        }
    }

    /// `Foo`, `array of Foo`, or `None` for anything else.
    pub fn named_shape(&self) -> Option<String> {
        match &self.kind {
            Kind::Ref(name) => Some(name.clone()),
            Kind::Array(items) => match &items.kind {
                Kind::Ref(name) => Some(format!("array of {name}")),
                _ => None,
            },
            _ => None,
        }
    }
}

/// The text of an enum value: strings as they are, anything else as JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The component name a `$ref` points to (`#/components/schemas/X` -> `X`).
pub fn ref_name(reference: &str) -> String {
    reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or(reference)
        .to_owned()
}

/// Reduces a spec schema or reference.
pub fn from_ref_or(schema: &ReferenceOr<Schema>) -> Node {
    match schema {
        ReferenceOr::Reference { reference } => Node::new(Kind::Ref(ref_name(reference))),
        ReferenceOr::Item(schema) => from_schema(schema),
    }
}

fn from_boxed(schema: &ReferenceOr<Box<Schema>>) -> Node {
    match schema {
        ReferenceOr::Reference { reference } => Node::new(Kind::Ref(ref_name(reference))),
        ReferenceOr::Item(schema) => from_schema(schema),
    }
}

/// Reduces a spec schema.
pub fn from_schema(schema: &Schema) -> Node {
    let data = &schema.schema_data;
    let kind = match &schema.schema_kind {
        SchemaKind::Type(Type::String(t)) => Kind::Scalar(Scalar {
            ty: ScalarType::String,
            format: match &t.format {
                VariantOrUnknownOrEmpty::Item(f) => Some(string_format(f).to_owned()),
                VariantOrUnknownOrEmpty::Unknown(f) => Some(f.clone()),
                VariantOrUnknownOrEmpty::Empty => None,
            },
            values: values(
                t.enumeration.iter().flatten().cloned(),
                !t.enumeration.is_empty(),
            ),
        }),
        SchemaKind::Type(Type::Number(t)) => Kind::Scalar(Scalar {
            ty: ScalarType::Number,
            format: variant_format(&t.format),
            values: values(
                t.enumeration.iter().flatten().map(|n| {
                    serde_json::Number::from_f64(*n).map_or(n.to_string(), |n| n.to_string())
                }),
                !t.enumeration.is_empty(),
            ),
        }),
        SchemaKind::Type(Type::Integer(t)) => Kind::Scalar(Scalar {
            ty: ScalarType::Integer,
            format: variant_format(&t.format),
            values: values(
                t.enumeration.iter().flatten().map(ToString::to_string),
                !t.enumeration.is_empty(),
            ),
        }),
        SchemaKind::Type(Type::Boolean(t)) => Kind::Scalar(Scalar {
            ty: ScalarType::Boolean,
            format: None,
            values: values(
                t.enumeration.iter().flatten().map(ToString::to_string),
                !t.enumeration.is_empty(),
            ),
        }),
        SchemaKind::Type(Type::Object(o)) => Kind::Object(object(
            o.properties.iter(),
            &o.required,
            o.additional_properties.as_ref(),
        )),
        SchemaKind::Type(Type::Array(a)) => Kind::Array(Box::new(
            a.items.as_ref().map_or(Node::new(Kind::Any), from_boxed),
        )),
        SchemaKind::OneOf { one_of } => union(Combinator::OneOf, one_of),
        SchemaKind::AnyOf { any_of } => union(Combinator::AnyOf, any_of),
        SchemaKind::AllOf { all_of } => union(Combinator::AllOf, all_of),
        SchemaKind::Not { not } => Kind::Not(Box::new(from_ref_or(not))),
        SchemaKind::Any(any) => from_any(any),
    };
    collapse(Node {
        kind,
        nullable: data.nullable,
        deprecated: data.deprecated,
    })
}

/// A union of one branch is that branch.
fn collapse(node: Node) -> Node {
    match node.kind {
        Kind::Union(_, mut branches) if branches.len() == 1 => {
            let mut only = branches.remove(0);
            only.nullable |= node.nullable;
            only.deprecated |= node.deprecated;
            only
        }
        kind => Node { kind, ..node },
    }
}

fn string_format(format: &StringFormat) -> &'static str {
    match format {
        StringFormat::Date => "date",
        StringFormat::DateTime => "date-time",
        StringFormat::Password => "password",
        StringFormat::Byte => "byte",
        StringFormat::Binary => "binary",
    }
}

fn variant_format<T: serde::Serialize>(format: &VariantOrUnknownOrEmpty<T>) -> Option<String> {
    match format {
        VariantOrUnknownOrEmpty::Item(f) => serde_json::to_value(f)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned)),
        VariantOrUnknownOrEmpty::Unknown(f) => Some(f.clone()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

fn values(items: impl Iterator<Item = String>, present: bool) -> Option<BTreeSet<String>> {
    present.then(|| items.collect())
}

fn object<'a>(
    properties: impl Iterator<Item = (&'a String, &'a ReferenceOr<Box<Schema>>)>,
    required: &[String],
    additional: Option<&AdditionalProperties>,
) -> Object {
    Object {
        properties: properties
            .map(|(name, schema)| (name.clone(), from_boxed(schema)))
            .collect(),
        required: required.iter().cloned().collect(),
        additional: match additional {
            None | Some(AdditionalProperties::Any(false)) => None,
            Some(AdditionalProperties::Any(true)) => Some(Box::new(Node::new(Kind::Any))),
            Some(AdditionalProperties::Schema(schema)) => Some(Box::new(from_ref_or(schema))),
        },
    }
}

fn union(combinator: Combinator, branches: &[ReferenceOr<Schema>]) -> Kind {
    Kind::Union(combinator, branches.iter().map(from_ref_or).collect())
}

/// `openapiv3` keeps what fits none of its typed shapes as [`AnySchema`].
fn from_any(any: &AnySchema) -> Kind {
    for (combinator, branches) in [
        (Combinator::OneOf, &any.one_of),
        (Combinator::AnyOf, &any.any_of),
        (Combinator::AllOf, &any.all_of),
    ] {
        if !branches.is_empty() {
            return union(combinator, branches);
        }
    }
    let enumerated = || {
        values(
            any.enumeration
                .iter()
                .filter(|v| !v.is_null())
                .map(value_text),
            !any.enumeration.is_empty(),
        )
    };
    match any.typ.as_deref() {
        Some("object") => Kind::Object(object(
            any.properties.iter(),
            &any.required,
            any.additional_properties.as_ref(),
        )),
        Some("array") => Kind::Array(Box::new(
            any.items.as_ref().map_or(Node::new(Kind::Any), from_boxed),
        )),
        Some(name) => match ScalarType::parse(name) {
            Some(ty) => Kind::Scalar(Scalar {
                ty,
                format: any.format.clone(),
                values: enumerated(),
            }),
            None => Kind::Any,
        },
        None if !any.enumeration.is_empty() && any.enumeration.iter().all(Value::is_null) => {
            Kind::Null
        }
        None if !any.properties.is_empty() => Kind::Object(object(
            any.properties.iter(),
            &any.required,
            any.additional_properties.as_ref(),
        )),
        None if any.items.is_some() => Kind::Array(Box::new(
            any.items.as_ref().map_or(Node::new(Kind::Any), from_boxed),
        )),
        None if !any.enumeration.is_empty()
            && any.enumeration.iter().all(|v| v.is_string() || v.is_null()) =>
        {
            Kind::Scalar(Scalar {
                ty: ScalarType::String,
                format: any.format.clone(),
                values: enumerated(),
            })
        }
        None => Kind::Any,
    }
}

/// A parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its schema.
    pub schema: Node,
    /// `required`.
    pub required: bool,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// The media type used (`application/json` when offered).
    pub content_type: String,
    /// Its schema (`Any` when none is given).
    pub schema: Node,
}

/// The first success (2xx) response.
#[derive(Debug, Clone, PartialEq)]
pub enum Success {
    /// JSON: the `result` of the envelope and the envelope's other fields.
    Json {
        /// The status code.
        status: String,
        /// The `result` property, if any.
        result: Option<Node>,
        /// `status`, `requestId` and whatever else surrounds `result`.
        envelope: Object,
    },
    /// Something else (`text/plain`, no content, ...).
    Other {
        /// The status code.
        status: String,
        /// The media type, if there is content.
        content_type: Option<String>,
    },
    /// No 2xx response at all.
    Missing,
}

/// One operation.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationModel {
    /// `operationId`.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Marked with an `x-badges` entry named `Beta`.
    pub beta: bool,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Path parameters by name.
    pub path_params: BTreeMap<String, Param>,
    /// Query parameters by name.
    pub query_params: BTreeMap<String, Param>,
    /// Header and cookie parameters, as `header NAME` / `cookie NAME`.
    pub other_params: BTreeMap<String, Param>,
    /// The request body.
    pub body: Option<Body>,
    /// The first success response.
    pub success: Success,
    /// JSON error responses (status -> object schema).
    pub errors: BTreeMap<String, Object>,
}

/// A spec reduced to operations and component schemas.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpecModel {
    /// Operations by `operationId`.
    pub operations: BTreeMap<String, OperationModel>,
    /// Component schemas by name.
    pub schemas: BTreeMap<String, Node>,
}

/// Why a loaded spec could not be reduced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// An operation without `operationId`.
    #[error("{method} {path}: the operation has no operationId")]
    MissingOperationId {
        /// Method.
        method: String,
        /// Path.
        path: String,
    },
    /// Two operations share an `operationId`.
    #[error("operationId {id} is used by both {first} and {second}")]
    DuplicateOperationId {
        /// The id.
        id: String,
        /// `METHOD path` of the first.
        first: String,
        /// `METHOD path` of the second.
        second: String,
    },
    /// A `$ref` to nothing.
    #[error("{at}: {reference} does not exist")]
    Unresolved {
        /// Where.
        at: String,
        /// The reference.
        reference: String,
    },
    /// Something this model does not read.
    #[error("{at}: {what} is not supported")]
    Unsupported {
        /// Where.
        at: String,
        /// What.
        what: String,
    },
}

impl SpecModel {
    /// Reduces a loaded spec.
    pub fn from_openapi(api: &OpenAPI) -> Result<SpecModel, ModelError> {
        let schemas = api
            .components
            .as_ref()
            .map(|c| {
                c.schemas
                    .iter()
                    .map(|(name, schema)| (name.clone(), from_ref_or(schema)))
                    .collect()
            })
            .unwrap_or_default();
        let mut model = SpecModel {
            operations: BTreeMap::new(),
            schemas,
        };
        for (path, item) in &api.paths.paths {
            let ReferenceOr::Item(item) = item else {
                return Err(ModelError::Unsupported {
                    at: path.clone(),
                    what: "a $ref path item".into(),
                });
            };
            for (method, operation) in item.iter() {
                let method = method.to_ascii_uppercase();
                let mut parameters = item.parameters.clone();
                parameters.extend(operation.parameters.iter().cloned());
                let op = model.operation(api, &method, path, operation, &parameters)?;
                if let Some(first) = model.operations.get(&op.id) {
                    return Err(ModelError::DuplicateOperationId {
                        id: op.id.clone(),
                        first: format!("{} {}", first.method, first.path),
                        second: format!("{method} {path}"),
                    });
                }
                model.operations.insert(op.id.clone(), op);
            }
        }
        Ok(model)
    }

    /// Follows a component reference (once per hop) to what it names.
    pub fn resolve<'a>(&'a self, node: &'a Node) -> &'a Node {
        let mut current = node;
        for _ in 0..8 {
            match &current.kind {
                Kind::Ref(name) => match self.schemas.get(name) {
                    Some(next) => current = next,
                    None => return current,
                },
                _ => return current,
            }
        }
        current
    }

    fn operation(
        &self,
        api: &OpenAPI,
        method: &str,
        path: &str,
        operation: &Operation,
        parameters: &[ReferenceOr<Parameter>],
    ) -> Result<OperationModel, ModelError> {
        let id = operation
            .operation_id
            .clone()
            .ok_or_else(|| ModelError::MissingOperationId {
                method: method.to_owned(),
                path: path.to_owned(),
            })?;
        let beta = operation
            .extensions
            .get("x-badges")
            .and_then(Value::as_array)
            .is_some_and(|badges| {
                badges
                    .iter()
                    .any(|b| b.get("name").and_then(Value::as_str) == Some("Beta"))
            });
        let mut model = OperationModel {
            id: id.clone(),
            method: method.to_owned(),
            path: path.to_owned(),
            beta,
            deprecated: operation.deprecated,
            path_params: BTreeMap::new(),
            query_params: BTreeMap::new(),
            other_params: BTreeMap::new(),
            body: None,
            success: Success::Missing,
            errors: BTreeMap::new(),
        };
        let components = api.components.as_ref();
        for parameter in parameters {
            let parameter = resolve_component(parameter, &id, |name| {
                components.and_then(|c| c.parameters.get(name))
            })?;
            let data = parameter.parameter_data_ref();
            let schema = match &data.format {
                ParameterSchemaOrContent::Schema(schema) => from_ref_or(schema),
                ParameterSchemaOrContent::Content(_) => {
                    return Err(ModelError::Unsupported {
                        at: format!("{id} parameter {}", data.name),
                        what: "a parameter described by `content`".into(),
                    });
                }
            };
            let param = Param {
                schema,
                required: data.required,
            };
            let name = data.name.clone();
            match parameter {
                Parameter::Path { .. } => model.path_params.insert(name, param),
                Parameter::Query { .. } => model.query_params.insert(name, param),
                Parameter::Header { .. } => {
                    model.other_params.insert(format!("header {name}"), param)
                }
                Parameter::Cookie { .. } => {
                    model.other_params.insert(format!("cookie {name}"), param)
                }
            };
        }
        if let Some(body) = &operation.request_body {
            let body: &RequestBody = resolve_component(body, &id, |name| {
                components.and_then(|c| c.request_bodies.get(name))
            })?;
            let chosen = body
                .content
                .get_key_value("application/json")
                .or_else(|| body.content.first());
            if let Some((content_type, media)) = chosen {
                model.body = Some(Body {
                    content_type: content_type.clone(),
                    schema: media
                        .schema
                        .as_ref()
                        .map_or(Node::new(Kind::Any), from_ref_or),
                });
            }
        }
        let mut responses: Vec<(u16, &ReferenceOr<Response>)> = operation
            .responses
            .responses
            .iter()
            .filter_map(|(code, r)| match code {
                StatusCode::Code(code) => Some((*code, r)),
                StatusCode::Range(_) => None,
            })
            .collect();
        responses.sort_by_key(|(code, _)| *code);
        for (code, response) in responses {
            let response: &Response = resolve_component(response, &id, |name| {
                components.and_then(|c| c.responses.get(name))
            })?;
            let json = response
                .content
                .iter()
                .find(|(media, _)| media.starts_with("application/json"))
                .and_then(|(_, m)| m.schema.as_ref())
                .map(from_ref_or);
            if (200..300).contains(&code) {
                if model.success != Success::Missing {
                    continue;
                }
                model.success = match json {
                    Some(node) => {
                        let resolved = self.resolve(&node).clone();
                        match resolved.kind {
                            Kind::Object(mut envelope)
                                if ["result", "status", "requestId"]
                                    .iter()
                                    .any(|k| envelope.properties.contains_key(*k)) =>
                            {
                                let result = envelope.properties.remove("result");
                                envelope.required.remove("result");
                                Success::Json {
                                    status: code.to_string(),
                                    result,
                                    envelope,
                                }
                            }
                            _ => Success::Json {
                                status: code.to_string(),
                                result: Some(node),
                                envelope: Object::default(),
                            },
                        }
                    }
                    None => Success::Other {
                        status: code.to_string(),
                        content_type: response.content.keys().next().cloned(),
                    },
                };
            } else if let Some(node) = json
                && let Kind::Object(object) = &self.resolve(&node).kind
            {
                model.errors.insert(code.to_string(), object.clone());
            }
        }
        Ok(model)
    }
}

fn resolve_component<'a, T>(
    item: &'a ReferenceOr<T>,
    at: &str,
    lookup: impl Fn(&str) -> Option<&'a ReferenceOr<T>>,
) -> Result<&'a T, ModelError> {
    let mut current = item;
    for _ in 0..8 {
        match current {
            ReferenceOr::Item(item) => return Ok(item),
            ReferenceOr::Reference { reference } => {
                let name = reference.rsplit('/').next().unwrap_or(reference);
                current = lookup(name).ok_or_else(|| ModelError::Unresolved {
                    at: at.to_owned(),
                    reference: reference.clone(),
                })?;
            }
        }
    }
    Err(ModelError::Unsupported {
        at: at.to_owned(),
        what: "a chain of more than 8 references".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(schema: Value) -> Node {
        let mut doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"X": schema}}});
        crate::spec::normalize::normalize(&mut doc).unwrap();
        let api: OpenAPI = serde_json::from_value(doc).unwrap();
        SpecModel::from_openapi(&api).unwrap().schemas["X"].clone()
    }

    #[test]
    fn schemas_reduce_to_labels() {
        let cases = [
            (json!({"type": "string", "format": "uuid"}), "string (uuid)"),
            (
                json!({"type": ["string", "null"], "enum": ["a", "b"]}),
                "enum string",
            ),
            (
                json!({"type": "array", "items": {"$ref": "#/components/schemas/Y"}}),
                "array of Y",
            ),
            (
                json!({"type": ["string", "integer"], "minimum": 1}),
                "anyOf [string, integer]",
            ),
            (json!({"type": "null"}), "null"),
            (json!({"type": "number", "enum": ["0.5"]}), "enum number"),
            (
                json!({"type": "object", "additionalProperties": {"type": "integer"}}),
                "map of integer",
            ),
            (
                json!({"oneOf": [{"$ref": "#/components/schemas/Y"}, {"type": "null"}]}),
                "Y",
            ),
            (json!({}), "any"),
        ];
        for (schema, label) in cases {
            assert_eq!(node(schema.clone()).label(), label, "{schema}");
        }
    }

    #[test]
    fn nullability_and_enums_survive() {
        let n = node(json!({"type": ["string", "null"], "enum": ["a", "b"], "deprecated": true}));
        assert!(n.nullable && n.deprecated);
        let Kind::Scalar(s) = n.kind else {
            panic!("not a scalar")
        };
        assert_eq!(
            s.values.unwrap().into_iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
        let n = node(json!({"anyOf": [{"$ref": "#/components/schemas/Y"}, {"type": "null"}]}));
        assert_eq!((n.kind, n.nullable), (Kind::Ref("Y".into()), true));
    }

    #[test]
    fn operations_are_reduced() {
        let doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/v1/things/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
                "get": {"operationId": "thingGet", "x-badges": [{"name": "Beta"}],
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {
                            "status": {"type": "number"}, "requestId": {"type": "string"},
                            "result": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}}}}},
                        "404": {"description": "no", "content": {"application/json": {"schema": {"type": "object", "properties": {
                            "error": {"type": "string"}}}}}}}},
                "delete": {"operationId": "thingDelete", "responses": {"200": {"description": "ok", "content": {"text/plain": {}}}}}}},
            "components": {"schemas": {"Thing": {"type": "object"}}}});
        let api: OpenAPI = serde_json::from_value(doc).unwrap();
        let model = SpecModel::from_openapi(&api).unwrap();
        let get = &model.operations["thingGet"];
        assert_eq!(
            (get.method.as_str(), get.path.as_str(), get.beta),
            ("GET", "/v1/things/{id}", true)
        );
        assert_eq!(get.path_params["id"].schema.label(), "string (uuid)");
        assert!(!get.query_params["q"].required);
        let Success::Json {
            result, envelope, ..
        } = &get.success
        else {
            panic!("not JSON")
        };
        assert_eq!(result.as_ref().unwrap().label(), "array of Thing");
        assert_eq!(
            envelope.properties.keys().collect::<Vec<_>>(),
            ["requestId", "status"]
        );
        assert_eq!(get.errors["404"].properties.len(), 1);
        let delete = &model.operations["thingDelete"];
        assert_eq!(
            delete.success,
            Success::Other {
                status: "200".into(),
                content_type: Some("text/plain".into())
            }
        );
    }

    #[test]
    fn duplicate_and_missing_ids_are_errors() {
        let doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
            "/a": {"get": {"operationId": "x", "responses": {}}},
            "/b": {"get": {"operationId": "x", "responses": {}}}}});
        let api: OpenAPI = serde_json::from_value(doc).unwrap();
        let error = SpecModel::from_openapi(&api).unwrap_err().to_string();
        assert_eq!(error, "operationId x is used by both GET /a and GET /b");
        let doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
            "/a": {"post": {"responses": {}}}}});
        let api: OpenAPI = serde_json::from_value(doc).unwrap();
        let error = SpecModel::from_openapi(&api).unwrap_err().to_string();
        assert_eq!(error, "POST /a: the operation has no operationId");
    }
}
