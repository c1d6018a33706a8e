//! `chc AREA VERB`: the commands made from the operation table
//! (`crate::generated::AREAS`, each area with its commands), one per
//! operation without a hand-written command. Their clap commands are built
//! only for the area typed (all of them for completions), so a hand-written
//! command pays nothing for them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Arg, ArgAction, ArgMatches};
use clickhouse_cloud_client::types::{ClickPipeState, PgStateProperty};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::cli::{GlobalArgs, Output};
use crate::commands::api::{self, Inputs, Outcome, PAGE_PARAMETERS};
use crate::context::{Session, confirm_delete, follow, refuse_unconfirmed, wait};
use crate::error::CliError;
use crate::generated::AREAS;
use crate::output::{self, print_json, print_text};

/// An area of generated commands.
#[derive(Debug)]
pub(crate) struct Area {
    /// Its name on the command line.
    pub(crate) name: &'static str,
    /// Its line in `chc --help`.
    pub(crate) about: &'static str,
    /// Its commands, in table order.
    pub(crate) commands: &'static [Cmd],
}

/// Every generated command, area by area.
pub(crate) fn commands() -> impl Iterator<Item = &'static Cmd> {
    AREAS.iter().flat_map(|area| area.commands)
}

/// One generated command.
#[derive(Debug)]
pub(crate) struct Cmd {
    pub(crate) area: &'static str,
    pub(crate) verb: &'static str,
    pub(crate) operation: &'static str,
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) beta: bool,
    pub(crate) deprecated: bool,
    /// Path parameters other than the organization, in path order.
    pub(crate) positionals: &'static [Positional],
    pub(crate) query: &'static [Flag],
    /// Top-level fields of the body.
    pub(crate) body: &'static [Flag],
    pub(crate) takes_body: bool,
    /// Body fields the verb sets: `(wire name, JSON text)`.
    pub(crate) fixed: &'static [(&'static str, &'static str)],
    /// A map field of the body filled from `NAME VALUE` positionals.
    pub(crate) pair_field: Option<&'static str>,
    pub(crate) paged: bool,
    /// Names of secret properties the answer may hold.
    pub(crate) secrets: &'static [&'static str],
}

/// A path parameter, given positionally.
#[derive(Debug)]
pub(crate) struct Positional {
    pub(crate) wire: &'static str,
    pub(crate) value_name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) resolve: Resolve,
}

impl Positional {
    /// `serviceId`: a service, by UUID or name.
    pub(crate) const SERVICE: Self = Self {
        wire: "serviceId",
        value_name: "SERVICE",
        kind: Kind::Uuid,
        resolve: Resolve::Service,
    };

    /// `postgresId`: a Postgres service, by UUID or name.
    pub(crate) const POSTGRES: Self = Self {
        wire: "postgresId",
        value_name: "PG",
        kind: Kind::Uuid,
        resolve: Resolve::Postgres,
    };

    /// The path parameter `wire`, as given.
    pub(crate) const fn plain(wire: &'static str, value_name: &'static str, kind: Kind) -> Self {
        Self {
            wire,
            value_name,
            kind,
            resolve: Resolve::Plain,
        }
    }
}

/// How a positional is turned into the path's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolve {
    /// A service, by UUID or name.
    Service,
    /// A Postgres service, by UUID or name.
    Postgres,
    /// As given.
    Plain,
}

/// A query parameter or a body field, as a flag.
#[derive(Debug)]
pub(crate) struct Flag {
    pub(crate) flag: &'static str,
    pub(crate) wire: &'static str,
    pub(crate) kind: Kind,
    pub(crate) value_name: &'static str,
    pub(crate) required: bool,
    /// Repeat the flag for each item.
    pub(crate) list: bool,
    /// The allowed values of an enum.
    pub(crate) values: &'static [&'static str],
    /// `--no-FLAG` sends `null`.
    pub(crate) clearable: bool,
    pub(crate) help: &'static str,
}

/// A flag is made by its kind's constructor, `Flag::text(FLAG, WIRE, HELP)`
/// (optional, given once, the kind's value name), and a modifier per rarer
/// setting: `Flag::text(..).list().required().clearable()`.
impl Flag {
    const fn new(flag: &'static str, wire: &'static str, kind: Kind, help: &'static str) -> Self {
        Self {
            flag,
            wire,
            kind,
            value_name: kind.value_name(),
            required: false,
            list: false,
            values: &[],
            clearable: false,
            help,
        }
    }

    pub(crate) const fn text(flag: &'static str, wire: &'static str, help: &'static str) -> Self {
        Self::new(flag, wire, Kind::Text, help)
    }

    pub(crate) const fn secret(flag: &'static str, wire: &'static str, help: &'static str) -> Self {
        Self::new(flag, wire, Kind::Secret, help)
    }

    pub(crate) const fn boolean(
        flag: &'static str,
        wire: &'static str,
        help: &'static str,
    ) -> Self {
        Self::new(flag, wire, Kind::Boolean, help)
    }

    pub(crate) const fn integer(
        flag: &'static str,
        wire: &'static str,
        help: &'static str,
    ) -> Self {
        Self::new(flag, wire, Kind::Integer, help)
    }

    pub(crate) const fn number(flag: &'static str, wire: &'static str, help: &'static str) -> Self {
        Self::new(flag, wire, Kind::Number, help)
    }

    pub(crate) const fn uuid(flag: &'static str, wire: &'static str, help: &'static str) -> Self {
        Self::new(flag, wire, Kind::Uuid, help)
    }

    pub(crate) const fn time(flag: &'static str, wire: &'static str, help: &'static str) -> Self {
        Self::new(flag, wire, Kind::Time, help)
    }

