//! The config directory: the profile written by `chc auth login`, and the
//! record of keys this tool created (key ID -> key UUID).
//!
//! Location: `$CHC_CONFIG_DIR`, else `$XDG_CONFIG_HOME/chc`, else
//! `~/.config/chc`. Files are JSON, written atomically (a temporary file in
//! the same directory, mode 0600 before any byte is written, then renamed).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use clickhouse_cloud_client::KeySecret;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::CliError;

/// Overrides the config directory (tests use a temporary one).
pub(crate) const ENV_CONFIG_DIR: &str = "CHC_CONFIG_DIR";
/// The profile's file name.
pub(crate) const PROFILE_FILE: &str = "profile.json";
/// The created-keys record's file name.
pub(crate) const KEYS_FILE: &str = "keys.json";
/// The file locked while the created-keys record is read, changed and
/// written.
const KEYS_LOCK_FILE: &str = "keys.json.lock";

/// The directory holding the profile and the key record, if one can be
/// named.
pub(crate) fn config_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = non_empty(ENV_CONFIG_DIR) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(dir).join("chc"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".config").join("chc"))
}

fn no_config_dir() -> CliError {
    CliError::Other(format!(
        "cannot tell where the config directory is: set {ENV_CONFIG_DIR}, XDG_CONFIG_HOME or HOME"
    ))
}

/// What `chc auth login` saves.
///
/// The secret is a [`KeySecret`] from the moment it is read: zeroized on
/// drop and redacted in `Debug`; only writing the file exposes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Profile {
    /// The key ID (Basic auth user).
    pub(crate) key_id: String,
    /// The key secret. Never printed.
    #[serde(serialize_with = "expose_secret", deserialize_with = "read_secret")]
    pub(crate) key_secret: KeySecret,
    /// API base URL, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base_url: Option<String>,
    /// The organization to work in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) organization_id: Option<Uuid>,
}

