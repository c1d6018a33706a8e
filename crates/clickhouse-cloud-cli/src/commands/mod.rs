//! One module per command group.

pub(crate) mod activities;
pub(crate) mod api;
pub(crate) mod auth;
pub(crate) mod completions;
#[cfg(feature = "emulator")]
pub(crate) mod emulator;
pub(crate) mod generated;
pub(crate) mod keys;
pub(crate) mod members;
pub(crate) mod orgs;
pub(crate) mod roles;
pub(crate) mod services;
pub(crate) mod udfs;
