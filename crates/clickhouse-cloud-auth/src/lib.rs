#![doc = include_str!("../README.md")]

mod credentials;
mod key_material;
mod role;

pub use credentials::{
    AuthError, AuthorizationHeader, Credentials, ENV_KEY_ID, ENV_KEY_SECRET, KeyId, KeySecret,
};
pub use key_material::{HashData, KeyMaterial, sha256_base64};
pub use role::{Role, usable_at};
