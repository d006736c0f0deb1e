//! The identity model the engine works on: users, groups, memberships and snapshots.
//!
//! Every directory — a source such as JumpCloud or Okta, a target such as the Identity
//! Store or a SCIM application — is read into a [`Snapshot`] of these records. Ids are the
//! directory's own opaque ids. A target object is linked to its source object through its
//! [`ExternalId`]: the engine writes `{issuer, id}` with its own issuer (the ownership mark)
//! and the source object's id.
//!
//! ```
//! use provisioning_core::model::{Group, Snapshot, User};
//!
//! let mut source = Snapshot::default();
//! source.users.push(User::new("u1", "ada@example.com").with_names("Ada", "Lovelace"));
//! source.groups.push(Group::new("g1", "Engineering"));
//! source.add_membership("g1", "u1");
//! assert_eq!(source.members_of("g1").count(), 1);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A link from a target object to the source object it mirrors, as the Identity Store's
/// `ExternalId {Issuer, Id}` (SCIM connectors store it in `externalId`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExternalId {
    /// Who wrote the link. The engine's own issuer marks the objects it owns.
    pub issuer: String,
    /// The id of the mirrored object in the source directory.
    pub id: String,
}

impl ExternalId {
    /// A link written by `issuer` to the source object `id`.
    ///
    /// ```
    /// let link = provisioning_core::model::ExternalId::new("idp-sync", "5f0c1b");
    /// assert_eq!(link.id, "5f0c1b");
    /// ```
    pub fn new(issuer: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            id: id.into(),
        }
    }
}

/// An email address of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// The address.
    pub value: String,
    /// Its kind, such as `work` or `home`, when the directory says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the user's primary address.
    #[serde(default)]
    pub primary: bool,
}

impl Email {
    /// A primary address of kind `work`: the one email most targets keep.
    ///
    /// ```
    /// let email = provisioning_core::model::Email::primary_work("ada@example.com");
    /// assert!(email.primary);
    /// ```
    pub fn primary_work(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            kind: Some("work".into()),
            primary: true,
        }
    }
}

/// A phone number of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    /// The number as the directory holds it.
    pub value: String,
    /// Its kind, such as `work` or `mobile`, when the directory says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A user of a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The directory's own id of the user.
    pub id: String,
    /// The login name; unique within a directory.
    pub user_name: String,
    /// Given (first) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family (last) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Name to display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Email>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<Phone>,
    /// Whether the user may sign in.
    pub active: bool,
    /// The link to the source user, on target users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    /// Other attributes by name (department, cost centre, …), for attribute mappings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// A state the engine must not act on. A held source user is skipped with the reason —
    /// never created, changed, deactivated or removed from a group — and so is its target
    /// twin. A held target user (only [`Hold::Unreadable`]: the target sent a record that
    /// could not be read) is skipped the same way: never changed, deprovisioned, claimed or
    /// removed from a group. `None` on every settled user (active or inactive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
}

/// Why a source user's state does not say whether it may have access. See [`User::hold`].
///
/// Only states a source connector knows to mean "suspended" or "deprovisioned" make a user
/// inactive; anything else is held, so that a new state value from the source can never
/// deactivate an organisation.
///
/// ```
/// use provisioning_core::model::{Hold, User};
/// let mut user = User::new("u1", "ada");
/// user.hold = Some(Hold::UnknownState { value: "PENDING_REVIEW".into() });
/// assert_eq!(user.hold.unwrap().to_string(), "its source state \"PENDING_REVIEW\" is unknown to the engine");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "hold")]
#[non_exhaustive]
pub enum Hold {
    /// Created at the source but not yet activated (JumpCloud and Okta `STAGED`): not
    /// created at the target, and an existing target twin is left as it is.
    Staged,
    /// A state value the source connector does not know, as the source sent it.
    UnknownState {
        /// The value.
        value: String,
    },
    /// The source (or the target) sent a record for this user that could not be read:
    /// nothing is known of it but its id, so it and its twin are left as they are.
    Unreadable {
        /// Why it could not be read.
        reason: String,
    },
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hold::Staged => f.write_str("staged at the source (not yet activated)"),
            Hold::UnknownState { value } => {
                write!(f, "its source state {value:?} is unknown to the engine")
            }
            Hold::Unreadable { reason } => {
                write!(f, "its record could not be read ({reason})")
            }
        }
    }
}

