//! A transport that records every exchange of another one as a cassette.

use std::sync::{Arc, Mutex, PoisonError};

use crate::replay::Cassette;
use crate::{BoxFuture, Error, HttpRequest, HttpResponse, Transport};

/// Wraps any [`Transport`] and keeps each request with its response as a
/// [`Cassette`].
///
/// Only what [`HttpRequest`] carries is recorded (no headers: the inner
/// transport adds `Authorization` itself, so it never reaches a cassette);
/// of the response, the status, the body and the headers listed in
/// [`crate::replay::RECORDED_HEADERS`], the request-ID headers
/// ([`crate::REQUEST_ID_HEADERS`]) and `x-ratelimit-*`. Exchanges that
/// fail below HTTP (connect errors, timeouts) are passed on, not recorded.
/// Secrets in response bodies (a created key's `keySecret`) are recorded as
/// they are: scrub cassettes before writing them anywhere.
///
/// Clones share the recording.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use clickhouse_cloud_transport::record::RecordingTransport;
/// use clickhouse_cloud_transport::replay::{Cassette, ReplayTransport};
/// use clickhouse_cloud_transport::{HttpRequest, Method, Transport};
/// # let cassette = Cassette::from_json(r#"{"operation": "organizationGetList",
/// #   "request": {"method": "GET", "path": "/v1/organizations"},
/// #   "response": {"status": 200, "body": {"result": []}}}"#).unwrap();
/// let recorder = RecordingTransport::new(ReplayTransport::new([cassette]));
/// let request = HttpRequest::new("organizationGetList", Method::Get, "/v1/organizations");
/// recorder.send(request).await.unwrap();
/// let recorded = recorder.take();
/// assert_eq!(recorded.len(), 1);
/// assert_eq!(recorded[0].request.path, "/v1/organizations");
/// assert!(recorder.take().is_empty());
/// # });
/// ```
#[derive(Debug)]
pub struct RecordingTransport<T> {
    inner: Arc<T>,
    log: Arc<Mutex<Vec<Cassette>>>,
}

impl<T> Clone for RecordingTransport<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            log: Arc::clone(&self.log),
        }
    }
}

impl<T: Transport> RecordingTransport<T> {
    /// Records what `inner` sends and receives.
    pub fn new(inner: T) -> Self {
        Self {
            inner: Arc::new(inner),
            log: Arc::default(),
        }
    }
}

impl<T> RecordingTransport<T> {
    /// The exchanges recorded since the last [`RecordingTransport::take`],
    /// oldest first, leaving none behind.
    pub fn take(&self) -> Vec<Cassette> {
        std::mem::take(&mut *self.lock())
    }

    /// A copy of the exchanges recorded so far.
    pub fn cassettes(&self) -> Vec<Cassette> {
        self.lock().clone()
    }

    /// How many exchanges are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Cassette>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Transport> Transport for RecordingTransport<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        Box::pin(async move {
            let copy = request.clone();
            let response = self.inner.send(request).await?;
            let cassette = Cassette::from_exchange(&copy, &response);
            self.lock().push(cassette);
            Ok(response)
        })
    }

    fn is_resilient(&self) -> bool {
        self.inner.is_resilient()
    }
}
