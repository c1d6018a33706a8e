//! `chc api OPERATION_ID ...`: any operation of the spec by its
//! `operationId`, through the client (auth, limits, retries, typed errors).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Read as _;
use std::pin::Pin;

use clickhouse_cloud_client::Client;
use clickhouse_cloud_client::types::operation::{
    Operation, OperationVisitor, Paged, ResponseFormat, decode_path,
};
use clickhouse_cloud_client::types::{Request, ops};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::cli::{ApiArgs, GlobalArgs};
use crate::context::{Session, wait};
use crate::error::CliError;
use crate::output::{self, print_json, print_text, table};

/// Runs `chc api`.
pub(crate) async fn run(args: ApiArgs, global: &GlobalArgs) -> Result<(), CliError> {
    if args.list {
        if global.output == crate::cli::Output::Json {
            return print_json(&list_json());
        }
        return print_text(&list());
    }
    let id = args.operation.as_deref().ok_or_else(|| {
        CliError::Usage("name an operation (its operationId), or pass --list".into())
    })?;
    let mut finder = Finder { id, found: None };
    ops::visit_all(&mut finder);
    let Some(found) = finder.found else {
        return Err(CliError::Usage(unknown_operation(id)));
    };
    let mut path_values = pairs(&args.path, "--path")?;
    let query = pairs(&args.query, "--query")?;
    let body = match &args.body {
        None => None,
        Some(source) => Some(read_body(source)?),
    };
    let names = template_names(found.path);
    for name in path_values.keys() {
        if !names.contains(&name.as_str()) {
            return Err(CliError::Usage(format!(
                "{id} has no path parameter `{name}`; it takes {}",
                describe_names(&names)
            )));
        }
    }
    let session = Session::open(global)?;
    if names.contains(&"organizationId") && !path_values.contains_key("organizationId") {
        let org = session.org().await?.value;
        path_values.insert("organizationId".into(), vec![org.to_string()]);
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !path_values.contains_key(*n))
        .collect();
    if !missing.is_empty() {
        return Err(CliError::Usage(format!(
            "{id} ({} {}) needs --path {}",
            found.method,
            found.path,
            missing
                .iter()
                .map(|n| format!("{n}=VALUE"))
                .collect::<Vec<_>>()
                .join(" --path ")
        )));
    }
    let inputs = Inputs {
        path: path_values,
        query,
        body,
    };
    // A list that pages is read to its end unless one page is asked for.
    let one_page = PAGE_PARAMETERS
        .iter()
        .any(|name| inputs.query.contains_key(*name));
    let call = match found.all_pages {
        Some(all_pages) if !one_page => all_pages,
        _ => found.call,
    };
    let outcome = wait(
        &format!("Calling {id}"),
        call(session.client.clone(), inputs),
    )
    .await?;
    match outcome {
        Outcome::Json(Value::Null, _) => Ok(()),
        Outcome::Json(value, note) => {
            print_json(&value)?;
            if let Some(total) = note.total_count {
                eprintln!("totalCount: {total}");
            }
            if let Some(cursor) = note.next_cursor.filter(|cursor| !cursor.is_empty()) {
                eprintln!(
                    "nextCursor: {} (the next page: --query cursor={})",
                    output::clean(&cursor),
                    output::clean(&cursor)
                );
            }
            Ok(())
        }
        Outcome::Text(text) => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Query parameters that ask for one page of a list.
pub(crate) const PAGE_PARAMETERS: [&str; 3] = ["limit", "cursor", "offset"];

#[cfg(test)]
use crate::generated::PAGED;
pub(crate) use crate::generated::all_pages_call;

/// The call that reads every page of the paged operation `O`.
pub(crate) fn paged_call<O: Paged<Body = ()>>() -> Call {
    Box::new(|client, inputs| Box::pin(call_all_pages::<O>(client, inputs)))
}

/// Every page of a list, through the client's paging (which stops on a
/// repeated cursor): the items of all pages as one JSON array.
async fn call_all_pages<O: Paged<Body = ()>>(
    client: Client,
    inputs: Inputs,
) -> Result<Outcome, CliError> {
    let (path, query, ()) = typed_inputs::<O>(inputs)?;
    let items = client.items::<O>(path, query).all().await?;
    let value = serde_json::to_value(&items).map_err(|e| CliError::Other(e.to_string()))?;
    Ok(Outcome::Json(value, PageNote::default()))
}

/// What a call printed.
pub(crate) enum Outcome {
    /// The result, and for a page of a list what the service said about
    /// the rest.
    Json(Value, PageNote),
    Text(String),
}

/// What one page of a list says about the others.
#[derive(Debug, Default)]
pub(crate) struct PageNote {
    /// The cursor of the next page (`None` on the last page).
    pub(crate) next_cursor: Option<String>,
    /// How many items all pages hold, when the service says.
    pub(crate) total_count: Option<i64>,
}

/// The values given on the command line.
pub(crate) struct Inputs {
    pub(crate) path: BTreeMap<String, Vec<String>>,
    pub(crate) query: BTreeMap<String, Vec<String>>,
    pub(crate) body: Option<Value>,
}

pub(crate) type Call =
    Box<dyn FnOnce(Client, Inputs) -> Pin<Box<dyn Future<Output = Result<Outcome, CliError>>>>>;

/// The operation found in the table, and how to call it.
pub(crate) struct Found {
    method: &'static str,
    path: &'static str,
    /// One call: one page of a list.
    pub(crate) call: Call,
    /// Every page of a list, for an operation that pages.
    pub(crate) all_pages: Option<Call>,
    /// Checks a body against the operation's request type, before anything is sent.
    pub(crate) check_body: fn(Value) -> Result<(), CliError>,
}

/// The operation `id` of the table, and how to call it.
pub(crate) fn find(id: &str) -> Option<Found> {
    let mut finder = Finder { id, found: None };
    ops::visit_all(&mut finder);
    finder.found
}

struct Finder<'a> {
    id: &'a str,
    found: Option<Found>,
}

impl OperationVisitor for Finder<'_> {
    fn visit<O: Operation>(&mut self) {
        if O::ID != self.id {
            return;
        }
        self.found = Some(Found {
            method: O::METHOD.as_str(),
            path: O::PATH,
            call: Box::new(|client, inputs| Box::pin(call::<O>(client, inputs))),
            all_pages: all_pages_call(O::ID),
            check_body: |value| decode_body::<O::Body>(value, O::ID).map(drop),
        });
    }
}

