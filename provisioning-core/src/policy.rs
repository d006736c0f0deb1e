//! The provisioning rules as options, with the seed connectors' semantics as defaults.
//!
//! | rule (seed workflows 002, 003, 004) | option | default |
//! |---|---|---|
//! | only objects the engine owns (its externalId issuer mark) or adopts are changed | [`Policy::issuer`] | `identity-provisioning` ([`DEFAULT_ISSUER`]; the `provision` command derives one per source) |
//! | group management can be turned off: groups and memberships are then left as they are | [`Policy::manage_groups`] | on |
//! | empty groups are not created | [`Policy::create_empty_groups`] | off |
//! | an existing target group with the same name is taken over | [`Policy::adopt_existing_groups`] | on |
//! | an existing target user with the same userName is adopted and overwritten | [`Policy::adopt_existing_users`] | on |
//! | deactivating or deleting users (leaving the scope, or suspended at the source) and deleting groups (confirmed deleted at the source) needs an opt-in; without it each is a skip with its reason | [`Policy::allow_deprovision`] | off |
//! | deprovisioning deactivates; deleting needs the policy to say so | [`Policy::deprovision`] | [`Deprovision::Deactivate`] |
//! | a run that would remove too much access aborts before any write: overall, and per group | [`Policy::deletion_guard`] | 10 % of what the engine manages; 50 % of a group of ≥ 10; any group emptied at the source |
//! | an adopted group keeps the members the engine did not add | [`Policy::adopted_group_members`] | [`AdoptedMembers::Keep`] |
//! | groups created by others (Control Tower's `AWS*`) are never touched | [`Policy::exclude_groups`] | `["AWS*"]` |
//! | excluded users are never touched, nor removed from a group | [`Policy::exclude_users`] | none |
//! | users lacking given and family names are skipped where the target requires them | target [`Capabilities`](crate::connector::Capabilities) | — |
//! | one phone number, the work one | [`Policy::mapping`] | see [`mapping`](crate::mapping) |
//!
//! ```
//! use provisioning_core::policy::{Deprovision, Policy};
//!
//! let mut policy = Policy::default();
//! policy.allow_deprovision = true;
//! policy.deprovision = Deprovision::Delete;
//! assert!(policy.is_excluded_group("AWSControlTowerAdmins"));
//! ```

use serde::{Deserialize, Serialize};
use wildmatch::WildMatch;

use crate::mapping::AttributeMapping;
use crate::util::fold;

/// The issuer written into the external ids of the objects the engine creates or adopts,
/// when nothing else is chosen.
///
/// One issuer per source directory: two syncs writing into one target under the same
/// issuer each see the other's objects as their own, and deprovision them. The `provision`
/// command therefore derives its default from the source (`jumpcloud:<org id>`,
/// `okta:<host>`); this constant was its default before, and marks written then carry it —
/// set `issuer = "identity-provisioning"` in `[policy]` to keep managing them.
pub const DEFAULT_ISSUER: &str = "identity-provisioning";

/// Why an issuer chosen in configuration cannot be used. See [`check_configured_issuer`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerError {
    /// Empty (or only whitespace).
    #[error(
        "is empty; expected a name for this sync, such as \"jumpcloud-acme\", or leave it out to derive one from the source"
    )]
    Empty,
    /// Contains `:`, which the derived issuers (`jumpcloud:<org id>`) use.
    #[error(
        "contains ':', which is reserved for the issuers derived from the source (jumpcloud:<org id>, okta:<host>); use another separator, such as '-', or leave it out"
    )]
    Colon,
    /// Contains whitespace or a control character.
    #[error(
        "contains whitespace or a control character ({0:?}); use letters, digits, '-', '_' or '.'"
    )]
    Whitespace(char),
}

/// Checks an issuer chosen in configuration (`[policy] issuer`): non-empty, no `:` (reserved
/// for the issuers derived from the source, `jumpcloud:<org id>` and `okta:<host>`), and
/// no whitespace or control characters (it is written into external ids and compared
/// exactly).
///
/// # Errors
///
/// An [`IssuerError`] saying what is wrong and what to do.
///
/// ```
/// use provisioning_core::policy::{check_configured_issuer, IssuerError, DEFAULT_ISSUER};
///
/// assert!(check_configured_issuer(DEFAULT_ISSUER).is_ok());
/// assert!(check_configured_issuer("jumpcloud-acme").is_ok());
/// assert_eq!(check_configured_issuer(""), Err(IssuerError::Empty));
/// assert_eq!(check_configured_issuer("jumpcloud:acme"), Err(IssuerError::Colon));
/// assert_eq!(check_configured_issuer("acme sync"), Err(IssuerError::Whitespace(' ')));
/// ```
pub fn check_configured_issuer(issuer: &str) -> Result<(), IssuerError> {
    if issuer.trim().is_empty() {
        return Err(IssuerError::Empty);
    }
    if issuer.contains(':') {
        return Err(IssuerError::Colon);
    }
    if let Some(c) = issuer.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(IssuerError::Whitespace(c));
    }
    Ok(())
}

