//! `xtask/codegen.toml`: what the generator is told instead of guessing.
//!
//! Every entry that changes a type or a rule carries a `reason`; an entry
//! that matches nothing in the spec is an error, so the file never holds
//! stale decisions.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Spec tag to module name.
    #[serde(default)]
    pub modules: BTreeMap<String, String>,
    /// Module of schemas no operation uses, by name prefix (`"Scim" =
    /// "scim"`); others go to `unreferenced`.
    #[serde(default)]
    pub unreferenced_modules: BTreeMap<String, String>,
    /// Rust names: a component schema (`pgPassword`), an inline schema at
    /// `Owner.field` (an enum, object or union), a union branch
    /// (`Union#2`), a path parameter list (`path:organizationId,keyId`) or an
    /// operation's query (`query:activityGetList`).
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// Enum variant names: `"TypeName.wire-value" = "Variant"`.
    #[serde(default)]
    pub variants: BTreeMap<String, String>,
    /// Fields whose decoding deviates from the spec on purpose.
    #[serde(default, rename = "field")]
    pub fields: Vec<FieldOverride>,
    /// How secrets are found.
    #[serde(default)]
    pub secrets: SecretRules,
    /// Component schemas read as any JSON scalar (`JsonScalar`) instead of
    /// the narrower scalar union the spec declares.
    #[serde(default, rename = "any_scalar")]
    pub any_scalar: Vec<Decision>,
    /// Operations whose retry safety differs from their method's.
    #[serde(default, rename = "retry")]
    pub retries: Vec<RetryOverride>,
    /// Paged lists whose items are not the `result` itself.
    #[serde(default, rename = "paged")]
    pub paged: Vec<PagedOverride>,
    /// The client's handle for an area: module name to struct name, where
    /// the module's name in upper camel case would not do.
    #[serde(default)]
    pub client_handles: BTreeMap<String, String>,
    /// `chc`'s generated commands: areas, names and hand-written ones.
    #[serde(default)]
    pub cli: super::cli::CliOverrides,
}

/// A field decoded by a hand-written function.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOverride {
    /// `Schema.property`.
    pub item: String,
    /// Path of a `deserialize_with` function.
    pub deserialize_with: String,
    /// Why.
    pub reason: String,
}

/// The rules that mark a string field as a secret.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRules {
    /// A property whose name contains one of these (case-insensitive).
    #[serde(default)]
    pub name_contains: Vec<String>,
    /// A property with exactly one of these names (case-insensitive).
    #[serde(default)]
    pub names: Vec<String>,
    /// String formats that mark a secret.
    #[serde(default)]
    pub formats: Vec<String>,
    /// `writeOnly: true` marks a secret.
    #[serde(default)]
    pub write_only: bool,
    /// Items the rules would mark that are not secrets.
    #[serde(default)]
    pub not: Vec<Decision>,
    /// Items the rules miss that are secrets (`Schema.property` or a
    /// string component schema).
    #[serde(default)]
    pub also: Vec<Decision>,
}

/// One decision about one item.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// What it is about.
    pub item: String,
    /// Why.
    pub reason: String,
}

/// An operation that may (or may not) be retried after the service might
/// have acted, against its method's default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryOverride {
    /// `operationId`.
    pub operation: String,
    /// Whether a retry is safe.
    pub idempotent: bool,
    /// Why.
    pub reason: String,
}

/// A paged list whose items sit in a field of the result.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagedOverride {
    /// `operationId`.
    pub operation: String,
    /// The result's field (wire name) holding the items.
    pub items: String,
    /// Why.
    pub reason: String,
}

/// Why the overrides file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OverridesError {
    /// Unreadable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Overrides {
    /// Reads the file.
    pub fn load(path: &Path) -> Result<Overrides, OverridesError> {
        let text = std::fs::read_to_string(path).map_err(|source| OverridesError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Overrides::parse(&text, &path.display().to_string())
    }

    /// Parses the text of the file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Overrides, OverridesError> {
        toml::from_str(text).map_err(|e| OverridesError::Parse {
            path: origin.to_owned(),
            message: e.to_string(),
        })
    }

    /// The `deserialize_with` function for `Schema.property`, if any.
    pub fn deserialize_with(&self, item: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.item == item)
            .map(|f| f.deserialize_with.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_section() {
        let text = r#"
            [modules]
            "API keys" = "api_keys"
            [unreferenced_modules]
            Scim = "scim"
            [names]
            "ApiKey.state" = "ApiKeyState"
            [variants]
            "Region.us-east1" = "UsEast1Gcp"
            [[field]]
            item = "ApiKey.expireAt"
            deserialize_with = "crate::timestamp::blank_as_null"
            reason = "r"
            [secrets]
            name_contains = ["password"]
            formats = ["password"]
            write_only = true
            not = [{ item = "A.b", reason = "r" }]
            [[retry]]
            operation = "x"
            idempotent = false
            reason = "r"
            [[paged]]
            operation = "y"
            items = "balances"
            reason = "r"
        "#;
        let o = Overrides::parse(text, "t").unwrap();
        assert_eq!(o.modules["API keys"], "api_keys");
        assert_eq!(
            o.deserialize_with("ApiKey.expireAt"),
            Some("crate::timestamp::blank_as_null")
        );
        assert!(o.secrets.write_only);
        assert_eq!(o.secrets.not[0].item, "A.b");
        assert!(!o.retries[0].idempotent);
        assert_eq!(o.paged[0].items, "balances");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = Overrides::parse("[secret]\nx = 1\n", "codegen.toml").unwrap_err();
        assert!(error.to_string().starts_with("codegen.toml:"), "{error}");
    }
}
