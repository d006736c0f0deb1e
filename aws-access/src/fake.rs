//! In-memory fakes of every facade (feature `fake`), for tests, the sandbox and benchmarks.
//!
//! They follow real AWS where moto does not: duplicate user names and group names conflict,
//! a duplicate membership is not created twice, deleting a user or group removes its
//! memberships. [`FakeIdentityStore`] counts calls per API operation and can simulate a
//! latency and a requests-per-second quota; a call over the quota fails with a
//! `ThrottlingException` carrying `RetryAfterSeconds`, as the real service does.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use aws_access::fake::FakeIdentityStore;
//! use aws_access::identity_store::{IdentityStore, NewUser, OnConflict};
//!
//! let store = FakeIdentityStore::new("d-1234567890");
//! let ada = store.create_user(&NewUser::new("ada", "Ada", "Lovelace"), OnConflict::Fail).await?;
//! let again = store.create_user(&NewUser::new("ada", "Ada", "Lovelace"), OnConflict::Adopt).await?;
//! assert!(again.adopted);
//! assert_eq!(again.value.id, ada.value.id);
//! assert_eq!(store.calls()["CreateUser"], 2);
//! # Ok::<(), aws_access::Error>(())
//! # }).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use secrecy::SecretString;

use crate::ec2::{Ec2Access, LiveReport, Outcome, ProbeReport, ProbeSpec};
use crate::error::{Error, Result};
use crate::iam::{AttachOutcome, AttachedPolicy, Decision, DetachOutcome, RolePolicies, Verdict};
use crate::identity_store::{
    Created, Group, GroupId, GroupLookup, IdentityStore, Member, MembershipId, NewUser, OnConflict,
    SharedLimiter, User, UserChange, UserGroup, UserId, UserLookup,
};
use crate::ssm::Parameters;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An error as the service would answer it.
fn refused(operation: &'static str, code: &str, message: impl Into<String>, status: u16) -> Error {
    Error::from_fake(operation, code, message.into(), status)
}

#[derive(Debug, Default)]
struct Store {
    users: BTreeMap<UserId, User>,
    groups: BTreeMap<GroupId, Group>,
    /// (group, user) → membership id.
    memberships: BTreeMap<(GroupId, UserId), MembershipId>,
    next_id: u64,
    calls: BTreeMap<&'static str, u64>,
    throttled: u64,
    /// Calls waiting out their latency now, per operation.
    in_flight: BTreeMap<&'static str, usize>,
    /// The most calls of each operation in flight at once.
    peak_in_flight: BTreeMap<&'static str, usize>,
    /// Pairs of operations (in name order) seen in flight at the same time.
    overlaps: BTreeSet<(&'static str, &'static str)>,
}

impl Store {
    fn begin(&mut self, operation: &'static str) {
        for (&other, _) in self.in_flight.iter().filter(|(_, n)| **n > 0) {
            self.overlaps
                .insert((other.min(operation), other.max(operation)));
        }
        let now = self.in_flight.entry(operation).or_default();
        *now += 1;
        let now = *now;
        let peak = self.peak_in_flight.entry(operation).or_default();
        *peak = (*peak).max(now);
    }
}

/// Ends a call's flight when its latency is over or its future is dropped.
struct InFlight<'a> {
    state: &'a Mutex<Store>,
    operation: &'static str,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(n) = lock(self.state).in_flight.get_mut(self.operation) {
            *n = n.saturating_sub(1);
        }
    }
}

impl Store {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:08}", self.next_id)
    }
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

/// An in-memory Identity Store. See the [module documentation](self).
#[derive(Debug)]
pub struct FakeIdentityStore {
    store_id: String,
    state: Mutex<Store>,
    latency: Duration,
    quota: Option<Mutex<Bucket>>,
    pacing: Option<SharedLimiter>,
}

impl FakeIdentityStore {
    /// An empty store with id `store_id`, no latency and no quota.
    pub fn new(store_id: impl Into<String>) -> Self {
        Self {
            store_id: store_id.into(),
            state: Mutex::default(),
            latency: Duration::ZERO,
            quota: None,
            pacing: None,
        }
    }

