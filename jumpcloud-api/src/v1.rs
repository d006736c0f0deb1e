//! The v1 API (base `/api`): system users and applications.
//!
//! ```no_run
//! # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
//! use jumpcloud_api::filter::V1Filter;
//! use jumpcloud_api::models::NewSystemUser;
//!
//! let ada = jc.users().create(&NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace")).await?;
//! let same = jc.users().list().filter(V1Filter::new().eq("username", "ada")).all().await?;
//! assert_eq!(same[0].id, ada.id);
//! # Ok(()) }
//! ```

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::client::{Api, Call, Client};
use crate::error::Result;
use crate::filter::V1Filter;
use crate::ids::{ApplicationId, UserId};
use crate::list::{V1List, fetch};
use crate::models::{Application, Attribute, NewSystemUser, Organization, SystemUser, UserUpdate};
use crate::page::{Entry, MAX_PAGE_SIZE, Page, stream_entries};

impl Client {
    /// System users (v1) and their group memberships (v2 `memberof`).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let users = jc.users();
    /// # let _ = users;
    /// # Ok(()) }
    /// ```
    pub fn users(&self) -> Users<'_> {
        Users { client: self }
    }

    /// Applications (v1) and their associations, traversals and imports (v2).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let apps = jc.applications().list().all().await?;
    /// # let _ = apps;
    /// # Ok(()) }
    /// ```
    pub fn applications(&self) -> Applications<'_> {
        Applications { client: self }
    }

    /// The organisations the API key reaches (v1). These routes never carry `x-org-id`.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let orgs = jc.organizations().list().all().await?;
    /// # let _ = orgs;
    /// # Ok(()) }
    /// ```
    pub fn organizations(&self) -> Organizations<'_> {
        Organizations { client: self }
    }
}

/// Organisations. Get one with [`Client::organizations`].
#[derive(Debug, Clone, Copy)]
pub struct Organizations<'a> {
    pub(crate) client: &'a Client,
}

impl Organizations<'_> {
    /// Lists the organisations the API key reaches (`GET /organizations`): one for an
    /// administrator's key of one organisation, each managed organisation for a
    /// multi-tenant (MSP) key.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// for org in jc.organizations().list().all().await? {
    ///     println!("{} {:?}", org.id, org.display_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> V1List<Organization> {
        V1List::new(self.client, "/organizations", "/organizations")
    }
}

/// System users. Get one with [`Client::users`].
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    pub(crate) client: &'a Client,
}

/// A user search (`POST /search/systemusers`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserSearch {
    /// Field conditions, such as `{"and": [{"department": "Engineering"}]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// A free-text search over `fields`.
    #[serde(rename = "searchFilter", skip_serializing_if = "Option::is_none")]
    pub search_filter: Option<SearchFilter>,
}

/// Free-text search terms of a [`UserSearch`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SearchFilter {
    /// The term.
    #[serde(rename = "searchTerm")]
    pub search_term: String,
    /// The fields searched.
    pub fields: Vec<String>,
}

impl UserSearch {
    /// Users whose `field` equals `value` exactly.
    ///
    /// ```
    /// let search = jumpcloud_api::v1::UserSearch::field_equals("department", "Engineering");
    /// assert_eq!(serde_json::to_value(&search).unwrap()["filter"]["and"][0]["department"], "Engineering");
    /// ```
    pub fn field_equals(field: &str, value: &str) -> Self {
        let mut condition = Map::new();
        condition.insert(field.to_owned(), Value::String(value.to_owned()));
        Self {
            filter: Some(json!({ "and": [Value::Object(condition)] })),
            search_filter: None,
        }
    }

    /// Users matching `term` in any of `fields`.
    pub fn text(term: &str, fields: &[&str]) -> Self {
        Self {
            filter: None,
            search_filter: Some(SearchFilter {
                search_term: term.to_owned(),
                fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            }),
        }
    }
}

