//! Structural comparison of two [`Node`]s, shared by `spec-diff` (old spec
//! against new spec) and `check-spec` (spec against Rust types).

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Kind, Node, Object, Scalar, ScalarType};

/// What differs at one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// A property only the new side has.
    PropertyAdded,
    /// A property only the old side has.
    PropertyRemoved,
    /// Different JSON types (or shapes).
    Type,
    /// Same type, different `format`.
    Format,
    /// Enum values only the new side has.
    EnumValuesAdded,
    /// Enum values only the old side has.
    EnumValuesRemoved,
    /// One side restricts values with `enum`, the other does not.
    EnumConstraint,
    /// Optional on the old side, required on the new.
    BecameRequired,
    /// Required on the old side, optional on the new.
    BecameOptional,
    /// `null` allowed on one side only.
    Nullable,
    /// Deprecated on one side only.
    Deprecated,
    /// References to different named schemas.
    Reference,
    /// Additional properties (map values) differ.
    AdditionalProperties,
}

impl ChangeKind {
    /// A short name, also used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::PropertyAdded => "property-added",
            ChangeKind::PropertyRemoved => "property-removed",
            ChangeKind::Type => "type",
            ChangeKind::Format => "format",
            ChangeKind::EnumValuesAdded => "enum-values-added",
            ChangeKind::EnumValuesRemoved => "enum-values-removed",
            ChangeKind::EnumConstraint => "enum-constraint",
            ChangeKind::BecameRequired => "became-required",
            ChangeKind::BecameOptional => "became-optional",
            ChangeKind::Nullable => "nullable",
            ChangeKind::Deprecated => "deprecated",
            ChangeKind::Reference => "reference",
            ChangeKind::AdditionalProperties => "additional-properties",
        }
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// Where: `Schema.property`, `Schema.list[]`, `operationId body`, ...
    pub at: String,
    /// What.
    pub kind: ChangeKind,
    /// The old (spec) side, described.
    pub old: String,
    /// The new (Rust, or newer spec) side, described.
    pub new: String,
}

/// What the two sides are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Two versions of the spec: everything must be equal.
    SpecToSpec,
    /// The spec (old) against the Rust types (new). What the Rust side
    /// expresses differently is not a difference:
    /// - integer widths and `double` are details of the Rust side;
    /// - a reference on one side and an inline schema on the other are
    ///   compared by structure, and an `allOf` with the object that merges
    ///   its parts;
    /// - the branches of a union of scalars are compared in any order;
    /// - a Rust value that takes any JSON accepts a spec `null`;
    /// - numbers restricted by `enum` are plain numbers in Rust (the values
    ///   are in the field's docs);
    /// - string formats other than `uuid`, `date-time` and `date` (`email`,
    ///   `uri`, `password`, ...) are plain strings in Rust (a secret is a
    ///   `SecretValue`, which `check-spec` lists on its own).
    SpecToRust,
}

/// Compares nodes, collecting [`Change`]s.
#[derive(Debug)]
pub struct Comparer<'a> {
    mode: Mode,
    old_schemas: &'a BTreeMap<String, Node>,
    new_schemas: &'a BTreeMap<String, Node>,
    /// The differences found so far.
    pub changes: Vec<Change>,
    /// Old-side named schemas compared by structure with an inline new side.
    pub old_inlined: BTreeSet<String>,
    /// New-side named schemas compared by structure with an inline old side.
    pub new_inlined: BTreeSet<String>,
    depth: usize,
}

const MAX_DEPTH: usize = 32;

