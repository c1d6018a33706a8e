//! One module per command group.

pub(crate) mod activities;
pub(crate) mod auth;
#[cfg(feature = "emulator")]
pub(crate) mod emulator;
pub(crate) mod keys;
pub(crate) mod orgs;
