//! The executor: applies a [`Plan`] to a [`Target`].
//!
//! - A plan with an [`Abort`](crate::plan::Abort) is refused before the first write.
//! - Phases run in order (users, groups, membership additions, removals, deprovisioning),
//!   after the deletions that free a name a rename takes; a change that depends on another
//!   of its phase (a rename after the one that frees its name) waits for it. Within a
//!   phase, up to [`ApplyOptions::concurrency`] writes are in flight, paced by one
//!   client-side rate limiter (`governor`) at the target's declared rate.
//! - A change whose dependency failed is skipped; placeholders are replaced by the ids the
//!   creates returned.
//! - Retryable failures (transient, throttled) are retried with jittered exponential
//!   backoff that honours the server's `retry_after`.
//! - Idempotent: a create that conflicts looks the object up and takes it over when it is
//!   the engine's own (a crashed run made it), or unowned and the plan's
//!   [`AdoptionRules`](crate::plan::AdoptionRules) allow it — never an excluded or another
//!   tool's object (the change fails, naming the rule); a delete, deactivation or member
//!   removal of something already gone counts as done.
//! - It never stops at a failed change: every outcome is in the [`Report`].
//!
//! ```
//! # tokio_test_block_on(async {
//! use provisioning_core::apply::{apply, ApplyOptions};
//! use provisioning_core::connector::TargetReader;
//! use provisioning_core::memory::MemoryDirectory;
//! use provisioning_core::model::{Group, Scope, Snapshot, User};
//! use provisioning_core::plan::plan;
//! use provisioning_core::policy::Policy;
//!
//! let mut source = Snapshot::default();
//! source.users.push(User::new("u1", "ada@example.com").with_names("Ada", "Lovelace"));
//! source.groups.push(Group::new("g1", "Engineering"));
//! source.add_membership("g1", "u1");
//!
//! let target = MemoryDirectory::default();
//! let policy = Policy::default();
//! let first = plan(&source, &target.read().await?, &target.capabilities(), &policy);
//! let report = apply(&first, &target, &ApplyOptions::default()).await;
//! assert!(report.is_success());
//!
//! let second = plan(&source, &target.read().await?, &target.capabilities(), &policy);
//! assert!(second.is_empty());
//! # Ok::<(), provisioning_core::connector::ConnectorError>(())
//! # }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
//! # }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::connector::{ConnectorError, ErrorClass, Target};
use crate::mapping::TargetField;
use crate::model::User;
use crate::plan::{AdoptionRules, Operation, Plan, PlannedChange, Ref};
use crate::policy::matches_any;
use crate::report::{ChangeOutcome, Report, Status};
use crate::util::lock;

/// How to apply a plan.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// Writes in flight at once within a phase.
    pub concurrency: usize,
    /// Attempts per write, the first included.
    pub max_attempts: u32,
    /// The first retry's backoff ceiling; it doubles per attempt (full jitter).
    pub base_backoff: Duration,
    /// The largest backoff, and the longest `retry_after` waited out.
    pub max_backoff: Duration,
    /// Requests per second; `None`: the target's declared rate limit, if any.
    pub rate_limit: Option<NonZeroU32>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            max_attempts: 6,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            rate_limit: None,
        }
    }
}

/// Applies `plan` to `target`. See the [module documentation](self).
pub async fn apply(plan: &Plan, target: &dyn Target, options: &ApplyOptions) -> Report {
    apply_observed(plan, target, options, &|_| {}).await
}