    pub(crate) const fn date(flag: &'static str, wire: &'static str, help: &'static str) -> Self {
        Self::new(flag, wire, Kind::Date, help)
    }

    pub(crate) const fn json(flag: &'static str, wire: &'static str, help: &'static str) -> Self {
        Self::new(flag, wire, Kind::Json, help)
    }

    pub(crate) const fn map(flag: &'static str, wire: &'static str, help: &'static str) -> Self {
        Self::new(flag, wire, Kind::Map, help)
    }

    /// An enum: one of `values`.
    pub(crate) const fn one_of(
        flag: &'static str,
        wire: &'static str,
        help: &'static str,
        values: &'static [&'static str],
    ) -> Self {
        Self {
            values,
            ..Self::new(flag, wire, Kind::Enum, help)
        }
    }

    pub(crate) const fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    /// Repeated for each item.
    pub(crate) const fn list(self) -> Self {
        Self { list: true, ..self }
    }

    /// With `--no-FLAG` to send `null`.
    pub(crate) const fn clearable(self) -> Self {
        Self {
            clearable: true,
            ..self
        }
    }
}

/// What a flag's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Secret,
    Boolean,
    Integer,
    Number,
    Uuid,
    Time,
    Date,
    Json,
    Enum,
    /// `KEY=VALUE`, repeatable: an object.
    Map,
}

impl Kind {
    /// A flag's value in help: `--limit <INTEGER>`.
    const fn value_name(self) -> &'static str {
        match self {
            Kind::Text => "TEXT",
            Kind::Secret => "SECRET",
            Kind::Boolean => "true|false",
            Kind::Integer => "INTEGER",
            Kind::Number => "NUMBER",
            Kind::Uuid => "UUID",
            Kind::Time => "RFC3339",
            Kind::Date => "YYYY-MM-DD",
            Kind::Json => "JSON",
            Kind::Enum => "VALUE",
            Kind::Map => "KEY=VALUE",
        }
    }
}

/// The generated command `chc AREA VERB`.
pub(crate) fn find(area: &str, verb: &str) -> Option<&'static Cmd> {
    let area = AREAS.iter().find(|a| a.name == area)?;
    area.commands.iter().find(|c| c.verb == verb)
}

/// Global options that take a value, for finding the area in `argv`.
const VALUED_GLOBALS: &[&str] = &[
    "--base-url",
    "--api-key",
    "--api-secret",
    "--org",
    "--output",
    "-o",
];

/// The area typed on the command line (`chc --org X backups list` ->
/// `backups`), or `None`; `help AREA` counts as `AREA`.
fn typed_area(args: &[OsString]) -> Option<String> {
    let mut words = Vec::new();
    let mut skip = false;
    for arg in args.iter().skip(1) {
        let Some(arg) = arg.to_str() else { continue };
        if skip {
            skip = false;
            continue;
        }
        if arg == "--" {
            break;
        }
        if arg.starts_with('-') {
            skip = VALUED_GLOBALS.contains(&arg);
            continue;
        }
        words.push(arg.to_owned());
        if words.len() == 2 {
            break;
        }
    }
    match words.first().map(String::as_str) {
        Some("help") => words.get(1).cloned(),
        other => other.map(str::to_owned),
    }
}

/// `root` with the generated areas added. With a known command typed in
/// `args`, only that area, with its verbs (nothing else would be shown);
/// otherwise every area as a stub, for `chc --help` and clap's suggestions
/// (with its verbs for completions, or when `all`).
pub(crate) fn augment(mut root: clap::Command, args: &[OsString], all: bool) -> clap::Command {
    let typed = typed_area(args);
    let all = all || typed.as_deref() == Some("completions");
    let existing: Vec<String> = root
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    let known = typed.as_deref().is_some_and(|word| {
        existing.iter().any(|name| name == word) || AREAS.iter().any(|area| area.name == word)
    });
    for area in AREAS {
        let populate = all || typed.as_deref() == Some(area.name);
        if known && !all && !populate {
            continue;
        }
        if existing.iter().any(|name| name == area.name) {
            if populate {
                root = root.mut_subcommand(area.name, |sub| add_verbs(sub, area));
            }
        } else {
            let mut sub = clap::Command::new(area.name)
                .about(area.about)
                .subcommand_required(true)
                .arg_required_else_help(true);
            if populate {
                sub = add_verbs(sub, area);
            }
            root = root.subcommand(sub);
        }
    }
    if all || !known {
        let filled = fill_help(&root);
        root = root.help_template(filled);
    }
    root
}

fn add_verbs(mut sub: clap::Command, area: &'static Area) -> clap::Command {
    for cmd in area.commands {
        sub = sub.subcommand(build(cmd));
    }
    sub
}

/// Areas by topic, for `chc --help`.
const GROUPS: &[(&str, &[&str])] = &[
    (
        "Organization",
        &[
            "orgs",
            "members",
            "invitations",
            "roles",
            "keys",
            "activities",
            "billing",
            "notifications",
            "byoc",
        ],
    ),
    (
        "Services",
        &[
            "services",
            "backups",
            "snapshots",
            "settings",
            "query-endpoints",
            "saved-queries",
            "prometheus",
        ],
    ),
    ("Data", &["clickpipes", "clickstack", "postgres", "udfs"]),
];

