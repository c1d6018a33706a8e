//! `chc`'s command table: one command per operation (`chc AREA VERB`), its
//! positional path parameters, its query parameters and the top-level
//! fields of its body as typed flags, plain `&'static` data the CLI builds
//! its clap tree from; and the operations that page. `mod.rs` holds the
//! areas, a module per area its commands, a flag a line where it fits
//! (`Flag::text("name", "name", "Name").required()`).
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
//!   command and get none here;
//! - `[cli.workflows]` names hand-written commands that send several
//!   operations which keep their own commands (`udfs deploy`): their names
//!   are taken, and the table lists what they send.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Deserialize;

use super::names::words;
use super::plan::{Body, OpDef, Paging, Plan, Ty};
use super::render::HEADER;

/// Where the CLI's generated files go, relative to the workspace root.
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
    /// Hand-written commands that send operations whose own commands stay
    /// (`"udfs deploy"`), to the operations they send.
    #[serde(default)]
    pub workflows: BTreeMap<String, Vec<String>>,
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
    for (name, ops) in &o.workflows {
        for id in ops {
            if !ids.contains(id.as_str()) {
                return Err(CliRenderError::Stale(format!(
                    "workflows `{name}`: no operation `{id}`"
                )));
            }
        }
        let taken = format!("the hand-written `chc {name}`");
        if let Some(other) = seen.insert(name.clone(), taken.clone()) {
            return Err(CliRenderError::Duplicate(name.clone(), other, taken));
        }
    }
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
    enum_of(plan, ty).map(|e| e.values)
}

/// An enum type: its name and its wire values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EnumDef {
    name: String,
    values: Vec<String>,
}

