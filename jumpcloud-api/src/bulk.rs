//! Bulk user jobs and scheduled user states (v2 `/bulk/…`).
//!
//! A bulk job is asynchronous: **a job id is not a created user.** [`Bulk::create_users`]
//! splits the users into jobs of at most [`MAX_USERS_PER_JOB`], and the returned
//! [`BulkJobs`] handle polls `GET /bulk/users/{job_id}/results` until every item is final
//! (or the deadline passes), then reports each created user's id and each failure.
//!
//! ```no_run
//! # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
//! use jumpcloud_api::bulk::WaitOptions;
//! use jumpcloud_api::models::NewSystemUser;
//!
//! let users = vec![NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace")];
//! let jobs = jc.bulk().create_users(&users).await?;
//! let outcome = jobs.wait(&WaitOptions::default()).await?;
//! for created in &outcome.created {
//!     println!("{} -> {}", created.username, created.id);
//! }
//! for failed in &outcome.failed {
//!     eprintln!("{}: {}", failed.username.as_deref().unwrap_or("?"), failed.message);
//! }
//! # Ok(()) }
//! ```

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Api, Call, Client};
use crate::error::{Error, Result};
use crate::filter::V1Filter;
use crate::ids::{JobId, ScheduledJobId, UserId};
use crate::list::V2List;
use crate::models::{JobResult, NewSystemUser, ScheduledUserState, UserState};

/// The most users one bulk job takes (JumpCloud's limit, found in its PowerShell module).
pub const MAX_USERS_PER_JOB: usize = 800;

impl Client {
    /// Bulk user jobs and scheduled user states.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let bulk = jc.bulk();
    /// # let _ = bulk;
    /// # Ok(()) }
    /// ```
    pub fn bulk(&self) -> Bulk<'_> {
        Bulk { client: self }
    }
}

/// Bulk operations. Get one with [`Client::bulk`].
#[derive(Debug, Clone, Copy)]
pub struct Bulk<'a> {
    client: &'a Client,
}

/// One item of a bulk update: the user's id and the fields to set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct BulkUserUpdate {
    /// The user.
    pub id: UserId,
    /// The fields to set (v1 user shape).
    #[serde(flatten)]
    pub fields: serde_json::Map<String, Value>,
}

impl BulkUserUpdate {
    /// An update of user `id` setting `fields`.
    ///
    /// ```
    /// let update = jumpcloud_api::bulk::BulkUserUpdate::new("u1".into()).set("department", "Research");
    /// assert_eq!(update.fields["department"], "Research");
    /// ```
    pub fn new(id: UserId) -> Self {
        Self {
            id,
            fields: serde_json::Map::new(),
        }
    }

    /// Sets one field.
    #[must_use]
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(field.to_owned(), value.into());
        self
    }
}

/// How long and how often to poll a job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitOptions {
    /// Time between polls.
    pub interval: Duration,
    /// Give up after this long ([`Error::JobTimeout`]).
    pub deadline: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            deadline: Duration::from_secs(300),
        }
    }
}

impl WaitOptions {
    /// Polls every `interval` until `deadline`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let quick = jumpcloud_api::bulk::WaitOptions::new(Duration::from_millis(10), Duration::from_secs(1));
    /// assert_eq!(quick.interval, Duration::from_millis(10));
    /// ```
    pub fn new(interval: Duration, deadline: Duration) -> Self {
        Self { interval, deadline }
    }
}

/// The started jobs of one bulk call, with the usernames sent in each (for creates).
#[derive(Debug, Clone)]
pub struct BulkJobs {
    client: Client,
    /// Each job, the number of items sent in it, and (for creates) their user names.
    jobs: Vec<(JobId, usize, Vec<String>)>,
}

/// A user a bulk create made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedUser {
    /// The user name sent.
    pub username: String,
    /// The id JumpCloud gave it.
    pub id: UserId,
}

/// An item that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedItem {
    /// The job.
    pub job_id: JobId,
    /// The user name, when the result names it.
    pub username: Option<String>,
    /// The status JumpCloud reported.
    pub status: String,
    /// Why (JumpCloud's `statusMsg`).
    pub message: String,
}

/// The final state of bulk jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct BulkOutcome {
    /// Users created (or updated), with their ids.
    pub created: Vec<CreatedUser>,
    /// Items that failed, one by one.
    pub failed: Vec<FailedItem>,
}

/// Whether a result status is final, and whether it succeeded.
///
/// ```
/// use jumpcloud_api::bulk::{status_kind, StatusKind};
/// assert_eq!(status_kind("pending"), StatusKind::Pending);
/// assert_eq!(status_kind("finished"), StatusKind::Succeeded);
/// assert_eq!(status_kind("failed"), StatusKind::Failed);
/// ```
pub fn status_kind(status: &str) -> StatusKind {
    match status.to_ascii_lowercase().as_str() {
        "" | "pending" | "queued" | "in_progress" | "inprogress" | "processing" | "running"
        | "started" => StatusKind::Pending,
        "finished" | "completed" | "complete" | "succeeded" | "success" | "done" => {
            StatusKind::Succeeded
        }
        _ => StatusKind::Failed,
    }
}

