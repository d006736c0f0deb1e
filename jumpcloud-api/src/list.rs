//! The list builder every list endpoint returns: [`V1List`] (`{totalCount, results}` bodies,
//! v1 filters, `sort=_id`) and [`V2List`] (bare arrays with `X-Total-Count`, v2 filters,
//! `sort=id`) are one [`List`] over the two [`Syntax`]es.

use std::marker::PhantomData;

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::{Api, Call, Client, decode};
use crate::error::Result;
use crate::filter::{V1Filter, V2Filter};
use crate::page::{Entry, MAX_PAGE_SIZE, Page, Skipped, record_id, stream_entries};

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::filter::V1Filter {}
    impl Sealed for crate::filter::V2Filter {}
}

/// What differs between v1 and v2 lists: the filter syntax (this type), the API, the sort
/// field and where the total comes from. Implemented by [`V1Filter`] and [`V2Filter`] only.
pub trait Syntax: sealed::Sealed + Default + Clone + Send + Sync + 'static {
    /// The API the list belongs to.
    #[doc(hidden)]
    const API: Api;
    /// The field that keeps `skip` paging stable.
    #[doc(hidden)]
    const SORT_BY: &'static str;
    /// The conditions, one `filter` parameter each.
    fn filter_conditions(&self) -> &[String];
    /// The records and the total of one answer, each record still undecoded.
    #[doc(hidden)]
    fn records(
        template: &'static str,
        body: &[u8],
        header_total: Option<u64>,
    ) -> Result<(Vec<Value>, Option<u64>)>;
}

/// A v1 list body. A `totalCount` or `results` that is `null` or of the wrong type reads as
/// absent (the list then pages without a total, or holds nothing).
#[derive(Deserialize)]
struct V1Body {
    #[serde(rename = "totalCount", default)]
    total_count: Value,
    #[serde(default)]
    results: Value,
}

impl Syntax for V1Filter {
    const API: Api = Api::V1;
    const SORT_BY: &'static str = "_id";

    fn filter_conditions(&self) -> &[String] {
        self.conditions()
    }

    fn records(
        template: &'static str,
        body: &[u8],
        header_total: Option<u64>,
    ) -> Result<(Vec<Value>, Option<u64>)> {
        let body: V1Body = decode(template, body)?;
        let results = match body.results {
            Value::Array(records) => records,
            _ => Vec::new(),
        };
        Ok((results, body.total_count.as_u64().or(header_total)))
    }
}

impl Syntax for V2Filter {
    const API: Api = Api::V2;
    const SORT_BY: &'static str = "id";

    fn filter_conditions(&self) -> &[String] {
        self.conditions()
    }

    fn records(
        template: &'static str,
        body: &[u8],
        header_total: Option<u64>,
    ) -> Result<(Vec<Value>, Option<u64>)> {
        Ok((decode(template, body)?, header_total))
    }
}

/// A list: `filter(…)`, `limit`, then `page`, `stream` or `all`.
#[derive(Debug)]
#[must_use]
pub struct List<T, F> {
    client: Client,
    template: &'static str,
    path: String,
    query: Vec<(&'static str, String)>,
    filter: F,
    sort: bool,
    limit: u32,
    _item: PhantomData<fn() -> T>,
}

/// A v1 list (`{totalCount, results}`, v1 filters).
pub type V1List<T> = List<T, V1Filter>;

/// A v2 list (arrays with `X-Total-Count`, v2 filters).
pub type V2List<T> = List<T, V2Filter>;

impl<T: DeserializeOwned + Send + 'static, F: Syntax> List<T, F> {
    pub(crate) fn new(client: &Client, template: &'static str, path: impl Into<String>) -> Self {
        Self {
            client: client.clone(),
            template,
            path: path.into(),
            query: Vec::new(),
            filter: F::default(),
            sort: true,
            limit: MAX_PAGE_SIZE,
            _item: PhantomData,
        }
    }

