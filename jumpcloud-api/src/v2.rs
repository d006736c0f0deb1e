//! The v2 API (base `/api/v2`): user groups, their members, the graph around applications,
//! and application imports.
//!
//! ```no_run
//! # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
//! use jumpcloud_api::ids::{ApplicationId, UserId};
//! use jumpcloud_api::models::UserGroupInput;
//! use jumpcloud_api::v2::AssociationTarget;
//!
//! let group = match jc.user_groups().find_by_name("AWS Developers").await? {
//!     Some(group) => group,
//!     None => jc.user_groups().create(&UserGroupInput::new("AWS Developers")).await?,
//! };
//! jc.user_groups().add_member(&group.id, &UserId::from("5f0c1b2e3d4a5b6c7d8e9f02")).await?;
//! let app = ApplicationId::from("5f0c1b2e3d4a5b6c7d8e9f03");
//! if !jc.applications().is_associated(&app, AssociationTarget::UserGroup, group.id.as_str()).await? {
//!     jc.applications().associate(&app, AssociationTarget::UserGroup, group.id.as_str()).await?;
//! }
//! # Ok(()) }
//! ```

use futures::TryStreamExt;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::{Api, Call, Client};
use crate::error::Result;
use crate::filter::V2Filter;
use crate::ids::{ApplicationId, GroupId, JobId, UserId};
use crate::list::V2List;
use crate::models::{GraphConnection, GraphObjectWithPaths, ImportUser, UserGroup, UserGroupInput};
use crate::v1::Applications;

impl Client {
    /// User groups (v2).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let groups = jc.user_groups().list().all().await?;
    /// # let _ = groups;
    /// # Ok(()) }
    /// ```
    pub fn user_groups(&self) -> UserGroups<'_> {
        UserGroups { client: self }
    }
}

/// User groups. Get one with [`Client::user_groups`].
#[derive(Debug, Clone, Copy)]
pub struct UserGroups<'a> {
    client: &'a Client,
}

/// A graph edit's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Add,
    Remove,
}

/// What a graph edit (a membership, an association) did.
///
/// ```no_run
/// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
/// use jumpcloud_api::v2::Edit;
/// match jc.user_groups().add_member(&"5f0c1b2e3d4a5b6c7d8e9f01".into(), &"5f0c1b2e3d4a5b6c7d8e9f02".into()).await? {
///     Edit::Changed => println!("added"),
///     Edit::AlreadySo => println!("already a member: nothing to do"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// JumpCloud made the change.
    Changed,
    /// JumpCloud said the graph was already so (409 to an add, 404 to a remove). A retried
    /// edit whose first attempt took effect also reads so.
    AlreadySo,
}

/// A graph edit's answer: JumpCloud answers 409 to adding an edge that exists and 404 to
/// removing one that does not (as baton-jumpcloud handles them); either way the graph is as
/// asked, so they are successes.
fn graph_edit(op: Op, sent: Result<()>) -> Result<Edit> {
    match sent {
        Ok(()) => Ok(Edit::Changed),
        Err(err) if op == Op::Add && err.status() == Some(409) => Ok(Edit::AlreadySo),
        Err(err) if op == Op::Remove && err.status() == Some(404) => Ok(Edit::AlreadySo),
        Err(err) => Err(err),
    }
}

