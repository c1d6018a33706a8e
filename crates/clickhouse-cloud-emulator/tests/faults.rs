//! Fault injection, seen from a real HTTP client over loopback.

use std::error::Error as _;
use std::time::{Duration, Instant};

use clickhouse_cloud_emulator::{Emulator, Fault, FaultPlan, RateLimit, RunningEmulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// How long any one request may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(10);

struct Api {
    http: reqwest::Client,
    emulator: RunningEmulator,
}

impl Api {
    async fn start(plan: FaultPlan) -> Self {
        let emulator = Emulator::builder()
            .rate_limit(None)
            .faults(plan)
            .start()
            .await
            .expect("emulator starts");
        Self::with(emulator)
    }

    fn with(emulator: RunningEmulator) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(HANG)
            .build()
            .expect("client builds");
        Self { http, emulator }
    }

    fn keys_url(&self) -> String {
        format!(
            "{}/v1/organizations/{}/keys",
            self.emulator.base_url(),
            self.emulator.organization_id()
        )
    }

    fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        let authorization = self.emulator.bootstrap_credentials().authorization();
        self.http
            .request(method, url)
            .header("authorization", authorization.expose())
    }

    async fn list(&self) -> Result<reqwest::Response, reqwest::Error> {
        self.request(Method::GET, &self.keys_url()).send().await
    }

    fn create_request(&self, name: &str) -> reqwest::RequestBuilder {
        let body = json!({"name": name, "roles": ["developer"]});
        self.request(Method::POST, &self.keys_url())
            .header("content-type", "application/json")
            .body(body.to_string())
    }

    async fn create(&self, name: &str) -> Result<reqwest::Response, reqwest::Error> {
        self.create_request(name).send().await
    }

    fn keys(&self) -> usize {
        self.emulator.key_count(self.emulator.organization_id())
    }

    fn named(&self, name: &str) -> usize {
        self.emulator
            .keys_named(self.emulator.organization_id(), name)
    }

    /// The server still answers normally.
    async fn assert_healthy(&self) {
        let response = self.list().await.expect("the server still answers");
        assert_eq!(response.status(), StatusCode::OK);
    }
}

/// The error chain, for assertion messages.
fn chain(error: &reqwest::Error) -> String {
    let mut text = format!("{error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(" <- {cause}"));
        source = cause.source();
    }
    text
}

/// How reqwest 0.12 reports a body cut off after the head: `bytes()`,
/// `text()` and `chunk()` wrap it as a decode error whose source is a body
/// error whose cause is an unexpected end of file.
fn is_cut_off(error: &reqwest::Error) -> bool {
    let inner = error
        .source()
        .and_then(|source| source.downcast_ref::<reqwest::Error>());
    let mut eof = false;
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            eof |= io.kind() == std::io::ErrorKind::UnexpectedEof;
        }
        source = cause.source();
    }
    error.is_decode() && inner.is_some_and(reqwest::Error::is_body) && eof
}

async fn json_body(response: reqwest::Response) -> Value {
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{response:?}"
    );
    let bytes = response.bytes().await.expect("a whole body");
    serde_json::from_slice(&bytes).expect("a JSON body")
}

#[tokio::test]
async fn too_many_requests_with_retry_after() {
    let api = Api::start(
        FaultPlan::new()
            .on_request(
                1,
                Fault::TooManyRequests {
                    retry_after: Some(Duration::from_millis(1500)),
                },
            )
            .on_request(2, Fault::TooManyRequests { retry_after: None }),
    )
    .await;
    let response = api.create("limited").await.expect("a response");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = response.headers().clone();
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(headers["x-ratelimit-limit"], "10");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["x-ratelimit-reset"], "1.5");
    assert_eq!(headers["x-ratelimit-policy"], "10;w=10");
    let body = json_body(response).await;
    assert_eq!(body["status"], 429);
    assert_eq!(body["error"], "TOO_MANY_REQUESTS: Rate limit exceeded");
    assert!(body["requestId"].is_string());

    let response = api.create("limited").await.expect("a response");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_none());
    assert!(response.headers().get("x-ratelimit-reset").is_none());
    assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(json_body(response).await["status"], 429);

    // Neither request was executed.
    assert_eq!((api.keys(), api.named("limited")), (1, 0));
    assert_eq!(api.emulator.faults_injected(), 2);
    assert_eq!(api.emulator.requests_received(), 2);
}

