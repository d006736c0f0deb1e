//! An in-memory directory that is both a [`Source`] and a [`Target`], for tests, the
//! sandbox and benchmarks.
//!
//! As a target it behaves like a strict real one: a duplicate userName or group name is a
//! conflict, writes to missing objects are not-found, deleting a user or group removes its
//! memberships. It counts every call, and it can simulate a network latency and a
//! requests-per-second quota (a token bucket, like AWS's): a call over the quota fails as
//! rate limited with a retry-after hint, as the Identity Store's `ThrottlingException` does.
//!
//! Like the real targets' connectors, it records the members an adopted group keeps (the
//! `keep_members` of an [`Operation::UpdateGroup`]) and reports those it still has in
//! [`Snapshot::kept_memberships`]; removing such a member, or deleting its group or user,
//! forgets it, and so does adding it (members the engine adds are never kept).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use std::num::NonZeroU32;
//! use std::time::Duration;
//! use provisioning_core::connector::{Source, TargetReader};
//! use provisioning_core::memory::MemoryDirectory;
//! use provisioning_core::model::{Group, Scope, User};
//!
//! let dir = MemoryDirectory::default()
//!     .with_latency(Duration::from_millis(1))
//!     .with_rate_limit(NonZeroU32::new(20).unwrap());
//! dir.insert_user(User::new("u1", "ada@example.com"));
//! dir.insert_group(Group::new("g1", "Engineering"));
//! dir.add_member("g1", "u1");
//! dir.bind_group("aws-sso", "g1");
//!
//! let scoped = Source::read(&dir, &Scope::Application("aws-sso".into())).await?;
//! assert_eq!(scoped.users.len(), 1);
//! assert_eq!(dir.calls()["read"], 1);
//! # Ok::<(), provisioning_core::connector::ConnectorError>(())
//! # }).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::connector::{
    Applied, Capabilities, ConnectorError, ErrorClass, Source, Target, TargetModel, TargetReader,
};
use crate::mapping::TargetField;
use crate::model::{Group, Membership, Scope, Snapshot, User};
use crate::plan::Operation;
use crate::util::{fold, lock};

/// An in-memory directory. See the [module documentation](self).
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    state: Mutex<State>,
    capabilities: Capabilities,
    /// The real target whose rules writes follow; `None`: lenient.
    strict: Option<TargetModel>,
    latency: Duration,
    quota: Option<Mutex<Bucket>>,
}

#[derive(Debug, Default)]
struct State {
    users: BTreeMap<String, User>,
    groups: BTreeMap<String, Group>,
    memberships: BTreeSet<Membership>,
    /// Members adopted groups keep; reported only while in `memberships`.
    kept: BTreeSet<Membership>,
    user_names: HashMap<String, String>,
    group_names: HashMap<String, String>,
    applications: BTreeMap<String, BTreeSet<String>>,
    next_id: u64,
    calls: BTreeMap<String, u64>,
    throttled: u64,
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

fn not_found(what: &str, id: &str) -> ConnectorError {
    ConnectorError::new(ErrorClass::NotFound, format!("{what} {id} does not exist"))
}

impl MemoryDirectory {
    /// A directory holding `snapshot`, with default (SCIM-like) capabilities. Its
    /// `kept_memberships` are recorded as kept.
    ///
    /// ```
    /// use provisioning_core::memory::MemoryDirectory;
    /// use provisioning_core::model::{Snapshot, User};
    /// let mut snapshot = Snapshot::default();
    /// snapshot.users.push(User::new("u1", "ada"));
    /// assert_eq!(MemoryDirectory::new(snapshot).snapshot().users.len(), 1);
    /// ```
    pub fn new(snapshot: Snapshot) -> Self {
        let dir = Self::default();
        for user in snapshot.users {
            dir.insert_user(user);
        }
        for group in snapshot.groups {
            dir.insert_group(group);
        }
        let mut state = lock(&dir.state);
        state.memberships = snapshot.memberships;
        state.kept = snapshot.kept_memberships;
        drop(state);
        dir
    }