/// Builds the typed request from the inputs and sends it.
async fn call<O: Operation>(client: Client, inputs: Inputs) -> Result<Outcome, CliError> {
    let (path, query, body) = typed_inputs::<O>(inputs)?;
    let response = client
        .send(Request::<O>::with_parts(path, query, body))
        .await?;
    let note = PageNote {
        next_cursor: response.next_cursor().map(str::to_owned),
        total_count: response.total_count(),
    };
    let output = response.into_result();
    let value = serde_json::to_value(&output).map_err(|e| CliError::Other(e.to_string()))?;
    Ok(match (O::RESPONSE, value) {
        (ResponseFormat::Text, Value::String(text)) => Outcome::Text(text),
        (_, value) => Outcome::Json(value, note),
    })
}

/// The path, query and body of one request of operation `O`.
type Parts<O> = (
    <O as Operation>::Path,
    <O as Operation>::Query,
    <O as Operation>::Body,
);

/// The path, query and body of operation `O`, read from the inputs; a
/// value that does not fit is a usage error.
fn typed_inputs<O: Operation>(inputs: Inputs) -> Result<Parts<O>, CliError> {
    let rendered = render_template(O::PATH, &inputs.path);
    let path: O::Path = match decode_path(O::PATH, &rendered) {
        Some(Ok(path)) => path,
        Some(Err(error)) => {
            return Err(CliError::Usage(format!(
                "--path: {}",
                clickhouse_cloud_client::transport::safe_decode_message(&error)
            )));
        }
        None => {
            return Err(CliError::Usage(format!(
                "--path values do not fit {}",
                O::PATH
            )));
        }
    };
    let query: O::Query = decode_flat(&inputs.query)
        .map_err(|message| CliError::Usage(format!("--query {message} (for {})", O::ID)))?;
    let body: O::Body = match inputs.body {
        Some(value) => decode_body(value, O::ID)?,
        None => serde_json::from_value(Value::Null).map_err(|_| {
            CliError::Usage(format!(
                "{} takes a JSON body: --body @FILE, - or JSON",
                O::ID
            ))
        })?,
    };
    Ok((path, query, body))
}

