//! The OpenAPI spec: the pin, fetching, loading, and a small model of it.

pub mod compare;
pub mod fetch;
pub mod load;
pub mod model;
pub mod normalize;
pub mod pin;
pub mod shape;

use std::path::Path;

/// Why a spec file could not be turned into a [`model::SpecModel`].
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file did not load.
    #[error(transparent)]
    Load(#[from] load::LoadError),
    /// It loaded but could not be reduced.
    #[error("{origin}: {error}")]
    Model {
        /// The file.
        origin: String,
        /// What is wrong.
        error: model::ModelError,
    },
}

/// Loads a spec file and reduces it.
pub fn load_model(path: &Path) -> Result<model::SpecModel, SpecError> {
    let api = load::load_file(path)?;
    model::SpecModel::from_openapi(&api).map_err(|error| SpecError::Model {
        origin: path.display().to_string(),
        error,
    })
}

/// Reduces parsed JSON (tests mutate the JSON of the real spec).
pub fn model_from_value(
    value: serde_json::Value,
    origin: &str,
) -> Result<model::SpecModel, SpecError> {
    let api = load::load_value(value, origin)?;
    model::SpecModel::from_openapi(&api).map_err(|error| SpecError::Model {
        origin: origin.to_owned(),
        error,
    })
}