    /// Delays every call by `latency`.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Accepts at most `per_second` calls per second (a token bucket holding one second's
    /// worth, like AWS's); calls over it fail with `ThrottlingException`.
    #[must_use]
    pub fn with_rate_limit(mut self, per_second: NonZeroU32) -> Self {
        let rate = f64::from(per_second.get());
        self.quota = Some(Mutex::new(Bucket {
            rate,
            tokens: rate,
            last: Instant::now(),
        }));
        self
    }

    /// Waits on `limiter` before every call, as [`SdkIdentityStore`](crate::identity_store::SdkIdentityStore)
    /// does before sending: the fake then stands for our client and the service together,
    /// which is what a benchmark of a sync against a quota needs.
    ///
    /// ```
    /// use std::num::NonZeroU32;
    /// use aws_access::fake::FakeIdentityStore;
    /// use aws_access::identity_store::rate_limiter;
    ///
    /// let rate = NonZeroU32::new(18).unwrap();
    /// let store = FakeIdentityStore::new("d-1234567890")
    ///     .with_rate_limit(NonZeroU32::new(20).unwrap())
    ///     .paced_by(rate_limiter("d-1234567890", rate));
    /// # let _ = store;
    /// ```
    #[must_use]
    pub fn paced_by(mut self, limiter: SharedLimiter) -> Self {
        self.pacing = Some(limiter);
        self
    }

    /// Calls served per API operation (throttled calls excluded).
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.state).calls.clone()
    }

    /// Calls refused with `ThrottlingException` so far.
    pub fn throttled(&self) -> u64 {
        lock(&self.state).throttled
    }

    /// Calls waiting out their latency right now, all operations together: what a test
    /// watches to tell whether something else runs while the store is being read.
    pub fn in_flight(&self) -> usize {
        lock(&self.state).in_flight.values().sum()
    }

    /// The most calls of `operation` that were in flight at once (their latency overlapping).
    pub fn peak_in_flight(&self, operation: &str) -> usize {
        lock(&self.state)
            .peak_in_flight
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Whether a call of `a` and a call of `b` were ever in flight at the same time.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use futures::TryStreamExt;
    /// use aws_access::fake::FakeIdentityStore;
    /// use aws_access::identity_store::IdentityStore;
    ///
    /// let store = FakeIdentityStore::new("d-1234567890").with_latency(Duration::from_millis(5));
    /// let users = store.list_users().try_collect::<Vec<_>>();
    /// let groups = store.list_groups().try_collect::<Vec<_>>();
    /// let _ = futures::join!(users, groups);
    /// assert!(store.overlapped("ListUsers", "ListGroups"));
    /// assert_eq!(store.peak_in_flight("ListUsers"), 1);
    /// assert_eq!(store.in_flight(), 0);
    /// # });
    /// ```
    pub fn overlapped(&self, a: &str, b: &str) -> bool {
        lock(&self.state)
            .overlaps
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
    }

    async fn call(&self, operation: &'static str) -> Result<()> {
        if let Some(limiter) = &self.pacing {
            limiter.until_ready().await;
        }
        if !self.latency.is_zero() {
            lock(&self.state).begin(operation);
            let _flight = InFlight {
                state: &self.state,
                operation,
            };
            tokio::time::sleep(self.latency).await;
        }
        if let Some(quota) = &self.quota {
            let mut bucket = lock(quota);
            let now = Instant::now();
            bucket.tokens = (bucket.tokens
                + now.duration_since(bucket.last).as_secs_f64() * bucket.rate)
                .min(bucket.rate);
            bucket.last = now;
            if bucket.tokens < 1.0 {
                lock(&self.state).throttled += 1;
                return Err(
                    refused(operation, "ThrottlingException", "Rate exceeded", 400)
                        .with_retry_after(Some(Duration::from_secs(1))),
                );
            }
            bucket.tokens -= 1.0;
        }
        *lock(&self.state).calls.entry(operation).or_default() += 1;
        Ok(())
    }

    /// Serves `items` 100 per page, one counted (and throttled, and delayed) call per page,
    /// as the service's list operations do.
    fn pages<T: Send + 'static>(
        &self,
        operation: &'static str,
        items: Vec<T>,
    ) -> BoxStream<'_, Result<T>> {
        let mut pages: Vec<Vec<T>> = Vec::new();
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            pages.push(items.by_ref().take(100).collect());
        }
        if pages.is_empty() {
            pages.push(Vec::new());
        }
        stream::iter(pages)
            .then(move |page| async move {
                self.call(operation).await?;
                Ok::<_, Error>(stream::iter(page.into_iter().map(Ok)))
            })
            .flat_map(|page| match page {
                Ok(items) => items.boxed(),
                Err(err) => stream::once(async { Err(err) }).boxed(),
            })
            .boxed()
    }

    fn user(state: &Store, id: &UserId, operation: &'static str) -> Result<User> {
        state.users.get(id).cloned().ok_or_else(|| {
            refused(
                operation,
                "ResourceNotFoundException",
                format!("USER {id} not found."),
                400,
            )
        })
    }

    fn group(state: &Store, id: &GroupId, operation: &'static str) -> Result<Group> {
        state.groups.get(id).cloned().ok_or_else(|| {
            refused(
                operation,
                "ResourceNotFoundException",
                format!("GROUP {id} not found."),
                400,
            )
        })
    }
}

