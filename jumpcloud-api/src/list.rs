//! List builders shared by every list endpoint: [`V1List`] (`{totalCount, results}` bodies,
//! v1 filters, `sort=_id`) and [`V2List`] (bare arrays with `X-Total-Count`, v2 filters,
//! `sort=id`).

use std::marker::PhantomData;

use futures::TryStreamExt;
use futures::stream::BoxStream;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::{Api, Call, Client, decode};
use crate::error::Result;
use crate::filter::{V1Filter, V2Filter};
use crate::page::{MAX_PAGE_SIZE, Page, stream_all};

#[derive(Deserialize)]
struct V1Body<T> {
    #[serde(rename = "totalCount", default)]
    total_count: Option<u64>,
    #[serde(default = "Vec::new")]
    results: Vec<T>,
}

/// A v1 list: `filter(V1Filter)`, `limit`, then `page`, `stream` or `all`.
#[derive(Debug)]
#[must_use]
pub struct V1List<T> {
    client: Client,
    template: &'static str,
    path: String,
    filter: V1Filter,
    limit: u32,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> V1List<T> {
    pub(crate) fn new(client: &Client, template: &'static str, path: impl Into<String>) -> Self {
        Self {
            client: client.clone(),
            template,
            path: path.into(),
            filter: V1Filter::new(),
            limit: MAX_PAGE_SIZE,
            _item: PhantomData,
        }
    }

    /// Only items matching `filter`.
    ///
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::filter::V1Filter;
    /// let ada = jc.users().list().filter(V1Filter::new().eq("username", "ada")).all().await?;
    /// # let _ = ada;
    /// # Ok(()) }
    /// ```
    pub fn filter(mut self, filter: V1Filter) -> Self {
        self.filter = filter;
        self
    }

    /// Items per page (1–100; default 100).
    ///
    /// ``` no_run
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
        let mut call = Call::get(Api::V1, self.template, self.path.clone())
            .query("limit", limit)
            .query("skip", skip)
            .query("sort", "_id");
        for condition in self.filter.conditions() {
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
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let page = jc.users().list().page(100).await?;
    /// println!("{} items, next at {:?}", page.items.len(), page.next_skip);
    /// # Ok(()) }
    /// ```
    pub async fn page(&self, skip: u64) -> Result<Page<T>> {
        fetch_v1(&self.client, self.call(skip, self.limit), skip, self.limit).await
    }

    /// Every item, page by page.
    ///
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut users = jc.users().list().stream();
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{}", user.username);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(self) -> BoxStream<'static, Result<T>> {
        let limit = self.limit;
        let template = self.template;
        stream_all(template, limit, move |skip, limit| {
            let call = self.call(skip, limit);
            let client = self.client.clone();
            async move { fetch_v1(&client, call, skip, limit).await }
        })
    }

    /// Every item, collected.
    ///
    /// # Errors
    ///
    /// The first failing request's [`Error`](crate::Error).
    ///
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let users = jc.users().list().all().await?;
    /// # let _ = users;
    /// # Ok(()) }
    /// ```
    pub async fn all(self) -> Result<Vec<T>> {
        self.stream().try_collect().await
    }
}

pub(crate) async fn fetch_v1<T: DeserializeOwned>(
    client: &Client,
    call: Call,
    skip: u64,
    limit: u32,
) -> Result<Page<T>> {
    let template = call.template;
    let reply = client.send(call).await?;
    let body: V1Body<T> = decode(template, &reply.body)?;
    Ok(Page::new(
        body.results,
        skip,
        limit,
        body.total_count.or(reply.total),
    ))
}

/// A v2 list: `filter(V2Filter)`, `limit`, then `page`, `stream` or `all`.
#[derive(Debug)]
#[must_use]
pub struct V2List<T> {
    client: Client,
    template: &'static str,
    path: String,
    query: Vec<(&'static str, String)>,
    filter: V2Filter,
    sort: bool,
    limit: u32,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> V2List<T> {
    pub(crate) fn new(client: &Client, template: &'static str, path: impl Into<String>) -> Self {
        Self {
            client: client.clone(),
            template,
            path: path.into(),
            query: Vec::new(),
            filter: V2Filter::new(),
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
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::filter::V2Filter;
    /// let eng = jc.user_groups().list().filter(V2Filter::new().eq("name", "Engineering")).all().await?;
    /// # let _ = eng;
    /// # Ok(()) }
    /// ```
    pub fn filter(mut self, filter: V2Filter) -> Self {
        self.filter = filter;
        self
    }

    /// Items per page (1–100; default 100).
    ///
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let first = jc.user_groups().list().limit(10).page(0).await?;
    /// assert!(first.items.len() <= 10);
    /// # Ok(()) }
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE_SIZE);
        self
    }

    fn call(&self, skip: u64, limit: u32) -> Call {
        let mut call = Call::get(Api::V2, self.template, self.path.clone())
            .query("limit", limit)
            .query("skip", skip);
        if self.sort {
            call = call.query("sort", "id");
        }
        for (name, value) in &self.query {
            call = call.query(name, value);
        }
        for condition in self.filter.conditions() {
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
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let page = jc.user_groups().list().page(0).await?;
    /// println!("{} of {:?}", page.items.len(), page.total);
    /// # Ok(()) }
    /// ```
    pub async fn page(&self, skip: u64) -> Result<Page<T>> {
        fetch_v2(&self.client, self.call(skip, self.limit), skip, self.limit).await
    }

    /// Every item, page by page.
    ///
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut groups = jc.user_groups().list().stream();
    /// while let Some(group) = groups.try_next().await? {
    ///     println!("{}", group.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(self) -> BoxStream<'static, Result<T>> {
        let limit = self.limit;
        let template = self.template;
        stream_all(template, limit, move |skip, limit| {
            let call = self.call(skip, limit);
            let client = self.client.clone();
            async move { fetch_v2(&client, call, skip, limit).await }
        })
    }

    /// Every item, collected.
    ///
    /// # Errors
    ///
    /// The first failing request's [`Error`](crate::Error).
    ///
    /// ``` no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let groups = jc.user_groups().list().all().await?;
    /// # let _ = groups;
    /// # Ok(()) }
    /// ```
    pub async fn all(self) -> Result<Vec<T>> {
        self.stream().try_collect().await
    }
}

async fn fetch_v2<T: DeserializeOwned>(
    client: &Client,
    call: Call,
    skip: u64,
    limit: u32,
) -> Result<Page<T>> {
    let template = call.template;
    let reply = client.send(call).await?;
    let items: Vec<T> = decode(template, &reply.body)?;
    Ok(Page::new(items, skip, limit, reply.total))
}
