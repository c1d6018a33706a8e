//! `chc api OPERATION_ID ...`: any operation of the spec by its
//! `operationId`, through the client (auth, limits, retries, typed errors).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Read as _;
use std::pin::Pin;

use clickhouse_cloud_client::Client;
use clickhouse_cloud_client::types::operation::{
    Operation, OperationVisitor, ResponseFormat, decode_path,
};
use clickhouse_cloud_client::types::{Request, ops};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::cli::{ApiArgs, GlobalArgs};
use crate::context::{Session, wait};
use crate::error::CliError;
use crate::output::{print_json, print_text, table};

/// Runs `chc api`.
pub(crate) async fn run(args: ApiArgs, global: &GlobalArgs) -> Result<(), CliError> {
    if args.list {
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
    let outcome = wait(
        &format!("Calling {id}"),
        (found.call)(session.client.clone(), inputs),
    )
    .await?;
    match outcome {
        Outcome::Json(Value::Null) => Ok(()),
        Outcome::Json(value) => print_json(&value),
        Outcome::Text(text) => {
            print!("{text}");
            Ok(())
        }
    }
}

/// What a call printed.
enum Outcome {
    Json(Value),
    Text(String),
}

/// The values given on the command line.
struct Inputs {
    path: BTreeMap<String, Vec<String>>,
    query: BTreeMap<String, Vec<String>>,
    body: Option<Value>,
}

type Call =
    Box<dyn FnOnce(Client, Inputs) -> Pin<Box<dyn Future<Output = Result<Outcome, CliError>>>>>;

/// The operation found in the table, and how to call it.
struct Found {
    method: &'static str,
    path: &'static str,
    call: Call,
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
        });
    }
}

/// Builds the typed request from the inputs and sends it.
async fn call<O: Operation>(client: Client, inputs: Inputs) -> Result<Outcome, CliError> {
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
        .map_err(|message| CliError::Usage(format!("--query: {message} (for {})", O::ID)))?;
    let body: O::Body = match inputs.body {
        Some(value) => decode_body(value, O::ID)?,
        None => serde_json::from_value(Value::Null).map_err(|_| {
            CliError::Usage(format!(
                "{} takes a JSON body: --body @FILE, - or JSON",
                O::ID
            ))
        })?,
    };
    let response = client
        .send(Request::<O>::with_parts(path, query, body))
        .await?;
    let output = response.into_result();
    let value = serde_json::to_value(&output).map_err(|e| CliError::Other(e.to_string()))?;
    Ok(match (O::RESPONSE, value) {
        (ResponseFormat::Text, Value::String(text)) => Outcome::Text(text),
        (_, value) => Outcome::Json(value),
    })
}

/// A body decoded as the operation's type, naming the JSON path of a
/// mismatch (and never a value from it).
fn decode_body<T: DeserializeOwned>(value: Value, id: &str) -> Result<T, CliError> {
    if serde_json::from_value::<T>(Value::Null).is_ok() && !value.is_null() {
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
        match forms.get_mut(name) {
            Some(list) if list.len() > 1 => {
                list.pop();
            }
            _ if name.is_empty() || name == "?" => return Err(message),
            _ => return Err(format!("`{name}`: {message}")),
        }
    }
}

/// `--body @FILE`, `-` (standard input) or the JSON itself.
fn read_body(source: &str) -> Result<Value, CliError> {
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
                O::TAG.to_owned(),
                marks.join(", "),
            ]);
        }
    }
    let mut lister = Lister(Vec::new());
    ops::visit_all(&mut lister);
    lister.0.sort();
    table(&["OPERATION", "METHOD", "PATH", "AREA", "NOTE"], &lister.0)
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
        assert!(error.contains("invalid type"), "{error}");
        assert!(!error.contains("many"), "{error}");
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
