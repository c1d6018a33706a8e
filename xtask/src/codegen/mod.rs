//! `cargo xtask codegen`: the wire types and the operation table of
//! `clickhouse-cloud-types`, written from the pinned spec.
//!
//! [`plan`] decides what each schema and operation becomes, following the
//! rules at its top and `xtask/codegen.toml`; [`render`] writes the Rust
//! text; `rustfmt` formats it. [`examples`] builds an example request and
//! answer per operation: a conformance cassette each, and the emulator's
//! answers. `--check` compares instead of writing, so CI fails when the
//! committed output is stale.

pub mod cli;
pub mod client;
pub mod examples;
pub mod features;
pub mod names;
pub mod overrides;
pub mod plan;
pub mod render;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::spec::fetch::{FetchError, FetchOptions, fetch_spec, sha256_hex};
use crate::spec::load::{LoadError, load_file};
use overrides::{Overrides, OverridesError};
use plan::PlanError;

/// The overrides file, relative to the workspace root.
pub const OVERRIDES: &str = "xtask/codegen.toml";

/// What `codegen` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Compare with the files on disk instead of writing.
    pub check: bool,
    /// Generate from this spec file instead of the pinned one.
    pub spec: Option<PathBuf>,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The pinned spec could not be put in place.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The spec did not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The overrides file is unusable.
    #[error(transparent)]
    Overrides(#[from] OverridesError),
    /// The spec could not be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The client's handles could not be rendered.
    #[error(transparent)]
    Client(#[from] client::ClientRenderError),
    /// `chc`'s command table could not be rendered.
    #[error(transparent)]
    Cli(#[from] cli::CliRenderError),
    /// `rustfmt` failed.
    #[error("rustfmt failed on {file}: {message}")]
    Format {
        /// The generated file.
        file: String,
        /// What rustfmt said.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// What a run found or did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Files written (or, with `--check`, that differ), relative to the root.
    pub changed: Vec<String>,
    /// Files removed (or, with `--check`, that should be).
    pub removed: Vec<String>,
    /// Files generated in all.
    pub files: usize,
    /// Types, operations and secret fields generated.
    pub summary: String,
}

/// Generates (or checks) the files for the workspace at `root`.
pub fn run(root: &Path, options: &Options) -> Result<Outcome, CodegenError> {
    let spec_path = match &options.spec {
        Some(path) => path.clone(),
        None => fetch_spec(root, &FetchOptions::default())?.path,
    };
    let bytes = std::fs::read(&spec_path).map_err(|source| CodegenError::Io {
        path: spec_path.display().to_string(),
        source,
    })?;
    let api = load_file(&spec_path)?;
    let overrides = Overrides::load(&root.join(OVERRIDES))?;
    let plan = plan::plan(&api, &overrides)?;
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (relative, text) in render::render(&plan, &sha256_hex(&bytes)) {
        files.push((
            Path::new(render::OUT_DIR).join(&relative),
            rustfmt(&text, &relative)?,
        ));
    }
    for (relative, text) in client::render(&plan, &overrides.client_handles)? {
        files.push((
            Path::new(client::OUT_DIR).join(&relative),
            rustfmt(&text, &relative)?,
        ));
    }
    for (relative, text) in cli::render(&plan, &overrides.cli)? {
        files.push((
            Path::new(cli::OUT_DIR).join(&relative),
            rustfmt(&text, &relative)?,
        ));
    }
    files.extend(example_files(&api, &plan)?);
    let mut outcome = Outcome {
        files: files.len(),
        summary: format!(
            "{} operations, {} types ({} from component schemas), {} secret fields",
            plan.operations.len(),
            plan.types.len() + plan.params.len(),
            plan.types.values().filter(|t| t.schema.is_some()).count(),
            plan.secrets.len()
        ),
        ..Outcome::default()
    };
    let mut expected = Vec::new();
    for (relative, text) in &files {
        let path = root.join(relative);
        expected.push(path.clone());
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(text.as_str()) {
            outcome.changed.push(crate::workspace::display(root, &path));
            if !options.check {
                write(&path, text)?;
            }
        }
    }
    for (dir, extension) in OUTPUT_DIRS {
        for stale in existing_files(&root.join(dir), extension) {
            if !expected.contains(&stale) {
                outcome
                    .removed
                    .push(crate::workspace::display(root, &stale));
                if !options.check {
                    std::fs::remove_file(&stale).map_err(|source| CodegenError::Io {
                        path: stale.display().to_string(),
                        source,
                    })?;
                }
            }
        }
    }
    Ok(outcome)
}

/// The folders whose files `codegen` owns, with the extension it writes.
const OUTPUT_DIRS: &[(&str, &str)] = &[
    (render::OUT_DIR, "rs"),
    (client::OUT_DIR, "rs"),
    (cli::OUT_DIR, "rs"),
    (CASSETTES, "json"),
    (EMULATOR_EXAMPLES_DIR, "json"),
];

/// Where the example cassettes go.
pub const CASSETTES: &str = "conformance/cassettes/examples";
/// Where the emulator's example answers go.
pub const EMULATOR_EXAMPLES_DIR: &str = "crates/clickhouse-cloud-emulator/src/generated";

/// A cassette per operation and the emulator's table of answers.
fn example_files(
    api: &openapiv3::OpenAPI,
    plan: &plan::Plan,
) -> Result<Vec<(PathBuf, String)>, CodegenError> {
    let components: std::collections::BTreeMap<String, crate::spec::shape::Shape> = api
        .components
        .as_ref()
        .map(|c| {
            c.schemas
                .iter()
                .map(|(n, s)| (n.clone(), crate::spec::shape::Shape::of(s)))
                .collect()
        })
        .unwrap_or_default();
    let examples = examples::Examples::new(&components, &plan.secrets);
    let mut files = Vec::new();
    let mut answers = serde_json::Map::new();
    for op in plan::collect_operations(api)? {
        let (cassette, answer) = examples::cassette(&examples, &op);
        let text = format!("{:#}\n", serde_json::Value::Object(cassette));
        files.push((Path::new(CASSETTES).join(format!("{}.json", op.id)), text));
        answers.insert(op.id.clone(), answer);
    }
    let table = serde_json::json!({
        "generatedBy": "cargo xtask codegen, from the pinned spec's examples; do not edit",
        "operations": answers,
    });
    files.push((
        Path::new(EMULATOR_EXAMPLES_DIR).join("examples.json"),
        format!("{table:#}\n"),
    ));
    Ok(files)
}

fn write(path: &Path, text: &str) -> Result<(), CodegenError> {
    let error = |source| CodegenError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    std::fs::write(path, text).map_err(error)
}

fn existing_files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Formats Rust source with the toolchain's `rustfmt` (edition 2024).
pub fn rustfmt(text: &str, name: &str) -> Result<String, CodegenError> {
    let error = |message: String| CodegenError::Format {
        file: name.to_owned(),
        message,
    };
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut child = Command::new(rustfmt)
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| error(format!("cannot run rustfmt: {e}")))?;
    let mut stdin = child.stdin.take().ok_or_else(|| error("no stdin".into()))?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(|e| error(e.to_string()))?;
    let _ = writer.join();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(error(
            stderr.lines().take(20).collect::<Vec<_>>().join("\n"),
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch workspace with the real overrides file.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-codegen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("xtask")).unwrap();
        std::fs::copy(
            crate::workspace::root().join(OVERRIDES),
            dir.join(OVERRIDES),
        )
        .unwrap();
        dir
    }

    #[test]
    fn check_finds_an_edited_a_missing_and_a_stray_file_and_writing_mends_them() {
        let root = scratch("check");
        let options = Options {
            check: false,
            spec: Some(crate::testing::pinned_spec()),
        };
        let written = run(&root, &options).unwrap();
        assert!(written.files > 100, "{written:?}");
        assert_eq!(written.changed.len(), written.files);
        let check = Options {
            check: true,
            ..options.clone()
        };
        let clean = run(&root, &check).unwrap();
        assert!(clean.changed.is_empty() && clean.removed.is_empty());

        let out = root.join(render::OUT_DIR);
        let edited = out.join("types/api_keys.rs");
        let text = std::fs::read_to_string(&edited).unwrap();
        assert!(text.starts_with(render::HEADER), "{}", &text[..80]);
        std::fs::write(
            &edited,
            text.replace("pub struct ApiKey {", "pub struct ApiKey { pub x: u8,"),
        )
        .unwrap();
        std::fs::remove_file(root.join(CASSETTES).join("openapiKeyGet.json")).unwrap();
        std::fs::write(out.join("types/stray.rs"), "// not generated\n").unwrap();
        let stale = run(&root, &check).unwrap();
        let names: Vec<&str> = stale
            .changed
            .iter()
            .chain(&stale.removed)
            .map(String::as_str)
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().any(|n| n.ends_with("types/api_keys.rs")));
        assert!(
            names
                .iter()
                .any(|n| n.ends_with("examples/openapiKeyGet.json"))
        );
        assert!(names.iter().any(|n| n.ends_with("types/stray.rs")));

        run(&root, &options).unwrap();
        let mended = run(&root, &check).unwrap();
        assert!(mended.changed.is_empty() && mended.removed.is_empty());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_stale_override_stops_the_generator() {
        let root = scratch("stale");
        let overrides = root.join(OVERRIDES);
        let mut text = std::fs::read_to_string(&overrides).unwrap();
        text.push_str(
            "\n[[retry]]\noperation = \"noSuchOperation\"\nidempotent = true\nreason = \"r\"\n",
        );
        std::fs::write(&overrides, text).unwrap();
        let options = Options {
            check: true,
            spec: Some(crate::testing::pinned_spec()),
        };
        let error = run(&root, &options).unwrap_err().to_string();
        assert!(error.contains("noSuchOperation"), "{error}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
