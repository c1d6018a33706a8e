//! Operations as data: method, path template and the types of each part.
//!
//! One [`Operation`] impl per API operation, and one generic path
//! ([`Request::encode`]) that turns any of them into method, path, query and
//! body bytes, without an HTTP client. The same table drives the client,
//! `cargo xtask check-spec` and the conformance runner.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// HTTP methods used by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// Upper-case name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether sending the request twice has the effect of sending it once
    /// (GET, PUT, DELETE): such requests can be retried safely.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Put | Method::Delete)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every part of an operation must be: JSON both ways, printable
/// (`Debug`) and shareable between threads.
///
/// The bounds are the same with and without the `schema` feature, so an
/// [`Operation`] written outside this crate compiles whatever features the
/// rest of a build turns on. What the feature adds lives in traits of its
/// own ([`Described`], [`DescribedOperation`]).
///
/// ```
/// use clickhouse_cloud_types::operation::{Method, Operation, ResponseFormat};
///
/// // An operation of your own, with types that have no JSON Schema.
/// #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
/// struct Ping { note: String }
///
/// struct PingOp;
/// impl Operation for PingOp {
///     const ID: &'static str = "ping";
///     const METHOD: Method = Method::Post;
///     const PATH: &'static str = "/v1/ping";
///     const TAG: &'static str = "Ping";
///     const BETA: bool = false;
///     const DEPRECATED: bool = false;
///     const IDEMPOTENT: bool = false;
///     const RESPONSE: ResponseFormat = ResponseFormat::Json;
///     type Path = ();
///     type Query = ();
///     type Body = Ping;
///     type Output = Ping;
/// }
///
/// let encoded = clickhouse_cloud_types::Request::<PingOp>::new((), Ping { note: "hi".into() }).encode()?;
/// assert_eq!(encoded.path, "/v1/ping");
/// # Ok::<(), clickhouse_cloud_types::operation::EncodeError>(())
/// ```
pub trait Wire: Serialize + DeserializeOwned + Debug + Send + Sync + 'static {}
impl<T: Serialize + DeserializeOwned + Debug + Send + Sync + 'static> Wire for T {}

/// A [`Wire`] type with a JSON Schema (feature `schema`). Every type of
/// this crate is one when the feature is on.
#[cfg(feature = "schema")]
pub trait Described: Wire + schemars::JsonSchema {}
#[cfg(feature = "schema")]
impl<T: Wire + schemars::JsonSchema> Described for T {}

/// An [`Operation`] whose parts all have a JSON Schema (feature `schema`):
/// every operation of [`crate::ops`] when the feature is on. Used by
/// [`crate::ops::visit_all_described`].
#[cfg(feature = "schema")]
pub trait DescribedOperation:
    Operation<
        Path: schemars::JsonSchema,
        Query: schemars::JsonSchema,
        Body: schemars::JsonSchema,
        Output: schemars::JsonSchema,
    >
{
}
#[cfg(feature = "schema")]
impl<O> DescribedOperation for O
where
    O: Operation,
    O::Path: schemars::JsonSchema,
    O::Query: schemars::JsonSchema,
    O::Body: schemars::JsonSchema,
    O::Output: schemars::JsonSchema,
{
}

