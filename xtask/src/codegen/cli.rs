//! `chc`'s command table: one command per operation (`chc AREA VERB`), its
//! positional path parameters, its query parameters and the top-level
//! fields of its body as typed flags, plain `&'static` data the CLI builds
//! its clap tree from; and the operations that page.
//!
//! Names come from a rule, with `[cli]` of `xtask/codegen.toml` for what it
//! gets wrong:
//!
//! - the area is the operation's module, renamed by `[cli.areas]`;
//! - the verb is the method and the path's shape: `list` (a GET of a
//!   collection that pages or answers a list), `get`, `create` (POST),
//!   `update` (PATCH, PUT), `delete`; followed by the path's last noun
//!   (`get-backup-bucket`) unless that noun is the area's own;
//! - an operation whose body is only a `command` enum becomes one command
//!   per value (`chc postgres restart PG`);
//! - `[cli.commands]` names an operation's command outright;
//! - operations that `[cli.hand_written]` lists have a hand-written
//!   command and get none here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Deserialize;

use super::names::words;
use super::plan::{Body, OpDef, Paging, Plan, Ty};
use super::render::HEADER;

/// Where the CLI's generated file goes, relative to the workspace root.
pub const OUT_DIR: &str = "crates/clickhouse-cloud-cli/src/generated";

/// `[cli]` of the overrides file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CliOverrides {
    /// Module to area name, where the module's name (with `-` for `_`)
    /// would not do.
    #[serde(default)]
    pub areas: BTreeMap<String, String>,
    /// Area to its one-line description in `chc --help`.
    #[serde(default)]
    pub about: BTreeMap<String, String>,
    /// Hand-written commands (`"keys list"`) to the operations they cover.
    #[serde(default)]
    pub hand_written: BTreeMap<String, Vec<String>>,
    /// `operationId` to its command, where the rule's would not do.
    #[serde(default)]
    pub commands: BTreeMap<String, CommandOverride>,
}

/// How one operation is offered.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CommandOverride {
    /// `"area verb"`.
    Name(String),
    /// With more to say.
    Full {
        /// `"area verb"`.
        name: String,
        /// A map field of the body filled from two positionals, `NAME VALUE`.
        #[serde(default)]
        pair_field: Option<String>,
    },
}

impl CommandOverride {
    fn name(&self) -> &str {
        match self {
            CommandOverride::Name(n) | CommandOverride::Full { name: n, .. } => n,
        }
    }

    fn pair_field(&self) -> Option<&str> {
        match self {
            CommandOverride::Name(_) => None,
            CommandOverride::Full { pair_field, .. } => pair_field.as_deref(),
        }
    }
}

/// Why the command table could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CliRenderError {
    /// An override names an operation, module or field the spec lacks.
    #[error("xtask/codegen.toml [cli]: {0}")]
    Stale(String),
    /// Two commands would share a name.
    #[error("xtask/codegen.toml [cli]: `chc {0}` would name two operations: {1} and {2}")]
    Duplicate(String, String, String),
    /// A flag name is taken twice in one command.
    #[error("`chc {0}`: flag --{1} would be offered twice")]
    DuplicateFlag(String, String),
}

/// One generated command, as the generator sees it.
#[derive(Debug, Clone)]
pub struct CommandDef {
    /// Area.
    pub area: String,
    /// Verb.
    pub verb: String,
    /// `operationId`.
    pub operation: String,
    /// Body fields fixed by the verb, as `(wire name, JSON text)`.
    pub fixed: Vec<(String, String)>,
    /// A map field filled from `NAME VALUE` positionals.
    pub pair_field: Option<String>,
}

/// Flags the CLI itself takes on every generated command (and global
/// ones): a parameter or field of these names gets a `-field` suffix.
pub const RESERVED_FLAGS: &[&str] = &[
    "body",
    "wait",
    "timeout",
    "jq",
    "help",
    "version",
    "base-url",
    "api-key",
    "api-secret",
    "org",
    "output",
    "yes",
];

