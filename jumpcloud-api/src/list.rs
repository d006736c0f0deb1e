//! The list builder every list endpoint returns: [`V1List`] (`{totalCount, results}` bodies,
//! v1 filters, `sort=_id`) and [`V2List`] (bare arrays with `X-Total-Count`, v2 filters,
//! `sort=id`) are one [`List`] over the two [`Syntax`]es.

use std::marker::PhantomData;

use futures::TryStreamExt;
use futures::stream::BoxStream;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::{Api, Call, Client, decode};
use crate::error::Result;
use crate::filter::{V1Filter, V2Filter};
use crate::page::{MAX_PAGE_SIZE, Page, stream_all};

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
    /// Items and the total of one answer.
    #[doc(hidden)]
    fn decode<T: DeserializeOwned>(
        template: &'static str,
        body: &[u8],
        header_total: Option<u64>,
    ) -> Result<(Vec<T>, Option<u64>)>;
}

#[derive(Deserialize)]
struct V1Body<T> {
    #[serde(rename = "totalCount", default)]
    total_count: Option<u64>,
    #[serde(default = "Vec::new")]
    results: Vec<T>,
}

impl Syntax for V1Filter {
    const API: Api = Api::V1;
    const SORT_BY: &'static str = "_id";

    fn filter_conditions(&self) -> &[String] {
        self.conditions()
    }

    fn decode<T: DeserializeOwned>(
        template: &'static str,
        body: &[u8],
        header_total: Option<u64>,
    ) -> Result<(Vec<T>, Option<u64>)> {
        let body: V1Body<T> = decode(template, body)?;
        Ok((body.results, body.total_count.or(header_total)))
    }
}

impl Syntax for V2Filter {
    const API: Api = Api::V2;
    const SORT_BY: &'static str = "id";

    fn filter_conditions(&self) -> &[String] {
        self.conditions()
    }

    fn decode<T: DeserializeOwned>(
        template: &'static str,
        body: &[u8],
        header_total: Option<u64>,
    ) -> Result<(Vec<T>, Option<u64>)> {
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

    /// Every item, page by page.
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
        let (limit, template) = (self.limit, self.template);
        stream_all(template, limit, move |skip, limit| {
            let call = self.call(skip, limit);
            let client = self.client.clone();
            async move { fetch::<T, F>(&client, call, skip, limit).await }
        })
    }

    /// Every item, collected.
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
    let (items, total) = F::decode(template, &reply.body, reply.total)?;
    Ok(Page::new(items, skip, limit, total))
}
