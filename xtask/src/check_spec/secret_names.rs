//! Properties whose names say they hold a secret (a password, a secret, a
//! token, a hash, key material) but whose Rust type is not a secret.
//!
//! Each one is a finding of kind `untyped-secret` unless it was reviewed:
//! a `[[secrets.not]]` entry of `xtask/codegen.toml` (the generator was
//! told it is not a secret, and why) or a `[[deviation]]` of the
//! exemptions file with that kind and a reason.
//!
//! Items are named the way the generator names them (`Schema.property`,
//! `Schema.property.inner` for an inline object, `Schema#2.property` for
//! an inline union branch), so they compare with `SECRET_FIELDS`.

use std::collections::BTreeSet;

use super::finding::{Finding, FindingKind};
use crate::spec::model::{Kind, Node, ScalarType, SpecModel};

/// Words of a property name that say it holds a secret on their own.
pub const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "hash",
    "credential",
    "credentials",
];

/// Pairs of adjacent words that name key material (`privateKey`,
/// `accessKey`, `secretKey`, `keySecret`, `serviceAccountKey`), unless an
/// `id` follows (`accessKeyId` names a key; it is not one).
pub const KEY_MATERIAL: &[(&str, &str)] = &[
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("key", "secret"),
    ("account", "key"),
    ("encryption", "key"),
    ("signing", "key"),
];

/// The lower-case words of a camelCase or snake_case name
/// (`newDoubleSha1Hash` -> `new double sha1 hash`).
pub fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        let boundary = !c.is_alphanumeric()
            || (c.is_uppercase() && previous.is_some_and(|p| p.is_lowercase() || p.is_numeric()));
        if boundary && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        }
        previous = Some(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether a property's name says it holds a secret.
pub fn name_says_secret(name: &str) -> bool {
    let words = words(name);
    if words.iter().any(|w| SECRET_WORDS.contains(&w.as_str())) {
        return true;
    }
    words.windows(2).enumerate().any(|(i, pair)| {
        let named = KEY_MATERIAL.contains(&(pair[0].as_str(), pair[1].as_str()));
        let then = words.get(i + 2).map(String::as_str);
        named && !matches!(then, Some("id" | "ids"))
    })
}

struct Walk<'a> {
    spec: &'a SpecModel,
    secrets: &'a BTreeSet<String>,
    reviewed: &'a BTreeSet<String>,
    findings: Vec<Finding>,
}

impl Walk<'_> {
    /// Whether the value at `item` is, or holds, a secret.
    fn holds(&self, node: &Node, item: &str, seen: &mut BTreeSet<String>) -> bool {
        if self.secrets.contains(item)
            || self.secrets.iter().any(|s| {
                s.strip_prefix(item)
                    .is_some_and(|r| r.starts_with(['.', '#']))
            })
        {
            return true;
        }
        match &node.kind {
            Kind::Ref(name) => {
                seen.insert(name.clone())
                    && self
                        .spec
                        .schemas
                        .get(name)
                        .is_some_and(|schema| self.holds(schema, name, seen))
            }
            Kind::Array(items) => self.holds(items, item, seen),
            Kind::Union(_, branches) => branches.iter().any(|b| self.holds(b, item, seen)),
            Kind::Object(object) => {
                object
                    .properties
                    .iter()
                    .any(|(name, value)| self.holds(value, &format!("{item}.{name}"), seen))
                    || object
                        .additional
                        .as_ref()
                        .is_some_and(|value| self.holds(value, item, seen))
            }
            _ => false,
        }
    }

    fn walk(&mut self, node: &Node, at: &str) {
        match &node.kind {
            Kind::Object(object) => {
                for (name, value) in &object.properties {
                    let item = format!("{at}.{name}");
                    // A boolean, a number or an enum of the spec's own
                    // values cannot carry a secret.
                    let plain_scalar = matches!(
                        &value.kind,
                        Kind::Scalar(s) if s.ty != ScalarType::String || s.values.is_some()
                    );
                    if name_says_secret(name)
                        && !plain_scalar
                        && !self.reviewed.contains(&item)
                        && !self.holds(value, &item, &mut BTreeSet::new())
                    {
                        self.findings.push(Finding::new(
                            FindingKind::UntypedSecret,
                            &item,
                            "a SecretValue, or a reviewed reason why not (its name says it holds a secret)",
                            value.label(),
                        ));
                    }
                    self.walk(value, &item);
                }
            }
            Kind::Array(items) => self.walk(items, at),
            Kind::Union(_, branches) => {
                for (i, branch) in branches.iter().enumerate() {
                    self.walk(branch, &format!("{at}#{}", i + 1));
                }
            }
            _ => {}
        }
    }
}

/// The findings: every property of the spec's component schemas whose name
/// says it holds a secret, that the Rust types do not hold as one
/// (`secrets`: `SECRET_FIELDS`) and that `reviewed` does not list.
pub fn untyped_secrets(
    spec: &SpecModel,
    secrets: &BTreeSet<String>,
    reviewed: &BTreeSet<String>,
) -> Vec<Finding> {
    let mut walk = Walk {
        spec,
        secrets,
        reviewed,
        findings: Vec::new(),
    };
    for (name, schema) in &spec.schemas {
        walk.walk(schema, name);
    }
    walk.findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_say_secret() {
        assert_eq!(
            words("newDoubleSha1Hash"),
            ["new", "double", "sha1", "hash"]
        );
        assert_eq!(
            words("enable_parallel_hash"),
            ["enable", "parallel", "hash"]
        );
        for name in [
            "password",
            "newPasswordHash",
            "newDoubleSha1Hash",
            "secretAccessKey",
            "privateKey",
            "accessKey",
            "keySecret",
            "serviceAccountKey",
            "credentials",
            "refreshToken",
            "encryptionKey",
        ] {
            assert!(name_says_secret(name), "{name}");
        }
        for name in [
            "accessKeyId",
            "keyId",
            "keySuffix",
            "sortingKey",
            "primaryKey",
            "apiKeyIds",
            "transparentDataEncryptionKeyId",
            "tokenizer",
            "name",
        ] {
            assert!(!name_says_secret(name), "{name}");
        }
    }
}