    pub(crate) fn with_query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    /// For endpoints that take no `sort` parameter.
    pub(crate) fn unsorted(mut self) -> Self {
        self.sort = false;
        self
    }

    /// Only items matching `filter`.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::filter::{V1Filter, V2Filter};
    /// let ada = jc.users().list().filter(V1Filter::new().eq("username", "ada")).all().await?;
    /// let eng = jc.user_groups().list().filter(V2Filter::new().eq("name", "Engineering")).all().await?;
    /// # let _ = (ada, eng);
    /// # Ok(()) }
    /// ```
    pub fn filter(mut self, filter: F) -> Self {
        self.filter = filter;
        self
    }

    /// Items per page (1–100; default 100).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let first = jc.users().list().limit(10).page(0).await?;
    /// assert!(first.items.len() <= 10);
    /// # Ok(()) }
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE_SIZE);
        self
    }

    fn call(&self, skip: u64, limit: u32) -> Call {
        let mut call = Call::get(F::API, self.template, self.path.clone())
            .query("limit", limit)
            .query("skip", skip);
        if self.sort {
            call = call.query("sort", F::SORT_BY);
        }
        for (name, value) in &self.query {
            call = call.query(name, value);
        }
        for condition in self.filter.filter_conditions() {
            call = call.query("filter", condition);
        }
        call
    }

    /// The page starting at `skip`.
    ///
    /// # Errors
    ///
    /// The request's [`Error`](crate::Error).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let page = jc.user_groups().list().page(0).await?;
    /// println!("{} of {:?}, next at {:?}", page.items.len(), page.total, page.next_skip);
    /// # Ok(()) }
    /// ```
    pub async fn page(&self, skip: u64) -> Result<Page<T>> {
        fetch::<T, F>(&self.client, self.call(skip, self.limit), skip, self.limit).await
    }

    /// Every item, page by page. A record that cannot be read is logged (by id) and left
    /// out; [`listing`](Self::listing) reports them instead.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut users = jc.users().list().stream();
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{}", user.username);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(self) -> BoxStream<'static, Result<T>> {
        let template = self.template;
        self.entries()
            .try_filter_map(move |entry| async move {
                Ok(match entry {
                    Entry::Item(item) => Some(item),
                    Entry::Skipped(skipped) => {
                        warn_skipped(template, &skipped);
                        None
                    }
                })
            })
            .boxed()
    }

    fn entries(self) -> BoxStream<'static, Result<Entry<T>>> {
        let (limit, template) = (self.limit, self.template);
        stream_entries(template, limit, move |skip, limit| {
            let call = self.call(skip, limit);
            let client = self.client.clone();
            async move { fetch::<T, F>(&client, call, skip, limit).await }
        })
    }

    /// Every item, collected. A record that cannot be read is logged (by id) and left out;
    /// [`listing`](Self::listing) reports them instead.
    ///
    /// # Errors
    ///
    /// The first failing request's [`Error`](crate::Error).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let groups = jc.user_groups().list().all().await?;
    /// # let _ = groups;
    /// # Ok(()) }
    /// ```
    pub async fn all(self) -> Result<Vec<T>> {
        self.stream().try_collect().await
    }

    /// Every item, and every record that could not be read: for callers that must tell
    /// "absent" from "unreadable" (a sync must not deprovision a user whose record it could
    /// not read).
    ///
    /// # Errors
    ///
    /// The first failing request's [`Error`](crate::Error).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let users = jc.users().list().listing().await?;
    /// for skipped in &users.skipped {
    ///     eprintln!("could not read {skipped}");
    /// }
    /// println!("{} users read", users.items.len());
    /// # Ok(()) }
    /// ```
    pub async fn listing(self) -> Result<Listing<T>> {
        let template = self.template;
        let mut listing = Listing {
            items: Vec::new(),
            skipped: Vec::new(),
        };
        let mut entries = self.entries();
        while let Some(entry) = entries.try_next().await? {
            match entry {
                Entry::Item(item) => listing.items.push(item),
                Entry::Skipped(skipped) => {
                    warn_skipped(template, &skipped);
                    listing.skipped.push(skipped);
                }
            }
        }
        Ok(listing)
    }
}

