//! The traits connectors implement, and the one error type they return.
//!
//! Reading and writing are split so that a dry run cannot write: [`Source`] reads a source
//! directory, [`TargetReader`] reads a target and declares its [`Capabilities`], and only
//! [`Target`] adds [`Target::write`]. Planning takes a `&dyn TargetReader`; only
//! [`apply`](crate::apply::apply) takes a `&dyn Target`. All three are object-safe
//! (`async-trait`), so a command can pick connectors from configuration.
//!
//! ```
//! use std::sync::Arc;
//! use provisioning_core::connector::{Target, TargetReader};
//! use provisioning_core::memory::MemoryDirectory;
//!
//! let target: Arc<dyn Target> = Arc::new(MemoryDirectory::default());
//! let read_only: Arc<dyn TargetReader> = target.clone(); // upcast: a dry run gets only this
//! assert!(read_only.capabilities().max_members_per_request >= 1);
//! ```

use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::mapping::TargetField;
use crate::model::{Group, Scope, Snapshot, User};
use crate::plan::Operation;

/// What a target can do, declared by its connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Users can be deleted; when not (Pulumi), deprovisioning always deactivates.
    pub can_delete_users: bool,
    /// Users can be deactivated (`active = false`); when not (the Identity Store API, whose
    /// user status is read-only), inactive source users are not created, and deprovisioning
    /// deletes (with `deprovision = delete`) or is skipped with a reason.
    pub can_deactivate_users: bool,
    /// A user's userName can change; when not (Pulumi), a changed userName is reported.
    pub can_rename_users: bool,
    /// Groups can be renamed in place.
    pub can_rename_groups: bool,
    /// Users need given and family names (IAM Identity Center); users without are skipped.
    pub requires_names: bool,
    /// Members one membership request may add or remove (Identity Store: 1; SCIM: 100).
    pub max_members_per_request: usize,
    /// Requests per second the target accepts from all its clients together.
    pub rate_limit: Option<NonZeroU32>,
    /// The user fields the target holds; `None`: every field. A field the target drops on
    /// write is never compared or written, so that the next plan is empty (Pulumi holds no
    /// phone, SCIM targets only the Enterprise User attributes).
    pub user_fields: Option<BTreeSet<TargetField>>,
    /// Whether groups hold a description (SCIM's core Group schema has none).
    pub group_descriptions: bool,
    /// The longest group description, in UTF-16 units (the Identity Store: 1,024); a longer
    /// one is written cut at a character boundary within it.
    pub max_group_description: Option<usize>,
}

impl Capabilities {
    /// Whether the target holds this user field.
    ///
    /// ```
    /// use std::collections::BTreeSet;
    /// use provisioning_core::connector::Capabilities;
    /// use provisioning_core::mapping::TargetField;
    ///
    /// let mut caps = Capabilities::default();
    /// assert!(caps.holds(&TargetField::Phone), "by default, every field");
    /// caps.user_fields = Some(BTreeSet::from([TargetField::UserName]));
    /// assert!(!caps.holds(&TargetField::Phone));
    /// ```
    pub fn holds(&self, field: &TargetField) -> bool {
        self.user_fields
            .as_ref()
            .is_none_or(|held| held.contains(field))
    }

    /// The group description the target would hold for `description`: none for an empty
    /// or blank one, or where groups hold none; cut to fit
    /// [`max_group_description`](Self::max_group_description).
    ///
    /// ```
    /// use provisioning_core::connector::Capabilities;
    ///
    /// let mut caps = Capabilities::default();
    /// assert_eq!(caps.group_description(Some("  ")), None);
    /// caps.max_group_description = Some(3);
    /// assert_eq!(caps.group_description(Some("Engineering")).as_deref(), Some("Eng"));
    /// caps.group_descriptions = false;
    /// assert_eq!(caps.group_description(Some("Engineering")), None);
    /// ```
    pub fn group_description(&self, description: Option<&str>) -> Option<String> {
        let text = description.filter(|d| self.group_descriptions && !d.trim().is_empty())?;
        Some(match self.max_group_description {
            Some(max) => crate::util::cut_utf16(text, max).to_owned(),
            None => text.to_owned(),
        })
    }

    /// `user` as the target would hold it: the fields it does not hold emptied.
    ///
    /// ```
    /// use std::collections::BTreeSet;
    /// use provisioning_core::connector::Capabilities;
    /// use provisioning_core::mapping::TargetField;
    /// use provisioning_core::model::User;
    ///
    /// let mut caps = Capabilities::default();
    /// caps.user_fields = Some(BTreeSet::from([TargetField::UserName]));
    /// let mut user = User::new("u1", "ada").with_names("Ada", "Lovelace");
    /// user.attributes.insert("department".into(), "R&D".into());
    /// let held = caps.held(user);
    /// assert_eq!(held.given_name, None);
    /// assert!(held.attributes.is_empty());
    /// ```
    #[must_use]
    pub fn held(&self, mut user: User) -> User {
        if self.user_fields.is_none() {
            return user;
        }
        if !self.holds(&TargetField::DisplayName) {
            user.display_name = None;
        }
        if !self.holds(&TargetField::GivenName) {
            user.given_name = None;
        }
        if !self.holds(&TargetField::FamilyName) {
            user.family_name = None;
        }
        if !self.holds(&TargetField::Email) {
            user.emails.clear();
        }
        if !self.holds(&TargetField::Phone) {
            user.phone_numbers.clear();
        }
        user.attributes
            .retain(|name, _| self.holds(&TargetField::Attribute(name.clone())));
        user
    }
}