    /// An empty directory that behaves like the real target `model` (see
    /// [`TargetModel`]): userNames and group names unique case-insensitively (after NFC) on
    /// create *and* rename, attributes the target does not hold dropped on write, and the
    /// target's limits refused as the service refuses them. Property tests and the sandbox
    /// run on it; the lenient [`default`](Self::default) directory allows what no real
    /// target does (two users of one name after a rename, any description).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// use provisioning_core::connector::{ErrorClass, Target, TargetModel};
    /// use provisioning_core::memory::MemoryDirectory;
    /// use provisioning_core::model::User;
    /// use provisioning_core::plan::Operation;
    ///
    /// let dir = MemoryDirectory::strict(TargetModel::AwsIdentityCenter);
    /// let create = |name: &str| Operation::CreateUser {
    ///     placeholder: "p".into(),
    ///     user: User::new("", name).with_names("Ada", "Lovelace"),
    /// };
    /// dir.write(&create("ada@example.com")).await?;
    /// let err = dir.write(&create("ADA@example.com")).await.unwrap_err();
    /// assert_eq!(err.class(), ErrorClass::Conflict);
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// # }).unwrap();
    /// ```
    pub fn strict(model: TargetModel) -> Self {
        Self {
            capabilities: model.capabilities(),
            strict: Some(model),
            ..Self::default()
        }
    }

