//! Snapshots of what the client sends and reads, for review:
//!
//! - one per recorded or hand-written cassette: the request as the client
//!   encoded it and what it decoded, with the values that change on every
//!   recording redacted (`snapshots/decoded_cassettes@*.snap`);
//! - one per area (the spec tag, named as its module) of the example
//!   cassettes, one per operation, built from the spec: each operation's
//!   encoded request and decoded response (`snapshots/examples@*.snap`).
//!   A new spec build shows up here as a diff per area in
//!   `cargo insta review`.
//!
//! No snapshot may hold anything that looks like a secret.

use std::collections::BTreeMap;

use clickhouse_cloud_conformance::runner::{Outcome, Runner};
use clickhouse_cloud_conformance::{default_cassette_dir, workspace_root};
use insta::internals::Content;
use serde_json::Value;

/// Fields whose string values change from one recording to the next.
const VOLATILE: &[(&str, &str)] = &[
    ("id", "[id]"),
    ("requestId", "[request-id]"),
    ("createdAt", "[timestamp]"),
    ("usedAt", "[timestamp]"),
    ("expireAt", "[timestamp]"),
    ("keySuffix", "[key-suffix]"),
    ("actorId", "[id]"),
    ("targetKeyId", "[id]"),
    ("organizationId", "[id]"),
    ("userAgent", "[user-agent]"),
];

/// Replaces a string (and only a string: `null` stays visible).
fn redact_string(value: Content, placeholder: &'static str) -> Content {
    if value.as_str().is_some() {
        Content::from(placeholder)
    } else {
        value
    }
}

/// Replaces every UUID inside a text with `[uuid]`.
fn redact_uuids(text: &str) -> String {
    let is_uuid = |s: &str| {
        s.len() == 36
            && s.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() >= 36 && rest.is_char_boundary(36) && is_uuid(&rest[..36]) {
            out.push_str("[uuid]");
            rest = &rest[36..];
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[test]
fn decoded_cassettes() {
    let runner = Runner::new(None).unwrap();
    let dir = default_cassette_dir();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_sort_maps(true);
    for (field, placeholder) in VOLATILE {
        settings.add_dynamic_redaction(&format!(".**.{field}"), move |value, _| {
            redact_string(value, placeholder)
        });
    }
    for at in [".error.message", ".request.path"] {
        settings.add_dynamic_redaction(at, |value, _| match value.as_str() {
            Some(text) => Content::from(redact_uuids(text)),
            None => value,
        });
    }
    settings.bind(|| {
        // The example cassettes have their own snapshots, per area (below).
        insta::glob!(
            "../cassettes",
            "{activities,errors,keys,organizations}/*.json",
            |path| {
                let report = runner.check_file(&dir, path);
                assert!(report.passed(), "{:#?}", report.failures);
                let mut outcome = serde_json::to_value(&report.outcome).unwrap();
                scrub_secrets(&mut outcome);
                assert_no_secret(&outcome, &report.file);
                insta::assert_json_snapshot!(outcome);
            }
        );
    });
}

/// The module name of every area (spec tag), as the generator names it.
fn module_of_tag(tag: &str) -> String {
    let overrides = xtask::codegen::overrides::Overrides::load(
        &workspace_root().join(xtask::codegen::OVERRIDES),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    overrides
        .modules
        .get(tag)
        .cloned()
        .unwrap_or_else(|| xtask::codegen::names::snake(tag))
}

#[test]
fn example_cassettes_per_area() {
    let root = workspace_root();
    let spec = xtask::spec::fetch::fetch_spec(&root, &Default::default())
        .unwrap_or_else(|e| panic!("the pinned spec: {e}"));
    let areas = xtask::spec_diff::changelog::Areas::read(&spec.path).unwrap();
    let runner = Runner::new(None).unwrap();
    let dir = default_cassette_dir();
    let files =
        clickhouse_cloud_conformance::runner::cassette_files(&dir.join("examples")).unwrap();
    assert_eq!(
        files.len(),
        areas.operations.len(),
        "an example cassette per operation of the spec"
    );
    let mut by_area: BTreeMap<String, BTreeMap<String, Outcome>> = BTreeMap::new();
    for file in &files {
        let report = runner.check_file(&dir, file);
        assert!(report.passed(), "{}: {:#?}", report.file, report.failures);
        let outcome = report
            .outcome
            .unwrap_or_else(|| panic!("{}: no outcome", report.file));
        let tag = areas
            .operations
            .get(&outcome.operation)
            .unwrap_or_else(|| panic!("{}: not an operation of the spec", outcome.operation));
        by_area
            .entry(module_of_tag(tag))
            .or_default()
            .insert(outcome.operation.clone(), outcome);
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_sort_maps(true);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (area, outcomes) in &by_area {
            let mut value = serde_json::to_value(outcomes).unwrap();
            scrub_secrets(&mut value);
            assert_no_secret(&value, area);
            insta::assert_json_snapshot!(format!("examples@{area}"), value);
        }
    });
}

/// What replaces the text of a secret property that is not scrubbed yet.
const SCRUBBED: &str = "[secret]";

/// Whether a property of this name holds a secret, by the name rules of
/// `[secrets]` in `xtask/codegen.toml` (the rules the generator types
/// `SecretValue` by).
fn is_secret_name(name: &str) -> bool {
    static RULES: std::sync::OnceLock<(Vec<String>, Vec<String>)> = std::sync::OnceLock::new();
    let (contains, names) = RULES.get_or_init(|| {
        let path = workspace_root().join(xtask::codegen::OVERRIDES);
        let overrides =
            xtask::codegen::overrides::Overrides::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let lower = |list: &[String]| list.iter().map(|s| s.to_lowercase()).collect();
        (
            lower(&overrides.secrets.name_contains),
            lower(&overrides.secrets.names),
        )
    });
    let name = name.to_lowercase();
    contains.iter().any(|c| name.contains(c.as_str())) || names.contains(&name)
}

/// Replaces the text of every secret-named property (a hash of a secret
/// included) with [`SCRUBBED`], unless it is already a placeholder.
fn scrub_secrets(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(scrub_secrets),
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if is_secret_name(key)
                    && let Value::String(text) = inner
                    && !is_placeholder(text)
                {
                    *text = SCRUBBED.to_owned();
                }
                scrub_secrets(inner);
            }
        }
        _ => {}
    }
}