/// What happens to a target user that no longer belongs at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deprovision {
    /// Set `active = false` and keep the user (the default, and the only choice for targets
    /// that cannot delete users, such as Pulumi).
    #[default]
    Deactivate,
    /// Delete the user.
    Delete,
}

/// How much access one run may remove before it aborts, writing nothing.
///
/// An *access removal* is every planned change that takes access away: a user deactivated
/// or deleted (by whatever operation), a group deleted (and each membership it held), and
/// each member removed from a group. The guard compares them with what the engine manages
/// — the users and groups it owns or adopts, and their managed memberships — never with the
/// whole target, so that many hand-made objects cannot dilute a scope mistake.
///
/// Two bounds apply at once:
///
/// - **overall**: at most [`max_percent`](Self::max_percent) of what is managed, and at
///   most [`max_count`](Self::max_count) removals;
/// - **per group**: a managed group whose source member list comes back empty while it
///   would lose members at the target trips the guard, and so does one of at least
///   [`group_min_members`](Self::group_min_members) members that would lose more than
///   [`group_max_percent`](Self::group_max_percent) of them.
///
/// A tripped guard is shown with the groups named; a reviewed plan can still be applied
/// exactly as saved (`provision apply plan.json --accept-removals N`, see
/// [`saved`](crate::saved)).
///
/// ```
/// let guard = provisioning_core::policy::DeletionGuard::default();
/// assert!(guard.allows(10, 100));
/// assert!(!guard.allows(11, 100));
/// assert!(guard.group_allows(5, 10)); // half of a 10-member group
/// assert!(!guard.group_allows(6, 10));
/// assert!(guard.group_allows(9, 9)); // small groups only trip when emptied at the source
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeletionGuard {
    /// At most this many access removals in one run; `None`: no absolute bound.
    pub max_count: Option<usize>,
    /// At most this percentage of what the engine manages (users, groups, memberships).
    pub max_percent: f64,
    /// At most this percentage of one managed group's members at the target.
    pub group_max_percent: f64,
    /// Groups with fewer members than this are not held to `group_max_percent` (they still
    /// trip when their source member list comes back empty).
    pub group_min_members: usize,
}

impl Default for DeletionGuard {
    fn default() -> Self {
        Self {
            max_count: None,
            max_percent: 10.0,
            group_max_percent: 50.0,
            group_min_members: 10,
        }
    }
}

impl DeletionGuard {
    /// No bound at all: every removal the policy allows goes through, and no group trips.
    ///
    /// ```
    /// let guard = provisioning_core::policy::DeletionGuard::unlimited();
    /// assert!(guard.allows(1_000, 1_000));
    /// assert!(guard.group_allows(1_000, 1_000));
    /// ```
    pub fn unlimited() -> Self {
        Self {
            max_count: None,
            max_percent: 100.0,
            group_max_percent: 100.0,
            group_min_members: usize::MAX,
        }
    }

    /// Whether `removals` access removals, out of `managed` managed objects and
    /// memberships, stay within the overall bounds.
    ///
    /// ```
    /// let guard = provisioning_core::policy::DeletionGuard::default();
    /// assert!(guard.allows(0, 0));
    /// assert!(!guard.allows(1, 0));
    /// ```
    pub fn allows(&self, removals: usize, managed: usize) -> bool {
        if removals == 0 {
            return true;
        }
        if self.max_count.is_some_and(|max| removals > max) {
            return false;
        }
        (removals as f64) * 100.0 <= self.max_percent * (managed as f64)
    }

    /// Whether a group of `members` members at the target may lose `removed` of them (the
    /// empty-source trip is checked by the planner, which knows the source list).
    ///
    /// ```
    /// let guard = provisioning_core::policy::DeletionGuard::default();
    /// assert!(!guard.group_allows(60, 100));
    /// ```
    pub fn group_allows(&self, removed: usize, members: usize) -> bool {
        members < self.group_min_members
            || (removed as f64) * 100.0 <= self.group_max_percent * (members as f64)
    }

