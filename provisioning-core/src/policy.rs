//! The provisioning rules as options, with the seed connectors' semantics as defaults.
//!
//! | rule (seed workflows 002, 003, 004) | option | default |
//! |---|---|---|
//! | only objects the engine owns (its externalId issuer mark) or adopts are changed | [`Policy::issuer`] | `identity-provisioning` |
//! | group management can be turned off: groups and memberships are then left as they are | [`Policy::manage_groups`] | on |
//! | empty groups are not created | [`Policy::create_empty_groups`] | off |
//! | an existing target group with the same name is taken over | [`Policy::adopt_existing_groups`] | on |
//! | an existing target user with the same userName is adopted and overwritten | [`Policy::adopt_existing_users`] | on |
//! | deprovisioning (users leaving the scope, groups deleted at the source) needs an opt-in | [`Policy::allow_deprovision`] | off |
//! | deprovisioning deactivates; deleting needs the policy to say so | [`Policy::deprovision`] | [`Deprovision::Deactivate`] |
//! | a run that would deprovision too much aborts before any write | [`Policy::deletion_guard`] | 10 % of the target |
//! | groups created by others (Control Tower's `AWS*`) are never touched | [`Policy::exclude_groups`] | `["AWS*"]` |
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

/// The issuer written into the external ids of the objects the engine creates or adopts.
pub const DEFAULT_ISSUER: &str = "identity-provisioning";

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

/// The limit on how much one run may deprovision. Exceeding either bound aborts the whole
/// apply before its first write.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeletionGuard {
    /// At most this many deactivations and deletions in one run; `None`: no absolute bound.
    pub max_count: Option<usize>,
    /// At most this percentage of the target's users and groups.
    pub max_percent: f64,
}

impl Default for DeletionGuard {
    fn default() -> Self {
        Self {
            max_count: None,
            max_percent: 10.0,
        }
    }
}

impl DeletionGuard {
    /// No bound at all: every deprovisioning the policy allows goes through.
    ///
    /// ```
    /// let guard = provisioning_core::policy::DeletionGuard::unlimited();
    /// assert!(guard.allows(1_000, 1_000));
    /// ```
    pub fn unlimited() -> Self {
        Self {
            max_count: None,
            max_percent: 100.0,
        }
    }

    /// Whether `destructive` deprovisionings on a target of `target_size` users and groups
    /// stay within the guard.
    ///
    /// ```
    /// let guard = provisioning_core::policy::DeletionGuard::default();
    /// assert!(guard.allows(10, 100));
    /// assert!(!guard.allows(11, 100));
    /// assert!(guard.allows(0, 0));
    /// ```
    pub fn allows(&self, destructive: usize, target_size: usize) -> bool {
        if destructive == 0 {
            return true;
        }
        if self.max_count.is_some_and(|max| destructive > max) {
            return false;
        }
        (destructive as f64) * 100.0 <= self.max_percent * (target_size as f64)
    }
}

/// The rules one sync follows. See the [module documentation](self) for each default.
///
/// Read from configuration, an unknown field is an error rather than ignored: a misspelt
/// safety option (`alow_deprovision`) must not silently fall back to its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// The ownership mark written into external ids.
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
    /// The bound on one run's deprovisioning.
    pub deletion_guard: DeletionGuard,
    /// Group name patterns (`*` and `?`) the engine never creates, adopts, changes or deletes.
    pub exclude_groups: Vec<String>,
    /// userName patterns the engine never creates, adopts, changes or deprovisions.
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
    /// ```
    pub fn is_excluded_user(&self, user_name: &str) -> bool {
        matches_any(&self.exclude_users, user_name)
    }
}

fn matches_any(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| WildMatch::new(p).matches(name))
}
