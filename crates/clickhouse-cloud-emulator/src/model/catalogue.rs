//! The spec's own examples of every operation's successful answer
//! (`generated/examples.json`, written by `cargo xtask codegen`): what the
//! static catalogues answer, and the shape and defaults of what the
//! generic store keeps.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// One operation's example answer.
#[derive(Debug, Deserialize)]
pub(crate) struct Example {
    pub(crate) status: u16,
    #[serde(rename = "contentType")]
    pub(crate) content_type: String,
    pub(crate) body: Value,
}

#[derive(Debug, Deserialize)]
struct ExampleFile {
    operations: HashMap<String, Example>,
}

pub(crate) fn examples() -> &'static HashMap<String, Example> {
    static EXAMPLES: OnceLock<HashMap<String, Example>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        serde_json::from_str::<ExampleFile>(include_str!("../generated/examples.json"))
            .map(|file| file.operations)
            .unwrap_or_default()
    })
}

/// The `result` of operation `id`'s example, if it has one.
pub(crate) fn example_result(id: &str) -> Option<&'static Value> {
    examples()
        .get(id)
        .and_then(|example| example.body.get("result"))
}