/// A whole list: the items read and the records that could not be.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Listing<T> {
    /// The items, in list order, without duplicates.
    pub items: Vec<T>,
    /// The records that could not be read, left out of `items`.
    pub skipped: Vec<Skipped>,
}

fn warn_skipped(template: &'static str, skipped: &Skipped) {
    tracing::warn!(
        path = template,
        record = skipped.id.as_deref().unwrap_or("(no id)"),
        position = skipped.position,
        reason = skipped.reason.as_str(),
        "left out a record JumpCloud sent that could not be read"
    );
}

/// Sends one list request and reads its page.
pub(crate) async fn fetch<T: DeserializeOwned, F: Syntax>(
    client: &Client,
    call: Call,
    skip: u64,
    limit: u32,
) -> Result<Page<T>> {
    let template = call.template;
    let reply = client.send(call).await?;
    let (records, total) = F::records(template, &reply.body, reply.total)?;
    let (items, skipped) = decode_records(records, skip);
    Ok(Page::new(items, skipped, skip, limit, total))
}

/// Reads one list answer as the client does, without sending anything: `body` and the
/// `X-Total-Count` header as they arrived, for the page requested at `skip` with `limit`.
/// For tools that hold a saved answer, and for robustness tests: whatever the bytes, the
/// answer is a page or an [`Error`](crate::Error), never a panic.
///
/// # Errors
///
/// [`Error::Decode`](crate::Error::Decode) when the body is not a list answer at all (one
/// unreadable record is a [`Skipped`] instead).
///
/// ```
/// use jumpcloud_api::filter::V1Filter;
/// use jumpcloud_api::models::SystemUser;
/// let body = br#"{"totalCount": 250, "results": [{"_id": "u1", "username": "ada"}, null]}"#;
/// let page = jumpcloud_api::read_page::<SystemUser, V1Filter>(body, None, 0, 100)?;
/// assert_eq!((page.items.len(), page.skipped.len(), page.next_skip), (1, 1, Some(100)));
/// # Ok::<(), jumpcloud_api::Error>(())
/// ```
pub fn read_page<T: DeserializeOwned, F: Syntax>(
    body: &[u8],
    total_header: Option<&str>,
    skip: u64,
    limit: u32,
) -> Result<Page<T>> {
    let header_total = total_header.and_then(parse_total);
    let (records, total) = F::records("(a saved page)", body, header_total)?;
    let (items, skipped) = decode_records(records, skip);
    Ok(Page::new(
        items,
        skipped,
        skip,
        limit.clamp(1, MAX_PAGE_SIZE),
        total,
    ))
}

/// An `X-Total-Count` header's value: a count, or nothing.
pub(crate) fn parse_total(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

/// Decodes each record of a page on its own: one that does not fit `T` becomes a
/// [`Skipped`] with its id, and the others are kept.
pub(crate) fn decode_records<T: DeserializeOwned>(
    records: Vec<Value>,
    skip: u64,
) -> (Vec<(T, Option<String>)>, Vec<Skipped>) {
    let mut items = Vec::with_capacity(records.len());
    let mut skipped = Vec::new();
    for (index, record) in records.into_iter().enumerate() {
        let position = skip.saturating_add(index as u64);
        let id = record_id(&record);
        if !record.is_object() {
            skipped.push(Skipped {
                id,
                position,
                reason: format!("not an object but {}", kind_of(&record)),
            });
            continue;
        }
        match serde_json::from_value::<T>(record) {
            Ok(item) => items.push((item, id)),
            Err(err) => skipped.push(Skipped {
                id,
                position,
                reason: err.to_string(),
            }),
        }
    }
    (items, skipped)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