/// userNames and group display names are unique regardless of case, as in the service.
fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// The service refuses a description outside 1 to 1,024 characters (`ValidationException`;
/// the SDK does not check it before sending).
fn check_description(operation: &'static str, description: Option<&str>) -> Result<()> {
    match description.map(|d| d.chars().count()) {
        Some(length) if !(1..=1024).contains(&length) => Err(refused(
            operation,
            "ValidationException",
            format!("Description must have length between 1 and 1024; got {length}"),
            400,
        )),
        _ => Ok(()),
    }
}

#[async_trait]
impl IdentityStore for FakeIdentityStore {
    fn store_id(&self) -> &str {
        &self.store_id
    }

    async fn create_user(&self, user: &NewUser, on_conflict: OnConflict) -> Result<Created<User>> {
        self.call("CreateUser").await?;
        let mut state = lock(&self.state);
        if let Some(existing) = state
            .users
            .values()
            .find(|u| same_name(&u.user_name, &user.user_name))
        {
            return match on_conflict {
                OnConflict::Adopt => Ok(Created {
                    value: existing.clone(),
                    adopted: true,
                }),
                OnConflict::Fail => Err(refused(
                    "CreateUser",
                    "ConflictException",
                    "Duplicate UserName",
                    400,
                )),
            };
        }
        let id = UserId(state.id("user"));
        let created = User {
            id: id.clone(),
            user_name: user.user_name.clone(),
            display_name: Some(user.display_name.clone()),
            given_name: Some(user.given_name.clone()),
            family_name: Some(user.family_name.clone()),
            email: user.email.clone(),
            phone: user.phone.clone(),
            external_ids: Vec::new(),
            enabled: Some(true),
        };
        state.users.insert(id, created.clone());
        Ok(Created {
            value: created,
            adopted: false,
        })
    }

    async fn describe_user(&self, id: &UserId) -> Result<User> {
        self.call("DescribeUser").await?;
        Self::user(&lock(&self.state), id, "DescribeUser")
    }

    async fn update_user(&self, id: &UserId, changes: &[UserChange]) -> Result<()> {
        self.call("UpdateUser").await?;
        let mut state = lock(&self.state);
        let taken = changes.iter().find_map(|c| match c {
            UserChange::UserName(name) => state
                .users
                .values()
                .find(|u| &u.id != id && same_name(&u.user_name, name))
                .map(|_| name.clone()),
            _ => None,
        });
        if let Some(name) = taken {
            return Err(refused(
                "UpdateUser",
                "ConflictException",
                format!("Duplicate UserName {name}"),
                400,
            ));
        }
        let user = state.users.get_mut(id).ok_or_else(|| {
            refused(
                "UpdateUser",
                "ResourceNotFoundException",
                format!("USER {id} not found."),
                400,
            )
        })?;
        for change in changes {
            match change {
                UserChange::UserName(v) => user.user_name = v.clone(),
                UserChange::DisplayName(v) => user.display_name = Some(v.clone()),
                UserChange::GivenName(v) => user.given_name = Some(v.clone()),
                UserChange::FamilyName(v) => user.family_name = Some(v.clone()),
                UserChange::Email(v) => user.email = v.clone(),
                UserChange::Phone(v) => user.phone = v.clone(),
                UserChange::ExternalIds(v) => user.external_ids = v.clone(),
            }
        }
        Ok(())
    }

