//! The OpenAPI spec: the pin, fetching, loading, and a small model of it.

pub mod fetch;
pub mod load;
pub mod normalize;
pub mod pin;