    /// Declares these capabilities (they are also enforced where they forbid something).
    #[must_use]
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Delays every call by `latency`.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Accepts at most `per_second` calls per second (a token bucket holding one second's
    /// worth); calls over it fail as rate limited. Also declared as the rate limit in the
    /// capabilities, so that the executor paces itself.
    #[must_use]
    pub fn with_rate_limit(mut self, per_second: NonZeroU32) -> Self {
        let rate = f64::from(per_second.get());
        self.quota = Some(Mutex::new(Bucket {
            rate,
            tokens: rate,
            last: Instant::now(),
        }));
        self.capabilities.rate_limit = Some(per_second);
        self
    }

    /// Adds or replaces a user, by id.
    pub fn insert_user(&self, user: User) {
        let mut state = lock(&self.state);
        state
            .user_names
            .insert(fold(&user.user_name), user.id.clone());
        state.users.insert(user.id.clone(), user);
    }

    /// Adds or replaces a group, by id.
    pub fn insert_group(&self, group: Group) {
        let key = self.group_key(&group.display_name);
        let mut state = lock(&self.state);
        state.group_names.insert(key, group.id.clone());
        state.groups.insert(group.id.clone(), group);
    }

    /// The key group names are unique by: folded when strict, exact when lenient.
    fn group_key(&self, name: &str) -> String {
        match self.strict {
            Some(_) => fold(name),
            None => name.to_owned(),
        }
    }

    /// Refuses what the strict model's service refuses; lenient directories refuse nothing.
    fn refuse(&self, message: impl Into<String>) -> Result<(), ConnectorError> {
        match self.strict {
            Some(model) => Err(ConnectorError::new(
                ErrorClass::Invalid,
                format!("{}: {}", model.name(), message.into()),
            )),
            None => Ok(()),
        }
    }

    /// Checks a user about to be created or updated against the strict model's limits.
    fn check_user(&self, user: &User, creating: bool) -> Result<(), ConnectorError> {
        let caps = &self.capabilities;
        if caps.requires_names && (user.given_name.is_none() || user.family_name.is_none()) {
            self.refuse(format!(
                "{} has no given or family name, which this target requires",
                user.user_name
            ))?;
        }
        if creating && !user.active && !caps.can_deactivate_users {
            self.refuse(format!(
                "{} would be created inactive; this target holds no inactive users",
                user.user_name
            ))?;
        }
        Ok(())
    }

    /// Checks a group description against the strict model's limits.
    fn check_description(&self, description: Option<&str>) -> Result<(), ConnectorError> {
        let Some(text) = description else {
            return Ok(());
        };
        // Counted in UTF-16 units, the stricter of the ways services count.
        let length = text.encode_utf16().count();
        if self.capabilities.group_descriptions
            && let Some(max) = self.capabilities.max_group_description
            && !(1..=max).contains(&length)
        {
            self.refuse(format!(
                "a group description of {length} UTF-16 units; it must have 1 to {max}"
            ))?;
        }
        Ok(())
    }

    /// A conflict when `name` (folded when strict) is held by another user.
    fn user_name_free(state: &State, name: &str, id: Option<&str>) -> Result<(), ConnectorError> {
        match state.user_names.get(&fold(name)) {
            Some(holder) if Some(holder.as_str()) != id => Err(ConnectorError::new(
                ErrorClass::Conflict,
                format!("a user named {name:?} exists already"),
            )),
            _ => Ok(()),
        }
    }

    /// Makes user `user_id` a member of group `group_id`.
    pub fn add_member(&self, group_id: &str, user_id: &str) {
        lock(&self.state).memberships.insert(Membership {
            group_id: group_id.to_owned(),
            user_id: user_id.to_owned(),
        });
    }

    /// Records that group `group_id` keeps its member `user_id` (as an adoption that listed
    /// it in `keep_members` does). It is reported in [`Snapshot::kept_memberships`] while
    /// the user is a member.
    ///
    /// ```
    /// use provisioning_core::memory::MemoryDirectory;
    /// use provisioning_core::model::{Group, User};
    /// let dir = MemoryDirectory::default();
    /// dir.insert_user(User::new("u1", "ada"));
    /// dir.insert_group(Group::new("g1", "Engineering"));
    /// dir.keep_member("g1", "u1");
    /// assert!(dir.snapshot().kept_memberships.is_empty(), "not a member yet");
    /// dir.add_member("g1", "u1");
    /// assert_eq!(dir.snapshot().kept_memberships.len(), 1);
    /// ```
    pub fn keep_member(&self, group_id: &str, user_id: &str) {
        lock(&self.state).kept.insert(Membership {
            group_id: group_id.to_owned(),
            user_id: user_id.to_owned(),
        });
    }

    /// Removes a user, its memberships and the record of those kept.
    pub fn remove_user(&self, user_id: &str) {
        let mut state = lock(&self.state);
        if let Some(user) = state.users.remove(user_id) {
            state.user_names.remove(&fold(&user.user_name));
        }
        state.memberships.retain(|m| m.user_id != user_id);
        state.kept.retain(|m| m.user_id != user_id);
    }

    /// Removes a group, its memberships (and the record of those kept) and its application
    /// bindings.
    pub fn remove_group(&self, group_id: &str) {
        let mut state = lock(&self.state);
        if let Some(group) = state.groups.remove(group_id) {
            state.group_names.remove(&group.display_name);
        }
        state.memberships.retain(|m| m.group_id != group_id);
        state.kept.retain(|m| m.group_id != group_id);
        for groups in state.applications.values_mut() {
            groups.remove(group_id);
        }
    }

    /// Binds group `group_id` to application `app` (for [`Scope::Application`]).
    pub fn bind_group(&self, app: &str, group_id: &str) {
        lock(&self.state)
            .applications
            .entry(app.to_owned())
            .or_default()
            .insert(group_id.to_owned());
    }

    /// Unbinds group `group_id` from application `app`.
    pub fn unbind_group(&self, app: &str, group_id: &str) {
        if let Some(groups) = lock(&self.state).applications.get_mut(app) {
            groups.remove(group_id);
        }
    }

    /// Everything the directory holds now, without counting a call: as a target reads,
    /// with the kept memberships it still has.
    ///
    /// ```
    /// use provisioning_core::memory::MemoryDirectory;
    /// use provisioning_core::model::User;
    /// let dir = MemoryDirectory::default();
    /// dir.insert_user(User::new("u1", "ada"));
    /// assert_eq!(dir.snapshot().users.len(), 1);
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        let state = lock(&self.state);
        Snapshot {
            users: state.users.values().cloned().collect(),
            groups: state.groups.values().cloned().collect(),
            memberships: state.memberships.clone(),
            groups_out_of_scope: BTreeSet::new(),
            kept_memberships: state
                .kept
                .intersection(&state.memberships)
                .cloned()
                .collect(),
            ..Snapshot::default()
        }
    }

    /// Calls served so far, per kind (`read`, `find_user`, `find_group`, `confirm_gone`, and
    /// the operation kinds).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        lock(&self.state).calls.clone()
    }

    /// Write calls served so far (throttled ones excluded).
    pub fn writes(&self) -> u64 {
        let state = lock(&self.state);
        state
            .calls
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "read" | "find_user" | "find_group" | "confirm_gone"
                )
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Calls refused as over the rate limit so far.
    pub fn throttled(&self) -> u64 {
        lock(&self.state).throttled
    }