    async fn delete_user(&self, id: &UserId) -> Result<()> {
        self.call("DeleteUser").await?;
        let mut state = lock(&self.state);
        state.users.remove(id);
        state.memberships.retain(|(_, u), _| u != id);
        Ok(())
    }

    fn list_users(&self) -> BoxStream<'_, Result<User>> {
        let items: Vec<User> = lock(&self.state).users.values().cloned().collect();
        self.pages("ListUsers", items)
    }

    async fn find_user(&self, lookup: &UserLookup) -> Result<Option<UserId>> {
        self.call("GetUserId").await?;
        let state = lock(&self.state);
        let found = state.users.values().find(|u| match lookup {
            UserLookup::UserName(name) => u.user_name.eq_ignore_ascii_case(name),
            UserLookup::Email(email) => u
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email)),
            UserLookup::ExternalId(e) => u.external_ids.contains(e),
        });
        Ok(found.map(|u| u.id.clone()))
    }

    async fn create_group(
        &self,
        display_name: &str,
        description: Option<&str>,
        on_conflict: OnConflict,
    ) -> Result<Created<Group>> {
        self.call("CreateGroup").await?;
        check_description("CreateGroup", description)?;
        let mut state = lock(&self.state);
        if let Some(existing) = state
            .groups
            .values()
            .find(|g| same_name(&g.display_name, display_name))
        {
            return match on_conflict {
                OnConflict::Adopt => Ok(Created {
                    value: existing.clone(),
                    adopted: true,
                }),
                OnConflict::Fail => Err(refused(
                    "CreateGroup",
                    "ConflictException",
                    "Duplicate GroupDisplayName",
                    400,
                )),
            };
        }
        let id = GroupId(state.id("group"));
        let group = Group {
            id: id.clone(),
            display_name: display_name.to_owned(),
            description: description.map(str::to_owned),
            external_ids: Vec::new(),
        };
        state.groups.insert(id, group.clone());
        Ok(Created {
            value: group,
            adopted: false,
        })
    }

    async fn describe_group(&self, id: &GroupId) -> Result<Group> {
        self.call("DescribeGroup").await?;
        Self::group(&lock(&self.state), id, "DescribeGroup")
    }

    async fn update_group(
        &self,
        id: &GroupId,
        display_name: Option<&str>,
        description: Option<&str>,
    ) -> Result<()> {
        self.call("UpdateGroup").await?;
        check_description("UpdateGroup", description)?;
        let mut state = lock(&self.state);
        if let Some(name) = display_name
            && state
                .groups
                .values()
                .any(|g| &g.id != id && same_name(&g.display_name, name))
        {
            return Err(refused(
                "UpdateGroup",
                "ConflictException",
                format!("Duplicate GroupDisplayName {name}"),
                400,
            ));
        }
        let group = state.groups.get_mut(id).ok_or_else(|| {
            refused(
                "UpdateGroup",
                "ResourceNotFoundException",
                format!("GROUP {id} not found."),
                400,
            )
        })?;
        if let Some(name) = display_name {
            group.display_name = name.to_owned();
        }
        if let Some(text) = description {
            group.description = Some(text.to_owned());
        }
        Ok(())
    }

    async fn delete_group(&self, id: &GroupId) -> Result<()> {
        self.call("DeleteGroup").await?;
        let mut state = lock(&self.state);
        state.groups.remove(id);
        state.memberships.retain(|(g, _), _| g != id);
        Ok(())
    }

    fn list_groups(&self) -> BoxStream<'_, Result<Group>> {
        let items: Vec<Group> = lock(&self.state).groups.values().cloned().collect();
        self.pages("ListGroups", items)
    }

    async fn find_group(&self, lookup: &GroupLookup) -> Result<Option<GroupId>> {
        self.call("GetGroupId").await?;
        let state = lock(&self.state);
        let found = state.groups.values().find(|g| match lookup {
            GroupLookup::DisplayName(name) => &g.display_name == name,
            GroupLookup::ExternalId(e) => g.external_ids.contains(e),
        });
        Ok(found.map(|g| g.id.clone()))
    }

    async fn add_member(&self, group: &GroupId, user: &UserId) -> Result<MembershipId> {
        self.call("CreateGroupMembership").await?;
        let mut state = lock(&self.state);
        Self::group(&state, group, "CreateGroupMembership")?;
        Self::user(&state, user, "CreateGroupMembership")?;
        if let Some(existing) = state.memberships.get(&(group.clone(), user.clone())) {
            return Ok(existing.clone());
        }
        let id = MembershipId(state.id("membership"));
        state
            .memberships
            .insert((group.clone(), user.clone()), id.clone());
        Ok(id)
    }

    async fn remove_member(&self, group: &GroupId, user: &UserId) -> Result<bool> {
        self.call("DeleteGroupMembership").await?;
        Ok(lock(&self.state)
            .memberships
            .remove(&(group.clone(), user.clone()))
            .is_some())
    }

    fn member_ids<'a>(&'a self, group: &'a GroupId) -> BoxStream<'a, Result<UserId>> {
        let items: Vec<UserId> = lock(&self.state)
            .memberships
            .keys()
            .filter(|(g, _)| g == group)
            .map(|(_, u)| u.clone())
            .collect();
        self.pages("ListGroupMemberships", items)
    }

    async fn group_members(&self, group: &GroupId) -> Result<Vec<Member>> {
        self.call("ListGroupMemberships").await?;
        let state = lock(&self.state);
        Ok(state
            .memberships
            .iter()
            .filter(|((g, _), _)| g == group)
            .filter_map(|((_, u), id)| {
                let user = state.users.get(u)?;
                Some(Member {
                    membership_id: id.clone(),
                    user_id: u.clone(),
                    user_name: user.user_name.clone(),
                    display_name: user.display_name.clone(),
                })
            })
            .collect())
    }

    async fn user_groups(&self, user: &UserId) -> Result<Vec<UserGroup>> {
        self.call("ListGroupMembershipsForMember").await?;
        let state = lock(&self.state);
        Ok(state
            .memberships
            .iter()
            .filter(|((_, u), _)| u == user)
            .filter_map(|((g, _), id)| {
                let group = state.groups.get(g)?;
                Some(UserGroup {
                    membership_id: id.clone(),
                    group_id: g.clone(),
                    display_name: group.display_name.clone(),
                })
            })
            .collect())
    }

    async fn is_member(
        &self,
        user: &UserId,
        groups: &[GroupId],
    ) -> Result<BTreeMap<GroupId, bool>> {
        for _ in groups.chunks(crate::identity_store::MAX_GROUPS_PER_MEMBERSHIP_CHECK) {
            self.call("IsMemberInGroups").await?;
        }
        let state = lock(&self.state);
        Ok(groups
            .iter()
            .map(|g| {
                (
                    g.clone(),
                    state.memberships.contains_key(&(g.clone(), user.clone())),
                )
            })
            .collect())
    }
}

