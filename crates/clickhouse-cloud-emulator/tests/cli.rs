//! The binary: its banner, a request against it, and its flag errors.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_clickhouse-cloud-emulator");

/// Kills the child when the test ends, pass or fail.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn prints_its_address_first_and_serves() {
    let child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--rate-limit", "off"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut child = Killed(child);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut next = || lines.next().expect("a line").expect("readable");

    let first = next();
    let url = first
        .strip_prefix("listening on ")
        .expect("first line names the address");
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .expect("loopback URL")
        .parse()
        .expect("a port");
    assert_ne!(port, 0);
    let org = next();
    let org = org
        .strip_prefix("organization: ")
        .expect("organization line");
    uuid::Uuid::parse_str(org).expect("organization UUID");
    let key_id = next().strip_prefix("key id: ").unwrap().to_owned();
    let secret = next().strip_prefix("key secret: ").unwrap().to_owned();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("{url}/v1/organizations/{org}/keys"))
            .basic_auth(key_id, Some(secret))
            .send()
            .await
            .expect("answered")
            .status()
    });
    assert_eq!(status.as_u16(), 200);
}

#[test]
fn a_given_secret_is_not_printed() {
    let material = clickhouse_cloud_auth::KeyMaterial::generate();
    let child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--bootstrap-key-id",
            material.key_id().as_str(),
            "--bootstrap-key-secret",
            material.key_secret().expose(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut child = Killed(child);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let banner: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
    assert!(banner[0].starts_with("listening on http://127.0.0.1:"));
    assert_eq!(banner[2], format!("key id: {}", material.key_id()));
    drop(child);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().all(|line| !line.starts_with("key secret")),
        "{rest:?}"
    );
}

