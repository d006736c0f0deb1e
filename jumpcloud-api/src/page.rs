//! Pagination: a [`Page<T>`] for manual control, a stream of every item for "all of it".
//!
//! JumpCloud pages with `limit` (at most 100) and `skip`, and the rules here are the ones a
//! list needs to be neither duplicated nor truncated when JumpCloud misbehaves:
//!
//! - **Positional when a total is known** (`totalCount` in v1 bodies, `X-Total-Count` in v2):
//!   the next page starts at `skip + limit`, whatever the page held, until `skip` reaches
//!   the total. JumpCloud shortens pages before the end (associations pointing at deleted
//!   objects, TheJumpCloud/support#369); advancing by the number returned would read the
//!   same items again.
//! - **An empty page before the total is not the end**: up to [`MAX_EMPTY_PAGES`] of them in
//!   a row are read through; more is an [`Error::Paging`], never a silently short list (a
//!   short member list is removed access).
//! - **Without a total**, a page shorter than `limit` is the end.
//! - Lists are sorted by id (`_id` in v1, `id` in v2, JumpCloud's advice for stable paging),
//!   items are de-duplicated by id as a last line of defence (and the duplicates logged), and
//!   a page cap ([`MAX_PAGES`]) guards against endless paging.
//! - **One unreadable record does not fail its page**: it is left out and reported as a
//!   [`Skipped`] (by id when it has one), so that a caller can treat it as unknown rather
//!   than absent.
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

use std::collections::HashSet;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::error::{Error, Result};

/// The largest page JumpCloud serves.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The most pages one list may take (10 million items at 100 per page).
pub const MAX_PAGES: u64 = 100_000;

/// The most empty pages in a row read through before the total is reached; one more is an
/// [`Error::Paging`].
pub const MAX_EMPTY_PAGES: u32 = 5;

/// A record of a page that could not be read, left out of the page's items.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// Its id (`_id` or `id`), when the record had a readable one.
    pub id: Option<String>,
    /// Its position in the list (`skip` of its page plus its index on the page).
    pub position: u64,
    /// Why it could not be read.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.id {
            Some(id) => write!(f, "record {id} (at {}): {}", self.position, self.reason),
            None => write!(f, "record at {} (no id): {}", self.position, self.reason),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The records of the page that could not be read.
    pub skipped: Vec<Skipped>,
    /// The total JumpCloud reports, when it does.
    pub total: Option<u64>,
    /// The `skip` of the next page; `None` at the end.
    pub next_skip: Option<u64>,
    /// The id of each item, for de-duplication across pages.
    ids: Vec<Option<String>>,
}

impl<T> Page<T> {
    /// A page fetched at `skip` with `limit`, of `returned` records (read or skipped),
    /// knowing `total` if reported.
    pub(crate) fn new(
        items: Vec<(T, Option<String>)>,
        skipped: Vec<Skipped>,
        skip: u64,
        limit: u32,
        total: Option<u64>,
    ) -> Self {
        let returned = items.len() + skipped.len();
        let (items, ids) = items.into_iter().unzip();
        Self {
            next_skip: next_skip(returned, skip, limit, total),
            items,
            ids,
            skipped,
            total,
        }
    }

    /// Whether the page held no record at all, read or skipped.
    fn is_empty(&self) -> bool {
        self.items.is_empty() && self.skipped.is_empty()
    }
}

/// Where the next page starts, or `None` at the end (see the module docs). `returned` counts
/// every record of the page, read or skipped.
///
/// ```
/// use jumpcloud_api::page::next_skip;
/// assert_eq!(next_skip(60, 0, 100, Some(250)), Some(100)); // short, but the total says more
/// assert_eq!(next_skip(0, 100, 100, Some(300)), Some(200)); // empty before the total: go on
/// assert_eq!(next_skip(100, 200, 100, Some(300)), None);    // reached the total
/// assert_eq!(next_skip(60, 0, 100, None), None);            // short, no total: the end
/// assert_eq!(next_skip(100, 0, 100, None), Some(100));      // full, no total: go on
/// ```
pub fn next_skip(returned: usize, skip: u64, limit: u32, total: Option<u64>) -> Option<u64> {
    let next = skip.saturating_add(u64::from(limit));
    match total {
        Some(total) => (next < total).then_some(next),
        None => (returned as u64 >= u64::from(limit)).then_some(next),
    }
}

