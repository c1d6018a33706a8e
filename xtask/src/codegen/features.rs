//! Which cargo features compile each generated item.
//!
//! The types and client crates have one feature per area: per generated
//! module, named after it in kebab case (`api_keys` -> `api-keys`). The
//! modules of schemas no operation uses (`[unreferenced_modules]` and
//! `unreferenced`) are areas too. The `common` module is not: it holds
//! types several areas reach, and each of them is compiled when any of
//! those areas is on.
//!
//! An item's areas are found by walking the plan: from every operation
//! through its path, query, body, result and page item types, and on
//! through struct fields, union branches and aliases. A type reached by
//! no operation belongs to its own module's area, and what it refers to
//! is walked from it. Walking is transitive, so a compiled type always
//! finds every type it names compiled too.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::{Body, Paging, Plan, Ty};

/// The module of types shared by several areas (no feature of its own).
pub const COMMON: &str = "common";

/// The feature of a module: its name in kebab case.
pub fn feature_name(module: &str) -> String {
    module.replace('_', "-")
}

/// The modules that get a feature, in plan order, with their titles.
pub fn areas(plan: &Plan) -> Vec<(String, String)> {
    plan.modules
        .iter()
        .filter(|m| m.name != COMMON)
        .filter(|m| {
            plan.types.values().any(|t| t.module == m.name)
                || plan.operations.iter().any(|o| o.module == m.name)
        })
        .map(|m| (m.name.clone(), m.title.clone()))
        .collect()
}

/// The areas (module names) that compile each type and parameter struct.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// By type name (wire types).
    pub types: BTreeMap<String, BTreeSet<String>>,
    /// By parameter struct name.
    pub params: BTreeMap<String, BTreeSet<String>>,
}

impl Reach {
    /// Walks `plan`.
    pub fn of(plan: &Plan) -> Self {
        let mut reach = Reach::default();
        for op in &plan.operations {
            let mut roots: Vec<&Ty> = Vec::new();
            roots.extend(op.body.as_ref());
            roots.extend(op.output.as_ref());
            match &op.paging {
                Paging::Cursor { item, .. } | Paging::Offset { item, .. } => roots.push(item),
                Paging::None => {}
            }
            for params in [&op.path_type, &op.query_type].into_iter().flatten() {
                reach
                    .params
                    .entry(params.clone())
                    .or_default()
                    .insert(op.module.clone());
                if let Some(def) = plan.params.get(params) {
                    roots.extend(def.params.iter().map(|p| &p.ty));
                }
            }
            for ty in roots {
                reach.walk(plan, ty, &op.module);
            }
        }
        let unreached: Vec<(String, String)> = plan
            .types
            .values()
            .filter(|t| !reach.types.contains_key(&t.name))
            .map(|t| (t.name.clone(), t.module.clone()))
            .collect();
        for (name, module) in unreached {
            reach.walk(plan, &Ty::Named(name), &module);
        }
        reach
    }

    fn walk(&mut self, plan: &Plan, ty: &Ty, area: &str) {
        match ty {
            Ty::Vec(inner) | Ty::Map(inner) => self.walk(plan, inner, area),
            Ty::Named(name) => {
                let Some(def) = plan.types.get(name) else {
                    return;
                };
                if !self
                    .types
                    .entry(name.clone())
                    .or_default()
                    .insert(area.to_owned())
                {
                    return;
                }
                match &def.body {
                    Body::Struct(s) => {
                        for f in &s.fields {
                            self.walk(plan, &f.ty, area);
                        }
                        if let Some(additional) = &s.additional {
                            self.walk(plan, additional, area);
                        }
                    }
                    Body::Union(branches) => {
                        for b in branches {
                            self.walk(plan, &b.ty, area);
                        }
                    }
                    Body::Alias(inner) => self.walk(plan, inner, area),
                    Body::Enum(_) => {}
                }
            }
            _ => {}
        }
    }

    /// The areas of a type (empty for a name the plan does not define).
    pub fn of_type(&self, name: &str) -> BTreeSet<String> {
        self.types.get(name).cloned().unwrap_or_default()
    }

    /// The areas of a parameter struct.
    pub fn of_params(&self, name: &str) -> BTreeSet<String> {
        self.params.get(name).cloned().unwrap_or_default()
    }
}

/// The condition "any of these areas is on", for `cfg(...)`; `None` for no
/// area (always compiled).
pub fn condition(areas: &BTreeSet<String>) -> Option<String> {
    let features: Vec<String> = areas
        .iter()
        .map(|a| format!("feature = \"{}\"", feature_name(a)))
        .collect();
    match features.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(format!("any({})", many.join(", "))),
    }
}