/// See [`status_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// Not final yet.
    Pending,
    /// Final: done.
    Succeeded,
    /// Final: failed (or a status this client does not know, reported as a failure).
    Failed,
}

fn text(value: Option<&Value>, keys: &[&str]) -> Option<String> {
    let map = value?.as_object()?;
    keys.iter()
        .find_map(|k| map.get(*k).and_then(Value::as_str).map(str::to_owned))
}

impl Bulk<'_> {
    async fn start(&self, method: Method, body: &impl Serialize) -> Result<JobId> {
        #[derive(Deserialize)]
        struct Started {
            #[serde(rename = "jobId")]
            job_id: JobId,
        }
        let call = Call::new(method, Api::V2, "/bulk/users", "/bulk/users").json(body)?;
        let started: Started = self.client.json(call).await?;
        Ok(started.job_id)
    }

    /// Starts bulk create jobs (`POST /bulk/users`), [`MAX_USERS_PER_JOB`] users each.
    ///
    /// # Errors
    ///
    /// The first job that could not be started; the jobs started before it are lost to the
    /// caller only if it drops them, so start fewer users at a time when this matters.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::models::NewSystemUser;
    /// let jobs = jc.bulk().create_users(&[NewSystemUser::new("ada", "ada@example.com")]).await?;
    /// println!("{:?}", jobs.job_ids());
    /// # Ok(()) }
    /// ```
    pub async fn create_users(&self, users: &[NewSystemUser]) -> Result<BulkJobs> {
        let mut jobs = Vec::new();
        for chunk in users.chunks(MAX_USERS_PER_JOB) {
            let job = self.start(Method::POST, &chunk).await?;
            jobs.push((
                job,
                chunk.len(),
                chunk.iter().map(|u| u.username.clone()).collect(),
            ));
        }
        Ok(BulkJobs {
            client: self.client.clone(),
            jobs,
        })
    }

    /// Starts bulk update jobs (`PATCH /bulk/users`), [`MAX_USERS_PER_JOB`] users each.
    ///
    /// # Errors
    ///
    /// The first job that could not be started.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::bulk::BulkUserUpdate;
    /// let update = BulkUserUpdate::new("5f0c1b2e3d4a5b6c7d8e9f02".into()).set("department", "Research");
    /// let jobs = jc.bulk().update_users(&[update]).await?;
    /// # let _ = jobs;
    /// # Ok(()) }
    /// ```
    pub async fn update_users(&self, updates: &[BulkUserUpdate]) -> Result<BulkJobs> {
        let mut jobs = Vec::new();
        for chunk in updates.chunks(MAX_USERS_PER_JOB) {
            let job = self.start(Method::PATCH, &chunk).await?;
            jobs.push((job, chunk.len(), Vec::new()));
        }
        Ok(BulkJobs {
            client: self.client.clone(),
            jobs,
        })
    }

    /// The results of one job so far (`GET /bulk/users/{job_id}/results`).
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let results = jc.bulk().results(&"job-1".into()).all().await?;
    /// # let _ = results;
    /// # Ok(()) }
    /// ```
    pub fn results(&self, job: &JobId) -> V2List<JobResult> {
        V2List::new(
            self.client,
            "/bulk/users/{job_id}/results",
            format!("/bulk/users/{}/results", job.as_str()),
        )
        .unsorted()
    }

    /// Scheduled user state changes (`GET /bulk/userstates`), optionally for one user.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// let all = jc.bulk().scheduled_states(None).all().await?;
    /// # let _ = all;
    /// # Ok(()) }
    /// ```
    pub fn scheduled_states(&self, user: Option<&UserId>) -> V2List<ScheduledUserState> {
        let list = V2List::new(self.client, "/bulk/userstates", "/bulk/userstates").unsorted();
        match user {
            Some(user) => list.with_query("userid", user.as_str()),
            None => list,
        }
    }

    /// Schedules `users` to become `state` at `start_date` (RFC 3339, UTC)
    /// (`POST /bulk/userstates`).
    ///
    /// # Errors
    ///
    /// 400 for a bad date or state, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::models::UserState;
    /// let user = "5f0c1b2e3d4a5b6c7d8e9f02".into();
    /// jc.bulk().schedule_state(&[user], UserState::Suspended, "2026-12-31T17:00:00Z").await?;
    /// # Ok(()) }
    /// ```
    pub async fn schedule_state(
        &self,
        users: &[UserId],
        state: UserState,
        start_date: &str,
    ) -> Result<Vec<ScheduledUserState>> {
        let body =
            serde_json::json!({ "user_ids": users, "state": state, "start_date": start_date });
        let call = Call::new(
            Method::POST,
            Api::V2,
            "/bulk/userstates",
            "/bulk/userstates",
        )
        .json(&body)?;
        self.client.json(call).await
    }

    /// Cancels a scheduled state change (`DELETE /bulk/userstates/{id}`).
    ///
    /// # Errors
    ///
    /// Not found, or the request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// jc.bulk().cancel_scheduled_state(&"5f0c1b2e3d4a5b6c7d8e9f09".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn cancel_scheduled_state(&self, id: &ScheduledJobId) -> Result<()> {
        let path = format!("/bulk/userstates/{}", id.as_str());
        self.client
            .execute(Call::new(
                Method::DELETE,
                Api::V2,
                "/bulk/userstates/{id}",
                path,
            ))
            .await
    }
}