/// `chc --help`'s text: clap's usage and options around the commands,
/// grouped by [`GROUPS`], the rest under "Other".
pub(crate) fn fill_help(root: &clap::Command) -> String {
    let width = root
        .get_subcommands()
        .map(|c| c.get_name().len())
        .max()
        .unwrap_or(0);
    let line = |text: &mut String, c: &clap::Command| {
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        let _ = writeln!(text, "  {:<width$}  {about}", c.get_name());
    };
    let mut text = String::from("{about-with-newline}\n{usage-heading} {usage}\n\n");
    for (group, areas) in GROUPS {
        text.push_str(group);
        text.push_str(":\n");
        for area in *areas {
            if let Some(sub) = root.find_subcommand(area) {
                line(&mut text, sub);
            }
        }
        text.push('\n');
    }
    text.push_str("Other:\n");
    let grouped = |name: &str| GROUPS.iter().any(|(_, areas)| areas.contains(&name));
    for sub in root.get_subcommands().filter(|c| !grouped(c.get_name())) {
        line(&mut text, sub);
    }
    text.push_str("\n{options}{after-help}");
    text
}

fn build(cmd: &'static Cmd) -> clap::Command {
    let mut marks = String::new();
    if cmd.beta {
        marks.push_str(" [beta]");
    }
    if cmd.deprecated {
        marks.push_str(" [deprecated]");
    }
    let about = format!("{} {}{marks}", cmd.method, cmd.path);
    let mut long = format!(
        "{} {}{marks}\n\nOperation: {}",
        cmd.method, cmd.path, cmd.operation
    );
    if cmd.paged {
        long.push_str(
            "\n\nA list that pages: every page is read, unless --limit (with --cursor or \
             --offset) asks for one.",
        );
    }
    if !cmd.fixed.is_empty() {
        let fixed: Vec<String> = cmd.fixed.iter().map(|(k, v)| format!("{k}={v}")).collect();
        long.push_str(&format!("\n\nSends {}.", fixed.join(", ")));
    }
    if destroys(cmd) {
        long.push_str(
            "\n\nAsks for confirmation on a terminal; without one (scripts, CI) it refuses \
             unless --yes is given.",
        );
    }
    let mut c = clap::Command::new(cmd.verb).about(about).long_about(long);
    for p in cmd.positionals {
        let help = match p.resolve {
            Resolve::Service => "The service: its UUID or its exact name".to_owned(),
            Resolve::Postgres => "The Postgres service: its UUID or its exact name".to_owned(),
            Resolve::Plain => format!("{} ({})", p.wire, kind_word(p.kind)),
        };
        c = c.arg(
            Arg::new(format!("path:{}", p.wire))
                .value_name(p.value_name)
                .required(true)
                .help(help),
        );
    }
    if cmd.pair_field.is_some() {
        c = c
            .arg(
                Arg::new("pair-name")
                    .value_name("NAME")
                    .required(true)
                    .help("The name"),
            )
            .arg(
                Arg::new("pair-value")
                    .value_name("VALUE")
                    .required(true)
                    .help("The value (a number, true, false or text)"),
            );
    }
    for f in cmd.query {
        c = c.arg(flag_arg(f, "Query parameters", f.required));
    }
    for f in cmd.body {
        let mut arg = flag_arg(f, "Body fields", false);
        if f.required {
            arg = arg.required_unless_present("body");
        }
        c = c.arg(arg);
        if f.clearable {
            c = c.arg(
                Arg::new(format!("no-{}", f.flag))
                    .long(format!("no-{}", f.flag))
                    .action(ArgAction::SetTrue)
                    .conflicts_with(f.flag)
                    .help_heading("Body fields")
                    .help(format!("Clear {} (sends null)", f.flag)),
            );
        }
    }
    if cmd.takes_body {
        c = c.arg(
            Arg::new("body")
                .long("body")
                .value_name("@FILE|-|JSON")
                .help_heading("Body fields")
                .help("The body, or its nested parts, as JSON: from a file, standard input or the text; the flags above win over it"),
        );
    }
    if destroys(cmd) {
        c = c.arg(
            Arg::new("yes")
                .long("yes")
                .action(ArgAction::SetTrue)
                .help("Do not ask for confirmation (needed without a terminal)"),
        );
    }
    if waiter(cmd).is_some() {
        c = c
            .arg(
                Arg::new("wait")
                    .long("wait")
                    .action(ArgAction::SetTrue)
                    .help("Wait until the work is done, showing its state on a terminal"),
            )
            .arg(
                Arg::new("timeout")
                    .long("timeout")
                    .requires("wait")
                    .value_name("DURATION")
                    .value_parser(crate::cli::parse_timeout)
                    .help("Give up waiting after this long (90s, 20m, 1h) and exit with code 6; the work goes on"),
            );
    }
    c.arg(
        Arg::new("jq")
            .long("jq")
            .value_name("EXPR")
            .help("Filter the JSON answer with a jq expression (strings print raw)"),
    )
}

/// Whether the command deletes, and so asks for confirmation (`--yes`).
fn destroys(cmd: &Cmd) -> bool {
    cmd.method == "DELETE"
}

/// A value as it would be typed: bare when plain, else quoted.
fn word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@".contains(c));
    if plain {
        value.to_owned()
    } else {
        output::quoted(value)
    }
}

/// The positionals as typed, for messages.
fn typed_positionals(cmd: &Cmd, m: &ArgMatches) -> String {
    let mut words: Vec<String> = cmd
        .positionals
        .iter()
        .filter_map(|p| m.get_one::<String>(&format!("path:{}", p.wire)))
        .map(|v| word(v))
        .collect();
    if cmd.pair_field.is_some() {
        words.extend(m.get_one::<String>("pair-name").map(|v| word(v)));
    }
    words.join(" ")
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "text",
        Kind::Secret => "secret text",
        Kind::Boolean => "true or false",
        Kind::Integer => "integer",
        Kind::Number => "number",
        Kind::Uuid => "UUID",
        Kind::Time => "RFC 3339 time",
        Kind::Date => "date, YYYY-MM-DD",
        Kind::Json => "JSON",
        Kind::Enum => "one of the values listed",
        Kind::Map => "KEY=VALUE, repeatable",
    }
}

