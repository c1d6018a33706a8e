//! From the spec to a plan of Rust items: every type with its fields, every
//! operation with its parameter types, every module. Rendering is separate
//! ([`super::render`]); this module decides, that one writes.
//!
//! The rules, in one place:
//! - Every component schema becomes one Rust item, named by
//!   `type_ident(name)` unless `[names]` says otherwise: an object is a
//!   struct, a string enum an enum that keeps unknown values, a
//!   `oneOf`/`anyOf` a union enum that picks its branch by what tells the
//!   branches apart, an `allOf` a struct with the merged properties, and a
//!   scalar or array an alias.
//! - Every property is optional when decoding (`Option`, or `Nullable`
//!   where `null` is a value and the type is sent in requests). Required
//!   properties of a type that is sent are taken by its constructor.
//! - Inline objects, enums and unions get names from their owner and
//!   property (`ServiceState`); inline string enums with the same values
//!   under the same property name share one type.
//! - A string is a `SecretValue` when the `[secrets]` rules say so.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, StatusCode};

use super::names::{pascal, snake, type_ident};
use super::overrides::Overrides;
use crate::spec::shape::{ObjectShape, Shape, ShapeKind};

/// A Rust type in a field, parameter, body or output position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A named type (generated, or from the hand-written vocabulary).
    Named(String),
    /// An inline string enum, named once every use is known.
    Enum(usize),
    /// `String`.
    String,
    /// `SecretValue`.
    Secret,
    /// `bool`.
    Bool,
    /// `i64`.
    Int,
    /// `f64`.
    Float,
    /// `Uuid`.
    Uuid,
    /// `Timestamp`.
    Timestamp,
    /// `Date`.
    Date,
    /// `serde_json::Value`.
    Json,
    /// `Vec<T>`.
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`.
    Map(Box<Ty>),
    /// `IntegerOrString`.
    IntegerOrString,
    /// `NumberOrString`.
    NumberOrString,
}

impl Ty {
    /// Whether the type or anything inside it is a secret.
    pub fn holds_secret(&self) -> bool {
        match self {
            Ty::Secret => true,
            Ty::Vec(inner) | Ty::Map(inner) => inner.holds_secret(),
            _ => false,
        }
    }
}

/// Where a type travels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Direction {
    /// In a request body (or parameters).
    pub request: bool,
    /// In a response body.
    pub response: bool,
}

/// One field of a struct.
#[derive(Debug, Clone)]
pub struct Field {
    /// The wire name.
    pub wire: String,
    /// The Rust name.
    pub rust: String,
    /// The type, without `Option`/`Nullable`.
    pub ty: Ty,
    /// Listed in `required`.
    pub required: bool,
    /// `null` is a value.
    pub nullable: bool,
    /// Declared as `Nullable<T>` (absent, `null`, value).
    pub tri_state: bool,
    /// Marked deprecated.
    pub deprecated: bool,
    /// A hand-written decoder.
    pub deserialize_with: Option<String>,
    /// Facts for the doc comment (format, bounds, default, ...).
    pub facts: Vec<String>,
}

/// A struct.
#[derive(Debug, Clone, Default)]
pub struct StructDef {
    /// Fields in spec order.
    pub fields: Vec<Field>,
    /// The type of properties not listed, when the spec describes them.
    pub additional: Option<Ty>,
    /// Wire names of the required fields, in the spec's order (the
    /// constructor takes them in this order).
    pub required: Vec<String>,
}

/// What one union branch looks like on the wire, for picking it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alt {
    /// `object`, `string`, `integer`, `number`, `boolean`, `array` or
    /// `any`.
    pub json: &'static str,
    /// Required properties.
    pub required: Vec<String>,
    /// Every property it knows.
    pub properties: Vec<String>,
    /// Properties whose string value tells the branches apart, with the
    /// values this branch allows.
    pub values: Vec<(String, Vec<String>)>,
}

/// One branch of a union.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The variant name.
    pub variant: String,
    /// Its type.
    pub ty: Ty,
    /// Its wire shapes (several when the branch is itself a union).
    pub alts: Vec<Alt>,
}

/// What an item is.
#[derive(Debug, Clone)]
pub enum Body {
    /// A struct.
    Struct(StructDef),
    /// A string enum: `(variant, wire value)` in spec order.
    Enum(Vec<(String, String)>),
    /// A union of branches.
    Union(Vec<Branch>),
    /// Another name for a type.
    Alias(Ty),
}

/// One generated type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// The Rust name.
    pub name: String,
    /// The component schema it comes from, if any.
    pub schema: Option<String>,
    /// Where it comes from, for the doc comment (`component `X``, `inline at `X.y``).
    pub origin: String,
    /// The module it lives in.
    pub module: String,
    /// Where it travels.
    pub direction: Direction,
    /// Marked deprecated.
    pub deprecated: bool,
    /// What it is.
    pub body: Body,
    /// Operations whose body or result is this type (for the doc comment).
    pub used_by: Vec<String>,
}

/// A path or query parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Wire name.
    pub wire: String,
    /// Rust name.
    pub rust: String,
    /// Type.
    pub ty: Ty,
    /// Required.
    pub required: bool,
    /// Facts for the doc comment.
    pub facts: Vec<String>,
}

/// A struct of parameters.
#[derive(Debug, Clone)]
pub struct ParamsDef {
    /// Rust name.
    pub name: String,
    /// Module.
    pub module: String,
    /// `path` or `query`.
    pub location: &'static str,
    /// The parameters.
    pub params: Vec<Param>,
    /// Operations that use it.
    pub used_by: Vec<String>,
}

/// How a list pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// Not paged.
    None,
    /// `cursor` + `limit`; `nextCursor` in the envelope.
    Cursor {
        /// Item type.
        item: Ty,
        /// The field of the result holding the items (`None`: the result).
        field: Option<String>,
    },
    /// `offset` + `limit`.
    Offset {
        /// Item type.
        item: Ty,
        /// The field of the result holding the items (`None`: the result).
        field: Option<String>,
    },
}

/// One operation.
#[derive(Debug, Clone)]
pub struct OpDef {
    /// `operationId`.
    pub id: String,
    /// Rust name of its marker type.
    pub name: String,
    /// Module.
    pub module: String,
    /// The spec tag.
    pub tag: String,
    /// Upper-case method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Beta.
    pub beta: bool,
    /// Deprecated.
    pub deprecated: bool,
    /// Safe to send again after the service may have acted.
    pub idempotent: bool,
    /// Path parameters type (`None`: `()`).
    pub path_type: Option<String>,
    /// Query type (`None`: `()`).
    pub query_type: Option<String>,
    /// Body type (`None`: `()`).
    pub body: Option<Ty>,
    /// Output: `None` for `()`.
    pub output: Option<Ty>,
    /// `Some(media type)` for a text answer ([`BARE`] for JSON without the
    /// envelope).
    pub text: Option<String>,
    /// The success status.
    pub status: u16,
    /// Paging.
    pub paging: Paging,
    /// The `maximum` of the `limit` query parameter, when the spec sets one.
    pub max_limit: Option<u32>,
}

/// A module: one per spec tag, plus shared ones.
#[derive(Debug, Clone)]
pub struct ModuleDef {
    /// File and module name.
    pub name: String,
    /// The spec tag, or what the module holds.
    pub title: String,
}

/// Everything to render.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Types by Rust name.
    pub types: BTreeMap<String, TypeDef>,
    /// Operations in spec order.
    pub operations: Vec<OpDef>,
    /// Path and query types by Rust name.
    pub params: BTreeMap<String, ParamsDef>,
    /// Modules in order.
    pub modules: Vec<ModuleDef>,
    /// `Type.field` (wire names) of every secret field, and names of secret
    /// aliases.
    pub secrets: BTreeSet<String>,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Two items want one name.
    #[error(
        "two items are both named `{name}`: {first} and {second}; name one in xtask/codegen.toml [names]"
    )]
    NameClash {
        /// The name.
        name: String,
        /// One item.
        first: String,
        /// The other.
        second: String,
    },
    /// An override names something the spec does not have.
    #[error("xtask/codegen.toml: `{item}` ({section}) matches nothing in the spec")]
    StaleOverride {
        /// The entry.
        item: String,
        /// Its section.
        section: &'static str,
    },
    /// Something the generator does not model.
    #[error("{at}: {what}")]
    Unsupported {
        /// Where.
        at: String,
        /// What.
        what: String,
    },
}

/// One inline string enum use, named after grouping.
#[derive(Debug, Clone)]
struct EnumUse {
    owner: String,
    field: String,
    values: Vec<String>,
    module: String,
    direction: Direction,
}

struct Builder<'a> {
    overrides: &'a Overrides,
    components: BTreeMap<String, Shape>,
    component_names: BTreeMap<String, String>,
    directions: BTreeMap<String, Direction>,
    modules_of: BTreeMap<String, BTreeSet<String>>,
    used_by: BTreeMap<String, BTreeSet<String>>,
    plan: Plan,
    origins: BTreeMap<String, String>,
    op_origins: BTreeMap<String, String>,
    enums: Vec<EnumUse>,
    used_overrides: BTreeSet<String>,
}

const COMMON: &str = "common";
/// The "media type" of a JSON answer without the envelope.
pub const BARE: &str = "bare JSON";
const UNREFERENCED: &str = "unreferenced";

/// Makes the plan.
pub fn plan(api: &OpenAPI, overrides: &Overrides) -> Result<Plan, PlanError> {
    let components: BTreeMap<String, Shape> = api
        .components
        .as_ref()
        .map(|c| {
            c.schemas
                .iter()
                .map(|(name, schema)| (name.clone(), Shape::of(schema)))
                .collect()
        })
        .unwrap_or_default();
    let mut builder = Builder {
        overrides,
        component_names: BTreeMap::new(),
        directions: BTreeMap::new(),
        modules_of: BTreeMap::new(),
        used_by: BTreeMap::new(),
        plan: Plan::default(),
        origins: BTreeMap::new(),
        op_origins: BTreeMap::new(),
        enums: Vec::new(),
        used_overrides: BTreeSet::new(),
        components,
    };
    let operations = collect_operations(api)?;
    builder.name_modules(&operations);
    builder.trace_uses(&operations);
    builder.name_components()?;
    let names: Vec<String> = builder.components.keys().cloned().collect();
    for name in names {
        builder.define_component(&name)?;
    }
    for op in &operations {
        builder.define_operation(op)?;
    }
    builder.name_enums()?;
    builder.check_overrides()?;
    Ok(builder.plan)
}

/// An operation as read from the spec.
#[derive(Debug, Clone)]
pub struct SpecOp {
    /// `operationId`.
    pub id: String,
    /// Upper-case method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// First tag.
    pub tag: String,
    /// Beta badge.
    pub beta: bool,
    /// Deprecated.
    pub deprecated: bool,
    /// Path and query parameters: name, `path`/`query`, schema, required.
    pub params: Vec<(String, &'static str, Shape, bool)>,
    /// The JSON request body.
    pub body: Option<Shape>,
    /// The success status.
    pub status: u16,
    /// The `result` (or the whole body, for JSON without the envelope).
    pub result: Option<Shape>,
    /// The whole success body of a JSON answer.
    pub response: Option<Shape>,
    /// The media type of a text answer, or [`BARE`].
    pub text: Option<String>,
}

/// Every operation of the spec, in spec order.
pub fn collect_operations(api: &OpenAPI) -> Result<Vec<SpecOp>, PlanError> {
    let mut out = Vec::new();
    for (path, item) in &api.paths.paths {
        let ReferenceOr::Item(item) = item else {
            return Err(PlanError::Unsupported {
                at: path.clone(),
                what: "a $ref path item".into(),
            });
        };
        for (method, op) in item.iter() {
            let at = format!("{} {path}", method.to_ascii_uppercase());
            let id = op
                .operation_id
                .clone()
                .ok_or_else(|| PlanError::Unsupported {
                    at: at.clone(),
                    what: "no operationId".into(),
                })?;
            let mut params = Vec::new();
            for p in item.parameters.iter().chain(&op.parameters) {
                let ReferenceOr::Item(p) = p else {
                    return Err(PlanError::Unsupported {
                        at: at.clone(),
                        what: "a $ref parameter".into(),
                    });
                };
                let (data, location) = match p {
                    Parameter::Path { parameter_data, .. } => (parameter_data, "path"),
                    Parameter::Query { parameter_data, .. } => (parameter_data, "query"),
                    _ => continue,
                };
                let ParameterSchemaOrContent::Schema(schema) = &data.format else {
                    return Err(PlanError::Unsupported {
                        at: at.clone(),
                        what: format!("parameter {} without a schema", data.name),
                    });
                };
                params.push((
                    data.name.clone(),
                    location,
                    Shape::of(schema),
                    data.required,
                ));
            }
            let body = match &op.request_body {
                Some(ReferenceOr::Item(body)) => body
                    .content
                    .get("application/json")
                    .and_then(|m| m.schema.as_ref())
                    .map(Shape::of),
                Some(ReferenceOr::Reference { .. }) => {
                    return Err(PlanError::Unsupported {
                        at,
                        what: "a $ref request body".into(),
                    });
                }
                None => None,
            };
            let (status, result, text, response) = success(op, &at)?;
            out.push(SpecOp {
                id,
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                tag: op.tags.first().cloned().unwrap_or_else(|| "Other".into()),
                beta: op
                    .extensions
                    .get("x-badges")
                    .and_then(|b| b.as_array())
                    .is_some_and(|b| b.iter().any(|x| x["name"] == "Beta")),
                deprecated: op.deprecated,
                params,
                body,
                status,
                result,
                response,
                text,
            });
        }
    }
    Ok(out)
}

type Success = (u16, Option<Shape>, Option<String>, Option<Shape>);

/// The first 2xx response: status, `result` shape, text media type and the
/// whole JSON body.
fn success(op: &openapiv3::Operation, at: &str) -> Result<Success, PlanError> {
    for (status, response) in &op.responses.responses {
        let StatusCode::Code(code) = status else {
            continue;
        };
        if !(200..300).contains(code) {
            continue;
        }
        let ReferenceOr::Item(response) = response else {
            return Err(PlanError::Unsupported {
                at: at.into(),
                what: "a $ref response".into(),
            });
        };
        if let Some(media) = response.content.get("application/json") {
            let shape = media.schema.as_ref().map(Shape::of).unwrap_or_default();
            let envelope = match &shape.kind {
                ShapeKind::Object(o)
                    if o.properties
                        .iter()
                        .any(|(n, _)| ["result", "status", "requestId"].contains(&n.as_str())) =>
                {
                    Some(o.clone())
                }
                _ => None,
            };
            return Ok(match envelope {
                Some(envelope) => (
                    *code,
                    envelope
                        .properties
                        .iter()
                        .find(|(n, _)| n == "result")
                        .map(|(_, s)| s.clone()),
                    None,
                    Some(shape),
                ),
                // JSON without the envelope: the body is the output.
                None => (
                    *code,
                    Some(shape.clone()),
                    Some(BARE.to_owned()),
                    Some(shape),
                ),
            });
        }
        if let Some((media, _)) = response.content.iter().next() {
            return Ok((*code, None, Some(media.clone()), None));
        }
        return Ok((*code, None, None, None));
    }
    Err(PlanError::Unsupported {
        at: at.into(),
        what: "no 2xx response".into(),
    })
}

/// Every component named by a `$ref` inside `shape`.
fn refs(shape: &Shape, out: &mut BTreeSet<String>) {
    match &shape.kind {
        ShapeKind::Ref(name) => {
            out.insert(name.clone());
        }
        ShapeKind::Array { items, .. } => refs(items, out),
        ShapeKind::Object(o) => {
            for (_, p) in &o.properties {
                refs(p, out);
            }
            if let Some(a) = &o.additional {
                refs(a, out);
            }
        }
        ShapeKind::OneOf(b) | ShapeKind::AnyOf(b) | ShapeKind::AllOf(b) => {
            for s in b {
                refs(s, out);
            }
        }
        _ => {}
    }
}

impl Builder<'_> {
    fn name_modules(&mut self, ops: &[SpecOp]) {
        let mut seen = BTreeSet::new();
        for op in ops {
            if seen.insert(op.tag.clone()) {
                let name = self.module_of_tag(&op.tag);
                self.plan.modules.push(ModuleDef {
                    name,
                    title: op.tag.clone(),
                });
            }
        }
        self.plan.modules.push(ModuleDef {
            name: COMMON.into(),
            title: "types used by operations of several areas".into(),
        });
        let mut extra: BTreeSet<String> = self
            .overrides
            .unreferenced_modules
            .values()
            .cloned()
            .collect();
        extra.insert(UNREFERENCED.into());
        for name in extra {
            self.plan.modules.push(ModuleDef {
                title: "schemas of the spec that no operation uses".into(),
                name,
            });
        }
    }

    fn module_of_tag(&self, tag: &str) -> String {
        self.overrides
            .modules
            .get(tag)
            .cloned()
            .unwrap_or_else(|| snake(tag))
    }

    /// Directions, modules and users of every component.
    fn trace_uses(&mut self, ops: &[SpecOp]) {
        for op in ops {
            let module = self.module_of_tag(&op.tag);
            let mut request = BTreeSet::new();
            let mut response = BTreeSet::new();
            if let Some(body) = &op.body {
                refs(body, &mut request);
            }
            for (_, _, shape, _) in &op.params {
                refs(shape, &mut request);
            }
            if let Some(result) = &op.result {
                refs(result, &mut response);
            }
            for name in request.iter().chain(&response) {
                self.used_by
                    .entry(name.clone())
                    .or_default()
                    .insert(op.id.clone());
            }
            for (roots, is_request) in [(request, true), (response, false)] {
                for name in self.closure(roots) {
                    let d = self.directions.entry(name.clone()).or_default();
                    if is_request {
                        d.request = true;
                    } else {
                        d.response = true;
                    }
                    self.modules_of
                        .entry(name)
                        .or_default()
                        .insert(module.clone());
                }
            }
        }
    }

    fn closure(&self, roots: BTreeSet<String>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = roots.into_iter().collect();
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some(shape) = self.components.get(&name) {
                let mut next = BTreeSet::new();
                refs(shape, &mut next);
                stack.extend(next);
            }
        }
        seen
    }

    fn override_name(&mut self, key: &str) -> Option<String> {
        let name = self.overrides.names.get(key).cloned()?;
        self.used_overrides.insert(format!("names:{key}"));
        Some(name)
    }

    fn name_components(&mut self) -> Result<(), PlanError> {
        let names: Vec<String> = self.components.keys().cloned().collect();
        for name in names {
            let rust = self
                .override_name(&name)
                .unwrap_or_else(|| type_ident(&name));
            self.claim(&rust, format!("component `{name}`"))?;
            self.component_names.insert(name, rust);
        }
        Ok(())
    }

    /// Reserves a Rust name, refusing a second owner.
    fn claim(&mut self, name: &str, origin: String) -> Result<(), PlanError> {
        if let Some(first) = self.origins.get(name) {
            return Err(PlanError::NameClash {
                name: name.into(),
                first: first.clone(),
                second: origin,
            });
        }
        self.origins.insert(name.into(), origin);
        Ok(())
    }

    /// Reserves a name among operations and parameter types (a module of
    /// their own, so they may repeat a wire type's name).
    fn claim_op(&mut self, name: &str, origin: String) -> Result<(), PlanError> {
        if let Some(first) = self.op_origins.get(name) {
            return Err(PlanError::NameClash {
                name: name.into(),
                first: first.clone(),
                second: origin,
            });
        }
        self.op_origins.insert(name.into(), origin);
        Ok(())
    }

    fn module_of_component(&self, name: &str) -> String {
        match self.modules_of.get(name) {
            Some(set) if set.len() == 1 => set.iter().next().cloned().unwrap_or_default(),
            Some(_) => COMMON.into(),
            None => self
                .overrides
                .unreferenced_modules
                .iter()
                .find(|(prefix, _)| name.starts_with(prefix.as_str()))
                .map_or_else(|| UNREFERENCED.into(), |(_, m)| m.clone()),
        }
    }

    fn define_component(&mut self, name: &str) -> Result<(), PlanError> {
        let shape = self.components[name].clone();
        let rust = self.component_names[name].clone();
        let direction = self.directions.get(name).copied().unwrap_or_default();
        let cx = Cx {
            owner: rust.clone(),
            schema: name.to_owned(),
            module: self.module_of_component(name),
            direction,
        };
        let body = self.body_of(&shape, &cx, true)?;
        let mut used_by: Vec<String> = self
            .used_by
            .get(name)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        used_by.sort();
        self.plan.types.insert(
            rust.clone(),
            TypeDef {
                name: rust,
                schema: Some(name.to_owned()),
                origin: format!("component schema `{name}`"),
                module: cx.module,
                direction,
                deprecated: shape.deprecated,
                body,
                used_by,
            },
        );
        Ok(())
    }

    /// The body of a named item for `shape`.
    fn body_of(&mut self, shape: &Shape, cx: &Cx, top: bool) -> Result<Body, PlanError> {
        Ok(match &shape.kind {
            _ if top && self.any_scalar(&cx.schema) => Body::Alias(Ty::Named("JsonScalar".into())),
            ShapeKind::Object(o) if !o.properties.is_empty() => {
                Body::Struct(self.struct_of(o, cx)?)
            }
            ShapeKind::AllOf(parts) => {
                let merged = self.merge_all_of(parts, &cx.schema)?;
                Body::Struct(self.struct_of(&merged, cx)?)
            }
            ShapeKind::String(s) if !s.values.is_empty() && top => {
                Body::Enum(self.variants(&cx.owner, &s.values))
            }
            ShapeKind::OneOf(_) | ShapeKind::AnyOf(_) => match self.scalar_union(shape) {
                Some(ty) => Body::Alias(ty),
                None => Body::Union(self.union_of(shape, cx)?),
            },
            _ => {
                let secret = self.secret_component(&cx.schema);
                let ty = self.ty_of(shape, cx, "Value", secret)?;
                if secret {
                    self.plan.secrets.insert(cx.schema.clone());
                }
                Body::Alias(ty)
            }
        })
    }

    /// Whether `[[any_scalar]]` says to read the component as any JSON
    /// scalar.
    fn any_scalar(&mut self, schema: &str) -> bool {
        let listed = self.overrides.any_scalar.iter().any(|d| d.item == schema);
        if listed {
            self.used_overrides.insert(format!("any-scalar:{schema}"));
        }
        listed
    }

    fn secret_component(&mut self, schema: &str) -> bool {
        let also = self.overrides.secrets.also.iter().any(|d| d.item == schema);
        if also {
            self.used_overrides.insert(format!("secret:{schema}"));
        }
        also
    }

    /// `anyOf`/`oneOf` of two scalar types that the vocabulary covers.
    fn scalar_union(&self, shape: &Shape) -> Option<Ty> {
        let branches = shape.branches()?;
        let mut kinds: Vec<&'static str> = branches
            .iter()
            .filter(|b| !matches!(b.kind, ShapeKind::Null))
            .map(|b| match &b.kind {
                ShapeKind::String(s) if s.values.is_empty() => "string",
                ShapeKind::Integer(n) if n.values.is_empty() => "integer",
                ShapeKind::Number(n) if n.values.is_empty() => "number",
                _ => "other",
            })
            .collect();
        kinds.sort_unstable();
        match kinds.as_slice() {
            ["integer", "string"] => Some(Ty::IntegerOrString),
            ["number", "string"] => Some(Ty::NumberOrString),
            _ => None,
        }
    }

    /// Merges the object branches of an `allOf` (references resolved).
    fn merge_all_of(&self, parts: &[Shape], at: &str) -> Result<ObjectShape, PlanError> {
        let mut merged = ObjectShape::default();
        for part in parts {
            let object = self.object_of(part).ok_or_else(|| PlanError::Unsupported {
                at: at.into(),
                what: "an allOf branch that is not an object".into(),
            })?;
            for (name, shape) in object.properties {
                if !merged.properties.iter().any(|(n, _)| *n == name) {
                    merged.properties.push((name, shape));
                }
            }
            for r in object.required {
                if !merged.required.contains(&r) {
                    merged.required.push(r);
                }
            }
            if object.additional.is_some() {
                merged.additional = object.additional;
            }
        }
        Ok(merged)
    }

    /// The object a shape stands for, references and `allOf` resolved.
    fn object_of(&self, shape: &Shape) -> Option<ObjectShape> {
        match &shape.kind {
            ShapeKind::Ref(name) => self.object_of(self.components.get(name)?),
            ShapeKind::Object(o) => Some(o.clone()),
            ShapeKind::AllOf(parts) => self.merge_all_of(parts, "").ok(),
            _ => None,
        }
    }

    fn struct_of(&mut self, object: &ObjectShape, cx: &Cx) -> Result<StructDef, PlanError> {
        let mut fields = Vec::new();
        let mut rust_names = BTreeSet::new();
        for (wire, shape) in &object.properties {
            let item = format!("{}.{wire}", cx.schema);
            let secret = self.is_secret(wire, shape, &item);
            let field_cx = cx.nested(wire);
            let ty = self.ty_of(shape, &field_cx, wire, secret)?;
            if secret {
                self.plan.secrets.insert(item.clone());
            }
            let nullable = shape.nullable;
            let mut rust = snake(wire);
            while !rust_names.insert(rust.clone()) {
                rust.push('_');
            }
            let deserialize_with = self.overrides.deserialize_with(&item).map(str::to_owned);
            if deserialize_with.is_some() {
                self.used_overrides.insert(format!("field:{item}"));
            }
            fields.push(Field {
                wire: wire.clone(),
                rust,
                facts: facts(shape),
                required: object.is_required(wire),
                nullable,
                tri_state: nullable && cx.direction.request,
                deprecated: shape.deprecated,
                deserialize_with,
                ty,
            });
        }
        let additional = match &object.additional {
            Some(shape) => {
                Some(self.ty_of(shape, &cx.nested("additional"), "additional", false)?)
            }
            None => None,
        };
        let required = object
            .required
            .iter()
            .filter(|r| fields.iter().any(|f| f.wire == **r))
            .cloned()
            .collect();
        Ok(StructDef {
            fields,
            additional,
            required,
        })
    }

    fn is_secret(&mut self, wire: &str, shape: &Shape, item: &str) -> bool {
        let rules = &self.overrides.secrets;
        if rules.also.iter().any(|d| d.item == item) {
            self.used_overrides.insert(format!("secret:{item}"));
            return true;
        }
        let ShapeKind::String(s) = &shape.kind else {
            return false;
        };
        if !s.values.is_empty() {
            return false;
        }
        let lower = wire.to_ascii_lowercase();
        let marked = rules
            .name_contains
            .iter()
            .any(|n| lower.contains(&n.to_ascii_lowercase()))
            || rules.names.iter().any(|n| n.eq_ignore_ascii_case(wire))
            || s.format.as_ref().is_some_and(|f| rules.formats.contains(f))
            || (rules.write_only && shape.write_only);
        if marked && rules.not.iter().any(|d| d.item == item) {
            self.used_overrides.insert(format!("secret-not:{item}"));
            return false;
        }
        marked
    }

    /// The type of a field, parameter, body or result.
    fn ty_of(
        &mut self,
        shape: &Shape,
        cx: &Cx,
        field: &str,
        secret: bool,
    ) -> Result<Ty, PlanError> {
        Ok(match &shape.kind {
            ShapeKind::Any | ShapeKind::Null => Ty::Json,
            ShapeKind::Ref(name) => {
                Ty::Named(self.component_names.get(name).cloned().ok_or_else(|| {
                    PlanError::Unsupported {
                        at: cx.schema.clone(),
                        what: format!("reference to missing schema {name}"),
                    }
                })?)
            }
            ShapeKind::String(_) if secret => Ty::Secret,
            ShapeKind::String(s) if !s.values.is_empty() => {
                self.enums.push(EnumUse {
                    owner: cx.owner_of_field(),
                    field: field.to_owned(),
                    values: s.values.clone(),
                    module: cx.module.clone(),
                    direction: cx.direction,
                });
                Ty::Enum(self.enums.len() - 1)
            }
            ShapeKind::String(s) => match s.format.as_deref() {
                Some("date-time") => Ty::Timestamp,
                Some("uuid") => Ty::Uuid,
                Some("date") => Ty::Date,
                _ => Ty::String,
            },
            ShapeKind::Integer(_) => Ty::Int,
            ShapeKind::Number(_) => Ty::Float,
            ShapeKind::Boolean => Ty::Bool,
            ShapeKind::Array { items, .. } => {
                Ty::Vec(Box::new(self.ty_of(items, cx, field, secret)?))
            }
            ShapeKind::Object(o) if o.properties.is_empty() => match &o.additional {
                Some(a) => Ty::Map(Box::new(self.ty_of(a, cx, field, secret)?)),
                None => Ty::Json,
            },
            ShapeKind::OneOf(b) | ShapeKind::AnyOf(b)
                if b.iter()
                    .filter(|s| !matches!(s.kind, ShapeKind::Null))
                    .count()
                    == 1 =>
            {
                let only = b
                    .iter()
                    .find(|s| !matches!(s.kind, ShapeKind::Null))
                    .cloned()
                    .unwrap_or_default();
                self.ty_of(&only, cx, field, secret)?
            }
            ShapeKind::AllOf(parts) if parts.len() == 1 => {
                self.ty_of(&parts[0], cx, field, secret)?
            }
            ShapeKind::OneOf(_) | ShapeKind::AnyOf(_) if self.scalar_union(shape).is_some() => {
                self.scalar_union(shape).unwrap_or(Ty::Json)
            }
            ShapeKind::OneOf(_) | ShapeKind::AnyOf(_) if self.same_union(shape).is_some() => {
                Ty::Named(self.same_union(shape).unwrap_or_default())
            }
            ShapeKind::Object(_)
            | ShapeKind::AllOf(_)
            | ShapeKind::OneOf(_)
            | ShapeKind::AnyOf(_) => {
                let key = format!("{}.{field}", cx.schema);
                let name = match self.override_name(&key) {
                    Some(name) => name,
                    None => format!("{}{}", cx.owner_of_field(), type_ident(field)),
                };
                self.claim(&name, format!("inline schema at `{key}`"))?;
                let inner = Cx {
                    owner: name.clone(),
                    schema: key.clone(),
                    module: cx.module.clone(),
                    direction: cx.direction,
                };
                let body = self.body_of(shape, &inner, false)?;
                self.plan.types.insert(
                    name.clone(),
                    TypeDef {
                        name: name.clone(),
                        schema: None,
                        origin: format!("inline schema at `{key}`"),
                        module: cx.module.clone(),
                        direction: cx.direction,
                        deprecated: shape.deprecated,
                        body,
                        used_by: Vec::new(),
                    },
                );
                Ty::Named(name)
            }
        })
    }

    /// The component union with exactly these branches, if one exists:
    /// an inline copy of it is the same type.
    fn same_union(&self, shape: &Shape) -> Option<String> {
        let branches = |s: &Shape| -> Option<Vec<Shape>> {
            let b: Vec<Shape> = s
                .branches()?
                .iter()
                .filter(|b| !matches!(b.kind, ShapeKind::Null))
                .map(|b| Shape::new(b.kind.clone()))
                .collect();
            b.iter()
                .all(|b| matches!(b.kind, ShapeKind::Ref(_)))
                .then_some(b)
        };
        let wanted = branches(shape)?;
        self.components
            .iter()
            .find(|(_, c)| branches(c).as_ref() == Some(&wanted))
            .and_then(|(name, _)| self.component_names.get(name).cloned())
    }

    fn variants(&self, type_name: &str, values: &[String]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for value in values {
            let key = format!("{type_name}.{value}");
            let mut variant = self
                .overrides
                .variants
                .get(&key)
                .cloned()
                .unwrap_or_else(|| type_ident(value));
            if variant == "Unknown" {
                variant = "UnknownValue".into();
            }
            while out.iter().any(|(v, _)| *v == variant) {
                variant.push('_');
            }
            out.push((variant, value.clone()));
        }
        out
    }

    fn union_of(&mut self, shape: &Shape, cx: &Cx) -> Result<Vec<Branch>, PlanError> {
        let branches: Vec<Shape> = shape
            .branches()
            .unwrap_or_default()
            .iter()
            .filter(|b| !matches!(b.kind, ShapeKind::Null))
            .cloned()
            .collect();
        let mut alts: Vec<Vec<Alt>> = branches.iter().map(|b| self.alts_of(b)).collect();
        discriminate(&mut alts);
        let names = variant_names(&branches, &alts);
        let mut out = Vec::new();
        for (i, (branch, alts)) in branches.iter().zip(alts).enumerate() {
            let key = format!("{}#{}", cx.schema, i + 1);
            let variant = self.override_name(&key).unwrap_or_else(|| names[i].clone());
            let ty = match &branch.kind {
                ShapeKind::Object(_)
                | ShapeKind::AllOf(_)
                | ShapeKind::OneOf(_)
                | ShapeKind::AnyOf(_) => {
                    let name = format!("{}{variant}", cx.owner);
                    self.claim(&name, format!("branch {} of `{}`", i + 1, cx.schema))?;
                    let inner = Cx {
                        owner: name.clone(),
                        schema: format!("{}#{}", cx.schema, i + 1),
                        module: cx.module.clone(),
                        direction: cx.direction,
                    };
                    let body = self.body_of(branch, &inner, false)?;
                    self.plan.types.insert(
                        name.clone(),
                        TypeDef {
                            name: name.clone(),
                            schema: None,
                            origin: format!("branch {} of `{}`", i + 1, cx.schema),
                            module: cx.module.clone(),
                            direction: cx.direction,
                            deprecated: branch.deprecated,
                            body,
                            used_by: Vec::new(),
                        },
                    );
                    Ty::Named(name)
                }
                _ => self.ty_of(branch, cx, &variant, false)?,
            };
            out.push(Branch { variant, ty, alts });
        }
        Ok(out)
    }

    /// The wire shapes of a branch.
    fn alts_of(&self, shape: &Shape) -> Vec<Alt> {
        match &shape.kind {
            ShapeKind::Ref(name) => self.components.get(name).map_or_else(
                || {
                    vec![Alt {
                        json: "any",
                        ..Alt::default()
                    }]
                },
                |s| self.alts_of(s),
            ),
            ShapeKind::OneOf(b) | ShapeKind::AnyOf(b) => b
                .iter()
                .filter(|s| !matches!(s.kind, ShapeKind::Null))
                .flat_map(|s| self.alts_of(s))
                .collect(),
            ShapeKind::Object(_) | ShapeKind::AllOf(_) => {
                let object = self.object_of(shape).unwrap_or_default();
                let values = object
                    .properties
                    .iter()
                    .filter_map(|(name, s)| match &s.kind {
                        ShapeKind::String(st) if !st.values.is_empty() => {
                            Some((name.clone(), st.values.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                vec![Alt {
                    json: "object",
                    required: object.required.clone(),
                    properties: object.properties.iter().map(|(n, _)| n.clone()).collect(),
                    values,
                }]
            }
            ShapeKind::String(_) => vec![Alt {
                json: "string",
                ..Alt::default()
            }],
            ShapeKind::Integer(_) => vec![Alt {
                json: "integer",
                ..Alt::default()
            }],
            ShapeKind::Number(_) => vec![Alt {
                json: "number",
                ..Alt::default()
            }],
            ShapeKind::Boolean => vec![Alt {
                json: "boolean",
                ..Alt::default()
            }],
            ShapeKind::Array { .. } => vec![Alt {
                json: "array",
                ..Alt::default()
            }],
            ShapeKind::Any | ShapeKind::Null => vec![Alt {
                json: "any",
                ..Alt::default()
            }],
        }
    }

    fn define_operation(&mut self, op: &SpecOp) -> Result<(), PlanError> {
        let module = self.module_of_tag(&op.tag);
        let name = type_ident(&op.id);
        self.claim_op(&name, format!("operation `{}`", op.id))?;
        let request = Direction {
            request: true,
            response: false,
        };
        let path_params: Vec<_> = op.params.iter().filter(|p| p.1 == "path").collect();
        let path_type = if path_params.is_empty() {
            None
        } else {
            let key = format!(
                "path:{}",
                path_params
                    .iter()
                    .map(|p| p.0.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let last = &path_params[path_params.len() - 1].0;
            let default = format!(
                "{}Path",
                type_ident(last.strip_suffix("Id").unwrap_or(last))
            );
            let name = self.override_name(&key).unwrap_or(default);
            let cx = Cx {
                owner: name.clone(),
                schema: key.clone(),
                module: module.clone(),
                direction: request,
            };
            let params = self.params_of(&path_params, &cx)?;
            Some(self.add_params(name, &key, "path", params, &module, &op.id)?)
        };
        let query_params: Vec<_> = op.params.iter().filter(|p| p.1 == "query").collect();
        let query_type = if query_params.is_empty() {
            None
        } else {
            let key = format!("query:{}", op.id);
            let name = self
                .override_name(&key)
                .unwrap_or_else(|| format!("{}Query", type_ident(&op.id)));
            let cx = Cx {
                owner: name.clone(),
                schema: key.clone(),
                module: module.clone(),
                direction: request,
            };
            let params = self.params_of(&query_params, &cx)?;
            Some(self.add_params(name, &key, "query", params, &module, &op.id)?)
        };
        let body = match &op.body {
            None => None,
            Some(shape) => {
                let cx = Cx {
                    owner: type_ident(&op.id),
                    schema: op.id.clone(),
                    module: module.clone(),
                    direction: request,
                };
                Some(self.ty_of(shape, &cx, "Body", false)?)
            }
        };
        let response = Direction {
            request: false,
            response: true,
        };
        let output = match &op.result {
            None => None,
            Some(shape) => {
                let cx = Cx {
                    owner: type_ident(&op.id),
                    schema: op.id.clone(),
                    module: module.clone(),
                    direction: response,
                };
                Some(self.ty_of(shape, &cx, "Result", false)?)
            }
        };
        let output = match op.text.as_deref() {
            Some(BARE) | None => output,
            Some(_) => Some(Ty::String),
        };
        let paging = self.paging(op, &output);
        let max_limit = op
            .params
            .iter()
            .find(|p| p.1 == "query" && p.0 == "limit")
            .and_then(|p| match &p.2.kind {
                ShapeKind::Integer(n) | ShapeKind::Number(n) => n.maximum,
                _ => None,
            })
            .filter(|max| *max >= 1.0)
            .map(|max| max.min(f64::from(u32::MAX)) as u32);
        let idempotent = match self.overrides.retries.iter().find(|r| r.operation == op.id) {
            Some(r) => {
                self.used_overrides.insert(format!("retry:{}", op.id));
                r.idempotent
            }
            None => matches!(op.method.as_str(), "GET" | "PUT" | "DELETE" | "PATCH"),
        };
        self.plan.operations.push(OpDef {
            id: op.id.clone(),
            name,
            module,
            tag: op.tag.clone(),
            method: op.method.clone(),
            path: op.path.clone(),
            beta: op.beta,
            deprecated: op.deprecated,
            idempotent,
            path_type,
            query_type,
            body,
            output,
            text: op.text.clone(),
            status: op.status,
            paging,
            max_limit,
        });
        Ok(())
    }

    fn paging(&mut self, op: &SpecOp, output: &Option<Ty>) -> Paging {
        let has = |n: &str| op.params.iter().any(|p| p.1 == "query" && p.0 == n);
        let field = self
            .overrides
            .paged
            .iter()
            .find(|p| p.operation == op.id)
            .map(|p| p.items.clone());
        if field.is_some() {
            self.used_overrides.insert(format!("paged:{}", op.id));
        }
        let item = match (output, &field) {
            (Some(Ty::Vec(item)), None) => Some((**item).clone()),
            (Some(Ty::Named(name)), Some(field)) => {
                match self.plan.types.get(name).map(|t| &t.body) {
                    Some(Body::Struct(s)) => {
                        s.fields
                            .iter()
                            .find(|f| f.wire == *field)
                            .and_then(|f| match &f.ty {
                                Ty::Vec(item) => Some((**item).clone()),
                                _ => None,
                            })
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        match item {
            Some(item) if has("cursor") && has("limit") => Paging::Cursor { item, field },
            Some(item) if has("offset") && has("limit") => Paging::Offset { item, field },
            _ => Paging::None,
        }
    }

    fn params_of(
        &mut self,
        params: &[&(String, &'static str, Shape, bool)],
        cx: &Cx,
    ) -> Result<Vec<Param>, PlanError> {
        let mut out = Vec::new();
        for (wire, _, shape, required) in params {
            let mut ty = self.ty_of(shape, &cx.nested(wire), wire, false)?;
            if let (ShapeKind::String(s), Ty::String) = (&shape.kind, &ty)
                && s.format.as_deref() == Some("boolean")
            {
                ty = Ty::Bool;
            }
            out.push(Param {
                wire: wire.clone(),
                rust: snake(wire),
                ty,
                required: *required,
                facts: facts(shape),
            });
        }
        Ok(out)
    }

    fn add_params(
        &mut self,
        name: String,
        key: &str,
        location: &'static str,
        params: Vec<Param>,
        module: &str,
        op: &str,
    ) -> Result<String, PlanError> {
        if let Some(existing) = self.plan.params.get_mut(&name) {
            let same = existing.params.len() == params.len()
                && existing
                    .params
                    .iter()
                    .zip(&params)
                    .all(|(a, b)| a.wire == b.wire && a.ty == b.ty && a.required == b.required);
            if same && existing.location == location {
                existing.used_by.push(op.to_owned());
                if existing.module != module {
                    existing.module = COMMON.into();
                }
                return Ok(name);
            }
            return Err(PlanError::NameClash {
                name,
                first: self
                    .op_origins
                    .get(&existing.name)
                    .cloned()
                    .unwrap_or_default(),
                second: format!("{location} parameters `{key}`"),
            });
        }
        self.claim_op(&name, format!("{location} parameters `{key}`"))?;
        self.plan.params.insert(
            name.clone(),
            ParamsDef {
                name: name.clone(),
                module: module.to_owned(),
                location,
                params,
                used_by: vec![op.to_owned()],
            },
        );
        Ok(name)
    }

    /// Names the inline enums: one type per (values, property name), named
    /// by `[names]` (any of its uses), else by the common prefix of its
    /// owners and the property.
    fn name_enums(&mut self) -> Result<(), PlanError> {
        let mut groups: BTreeMap<(Vec<String>, String), Vec<usize>> = BTreeMap::new();
        for (i, e) in self.enums.iter().enumerate() {
            let field = e.field.trim_end_matches("[]").to_owned();
            groups.entry((e.values.clone(), field)).or_default().push(i);
        }
        let mut resolved: BTreeMap<usize, String> = BTreeMap::new();
        let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut pending = Vec::new();
        for ((values, field), uses) in groups {
            let keys: Vec<String> = uses
                .iter()
                .map(|&i| format!("{}.{}", self.enum_schema(i), self.enums[i].field))
                .collect();
            let named = keys.iter().find_map(|k| self.override_name(k));
            let owners: Vec<&str> = uses.iter().map(|&i| self.enums[i].owner.as_str()).collect();
            let shortest = owners
                .iter()
                .min_by_key(|o| (o.len(), **o))
                .copied()
                .unwrap_or_default();
            let fallback = format!("{shortest}{}", type_ident(&field));
            let (name, fixed) = match named {
                Some(name) => (name, true),
                None => (
                    format!("{}{}", common_prefix(&owners), type_ident(&field)),
                    false,
                ),
            };
            pending.push((name, fixed, fallback, values, uses));
        }
        // A name that several value sets would share, or that another item
        // has (an override's name for another value set included: a new
        // value in one use of a shared enum splits the group), goes to none
        // of them: each takes its shortest owner's name. Uses with the same
        // values under an override's name stay one type.
        let fixed_names: BTreeMap<String, Vec<String>> = pending
            .iter()
            .filter(|(_, fixed, ..)| *fixed)
            .map(|(name, _, _, values, _)| (name.clone(), values.clone()))
            .collect();
        let mut sets_per_name: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
        for (name, fixed, _, values, _) in &pending {
            if !fixed {
                sets_per_name
                    .entry(name.clone())
                    .or_default()
                    .insert(values.clone());
            }
        }
        let pending: Vec<(String, Vec<String>, Vec<usize>)> = pending
            .into_iter()
            .map(|(name, fixed, fallback, values, uses)| {
                let shared = !fixed
                    && (sets_per_name.get(&name).is_some_and(|s| s.len() > 1)
                        || self.origins.contains_key(&name)
                        || fixed_names.get(&name).is_some_and(|v| *v != values));
                (if shared { fallback } else { name }, values, uses)
            })
            .collect();
        for (name, values, uses) in pending {
            if let Some(existing) = by_name.get(&name) {
                if *existing != values {
                    let first = self.origins.get(&name).cloned().unwrap_or_default();
                    return Err(PlanError::NameClash {
                        name,
                        first,
                        second: format!(
                            "inline enum at `{}.{}`",
                            self.enums[uses[0]].owner, self.enums[uses[0]].field
                        ),
                    });
                }
            } else {
                self.claim(
                    &name,
                    format!(
                        "inline enum at `{}.{}`",
                        self.enums[uses[0]].owner, self.enums[uses[0]].field
                    ),
                )?;
                by_name.insert(name.clone(), values.clone());
                let mut modules: BTreeSet<&str> = uses
                    .iter()
                    .map(|&i| self.enums[i].module.as_str())
                    .collect();
                let module = if modules.len() == 1 {
                    modules.pop_first().unwrap_or(COMMON).to_owned()
                } else {
                    COMMON.into()
                };
                let direction = uses.iter().fold(Direction::default(), |d, &i| Direction {
                    request: d.request || self.enums[i].direction.request,
                    response: d.response || self.enums[i].direction.response,
                });
                let variants = self.variants(&name, &values);
                self.plan.types.insert(
                    name.clone(),
                    TypeDef {
                        name: name.clone(),
                        schema: None,
                        origin: format!(
                            "inline enum at `{}.{}`",
                            self.enum_schema(uses[0]),
                            self.enums[uses[0]].field
                        ),
                        module,
                        direction,
                        deprecated: false,
                        body: Body::Enum(variants),
                        used_by: Vec::new(),
                    },
                );
            }
            for i in uses {
                resolved.insert(i, name.clone());
            }
        }
        let fix = |ty: &mut Ty| resolve_enums(ty, &resolved);
        for t in self.plan.types.values_mut() {
            match &mut t.body {
                Body::Struct(s) => {
                    for f in &mut s.fields {
                        fix(&mut f.ty);
                    }
                    if let Some(a) = &mut s.additional {
                        fix(a);
                    }
                }
                Body::Union(branches) => {
                    for b in branches {
                        fix(&mut b.ty);
                    }
                }
                Body::Alias(ty) => fix(ty),
                Body::Enum(_) => {}
            }
        }
        for p in self.plan.params.values_mut() {
            for param in &mut p.params {
                fix(&mut param.ty);
            }
        }
        for op in &mut self.plan.operations {
            for ty in op.body.iter_mut().chain(op.output.iter_mut()) {
                fix(ty);
            }
            if let Paging::Cursor { item, .. } | Paging::Offset { item, .. } = &mut op.paging {
                fix(item);
            }
        }
        Ok(())
    }

    /// The spec-side name of an enum's owner (for override keys).
    fn enum_schema(&self, i: usize) -> String {
        let owner = &self.enums[i].owner;
        self.component_names
            .iter()
            .find(|(_, rust)| *rust == owner)
            .map_or_else(|| owner.clone(), |(spec, _)| spec.clone())
    }

    fn check_overrides(&self) -> Result<(), PlanError> {
        let o = self.overrides;
        let checks: Vec<(String, &'static str)> = o
            .names
            .keys()
            .map(|k| (format!("names:{k}"), "names"))
            .chain(
                o.fields
                    .iter()
                    .map(|f| (format!("field:{}", f.item), "field")),
            )
            .chain(
                o.secrets
                    .also
                    .iter()
                    .map(|d| (format!("secret:{}", d.item), "secrets.also")),
            )
            .chain(
                o.secrets
                    .not
                    .iter()
                    .map(|d| (format!("secret-not:{}", d.item), "secrets.not")),
            )
            .chain(
                o.any_scalar
                    .iter()
                    .map(|d| (format!("any-scalar:{}", d.item), "any_scalar")),
            )
            .chain(
                o.retries
                    .iter()
                    .map(|r| (format!("retry:{}", r.operation), "retry")),
            )
            .chain(
                o.paged
                    .iter()
                    .map(|p| (format!("paged:{}", p.operation), "paged")),
            )
            .collect();
        for (key, section) in checks {
            if !self.used_overrides.contains(&key) {
                let item = key
                    .split_once(':')
                    .map_or(key.as_str(), |(_, i)| i)
                    .to_owned();
                return Err(PlanError::StaleOverride { item, section });
            }
        }
        for key in o.variants.keys() {
            let (ty, value) = key.split_once('.').unwrap_or((key, ""));
            let found = self.plan.types.get(ty).is_some_and(
                |t| matches!(&t.body, Body::Enum(v) if v.iter().any(|(_, w)| w == value)),
            );
            if !found {
                return Err(PlanError::StaleOverride {
                    item: key.clone(),
                    section: "variants",
                });
            }
        }
        Ok(())
    }
}

/// Where a type is being built.
#[derive(Debug, Clone)]
struct Cx {
    /// The Rust name of the item being built.
    owner: String,
    /// The spec-side path of the item (`Schema`, `Schema.field`, `op`).
    schema: String,
    module: String,
    direction: Direction,
}

impl Cx {
    fn nested(&self, _field: &str) -> Cx {
        self.clone()
    }

    fn owner_of_field(&self) -> String {
        self.owner.clone()
    }
}

fn resolve_enums(ty: &mut Ty, names: &BTreeMap<usize, String>) {
    match ty {
        Ty::Enum(i) => {
            if let Some(name) = names.get(i) {
                *ty = Ty::Named(name.clone());
            }
        }
        Ty::Vec(inner) | Ty::Map(inner) => resolve_enums(inner, names),
        _ => {}
    }
}

/// The longest run of leading words every name shares (`ApiKey`,
/// `ApiKeyPostRequest` -> `ApiKey`).
fn common_prefix(names: &[&str]) -> String {
    let split: Vec<Vec<String>> = names.iter().map(|n| super::names::words(n)).collect();
    let Some(first) = split.first() else {
        return String::new();
    };
    let mut n = 0;
    while n < first.len() && split.iter().all(|w| w.get(n) == first.get(n)) {
        n += 1;
    }
    if split.iter().all(|w| w.len() == n) && split.len() > 1 {
        // Every owner is the prefix itself: keep it whole.
    }
    pascal(&first[..n].join(" "))
}

/// Marks, in each branch, the enum properties that tell branches apart: a
/// property whose value sets differ between branches.
fn discriminate(alts: &mut [Vec<Alt>]) {
    let mut sets: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for branch in alts.iter() {
        for alt in branch {
            for (prop, values) in &alt.values {
                let mut sorted = values.clone();
                sorted.sort();
                sets.entry(prop.clone()).or_default().insert(sorted);
            }
        }
    }
    for branch in alts.iter_mut() {
        for alt in branch {
            alt.values
                .retain(|(prop, _)| sets.get(prop).is_some_and(|s| s.len() > 1));
        }
    }
}

/// Variant names: a branch named by its single discriminating value, else
/// the referenced type's name without the words every branch shares, else
/// the JSON type.
fn variant_names(branches: &[Shape], alts: &[Vec<Alt>]) -> Vec<String> {
    let refs: Vec<Option<&str>> = branches
        .iter()
        .map(|b| match &b.kind {
            ShapeKind::Ref(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let mut names: Vec<String> = Vec::new();
    if refs.iter().all(Option::is_some) && refs.len() > 1 {
        let words: Vec<Vec<String>> = refs
            .iter()
            .flatten()
            .map(|r| super::names::words(r))
            .collect();
        let mut pre = 0;
        while words
            .iter()
            .all(|w| w.len() > pre + 1 && w[pre] == words[0][pre])
        {
            pre += 1;
        }
        let mut suf = 0;
        while words.iter().all(|w| {
            w.len() > pre + suf + 1 && w[w.len() - 1 - suf] == words[0][words[0].len() - 1 - suf]
        }) {
            suf += 1;
        }
        names = words
            .iter()
            .map(|w| pascal(&w[pre..w.len() - suf].join(" ")))
            .collect();
    } else {
        for (i, (branch, alt)) in branches.iter().zip(alts).enumerate() {
            let single = alt
                .first()
                .and_then(|a| a.values.iter().find(|(_, v)| v.len() == 1))
                .map(|(_, v)| type_ident(&v[0]));
            names.push(match (&branch.kind, single) {
                (ShapeKind::Ref(name), _) => type_ident(name),
                (_, Some(value)) => value,
                (ShapeKind::String(_), _) => "String".into(),
                (ShapeKind::Integer(_), _) => "Integer".into(),
                (ShapeKind::Number(_), _) => "Number".into(),
                (ShapeKind::Boolean, _) => "Boolean".into(),
                (ShapeKind::Array { .. }, _) => "Array".into(),
                (ShapeKind::Object(_), _) => "Object".into(),
                _ => format!("Variant{}", i + 1),
            });
        }
    }
    let unique: BTreeSet<&String> = names.iter().collect();
    if unique.len() != names.len() || names.iter().any(String::is_empty) {
        names = (1..=branches.len())
            .map(|i| format!("Variant{i}"))
            .collect();
    }
    names
}

/// Doc facts of a schema: format, bounds, default, write-only.
fn facts(shape: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    let num = |n: f64| {
        if n.fract() == 0.0 && n.abs() < 1e15 {
            format!("{}", n as i64)
        } else {
            format!("{n}")
        }
    };
    match &shape.kind {
        ShapeKind::String(s) => {
            if let Some(f) = &s.format {
                out.push(format!("format `{f}`"));
            }
            match (s.min_length, s.max_length) {
                (Some(a), Some(b)) => out.push(format!("{a} to {b} characters")),
                (Some(a), None) => out.push(format!("at least {a} characters")),
                (None, Some(b)) => out.push(format!("at most {b} characters")),
                (None, None) => {}
            }
        }
        ShapeKind::Integer(n) | ShapeKind::Number(n) => {
            if let Some(m) = n.minimum {
                out.push(if n.exclusive_minimum {
                    format!("more than {}", num(m))
                } else {
                    format!("at least {}", num(m))
                });
            }
            if let Some(m) = n.maximum {
                out.push(format!("at most {}", num(m)));
            }
            if !n.values.is_empty() {
                let values: Vec<String> = n.values.iter().map(ToString::to_string).collect();
                out.push(format!("one of {}", values.join(", ")));
            }
        }
        ShapeKind::Array {
            min_items: Some(n), ..
        } if *n > 0 => out.push(format!("at least {n} item(s)")),
        _ => {}
    }
    if let Some(d) = &shape.default {
        let text = d.to_string();
        if text.len() <= 40 {
            out.push(format!("default `{text}`"));
        }
    }
    if shape.write_only {
        out.push("never shown back by the service".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_variant_names() {
        assert_eq!(
            common_prefix(&["ApiKey", "ApiKeyPostRequest", "ApiKeyPatchRequest"]),
            "ApiKey"
        );
        assert_eq!(common_prefix(&["Service", "Organization"]), "");
        let refs = |names: &[&str]| -> Vec<Shape> {
            names
                .iter()
                .map(|n| Shape::new(ShapeKind::Ref((*n).into())))
                .collect()
        };
        let alts = vec![Vec::new(); 3];
        assert_eq!(
            variant_names(
                &refs(&["AwsBackupBucket", "GcpBackupBucket", "AzureBackupBucket"]),
                &alts
            ),
            ["Aws", "Gcp", "Azure"]
        );
        assert_eq!(
            variant_names(
                &refs(&[
                    "ClickStackLineBuilderChartConfig",
                    "ClickStackLineRawSqlChartConfig"
                ]),
                &alts[..2]
            ),
            ["Builder", "RawSql"]
        );
        assert_eq!(
            variant_names(&refs(&["PLAIN", "MutualTLS"]), &alts[..2]),
            ["Plain", "MutualTls"]
        );
    }

    #[test]
    fn only_differing_enum_properties_discriminate() {
        let alt = |values: &[(&str, &[&str])]| Alt {
            json: "object",
            values: values
                .iter()
                .map(|(p, v)| ((*p).into(), v.iter().map(|s| (*s).into()).collect()))
                .collect(),
            ..Alt::default()
        };
        let mut alts = vec![
            vec![alt(&[("type", &["a"]), ("lang", &["sql", "lucene"])])],
            vec![alt(&[("type", &["b"]), ("lang", &["lucene", "sql"])])],
        ];
        discriminate(&mut alts);
        assert_eq!(
            alts[0][0].values,
            vec![("type".to_string(), vec!["a".to_string()])]
        );
        assert_eq!(alts[1][0].values.len(), 1);
    }
}
