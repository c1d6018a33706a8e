//! `cargo xtask fetch-spec`: put the pinned spec in `specs/`.
//!
//! Sources, in order: `--from` (a path or an `http(s)://` URL), then
//! `$CLICKHOUSE_CLOUD_SPEC` (same forms); when neither is given, the
//! snapshots in `../shared/specs/` beside the workspace (every `*.json`
//! there: the one whose sha256 is pinned, whatever its name), then a
//! download of the pinned URL with `curl`. An explicit source is used as it
//! is; the implicit ones are tried in turn until one has the pinned content.
//! Unless `--update`, the bytes must hash to the pin's sha256. With
//! `--update` and no explicit source, the newest snapshot of the folder is
//! taken (the highest build number in `info.contact.url`'s
//! `referrer=openapi-N`), else the download. When the destination already
//! holds the pinned bytes, nothing is read or written.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::load::{self, LoadError};
use super::pin::{self, Pin, PinError};
use crate::workspace;

/// The environment variable naming a spec source.
pub const SPEC_ENV: &str = "CLICKHOUSE_CLOUD_SPEC";

/// What `fetch-spec` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// `--from PATH|URL`.
    pub from: Option<String>,
    /// `--update`: accept new content and rewrite the pin.
    pub update: bool,
}

/// Where the files are: split out so tests can use a scratch folder.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The pin file.
    pub pin: PathBuf,
    /// Where the spec goes.
    pub dest: PathBuf,
    /// The folder of snapshots (`../shared/specs`), when there is one.
    pub shared_dir: Option<PathBuf>,
    /// The value of `$CLICKHOUSE_CLOUD_SPEC`, when set.
    pub env_source: Option<String>,
}

impl Layout {
    /// The workspace's own layout.
    pub fn for_root(root: &Path) -> Layout {
        Layout {
            pin: workspace::pin_file(root),
            dest: workspace::spec_file(root),
            shared_dir: workspace::shared_specs_dir(root),
            env_source: std::env::var(SPEC_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty()),
        }
    }
}

/// The outcome of a fetch.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The spec file, now in place.
    pub path: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Where the bytes came from (`None`: they were already in place).
    pub source: Option<String>,
    /// Whether the pin was rewritten (`--update` with new content).
    pub pin_updated: bool,
}

/// Why the spec could not be put in place.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The pin file is unreadable or malformed.
    #[error(transparent)]
    Pin(#[from] PinError),
    /// A source could not be read or downloaded.
    #[error("cannot read the spec from {source_name}: {message}")]
    Source {
        /// The path or URL.
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// A source has other content than the pin.
    #[error(
        "the spec from {source_name} has sha256 {found}, but {pin} pins {expected}\n\
         (run `cargo xtask fetch-spec --update` to accept it, then `cargo xtask spec-diff`)"
    )]
    Mismatch {
        /// The path or URL.
        source_name: String,
        /// The pinned hash.
        expected: String,
        /// The hash of what was found.
        found: String,
        /// The pin file.
        pin: String,
    },
    /// No implicit source had the pinned spec.
    #[error("no source has the pinned spec:\n  {}", .attempts.join("\n  "))]
    NoSource {
        /// One line per source tried.
        attempts: Vec<String>,
    },
    /// `--update` fetched something that does not load as a spec.
    #[error("refusing to pin {source_name}: {error}")]
    Invalid {
        /// The path or URL.
        source_name: String,
        /// The load error.
        error: Box<LoadError>,
    },
    /// The destination could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Puts the spec in place for the workspace at `root`.
pub fn fetch_spec(root: &Path, options: &FetchOptions) -> Result<Fetched, FetchError> {
    fetch_with(&Layout::for_root(root), options)
}