fn flag_arg(f: &'static Flag, heading: &'static str, required: bool) -> Arg {
    let mut help = format!("{} [{}", f.help, kind_word(f.kind));
    if f.list {
        help.push_str("; repeat for each item");
    }
    help.push(']');
    let arg = Arg::new(f.flag)
        .long(f.flag)
        .value_name(f.value_name)
        .required(required)
        .help_heading(heading)
        .help(help)
        .action(if f.list || f.kind == Kind::Map {
            ArgAction::Append
        } else {
            ArgAction::Set
        });
    match f.kind {
        Kind::Enum => {
            arg.value_parser(PossibleValuesParser::new(f.values.iter().copied()).map(Value::String))
        }
        kind => arg.value_parser(move |text: &str| parse_value(kind, text)),
    }
}

/// A flag's text as the JSON value it stands for.
fn parse_value(kind: Kind, text: &str) -> Result<Value, String> {
    match kind {
        Kind::Text | Kind::Secret | Kind::Enum => Ok(Value::String(text.to_owned())),
        Kind::Boolean => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("expected true or false".into()),
        },
        Kind::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "expected an integer".into()),
        Kind::Number => text
            .parse::<f64>()
            .ok()
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
            .ok_or_else(|| "expected a number".into()),
        Kind::Uuid => Uuid::parse_str(text)
            .map(|u| Value::String(u.to_string()))
            .map_err(|_| "expected a UUID".into()),
        Kind::Time => chrono::DateTime::parse_from_rfc3339(text)
            .map(|_| Value::String(text.to_owned()))
            .map_err(|_| "expected an RFC 3339 time (2030-01-31T12:00:00Z)".into()),
        Kind::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|_| Value::String(text.to_owned()))
            .map_err(|_| "expected a date (2030-01-31)".into()),
        Kind::Json => serde_json::from_str(text).map_err(|e| format!("not JSON: {e}")),
        Kind::Map => {
            let (key, value) = text
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or("expected KEY=VALUE")?;
            let mut map = Map::new();
            map.insert(key.to_owned(), Value::String(value.to_owned()));
            Ok(Value::Object(map))
        }
    }
}

/// Text read as a number or boolean when it is one, else as text.
fn scalar(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
        _ => Value::String(text.to_owned()),
    }
}

/// The body: `--body` (an object), then the flags over it, then what the
/// verb fixes.
fn body_of(cmd: &Cmd, m: &ArgMatches) -> Result<Option<Value>, CliError> {
    if !cmd.takes_body {
        return Ok(None);
    }
    let given = match m.get_one::<String>("body") {
        Some(source) => Some(api::read_body(source)?),
        None => None,
    };
    let flags_given = cmd.body.iter().any(|f| {
        m.value_source(f.flag) == Some(clap::parser::ValueSource::CommandLine)
            || (f.clearable && m.get_flag(&format!("no-{}", f.flag)))
    }) || !cmd.fixed.is_empty()
        || cmd.pair_field.is_some();
    let mut object = match given {
        None => Map::new(),
        Some(Value::Object(object)) => object,
        Some(other) if !flags_given => return Ok(Some(other)),
        Some(_) => {
            return Err(CliError::Usage(
                "--body must be a JSON object to be merged with the flags".into(),
            ));
        }
    };
    for f in cmd.body {
        if f.clearable && m.get_flag(&format!("no-{}", f.flag)) {
            object.insert(f.wire.to_owned(), Value::Null);
            continue;
        }
        let Some(values) = m.get_many::<Value>(f.flag) else {
            continue;
        };
        let values: Vec<Value> = values.cloned().collect();
        let value = if f.kind == Kind::Map {
            let mut map = Map::new();
            for v in values {
                if let Value::Object(pair) = v {
                    map.extend(pair);
                }
            }
            Value::Object(map)
        } else if f.list {
            Value::Array(values)
        } else {
            values.into_iter().next().unwrap_or(Value::Null)
        };
        object.insert(f.wire.to_owned(), value);
    }
    for (wire, json) in cmd.fixed {
        let value = serde_json::from_str(json).unwrap_or(Value::Null);
        object.insert((*wire).to_owned(), value);
    }
    if let Some(field) = cmd.pair_field {
        let name = m
            .get_one::<String>("pair-name")
            .cloned()
            .unwrap_or_default();
        let value = m
            .get_one::<String>("pair-value")
            .map(|v| scalar(v))
            .unwrap_or(Value::Null);
        let entry = object
            .entry(field.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        match entry {
            Value::Object(map) => {
                map.insert(name, value);
            }
            _ => {
                return Err(CliError::Usage(format!(
                    "--body: `{field}` must be an object"
                )));
            }
        }
    }
    Ok(Some(Value::Object(object)))
}

/// Query values as `chc api` reads them.
fn query_of(cmd: &Cmd, m: &ArgMatches) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for f in cmd.query {
        if let Some(values) = m.get_many::<Value>(f.flag) {
            let texts = values
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            out.insert(f.wire.to_owned(), texts);
        }
    }
    out
}

