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
