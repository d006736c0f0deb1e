//! The planner: a pure function from (source snapshot, target snapshot, capabilities,
//! policy) to an ordered, serialisable [`Plan`].
//!
//! The plan holds every change with its reason, in the order it must run: users, then
//! groups, then membership additions, then membership removals, then deprovisioning. Objects
//! to be created get placeholder ids (`new-user-1`, `new-group-1`) that later changes refer to
//! through [`Ref::New`]. What the rules keep the engine from doing is listed in
//! [`Plan::skipped`], each with its reason, and a tripped guard is [`Plan::abort`]: such a
//! plan can be shown but not applied (except as a reviewed [saved plan](crate::saved)).
//! Every change that removes access carries its count in
//! [`PlannedChange::removes_access`]; [`Plan::access_removals`] is what the
//! [guard](crate::policy::DeletionGuard) compares with [`Plan::managed`].
//!
//! ```
//! use provisioning_core::connector::Capabilities;
//! use provisioning_core::model::{Group, Snapshot, User};
//! use provisioning_core::plan::plan;
//! use provisioning_core::policy::Policy;
//!
//! let mut source = Snapshot::default();
//! source.users.push(User::new("u1", "ada@example.com").with_names("Ada", "Lovelace"));
//! source.groups.push(Group::new("g1", "Engineering"));
//! source.add_membership("g1", "u1");
//!
//! let plan = plan(&source, &Snapshot::default(), &Capabilities::default(), &Policy::default());
//! let kinds: Vec<_> = plan.changes.iter().map(|c| c.operation.kind()).collect();
//! assert_eq!(kinds, ["create_user", "create_group", "add_members"]);
//! assert_eq!(plan.changes[2].depends_on, [0, 1]); // waits for its user and its group
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::connector::Capabilities;
use crate::mapping::TargetField;
use crate::model::{ExternalId, Group, Hold, Snapshot, User};
use crate::policy::{AdoptedMembers, Deprovision, Policy};
use crate::util::fold;

mod renames;
use renames::{Claim, Holders, Order, Refusal};

/// A reference to a target object: one that exists, or one this plan creates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Ref {
    /// An existing target object, by its target id.
    Existing(String),
    /// An object created earlier in the same plan, by its placeholder id.
    New(String),
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Existing(id) => f.write_str(id),
            Ref::New(placeholder) => write!(f, "<{placeholder}>"),
        }
    }
}

/// One write to a target. In a [`Plan`], members and groups may be placeholders (`R` =
/// [`Ref`]); by the time a [`Target`](crate::connector::Target) sees it, every reference is
/// a target id (`R` = `String`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
#[non_exhaustive]
pub enum Operation<R> {
    /// Create a user, linked to its source user by `user.external_id`.
    CreateUser {
        /// The placeholder id later changes use for this user.
        placeholder: String,
        /// The user to create (its `id` is empty).
        user: User,
    },
    /// Write the listed attributes of an existing user (and its external id, which marks
    /// it as ours when it is adopted).
    UpdateUser {
        /// The target id.
        id: String,
        /// The desired user; only `fields` and `external_id` are written.
        user: User,
        /// The mapped attributes to write.
        fields: Vec<TargetField>,
    },
    /// Set `active = false`.
    DeactivateUser {
        /// The target id.
        id: String,
    },
    /// Delete a user.
    DeleteUser {
        /// The target id.
        id: String,
    },
    /// Create a group (empty: members follow in [`Operation::AddMembers`]).
    CreateGroup {
        /// The placeholder id later changes use for this group.
        placeholder: String,
        /// The group to create (its `id` is empty).
        group: Group,
    },
    /// Write the name, description and external id of an existing group.
    UpdateGroup {
        /// The target id.
        id: String,
        /// The desired group.
        group: Group,
        /// On an adoption: the target ids of the members the group already has, which the
        /// engine did not add. The target's connector records them (as
        /// [`Snapshot::kept_memberships`]) so that they are never removed under
        /// [`AdoptedMembers::Keep`](crate::policy::AdoptedMembers::Keep).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        keep_members: Vec<String>,
    },
    /// Delete a group.
    DeleteGroup {
        /// The target id.
        id: String,
    },
    /// Add members to a group, at most the target's `max_members_per_request`.
    AddMembers {
        /// The group.
        group: R,
        /// The users to add.
        users: Vec<R>,
    },
    /// Remove members from a group, at most the target's `max_members_per_request`.
    RemoveMembers {
        /// The group.
        group: R,
        /// The users to remove.
        users: Vec<R>,
    },
}

impl<R> Operation<R> {
    /// The operation's kind in snake case, as in JSON and in call counts.
    ///
    /// ```
    /// use provisioning_core::plan::Operation;
    /// let op: Operation<String> = Operation::DeleteGroup { id: "g1".into() };
    /// assert_eq!(op.kind(), "delete_group");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::CreateUser { .. } => "create_user",
            Operation::UpdateUser { .. } => "update_user",
            Operation::DeactivateUser { .. } => "deactivate_user",
            Operation::DeleteUser { .. } => "delete_user",
            Operation::CreateGroup { .. } => "create_group",
            Operation::UpdateGroup { .. } => "update_group",
            Operation::DeleteGroup { .. } => "delete_group",
            Operation::AddMembers { .. } => "add_members",
            Operation::RemoveMembers { .. } => "remove_members",
        }
    }

    /// The step of the apply this operation belongs to.
    pub fn phase(&self) -> Phase {
        match self {
            Operation::UpdateUser { .. } => Phase::UpdateUsers,
            Operation::CreateUser { .. } => Phase::CreateUsers,
            Operation::UpdateGroup { .. } => Phase::UpdateGroups,
            Operation::CreateGroup { .. } => Phase::CreateGroups,
            Operation::AddMembers { .. } => Phase::AddMembers,
            Operation::RemoveMembers { .. } => Phase::RemoveMembers,
            Operation::DeactivateUser { .. } | Operation::DeleteUser { .. } => {
                Phase::DeprovisionUsers
            }
            Operation::DeleteGroup { .. } => Phase::DeleteGroups,
        }
    }

    /// Whether the operation deactivates or deletes (counted by the deletion guard).
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Operation::DeactivateUser { .. }
                | Operation::DeleteUser { .. }
                | Operation::DeleteGroup { .. }
        )
    }
}

/// The steps of an apply, in order; every change of one step finishes before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Update (and adopt) users first: a rename may free the name a create needs.
    UpdateUsers,
    /// Create users.
    CreateUsers,
    /// Rename and adopt groups first: a rename may free the name a create needs.
    UpdateGroups,
    /// Create groups.
    CreateGroups,
    /// Add memberships.
    AddMembers,
    /// Remove memberships.
    RemoveMembers,
    /// Deactivate or delete users.
    DeprovisionUsers,
    /// Delete groups.
    DeleteGroups,
}

