//! The real `chc` binary against an emulator started in this process: every
//! command, every refusal, snapshots of the human output.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;
use clickhouse_cloud_client::auth::{HashData, KeyMaterial};
use clickhouse_cloud_client::types::ops::{OpenapiKeyCreate, OrganizationPath};
use clickhouse_cloud_client::types::{
    ApiKeyHashData, ApiKeyPostRequest, LegacyRole, Request, SecretValue, ServiceState,
};
use clickhouse_cloud_client::{Client, Credentials, KeyId};
use clickhouse_cloud_emulator::{Emulator, RateLimit, RunningEmulator};
use serde_json::Value;
use uuid::Uuid;

const ENV_VARS: [&str; 4] = [
    "CLICKHOUSE_CLOUD_API_KEY",
    "CLICKHOUSE_CLOUD_API_SECRET",
    "CLICKHOUSE_ORG_ID",
    "CLICKHOUSE_API_URL",
];

/// An emulator, a config directory of its own, and the runtime serving it.
struct Fixture {
    emulator: RunningEmulator,
    config: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

/// What one run of `chc` did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "{self:#?}");
        self
    }

    fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "{self:#?}");
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }

    /// The first line of stdout that `wanted` accepts.
    fn line(&self, wanted: impl Fn(&str) -> bool) -> &str {
        self.stdout
            .lines()
            .find(|line| wanted(line))
            .unwrap_or_else(|| panic!("no such line: {self:#?}"))
    }

    /// stdout then stderr, as a person sees them.
    fn screen(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The `Key ID:` / `Key secret:` lines of `keys create`.
    fn created(&self) -> (String, String) {
        let line = |label: &str| {
            self.stdout
                .lines()
                .find_map(|line| line.strip_prefix(label))
                .unwrap_or_else(|| panic!("no {label:?} line: {self:#?}"))
                .to_owned()
        };
        (line("Key ID: "), line("Key secret: "))
    }
}

impl Fixture {
    fn new() -> Self {
        Self::with_rate_limit(None)
    }

    fn with_rate_limit(limit: Option<RateLimit>) -> Self {
        Self::with_builder(Emulator::builder().rate_limit(limit))
    }

    fn with_builder(builder: clickhouse_cloud_emulator::EmulatorBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime.block_on(builder.start()).unwrap();
        Self {
            emulator,
            config: tempfile::tempdir().unwrap(),
            runtime,
        }
    }

    fn url(&self) -> String {
        self.emulator.base_url()
    }

    fn org(&self) -> String {
        self.emulator.organization_id().to_string()
    }

    fn admin_credentials(&self) -> &Credentials {
        self.emulator.bootstrap_credentials()
    }

    fn admin_key_id(&self) -> &str {
        self.admin_credentials().key_id().as_str()
    }

    fn admin_secret(&self) -> &str {
        self.admin_credentials().key_secret().expose()
    }

    /// `chc` with a clean environment, this fixture's config directory and
    /// no credentials.
    fn bare(&self) -> Command {
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("chc");
        for var in ENV_VARS {
            cmd.env_remove(var);
        }
        cmd.env("CHC_CONFIG_DIR", self.config.path())
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", self.config.path())
            .timeout(Duration::from_secs(90));
        cmd
    }

    /// `chc --base-url URL` with no credentials.
    fn chc(&self) -> Command {
        let mut cmd = self.bare();
        cmd.args(["--base-url", &self.url()]);
        cmd
    }

    /// `chc --base-url URL` signed with the admin key (from the environment).
    fn admin(&self) -> Command {
        let mut cmd = self.chc();
        cmd.env("CLICKHOUSE_CLOUD_API_KEY", self.admin_key_id())
            .env("CLICKHOUSE_CLOUD_API_SECRET", self.admin_secret());
        cmd
    }

    /// `chc --base-url URL --api-key ID --api-secret SECRET`.
    fn as_key(&self, key_id: &str, secret: &str) -> Command {
        let mut cmd = self.chc();
        cmd.args(["--api-key", key_id, "--api-secret", secret]);
        cmd
    }

    /// Runs `cmd` with `args`, and checks the admin secret is never printed.
    fn run(&self, cmd: &mut Command, args: &[&str]) -> Run {
        let output = cmd.args(args).output().unwrap();
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        };
        assert!(
            !run.screen().contains(self.admin_secret()),
            "the admin secret was printed: {run:#?}"
        );
        assert!(!run.stderr.contains("panicked"), "{run:#?}");
        run
    }

    /// Creates a key with `chc keys create` and returns (key ID, secret).
    fn create(&self, name: &str, role: &str) -> (String, String) {
        self.run(
            &mut self.admin(),
            &["keys", "create", "--name", name, "--role", role],
        )
        .ok()
        .created()
    }

    /// Creates a custom role allowing one permission, with `chc api`.
    fn custom_role(&self, name: &str, permission: &str) {
        let body = serde_json::json!({
            "name": name,
            "actors": [],
            "policies": [{"allowDeny": "ALLOW", "permissions": [permission], "resources": ["*"]}],
        });
        self.run(
            &mut self.admin(),
            &["api", "organizationRolePost", "--body", &body.to_string()],
        )
        .ok();
    }

    /// The key UUID of the key named `name`.
    fn uuid_of(&self, name: &str) -> String {
        let keys = self
            .run(&mut self.admin(), &["keys", "list", "-o", "json"])
            .ok()
            .json();
        keys.as_array()
            .unwrap()
            .iter()
            .find(|key| key["name"] == name)
            .unwrap_or_else(|| panic!("no key {name}: {keys}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn client(&self) -> Client {
        Client::builder()
            .credentials(self.admin_credentials().clone())
            .base_url(self.url())
            .rate_limit(None)
            .build()
            .unwrap()
    }

    /// Asserts a snapshot of `text` with every volatile part redacted.
    fn snapshot(&self, name: &str, text: &str) {
        let text = text
            .replace(self.config.path().to_str().unwrap(), "[config]")
            .replace(self.admin_key_id(), "[admin-key-id]");
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        // Placeholders as wide as what they replace, so tables stay aligned.
        for (pattern, replacement) in [
            (
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            ),
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z",
                "YYYY-MM-DDTHH:MM:SSZ",
            ),
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                "[time]",
            ),
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
            (r"4b1d[A-Za-z0-9]{38}", "[secret]"),
            (r"\.\.\.[A-Za-z0-9]{4}\b", "...SSSS"),
            (r"\b(ends?) in [A-Za-z0-9]{4}\b", "$1 in SSSS"),
            (r"\b[A-Za-z0-9]{20}\b", "[key-id]"),
            (r"requestId [^)\s]+", "requestId [request-id]"),
        ] {
            settings.add_filter(pattern, replacement);
        }
        settings.bind(|| insta::assert_snapshot!(name, text));
    }
}

fn mode_of(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0o600
    }
}

// ---------------------------------------------------------------- keys list

#[test]
fn keys_list_shows_every_column_with_the_creator() {
    let f = Fixture::new();
    f.run(
        &mut f.admin(),
        &[
            "keys",
            "create",
            "--name",
            "ci-deploy",
            "--role",
            "developer",
            "--expires",
            "30d",
        ],
    )
    .ok();
    let run = f.run(&mut f.admin(), &["keys", "list"]).ok();
    assert!(run.stdout.contains("Bootstrap key (..."), "{run:#?}");
    // No spinner or anything else on stderr in a pipe.
    assert_eq!(run.stderr, "");
    f.snapshot("keys_list", &run.screen());
}

#[test]
fn keys_list_json_is_the_api_result_without_secrets() {
    let f = Fixture::new();
    let (_, secret) = f.create("ci", "admin");
    let run = f
        .run(&mut f.admin(), &["keys", "list", "--output", "json"])
        .ok();
    assert!(!run.stdout.contains(&secret));
    assert!(!run.stdout.contains("4b1d"));
    let keys = run.json();
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for key in keys {
        assert!(
            key["id"].is_string() && key["keySuffix"].is_string(),
            "{key}"
        );
        assert!(key.get("keySecret").is_none());
    }
}

#[test]
fn keys_list_shows_every_key_of_an_organization_with_more_than_a_page() {
    // 260 keys: more than the service's default page of 250, three pages of
    // the client's 100.
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).key_limit(300));
    let org: uuid::Uuid = f.org().parse().unwrap();
    let keys = f.client().api_keys(org);
    f.runtime.block_on(async {
        for n in 1..260 {
            keys.create(clickhouse_cloud_client::NewApiKey::new(format!(
                "bulk-{n:03}"
            )))
            .await
            .unwrap();
        }
    });
    let run = f.run(&mut f.admin(), &["keys", "list", "-o", "json"]).ok();
    let listed = run.json();
    let names: std::collections::BTreeSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["name"].as_str())
        .collect();
    assert_eq!(listed.as_array().unwrap().len(), 260);
    assert_eq!(names.len(), 260);
    assert!(names.contains("bulk-259"));
    let table = f.run(&mut f.admin(), &["keys", "list"]).ok();
    assert!(table.stdout.contains("bulk-001") && table.stdout.contains("bulk-259"));
}

#[test]
fn created_by_is_a_dash_when_the_activity_log_is_unavailable() {
    // The activity read is refused (403): the listing still works.
    let f = Fixture::with_builder(
        Emulator::builder()
            .rate_limit(None)
            .faults("activityGetList#2:403".parse().unwrap()),
    );
    f.create("x", "admin");
    let with = f.run(&mut f.admin(), &["keys", "list"]).ok();
    assert!(with.stdout.contains("Bootstrap key (..."), "{with:#?}");
    let without = f.run(&mut f.admin(), &["keys", "list"]).ok();
    f.snapshot("keys_list_without_activities", &without.screen());
    for line in without.stdout.lines().skip(1) {
        assert!(line.trim_end().ends_with("  -"), "{line}");
    }
}

// -------------------------------------------------------------- keys create

#[test]
fn keys_create_prints_id_and_secret_once_and_they_work() {
    let f = Fixture::new();
    let run = f
        .run(
            &mut f.admin(),
            &[
                "keys",
                "create",
                "--name",
                "ci",
                "--role",
                "developer",
                "--ip",
                "127.0.0.1/32=loopback",
                "--expires",
                "90d",
            ],
        )
        .ok();
    f.snapshot("keys_create", &run.screen());
    let (key_id, secret) = run.created();
    assert!(
        clickhouse_cloud_client::KeySecret::new(secret.clone())
            .unwrap()
            .has_service_format()
    );

    // The new key works (the allowed address is loopback).
    let orgs = f
        .run(&mut f.as_key(&key_id, &secret), &["orgs", "list"])
        .ok();
    assert!(orgs.stdout.contains(&f.org()));
    // Never shown again.
    for args in [
        &["keys", "list"][..],
        &["keys", "get", "ci"],
        &["keys", "get", "ci", "-o", "json"],
        &["activities", "list", "-o", "json"],
    ] {
        let again = f.run(&mut f.admin(), args).ok();
        assert!(!again.screen().contains(&secret), "{again:#?}");
    }
}

#[test]
fn keys_create_json_carries_the_secret() {
    let f = Fixture::new();
    let run = f
        .run(
            &mut f.admin(),
            &[
                "-o", "json", "keys", "create", "--name", "j", "--role", "admin",
            ],
        )
        .ok();
    let created = run.json();
    let key_id = created["keyId"].as_str().unwrap();
    let secret = created["keySecret"].as_str().unwrap();
    assert_eq!(created["key"]["name"], "j");
    assert_eq!(
        created["key"]["keySuffix"].as_str().unwrap(),
        KeyId::new(key_id).unwrap().suffix()
    );
    f.run(&mut f.as_key(key_id, secret), &["keys", "list"]).ok();
}

#[test]
fn keys_create_with_local_secret_sends_only_hashes() {
    let f = Fixture::new();
    let run = f
        .run(
            &mut f.admin(),
            &[
                "keys",
                "create",
                "--name",
                "local",
                "--role",
                "admin",
                "--local-secret",
            ],
        )
        .ok();
    f.snapshot("keys_create_local_secret", &run.screen());
    let (key_id, secret) = run.created();
    // The service only knows the hashes, yet the locally made pair works.
    let status = f
        .run(&mut f.as_key(&key_id, &secret), &["auth", "status"])
        .ok();
    assert!(status.stdout.contains("\"local\""), "{status:#?}");
}

#[test]
fn keys_create_without_ip_makes_a_usable_key() {
    let f = Fixture::new();
    let (key_id, secret) = f.create("open", "developer");
    let key = f
        .run(&mut f.admin(), &["keys", "get", "open", "-o", "json"])
        .ok()
        .json();
    let list = key["ipAccessList"].as_array().unwrap();
    assert!(!list.is_empty(), "{key}");
    f.run(&mut f.as_key(&key_id, &secret), &["keys", "list"])
        .ok();
}

