//! Paged lists as streams of items.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};

use clickhouse_cloud_transport::{BoxFuture, StatusCode};
use clickhouse_cloud_types::Request;
use clickhouse_cloud_types::operation::{Page, PageStyle, Paged};
use futures_core::Stream;

use crate::{Client, Error, Response};

/// Items per page unless [`Items::page_size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Every item of a paged list, as a [`Stream`]: pages are fetched one at a
/// time, when the items before them are used up, each through the client's
/// rate limiter and retries.
///
/// The page size asked for is at most the list's maximum from the spec
/// ([`Paged::MAX_LIMIT`]). The stream ends on what the service says, never
/// on a page shorter than asked (a service may cap pages below the size
/// asked for): a list paged by cursor ends on a page without `nextCursor`
/// (absent or `null`) or an empty page; one paged by offset ends on an
/// empty page, on a page shorter than the `limit` its envelope names, or
/// once `totalCount` items have come. A service that hands out a cursor it
/// gave before would loop for ever: the stream ends with
/// [`Error::RepeatedCursor`] instead (and one paged by offset whose next
/// page repeats the one before, with [`Error::RepeatedPage`]). Any failed page ends it with that
/// page's error, after the items already fetched.
///
/// ```no_run
/// use futures_util::TryStreamExt as _;
/// use clickhouse_cloud_client::types::ops::{OpenapiKeyGetList, OpenapiKeyGetListQuery, OrganizationPath};
/// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
/// let path = OrganizationPath { organization_id: org };
/// let mut keys = client.items::<OpenapiKeyGetList>(path, OpenapiKeyGetListQuery::default()).page_size(50);
/// while let Some(key) = keys.try_next().await? {
///     println!("{:?}", key.name);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a stream does nothing until polled"]
pub struct Items<O: Paged<Body = ()>> {
    client: Client,
    path: O::Path,
    query: O::Query,
    page_size: u32,
    next: Page,
    buffer: VecDeque<O::Item>,
    seen_cursors: HashSet<String>,
    /// A fingerprint of the last page read by offset, to tell a service
    /// that ignores `offset` (and would answer the same page for ever).
    last_offset_page: Option<u64>,
    pages: u32,
    last: Option<PageMeta>,
    state: State<O>,
}

/// What the last page said about itself.
#[derive(Debug, Clone)]
struct PageMeta {
    request_id: Option<String>,
    status: StatusCode,
    total_count: Option<i64>,
}

enum State<O: Paged<Body = ()>> {
    /// The next page is to be fetched.
    Ready,
    Fetching(BoxFuture<'static, Result<Response<O::Output>, Error>>),
    /// Hand out the buffer, then this error.
    Failing(Error),
    /// Hand out the buffer, then end.
    Done,
}

// The stream holds its in-flight page in a `Pin<Box<_>>` and never pins
// a field in place, so it can move freely.
impl<O: Paged<Body = ()>> Unpin for Items<O> {}

impl<O: Paged<Body = ()>> std::fmt::Debug for Items<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items")
            .field("operation", &O::ID)
            .field("page_size", &self.page_size)
            .field("pages", &self.pages)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl<O: Paged<Body = ()>> Items<O> {
    pub(crate) fn new(client: Client, path: O::Path, query: O::Query) -> Self {
        Self {
            client,
            path,
            query,
            page_size: clamp_page_size::<O>(DEFAULT_PAGE_SIZE),
            next: Page::default(),
            buffer: VecDeque::new(),
            seen_cursors: HashSet::new(),
            last_offset_page: None,
            pages: 0,
            last: None,
            state: State::Ready,
        }
    }

    /// Asks for `size` items per page (at least 1, at most the list's
    /// [`Paged::MAX_LIMIT`]; default [`DEFAULT_PAGE_SIZE`], or the maximum
    /// when that is smaller). Takes effect from the next page fetched.
    ///
    /// ```
    /// use clickhouse_cloud_client::types::ops::UdfListQuery;
    /// # fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) {
    /// let udfs = client.udfs(org).udf_list_stream(UdfListQuery::default()).page_size(5000);
    /// assert_eq!(udfs.asked_page_size(), 100); // the spec's maximum for udfList
    /// # }
    /// ```
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = clamp_page_size::<O>(size);
        self
    }