/// Why a change is in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
#[non_exhaustive]
pub enum Reason {
    /// In the source scope, not at the target.
    NotAtTarget,
    /// These mapped attributes differ from the source.
    AttributesDiffer {
        /// The differing target attributes.
        fields: Vec<TargetField>,
    },
    /// An unowned target object with the same name is taken over.
    AdoptedByName,
    /// The group was renamed at the source.
    Renamed {
        /// The target's current name.
        from: String,
    },
    /// Members of the source group missing from the target group.
    MembersMissing,
    /// Members of the target group no longer in the source group.
    MembersNoLongerInSource,
    /// The user is in no managed group of the source scope any more.
    LeftScope,
    /// The user is suspended or deprovisioned at the source.
    InactiveAtSource,
    /// The source confirmed that the group was deleted.
    DeletedAtSource,
    /// A first rename to a temporary name, breaking a cycle of renames (`a→b`, `b→a`): the
    /// rename to `final_name` follows once the name it takes is free.
    TemporaryName {
        /// The name the object gets in the end.
        final_name: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotAtTarget => f.write_str("in the source, not at the target"),
            Reason::AttributesDiffer { fields } => {
                f.write_str("differs in ")?;
                write_fields(f, fields)
            }
            Reason::AdoptedByName => {
                f.write_str("an unowned target object of the same name is taken over")
            }
            Reason::Renamed { from } => write!(f, "renamed at the source (was {from:?})"),
            Reason::MembersMissing => {
                f.write_str("members of the source group missing at the target")
            }
            Reason::MembersNoLongerInSource => f.write_str("no longer members at the source"),
            Reason::LeftScope => f.write_str("no longer in the source scope"),
            Reason::InactiveAtSource => f.write_str("suspended or deprovisioned at the source"),
            Reason::DeletedAtSource => {
                f.write_str("deleted at the source (confirmed by the source)")
            }
            Reason::TemporaryName { final_name } => write!(
                f,
                "renamed to a temporary name first, to break a cycle of renames (then to \
                 {final_name:?})"
            ),
        }
    }
}

fn write_fields(f: &mut fmt::Formatter<'_>, fields: &[TargetField]) -> fmt::Result {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match field {
            TargetField::UserName => f.write_str("userName")?,
            TargetField::DisplayName => f.write_str("displayName")?,
            TargetField::GivenName => f.write_str("name.givenName")?,
            TargetField::FamilyName => f.write_str("name.familyName")?,
            TargetField::Email => f.write_str("emails")?,
            TargetField::Phone => f.write_str("phoneNumbers")?,
            TargetField::Active => f.write_str("active")?,
            TargetField::Attribute(name) => f.write_str(name)?,
        }
    }
    Ok(())
}

/// One change of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedChange {
    /// Position in the plan, from 0; other changes' `depends_on` refer to it.
    pub id: usize,
    /// Who or what it concerns, for people: a userName or a group name.
    pub subject: String,
    /// The write.
    pub operation: Operation<Ref>,
    /// Why.
    pub reason: Reason,
    /// Changes that must succeed first, all earlier in the plan: the creates of the objects
    /// it refers to, and the rename or deletion that frees the name it takes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<usize>,
    /// For membership changes, the members' userNames, in the order of `users`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The access this change removes, counted by the guard: 1 for a user deactivated or
    /// deleted, 1 plus its memberships for a group deleted, one per member removed; 0 for
    /// every change that removes no access.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub removes_access: usize,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl PlannedChange {
    /// What the change removes, for people; `None` when it removes no access.
    ///
    /// ```
    /// use provisioning_core::plan::{Operation, PlannedChange, Reason, Ref};
    /// let change = PlannedChange {
    ///     id: 0,
    ///     subject: "Engineering".into(),
    ///     operation: Operation::RemoveMembers { group: Ref::Existing("g1".into()), users: vec![Ref::Existing("u1".into())] },
    ///     reason: Reason::MembersNoLongerInSource,
    ///     depends_on: vec![],
    ///     members: vec!["ada@example.com".into()],
    ///     removes_access: 1,
    /// };
    /// assert_eq!(change.access_removed().unwrap(), "1 membership of Engineering");
    /// let eleven = PlannedChange { removes_access: 11, ..change };
    /// assert_eq!(eleven.access_removed().unwrap(), "11 memberships of Engineering");
    /// ```
    pub fn access_removed(&self) -> Option<String> {
        if self.removes_access == 0 {
            return None;
        }
        Some(match &self.operation {
            Operation::DeactivateUser { .. } => format!("{} can no longer sign in", self.subject),
            Operation::DeleteUser { .. } => format!("{} is deleted", self.subject),
            Operation::DeleteGroup { .. } => format!(
                "group {} and its {} membership(s)",
                self.subject,
                self.removes_access - 1
            ),
            _ if self.removes_access == 1 => format!("1 membership of {}", self.subject),
            _ => format!("{} memberships of {}", self.removes_access, self.subject),
        })
    }
}

/// Why something the engine would otherwise do is left undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
#[non_exhaustive]
pub enum SkipReason {
    /// The target requires given and family names and the user lacks one.
    MissingNames,
    /// The name matches the policy's exclusion patterns.
    Excluded,
    /// The target object carries another tool's ownership mark.
    OwnedByOtherIssuer {
        /// The other issuer.
        issuer: String,
    },
    /// A target object of the same name exists and adoption is turned off.
    AdoptionDisabled,
    /// Two source objects map to the same target name.
    DuplicateName,
    /// The group has no members to sync, and empty groups are not created.
    EmptyGroup,
    /// The group left the source scope: it and its memberships are left as they are.
    LeftScope,
    /// The target cannot rename groups.
    CannotRenameGroup,
    /// The target cannot change a user's userName.
    CannotRenameUser,
    /// The target cannot deactivate users: an inactive source user is not created, and a
    /// user leaving the scope stays active unless the policy deletes.
    CannotDeactivate,
    /// Deprovisioning is not allowed by the policy (`allow_deprovision`).
    DeprovisionNotAllowed {
        /// What would have been done: `deactivate_user`, `delete_user` or `delete_group`.
        would: String,
    },
    /// The user is held (a source state that is staged or unknown, or a record that could
    /// not be read): it and its twin are left as they are.
    Held {
        /// Why.
        #[serde(flatten)]
        hold: Hold,
    },
    /// The source user's linked target twin is held (its record at the target could not be
    /// read): neither is created, changed or removed.
    TwinHeld {
        /// The twin's id at the target.
        twin: String,
        /// Why the twin is held.
        #[serde(flatten)]
        hold: Hold,
    },
    /// An adopted group keeps the members the engine did not add (`adopted_group_members =
    /// "keep"`); the plan says so once per group.
    KeptMembers {
        /// How many members the source does not list are kept.
        count: usize,
    },
    /// The group left the source scope, and the source does not confirm it was deleted: it
    /// and its memberships are left as they are.
    NotConfirmedGone,
    /// Other source objects are renamed into the same final name (names are unique
    /// case-insensitively at the target): none of them is renamed.
    NameCollision {
        /// The final name.
        name: String,
        /// The other source objects wanting it.
        with: Vec<String>,
    },
    /// A target object this run keeps holds the name (another tool's or an unowned object,
    /// a deactivated user, an excluded or skipped one's twin): the object keeps its name
    /// until that one is renamed or removed.
    NameHeld {
        /// The final name.
        name: String,
        /// The holder's name at the target.
        holder: String,
    },
}