impl UserGroups<'_> {
    /// Lists user groups (`GET /usergroups`), sorted by id; narrow it with
    /// [`V2List::filter`].
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::filter::V2Filter;
    /// let static_groups = jc.user_groups().list().filter(V2Filter::new().eq("membershipMethod", "STATIC")).all().await?;
    /// # let _ = static_groups;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> V2List<UserGroup> {
        V2List::new(self.client, "/usergroups", "/usergroups")
    }

    /// One group (`GET /usergroups/{id}`).
    ///
    /// # Errors
    ///
    /// Not found, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let group = jc.user_groups().get(&"5f0c1b2e3d4a5b6c7d8e9f01".into()).await?;
    /// println!("{}", group.name);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: &GroupId) -> Result<UserGroup> {
        let path = format!("/usergroups/{}", id.as_str());
        self.client
            .json(Call::get(Api::V2, "/usergroups/{id}", path))
            .await
    }

    /// The group named exactly `name` (JumpCloud's filter is case-sensitive; the answer is
    /// checked again here), or `None`.
    ///
    /// # Errors
    ///
    /// The request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// if let Some(group) = jc.user_groups().find_by_name("Engineering").await? {
    ///     println!("{}", group.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn find_by_name(&self, name: &str) -> Result<Option<UserGroup>> {
        let found = self
            .list()
            .filter(V2Filter::new().eq("name", name))
            .all()
            .await?;
        Ok(found.into_iter().find(|g| g.name == name))
    }

    /// Creates a group (`POST /usergroups`). Not resent after a 5xx or timeout.
    ///
    /// # Errors
    ///
    /// 400/409 when the name is taken, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::models::UserGroupInput;
    /// let group = jc.user_groups().create(&UserGroupInput::new("Engineering").description("builds")).await?;
    /// # let _ = group;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, group: &UserGroupInput) -> Result<UserGroup> {
        let call = Call::new(Method::POST, Api::V2, "/usergroups", "/usergroups").json(group)?;
        self.client.json(call).await
    }

    /// Replaces a group's name and description (`PUT /usergroups/{id}`; there is no PATCH).
    ///
    /// # Errors
    ///
    /// Not found, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::models::UserGroupInput;
    /// jc.user_groups().update(&"5f0c1b2e3d4a5b6c7d8e9f01".into(), &UserGroupInput::new("Platform Engineering")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, id: &GroupId, group: &UserGroupInput) -> Result<UserGroup> {
        let path = format!("/usergroups/{}", id.as_str());
        let call = Call::new(Method::PUT, Api::V2, "/usergroups/{id}", path).json(group)?;
        self.client.json(call).await
    }

    /// Deletes a group (`DELETE /usergroups/{id}`).
    ///
    /// # Errors
    ///
    /// Not found, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// jc.user_groups().delete(&"5f0c1b2e3d4a5b6c7d8e9f01".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: &GroupId) -> Result<()> {
        let path = format!("/usergroups/{}", id.as_str());
        self.client
            .execute(Call::new(Method::DELETE, Api::V2, "/usergroups/{id}", path))
            .await
    }

    /// The direct members (`GET /usergroups/{id}/members`): edges whose `to.id` is a user id.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let members = jc.user_groups().members(&"5f0c1b2e3d4a5b6c7d8e9f01".into()).all().await?;
    /// let user_ids: Vec<&str> = members.iter().map(|m| m.to.id.as_str()).collect();
    /// # let _ = user_ids;
    /// # Ok(()) }
    /// ```
    pub fn members(&self, id: &GroupId) -> V2List<GraphConnection> {
        V2List::new(
            self.client,
            "/usergroups/{group_id}/members",
            format!("/usergroups/{}/members", id.as_str()),
        )
        .unsorted()
    }

    /// Every user in the group, direct or indirect (`GET /usergroups/{id}/membership`).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let everyone = jc.user_groups().membership(&"5f0c1b2e3d4a5b6c7d8e9f01".into()).all().await?;
    /// # let _ = everyone;
    /// # Ok(()) }
    /// ```
    pub fn membership(&self, id: &GroupId) -> V2List<GraphObjectWithPaths> {
        V2List::new(
            self.client,
            "/usergroups/{group_id}/membership",
            format!("/usergroups/{}/membership", id.as_str()),
        )
    }

    async fn edit_member(&self, group: &GroupId, user: &UserId, op: Op) -> Result<Edit> {
        let path = format!("/usergroups/{}/members", group.as_str());
        let body = json!({ "op": op, "type": "user", "id": user.as_str() });
        // Adding a member twice, or removing a non-member, changes nothing: safe to resend.
        let call = Call::new(
            Method::POST,
            Api::V2,
            "/usergroups/{group_id}/members",
            path,
        )
        .json(&body)?
        .idempotent();
        graph_edit(op, self.client.execute(call).await)
    }

    /// Adds a user to a group (`POST /usergroups/{id}/members`, op `add`). A user who is a
    /// member already is a success, [`Edit::AlreadySo`] (JumpCloud's 409).
    ///
    /// # Errors
    ///
    /// Not found, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// jc.user_groups().add_member(&"5f0c1b2e3d4a5b6c7d8e9f01".into(), &"5f0c1b2e3d4a5b6c7d8e9f02".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_member(&self, group: &GroupId, user: &UserId) -> Result<Edit> {
        self.edit_member(group, user, Op::Add).await
    }

    /// Removes a user from a group (op `remove`). A user who is not a member is a success,
    /// [`Edit::AlreadySo`] (JumpCloud's 404: the membership is absent, whichever part is
    /// missing).
    ///
    /// # Errors
    ///
    /// The request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// jc.user_groups().remove_member(&"5f0c1b2e3d4a5b6c7d8e9f01".into(), &"5f0c1b2e3d4a5b6c7d8e9f02".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_member(&self, group: &GroupId, user: &UserId) -> Result<Edit> {
        self.edit_member(group, user, Op::Remove).await
    }
}

