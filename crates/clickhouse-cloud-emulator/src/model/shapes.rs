//! What each operation does to the generic store, read from the operation
//! table: its method and the shape of its path template.
//!
//! - A **collection** is a template `P` with a `POST` on `P` (or, for
//!   attachments, a `PUT` on `P/{x}`) and at least one operation on
//!   `P/{x}`: `GET P` lists it, `POST P` creates, `GET`/`PATCH`/`PUT`/
//!   `DELETE P/{x}` read, merge, replace and delete one item.
//! - A **singleton** is a template ending in a literal segment, not a
//!   collection, with a `GET` and at least one write on it: `GET` reads,
//!   `PATCH` merges, `POST`/`PUT` replace, `DELETE` resets to the default.
//!
//! [`EXCLUDED`] is the reviewed list of operations whose shape says store
//! but which the store must not answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use clickhouse_cloud_types::Method;
use serde_json::Value;

use crate::model::catalogue::example_result;

/// Operations that fit a shape but are not plain storage; they keep the
/// answer they have (an example, or hand-written behaviour).
pub(crate) const EXCLUDED: [&str; 0] = [];

/// The operations that act on a stored item rather than store one:
/// [`crate::model::lifecycles::act`] answers them.
pub(crate) const ACTIONS: [&str; 6] = [
    "postgresServicePatchState",
    "postgresServiceSetPassword",
    "postgresInstanceCreateReadReplica",
    "postgresInstanceRestore",
    "clickPipeStateUpdate",
    "clickPipeScalingUpdate",
];

/// Collections with a model of their own (services, keys, roles,
/// invitations): not kept by the generic store.
pub(crate) const BY_HAND: [&str; 4] = [
    "/v1/organizations/{organizationId}/services",
    "/v1/organizations/{organizationId}/keys",
    "/v1/organizations/{organizationId}/roles",
    "/v1/organizations/{organizationId}/invitations",
];

/// One operation as the table gives it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpInfo {
    pub(crate) id: &'static str,
    pub(crate) method: Method,
    pub(crate) template: &'static str,
}

/// How an item gets its identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    /// A fresh UUID.
    Uuid,
    /// A fresh 24-digit hexadecimal ID (what the example shows).
    Hex24,
    /// A number, one more than the highest so far (`version`).
    Counter,
    /// Given by the client in the body (`functionName`).
    Given,
    /// The last path segment of the request that creates it (`PUT P/{x}`).
    FromPath,
}

/// A collection of items.
#[derive(Debug, Clone)]
pub(crate) struct Collection {
    /// Template of the collection's path.
    pub(crate) template: &'static str,
    /// Name of the item's path parameter.
    pub(crate) param: String,
    /// The item field holding its identifier.
    pub(crate) id_field: String,
    pub(crate) id_kind: IdKind,
    /// An item as the spec's example shows it: the fields a stored item
    /// has, with the defaults for those a request leaves out.
    pub(crate) item: Value,
    /// Whether the list pages by cursor (`limit`, `cursor`, `nextCursor`).
    pub(crate) cursor_paged: bool,
    /// The fields a list shows of each item, when it shows fewer than a
    /// get (saved queries are listed without their SQL).
    pub(crate) listed: Option<Vec<String>>,
}

/// A value that exists once under its parent.
#[derive(Debug, Clone)]
pub(crate) struct Singleton {
    /// What it reads before anything is set, and after a delete.
    pub(crate) default: Value,
    /// Every field it can hold (the spec's example), for those the
    /// default leaves out.
    pub(crate) shape: Value,
}

/// What an operation does to the store.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    List(Collection),
    Create(Collection),
    Get(Collection),
    Merge(Collection),
    /// `PUT` on an item: replaces it, or (`upsert`) creates it.
    Replace(Collection, bool),
    Delete(Collection),
    Read(Singleton),
    MergeSingleton(Singleton),
    ReplaceSingleton(Singleton),
    Reset(Singleton),
    /// One of [`ACTIONS`].
    Action,
    /// One of [`crate::model::computed::COMPUTED`].
    Computed,
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// `P/{x}` as (`P`, `x`).
fn split_item(template: &str) -> Option<(&str, &str)> {
    let (parent, last) = template.rsplit_once('/')?;
    is_param(last).then(|| (parent, &last[1..last.len() - 1]))
}