impl From<Refusal> for SkipReason {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Collision { name, with } => SkipReason::NameCollision { name, with },
            Refusal::Held { name, holder } => SkipReason::NameHeld { name, holder },
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::MissingNames => {
                f.write_str("the target requires given and family names; set both at the source")
            }
            SkipReason::Excluded => f.write_str("matches an exclusion pattern"),
            SkipReason::OwnedByOtherIssuer { issuer } => {
                write!(f, "owned by another tool (external id issuer {issuer:?})")
            }
            SkipReason::AdoptionDisabled => {
                f.write_str("an object of the same name exists at the target and adoption is off")
            }
            SkipReason::DuplicateName => {
                f.write_str("another source object maps to the same target name")
            }
            SkipReason::EmptyGroup => {
                f.write_str("no members to sync; empty groups are not created")
            }
            SkipReason::LeftScope => f.write_str(
                "left the source scope; the group and its memberships are left as they are",
            ),
            SkipReason::CannotRenameGroup => f.write_str("the target cannot rename groups"),
            SkipReason::CannotRenameUser => f.write_str("the target cannot change a userName"),
            SkipReason::CannotDeactivate => f.write_str(
                "inactive or gone at the source, and the target cannot hold an inactive user: \
                 not created; an existing one is removed only with deprovision = delete (and \
                 allow_deprovision)",
            ),
            SkipReason::DeprovisionNotAllowed { would } => write!(
                f,
                "would {}; deprovisioning needs the policy's allow_deprovision",
                would.replace('_', " ")
            ),
            SkipReason::Held { hold } => write!(f, "{hold}: not created, changed or removed"),
            SkipReason::TwinHeld { twin, hold } => write!(
                f,
                "its target twin {twin} is held ({hold}): neither is created, changed or removed"
            ),
            SkipReason::KeptMembers { count } => write!(
                f,
                "adopted: keeps {count} member(s) the engine did not add and the source does \
                 not list (adopted_group_members = \"keep\")"
            ),
            SkipReason::NotConfirmedGone => f.write_str(
                "no longer in the source scope, and the source does not confirm its deletion: \
                 the group and its memberships are left as they are",
            ),
            SkipReason::NameCollision { name, with } => write!(
                f,
                "not renamed to {name:?}: {} also want(s) that name, and target names are \
                 unique regardless of case",
                with.iter()
                    .map(|w| format!("{w:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SkipReason::NameHeld { name, holder } => write!(
                f,
                "not renamed to {name:?}: the target's {holder:?} holds that name and this run \
                 keeps it"
            ),
        }
    }
}

/// Something the plan leaves undone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// A userName or a group name.
    pub subject: String,
    /// Why.
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// Why a plan must not be applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "abort")]
#[non_exhaustive]
pub enum Abort {
    /// The source read returned no user and no group: most likely a wrong scope or a
    /// failed read, never a reason to deprovision everyone.
    EmptySource,
    /// The plan would remove more access than the guard allows, overall or from one group.
    AccessGuard {
        /// Access removals planned (see [`PlannedChange::removes_access`]).
        removals: usize,
        /// What the engine manages: its users and groups and their managed memberships.
        managed: usize,
        /// Whether the overall bounds were exceeded.
        overall: bool,
        /// The guard's absolute bound.
        max_count: Option<usize>,
        /// The guard's percentage bound.
        max_percent: f64,
        /// The groups that tripped the per-group guard.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        groups: Vec<GroupLoss>,
    },
}

/// How many members one managed group would lose, when that trips the per-group guard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLoss {
    /// The group's name.
    pub group: String,
    /// Its members at the target.
    pub members: usize,
    /// The members the plan removes.
    pub removed: usize,
    /// Whether the source returned no member at all for it.
    pub source_empty: bool,
}

impl fmt::Display for GroupLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} would lose {} of its {} member(s)",
            self.group, self.removed, self.members
        )?;
        if self.source_empty {
            f.write_str(" (its source member list came back empty)")?;
        }
        Ok(())
    }
}

impl fmt::Display for Abort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Abort::EmptySource => f.write_str(
                "the source returned no users and no groups; check the scope and the source \
                 credentials (nothing was written)",
            ),
            Abort::AccessGuard {
                removals,
                managed,
                overall,
                max_count,
                max_percent,
                groups,
            } => {
                write!(
                    f,
                    "the plan removes {removals} access(es) of the {managed} users, groups and \
                     memberships the engine manages"
                )?;
                if *overall {
                    write!(f, ", more than the guard allows ({max_percent}%")?;
                    if let Some(max) = max_count {
                        write!(f, ", at most {max}")?;
                    }
                    f.write_str(")")?;
                }
                if !groups.is_empty() {
                    f.write_str("; groups tripping the per-group guard: ")?;
                    for (i, group) in groups.iter().enumerate() {
                        if i > 0 {
                            f.write_str("; ")?;
                        }
                        write!(f, "{group}")?;
                    }
                }
                f.write_str(
                    ". Nothing was written. Check the source (an emptied or truncated group is \
                     the usual cause); if the removals are right, save the plan with `provision \
                     plan --out plan.json`, review it, and apply exactly it with `provision apply \
                     plan.json --accept-removals N`",
                )
            }
        }
    }
}

/// The outcome of planning. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Plan {
    /// The changes, in the order they run.
    pub changes: Vec<PlannedChange>,
    /// What is left undone, and why.
    pub skipped: Vec<Skipped>,
    /// Set when the plan must not be applied.
    pub abort: Option<Abort>,
    /// What the engine manages at the target (its users and groups and their managed
    /// memberships): the base of the guard's percentage.
    #[serde(default)]
    pub managed: usize,
    /// The rules the executor follows when a create finds the object already there.
    #[serde(default)]
    pub adoption: AdoptionRules,
}

/// What the executor may take over when a create conflicts with an existing object (the
/// object appeared between plan and apply, or a crashed run created it): the policy's
/// adoption switches and exclusions, carried in the plan so that a saved plan applies under
/// the rules it was made with. The default adopts nothing but the engine's own objects.
///
/// ```
/// let rules = provisioning_core::plan::AdoptionRules::default();
/// assert!(!rules.users && !rules.groups);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AdoptionRules {
    /// An unowned user may be adopted (`adopt_existing_users`).
    pub users: bool,
    /// An unowned group may be adopted (`adopt_existing_groups`).
    pub groups: bool,
    /// userName patterns never adopted (`exclude_users`).
    pub exclude_users: Vec<String>,
    /// Group name patterns never adopted (`exclude_groups`).
    pub exclude_groups: Vec<String>,
}

impl AdoptionRules {
    /// The rules of `policy`.
    ///
    /// ```
    /// let rules = provisioning_core::plan::AdoptionRules::of(&provisioning_core::policy::Policy::default());
    /// assert!(rules.users && rules.groups);
    /// ```
    pub fn of(policy: &Policy) -> Self {
        Self {
            users: policy.adopt_existing_users,
            groups: policy.adopt_existing_groups,
            exclude_users: policy.exclude_users.clone(),
            exclude_groups: policy.exclude_groups.clone(),
        }
    }
}

impl Plan {
    /// Whether the plan changes nothing.
    ///
    /// ```
    /// assert!(provisioning_core::plan::Plan::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Number of changes per operation kind.
    ///
    /// ```
    /// assert!(provisioning_core::plan::Plan::default().counts().is_empty());
    /// ```
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for change in &self.changes {
            *counts.entry(change.operation.kind()).or_default() += 1;
        }
        counts
    }

    /// Deactivations and deletions in the plan.
    pub fn destructive_count(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.operation.is_destructive())
            .count()
    }

    /// Every access the plan removes: the sum of [`PlannedChange::removes_access`], what the
    /// guard counts and `--accept-removals` must name.
    ///
    /// ```
    /// assert_eq!(provisioning_core::plan::Plan::default().access_removals(), 0);
    /// ```
    pub fn access_removals(&self) -> usize {
        self.changes.iter().map(|c| c.removes_access).sum()
    }
}

/// Computes the plan that makes `target` match `source` under `policy`. Pure and
/// deterministic: the same inputs always give the same plan.
///
/// See the [module documentation](self) for an example.
pub fn plan(source: &Snapshot, target: &Snapshot, caps: &Capabilities, policy: &Policy) -> Plan {
    if source.is_empty() {
        return Plan {
            abort: Some(Abort::EmptySource),
            adoption: AdoptionRules::of(policy),
            ..Plan::default()
        };
    }
    let mut planner = Planner::new(target, caps, policy);
    planner.users(source);
    planner.deprovision_users();
    if policy.manage_groups {
        planner.groups(source);
    }
    planner.finish()
}

