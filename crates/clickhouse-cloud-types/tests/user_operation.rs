//! An operation declared outside the crate, with types that have no JSON
//! Schema, compiles and encodes with and without the `schema` feature:
//! `cargo test -p clickhouse-cloud-types --test user_operation` and the same
//! with `--features schema` both build this file.

use clickhouse_cloud_types::Request;
use clickhouse_cloud_types::operation::{Method, Operation, ResponseFormat, Wire};
use serde::{Deserialize, Serialize};

/// Path parameters of the user's operation (no `JsonSchema`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WidgetPath {
    #[serde(rename = "widgetId")]
    widget_id: String,
}

/// Body and output (no `JsonSchema`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Widget {
    colour: String,
}

struct WidgetUpdate;

impl Operation for WidgetUpdate {
    const ID: &'static str = "widgetUpdate";
    const METHOD: Method = Method::Patch;
    const PATH: &'static str = "/v1/widgets/{widgetId}";
    const TAG: &'static str = "Widgets";
    const BETA: bool = false;
    const DEPRECATED: bool = false;
    const IDEMPOTENT: bool = true;
    const RESPONSE: ResponseFormat = ResponseFormat::Json;
    type Path = WidgetPath;
    type Query = ();
    type Body = Widget;
    type Output = Widget;
}

fn needs_wire<T: Wire>() {}

#[test]
fn a_user_operation_without_json_schema_encodes() {
    needs_wire::<Widget>();
    let request = Request::<WidgetUpdate>::new(
        WidgetPath {
            widget_id: "w 1".into(),
        },
        Widget {
            colour: "teal".into(),
        },
    );
    let encoded = request.encode().unwrap();
    assert_eq!(encoded.method, Method::Patch);
    assert_eq!(encoded.path, "/v1/widgets/w%201");
    assert_eq!(encoded.body.as_deref(), Some(&br#"{"colour":"teal"}"#[..]));
    let refused = Request::<WidgetUpdate>::new(
        WidgetPath {
            widget_id: "..".into(),
        },
        Widget {
            colour: "teal".into(),
        },
    )
    .encode();
    assert!(refused.is_err());
}
