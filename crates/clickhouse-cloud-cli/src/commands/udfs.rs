//! `chc udfs deploy`: a folder zipped, uploaded to the URL the API hands
//! out, made a function (or its next version), attached to services once
//! built, and followed until deployed. The other `udfs` verbs are
//! generated.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clickhouse_cloud_client::types::{
    Nullable, Service, Udf, UdfArgument, UdfAttachBody, UdfAttachment, UdfCreateRequest,
    UdfCreateRequestExecutablePoolType, UdfCreateRequestExecutableType, UdfRuntime, UdfSandboxType,
    UdfVersionCreateRequest, UdfVersionCreateRequestExecutable,
    UdfVersionCreateRequestExecutablePool,
};
use clickhouse_cloud_client::{UDF_ATTACHMENT_BUDGET, UDF_BUILD_BUDGET, Udfs};
use serde::Serialize;
use uuid::Uuid;

use crate::cli::{GlobalArgs, Output, ServiceArg, UdfDeployArgs, UdfsCommand};
use crate::commands::services::{find, label};
use crate::context::{Session, follow, wait};
use crate::error::CliError;
use crate::output::{self, print_json, print_text};

/// The entry point a `python3.11` function needs at the root.
const PYTHON_ENTRY: &str = "main.py";
/// The folders a `native` function ships, each with a `main` binary.
const NATIVE_ARCHES: [&str; 2] = ["amd64", "arm64"];
/// The binary in each of them.
const NATIVE_ENTRY: &str = "main";
/// clickhousectl's definition file, at the root of its UDF folders.
const DEFINITION_FILE: &str = "udf.json";
/// Folders left out wherever they are.
const SKIPPED_DIRS: [&str; 1] = ["__pycache__"];

/// Runs one hand-written `udfs` subcommand.
pub(crate) async fn run(command: UdfsCommand, global: &GlobalArgs) -> Result<(), CliError> {
    match command {
        UdfsCommand::Deploy(args) => deploy(*args, global).await,
    }
}

/// One file or folder of the archive.
#[derive(Debug)]
struct Entry {
    /// Its name in the archive, `/`-separated.
    name: String,
    path: PathBuf,
    folder: bool,
    mode: u32,
}

/// The archive of a folder, and what went into it.
struct Archive {
    bytes: Vec<u8>,
    files: usize,
}

fn not_deployable(dir: &Path, why: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!(
        "{}: {why}",
        output::clean(&dir.display().to_string())
    ))
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    if metadata.is_dir() { 0o755 } else { 0o644 }
}

/// Adds what `folder` holds (its path in the archive: `prefix`) to `out`,
/// sorted by name, depth first; hidden entries and [`SKIPPED_DIRS`] are
/// left out, and at the root the definition file too.
fn walk(root: &Path, folder: &Path, prefix: &str, out: &mut Vec<Entry>) -> Result<(), CliError> {
    let unreadable = |path: &Path, error: std::io::Error| {
        CliError::Other(format!(
            "cannot read {}: {error}",
            output::clean(&path.display().to_string())
        ))
    };
    let mut children = std::fs::read_dir(folder)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(|error| unreadable(folder, error))?;
    children.sort_by_key(std::fs::DirEntry::file_name);
    for child in children {
        let file_name = child.file_name();
        let Some(text) = file_name.to_str() else {
            return Err(not_deployable(
                root,
                format_args!(
                    "{:?} is not a UTF-8 name, which an archive needs",
                    child.path()
                ),
            ));
        };
        if text.starts_with('.') || (prefix.is_empty() && text == DEFINITION_FILE) {
            continue;
        }
        let name = if prefix.is_empty() {
            text.to_owned()
        } else {
            format!("{prefix}/{text}")
        };
        let path = child.path();
        let metadata = std::fs::symlink_metadata(&path).map_err(|e| unreadable(&path, e))?;
        let kind = metadata.file_type();
        if kind.is_symlink() {
            return Err(not_deployable(
                root,
                format_args!("{name} is a symbolic link, which the service refuses in an archive"),
            ));
        }
        if kind.is_dir() {
            if SKIPPED_DIRS.contains(&text) {
                continue;
            }
            out.push(Entry {
                name: name.clone(),
                path: path.clone(),
                folder: true,
                mode: mode_of(&metadata),
            });
            walk(root, &path, &name, out)?;
        } else if kind.is_file() {
            out.push(Entry {
                name,
                path,
                folder: false,
                mode: mode_of(&metadata),
            });
        } else {
            return Err(not_deployable(
                root,
                format_args!("{name} is neither a file nor a folder"),
            ));
        }
    }
    Ok(())
}

