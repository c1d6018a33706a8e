//! Uploads to presigned URLs: one `PUT` of bytes to a URL the API handed
//! out (a UDF's source archive, say), which carries its own authorization.

use std::time::Duration;

use bytes::Bytes;
use clickhouse_cloud_types::ErrorBody;
use http::HeaderValue;

use crate::{ApiError, Error, USER_AGENT, check_status_of, request_id_header};

/// What upload errors name where an API call's errors name its
/// `operationId`.
pub const UPLOAD_OPERATION: &str = "presignedUpload";

/// Default limit for one upload, from connecting to the answer.
pub const DEFAULT_UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Sends `body` as `content_type` with `PUT` to `url`, a presigned URL.
///
/// It is not an API call, and is sent apart from them: no `Authorization`
/// header (the URL authorizes the upload; sending the key's as well would
/// hand it to the storage service, which refuses two at once), no
/// redirect followed, no retry (an upload URL serves one attempt: ask for
/// a new one), the client's `User-Agent`. The URL never appears in an
/// error, as its query carries the token: a failure to connect names its
/// scheme and host only. A refusal is [`Error::Api`] with the status and,
/// when the body is the API's JSON error envelope, its message; any other
/// body (a storage service's XML error may quote the signature) is left
/// out.
///
/// ```no_run
/// use clickhouse_cloud_transport::{Bytes, DEFAULT_UPLOAD_TIMEOUT, put_presigned};
/// # async fn run(upload_url: &str, archive: Vec<u8>) -> Result<(), clickhouse_cloud_transport::Error> {
/// put_presigned(upload_url, "application/zip", Bytes::from(archive), DEFAULT_UPLOAD_TIMEOUT).await?;
/// # Ok(()) }
/// ```
pub async fn put_presigned(
    url: &str,
    content_type: &str,
    body: Bytes,
    timeout: Duration,
) -> Result<(), Error> {
    let content_type = HeaderValue::from_str(content_type)
        .map_err(|_| Error::Config("the content type is not valid in a header".into()))?;
    let target: http::Uri = url
        .parse()
        .map_err(|_| Error::Config("the upload URL is not a valid URL".into()))?;
    let origin = match (target.scheme_str(), target.authority()) {
        (Some(scheme @ ("http" | "https")), Some(authority)) => {
            format!(
                "{scheme}://{}",
                authority.as_str().rsplit('@').next().unwrap_or("")
            )
        }
        _ => {
            return Err(Error::Config(
                "the upload URL is not an http(s) URL with a host".into(),
            ));
        }
    };
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| Error::Config(error.without_url().to_string()))?;
    let classify = |error: reqwest::Error, request_id: Option<String>| {
        if error.is_timeout() {
            Error::Timeout {
                operation: UPLOAD_OPERATION,
                after: timeout,
                request_id,
            }
        } else if error.is_connect() {
            Error::Connect {
                url: origin.clone(),
                source: Box::new(error.without_url()),
            }
        } else {
            Error::Io {
                operation: UPLOAD_OPERATION,
                source: Box::new(error.without_url()),
                request_id,
            }
        }
    };
    let mut response = client
        .put(url)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .map_err(|error| classify(error, None))?;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let request_id = request_id_header(&headers).map(str::to_owned);
    if status.is_success() {
        // The answer's body says nothing an upload needs.
        let _ = response.bytes().await;
        return Ok(());
    }
    if status.is_redirection() {
        // Where it points may be another presigned URL: not repeated.
        return Err(Error::Redirect {
            operation: UPLOAD_OPERATION,
            status,
            location: None,
            request_id,
        });
    }
    let body = response
        .bytes()
        .await
        .map_err(|error| classify(error, request_id.clone()))?;
    let envelope = ErrorBody::parse(&body).is_some_and(|parsed| parsed.error.is_some());
    if envelope {
        let answer = crate::HttpResponse {
            status,
            headers,
            body,
        };
        return check_status_of(UPLOAD_OPERATION, answer).map(|_| ());
    }
    Err(Error::Api(ApiError {
        status,
        code: None,
        message: status.canonical_reason().unwrap_or("refused").to_owned(),
        request_id,
        retry_after: None,
        service_hold: None,
    }))
}