    /// Whether a managed group trips the per-group guard: it would lose `removed` of its
    /// `members` at the target beyond [`group_allows`](Self::group_allows), or lose any
    /// while its source member list came back empty. `group_max_percent = 100` turns the
    /// per-group guard off, the empty-source trip included.
    ///
    /// ```
    /// let guard = provisioning_core::policy::DeletionGuard::default();
    /// assert!(guard.group_trips(1, 3, true)); // a 3-member group emptied at the source
    /// assert!(!guard.group_trips(0, 3, true)); // nothing to lose
    /// assert!(!provisioning_core::policy::DeletionGuard::unlimited().group_trips(3, 3, true));
    /// ```
    pub fn group_trips(&self, removed: usize, members: usize, source_empty: bool) -> bool {
        if removed == 0 || self.group_max_percent >= 100.0 {
            return false;
        }
        source_empty || !self.group_allows(removed, members)
    }
}

/// What happens to the members an adopted group already had, which the engine did not add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdoptedMembers {
    /// They stay: adoption adds the missing members and removes none of the others. Only
    /// memberships the engine added are removed when the source drops them.
    #[default]
    Keep,
    /// The group mirrors the source: members the source does not list are removed (each
    /// removal counted by the guard).
    Mirror,
}

/// The rules one sync follows. See the [module documentation](self) for each default.
///
/// Read from configuration, an unknown field is an error rather than ignored: a misspelt
/// safety option (`alow_deprovision`) must not silently fall back to its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// The ownership mark written into external ids: one per source directory, or two
    /// syncs into one target deprovision each other's objects. A configured issuer is
    /// checked with [`check_configured_issuer`].
    pub issuer: String,
    /// Sync groups and memberships; off leaves them untouched and syncs users only.
    pub manage_groups: bool,
    /// Create groups that have no members to sync.
    pub create_empty_groups: bool,
    /// Take over an unowned target group whose name matches a source group.
    pub adopt_existing_groups: bool,
    /// Adopt (and overwrite) an unowned target user whose userName matches a source user.
    pub adopt_existing_users: bool,
    /// Opt-in for deactivating or deleting users and deleting groups.
    pub allow_deprovision: bool,
    /// Deactivate or delete users that leave the scope.
    pub deprovision: Deprovision,
    /// The bound on one run's access removals.
    pub deletion_guard: DeletionGuard,
    /// What adoption does to the members an adopted group already has.
    pub adopted_group_members: AdoptedMembers,
    /// Group name patterns (`*` and `?`) the engine never creates, adopts, changes or
    /// deletes; matched case-insensitively after Unicode NFC normalisation, like names.
    pub exclude_groups: Vec<String>,
    /// userName patterns the engine never creates, adopts, changes, deprovisions or removes
    /// from a group; matched case-insensitively after Unicode NFC normalisation.
    pub exclude_users: Vec<String>,
    /// How source attributes become target attributes.
    pub mapping: AttributeMapping,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            issuer: DEFAULT_ISSUER.to_owned(),
            manage_groups: true,
            create_empty_groups: false,
            adopt_existing_groups: true,
            adopt_existing_users: true,
            allow_deprovision: false,
            deprovision: Deprovision::Deactivate,
            deletion_guard: DeletionGuard::default(),
            adopted_group_members: AdoptedMembers::Keep,
            exclude_groups: vec!["AWS*".to_owned()],
            exclude_users: Vec::new(),
            mapping: AttributeMapping::default(),
        }
    }
}

impl Policy {
    /// Whether a group with this name is excluded from management.
    ///
    /// ```
    /// let policy = provisioning_core::policy::Policy::default();
    /// assert!(policy.is_excluded_group("AWSSecurityAuditors"));
    /// assert!(!policy.is_excluded_group("Engineering"));
    /// ```
    pub fn is_excluded_group(&self, display_name: &str) -> bool {
        matches_any(&self.exclude_groups, display_name)
    }

    /// Whether a user with this userName is excluded from management.
    ///
    /// ```
    /// let mut policy = provisioning_core::policy::Policy::default();
    /// policy.exclude_users.push("break-glass-*".into());
    /// assert!(policy.is_excluded_user("break-glass-admin"));
    /// assert!(policy.is_excluded_user("Break-Glass-Admin")); // case-insensitively
    /// ```
    pub fn is_excluded_user(&self, user_name: &str) -> bool {
        matches_any(&self.exclude_users, user_name)
    }
}

/// Whether `name` matches one of the exclusion `patterns` (`*`, `?`), compared after NFC
/// normalisation and case-insensitively.
pub(crate) fn matches_any(patterns: &[String], name: &str) -> bool {
    let name = fold(name);
    patterns
        .iter()
        .any(|p| WildMatch::new(&fold(p)).matches(&name))
}
