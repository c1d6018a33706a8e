//! The comparisons themselves, shared by the criterion benches (absolute
//! figures) and the `ratios` bench (interleaved, paired ratios).

use std::time::Duration;

use clickhouse_cloud_auth::KeyMaterial;
use clickhouse_cloud_client::Client;
use clickhouse_cloud_client::transport::{NoRetry, RateLimit};
use clickhouse_cloud_types::ops::{ActivityListQuery, InstanceGetList, OrganizationPath};
use clickhouse_cloud_types::{Activity, ApiKey, Envelope, Request, Service};
use serde::de::IgnoredAny;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::paired::Contender;
use crate::server::FixedServer;
use crate::{FixedTransport, bodies, borrowed};

/// Which body a decoding case decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// 1,000 API keys.
    Keys,
    /// 10,000 activities.
    Activities,
    /// 200 services.
    Services,
}

/// One decoding comparison: a body and its name.
#[derive(Debug, Clone)]
pub struct DecodeCase {
    /// Criterion group, e.g. `decode/keys_1000`.
    pub group: &'static str,
    /// Which body.
    pub kind: Body,
    /// The response bytes.
    pub body: Vec<u8>,
}

/// The three bodies of the issue.
pub fn decode_cases() -> Vec<DecodeCase> {
    vec![
        DecodeCase {
            group: "decode/keys_1000",
            kind: Body::Keys,
            body: bodies::key_list(1000),
        },
        DecodeCase {
            group: "decode/activities_10000",
            kind: Body::Activities,
            body: bodies::activity_list(10_000),
        },
        DecodeCase {
            group: "decode/services_200",
            kind: Body::Services,
            body: bodies::service_list(200),
        },
    ]
}

fn decode<'de, T: serde::Deserialize<'de>>(body: &'de [u8]) -> T {
    serde_json::from_slice(std::hint::black_box(body)).expect("the body decodes")
}

/// Decoding as our client does it: through `serde_path_to_error`, so that a
/// mismatch names its JSON path.
fn decode_tracking_path<'de, T: serde::Deserialize<'de>>(body: &'de [u8]) -> T {
    let mut deserializer = serde_json::Deserializer::from_slice(std::hint::black_box(body));
    serde_path_to_error::deserialize(&mut deserializer).expect("the body decodes")
}

/// Our client's decode path, exactly as a call runs it: `Client::send` over
/// an in-memory transport (no limiter, no retries, no socket).
fn in_memory_client(body: &[u8]) -> (Client, Runtime) {
    let client = Client::builder()
        .transport(FixedTransport::new(body.to_vec()))
        .rate_limit(None)
        .retry_policy(NoRetry)
        .build()
        .expect("client builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime starts");
    (client, runtime)
}

