//! The default transport: reqwest over rustls.

use std::fmt;
use std::time::Duration;

use clickhouse_cloud_auth::Credentials;
use http::HeaderValue;

use crate::{
    BoxFuture, Error, HttpRequest, HttpResponse, Transport, http_method, request_id_header,
};

/// Where the API lives unless told otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.clickhouse.cloud";
/// Environment variable that overrides the base URL.
pub const ENV_BASE_URL: &str = "CLICKHOUSE_API_URL";
/// Default limit for establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit for one request, from sending to the end of the body.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Sends requests with reqwest (rustls, no system OpenSSL), adding the Basic
/// `Authorization` header (marked sensitive) and a `User-Agent`.
///
/// Redirects are not followed: a `3xx` comes back as it is, and
/// [`crate::check_status`] turns it into [`Error::Redirect`] naming where it
/// pointed. The API does not redirect; following one would send the
/// request, a POST or DELETE included, to another place.
///
/// ```no_run
/// use clickhouse_cloud_auth::Credentials;
/// use clickhouse_cloud_transport::{HttpRequest, Method, ReqwestTransport, Transport, check_status};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let transport = ReqwestTransport::builder(Credentials::from_env()?).build()?;
/// let response = transport
///     .send(HttpRequest::new("organizationGetList", Method::Get, "/v1/organizations"))
///     .await?;
/// let body = check_status(response)?.body;
/// println!("{}", String::from_utf8_lossy(&body));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    base_url: String,
    authorization: HeaderValue,
    key_suffix: String,
    request_timeout: Duration,
}

impl ReqwestTransport {
    /// Starts a builder signing requests with `credentials`. The base URL is
    /// `CLICKHOUSE_API_URL` when set, else [`DEFAULT_BASE_URL`].
    pub fn builder(credentials: Credentials) -> ReqwestTransportBuilder {
        ReqwestTransportBuilder {
            credentials,
            base_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            user_agent: None,
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The error for `error`; `request_id` is the answer's, when its head
    /// arrived before the exchange broke.
    fn classify(
        &self,
        operation: &'static str,
        error: reqwest::Error,
        request_id: Option<String>,
    ) -> Error {
        if error.is_timeout() {
            Error::Timeout {
                operation,
                after: self.request_timeout,
                request_id,
            }
        } else if error.is_connect() {
            Error::Connect {
                url: self.base_url.clone(),
                source: Box::new(error.without_url()),
            }
        } else {
            Error::Io {
                operation,
                source: Box::new(error.without_url()),
                request_id,
            }
        }
    }
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("base_url", &self.base_url)
            .field("key_suffix", &self.key_suffix)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        Box::pin(async move {
            let operation = request.operation;
            let url = format!("{}{}", self.base_url, request.path);
            let mut builder = self
                .client
                .request(http_method(request.method), url)
                .header(http::header::AUTHORIZATION, self.authorization.clone())
                .header(http::header::ACCEPT, "application/json");
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            if let Some(body) = request.body {
                builder = builder
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body);
            }
            let mut response = builder
                .send()
                .await
                .map_err(|e| self.classify(operation, e, None))?;
            let status = response.status();
            // Taken, not cloned: reading the body does not need them.
            let headers = std::mem::take(response.headers_mut());
            let body = response.bytes().await.map_err(|e| {
                let request_id = request_id_header(&headers).map(str::to_owned);
                self.classify(operation, e, request_id)
            })?;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}

/// Configures a [`ReqwestTransport`].
pub struct ReqwestTransportBuilder {
    credentials: Credentials,
    base_url: Option<String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    user_agent: Option<String>,
}

impl fmt::Debug for ReqwestTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransportBuilder")
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl ReqwestTransportBuilder {
    /// Sends requests to `url` (e.g. an emulator's `http://127.0.0.1:PORT`).
    /// A trailing `/` or `/v1` is dropped: paths already start with `/v1`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Limit for establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for one request, headers and body included (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Prepends `product/version` to the `User-Agent`, so the service can
    /// tell your tool apart.
    pub fn user_agent_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.user_agent = Some(prefix.into());
        self
    }

    /// Builds the transport.
    pub fn build(self) -> Result<ReqwestTransport, Error> {
        let base_url = self
            .base_url
            .or_else(|| std::env::var(ENV_BASE_URL).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = normalize_base_url(&base_url)?;
        let mut authorization = HeaderValue::from_str(self.credentials.authorization().expose())
            .map_err(|_| Error::Config("credentials are not valid in a header".into()))?;
        authorization.set_sensitive(true);
        let user_agent = match self.user_agent {
            Some(prefix) => format!("{prefix} {USER_AGENT}"),
            None => USER_AGENT.to_owned(),
        };
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(ReqwestTransport {
            client,
            base_url,
            authorization,
            key_suffix: self.credentials.key_id().suffix().to_owned(),
            request_timeout: self.request_timeout,
        })
    }
}

fn normalize_base_url(url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
    let parsed: http::Uri = trimmed
        .parse()
        .map_err(|e| Error::Config(format!("base URL {url:?}: {e}")))?;
    match (parsed.scheme_str(), parsed.host()) {
        (Some("http" | "https"), Some(_)) if parsed.query().is_none() => Ok(trimmed.to_owned()),
        _ => Err(Error::Config(format!(
            "base URL {url:?} must be http(s)://host[:port][/prefix]"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalized() {
        assert_eq!(
            normalize_base_url("https://api.clickhouse.cloud/v1/").unwrap(),
            "https://api.clickhouse.cloud"
        );
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(normalize_base_url("api.clickhouse.cloud").is_err());
        assert!(normalize_base_url("ftp://x").is_err());
        assert!(normalize_base_url("").is_err());
    }
}
