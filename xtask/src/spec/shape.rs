//! Schemas read for code generation and example building.
//!
//! [`super::model::Node`] keeps what comparisons need and drops the rest;
//! a [`Shape`] keeps what a generator needs on top: property and enum order
//! as the spec gives them, `writeOnly`, `example`, `default` and bounds.
//! `openapiv3` puts a schema that fits none of its typed forms (properties
//! without `type`, say) in `AnySchema`; [`Shape::of`] reads both the same
//! way.

use openapiv3::{
    AdditionalProperties, AnySchema, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use super::model::ref_name;

/// One schema, as a generator reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shape {
    /// What it is.
    pub kind: ShapeKind,
    /// `null` is a value.
    pub nullable: bool,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Marked `writeOnly`.
    pub write_only: bool,
    /// The spec's `example`.
    pub example: Option<Value>,
    /// The spec's `default`.
    pub default: Option<Value>,
}

/// The kinds of schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ShapeKind {
    /// No constraint.
    #[default]
    Any,
    /// Only `null`.
    Null,
    /// A component schema, by name.
    Ref(String),
    /// A string.
    String(StringShape),
    /// An integer.
    Integer(NumberShape),
    /// A number.
    Number(NumberShape),
    /// A boolean.
    Boolean,
    /// An array.
    Array {
        /// The items.
        items: Box<Shape>,
        /// `minItems`.
        min_items: Option<usize>,
    },
    /// An object.
    Object(ObjectShape),
    /// `oneOf`.
    OneOf(Vec<Shape>),
    /// `anyOf`.
    AnyOf(Vec<Shape>),
    /// `allOf`.
    AllOf(Vec<Shape>),
}

/// A string's constraints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StringShape {
    /// `format`.
    pub format: Option<String>,
    /// `enum` values, in spec order (empty: no enum).
    pub values: Vec<String>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `minLength`.
    pub min_length: Option<usize>,
    /// `maxLength`.
    pub max_length: Option<usize>,
}

/// A number's or integer's constraints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumberShape {
    /// `format`.
    pub format: Option<String>,
    /// `enum` values, in spec order (empty: no enum).
    pub values: Vec<Value>,
    /// `minimum` (after the 3.1 rewrite).
    pub minimum: Option<f64>,
    /// `maximum`.
    pub maximum: Option<f64>,
    /// The minimum is exclusive.
    pub exclusive_minimum: bool,
    /// `multipleOf`.
    pub multiple_of: Option<f64>,
}

/// An object's properties.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectShape {
    /// Properties in spec order.
    pub properties: Vec<(String, Shape)>,
    /// Names listed in `required`.
    pub required: Vec<String>,
    /// The schema of other properties, when they are described.
    pub additional: Option<Box<Shape>>,
}

impl ObjectShape {
    /// Whether `name` is listed in `required`.
    pub fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }
}

impl Shape {
    /// A shape of `kind` without annotations.
    pub fn new(kind: ShapeKind) -> Shape {
        Shape {
            kind,
            ..Shape::default()
        }
    }

    /// Reads a schema or reference.
    pub fn of(schema: &ReferenceOr<Schema>) -> Shape {
        match schema {
            ReferenceOr::Reference { reference } => Shape::new(ShapeKind::Ref(ref_name(reference))),
            ReferenceOr::Item(schema) => Shape::of_schema(schema),
        }
    }

    /// Reads a boxed schema or reference (properties, items).
    pub fn of_boxed(schema: &ReferenceOr<Box<Schema>>) -> Shape {
        match schema {
            ReferenceOr::Reference { reference } => Shape::new(ShapeKind::Ref(ref_name(reference))),
            ReferenceOr::Item(schema) => Shape::of_schema(schema),
        }
    }