/// A change before ids and dependencies are assigned.
struct Draft {
    subject: String,
    operation: Operation<Ref>,
    reason: Reason,
    members: Vec<String>,
    removes_access: usize,
    /// Drafts (by index) that must succeed first, beyond the creates of placeholders.
    after: Vec<usize>,
    /// Within its phase, runs after drafts of a lower rank (a rename after the one that
    /// frees its name).
    rank: usize,
    /// The deletion of this target object frees the name this draft takes: it runs first.
    after_deletion: Option<String>,
}

impl Draft {
    fn new(subject: String, operation: Operation<Ref>, reason: Reason) -> Self {
        Self {
            subject,
            operation,
            reason,
            members: Vec::new(),
            removes_access: 0,
            after: Vec::new(),
            rank: 0,
            after_deletion: None,
        }
    }
}

struct Planner<'a> {
    target: &'a Snapshot,
    caps: &'a Capabilities,
    policy: &'a Policy,
    drafts: Vec<Draft>,
    skipped: Vec<Skipped>,
    /// Source user id → the target user it maps to, for users we manage.
    user_refs: HashMap<&'a str, Ref>,
    /// The userName each user reference stands for, for people.
    ref_names: HashMap<Ref, String>,
    /// Target user id → userName, for naming members the source does not hold.
    target_user_names: HashMap<&'a str, &'a str>,
    /// Folded userName → the target users holding it (one, at a real target).
    target_by_name: HashMap<String, Vec<&'a User>>,
    /// Folded names of skipped source users: no other source user takes their twins over.
    reserved_names: BTreeSet<String>,
    /// Target users that are excluded, or twins (linked or by name) of skipped source
    /// users: never changed, deprovisioned or removed from a group.
    untouchable_targets: BTreeSet<&'a str>,
    /// Target user ids claimed by a source user.
    claimed_users: BTreeSet<&'a str>,
    /// Target groups the engine manages (synced, or owned and left alone).
    managed_groups: usize,
    /// Memberships of managed groups the engine may remove.
    managed_memberships: usize,
    /// Groups that trip the per-group guard.
    group_losses: Vec<GroupLoss>,
    new_users: usize,
    new_groups: usize,
}

impl<'a> Planner<'a> {
    fn new(target: &'a Snapshot, caps: &'a Capabilities, policy: &'a Policy) -> Self {
        let mut target_by_name = HashMap::new();
        // A held target user is known by its id only: no name matches it.
        for user in target.users.iter().filter(|u| u.hold.is_none()) {
            target_by_name
                .entry(fold(&user.user_name))
                .or_insert_with(Vec::new)
                .push(user);
        }
        Self {
            target,
            caps,
            policy,
            drafts: Vec::new(),
            skipped: Vec::new(),
            user_refs: HashMap::new(),
            ref_names: HashMap::new(),
            target_user_names: target
                .users
                .iter()
                .map(|u| (u.id.as_str(), u.user_name.as_str()))
                .collect(),
            target_by_name,
            reserved_names: BTreeSet::new(),
            untouchable_targets: target
                .users
                .iter()
                .filter(|u| u.hold.is_some() || policy.is_excluded_user(&u.user_name))
                .map(|u| u.id.as_str())
                .collect(),
            claimed_users: BTreeSet::new(),
            managed_groups: 0,
            managed_memberships: 0,
            group_losses: Vec::new(),
            new_users: 0,
            new_groups: 0,
        }
    }

    fn owned(&self, external_id: Option<&ExternalId>) -> bool {
        external_id.is_some_and(|e| e.issuer == self.policy.issuer)
    }

    fn skip(&mut self, subject: impl Into<String>, reason: SkipReason) {
        self.skipped.push(Skipped {
            subject: subject.into(),
            reason,
        });
    }

    fn push(&mut self, subject: impl Into<String>, operation: Operation<Ref>, reason: Reason) {
        self.push_removing(subject, operation, reason, 0);
    }

    /// Pushes a change that removes `removes_access` accesses (see
    /// [`PlannedChange::removes_access`]).
    fn push_removing(
        &mut self,
        subject: impl Into<String>,
        operation: Operation<Ref>,
        reason: Reason,
        removes_access: usize,
    ) {
        self.drafts.push(Draft {
            removes_access,
            ..Draft::new(subject.into(), operation, reason)
        });
    }

    /// Deactivates or deletes target user `t` when the policy allows deprovisioning; else
    /// records the skip with what would have been done.
    fn deprovision_user(&mut self, subject: String, operation: Operation<Ref>, reason: Reason) {
        if self.policy.allow_deprovision {
            self.push_removing(subject, operation, reason, 1);
        } else {
            let would = operation.kind().to_owned();
            self.skip(subject, SkipReason::DeprovisionNotAllowed { would });
        }
    }

    /// Makes the target twins of a skipped source user untouchable: the one linked to it,
    /// and the one holding its name unless that one mirrors another source user.
    fn protect(
        &mut self,
        source_id: &str,
        user_name: &str,
        linked: &HashMap<&str, Vec<&'a User>>,
        source_ids: &BTreeSet<&str>,
    ) {
        // Every target user linked to it: a damaged target may hold two.
        for t in linked.get(source_id).into_iter().flatten() {
            self.untouchable_targets.insert(&t.id);
        }
        let name = fold(user_name);
        for t in self
            .target_by_name
            .get(&name)
            .into_iter()
            .flatten()
            .copied()
        {
            let mirrors_another = t.external_id.as_ref().is_some_and(|link| {
                link.issuer == self.policy.issuer
                    && link.id != source_id
                    && source_ids.contains(link.id.as_str())
            });
            if !mirrors_another {
                self.untouchable_targets.insert(&t.id);
            }
        }
        self.reserved_names.insert(name);
    }