/// Runs the generated command `cmd` with its matches.
pub(crate) async fn run(
    cmd: &'static Cmd,
    m: &ArgMatches,
    global: &GlobalArgs,
) -> Result<(), CliError> {
    let found = api::find(cmd.operation).ok_or_else(|| {
        CliError::Other(format!("operation {} is not in the table", cmd.operation))
    })?;
    let yes = m.get_flag_safe("yes");
    if destroys(cmd) {
        refuse_unconfirmed(
            yes,
            &format!(
                "what `chc {} {} {}` names",
                cmd.area,
                cmd.verb,
                typed_positionals(cmd, m)
            ),
            "it",
        )?;
    }
    let body = body_of(cmd, m)?;
    // The body is checked against the request type before anything is sent.
    (found.check_body)(body.clone().unwrap_or(Value::Null))?;
    let query = query_of(cmd, m);
    let jq = match m.get_one::<String>("jq") {
        Some(expr) => Some(Jq::compile(expr)?),
        None => None,
    };
    let session = Session::open(global)?;
    let org = session.org().await?.value;
    let mut path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if cmd.path.contains("{organizationId}") {
        path.insert("organizationId".into(), vec![org.to_string()]);
    }
    for p in cmd.positionals {
        let given = m
            .get_one::<String>(&format!("path:{}", p.wire))
            .cloned()
            .unwrap_or_default();
        let value = match p.resolve {
            Resolve::Service => resolve(&session, org, &given, NameLookup::SERVICE).await?,
            Resolve::Postgres => resolve(&session, org, &given, NameLookup::POSTGRES).await?,
            Resolve::Plain => given,
        };
        let _ = p.kind;
        path.insert(p.wire.to_owned(), vec![value]);
    }
    if destroys(cmd) && !yes {
        let mut request = format!("{} {}", cmd.method, cmd.path);
        for p in cmd.positionals {
            if let Some(value) = path.get(p.wire).and_then(|v| v.last()) {
                request.push_str(&format!(", {}={}", p.wire, output::clean(value)));
            }
        }
        let question = format!(
            "Run `chc {} {} {}` ({request})? What it deletes cannot be restored.",
            cmd.area,
            cmd.verb,
            typed_positionals(cmd, m),
        );
        if !confirm_delete(&question)? {
            return Err(CliError::Refused(
                "not confirmed; nothing was deleted".into(),
            ));
        }
    }
    let one_page = PAGE_PARAMETERS.iter().any(|name| query.contains_key(*name));
    let call = match found.all_pages {
        Some(all_pages) if !one_page => all_pages,
        _ => found.call,
    };
    let inputs = Inputs {
        path: path.clone(),
        query,
        body,
    };
    let outcome = wait(
        &format!("Calling {}", cmd.operation),
        call(session.client.clone(), inputs),
    )
    .await?;
    let value = match outcome {
        Outcome::Text(text) => {
            print!("{text}");
            return Ok(());
        }
        Outcome::Json(value, note) => {
            if let Some(cursor) = note.next_cursor.filter(|c| !c.is_empty()) {
                eprintln!(
                    "nextCursor: {} (the next page: --cursor {})",
                    output::clean(&cursor),
                    output::clean(&cursor)
                );
            }
            value
        }
    };
    show(cmd, &value, global.output, jq.as_ref())?;
    if m.get_flag_safe("wait") {
        let timeout = m.get_one::<Duration>("timeout").copied();
        wait_for(cmd, &session, org, &path, &value, timeout).await?;
    }
    Ok(())
}

trait SafeFlag {
    fn get_flag_safe(&self, id: &str) -> bool;
}

impl SafeFlag for ArgMatches {
    fn get_flag_safe(&self, id: &str) -> bool {
        matches!(self.try_get_one::<bool>(id), Ok(Some(true)))
    }
}

/// How a resource is found by name.
struct NameLookup {
    list: &'static str,
    what: &'static str,
    listed_by: &'static str,
}

impl NameLookup {
    const SERVICE: NameLookup = NameLookup {
        list: "instanceGetList",
        what: "service",
        listed_by: "chc services list",
    };
    const POSTGRES: NameLookup = NameLookup {
        list: "postgresServiceGetList",
        what: "Postgres service",
        listed_by: "chc postgres list",
    };
}

/// A UUID as given; a name looked up in the list, exactly, and unique.
async fn resolve(
    session: &Session,
    org: Uuid,
    given: &str,
    lookup: NameLookup,
) -> Result<String, CliError> {
    if Uuid::parse_str(given).is_ok() {
        return Ok(given.to_owned());
    }
    let found = api::find(lookup.list)
        .ok_or_else(|| CliError::Other(format!("no operation {}", lookup.list)))?;
    let mut path = BTreeMap::new();
    path.insert("organizationId".to_owned(), vec![org.to_string()]);
    let inputs = Inputs {
        path,
        query: BTreeMap::new(),
        body: None,
    };
    let listed = match wait(
        &format!("Listing {}s", lookup.what),
        (found.call)(session.client.clone(), inputs),
    )
    .await?
    {
        Outcome::Json(value, _) => value,
        Outcome::Text(_) => Value::Null,
    };
    let ids: Vec<String> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item.get("name").and_then(Value::as_str) == Some(given))
        .filter_map(|item| item.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    match ids.as_slice() {
        [] => Err(CliError::NotFound(format!(
            "no {} in organization {org} has the UUID or name {} (`{}` shows them)",
            lookup.what,
            output::quoted(given),
            lookup.listed_by
        ))),
        [one] => Ok(one.clone()),
        several => Err(CliError::Usage(format!(
            "{} names {} {}s; give one by its UUID: {}",
            output::quoted(given),
            several.len(),
            lookup.what,
            several.join(", ")
        ))),
    }
}

