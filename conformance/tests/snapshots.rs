//! One snapshot per recorded or hand-written cassette of what the client
//! decoded from it, with the values that change on every recording
//! redacted.

use clickhouse_cloud_conformance::default_cassette_dir;
use clickhouse_cloud_conformance::runner::Runner;
use insta::internals::Content;

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
    settings.add_dynamic_redaction(".error.message", |value, _| match value.as_str() {
        Some(text) => Content::from(redact_uuids(text)),
        None => value,
    });
    settings.bind(|| {
        // The example cassettes are generated from the spec and checked by
        // the runner (`tests/runner.rs`); snapshots are for what was
        // recorded or written by hand.
        insta::glob!(
            "../cassettes",
            "{activities,errors,keys,organizations}/*.json",
            |path| {
                let report = runner.check_file(&dir, path);
                assert!(report.passed(), "{:#?}", report.failures);
                insta::assert_json_snapshot!(report.outcome);
            }
        );
    });
}

#[test]
fn uuids_in_messages_are_redacted() {
    assert_eq!(
        redact_uuids("API key 00000000-0000-4000-8000-000000000404 not found"),
        "API key [uuid] not found"
    );
    assert_eq!(redact_uuids("ä no uuid"), "ä no uuid");
}