/// Like [`apply`], calling `observe` as each change ends (for progress bars).
///
/// ```no_run
/// # async fn run(plan: provisioning_core::plan::Plan, target: &dyn provisioning_core::connector::Target) {
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let done = AtomicUsize::new(0);
/// let options = provisioning_core::apply::ApplyOptions::default();
/// provisioning_core::apply::apply_observed(&plan, target, &options, &|_| {
///     done.fetch_add(1, Ordering::Relaxed);
/// })
/// .await;
/// # }
/// ```
pub async fn apply_observed(
    plan: &Plan,
    target: &dyn Target,
    options: &ApplyOptions,
    observe: &(dyn Fn(&ChangeOutcome) + Sync),
) -> Report {
    let started = Instant::now();
    if let Some(abort) = &plan.abort {
        return Report {
            aborted: Some(abort.clone()),
            duration: started.elapsed(),
            ..Report::default()
        };
    }
    let rate = options.rate_limit.or(target.capabilities().rate_limit);
    let run = Run {
        target,
        options,
        adoption: &plan.adoption,
        // One request every 1/rate seconds, no bursts: never above the target's quota.
        limiter: rate
            .map(|r| RateLimiter::direct(Quota::per_second(r).allow_burst(NonZeroU32::MIN))),
        created: Mutex::new(HashMap::new()),
        succeeded: Mutex::new(vec![false; plan.changes.len()]),
        calls: Mutex::new(BTreeMap::new()),
        throttled: Mutex::new(0),
    };

    let mut outcomes: Vec<ChangeOutcome> = Vec::with_capacity(plan.changes.len());
    let mut start = 0;
    while start < plan.changes.len() {
        // A batch: the changes of one phase up to the first that depends on one of them (a
        // rename after the rename that frees its name).
        let phase = plan.changes[start].operation.phase();
        let end = plan.changes[start..]
            .iter()
            .position(|c| c.operation.phase() != phase || c.depends_on.iter().any(|&d| d >= start))
            .map_or(plan.changes.len(), |n| start + n)
            .max(start + 1);
        let mut done: Vec<ChangeOutcome> = futures::stream::iter(&plan.changes[start..end])
            .map(|change| async {
                let outcome = run.change(change).await;
                observe(&outcome);
                outcome
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
        done.sort_by_key(|o| o.change);
        outcomes.extend(done);
        start = end;
    }

    let access_removed = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Ok { .. }))
        .filter_map(|o| plan.changes.get(o.change))
        .map(|c| c.removes_access)
        .sum();
    Report {
        outcomes,
        aborted: None,
        access_removed,
        api_calls: run.calls.into_inner().unwrap_or_else(|e| e.into_inner()),
        throttled: run
            .throttled
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
        duration: started.elapsed(),
    }
}

struct Run<'a> {
    target: &'a dyn Target,
    options: &'a ApplyOptions,
    /// What a create that conflicts may take over.
    adoption: &'a AdoptionRules,
    limiter: Option<DefaultDirectRateLimiter>,
    /// Placeholder → the id its create returned.
    created: Mutex<HashMap<String, String>>,
    succeeded: Mutex<Vec<bool>>,
    calls: Mutex<BTreeMap<String, u64>>,
    throttled: Mutex<u64>,
}

