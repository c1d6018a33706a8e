//! Project tasks behind `cargo xtask`: fetching and pinning the OpenAPI spec,
//! loading it, diffing two versions, generating the wire types, checking the Rust types against it,
//! running the conformance suite, and running the CI steps.
//!
//! Not part of the SDK; nothing here is published.

pub mod bench_report;
pub mod check_spec;
pub mod ci;
pub mod cli;
pub mod codegen;
pub mod spec;
pub mod spec_diff;
pub mod spec_upgrade;
pub mod suite;
pub mod workspace;

#[cfg(test)]
pub(crate) mod testing;