    /// The page size asked for: [`Items::page_size`] within the list's
    /// bounds.
    pub fn asked_page_size(&self) -> u32 {
        self.page_size
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u32 {
        self.pages
    }

    /// How many items all pages hold, when the last page said (best
    /// effort: the service may leave it out).
    pub fn total_count(&self) -> Option<i64> {
        self.last.as_ref().and_then(|meta| meta.total_count)
    }

    /// Every item of every page, in order.
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::ops::UdfListQuery;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let udfs = client.udfs(org).udf_list_stream(UdfListQuery::default()).all().await?;
    /// println!("{} functions", udfs.len());
    /// # Ok(()) }
    /// ```
    pub async fn all(self) -> Result<Vec<O::Item>, Error> {
        Ok(self.collect_response().await?.into_result())
    }

    /// Every item, with the last page's `requestId` and status, and the
    /// total count the first page gave. Pages are fetched one after the
    /// other, straight into one list (no stream machinery on the way).
    pub(crate) async fn collect_response(mut self) -> Result<Response<Vec<O::Item>>, Error> {
        let mut items: Vec<O::Item> = Vec::new();
        let mut first_total = None;
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Ready => {
                    let response = self.client.send(self.next_request()).await?;
                    let page = self.record_page(response);
                    if items.is_empty() {
                        items = page;
                    } else {
                        items.extend(page);
                    }
                    if first_total.is_none() {
                        first_total = self.total_count();
                    }
                }
                State::Fetching(page) => {
                    let page = self.record_page(page.await?);
                    items.extend(page);
                }
                State::Failing(error) => return Err(error),
                State::Done => break,
            }
        }
        items.splice(0..0, self.buffer.drain(..));
        let meta = self.last.take().unwrap_or(PageMeta {
            request_id: None,
            status: StatusCode::OK,
            total_count: None,
        });
        Ok(Response::from_parts(
            items,
            meta.request_id,
            meta.status,
            None,
            first_total.or(meta.total_count),
        ))
    }

    /// The request for the next page.
    fn next_request(&self) -> Request<O> {
        let mut page = self.next.clone();
        page.limit = Some(self.page_size);
        let mut query = self.query.clone();
        O::set_page(&mut query, &page);
        Request::<O>::with_parts(self.path.clone(), query, ())
    }

    fn start_fetch(&mut self) {
        let request = self.next_request();
        let client = self.client.clone();
        self.state = State::Fetching(Box::pin(async move { client.send(request).await }));
    }

    /// Takes one page in: gives its items and decides what comes next.
    fn record_page(&mut self, response: Response<O::Output>) -> Vec<O::Item> {
        self.pages += 1;
        let next_cursor = response.next_cursor().map(str::to_owned);
        let page_limit = response.page_limit();
        self.last = Some(PageMeta {
            request_id: response.request_id().map(str::to_owned),
            status: response.status(),
            total_count: response.total_count(),
        });
        let total_count = response.total_count();
        let items = O::items(response.into_result());
        let count = items.len();
        self.state = match O::STYLE {
            _ if count == 0 => State::Done,
            PageStyle::Cursor => match next_cursor.filter(|c| !c.is_empty()) {
                None => State::Done,
                Some(cursor) if !self.seen_cursors.insert(cursor.clone()) => {
                    State::Failing(Error::RepeatedCursor {
                        operation: O::ID,
                        page: self.pages,
                        request_id: self.last.as_ref().and_then(|m| m.request_id.clone()),
                    })
                }
                Some(cursor) => {
                    self.next.cursor = Some(cursor);
                    State::Ready
                }
            },
            PageStyle::Offset => {
                let fingerprint = fingerprint(&items);
                if fingerprint.is_some() && fingerprint == self.last_offset_page {
                    self.state = State::Failing(Error::RepeatedPage {
                        operation: O::ID,
                        page: self.pages,
                        request_id: self.last.as_ref().and_then(|m| m.request_id.clone()),
                    });
                    return Vec::new();
                }
                self.last_offset_page = fingerprint;
                let seen = self.next.offset.unwrap_or(0) + count as u64;
                // A page shorter than the page size the service says it
                // used is the last; one merely shorter than asked is not
                // (the service may cap pages without saying so).
                let short_of_its_limit =
                    page_limit.is_some_and(|limit| limit > 0 && (count as i64) < limit);
                let all_seen = total_count
                    .is_some_and(|total| i64::try_from(seen).unwrap_or(i64::MAX) >= total);
                if short_of_its_limit || all_seen {
                    State::Done
                } else {
                    self.next.offset = Some(seen);
                    State::Ready
                }
            }
        };
        items
    }
}

/// A hash of a page's items as JSON; `None` when they do not serialize.
fn fingerprint<T: serde::Serialize>(items: &[T]) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let bytes = serde_json::to_vec(items).ok()?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    Some(hasher.finish())
}

/// `size` within 1 and the list's maximum from the spec.
fn clamp_page_size<O: Paged>(size: u32) -> u32 {
    let size = size.max(1);
    O::MAX_LIMIT.map_or(size, |max| size.min(max.max(1)))
}

impl<O: Paged<Body = ()>> Stream for Items<O> {
    type Item = Result<O::Item, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            // Whatever is taken out is put back unless the stream ends.
            match std::mem::replace(&mut this.state, State::Done) {
                State::Done => return Poll::Ready(None),
                State::Failing(error) => return Poll::Ready(Some(Err(error))),
                State::Ready => this.start_fetch(),
                State::Fetching(mut page) => match page.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.state = State::Fetching(page);
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok(response)) => {
                        let items = this.record_page(response);
                        this.buffer.extend(items);
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Some(Err(error))),
                },
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.state {
            State::Done => (self.buffer.len(), Some(self.buffer.len())),
            _ => (self.buffer.len(), None),
        }
    }
}