#[test]
fn keys_create_help_states_the_ip_default() {
    let f = Fixture::new();
    let run = f.run(&mut f.bare(), &["keys", "create", "--help"]).ok();
    assert!(run.stdout.contains("Without --ip"), "{}", run.stdout);
    assert!(
        run.stdout.contains("never sends an empty list"),
        "{}",
        run.stdout
    );
}

#[test]
fn keys_create_needs_a_role() {
    let f = Fixture::new();
    let run = f
        .run(&mut f.admin(), &["keys", "create", "--name", "x"])
        .code(2);
    f.snapshot("keys_create_no_role", &run.screen());
}

#[test]
fn keys_create_with_no_role_makes_a_key_listed_with_none() {
    let f = Fixture::new();
    f.run(
        &mut f.admin(),
        &["keys", "create", "--name", "bare", "--no-role"],
    )
    .ok();
    let list = f.run(&mut f.admin(), &["keys", "list"]).ok();
    let line = list
        .stdout
        .lines()
        .find(|line| line.starts_with("bare "))
        .unwrap_or_else(|| panic!("{list:#?}"));
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(columns[2], "none", "{line}");
    let json = f
        .run(&mut f.admin(), &["keys", "get", "bare", "--output", "json"])
        .ok()
        .json();
    assert_eq!(json["assignedRoles"], serde_json::json!([]));
    f.run(
        &mut f.admin(),
        &[
            "keys",
            "create",
            "--name",
            "x",
            "--no-role",
            "--role",
            "admin",
        ],
    )
    .code(2);
}

#[test]
fn past_expiry_is_a_usage_error_before_any_request() {
    let f = Fixture::new();
    // Nothing listens on port 1: a request would fail with exit 1.
    for when in ["2020-01-01T00:00:00Z", "0d"] {
        let run = f.run(
            &mut f.bare(),
            &[
                "--base-url",
                "http://127.0.0.1:1",
                "--api-key",
                "id",
                "--api-secret",
                "s",
                "keys",
                "create",
                "--name",
                "x",
                "--role",
                "admin",
                "--expires",
                when,
            ],
        );
        let run = run.code(2);
        assert!(run.stderr.contains("in the past"), "{run:#?}");
    }
    let run = f.run(
        &mut f.admin(),
        &["keys", "update", "x", "--expires", "2001-02-03T04:05:06Z"],
    );
    f.snapshot("past_expiry", &run.code(2).screen());
    assert_eq!(f.emulator.key_count(f.emulator.organization_id()), 1);
}

#[test]
fn bad_ip_is_a_usage_error() {
    let f = Fixture::new();
    let run = f
        .run(
            &mut f.admin(),
            &[
                "keys",
                "create",
                "--name",
                "x",
                "--role",
                "admin",
                "--ip",
                "10.0.0.0/33",
            ],
        )
        .code(2);
    assert!(run.stderr.contains("IP address or CIDR"), "{run:#?}");
}

// ----------------------------------------------------- get, update, enable, disable

#[test]
fn keys_get_update_enable_disable() {
    let f = Fixture::new();
    let (key_id, secret) = f.create("svc", "developer");
    let uuid = f.uuid_of("svc");

    let by_name = f.run(&mut f.admin(), &["keys", "get", "svc"]).ok();
    let by_uuid = f.run(&mut f.admin(), &["keys", "get", &uuid]).ok();
    let by_key_id = f.run(&mut f.admin(), &["keys", "get", &key_id]).ok();
    assert_eq!(by_name.stdout, by_uuid.stdout);
    assert_eq!(by_name.stdout, by_key_id.stdout);
    f.snapshot("keys_get", &by_name.screen());

    let updated = f
        .run(
            &mut f.admin(),
            &[
                "keys",
                "update",
                "svc",
                "--name",
                "svc-2",
                "--role",
                "admin",
                "--expires",
                "12h",
                "--ip",
                "127.0.0.0/8=loopback",
                "--ip",
                "::1",
            ],
        )
        .ok();
    f.snapshot("keys_update", &updated.screen());
    let json = f
        .run(
            &mut f.admin(),
            &[
                "keys",
                "update",
                "svc-2",
                "--expires",
                "never",
                "-o",
                "json",
            ],
        )
        .ok()
        .json();
    assert_eq!(json["expireAt"], Value::Null);
    assert_eq!(json["name"], "svc-2");

    let disabled = f.run(&mut f.admin(), &["keys", "disable", &uuid]).ok();
    f.snapshot("keys_disable", &disabled.screen());
    // A disabled key is refused: exit 3.
    let refused = f
        .run(&mut f.as_key(&key_id, &secret), &["orgs", "list"])
        .code(3);
    assert!(refused.stderr.contains("Key is not active"), "{refused:#?}");

    let enabled = f.run(&mut f.admin(), &["keys", "enable", "svc-2"]).ok();
    f.snapshot("keys_enable", &enabled.screen());
    f.run(&mut f.as_key(&key_id, &secret), &["orgs", "list"])
        .ok();
    let state = f
        .run(&mut f.admin(), &["keys", "get", &uuid, "-o", "json"])
        .ok()
        .json();
    assert_eq!(state["state"], "enabled");
}

#[test]
fn update_with_nothing_to_change_is_a_usage_error() {
    let f = Fixture::new();
    f.run(&mut f.admin(), &["keys", "update", "x"]).code(2);
}

// ---------------------------------------------------------------- delete

#[test]
fn delete_with_yes_removes_the_key_and_its_record() {
    let f = Fixture::new();
    let (key_id, _) = f.create("gone", "developer");
    let records = std::fs::read_to_string(f.config.path().join("keys.json")).unwrap();
    assert!(records.contains(&key_id));
    let run = f
        .run(&mut f.admin(), &["keys", "delete", "gone", "--yes"])
        .ok();
    f.snapshot("keys_delete", &run.screen());
    f.run(&mut f.admin(), &["keys", "get", "gone"]).code(4);
    let records = std::fs::read_to_string(f.config.path().join("keys.json")).unwrap();
    assert!(!records.contains(&key_id));
}

#[test]
fn delete_without_yes_and_no_terminal_is_refused() {
    let f = Fixture::new();
    f.create("kept", "developer");
    // The test's stdin is not a terminal.
    let run = f.run(&mut f.admin(), &["keys", "delete", "kept"]).code(2);
    f.snapshot("keys_delete_no_tty", &run.screen());
    f.run(&mut f.admin(), &["keys", "get", "kept"]).ok();
}

#[test]
fn delete_refuses_the_key_in_use_named_by_the_service() {
    // No local record: the service says which key is in use (whoamiGet).
    let f = Fixture::new();
    let run = f
        .run(
            &mut f.admin(),
            &["keys", "delete", "Bootstrap key", "--yes"],
        )
        .code(1);
    f.snapshot("keys_delete_own_by_whoami", &run.screen());
    assert_eq!(f.emulator.key_count(f.emulator.organization_id()), 1);
    // Its full key ID names it too (the service said which key it is).
    let own = key_json(&f, f.admin_key_id());
    assert_eq!(own["id"], f.uuid_of("Bootstrap key").as_str());
    f.run(
        &mut f.admin(),
        &["keys", "delete", f.admin_key_id(), "--yes"],
    )
    .code(1);
    assert_eq!(f.emulator.key_count(f.emulator.organization_id()), 1);
}

#[test]
fn delete_refuses_the_key_in_use_found_by_the_local_record() {
    let f = Fixture::new();
    let (key_id, secret) = f.create("self", "admin");
    let run = f
        .run(
            &mut f.as_key(&key_id, &secret),
            &["keys", "delete", &key_id, "--yes"],
        )
        .code(1);
    f.snapshot("keys_delete_own_by_record", &run.screen());
    // Another key can delete it.
    f.run(&mut f.admin(), &["keys", "delete", &key_id, "--yes"])
        .ok();
}

/// Adds a key whose key ID ends like the admin key's; returns its key ID.
fn add_twin(f: &Fixture, name: &str, prefix: &str) -> String {
    let twin = format!("{prefix}{}", f.admin_credentials().key_id().suffix());
    let credentials = Credentials::new(
        KeyId::new(twin.clone()).unwrap(),
        KeyMaterial::generate().key_secret().clone(),
    );
    let hashes = HashData::for_credentials(&credentials);
    let body = ApiKeyPostRequest {
        roles: Some(vec![LegacyRole::Developer]),
        hash_data: Some(ApiKeyHashData {
            key_id_hash: Some(hashes.key_id_hash),
            key_id_suffix: Some(hashes.key_id_suffix),
            key_secret_hash: Some(SecretValue::new(hashes.key_secret_hash)),
        }),
        ..ApiKeyPostRequest::new(name)
    };
    let request = Request::<OpenapiKeyCreate>::new(
        OrganizationPath {
            organization_id: f.emulator.organization_id(),
        },
        body,
    );
    f.runtime.block_on(f.client().send(request)).unwrap();
    twin
}

#[test]
fn a_key_sharing_the_suffix_of_the_key_in_use_is_told_apart_by_the_service() {
    let f = Fixture::new();
    add_twin(&f, "twin", "twinTWINtwin");
    let org = f.emulator.organization_id();
    let suffix = format!("...{}", f.admin_credentials().key_id().suffix());
    let admin_uuid = f.uuid_of("Bootstrap key");
    let twin_uuid = f.uuid_of("twin");

    // The suffix names two keys: an error listing both, nothing decided.
    let run = f.run(&mut f.admin(), &["keys", "get", &suffix]).code(2);
    assert!(
        run.stderr.contains(&admin_uuid) && run.stderr.contains(&twin_uuid),
        "{run:#?}"
    );
    f.snapshot("keys_get_ambiguous_suffix", &run.screen());

    // When the service does not say which key is in use, a key sharing
    // its suffix is not deleted.
    f.emulator.set_faults("whoamiGet#1:500".parse().unwrap());
    let run = f
        .run(&mut f.admin(), &["keys", "delete", "twin", "--yes"])
        .code(1);
    f.snapshot("keys_delete_cannot_tell", &run.screen());
    assert_eq!(f.emulator.key_count(org), 2);

    // When it does, the twin is deleted and the key in use stays.
    f.emulator.set_faults("off".parse().unwrap());
    f.run(&mut f.admin(), &["keys", "delete", "twin", "--yes"])
        .ok();
    assert_eq!(f.emulator.key_count(org), 1);
    f.run(&mut f.admin(), &["keys", "get", &admin_uuid]).ok();
}

#[test]
fn a_stale_local_record_does_not_hide_the_key_in_use() {
    // The record says the key in use is another UUID; the service's answer
    // wins, and the key is not deleted.
    let f = Fixture::new();
    let own_uuid = f.uuid_of("Bootstrap key");
    std::fs::write(
        f.config.path().join("keys.json"),
        serde_json::json!({"keys": [{
            "keyId": f.admin_key_id(),
            "id": Uuid::new_v4(),
            "organizationId": f.org(),
        }]})
        .to_string(),
    )
    .unwrap();
    let run = f
        .run(&mut f.admin(), &["keys", "delete", &own_uuid, "--yes"])
        .code(1);
    assert!(
        run.stderr.contains("it is the key chc is signed in with"),
        "{run:#?}"
    );
    assert_eq!(f.emulator.key_count(f.emulator.organization_id()), 1);
}

#[test]
fn the_service_refusing_a_delete_is_reported() {
    let f = Fixture::with_builder(
        Emulator::builder()
            .rate_limit(None)
            .faults("openapiKeyDelete#1:409".parse().unwrap()),
    );
    f.create("other", "developer");
    let run = f
        .run(&mut f.admin(), &["keys", "delete", "other", "--yes"])
        .code(1);
    assert!(run.stderr.contains("HTTP 409 CONFLICT"), "{run:#?}");
    f.snapshot("keys_delete_409", &run.screen());
    f.run(&mut f.admin(), &["keys", "get", "other"]).ok();
}

// ----------------------------------------------------- refusals by the service

#[test]
fn wrong_secret_exits_3() {
    let f = Fixture::new();
    let wrong = KeyMaterial::generate();
    let run = f
        .run(
            &mut f.as_key(f.admin_key_id(), wrong.key_secret().expose()),
            &["keys", "list"],
        )
        .code(3);
    assert!(!run.screen().contains(wrong.key_secret().expose()));
    f.snapshot("wrong_secret", &run.screen());
}

#[test]
fn developer_writes_exit_3() {
    let f = Fixture::new();
    let (key_id, secret) = f.create("reader", "developer");
    let run = f
        .run(
            &mut f.as_key(&key_id, &secret),
            &["keys", "create", "--name", "nope", "--role", "admin"],
        )
        .code(3);
    f.snapshot("developer_write", &run.screen());
    f.run(
        &mut f.as_key(&key_id, &secret),
        &["keys", "disable", "Bootstrap key"],
    )
    .code(3);
}