impl DecodeCase {
    /// The decoders of this body: `ours` (our types), `ours_path_to_error` (our types
    /// through `serde_path_to_error`, as the client decodes), `ours_client`
    /// (the client's whole path), `official` (feature `official`),
    /// `zero_copy` and `parse_only`.
    pub fn contenders(&self) -> Vec<Contender<'_>> {
        let body = self.body.as_slice();
        let mut list = Vec::new();
        match self.kind {
            Body::Keys => {
                list.push(Contender::new("ours", move || {
                    decode::<Envelope<Vec<ApiKey>>>(body)
                }));
                list.push(Contender::new("ours_path_to_error", move || {
                    decode_tracking_path::<Envelope<Vec<ApiKey>>>(body)
                }));
                let (client, runtime) = in_memory_client(body);
                list.push(Contender::new("ours_client", move || {
                    runtime
                        .block_on(client.api_keys(Uuid::nil()).list())
                        .expect("ok")
                }));
                #[cfg(feature = "official")]
                list.push(Contender::new("official", move || {
                    use clickhouse_cloud_api::models::{ApiKey, ApiResponse};
                    decode::<ApiResponse<Vec<ApiKey>>>(body)
                }));
                list.push(Contender::new("zero_copy", move || {
                    decode::<borrowed::Envelope<borrowed::ApiKey<'_>>>(body)
                }));
            }
            Body::Activities => {
                list.push(Contender::new("ours", move || {
                    decode::<Envelope<Vec<Activity>>>(body)
                }));
                list.push(Contender::new("ours_path_to_error", move || {
                    decode_tracking_path::<Envelope<Vec<Activity>>>(body)
                }));
                let (client, runtime) = in_memory_client(body);
                list.push(Contender::new("ours_client", move || {
                    runtime
                        .block_on(
                            client
                                .activities(Uuid::nil())
                                .list(ActivityListQuery::default()),
                        )
                        .expect("ok")
                }));
                #[cfg(feature = "official")]
                list.push(Contender::new("official", move || {
                    use clickhouse_cloud_api::models::{Activity, ApiResponse};
                    decode::<ApiResponse<Vec<Activity>>>(body)
                }));
                list.push(Contender::new("zero_copy", move || {
                    decode::<borrowed::Envelope<borrowed::Activity<'_>>>(body)
                }));
            }
            Body::Services => {
                list.push(Contender::new("ours", move || {
                    decode::<Envelope<Vec<Service>>>(body)
                }));
                list.push(Contender::new("ours_path_to_error", move || {
                    decode_tracking_path::<Envelope<Vec<Service>>>(body)
                }));
                let (client, runtime) = in_memory_client(body);
                list.push(Contender::new("ours_client", move || {
                    let path = OrganizationPath {
                        organization_id: Uuid::nil(),
                    };
                    runtime
                        .block_on(client.send(Request::<InstanceGetList>::new(path, ())))
                        .expect("ok")
                }));
                #[cfg(feature = "official")]
                list.push(Contender::new("official", move || {
                    use clickhouse_cloud_api::models::{ApiResponse, Service};
                    decode::<ApiResponse<Vec<Service>>>(body)
                }));
                list.push(Contender::new("zero_copy", move || {
                    decode::<borrowed::Envelope<borrowed::Service<'_>>>(body)
                }));
            }
        }
        list.push(Contender::new("parse_only", move || {
            decode::<IgnoredAny>(body)
        }));
        list
    }
}

/// Keys in the recorded list of the request benches: a typical
/// organization's.
pub const REQUEST_KEYS: u64 = 10;
/// Requests in flight in the concurrent case.
pub const CONCURRENCY: usize = 32;
/// Pages of the paged listing case.
pub const PAGES: u64 = 5;
/// Keys per page of the paged listing case.
pub const PAGE_SIZE: u64 = 50;

/// Bare reqwest: the same request our client sends, decoded into the same
/// types, with nothing else.
#[derive(Debug, Clone)]
pub struct Bare {
    client: reqwest::Client,
    url: String,
    authorization: String,
}

impl Bare {
    /// `GET` the list and decode it.
    pub async fn list(&self) -> Vec<ApiKey> {
        self.page(&[]).await.result.unwrap_or_default()
    }

    /// Every page of the list, `PAGE_SIZE` keys a page, following
    /// `nextCursor`.
    pub async fn list_pages(&self) -> Vec<ApiKey> {
        let limit = PAGE_SIZE.to_string();
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", limit.as_str())];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.as_str()));
            }
            let page = self.page(&query).await;
            keys.extend(page.result.unwrap_or_default());
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return keys,
            }
        }
    }

    async fn page(&self, query: &[(&str, &str)]) -> Envelope<Vec<ApiKey>> {
        let response = self
            .client
            .get(&self.url)
            .query(query)
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .expect("sent");
        assert!(response.status().is_success());
        let body = response.bytes().await.expect("body");
        serde_json::from_slice(&body).expect("decodes")
    }
}

/// The request-overhead setup: a local server of a recorded key list, our
/// client and bare reqwest pointed at it, and the runtime they run on.
#[derive(Debug)]
pub struct RequestCase {
    runtime: Runtime,
    server: Option<FixedServer>,
    paged_server: Option<FixedServer>,
    ours: Client,
    bare: Bare,
    ours_paged: Client,
    bare_paged: Bare,
}

