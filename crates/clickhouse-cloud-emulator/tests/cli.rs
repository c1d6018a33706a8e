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