/// The commands: every operation not covered by a hand-written command,
/// in table order.
pub fn commands(plan: &Plan, o: &CliOverrides) -> Result<Vec<CommandDef>, CliRenderError> {
    let ids: BTreeSet<&str> = plan.operations.iter().map(|op| op.id.as_str()).collect();
    for id in o.commands.keys() {
        if !ids.contains(id.as_str()) {
            return Err(CliRenderError::Stale(format!("no operation `{id}`")));
        }
    }
    let modules: BTreeSet<&str> = plan.modules.iter().map(|m| m.name.as_str()).collect();
    for module in o.areas.keys() {
        if !modules.contains(module.as_str()) {
            return Err(CliRenderError::Stale(format!("no module `{module}`")));
        }
    }
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let mut hand_names: BTreeSet<&str> = BTreeSet::new();
    for (name, ops) in &o.hand_written {
        hand_names.insert(name.as_str());
        for id in ops {
            if !ids.contains(id.as_str()) {
                return Err(CliRenderError::Stale(format!(
                    "hand_written `{name}`: no operation `{id}`"
                )));
            }
            covered.insert(id.as_str());
        }
    }
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, String> = hand_names
        .iter()
        .map(|n| ((*n).to_owned(), format!("the hand-written `chc {n}`")))
        .collect();
    for op in &plan.operations {
        if covered.contains(op.id.as_str()) {
            continue;
        }
        let over = o.commands.get(&op.id);
        let mut defs = Vec::new();
        if let Some(over) = over {
            let (area, verb) = over.name().split_once(' ').ok_or_else(|| {
                CliRenderError::Stale(format!("`{}`: name it \"area verb\"", op.id))
            })?;
            defs.push(CommandDef {
                area: area.to_owned(),
                verb: verb.to_owned(),
                operation: op.id.clone(),
                fixed: Vec::new(),
                pair_field: over.pair_field().map(str::to_owned),
            });
            if let Some(field) = over.pair_field()
                && !body_fields(plan, op).iter().any(|f| f.wire == field)
            {
                return Err(CliRenderError::Stale(format!(
                    "`{}`: its body has no field `{field}`",
                    op.id
                )));
            }
        } else if let Some(values) = command_values(plan, op) {
            let area = area_of(op, o);
            for value in values {
                defs.push(CommandDef {
                    area: area.clone(),
                    verb: kebab(&value),
                    operation: op.id.clone(),
                    fixed: vec![("command".into(), format!("{value:?}"))],
                    pair_field: None,
                });
            }
        } else {
            let area = area_of(op, o);
            let verb = verb_of(plan, op, &area);
            defs.push(CommandDef {
                area,
                verb,
                operation: op.id.clone(),
                fixed: Vec::new(),
                pair_field: None,
            });
        }
        for def in defs {
            let name = format!("{} {}", def.area, def.verb);
            // A command that a hand-written one covers (`services start`
            // for one value of a command enum) is left to it.
            if hand_names.contains(name.as_str()) && !def.fixed.is_empty() {
                continue;
            }
            if let Some(other) = seen.insert(name.clone(), def.operation.clone()) {
                return Err(CliRenderError::Duplicate(name, other, def.operation));
            }
            out.push(def);
        }
    }
    Ok(out)
}

/// The module's area name.
fn area_of(op: &OpDef, o: &CliOverrides) -> String {
    o.areas
        .get(&op.module)
        .cloned()
        .unwrap_or_else(|| op.module.replace('_', "-"))
}

/// `a-b-c` from any spelling.
fn kebab(name: &str) -> String {
    words(name).join("-")
}

fn singular(noun: &str) -> String {
    if let Some(stem) = noun.strip_suffix("ies") {
        format!("{stem}y")
    } else if noun.ends_with("ches") || noun.ends_with("shes") || noun.ends_with("sses") {
        noun[..noun.len() - 2].to_owned()
    } else if let Some(stem) = noun.strip_suffix('s')
        && !noun.ends_with("ss")
    {
        stem.to_owned()
    } else {
        noun.to_owned()
    }
}