#[test]
fn unknown_keys_exit_4() {
    let f = Fixture::new();
    let run = f
        .run(
            &mut f.admin(),
            &["keys", "get", &Uuid::new_v4().to_string()],
        )
        .code(4);
    f.snapshot("unknown_key_uuid", &run.screen());
    let run = f
        .run(&mut f.admin(), &["keys", "enable", "no-such-key"])
        .code(4);
    f.snapshot("unknown_key_name", &run.screen());
    f.run(
        &mut f.admin(),
        &["keys", "delete", &Uuid::new_v4().to_string(), "--yes"],
    )
    .code(4);
}

#[test]
fn rate_limited_exits_5() {
    let f = Fixture::with_rate_limit(Some(RateLimit {
        requests: 1,
        window: Duration::from_secs(600),
    }));
    let org = f.org();
    f.run(&mut f.admin(), &["--org", &org, "orgs", "get"]).ok();
    let run = f
        .run(&mut f.admin(), &["--org", &org, "orgs", "get"])
        .code(5);
    f.snapshot("rate_limited", &run.screen());
}

// ------------------------------------------------------------- usage errors

#[test]
fn bad_flags_exit_2() {
    let f = Fixture::new();
    let run = f
        .run(&mut f.admin(), &["keys", "list", "--no-such-flag"])
        .code(2);
    f.snapshot("bad_flag", &run.screen());
    f.run(&mut f.admin(), &["keys", "frobnicate"]).code(2);
    f.run(&mut f.admin(), &["--output", "yaml", "keys", "list"])
        .code(2);
    f.run(&mut f.admin(), &["--org", "not-a-uuid", "keys", "list"])
        .code(2);
    f.run(&mut f.admin(), &[]).code(2);
    f.run(&mut f.admin(), &["--help"]).ok();
}

#[test]
fn missing_credentials_exit_2() {
    let f = Fixture::new();
    let run = f.run(&mut f.chc(), &["keys", "list"]).code(2);
    f.snapshot("no_credentials", &run.screen());
    let run = f
        .run(
            &mut f.chc(),
            &["--api-key", f.admin_key_id(), "keys", "list"],
        )
        .code(2);
    assert!(run.stderr.contains("no secret"), "{run:#?}");
}

#[test]
fn global_options_work_before_or_after_the_subcommand() {
    let f = Fixture::new();
    let before = f
        .run(
            &mut f.bare(),
            &[
                "--base-url",
                &f.url(),
                "--api-key",
                f.admin_key_id(),
                "--api-secret",
                f.admin_secret(),
                "--org",
                &f.org(),
                "--output",
                "json",
                "orgs",
                "list",
            ],
        )
        .ok();
    let after = f
        .run(
            &mut f.bare(),
            &[
                "orgs",
                "list",
                "--base-url",
                &f.url(),
                "--api-key",
                f.admin_key_id(),
                "--api-secret",
                f.admin_secret(),
                "--org",
                &f.org(),
                "--output",
                "json",
            ],
        )
        .ok();
    let middle = f
        .run(
            &mut f.bare(),
            &[
                "--base-url",
                &f.url(),
                "orgs",
                "--api-key",
                f.admin_key_id(),
                "list",
                "--api-secret",
                f.admin_secret(),
                "-o",
                "json",
            ],
        )
        .ok();
    assert_eq!(before.stdout, after.stdout);
    assert_eq!(before.stdout, middle.stdout);
    assert_eq!(before.json()[0]["id"], f.org());
}

#[test]
fn the_environment_supplies_everything() {
    let f = Fixture::new();
    let run = f
        .run(
            f.bare()
                .env("CLICKHOUSE_API_URL", f.url())
                .env("CLICKHOUSE_CLOUD_API_KEY", f.admin_key_id())
                .env("CLICKHOUSE_CLOUD_API_SECRET", f.admin_secret())
                .env("CLICKHOUSE_ORG_ID", f.org()),
            &["keys", "list"],
        )
        .ok();
    assert!(run.stdout.contains("Bootstrap key"));
    f.run(
        f.admin().env("CLICKHOUSE_ORG_ID", "nope"),
        &["keys", "list"],
    )
    .code(2);
}

// ------------------------------------------------------- orgs and activities

#[test]
fn orgs_list_and_get() {
    let f = Fixture::new();
    let list = f.run(&mut f.admin(), &["orgs", "list"]).ok();
    f.snapshot("orgs_list", &list.screen());
    let get = f.run(&mut f.admin(), &["orgs", "get"]).ok();
    f.snapshot("orgs_get", &get.screen());
    let by_id = f.run(&mut f.admin(), &["orgs", "get", &f.org()]).ok();
    assert_eq!(get.stdout, by_id.stdout);
    let json = f
        .run(&mut f.admin(), &["orgs", "get", "-o", "json"])
        .ok()
        .json();
    assert_eq!(json["name"], "Emulated organization");
    f.run(
        &mut f.admin(),
        &["orgs", "get", &Uuid::new_v4().to_string()],
    )
    .code(4);
}

#[test]
fn an_organization_the_key_does_not_belong_to_is_refused() {
    let second = Uuid::new_v4();
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).extra_organization(
        second,
        "Second",
        KeyMaterial::generate().into_credentials(),
    ));
    let run = f.run(
        &mut f.admin(),
        &["--org", &second.to_string(), "keys", "list"],
    );
    f.snapshot("other_org", &run.screen());
    assert!(matches!(run.code, 3 | 4), "{run:#?}");
}

#[test]
fn activities_list_with_since() {
    let f = Fixture::new();
    f.create("a1", "developer");
    f.run(&mut f.admin(), &["keys", "disable", "a1"]).ok();
    let run = f
        .run(&mut f.admin(), &["activities", "list", "--since", "1h"])
        .ok();
    f.snapshot("activities_list", &run.screen());
    let json = f
        .run(&mut f.admin(), &["activities", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(json.as_array().unwrap().len(), 2, "{json}");
    let future = f
        .run(
            &mut f.admin(),
            &[
                "activities",
                "list",
                "--since",
                "2999-01-01T00:00:00Z",
                "-o",
                "json",
            ],
        )
        .ok()
        .json();
    assert_eq!(future, serde_json::json!([]));
    f.run(
        &mut f.admin(),
        &["activities", "list", "--since", "yesterday"],
    )
    .code(2);
}

// -------------------------------------------------------------------- auth

#[test]
fn auth_login_saves_a_private_profile_that_later_commands_use() {
    let f = Fixture::new();
    let run = f
        .run(
            f.chc()
                .args([
                    "auth",
                    "login",
                    "--api-key",
                    f.admin_key_id(),
                    "--secret-stdin",
                ])
                .write_stdin(format!("{}\n", f.admin_secret())),
            &[],
        )
        .ok();
    f.snapshot("auth_login", &run.screen());
    let path = f.config.path().join("profile.json");
    assert_eq!(mode_of(&path), 0o600);
    let profile: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(profile["keyId"], f.admin_key_id());
    assert_eq!(profile["keySecret"], f.admin_secret());
    assert_eq!(profile["baseUrl"], f.url());
    assert_eq!(profile["organizationId"], f.org());
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(f.config.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["profile.json"]);

    // Everything now comes from the profile: no flags, no environment.
    let status = f.run(&mut f.bare(), &["auth", "status"]).ok();
    f.snapshot("auth_status_profile", &status.screen());
    f.run(&mut f.bare(), &["keys", "list"]).ok();

    // The environment wins over the profile, flags over the environment.
    let (key_id, secret) = f.create("env-key", "developer");
    let env = f
        .run(
            f.chc()
                .env("CLICKHOUSE_CLOUD_API_KEY", &key_id)
                .env("CLICKHOUSE_CLOUD_API_SECRET", &secret),
            &["auth", "status"],
        )
        .ok();
    f.snapshot("auth_status_env", &env.screen());
    let flags = f
        .run(
            f.bare()
                .env("CLICKHOUSE_CLOUD_API_KEY", &key_id)
                .env("CLICKHOUSE_CLOUD_API_SECRET", &secret)
                .args([
                    "--api-key",
                    f.admin_key_id(),
                    "--api-secret",
                    f.admin_secret(),
                ]),
            &["auth", "status"],
        )
        .ok();
    assert!(
        flags.stdout.contains("flags --api-key and --api-secret"),
        "{flags:#?}"
    );
    assert!(flags.stdout.contains("\"Bootstrap key\""), "{flags:#?}");

    let logout = f.run(&mut f.bare(), &["auth", "logout"]).ok();
    assert!(logout.stdout.starts_with("Removed"), "{logout:#?}");
    f.run(&mut f.bare(), &["keys", "list"]).code(2);
}

/// `chc auth login` with the admin key, for the tests that need a profile.
fn login_admin(f: &Fixture) -> std::path::PathBuf {
    f.run(
        f.chc()
            .args([
                "auth",
                "login",
                "--api-key",
                f.admin_key_id(),
                "--secret-stdin",
            ])
            .write_stdin(format!("{}\n", f.admin_secret())),
        &[],
    )
    .ok();
    f.config.path().join("profile.json")
}

#[cfg(unix)]
#[test]
fn a_profile_readable_by_others_is_used_with_a_warning() {
    use std::os::unix::fs::PermissionsExt as _;
    let f = Fixture::new();
    let path = login_admin(&f);
    assert_eq!(mode_of(&path), 0o600);
    let quiet = f.run(&mut f.bare(), &["auth", "status"]).ok();
    assert!(!quiet.stderr.contains("warning"), "{quiet:#?}");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warned = f.run(&mut f.bare(), &["auth", "status"]).ok();
    assert!(
        warned.stderr.contains(&format!(
            "warning: {} holds a key secret and is readable by others: run `chmod 600` on it",
            path.display()
        )),
        "{warned:#?}"
    );
    assert!(!warned.screen().contains(f.admin_secret()), "{warned:#?}");
}

#[test]
fn the_profile_applies_only_to_its_own_key() {
    // `bare` clears the CLICKHOUSE_* variables of the child: whatever the
    // developer's shell exports, only the profile and the flags count.
    let f = Fixture::new();
    login_admin(&f);
    let other = f
        .run(
            f.bare().args(["--api-key", "some-other-key-id"]),
            &["auth", "status"],
        )
        .code(2);
    assert!(
        other
            .stderr
            .contains("no secret for the key ID from flag --api-key"),
        "{other:#?}"
    );
    // Its own key still gets all of it.
    f.run(&mut f.bare(), &["keys", "list"]).ok();
}

#[test]
fn auth_login_with_a_wrong_secret_saves_nothing() {
    let f = Fixture::new();
    let wrong = KeyMaterial::generate();
    let run = f
        .run(
            f.chc()
                .args(["auth", "login", "--api-key", f.admin_key_id()])
                .write_stdin(wrong.key_secret().expose().to_owned()),
            &[],
        )
        .code(3);
    assert!(!run.screen().contains(wrong.key_secret().expose()));
    assert!(!f.config.path().join("profile.json").exists());
    // Without --api-key and no terminal: usage error.
    f.run(f.chc().args(["auth", "login"]).write_stdin("x"), &[])
        .code(2);
}

#[test]
fn auth_status_reports_refused_credentials() {
    let f = Fixture::new();
    let wrong = KeyMaterial::generate();
    let run = f
        .run(
            &mut f.as_key(f.admin_key_id(), wrong.key_secret().expose()),
            &["auth", "status"],
        )
        .code(3);
    f.snapshot("auth_status_refused", &run.screen());
    let json = f
        .run(&mut f.admin(), &["auth", "status", "-o", "json"])
        .ok()
        .json();
    // The name as it is, not quoted.
    assert_eq!(json["keyName"], "Bootstrap key");
    assert_eq!(json["keyUuid"], f.uuid_of("Bootstrap key").as_str());
    assert!(!json.to_string().contains(f.admin_secret()));
}

// ---------------------------------------------------------------- emulator

/// Kills the child when the test ends, pass or fail.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn chc_emulator_prints_its_address_first_and_serves() {
    let f = Fixture::new();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("chc"));
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    let child = cmd
        .args(["emulator", "--listen", "127.0.0.1:0", "--rate-limit", "off"])
        .env("CHC_CONFIG_DIR", f.config.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut next = || lines.next().expect("a line").expect("readable");
    let url = next()
        .strip_prefix("listening on ")
        .expect("the address comes first")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let org = next().strip_prefix("organization: ").unwrap().to_owned();
    Uuid::parse_str(&org).unwrap();
    let key_id = next().strip_prefix("key id: ").unwrap().to_owned();
    let secret = next().strip_prefix("key secret: ").unwrap().to_owned();

    let mut cmd = f.bare();
    cmd.args([
        "--base-url",
        &url,
        "--api-key",
        &key_id,
        "--api-secret",
        &secret,
    ]);
    let run = f.run(&mut cmd, &["keys", "list"]).ok();
    assert!(run.stdout.contains("Bootstrap key"), "{run:#?}");
    assert!(!run.screen().contains(&secret));
}

#[test]
fn api_calls_any_operation_by_its_id_through_the_client() {
    let f = Fixture::new();
    // The organization's ID comes from the only organization the key sees.
    let org = f
        .run(&mut f.admin(), &["api", "organizationGet"])
        .ok()
        .json();
    assert_eq!(org["id"], f.org());
    let created = f
        .run(
            &mut f.admin(),
            &[
                "api",
                "openapiKeyCreate",
                "--body",
                r#"{"name":"by-api","roles":["developer"]}"#,
            ],
        )
        .ok()
        .json();
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    assert!(created["keySecret"].is_string());
    let got = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyGet", "--path", &format!("keyId={id}")],
        )
        .ok()
        .json();
    assert_eq!(got["name"], "by-api");
    let page = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyGetList", "--query", "limit=1"],
        )
        .ok()
        .json();
    assert!(page.is_array(), "{page}");
    let body = f.config.path().join("rename.json");
    std::fs::write(&body, r#"{"name":"renamed-by-api"}"#).unwrap();
    let renamed = f
        .run(
            &mut f.admin(),
            &[
                "api",
                "openapiKeyUpdate",
                "--path",
                &format!("keyId={id}"),
                "--body",
                &format!("@{}", body.display()),
            ],
        )
        .ok()
        .json();
    assert_eq!(renamed["name"], "renamed-by-api");
    let deleted = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyDelete", "--path", &format!("keyId={id}")],
        )
        .ok();
    assert_eq!(deleted.stdout, "");
    f.run(
        &mut f.admin(),
        &["api", "openapiKeyGet", "--path", &format!("keyId={id}")],
    )
    .code(4);
}