/// One API operation, described by types.
///
/// `()` stands for "none": no path parameters, no query, no body, or no
/// `result` in the response. Every operation of the spec has one, generated
/// in [`crate::ops`].
pub trait Operation: 'static {
    /// The spec's `operationId`.
    const ID: &'static str;
    /// HTTP method.
    const METHOD: Method;
    /// Path template, e.g. `/v1/organizations/{organizationId}/keys`.
    const PATH: &'static str;
    /// The spec tag: the area of the API (`API keys`, `Service`, ...).
    const TAG: &'static str;
    /// Marked beta in the spec.
    const BETA: bool;
    /// Marked deprecated in the spec.
    const DEPRECATED: bool;
    /// Whether the request may be sent again after the service may have
    /// acted on it without changing the outcome: a retry after a lost
    /// answer is safe. GET, PUT, DELETE and PATCH are, POST is not, unless
    /// `xtask/codegen.toml` says otherwise for one operation.
    const IDEMPOTENT: bool;
    /// What a successful answer carries.
    const RESPONSE: ResponseFormat;
    /// Path parameters: a struct whose wire names match the template.
    type Path: Wire + Clone;
    /// Query parameters.
    type Query: Wire + Clone;
    /// Request body.
    type Body: Wire + Clone;
    /// The `result` of a successful response (the text itself for a
    /// [`ResponseFormat::Text`] operation).
    type Output: Wire;
}

/// What a successful answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// The JSON envelope, with the output as its `result`.
    Json,
    /// Text (Prometheus metrics, a PEM certificate): the output is the
    /// body.
    Text,
    /// JSON without the envelope (Prometheus service discovery): the output
    /// is the whole body.
    Bare,
}

/// How a list pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStyle {
    /// `cursor` from the previous page's `nextCursor`, and `limit`.
    Cursor,
    /// `offset` and `limit`.
    Offset,
}

/// Which page to ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Most items per page (`None`: the service's default).
    pub limit: Option<u32>,
    /// The cursor of a [`PageStyle::Cursor`] list (`None`: the first page).
    pub cursor: Option<String>,
    /// How many items to skip in a [`PageStyle::Offset`] list.
    pub offset: Option<u64>,
}

/// A list operation that pages.
///
/// ```
/// use clickhouse_cloud_types::operation::{Page, PageStyle, Paged};
/// use clickhouse_cloud_types::ops::{OpenapiKeyGetList, OpenapiKeyGetListQuery};
/// assert_eq!(OpenapiKeyGetList::STYLE, PageStyle::Cursor);
/// let mut query = OpenapiKeyGetListQuery::default();
/// OpenapiKeyGetList::set_page(&mut query, &Page { limit: Some(7), cursor: Some("c".into()), offset: None });
/// assert_eq!((query.limit, query.cursor.as_deref()), (Some(7), Some("c")));
/// ```
pub trait Paged: Operation {
    /// How it pages.
    const STYLE: PageStyle;
    /// The most items a page may hold: the spec's `maximum` of the `limit`
    /// parameter (`None`: the spec sets none). Asking for more may be
    /// refused or silently capped by the service.
    const MAX_LIMIT: Option<u32> = None;
    /// One item of a page.
    type Item: Wire;
    /// Sets the page to ask for in the query.
    fn set_page(query: &mut Self::Query, page: &Page);
    /// The items of one page's output.
    fn items(output: Self::Output) -> Vec<Self::Item>;
}

/// The reference page of an operation on clickhouse.com.
///
/// ```
/// use clickhouse_cloud_types::operation::{reference_url, Operation};
/// use clickhouse_cloud_types::ops::OpenapiKeyCreate;
/// assert_eq!(
///     reference_url::<OpenapiKeyCreate>(),
///     "https://clickhouse.com/docs/cloud/manage/api/swagger#tag/API-keys/operation/openapiKeyCreate"
/// );
/// ```
pub fn reference_url<O: Operation>() -> String {
    format!(
        "https://clickhouse.com/docs/cloud/manage/api/swagger#tag/{}/operation/{}",
        O::TAG.replace(' ', "-"),
        O::ID
    )
}

/// Everything needed to call operation `O`.
///
/// ```
/// use clickhouse_cloud_types::ops::{OpenapiKeyGetList, OrganizationPath};
/// use clickhouse_cloud_types::{Method, Request};
/// let org = uuid::Uuid::nil();
/// let request = Request::<OpenapiKeyGetList>::new(OrganizationPath { organization_id: org }, ());
/// let encoded = request.encode()?;
/// assert_eq!(encoded.method, Method::Get);
/// assert_eq!(encoded.path, format!("/v1/organizations/{org}/keys"));
/// assert!(encoded.body.is_none());
/// # Ok::<(), clickhouse_cloud_types::operation::EncodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Request<O: Operation> {
    /// Path parameters.
    pub path: O::Path,
    /// Query parameters.
    pub query: O::Query,
    /// Body.
    pub body: O::Body,
}