#[test]
fn bad_flags_exit_2_with_a_message() {
    let material = clickhouse_cloud_auth::KeyMaterial::generate();
    let cases: [&[&str]; 4] = [
        &["--bootstrap-key-id", material.key_id().as_str()],
        &["--bootstrap-key-secret", material.key_secret().expose()],
        &["--rate-limit", "ten"],
        &["--listen", "nowhere"],
    ];
    for args in cases {
        let output = Command::new(BIN).args(args).output().expect("binary runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("error"), "{stderr}");
        assert!(!stderr.contains(material.key_secret().expose()));
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn serves_with_faults() {
    let child = Command::new(BIN)
        .args([
            "--rate-limit",
            "off",
            "--faults",
            "1:503,openapiKeyGetList#2:502,GET#3:reset-before",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut child = Killed(child);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let banner: Vec<String> = (0..4).map(|_| lines.next().unwrap().unwrap()).collect();
    let url = banner[0].strip_prefix("listening on ").unwrap();
    let org = banner[1].strip_prefix("organization: ").unwrap();
    let key_id = banner[2].strip_prefix("key id: ").unwrap();
    let secret = banner[3].strip_prefix("key secret: ").unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcomes = runtime.block_on(async {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap();
        let mut outcomes = Vec::new();
        for _ in 0..4 {
            let sent = http
                .get(format!("{url}/v1/organizations/{org}/keys"))
                .basic_auth(key_id, Some(secret))
                .send()
                .await;
            outcomes.push(match sent {
                Ok(response) => response.status().as_u16().to_string(),
                Err(error) => format!("request error: {}", error.is_request()),
            });
        }
        outcomes
    });
    assert_eq!(outcomes, ["503", "502", "request error: true", "200"]);
}

#[test]
fn bad_fault_specs_exit_2_with_the_reason() {
    let cases = [
        ("", "empty fault spec"),
        ("1:teapot", "unknown fault \"teapot\""),
        ("0:503", "request number must be 1 or more"),
        ("keyCreate#1:503", "unknown operationId \"keyCreate\""),
        ("seed=1,kinds=503", "need both rate=R and kinds"),
        ("rate=1.5,kinds=503", "rate must be a number from 0 to 1"),
    ];
    for (spec, reason) in cases {
        let output = Command::new(BIN)
            .args(["--faults", spec])
            .output()
            .expect("binary runs");
        assert_eq!(output.status.code(), Some(2), "{spec:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("error: invalid value"), "{stderr}");
        assert!(stderr.contains("--faults <SPEC>"), "{stderr}");
        assert!(stderr.contains(reason), "{spec:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn help_documents_the_fault_spec() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "OPERATION#N:FAULT",
        "kinds=FAULT|FAULT",
        "reset-before",
        "cut-off",
        "429@DURATION",
    ] {
        assert!(help.contains(needle), "{needle}");
    }
}

#[test]
fn members_are_printed_with_their_user_ids() {
    let child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--speed",
            "60",
            "--member",
            "Ada Lovelace=ada@example.com:admin",
            "--member",
            "Bob=bob@example.com",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut child = Killed(child);
    let lines: Vec<String> = BufReader::new(child.0.stdout.take().unwrap())
        .lines()
        .take(7)
        .map(|line| line.expect("readable"))
        .collect();
    let members: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("member: "))
        .collect();
    assert_eq!(members.len(), 3, "{lines:?}");
    for (line, rest) in members.iter().zip([
        " Emulated Owner <owner@example.com> (Admin)",
        " Ada Lovelace <ada@example.com> (Admin)",
        " Bob <bob@example.com> (Developer)",
    ]) {
        let (id, tail) = line.split_at(36);
        uuid::Uuid::parse_str(id).expect("a user ID");
        assert_eq!(tail, rest);
    }
}

#[test]
fn a_bad_member_or_speed_is_a_usage_error() {
    for args in [["--member", "nobody"], ["--speed", "0"]] {
        let status = Command::new(BIN)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("binary runs");
        assert_eq!(status.code(), Some(2), "{args:?}");
    }
}

/// Starts the binary in `dir` with `args`; returns it with the banner's
/// URL, organization, key ID and secret.
#[cfg(unix)]
fn start_in(dir: &std::path::Path, args: &[&str]) -> (Killed, [String; 4]) {
    let child = Command::new(BIN)
        .current_dir(dir)
        .args(["--listen", "127.0.0.1:0", "--rate-limit", "off"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut child = Killed(child);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut next = |prefix: &str| {
        let line = lines.next().expect("a line").expect("readable");
        line.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"))
            .to_owned()
    };
    let banner = [
        next("listening on "),
        next("organization: "),
        next("key id: "),
        next("key secret: "),
    ];
    (child, banner)
}

/// SIGTERM, as a service manager stops it; the exit status.
#[cfg(unix)]
fn terminate(mut child: Killed) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    child.0.wait().expect("the emulator exits")
}

#[cfg(unix)]
#[test]
fn state_is_kept_with_the_flag_and_nothing_is_written_without_it() {
    let dir = std::env::temp_dir().join(format!("emulator-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let keys = |banner: &[String; 4], key: &str, secret: &str| {
        let request = http
            .get(format!("{}/v1/organizations/{}/keys", banner[0], banner[1]))
            .basic_auth(key, Some(secret));
        runtime.block_on(async {
            let response = request.send().await.expect("answered");
            assert_eq!(response.status().as_u16(), 200);
            let body: serde_json::Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            body["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|key| key["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
    };

    // Without --state: nothing appears in the working directory.
    let (child, _) = start_in(&dir, &[]);
    assert!(terminate(child).success());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);

    let (child, banner) = start_in(&dir, &["--state", "org.json"]);
    let created = runtime.block_on(async {
        http.post(format!("{}/v1/organizations/{}/keys", banner[0], banner[1]))
            .basic_auth(&banner[2], Some(&banner[3]))
            .header("content-type", "application/json")
            .body(r#"{"name": "kept", "roles": ["developer"]}"#)
            .send()
            .await
            .expect("answered")
            .bytes()
            .await
            .unwrap()
    });
    let created: serde_json::Value = serde_json::from_slice(&created).unwrap();
    let kept_id = created["result"]["keyId"].as_str().unwrap().to_owned();
    let kept_secret = created["result"]["keySecret"].as_str().unwrap().to_owned();
    assert!(terminate(child).success());
    assert!(dir.join("org.json").exists());

    let (child, again) = start_in(&dir, &["--state", "org.json"]);
    assert_eq!(again[1], banner[1], "the same organization");
    assert_eq!(
        keys(&again, &kept_id, &kept_secret),
        ["Bootstrap key", "kept"]
    );
    assert_eq!(keys(&again, &again[2], &again[3]).len(), 2);
    drop(child);

    // A file that is not a state file: exit 1 naming it, left as it was.
    std::fs::write(dir.join("org.json"), b"[]").unwrap();
    let output = Command::new(BIN)
        .current_dir(&dir)
        .args(["--listen", "127.0.0.1:0", "--state", "org.json"])
        .output()
        .expect("binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("org.json"), "{stderr}");
    assert_eq!(std::fs::read(dir.join("org.json")).unwrap(), b"[]");
    std::fs::remove_dir_all(&dir).unwrap();
}