#[tokio::test]
async fn injected_429_headers_follow_the_configured_window() {
    let emulator = Emulator::builder()
        .rate_limit(Some(RateLimit {
            requests: 3,
            window: Duration::from_millis(2500),
        }))
        .faults(FaultPlan::new().on_request(
            1,
            Fault::TooManyRequests {
                retry_after: Some(Duration::ZERO),
            },
        ))
        .start()
        .await
        .unwrap();
    let api = Api::with(emulator);
    let response = api.list().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "0");
    assert_eq!(response.headers()["x-ratelimit-limit"], "3");
    assert_eq!(response.headers()["x-ratelimit-policy"], "3;w=2.5");
    // The injected 429 did not count against the key: 3 requests still pass.
    for _ in 0..3 {
        assert_eq!(api.list().await.unwrap().status(), StatusCode::OK);
    }
    let real = api.list().await.unwrap();
    assert_eq!(real.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn bare_too_many_requests() {
    let api = Api::start(FaultPlan::new().on_request(1, Fault::BareTooManyRequests)).await;
    let response = api.create("bare").await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_none());
    assert!(response.headers().get("x-ratelimit-limit").is_none());
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"error":"TOO_MANY_REQUESTS"}"#
    );
    assert_eq!(api.named("bare"), 0);
}

#[tokio::test]
async fn status_faults_answer_in_the_servers_place() {
    let api = Api::start(
        FaultPlan::new()
            .on_request(1, Fault::Status(500))
            .on_request(2, Fault::Status(503))
            .on_request(3, Fault::Status(0)),
    )
    .await;
    let expected = [
        (500, "INTERNAL_ERROR: "),
        (503, "SERVICE_UNAVAILABLE: "),
        (500, "INTERNAL_ERROR: "),
    ];
    for (status, code) in expected {
        let response = api.create("status").await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        let body = json_body(response).await;
        assert_eq!(body["status"], status);
        assert!(body["error"].as_str().unwrap().starts_with(code), "{body}");
        assert!(body["requestId"].is_string());
    }
    assert_eq!(api.named("status"), 0);
    api.assert_healthy().await;
}

#[tokio::test]
async fn gateway_faults_are_html() {
    let api = Api::start(
        FaultPlan::new()
            .on_request(1, Fault::HtmlGateway(502))
            .on_request(2, Fault::HtmlGateway(504)),
    )
    .await;
    for (status, title) in [(502, "502 Bad Gateway"), (504, "504 Gateway Timeout")] {
        let response = api.create("gateway").await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["content-type"], "text/html");
        let cdn_id = response.headers()["x-amz-cf-id"].to_str().unwrap();
        assert!(cdn_id.len() == 34 && cdn_id.ends_with("=="), "{cdn_id}");
        let page = response.text().await.unwrap();
        assert!(page.starts_with("<html>"), "{page}");
        assert!(page.contains(&format!("<title>{title}</title>")), "{page}");
        // A JSON client gets a decode error, not a panic.
        assert!(serde_json::from_str::<Value>(&page).is_err());
    }
    assert_eq!(api.named("gateway"), 0);
}

#[tokio::test]
async fn slow_acts_first_then_answers_late() {
    let delay = Duration::from_millis(600);
    let api = Api::start(
        FaultPlan::new()
            .on_request(1, Fault::Slow(delay))
            .on_request(2, Fault::Slow(delay)),
    )
    .await;
    // A client that waits long enough gets the normal answer.
    let started = Instant::now();
    let response = api.create("slow-ok").await.unwrap();
    assert!(started.elapsed() >= delay);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api.named("slow-ok"), 1);

    // A client that gives up sooner times out, after the key was created.
    let error = api
        .create_request("slow-timeout")
        .timeout(Duration::from_millis(150))
        .send()
        .await
        .unwrap_err();
    eprintln!("slow: {}", chain(&error));
    assert!(error.is_timeout(), "{}", chain(&error));
    assert_eq!(api.named("slow-timeout"), 1);
    api.assert_healthy().await;
}

