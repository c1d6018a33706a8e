//! `cargo xtask spec-upgrade [SPEC_FILE]`: a new spec build absorbed in one
//! command, leaving a change to review.
//!
//! In order:
//!
//! 1. the pinned spec is put in place and a copy kept as
//!    `target/spec-upgrade/old-openapi.json`;
//! 2. the new spec (`SPEC_FILE`, a path or URL, or else the newest snapshot
//!    of `../shared/specs`, as `fetch-spec --update` picks it) replaces it and
//!    `specs/spec.pin` is rewritten;
//! 3. `spec-diff` old → new is printed, and its `--changelog` form written
//!    to `target/spec-upgrade/changelog.md`;
//! 4. entries of `xtask/codegen.toml` and `xtask/check-spec-exemptions.toml`
//!    that name what the new spec no longer has are removed, one printed
//!    line each; a tag without a `[modules]` entry gets a module named
//!    after it, also with a printed line;
//! 5. `codegen` rewrites the generated files;
//! 6. `check-spec` runs (by the caller: it builds the types).
//!
//! Nothing is restored on failure: the error says which step stopped and
//! what the workspace holds by then.

pub mod prune;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::codegen;
use crate::codegen::overrides::Overrides;
use crate::codegen::plan::PlanError;
use crate::spec::fetch::{FetchOptions, Layout, fetch_with};
use crate::spec_diff::changelog::Areas;
use crate::workspace;

/// What `spec-upgrade` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The new spec (a path or URL); `None`: the newest snapshot.
    pub spec: Option<String>,
}

/// What an upgrade did, for the summary.
#[derive(Debug, Clone, Default)]
pub struct Upgraded {
    /// The copy of the old spec.
    pub old: PathBuf,
    /// The new spec, in place.
    pub new: PathBuf,
    /// Whether the pin changed (false: the new spec is the pinned one).
    pub pin_updated: bool,
    /// `spec-diff` old → new, as text.
    pub diff: String,
    /// The changelog section.
    pub changelog: String,
    /// Where the changelog section was written.
    pub changelog_file: PathBuf,
    /// One line per removed override or exemption entry.
    pub pruned: Vec<String>,
    /// One line per module named after a tag.
    pub derived_modules: Vec<String>,
    /// What `codegen` wrote.
    pub codegen: codegen::Outcome,
}

/// Why an upgrade stopped, and what the workspace holds by then.
#[derive(Debug, thiserror::Error)]
#[error("spec-upgrade stopped while {step}: {message}\n\nThe workspace now holds:\n{state}")]
pub struct UpgradeError {
    /// The step.
    pub step: &'static str,
    /// What went wrong.
    pub message: String,
    /// What was done before, one line per change left in place.
    pub state: String,
}

/// The steps done so far, to say what a failure leaves behind.
struct Progress<'a> {
    done: Vec<String>,
    report: &'a mut dyn FnMut(&str),
}

impl Progress<'_> {
    fn fail(&self, step: &'static str, message: impl ToString) -> UpgradeError {
        let mut state = if self.done.is_empty() {
            "- nothing changed yet\n".to_owned()
        } else {
            self.done.iter().map(|d| format!("- {d}\n")).collect()
        };
        state.push_str(
            "Nothing was restored. To go back to the old spec: \
             `cargo xtask fetch-spec --update --from target/spec-upgrade/old-openapi.json`, \
             then `cargo xtask codegen`, and undo the changes to xtask/*.toml.\n",
        );
        UpgradeError {
            step,
            message: message.to_string(),
            state,
        }
    }

    fn say(&mut self, line: &str) {
        (self.report)(line);
    }
}

/// Where the old spec and the changelog section are kept.
pub fn work_dir(root: &Path) -> PathBuf {
    root.join("target/spec-upgrade")
}