#[test]
fn api_refuses_what_it_cannot_send_naming_what_is_expected() {
    let f = Fixture::new();
    let run = f.run(&mut f.admin(), &["api", "openapiKeyGe"]).code(2);
    assert!(run.stderr.contains("openapiKeyGet"), "{run:#?}");
    let run = f.run(&mut f.admin(), &["api", "openapiKeyGet"]).code(2);
    assert!(run.stderr.contains("--path keyId=VALUE"), "{run:#?}");
    let run = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyGet", "--path", "nope=1"],
        )
        .code(2);
    assert!(run.stderr.contains("organizationId, keyId"), "{run:#?}");
    let run = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyGetList", "--query", "limit=lots"],
        )
        .code(2);
    assert!(run.stderr.contains("--query"), "{run:#?}");
    let run = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyGetList", "--body", "{}"],
        )
        .code(2);
    assert!(run.stderr.contains("takes no body"), "{run:#?}");
    let run = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyCreate", "--body", "{\"name\": 5}"],
        )
        .code(2);
    assert!(run.stderr.contains("`name`"), "{run:#?}");
    let run = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyCreate", "--body", "{oops"],
        )
        .code(2);
    assert!(run.stderr.contains("not JSON"), "{run:#?}");
    f.run(&mut f.chc(), &["api"]).code(2);
    // Nothing was created by the refused calls.
    let keys = f
        .run(&mut f.admin(), &["keys", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
}

#[test]
fn api_list_names_every_operation_and_marks_beta() {
    let f = Fixture::new();
    let run = f.run(&mut f.bare(), &["api", "--list"]).ok();
    let lines: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(
        lines.len(),
        clickhouse_cloud_client::types::ops::ALL_IDS.len(),
        "{}",
        run.stdout
    );
    let whoami = lines.iter().find(|l| l.starts_with("whoamiGet ")).unwrap();
    assert!(whoami.contains("GET") && whoami.contains("/v1/whoami") && whoami.contains("beta"));
}

#[test]
fn completions_are_scripts_for_each_shell() {
    let f = Fixture::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef chc"),
        ("fish", "complete -c chc"),
    ] {
        let run = f.run(&mut f.bare(), &["completions", shell]).ok();
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..200.min(run.stdout.len())]
        );
        assert!(run.stdout.contains("keys"), "{shell}");
    }
    f.run(&mut f.bare(), &["completions", "powershell"]).code(2);
}

// -------------------------------------------------------------------- roles

#[test]
fn roles_list_shows_system_and_custom_roles_with_ids() {
    let f = Fixture::new();
    let run = f.run(&mut f.admin(), &["roles", "list"]).ok();
    let header = run.stdout.lines().next().unwrap();
    assert!(header.starts_with("NAME") && header.contains("ID") && header.contains("TYPE"));
    let admin = run.line(|line| line.starts_with("Admin "));
    assert!(
        admin.contains(&clickhouse_cloud_emulator::ADMIN_ROLE_ID.to_string())
            && admin.ends_with("system"),
        "{admin}"
    );

    f.custom_role("auditors", "control-plane:organization:view");
    let roles = f
        .run(&mut f.admin(), &["roles", "list", "-o", "json"])
        .ok()
        .json();
    let auditors = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|role| role["name"] == "auditors")
        .unwrap_or_else(|| panic!("{roles}"));
    assert_eq!(auditors["type"], "custom");
    let run = f.run(&mut f.admin(), &["roles", "list"]).ok();
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("auditors "))
        .unwrap();
    assert!(line.contains(auditors["id"].as_str().unwrap()) && line.ends_with("custom"));
}

#[test]
fn keys_take_any_role_by_name_through_the_roles_list() {
    let f = Fixture::new();
    f.custom_role("CI Writers", "control-plane:service:manage");
    // System roles by any spelling, custom roles by name, IDs as given.
    f.run(
        &mut f.admin(),
        &[
            "keys",
            "create",
            "--name",
            "mixed",
            "--role",
            "service_admin",
            "--role",
            "ci writers",
            "--role-id",
            &clickhouse_cloud_emulator::DEVELOPER_ROLE_ID.to_string(),
        ],
    )
    .ok();
    let run = f.run(&mut f.admin(), &["keys", "get", "mixed"]).ok();
    let roles = run
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Roles:"))
        .unwrap()
        .trim()
        .to_owned();
    let mut roles: Vec<&str> = roles.split(", ").collect();
    roles.sort_unstable();
    assert_eq!(
        roles,
        ["CI Writers", "Developer", "Service Admin"],
        "{run:#?}"
    );

    f.run(
        &mut f.admin(),
        &["keys", "update", "mixed", "--role", "billing"],
    )
    .ok();
    let key = f
        .run(&mut f.admin(), &["keys", "get", "mixed", "-o", "json"])
        .ok()
        .json();
    assert_eq!(key["assignedRoles"][0]["roleName"], "Billing", "{key}");

    // An unknown name is "not found", naming the roles there are; nothing is
    // created.
    let run = f
        .run(
            &mut f.admin(),
            &["keys", "create", "--name", "nope", "--role", "owner"],
        )
        .code(4);
    assert!(
        run.stderr.contains("no role named \"owner\"") && run.stderr.contains("Service Admin"),
        "{run:#?}"
    );
    assert_eq!(
        f.emulator.keys_named(f.emulator.organization_id(), "nope"),
        0
    );
}

// ----------------------------------------------------------------- services

/// An emulator whose services provision in 0.2 s and go idle after 1.5 s.
fn fast_services() -> Fixture {
    Fixture::with_builder(Emulator::builder().rate_limit(None).speed(600.0))
}

/// The JSON of `services get SERVICE -o json`.
fn service_json(f: &Fixture, service: &str) -> Value {
    f.run(&mut f.admin(), &["services", "get", service, "-o", "json"])
        .ok()
        .json()
}

const NEW_SERVICE: [&str; 10] = [
    "services",
    "create",
    "--provider",
    "aws",
    "--region",
    "us-east-1",
    "--ip",
    "0.0.0.0/0",
    "--tag",
    "env=prod",
];

#[test]
fn services_create_stop_start_delete_waiting_through_the_state_machine() {
    let f = fast_services();
    let run = f
        .run(
            &mut f.admin(),
            &[&NEW_SERVICE[..], &["--name", "wh", "--wait"]].concat(),
        )
        .ok();
    // In a pipe: the result, no progress line.
    assert_eq!(run.stderr, "", "{run:#?}");
    let password = run
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Password: "))
        .unwrap_or_else(|| panic!("{run:#?}"));
    assert!(password.len() >= 12, "{run:#?}");
    let last = run.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("Service \"wh\" (")
            && (last.ends_with(") is running.") || last.ends_with(") is idle.")),
        "{run:#?}"
    );
    let id = service_json(&f, "wh")["id"].as_str().unwrap().to_owned();

    let listed = f.run(&mut f.admin(), &["services", "list"]).ok();
    assert!(
        listed.stdout.lines().nth(1).unwrap().starts_with("wh "),
        "{listed:#?}"
    );
    let tagged = f
        .run(
            &mut f.admin(),
            &["services", "list", "--tag", "env=prod", "-o", "json"],
        )
        .ok()
        .json();
    assert_eq!(tagged.as_array().unwrap().len(), 1, "{tagged}");
    let untagged = f
        .run(
            &mut f.admin(),
            &["services", "list", "--tag", "env=dev", "-o", "json"],
        )
        .ok()
        .json();
    assert_eq!(untagged.as_array().unwrap().len(), 0, "{untagged}");
    let shown = f.run(&mut f.admin(), &["services", "get", &id]).ok();
    assert!(
        shown.stdout.contains("Tags:") && shown.stdout.contains("env=prod"),
        "{shown:#?}"
    );

    let run = f
        .run(&mut f.admin(), &["services", "stop", "wh", "--wait"])
        .ok();
    assert_eq!(run.stdout, format!("Service \"wh\" ({id}) is stopped.\n"));
    assert_eq!(service_json(&f, "wh")["state"], "stopped");

    let started = f
        .run(
            &mut f.admin(),
            &["services", "start", &id, "--wait", "-o", "json"],
        )
        .ok()
        .json();
    assert!(
        started["state"] == "running" || started["state"] == "idle",
        "{started}"
    );

    // Idle: `awake --wait` brings it back to running.
    assert!(
        f.emulator
            .force_service_state(id.parse().unwrap(), ServiceState::Idle)
    );
    let run = f
        .run(&mut f.admin(), &["services", "awake", "wh", "--wait"])
        .ok();
    assert!(
        run.stdout
            .starts_with(&format!("Service \"wh\" ({id}) is ")),
        "{run:#?}"
    );

    // Running: deleting stops it first, then waits until it is gone.
    f.run(&mut f.admin(), &["services", "delete", "wh"]).code(2);
    let run = f
        .run(
            &mut f.admin(),
            &["services", "delete", "wh", "--yes", "--wait"],
        )
        .ok();
    assert_eq!(run.stdout, format!("Deleted service \"wh\" ({id}).\n"));
    f.run(&mut f.admin(), &["services", "get", &id]).code(4);
    let activities = f
        .run(&mut f.admin(), &["api", "activityGetList"])
        .ok()
        .json();
    let kinds: Vec<&str> = activities
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|activity| activity["type"].as_str())
        .filter(|kind| kind.starts_with("service_"))
        .collect();
    assert!(kinds.contains(&"service_stop"), "{kinds:?}");
    assert!(kinds.contains(&"service_delete"), "{kinds:?}");
}

#[test]
fn services_delete_without_wait_returns_once_the_delete_is_accepted() {
    // Slow enough that termination (30 s at speed 1) is still under way
    // when the command returns.
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).speed(10.0));
    let created = f
        .run(
            &mut f.admin(),
            &[&NEW_SERVICE[..], &["--name", "brief", "-o", "json"]].concat(),
        )
        .ok()
        .json();
    assert!(created["password"].is_string(), "{created}");
    assert_eq!(created["service"]["state"], "provisioning");
    let id = created["service"]["id"].as_str().unwrap().to_owned();
    let deleted = f
        .run(
            &mut f.admin(),
            &["services", "delete", "brief", "--yes", "-o", "json"],
        )
        .ok()
        .json();
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(deleted["state"], "terminating");
    assert_eq!(service_json(&f, &id)["state"], "terminating");
}