    /// Users in two passes, so that the outcome does not depend on the order of names:
    /// first every source user already linked to a target user claims it (and, renamed,
    /// the name it will have); then the others match by name against the names the target
    /// will hold, adopt, or are created.
    fn users(&mut self, source: &'a Snapshot) {
        let target = self.target;
        let issuer = self.policy.issuer.as_str();
        let mut by_link: HashMap<&str, &User> = HashMap::new();
        let mut all_links: HashMap<&str, Vec<&User>> = HashMap::new();
        for user in &target.users {
            if let Some(link) = user.external_id.as_ref().filter(|l| l.issuer == issuer) {
                by_link.insert(link.id.as_str(), user);
                all_links.entry(link.id.as_str()).or_default().push(user);
            }
        }
        let source_ids: BTreeSet<&str> = source.users.iter().map(|u| u.id.as_str()).collect();
        for t in &target.users {
            if let Some(hold) = &t.hold {
                let subject = format!("target user {}", t.id);
                self.skip(subject, SkipReason::Held { hold: hold.clone() });
            }
        }

        let mut sources: Vec<&User> = source.users.iter().collect();
        sources.sort_by(|a, b| (&a.user_name, &a.id).cmp(&(&b.user_name, &b.id)));

        // Screen: held states, exclusions and required names.
        let mut candidates: Vec<(&User, User)> = Vec::new();
        for s in sources {
            let mut desired = self.caps.held(self.policy.mapping.map_user(s));
            desired.external_id = Some(ExternalId::new(issuer, &s.id));
            let held_twin = by_link
                .get(s.id.as_str())
                .and_then(|t| Some((t, t.hold.as_ref()?)));
            let reason = if let Some(hold) = &s.hold {
                SkipReason::Held { hold: hold.clone() }
            } else if let Some((twin, hold)) = held_twin {
                SkipReason::TwinHeld {
                    twin: twin.id.clone(),
                    hold: hold.clone(),
                }
            } else if self.policy.is_excluded_user(&desired.user_name)
                || self.policy.is_excluded_user(&s.user_name)
            {
                SkipReason::Excluded
            } else if self.caps.requires_names
                && (desired.given_name.is_none() || desired.family_name.is_none())
            {
                SkipReason::MissingNames
            } else if !self.caps.can_deactivate_users && !desired.active {
                // It cannot be held inactive: not created, and an existing one is left to
                // deprovisioning (deleted when the policy deletes; its memberships go,
                // which is the access it loses).
                if !by_link.contains_key(s.id.as_str()) {
                    self.protect(&s.id, &desired.user_name, &all_links, &source_ids);
                    self.skip(desired.user_name, SkipReason::CannotDeactivate);
                }
                continue;
            } else {
                candidates.push((s, desired));
                continue;
            };
            self.protect(&s.id, &desired.user_name, &all_links, &source_ids);
            self.skip(desired.user_name, reason);
        }

        // Pass 1: linked users claim their target user and its final name.
        let mut taken: HashMap<String, &str> = HashMap::new(); // final name → source id
        let mut linked: Vec<(&User, User, &User)> = Vec::new();
        let mut unlinked: Vec<(&User, User)> = Vec::new();
        for (s, desired) in candidates {
            match by_link.get(s.id.as_str()) {
                Some(t)
                    if !self.untouchable_targets.contains(t.id.as_str())
                        && self.claimed_users.insert(&t.id) =>
                {
                    linked.push((s, desired, t));
                }
                _ => unlinked.push((s, desired)),
            }
        }
        // Renames into names held now: ordered, or refused (the user keeps its name).
        let renames = if self.caps.can_rename_users {
            self.order_user_renames(source, &linked)
        } else {
            Order::default()
        };
        for (s, desired, t) in &mut linked {
            if let Some(refusal) = renames.refused.get(t.id.as_str()) {
                self.skip(desired.user_name.clone(), refusal.clone().into());
                desired.user_name.clone_from(&t.user_name);
            }
            let name = if self.caps.can_rename_users {
                &desired.user_name
            } else {
                &t.user_name
            };
            taken.insert(fold(name), &s.id);
        }
        // Names unlinked target users hold now; claimed ones free theirs when renamed.
        let mut by_name: HashMap<String, &User> = HashMap::new();
        for user in &target.users {
            if !self.claimed_users.contains(user.id.as_str()) {
                by_name.insert(fold(&user.user_name), user);
            }
        }
        let mut rename_drafts: HashMap<&str, usize> = HashMap::new();
        for (s, desired, t) in linked {
            self.user_refs.insert(&s.id, Ref::Existing(t.id.clone()));
            self.ref_names
                .insert(Ref::Existing(t.id.clone()), desired.user_name.clone());
            if let Some(draft) = self.update_user(desired, t, false) {
                rename_drafts.insert(&t.id, draft);
            }
        }
        // A create into a name a rename frees runs after that rename.
        let freed = self.sequence_renames(&renames, &rename_drafts);

        // Pass 2: the others, by name.
        for (s, desired) in unlinked {
            let subject = desired.user_name.clone();
            let name = fold(&desired.user_name);
            // userNames are unique (case-insensitively) at every target: a second source
            // user with the same name could only fight the first over one target user (and a
            // skipped one's twin is left alone).
            if taken.contains_key(&name) || self.reserved_names.contains(&name) {
                self.skip(subject, SkipReason::DuplicateName);
                continue;
            }
            taken.insert(name.clone(), &s.id);
            let Some(t) = by_name.get(&name).copied() else {
                self.new_users += 1;
                let placeholder = format!("new-user-{}", self.new_users);
                self.user_refs.insert(&s.id, Ref::New(placeholder.clone()));
                self.ref_names
                    .insert(Ref::New(placeholder.clone()), desired.user_name.clone());
                let operation = Operation::CreateUser {
                    placeholder,
                    user: desired,
                };
                self.push(subject, operation, Reason::NotAtTarget);
                if let (Some(&draft), Some(create)) = (freed.get(&name), self.drafts.last_mut()) {
                    create.after.push(draft);
                }
                continue;
            };
            let refusal = match &t.external_id {
                // The twin of a skipped or excluded user: left alone.
                _ if self.untouchable_targets.contains(t.id.as_str()) => {
                    Some(SkipReason::DuplicateName)
                }
                Some(link) if link.issuer != issuer => Some(SkipReason::OwnedByOtherIssuer {
                    issuer: link.issuer.clone(),
                }),
                // Ours, mirroring another source user that still exists: the name is taken.
                Some(link) if source_ids.contains(link.id.as_str()) => {
                    Some(SkipReason::DuplicateName)
                }
                // Ours, linked to a source id that is gone (the user was re-created at the
                // source): taken over like an unowned one.
                Some(_) => None,
                None if !self.policy.adopt_existing_users => Some(SkipReason::AdoptionDisabled),
                None => None,
            };
            if let Some(reason) = refusal {
                self.untouchable_targets.insert(&t.id);
                self.skip(subject, reason);
                continue;
            }
            self.claimed_users.insert(&t.id);
            self.user_refs.insert(&s.id, Ref::Existing(t.id.clone()));
            self.ref_names
                .insert(Ref::Existing(t.id.clone()), desired.user_name.clone());
            self.update_user(desired, t, true);
        }
    }

    /// Plans the update of target user `t` to `desired`, if anything differs (always when
    /// it is being adopted, to write the ownership mark). Turning `active` off is a
    /// deactivation, planned as one: gated by the policy and counted by the guard.
    fn update_user(&mut self, mut desired: User, t: &User, adopted: bool) -> Option<usize> {
        let subject = desired.user_name.clone();
        let mut fields = self.policy.mapping.differences(&desired, t);
        fields.retain(|f| self.caps.holds(f));
        if !self.caps.can_deactivate_users {
            fields.retain(|f| *f != TargetField::Active);
        }
        if fields.contains(&TargetField::Active) && !desired.active && t.active {
            fields.retain(|f| *f != TargetField::Active);
            desired.active = t.active;
            let operation = Operation::DeactivateUser { id: t.id.clone() };
            self.deprovision_user(subject.clone(), operation, Reason::InactiveAtSource);
        }
        if !self.caps.can_rename_users && fields.contains(&TargetField::UserName) {
            fields.retain(|f| *f != TargetField::UserName);
            desired.user_name = t.user_name.clone();
            self.skip(subject.clone(), SkipReason::CannotRenameUser);
        }
        if !adopted && fields.is_empty() {
            return None;
        }
        let reason = if adopted {
            Reason::AdoptedByName
        } else {
            Reason::AttributesDiffer {
                fields: fields.clone(),
            }
        };
        desired.id = t.id.clone();
        let id = t.id.clone();
        self.push(
            subject,
            Operation::UpdateUser {
                id,
                user: desired,
                fields,
            },
            reason,
        );
        Some(self.drafts.len() - 1)
    }

