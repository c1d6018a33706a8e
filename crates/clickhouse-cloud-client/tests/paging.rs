//! Paged lists as streams over the emulator: every item once, in order, at
//! any page size, fetched lazily through the client's limiter.

use std::collections::HashSet;
use std::time::Duration;

use clickhouse_cloud_client::transport::{NoRetry, RateLimit};
use clickhouse_cloud_client::types::ops::OrganizationGetListQuery;
use clickhouse_cloud_client::{Client, NewApiKey, Role};
use clickhouse_cloud_emulator::{Emulator, RunningEmulator};
use futures_util::StreamExt as _;

/// Keys in the organization: the bootstrap key and 299 more.
const KEYS: usize = 300;

async fn emulator_with_keys() -> RunningEmulator {
    let emulator = Emulator::builder()
        .rate_limit(None)
        .key_limit(KEYS + 10)
        .start()
        .await
        .expect("emulator starts");
    let keys = client(&emulator, None).api_keys(emulator.organization_id());
    for n in 1..KEYS {
        keys.create(NewApiKey::new(format!("key-{n:03}")).role(Role::Developer))
            .await
            .unwrap();
    }
    emulator
}

fn client(emulator: &RunningEmulator, limit: Option<RateLimit>) -> Client {
    Client::builder()
        .credentials(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .rate_limit(limit)
        .retry_policy(NoRetry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_key_once_at_page_sizes_1_7_and_250() {
    let emulator = emulator_with_keys().await;
    let org = emulator.organization_id();
    let keys = client(&emulator, None).api_keys(org);
    let mut orders = Vec::new();
    for page_size in [1u32, 7, 250] {
        let before = emulator.requests_received();
        let mut stream = keys.stream().page_size(page_size);
        let mut ids = Vec::new();
        while let Some(key) = stream.next().await {
            ids.push(key.unwrap().id.unwrap());
        }
        let pages = KEYS.div_ceil(page_size as usize);
        assert_eq!(ids.len(), KEYS, "page size {page_size}");
        let distinct: HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), KEYS, "page size {page_size}");
        assert_eq!(
            stream.pages_fetched() as usize,
            pages,
            "page size {page_size}"
        );
        assert_eq!(
            (emulator.requests_received() - before) as usize,
            pages,
            "page size {page_size}"
        );
        assert_eq!(stream.total_count(), Some(KEYS as i64));
        orders.push(ids);
    }
    // The same order whatever the page size.
    assert_eq!(orders[0], orders[1]);
    assert_eq!(orders[1], orders[2]);

    // `list` gathers every page, as before paging.
    let listed = keys.list().await.unwrap();
    assert_eq!(listed.len(), KEYS);
    assert_eq!(listed.total_count(), Some(KEYS as i64));
    assert!(listed.request_id().is_some());
}

#[tokio::test]
async fn pages_are_fetched_only_when_needed_and_through_the_limiter() {
    let emulator = emulator_with_keys().await;
    let org = emulator.organization_id();
    // 5 requests per 500 ms: 12 pages of 7 need at least two more windows.
    let limit = RateLimit {
        requests: 5,
        window: Duration::from_millis(500),
    };
    let keys = client(&emulator, Some(limit)).api_keys(org);

    let before = emulator.requests_received();
    let stream = keys.stream().page_size(7);
    // Nothing is fetched before the stream is polled.
    assert_eq!(emulator.requests_received(), before);
    let first_ten: Vec<_> = stream.take(10).collect().await;
    assert_eq!(first_ten.len(), 10);
    // Ten items are two pages of seven, no more.
    assert_eq!(emulator.requests_received() - before, 2);

    let started = std::time::Instant::now();
    let first_84: Vec<_> = keys.stream().page_size(7).take(84).collect().await;
    assert!(first_84.iter().all(Result::is_ok));
    // 12 pages, 5 per window, 2 already spent in this window: the last
    // page waits for the third window.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn organizations_page_too() {
    let emulator = Emulator::builder().rate_limit(None).start().await.unwrap();
    let client = client(&emulator, None);
    let orgs = client
        .items::<clickhouse_cloud_client::types::ops::OrganizationGetList>(
            (),
            OrganizationGetListQuery::default(),
        )
        .page_size(1)
        .all()
        .await
        .unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].id, Some(emulator.organization_id()));
}