impl RequestCase {
    /// Starts the server. Installs the sink tracing subscriber ("tracing
    /// on"); our client has its rate limiter on but far from binding.
    pub fn start() -> Self {
        crate::install_sink_subscriber();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime starts");
        let server = runtime
            .block_on(FixedServer::start(bodies::key_list(REQUEST_KEYS)))
            .expect("server starts");
        let pages = (0..PAGES)
            .map(|page| bodies::key_page(page, PAGES, PAGE_SIZE).into())
            .collect();
        let paged_server = runtime
            .block_on(FixedServer::start_paged(pages))
            .expect("server starts");
        let credentials = KeyMaterial::generate().into_credentials();
        let client_for = |server: &FixedServer| {
            Client::builder()
                .credentials(credentials.clone())
                .base_url(server.base_url())
                .rate_limit(Some(RateLimit {
                    requests: 1_000_000,
                    window: Duration::from_secs(1),
                }))
                .build()
                .expect("client builds")
        };
        let bare_for = |server: &FixedServer| Bare {
            client: reqwest::Client::new(),
            url: format!(
                "{}/v1/organizations/{}/keys",
                server.base_url(),
                Uuid::nil()
            ),
            authorization: credentials.authorization().expose().to_owned(),
        };
        Self {
            ours: client_for(&server),
            bare: bare_for(&server),
            ours_paged: client_for(&paged_server),
            bare_paged: bare_for(&paged_server),
            runtime,
            server: Some(server),
            paged_server: Some(paged_server),
        }
    }

    /// A listing of `PAGES` pages of `PAGE_SIZE` keys (a page a request),
    /// through our client's stream and through bare reqwest following
    /// `nextCursor` by hand.
    pub fn paged_contenders(&self) -> Vec<Contender<'_>> {
        let runtime = &self.runtime;
        let ours = &self.ours_paged;
        let bare = &self.bare_paged;
        vec![
            Contender::new("ours", move || {
                runtime.block_on(async {
                    let keys = ours
                        .api_keys(Uuid::nil())
                        .stream()
                        .page_size(PAGE_SIZE as u32)
                        .all()
                        .await
                        .expect("ok");
                    vec![keys.len()]
                })
            }),
            Contender::new("bare_reqwest", move || {
                runtime.block_on(async { vec![bare.list_pages().await.len()] })
            }),
        ]
    }

    /// `ours` and `bare_reqwest`, one request per iteration, or
    /// [`CONCURRENCY`] at once when `concurrent`.
    pub fn contenders(&self, concurrent: bool) -> Vec<Contender<'_>> {
        let n = if concurrent { CONCURRENCY } else { 1 };
        let runtime = &self.runtime;
        let ours = &self.ours;
        let bare = &self.bare;
        vec![
            Contender::new("ours", move || {
                runtime.block_on(async {
                    if n == 1 {
                        return vec![ours.api_keys(Uuid::nil()).list().await.expect("ok").len()];
                    }
                    let mut tasks = JoinSet::new();
                    for _ in 0..n {
                        let keys = ours.api_keys(Uuid::nil());
                        tasks.spawn(async move { keys.list().await.expect("ok").len() });
                    }
                    tasks.join_all().await
                })
            }),
            Contender::new("bare_reqwest", move || {
                runtime.block_on(async {
                    if n == 1 {
                        return vec![bare.list().await.len()];
                    }
                    let mut tasks = JoinSet::new();
                    for _ in 0..n {
                        let bare = bare.clone();
                        tasks.spawn(async move { bare.list().await.len() });
                    }
                    tasks.join_all().await
                })
            }),
        ]
    }
}

impl Drop for RequestCase {
    fn drop(&mut self) {
        // Stop the server inside its runtime.
        let _guard = self.runtime.enter();
        self.server.take();
        self.paged_server.take();
    }
}