impl Default for Capabilities {
    /// A permissive SCIM-like target: everything allowed, 100 members per request.
    fn default() -> Self {
        Self {
            can_delete_users: true,
            can_deactivate_users: true,
            can_rename_users: true,
            can_rename_groups: true,
            requires_names: false,
            max_members_per_request: 100,
            rate_limit: None,
            user_fields: None,
            group_descriptions: true,
            max_group_description: None,
        }
    }
}

/// The real targets the engine knows, by their rules: what each declares as its
/// [`Capabilities`], and what [`MemoryDirectory::strict`](crate::memory::MemoryDirectory::strict)
/// enforces to behave like it.
///
/// | | `IdentityStore` | `AwsIdentityCenter` | `Pulumi` | `Generic` |
/// |---|---|---|---|---|
/// | names unique case-insensitively (create, rename) | yes | yes | yes | yes |
/// | deactivate users | no (status is read-only) | yes | yes | yes |
/// | delete users / rename users | yes / yes | yes / yes | no / no | yes / yes |
/// | given and family name required | yes | yes | no | no |
/// | user fields held | name, display name, given, family, one email, one phone | core, one phone, Enterprise User | userName, names, one email, `active` | core, one phone, Enterprise User |
/// | group description | 1 to 1,024 characters | none | none | none (core schema) |
/// | members per request | 1 | 100 | 100 | 100 |
/// | rate limit | paced by the client | 20 requests/s | none known | none |
///
/// ```
/// use provisioning_core::connector::TargetModel;
/// assert!(!TargetModel::IdentityStore.capabilities().can_deactivate_users);
/// assert!(!TargetModel::Pulumi.capabilities().group_descriptions);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TargetModel {
    /// The Identity Store API of IAM Identity Center.
    IdentityStore,
    /// IAM Identity Center's SCIM endpoint.
    AwsIdentityCenter,
    /// Pulumi Cloud's SCIM endpoint.
    Pulumi,
    /// An RFC 7643/7644 SCIM service provider.
    Generic,
}

impl TargetModel {
    /// The model's name, as in configuration files.
    ///
    /// ```
    /// assert_eq!(provisioning_core::connector::TargetModel::IdentityStore.name(), "identity-store");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            TargetModel::IdentityStore => "identity-store",
            TargetModel::AwsIdentityCenter => "aws-identity-center",
            TargetModel::Pulumi => "pulumi",
            TargetModel::Generic => "generic",
        }
    }

    /// What a target of this model can do: the table in the [type documentation](Self).
    ///
    /// ```
    /// use provisioning_core::connector::TargetModel;
    /// use provisioning_core::mapping::TargetField;
    /// assert!(!TargetModel::Pulumi.capabilities().holds(&TargetField::Phone));
    /// ```
    pub fn capabilities(self) -> Capabilities {
        let core = [
            TargetField::UserName,
            TargetField::DisplayName,
            TargetField::GivenName,
            TargetField::FamilyName,
            TargetField::Email,
        ];
        let scim = || {
            let mut held: BTreeSet<TargetField> = core.clone().into();
            held.extend([TargetField::Active, TargetField::Phone]);
            held.extend(
                ENTERPRISE_ATTRIBUTES
                    .iter()
                    .map(|name| TargetField::Attribute((*name).to_owned())),
            );
            held
        };
        let scim_caps = Capabilities {
            user_fields: Some(scim()),
            group_descriptions: false,
            ..Capabilities::default()
        };
        match self {
            TargetModel::IdentityStore => Capabilities {
                can_deactivate_users: false,
                requires_names: true,
                max_members_per_request: 1,
                // Paced by the client's shared limiter, below the instance's quota.
                rate_limit: None,
                user_fields: Some(core.into_iter().chain([TargetField::Phone]).collect()),
                max_group_description: Some(1024),
                ..Capabilities::default()
            },
            TargetModel::AwsIdentityCenter => Capabilities {
                requires_names: true,
                rate_limit: NonZeroU32::new(20),
                ..scim_caps
            },
            TargetModel::Pulumi => Capabilities {
                can_delete_users: false,
                can_rename_users: false,
                user_fields: Some(core.into_iter().chain([TargetField::Active]).collect()),
                ..scim_caps
            },
            TargetModel::Generic => scim_caps,
        }
    }
}

/// The Enterprise User extension's string attributes, which SCIM targets hold (synced from
/// the mapped attributes of the same names; `manager` is a reference and is not synced).
pub const ENTERPRISE_ATTRIBUTES: [&str; 5] = [
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
];