impl<'a> Comparer<'a> {
    /// A comparer; the schema maps resolve references in `SpecToRust` mode.
    pub fn new(
        mode: Mode,
        old_schemas: &'a BTreeMap<String, Node>,
        new_schemas: &'a BTreeMap<String, Node>,
    ) -> Comparer<'a> {
        Comparer {
            mode,
            old_schemas,
            new_schemas,
            changes: Vec::new(),
            old_inlined: BTreeSet::new(),
            new_inlined: BTreeSet::new(),
            depth: 0,
        }
    }

    fn push(&mut self, at: &str, kind: ChangeKind, old: impl Into<String>, new: impl Into<String>) {
        self.changes.push(Change {
            at: at.to_owned(),
            kind,
            old: old.into(),
            new: new.into(),
        });
    }

    /// Compares two uses of a schema at `at`.
    pub fn compare(&mut self, old: &Node, new: &Node, at: &str) {
        if old.nullable != new.nullable {
            let say = |n: bool| if n { "nullable" } else { "not nullable" };
            self.push(
                at,
                ChangeKind::Nullable,
                say(old.nullable),
                say(new.nullable),
            );
        }
        if old.deprecated != new.deprecated {
            let say = |d: bool| if d { "deprecated" } else { "not deprecated" };
            self.push(
                at,
                ChangeKind::Deprecated,
                say(old.deprecated),
                say(new.deprecated),
            );
        }
        self.compare_kind(old, new, at);
    }

    fn compare_kind(&mut self, old: &Node, new: &Node, at: &str) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        let mixed = self.mode == Mode::SpecToRust;
        match (&old.kind, &new.kind) {
            (Kind::Ref(a), Kind::Ref(b)) => {
                if a != b {
                    self.push(at, ChangeKind::Reference, a, b);
                }
            }
            (Kind::Ref(a), _) if mixed && self.old_schemas.contains_key(a) => {
                self.old_inlined.insert(a.clone());
                let target = &self.old_schemas[a];
                self.compare_kind(target, new, at);
            }
            (_, Kind::Ref(b)) if mixed && self.new_schemas.contains_key(b) => {
                self.new_inlined.insert(b.clone());
                let target = &self.new_schemas[b];
                self.compare_kind(old, target, at);
            }
            (Kind::Scalar(a), Kind::Scalar(b)) => self.compare_scalar(a, b, at),
            (Kind::Union(crate::spec::model::Combinator::AllOf, parts), Kind::Object(b))
                if mixed =>
            {
                match self.merge_all_of(parts) {
                    Some(merged) => self.compare_object(&merged, b, at),
                    None => self.push(at, ChangeKind::Type, old.label(), new.label()),
                }
            }
            (Kind::Null, Kind::Any) if mixed => {}
            (Kind::Union(ca, a), Kind::Union(cb, b))
                if mixed
                    && a.len() == b.len()
                    && a.iter().chain(b).all(|n| matches!(n.kind, Kind::Scalar(_))) =>
            {
                let sorted = |list: &[Node]| {
                    let mut list = list.to_vec();
                    list.sort_by_key(Node::label);
                    list
                };
                for (i, (x, y)) in sorted(a).iter().zip(sorted(b)).enumerate() {
                    self.compare(x, &y, &format!("{at}<{}>", i + 1));
                }
            }
            (Kind::Array(a), Kind::Array(b)) => self.compare(a, b, &format!("{at}[]")),
            (Kind::Object(a), Kind::Object(b)) => self.compare_object(a, b, at),
            (Kind::Union(ca, a), Kind::Union(cb, b))
                if a.len() == b.len() && (ca == cb || mixed) =>
            {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    self.compare(x, y, &format!("{at}<{}>", i + 1));
                }
            }
            (Kind::Union(ca, a), Kind::Union(cb, b)) if ca == cb || mixed => {
                let labels = |n: &[Node]| n.iter().map(Node::label).collect::<BTreeSet<_>>();
                let (la, lb) = (labels(a), labels(b));
                let added: Vec<&String> = lb.difference(&la).collect();
                let removed: Vec<&String> = la.difference(&lb).collect();
                let mut new_text = format!("{} of {}", cb.name(), b.len());
                for (what, list) in [("added", &added), ("removed", &removed)] {
                    if !list.is_empty() {
                        let list: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
                        new_text.push_str(&format!("; {what} {}", list.join(", ")));
                    }
                }
                self.push(
                    at,
                    ChangeKind::Type,
                    format!("{} of {}", ca.name(), a.len()),
                    new_text,
                );
            }
            (Kind::Not(a), Kind::Not(b)) => self.compare(a, b, &format!("{at}<not>")),
            (Kind::Any, Kind::Any) | (Kind::Null, Kind::Null) => {}
            _ => self.push(at, ChangeKind::Type, old.label(), new.label()),
        }
        self.depth -= 1;
    }

    fn compare_scalar(&mut self, old: &Scalar, new: &Scalar, at: &str) {
        if old.ty != new.ty {
            self.push(at, ChangeKind::Type, old.ty.name(), new.ty.name());
            return;
        }
        if !self.formats_match(old.ty, old.format.as_deref(), new.format.as_deref()) {
            let say = |f: &Option<String>| f.clone().unwrap_or_else(|| "no format".into());
            self.push(at, ChangeKind::Format, say(&old.format), say(&new.format));
        }
        match (&old.values, &new.values) {
            (Some(a), Some(b)) => {
                let added: Vec<&str> = b.difference(a).map(String::as_str).collect();
                let removed: Vec<&str> = a.difference(b).map(String::as_str).collect();
                if !added.is_empty() {
                    self.push(at, ChangeKind::EnumValuesAdded, "", added.join(", "));
                }
                if !removed.is_empty() {
                    self.push(at, ChangeKind::EnumValuesRemoved, removed.join(", "), "");
                }
            }
            (Some(_), None)
                if self.mode == Mode::SpecToRust
                    && matches!(new.ty, ScalarType::Integer | ScalarType::Number) => {}
            (Some(a), None) => self.push(
                at,
                ChangeKind::EnumConstraint,
                format!("one of {} values", a.len()),
                format!("any {}", new.ty.name()),
            ),
            (None, Some(b)) => self.push(
                at,
                ChangeKind::EnumConstraint,
                format!("any {}", old.ty.name()),
                format!("one of {} values", b.len()),
            ),
            (None, None) => {}
        }
    }

    fn formats_match(&self, ty: ScalarType, old: Option<&str>, new: Option<&str>) -> bool {
        if old == new {
            return true;
        }
        if self.mode == Mode::SpecToSpec {
            return false;
        }
        const NARROW: &[&str] = &["int8", "int16", "int32", "uint8", "uint16"];
        const WIDE: &[&str] = &[
            "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
        ];
        const TYPED: &[&str] = &["uuid", "date-time", "date"];
        match (ty, old) {
            (ScalarType::String, _) => {
                !old.is_some_and(|f| TYPED.contains(&f)) && !new.is_some_and(|f| TYPED.contains(&f))
            }
            // The spec leaves the width open: any Rust integer width will do.
            (ScalarType::Integer, None) => true,
            (ScalarType::Integer, Some("int32")) => new.is_some_and(|f| NARROW.contains(&f)),
            (ScalarType::Integer, Some("int64")) => new.is_some_and(|f| WIDE.contains(&f)),
            (ScalarType::Number, None | Some("double" | "float")) => {
                matches!(new, Some("double" | "float") | None)
            }
            _ => false,
        }
    }

    /// The object an `allOf` of objects (and references to them) stands for.
    fn merge_all_of(&self, parts: &[Node]) -> Option<Object> {
        let mut merged = Object::default();
        for part in parts {
            let part = match &part.kind {
                Kind::Ref(name) => self.old_schemas.get(name)?,
                _ => part,
            };
            let object = match &part.kind {
                Kind::Object(o) => o.clone(),
                Kind::Union(crate::spec::model::Combinator::AllOf, inner) => {
                    self.merge_all_of(inner)?
                }
                _ => return None,
            };
            for (name, node) in object.properties {
                merged.properties.entry(name).or_insert(node);
            }
            merged.required.extend(object.required);
            if object.additional.is_some() {
                merged.additional = object.additional;
            }
        }
        Some(merged)
    }

    fn compare_object(&mut self, old: &Object, new: &Object, at: &str) {
        let names: BTreeSet<&String> = old.properties.keys().chain(new.properties.keys()).collect();
        for name in names {
            let here = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            match (old.properties.get(name), new.properties.get(name)) {
                (Some(o), Some(n)) => {
                    self.compare(o, n, &here);
                    match (old.required.contains(name), new.required.contains(name)) {
                        (false, true) => {
                            self.push(&here, ChangeKind::BecameRequired, "optional", "required");
                        }
                        (true, false) => {
                            self.push(&here, ChangeKind::BecameOptional, "required", "optional");
                        }
                        _ => {}
                    }
                }
                (Some(o), None) => self.push(&here, ChangeKind::PropertyRemoved, o.label(), ""),
                (None, Some(n)) => self.push(&here, ChangeKind::PropertyAdded, "", n.label()),
                (None, None) => {}
            }
        }
        match (&old.additional, &new.additional) {
            (Some(a), Some(b)) => self.compare(a, b, &format!("{at}{{*}}")),
            (None, None) => {}
            (a, b) => {
                let say = |x: &Option<Box<Node>>| {
                    x.as_ref().map_or("no other properties".to_owned(), |n| {
                        format!("other properties: {}", n.label())
                    })
                };
                self.push(at, ChangeKind::AdditionalProperties, say(a), say(b));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model::{Combinator, Scalar};

    fn string(format: Option<&str>, values: Option<&[&str]>) -> Node {
        Node::new(Kind::Scalar(Scalar {
            ty: ScalarType::String,
            format: format.map(Into::into),
            values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
        }))
    }

    fn integer(format: Option<&str>) -> Node {
        Node::new(Kind::Scalar(Scalar {
            ty: ScalarType::Integer,
            format: format.map(Into::into),
            values: None,
        }))
    }

    fn object(props: &[(&str, Node)], required: &[&str]) -> Node {
        Node::new(Kind::Object(Object {
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            required: required.iter().map(|s| s.to_string()).collect(),
            additional: None,
        }))
    }

    fn diff(mode: Mode, old: &Node, new: &Node) -> Vec<(String, ChangeKind, String, String)> {
        let empty = BTreeMap::new();
        let mut c = Comparer::new(mode, &empty, &empty);
        c.compare(old, new, "X");
        c.changes
            .into_iter()
            .map(|c| (c.at, c.kind, c.old, c.new))
            .collect()
    }

    #[test]
    fn property_changes_are_named() {
        let old = object(
            &[
                ("a", string(None, None)),
                ("b", string(Some("uuid"), Some(&["x", "y"]))),
            ],
            &["a"],
        );
        let mut b = string(Some("date-time"), Some(&["y", "z"]));
        b.nullable = true;
        let new = object(&[("b", b), ("c", integer(None))], &["b"]);
        let changes = diff(Mode::SpecToSpec, &old, &new);
        let kinds: Vec<(&str, ChangeKind)> = changes.iter().map(|c| (c.0.as_str(), c.1)).collect();
        assert_eq!(
            kinds,
            [
                ("X.a", ChangeKind::PropertyRemoved),
                ("X.b", ChangeKind::Nullable),
                ("X.b", ChangeKind::Format),
                ("X.b", ChangeKind::EnumValuesAdded),
                ("X.b", ChangeKind::EnumValuesRemoved),
                ("X.b", ChangeKind::BecameRequired),
                ("X.c", ChangeKind::PropertyAdded),
            ]
        );
        assert_eq!(changes[2].2, "uuid");
        assert_eq!(changes[2].3, "date-time");
        assert_eq!(changes[3].3, "z");
        assert_eq!(changes[4].2, "x");
    }

    #[test]
    fn rust_integer_widths_are_details() {
        assert!(diff(Mode::SpecToRust, &integer(None), &integer(Some("uint16"))).is_empty());
        assert!(
            diff(
                Mode::SpecToRust,
                &integer(Some("int64")),
                &integer(Some("int32"))
            )
            .is_empty()
        );
        assert_eq!(
            diff(
                Mode::SpecToRust,
                &integer(Some("int32")),
                &integer(Some("int64"))
            )
            .len(),
            1
        );
        assert_eq!(
            diff(Mode::SpecToSpec, &integer(None), &integer(Some("int64"))).len(),
            1
        );
    }

    #[test]
    fn refs_and_inline_schemas_compare_by_structure_for_rust() {
        let mut old_schemas = BTreeMap::new();
        old_schemas.insert("E".to_string(), string(None, Some(&["a"])));
        let new_schemas = BTreeMap::new();
        let mut c = Comparer::new(Mode::SpecToRust, &old_schemas, &new_schemas);
        c.compare(
            &Node::new(Kind::Ref("E".into())),
            &string(None, Some(&["a", "b"])),
            "X.e",
        );
        assert_eq!(c.changes.len(), 1);
        assert_eq!(c.changes[0].kind, ChangeKind::EnumValuesAdded);
        assert!(c.old_inlined.contains("E"));
        let r = diff(
            Mode::SpecToSpec,
            &Node::new(Kind::Ref("E".into())),
            &Node::new(Kind::Ref("F".into())),
        );
        assert_eq!(
            r,
            [("X".into(), ChangeKind::Reference, "E".into(), "F".into())]
        );
    }

    #[test]
    fn arrays_and_unions_recurse() {
        let old = Node::new(Kind::Array(Box::new(string(None, None))));
        let new = Node::new(Kind::Array(Box::new(integer(None))));
        assert_eq!(
            diff(Mode::SpecToSpec, &old, &new),
            [(
                "X[]".into(),
                ChangeKind::Type,
                "string".into(),
                "integer".into()
            )]
        );
        let old = Node::new(Kind::Union(
            Combinator::AnyOf,
            vec![string(None, None), integer(None)],
        ));
        let new = Node::new(Kind::Union(Combinator::OneOf, vec![string(None, None)]));
        assert_eq!(diff(Mode::SpecToSpec, &old, &new)[0].1, ChangeKind::Type);
    }
}