fn expose_secret<S: serde::Serializer>(
    secret: &KeySecret,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

fn read_secret<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<KeySecret, D::Error> {
    // serde_json decodes the string into this buffer; KeySecret takes it over.
    let text = String::deserialize(deserializer)?;
    KeySecret::new(text).map_err(serde::de::Error::custom)
}

/// A loaded profile and where it came from.
#[derive(Debug)]
pub(crate) struct LoadedProfile {
    pub(crate) profile: Profile,
    pub(crate) path: PathBuf,
}

/// Reads the profile; `Ok(None)` when there is none.
pub(crate) fn load_profile() -> Result<Option<LoadedProfile>, CliError> {
    let Some(dir) = config_dir() else {
        return Ok(None);
    };
    let path = dir.join(PROFILE_FILE);
    let Some(profile) = read_json::<Profile>(&path)? else {
        return Ok(None);
    };
    warn_if_readable_by_others(&path);
    Ok(Some(LoadedProfile { profile, path }))
}

/// Writes the profile atomically with mode 0600; returns its path.
pub(crate) fn save_profile(profile: &Profile) -> Result<PathBuf, CliError> {
    let dir = config_dir().ok_or_else(no_config_dir)?;
    let path = dir.join(PROFILE_FILE);
    write_json_atomically(&path, profile)?;
    Ok(path)
}

/// Removes the profile; `Ok(None)` when there was none.
pub(crate) fn remove_profile() -> Result<Option<PathBuf>, CliError> {
    let dir = config_dir().ok_or_else(no_config_dir)?;
    let path = dir.join(PROFILE_FILE);
    match fs::remove_file(&path) {
        Ok(()) => Ok(Some(path)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(file_error("remove", &path, &error)),
    }
}

/// One key created by this tool: enough to recognise it later without
/// guessing from the four-character suffix.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyRecord {
    /// The key ID (Basic auth user; not secret).
    pub(crate) key_id: String,
    /// The key's UUID in the API.
    pub(crate) id: Uuid,
    /// Its organization.
    pub(crate) organization_id: Uuid,
    /// Its name at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}

/// Every key this tool created and has not deleted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct KeyRecords {
    #[serde(default)]
    pub(crate) keys: Vec<KeyRecord>,
}

impl KeyRecords {
    /// Reads the record; empty when there is none or it cannot be read (it
    /// is a convenience, never a reason to fail).
    pub(crate) fn load() -> Self {
        let Some(dir) = config_dir() else {
            return Self::default();
        };
        match read_json::<Self>(&dir.join(KEYS_FILE)) {
            Ok(records) => records.unwrap_or_default(),
            Err(error) => {
                eprintln!("warning: ignoring the key record: {error}");
                Self::default()
            }
        }
    }

    /// The UUID of the key with this key ID, if this tool created it.
    pub(crate) fn uuid_of(&self, key_id: &str) -> Option<&KeyRecord> {
        self.keys.iter().find(|record| record.key_id == key_id)
    }

    /// Adds (or replaces) a record and saves.
    pub(crate) fn add(record: KeyRecord) -> Result<(), CliError> {
        Self::change(|records| {
            records
                .keys
                .retain(|known| known.key_id != record.key_id && known.id != record.id);
            records.keys.push(record);
            true
        })
    }

    /// Forgets the key with this UUID, if recorded, and saves.
    pub(crate) fn forget(id: Uuid) -> Result<(), CliError> {
        Self::change(|records| {
            let before = records.keys.len();
            records.keys.retain(|known| known.id != id);
            records.keys.len() != before
        })
    }

    /// Reads the record, lets `edit` change it, and saves it when `edit`
    /// says it changed, all under an exclusive lock on `keys.json.lock`
    /// held from before the read until after the write: runs of `chc` in
    /// parallel take turns and none loses another's change. (The lock is
    /// on a file of its own because saving replaces `keys.json`.)
    fn change(edit: impl FnOnce(&mut Self) -> bool) -> Result<(), CliError> {
        let dir = config_dir().ok_or_else(no_config_dir)?;
        create_private_dir(&dir).map_err(|error| file_error("create", &dir, &error))?;
        let lock_path = dir.join(KEYS_LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|error| file_error("open", &lock_path, &error))?;
        restrict_to_owner(&file).map_err(|error| file_error("protect", &lock_path, &error))?;
        let mut lock = fd_lock::RwLock::new(file);
        let _held = lock
            .write()
            .map_err(|error| file_error("lock", &lock_path, &error))?;
        let mut records = Self::load();
        if edit(&mut records) {
            records.save()?;
        }
        Ok(())
    }

    fn save(&self) -> Result<(), CliError> {
        let dir = config_dir().ok_or_else(no_config_dir)?;
        write_json_atomically(&dir.join(KEYS_FILE), self)
    }
}

fn file_error(action: &str, path: &Path, error: &io::Error) -> CliError {
    CliError::Other(format!("cannot {action} {}: {error}", path.display()))
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, CliError> {
    // The profile's text holds the secret: wiped when dropped.
    let text = match fs::read_to_string(path) {
        Ok(text) => Zeroizing::new(text),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(file_error("read", path, &error)),
    };
    serde_json::from_str(&text).map(Some).map_err(|error| {
        // serde_json's message names a line and column, never the content.
        CliError::Other(format!("{} is not valid: {error}", path.display()))
    })
}

/// Creates the directory (mode 0700 on Unix) and replaces `path` with
/// `value` as JSON: temporary file in the same directory, permissions set to
/// 0600 before anything is written, flushed to disk, renamed over `path`.
fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<(), CliError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    create_private_dir(dir).map_err(|error| file_error("create", dir, &error))?;
    let mut text = Zeroizing::new(
        serde_json::to_string_pretty(value).map_err(|error| CliError::Other(error.to_string()))?,
    );
    text.push('\n');
    let mut file = tempfile::Builder::new()
        .prefix(".chc-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|error| file_error("create a temporary file in", dir, &error))?;
    restrict_to_owner(file.as_file())
        .map_err(|error| file_error("protect", file.path(), &error))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(|error| file_error("write", file.path(), &error))?;
    file.persist(path)
        .map_err(|error| file_error("replace", path, &error.error))?;
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn restrict_to_owner(file: &fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_owner(_: &fs::File) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "warning: {} holds a key secret and is readable by others: run `chmod 600` on it",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}