/// `#[cfg(...)]` and a newline for `areas`, or nothing.
pub fn cfg_line(areas: &BTreeSet<String>) -> String {
    condition(areas).map_or_else(String::new, |c| format!("#[cfg({c})]\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned_plan() -> Plan {
        let root = crate::workspace::root();
        let api = crate::spec::load::load_file(&crate::testing::pinned_spec()).unwrap();
        let overrides =
            super::super::overrides::Overrides::load(&root.join(super::super::OVERRIDES)).unwrap();
        super::super::plan::plan(&api, &overrides).unwrap()
    }

    /// The `[features]` table of a crate under `crates/`.
    fn features_of(krate: &str) -> BTreeMap<String, Vec<String>> {
        let path = crate::workspace::root().join(format!("crates/{krate}/Cargo.toml"));
        let text = std::fs::read_to_string(path).unwrap();
        let manifest: toml::Table = toml::from_str(&text).unwrap();
        let table = manifest["features"].as_table().unwrap();
        table
            .iter()
            .map(|(name, list)| {
                let list = list.as_array().unwrap();
                let items = list.iter().map(|v| v.as_str().unwrap().to_owned());
                (name.clone(), items.collect())
            })
            .collect()
    }

    fn readme_of(krate: &str) -> String {
        let path = crate::workspace::root().join(format!("crates/{krate}/README.md"));
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn the_types_crate_has_a_feature_per_generated_area_all_on_by_default() {
        let plan = pinned_plan();
        let wanted: Vec<String> = areas(&plan).iter().map(|(m, _)| feature_name(m)).collect();
        let features = features_of("clickhouse-cloud-types");
        let mut declared: Vec<&String> = features
            .keys()
            .filter(|f| !matches!(f.as_str(), "default" | "schema"))
            .collect();
        declared.sort();
        let mut sorted: Vec<&String> = wanted.iter().collect();
        sorted.sort();
        assert_eq!(
            declared, sorted,
            "crates/clickhouse-cloud-types/Cargo.toml [features]"
        );
        assert_eq!(
            features["default"], wanted,
            "`default` lists every area in plan order"
        );
        let readme = readme_of("clickhouse-cloud-types");
        for f in &wanted {
            assert!(features[f].is_empty(), "`{f}` enables nothing else");
            assert!(readme.contains(&format!("`{f}`")), "the README lists `{f}`");
        }
    }

    #[test]
    fn the_client_has_a_feature_per_area_with_operations_enabling_the_types_one() {
        let plan = pinned_plan();
        let wanted: Vec<String> = areas(&plan)
            .iter()
            .filter(|(m, _)| plan.operations.iter().any(|o| o.module == *m))
            .map(|(m, _)| feature_name(m))
            .collect();
        assert!(wanted.contains(&"api-keys".to_owned()), "{wanted:?}");
        let features = features_of("clickhouse-cloud-client");
        let mut declared: Vec<&String> = features.keys().filter(|f| *f != "default").collect();
        declared.sort();
        let mut sorted: Vec<&String> = wanted.iter().collect();
        sorted.sort();
        assert_eq!(
            declared, sorted,
            "crates/clickhouse-cloud-client/Cargo.toml [features]"
        );
        assert_eq!(
            features["default"], wanted,
            "`default` lists every area in plan order"
        );
        let readme = readme_of("clickhouse-cloud-client");
        for f in &wanted {
            let types = format!("clickhouse-cloud-types/{f}");
            assert!(features[f].contains(&types), "`{f}` enables `{types}`");
            assert!(readme.contains(&format!("`{f}`")), "the README lists `{f}`");
        }
    }

    #[test]
    fn every_type_is_compiled_by_some_area_and_shared_types_by_each_user() {
        let plan = pinned_plan();
        let reach = Reach::of(&plan);
        for t in plan.types.values() {
            assert!(!reach.of_type(&t.name).is_empty(), "{} has no area", t.name);
        }
        for op in &plan.operations {
            for ty in op.body.iter().chain(&op.output) {
                if let Ty::Named(name) = ty {
                    assert!(
                        reach.of_type(name).contains(&op.module),
                        "{name} is not compiled with {}",
                        op.module
                    );
                }
            }
        }
        let shared = plan
            .types
            .values()
            .filter(|t| t.module == COMMON)
            .find(|t| reach.of_type(&t.name).len() > 1);
        assert!(shared.is_some(), "some common type is shared by areas");
    }

    #[test]
    fn conditions_name_one_feature_or_any_of_several() {
        let one = BTreeSet::from(["api_keys".to_owned()]);
        assert_eq!(cfg_line(&one), "#[cfg(feature = \"api-keys\")]\n");
        let two = BTreeSet::from(["services".to_owned(), "api_keys".to_owned()]);
        assert_eq!(
            condition(&two).as_deref(),
            Some("any(feature = \"api-keys\", feature = \"services\")")
        );
        assert_eq!(cfg_line(&BTreeSet::new()), "");
    }
}