/// Steps 1 to 5 for the workspace at `root` (files found by `layout`);
/// every line of progress goes to `report`.
pub fn absorb(
    root: &Path,
    layout: &Layout,
    options: &Options,
    report: &mut dyn FnMut(&str),
) -> Result<Upgraded, UpgradeError> {
    let mut p = Progress {
        done: Vec::new(),
        report,
    };
    let mut out = Upgraded::default();

    // 1. The old spec.
    let pinned = fetch_with(layout, &FetchOptions::default())
        .map_err(|e| p.fail("putting the pinned (old) spec in place", e))?;
    let dir = work_dir(root);
    out.old = dir.join("old-openapi.json");
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::copy(&pinned.path, &out.old).map(|_| ()))
        .map_err(|e| {
            p.fail(
                "keeping a copy of the old spec",
                format!("{}: {e}", out.old.display()),
            )
        })?;
    let old_name = workspace::display(root, &out.old);
    p.done.push(format!("the old spec, kept at {old_name}"));
    p.say(&format!(
        "{old_name}: the old spec (sha256 {})\n",
        pinned.sha256
    ));

    // 2. The new spec and the pin.
    let fetched = fetch_with(
        layout,
        &FetchOptions {
            from: options.spec.clone(),
            update: true,
        },
    )
    .map_err(|e| p.fail("taking the new spec", e))?;
    out.new = fetched.path.clone();
    out.pin_updated = fetched.pin_updated;
    let new_name = workspace::display(root, &out.new);
    if fetched.pin_updated {
        p.done.push(format!(
            "the new spec at {new_name}, and {} rewritten to its sha256 {}",
            workspace::display(root, &layout.pin),
            fetched.sha256
        ));
        p.say(&format!(
            "{new_name}: the new spec (sha256 {}); {} rewritten\n",
            fetched.sha256,
            workspace::display(root, &layout.pin)
        ));
    } else {
        p.say(&format!(
            "{new_name}: the new spec is the pinned one (sha256 {}); regenerating anyway\n",
            fetched.sha256
        ));
    }

    // 3. What changed.
    let old_model =
        crate::spec::load_model(&out.old).map_err(|e| p.fail("reading the old spec", e))?;
    let new_model =
        crate::spec::load_model(&out.new).map_err(|e| p.fail("reading the new spec", e))?;
    let diff = crate::spec_diff::diff(&old_model, &new_model);
    out.diff = diff.to_text(&old_name, &new_name);
    p.say(&format!("\n{}\n", out.diff));
    let old_areas = Areas::read(&out.old).map_err(|e| p.fail("reading the old spec", e))?;
    let new_areas = Areas::read(&out.new).map_err(|e| p.fail("reading the new spec", e))?;
    out.changelog = diff.to_changelog(&old_areas, &new_areas);
    out.changelog_file = dir.join("changelog.md");
    std::fs::write(&out.changelog_file, &out.changelog).map_err(|e| {
        p.fail(
            "writing the changelog section",
            format!("{}: {e}", out.changelog_file.display()),
        )
    })?;
    p.say(&format!(
        "{}: the changelog section for users (edit, then paste under `## Unreleased` of CHANGELOG.md):\n\n{}\n",
        workspace::display(root, &out.changelog_file),
        out.changelog
    ));

    // 4. Overrides and exemptions naming what is gone; modules of new tags.
    let api =
        crate::spec::load::load_file(&out.new).map_err(|e| p.fail("reading the new spec", e))?;
    let tags: BTreeSet<&String> = new_areas.operations.values().collect();
    let overrides_path = root.join(codegen::OVERRIDES);
    let operation_ids: BTreeSet<&String> = new_areas.operations.keys().collect();
    let pruned = prune_overrides(&overrides_path, &api, &tags, &operation_ids)
        .map_err(|e| p.fail("pruning xtask/codegen.toml", e))?;
    let exemptions_path = workspace::exemptions_file(root);
    let exemptions_name = workspace::display(root, &exemptions_path);
    let pruned_exemptions = prune_exemptions(&exemptions_path, &exemptions_name, &new_model)
        .map_err(|e| p.fail("pruning xtask/check-spec-exemptions.toml", e))?;
    for line in pruned.iter().chain(&pruned_exemptions) {
        p.say(&format!("pruned {line}\n"));
    }
    if !pruned.is_empty() {
        p.done.push(format!(
            "{} entries removed from {}",
            pruned.len(),
            codegen::OVERRIDES
        ));
    }
    if !pruned_exemptions.is_empty() {
        p.done.push(format!(
            "{} entries removed from {exemptions_name}",
            pruned_exemptions.len()
        ));
    }
    out.pruned = pruned.into_iter().chain(pruned_exemptions).collect();
    let overrides =
        Overrides::load(&overrides_path).map_err(|e| p.fail("reading xtask/codegen.toml", e))?;
    for tag in tags {
        if !overrides.modules.contains_key(tag.as_str()) {
            let module = codegen::names::snake(tag);
            let line = format!(
                "tag \"{tag}\" has no [modules] entry in {}: its module is `{module}`, named after it \
                 (add `\"{tag}\" = \"...\"` there to choose another name)",
                codegen::OVERRIDES
            );
            p.say(&format!("{line}\n"));
            out.derived_modules.push(line);
        }
    }

    // 5. The generated files.
    out.codegen = codegen::run(
        root,
        &codegen::Options {
            check: false,
            spec: Some(out.new.clone()),
        },
    )
    .map_err(|e| p.fail("regenerating (codegen)", e))?;
    for file in &out.codegen.changed {
        p.say(&format!("{file}: written\n"));
    }
    for file in &out.codegen.removed {
        p.say(&format!("{file}: removed\n"));
    }
    p.say(&format!(
        "codegen: {} files, {}; {} changed, {} removed\n",
        out.codegen.files,
        out.codegen.summary,
        out.codegen.changed.len(),
        out.codegen.removed.len()
    ));
    Ok(out)
}