impl Users<'_> {
    /// Lists users (`GET /systemusers`), sorted by id.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::filter::V1Filter;
    /// let staff = jc.users().list().filter(V1Filter::new().eq("department", "R&D")).all().await?;
    /// # let _ = staff;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> V1List<SystemUser> {
        V1List::new(self.client, "/systemusers", "/systemusers")
    }

    /// One user (`GET /systemusers/{id}`).
    ///
    /// # Errors
    ///
    /// Not found (404), or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let ada = jc.users().get(&"5f0c1b2e3d4a5b6c7d8e9f02".into()).await?;
    /// println!("{}", ada.username);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: &UserId) -> Result<SystemUser> {
        let path = format!("/systemusers/{}", id.as_str());
        self.client
            .json(Call::get(Api::V1, "/systemusers/{id}", path))
            .await
    }

    /// Creates a user (`POST /systemusers`). Not resent after a 5xx or timeout: see
    /// [`Error::Unconfirmed`](crate::Error::Unconfirmed).
    ///
    /// # Errors
    ///
    /// 400 when the user exists or a field is invalid (JumpCloud's message says which).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::models::NewSystemUser;
    /// let ada = jc.users().create(&NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace")).await?;
    /// # let _ = ada;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, user: &NewSystemUser) -> Result<SystemUser> {
        let call = Call::new(Method::POST, Api::V1, "/systemusers", "/systemusers").json(user)?;
        self.client.json(call).await
    }

    /// Changes a user (`PUT /systemusers/{id}`); only the fields set are sent.
    ///
    /// # Errors
    ///
    /// Not found, or 400 for invalid values.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let mut change = jumpcloud_api::models::UserUpdate::default();
    /// change.lastname = Some("Byron".into());
    /// jc.users().update(&"5f0c1b2e3d4a5b6c7d8e9f02".into(), &change).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, id: &UserId, update: &UserUpdate) -> Result<SystemUser> {
        let path = format!("/systemusers/{}", id.as_str());
        let call = Call::new(Method::PUT, Api::V1, "/systemusers/{id}", path).json(update)?;
        self.client.json(call).await
    }

    /// Changes a user's custom attributes by reading them, applying `change`, and writing
    /// the whole list back (JumpCloud replaces the list as a whole). Returns the user as
    /// stored. Two writers doing this at once can still lose one's change.
    ///
    /// # Errors
    ///
    /// The read's or the write's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::models::Attribute;
    /// jc.users()
    ///     .update_attributes(&"5f0c1b2e3d4a5b6c7d8e9f02".into(), |attrs| {
    ///         attrs.retain(|a| a.name != "costCenter");
    ///         attrs.push(Attribute { name: "costCenter".into(), value: "blue".into() });
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_attributes(
        &self,
        id: &UserId,
        change: impl FnOnce(&mut Vec<Attribute>),
    ) -> Result<SystemUser> {
        let mut attributes = self.get(id).await?.attributes;
        change(&mut attributes);
        let update = UserUpdate {
            attributes: Some(attributes),
            ..UserUpdate::default()
        };
        self.update(id, &update).await
    }

    /// Deletes a user (`DELETE /systemusers/{id}`). With `cascade_manager`, the user's direct
    /// reports lose their manager first; without it, deleting a manager fails with 409.
    ///
    /// # Errors
    ///
    /// Not found; 409 for a manager without `cascade_manager`.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// jc.users().delete(&"5f0c1b2e3d4a5b6c7d8e9f02".into(), true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: &UserId, cascade_manager: bool) -> Result<()> {
        let path = format!("/systemusers/{}", id.as_str());
        let mut call = Call::new(Method::DELETE, Api::V1, "/systemusers/{id}", path);
        if cascade_manager {
            call = call.query("cascade_manager", "null");
        }
        self.client.execute(call).await
    }

    /// Activates a staged user (`POST /systemusers/{id}/state/activate`); activating twice
    /// is harmless, so this call is retried like a read.
    ///
    /// # Errors
    ///
    /// Not found, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// jc.users().activate(&"5f0c1b2e3d4a5b6c7d8e9f02".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn activate(&self, id: &UserId) -> Result<()> {
        let path = format!("/systemusers/{}/state/activate", id.as_str());
        let call = Call::new(
            Method::POST,
            Api::V1,
            "/systemusers/{id}/state/activate",
            path,
        )
        .json(&json!({}))?
        .idempotent();
        self.client.execute(call).await
    }

    /// Searches users (`POST /search/systemusers`), page by page.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use futures::TryStreamExt;
    /// use jumpcloud_api::v1::UserSearch;
    /// let found: Vec<_> = jc.users().search(&UserSearch::text("ada", &["email", "username"])).try_collect().await?;
    /// # let _ = found;
    /// # Ok(()) }
    /// ```
    pub fn search(&self, search: &UserSearch) -> BoxStream<'static, Result<SystemUser>> {
        let client = self.client.clone();
        let search = search.clone();
        let entries = stream_entries("/search/systemusers", MAX_PAGE_SIZE, move |skip, limit| {
            let client = client.clone();
            let body = search_body(&search, skip, limit);
            async move {
                let call = Call::new(
                    Method::POST,
                    Api::V1,
                    "/search/systemusers",
                    "/search/systemusers",
                )
                .query("limit", limit)
                .query("skip", skip)
                .json(&body)?
                .idempotent();
                fetch::<SystemUser, V1Filter>(&client, call, skip, limit).await
            }
        });
        entries
            .try_filter_map(|entry| async move {
                Ok(match entry {
                    Entry::Item(user) => Some(user),
                    Entry::Skipped(skipped) => {
                        tracing::warn!(
                            path = "/search/systemusers",
                            %skipped,
                            "left out a record JumpCloud sent that could not be read"
                        );
                        None
                    }
                })
            })
            .boxed()
    }

    /// The first page of a search, for manual paging.
    ///
    /// # Errors
    ///
    /// The request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::v1::UserSearch;
    /// let page = jc.users().search_page(&UserSearch::field_equals("department", "R&D"), 0).await?;
    /// println!("{} of {:?}", page.items.len(), page.total);
    /// # Ok(()) }
    /// ```
    pub async fn search_page(&self, search: &UserSearch, skip: u64) -> Result<Page<SystemUser>> {
        let body = search_body(search, skip, MAX_PAGE_SIZE);
        let call = Call::new(
            Method::POST,
            Api::V1,
            "/search/systemusers",
            "/search/systemusers",
        )
        .query("limit", MAX_PAGE_SIZE)
        .query("skip", skip)
        .json(&body)?
        .idempotent();
        fetch::<SystemUser, V1Filter>(self.client, call, skip, MAX_PAGE_SIZE).await
    }

    /// Every group the user belongs to, directly or through other groups
    /// (`GET /users/{id}/memberof`, v2).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let groups = jc.users().member_of(&"5f0c1b2e3d4a5b6c7d8e9f02".into()).all().await?;
    /// for g in groups {
    ///     println!("{} (direct: {})", g.id, g.is_direct());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn member_of(
        &self,
        id: &UserId,
    ) -> crate::list::V2List<crate::models::GraphObjectWithPaths> {
        crate::list::V2List::new(
            self.client,
            "/users/{user_id}/memberof",
            format!("/users/{}/memberof", id.as_str()),
        )
    }
}

