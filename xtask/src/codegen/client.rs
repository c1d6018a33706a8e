//! The client's per-area handles: one struct per area (module) of the
//! operation table, one method per operation, each a line that hands the
//! typed parts to `Client::call` (and, for a paged list, a second method that
//! hands them to `Client::items`). Everything else a method could add
//! (waiting, role lookup, paging into one list) is written by hand in the
//! client crate, on top of these.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::features::cfg_line;
use super::names::{pascal, snake};
use super::plan::{OpDef, Paging, Plan, Ty};
use super::render::HEADER;

/// Where the client's generated files go, relative to the workspace root.
pub const OUT_DIR: &str = "crates/clickhouse-cloud-client/src/generated";

/// Why the handles could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ClientRenderError {
    /// A `[client_handles]` entry names no module with operations.
    #[error("xtask/codegen.toml [client_handles]: `{0}` is not a module with operations")]
    StaleHandle(String),
}

/// Every file: path relative to [`OUT_DIR`], and text (unformatted).
pub fn render(
    plan: &Plan,
    handles: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, ClientRenderError> {
    let mut by_module: BTreeMap<&str, Vec<&OpDef>> = BTreeMap::new();
    for op in &plan.operations {
        by_module.entry(op.module.as_str()).or_default().push(op);
    }
    if let Some(stale) = handles.keys().find(|m| !by_module.contains_key(m.as_str())) {
        return Err(ClientRenderError::StaleHandle(stale.clone()));
    }
    let mut files = Vec::new();
    let mut areas = Vec::new();
    for module in &plan.modules {
        let Some(ops) = by_module.get(module.name.as_str()) else {
            continue;
        };
        let handle = handles
            .get(&module.name)
            .cloned()
            .unwrap_or_else(|| pascal(&module.name));
        files.push((
            format!("{}.rs", module.name),
            render_area(plan, &module.name, &module.title, &handle, ops),
        ));
        areas.push((module.name.clone(), module.title.clone(), handle, ops.len()));
    }
    files.push(("mod.rs".into(), render_mod(&areas)));
    Ok(files)
}

fn file_start(doc: &str) -> String {
    format!("{HEADER}\n\n//! {doc}\n\n")
}

fn render_mod(areas: &[(String, String, String, usize)]) -> String {
    let mut out = file_start(
        "One handle per area of the API, one method per operation: `client.services(org).instance_get(id)`.",
    );
    out.push_str(
        "#[allow(unused_imports)]\nuse uuid::Uuid;\n\n#[allow(unused_imports)]\nuse crate::Client;\n\n",
    );
    let cfg = |module: &str| cfg_line(&BTreeSet::from([module.to_owned()]));
    for (module, _, _, _) in areas {
        let _ = writeln!(out, "{}mod {module};", cfg(module));
    }
    out.push('\n');
    for (module, _, handle, _) in areas {
        let _ = writeln!(out, "{}pub use {module}::{handle};", cfg(module));
    }
    out.push_str(
        "\n/// The areas compiled in (one cargo feature each), as `(accessor, spec tag, operations)`, in spec order.\n",
    );
    out.push_str("pub const AREAS: &[(&str, &str, usize)] = &[\n");
    for (module, title, _, count) in areas {
        let _ = writeln!(out, "{}({module:?}, {title:?}, {count}),", cfg(module));
    }
    out.push_str("];\n\nimpl Client {\n");
    for (module, title, handle, _) in areas {
        let _ = writeln!(
            out,
            "/// The {title} area of one organization: one method per operation.\n\
             {cfg}pub fn {module}(&self, organization_id: Uuid) -> {handle} {{\n\
             {handle} {{ client: self.clone(), organization_id }}\n}}\n",
            cfg = cfg(module)
        );
    }
    out.push_str("}\n");
    out
}

/// A path parameter the caller gives (the organization comes from the
/// handle).
struct Arg {
    rust: String,
    wire: String,
    /// The parameter's type in the path struct.
    ty: Ty,
}

fn path_args(plan: &Plan, op: &OpDef) -> Vec<Arg> {
    let Some(name) = &op.path_type else {
        return Vec::new();
    };
    plan.params
        .get(name)
        .map(|p| {
            p.params
                .iter()
                .filter(|param| param.wire != "organizationId")
                .map(|param| Arg {
                    rust: param.rust.clone(),
                    wire: param.wire.clone(),
                    ty: param.ty.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn has_org(plan: &Plan, op: &OpDef) -> bool {
    op.path_type
        .as_ref()
        .and_then(|name| plan.params.get(name))
        .is_some_and(|p| p.params.iter().any(|param| param.wire == "organizationId"))
}

/// A type as the client's generated files name it.
fn ty(t: &Ty) -> String {
    match t {
        Ty::Named(n) => format!("types::{n}"),
        Ty::Enum(i) => format!("types::UnnamedEnum{i}"),
        Ty::String => "String".into(),
        Ty::Secret => "types::SecretValue".into(),
        Ty::Bool => "bool".into(),
        Ty::Int => "i64".into(),
        Ty::Float => "f64".into(),
        Ty::Uuid => "Uuid".into(),
        Ty::Timestamp => "types::Timestamp".into(),
        Ty::Date => "types::Date".into(),
        Ty::Json => "serde_json::Value".into(),
        Ty::Vec(inner) => format!("Vec<{}>", ty(inner)),
        Ty::Map(inner) => format!("std::collections::BTreeMap<String, {}>", ty(inner)),
        Ty::IntegerOrString => "types::IntegerOrString".into(),
        Ty::NumberOrString => "types::NumberOrString".into(),
    }
}

fn arg_type(t: &Ty) -> String {
    match t {
        Ty::String => "impl Into<String>".into(),
        other => ty(other),
    }
}

fn arg_value(arg: &Arg) -> String {
    match arg.ty {
        Ty::String => format!("{}: {}.into()", arg.rust, arg.rust),
        _ => arg.rust.clone(),
    }
}

fn output(op: &OpDef) -> String {
    op.output.as_ref().map_or_else(|| "()".into(), ty)
}

fn render_area(plan: &Plan, module: &str, title: &str, handle: &str, ops: &[&OpDef]) -> String {
    let mut out = file_start(&format!(
        "The {title} area: [`{handle}`], one method per operation."
    ));
    out.push_str(
        "#[allow(unused_imports)]\nuse clickhouse_cloud_types::{self as types, ops};\n\
         #[allow(unused_imports)]\nuse uuid::Uuid;\n\n\
         #[allow(unused_imports)]\nuse crate::{Client, Error, Items, Response};\n\n",
    );
    let _ = write!(
        out,
        "/// The {title} area of one organization: `client.{module}(organization_id)`.\n///\n\
         /// One method per operation, named after its `operationId` in snake case, taking\n\
         /// the path parameters after the organization, then the query and the body, and\n\
         /// answering the operation's output with its `requestId` ([`Response`]).\n\
         /// Every call goes through [`Client::send`]: rate limit, retries (as the operation\n\
         /// table allows), tracing. A paged list also has a `_stream` method: its items\n\
         /// as a [`futures_core::Stream`] ([`Items`]).\n///\n"
    );
    let _ = write!(out, "{}", area_example(plan, module, ops));
    let _ = write!(
        out,
        "#[derive(Debug, Clone)]\npub struct {handle} {{\n\
         pub(crate) client: Client,\n\
         pub(crate) organization_id: Uuid,\n}}\n\n"
    );
    let _ = write!(
        out,
        "#[allow(clippy::too_many_arguments)]\nimpl {handle} {{\n\
         /// The organization this handle works in.\n\
         pub fn organization_id(&self) -> Uuid {{ self.organization_id }}\n\n\
         /// The client it calls through.\n\
         pub fn client(&self) -> &Client {{ &self.client }}\n\n"
    );
    for op in ops {
        render_method(&mut out, plan, op);
    }
    out.push_str("}\n");
    out
}

/// A compiling example for the handle's docs: the area's first GET whose
/// path parameters are all UUIDs and which takes no query.
fn area_example(plan: &Plan, module: &str, ops: &[&OpDef]) -> String {
    let chosen = ops.iter().find(|op| {
        op.method == "GET"
            && op.query_type.is_none()
            && path_args(plan, op).iter().all(|a| a.ty == Ty::Uuid)
    });
    let Some(op) = chosen else {
        return format!(
            "/// ```no_run\n/// # fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) {{\n\
             /// let area = client.{module}(org);\n/// assert_eq!(area.organization_id(), org);\n/// # }}\n/// ```\n"
        );
    };
    let args = path_args(plan, op);
    let params: String = args
        .iter()
        .map(|a| format!(", {}: uuid::Uuid", a.rust))
        .collect();
    let call_args = args
        .iter()
        .map(|a| a.rust.clone())
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "/// ```no_run\n\
         /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid{params}) -> Result<(), clickhouse_cloud_client::Error> {{\n\
         /// let answer = client.{module}(org).{method}({call_args}).await?;\n\
         /// println!(\"{{:?}} (requestId {{:?}})\", *answer, answer.request_id());\n\
         /// # Ok(()) }}\n/// ```\n",
        method = snake(&op.id),
    )
}

fn render_method(out: &mut String, plan: &Plan, op: &OpDef) {
    let marker = format!("ops::{}", op.name);
    let args = path_args(plan, op);
    let mut params: Vec<String> = args
        .iter()
        .map(|a| format!("{}: {}", a.rust, arg_type(&a.ty)))
        .collect();
    if let Some(query) = &op.query_type {
        params.push(format!("query: ops::{query}"));
    }
    let path = match &op.path_type {
        None => "()".to_owned(),
        Some(name) => {
            let mut fields: Vec<String> = Vec::new();
            if has_org(plan, op) {
                fields.push("organization_id: self.organization_id".into());
            }
            fields.extend(args.iter().map(arg_value));
            format!("ops::{name} {{ {} }}", fields.join(", "))
        }
    };
    let query = if op.query_type.is_some() {
        "query"
    } else {
        "()"
    };
    let mut docs = format!("/// `{} {}` ([`{marker}`]).\n", op.method, op.path);
    let wires: Vec<&str> = args.iter().map(|a| a.wire.as_str()).collect();
    if !wires.is_empty() {
        let _ = writeln!(
            docs,
            "///\n/// Path parameters after the organization: {}.",
            wires
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if op.beta {
        docs.push_str("///\n/// Beta in the spec.\n");
    }
    if op.deprecated {
        docs.push_str("///\n/// Deprecated in the spec; it still works.\n");
    }
    if !op.idempotent {
        docs.push_str("///\n/// Not retried once it may have reached the service.\n");
    }
    let mut call_params = params.clone();
    let body = match &op.body {
        Some(body) => {
            call_params.push(format!("body: {}", ty(body)));
            "body"
        }
        None => "()",
    };
    let _ = write!(
        out,
        "{docs}#[doc(alias = {id:?})]\npub async fn {name}(&self{sep}{call_params}) -> Result<Response<{output}>, Error> {{\n\
         let path = {path};\n\
         self.client.call::<{marker}>(path, {query}, {body}).await\n}}\n\n",
        id = op.id,
        name = snake(&op.id),
        sep = if call_params.is_empty() { "" } else { ", " },
        call_params = call_params.join(", "),
        output = output(op),
    );
    let style = match op.paging {
        Paging::None => return,
        Paging::Cursor { .. } => "by cursor",
        Paging::Offset { .. } => "by offset",
    };
    let _ = write!(
        out,
        "/// Every item of `{method} {path_template}` ([`{marker}`]), page after page ({style}), as a\n\
         /// stream: each page is fetched when the items before it are used up.\n\
         /// `query`'s own paging fields are replaced; set the page size with [`Items::page_size`].\n\
         #[doc(alias = {id:?})]\n\
         pub fn {name}_stream(&self{sep}{params}) -> Items<{marker}> {{\n\
         let path = {path};\n\
         self.client.items::<{marker}>(path, {query})\n}}\n\n",
        method = op.method,
        path_template = op.path,
        id = op.id,
        name = snake(&op.id),
        sep = if params.is_empty() { "" } else { ", " },
        params = params.join(", "),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_for_no_module_is_refused() {
        let handles = BTreeMap::from([("nope".to_owned(), "Nope".to_owned())]);
        let error = render(&Plan::default(), &handles).unwrap_err();
        assert!(error.to_string().contains("`nope`"), "{error}");
    }

    #[test]
    fn an_empty_plan_gives_only_the_module_file() {
        let files = render(&Plan::default(), &BTreeMap::new()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0, "mod.rs");
        assert!(files[0].1.starts_with(HEADER));
    }
}