#[test]
fn a_wait_that_runs_out_of_time_exits_6_and_keeps_the_password() {
    // Real time: provisioning takes two minutes.
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).speed(1.0));
    let run = f
        .run(
            &mut f.admin(),
            &[
                &NEW_SERVICE[..],
                &["--name", "slow", "--wait", "--timeout", "1s"],
            ]
            .concat(),
        )
        .code(6);
    assert!(run.stdout.contains("\nPassword: "), "{run:#?}");
    assert!(run.stderr.contains("provisioning"), "{run:#?}");
    assert!(
        run.stderr.contains("hint:") && run.stderr.contains("--timeout"),
        "{run:#?}"
    );

    let run = f
        .run(
            &mut f.admin(),
            &[
                &NEW_SERVICE[..],
                &[
                    "--name",
                    "slow-json",
                    "--wait",
                    "--timeout",
                    "1s",
                    "-o",
                    "json",
                ],
            ]
            .concat(),
        )
        .code(6);
    let created = run.json();
    assert!(created["password"].is_string(), "{run:#?}");
    assert_eq!(created["service"]["name"], "slow-json");
    // Both services exist, once each.
    let listed = f
        .run(&mut f.admin(), &["services", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
}

#[test]
fn services_refusals() {
    let f = fast_services();
    // --timeout only with --wait; --ip is required; tags need a key.
    f.run(
        &mut f.admin(),
        &["services", "stop", "x", "--timeout", "5m"],
    )
    .code(2);
    f.run(
        &mut f.admin(),
        &[
            "services",
            "create",
            "--name",
            "a",
            "--provider",
            "aws",
            "--region",
            "us-east-1",
        ],
    )
    .code(2);
    f.run(
        &mut f.admin(),
        &["services", "start", "x", "--wait", "--timeout", "soon"],
    )
    .code(2);
    f.run(&mut f.admin(), &["services", "list", "--tag", "=prod"])
        .code(2);
    let run = f
        .run(&mut f.admin(), &["services", "get", "nothing"])
        .code(4);
    assert!(run.stderr.contains("chc services list"), "{run:#?}");
    f.run(
        &mut f.admin(),
        &["services", "get", &Uuid::new_v4().to_string()],
    )
    .code(4);
    // Two services of one name: name one by its UUID.
    for _ in 0..2 {
        f.run(
            &mut f.admin(),
            &[&NEW_SERVICE[..], &["--name", "twin"]].concat(),
        )
        .ok();
    }
    let run = f.run(&mut f.admin(), &["services", "get", "twin"]).code(2);
    assert!(run.stderr.contains("names 2 services"), "{run:#?}");
    // A developer key may look but not stop.
    let (id, secret) = f.create("reader", "developer");
    f.run(&mut f.as_key(&id, &secret), &["services", "list"])
        .ok();
    let listed = f
        .run(&mut f.admin(), &["services", "list", "-o", "json"])
        .ok()
        .json();
    let uuid = listed[0]["id"].as_str().unwrap().to_owned();
    f.run(&mut f.as_key(&id, &secret), &["services", "stop", &uuid])
        .code(3);
}

// ------------------------------------------------- members and invitations

#[test]
fn members_and_invitations() {
    let f = Fixture::with_builder(
        Emulator::builder()
            .rate_limit(None)
            .member("Grace Hopper=grace@example.com:Developer".parse().unwrap()),
    );
    let run = f.run(&mut f.admin(), &["members", "list"]).ok();
    let header = run.stdout.lines().next().unwrap();
    assert!(header.starts_with("USER ID") && header.contains("EMAIL") && header.contains("ROLES"));
    let grace = run.line(|line| line.contains("grace@example.com"));
    assert!(
        grace.contains("Grace Hopper") && grace.contains("Developer"),
        "{grace}"
    );
    assert_eq!(run.stdout.lines().count(), 3, "owner and Grace: {run:#?}");

    f.run(
        &mut f.admin(),
        &["invitations", "create", "--email", "ada@example.com"],
    )
    .code(2);
    f.run(
        &mut f.admin(),
        &[
            "invitations",
            "create",
            "--email",
            "ada@example.com",
            "--role",
            "owner",
        ],
    )
    .code(4);
    let run = f
        .run(
            &mut f.admin(),
            &[
                "invitations",
                "create",
                "--email",
                "ada@example.com",
                "--role",
                "developer",
            ],
        )
        .ok();
    assert!(
        run.stdout
            .starts_with("Invited ada@example.com as Developer: invitation "),
        "{run:#?}"
    );
    let listed = f
        .run(&mut f.admin(), &["invitations", "list", "-o", "json"])
        .ok()
        .json();
    let invitations = listed.as_array().unwrap();
    assert_eq!(invitations.len(), 1, "{listed}");
    let id = invitations[0]["id"].as_str().unwrap().to_owned();
    let table = f.run(&mut f.admin(), &["invitations", "list"]).ok();
    assert!(
        table.stdout.lines().nth(1).unwrap().starts_with(&id),
        "{table:#?}"
    );
    let run = f.run(&mut f.admin(), &["invitations", "delete", &id]).ok();
    assert_eq!(run.stdout, format!("Withdrew invitation {id}.\n"));
    let listed = f
        .run(&mut f.admin(), &["invitations", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 0, "{listed}");
    f.run(&mut f.admin(), &["invitations", "delete", &id])
        .code(4);
}

#[test]
fn api_answers_an_example_backed_operation_as_the_spec_shows_it() {
    let f = Fixture::new();
    let run = f
        .run(&mut f.admin(), &["api", "notificationTypesGetList"])
        .ok();
    let answer = run.json();
    assert!(
        answer.is_array() && !answer.as_array().unwrap().is_empty(),
        "{run:#?}"
    );
    // Under a service: the service must exist.
    f.run(
        &mut f.admin(),
        &[
            "api",
            "backupConfigurationGet",
            "--path",
            &format!("serviceId={}", Uuid::new_v4()),
        ],
    )
    .code(4);
}

/// On a terminal (a pseudo-terminal from util-linux `script`), a wait shows
/// a live line with the state and the elapsed time, cleared at the end.
#[cfg(target_os = "linux")]
#[test]
fn a_wait_on_a_terminal_shows_the_state_as_it_changes() {
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).speed(100.0));
    let chc = assert_cmd::cargo::cargo_bin!("chc");
    let command = format!(
        "{} --base-url {} services create --name tty --provider aws --region us-east-1 \
         --ip 0.0.0.0/0 --wait",
        chc.display(),
        f.url()
    );
    let output = std::process::Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env("CLICKHOUSE_CLOUD_API_KEY", f.admin_key_id())
        .env("CLICKHOUSE_CLOUD_API_SECRET", f.admin_secret())
        .env("CHC_CONFIG_DIR", f.config.path())
        .env_remove("CLICKHOUSE_ORG_ID")
        .env_remove("CLICKHOUSE_API_URL")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs (.ci/run installs it)");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(screen.contains("service tty: provisioning, "), "{screen}");
    // The line is redrawn in place and cleared before the result.
    assert!(screen.contains("\r\u{1b}[2K"), "{screen}");
    assert!(
        screen.trim_end().ends_with(") is running.") || screen.trim_end().ends_with(") is idle."),
        "{screen}"
    );
    assert!(!screen.contains(f.admin_secret()));
}

#[test]
fn services_create_sends_scaling_and_idle_settings() {
    let f = fast_services();
    let created = f
        .run(
            &mut f.admin(),
            &[
                &NEW_SERVICE[..],
                &[
                    "--name",
                    "sized",
                    "--replicas",
                    "2",
                    "--min-replica-memory-gb",
                    "16",
                    "--max-replica-memory-gb",
                    "64",
                    "--idle-timeout-minutes",
                    "10",
                    "--no-idle-scaling",
                    "-o",
                    "json",
                ],
            ]
            .concat(),
        )
        .ok()
        .json();
    let service = &created["service"];
    assert_eq!(service["numReplicas"], 2, "{created}");
    assert_eq!(
        service["minReplicaMemoryGb"].as_f64(),
        Some(16.0),
        "{created}"
    );
    assert_eq!(
        service["maxReplicaMemoryGb"].as_f64(),
        Some(64.0),
        "{created}"
    );
    assert_eq!(
        service["idleTimeoutMinutes"].as_f64(),
        Some(10.0),
        "{created}"
    );
    assert_eq!(service["idleScaling"], false, "{created}");
    assert_eq!(service["tags"][0]["key"], "env", "{created}");
}

#[test]
fn services_create_restores_a_backup_into_a_new_service() {
    let f = fast_services();
    f.run(
        &mut f.admin(),
        &[&NEW_SERVICE[..], &["--name", "source", "--wait"]].concat(),
    )
    .ok();
    let source = service_json(&f, "source")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let backups = |f: &Fixture| {
        f.run(&mut f.admin(), &["backups", "list", &source, "-o", "json"])
            .ok()
            .json()
    };
    assert_eq!(backups(&f), serde_json::json!([]));
    // The first backup comes a day after the service first ran: at 600x,
    // 144 s.
    f.emulator.advance_clock(Duration::from_secs(150));
    let listed = backups(&f);
    let backup = listed[0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no backup: {listed}"))
        .to_owned();

    let run = f
        .run(
            &mut f.admin(),
            &[
                &NEW_SERVICE[..],
                &["--name", "restored", "--backup-id", &backup, "--wait"],
            ]
            .concat(),
        )
        .ok();
    assert!(run.stdout.contains("\nPassword: "), "{run:#?}");
    let last = run.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("Service \"restored\" (")
            && (last.ends_with(") is running.") || last.ends_with(") is idle.")),
        "{run:#?}"
    );
    let restored = service_json(&f, "restored");
    let id = restored["id"].as_str().unwrap();
    assert_ne!(id, source);
    assert!(
        restored["state"] == "running" || restored["state"] == "idle",
        "{restored}"
    );
    // The emulator records the restore against the new service.
    let activities = f
        .run(&mut f.admin(), &["api", "activityGetList"])
        .ok()
        .json();
    assert!(
        activities.as_array().unwrap().iter().any(|activity| {
            activity["type"] == "service_restore_backup" && activity["serviceId"] == id
        }),
        "{activities}"
    );

    // A backup nobody has: the service's answer, a non-zero exit, no service.
    let unknown = Uuid::new_v4().to_string();
    let run = f
        .run(
            &mut f.admin(),
            &[
                &NEW_SERVICE[..],
                &["--name", "nowhere", "--backup-id", &unknown, "--wait"],
            ]
            .concat(),
        )
        .code(4);
    assert!(
        run.stderr.contains(&unknown) && run.stderr.contains("not found"),
        "{run:#?}"
    );
    assert!(!run.stdout.contains("Password"), "{run:#?}");
    f.run(&mut f.admin(), &["services", "get", "nowhere"])
        .code(4);
    // Not a UUID: a usage error before anything is sent.
    f.run(
        &mut f.admin(),
        &[
            &NEW_SERVICE[..],
            &["--name", "bad", "--backup-id", "yesterday"],
        ]
        .concat(),
    )
    .code(2);
}

// ------------------------------------------------------ hostile names and values

/// The JSON of `keys get KEY -o json`.
fn key_json(f: &Fixture, key: &str) -> Value {
    f.run(&mut f.admin(), &["keys", "get", key, "-o", "json"])
        .ok()
        .json()
}