/// A body decoded as the operation's type, naming the JSON path of a
/// mismatch (and never a value from it).
fn decode_body<T: DeserializeOwned>(value: Value, id: &str) -> Result<T, CliError> {
    if std::any::type_name::<T>() == "()" && !value.is_null() {
        return Err(CliError::Usage(format!("{id} takes no body")));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = clickhouse_cloud_client::transport::safe_decode_message(error.inner());
        CliError::Usage(format!("--body: at `{path}`: {message}"))
    })
}

/// `NAME=VALUE` pairs, repeated names collected in order.
fn pairs(items: &[String], flag: &str) -> Result<BTreeMap<String, Vec<String>>, CliError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in items {
        let (name, value) = item
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| CliError::Usage(format!("{flag} takes NAME=VALUE, not `{item}`")))?;
        out.entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    Ok(out)
}

/// The template with the given values put in (percent-encoding is left to
/// the typed request).
fn render_template(template: &str, values: &BTreeMap<String, Vec<String>>) -> String {
    let mut out = template.to_owned();
    for (name, list) in values {
        if let Some(value) = list.last() {
            out = out.replace(&format!("{{{name}}}"), &escape_segment(value));
        }
    }
    out
}

/// Escapes what would split a path segment, so `decode_path` reads it back.
fn escape_segment(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('/', "%2F")
        .replace('?', "%3F")
        .replace('#', "%23")
}

fn template_names(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

fn describe_names(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Reads the query values into the operation's query type. Each value is
/// first the text; where the type wants something else at that name, the
/// text read as a number or boolean, then as a list (a name given several
/// times starts as a list).
fn decode_flat<T: DeserializeOwned>(values: &BTreeMap<String, Vec<String>>) -> Result<T, String> {
    if values.is_empty()
        && let Ok(none) = serde_json::from_value::<T>(Value::Null)
    {
        return Ok(none);
    }
    let scalar = |text: &str, coerce: bool| {
        let parsed = serde_json::from_str::<Value>(text)
            .ok()
            .filter(|v| coerce && (v.is_number() || v.is_boolean()));
        parsed.unwrap_or_else(|| Value::String(text.to_owned()))
    };
    // Per name, the forms still to try, most likely first.
    let mut forms: BTreeMap<&str, Vec<Value>> = values
        .iter()
        .map(|(name, list)| {
            let texts = Value::Array(list.iter().map(|t| scalar(t, false)).collect());
            let coerced = Value::Array(list.iter().map(|t| scalar(t, true)).collect());
            let mut forms = Vec::new();
            if let [single] = list.as_slice() {
                forms.push(scalar(single, false));
                forms.push(scalar(single, true));
            }
            forms.push(texts);
            forms.push(coerced);
            forms.dedup();
            forms.reverse();
            (name.as_str(), forms)
        })
        .collect();
    // Per name, what the first (most likely) form was refused for: the
    // message worth showing once every form has been refused.
    let mut first_refusal: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let object: Map<String, Value> = forms
            .iter()
            .filter_map(|(name, f)| Some(((*name).to_owned(), f.last()?.clone())))
            .collect();
        let error = match serde_path_to_error::deserialize::<_, T>(Value::Object(object)) {
            Ok(decoded) => return Ok(decoded),
            Err(error) => error,
        };
        let path = error.path().to_string();
        let name = path.split(['.', '[']).next().unwrap_or_default();
        let message = clickhouse_cloud_client::transport::safe_decode_message(error.inner());
        let message = first_refusal.entry(name.to_owned()).or_insert(message);
        match forms.get_mut(name) {
            Some(list) if list.len() > 1 => {
                list.pop();
            }
            _ if name.is_empty() || name == "?" => return Err(message.clone()),
            _ => return Err(format!("`{name}` {}", expectation(message))),
        }
    }
}

/// What a refused query value should have been, in words: `expected an
/// integer` for serde's `invalid type: string, expected i64`.
fn expectation(message: &str) -> String {
    let Some((_, expected)) = message.split_once("expected ") else {
        return format!("is refused: {message}");
    };
    let expected = expected.trim();
    let words = match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        other => return format!("expects {other}"),
    };
    format!("expects {words}")
}