/// Prints an answer: JSON (filtered by `--jq`), a table for a list, fields
/// for one resource; then the warning when it holds a secret.
fn show(cmd: &Cmd, value: &Value, format: Output, jq: Option<&Jq>) -> Result<(), CliError> {
    let secrets = secrets_in(cmd, value);
    if let Some(jq) = jq {
        let text = jq.run(value)?;
        print_text(&text)?;
    } else if value.is_null() {
        if format == Output::Table {
            eprintln!("Done: {} {}.", cmd.area, cmd.verb);
        }
    } else if format == Output::Json {
        print_json(value)?;
    } else {
        print_text(&render_table(value))?;
    }
    if !secrets.is_empty() {
        let names = secrets.join(", ");
        let (verb, pronoun) = if secrets.len() == 1 {
            ("is", "it")
        } else {
            ("are", "them")
        };
        let warning = format!(
            "Warning: {names} {verb} shown only this once and cannot be retrieved again. Store {pronoun} now."
        );
        if format == Output::Table && jq.is_none() {
            print_text(&format!("\n{warning}\n"))?;
        } else {
            eprintln!("{warning}");
        }
    }
    Ok(())
}

/// The secret properties with a value in the answer.
fn secrets_in(cmd: &Cmd, value: &Value) -> Vec<&'static str> {
    fn walk(value: &Value, name: &str) -> bool {
        match value {
            Value::Object(map) => map.iter().any(|(k, v)| {
                (k == name && matches!(v, Value::String(s) if !s.is_empty())) || walk(v, name)
            }),
            Value::Array(items) => items.iter().any(|v| walk(v, name)),
            _ => false,
        }
    }
    cmd.secrets
        .iter()
        .copied()
        .filter(|name| walk(value, name))
        .collect()
}

/// Columns of a list: the ID, the name, the state or status and the
/// creation time, where the items have them; otherwise the first scalar
/// fields.
fn columns(items: &[Value]) -> Vec<String> {
    const PREFERRED: &[&[&str]] = &[
        &["id"],
        &["name"],
        &["state", "status"],
        &["createdAt", "created", "creationDate", "createdDate"],
    ];
    let has = |key: &str| items.iter().any(|item| item.get(key).is_some());
    let mut out: Vec<String> = PREFERRED
        .iter()
        .filter_map(|choices| choices.iter().find(|k| has(k)).map(|k| (*k).to_owned()))
        .collect();
    if out.len() < 2 {
        let first = items.iter().find_map(Value::as_object);
        for (key, value) in first.into_iter().flatten() {
            if out.len() >= 5 {
                break;
            }
            if !value.is_object() && !value.is_array() && !out.contains(key) {
                out.push(key.clone());
            }
        }
    }
    out
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            let text = other.to_string();
            if text.chars().count() > 60 {
                format!("{}...", text.chars().take(57).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn header(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// A list as a table, one resource as fields, anything else as JSON.
fn render_table(value: &Value) -> String {
    match value {
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            let cols = columns(items);
            let headers: Vec<String> = cols.iter().map(|c| header(c)).collect();
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|item| cols.iter().map(|c| cell(item.get(c))).collect())
                .collect();
            output::table(&headers, &rows)
        }
        Value::Array(items) if items.is_empty() => String::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| format!("{}\n", output::clean(&cell(Some(item)))))
            .collect(),
        Value::Object(map) => {
            let pairs: Vec<(&str, String)> = map
                .iter()
                .map(|(k, v)| (k.as_str(), full_cell(v)))
                .collect();
            output::fields(&pairs)
        }
        other => format!("{}\n", output::clean(&cell(Some(other)))),
    }
}

fn full_cell(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A compiled `--jq` filter.
pub(crate) struct Jq {
    filter: jaq_core::Filter<jaq_core::data::JustLut<jaq_json::Val>>,
}

impl Jq {
    /// Compiles `expr`; a syntax error is a usage error.
    pub(crate) fn compile(expr: &str) -> Result<Self, CliError> {
        use jaq_core::load::{Arena, File, Loader};
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let program = File {
            code: expr,
            path: (),
        };
        let modules = loader
            .load(&arena, program)
            .map_err(|_| CliError::Usage(format!("--jq: cannot parse `{expr}`")))?;
        let filter = jaq_core::Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|_| {
                CliError::Usage(format!("--jq: cannot compile `{expr}` (an unknown name?)"))
            })?;
        Ok(Self { filter })
    }

    /// Every output of the filter on `value`, a line each; strings raw.
    pub(crate) fn run(&self, value: &Value) -> Result<String, CliError> {
        use jaq_core::{Ctx, Vars, unwrap_valr};
        let text = serde_json::to_string(value).map_err(|e| CliError::Other(e.to_string()))?;
        let input = jaq_json::read::parse_single(text.as_bytes())
            .map_err(|e| CliError::Other(format!("--jq: {e}")))?;
        let ctx =
            Ctx::<jaq_core::data::JustLut<jaq_json::Val>>::new(&self.filter.lut, Vars::new([]));
        let mut out = String::new();
        for item in self.filter.id.run((ctx, input)).map(unwrap_valr) {
            let item = item.map_err(|e| CliError::Other(format!("--jq: {e}")))?;
            let printed = item.to_string();
            match serde_json::from_str::<Value>(&printed) {
                Ok(Value::String(s)) => out.push_str(&s),
                _ => out.push_str(&printed),
            }
            out.push('\n');
        }
        Ok(out)
    }
}

/// What `--wait` waits for after an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiter {
    /// The Postgres service (of the path, or of the answer) to run.
    PostgresRunning { from_answer: bool, restore: bool },
    /// The Postgres service of the path to be gone.
    PostgresGone,
    /// The ClickPipe (of the path, or of the answer) to reach a state.
    Pipe { from_answer: bool, stopped: bool },
    /// The ClickPipe of the path to be gone.
    PipeGone,
    /// The reverse private endpoint of the answer to be ready.
    Endpoint,
    /// The function of the path to be deployed on the service of the path.
    UdfDeployed,
    /// The function of the path to be detached from the service of the path.
    UdfDetached,
}