fn enum_of(plan: &Plan, ty: &Ty) -> Option<EnumDef> {
    let Ty::Named(name) = ty else { return None };
    let def = resolve(plan, name)?;
    match &def.body {
        Body::Enum(variants) => Some(EnumDef {
            name: def.name.clone(),
            values: variants.iter().map(|(_, wire)| wire.clone()).collect(),
        }),
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

/// A query parameter or a body field, as a command offers it.
#[derive(Debug, Clone)]
struct FlagDef {
    flag: String,
    wire: String,
    /// The `Kind` variant.
    kind: &'static str,
    help: String,
    /// The enum of an `Enum` flag.
    values: Option<EnumDef>,
    list: bool,
    required: bool,
    clearable: bool,
}

impl FlagDef {
    /// The flag as its constructor, `Flag::text("name", "name", "Name")`,
    /// with a modifier per rarer setting (the value name follows from the
    /// kind); an enum's values are the const `shared` names, if any.
    fn render(&self, shared: &BTreeMap<String, String>) -> String {
        let Self {
            flag, wire, help, ..
        } = self;
        let mut out = if self.kind == "Enum" {
            let values = match &self.values {
                Some(e) => shared
                    .get(&e.name)
                    .cloned()
                    .unwrap_or_else(|| format!("&{:?}", e.values)),
                None => "&[]".to_owned(),
            };
            format!("Flag::one_of({flag:?}, {wire:?}, {help:?}, {values})")
        } else {
            let constructor = self.kind.to_ascii_lowercase();
            format!("Flag::{constructor}({flag:?}, {wire:?}, {help:?})")
        };
        for (set, modifier) in [
            (self.list, ".list()"),
            (self.required, ".required()"),
            (self.clearable, ".clearable()"),
        ] {
            if set {
                out.push_str(modifier);
            }
        }
        out
    }
}

/// The flags of command `c`: its query parameters, then its body fields.
fn flags_of(
    plan: &Plan,
    op: &OpDef,
    c: &CommandDef,
) -> Result<(Vec<FlagDef>, Vec<FlagDef>), CliRenderError> {
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
    // An enum flag's values, of a list's items when a list.
    let values = |kind: &str, ty: &Ty| {
        let item = match ty {
            Ty::Vec(inner) => inner,
            other => other,
        };
        enum_of(plan, item).filter(|_| kind == "Enum")
    };
    let mut query = Vec::new();
    if let Some(params) = op.query_type.as_ref().and_then(|n| plan.params.get(n)) {
        for p in &params.params {
            let (kind, list) = kind(plan, &p.ty);
            query.push(FlagDef {
                flag: flag_name(&p.wire)?,
                wire: p.wire.clone(),
                kind,
                help: help_line(&p.wire, p.required, false, ""),
                values: values(kind, &p.ty),
                list,
                required: p.required,
                clearable: false,
            });
        }
    }
    let mut body = Vec::new();
    for f in body_fields(plan, op) {
        if c.fixed.iter().any(|(w, _)| *w == f.wire) || c.pair_field.as_deref() == Some(&f.wire) {
            continue;
        }
        let (kind, list) = kind(plan, &f.ty);
        let extra = if kind == "Json" { " (JSON)" } else { "" };
        body.push(FlagDef {
            flag: flag_name(&f.wire)?,
            help: help_line(&f.wire, f.required, f.deprecated, extra),
            values: values(kind, &f.ty),
            wire: f.wire,
            kind,
            list,
            required: f.required,
            clearable: f.clearable,
        });
    }
    Ok((query, body))
}

/// The module of an area's commands: `query-endpoints` -> `query_endpoints`.
pub fn module_of(area: &str) -> String {
    area.replace('-', "_")
}

/// The files, path relative to [`OUT_DIR`] and text (unformatted): `mod.rs`
/// with the areas, the hand-written commands and the operations that page;
/// and a module per area with its commands.
pub fn render(plan: &Plan, o: &CliOverrides) -> Result<Vec<(String, String)>, CliRenderError> {
    let commands = commands(plan, o)?;
    // Areas, in table order, each with its commands.
    let mut areas: Vec<(&str, Vec<&CommandDef>)> = Vec::new();
    for c in &commands {
        match areas.iter_mut().find(|(area, _)| *area == c.area) {
            Some((_, list)) => list.push(c),
            None => areas.push((&c.area, vec![c])),
        }
    }
    for area in o.about.keys() {
        if !areas.iter().any(|(a, _)| a == area)
            && !o
                .hand_written
                .keys()
                .chain(o.workflows.keys())
                .any(|h| h.starts_with(&format!("{area} ")))
        {
            return Err(CliRenderError::Stale(format!("about: no area `{area}`")));
        }
    }
    let mut files = vec![("mod.rs".to_owned(), table_mod(plan, o, &areas))];
    for (area, list) in &areas {
        files.push((
            format!("{}.rs", module_of(area)),
            area_file(plan, area, list)?,
        ));
    }
    Ok(files)
}

/// `mod.rs`: the areas and their modules, the hand-written commands, and
/// the operations that page.
fn table_mod(plan: &Plan, o: &CliOverrides, areas: &[(&str, Vec<&CommandDef>)]) -> String {
    let mut out = format!(
        "{HEADER}\n\n//! `chc AREA VERB`: one command per operation without a hand-written one,\n\
         //! a module per area; and the operations that page.\n\n"
    );
    out.push_str(
        "use clickhouse_cloud_client::types::ops;\n\n\
         use crate::commands::api::{Call, paged_call};\n\
         use crate::commands::generated::Area;\n\n",
    );
    let modules: BTreeSet<String> = areas.iter().map(|(area, _)| module_of(area)).collect();
    for module in &modules {
        let _ = writeln!(out, "mod {module};");
    }
    out.push_str(
        "\n/// The areas of the generated commands, in table order.\n\
         pub(crate) const AREAS: &[Area] = &[\n",
    );
    for (area, _) in areas {
        let about = o
            .about
            .get(*area)
            .cloned()
            .unwrap_or_else(|| format!("The {} area.", area.replace('-', " ")));
        let _ = writeln!(
            out,
            "Area {{ name: {area:?}, about: {about:?}, commands: {}::COMMANDS }},",
            module_of(area)
        );
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// Hand-written commands and the operations they cover.\n\
         pub(crate) const HAND_WRITTEN: &[(&str, &[&str])] = &[\n",
    );
    for (name, ids) in &o.hand_written {
        let _ = writeln!(out, "({name:?}, &{ids:?}),");
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// Hand-written commands that send operations whose own commands stay,\n\
         /// and the operations they send.\n\
         pub(crate) const WORKFLOWS: &[(&str, &[&str])] = &[\n",
    );
    for (name, ids) in &o.workflows {
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
    out
}

/// An area's module: its `COMMANDS`, then the values of the enums that
/// more than one of its flags take.
fn area_file(plan: &Plan, area: &str, commands: &[&CommandDef]) -> Result<String, CliRenderError> {
    let ops: BTreeMap<&str, &OpDef> = plan
        .operations
        .iter()
        .map(|op| (op.id.as_str(), op))
        .collect();
    let mut table = Vec::new();
    for c in commands {
        let op = ops[c.operation.as_str()];
        let (query, body) = flags_of(plan, op, c)?;
        table.push((*c, op, query, body));
    }
    // An enum's values are a const of the area where two flags take them.
    let mut uses: BTreeMap<&str, (&EnumDef, usize)> = BTreeMap::new();
    for (_, _, query, body) in &table {
        for e in query.iter().chain(body).filter_map(|f| f.values.as_ref()) {
            uses.entry(&e.name).or_insert((e, 0)).1 += 1;
        }
    }
    let shared: Vec<(String, &EnumDef)> = uses
        .into_values()
        .filter(|(_, n)| *n > 1)
        .map(|(e, _)| (words(&e.name).join("_").to_ascii_uppercase(), e))
        .collect();
    let const_names: BTreeMap<String, String> = shared
        .iter()
        .map(|(name, e)| (e.name.clone(), name.clone()))
        .collect();
    let mut rows = String::new();
    for (c, op, query, body) in &table {
        render_command(&mut rows, plan, op, c, query, body, &const_names);
    }
    let used: Vec<&str> = ["Flag", "Kind", "Positional"]
        .into_iter()
        .filter(|name| rows.contains(&format!("{name}::")))
        .collect();
    let imports = if used.is_empty() {
        "Cmd".to_owned()
    } else {
        format!("{{Cmd, {}}}", used.join(", "))
    };
    let mut out = format!(
        "{HEADER}\n\n//! `chc {area} VERB`: the generated commands of the {} area.\n\n\
         use crate::commands::generated::{imports};\n\n\
         /// The area's commands, in table order.\n\
         pub(crate) const COMMANDS: &[Cmd] = &[\n{rows}];\n",
        area.replace('-', " "),
    );
    for (name, e) in &shared {
        let _ = write!(
            out,
            "\n/// The values of `{}`.\nconst {name}: &[&str] = &{:?};\n",
            e.name, e.values
        );
    }
    Ok(out)
}

fn render_command(
    out: &mut String,
    plan: &Plan,
    op: &OpDef,
    c: &CommandDef,
    query: &[FlagDef],
    body: &[FlagDef],
    shared: &BTreeMap<String, String>,
) {
    let mut positionals = String::new();
    if let Some(params) = op.path_type.as_ref().and_then(|n| plan.params.get(n)) {
        for p in params.params.iter().filter(|p| p.wire != "organizationId") {
            match p.wire.as_str() {
                "serviceId" => positionals.push_str("Positional::SERVICE,"),
                "postgresId" => positionals.push_str("Positional::POSTGRES,"),
                wire => {
                    let value_name = words(wire).join("_").to_ascii_uppercase();
                    let (k, _) = kind(plan, &p.ty);
                    let _ = write!(
                        positionals,
                        "Positional::plain({wire:?}, {value_name:?}, Kind::{k}),"
                    );
                }
            }
        }
    }
    let flags = |list: &[FlagDef]| -> String {
        list.iter()
            .map(|f| format!("{},", f.render(shared)))
            .collect()
    };
    let (query, body) = (flags(query), flags(body));
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
                !overrides.cli.hand_written.contains_key(&name)
                    && !overrides.cli.workflows.contains_key(&name),
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
    fn a_workflow_keeps_the_commands_of_what_it_sends_and_takes_its_name() {
        let (plan, mut overrides) = plan();
        let commands = commands(&plan, &overrides.cli).unwrap();
        for (name, ops) in &overrides.cli.workflows {
            for id in ops {
                assert!(
                    commands.iter().any(|c| &c.operation == id)
                        || overrides
                            .cli
                            .hand_written
                            .values()
                            .flatten()
                            .any(|h| h == id),
                    "{name}: {id} has no command of its own"
                );
            }
        }
        // A generated command of that name would be offered twice.
        overrides
            .cli
            .workflows
            .insert("udfs list".into(), vec!["udfList".into()]);
        let error = commands_of_error(&plan, &overrides.cli);
        assert!(error.contains("chc udfs list"), "{error}");
        overrides.cli.workflows.clear();
        overrides
            .cli
            .workflows
            .insert("udfs ship".into(), vec!["noSuchOperation".into()]);
        let error = commands_of_error(&plan, &overrides.cli);
        assert!(error.contains("noSuchOperation"), "{error}");
    }

    fn commands_of_error(plan: &Plan, o: &CliOverrides) -> String {
        commands(plan, o).unwrap_err().to_string()
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
    fn each_area_has_its_module_and_mod_rs_lists_them() {
        let (plan, overrides) = plan();
        let commands = commands(&plan, &overrides.cli).unwrap();
        let files: BTreeMap<String, String> =
            render(&plan, &overrides.cli).unwrap().into_iter().collect();
        let table = &files["mod.rs"];
        let areas: BTreeSet<&str> = commands.iter().map(|c| c.area.as_str()).collect();
        assert_eq!(files.len(), areas.len() + 1, "{:?}", files.keys());
        for area in &areas {
            let module = module_of(area);
            let text = &files[&format!("{module}.rs")];
            assert!(text.starts_with(HEADER), "{module}");
            assert!(text.contains(&format!("//! `chc {area} VERB`")), "{module}");
            assert!(table.contains(&format!("mod {module};")), "{module}");
            assert!(
                table.contains(&format!("name: {area:?},"))
                    && table.contains(&format!("commands: {module}::COMMANDS")),
                "{module}"
            );
            // The area's commands, and only those, in table order.
            let mine: Vec<String> = commands
                .iter()
                .filter(|c| c.area == *area)
                .map(|c| format!("area: {:?}, verb: {:?},", c.area, c.verb))
                .collect();
            let found: Vec<usize> = mine
                .iter()
                .map(|m| text.find(m.as_str()).unwrap())
                .collect();
            assert!(found.is_sorted(), "{module}: {mine:?}");
            assert_eq!(text.matches("Cmd {").count(), mine.len(), "{module}");
        }
    }

    #[test]
    fn a_flag_is_its_kinds_constructor_with_a_modifier_per_rarer_setting() {
        let flag = |kind, values: Option<EnumDef>| FlagDef {
            flag: "name".into(),
            wire: "name".into(),
            kind,
            help: "Name".into(),
            values,
            list: false,
            required: false,
            clearable: false,
        };
        let none = BTreeMap::new();
        assert_eq!(
            flag("Text", None).render(&none),
            r#"Flag::text("name", "name", "Name")"#
        );
        let all = FlagDef {
            list: true,
            required: true,
            clearable: true,
            ..flag("Integer", None)
        };
        assert_eq!(
            all.render(&none),
            r#"Flag::integer("name", "name", "Name").list().required().clearable()"#
        );
        let sort = EnumDef {
            name: "SortOrder".into(),
            values: vec!["asc".into(), "desc".into()],
        };
        assert_eq!(
            flag("Enum", Some(sort.clone())).render(&none),
            r#"Flag::one_of("name", "name", "Name", &["asc", "desc"])"#
        );
        let shared = BTreeMap::from([("SortOrder".to_owned(), "SORT_ORDER".to_owned())]);
        assert_eq!(
            flag("Enum", Some(sort)).render(&shared),
            r#"Flag::one_of("name", "name", "Name", SORT_ORDER)"#
        );
    }

    #[test]
    fn a_value_list_is_a_const_only_when_two_flags_of_the_area_share_it() {
        let (plan, overrides) = plan();
        let files = render(&plan, &overrides.cli).unwrap();
        let mut consts = 0;
        for (name, text) in &files {
            for line in text.lines() {
                let Some(rest) = line.strip_prefix("const ") else {
                    continue;
                };
                consts += 1;
                let ident = rest.split(':').next().unwrap();
                assert!(
                    text.matches(&format!(", {ident})")).count() >= 2,
                    "{name}: {ident} is used once"
                );
            }
        }
        assert!(consts > 0, "the pinned spec has enums that flags share");
    }

    #[test]
    fn singular_nouns() {
        assert_eq!(singular("alerts"), "alert");
        assert_eq!(singular("saved-searches"), "saved-search");
        assert_eq!(singular("policies"), "policy");
        assert_eq!(kebab("clickPipeId"), "click-pipe-id");
    }
}