/// `--body @FILE`, `-` (standard input) or the JSON itself.
pub(crate) fn read_body(source: &str) -> Result<Value, CliError> {
    let (text, origin) = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Usage(format!("--body -: cannot read standard input: {e}")))?;
        (text, "standard input".to_owned())
    } else if let Some(file) = source.strip_prefix('@') {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::Usage(format!("--body @{file}: {e}")))?;
        (text, file.to_owned())
    } else {
        (source.to_owned(), "--body".to_owned())
    };
    serde_json::from_str(&text).map_err(|e| {
        CliError::Usage(format!(
            "{origin} is not JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// The operations, for `chc api --list`.
fn list() -> String {
    struct Lister(Vec<Vec<String>>);
    impl OperationVisitor for Lister {
        fn visit<O: Operation>(&mut self) {
            let mut marks = Vec::new();
            if O::BETA {
                marks.push("beta");
            }
            if O::DEPRECATED {
                marks.push("deprecated");
            }
            self.0.push(vec![
                O::ID.to_owned(),
                O::METHOD.as_str().to_owned(),
                O::PATH.to_owned(),
                commands_of(O::ID).join(", "),
                marks.join(", "),
            ]);
        }
    }
    let mut lister = Lister(Vec::new());
    ops::visit_all(&mut lister);
    lister.0.sort();
    table(
        &["OPERATION", "METHOD", "PATH", "COMMAND", "NOTE"],
        &lister.0,
    )
}

/// The `chc` commands that send operation `id`: generated or hand-written.
fn commands_of(id: &str) -> Vec<String> {
    let generated = crate::commands::generated::commands()
        .filter(|c| c.operation == id)
        .map(|c| format!("chc {} {}", c.area, c.verb));
    let hand = crate::generated::HAND_WRITTEN
        .iter()
        .chain(crate::generated::WORKFLOWS)
        .filter(|(_, ids)| ids.contains(&id))
        .map(|(name, _)| format!("chc {name}"));
    generated.chain(hand).collect()
}

/// `chc api --list -o json`: every operation with the commands that send
/// it, and of each generated command what it takes.
fn list_json() -> Value {
    let mut out = Vec::new();
    for id in ops::ALL_IDS {
        let Some(found) = find(id) else { continue };
        let generated: Vec<Value> = crate::commands::generated::commands()
            .filter(|c| c.operation == *id)
            .map(|c| {
                serde_json::json!({
                    "area": c.area,
                    "verb": c.verb,
                    "positionals": c.positionals.iter().map(|p| p.wire).collect::<Vec<_>>(),
                    "query": c.query.iter().map(|f| serde_json::json!({"flag": f.flag, "wire": f.wire})).collect::<Vec<_>>(),
                    "takesBody": c.takes_body,
                    "pairField": c.pair_field,
                    "paged": c.paged,
                })
            })
            .collect();
        let hand: Vec<&str> = crate::generated::HAND_WRITTEN
            .iter()
            .filter(|(_, ids)| ids.contains(id))
            .map(|(name, _)| *name)
            .collect();
        let workflows: Vec<&str> = crate::generated::WORKFLOWS
            .iter()
            .filter(|(_, ids)| ids.contains(id))
            .map(|(name, _)| *name)
            .collect();
        out.push(serde_json::json!({
            "operation": id,
            "method": found.method,
            "path": found.path,
            "generated": generated,
            "handWritten": hand,
            "workflows": workflows,
        }));
    }
    Value::Array(out)
}

/// The usage error for an operation the table lacks, with close names.
fn unknown_operation(id: &str) -> String {
    let wanted = id.to_ascii_lowercase();
    let close: Vec<&str> = ops::ALL_IDS
        .iter()
        .copied()
        .filter(|known| {
            let known = known.to_ascii_lowercase();
            known.contains(&wanted) || wanted.contains(&known)
        })
        .take(5)
        .collect();
    let mut message = format!("unknown operation `{id}`");
    if !close.is_empty() {
        message.push_str(&format!("; did you mean {}?", close.join(", ")));
    }
    message.push_str(" (`chc api --list` lists every operation)");
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use clickhouse_cloud_client::types::ops::InstanceGetListQuery;

    fn values(list: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in list {
            out.entry((*k).to_owned())
                .or_default()
                .push((*v).to_owned());
        }
        out
    }

    #[test]
    fn query_values_take_the_type_the_operation_wants() {
        let query: InstanceGetListQuery = decode_flat(&values(&[
            ("filter", "tag:env=prod"),
            ("filter", "tag:team"),
        ]))
        .unwrap();
        assert_eq!(
            query.filter,
            Some(vec!["tag:env=prod".into(), "tag:team".into()])
        );
        let query: InstanceGetListQuery = decode_flat(&values(&[("filter", "tag:x")])).unwrap();
        assert_eq!(query.filter, Some(vec!["tag:x".into()]));
        let keys: ops::OpenapiKeyGetListQuery =
            decode_flat(&values(&[("limit", "7"), ("cursor", "12")])).unwrap();
        assert_eq!((keys.limit, keys.cursor.as_deref()), (Some(7), Some("12")));
        let error =
            decode_flat::<ops::OpenapiKeyGetListQuery>(&values(&[("limit", "many")])).unwrap_err();
        assert_eq!(error, "`limit` expects an integer");
        assert!(!error.contains("many"), "{error}");
        assert!(!error.contains("sequence"), "{error}");
    }

    /// Whether operation `O`'s query has page parameters: `limit` with
    /// `cursor` or `offset`, read and written back (required parameters
    /// are given a time, which reads as text too).
    fn has_page_parameters<O: Operation>() -> bool {
        let reads_back = |page: Value| {
            let mut query = page.as_object().unwrap().clone();
            for _ in 0..8 {
                match serde_json::from_value::<O::Query>(Value::Object(query.clone())) {
                    Ok(decoded) => {
                        let written = serde_json::to_value(decoded).unwrap();
                        return page
                            .as_object()
                            .unwrap()
                            .keys()
                            .all(|name| written.get(name).is_some());
                    }
                    Err(error) => {
                        let message = error.to_string();
                        let Some(missing) = message
                            .strip_prefix("missing field `")
                            .and_then(|rest| rest.split('`').next())
                        else {
                            return false;
                        };
                        query.insert(missing.to_owned(), "2030-01-01T00:00:00Z".into());
                    }
                }
            }
            false
        };
        reads_back(serde_json::json!({"limit": 1, "cursor": "c"}))
            || reads_back(serde_json::json!({"limit": 1, "offset": 1}))
    }

    #[test]
    fn every_operation_with_page_parameters_is_read_to_its_end() {
        struct WithPages(Vec<&'static str>);
        impl OperationVisitor for WithPages {
            fn visit<O: Operation>(&mut self) {
                if has_page_parameters::<O>() {
                    self.0.push(O::ID);
                }
            }
        }
        let mut found = WithPages(Vec::new());
        ops::visit_all(&mut found);
        let mut found = found.0;
        found.sort_unstable();
        let mut declared = PAGED.to_vec();
        declared.sort_unstable();
        assert_eq!(found, declared);
        assert!(all_pages_call("openapiKeyGetList").is_some());
        assert!(all_pages_call("openapiKeyGet").is_none());
    }

    #[test]
    fn pairs_and_templates() {
        assert!(pairs(&["x".into()], "--path").is_err());
        assert!(pairs(&["=1".into()], "--path").is_err());
        let p = pairs(&["a=1=2".into()], "--path").unwrap();
        assert_eq!(p["a"], ["1=2"]);
        assert_eq!(
            template_names("/v1/organizations/{organizationId}/keys/{keyId}"),
            ["organizationId", "keyId"]
        );
        assert_eq!(
            render_template("/a/{x}", &values(&[("x", "1/2")])),
            "/a/1%2F2"
        );
    }

    #[test]
    fn unknown_operations_get_close_names() {
        let message = unknown_operation("openapiKeyGe");
        assert!(message.contains("openapiKeyGet"), "{message}");
        assert!(message.contains("chc api --list"), "{message}");
        assert!(list().contains("openapiKeyCreate"));
    }
}