impl<O: Operation> Request<O>
where
    O::Query: Default,
{
    /// A request with the default (empty) query.
    pub fn new(path: O::Path, body: O::Body) -> Self {
        Self {
            path,
            query: O::Query::default(),
            body,
        }
    }
}

impl<O: Operation> Request<O> {
    /// A request with every part given (for operations whose query has
    /// required parameters).
    pub fn with_parts(path: O::Path, query: O::Query, body: O::Body) -> Self {
        Self { path, query, body }
    }

    /// Sets the query.
    pub fn with_query(mut self, query: O::Query) -> Self {
        self.query = query;
        self
    }

    /// Turns the typed request into method, path, query pairs and body bytes.
    ///
    /// Every path value becomes exactly one path segment: its bytes other
    /// than `A-Z a-z 0-9 - . _ ~` are percent-encoded, and a value that is
    /// empty, `.` or `..` is refused ([`EncodeError::UnsafePathValue`]),
    /// since a URL parser would drop it or climb to the parent resource.
    ///
    /// ```
    /// use clickhouse_cloud_types::ops::{ServiceClickhouseSettingDelete, SettingNamePath};
    /// use clickhouse_cloud_types::operation::EncodeError;
    /// use clickhouse_cloud_types::Request;
    /// let path = SettingNamePath {
    ///     organization_id: uuid::Uuid::nil(),
    ///     service_id: uuid::Uuid::nil(),
    ///     setting_name: "..".into(),
    /// };
    /// let refused = Request::<ServiceClickhouseSettingDelete>::new(path, ()).encode();
    /// assert!(matches!(refused, Err(EncodeError::UnsafePathValue { .. })));
    /// ```
    pub fn encode(&self) -> Result<EncodedRequest, EncodeError> {
        let path = encode_path::<O>(&self.path)?;
        let query = query_pairs(&to_object(&self.query, "query")?);
        let body = serde_json::to_vec(&self.body).map_err(|e| EncodeError::Body(e.to_string()))?;
        Ok(EncodedRequest {
            operation: O::ID,
            method: O::METHOD,
            path,
            query,
            body: (body != b"null").then_some(body),
            idempotent: O::IDEMPOTENT,
        })
    }
}

/// The path of operation `O` with `path`'s values filled in: what
/// [`Request::encode`] puts in [`EncodedRequest::path`], and refuses the
/// same way.
///
/// ```
/// use clickhouse_cloud_types::operation::encode_path;
/// use clickhouse_cloud_types::ops::{OpenapiKeyGetList, OrganizationPath};
/// let org = uuid::Uuid::nil();
/// let path = encode_path::<OpenapiKeyGetList>(&OrganizationPath { organization_id: org })?;
/// assert_eq!(path, format!("/v1/organizations/{org}/keys"));
/// # Ok::<(), clickhouse_cloud_types::operation::EncodeError>(())
/// ```
pub fn encode_path<O: Operation>(path: &O::Path) -> Result<String, EncodeError> {
    render_path(O::PATH, &to_object(path, "path")?)
}

/// A request reduced to what goes on the wire. Its `Debug` shows the body's
/// length, never its bytes (a body can carry a password).
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedRequest {
    /// The `operationId`, for logs and errors.
    pub operation: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path with parameters filled in and percent-encoded.
    pub path: String,
    /// Query pairs, not yet URL-encoded.
    pub query: Vec<(String, String)>,
    /// JSON body, if the operation has one.
    pub body: Option<Vec<u8>>,
    /// Whether it may be sent again after the service may have acted
    /// ([`Operation::IDEMPOTENT`]).
    pub idempotent: bool,
}