/// The verb by the rule.
fn verb_of(plan: &Plan, op: &OpDef, area: &str) -> String {
    let segments: Vec<&str> = op
        .path
        .trim_start_matches("/v1")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let is_item = segments.last().is_some_and(|s| s.starts_with('{'));
    let noun = segments
        .iter()
        .rev()
        .find(|s| !s.starts_with('{'))
        .map(|s| kebab(s))
        .unwrap_or_default();
    let lists = !is_item
        && op.method == "GET"
        && (op.paging != Paging::None || matches!(op.output, Some(Ty::Vec(_))));
    let base = match op.method.as_str() {
        "GET" if lists => "list",
        "GET" => "get",
        "POST" => "create",
        "DELETE" => "delete",
        _ => "update",
    };
    let area_singular = singular(area);
    let own = noun == area || noun == area_singular || singular(&noun) == area_singular;
    let _ = plan;
    if own {
        return base.to_owned();
    }
    let noun = if lists { noun } else { singular(&noun) };
    format!("{base}-{noun}")
}

/// The values of a body that is only a `command` enum.
fn command_values(plan: &Plan, op: &OpDef) -> Option<Vec<String>> {
    let fields = body_fields(plan, op);
    let [field] = fields.as_slice() else {
        return None;
    };
    if field.wire != "command" {
        return None;
    }
    let values = enum_values(plan, &field.ty)?;
    Some(values)
}

/// A top-level field of a body, as the command offers it.
struct BodyField {
    wire: String,
    ty: Ty,
    required: bool,
    clearable: bool,
    deprecated: bool,
}

fn body_fields(plan: &Plan, op: &OpDef) -> Vec<BodyField> {
    let Some(Ty::Named(name)) = &op.body else {
        return Vec::new();
    };
    let Some(Body::Struct(s)) = resolve(plan, name).map(|t| &t.body) else {
        return Vec::new();
    };
    s.fields
        .iter()
        .map(|f| BodyField {
            wire: f.wire.clone(),
            ty: f.ty.clone(),
            required: f.required,
            clearable: f.tri_state || (f.nullable && op.method == "PATCH"),
            deprecated: f.deprecated,
        })
        .collect()
}

fn resolve<'p>(plan: &'p Plan, name: &str) -> Option<&'p super::plan::TypeDef> {
    let mut def = plan.types.get(name)?;
    for _ in 0..8 {
        match &def.body {
            Body::Alias(Ty::Named(next)) => def = plan.types.get(next)?,
            _ => return Some(def),
        }
    }
    Some(def)
}

fn enum_values(plan: &Plan, ty: &Ty) -> Option<Vec<String>> {
    let Ty::Named(name) = ty else { return None };
    match &resolve(plan, name)?.body {
        Body::Enum(variants) => Some(variants.iter().map(|(_, wire)| wire.clone()).collect()),
        _ => None,
    }
}

/// The CLI's kind of a value, as a `Kind` variant.
fn kind(plan: &Plan, ty: &Ty) -> (&'static str, bool) {
    match ty {
        Ty::Vec(inner) => match kind(plan, inner) {
            (k, false) if k != "Json" && k != "Map" => (k, true),
            _ => ("Json", false),
        },
        Ty::Map(inner) => match kind(plan, inner) {
            (k, false) if k != "Json" && k != "Map" => ("Map", false),
            _ => ("Json", false),
        },
        Ty::String => ("Text", false),
        Ty::Secret => ("Secret", false),
        Ty::Bool => ("Boolean", false),
        Ty::Int => ("Integer", false),
        Ty::Float => ("Number", false),
        Ty::Uuid => ("Uuid", false),
        Ty::Timestamp => ("Time", false),
        Ty::Date => ("Date", false),
        Ty::IntegerOrString | Ty::NumberOrString => ("Text", false),
        Ty::Json | Ty::Enum(_) => ("Json", false),
        Ty::Named(name) => match resolve(plan, name).map(|t| &t.body) {
            Some(Body::Enum(_)) => ("Enum", false),
            Some(Body::Alias(inner)) => kind(plan, inner),
            _ if plan.secrets.contains(name) => ("Secret", false),
            _ => ("Json", false),
        },
    }
}