fn waiter(cmd: &Cmd) -> Option<Waiter> {
    use clickhouse_cloud_client::types::operation::Operation as _;
    use clickhouse_cloud_client::types::ops;
    let id = cmd.operation;
    Some(match id {
        _ if id == ops::PostgresServiceCreate::ID => Waiter::PostgresRunning {
            from_answer: true,
            restore: false,
        },
        _ if id == ops::PostgresInstanceCreateReadReplica::ID => Waiter::PostgresRunning {
            from_answer: true,
            restore: false,
        },
        _ if id == ops::PostgresInstanceRestore::ID => Waiter::PostgresRunning {
            from_answer: true,
            restore: true,
        },
        _ if id == ops::PostgresServicePatchState::ID => Waiter::PostgresRunning {
            from_answer: false,
            restore: false,
        },
        _ if id == ops::PostgresServiceDelete::ID => Waiter::PostgresGone,
        _ if id == ops::ClickPipeCreate::ID => Waiter::Pipe {
            from_answer: true,
            stopped: false,
        },
        _ if id == ops::ClickPipeStateUpdate::ID => Waiter::Pipe {
            from_answer: false,
            stopped: cmd.fixed.iter().any(|(_, v)| v.contains("stop")),
        },
        _ if id == ops::ClickPipeDelete::ID => Waiter::PipeGone,
        _ if id == ops::ClickPipeReversePrivateEndpointCreate::ID => Waiter::Endpoint,
        _ if id == ops::UdfAttach::ID => Waiter::UdfDeployed,
        _ if id == ops::UdfDetach::ID => Waiter::UdfDetached,
        _ => return None,
    })
}

/// The `id` of an answer (or of the first object in it that has one).
fn answer_id(value: &Value) -> Option<Uuid> {
    if let Some(id) = value.get("id").and_then(Value::as_str) {
        return Uuid::parse_str(id).ok();
    }
    value
        .as_object()?
        .values()
        .find_map(|v| v.get("id").and_then(Value::as_str))
        .and_then(|id| Uuid::parse_str(id).ok())
}

fn path_id(path: &BTreeMap<String, Vec<String>>, name: &str) -> Result<Uuid, CliError> {
    path.get(name)
        .and_then(|v| v.last())
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| CliError::Usage(format!("--wait needs {name} as a UUID")))
}

/// `chc AREA VERB VALUES`: the generated command of `get_operation` (from
/// the command table), its positionals filled from `values`; what shows a
/// resource a wait follows. `chc api` when no generated command has it.
fn check_command(get_operation: &str, values: &[(&str, String)]) -> String {
    let value = |wire: &str| values.iter().find(|(w, _)| *w == wire).map(|(_, v)| v);
    match commands().find(|c| c.operation == get_operation) {
        Some(cmd) => {
            let mut text = format!("chc {} {}", cmd.area, cmd.verb);
            for p in cmd.positionals {
                text.push(' ');
                match value(p.wire) {
                    Some(id) => text.push_str(&word(id)),
                    None => text.push_str(p.value_name),
                }
            }
            text
        }
        None => {
            let mut text = format!("chc api {get_operation}");
            for (wire, id) in values {
                text.push_str(&format!(" --path {wire}={id}"));
            }
            text
        }
    }
}

/// A failed wait, with the command that shows the resource in its hint.
fn waited(check: String) -> impl FnOnce(clickhouse_cloud_client::Error) -> CliError {
    move |error| CliError::Wait {
        error: Box::new(error),
        check,
    }
}

