//! What the response headers say: which request this was, and how long to
//! wait before the next one. Every other module reads them through here.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

/// Response headers that carry a request ID, in the order they are tried:
/// the API's own `x-request-id`, then the IDs of the layers in front of it
/// that may answer instead of the API (AWS API Gateway, CloudFront,
/// Cloudflare). A gateway's HTML error page carries no `requestId` in its
/// body; one of these is then all there is to quote to support.
pub const REQUEST_ID_HEADERS: &[&str] =
    &["x-request-id", "x-amzn-requestid", "x-amz-cf-id", "cf-ray"];

/// The first request ID among [`REQUEST_ID_HEADERS`] that is readable text.
///
/// ```
/// use clickhouse_cloud_transport::{HeaderMap, request_id_header};
/// let mut headers = HeaderMap::new();
/// headers.insert("cf-ray", "8a1b2c3d4e5f-AMS".parse().unwrap());
/// assert_eq!(request_id_header(&headers), Some("8a1b2c3d4e5f-AMS"));
/// headers.insert("x-request-id", "r-1".parse().unwrap());
/// assert_eq!(request_id_header(&headers), Some("r-1"));
/// ```
pub fn request_id_header(headers: &HeaderMap) -> Option<&str> {
    REQUEST_ID_HEADERS.iter().find_map(|name| {
        let value = headers.get(*name)?.to_str().ok()?.trim();
        (!value.is_empty()).then_some(value)
    })
}

/// How long the service asked for no request: `Retry-After` (seconds,
/// possibly fractional, or an HTTP date) when present; else, when the
/// response spent the window's last request (a `429`, or
/// `X-RateLimit-Remaining: 0`), `X-RateLimit-Reset` (seconds).
pub(crate) fn server_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    retry_after(headers).or_else(|| {
        let spent =
            status == StatusCode::TOO_MANY_REQUESTS || rate_limit_remaining(headers) == Some(0);
        spent.then(|| rate_limit_reset(headers)).flatten()
    })
}

/// `Retry-After` as seconds (possibly fractional) or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = text(headers, http::header::RETRY_AFTER.as_str())?;
    if let Some(wait) = seconds(value) {
        return Some(wait);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// `X-RateLimit-Reset`: seconds until the window resets.
fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    seconds(text(headers, "x-ratelimit-reset")?)
}

/// `X-RateLimit-Remaining`.
pub(crate) fn rate_limit_remaining(headers: &HeaderMap) -> Option<u64> {
    text(headers, "x-ratelimit-remaining")?.parse().ok()
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    Some(headers.get(name)?.to_str().ok()?.trim())
}

fn seconds(value: &str) -> Option<Duration> {
    let secs: f64 = value.parse().ok()?;
    (0.0..1e9)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn request_ids_come_from_the_first_header_that_has_one() {
        assert_eq!(request_id_header(&headers(&[])), None);
        let cdn = headers(&[("x-amz-cf-id", "cf-1=="), ("cf-ray", "ray-1")]);
        assert_eq!(request_id_header(&cdn), Some("cf-1=="));
        let blank = headers(&[("x-request-id", " "), ("cf-ray", "ray-1")]);
        assert_eq!(request_id_header(&blank), Some("ray-1"));
        let mut unreadable = headers(&[("x-amzn-requestid", "aws-1")]);
        unreadable.insert("x-request-id", HeaderValue::from_bytes(b"\xff").unwrap());
        assert_eq!(request_id_header(&unreadable), Some("aws-1"));
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let ok = StatusCode::SERVICE_UNAVAILABLE;
        assert_eq!(
            server_wait(ok, &headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        let later = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(later);
        let wait = server_wait(ok, &headers(&[("retry-after", &date)])).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(server_wait(ok, &headers(&[("retry-after", "soon")])), None);
        assert_eq!(server_wait(ok, &headers(&[("retry-after", "-1")])), None);
    }

    #[test]
    fn the_reset_counts_only_when_the_window_is_spent() {
        let reset = [("x-ratelimit-reset", "1.5")];
        let wait = Some(Duration::from_millis(1500));
        assert_eq!(
            server_wait(StatusCode::TOO_MANY_REQUESTS, &headers(&reset)),
            wait
        );
        assert_eq!(server_wait(StatusCode::OK, &headers(&reset)), None);
        let spent = [("x-ratelimit-reset", "1.5"), ("x-ratelimit-remaining", "0")];
        assert_eq!(server_wait(StatusCode::OK, &headers(&spent)), wait);
        let both = [("x-ratelimit-reset", "1.5"), ("retry-after", "4")];
        assert_eq!(
            server_wait(StatusCode::TOO_MANY_REQUESTS, &headers(&both)),
            Some(Duration::from_secs(4))
        );
    }
}