fn looks_hex24(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every operation's shape, for those that have one.
pub(crate) fn classify(ops: &[OpInfo]) -> HashMap<&'static str, Shape> {
    let on = |template: &str, method: Method| {
        ops.iter()
            .find(|op| op.template == template && op.method == method)
    };
    // Collections: template -> item parameter.
    let mut collections: BTreeMap<&'static str, String> = BTreeMap::new();
    for op in ops {
        let Some((parent, param)) = split_item(op.template) else {
            continue;
        };
        let created = on(parent, Method::Post).is_some();
        let attached = op.method == Method::Put
            && on(parent, Method::Get).is_some()
            && on(parent, Method::Post).is_none();
        if (created || attached) && !BY_HAND.contains(&parent) {
            collections.insert(parent, param.to_owned());
        }
    }
    let built: BTreeMap<&str, Collection> = collections
        .iter()
        .map(|(template, param)| (*template, collection(ops, template, param)))
        .collect();
    let singles: BTreeSet<&'static str> = ops
        .iter()
        .map(|op| op.template)
        .filter(|template| {
            let last = template.rsplit('/').next().unwrap_or("");
            !is_param(last)
                && !built.contains_key(template)
                && !BY_HAND.contains(template)
                && on(template, Method::Get).is_some()
                && [Method::Post, Method::Put, Method::Patch, Method::Delete]
                    .iter()
                    .any(|method| on(template, *method).is_some())
        })
        .collect();

    let mut shapes = HashMap::new();
    for op in ops {
        if EXCLUDED.contains(&op.id) {
            continue;
        }
        let shape = if crate::model::computed::COMPUTED.contains(&op.id) {
            Shape::Computed
        } else if ACTIONS.contains(&op.id) {
            Shape::Action
        } else if let Some(found) = built.get(op.template) {
            match op.method {
                Method::Get => Shape::List(found.clone()),
                Method::Post => Shape::Create(found.clone()),
                _ => continue,
            }
        } else if let Some(found) = split_item(op.template).and_then(|(p, _)| built.get(p)) {
            let upsert = on(found.template, Method::Post).is_none();
            match op.method {
                Method::Get => Shape::Get(found.clone()),
                Method::Patch => Shape::Merge(found.clone()),
                Method::Put => Shape::Replace(found.clone(), upsert),
                Method::Delete => Shape::Delete(found.clone()),
                Method::Post => continue,
            }
        } else if singles.contains(op.template) {
            let read = on(op.template, Method::Get);
            let shape = read
                .and_then(|get| example_result(get.id))
                .cloned()
                .unwrap_or(Value::Null);
            let default = read
                .and_then(|get| crate::model::backups::default_config(get.id))
                .unwrap_or_else(|| shape.clone());
            let singleton = Singleton { default, shape };
            match op.method {
                Method::Get => Shape::Read(singleton),
                Method::Patch => Shape::MergeSingleton(singleton),
                Method::Post | Method::Put => Shape::ReplaceSingleton(singleton),
                Method::Delete => Shape::Reset(singleton),
            }
        } else {
            continue;
        };
        shapes.insert(op.id, shape);
    }
    shapes
}

/// A collection's item shape and identifiers, from its operations'
/// examples: the item `GET` first, then the create, then the list.
fn collection(ops: &[OpInfo], template: &'static str, param: &str) -> Collection {
    let item_template = format!("{template}/{{{param}}}");
    let example_of = |template: &str, method: Method| {
        ops.iter()
            .find(|op| op.template == template && op.method == method)
            .and_then(|op| example_result(op.id))
    };
    let item = example_of(&item_template, Method::Get)
        .or_else(|| example_of(template, Method::Post))
        .or_else(|| example_of(&item_template, Method::Put))
        .cloned()
        .or_else(|| example_of(template, Method::Get).and_then(|list| list.get(0).cloned()))
        .unwrap_or_else(|| Value::Object(Default::default()));
    let id_field = if item.get(param).is_some() {
        param.to_owned()
    } else {
        "id".to_owned()
    };
    let created = ops
        .iter()
        .any(|op| op.template == template && op.method == Method::Post);
    let sample = item.get(&id_field);
    let id_kind = if !created {
        IdKind::FromPath
    } else if sample.is_some_and(Value::is_number) {
        IdKind::Counter
    } else if id_field != "id" {
        IdKind::Given
    } else if sample.and_then(Value::as_str).is_some_and(looks_hex24) {
        IdKind::Hex24
    } else {
        IdKind::Uuid
    };
    let cursor_paged = ops
        .iter()
        .find(|op| op.template == template && op.method == Method::Get)
        .and_then(|op| crate::model::catalogue::examples().get(op.id))
        .is_some_and(|example| example.body.get("nextCursor").is_some());
    let listed = example_of(template, Method::Get)
        .and_then(|list| list.get(0))
        .and_then(Value::as_object)
        .map(|first| first.keys().cloned().collect::<Vec<_>>())
        .filter(|keys| {
            item.as_object()
                .is_some_and(|all| all.keys().any(|key| !keys.contains(key)))
        });
    Collection {
        template,
        param: param.to_owned(),
        id_field,
        id_kind,
        item,
        cursor_paged,
        listed,
    }
}