#[tokio::test]
async fn cut_off_body_acts_then_fails_mid_body() {
    let api = Api::start(
        FaultPlan::new()
            .on_request(1, Fault::CutOffBody)
            .on_request(2, Fault::CutOffBody),
    )
    .await;
    let response = api.create("cut").await.expect("the head arrives");
    assert_eq!(response.status(), StatusCode::OK);
    let declared: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 2);
    let error = response.bytes().await.unwrap_err();
    eprintln!("cut-off: {}", chain(&error));
    assert!(is_cut_off(&error), "{}", chain(&error));
    assert!(error.status().is_none() && !error.is_request() && !error.is_connect());
    assert_eq!(api.named("cut"), 1);

    // Streaming the body fails the same way, after the first half.
    let mut response = api.create("cut").await.expect("the head arrives");
    let mut received = 0;
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => panic!("the body ended normally"),
            Err(error) => break error,
        }
    };
    assert!(is_cut_off(&error), "{}", chain(&error));
    assert!(
        received > 0 && received < declared,
        "{received} of {declared}"
    );
    assert_eq!(api.named("cut"), 2);
    api.assert_healthy().await;
}

#[tokio::test]
async fn reset_before_acting_changes_nothing() {
    let api = Api::start(FaultPlan::new().on_request(1, Fault::ResetBeforeActing)).await;
    let before = api.keys();
    let error = api.create("reset-before").await.unwrap_err();
    eprintln!("reset-before: {}", chain(&error));
    assert!(error.is_request(), "{}", chain(&error));
    assert!(error.status().is_none());
    assert!(!error.is_connect() && !error.is_timeout() && !error.is_body());
    assert_eq!(api.keys(), before);
    assert_eq!(api.named("reset-before"), 0);

    // A large body is read (and ignored) first, so the close is clean: the
    // same error, not a connection reset racing the client's upload.
    api.emulator
        .set_faults(FaultPlan::new().on_request(1, Fault::ResetBeforeActing));
    let big = "x".repeat(512 * 1024);
    let error = api.create(&big).await.unwrap_err();
    assert!(error.is_request(), "{}", chain(&error));
    assert!(
        chain(&error).contains("IncompleteMessage"),
        "{}",
        chain(&error)
    );
    assert_eq!(api.keys(), before);
    api.assert_healthy().await;
}

#[tokio::test]
async fn reset_after_acting_keeps_the_effect() {
    let api =
        Api::start(FaultPlan::new().on_operation("openapiKeyCreate", 1, Fault::ResetAfterActing))
            .await;
    let before = api.keys();
    let error = api.create("reset-after").await.unwrap_err();
    eprintln!("reset-after: {}", chain(&error));
    assert!(error.is_request(), "{}", chain(&error));
    assert!(error.status().is_none());
    assert_eq!(api.keys(), before + 1);
    assert_eq!(api.named("reset-after"), 1);
    // A retry creates a second key: the emulator does not deduplicate.
    let response = api.create("reset-after").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api.named("reset-after"), 2);
    let log = api.emulator.fault_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].request, 1);
    assert_eq!(log[0].operation_id, Some("openapiKeyCreate"));
    assert_eq!(log[0].fault, Fault::ResetAfterActing);
}

#[tokio::test]
async fn resets_on_a_reused_connection_are_not_retried_silently() {
    let api = Api::start(FaultPlan::new().on_request(2, Fault::ResetAfterActing)).await;
    api.assert_healthy().await; // opens a keep-alive connection
    let error = api.create("reused").await.unwrap_err();
    eprintln!("reused: {}", chain(&error));
    assert!(error.is_request(), "{}", chain(&error));
    assert_eq!(api.named("reused"), 1);
    assert_eq!(api.emulator.requests_received(), 2);
    api.assert_healthy().await;
}