/// In-memory IAM role policies with a per-role quota; `explain` allows exactly the actions
/// given to [`FakeRolePolicies::allow`].
#[derive(Debug)]
pub struct FakeRolePolicies {
    roles: Mutex<HashMap<String, Vec<AttachedPolicy>>>,
    allowed: Mutex<BTreeSet<String>>,
    quota: usize,
}

impl FakeRolePolicies {
    /// Roles `roles` with no policy, and the default quota of 10 per role.
    pub fn new(roles: &[&str]) -> Self {
        Self {
            roles: Mutex::new(
                roles
                    .iter()
                    .map(|r| ((*r).to_owned(), Vec::new()))
                    .collect(),
            ),
            allowed: Mutex::default(),
            quota: crate::iam::DEFAULT_POLICIES_PER_ROLE,
        }
    }

    /// Makes `explain` allow `action`.
    pub fn allow(&self, action: &str) {
        lock(&self.allowed).insert(action.to_owned());
    }
}

#[async_trait]
impl RolePolicies for FakeRolePolicies {
    async fn attach(&self, role: &str, policy_arn: &str) -> Result<AttachOutcome> {
        let mut roles = lock(&self.roles);
        let attached = roles.get_mut(role).ok_or_else(|| {
            refused(
                "AttachRolePolicy",
                "NoSuchEntity",
                format!("The role with name {role} cannot be found."),
                404,
            )
        })?;
        if attached.iter().any(|p| p.arn == policy_arn) {
            return Ok(AttachOutcome::AlreadyAttached);
        }
        if attached.len() >= self.quota {
            return Err(Error::RolePolicyQuota {
                role: role.to_owned(),
                attached: attached.len(),
                quota: self.quota,
            });
        }
        let name = policy_arn
            .rsplit('/')
            .next()
            .unwrap_or(policy_arn)
            .to_owned();
        attached.push(AttachedPolicy {
            name,
            arn: policy_arn.to_owned(),
        });
        Ok(AttachOutcome::Attached)
    }