/// Puts the spec in place for an explicit layout.
pub fn fetch_with(layout: &Layout, options: &FetchOptions) -> Result<Fetched, FetchError> {
    let pin_path = layout.pin.display().to_string();
    let pin = match Pin::read(&layout.pin) {
        Ok(pin) => Some(pin),
        Err(PinError::Io { source, .. })
            if options.update && source.kind() == std::io::ErrorKind::NotFound =>
        {
            None
        }
        Err(error) => return Err(error.into()),
    };

    if let (Some(pin), false) = (&pin, options.update)
        && let Ok(bytes) = std::fs::read(&layout.dest)
        && sha256_hex(&bytes) == pin.sha256
    {
        return Ok(Fetched {
            path: layout.dest.clone(),
            sha256: pin.sha256.clone(),
            source: None,
            pin_updated: false,
        });
    }

    let url = pin.as_ref().map_or(pin::DEFAULT_URL, |p| p.url.as_str());
    let explicit = options.from.as_ref().or(layout.env_source.as_ref());
    let candidates: Vec<Source> = match explicit {
        Some(given) => vec![Source::parse(given)],
        None => shared_snapshots(layout.shared_dir.as_deref(), options.update)
            .into_iter()
            .map(Source::File)
            .chain([Source::Url(url.to_owned())])
            .collect(),
    };

    let mut attempts = Vec::new();
    for candidate in &candidates {
        let name = candidate.name();
        let bytes = match candidate.read() {
            Ok(bytes) => bytes,
            Err(message) if explicit.is_none() => {
                attempts.push(format!("{name}: {message}"));
                continue;
            }
            Err(message) => {
                return Err(FetchError::Source {
                    source_name: name,
                    message,
                });
            }
        };
        let sha256 = sha256_hex(&bytes);
        match (&pin, options.update) {
            (Some(pin), false) if pin.sha256 != sha256 => {
                let mismatch = FetchError::Mismatch {
                    source_name: name.clone(),
                    expected: pin.sha256.clone(),
                    found: sha256,
                    pin: pin_path.clone(),
                };
                if explicit.is_some() {
                    return Err(mismatch);
                }
                attempts.push(mismatch.to_string().lines().next().unwrap_or("").to_owned());
                continue;
            }
            _ => {}
        }
        if options.update {
            load::load_bytes(&bytes, &name).map_err(|error| FetchError::Invalid {
                source_name: name.clone(),
                error: Box::new(error),
            })?;
        }
        write_atomically(&layout.dest, &bytes)?;
        let mut pin_updated = false;
        if options.update && pin.as_ref().is_none_or(|p| p.sha256 != sha256) {
            let new_pin = Pin {
                url: match candidate {
                    Source::Url(u) => u.clone(),
                    Source::File(_) => url.to_owned(),
                },
                sha256: sha256.clone(),
                date: pin::today(),
            };
            new_pin.write(&layout.pin)?;
            pin_updated = true;
        }
        return Ok(Fetched {
            path: layout.dest.clone(),
            sha256,
            source: Some(name),
            pin_updated,
        });
    }
    Err(FetchError::NoSource { attempts })
}

/// The `*.json` files of the snapshot folder, by name; for `--update`,
/// newest build first (files without a build number last).
fn shared_snapshots(dir: Option<&Path>, newest_first: bool) -> Vec<PathBuf> {
    let Some(entries) = dir.and_then(|d| std::fs::read_dir(d).ok()) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    if newest_first {
        files.sort_by_cached_key(|path| std::cmp::Reverse(build_number(path)));
    }
    files
}

/// The build number a snapshot carries in `info.contact.url`
/// (`...referrer=openapi-1310973`), if any.
pub fn build_number(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let url = doc.pointer("/info/contact/url")?.as_str()?;
    let (_, tail) = url.rsplit_once("referrer=openapi-")?;
    let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One place the spec can come from.
#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Url(String),
}

impl Source {
    fn parse(given: &str) -> Source {
        if given.starts_with("https://") || given.starts_with("http://") {
            Source::Url(given.to_owned())
        } else {
            Source::File(PathBuf::from(given))
        }
    }

    fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Url(url) => url.clone(),
        }
    }

    fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Source::File(path) => std::fs::read(path).map_err(|e| e.to_string()),
            Source::Url(url) => download(url),
        }
    }
}

/// Downloads with `curl -fsSL`: no HTTP client in the xtask.
fn download(url: &str) -> Result<Vec<u8>, String> {
    let output = Command::new("curl")
        .args(["-fsSL", "--max-time", "120", "--", url])
        .output()
        .map_err(|e| format!("cannot run curl: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "curl failed ({}): {}",
            output.status,
            stderr.trim()
        ))
    }
}

fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<(), FetchError> {
    let error = |source| FetchError::Write {
        path: dest.display().to_string(),
        source,
    };
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(error)?;
    std::fs::rename(&tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        error(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SPEC: &str = r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}"#;

    fn scratch() -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "xtask-fetch-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn layout(dir: &Path) -> Layout {
        Layout {
            pin: dir.join("spec.pin"),
            dest: dir.join("out/spec.json"),
            shared_dir: Some(dir.join("shared")),
            env_source: None,
        }
    }

    fn pin_for(dir: &Path, content: &str) {
        Pin {
            url: "http://127.0.0.1:9/unreachable".into(),
            sha256: sha256_hex(content.as_bytes()),
            date: "2026-01-01".into(),
        }
        .write(&dir.join("spec.pin"))
        .unwrap();
    }

    fn spec_of_build(build: u64) -> String {
        format!(
            r#"{{"openapi":"3.1.0","info":{{"title":"t","version":"1","contact":{{"url":"https://x/?referrer=openapi-{build}"}}}},"paths":{{}}}}"#
        )
    }

    fn shared(dir: &Path, name: &str, content: &str) {
        std::fs::create_dir_all(dir.join("shared")).unwrap();
        std::fs::write(dir.join("shared").join(name), content).unwrap();
    }

    #[test]
    fn copies_from_shared_then_is_a_no_op() {
        let dir = scratch();
        shared(&dir, "shared.json", SPEC);
        pin_for(&dir, SPEC);
        let first = fetch_with(&layout(&dir), &FetchOptions::default()).unwrap();
        assert!(first.source.unwrap().ends_with("shared.json"));
        assert_eq!(
            std::fs::read_to_string(dir.join("out/spec.json")).unwrap(),
            SPEC
        );
        let second = fetch_with(&layout(&dir), &FetchOptions::default()).unwrap();
        assert!(second.source.is_none());
    }

    #[test]
    fn the_pinned_snapshot_is_found_by_its_hash_whatever_its_name() {
        let dir = scratch();
        shared(&dir, "a-newer.json", &spec_of_build(20));
        shared(&dir, "renamed.json", &spec_of_build(10));
        shared(&dir, "notes.txt", "not a spec");
        pin_for(&dir, &spec_of_build(10));
        let fetched = fetch_with(&layout(&dir), &FetchOptions::default()).unwrap();
        assert!(fetched.source.unwrap().ends_with("renamed.json"));
        assert_eq!(
            std::fs::read_to_string(dir.join("out/spec.json")).unwrap(),
            spec_of_build(10)
        );
    }

    #[test]
    fn no_snapshot_with_the_pinned_hash_names_every_attempt() {
        let dir = scratch();
        shared(&dir, "one.json", &spec_of_build(1));
        shared(&dir, "two.json", &spec_of_build(2));
        pin_for(&dir, SPEC);
        let error = fetch_with(&layout(&dir), &FetchOptions::default()).unwrap_err();
        let FetchError::NoSource { attempts } = &error else {
            panic!("{error}");
        };
        assert_eq!(attempts.len(), 3, "{attempts:?}");
        assert!(attempts[0].contains("one.json") && attempts[1].contains("two.json"));
        assert!(!dir.join("out/spec.json").exists());
    }

    #[test]
    fn update_without_a_source_takes_the_newest_build() {
        let dir = scratch();
        shared(&dir, "b.json", &spec_of_build(9));
        shared(&dir, "a.json", &spec_of_build(1310973));
        shared(&dir, "c.json", &spec_of_build(724606));
        pin_for(&dir, &spec_of_build(9));
        let options = FetchOptions {
            from: None,
            update: true,
        };
        let fetched = fetch_with(&layout(&dir), &options).unwrap();
        assert!(fetched.source.unwrap().ends_with("a.json"));
        assert!(fetched.pin_updated);
        assert_eq!(build_number(&dir.join("out/spec.json")), Some(1310973));
    }

    #[test]
    fn explicit_source_with_other_content_is_refused() {
        let dir = scratch();
        std::fs::write(dir.join("other.json"), "{}").unwrap();
        pin_for(&dir, SPEC);
        let options = FetchOptions {
            from: Some(dir.join("other.json").display().to_string()),
            update: false,
        };
        let error = fetch_with(&layout(&dir), &options).unwrap_err().to_string();
        assert!(error.contains("--update"), "{error}");
        assert!(!dir.join("out/spec.json").exists());
    }

    #[test]
    fn missing_explicit_source_is_an_error() {
        let dir = scratch();
        pin_for(&dir, SPEC);
        let mut layout = layout(&dir);
        layout.env_source = Some(dir.join("nope.json").display().to_string());
        let error = fetch_with(&layout, &FetchOptions::default()).unwrap_err();
        assert!(matches!(error, FetchError::Source { .. }), "{error}");
    }

    #[test]
    fn update_rewrites_the_pin_and_rejects_garbage() {
        let dir = scratch();
        pin_for(&dir, "old");
        std::fs::write(dir.join("new.json"), SPEC).unwrap();
        std::fs::write(dir.join("bad.json"), "{\"openapi\": ").unwrap();
        let update = |from: &str| FetchOptions {
            from: Some(dir.join(from).display().to_string()),
            update: true,
        };
        let error = fetch_with(&layout(&dir), &update("bad.json")).unwrap_err();
        assert!(matches!(error, FetchError::Invalid { .. }), "{error}");
        let fetched = fetch_with(&layout(&dir), &update("new.json")).unwrap();
        assert!(fetched.pin_updated);
        let pin = Pin::read(&dir.join("spec.pin")).unwrap();
        assert_eq!(pin.sha256, sha256_hex(SPEC.as_bytes()));
        assert_eq!(pin.url, "http://127.0.0.1:9/unreachable");
        assert_eq!(pin.date, pin::today());
    }

    #[test]
    fn bad_pin_is_reported() {
        let dir = scratch();
        std::fs::write(dir.join("spec.pin"), "sha256 = 1\n").unwrap();
        let error = fetch_with(&layout(&dir), &FetchOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("spec.pin:1"), "{error}");
    }
}