#[tokio::test]
async fn scripted_plans_count_per_operation_and_method() {
    let api = Api::start(
        FaultPlan::new()
            .on_operation("openapiKeyCreate", 2, Fault::Status(503))
            .on_method(Method::GET, 2, Fault::Status(500))
            .on_request(5, Fault::HtmlGateway(502)),
    )
    .await;
    let mut statuses = Vec::new();
    statuses.push(api.create("a").await.unwrap().status().as_u16()); // 1, create 1
    statuses.push(api.list().await.unwrap().status().as_u16()); // 2, GET 1
    statuses.push(api.create("b").await.unwrap().status().as_u16()); // 3, create 2
    statuses.push(api.list().await.unwrap().status().as_u16()); // 4, GET 2
    statuses.push(api.create("c").await.unwrap().status().as_u16()); // 5
    statuses.push(api.create("d").await.unwrap().status().as_u16()); // 6
    assert_eq!(statuses, [200, 200, 503, 500, 502, 200]);
    let requests: Vec<u64> = api
        .emulator
        .fault_log()
        .iter()
        .map(|entry| entry.request)
        .collect();
    assert_eq!(requests, [3, 4, 5]);
    assert_eq!(
        (
            api.named("a"),
            api.named("b"),
            api.named("c"),
            api.named("d")
        ),
        (1, 0, 0, 1)
    );

    // A new plan counts from 1 again; unknown routes count too.
    api.emulator
        .set_faults(FaultPlan::new().on_request(2, Fault::Status(503)));
    assert_eq!(api.emulator.faults_injected(), 0);
    let unknown = format!("{}/v1/nowhere", api.emulator.base_url());
    let first = api.request(Method::GET, &unknown).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::NOT_FOUND);
    let second = api.request(Method::GET, &unknown).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.emulator.fault_log()[0].operation_id, None);

    api.emulator.set_faults(FaultPlan::new());
    for _ in 0..3 {
        api.assert_healthy().await;
    }
    assert_eq!(api.emulator.faults_injected(), 0);
}

/// The status (or error kind) of each of `count` list requests.
async fn outcomes(api: &Api, count: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..count {
        let outcome = match api.list().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(_) => status.to_string(),
                    Err(_) => format!("{status}+cut"),
                }
            }
            Err(error) => format!("error(request={})", error.is_request()),
        };
        seen.push(outcome);
    }
    seen
}

#[tokio::test]
async fn random_plans_are_deterministic() {
    let faults = [
        Fault::Status(503),
        Fault::HtmlGateway(502),
        Fault::TooManyRequests { retry_after: None },
        Fault::ResetBeforeActing,
        Fault::CutOffBody,
    ];
    let api = Api::start(FaultPlan::random(7, 0.5, faults.clone())).await;
    let first = outcomes(&api, 30).await;
    let first_log = api.emulator.fault_log();
    assert!(first_log.len() >= 5 && first_log.len() <= 25, "{first:?}");
    assert_eq!(
        first.iter().filter(|outcome| *outcome != "200").count(),
        first_log.len()
    );

    // Same seed, same order: same faults, on a new server as on a reset plan.
    api.emulator
        .set_faults(FaultPlan::random(7, 0.5, faults.clone()));
    assert_eq!(outcomes(&api, 30).await, first);
    assert_eq!(api.emulator.fault_log(), first_log);
    let other = Api::start(FaultPlan::random(7, 0.5, faults.clone())).await;
    assert_eq!(outcomes(&other, 30).await, first);

    let reseeded = Api::start(FaultPlan::random(8, 0.5, faults)).await;
    assert_ne!(outcomes(&reseeded, 30).await, first);
}

#[tokio::test]
async fn faults_under_concurrency_neither_hang_nor_kill_the_server() {
    let api = Api::start(FaultPlan::random(
        3,
        0.6,
        [
            Fault::ResetBeforeActing,
            Fault::ResetAfterActing,
            Fault::CutOffBody,
            Fault::Slow(Duration::from_millis(50)),
            Fault::Status(503),
        ],
    ))
    .await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let request = if i % 2 == 0 {
            api.request(Method::GET, &api.keys_url())
        } else {
            api.create_request(&format!("k{i}"))
        };
        tasks.push(tokio::spawn(async move {
            match request.send().await {
                Ok(response) => {
                    let _ = response.bytes().await;
                }
                Err(error) => assert!(!error.is_timeout(), "{}", chain(&error)),
            }
        }));
    }
    for task in tasks {
        task.await.expect("no panic");
    }
    assert_eq!(api.emulator.requests_received(), 40);
    api.emulator.set_faults(FaultPlan::new());
    api.assert_healthy().await;
}
