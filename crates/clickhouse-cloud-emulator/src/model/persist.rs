//! The world on disk, when asked for (`--state FILE`): every organization
//! with its keys (hashes only), roles, members, invitations, services,
//! activities and stored resources, plus what the clock was advanced by.
//! Limits, the rate-limit windows and the speed come from the flags of
//! each start, not from the file.
//!
//! Instants are wall-clock timestamps, so a state computed from the time
//! it began (a service provisioning, a pipe starting) moves on as if the
//! emulator had kept running. The file is written whole to a temporary
//! file in the same directory, then renamed over the old one, with mode
//! `0600` on Unix. Passwords stored by the generic store (a Postgres
//! service's, and its connection string) are not written.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use clickhouse_cloud_types::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::model::world::{Org, World};

/// The format this build writes and reads.
pub(crate) const FORMAT: u32 = 1;

/// What identifies a state file as the emulator's.
const KIND: &str = "clickhouse-cloud-emulator state";

#[derive(Serialize)]
struct Written<'a> {
    kind: &'static str,
    format: u32,
    saved_at: Timestamp,
    clock_offset_ms: i64,
    main_organization: Uuid,
    organizations: Vec<&'a Org>,
}

/// A state file as read back.
#[derive(Deserialize)]
pub(crate) struct Loaded {
    kind: String,
    format: u32,
    #[serde(default)]
    pub(crate) clock_offset_ms: i64,
    pub(crate) main_organization: Uuid,
    pub(crate) organizations: Vec<Org>,
}

/// Why a state file cannot be used: names the file and what is wrong.
fn unusable(path: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the state file {} cannot be used ({why}); it was left as it is: \
             move it away or fix it, or start without --state",
            path.display()
        ),
    )
}

/// Reads the state file at `path`: `None` when there is none yet; an
/// error naming the file when it cannot be read or is not a state file.
pub(crate) fn load(path: &Path) -> io::Result<Option<Loaded>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unusable(path, error)),
    };
    let loaded: Loaded = serde_json::from_slice(&bytes).map_err(|error| unusable(path, error))?;
    if loaded.kind != KIND {
        return Err(unusable(path, format_args!("it is not a {KIND}")));
    }
    if loaded.format != FORMAT {
        return Err(unusable(
            path,
            format_args!(
                "format {} is not {FORMAT}, the one this build reads",
                loaded.format
            ),
        ));
    }
    if !loaded
        .organizations
        .iter()
        .any(|org| org.profile.info.id == Some(loaded.main_organization))
    {
        return Err(unusable(path, "its main organization is missing"));
    }
    Ok(Some(loaded))
}

/// The world as a state file's bytes (taken under the lock; written after).
pub(crate) fn encode(world: &World, main: Uuid) -> io::Result<Vec<u8>> {
    let mut orgs: Vec<&Org> = world.orgs.values().collect();
    orgs.sort_by_key(|org| (org.profile.info.id != Some(main), org.profile.info.id));
    let written = Written {
        kind: KIND,
        format: FORMAT,
        saved_at: world.clock.now(),
        clock_offset_ms: world.clock.offset_millis(),
        main_organization: main,
        organizations: orgs,
    };
    let mut value = serde_json::to_value(&written).map_err(io::Error::other)?;
    drop_passwords(&mut value);
    serde_json::to_vec_pretty(&value).map_err(io::Error::other)
}

/// Removes every `password` field, and Postgres connection strings
/// (which carry one): a state file holds no password.
fn drop_passwords(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|name, _| {
                !name.eq_ignore_ascii_case("password") && name != "connectionString"
            });
            map.values_mut().for_each(drop_passwords);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_passwords),
        _ => {}
    }
}

/// Writes `bytes` to `path` atomically: a temporary file next to it
/// (mode `0600` on Unix), flushed to disk, then renamed over it.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the state path names no file")
    })?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp: PathBuf = path.with_file_name(temp_name);
    let result = (|| {
        let _ = fs::remove_file(&temp);
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot write the state file {}: {error}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_written() {
        let mut value = serde_json::json!({"a": [{"password": "p", "name": "n"}], "Password": 1});
        drop_passwords(&mut value);
        assert_eq!(value, serde_json::json!({"a": [{"name": "n"}]}));
    }

    #[test]
    fn what_is_not_a_state_file_is_refused_and_left_alone() {
        let dir = std::env::temp_dir().join(format!("emulator-state-{}", Uuid::new_v4()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert!(load(&path).unwrap().is_none());
        for bad in [&b"{not json"[..], b"{\"kind\": \"other\", \"format\": 1, \"main_organization\": \"00000000-0000-0000-0000-000000000000\", \"organizations\": []}"] {
            fs::write(&path, bad).unwrap();
            let error = load(&path).err().expect("refused");
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            assert!(error.to_string().contains("state.json"), "{error}");
            assert_eq!(fs::read(&path).unwrap(), bad);
        }
        write(&path, b"{}").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