impl std::fmt::Debug for EncodedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedRequest")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

/// Why a typed request could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// Path or query parameters are not a flat object of scalars.
    NotAnObject {
        /// `path` or `query`.
        part: &'static str,
    },
    /// The template names a parameter the path struct does not have.
    MissingPathParam(String),
    /// The body failed to serialize.
    Body(String),
    /// A path parameter's value is empty, `.` or `..`: as a path segment it
    /// would be dropped or would climb to the parent resource, so the
    /// request would reach another endpoint than the operation's.
    UnsafePathValue {
        /// The parameter's wire name (`settingName`).
        name: String,
        /// The value that was refused (path values are not secret).
        value: String,
    },
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::NotAnObject { part } => {
                write!(
                    f,
                    "{part} parameters must serialize to an object of scalars"
                )
            }
            EncodeError::MissingPathParam(name) => write!(f, "path parameter {name:?} is missing"),
            EncodeError::Body(reason) => write!(f, "body does not serialize: {reason}"),
            EncodeError::UnsafePathValue { name, value } => write!(
                f,
                "path parameter {name:?} is {value:?}: an empty, \".\" or \"..\" value would \
                 change which endpoint the request reaches"
            ),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Appends `value` to `out` as one path segment: RFC 3986 unreserved bytes
/// (`A-Z a-z 0-9 - . _ ~`) as they are, every other byte of its UTF-8 as
/// `%XX`.
fn encode_segment(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// Decodes the `%XX` escapes of a path segment; `None` when the bytes are
/// not UTF-8. A `%` not followed by two hex digits stays as it is.
fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn to_object(
    value: &impl Serialize,
    part: &'static str,
) -> Result<Map<String, Value>, EncodeError> {
    match serde_json::to_value(value).map_err(|_| EncodeError::NotAnObject { part })? {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(EncodeError::NotAnObject { part }),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn render_path(template: &str, params: &Map<String, Value>) -> Result<String, EncodeError> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |i| open + i);
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..close];
        let value = params
            .get(name)
            .and_then(scalar)
            .ok_or_else(|| EncodeError::MissingPathParam(name.to_owned()))?;
        if matches!(value.as_str(), "" | "." | "..") {
            return Err(EncodeError::UnsafePathValue {
                name: name.to_owned(),
                value,
            });
        }
        encode_segment(&value, &mut out);
        rest = rest.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

fn query_pairs(params: &Map<String, Value>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (name, value) in params {
        match value {
            Value::Array(items) => pairs.extend(
                items
                    .iter()
                    .filter_map(scalar)
                    .map(|item| (name.clone(), item)),
            ),
            other => pairs.extend(scalar(other).map(|v| (name.clone(), v))),
        }
    }
    pairs
}

/// Matches a concrete path against a template and returns the parameters,
/// percent-decoded: `/v1/organizations/{organizationId}` and
/// `/v1/organizations/42` give `{"organizationId": "42"}`.
///
/// ```
/// use clickhouse_cloud_types::operation::match_path;
/// let params = match_path("/v1/a/{x}/b/{y}", "/v1/a/1/b/two%20words").unwrap();
/// assert_eq!(params["x"], "1");
/// assert_eq!(params["y"], "two words");
/// assert!(match_path("/v1/a/{x}", "/v1/b/1").is_none());
/// ```
pub fn match_path(template: &str, path: &str) -> Option<Map<String, Value>> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut params = Map::new();
    let mut template_parts = template.trim_end_matches('/').split('/');
    let mut path_parts = path.trim_end_matches('/').split('/');
    loop {
        match (template_parts.next(), path_parts.next()) {
            (None, None) => return Some(params),
            (Some(t), Some(p)) => {
                if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    if p.is_empty() {
                        return None;
                    }
                    let value = decode_segment(p)?;
                    params.insert(name.to_owned(), Value::String(value));
                } else if t != p {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// Matches `path` against `template` and reads the parameters as `P`
/// (an operation's `Path` type). A parameter the type wants as a number
/// (a UDF's version) is read from its digits. `None` when the path does not
/// match.
///
/// ```
/// use clickhouse_cloud_types::operation::decode_path;
/// use clickhouse_cloud_types::ops::UdfVersionPath;
/// let path: UdfVersionPath = decode_path(
///     "/v1/organizations/{organizationId}/udfs/{functionName}/versions/{version}",
///     "/v1/organizations/5e1fc0de-0c0f-4000-8000-000000000001/udfs/f/versions/3",
/// )
/// .unwrap()
/// .unwrap();
/// assert_eq!((path.function_name.as_str(), path.version), ("f", 3));
/// ```
pub fn decode_path<P: DeserializeOwned>(
    template: &str,
    path: &str,
) -> Option<Result<P, serde_json::Error>> {
    let params = match_path(template, path)?;
    if params.is_empty()
        && let Ok(none) = serde_json::from_value(Value::Null)
    {
        return Some(Ok(none));
    }
    let as_strings = serde_json::from_value(Value::Object(params.clone()));
    Some(as_strings.or_else(|first| {
        let with_numbers: Map<String, Value> = params
            .into_iter()
            .map(|(name, value)| {
                let number = value.as_str().and_then(|s| s.parse::<i64>().ok());
                (name, number.map_or(value, Value::from))
            })
            .collect();
        serde_json::from_value(Value::Object(with_numbers)).map_err(|_| first)
    }))
}

/// Something that wants to see every operation the SDK declares, with its
/// types (see [`crate::ops::visit_all`]).
pub trait OperationVisitor {
    /// Called once per operation.
    fn visit<O: Operation>(&mut self);
}

/// Something that wants to see the type of every component schema of the
/// spec (see [`crate::visit_schemas`]).
pub trait TypeVisitor {
    /// Called once per schema, with the schema's name in the spec.
    fn visit<T: Wire>(&mut self, schema: &'static str);
}

/// Like [`OperationVisitor`], with the JSON Schema of every part at hand
/// (feature `schema`; see [`crate::ops::visit_all_described`]).
#[cfg(feature = "schema")]
pub trait DescribedOperationVisitor {
    /// Called once per operation.
    fn visit<O: DescribedOperation>(&mut self);
}

/// Like [`TypeVisitor`], with each type's JSON Schema at hand (feature
/// `schema`; see [`crate::visit_described_schemas`]).
#[cfg(feature = "schema")]
pub trait DescribedTypeVisitor {
    /// Called once per schema, with the schema's name in the spec.
    fn visit<T: Described>(&mut self, schema: &'static str);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_values_are_percent_encoded() {
        let mut params = Map::new();
        params.insert("id".into(), Value::String("a b/c".into()));
        assert_eq!(render_path("/x/{id}/y", &params).unwrap(), "/x/a%20b%2Fc/y");
        assert_eq!(
            render_path("/x/{missing}", &params),
            Err(EncodeError::MissingPathParam("missing".into()))
        );
    }

    #[test]
    fn path_segments_keep_only_unreserved_bytes_and_match_back() {
        let template = "/v1/organizations/{organizationId}/keys/{keyId}";
        for text in ["plain", "a b/c", "100%", "AZaz09-._~ /?#%+é\u{1F600}"] {
            let params = serde_json::json!({"organizationId": "org", "keyId": text});
            let path = render_path(template, params.as_object().unwrap()).unwrap();
            let segment = path.rsplit('/').next().unwrap();
            assert!(
                segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
                "{path}"
            );
            let back = match_path(template, &path).unwrap();
            assert_eq!(back["keyId"], text, "{path}");
        }
        let params = serde_json::json!({"organizationId": "o", "keyId": "a b/é"});
        assert_eq!(
            render_path(template, params.as_object().unwrap()).unwrap(),
            "/v1/organizations/o/keys/a%20b%2F%C3%A9"
        );
    }

    #[test]
    fn segments_decode_what_they_encode() {
        assert_eq!(decode_segment("a%20b%2Fc%C3%A9").as_deref(), Some("a b/cé"));
        assert_eq!(decode_segment("100%").as_deref(), Some("100%"));
        assert_eq!(decode_segment("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(decode_segment("%ff"), None);
        let mut out = String::new();
        encode_segment("é ~x", &mut out);
        assert_eq!(out, "%C3%A9%20~x");
    }

    proptest::proptest! {
        #[test]
        fn any_text_round_trips_through_a_segment(text in "\\PC*|.*") {
            let mut out = String::new();
            encode_segment(&text, &mut out);
            proptest::prop_assert!(out.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            proptest::prop_assert_eq!(decode_segment(&out), Some(text));
        }
    }

    #[test]
    fn empty_and_dot_path_values_are_refused() {
        let template =
            "/v1/organizations/{organizationId}/services/{serviceId}/settings/{settingName}";
        for bad in ["", ".", ".."] {
            let params =
                serde_json::json!({"organizationId": "o", "serviceId": "s", "settingName": bad});
            assert_eq!(
                render_path(template, params.as_object().unwrap()),
                Err(EncodeError::UnsafePathValue {
                    name: "settingName".into(),
                    value: bad.into()
                }),
                "{bad:?}"
            );
        }
        // Dots inside a longer value, or escaped slashes, stay one segment.
        for fine in ["...", ".a", "a.", "../x", "./", "%2e%2e", " .."] {
            let params =
                serde_json::json!({"organizationId": "o", "serviceId": "s", "settingName": fine});
            let path = render_path(template, params.as_object().unwrap()).unwrap();
            assert_eq!(
                path.split('/').count(),
                template.split('/').count(),
                "{path}"
            );
            assert_eq!(match_path(template, &path).unwrap()["settingName"], fine);
        }
        // The first parameter is checked as well as the last.
        let params =
            serde_json::json!({"organizationId": "..", "serviceId": "s", "settingName": "x"});
        assert!(matches!(
            render_path(template, params.as_object().unwrap()),
            Err(EncodeError::UnsafePathValue { name, .. }) if name == "organizationId"
        ));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            EncodeError::NotAnObject { part: "query" }.to_string(),
            "query parameters must serialize to an object of scalars"
        );
        assert_eq!(
            EncodeError::MissingPathParam("keyId".into()).to_string(),
            r#"path parameter "keyId" is missing"#
        );
        assert_eq!(
            EncodeError::Body("boom".into()).to_string(),
            "body does not serialize: boom"
        );
        assert_eq!(
            EncodeError::UnsafePathValue {
                name: "settingName".into(),
                value: "..".into()
            }
            .to_string(),
            r#"path parameter "settingName" is "..": an empty, "." or ".." value would change which endpoint the request reaches"#
        );
    }

    #[test]
    fn query_skips_nulls_and_repeats_arrays() {
        let map = serde_json::json!({"a": null, "b": 1, "c": ["x", "y"], "d": "z"});
        let Value::Object(map) = map else {
            unreachable!()
        };
        assert_eq!(
            query_pairs(&map),
            vec![
                ("b".into(), "1".into()),
                ("c".into(), "x".into()),
                ("c".into(), "y".into()),
                ("d".into(), "z".into())
            ]
        );
    }

    #[test]
    fn match_path_round_trips_render_path() {
        let mut params = Map::new();
        params.insert("id".into(), Value::String("a b/c".into()));
        let path = render_path("/x/{id}/y", &params).unwrap();
        assert_eq!(match_path("/x/{id}/y", &path), Some(params));
        assert_eq!(match_path("/x/{id}/y", "/x//y"), None);
        assert_eq!(match_path("/x/{id}/y", "/x/1/y/z"), None);
    }
}