    /// Reads a schema.
    pub fn of_schema(schema: &Schema) -> Shape {
        let data = &schema.schema_data;
        let kind = match &schema.schema_kind {
            SchemaKind::Type(Type::String(t)) => ShapeKind::String(StringShape {
                format: match &t.format {
                    VariantOrUnknownOrEmpty::Item(f) => Some(string_format(f).to_owned()),
                    VariantOrUnknownOrEmpty::Unknown(f) => Some(f.clone()),
                    VariantOrUnknownOrEmpty::Empty => None,
                },
                values: t.enumeration.iter().flatten().cloned().collect(),
                pattern: t.pattern.clone(),
                min_length: t.min_length,
                max_length: t.max_length,
            }),
            SchemaKind::Type(Type::Number(t)) => ShapeKind::Number(NumberShape {
                format: format_name(&t.format),
                values: t
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|n| serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number))
                    .collect(),
                minimum: t.minimum,
                maximum: t.maximum,
                exclusive_minimum: t.exclusive_minimum,
                multiple_of: t.multiple_of,
            }),
            SchemaKind::Type(Type::Integer(t)) => ShapeKind::Integer(NumberShape {
                format: format_name(&t.format),
                values: t
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|n| Value::from(*n))
                    .collect(),
                minimum: t.minimum.map(|n| n as f64),
                maximum: t.maximum.map(|n| n as f64),
                exclusive_minimum: t.exclusive_minimum,
                multiple_of: t.multiple_of.map(|n| n as f64),
            }),
            SchemaKind::Type(Type::Boolean(_)) => ShapeKind::Boolean,
            SchemaKind::Type(Type::Object(o)) => ShapeKind::Object(object(
                o.properties.iter(),
                &o.required,
                o.additional_properties.as_ref(),
            )),
            SchemaKind::Type(Type::Array(a)) => ShapeKind::Array {
                items: Box::new(
                    a.items
                        .as_ref()
                        .map_or_else(Shape::default, Shape::of_boxed),
                ),
                min_items: a.min_items,
            },
            SchemaKind::OneOf { one_of } => {
                ShapeKind::OneOf(one_of.iter().map(Shape::of).collect())
            }
            SchemaKind::AnyOf { any_of } => {
                ShapeKind::AnyOf(any_of.iter().map(Shape::of).collect())
            }
            SchemaKind::AllOf { all_of } => {
                ShapeKind::AllOf(all_of.iter().map(Shape::of).collect())
            }
            SchemaKind::Not { .. } => ShapeKind::Any,
            SchemaKind::Any(any) => of_any(any),
        };
        Shape {
            kind,
            nullable: data.nullable,
            deprecated: data.deprecated,
            write_only: data.write_only,
            example: data.example.clone(),
            default: data.default.clone(),
        }
    }

    /// The branches of a `oneOf`/`anyOf`, if this is one.
    pub fn branches(&self) -> Option<&[Shape]> {
        match &self.kind {
            ShapeKind::OneOf(b) | ShapeKind::AnyOf(b) => Some(b),
            _ => None,
        }
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

fn format_name<T: serde::Serialize>(format: &VariantOrUnknownOrEmpty<T>) -> Option<String> {
    match format {
        VariantOrUnknownOrEmpty::Item(f) => serde_json::to_value(f)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned)),
        VariantOrUnknownOrEmpty::Unknown(f) => Some(f.clone()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

fn object<'a>(
    properties: impl Iterator<Item = (&'a String, &'a ReferenceOr<Box<Schema>>)>,
    required: &[String],
    additional: Option<&AdditionalProperties>,
) -> ObjectShape {
    ObjectShape {
        properties: properties
            .map(|(name, schema)| (name.clone(), Shape::of_boxed(schema)))
            .collect(),
        required: required.to_vec(),
        additional: match additional {
            None | Some(AdditionalProperties::Any(false)) => None,
            Some(AdditionalProperties::Any(true)) => Some(Box::default()),
            Some(AdditionalProperties::Schema(schema)) => Some(Box::new(Shape::of(schema))),
        },
    }
}

/// What `openapiv3` could not type: read by the keywords present.
fn of_any(any: &AnySchema) -> ShapeKind {
    for (branches, make) in [
        (&any.one_of, ShapeKind::OneOf as fn(Vec<Shape>) -> ShapeKind),
        (&any.any_of, ShapeKind::AnyOf),
        (&any.all_of, ShapeKind::AllOf),
    ] {
        if !branches.is_empty() {
            return make(branches.iter().map(Shape::of).collect());
        }
    }
    let strings = || StringShape {
        format: any.format.clone(),
        values: any
            .enumeration
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        pattern: any.pattern.clone(),
        min_length: any.min_length,
        max_length: any.max_length,
    };
    let numbers = || NumberShape {
        format: any.format.clone(),
        values: any
            .enumeration
            .iter()
            .filter(|v| v.is_number())
            .cloned()
            .collect(),
        minimum: any.minimum,
        maximum: any.maximum,
        exclusive_minimum: any.exclusive_minimum.unwrap_or(false),
        multiple_of: any.multiple_of,
    };
    let object = || {
        ShapeKind::Object(object(
            any.properties.iter(),
            &any.required,
            any.additional_properties.as_ref(),
        ))
    };
    let array = || ShapeKind::Array {
        items: Box::new(
            any.items
                .as_ref()
                .map_or_else(Shape::default, Shape::of_boxed),
        ),
        min_items: any.min_items,
    };
    match any.typ.as_deref() {
        Some("object") => object(),
        Some("array") => array(),
        Some("string") => ShapeKind::String(strings()),
        Some("integer") => ShapeKind::Integer(numbers()),
        Some("number") => ShapeKind::Number(numbers()),
        Some("boolean") => ShapeKind::Boolean,
        Some(_) => ShapeKind::Any,
        None if !any.enumeration.is_empty() && any.enumeration.iter().all(Value::is_null) => {
            ShapeKind::Null
        }
        None if !any.properties.is_empty() || any.additional_properties.is_some() => object(),
        None if any.items.is_some() => array(),
        None if !any.enumeration.is_empty()
            && any.enumeration.iter().all(|v| v.is_string() || v.is_null()) =>
        {
            ShapeKind::String(strings())
        }
        None => ShapeKind::Any,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape(value: Value) -> Shape {
        let schema: ReferenceOr<Schema> = serde_json::from_value(value).unwrap();
        Shape::of(&schema)
    }

    #[test]
    fn order_and_annotations_are_kept() {
        let s = shape(json!({"properties": {
            "b": {"type": "string", "enum": ["z", "a"], "writeOnly": true, "example": "z"},
            "a": {"type": "integer", "minimum": 5, "default": 7, "nullable": true}},
            "required": ["b"]}));
        let ShapeKind::Object(o) = &s.kind else {
            panic!("{s:?}")
        };
        // Property order is the JSON object's (alphabetical, as serde_json
        // keeps it).
        assert_eq!(o.properties[1].0, "b");
        assert!(o.is_required("b") && !o.is_required("a"));
        let b = &o.properties[1].1;
        assert!(b.write_only);
        assert_eq!(b.example, Some(json!("z")));
        assert!(matches!(&b.kind, ShapeKind::String(s) if s.values == ["z", "a"]));
        let a = &o.properties[0].1;
        assert!(a.nullable);
        assert_eq!(a.default, Some(json!(7)));
        assert!(matches!(&a.kind, ShapeKind::Integer(n) if n.minimum == Some(5.0)));
    }

    #[test]
    fn references_unions_and_maps() {
        assert_eq!(
            shape(json!({"$ref": "#/components/schemas/Foo"})).kind,
            ShapeKind::Ref("Foo".into())
        );
        let s = shape(json!({"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "string"}]}));
        assert_eq!(s.branches().map(<[Shape]>::len), Some(2));
        let s = shape(json!({"type": "object", "additionalProperties": {"type": "string"}}));
        let ShapeKind::Object(o) = s.kind else {
            panic!()
        };
        assert!(o.properties.is_empty());
        assert!(matches!(
            o.additional.as_deref().map(|a| &a.kind),
            Some(ShapeKind::String(_))
        ));
    }
}