#[test]
fn key_names_are_matched_exactly_as_given() {
    let f = Fixture::new();
    f.create("prod", "admin");
    f.create("prod ", "developer");
    let org = f.emulator.organization_id();
    let keys = f
        .run(&mut f.admin(), &["keys", "list", "-o", "json"])
        .ok()
        .json();
    let uuid = |name: &str| {
        keys.as_array()
            .unwrap()
            .iter()
            .find(|key| key["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (prod, spaced) = (uuid("prod"), uuid("prod "));

    // get, update, disable and enable act on the key of that exact name.
    assert_eq!(key_json(&f, "prod ")["id"], spaced.as_str());
    assert_eq!(key_json(&f, "prod")["id"], prod.as_str());
    f.run(&mut f.admin(), &["keys", "disable", "prod "]).ok();
    assert_eq!(key_json(&f, &spaced)["state"], "disabled");
    assert_eq!(key_json(&f, &prod)["state"], "enabled");
    f.run(&mut f.admin(), &["keys", "enable", "prod "]).ok();
    f.run(
        &mut f.admin(),
        &["keys", "update", "prod ", "--expires", "30d"],
    )
    .ok();
    assert!(key_json(&f, &spaced)["expireAt"].is_string());
    assert_eq!(key_json(&f, &prod)["expireAt"], Value::Null);

    // delete "prod " deletes the Developer key; the Admin key "prod" stays.
    f.run(&mut f.admin(), &["keys", "delete", "prod ", "--yes"])
        .ok();
    assert_eq!(f.emulator.keys_named(org, "prod "), 0);
    assert_eq!(f.emulator.keys_named(org, "prod"), 1);
    let kept = key_json(&f, &prod);
    assert_eq!(kept["assignedRoles"][0]["roleName"], "Admin", "{kept}");
    // " prod" names no key.
    f.run(&mut f.admin(), &["keys", "get", " prod"]).code(4);
}

#[test]
fn a_key_id_suffix_matches_only_when_written_as_one() {
    let f = Fixture::new();
    let (key_id, _) = f.create("target", "developer");
    let suffix = key_id[key_id.len() - 4..].to_owned();
    let uuid = f.uuid_of("target");

    // Text that merely ends in the suffix names no key.
    let run = f
        .run(
            &mut f.admin(),
            &["keys", "get", &format!("nonexistent{suffix}")],
        )
        .code(4);
    assert!(!run.stdout.contains(&uuid), "{run:#?}");
    // Written as `keys list` shows it, it does.
    assert_eq!(key_json(&f, &format!("...{suffix}"))["id"], uuid.as_str());
    assert_eq!(key_json(&f, &format!("…{suffix}"))["id"], uuid.as_str());

    // A key named like that suffix: the argument matches two keys in two
    // ways, and the error lists both by UUID.
    f.create(&format!("...{suffix}"), "developer");
    let named = f.uuid_of(&format!("...{suffix}"));
    let run = f
        .run(
            &mut f.admin(),
            &["keys", "delete", &format!("...{suffix}"), "--yes"],
        )
        .code(2);
    assert!(
        run.stderr.contains(&uuid) && run.stderr.contains(&named),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("by name") && run.stderr.contains("by key ID suffix"),
        "{run:#?}"
    );
    assert_eq!(f.emulator.key_count(f.emulator.organization_id()), 3);

    // Two keys of one name: the same.
    f.create("twin", "developer");
    f.create("twin", "developer");
    let run = f.run(&mut f.admin(), &["keys", "disable", "twin"]).code(2);
    assert!(run.stderr.contains("matches 2 keys"), "{run:#?}");
    for key in f
        .run(&mut f.admin(), &["keys", "list", "-o", "json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
    {
        assert_eq!(key["state"], "enabled", "{key}");
    }
}

#[test]
fn service_names_are_matched_exactly_as_given() {
    let f = fast_services();
    for name in ["wh", "wh "] {
        f.run(
            &mut f.admin(),
            &[&NEW_SERVICE[..], &["--name", name, "--wait"]].concat(),
        )
        .ok();
    }
    let exact = service_json(&f, "wh");
    let spaced = service_json(&f, "wh ");
    assert_ne!(exact["id"], spaced["id"]);
    assert_eq!(spaced["name"], "wh ");

    f.run(&mut f.admin(), &["services", "stop", "wh ", "--wait"])
        .ok();
    assert_eq!(service_json(&f, "wh ")["state"], "stopped");
    assert_ne!(service_json(&f, "wh")["state"], "stopped");
    f.run(&mut f.admin(), &["services", "start", "wh ", "--wait"])
        .ok();
    f.run(
        &mut f.admin(),
        &["services", "delete", "wh ", "--yes", "--wait"],
    )
    .ok();
    let listed = f
        .run(&mut f.admin(), &["services", "list", "-o", "json"])
        .ok()
        .json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|service| service["name"].as_str())
        .collect();
    assert_eq!(names, ["wh"], "{listed}");
    f.run(&mut f.admin(), &["services", "get", " wh"]).code(4);
}

#[test]
fn chc_does_not_lock_out_the_key_it_is_signed_in_with() {
    let f = Fixture::new();
    let own = f.uuid_of("Bootstrap key");
    // Disabling it, or replacing its IP access list, is refused.
    let run = f
        .run(&mut f.admin(), &["keys", "disable", "Bootstrap key"])
        .code(1);
    f.snapshot("keys_disable_own", &run.screen());
    let run = f
        .run(
            &mut f.admin(),
            &["keys", "update", &own, "--ip", "203.0.113.0/24"],
        )
        .code(1);
    assert!(run.stderr.contains("IP access list"), "{run:#?}");
    // An expiry in the past is refused before any request.
    f.run(
        &mut f.admin(),
        &["keys", "update", &own, "--expires", "2020-01-01"],
    )
    .code(2);
    let key = key_json(&f, &own);
    assert_eq!(key["state"], "enabled");
    assert_eq!(key["expireAt"], Value::Null);
    assert!(
        key["ipAccessList"].to_string().contains("0.0.0.0/0") || key["ipAccessList"].is_null(),
        "{key}"
    );
    // Every call still works.
    f.run(&mut f.admin(), &["keys", "list"]).ok();

    // The same for a key chc created and is now signed in with.
    let (key_id, secret) = f.create("self", "admin");
    f.run(
        &mut f.as_key(&key_id, &secret),
        &["keys", "disable", &key_id],
    )
    .code(1);
    f.run(&mut f.as_key(&key_id, &secret), &["keys", "list"])
        .ok();
    // Another key may do it; a change that cannot lock it out is done.
    f.run(
        &mut f.as_key(&key_id, &secret),
        &["keys", "update", "self", "--expires", "90d"],
    )
    .ok();
    f.run(&mut f.admin(), &["keys", "disable", "self"]).ok();
}

#[test]
fn tables_and_fields_escape_control_characters() {
    let f = Fixture::with_builder(
        Emulator::builder().rate_limit(None).speed(600.0).member(
            "Mallory\u{1b}[2J=mallory@example.com:Developer"
                .parse()
                .unwrap(),
        ),
    );
    let fake = "line1\nfake-admin  ...XuQv  Admin  enabled";
    f.create(fake, "developer");
    f.create("abc\u{202e}cba", "developer");
    let run = f.run(&mut f.admin(), &["keys", "list"]).ok();
    // A header and three keys: no fourth row.
    assert_eq!(run.stdout.lines().count(), 4, "{run:#?}");
    assert!(
        !run.stdout
            .lines()
            .any(|line| line.starts_with("fake-admin")),
        "{run:#?}"
    );
    assert!(run.stdout.contains("line1\\nfake-admin"), "{run:#?}");
    assert!(run.stdout.contains("abc\\u{202e}cba"), "{run:#?}");
    assert!(!run.stdout.contains('\u{202e}'), "{run:#?}");
    let shown = f.run(&mut f.admin(), &["keys", "get", fake]).ok();
    assert!(shown.stdout.contains("line1\\nfake-admin"), "{shown:#?}");
    assert!(!shown.stdout.contains("line1\nfake"), "{shown:#?}");
    // JSON keeps the name as it is.
    let json = f
        .run(&mut f.admin(), &["keys", "list", "-o", "json"])
        .ok()
        .json();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|key| key["name"] == fake),
        "{json}"
    );

    let screen = "\u{1b}[2J\u{1b}[Hclear";
    f.run(
        &mut f.admin(),
        &[&NEW_SERVICE[..], &["--name", screen]].concat(),
    )
    .ok();
    for args in [
        &["services", "list"][..],
        &["services", "get", screen][..],
        &["members", "list"][..],
    ] {
        let run = f.run(&mut f.admin(), args).ok();
        assert!(!run.screen().contains('\u{1b}'), "{run:#?}");
    }
    let run = f.run(&mut f.admin(), &["services", "list"]).ok();
    assert!(run.stdout.contains("\\u{1b}[2J\\u{1b}[Hclear"), "{run:#?}");
    let run = f.run(&mut f.admin(), &["members", "list"]).ok();
    assert!(run.stdout.contains("Mallory\\u{1b}[2J"), "{run:#?}");
    let json = service_json(&f, screen);
    assert_eq!(json["name"], screen);
}

// ------------------------------------------ answers lost in transit (faults)

#[test]
fn a_delete_whose_first_answer_was_lost_is_reported_as_deleted() {
    let f = Fixture::new();
    let (key_id, _) = f.create("doomed", "developer");
    let org = f.emulator.organization_id();
    // The service deletes, then the connection drops; the client sends the
    // DELETE again and gets 404.
    f.emulator
        .set_faults("openapiKeyDelete#1:reset-after".parse().unwrap());
    let run = f
        .run(&mut f.admin(), &["keys", "delete", "doomed", "--yes"])
        .ok();
    assert!(run.stdout.contains("Deleted key \"doomed\""), "{run:#?}");
    assert!(run.stderr.contains("first answer"), "{run:#?}");
    assert_eq!(f.emulator.keys_named(org, "doomed"), 0);
    assert!(f.emulator.faults_injected() >= 1);
    let records = std::fs::read_to_string(f.config.path().join("keys.json")).unwrap();
    assert!(!records.contains(&key_id), "{records}");
    // A plain 404 (nothing lost on the way) is still "not found".
    f.emulator.set_faults("off".parse().unwrap());
    f.run(
        &mut f.admin(),
        &["keys", "delete", &Uuid::new_v4().to_string(), "--yes"],
    )
    .code(4);
}

#[test]
fn a_create_whose_answer_was_lost_says_how_to_check_before_trying_again() {
    let f = fast_services();
    let org = f.emulator.organization_id();
    f.emulator
        .set_faults("openapiKeyCreate#1:reset-after".parse().unwrap());
    let run = f
        .run(
            &mut f.admin(),
            &["keys", "create", "--name", "maybe", "--role", "developer"],
        )
        .code(1);
    assert!(
        run.stderr
            .contains("may have created a key named \"maybe\""),
        "{run:#?}"
    );
    assert!(run.stderr.contains("chc keys list"), "{run:#?}");
    // It was created once, and not sent again.
    assert_eq!(f.emulator.keys_named(org, "maybe"), 1);

    f.emulator
        .set_faults("instanceCreate#1:reset-after".parse().unwrap());
    let run = f
        .run(
            &mut f.admin(),
            &[&NEW_SERVICE[..], &["--name", "maybe-svc"]].concat(),
        )
        .code(1);
    assert!(
        run.stderr
            .contains("may have created a service named \"maybe-svc\""),
        "{run:#?}"
    );
    assert!(run.stderr.contains("chc services list"), "{run:#?}");
    f.emulator.set_faults("off".parse().unwrap());
    let listed = f
        .run(&mut f.admin(), &["services", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

// ------------------------------------------------------------ chc api pages

#[test]
fn api_reads_every_page_of_a_paged_list_unless_one_page_is_asked_for() {
    // More keys than the client's page of 100.
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).key_limit(200));
    let org: Uuid = f.org().parse().unwrap();
    let keys = f.client().api_keys(org);
    f.runtime.block_on(async {
        for n in 1..130 {
            keys.create(clickhouse_cloud_client::NewApiKey::new(format!(
                "bulk-{n:03}"
            )))
            .await
            .unwrap();
        }
    });
    let all = f
        .run(&mut f.admin(), &["api", "openapiKeyGetList"])
        .ok()
        .json();
    let names: std::collections::BTreeSet<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|key| key["name"].as_str())
        .collect();
    assert_eq!(all.as_array().unwrap().len(), 130);
    assert_eq!(names.len(), 130);
    assert!(names.contains("bulk-129") && names.contains("Bootstrap key"));

    // One page: its items on stdout, the next cursor and the total on
    // stderr; the cursor gives the page after it.
    let first = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyGetList", "--query", "limit=7"],
        )
        .ok();
    assert_eq!(first.json().as_array().unwrap().len(), 7);
    assert!(first.stderr.contains("totalCount: 130"), "{first:#?}");
    let cursor = first
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("nextCursor: "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no next cursor: {first:#?}"))
        .to_owned();
    let second = f
        .run(
            &mut f.admin(),
            &[
                "api",
                "openapiKeyGetList",
                "--query",
                "limit=7",
                "--query",
                &format!("cursor={cursor}"),
            ],
        )
        .ok();
    let ids = |run: &Run| -> Vec<String> {
        run.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (first_ids, second_ids) = (ids(&first), ids(&second));
    assert_eq!(second_ids.len(), 7);
    assert!(first_ids.iter().all(|id| !second_ids.contains(id)));

    // The last page says there is none after it.
    let last = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyGetList", "--query", "limit=500"],
        )
        .ok();
    assert_eq!(last.json().as_array().unwrap().len(), 130);
    assert!(!last.stderr.contains("nextCursor"), "{last:#?}");
}

#[test]
fn api_query_values_of_the_wrong_type_name_the_parameter_and_the_type() {
    let f = Fixture::new();
    let run = f
        .run(
            &mut f.admin(),
            &["api", "openapiKeyGetList", "--query", "limit=abc"],
        )
        .code(2);
    assert!(
        run.stderr.contains("`limit` expects an integer"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("sequence"), "{run:#?}");
}

// ------------------------------------------------------- expiry and records

#[test]
fn expires_takes_a_date_meaning_the_end_of_that_day_and_years() {
    use chrono::Datelike as _;
    let f = Fixture::new();
    let year = chrono::Utc::now().year() + 1;
    let date = format!("{year}-01-01");
    let created = f
        .run(
            &mut f.admin(),
            &[
                "keys",
                "create",
                "--name",
                "dated",
                "--role",
                "developer",
                "--expires",
                &date,
                "-o",
                "json",
            ],
        )
        .ok()
        .json();
    let at: chrono::DateTime<chrono::Utc> = created["key"]["expireAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(at.to_rfc3339(), format!("{year}-01-01T23:59:59+00:00"));

    let yearly = f
        .run(
            &mut f.admin(),
            &[
                "keys",
                "create",
                "--name",
                "yearly",
                "--role",
                "developer",
                "--expires",
                "1y",
                "-o",
                "json",
            ],
        )
        .ok()
        .json();
    let at: chrono::DateTime<chrono::Utc> =
        yearly["key"]["expireAt"].as_str().unwrap().parse().unwrap();
    let days = (at - chrono::Utc::now()).num_days();
    assert!((364..=365).contains(&days), "{at}");
    f.run(
        &mut f.admin(),
        &[
            "keys",
            "update",
            "dated",
            "--expires",
            &format!("{}-06-30", year + 1),
        ],
    )
    .ok();
    assert!(
        key_json(&f, "dated")["expireAt"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}-06-30T23:59:59", year + 1))
    );
    let run = f
        .run(
            &mut f.admin(),
            &[
                "keys",
                "create",
                "--name",
                "x",
                "--role",
                "developer",
                "--expires",
                "2020-01-01",
            ],
        )
        .code(2);
    assert!(run.stderr.contains("in the past"), "{run:#?}");
}

#[test]
fn parallel_creates_lose_no_key_record() {
    let f = Fixture::new();
    let children: Vec<_> = (0..6)
        .map(|n| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("chc"));
            for var in ENV_VARS {
                cmd.env_remove(var);
            }
            cmd.env("CHC_CONFIG_DIR", f.config.path())
                .env("CLICKHOUSE_CLOUD_API_KEY", f.admin_key_id())
                .env("CLICKHOUSE_CLOUD_API_SECRET", f.admin_secret())
                .args([
                    "--base-url",
                    &f.url(),
                    "keys",
                    "create",
                    "--name",
                    &format!("parallel-{n}"),
                    "--no-role",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut key_ids = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let key_id = stdout
            .lines()
            .find_map(|line| line.strip_prefix("Key ID: "))
            .unwrap()
            .to_owned();
        key_ids.push(key_id);
    }
    let records: Value =
        serde_json::from_str(&std::fs::read_to_string(f.config.path().join("keys.json")).unwrap())
            .unwrap();
    let recorded: Vec<&str> = records["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|record| record["keyId"].as_str())
        .collect();
    assert_eq!(recorded.len(), 6, "{records}");
    for key_id in &key_ids {
        assert!(recorded.contains(&key_id.as_str()), "{key_id}: {records}");
    }
}

/// The values of a path's parameters, read against its template.
fn path_values(template: &str, path: &str) -> std::collections::BTreeMap<String, String> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(t, v)| {
            let name = t.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), v.to_owned()))
        })
        .collect()
}

/// A service and a Postgres service to run commands under.
fn resources(f: &Fixture) -> (String, String) {
    let service = f
        .run(
            &mut f.admin(),
            &[
                "services",
                "create",
                "--name",
                "svc",
                "--provider",
                "aws",
                "--region",
                "us-east-1",
                "--ip",
                "0.0.0.0/0",
                "-o",
                "json",
            ],
        )
        .ok()
        .json()["service"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pg = f
        .run(
            &mut f.admin(),
            &[
                "postgres",
                "create",
                "--name",
                "pg",
                "--provider",
                "aws",
                "--region",
                "us-east-1",
                "--size",
                "r8gd.medium",
                "-o",
                "json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (service, pg)
}

/// Every operation of the table has a command; every generated command,
/// given the spec's example request, reaches its own operation (a fault
/// injected on that operation alone is what it answers) and otherwise
/// answers as `chc api` does for the same request.
#[test]
fn every_generated_command_reaches_its_operation() {
    let f = Fixture::new();
    let (service, pg) = resources(&f);
    let org = f.org();
    let listed = f
        .run(&mut f.admin(), &["api", "--list", "-o", "json"])
        .ok()
        .json();
    let listed = listed.as_array().unwrap();
    let ids: Vec<&str> = listed
        .iter()
        .map(|op| op["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        clickhouse_cloud_client::types::ops::ALL_IDS.len()
    );
    let cassettes =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cassettes/examples");
    let mut ran = 0;
    for op in listed {
        let id = op["operation"].as_str().unwrap();
        let generated = op["generated"].as_array().unwrap();
        let hand = op["handWritten"].as_array().unwrap();
        assert!(
            generated.is_empty() != hand.is_empty(),
            "{id}: offered by {generated:?} and {hand:?}"
        );
        let cassette: Value = serde_json::from_str(
            &std::fs::read_to_string(cassettes.join(format!("{id}.json"))).unwrap(),
        )
        .unwrap();
        let request = &cassette["request"];
        let values = path_values(
            op["path"].as_str().unwrap(),
            request["path"].as_str().unwrap(),
        );
        for command in generated {
            let mut args: Vec<String> = vec![
                "--org".into(),
                org.clone(),
                command["area"].as_str().unwrap().into(),
                command["verb"].as_str().unwrap().into(),
            ];
            let mut api: Vec<String> = vec!["--org".into(), org.clone(), "api".into(), id.into()];
            for wire in command["positionals"].as_array().unwrap() {
                let wire = wire.as_str().unwrap();
                let value = match wire {
                    "serviceId" => service.clone(),
                    "postgresId" => pg.clone(),
                    other => values[other].clone(),
                };
                api.push("--path".into());
                api.push(format!("{wire}={value}"));
                args.push(value);
            }
            if command["pairField"].is_string() {
                args.extend(["max_threads".into(), "4".into()]);
            }
            let mut query = request["query"].as_object().cloned().unwrap_or_default();
            // The spec's example page always has a next one: ask for one page.
            if command["paged"].as_bool().unwrap() {
                query.insert("limit".into(), 1.into());
            }
            for flag in command["query"].as_array().unwrap() {
                let wire = flag["wire"].as_str().unwrap();
                let Some(value) = query.get(wire) else {
                    continue;
                };
                let texts: Vec<String> = match value {
                    Value::Array(items) => items.iter().map(text_of).collect(),
                    other => vec![text_of(other)],
                };
                for text in texts {
                    args.push(format!("--{}", flag["flag"].as_str().unwrap()));
                    args.push(text.clone());
                    api.push("--query".into());
                    api.push(format!("{wire}={text}"));
                }
            }
            if command["takesBody"].as_bool().unwrap() && !request["body"].is_null() {
                args.push("--body".into());
                args.push(request["body"].to_string());
                if command["pairField"].is_null()
                    && !id.ends_with("PatchState")
                    && id != "clickPipeStateUpdate"
                {
                    api.push("--body".into());
                    api.push(request["body"].to_string());
                }
            }
            // A delete is refused without confirmation (tested below).
            if op["method"] == "DELETE" {
                args.push("--yes".into());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            // Reaches its own operation: a fault on it alone is the answer.
            f.emulator
                .set_faults(format!("{id}#1:json-418").parse().unwrap());
            let faulted = f.run(&mut f.admin(), &args);
            assert_eq!(faulted.code, 1, "{args:?}: {faulted:#?}");
            assert!(faulted.stderr.contains("418"), "{args:?}: {faulted:#?}");
            f.emulator.set_faults(Default::default());
            // Otherwise answers as the emulator does.
            let mut json_args = args.clone();
            json_args.extend(["-o", "json"]);
            let answered = f.run(&mut f.admin(), &json_args);
            assert_ne!(answered.code, 2, "{args:?}: {answered:#?}");
            if op["method"] == "GET" {
                let api: Vec<&str> = api.iter().map(String::as_str).collect();
                let direct = f.run(&mut f.admin(), &api);
                assert_eq!(
                    answered.code, direct.code,
                    "{args:?}: {answered:#?} {direct:#?}"
                );
                if answered.code == 0 {
                    assert_eq!(answered.stdout, direct.stdout, "{args:?}");
                }
            }
            ran += 1;
        }
    }
    let generated: usize = listed
        .iter()
        .map(|op| op["generated"].as_array().unwrap().len())
        .sum();
    assert_eq!(ran, generated);
    assert!(ran > 0);
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Generated commands: typed flags, `--body` merged under the flags, usage
/// errors before anything is sent, tables, `--jq`, a secret's warning, and
/// `--wait` on a Postgres service.
#[test]
fn generated_commands_type_merge_print_and_wait() {
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).speed(600.0));
    // --wait follows a new Postgres service until it runs.
    let created = f
        .run(
            &mut f.admin(),
            &[
                "postgres",
                "create",
                "--name",
                "pg",
                "--provider",
                "aws",
                "--region",
                "us-east-1",
                "--size",
                "r8gd.medium",
                "--wait",
                "--timeout",
                "2m",
                "-o",
                "json",
            ],
        )
        .ok();
    assert!(created.stderr.contains("is running"), "{created:#?}");
    let pg = created.json()["id"].as_str().unwrap().to_owned();
    // A value outside an enum, a wrong type: usage errors naming the flag.
    let bad = f
        .run(
            &mut f.admin(),
            &[
                "postgres",
                "create",
                "--name",
                "x",
                "--provider",
                "azure",
                "--region",
                "r",
                "--size",
                "r8gd.medium",
            ],
        )
        .code(2);
    assert!(
        bad.stderr.contains("--provider") && bad.stderr.contains("aws"),
        "{bad:#?}"
    );
    let bad = f
        .run(
            &mut f.admin(),
            &["postgres", "update", &pg, "--body", r#"{"haType": 7}"#],
        )
        .code(2);
    assert!(bad.stderr.contains("haType"), "{bad:#?}");
    let before = f.emulator.requests_received();
    f.run(
        &mut f.admin(),
        &["postgres", "create", "--body", r#"{"name": 1}"#],
    )
    .code(2);
    assert_eq!(f.emulator.requests_received(), before, "nothing is sent");
    // Flags win over --body.
    let renamed = f
        .run(
            &mut f.admin(),
            &[
                "postgres",
                "update",
                &pg,
                "--body",
                r#"{"name": "from-body"}"#,
                "--name",
                "from-flag",
                "-o",
                "json",
            ],
        )
        .ok()
        .json();
    assert_eq!(renamed["name"], "from-flag", "{renamed}");
    // A list as a table with the rule's columns; --jq with raw strings.
    let table = f.run(&mut f.admin(), &["postgres", "list"]).ok();
    assert!(table.stdout.starts_with("ID"), "{table:#?}");
    assert!(table.stdout.lines().next().unwrap().contains("NAME"));
    let names = f
        .run(&mut f.admin(), &["postgres", "list", "--jq", ".[].name"])
        .ok();
    assert!(names.stdout.lines().any(|l| l == "from-flag"), "{names:#?}");
    f.run(&mut f.admin(), &["postgres", "list", "--jq", ".["])
        .code(2);
    // A secret in an answer comes with the warning, once.
    let reset = f
        .run(&mut f.admin(), &["postgres", "reset-password", &pg])
        .ok();
    assert_eq!(
        reset.screen().matches("shown only this once").count(),
        1,
        "{reset:#?}"
    );
    // --wait follows the Postgres service until it runs.
    let waited = f
        .run(
            &mut f.admin(),
            &["postgres", "restart", &pg, "--wait", "--timeout", "2m"],
        )
        .ok();
    assert!(waited.stderr.contains("is running"), "{waited:#?}");
    // A name resolves like a UUID; an unknown one is "not found".
    f.run(&mut f.admin(), &["postgres", "get", "from-flag"])
        .ok();
    f.run(&mut f.admin(), &["postgres", "get", "nope"]).code(4);
}

/// The body of the spec's example request for `operation`.
fn example_body(operation: &str) -> Value {
    let cassette = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../conformance/cassettes/examples")
        .join(format!("{operation}.json"));
    let cassette: Value =
        serde_json::from_str(&std::fs::read_to_string(cassette).unwrap()).unwrap();
    cassette["request"]["body"].clone()
}

/// A generated delete asks like `keys delete`: without `--yes` and a
/// terminal it is refused before any request, and the resource stays.
#[test]
fn generated_deletes_need_yes_without_a_terminal() {
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).speed(600.0));
    let (_, pg) = resources(&f);
    let help = f
        .run(&mut f.admin(), &["postgres", "delete", "--help"])
        .ok();
    assert!(help.stdout.contains("--yes"), "{help:#?}");
    let before = f.emulator.requests_received();
    let refused = f.run(&mut f.admin(), &["postgres", "delete", &pg]).code(2);
    assert!(
        refused.stderr.contains("--yes") && refused.stderr.contains(&pg),
        "{refused:#?}"
    );
    assert_eq!(f.emulator.requests_received(), before, "nothing is sent");
    let still = f
        .run(&mut f.admin(), &["postgres", "get", &pg, "-o", "json"])
        .ok()
        .json();
    assert_eq!(still["id"], pg.as_str(), "{still}");
    // A command that does not delete takes no --yes.
    f.run(&mut f.admin(), &["postgres", "get", &pg, "--yes"])
        .code(2);
    f.run(
        &mut f.admin(),
        &[
            "postgres",
            "delete",
            &pg,
            "--yes",
            "--wait",
            "--timeout",
            "2m",
        ],
    )
    .ok();
    f.run(&mut f.admin(), &["postgres", "get", &pg]).code(4);
}

/// `--no-FIELD` sends `null`: the stored configuration loses the field.
#[test]
fn no_flag_clears_a_field_with_null() {
    let f = Fixture::new();
    let (service, _) = resources(&f);
    let config = |f: &Fixture| {
        f.run(
            &mut f.admin(),
            &["backups", "config", &service, "-o", "json"],
        )
        .ok()
        .json()
    };
    f.run(
        &mut f.admin(),
        &[
            "backups",
            "update-config",
            &service,
            "--backup-start-time",
            "03:00",
        ],
    )
    .ok();
    assert_eq!(config(&f)["backupStartTime"], "03:00", "{}", config(&f));
    f.run(
        &mut f.admin(),
        &[
            "backups",
            "update-config",
            &service,
            "--no-backup-start-time",
        ],
    )
    .ok();
    let cleared = config(&f);
    assert!(cleared["backupStartTime"].is_null(), "{cleared}");
    // Not both at once.
    f.run(
        &mut f.admin(),
        &[
            "backups",
            "update-config",
            &service,
            "--backup-start-time",
            "03:00",
            "--no-backup-start-time",
        ],
    )
    .code(2);
}

/// `clickpipes create --wait` follows the new pipe from `Provisioning` to
/// `Running`; a wait out of time names `chc clickpipes get` in its hint.
#[test]
fn clickpipes_create_waits_until_running_and_a_timeout_names_the_pipe() {
    let body = example_body("clickPipeCreate").to_string();
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).speed(600.0));
    let (service, _) = resources(&f);
    // A ClickPipe needs its service running.
    assert!(
        f.emulator
            .force_service_state(service.parse().unwrap(), ServiceState::Running)
    );
    let created = f
        .run(
            &mut f.admin(),
            &[
                "clickpipes",
                "create",
                &service,
                "--body",
                &body,
                "--name",
                "events",
                "--wait",
                "--timeout",
                "2m",
                "-o",
                "json",
            ],
        )
        .ok();
    assert!(created.stderr.contains("is Running"), "{created:#?}");
    let pipe = created.json()["id"].as_str().unwrap().to_owned();
    let got = f
        .run(
            &mut f.admin(),
            &["clickpipes", "get", &service, &pipe, "-o", "json"],
        )
        .ok()
        .json();
    assert_eq!(got["state"], "Running", "{got}");

    // At speed 1 provisioning takes a minute: a one-second wait runs out.
    let slow = Fixture::with_builder(Emulator::builder().rate_limit(None).speed(1.0));
    let (service, _) = resources(&slow);
    assert!(
        slow.emulator
            .force_service_state(service.parse().unwrap(), ServiceState::Running)
    );
    let timed_out = slow
        .run(
            &mut slow.admin(),
            &[
                "clickpipes",
                "create",
                &service,
                "--body",
                &body,
                "--wait",
                "--timeout",
                "1s",
                "-o",
                "json",
            ],
        )
        .code(6);
    let pipe = timed_out.json()["id"].as_str().unwrap().to_owned();
    assert!(
        timed_out
            .stderr
            .contains(&format!("`chc clickpipes get {service} {pipe}`")),
        "{timed_out:#?}"
    );
    assert!(
        !timed_out.stderr.contains("chc services get"),
        "{timed_out:#?}"
    );
    let timed_out = slow
        .run(
            &mut slow.admin(),
            &[
                "postgres",
                "create",
                "--name",
                "pg2",
                "--provider",
                "aws",
                "--region",
                "us-east-1",
                "--size",
                "r8gd.medium",
                "--wait",
                "--timeout",
                "1s",
                "-o",
                "json",
            ],
        )
        .code(6);
    let pg = timed_out.json()["id"].as_str().unwrap().to_owned();
    assert!(
        timed_out
            .stderr
            .contains(&format!("`chc postgres get {pg}`")),
        "{timed_out:#?}"
    );
}

/// The completion scripts hold the generated commands and their flags.
#[test]
fn completions_include_generated_commands_and_their_flags() {
    let f = Fixture::new();
    let bash = f.run(&mut f.bare(), &["completions", "bash"]).ok();
    assert!(
        bash.stdout
            .contains("chc__subcmd__postgres__subcmd__create"),
        "no postgres create"
    );
    assert!(
        bash.stdout.contains("--backup-start-time"),
        "no generated flag"
    );
    assert!(
        bash.stdout.contains("--no-backup-start-time"),
        "no --no- flag"
    );
    let fish = f.run(&mut f.bare(), &["completions", "fish"]).ok();
    assert!(
        fish.stdout
            .lines()
            .any(|l| l.contains("__fish_chc_using_subcommand clickpipes") && l.contains("-l wait")),
        "no clickpipes --wait in fish"
    );
}

// -------------------------------------------------------------------- udfs

/// A folder a `python3.11` function deploys from: `main.py`, a module, and
/// what the archive leaves out (a hidden file, a cache).
fn udf_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "main.py",
        "import sys\nfor line in sys.stdin:\n    print(int(line) * 2, flush=True)\n",
    );
    write("lib/helper.py", "FACTOR = 2\n");
    write(".env", "NOT=shipped\n");
    write("lib/__pycache__/helper.cpython-311.pyc", "");
    dir
}

/// `udfs deploy NAME DIR` with the flags of a one-argument function.
fn deploy_args<'a>(name: &'a str, dir: &'a Path) -> Vec<&'a str> {
    vec![
        "udfs",
        "deploy",
        name,
        dir.to_str().unwrap(),
        "--runtime",
        "python3.11",
        "--arg",
        "x:UInt64",
        "--returns",
        "UInt64",
    ]
}

/// The whole flow against the emulator: the folder zipped and uploaded
/// (the emulator refuses an upload that carries an `Authorization` header,
/// so a deploy that passes sent none), the function created, its build
/// waited for, the version attached and deployed; a second deploy adds a
/// version; `udfs attach` and `udfs detach` wait too.
#[test]
fn udfs_deploy_creates_then_adds_a_version_deployed_on_the_service() {
    let f = fast_services();
    // Never idle: the build and deployment waits take seconds.
    f.run(
        &mut f.admin(),
        &[
            &NEW_SERVICE[..],
            &["--name", "wh", "--no-idle-scaling", "--wait"],
        ]
        .concat(),
    )
    .ok();
    let service = service_json(&f, "wh")["id"].as_str().unwrap().to_owned();
    let folder = udf_folder();

    let run = f
        .run(
            &mut f.admin(),
            &[
                &deploy_args("double_it", folder.path())[..],
                &["--service", "wh", "--wait"],
            ]
            .concat(),
        )
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    // main.py and lib/helper.py; not .env, not the cache.
    assert!(
        lines[0].starts_with("Created UDF \"double_it\" (version 1) from ")
            && lines[0].contains(": 2 files, ")
            && lines[0].ends_with(" archived."),
        "{run:#?}"
    );
    assert_eq!(lines[1], "Version 1 is built.", "{run:#?}");
    assert_eq!(
        lines[2],
        format!("Attached version 1 to service \"wh\" ({service}): provisioning."),
        "{run:#?}"
    );
    assert_eq!(
        lines[3],
        format!("Version 1 is deployed on service \"wh\" ({service})."),
        "{run:#?}"
    );

    // A second deploy adds a version; JSON says which it did.
    let second = f
        .run(
            &mut f.admin(),
            &[
                &deploy_args("double_it", folder.path())[..],
                &["--service", &service, "--wait", "-o", "json"],
            ]
            .concat(),
        )
        .ok()
        .json();
    assert_eq!(second["action"], "versionAdded", "{second}");
    assert_eq!(
        (
            second["udf"]["version"].as_i64(),
            second["udf"]["status"].as_str()
        ),
        (Some(2), Some("ready"))
    );
    assert_eq!(second["udf"]["runtime"], "python3.11");
    assert_eq!(
        second["udf"]["arguments"],
        serde_json::json!([{"name": "x", "type": "UInt64"}])
    );
    let attachment = &second["attachments"][0];
    assert_eq!(
        (
            attachment["version"].as_i64(),
            attachment["status"].as_str(),
            attachment["serviceId"].as_str()
        ),
        (Some(2), Some("deployed"), Some(service.as_str()))
    );
    let versions = f
        .run(
            &mut f.admin(),
            &["udfs", "list-versions", "double_it", "-o", "json"],
        )
        .ok()
        .json();
    let numbers: Vec<i64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);

    // The generated attach and detach wait as well.
    let attached = f
        .run(
            &mut f.admin(),
            &[
                "udfs",
                "attach",
                "double_it",
                "wh",
                "--version-field",
                "1",
                "--wait",
            ],
        )
        .ok();
    assert!(
        attached.stderr.contains(&format!(
            "UDF double_it version 1 is deployed on service {service}."
        )),
        "{attached:#?}"
    );
    let detached = f
        .run(
            &mut f.admin(),
            &["udfs", "detach", "double_it", "wh", "--yes", "--wait"],
        )
        .ok();
    assert!(
        detached.stderr.contains(&format!(
            "UDF double_it is detached from service {service}."
        )),
        "{detached:#?}"
    );
    f.run(
        &mut f.admin(),
        &["udfs", "get-attachment", "double_it", "wh"],
    )
    .code(4);
}

/// What the command line or the folder get wrong is a usage error, and
/// nothing is sent; an unknown service is found out before anything is
/// made.
#[test]
fn udfs_deploy_refuses_before_sending_anything() {
    let f = Fixture::new();
    let folder = udf_folder();
    let missing = folder.path().join("nowhere");
    let before = f.emulator.requests_received();
    let run = f
        .run(&mut f.admin(), &deploy_args("double_it", &missing))
        .code(2);
    assert!(
        run.stderr.contains("nowhere") && run.stderr.contains("error: "),
        "{run:#?}"
    );
    let pool_size = f
        .run(
            &mut f.admin(),
            &[
                &deploy_args("double_it", folder.path())[..],
                &["--pool-size", "4"],
            ]
            .concat(),
        )
        .code(2);
    assert!(
        pool_size.stderr.contains("executable_pool"),
        "{pool_size:#?}"
    );
    for bad in [
        vec!["--runtime", "python3.12"],
        vec!["--type", "pool"],
        vec!["--sandbox-type", "open"],
        vec!["--arg", "x"],
        vec!["--timeout", "1m"],
    ] {
        let mut args = deploy_args("double_it", folder.path());
        args.extend(bad.iter().copied());
        f.run(&mut f.admin(), &args).code(2);
    }
    f.run(&mut f.admin(), &deploy_args("1st", folder.path()))
        .code(2);
    std::fs::remove_file(folder.path().join("main.py")).unwrap();
    let no_entry = f
        .run(&mut f.admin(), &deploy_args("double_it", folder.path()))
        .code(2);
    assert!(no_entry.stderr.contains("main.py"), "{no_entry:#?}");
    let native = f
        .run(
            &mut f.admin(),
            &[
                "udfs",
                "deploy",
                "native_fn",
                folder.path().to_str().unwrap(),
                "--runtime",
                "native",
                "--returns",
                "UInt64",
            ],
        )
        .code(2);
    assert!(native.stderr.contains("amd64/main"), "{native:#?}");
    assert_eq!(f.emulator.requests_received(), before, "nothing is sent");

    // An unknown service: exit 4, and no function made.
    std::fs::write(folder.path().join("main.py"), "print(1)\n").unwrap();
    f.run(
        &mut f.admin(),
        &[
            &deploy_args("double_it", folder.path())[..],
            &["--service", "nosuch"],
        ]
        .concat(),
    )
    .code(4);
    let listed = f
        .run(&mut f.admin(), &["udfs", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(listed, serde_json::json!([]), "{listed}");
}

/// A build that outlasts `--timeout` exits 6 with the command that shows
/// where it is; the version exists.
#[test]
fn udfs_deploy_wait_runs_out_of_time_with_exit_6() {
    // At speed 1 a build takes a minute.
    let f = Fixture::with_builder(Emulator::builder().rate_limit(None).speed(1.0));
    let folder = udf_folder();
    let run = f
        .run(
            &mut f.admin(),
            &[
                &deploy_args("slow_fn", folder.path())[..],
                &["--wait", "--timeout", "1s"],
            ]
            .concat(),
        )
        .code(6);
    assert!(
        run.stdout
            .starts_with("Created UDF \"slow_fn\" (version 1)"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("chc udfs list-versions slow_fn"),
        "{run:#?}"
    );
    let shown = f
        .run(&mut f.admin(), &["udfs", "get", "slow_fn", "-o", "json"])
        .ok()
        .json();
    assert_eq!(shown["status"], "building");
}