/// A record's identity in its list: `_id` (v1 objects), `id` (v2 objects), or the type and
/// id an edge points to (`to`, for members and associations), when they are strings.
///
/// ```
/// # use jumpcloud_api::page::record_id;
/// let edge = serde_json::json!({"to": {"id": "u1", "type": "user"}});
/// assert_eq!(record_id(&edge).as_deref(), Some("user:u1"));
/// assert_eq!(record_id(&serde_json::json!({"_id": "a"})).as_deref(), Some("a"));
/// assert_eq!(record_id(&serde_json::json!({"id": 7})), None);
/// ```
pub fn record_id(record: &serde_json::Value) -> Option<String> {
    let text = |v: &serde_json::Value, key: &str| v.get(key)?.as_str().map(str::to_owned);
    if let Some(id) = text(record, "_id").or_else(|| text(record, "id")) {
        return Some(id);
    }
    let to = record.get("to")?;
    Some(format!(
        "{}:{}",
        text(to, "type").unwrap_or_default(),
        text(to, "id")?
    ))
}

/// One item of a streamed list: a record read, or one left out.
#[derive(Debug)]
pub(crate) enum Entry<T> {
    Item(T),
    Skipped(Skipped),
}

/// Streams every record of a list, fetching pages of `limit` with `fetch(skip, limit)`,
/// following the rules of the module docs.
pub(crate) fn stream_entries<'a, T, F, Fut>(
    path: &'static str,
    limit: u32,
    fetch: F,
) -> BoxStream<'a, Result<Entry<T>>>
where
    T: Send + 'a,
    F: Fn(u64, u32) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<Page<T>>> + Send + 'a,
{
    struct State<F> {
        skip: Option<u64>,
        pages: u64,
        empty_in_a_row: u32,
        seen: HashSet<String>,
        fetch: F,
    }
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let start = State {
        skip: Some(0),
        pages: 0,
        empty_in_a_row: 0,
        seen: HashSet::new(),
        fetch,
    };
    stream::try_unfold(start, move |mut state| async move {
        let Some(skip) = state.skip else {
            return Ok(None);
        };
        if state.pages >= MAX_PAGES {
            return Err(Error::Paging {
                path,
                reason: format!("more than {MAX_PAGES} pages"),
            });
        }
        let page = (state.fetch)(skip, limit).await?;
        state.pages += 1;
        if page.is_empty() && page.next_skip.is_some() {
            state.empty_in_a_row += 1;
            if state.empty_in_a_row > MAX_EMPTY_PAGES {
                return Err(Error::Paging {
                    path,
                    reason: format!(
                        "{} empty pages in a row before the total of {} was reached (at skip {skip}); \
                         the list is incomplete, so nothing was read from it: try again later",
                        state.empty_in_a_row,
                        page.total.unwrap_or_default(),
                    ),
                });
            }
        } else {
            state.empty_in_a_row = 0;
        }
        state.skip = page.next_skip;
        let mut entries = Vec::with_capacity(page.items.len() + page.skipped.len());
        let mut duplicates = 0usize;
        for (item, id) in page.items.into_iter().zip(page.ids) {
            if id.is_some_and(|id| !state.seen.insert(id)) {
                duplicates += 1;
            } else {
                entries.push(Ok(Entry::Item(item)));
            }
        }
        if duplicates > 0 {
            tracing::warn!(
                path,
                skip,
                duplicates,
                "JumpCloud returned items already listed; the duplicates were dropped"
            );
        }
        entries.extend(page.skipped.into_iter().map(|s| Ok(Entry::Skipped(s))));
        Ok(Some((stream::iter(entries), state)))
    })
    .try_flatten()
    .boxed()
}