fn search_body(search: &UserSearch, skip: u64, limit: u32) -> Value {
    let mut body = serde_json::to_value(search).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        map.insert("limit".into(), json!(limit));
        map.insert("skip".into(), json!(skip));
    }
    body
}

/// Applications. Get one with [`Client::applications`].
#[derive(Debug, Clone, Copy)]
pub struct Applications<'a> {
    pub(crate) client: &'a Client,
}

impl Applications<'_> {
    /// Lists applications (`GET /applications`).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let apps = jc.applications().list().all().await?;
    /// # let _ = apps;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> V1List<Application> {
        V1List::new(self.client, "/applications", "/applications")
    }

    /// One application (`GET /applications/{id}`).
    ///
    /// # Errors
    ///
    /// Not found, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let app = jc.applications().get(&"5f0c1b2e3d4a5b6c7d8e9f03".into()).await?;
    /// println!("{}", app.name);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: &ApplicationId) -> Result<Application> {
        let path = format!("/applications/{}", id.as_str());
        self.client
            .json(Call::get(Api::V1, "/applications/{id}", path))
            .await
    }

    /// Finds applications by display label (`displayLabel`, exact).
    ///
    /// # Errors
    ///
    /// The list's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let aws = jc.applications().find_by_label("AWS SSO").await?;
    /// # let _ = aws;
    /// # Ok(()) }
    /// ```
    pub async fn find_by_label(&self, label: &str) -> Result<Vec<Application>> {
        let all: Vec<Application> = self.list().stream().try_collect().await?;
        Ok(all
            .into_iter()
            .filter(|a| a.display_label.as_deref() == Some(label))
            .collect())
    }
}