    /// Waits the latency, takes a token from the quota and counts the call.
    async fn call(&self, kind: &str) -> Result<(), ConnectorError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if let Some(quota) = &self.quota
            && let Err(wait) = lock(quota).take()
        {
            lock(&self.state).throttled += 1;
            return Err(ConnectorError::new(
                ErrorClass::RateLimited,
                format!("{kind}: rate exceeded (ThrottlingException); retry later"),
            )
            .with_retry_after(wait));
        }
        *lock(&self.state).calls.entry(kind.to_owned()).or_default() += 1;
        Ok(())
    }

    fn scoped(&self, scope: &Scope) -> Snapshot {
        let state = lock(&self.state);
        let in_scope: BTreeSet<&String> = match scope {
            Scope::All => state.groups.keys().collect(),
            Scope::Application(app) => state.applications.get(app).into_iter().flatten().collect(),
            Scope::Groups(names) => names
                .iter()
                .filter_map(|n| state.group_names.get(n))
                .collect(),
        };
        let memberships: BTreeSet<Membership> = state
            .memberships
            .iter()
            .filter(|m| in_scope.contains(&m.group_id))
            .cloned()
            .collect();
        let members: BTreeSet<&String> = memberships.iter().map(|m| &m.user_id).collect();
        let users = match scope {
            // Everything: users outside any group too.
            Scope::All => state.users.values().cloned().collect(),
            _ => state
                .users
                .values()
                .filter(|u| members.contains(&u.id))
                .cloned()
                .collect(),
        };
        Snapshot {
            users,
            groups: in_scope
                .iter()
                .filter_map(|id| state.groups.get(*id))
                .cloned()
                .collect(),
            memberships,
            groups_out_of_scope: state
                .groups
                .keys()
                .filter(|id| !in_scope.contains(id))
                .cloned()
                .collect(),
            ..Snapshot::default()
        }
    }

    fn apply_write(&self, operation: &Operation<String>) -> Result<Applied, ConnectorError> {
        let mut guard = lock(&self.state);
        let state = &mut *guard;
        match operation {
            Operation::CreateUser { user, .. } => {
                Self::user_name_free(state, &user.user_name, None)?;
                self.check_user(user, true)?;
                state.next_id += 1;
                let id = format!("user-{}", state.next_id);
                let mut user = match self.strict {
                    Some(_) => self.capabilities.held(user.clone()),
                    None => user.clone(),
                };
                user.id = id.clone();
                state.user_names.insert(fold(&user.user_name), id.clone());
                state.users.insert(id.clone(), user);
                Ok(Applied {
                    created_id: Some(id),
                })
            }
            Operation::UpdateUser { id, user, fields } => {
                if !state.users.contains_key(id) {
                    return Err(not_found("user", id));
                }
                let renamed = state
                    .users
                    .get(id)
                    .is_some_and(|u| u.user_name != user.user_name);
                if self.strict.is_some() {
                    if fields.contains(&TargetField::UserName) && renamed {
                        if !self.capabilities.can_rename_users {
                            self.refuse("a userName cannot change on this target")?;
                        }
                        Self::user_name_free(state, &user.user_name, Some(id))?;
                    }
                    if fields.contains(&TargetField::Active)
                        && !self.capabilities.can_deactivate_users
                    {
                        self.refuse("a user's status cannot be written on this target")?;
                    }
                }
                let held = match self.strict {
                    Some(_) => self.capabilities.held(user.clone()),
                    None => user.clone(),
                };
                let user = &held;
                let existing = state
                    .users
                    .get_mut(id)
                    .ok_or_else(|| not_found("user", id))?;
                let old_name = fold(&existing.user_name);
                for field in fields {
                    match field {
                        TargetField::UserName => existing.user_name = user.user_name.clone(),
                        TargetField::DisplayName => {
                            existing.display_name = user.display_name.clone()
                        }
                        TargetField::GivenName => existing.given_name = user.given_name.clone(),
                        TargetField::FamilyName => existing.family_name = user.family_name.clone(),
                        TargetField::Email => existing.emails = user.emails.clone(),
                        TargetField::Phone => existing.phone_numbers = user.phone_numbers.clone(),
                        TargetField::Active => existing.active = user.active,
                        TargetField::Attribute(name) => match user.attributes.get(name) {
                            Some(value) => {
                                existing.attributes.insert(name.clone(), value.clone());
                            }
                            None => {
                                existing.attributes.remove(name);
                            }
                        },
                    }
                }
                if user.external_id.is_some() {
                    existing.external_id = user.external_id.clone();
                }
                let new_name = fold(&existing.user_name);
                if new_name != old_name {
                    state.user_names.remove(&old_name);
                    state.user_names.insert(new_name, id.clone());
                }
                Ok(Applied::default())
            }
            Operation::DeactivateUser { id } => {
                if !self.capabilities.can_deactivate_users {
                    self.refuse("users cannot be deactivated on this target")?;
                }
                state
                    .users
                    .get_mut(id)
                    .ok_or_else(|| not_found("user", id))?
                    .active = false;
                Ok(Applied::default())
            }
            Operation::DeleteUser { id } => {
                if !self.capabilities.can_delete_users {
                    return Err(ConnectorError::new(
                        ErrorClass::Invalid,
                        "this target cannot delete users",
                    ));
                }
                let user = state
                    .users
                    .remove(id)
                    .ok_or_else(|| not_found("user", id))?;
                state.user_names.remove(&fold(&user.user_name));
                state.memberships.retain(|m| &m.user_id != id);
                state.kept.retain(|m| &m.user_id != id);
                Ok(Applied::default())
            }
            Operation::CreateGroup { group, .. } => {
                let key = self.group_key(&group.display_name);
                if state.group_names.contains_key(&key) {
                    return Err(ConnectorError::new(
                        ErrorClass::Conflict,
                        format!("a group named {:?} exists already", group.display_name),
                    ));
                }
                self.check_description(group.description.as_deref())?;
                state.next_id += 1;
                let id = format!("group-{}", state.next_id);
                let mut group = group.clone();
                group.id = id.clone();
                if !self.capabilities.group_descriptions && self.strict.is_some() {
                    group.description = None;
                }
                state.group_names.insert(key, id.clone());
                state.groups.insert(id.clone(), group);
                Ok(Applied {
                    created_id: Some(id),
                })
            }
            Operation::UpdateGroup {
                id,
                group,
                keep_members,
            } => {
                let current = state.groups.get(id).ok_or_else(|| not_found("group", id))?;
                let new_key = self.group_key(&group.display_name);
                if self.strict.is_some() && current.display_name != group.display_name {
                    if !self.capabilities.can_rename_groups {
                        self.refuse("groups cannot be renamed on this target")?;
                    }
                    if state
                        .group_names
                        .get(&new_key)
                        .is_some_and(|holder| holder != id)
                    {
                        return Err(ConnectorError::new(
                            ErrorClass::Conflict,
                            format!("a group named {:?} exists already", group.display_name),
                        ));
                    }
                }
                self.check_description(group.description.as_deref())?;
                let drops_description =
                    self.strict.is_some() && !self.capabilities.group_descriptions;
                let old_key = self.group_key(&current.display_name);
                let existing = state
                    .groups
                    .get_mut(id)
                    .ok_or_else(|| not_found("group", id))?;
                existing.display_name = group.display_name.clone();
                if group.description.is_some() && !drops_description {
                    existing.description = group.description.clone();
                }
                if group.external_id.is_some() {
                    existing.external_id = group.external_id.clone();
                }
                state.group_names.remove(&old_key);
                state.group_names.insert(new_key, id.clone());
                // Recorded once the update has succeeded, as a real connector does.
                for user in keep_members {
                    state.kept.insert(Membership {
                        group_id: id.clone(),
                        user_id: user.clone(),
                    });
                }
                Ok(Applied::default())
            }
            Operation::DeleteGroup { id } => {
                let group = state
                    .groups
                    .remove(id)
                    .ok_or_else(|| not_found("group", id))?;
                state
                    .group_names
                    .remove(&self.group_key(&group.display_name));
                state.memberships.retain(|m| &m.group_id != id);
                state.kept.retain(|m| &m.group_id != id);
                Ok(Applied::default())
            }
            Operation::AddMembers { group, users } | Operation::RemoveMembers { group, users } => {
                if !state.groups.contains_key(group) {
                    return Err(not_found("group", group));
                }
                if users.len() > self.capabilities.max_members_per_request {
                    return Err(ConnectorError::new(
                        ErrorClass::Invalid,
                        format!(
                            "{} members in one request; this target takes at most {}",
                            users.len(),
                            self.capabilities.max_members_per_request
                        ),
                    ));
                }
                let adding = matches!(operation, Operation::AddMembers { .. });
                for user in users {
                    if adding && !state.users.contains_key(user) {
                        return Err(not_found("user", user));
                    }
                }
                for user in users {
                    let m = Membership {
                        group_id: group.clone(),
                        user_id: user.clone(),
                    };
                    // Either way the membership is no longer kept: one the engine adds is
                    // its own, and one it removes is gone.
                    state.kept.remove(&m);
                    if adding {
                        state.memberships.insert(m);
                    } else {
                        state.memberships.remove(&m);
                    }
                }
                Ok(Applied::default())
            }
        }
    }
}