impl User {
    /// An active user with only an id and a user name.
    ///
    /// ```
    /// let user = provisioning_core::model::User::new("u1", "ada@example.com");
    /// assert!(user.active);
    /// ```
    pub fn new(id: impl Into<String>, user_name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            user_name: user_name.into(),
            given_name: None,
            family_name: None,
            display_name: None,
            emails: Vec::new(),
            phone_numbers: Vec::new(),
            active: true,
            external_id: None,
            attributes: BTreeMap::new(),
            hold: None,
        }
    }

    /// Sets the given and family names, and the display name `"{given} {family}"`.
    ///
    /// ```
    /// let user = provisioning_core::model::User::new("u1", "ada").with_names("Ada", "Lovelace");
    /// assert_eq!(user.display_name.as_deref(), Some("Ada Lovelace"));
    /// ```
    #[must_use]
    pub fn with_names(mut self, given: impl Into<String>, family: impl Into<String>) -> Self {
        let (given, family) = (given.into(), family.into());
        self.display_name = Some(format!("{given} {family}"));
        self.given_name = Some(given);
        self.family_name = Some(family);
        self
    }

    /// Adds a primary work email.
    ///
    /// ```
    /// let user = provisioning_core::model::User::new("u1", "ada").with_email("ada@example.com");
    /// assert_eq!(user.primary_email(), Some("ada@example.com"));
    /// ```
    #[must_use]
    pub fn with_email(mut self, value: impl Into<String>) -> Self {
        self.emails.push(Email::primary_work(value));
        self
    }

    /// The primary email, else the first one.
    ///
    /// ```
    /// let user = provisioning_core::model::User::new("u1", "ada");
    /// assert_eq!(user.primary_email(), None);
    /// ```
    pub fn primary_email(&self) -> Option<&str> {
        self.emails
            .iter()
            .find(|e| e.primary)
            .or_else(|| self.emails.first())
            .map(|e| e.value.as_str())
    }
}

/// A group of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The directory's own id of the group.
    pub id: String,
    /// The group's name.
    pub display_name: String,
    /// A description, when the directory has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The link to the source group, on target groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
}

impl Group {
    /// A group with an id and a name.
    ///
    /// ```
    /// let group = provisioning_core::model::Group::new("g1", "Engineering");
    /// assert_eq!(group.display_name, "Engineering");
    /// ```
    pub fn new(id: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            display_name: display_name.into(),
            description: None,
            external_id: None,
        }
    }
}

/// One user's membership of one group, by directory ids.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Membership {
    /// The group's id.
    pub group_id: String,
    /// The member's id.
    pub user_id: String,
}

/// What a source scopes its read to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Scope {
    /// Everything the source can see.
    #[default]
    All,
    /// The groups bound to one application of the source (JumpCloud: the user groups
    /// associated with the application), and their members.
    Application(String),
    /// The named groups, and their members.
    Groups(Vec<String>),
}

/// Everything one directory holds within a scope, at one moment.
///
/// For a source, `users` and `groups` are what should exist at the target, and
/// `groups_out_of_scope` names groups that still exist at the source but are outside the
/// scope (for the rule that a group leaving the scope is left as-is rather than deleted).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Users.
    pub users: Vec<User>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Memberships, by the ids of `groups` and `users`.
    pub memberships: BTreeSet<Membership>,
    /// Ids of source groups that exist but are outside the scope read.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub groups_out_of_scope: BTreeSet<String>,
    /// Ids of source groups the source has confirmed are gone (deleted at the source), asked
    /// for by [`plan_sync`](crate::sync::plan_sync) through
    /// [`Source::confirm_gone`](crate::connector::Source::confirm_gone). A group the engine
    /// synced earlier that is neither in scope nor confirmed gone has left the scope and is
    /// left as it is: only a confirmed deletion deletes.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub groups_gone: BTreeSet<String>,
    /// On target snapshots: memberships the engine did not add — members an adopted group
    /// already had — as the target's connector recorded them at adoption. Under
    /// [`AdoptedMembers::Keep`](crate::policy::AdoptedMembers::Keep) they are never removed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub kept_memberships: BTreeSet<Membership>,
}

impl Snapshot {
    /// Records that user `user_id` is a member of group `group_id`.
    ///
    /// ```
    /// let mut snapshot = provisioning_core::model::Snapshot::default();
    /// snapshot.add_membership("g1", "u1");
    /// snapshot.add_membership("g1", "u1");
    /// assert_eq!(snapshot.memberships.len(), 1);
    /// ```
    pub fn add_membership(&mut self, group_id: impl Into<String>, user_id: impl Into<String>) {
        self.memberships.insert(Membership {
            group_id: group_id.into(),
            user_id: user_id.into(),
        });
    }

    /// The ids of the members of group `group_id`.
    ///
    /// ```
    /// let mut snapshot = provisioning_core::model::Snapshot::default();
    /// snapshot.add_membership("g1", "u2");
    /// assert_eq!(snapshot.members_of("g1").collect::<Vec<_>>(), ["u2"]);
    /// ```
    pub fn members_of<'a>(&'a self, group_id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.memberships
            .iter()
            .filter(move |m| m.group_id == group_id)
            .map(|m| m.user_id.as_str())
    }

    /// Whether the snapshot holds no user and no group.
    ///
    /// ```
    /// assert!(provisioning_core::model::Snapshot::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }
}
