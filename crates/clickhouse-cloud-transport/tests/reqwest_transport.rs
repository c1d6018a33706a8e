//! The reqwest transport against a real HTTP/1.1 server on loopback.

use std::time::Duration;

use clickhouse_cloud_auth::{AuthorizationHeader, Credentials, KeyMaterial};
use clickhouse_cloud_transport::{
    Error, HttpRequest, Method, ReqwestTransport, StatusCode, Transport, check_status,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves one connection: records the raw request, answers `response`
/// after `delay`.
async fn one_shot_server(
    response: &'static str,
    delay: Duration,
) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw);
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length = text[..head_end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if raw.len() >= head_end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        tokio::time::sleep(delay).await;
        let _ = socket.write_all(response.as_bytes()).await;
        let _ = socket.shutdown().await;
        String::from_utf8_lossy(&raw).into_owned()
    });
    (url, handle)
}

fn credentials() -> Credentials {
    KeyMaterial::generate().into_credentials()
}

#[tokio::test]
async fn sends_auth_user_agent_query_and_body() {
    let (url, server) = one_shot_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        Duration::ZERO,
    )
    .await;
    let creds = credentials();
    let transport = ReqwestTransport::builder(creds.clone())
        .base_url(format!("{url}/v1/"))
        .build()
        .unwrap();
    let mut request = HttpRequest::new("testOp", Method::Patch, "/v1/things/1");
    request.query = vec![("from_date".into(), "2026-01-01T00:00:00+00:00".into())];
    request.body = Some(r#"{"a":1}"#.into());
    let response = check_status(transport.send(request).await.unwrap()).unwrap();
    assert_eq!(&response.body[..], b"{}");

    let raw = server.await.unwrap();
    let head = raw.to_ascii_lowercase();
    assert!(
        raw.starts_with("PATCH /v1/things/1?from_date=2026-01-01T00%3A00%3A00%2B00%3A00 HTTP/1.1"),
        "{raw}"
    );
    assert!(
        head.contains("user-agent: clickhouse-cloud-transport/"),
        "{raw}"
    );
    assert!(head.contains("content-type: application/json"), "{raw}");
    assert!(raw.ends_with(r#"{"a":1}"#), "{raw}");
    let header = raw
        .lines()
        .find_map(|l| l.strip_prefix("authorization: "))
        .expect("authorization header sent");
    assert_eq!(AuthorizationHeader::parse(header), Some(creds.clone()));
    assert!(!format!("{transport:?}").contains(creds.key_secret().expose()));
}

#[tokio::test]
async fn html_gateway_page_is_a_typed_error() {
    let (url, _server) = one_shot_server(
        "HTTP/1.1 504 Gateway Timeout\r\ncontent-type: text/html\r\n\
         x-amz-cf-id: Fq3xv0bW-cdn-id==\r\ncf-ray: 8a1b2c3d4e5f-AMS\r\n\
         content-length: 60\r\n\r\n<html><body><h1>504 Gateway Time-out</h1></body></html>\n\n\n\n\n",
        Duration::ZERO,
    )
    .await;
    let transport = ReqwestTransport::builder(credentials())
        .base_url(url)
        .build()
        .unwrap();
    let response = transport
        .send(HttpRequest::new("testOp", Method::Get, "/v1/x"))
        .await
        .unwrap();
    assert_eq!(response.request_id().as_deref(), Some("Fq3xv0bW-cdn-id=="));
    let error = check_status(response).unwrap_err();
    // The CDN's request ID, the first of the headers it sent.
    assert_eq!(error.request_id(), Some("Fq3xv0bW-cdn-id=="));
    match error {
        Error::UnexpectedBody {
            status,
            content_type,
            excerpt,
            ..
        } => {
            assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert!(
                excerpt.starts_with("<html><body><h1>504 Gateway Time-out</h1>"),
                "{excerpt}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let (url, _server) = one_shot_server(
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
        Duration::from_secs(5),
    )
    .await;
    let transport = ReqwestTransport::builder(credentials())
        .base_url(url)
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = transport
        .send(HttpRequest::new("slowOp", Method::Get, "/v1/x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                operation: "slowOp",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let transport = ReqwestTransport::builder(credentials())
        .base_url(url)
        .build()
        .unwrap();
    let error = transport
        .send(HttpRequest::new("op", Method::Get, "/v1/x"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
}

#[test]
fn bad_base_url_is_a_config_error() {
    let error = ReqwestTransport::builder(credentials())
        .base_url("not a url")
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
}

/// A listener that counts the connections made to it and never answers.
async fn counting_listener() -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    let handle = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, count, handle)
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    use std::sync::atomic::Ordering;
    let (elsewhere, connections, listener) = counting_listener().await;
    for method in [Method::Get, Method::Post, Method::Delete] {
        let answer: &'static str = Box::leak(
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}/v1/organizations\r\n\
                 x-request-id: r-307\r\ncontent-length: 0\r\n\r\n"
            )
            .into_boxed_str(),
        );
        let (url, server) = one_shot_server(answer, Duration::ZERO).await;
        let transport = ReqwestTransport::builder(credentials())
            .base_url(url)
            .build()
            .unwrap();
        let mut request = HttpRequest::new("organizationGetList", method, "/v1/organizations");
        if method == Method::Post {
            request.body = Some("{}".into());
        }
        // The 307 comes back as it is...
        let response = transport.send(request).await.unwrap();
        assert_eq!(response.status, StatusCode::TEMPORARY_REDIRECT);
        server.await.unwrap();
        // ...and is a typed error naming where it pointed.
        let error = clickhouse_cloud_transport::check_status_of("organizationGetList", response)
            .unwrap_err();
        match &error {
            Error::Redirect {
                status,
                location,
                request_id,
                ..
            } => {
                assert_eq!(*status, StatusCode::TEMPORARY_REDIRECT);
                let expected = format!("{elsewhere}/v1/organizations");
                assert_eq!(location.as_deref(), Some(expected.as_str()));
                assert_eq!(request_id.as_deref(), Some("r-307"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!error.is_retryable(), "{method:?}");
        assert!(!error.may_have_acted());
        assert_eq!(error.request_id(), Some("r-307"));
        let text = error.to_string();
        assert!(text.contains(&elsewhere) && text.contains("307"), "{text}");
    }
    // Nothing ever went to the other origin, credentials or not.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    listener.abort();
}

#[tokio::test]
async fn a_redirect_is_not_retried() {
    use clickhouse_cloud_transport::Resilient;
    let (url, server) = one_shot_server(
        "HTTP/1.1 308 Permanent Redirect\r\nlocation: http://127.0.0.1:9/v1\r\ncontent-length: 0\r\n\r\n",
        Duration::ZERO,
    )
    .await;
    let transport = Resilient::new(
        ReqwestTransport::builder(credentials())
            .base_url(url)
            .build()
            .unwrap(),
    );
    let request = HttpRequest::new(
        "openapiKeyDelete",
        Method::Delete,
        "/v1/organizations/o/keys/k",
    );
    let outcome = transport.send_reporting(request).await;
    assert_eq!(outcome.attempts, 1);
    assert_eq!(outcome.earlier_in_transit, None);
    let response = outcome.result.unwrap();
    assert!(matches!(
        check_status(response),
        Err(Error::Redirect { .. })
    ));
    server.await.unwrap();
}

#[tokio::test]
async fn a_body_cut_off_after_the_head_keeps_the_request_id() {
    let (url, server) = one_shot_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: r-cut\r\n\
         content-length: 500\r\n\r\n{\"result\":[",
        Duration::ZERO,
    )
    .await;
    let transport = ReqwestTransport::builder(credentials())
        .base_url(url)
        .build()
        .unwrap();
    let request = HttpRequest::new("organizationGetList", Method::Get, "/v1/organizations");
    let error = transport.send(request).await.unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error:?}");
    assert_eq!(error.request_id(), Some("r-cut"));
    assert!(error.may_have_acted());
    assert!(error.to_string().contains("r-cut"), "{error}");
    server.await.unwrap();
}

#[tokio::test]
async fn a_body_that_stalls_after_the_head_times_out_with_the_request_id() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = socket.read(&mut buf).await.unwrap();
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                  x-request-id: r-slow\r\ncontent-length: 500\r\n\r\n{\"result\":[",
            )
            .await
            .unwrap();
        // The rest never comes while the client waits.
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let transport = ReqwestTransport::builder(credentials())
        .base_url(url)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let request = HttpRequest::new("organizationGetList", Method::Get, "/v1/organizations");
    let error = transport.send(request).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert_eq!(error.request_id(), Some("r-slow"));
    assert!(error.to_string().contains("r-slow"), "{error}");
    server.abort();
}

#[tokio::test]
async fn a_retry_after_of_days_ends_the_call_at_once_and_pauses_the_key_briefly() {
    use clickhouse_cloud_transport::{RateLimit, RateLimiter, Resilient};
    let (url, server) = one_shot_server(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
         retry-after: 864000\r\nx-request-id: r-429\r\ncontent-length: 30\r\n\r\n\
         {\"error\":\"TOO_MANY_REQUESTS\"}\n",
        Duration::ZERO,
    )
    .await;
    let limit = RateLimit {
        requests: 100,
        window: Duration::from_secs(1),
    };
    let max_pause = Duration::from_millis(500);
    let scope = format!("{url}|days-key");
    let build = || {
        Resilient::new(
            ReqwestTransport::builder(credentials())
                .base_url(url.clone())
                .build()
                .unwrap(),
        )
        .rate_limiter(RateLimiter::shared_with_max_pause(&scope, limit, max_pause))
    };
    let first = build();
    let started = std::time::Instant::now();
    let request = HttpRequest::new("organizationGetList", Method::Get, "/v1/organizations");
    let response = first.send(request.clone()).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let error = check_status(response).unwrap_err();
    assert!(error.is_rate_limited());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(864_000)));
    let text = error.to_string();
    assert!(text.contains("864000 s (10.0 days)"), "{text}");
    server.await.unwrap();

    // The other client of the key waits for the bounded pause, not days:
    // with a budget shorter than the pause it is refused at once, naming
    // a wait no longer than the maximum...
    let short = build().total_timeout(Duration::from_millis(100));
    let refused = short.send(request.clone()).await.unwrap_err();
    match refused {
        Error::RateLimited { wait, .. } => assert!(wait <= max_pause, "{wait:?}"),
        other => panic!("{other:?}"),
    }
    // ...and with a longer one it goes out once the pause is over.
    let (url2, server2) = one_shot_server(
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
        Duration::ZERO,
    )
    .await;
    let second = Resilient::new(
        ReqwestTransport::builder(credentials())
            .base_url(url2)
            .build()
            .unwrap(),
    )
    .rate_limiter(RateLimiter::shared_with_max_pause(&scope, limit, max_pause));
    let started = std::time::Instant::now();
    let response = second.send(request).await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    server2.await.unwrap();
    // The first client kept the shared limiter (and its pause) alive.
    drop(first);
}