impl BulkJobs {
    /// The ids of the jobs started.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::models::NewSystemUser;
    /// let jobs = jc.bulk().create_users(&[NewSystemUser::new("ada", "ada@example.com")]).await?;
    /// for id in jobs.job_ids() {
    ///     println!("{id}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn job_ids(&self) -> Vec<JobId> {
        self.jobs.iter().map(|(id, _, _)| id.clone()).collect()
    }

    /// Polls every job until each of its items is final, then reports created users (with
    /// their ids) and failures, item by item. A created item whose result does not carry the
    /// user's id is looked up by user name.
    ///
    /// # Errors
    ///
    /// [`Error::JobTimeout`] when items are still pending at the deadline; a request's error.
    ///
    /// ```no_run
    /// # async fn run(jc: jumpcloud_api::Client) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::bulk::WaitOptions;
    /// use jumpcloud_api::models::NewSystemUser;
    /// let jobs = jc.bulk().create_users(&[NewSystemUser::new("ada", "ada@example.com")]).await?;
    /// let outcome = jobs.wait(&WaitOptions::default()).await?;
    /// assert!(outcome.failed.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn wait(&self, options: &WaitOptions) -> Result<BulkOutcome> {
        let started = Instant::now();
        let mut outcome = BulkOutcome::default();
        for (job, sent, usernames) in &self.jobs {
            let results = loop {
                let results = self.client.bulk().results(job).all().await?;
                let pending = results
                    .iter()
                    .filter(|r| status_kind(&r.status) == StatusKind::Pending)
                    .count();
                // Items without a result yet are not processed yet.
                let missing = sent.saturating_sub(results.len());
                if pending == 0 && missing == 0 {
                    break results;
                }
                if started.elapsed() >= options.deadline {
                    return Err(Error::JobTimeout {
                        job_id: job.to_string(),
                        pending: pending + missing,
                        waited: started.elapsed(),
                    });
                }
                tokio::time::sleep(options.interval).await;
            };
            let mut accounted = std::collections::HashSet::new();
            for result in results {
                let username = text(result.persisted_fields.as_ref(), &["username"])
                    .or_else(|| text(result.meta.as_ref(), &["username"]));
                if let Some(name) = &username {
                    accounted.insert(name.clone());
                }
                match status_kind(&result.status) {
                    StatusKind::Succeeded => {
                        let id = text(result.persisted_fields.as_ref(), &["_id", "id"])
                            .or_else(|| text(result.meta.as_ref(), &["systemUserId", "userId"]));
                        match (username, id) {
                            (Some(username), Some(id)) => outcome.created.push(CreatedUser {
                                username,
                                id: UserId(id),
                            }),
                            // Resolved by name below.
                            (Some(username), None) => {
                                accounted.remove(&username);
                            }
                            (None, _) => {}
                        }
                    }
                    _ => outcome.failed.push(FailedItem {
                        job_id: job.clone(),
                        username,
                        message: result
                            .status_msg
                            .clone()
                            .unwrap_or_else(|| format!("status {:?}", result.status)),
                        status: result.status,
                    }),
                }
            }
            // Every user sent ends up created or failed: look up those no result accounts for.
            for username in usernames.iter().filter(|u| !accounted.contains(*u)) {
                match self.lookup(username).await? {
                    Some(id) => outcome.created.push(CreatedUser { username: username.clone(), id }),
                    None => outcome.failed.push(FailedItem {
                        job_id: job.clone(),
                        username: Some(username.clone()),
                        status: "missing".into(),
                        message: "the job finished but no such user exists (a job id is not a created user)".into(),
                    }),
                }
            }
        }
        Ok(outcome)
    }

    async fn lookup(&self, username: &str) -> Result<Option<UserId>> {
        let found = self
            .client
            .users()
            .list()
            .filter(V1Filter::new().eq("username", username))
            .limit(2)
            .page(0)
            .await?;
        Ok(found
            .items
            .into_iter()
            .find(|u| u.username == username)
            .map(|u| u.id))
    }
}
