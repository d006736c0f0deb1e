//! Pagination: a [`Page<T>`] for manual control, a stream of every item for "all of it".
//!
//! JumpCloud pages with `limit` (at most 100) and `skip`. A list ends when `skip` reaches the
//! total JumpCloud reports (`totalCount` in v1 bodies, the `X-Total-Count` header in v2), and
//! **not** merely because a page came back short while the total says more (short pages occur
//! before the end when associations point at deleted objects). Only when no total is known
//! does a short page end the list. An empty page always ends it, and a page cap guards against
//! endless paging. Lists are sorted by id so that skipping is stable while data changes.
//!
//! ```no_run
//! # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
//! use futures::TryStreamExt;
//! let first = jc.user_groups().list().limit(50).page(0).await?;
//! println!("{} of {:?}", first.items.len(), first.total);
//! let mut all = jc.user_groups().list().stream();
//! while let Some(group) = all.try_next().await? {
//!     println!("{}", group.name);
//! }
//! # Ok(()) }
//! ```

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::error::{Error, Result};

/// The largest page JumpCloud serves.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The most pages one list may take (10 million items at 100 per page).
pub const MAX_PAGES: u64 = 100_000;

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The total JumpCloud reports, when it does.
    pub total: Option<u64>,
    /// The `skip` of the next page; `None` at the end.
    pub next_skip: Option<u64>,
}

impl<T> Page<T> {
    /// A page fetched at `skip` with `limit`, knowing `total` if reported.
    pub(crate) fn new(items: Vec<T>, skip: u64, limit: u32, total: Option<u64>) -> Self {
        let next_skip = next_skip(items.len(), skip, limit, total);
        Self {
            items,
            total,
            next_skip,
        }
    }
}

/// Where the next page starts, or `None` at the end (see the module docs).
///
/// ```
/// use jumpcloud_api::page::next_skip;
/// assert_eq!(next_skip(60, 0, 100, Some(250)), Some(60)); // short, but the total says more
/// assert_eq!(next_skip(60, 0, 100, None), None);          // short, no total: the end
/// assert_eq!(next_skip(100, 200, 100, Some(300)), None);   // reached the total
/// assert_eq!(next_skip(0, 100, 100, Some(300)), None);     // empty: the end, whatever the total
/// ```
pub fn next_skip(returned: usize, skip: u64, limit: u32, total: Option<u64>) -> Option<u64> {
    if returned == 0 {
        return None;
    }
    let next = skip + returned as u64;
    match total {
        Some(total) => (next < total).then_some(next),
        None => (returned as u64 >= u64::from(limit)).then_some(next),
    }
}

/// Streams every item of a list, fetching pages of `limit` with `fetch(skip, limit)`.
pub(crate) fn stream_all<'a, T, F, Fut>(
    path: &'static str,
    limit: u32,
    fetch: F,
) -> BoxStream<'a, Result<T>>
where
    T: Send + 'a,
    F: Fn(u64, u32) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<Page<T>>> + Send + 'a,
{
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    stream::try_unfold(
        (Some(0u64), 0u64, fetch),
        move |(skip, pages, fetch)| async move {
            let Some(skip) = skip else { return Ok(None) };
            if pages >= MAX_PAGES {
                return Err(Error::Paging {
                    path,
                    reason: format!("more than {MAX_PAGES} pages"),
                });
            }
            let page = fetch(skip, limit).await?;
            let next = page.next_skip;
            Ok(Some((
                stream::iter(page.items.into_iter().map(Ok)),
                (next, pages + 1, fetch),
            )))
        },
    )
    .try_flatten()
    .boxed()
}