/// Text that stands in for a secret: the cassettes' `REDACTED-...`, or
/// [`SCRUBBED`], or nothing.
fn is_placeholder(text: &str) -> bool {
    text.is_empty() || text.starts_with("REDACTED") || text == SCRUBBED
}

/// Fails when `value` holds a key secret's shape (`4b1d` and 38 letters or
/// digits) anywhere, or a secret-named property whose text is not a
/// placeholder.
fn assert_no_secret(value: &Value, label: &str) {
    fn walk(value: &Value, at: &str, found: &mut Vec<String>) {
        match value {
            Value::String(text) if looks_like_key_secret(text) => {
                found.push(format!("{at}: a key secret's shape"));
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}[{i}]"), found);
                }
            }
            Value::Object(map) => {
                for (key, inner) in map {
                    let here = format!("{at}.{key}");
                    if is_secret_name(key)
                        && let Value::String(text) = inner
                        && !is_placeholder(text)
                    {
                        found.push(format!("{here}: a secret property with a value"));
                    }
                    walk(inner, &here, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(value, "", &mut found);
    assert!(found.is_empty(), "{label}: {found:#?}");
}

/// Whether `text` holds `4b1d` followed by 38 ASCII letters or digits.
fn looks_like_key_secret(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|i| {
        bytes[i..].starts_with(b"4b1d")
            && bytes.len() >= i + 42
            && bytes[i + 4..i + 42].iter().all(u8::is_ascii_alphanumeric)
    })
}

#[test]
fn the_secret_check_can_fail() {
    let shaped = format!("4b1d{}", "Ab3".repeat(13).get(..38).unwrap());
    assert!(looks_like_key_secret(&format!("key {shaped}.")));
    assert!(!looks_like_key_secret(&shaped[..30]));
    let mut leaked = serde_json::json!({"result": {"newPassword": "hunter2", "name": "n"}});
    assert!(std::panic::catch_unwind(|| assert_no_secret(&leaked, "leaked")).is_err());
    scrub_secrets(&mut leaked);
    assert_eq!(
        leaked,
        serde_json::json!({"result": {"newPassword": SCRUBBED, "name": "n"}})
    );
    assert_no_secret(&leaked, "scrubbed");
    let shaped_elsewhere = serde_json::json!({"note": format!("x{shaped}")});
    assert!(std::panic::catch_unwind(|| assert_no_secret(&shaped_elsewhere, "shape")).is_err());
}

#[test]
fn uuids_in_messages_are_redacted() {
    assert_eq!(
        redact_uuids("API key 00000000-0000-4000-8000-000000000404 not found"),
        "API key [uuid] not found"
    );
    assert_eq!(redact_uuids("ä no uuid"), "ä no uuid");
}
