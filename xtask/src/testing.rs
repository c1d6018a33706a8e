//! Helpers shared by the tests.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::spec::fetch::{FetchOptions, fetch_spec};
use crate::workspace;

/// The pinned spec, put in place with the same logic as `fetch-spec`
/// (copied from `../shared` when `specs/` lacks it).
pub(crate) fn pinned_spec() -> PathBuf {
    static PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PATH.get_or_init(|| {
        fetch_spec(&workspace::root(), &FetchOptions::default())
            .map(|fetched| fetched.path)
            .map_err(|e| e.to_string())
    })
    .clone()
    .unwrap_or_else(|e| panic!("the pinned spec is not available: {e}"))
}

/// The pinned spec's JSON.
pub(crate) fn pinned_spec_json() -> serde_json::Value {
    let bytes = std::fs::read(pinned_spec()).expect("read the pinned spec");
    serde_json::from_slice(&bytes).expect("the pinned spec is JSON")
}