#[async_trait]
impl Source for MemoryDirectory {
    async fn read(&self, scope: &Scope) -> Result<Snapshot, ConnectorError> {
        self.call("read").await?;
        Ok(self.scoped(scope))
    }

    /// The ids of groups the directory does not hold (any scope); counted as one
    /// `confirm_gone` call per batch, with the latency and quota of every call.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::collections::BTreeSet;
    /// use provisioning_core::connector::Source;
    /// use provisioning_core::memory::MemoryDirectory;
    /// use provisioning_core::model::Group;
    ///
    /// let dir = MemoryDirectory::default();
    /// dir.insert_group(Group::new("g1", "Engineering"));
    /// let asked = BTreeSet::from(["g1".to_string(), "g2".to_string()]);
    /// assert_eq!(dir.confirm_gone(&asked).await?, BTreeSet::from(["g2".to_string()]));
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Rate limited, when the directory simulates a quota and it is used up.
    async fn confirm_gone(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, ConnectorError> {
        self.call("confirm_gone").await?;
        let state = lock(&self.state);
        Ok(ids
            .iter()
            .filter(|id| !state.groups.contains_key(*id))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl TargetReader for MemoryDirectory {
    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    async fn read(&self) -> Result<Snapshot, ConnectorError> {
        self.call("read").await?;
        Ok(self.snapshot())
    }

    async fn find_user(&self, user_name: &str) -> Result<Option<User>, ConnectorError> {
        self.call("find_user").await?;
        let state = lock(&self.state);
        Ok(state
            .user_names
            .get(&fold(user_name))
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn find_group(&self, display_name: &str) -> Result<Option<Group>, ConnectorError> {
        self.call("find_group").await?;
        let state = lock(&self.state);
        Ok(state
            .group_names
            .get(&self.group_key(display_name))
            .and_then(|id| state.groups.get(id))
            .cloned())
    }
}

#[async_trait]
impl Target for MemoryDirectory {
    async fn write(&self, operation: &Operation<String>) -> Result<Applied, ConnectorError> {
        self.call(operation.kind()).await?;
        self.apply_write(operation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[tokio::test]
    async fn a_group_is_gone_only_when_the_directory_holds_no_group_with_its_id() {
        let dir = MemoryDirectory::default();
        dir.insert_group(Group::new("g-bound", "Engineering"));
        dir.insert_group(Group::new("g-unbound", "Finance"));
        dir.insert_group(Group::new("g-deleted", "Legal"));
        dir.bind_group("aws-sso", "g-bound");
        dir.remove_group("g-deleted");

        let gone = dir
            .confirm_gone(&ids(&["g-bound", "g-unbound", "g-deleted", "never-was"]))
            .await
            .unwrap();
        // Out of the application's scope is not gone; removed and unknown ids are.
        assert_eq!(gone, ids(&["g-deleted", "never-was"]));
        assert!(dir.confirm_gone(&BTreeSet::new()).await.unwrap().is_empty());
        assert_eq!(dir.calls()["confirm_gone"], 2);
        assert_eq!(dir.writes(), 0, "a lookup is not a write");
    }

    fn membership(group_id: &str, user_id: &str) -> Membership {
        Membership {
            group_id: group_id.to_owned(),
            user_id: user_id.to_owned(),
        }
    }

    /// A group `g1` with members `u1`, `u2`, `u3`, and `u4` in no group.
    fn directory() -> MemoryDirectory {
        let dir = MemoryDirectory::default();
        for (id, name) in [
            ("u1", "ada"),
            ("u2", "grace"),
            ("u3", "alan"),
            ("u4", "edsger"),
        ] {
            dir.insert_user(User::new(id, name));
        }
        dir.insert_group(Group::new("g1", "Engineering"));
        for user in ["u1", "u2", "u3"] {
            dir.add_member("g1", user);
        }
        dir
    }

    fn adopt(keep: &[&str]) -> Operation<String> {
        let mut group = Group::new("g1", "Engineering");
        group.external_id = Some(crate::model::ExternalId::new("idp", "jc-g1"));
        Operation::UpdateGroup {
            id: "g1".into(),
            group,
            keep_members: keep.iter().map(|u| (*u).to_owned()).collect(),
        }
    }

    async fn write(dir: &MemoryDirectory, operation: Operation<String>) {
        dir.write(&operation).await.unwrap();
    }

    #[tokio::test]
    async fn an_adoption_records_the_members_it_keeps_and_reads_report_those_present() {
        let dir = directory();
        // `u4` is listed but is not a member: recorded, reported only once it is one.
        write(&dir, adopt(&["u2", "u3", "u4"])).await;
        let read = TargetReader::read(&dir).await.unwrap();
        let expected: BTreeSet<_> = [membership("g1", "u2"), membership("g1", "u3")].into();
        assert_eq!(read.kept_memberships, expected);
        assert_eq!(
            dir.snapshot().kept_memberships,
            expected,
            "snapshot() agrees"
        );
        assert_eq!(read.groups[0].external_id.as_ref().unwrap().id, "jc-g1");
        assert!(
            Source::read(&dir, &Scope::All)
                .await
                .unwrap()
                .kept_memberships
                .is_empty(),
            "a source read reports none"
        );
    }

    #[tokio::test]
    async fn a_failed_adoption_records_nothing() {
        let dir = directory();
        let mut op = adopt(&["u2"]);
        if let Operation::UpdateGroup { id, .. } = &mut op {
            *id = "g9".into();
        }
        let err = dir.write(&op).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::NotFound);
        dir.insert_group(Group::new("g9", "Later"));
        dir.add_member("g9", "u2");
        assert!(dir.snapshot().kept_memberships.is_empty());
    }

    #[tokio::test]
    async fn removing_a_kept_member_or_deleting_its_user_or_group_forgets_it() {
        let dir = directory();
        write(&dir, adopt(&["u1", "u2", "u3"])).await;
        write(
            &dir,
            Operation::RemoveMembers {
                group: "g1".into(),
                users: vec!["u1".into()],
            },
        )
        .await;
        // Added back (by the engine): now the engine's own, not kept.
        write(
            &dir,
            Operation::AddMembers {
                group: "g1".into(),
                users: vec!["u1".into()],
            },
        )
        .await;
        write(&dir, Operation::DeleteUser { id: "u2".into() }).await;
        assert_eq!(
            dir.snapshot().kept_memberships,
            [membership("g1", "u3")].into()
        );
        // A user of the same id added back later is not kept either.
        dir.insert_user(User::new("u2", "grace"));
        dir.add_member("g1", "u2");
        assert_eq!(
            dir.snapshot().kept_memberships,
            [membership("g1", "u3")].into()
        );

        write(&dir, Operation::DeleteGroup { id: "g1".into() }).await;
        dir.insert_group(Group::new("g1", "Engineering"));
        dir.add_member("g1", "u3");
        assert!(dir.snapshot().kept_memberships.is_empty());
    }

    #[test]
    fn a_directory_built_from_a_snapshot_keeps_its_kept_memberships() {
        let mut snapshot = directory().snapshot();
        snapshot.kept_memberships.insert(membership("g1", "u1"));
        let dir = MemoryDirectory::new(snapshot.clone());
        assert_eq!(dir.snapshot(), snapshot);
        dir.remove_user("u1");
        dir.insert_user(User::new("u1", "ada"));
        dir.add_member("g1", "u1");
        assert!(dir.snapshot().kept_memberships.is_empty());
    }
}