/// What an application association points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssociationTarget {
    /// A user.
    User,
    /// A user group.
    UserGroup,
}

impl AssociationTarget {
    fn as_str(self) -> &'static str {
        match self {
            AssociationTarget::User => "user",
            AssociationTarget::UserGroup => "user_group",
        }
    }
}

/// An import job's options (`POST /applications/{id}/import/jobs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImportJob {
    /// Reactivate suspended users that the import matches.
    #[serde(rename = "allowUserReactivation")]
    pub allow_user_reactivation: bool,
    /// `users.create` and/or `users.update`.
    pub operations: Vec<String>,
    /// A query passed to the application (`location=Chicago&department=IT`).
    #[serde(rename = "queryString", skip_serializing_if = "Option::is_none")]
    pub query_string: Option<String>,
}

impl Default for ImportJob {
    fn default() -> Self {
        Self {
            allow_user_reactivation: true,
            operations: vec!["users.create".into(), "users.update".into()],
            query_string: None,
        }
    }
}

/// One page of an import preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct ImportPreview {
    /// The application's users.
    #[serde(default)]
    pub users: Vec<ImportUser>,
    /// How many there are in all.
    #[serde(default)]
    pub total_count: Option<f64>,
}

impl Applications<'_> {
    /// The direct associations of an application with users or user groups
    /// (`GET /applications/{id}/associations?targets=…`).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::v2::AssociationTarget;
    /// let bound = jc.applications().associations(&"5f0c1b2e3d4a5b6c7d8e9f03".into(), AssociationTarget::UserGroup).all().await?;
    /// # let _ = bound;
    /// # Ok(()) }
    /// ```
    pub fn associations(
        &self,
        app: &ApplicationId,
        target: AssociationTarget,
    ) -> V2List<GraphConnection> {
        V2List::new(
            self.client,
            "/applications/{application_id}/associations",
            format!("/applications/{}/associations", app.as_str()),
        )
        .unsorted()
        .with_query("targets", target.as_str())
    }

    /// Whether `id` is directly associated with the application.
    ///
    /// # Errors
    ///
    /// The list's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::v2::AssociationTarget;
    /// let bound = jc.applications().is_associated(&"5f0c1b2e3d4a5b6c7d8e9f03".into(), AssociationTarget::UserGroup, "5f0c1b2e3d4a5b6c7d8e9f01").await?;
    /// # let _ = bound;
    /// # Ok(()) }
    /// ```
    pub async fn is_associated(
        &self,
        app: &ApplicationId,
        target: AssociationTarget,
        id: &str,
    ) -> Result<bool> {
        let mut edges = self.associations(app, target).stream();
        while let Some(edge) = edges.try_next().await? {
            if edge.to.id == id {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn edit_association(
        &self,
        app: &ApplicationId,
        target: AssociationTarget,
        id: &str,
        op: Op,
    ) -> Result<Edit> {
        let path = format!("/applications/{}/associations", app.as_str());
        let body = json!({ "op": op, "type": target.as_str(), "id": id });
        let call = Call::new(
            Method::POST,
            Api::V2,
            "/applications/{application_id}/associations",
            path,
        )
        .json(&body)?
        .idempotent();
        graph_edit(op, self.client.execute(call).await)
    }

    /// Associates a user or user group with the application (op `add`). An existing
    /// association is a success (JumpCloud's 409).
    ///
    /// # Errors
    ///
    /// Not found, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::v2::AssociationTarget;
    /// jc.applications().associate(&"5f0c1b2e3d4a5b6c7d8e9f03".into(), AssociationTarget::UserGroup, "5f0c1b2e3d4a5b6c7d8e9f01").await?;
    /// # Ok(()) }
    /// ```
    pub async fn associate(
        &self,
        app: &ApplicationId,
        target: AssociationTarget,
        id: &str,
    ) -> Result<Edit> {
        self.edit_association(app, target, id, Op::Add).await
    }

    /// Removes an association (op `remove`). An absent one is a success (JumpCloud's 404).
    ///
    /// # Errors
    ///
    /// The request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::v2::AssociationTarget;
    /// jc.applications().dissociate(&"5f0c1b2e3d4a5b6c7d8e9f03".into(), AssociationTarget::User, "5f0c1b2e3d4a5b6c7d8e9f02").await?;
    /// # Ok(()) }
    /// ```
    pub async fn dissociate(
        &self,
        app: &ApplicationId,
        target: AssociationTarget,
        id: &str,
    ) -> Result<Edit> {
        self.edit_association(app, target, id, Op::Remove).await
    }

    /// Every user group bound to the application, directly or indirectly
    /// (`GET /applications/{id}/usergroups`).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let groups = jc.applications().user_groups(&"5f0c1b2e3d4a5b6c7d8e9f03".into()).all().await?;
    /// # let _ = groups;
    /// # Ok(()) }
    /// ```
    pub fn user_groups(&self, app: &ApplicationId) -> V2List<GraphObjectWithPaths> {
        V2List::new(
            self.client,
            "/applications/{application_id}/usergroups",
            format!("/applications/{}/usergroups", app.as_str()),
        )
        .unsorted()
    }

    /// Every user bound to the application, directly or through groups
    /// (`GET /applications/{id}/users`).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let users = jc.applications().users(&"5f0c1b2e3d4a5b6c7d8e9f03".into()).all().await?;
    /// # let _ = users;
    /// # Ok(()) }
    /// ```
    pub fn users(&self, app: &ApplicationId) -> V2List<GraphObjectWithPaths> {
        V2List::new(
            self.client,
            "/applications/{application_id}/users",
            format!("/applications/{}/users", app.as_str()),
        )
        .unsorted()
    }

    /// A page of the users the application's identity-management integration holds
    /// (`GET /applications/{id}/import/users`): the import preview.
    ///
    /// # Errors
    ///
    /// 404 when the application has no active integration, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let preview = jc.applications().import_preview(&"5f0c1b2e3d4a5b6c7d8e9f03".into(), 0, 100).await?;
    /// for user in &preview.users {
    ///     println!("{:?}", user.email);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn import_preview(
        &self,
        app: &ApplicationId,
        skip: u64,
        limit: u32,
    ) -> Result<ImportPreview> {
        let path = format!("/applications/{}/import/users", app.as_str());
        let call = Call::get(Api::V2, "/applications/{application_id}/import/users", path)
            .query("limit", limit.min(100))
            .query("skip", skip);
        self.client.json(call).await
    }

    /// Starts an import job (`POST /applications/{id}/import/jobs`).
    ///
    /// # Errors
    ///
    /// 404 when the application has no active integration, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::v2::ImportJob;
    /// let job = jc.applications().import(&"5f0c1b2e3d4a5b6c7d8e9f03".into(), &ImportJob::default()).await?;
    /// println!("import job {job}");
    /// # Ok(()) }
    /// ```
    pub async fn import(&self, app: &ApplicationId, job: &ImportJob) -> Result<JobId> {
        #[derive(Deserialize)]
        struct Started {
            #[serde(rename = "jobId", alias = "id")]
            job_id: JobId,
        }
        let path = format!("/applications/{}/import/jobs", app.as_str());
        let call = Call::new(
            Method::POST,
            Api::V2,
            "/applications/{application_id}/import/jobs",
            path,
        )
        .json(job)?;
        let started: Started = self.client.json(call).await?;
        Ok(started.job_id)
    }
}