    async fn detach(&self, role: &str, policy_arn: &str) -> Result<DetachOutcome> {
        let mut roles = lock(&self.roles);
        let attached = roles.get_mut(role).ok_or_else(|| {
            refused(
                "DetachRolePolicy",
                "NoSuchEntity",
                format!("The role with name {role} cannot be found."),
                404,
            )
        })?;
        let before = attached.len();
        attached.retain(|p| p.arn != policy_arn);
        Ok(if attached.len() < before {
            DetachOutcome::Detached
        } else {
            DetachOutcome::NotAttached
        })
    }

    async fn attached(&self, role: &str) -> Result<Vec<AttachedPolicy>> {
        lock(&self.roles).get(role).cloned().ok_or_else(|| {
            refused(
                "ListAttachedRolePolicies",
                "NoSuchEntity",
                format!("The role with name {role} cannot be found."),
                404,
            )
        })
    }

    async fn explain(
        &self,
        _principal_arn: &str,
        actions: &[&str],
        _resources: &[&str],
    ) -> Result<Vec<Decision>> {
        let allowed = lock(&self.allowed);
        Ok(actions
            .iter()
            .map(|a| Decision {
                action: (*a).to_owned(),
                resource: None,
                verdict: if allowed.contains(*a) {
                    Verdict::Allowed
                } else {
                    Verdict::ImplicitDeny
                },
                matched_policies: Vec::new(),
            })
            .collect())
    }
}

/// An in-memory EC2 that allows exactly the actions given to [`FakeEc2::allowing`]
/// (`ec2:RunInstances`, `ec2:DescribeInstances`, `ec2:TerminateInstances`).
#[derive(Debug, Default)]
pub struct FakeEc2 {
    allowed: BTreeSet<String>,
    running: Mutex<BTreeSet<String>>,
    launched: Mutex<u64>,
}