    /// Orders the renames of the `linked` users (see [`renames`]).
    fn order_user_renames(
        &self,
        source: &Snapshot,
        linked: &[(&'a User, User, &'a User)],
    ) -> Order<'a> {
        let claims: Vec<Claim<'a>> = linked
            .iter()
            .map(|(_, desired, t)| Claim {
                id: &t.id,
                current: &t.user_name,
                wanted: desired.user_name.clone(),
                source: desired.user_name.clone(),
            })
            .collect();
        let holders: Holders<'a> = self
            .target
            .users
            .iter()
            .map(|u| (fold(&u.user_name), (u.id.as_str(), u.user_name.as_str())))
            .collect();
        let deletes = self.policy.allow_deprovision
            && self.policy.deprovision == Deprovision::Delete
            && self.caps.can_delete_users;
        let deleted = |id: &str| {
            deletes
                && !self.claimed_users.contains(id)
                && !self.untouchable_targets.contains(id)
                && self
                    .target
                    .users
                    .iter()
                    .any(|u| u.id == id && self.owned(u.external_id.as_ref()))
        };
        // A temporary name never takes a name a source user may be created under.
        let sources = source.users.iter().flat_map(|s| {
            [
                fold(&s.user_name),
                s.primary_email().map(fold).unwrap_or_default(),
            ]
        });
        renames::order(&claims, &holders, &deleted, &fold, sources)
    }

    /// Gives the rename drafts (by object id, the update that renames it) the order
    /// `renames` found: each after the step that frees its name (a temporary rename, made
    /// from the final one, or a deletion). Returns, by folded current name, the draft that
    /// frees it.
    fn sequence_renames(
        &mut self,
        renames: &Order<'_>,
        rename_drafts: &HashMap<&str, usize>,
    ) -> HashMap<String, usize> {
        let mut step_drafts: Vec<Option<usize>> = Vec::with_capacity(renames.steps.len());
        for (rank, step) in renames.steps.iter().enumerate() {
            let final_draft = rename_drafts.get(step.id).copied();
            let draft = match &step.temporary {
                Some(name) => final_draft
                    .and_then(|d| temporary_rename(&self.drafts[d].operation, name))
                    .map(|(operation, final_name)| {
                        let reason = Reason::TemporaryName {
                            final_name: final_name.clone(),
                        };
                        self.drafts.push(Draft::new(final_name, operation, reason));
                        self.drafts.len() - 1
                    }),
                None => final_draft,
            };
            if let Some(d) = draft {
                let after = step
                    .after
                    .and_then(|k| step_drafts.get(k).copied().flatten());
                let draft = &mut self.drafts[d];
                draft.rank = rank + 1;
                draft.after.extend(after);
                draft.after_deletion = step.after_deletion.map(str::to_owned);
            }
            step_drafts.push(draft);
        }
        renames
            .steps
            .iter()
            .zip(&step_drafts)
            .filter_map(|(step, draft)| Some((fold(step.current), (*draft)?)))
            .rev() // the first step of each object wins
            .collect()
    }

    fn deprovision_users(&mut self) {
        let target = self.target;
        let mut leaving: Vec<&User> = target
            .users
            .iter()
            .filter(|t| self.owned(t.external_id.as_ref()))
            .filter(|t| !self.claimed_users.contains(t.id.as_str()))
            .filter(|t| !self.untouchable_targets.contains(t.id.as_str()))
            .collect();
        leaving.sort_by(|a, b| (&a.user_name, &a.id).cmp(&(&b.user_name, &b.id)));
        for t in leaving {
            let id = t.id.clone();
            let operation = match self.policy.deprovision {
                Deprovision::Delete if self.caps.can_delete_users => Operation::DeleteUser { id },
                _ if t.active && !self.caps.can_deactivate_users => {
                    self.skip(t.user_name.clone(), SkipReason::CannotDeactivate);
                    continue;
                }
                _ if t.active => Operation::DeactivateUser { id },
                _ => continue,
            };
            self.deprovision_user(t.user_name.clone(), operation, Reason::LeftScope);
        }
    }

    fn groups(&mut self, source: &'a Snapshot) {
        let target = self.target;
        let policy = self.policy;
        let mut by_link: HashMap<&str, &Group> = HashMap::new();
        for group in &target.groups {
            if let Some(link) = group
                .external_id
                .as_ref()
                .filter(|l| l.issuer == policy.issuer)
            {
                by_link.insert(link.id.as_str(), group);
            }
        }
        let views = MemberViews::new(source, target, policy);

        let mut sources: Vec<&Group> = source.groups.iter().collect();
        sources.sort_by(|a, b| (&a.display_name, &a.id).cmp(&(&b.display_name, &b.id)));
        let mut claimed: BTreeSet<&str> = BTreeSet::new();

        // As for users, in two passes: linked groups claim their target group and its final
        // name first, so that a rename at the source frees the old name for another group.
        let mut taken: BTreeSet<String> = BTreeSet::new();
        let mut linked: Vec<(&Group, &Group)> = Vec::new();
        let mut unlinked: Vec<&Group> = Vec::new();
        for g in sources {
            let link = by_link.get(g.id.as_str()).copied();
            let excluded = policy.is_excluded_group(&g.display_name)
                || link.is_some_and(|t| policy.is_excluded_group(&t.display_name));
            if excluded {
                self.skip(g.display_name.clone(), SkipReason::Excluded);
                if let Some(t) = link {
                    // Left alone, under the name it has.
                    claimed.insert(&t.id);
                    taken.insert(fold(&t.display_name));
                }
                continue;
            }
            match link {
                Some(t) if claimed.insert(&t.id) => linked.push((g, t)),
                _ => unlinked.push(g),
            }
        }
        // Renames into names held now: ordered, or refused (the group keeps its name).
        let renames = if self.caps.can_rename_groups {
            self.order_group_renames(source, &linked, &claimed)
        } else {
            Order::default()
        };
        for (g, t) in &linked {
            let keeps_name =
                !self.caps.can_rename_groups || renames.refused.contains_key(t.id.as_str());
            if let Some(refusal) = renames.refused.get(t.id.as_str()) {
                self.skip(g.display_name.clone(), refusal.clone().into());
            }
            taken.insert(fold(if keeps_name {
                &t.display_name
            } else {
                &g.display_name
            }));
        }
        // Unclaimed target groups by name; excluded ones are never adopted.
        let mut by_name: HashMap<String, &Group> = HashMap::new();
        for group in &target.groups {
            if !claimed.contains(group.id.as_str())
                && !policy.is_excluded_group(&group.display_name)
            {
                by_name.entry(fold(&group.display_name)).or_insert(group);
            }
        }

        let mut rename_drafts: HashMap<&str, usize> = HashMap::new();
        for &(g, t) in &linked {
            self.managed_groups += 1;
            let keeps_name = renames.refused.contains_key(t.id.as_str());
            if let Some(draft) = self.update_group(g, t, Vec::new(), keeps_name) {
                rename_drafts.insert(&t.id, draft);
            }
            let wanted = views.desired(self, g);
            let current = views.current(t);
            let kept = views.kept(t, &current);
            let source_empty = views.source_empty(g);
            let group = Ref::Existing(t.id.clone());
            self.sync_members(g, group, &wanted, &current, &kept, source_empty);
        }

        // A create into a name a rename frees runs after that rename.
        let freed = self.sequence_renames(&renames, &rename_drafts);

        let source_ids: BTreeSet<&str> = source
            .groups
            .iter()
            .map(|g| g.id.as_str())
            .chain(source.groups_out_of_scope.iter().map(String::as_str))
            .collect();
        for g in unlinked {
            let subject = g.display_name.clone();
            let name = fold(&g.display_name);
            if !taken.insert(name.clone()) {
                self.skip(subject, SkipReason::DuplicateName);
                continue;
            }
            let wanted = views.desired(self, g);
            let Some(t) = by_name.get(&name).copied() else {
                if wanted.is_empty() && !policy.create_empty_groups {
                    self.skip(subject, SkipReason::EmptyGroup);
                    continue;
                }
                self.new_groups += 1;
                let placeholder = format!("new-group-{}", self.new_groups);
                let mut group = g.clone();
                group.id = String::new();
                group.description = self.caps.group_description(g.description.as_deref());
                group.external_id = Some(ExternalId::new(&policy.issuer, &g.id));
                let operation = Operation::CreateGroup {
                    placeholder: placeholder.clone(),
                    group,
                };
                self.push(subject.clone(), operation, Reason::NotAtTarget);
                if let (Some(&draft), Some(create)) = (freed.get(&name), self.drafts.last_mut()) {
                    create.after.push(draft);
                }
                let none = BTreeSet::new();
                self.sync_members(g, Ref::New(placeholder), &wanted, &none, &none, false);
                continue;
            };
            claimed.insert(&t.id);
            let refusal = match &t.external_id {
                Some(link) if link.issuer != policy.issuer => {
                    Some(SkipReason::OwnedByOtherIssuer {
                        issuer: link.issuer.clone(),
                    })
                }
                // Ours, mirroring another source group that still exists: the name is taken.
                Some(link) if source_ids.contains(link.id.as_str()) => {
                    Some(SkipReason::DuplicateName)
                }
                Some(_) => None,
                None if !policy.adopt_existing_groups => Some(SkipReason::AdoptionDisabled),
                None => None,
            };
            if let Some(reason) = refusal {
                self.skip(subject, reason);
                continue;
            }
            self.managed_groups += 1;
            let current = views.current(t);
            // Adopting: the members the group has and the source does not list are not the
            // engine's to remove, unless the policy mirrors adopted groups.
            // (A group of ours that mirrored a source group re-created since keeps only what
            // was recorded.)
            let kept: BTreeSet<Ref> = match (&t.external_id, policy.adopted_group_members) {
                (None, AdoptedMembers::Keep) => current.difference(&wanted).cloned().collect(),
                (Some(_), _) => views.kept(t, &current),
                (None, AdoptedMembers::Mirror) => BTreeSet::new(),
            };
            let keep_members = match &t.external_id {
                None => kept.iter().map(Ref::to_string).collect(),
                Some(_) => Vec::new(),
            };
            self.update_group(g, t, keep_members, false);
            let source_empty = views.source_empty(g);
            let group = Ref::Existing(t.id.clone());
            self.sync_members(g, group, &wanted, &current, &kept, source_empty);
        }

        let mut leftover: Vec<&Group> = target
            .groups
            .iter()
            .filter(|t| self.owned(t.external_id.as_ref()))
            .filter(|t| !claimed.contains(t.id.as_str()))
            .filter(|t| !policy.is_excluded_group(&t.display_name))
            .collect();
        leftover.sort_by(|a, b| (&a.display_name, &a.id).cmp(&(&b.display_name, &b.id)));
        for t in leftover {
            self.managed_groups += 1;
            let members = views.current(t).len();
            self.managed_memberships += members;
            let source_id = t
                .external_id
                .as_ref()
                .map(|l| l.id.as_str())
                .unwrap_or_default();
            let subject = t.display_name.clone();
            if source.groups_out_of_scope.contains(source_id) {
                self.skip(subject, SkipReason::LeftScope);
            } else if !source.groups_gone.contains(source_id) {
                self.skip(subject, SkipReason::NotConfirmedGone);
            } else if policy.allow_deprovision {
                let operation = Operation::DeleteGroup { id: t.id.clone() };
                self.push_removing(subject, operation, Reason::DeletedAtSource, 1 + members);
            } else {
                let would = "delete_group".to_owned();
                self.skip(subject, SkipReason::DeprovisionNotAllowed { would });
            }
        }
    }

    /// Plans the update of target group `t` to mirror `g`: a rename, a new description, or
    /// an adoption (the ownership mark, and the members it keeps).
    fn update_group(
        &mut self,
        g: &Group,
        t: &Group,
        keep_members: Vec<String>,
        keeps_name: bool,
    ) -> Option<usize> {
        let adopted = t
            .external_id
            .as_ref()
            .is_none_or(|l| l.issuer != self.policy.issuer)
            || t.external_id.as_ref().is_some_and(|l| l.id != g.id);
        let mut desired = g.clone();
        desired.id = t.id.clone();
        desired.description = self.caps.group_description(g.description.as_deref());
        desired.external_id = Some(ExternalId::new(&self.policy.issuer, &g.id));
        let mut renamed = t.display_name != desired.display_name;
        if renamed && (keeps_name || !self.caps.can_rename_groups) {
            if !keeps_name {
                self.skip(g.display_name.clone(), SkipReason::CannotRenameGroup);
            }
            desired.display_name.clone_from(&t.display_name);
            renamed = false;
        }
        let described = desired.description.is_some() && t.description != desired.description;
        let reason = if adopted {
            Reason::AdoptedByName
        } else if renamed {
            Reason::Renamed {
                from: t.display_name.clone(),
            }
        } else if described {
            Reason::AttributesDiffer {
                fields: vec![TargetField::Attribute("description".into())],
            }
        } else {
            return None;
        };
        let id = t.id.clone();
        self.push(
            g.display_name.clone(),
            Operation::UpdateGroup {
                id,
                group: desired,
                keep_members,
            },
            reason,
        );
        Some(self.drafts.len() - 1)
    }

    /// Orders the renames of the `linked` groups (see [`renames`]); `claimed` are the
    /// target groups the run keeps.
    fn order_group_renames(
        &self,
        source: &Snapshot,
        linked: &[(&'a Group, &'a Group)],
        claimed: &BTreeSet<&str>,
    ) -> Order<'a> {
        let claims: Vec<Claim<'a>> = linked
            .iter()
            .map(|(g, t)| Claim {
                id: &t.id,
                current: &t.display_name,
                wanted: g.display_name.clone(),
                source: g.display_name.clone(),
            })
            .collect();
        let holders: Holders<'a> = self
            .target
            .groups
            .iter()
            .map(|g| {
                (
                    fold(&g.display_name),
                    (g.id.as_str(), g.display_name.as_str()),
                )
            })
            .collect();
        let policy = self.policy;
        let deleted = |id: &str| {
            policy.allow_deprovision
                && !claimed.contains(id)
                && self.target.groups.iter().any(|t| {
                    t.id == id
                        && !policy.is_excluded_group(&t.display_name)
                        && t.external_id.as_ref().is_some_and(|link| {
                            link.issuer == policy.issuer
                                && source.groups_gone.contains(&link.id)
                                && !source.groups_out_of_scope.contains(&link.id)
                        })
                })
        };
        let sources = source.groups.iter().map(|g| fold(&g.display_name));
        renames::order(&claims, &holders, &deleted, &fold, sources)
    }

    /// Plans the membership additions and removals that make `current` equal `wanted`,
    /// chunked at the target's maximum. Skipped and excluded users, and the `kept` members
    /// of an adopted group, are never removed; a group that would lose too many members is
    /// recorded for the per-group guard.
    fn sync_members(
        &mut self,
        g: &Group,
        group: Ref,
        wanted: &BTreeSet<Ref>,
        current: &BTreeSet<Ref>,
        kept: &BTreeSet<Ref>,
        source_empty: bool,
    ) {
        let removable = |r: &&Ref| match r {
            Ref::Existing(id) => !self.untouchable_targets.contains(id.as_str()),
            Ref::New(_) => true,
        };
        let managed: BTreeSet<&Ref> = current.difference(kept).filter(removable).collect();
        self.managed_memberships += managed.len();
        let add: Vec<Ref> = wanted.difference(current).cloned().collect();
        let remove: Vec<Ref> = managed
            .into_iter()
            .filter(|r| !wanted.contains(*r))
            .cloned()
            .collect();
        let not_kept = kept.iter().filter(|r| !wanted.contains(*r)).count();
        if not_kept > 0 {
            self.skip(
                g.display_name.clone(),
                SkipReason::KeptMembers { count: not_kept },
            );
        }
        if self
            .policy
            .deletion_guard
            .group_trips(remove.len(), current.len(), source_empty)
        {
            self.group_losses.push(GroupLoss {
                group: g.display_name.clone(),
                members: current.len(),
                removed: remove.len(),
                source_empty,
            });
        }
        let chunk = self.caps.max_members_per_request.max(1);
        for users in add.chunks(chunk) {
            let operation = Operation::AddMembers {
                group: group.clone(),
                users: users.to_vec(),
            };
            self.push_members(&g.display_name, operation, users, Reason::MembersMissing, 0);
        }
        for users in remove.chunks(chunk) {
            let operation = Operation::RemoveMembers {
                group: group.clone(),
                users: users.to_vec(),
            };
            let reason = Reason::MembersNoLongerInSource;
            self.push_members(&g.display_name, operation, users, reason, users.len());
        }
    }

    /// Pushes a membership change, naming its members for people.
    fn push_members(
        &mut self,
        subject: &str,
        operation: Operation<Ref>,
        users: &[Ref],
        reason: Reason,
        removes_access: usize,
    ) {
        let members = users
            .iter()
            .map(|r| match (self.ref_names.get(r), r) {
                (Some(name), _) => name.clone(),
                (None, Ref::Existing(id)) => self
                    .target_user_names
                    .get(id.as_str())
                    .map_or_else(|| r.to_string(), |name| (*name).to_owned()),
                (None, Ref::New(_)) => r.to_string(),
            })
            .collect();
        self.drafts.push(Draft {
            members,
            removes_access,
            ..Draft::new(subject.to_owned(), operation, reason)
        });
    }

    fn finish(self) -> Plan {
        let managed_users = self
            .target
            .users
            .iter()
            .filter(|t| {
                self.owned(t.external_id.as_ref()) || self.claimed_users.contains(t.id.as_str())
            })
            .filter(|t| !self.untouchable_targets.contains(t.id.as_str()))
            .count();
        let managed = managed_users + self.managed_groups + self.managed_memberships;
        let mut drafts = self.drafts;
        // A deletion that frees a name a rename takes runs first, and the rename after it.
        let mut early = vec![false; drafts.len()];
        for d in 0..drafts.len() {
            let Some(holder) = drafts[d].after_deletion.clone() else {
                continue;
            };
            // Users and groups may share ids at a target: a user's rename waits for a user.
            let renames_user = matches!(drafts[d].operation, Operation::UpdateUser { .. });
            let deletion = drafts.iter().position(|x| match &x.operation {
                Operation::DeleteUser { id } => renames_user && *id == holder,
                Operation::DeleteGroup { id } => !renames_user && *id == holder,
                _ => false,
            });
            if let Some(x) = deletion {
                early[x] = true;
                drafts[d].after.push(x);
            }
        }
        // Stable: keeps the planner's deterministic order within each phase; renames in
        // the order that frees each name before it is taken.
        let mut order: Vec<usize> = (0..drafts.len()).collect();
        order.sort_by_key(|&d| (!early[d], drafts[d].operation.phase(), drafts[d].rank));
        let mut position = vec![0; drafts.len()];
        for (id, &d) in order.iter().enumerate() {
            position[d] = id;
        }
        let mut slots: Vec<Option<Draft>> = drafts.into_iter().map(Some).collect();
        let drafts: Vec<Draft> = order.iter().filter_map(|&d| slots[d].take()).collect();
        let mut creators: HashMap<String, usize> = HashMap::new();
        let mut changes = Vec::with_capacity(drafts.len());
        for (id, draft) in drafts.into_iter().enumerate() {
            let mut depends_on: Vec<usize> = draft.after.iter().map(|&d| position[d]).collect();
            match &draft.operation {
                Operation::CreateUser { placeholder, .. }
                | Operation::CreateGroup { placeholder, .. } => {
                    creators.insert(placeholder.clone(), id);
                }
                Operation::AddMembers { group, users }
                | Operation::RemoveMembers { group, users } => {
                    for r in std::iter::once(group).chain(users) {
                        if let Ref::New(placeholder) = r
                            && let Some(&creator) = creators.get(placeholder)
                        {
                            depends_on.push(creator);
                        }
                    }
                }
                _ => {}
            }
            depends_on.sort_unstable();
            depends_on.dedup();
            changes.push(PlannedChange {
                id,
                subject: draft.subject,
                operation: draft.operation,
                reason: draft.reason,
                depends_on,
                members: draft.members,
                removes_access: draft.removes_access,
            });
        }
        let mut plan = Plan {
            changes,
            skipped: self.skipped,
            abort: None,
            managed,
            adoption: AdoptionRules::of(self.policy),
        };
        let removals = plan.access_removals();
        let guard = self.policy.deletion_guard;
        let overall = !guard.allows(removals, managed);
        if overall || !self.group_losses.is_empty() {
            plan.abort = Some(Abort::AccessGuard {
                removals,
                managed,
                overall,
                max_count: guard.max_count,
                max_percent: guard.max_percent,
                groups: self.group_losses,
            });
        }
        plan
    }
}