/// What of `dir` the runtime deploys: for `python3.11` the whole folder,
/// which needs [`PYTHON_ENTRY`] at its root; for `native` the
/// [`NATIVE_ARCHES`] folders, each with its [`NATIVE_ENTRY`].
fn entries(dir: &Path, runtime: &UdfRuntime) -> Result<Vec<Entry>, CliError> {
    match std::fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => return Err(not_deployable(dir, "not a folder")),
        Err(error) => return Err(not_deployable(dir, error)),
    }
    let mut out = Vec::new();
    let has_file = |out: &[Entry], name: &str| out.iter().any(|e| !e.folder && e.name == name);
    match runtime {
        UdfRuntime::Native => {
            for arch in NATIVE_ARCHES {
                let path = dir.join(arch);
                let Ok(metadata) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if metadata.file_type().is_symlink() {
                    return Err(not_deployable(
                        dir,
                        format_args!(
                            "{arch} is a symbolic link, which the service refuses in an archive"
                        ),
                    ));
                }
                if !metadata.is_dir() {
                    continue;
                }
                out.push(Entry {
                    name: arch.to_owned(),
                    path: path.clone(),
                    folder: true,
                    mode: mode_of(&metadata),
                });
                walk(dir, &path, arch, &mut out)?;
            }
            let missing: Vec<String> = NATIVE_ARCHES
                .iter()
                .map(|arch| format!("{arch}/{NATIVE_ENTRY}"))
                .filter(|binary| !has_file(&out, binary))
                .collect();
            if !missing.is_empty() {
                return Err(not_deployable(
                    dir,
                    format_args!(
                        "the native runtime runs {}, and {} missing",
                        NATIVE_ARCHES
                            .map(|a| format!("{a}/{NATIVE_ENTRY}"))
                            .join(" and "),
                        if missing.len() == 1 {
                            format!("{} is", missing[0])
                        } else {
                            "both are".to_owned()
                        }
                    ),
                ));
            }
        }
        _ => {
            walk(dir, dir, "", &mut out)?;
            if !has_file(&out, PYTHON_ENTRY) {
                return Err(not_deployable(
                    dir,
                    format_args!(
                        "the python3.11 runtime runs {PYTHON_ENTRY}, which is not at the folder's root"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The ZIP of `entries`: deflated, permissions kept, every time the same,
/// so that the same folder makes the same archive.
fn zip_of(entries: &[Entry]) -> Result<Archive, CliError> {
    let failed =
        |error: &dyn std::fmt::Display| CliError::Other(format!("cannot archive: {error}"));
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut files = 0;
    for entry in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(entry.mode);
        if entry.folder {
            writer
                .add_directory(entry.name.as_str(), options)
                .map_err(|e| failed(&e))?;
        } else {
            writer
                .start_file(entry.name.as_str(), options)
                .map_err(|e| failed(&e))?;
            let bytes = std::fs::read(&entry.path).map_err(|error| {
                CliError::Other(format!(
                    "cannot read {}: {error}",
                    output::clean(&entry.path.display().to_string())
                ))
            })?;
            writer.write_all(&bytes).map_err(|e| failed(&e))?;
            files += 1;
        }
    }
    let bytes = writer.finish().map_err(|e| failed(&e))?.into_inner();
    Ok(Archive { bytes, files })
}

/// What the flags say of the new version, for either request.
struct Definition {
    runtime: UdfRuntime,
    pool: bool,
    arguments: Vec<UdfArgument>,
    args: UdfDeployArgs,
}

impl Definition {
    /// Checks what the flags can say wrong before anything is sent.
    fn new(args: UdfDeployArgs) -> Result<Self, CliError> {
        let runtime = UdfRuntime::from(args.runtime.as_str());
        let pool = args.kind == "executable_pool";
        if args.pool_size.is_some() && !pool {
            return Err(CliError::Usage(
                "--pool-size is for --type executable_pool: an executable function has no pool"
                    .into(),
            ));
        }
        let arguments = args
            .arguments
            .iter()
            .map(|(name, kind)| UdfArgument::new(name.clone(), kind.clone()))
            .collect();
        Ok(Self {
            runtime,
            pool,
            arguments,
            args,
        })
    }

    fn name(&self) -> &str {
        &self.args.name
    }

    fn sandbox(&self) -> Option<UdfSandboxType> {
        self.args.sandbox_type.as_deref().map(UdfSandboxType::from)
    }

    fn return_name(&self) -> Nullable<String> {
        self.args
            .return_name
            .clone()
            .map_or(Nullable::Absent, Nullable::Value)
    }

    fn memory(&self) -> Nullable<i64> {
        self.args
            .memory_limit_mib
            .map_or(Nullable::Absent, Nullable::Value)
    }

    fn flag(set: bool) -> Option<bool> {
        set.then_some(true)
    }

    /// The create request: the version request with the function's name,
    /// the one field a create adds (the spec's two request types are
    /// otherwise the same).
    fn create(&self, upload: Uuid) -> Result<UdfCreateRequest, CliError> {
        let mut body = serde_json::to_value(self.version(upload))
            .map_err(|e| CliError::Other(format!("encoding the create request: {e}")))?;
        body["functionName"] = self.name().into();
        serde_json::from_value(body)
            .map_err(|e| CliError::Other(format!("encoding the create request: {e}")))
    }

    fn version(&self, upload: Uuid) -> UdfVersionCreateRequest {
        let a = &self.args;
        if self.pool {
            UdfVersionCreateRequest::ExecutablePool(UdfVersionCreateRequestExecutablePool {
                command_read_timeout: a.command_read_timeout,
                command_write_timeout: a.command_write_timeout,
                deterministic: Self::flag(a.deterministic),
                format: a.format.clone(),
                max_command_execution_time: a.max_command_execution_time,
                memory_limit_mib: self.memory(),
                pool_size: a.pool_size,
                return_name: self.return_name(),
                sandbox_type: self.sandbox(),
                send_chunk_header: Self::flag(a.send_chunk_header),
                ..UdfVersionCreateRequestExecutablePool::new(
                    upload,
                    self.runtime.clone(),
                    self.arguments.clone(),
                    a.returns.clone(),
                    UdfCreateRequestExecutablePoolType::ExecutablePool,
                )
            })
        } else {
            UdfVersionCreateRequest::Executable(UdfVersionCreateRequestExecutable {
                command_read_timeout: a.command_read_timeout,
                command_write_timeout: a.command_write_timeout,
                deterministic: Self::flag(a.deterministic),
                format: a.format.clone(),
                max_command_execution_time: a
                    .max_command_execution_time
                    .map_or(Nullable::Absent, Nullable::Value),
                memory_limit_mib: self.memory(),
                return_name: self.return_name(),
                sandbox_type: self.sandbox(),
                send_chunk_header: Self::flag(a.send_chunk_header),
                ..UdfVersionCreateRequestExecutable::new(
                    upload,
                    self.runtime.clone(),
                    self.arguments.clone(),
                    a.returns.clone(),
                    UdfCreateRequestExecutableType::Executable,
                )
            })
        }
    }
}

/// `udfs deploy --output json`: what was done, and how it ended.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Deployed {
    /// `created` (a new function) or `versionAdded`.
    action: &'static str,
    /// The version, as last seen.
    udf: Udf,
    /// Its attachment to each service, as last seen.
    attachments: Vec<UdfAttachment>,
}

/// `2.4 KiB`, `812 B`.
fn size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// The services `--service` names, each once, in the order given.
async fn targets(
    session: &Session,
    org: Uuid,
    given: &[String],
) -> Result<Vec<(Uuid, Service)>, CliError> {
    let services = session.client.services(org);
    let mut out: Vec<(Uuid, Service)> = Vec::new();
    for service in given {
        let found = find(
            &services,
            &ServiceArg {
                service: service.clone(),
            },
        )
        .await?;
        let id = found
            .id
            .ok_or_else(|| CliError::Other("the service came back without an ID".into()))?;
        if !out.iter().any(|(known, _)| *known == id) {
            out.push((id, found));
        }
    }
    Ok(out)
}

/// Whether the function exists: `udfGet` finds it, or answers `404`.
async fn exists(udfs: &Udfs, name: &str) -> Result<bool, CliError> {
    match wait("Looking for the function", udfs.udf_get(name)).await {
        Ok(_) => Ok(true),
        Err(error) if error.status().map(|s| s.as_u16()) == Some(404) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

async fn deploy(args: UdfDeployArgs, global: &GlobalArgs) -> Result<(), CliError> {
    // Everything the command line and the folder can get wrong, before
    // any request.
    let dir = args.dir.clone();
    let definition = Definition::new(args)?;
    let entries = entries(&dir, &definition.runtime)?;
    let archive = zip_of(&entries)?;
    let name = definition.name().to_owned();
    let services_given = definition.args.services.clone();
    let waits = definition.args.wait;
    let wake = definition.args.wake;
    let timeout = definition.args.timeout;
    let table = global.output == Output::Table;

    let session = Session::open(global)?;
    let org = session.org().await?.value;
    // An unknown service is found out before anything is made.
    let targets = targets(&session, org, &services_given).await?;
    let udfs = session.client.udfs(org);
    let existed = exists(&udfs, &name).await?;
    let archived = archive.bytes.len();
    let upload = wait("Uploading the archive", udfs.upload_archive(archive.bytes)).await?;
    let made = if existed {
        wait(
            "Adding a version",
            udfs.udf_version_create(name.as_str(), definition.version(upload)),
        )
        .await
    } else {
        wait(
            "Creating the function",
            udfs.udf_create(definition.create(upload)?),
        )
        .await
    };
    let made = match made {
        Ok(made) => made.into_result(),
        Err(error) if error.may_have_acted() => {
            return Err(CliError::MayExist {
                error: Box::new(error),
                what: format!("UDF {} or a new version of it", output::quoted(&name)),
                check: "chc udfs list",
            });
        }
        Err(error) => return Err(error.into()),
    };
    let version = made.version.ok_or_else(|| {
        CliError::Other("the service made the version but did not say its number".into())
    })?;
    let action = if existed { "versionAdded" } else { "created" };
    let mut deployed = Deployed {
        action,
        udf: made,
        attachments: Vec::new(),
    };
    if table {
        let what = if existed {
            format!("Added version {version} to UDF {}", output::quoted(&name))
        } else {
            format!("Created UDF {} (version {version})", output::quoted(&name))
        };
        print_text(&format!(
            "{what} from {}: {} file{}, {} archived.\n",
            output::clean(&dir.display().to_string()),
            archive.files,
            if archive.files == 1 { "" } else { "s" },
            size(archived)
        ))?;
    }
    // Attaching to an idle service wakes it, when asked to.
    let attaching = if wake {
        session.client.waking_idle_services().udfs(org)
    } else {
        udfs.clone()
    };
    let outcome = follow_through(
        &udfs,
        &attaching,
        &name,
        version,
        &targets,
        waits,
        timeout,
        table,
        &mut deployed,
    )
    .await;
    if !table {
        // What was made is shown whatever became of the waits.
        print_json(&deployed)?;
    }
    outcome
}

/// After the create: the build (needed to attach), each attach, and with
/// `--wait` each deployment.
#[allow(clippy::too_many_arguments)]
async fn follow_through(
    udfs: &Udfs,
    attaching: &Udfs,
    name: &str,
    version: i64,
    targets: &[(Uuid, Service)],
    waits: bool,
    timeout: Option<std::time::Duration>,
    table: bool,
    deployed: &mut Deployed,
) -> Result<(), CliError> {
    let waited = |check: String| {
        move |error: clickhouse_cloud_client::Error| CliError::Wait {
            error: Box::new(error),
            check,
        }
    };
    if targets.is_empty() && !waits {
        return Ok(());
    }
    let built = follow(
        &format!("UDF {} version {version}", output::clean(name)),
        udfs.wait_until_built(name, version),
        Some(timeout.unwrap_or(UDF_BUILD_BUDGET)),
    )
    .await
    .map_err(waited(format!("chc udfs list-versions {name}")))?;
    deployed.udf = built;
    if table {
        print_text(&format!("Version {version} is built.\n"))?;
    }
    for (id, service) in targets {
        let attached = wait(
            "Attaching",
            attaching.udf_attach(
                name,
                *id,
                UdfAttachBody {
                    version: Some(version),
                },
            ),
        )
        .await?
        .into_result();
        if table {
            print_text(&format!(
                "Attached version {version} to service {}: {}.\n",
                label(service),
                attached
                    .status
                    .as_ref()
                    .map_or("-".into(), |s| output::clean(s.as_str()).into_owned())
            ))?;
        }
        deployed.attachments.push(attached);
    }
    if !waits {
        return Ok(());
    }
    for (index, (id, service)) in targets.iter().enumerate() {
        let done = follow(
            &format!(
                "UDF {} on service {}",
                output::clean(name),
                output::clean(service.name.as_deref().unwrap_or("unnamed"))
            ),
            udfs.wait_until_deployed(name, *id),
            Some(timeout.unwrap_or(UDF_ATTACHMENT_BUDGET)),
        )
        .await
        .map_err(waited(format!("chc udfs get-attachment {name} {id}")))?;
        if table {
            print_text(&format!(
                "Version {} is deployed on service {}.\n",
                done.version.unwrap_or(version),
                label(service)
            ))?;
        }
        deployed.attachments[index] = done;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(extra: &[&str]) -> Definition {
        #[derive(clap::Parser)]
        struct Line {
            #[command(flatten)]
            args: UdfDeployArgs,
        }
        let mut words = vec![
            "deploy",
            "my_fn",
            "dir",
            "--runtime",
            "python3.11",
            "--returns",
            "String",
            "--arg",
            "x:UInt64",
            "--memory-limit-mib",
            "64",
        ];
        words.extend_from_slice(extra);
        let line = <Line as clap::Parser>::try_parse_from(words).unwrap();
        Definition::new(line.args).unwrap()
    }

    #[test]
    fn a_create_is_the_version_request_with_the_function_name() {
        let upload = Uuid::from_u128(7);
        for (extra, kind) in [
            (&[][..], "executable"),
            (
                &["--type", "executable_pool", "--pool-size", "3"][..],
                "executable_pool",
            ),
        ] {
            let d = definition(extra);
            let create = serde_json::to_value(d.create(upload).unwrap()).unwrap();
            let mut version = serde_json::to_value(d.version(upload)).unwrap();
            assert_eq!(create["type"], kind, "{create}");
            assert_eq!(create["functionName"], "my_fn", "{create}");
            assert_eq!(create["memoryLimitMib"], 64, "{create}");
            version["functionName"] = "my_fn".into();
            assert_eq!(create, version);
        }
        let pool = serde_json::to_value(
            definition(&["--type", "executable_pool", "--pool-size", "3"])
                .create(upload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(pool["poolSize"], 3, "{pool}");
    }

    fn write(path: &Path, contents: &[u8]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn names(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                if e.folder {
                    format!("{}/", e.name)
                } else {
                    e.name.clone()
                }
            })
            .collect()
    }

    #[test]
    fn python_ships_the_folder_but_hidden_entries_caches_and_the_definition() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("main.py"), b"print(1)\n");
        write(&root.join("udf.json"), b"{}");
        write(&root.join(".env"), b"SECRET=1\n");
        write(&root.join("lib/helper.py"), b"x = 1\n");
        write(&root.join("lib/udf.json"), b"{}");
        write(&root.join("lib/__pycache__/helper.pyc"), b"");
        write(&root.join("data/.hidden"), b"");
        let entries = entries(root, &UdfRuntime::Python311).unwrap();
        assert_eq!(
            names(&entries),
            ["data/", "lib/", "lib/helper.py", "lib/udf.json", "main.py"]
        );
        // The same folder makes the same archive.
        let first = zip_of(&entries).unwrap();
        assert_eq!(first.files, 3);
        assert_eq!(zip_of(&entries).unwrap().bytes, first.bytes);
        assert!(first.bytes.starts_with(b"PK\x03\x04"));
        std::fs::remove_file(root.join("main.py")).unwrap();
        let missing = entries_error(root, &UdfRuntime::Python311);
        assert!(missing.contains("main.py"), "{missing}");
    }

    fn entries_error(dir: &Path, runtime: &UdfRuntime) -> String {
        match entries(dir, runtime) {
            Err(CliError::Usage(message)) => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn native_ships_only_the_two_binaries_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("src/main.rs"), b"fn main() {}\n");
        write(&root.join("amd64/main"), b"\x7fELF");
        let missing = entries_error(root, &UdfRuntime::Native);
        assert!(missing.contains("arm64/main is missing"), "{missing}");
        write(&root.join("arm64/main"), b"\x7fELF");
        write(&root.join("arm64/model.bin"), b"weights");
        let entries = entries(root, &UdfRuntime::Native).unwrap();
        assert_eq!(
            names(&entries),
            [
                "amd64/",
                "amd64/main",
                "arm64/",
                "arm64/main",
                "arm64/model.bin"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_refused_and_modes_kept() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("main.py"), b"");
        write(&root.join("bin/tool"), b"#!/bin/sh\n");
        std::fs::set_permissions(
            root.join("bin/tool"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let entries = entries(root, &UdfRuntime::Python311).unwrap();
        let tool = entries.iter().find(|e| e.name == "bin/tool").unwrap();
        assert_eq!(tool.mode & 0o111, 0o111);
        std::os::unix::fs::symlink(root.join("main.py"), root.join("link.py")).unwrap();
        let refused = entries_error(root, &UdfRuntime::Python311);
        assert!(refused.contains("link.py is a symbolic link"), "{refused}");
        let nothing = entries_error(&root.join("nowhere"), &UdfRuntime::Python311);
        assert!(nothing.contains("nowhere"), "{nothing}");
        let file = entries_error(&root.join("main.py"), &UdfRuntime::Python311);
        assert!(file.contains("not a folder"), "{file}");
    }
}