/// Secret property names anywhere in a type.
fn secret_names(plan: &Plan, ty: &Ty, out: &mut BTreeSet<String>, seen: &mut BTreeSet<String>) {
    match ty {
        Ty::Vec(inner) | Ty::Map(inner) => secret_names(plan, inner, out, seen),
        Ty::Named(name) => {
            if !seen.insert(name.clone()) {
                return;
            }
            let Some(def) = plan.types.get(name) else {
                return;
            };
            match &def.body {
                Body::Struct(s) => {
                    for f in &s.fields {
                        if holds_secret(plan, &f.ty) {
                            out.insert(f.wire.clone());
                        }
                        secret_names(plan, &f.ty, out, seen);
                    }
                    if let Some(extra) = &s.additional {
                        secret_names(plan, extra, out, seen);
                    }
                }
                Body::Union(branches) => {
                    for b in branches {
                        secret_names(plan, &b.ty, out, seen);
                    }
                }
                Body::Alias(inner) => secret_names(plan, inner, out, seen),
                Body::Enum(_) => {}
            }
        }
        _ => {}
    }
}

fn holds_secret(plan: &Plan, t: &Ty) -> bool {
    match t {
        Ty::Secret => true,
        Ty::Vec(inner) | Ty::Map(inner) => holds_secret(plan, inner),
        Ty::Named(name) => plan
            .types
            .get(name)
            .and_then(|def| def.schema.as_ref())
            .is_some_and(|schema| plan.secrets.contains(schema)),
        _ => false,
    }
}

/// A flag's help line, from its name and type.
fn help_line(wire: &str, required: bool, deprecated: bool, extra: &str) -> String {
    let mut text: String = words(wire).join(" ");
    if let Some(first) = text.get(..1) {
        text = first.to_ascii_uppercase() + &text[1..];
    }
    text.push_str(extra);
    if required {
        text.push_str(" (required)");
    }
    if deprecated {
        text.push_str(" (deprecated)");
    }
    text
}

fn value_name(kind: &str) -> &'static str {
    match kind {
        "Integer" => "INTEGER",
        "Number" => "NUMBER",
        "Boolean" => "true|false",
        "Uuid" => "UUID",
        "Time" => "RFC3339",
        "Date" => "YYYY-MM-DD",
        "Json" => "JSON",
        "Map" => "KEY=VALUE",
        "Enum" => "VALUE",
        "Secret" => "SECRET",
        _ => "TEXT",
    }
}