/// The write renaming the object of `rename` (its update to the final name) to `temporary`
/// first, and the final name: only the name is written (a group's description and members
/// wait for the final update).
fn temporary_rename(rename: &Operation<Ref>, temporary: &str) -> Option<(Operation<Ref>, String)> {
    match rename {
        Operation::UpdateUser { id, user, .. } => {
            let mut user = user.clone();
            let final_name = std::mem::replace(&mut user.user_name, temporary.to_owned());
            let fields = vec![TargetField::UserName];
            Some((
                Operation::UpdateUser {
                    id: id.clone(),
                    user,
                    fields,
                },
                final_name,
            ))
        }
        Operation::UpdateGroup { id, group, .. } => {
            let mut group = group.clone();
            let final_name = std::mem::replace(&mut group.display_name, temporary.to_owned());
            group.description = None;
            let operation = Operation::UpdateGroup {
                id: id.clone(),
                group,
                keep_members: Vec::new(),
            };
            Some((operation, final_name))
        }
        _ => None,
    }
}

/// The member lists the group pass compares, by group id.
struct MemberViews<'a> {
    source: HashMap<&'a str, Vec<&'a str>>,
    target: HashMap<&'a str, BTreeSet<&'a str>>,
    /// Kept memberships (the engine did not add them), by group; empty when mirroring.
    kept: HashMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> MemberViews<'a> {
    fn new(source: &'a Snapshot, target: &'a Snapshot, policy: &Policy) -> Self {
        let mut views = Self {
            source: HashMap::new(),
            target: HashMap::new(),
            kept: HashMap::new(),
        };
        for m in &source.memberships {
            views
                .source
                .entry(m.group_id.as_str())
                .or_default()
                .push(m.user_id.as_str());
        }
        for m in &target.memberships {
            views
                .target
                .entry(m.group_id.as_str())
                .or_default()
                .insert(m.user_id.as_str());
        }
        if policy.adopted_group_members == AdoptedMembers::Keep {
            for m in &target.kept_memberships {
                views
                    .kept
                    .entry(m.group_id.as_str())
                    .or_default()
                    .insert(m.user_id.as_str());
            }
        }
        views
    }

    /// The target references of the source members of `g` that the engine manages.
    fn desired(&self, planner: &Planner<'_>, g: &Group) -> BTreeSet<Ref> {
        self.source
            .get(g.id.as_str())
            .into_iter()
            .flatten()
            .filter_map(|uid| planner.user_refs.get(uid).cloned())
            .collect()
    }

    /// The members target group `t` has.
    fn current(&self, t: &Group) -> BTreeSet<Ref> {
        self.target
            .get(t.id.as_str())
            .into_iter()
            .flatten()
            .map(|u| Ref::Existing((*u).to_owned()))
            .collect()
    }

    /// The members of target group `t` recorded as kept, among its `current` ones.
    fn kept(&self, t: &Group, current: &BTreeSet<Ref>) -> BTreeSet<Ref> {
        self.kept
            .get(t.id.as_str())
            .into_iter()
            .flatten()
            .map(|u| Ref::Existing((*u).to_owned()))
            .filter(|r| current.contains(r))
            .collect()
    }

    /// Whether the source listed no member at all for `g`.
    fn source_empty(&self, g: &Group) -> bool {
        self.source.get(g.id.as_str()).is_none_or(Vec::is_empty)
    }
}