impl FakeEc2 {
    /// An EC2 that allows `actions`.
    pub fn allowing(actions: &[&str]) -> Self {
        Self {
            allowed: actions.iter().map(|a| (*a).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// Ids of the instances still running.
    pub fn running(&self) -> Vec<String> {
        lock(&self.running).iter().cloned().collect()
    }

    fn verdict(&self, action: &str) -> Outcome {
        if self.allowed.contains(action) {
            Outcome::Allowed
        } else {
            Outcome::Denied {
                code: "UnauthorizedOperation".into(),
                encoded_message: Some(format!("fake-denial-of-{action}")),
            }
        }
    }
}

#[async_trait]
impl Ec2Access for FakeEc2 {
    async fn probe(&self, _spec: &ProbeSpec) -> ProbeReport {
        ProbeReport {
            run_instances: self.verdict("ec2:RunInstances"),
            describe_instances: self.verdict("ec2:DescribeInstances"),
            terminate_instances: self.verdict("ec2:TerminateInstances"),
        }
    }

    async fn live(&self, _spec: &ProbeSpec) -> Result<LiveReport> {
        let launch = self.verdict("ec2:RunInstances");
        if launch != Outcome::Allowed {
            let error = Outcome::Error {
                code: None,
                message: "not attempted: the launch failed".into(),
            };
            return Ok(LiveReport {
                launch,
                instance_id: None,
                describe: error.clone(),
                state: None,
                terminate: error,
                cleaned_up: true,
            });
        }
        let id = {
            let mut n = lock(&self.launched);
            *n += 1;
            format!("i-fake{:013}", *n)
        };
        lock(&self.running).insert(id.clone());
        let describe = self.verdict("ec2:DescribeInstances");
        let state = (describe == Outcome::Allowed).then(|| "running".to_owned());
        let terminate = self.verdict("ec2:TerminateInstances");
        if terminate == Outcome::Allowed {
            lock(&self.running).remove(&id);
        }
        let cleaned_up = !lock(&self.running).contains(&id);
        Ok(LiveReport {
            launch,
            instance_id: Some(id),
            describe,
            state,
            terminate,
            cleaned_up,
        })
    }
}

/// In-memory SSM parameters.
#[derive(Debug, Default)]
pub struct FakeParameters {
    values: Mutex<HashMap<String, SecretString>>,
}

impl FakeParameters {
    /// Stores `value` under `name`.
    pub fn put(&self, name: &str, value: SecretString) {
        lock(&self.values).insert(name.to_owned(), value);
    }
}

#[async_trait]
impl Parameters for FakeParameters {
    async fn secure_string(&self, name: &str) -> Result<SecretString> {
        lock(&self.values).get(name).cloned().ok_or_else(|| {
            refused(
                "GetParameter",
                "ParameterNotFound",
                format!("parameter {name} not found"),
                400,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_quota_throttles_like_the_service_with_a_retry_hint() {
        let store = FakeIdentityStore::new("d-1").with_rate_limit(NonZeroU32::new(5).unwrap());
        let mut throttled = None;
        for i in 0..10 {
            if let Err(err) = store
                .find_user(&UserLookup::UserName(format!("u{i}")))
                .await
            {
                throttled = Some(err);
                break;
            }
        }
        let err = throttled.expect("the sixth call in one second is over the quota");
        assert!(err.is_throttled(), "{err}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(store.calls()["GetUserId"], 5);
        assert_eq!(store.throttled(), 1);
    }

    #[tokio::test]
    async fn lists_are_served_100_per_page_one_call_each() {
        use futures::TryStreamExt;
        let store = FakeIdentityStore::new("d-1");
        for i in 0..250 {
            store
                .create_user(&NewUser::new(format!("u{i}"), "U", "Ser"), OnConflict::Fail)
                .await
                .unwrap();
        }
        let users: Vec<User> = store.list_users().try_collect().await.unwrap();
        assert_eq!(users.len(), 250);
        assert_eq!(store.calls()["ListUsers"], 3);
        let groups: Vec<Group> = store.list_groups().try_collect().await.unwrap();
        assert!(groups.is_empty());
        assert_eq!(
            store.calls()["ListGroups"],
            1,
            "an empty list still costs one call"
        );
    }

    #[tokio::test]
    async fn memberships_are_never_duplicated_and_go_with_their_user() {
        let store = FakeIdentityStore::new("d-1");
        let user = store
            .create_user(&NewUser::new("ada", "Ada", "L"), OnConflict::Fail)
            .await
            .unwrap()
            .value;
        let group = store
            .create_group("Eng", None, OnConflict::Fail)
            .await
            .unwrap()
            .value;
        let first = store.add_member(&group.id, &user.id).await.unwrap();
        assert_eq!(store.add_member(&group.id, &user.id).await.unwrap(), first);
        assert_eq!(store.group_members(&group.id).await.unwrap().len(), 1);
        store.delete_user(&user.id).await.unwrap();
        assert!(store.group_members(&group.id).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_full_role_and_an_unknown_role_fail_clearly() {
        let iam = FakeRolePolicies::new(&["dev"]);
        for i in 0..10 {
            iam.attach("dev", &format!("arn:aws:iam::aws:policy/P{i}"))
                .await
                .unwrap();
        }
        let full = iam
            .attach("dev", "arn:aws:iam::aws:policy/P10")
            .await
            .unwrap_err();
        assert!(matches!(full, Error::RolePolicyQuota { quota: 10, .. }));
        assert!(
            iam.attach("ops", "arn:aws:iam::aws:policy/P0")
                .await
                .unwrap_err()
                .is_not_found()
        );
    }

    #[tokio::test]
    async fn the_fake_ec2_live_probe_reports_what_it_could_not_clean_up() {
        let ec2 = FakeEc2::allowing(&["ec2:RunInstances", "ec2:DescribeInstances"]);
        let report = ec2
            .live(&ProbeSpec::new("ami-1", "t2.micro"))
            .await
            .unwrap();
        assert!(matches!(report.terminate, Outcome::Denied { .. }));
        assert!(!report.cleaned_up);
        assert_eq!(ec2.running(), [report.instance_id.unwrap()]);
    }
}
