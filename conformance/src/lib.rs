//! Conformance suite of the ClickHouse Cloud SDK: recorded interactions
//! ("cassettes") replayed through the real client, checked against the
//! OpenAPI spec, snapshotted, plus property tests of the wire types.
//!
//! - [`runner`]: replays a folder of cassettes and reports every problem
//!   with its file and JSON path (the `conformance` binary).
//! - [`scenarios`]: records cassettes from the emulator or the live service
//!   (the `record` binary), scrubbed by [`scrub`].
//! - [`spec`]: validates response bodies against the spec's schemas.
//! - [`arbitrary`]: proptest strategies of JSON shaped by the spec.
//!
//! It is not a test of the service: the emulator and the live API are only
//! sources of recordings. See `conformance/README.md` for the workflow.

pub mod arbitrary;
pub mod path;
pub mod runner;
pub mod scenarios;
pub mod scrub;
pub mod spec;

use std::path::{Path, PathBuf};

/// The workspace root (the folder above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The suite's own cassettes: `conformance/cassettes`.
pub fn default_cassette_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cassettes")
}