/// How a connector failure should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorClass {
    /// A transient failure (timeout, 5xx on a safe call): retry.
    Transient,
    /// The target throttled the call: retry after the hinted wait.
    RateLimited,
    /// The object already exists: look it up and adopt it.
    Conflict,
    /// The object does not exist.
    NotFound,
    /// The credentials may not do this.
    Denied,
    /// The request was refused as invalid: fix the data or the configuration.
    Invalid,
    /// Anything else: do not retry.
    Fatal,
}

impl ErrorClass {
    /// Whether retrying the same call may succeed.
    ///
    /// ```
    /// use provisioning_core::connector::ErrorClass;
    /// assert!(ErrorClass::RateLimited.is_retryable());
    /// assert!(!ErrorClass::Conflict.is_retryable());
    /// ```
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Transient | ErrorClass::RateLimited)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Transient => "transient",
            ErrorClass::RateLimited => "rate limited",
            ErrorClass::Conflict => "conflict",
            ErrorClass::NotFound => "not found",
            ErrorClass::Denied => "access denied",
            ErrorClass::Invalid => "invalid request",
            ErrorClass::Fatal => "failed",
        })
    }
}

/// A failure of a connector call: its class, what failed, and the underlying error.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConnectorError {
    class: ErrorClass,
    message: String,
    retry_after: Option<Duration>,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl ConnectorError {
    /// An error of `class` that says what failed and, where it can, what to do.
    ///
    /// ```
    /// use provisioning_core::connector::{ConnectorError, ErrorClass};
    /// let err = ConnectorError::new(ErrorClass::Denied, "CreateUser was denied: grant identitystore:CreateUser");
    /// assert_eq!(err.class(), ErrorClass::Denied);
    /// ```
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            retry_after: None,
            source: None,
        }
    }

    /// Attaches the wait the server asked for before a retry; `None` (a client error that
    /// carried no wait) leaves the error without one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use provisioning_core::connector::{ConnectorError, ErrorClass};
    /// let err = ConnectorError::new(ErrorClass::RateLimited, "throttled").with_retry_after(Duration::from_secs(2));
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    /// let err = ConnectorError::new(ErrorClass::RateLimited, "throttled").with_retry_after(None);
    /// assert_eq!(err.retry_after(), None);
    /// ```
    #[must_use]
    pub fn with_retry_after(mut self, wait: impl Into<Option<Duration>>) -> Self {
        self.retry_after = wait.into();
        self
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// How to handle it.
    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// The wait the server asked for, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

/// What a successful write reports back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// The id of the object the write created, for creates.
    pub created_id: Option<String>,
}

/// A source directory: reads what should exist.
#[async_trait]
pub trait Source: Send + Sync {
    /// Reads users, groups and memberships within `scope`.
    ///
    /// # Errors
    ///
    /// Any failure to read; the sync aborts before planning.
    async fn read(&self, scope: &Scope) -> Result<Snapshot, ConnectorError>;

    /// Of these source group ids — groups the engine synced earlier that the last
    /// [`read`](Source::read) neither returned nor reported out of scope — the ones the
    /// source confirms are gone (deleted at the source). Only those are deleted at the
    /// target (with `allow_deprovision`); the others have left the configured scope and are
    /// left as they are.
    ///
    /// The default confirms nothing, so that a source that cannot tell never causes a
    /// deletion. Sources that can look a group up by id (JumpCloud, Okta: a 404) override it.
    ///
    /// # Errors
    ///
    /// Any failure to look a group up (other than its absence); the sync aborts before
    /// planning.
    async fn confirm_gone(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, ConnectorError> {
        let _ = ids;
        Ok(BTreeSet::new())
    }
}

/// The read side of a target directory.
#[async_trait]
pub trait TargetReader: Send + Sync {
    /// What the target can do.
    fn capabilities(&self) -> Capabilities;

    /// Reads every user, group and membership the target holds.
    ///
    /// # Errors
    ///
    /// Any failure to read; the sync aborts before planning.
    async fn read(&self) -> Result<Snapshot, ConnectorError>;

    /// Finds a user by userName (after a create conflicted).
    ///
    /// # Errors
    ///
    /// Any failure of the lookup itself; a miss is `Ok(None)`.
    async fn find_user(&self, user_name: &str) -> Result<Option<User>, ConnectorError>;

    /// Finds a group by display name (after a create conflicted).
    ///
    /// # Errors
    ///
    /// Any failure of the lookup itself; a miss is `Ok(None)`.
    async fn find_group(&self, display_name: &str) -> Result<Option<Group>, ConnectorError>;
}

/// A target directory that can be written.
#[async_trait]
pub trait Target: TargetReader {
    /// Performs one write, with every placeholder already resolved to a target id.
    ///
    /// # Errors
    ///
    /// The failure, classified so that the executor can retry, adopt or report it.
    async fn write(&self, operation: &Operation<String>) -> Result<Applied, ConnectorError>;
}