/// The file: path relative to [`OUT_DIR`], and text (unformatted).
pub fn render(plan: &Plan, o: &CliOverrides) -> Result<Vec<(String, String)>, CliRenderError> {
    let commands = commands(plan, o)?;
    let ops: BTreeMap<&str, &OpDef> = plan
        .operations
        .iter()
        .map(|op| (op.id.as_str(), op))
        .collect();
    let mut out = format!(
        "{HEADER}\n\n//! `chc AREA VERB`: one command per operation without a hand-written one, \
         and the operations that page.\n\n"
    );
    out.push_str(
        "use clickhouse_cloud_client::types::ops;\n\n\
         use crate::commands::api::{Call, paged_call};\n\
         use crate::commands::generated::{Area, Cmd, Flag, Kind, Positional, Resolve};\n\n",
    );
    // Areas, in table order.
    let mut areas: Vec<String> = Vec::new();
    for c in &commands {
        if !areas.contains(&c.area) {
            areas.push(c.area.clone());
        }
    }
    for area in o.about.keys() {
        if !areas.contains(area)
            && !o
                .hand_written
                .keys()
                .any(|h| h.starts_with(&format!("{area} ")))
        {
            return Err(CliRenderError::Stale(format!("about: no area `{area}`")));
        }
    }
    out.push_str("/// The areas of the generated commands, in table order.\npub(crate) const AREAS: &[Area] = &[\n");
    for area in &areas {
        let about = o
            .about
            .get(area)
            .cloned()
            .unwrap_or_else(|| format!("The {} area.", area.replace('-', " ")));
        let _ = writeln!(out, "Area {{ name: {area:?}, about: {about:?} }},");
    }
    out.push_str("];\n\n");
    out.push_str("/// Every generated command.\npub(crate) const COMMANDS: &[Cmd] = &[\n");
    for c in &commands {
        let op = ops[c.operation.as_str()];
        render_command(&mut out, plan, op, c)?;
    }
    out.push_str("];\n\n");
    out.push_str("/// Hand-written commands and the operations they cover.\npub(crate) const HAND_WRITTEN: &[(&str, &[&str])] = &[\n");
    for (name, ids) in &o.hand_written {
        let _ = writeln!(out, "({name:?}, &{ids:?}),");
    }
    out.push_str("];\n\n");
    let paged: Vec<&OpDef> = plan
        .operations
        .iter()
        .filter(|op| op.paging != Paging::None)
        .collect();
    out.push_str(
        "/// The operations that page.\n#[cfg(test)]\npub(crate) const PAGED: &[&str] = &[\n",
    );
    for op in &paged {
        let _ = writeln!(out, "{:?},", op.id);
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// The call that reads every page of operation `id`, when it pages.\n\
         pub(crate) fn all_pages_call(id: &str) -> Option<Call> {\nmatch id {\n",
    );
    for op in &paged {
        let _ = writeln!(
            out,
            "{:?} => Some(paged_call::<ops::{}>()),",
            op.id, op.name
        );
    }
    out.push_str("_ => None,\n}\n}\n");
    Ok(vec![("mod.rs".into(), out)])
}

fn render_command(
    out: &mut String,
    plan: &Plan,
    op: &OpDef,
    c: &CommandDef,
) -> Result<(), CliRenderError> {
    let name = format!("{} {}", c.area, c.verb);
    let mut taken: BTreeSet<String> = RESERVED_FLAGS.iter().map(|s| (*s).to_owned()).collect();
    let mut flag_name = |wire: &str| -> Result<String, CliRenderError> {
        let mut flag = kebab(wire);
        if taken.contains(&flag) {
            flag = format!("{flag}-field");
        }
        if !taken.insert(flag.clone()) {
            return Err(CliRenderError::DuplicateFlag(name.clone(), flag));
        }
        Ok(flag)
    };
    let mut positionals = String::new();
    if let Some(params) = op.path_type.as_ref().and_then(|n| plan.params.get(n)) {
        for p in params.params.iter().filter(|p| p.wire != "organizationId") {
            let (resolve, value_name) = match p.wire.as_str() {
                "serviceId" => ("Service", "SERVICE".to_owned()),
                "postgresId" => ("Postgres", "PG".to_owned()),
                other => ("Plain", words(other).join("_").to_ascii_uppercase()),
            };
            let (k, _) = kind(plan, &p.ty);
            let _ = write!(
                positionals,
                "Positional {{ wire: {:?}, value_name: {value_name:?}, kind: Kind::{k}, resolve: Resolve::{resolve} }},",
                p.wire
            );
        }
    }
    let mut query = String::new();
    if let Some(params) = op.query_type.as_ref().and_then(|n| plan.params.get(n)) {
        for p in &params.params {
            let (k, list) = kind(plan, &p.ty);
            let values = enum_values(plan, &p.ty).unwrap_or_default();
            let flag = flag_name(&p.wire)?;
            let help = help_line(&p.wire, p.required, false, "");
            let _ = write!(
                query,
                "Flag {{ flag: {flag:?}, wire: {:?}, kind: Kind::{k}, value_name: {:?}, required: {}, list: {list}, values: &{values:?}, clearable: false, help: {help:?} }},",
                p.wire,
                value_name(k),
                p.required
            );
        }
    }
    let mut body = String::new();
    let fields = body_fields(plan, op);
    for f in &fields {
        if c.fixed.iter().any(|(w, _)| *w == f.wire) || c.pair_field.as_deref() == Some(&f.wire) {
            continue;
        }
        let (k, list) = kind(plan, &f.ty);
        let values = match &f.ty {
            Ty::Vec(inner) => enum_values(plan, inner),
            other => enum_values(plan, other),
        }
        .unwrap_or_default();
        let flag = flag_name(&f.wire)?;
        let extra = if k == "Json" { " (JSON)" } else { "" };
        let help = help_line(&f.wire, f.required, f.deprecated, extra);
        let _ = write!(
            body,
            "Flag {{ flag: {flag:?}, wire: {:?}, kind: Kind::{k}, value_name: {:?}, required: {}, list: {list}, values: &{values:?}, clearable: {}, help: {help:?} }},",
            f.wire,
            value_name(k),
            f.required,
            f.clearable
        );
    }
    let mut secrets = BTreeSet::new();
    if let Some(output) = &op.output {
        secret_names(plan, output, &mut secrets, &mut BTreeSet::new());
    }
    let secrets: Vec<&String> = secrets.iter().collect();
    let fixed: Vec<(&str, &str)> = c
        .fixed
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "Cmd {{ area: {:?}, verb: {:?}, operation: {:?}, method: {:?}, path: {:?}, beta: {}, deprecated: {}, \
         positionals: &[{positionals}], query: &[{query}], body: &[{body}], takes_body: {}, \
         fixed: &{fixed:?}, pair_field: {:?}, paged: {}, secrets: &{secrets:?} }},",
        c.area,
        c.verb,
        op.id,
        op.method,
        op.path,
        op.beta,
        op.deprecated,
        op.body.is_some(),
        c.pair_field,
        op.paging != Paging::None,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> (Plan, super::super::overrides::Overrides) {
        let root = crate::workspace::root();
        let api = crate::spec::load::load_file(&crate::testing::pinned_spec()).unwrap();
        let overrides =
            super::super::overrides::Overrides::load(&root.join(super::super::OVERRIDES)).unwrap();
        (
            super::super::plan::plan(&api, &overrides).unwrap(),
            overrides,
        )
    }

    #[test]
    fn every_operation_has_one_command_and_no_name_is_offered_twice() {
        let (plan, overrides) = plan();
        let commands = commands(&plan, &overrides.cli).unwrap();
        let mut names = BTreeSet::new();
        for c in &commands {
            let name = format!("{} {}", c.area, c.verb);
            assert!(names.insert(name.clone()), "{name} twice");
            assert!(
                !overrides.cli.hand_written.contains_key(&name),
                "{name} shadows a hand-written command"
            );
            assert!(
                c.verb
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{name}"
            );
        }
        let covered: BTreeSet<&str> = overrides
            .cli
            .hand_written
            .values()
            .flatten()
            .map(String::as_str)
            .chain(commands.iter().map(|c| c.operation.as_str()))
            .collect();
        let all: BTreeSet<&str> = plan.operations.iter().map(|op| op.id.as_str()).collect();
        assert_eq!(covered, all);
    }

    #[test]
    fn the_rule_names_verbs_from_method_and_path() {
        let (plan, overrides) = plan();
        let commands = commands(&plan, &overrides.cli).unwrap();
        let find = |id: &str| {
            commands
                .iter()
                .filter(|c| c.operation == id)
                .map(|c| format!("{} {}", c.area, c.verb))
                .collect::<Vec<_>>()
        };
        assert_eq!(find("backupGetList"), ["backups list"]);
        assert_eq!(find("backupGet"), ["backups get"]);
        assert!(find("postgresServicePatchState").contains(&"postgres restart".to_owned()));
        // Hand-written: none generated.
        assert!(find("openapiKeyGetList").is_empty());
    }

    #[test]
    fn a_stale_cli_override_is_refused() {
        let (plan, mut overrides) = plan();
        overrides.cli.commands.insert(
            "noSuchOperation".into(),
            CommandOverride::Name("x y".into()),
        );
        let error = commands(&plan, &overrides.cli).unwrap_err().to_string();
        assert!(error.contains("noSuchOperation"), "{error}");
    }

    #[test]
    fn singular_nouns() {
        assert_eq!(singular("alerts"), "alert");
        assert_eq!(singular("saved-searches"), "saved-search");
        assert_eq!(singular("policies"), "policy");
        assert_eq!(kebab("clickPipeId"), "click-pipe-id");
    }
}