/// The shapes of the whole operation table, computed once.
pub(crate) struct Shapes {
    by_op: HashMap<&'static str, Shape>,
    /// Every collection, by template.
    pub(crate) collections: Vec<Collection>,
}

impl Shapes {
    /// The shape of operation `id`, if it has one.
    pub(crate) fn shape(&self, id: &str) -> Option<&Shape> {
        self.by_op.get(id)
    }
}

/// The shapes of the spec's operations.
pub(crate) fn table() -> &'static Shapes {
    static TABLE: std::sync::OnceLock<Shapes> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        struct Collect(Vec<OpInfo>);
        impl clickhouse_cloud_types::operation::OperationVisitor for Collect {
            fn visit<O: clickhouse_cloud_types::Operation>(&mut self) {
                self.0.push(OpInfo {
                    id: O::ID,
                    method: O::METHOD,
                    template: O::PATH,
                });
            }
        }
        let mut ops = Collect(Vec::new());
        clickhouse_cloud_types::ops::visit_all(&mut ops);
        let by_op = classify(&ops.0);
        let mut collections: Vec<Collection> = Vec::new();
        for shape in by_op.values() {
            if let Shape::List(c)
            | Shape::Create(c)
            | Shape::Get(c)
            | Shape::Merge(c)
            | Shape::Replace(c, _)
            | Shape::Delete(c) = shape
                && !collections.iter().any(|known| known.template == c.template)
            {
                collections.push(c.clone());
            }
        }
        collections.sort_by_key(|c| c.template);
        Shapes { by_op, collections }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gives_collections_singletons_and_their_ids() {
        let shapes = table();
        let collection = |id: &str| match shapes.shape(id) {
            Some(
                Shape::List(c)
                | Shape::Create(c)
                | Shape::Get(c)
                | Shape::Merge(c)
                | Shape::Replace(c, _)
                | Shape::Delete(c),
            ) => Some((c.id_field.clone(), c.id_kind, c.cursor_paged)),
            _ => None,
        };
        assert_eq!(
            collection("udfVersionCreate"),
            Some(("version".into(), IdKind::Counter, true))
        );
        assert_eq!(
            collection("udfCreate"),
            Some(("functionName".into(), IdKind::Given, true))
        );
        assert_eq!(
            collection("clickStackGetDashboard"),
            Some(("id".into(), IdKind::Hex24, false))
        );
        assert_eq!(
            collection("clickPipeGet"),
            Some(("id".into(), IdKind::Uuid, false))
        );
        assert!(matches!(
            shapes.shape("udfAttach"),
            Some(Shape::Replace(_, true))
        ));
        assert!(matches!(
            shapes.shape("upgradeWindowDelete"),
            Some(Shape::Reset(_))
        ));
        assert!(matches!(
            shapes.shape("scalingScheduleUpsert"),
            Some(Shape::ReplaceSingleton(_))
        ));
        assert!(matches!(
            shapes.shape("backupConfigurationUpdate"),
            Some(Shape::MergeSingleton(_))
        ));
        for computed in crate::model::computed::COMPUTED {
            assert!(
                matches!(shapes.shape(computed), Some(Shape::Computed)),
                "{computed}"
            );
        }
        // Actions, reports and hand-modelled resources have no shape.
        for none in [
            "clickStackValidateDashboard",
            "clickPipeSchemaDiscovery",
            "backupGet",
            "usageCostGet",
            "instanceCreate",
            "openapiKeyGet",
        ] {
            assert!(shapes.shape(none).is_none(), "{none}");
        }
        assert!(
            shapes
                .collections
                .iter()
                .all(|c| !BY_HAND.contains(&c.template))
        );
    }
}
