//! The operations the emulator answers itself, one module per area: each
//! turns a decoded request into calls on the model. Handlers never use
//! one another; what two areas share lives in the model.

pub(crate) mod activities;
pub(crate) mod backups;
pub(crate) mod examples;
pub(crate) mod generic;
pub(crate) mod invitations;
pub(crate) mod keys;
pub(crate) mod members;
pub(crate) mod organizations;
pub(crate) mod reports;
pub(crate) mod roles;
pub(crate) mod services;
pub(crate) mod udfs;
pub(crate) mod whoami;