/// The chain of an error's messages, outermost first.
fn chain(err: &ConnectorError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Run<'_> {
    async fn change(&self, change: &PlannedChange) -> ChangeOutcome {
        let outcome = |status, attempts| ChangeOutcome {
            change: change.id,
            subject: change.subject.clone(),
            kind: change.operation.kind().to_owned(),
            status,
            attempts,
        };
        let failed_dependency = {
            let succeeded = lock(&self.succeeded);
            change
                .depends_on
                .iter()
                .copied()
                .find(|d| !succeeded.get(*d).copied().unwrap_or(false))
        };
        if let Some(d) = failed_dependency {
            let reason = format!("change #{} it depends on did not succeed", d + 1);
            tracing::warn!(change = change.id + 1, subject = %change.subject, %reason, "skipped");
            return outcome(Status::Skipped { reason }, 0);
        }
        let operation = match self.resolve(&change.operation) {
            Ok(operation) => operation,
            Err(placeholder) => {
                let reason = format!("<{placeholder}> was not created");
                return outcome(Status::Skipped { reason }, 0);
            }
        };

        let (result, attempts) = self.write_with_retries(&operation).await;
        let status = match result {
            Ok((created_id, note)) => {
                if let (
                    Some(id),
                    Operation::CreateUser { placeholder, .. }
                    | Operation::CreateGroup { placeholder, .. },
                ) = (&created_id, &operation)
                {
                    lock(&self.created).insert(placeholder.clone(), id.clone());
                }
                lock(&self.succeeded)[change.id] = true;
                tracing::info!(
                    change = change.id + 1,
                    kind = change.operation.kind(),
                    subject = %change.subject,
                    created_id = created_id.as_deref().unwrap_or(""),
                    attempts,
                    "written"
                );
                Status::Ok { created_id, note }
            }
            Err(err) => {
                let error = chain(&err);
                tracing::warn!(
                    change = change.id + 1,
                    kind = change.operation.kind(),
                    subject = %change.subject,
                    class = %err.class(),
                    attempts,
                    %error,
                    "failed"
                );
                Status::Failed {
                    class: err.class(),
                    error,
                }
            }
        };
        outcome(status, attempts)
    }

    fn resolve(&self, operation: &Operation<Ref>) -> Result<Operation<String>, String> {
        let created = lock(&self.created);
        let id = |r: &Ref| match r {
            Ref::Existing(id) => Ok(id.clone()),
            Ref::New(placeholder) => created
                .get(placeholder)
                .cloned()
                .ok_or_else(|| placeholder.clone()),
        };
        let ids = |rs: &[Ref]| rs.iter().map(id).collect::<Result<Vec<_>, _>>();
        Ok(match operation {
            Operation::CreateUser { placeholder, user } => Operation::CreateUser {
                placeholder: placeholder.clone(),
                user: user.clone(),
            },
            Operation::UpdateUser { id, user, fields } => Operation::UpdateUser {
                id: id.clone(),
                user: user.clone(),
                fields: fields.clone(),
            },
            Operation::DeactivateUser { id } => Operation::DeactivateUser { id: id.clone() },
            Operation::DeleteUser { id } => Operation::DeleteUser { id: id.clone() },
            Operation::CreateGroup { placeholder, group } => Operation::CreateGroup {
                placeholder: placeholder.clone(),
                group: group.clone(),
            },
            Operation::UpdateGroup {
                id,
                group,
                keep_members,
            } => Operation::UpdateGroup {
                id: id.clone(),
                group: group.clone(),
                keep_members: keep_members.clone(),
            },
            Operation::DeleteGroup { id } => Operation::DeleteGroup { id: id.clone() },
            Operation::AddMembers { group, users } => Operation::AddMembers {
                group: id(group)?,
                users: ids(users)?,
            },
            Operation::RemoveMembers { group, users } => Operation::RemoveMembers {
                group: id(group)?,
                users: ids(users)?,
            },
        })
    }

    /// One write: waits for the rate limiter, counts the call, sends it.
    async fn send(
        &self,
        operation: &Operation<String>,
    ) -> Result<crate::connector::Applied, ConnectorError> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        self.count(operation.kind());
        self.target.write(operation).await
    }

    fn count(&self, kind: &str) {
        *lock(&self.calls).entry(kind.to_owned()).or_default() += 1;
    }

    /// Sends `operation`, retrying what is retryable. Ok carries the created id and a note.
    async fn write_with_retries(
        &self,
        operation: &Operation<String>,
    ) -> (
        Result<(Option<String>, Option<String>), ConnectorError>,
        u32,
    ) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self.send(operation).await {
                Ok(applied) => return (Ok((applied.created_id, None)), attempt),
                Err(err) => err,
            };
            match err.class() {
                ErrorClass::NotFound if is_removal(operation) => {
                    return (Ok((None, Some("already gone".into()))), attempt);
                }
                ErrorClass::Conflict
                    if matches!(
                        operation,
                        Operation::CreateUser { .. } | Operation::CreateGroup { .. }
                    ) =>
                {
                    return (self.adopt(operation, err).await, attempt);
                }
                class if class.is_retryable() && attempt < self.options.max_attempts => {
                    if class == ErrorClass::RateLimited {
                        *lock(&self.throttled) += 1;
                    }
                    tokio::time::sleep(self.backoff(attempt, err.retry_after())).await;
                }
                _ => return (Err(err), attempt),
            }
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let max = self.options.max_backoff;
        let ceiling = self
            .options
            .base_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(max);
        let jitter = ceiling.mul_f64(fastrand::f64());
        // The server's hint is the least we wait; the jitter keeps concurrent writers that
        // got the same hint from waking together and colliding again.
        retry_after.map_or(jitter, |wait| (wait + jitter).min(max))
    }

    /// A create conflicted: the object exists. Look it up and take it over, so that a
    /// re-run after a crash creates no duplicate.
    async fn adopt(
        &self,
        operation: &Operation<String>,
        conflict: ConnectorError,
    ) -> Result<(Option<String>, Option<String>), ConnectorError> {
        let (update, name) = match operation {
            Operation::CreateUser { user, .. } => {
                self.count("find_user");
                let Some(existing) = self.target.find_user(&user.user_name).await? else {
                    return Err(conflict);
                };
                let excluded = matches_any(&self.adoption.exclude_users, &existing.user_name);
                may_adopt(
                    existing.external_id.as_ref(),
                    user.external_id.as_ref(),
                    (!self.adoption.users).then_some("policy.adopt_existing_users is off"),
                    excluded.then_some("its userName matches policy.exclude_users"),
                    conflict,
                )?;
                let mut desired = user.clone();
                desired.id = existing.id.clone();
                let caps = self.target.capabilities();
                let mut fields = written_fields(&desired);
                // Only what the target holds and may change.
                fields.retain(|f| match f {
                    TargetField::UserName => {
                        caps.can_rename_users && existing.user_name != desired.user_name
                    }
                    TargetField::Active => caps.can_deactivate_users,
                    f => caps.holds(f),
                });
                (
                    Operation::UpdateUser {
                        id: existing.id,
                        user: desired,
                        fields,
                    },
                    "user",
                )
            }
            Operation::CreateGroup { group, .. } => {
                self.count("find_group");
                let Some(existing) = self.target.find_group(&group.display_name).await? else {
                    return Err(conflict);
                };
                let excluded = matches_any(&self.adoption.exclude_groups, &existing.display_name);
                may_adopt(
                    existing.external_id.as_ref(),
                    group.external_id.as_ref(),
                    (!self.adoption.groups).then_some("policy.adopt_existing_groups is off"),
                    excluded.then_some("its name matches policy.exclude_groups"),
                    conflict,
                )?;
                let mut desired = group.clone();
                desired.id = existing.id.clone();
                (
                    Operation::UpdateGroup {
                        id: existing.id,
                        group: desired,
                        keep_members: Vec::new(),
                    },
                    "group",
                )
            }
            _ => return Err(conflict),
        };
        let id = match &update {
            Operation::UpdateUser { id, .. } | Operation::UpdateGroup { id, .. } => id.clone(),
            _ => unreachable!("adopt builds updates only"),
        };
        self.send(&update).await?;
        Ok((
            Some(id),
            Some(format!("the {name} existed already and was adopted")),
        ))
    }
}

