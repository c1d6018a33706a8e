//! The emulated world and its rules, with no HTTP in sight: the clock,
//! access grades, the key gate, and one store per resource. Everything
//! above (the pipeline, the handlers, the routes) calls into this layer;
//! nothing here calls up.

pub(crate) mod access;
pub(crate) mod activities;
pub(crate) mod backups;
pub(crate) mod catalogue;
pub(crate) mod clock;
pub(crate) mod computed;
pub(crate) mod error;
pub(crate) mod gate;
pub(crate) mod invitations;
pub(crate) mod keys;
pub(crate) mod lifecycles;
pub(crate) mod members;
pub(crate) mod organizations;
pub(crate) mod paging;
pub(crate) mod persist;
pub(crate) mod reports;
pub(crate) mod roles;
pub(crate) mod services;
pub(crate) mod shapes;
pub(crate) mod store;
pub(crate) mod udfs;
pub(crate) mod world;