/// What to run after a successful upgrade and check.
pub const NEXT_STEPS: &str = "\
next:
  cargo test -p clickhouse-cloud-conformance   # fails on changed snapshots, writes .snap.new files
  cargo insta review                           # read each changed request and response; accept or reject
  cargo xtask ci                               # everything CI runs
  then paste target/spec-upgrade/changelog.md (edited to read well) under `## Unreleased` in CHANGELOG.md,
  and review the diff of specs/spec.pin, xtask/*.toml and the generated files before committing.
";

/// Removes the entries of the overrides file that match nothing in `api`
/// (as the generator finds them, one at a time) and the `[modules]` entries
/// of tags the spec no longer has. One line per entry removed.
pub fn prune_overrides(
    path: &Path,
    api: &openapiv3::OpenAPI,
    tags: &BTreeSet<&String>,
    operations: &BTreeSet<&String>,
) -> Result<Vec<String>, String> {
    let display = path.display().to_string();
    let mut text = std::fs::read_to_string(path).map_err(|e| format!("{display}: {e}"))?;
    let mut lines = Vec::new();
    // The generated command of an operation (`[cli.commands]`, keyed by
    // operationId) goes with the operation.
    for key in prune::table_keys(&text, "cli.commands") {
        if !operations.contains(&key) {
            let (edited, found) = prune::remove_key(&text, "cli.commands", &key);
            if found {
                text = edited;
                lines.push(format!(
                    "{}: [cli.commands] \"{key}\" (the spec has no such operation any more)",
                    codegen::OVERRIDES
                ));
            }
        }
    }
    for key in prune::table_keys(&text, "modules") {
        if !tags.contains(&key) {
            let (edited, found) = prune::remove_key(&text, "modules", &key);
            if found {
                text = edited;
                lines.push(format!(
                    "{}: [modules] \"{key}\" (no operation has this tag)",
                    codegen::OVERRIDES
                ));
            }
        }
    }
    // Each stale entry stops the plan; remove it and plan again. Every
    // round removes one entry, so the rounds are bounded by the entries.
    let rounds = text.lines().count() + 1;
    for _ in 0..rounds {
        let overrides = Overrides::parse(&text, &display).map_err(|e| e.to_string())?;
        let (item, section) = match codegen::plan::plan(api, &overrides) {
            Err(PlanError::StaleOverride { item, section }) => (item, section),
            // Anything else is for `codegen` to report.
            _ => break,
        };
        let (edited, removed) = match section {
            "names" | "variants" => {
                let (t, found) = prune::remove_key(&text, section, &item);
                (t, usize::from(found))
            }
            "retry" | "paged" => prune::remove_block(&text, section, "operation", &item),
            other => prune::remove_block(&text, other, "item", &item),
        };
        if removed == 0 {
            return Err(format!(
                "{display}: `{item}` ({section}) matches nothing in the spec, and no entry of that \
                 shape was found to remove; delete it by hand"
            ));
        }
        text = edited;
        lines.push(format!(
            "{}: [{section}] \"{item}\" (matches nothing in the new spec)",
            codegen::OVERRIDES
        ));
    }
    if !lines.is_empty() {
        std::fs::write(path, &text).map_err(|e| format!("{display}: {e}"))?;
    }
    Ok(lines)
}

/// The name a deviation's item starts with (`Schema` of `Schema.field`,
/// `operationId` of `operationId query name`).
fn item_head(item: &str) -> &str {
    item.split(['.', ' ', '[', '<', '{']).next().unwrap_or(item)
}

/// Names of the exemptions file that stand for every operation's envelope
/// rather than a spec name.
const WRAPPERS: &[&str] = &["Envelope", "ErrorBody"];

/// Removes the deviations and `[not_yet_covered]` names of the exemptions
/// file that name an operation or schema `spec` does not have. One line per
/// entry removed.
pub fn prune_exemptions(
    path: &Path,
    name: &str,
    spec: &crate::spec::model::SpecModel,
) -> Result<Vec<String>, String> {
    let display = path.display().to_string();
    let mut text = std::fs::read_to_string(path).map_err(|e| format!("{display}: {e}"))?;
    let known = |head: &str| {
        WRAPPERS.contains(&head)
            || spec.operations.contains_key(head)
            || spec.schemas.contains_key(head)
    };
    let mut lines = Vec::new();
    for item in prune::block_values(&text, "deviation", "item") {
        let head = item_head(&item);
        if !known(head) {
            let (edited, removed) = prune::remove_block(&text, "deviation", "item", &item);
            if removed > 0 {
                text = edited;
                lines.push(format!(
                    "{name}: [[deviation]] \"{item}\" (the spec has no `{head}` any more)"
                ));
            }
        }
    }
    let exemptions = crate::check_spec::exemptions::Exemptions::parse(&text, &display)
        .map_err(|e| e.to_string())?;
    for (list, names) in [
        ("operations", &exemptions.operations),
        ("schemas", &exemptions.schemas),
    ] {
        for item in names {
            if !known(item) {
                let (edited, found) =
                    prune::remove_from_array(&text, "not_yet_covered", list, item);
                if found {
                    text = edited;
                    lines.push(format!(
                        "{name}: [not_yet_covered] {list} \"{item}\" (not in the spec any more)"
                    ));
                }
            }
        }
    }
    if !lines.is_empty() {
        crate::check_spec::exemptions::Exemptions::parse(&text, &display)
            .map_err(|e| format!("after pruning: {e}"))?;
        std::fs::write(path, &text).map_err(|e| format!("{display}: {e}"))?;
    }
    Ok(lines)
}