fn is_removal(operation: &Operation<String>) -> bool {
    matches!(
        operation,
        Operation::DeleteUser { .. }
            | Operation::DeleteGroup { .. }
            | Operation::DeactivateUser { .. }
            | Operation::RemoveMembers { .. }
    )
}

/// Whether a create that conflicted may take the existing object over: always the very one
/// we mirror (a crashed run created it); an unowned one only when the policy adopts and does
/// not exclude it (`refused` and `excluded` say why not); never another tool's, nor ours
/// mirroring a different source object.
fn may_adopt(
    existing: Option<&crate::model::ExternalId>,
    ours: Option<&crate::model::ExternalId>,
    refused: Option<&str>,
    excluded: Option<&str>,
    conflict: ConnectorError,
) -> Result<(), ConnectorError> {
    let why = match existing {
        Some(theirs) if Some(theirs) == ours => return Ok(()),
        Some(theirs) => format!(
            "the existing object is linked elsewhere (issuer {:?}, id {:?}) and is left alone: \
             resolve the name clash at the source or the target",
            theirs.issuer, theirs.id
        ),
        None => match excluded.or(refused) {
            Some(rule) => format!(
                "an unowned object of that name exists at the target and is not adopted \
                 ({rule}): it is left alone; rename one side, or adopt it in the policy"
            ),
            None => return Ok(()),
        },
    };
    Err(ConnectorError::new(
        ErrorClass::Conflict,
        format!("{conflict}; {why}"),
    ))
}

/// The attributes a create would have written: everything `user` sets.
fn written_fields(user: &User) -> Vec<TargetField> {
    let mut fields = vec![TargetField::UserName, TargetField::Active];
    if user.display_name.is_some() {
        fields.push(TargetField::DisplayName);
    }
    if user.given_name.is_some() {
        fields.push(TargetField::GivenName);
    }
    if user.family_name.is_some() {
        fields.push(TargetField::FamilyName);
    }
    if !user.emails.is_empty() {
        fields.push(TargetField::Email);
    }
    if !user.phone_numbers.is_empty() {
        fields.push(TargetField::Phone);
    }
    fields.extend(user.attributes.keys().cloned().map(TargetField::Attribute));
    fields
}