async fn wait_for(
    cmd: &Cmd,
    session: &Session,
    org: Uuid,
    path: &BTreeMap<String, Vec<String>>,
    answer: &Value,
    timeout: Option<Duration>,
) -> Result<(), CliError> {
    let Some(waiter) = waiter(cmd) else {
        return Ok(());
    };
    let from_answer = || {
        answer_id(answer).ok_or_else(|| CliError::Other("the answer has no ID to wait for".into()))
    };
    use clickhouse_cloud_client::types::operation::Operation as _;
    use clickhouse_cloud_client::types::ops;
    let postgres = |id: Uuid| {
        check_command(
            ops::PostgresServiceGet::ID,
            &[("postgresId", id.to_string())],
        )
    };
    let pipe = |service: Uuid, id: Uuid| {
        check_command(
            ops::ClickPipeGet::ID,
            &[
                ("serviceId", service.to_string()),
                ("clickPipeId", id.to_string()),
            ],
        )
    };
    let attachment = |function: &str, service: Uuid| {
        check_command(
            ops::UdfAttachmentGet::ID,
            &[
                ("functionName", function.to_owned()),
                ("serviceId", service.to_string()),
            ],
        )
    };
    let function = || {
        path.get("functionName")
            .and_then(|v| v.last())
            .cloned()
            .ok_or_else(|| CliError::Usage("--wait needs functionName".into()))
    };
    let client = &session.client;
    let done = match waiter {
        Waiter::PostgresRunning {
            from_answer: new,
            restore,
        } => {
            let id = if new {
                from_answer()?
            } else {
                path_id(path, "postgresId")?
            };
            let mut w = client
                .postgres(org)
                .wait_until(id, PgStateProperty::Running);
            if restore {
                w = w.budget(clickhouse_cloud_client::POSTGRES_RESTORE_BUDGET);
            }
            let pg = follow(&format!("Postgres service {id}"), w, timeout)
                .await
                .map_err(waited(postgres(id)))?;
            let state = pg.state.map(|s| s.as_str().to_owned()).unwrap_or_default();
            format!("Postgres service {id} is {state}.")
        }
        Waiter::PostgresGone => {
            let id = path_id(path, "postgresId")?;
            follow(
                &format!("Postgres service {id}"),
                client.postgres(org).wait_until_gone(id),
                timeout,
            )
            .await
            .map_err(waited(postgres(id)))?;
            format!("Postgres service {id} is gone.")
        }
        Waiter::Pipe {
            from_answer: new,
            stopped,
        } => {
            let service = path_id(path, "serviceId")?;
            let id = if new {
                from_answer()?
            } else {
                path_id(path, "clickPipeId")?
            };
            let target = if stopped {
                ClickPipeState::Stopped
            } else {
                ClickPipeState::Running
            };
            let pipe = follow(
                &format!("ClickPipe {id}"),
                client.clickpipes(org).wait_until(service, id, target),
                timeout,
            )
            .await
            .map_err(waited(pipe(service, id)))?;
            let state = pipe
                .state
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            format!("ClickPipe {id} is {state}.")
        }
        Waiter::PipeGone => {
            let service = path_id(path, "serviceId")?;
            let id = path_id(path, "clickPipeId")?;
            follow(
                &format!("ClickPipe {id}"),
                client.clickpipes(org).wait_until_gone(service, id),
                timeout,
            )
            .await
            .map_err(waited(pipe(service, id)))?;
            format!("ClickPipe {id} is gone.")
        }
        Waiter::Endpoint => {
            let service = path_id(path, "serviceId")?;
            let id = from_answer()?;
            let endpoint = follow(
                &format!("reverse private endpoint {id}"),
                client
                    .clickpipes(org)
                    .wait_until_endpoint_ready(service, id),
                timeout,
            )
            .await
            .map_err(waited(check_command(
                ops::ClickPipeReversePrivateEndpointGet::ID,
                &[
                    ("serviceId", service.to_string()),
                    ("reversePrivateEndpointId", id.to_string()),
                ],
            )))?;
            let status = endpoint
                .status
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            format!("Reverse private endpoint {id} is {status}.")
        }
        Waiter::UdfDeployed => {
            let service = path_id(path, "serviceId")?;
            let name = function()?;
            let deployed = follow(
                &format!("UDF {} on service {service}", output::clean(&name)),
                client.udfs(org).wait_until_deployed(name.as_str(), service),
                timeout,
            )
            .await
            .map_err(waited(attachment(&name, service)))?;
            let version = deployed
                .version
                .map_or_else(|| "-".to_owned(), |v| v.to_string());
            format!(
                "UDF {} version {version} is deployed on service {service}.",
                output::clean(&name)
            )
        }
        Waiter::UdfDetached => {
            let service = path_id(path, "serviceId")?;
            let name = function()?;
            follow(
                &format!("UDF {} on service {service}", output::clean(&name)),
                client.udfs(org).wait_until_detached(name.as_str(), service),
                timeout,
            )
            .await
            .map_err(waited(attachment(&name, service)))?;
            format!(
                "UDF {} is detached from service {service}.",
                output::clean(&name)
            )
        }
    };
    eprintln!("{done}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_area_is_found_past_global_options() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            typed_area(&args(&[
                "chc", "--org", "x", "-o", "json", "backups", "list"
            ]))
            .as_deref(),
            Some("backups")
        );
        assert_eq!(
            typed_area(&args(&["chc", "help", "postgres"])).as_deref(),
            Some("postgres")
        );
        assert_eq!(typed_area(&args(&["chc", "--help"])), None);
    }

    #[test]
    fn columns_follow_the_rule() {
        let items = vec![
            serde_json::json!({"name": "a", "id": "1", "state": "running", "createdAt": "t", "x": 1}),
        ];
        assert_eq!(columns(&items), ["id", "name", "state", "createdAt"]);
        let items = vec![serde_json::json!({"quota": 1, "used": 2, "nested": {}})];
        assert_eq!(columns(&items), ["quota", "used"]);
    }

    #[test]
    fn jq_filters_and_prints_strings_raw() {
        let jq = Jq::compile(".[] | .name").unwrap();
        let out = jq
            .run(&serde_json::json!([{"name": "a"}, {"name": "b"}]))
            .unwrap();
        assert_eq!(out, "a\nb\n");
        assert!(matches!(Jq::compile(".[").err(), Some(CliError::Usage(_))));
        assert_eq!(
            Jq::compile("map(.n) | add")
                .unwrap()
                .run(&serde_json::json!([{"n": 1}, {"n": 2}]))
                .unwrap(),
            "3\n"
        );
    }

    #[test]
    fn every_generated_command_builds_and_the_paged_list_is_the_tables() {
        let root = augment(
            <crate::cli::Cli as clap::CommandFactory>::command(),
            &[OsString::from("chc"), OsString::from("completions")],
            true,
        );
        let mut root = root;
        root.build();
        for area in root.get_subcommands() {
            for verb in area.get_subcommands() {
                verb.clone().debug_assert();
            }
        }
        for area in AREAS {
            assert!(
                area.commands.iter().all(|c| c.area == area.name),
                "{}",
                area.name
            );
        }
        for cmd in commands() {
            let area = root.find_subcommand(cmd.area).unwrap();
            assert!(
                area.find_subcommand(cmd.verb).is_some(),
                "{} {}",
                cmd.area,
                cmd.verb
            );
        }
    }
}
