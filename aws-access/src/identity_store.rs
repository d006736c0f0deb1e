//! The Identity Store of IAM Identity Center: users, groups and memberships.
//!
//! [`IdentityStore`] is the facade (object-safe); [`SdkIdentityStore`] implements it on
//! `aws-sdk-identitystore`, and `fake::FakeIdentityStore` (feature `fake`) in memory.
//!
//! Rules it encodes:
//! - every call of every client of one identity store waits on one shared rate limiter
//!   ([`rate_limiter`], default 18 requests/s, under AWS's collective 20: a ceiling), and the
//!   SDK's adaptive retry mode ([`crate::config`]) owns retrying a throttled or failed
//!   request, slowing every client of the service in the process when the service throttles
//!   and recovering gradually; this client adds no retry loop of its own. A throttle that
//!   persists through the SDK's attempts is returned with the service's hint
//!   ([`Error::retry_after`](crate::Error::retry_after)) for the caller's one retry layer
//!   (the provisioning engine's executor);
//! - lists follow `NextToken` to the end, never stopping on a short page, 100 per page;
//! - results carry ids and names together: [`IdentityStore::group_members`] and
//!   [`IdentityStore::user_groups`] never make the caller describe members one by one;
//! - lookups use `GetUserId` / `GetGroupId`, not the deprecated list filters;
//! - a create that conflicts can adopt the existing object ([`OnConflict::Adopt`]).
//!
//! ```no_run
//! # async fn run() -> aws_access::Result<()> {
//! use aws_access::config::{AwsSettings, load};
//! use aws_access::identity_store::{IdentityStore, NewUser, OnConflict, SdkIdentityStore, UserLookup};
//!
//! let config = load(&AwsSettings::default()).await;
//! let store = SdkIdentityStore::new(&config, "d-1234567890");
//! let ada = NewUser::new("ada@example.com", "Ada", "Lovelace").email("ada@example.com");
//! let created = store.create_user(&ada, OnConflict::Adopt).await?;
//! let found = store.find_user(&UserLookup::UserName("ada@example.com".into())).await?;
//! assert_eq!(found.as_ref(), Some(&created.value.id));
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_identitystore::Client;
use aws_sdk_identitystore::types::{
    AlternateIdentifier, AttributeOperation, Email, MemberId, Name, PhoneNumber, UniqueAttribute,
    UserStatus,
};
use aws_smithy_types::Document;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Requests per second one process sends to one identity store by default: under AWS's
/// collective 20, leaving room for the console and other tools.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 18;

/// Requests the shared limiter lets go at once after a pause. A limiter with no burst loses
/// every moment no request is ready for good: each grant's timer wake-up delay (a
/// millisecond or two, and the next slot counts from then), and each stall while the
/// waiters are all in flight behind a slow answer. Measured on a no-op sync's 605 calls at
/// 18 requests/s: 35.7 s with no burst, 33.7 s with 3 on the fake; at the wire (moto
/// behind the pacing proxy) 34.8 s with 3, 33.9 s with 6. Six at once is far under the
/// service's own bucket (a second's worth, 20); the average rate stays 18.
pub const LIMITER_BURST: u32 = 6;

/// Page size of every list call (the API's maximum).
pub const PAGE_SIZE: i32 = 100;

/// Group ids one `IsMemberInGroups` call takes.
pub const MAX_GROUPS_PER_MEMBERSHIP_CHECK: usize = 100;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// An Identity Store user id.
    UserId
);
id_type!(
    /// An Identity Store group id.
    GroupId
);
id_type!(
    /// An Identity Store group membership id.
    MembershipId
);

/// An external id `{Issuer, Id}`: the link a provisioning tool keeps to its source object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExternalId {
    /// Who wrote it.
    pub issuer: String,
    /// The source object's id.
    pub id: String,
}

/// A user of the identity store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The unique user name.
    pub user_name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// The email (the store holds at most one).
    pub email: Option<String>,
    /// The phone number (the store holds at most one).
    pub phone: Option<String>,
    /// External ids.
    pub external_ids: Vec<ExternalId>,
    /// `Some(false)` when IAM Identity Center disabled the user; `None` when not reported.
    pub enabled: Option<bool>,
}

/// A user to create. The Identity Store requires a display name and both names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewUser {
    /// The unique user name (1–128 characters).
    pub user_name: String,
    /// Display name.
    pub display_name: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// One email, sent as primary and of type `work`.
    pub email: Option<String>,
    /// One phone number, of type `work`.
    pub phone: Option<String>,
}

impl NewUser {
    /// A user with a display name of `"{given} {family}"`.
    ///
    /// ```
    /// let ada = aws_access::identity_store::NewUser::new("ada", "Ada", "Lovelace");
    /// assert_eq!(ada.display_name, "Ada Lovelace");
    /// ```
    pub fn new(
        user_name: impl Into<String>,
        given: impl Into<String>,
        family: impl Into<String>,
    ) -> Self {
        let (given_name, family_name) = (given.into(), family.into());
        Self {
            user_name: user_name.into(),
            display_name: format!("{given_name} {family_name}"),
            given_name,
            family_name,
            email: None,
            phone: None,
        }
    }

    /// Sets the email.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the phone number.
    #[must_use]
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }
}

/// One attribute change of [`IdentityStore::update_user`] (an `AttributeOperation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum UserChange {
    /// `userName`.
    UserName(String),
    /// `displayName`.
    DisplayName(String),
    /// `name.givenName`.
    GivenName(String),
    /// `name.familyName`.
    FamilyName(String),
    /// The one email; `None` clears it.
    Email(Option<String>),
    /// The one phone number; `None` clears it.
    Phone(Option<String>),
    /// The external ids, replacing the list.
    ExternalIds(Vec<ExternalId>),
}

/// A group of the identity store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Group {
    /// Its id.
    pub id: GroupId,
    /// The unique display name.
    pub display_name: String,
    /// Description.
    pub description: Option<String>,
    /// External ids.
    pub external_ids: Vec<ExternalId>,
}

/// A member of a group, with its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The membership's id.
    pub membership_id: MembershipId,
    /// The user's id.
    pub user_id: UserId,
    /// The user's name.
    pub user_name: String,
    /// The user's display name.
    pub display_name: Option<String>,
}

/// A group a user belongs to, with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGroup {
    /// The membership's id.
    pub membership_id: MembershipId,
    /// The group's id.
    pub group_id: GroupId,
    /// The group's display name.
    pub display_name: String,
}

/// How to find a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLookup {
    /// By `userName` (case-sensitive in moto; case-insensitive in AWS).
    UserName(String),
    /// By `emails.value`.
    Email(String),
    /// By external id.
    ExternalId(ExternalId),
}

/// How to find a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupLookup {
    /// By `displayName`.
    DisplayName(String),
    /// By external id.
    ExternalId(ExternalId),
}

/// What a create does when the object exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Return the conflict error.
    Fail,
    /// Look the existing object up and return it.
    Adopt,
}

/// A created (or, on conflict, adopted) object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    /// The object.
    pub value: T,
    /// `true` when it existed already and was adopted.
    pub adopted: bool,
}

/// The Identity Store facade. See the [module documentation](self).
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// The identity store id.
    fn store_id(&self) -> &str;

    /// Creates a user.
    ///
    /// # Errors
    ///
    /// The service's error; a conflict only with [`OnConflict::Fail`].
    async fn create_user(&self, user: &NewUser, on_conflict: OnConflict) -> Result<Created<User>>;
    /// Describes a user.
    ///
    /// # Errors
    ///
    /// Not found, or the service's error.
    async fn describe_user(&self, id: &UserId) -> Result<User>;
    /// Changes attributes of a user (1–100 per call; more are sent in several calls).
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn update_user(&self, id: &UserId, changes: &[UserChange]) -> Result<()>;
    /// Deletes a user.
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn delete_user(&self, id: &UserId) -> Result<()>;
    /// Every user, page by page.
    fn list_users(&self) -> BoxStream<'_, Result<User>>;
    /// A user's id by user name, email or external id; `None` when there is none.
    ///
    /// # Errors
    ///
    /// The service's error (a miss is `Ok(None)`).
    async fn find_user(&self, lookup: &UserLookup) -> Result<Option<UserId>>;

    /// Creates a group.
    ///
    /// # Errors
    ///
    /// The service's error; a conflict only with [`OnConflict::Fail`].
    async fn create_group(
        &self,
        display_name: &str,
        description: Option<&str>,
        on_conflict: OnConflict,
    ) -> Result<Created<Group>>;
    /// Describes a group.
    ///
    /// # Errors
    ///
    /// Not found, or the service's error.
    async fn describe_group(&self, id: &GroupId) -> Result<Group>;
    /// Renames a group and/or sets its description.
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn update_group(
        &self,
        id: &GroupId,
        display_name: Option<&str>,
        description: Option<&str>,
    ) -> Result<()>;
    /// Deletes a group.
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn delete_group(&self, id: &GroupId) -> Result<()>;
    /// Every group, page by page.
    fn list_groups(&self) -> BoxStream<'_, Result<Group>>;
    /// A group's id by display name or external id; `None` when there is none.
    ///
    /// # Errors
    ///
    /// The service's error (a miss is `Ok(None)`).
    async fn find_group(&self, lookup: &GroupLookup) -> Result<Option<GroupId>>;

    /// Adds a user to a group; an existing membership is returned, not duplicated.
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn add_member(&self, group: &GroupId, user: &UserId) -> Result<MembershipId>;
    /// Removes a user from a group; `false` when it was not a member.
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn remove_member(&self, group: &GroupId, user: &UserId) -> Result<bool>;
    /// The ids of a group's members, page by page (one `ListGroupMemberships` call per
    /// 100 members, and no call per user: [`group_members`](Self::group_members) adds names).
    fn member_ids<'a>(&'a self, group: &'a GroupId) -> BoxStream<'a, Result<UserId>>;
    /// The members of a group, with their names.
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn group_members(&self, group: &GroupId) -> Result<Vec<Member>>;
    /// The groups of a user, with their names.
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn user_groups(&self, user: &UserId) -> Result<Vec<UserGroup>>;
    /// Whether `user` is a member of each of `groups` (batched 100 per call).
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn is_member(&self, user: &UserId, groups: &[GroupId])
    -> Result<BTreeMap<GroupId, bool>>;
}

/// A rate limiter shared by every client of one identity store.
pub type SharedLimiter = Arc<DefaultDirectRateLimiter>;

static LIMITERS: LazyLock<Mutex<HashMap<String, (u32, SharedLimiter)>>> =
    LazyLock::new(Default::default);

/// The process-wide limiter of `store_id` at `per_second`, with a burst of
/// [`LIMITER_BURST`]; every client of the same store at the same rate shares it.
///
/// ```
/// use std::num::NonZeroU32;
/// use aws_access::identity_store::{LIMITER_BURST, rate_limiter};
///
/// let a = rate_limiter("d-limiter-doc", NonZeroU32::new(18).unwrap());
/// let b = rate_limiter("d-limiter-doc", NonZeroU32::new(18).unwrap());
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// // At most LIMITER_BURST requests go at once; the next waits for its slot.
/// for _ in 0..LIMITER_BURST {
///     assert!(a.check().is_ok());
/// }
/// assert!(a.check().is_err());
/// ```
pub fn rate_limiter(store_id: &str, per_second: NonZeroU32) -> SharedLimiter {
    let mut limiters = LIMITERS.lock().unwrap_or_else(|e| e.into_inner());
    match limiters.get(store_id) {
        Some((rate, limiter)) if *rate == per_second.get() => limiter.clone(),
        _ => {
            let limiter = Arc::new(RateLimiter::direct(
                Quota::per_second(per_second)
                    .allow_burst(NonZeroU32::new(LIMITER_BURST).unwrap_or(NonZeroU32::MIN)),
            ));
            limiters.insert(store_id.to_owned(), (per_second.get(), limiter.clone()));
            limiter
        }
    }
}

/// The Identity Store on the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkIdentityStore {
    client: Client,
    store_id: String,
    limiter: SharedLimiter,
    /// The membership ids this client has read or made, by (group, user): a removal then
    /// costs one `DeleteGroupMembership`, with no `GetGroupMembershipId` first.
    known_memberships: Arc<Mutex<HashMap<(String, String), MembershipId>>>,
}

/// Builds a [`User`] from any SDK shape that has the user accessors (`types::User`,
/// `DescribeUserOutput`).
macro_rules! user_from_sdk {
    ($u:expr) => {{
        let u = $u;

        User {
            id: UserId(u.user_id().to_owned()),
            user_name: u.user_name().unwrap_or_default().to_owned(),
            display_name: u.display_name().map(str::to_owned),
            given_name: u.name().and_then(|n| n.given_name()).map(str::to_owned),
            family_name: u.name().and_then(|n| n.family_name()).map(str::to_owned),
            email: u
                .emails()
                .iter()
                .find(|e| e.primary())
                .or(u.emails().first())
                .and_then(|e| e.value())
                .map(str::to_owned),
            phone: u
                .phone_numbers()
                .first()
                .and_then(|p| p.value())
                .map(str::to_owned),
            external_ids: u
                .external_ids()
                .iter()
                .map(|e| ExternalId {
                    issuer: e.issuer().to_owned(),
                    id: e.id().to_owned(),
                })
                .collect(),
            enabled: u.user_status().map(|s| *s != UserStatus::Disabled),
        }
    }};
}

fn user_from(u: &aws_sdk_identitystore::types::User) -> User {
    user_from_sdk!(u)
}

/// Builds a [`Group`] from any SDK shape that has the group accessors.
macro_rules! group_from_sdk {
    ($g:expr) => {{
        let g = $g;

        Group {
            id: GroupId(g.group_id().to_owned()),
            display_name: g.display_name().unwrap_or_default().to_owned(),
            // The API stores no empty description; an empty one (moto's) reads as none.
            description: g.description().filter(|d| !d.is_empty()).map(str::to_owned),
            external_ids: g
                .external_ids()
                .iter()
                .map(|e| ExternalId {
                    issuer: e.issuer().to_owned(),
                    id: e.id().to_owned(),
                })
                .collect(),
        }
    }};
}

fn group_from(g: &aws_sdk_identitystore::types::Group) -> Group {
    group_from_sdk!(g)
}

fn external_id(e: &ExternalId) -> Result<aws_sdk_identitystore::types::ExternalId> {
    aws_sdk_identitystore::types::ExternalId::builder()
        .issuer(&e.issuer)
        .id(&e.id)
        .build()
        .map_err(|err| Error::Config(format!("invalid external id: {err}")))
}

fn unique(path: &str, value: &str) -> Result<AlternateIdentifier> {
    let attribute = UniqueAttribute::builder()
        .attribute_path(path)
        .attribute_value(Document::from(value))
        .build()
        .map_err(|err| Error::Config(format!("invalid lookup: {err}")))?;
    Ok(AlternateIdentifier::UniqueAttribute(attribute))
}

fn operation(path: &str, value: Document) -> Result<AttributeOperation> {
    AttributeOperation::builder()
        .attribute_path(path)
        .attribute_value(value)
        .build()
        .map_err(|err| Error::Config(format!("invalid attribute change: {err}")))
}

fn change_operation(change: &UserChange) -> Result<AttributeOperation> {
    let text = |v: &str| Document::from(v);
    match change {
        UserChange::UserName(v) => operation("userName", text(v)),
        UserChange::DisplayName(v) => operation("displayName", text(v)),
        UserChange::GivenName(v) => operation("name.givenName", text(v)),
        UserChange::FamilyName(v) => operation("name.familyName", text(v)),
        UserChange::Email(Some(v)) => operation(
            "emails",
            Document::Array(vec![Document::Object(
                [
                    ("value".to_owned(), text(v)),
                    ("type".to_owned(), text("work")),
                    ("primary".to_owned(), Document::Bool(true)),
                ]
                .into(),
            )]),
        ),
        UserChange::Phone(Some(v)) => operation(
            "phoneNumbers",
            Document::Array(vec![Document::Object(
                [
                    ("value".to_owned(), text(v)),
                    ("type".to_owned(), text("work")),
                    ("primary".to_owned(), Document::Bool(true)),
                ]
                .into(),
            )]),
        ),
        // Clearing takes a null value; an empty string is rejected.
        UserChange::Email(None) => operation("emails", Document::Null),
        UserChange::Phone(None) => operation("phoneNumbers", Document::Null),
        UserChange::ExternalIds(ids) => operation(
            "externalIds",
            Document::Array(
                ids.iter()
                    .map(|e| {
                        Document::Object(
                            [
                                ("issuer".to_owned(), text(&e.issuer)),
                                ("id".to_owned(), text(&e.id)),
                            ]
                            .into(),
                        )
                    })
                    .collect(),
            ),
        ),
    }
}

/// The `RetryAfterSeconds` of an Identity Store throttling error.
fn retry_after<E>(
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Option<Duration>
where
    E: ThrottlingHint,
{
    err.as_service_error()
        .and_then(ThrottlingHint::retry_after_seconds)
        .map(|s| Duration::from_secs(u64::from(s.unsigned_abs())))
}

/// Operation errors that can carry a `ThrottlingException`.
trait ThrottlingHint {
    fn retry_after_seconds(&self) -> Option<i32>;
}

macro_rules! throttling_hint {
    ($($error:path),* $(,)?) => {
        $(impl ThrottlingHint for $error {
            fn retry_after_seconds(&self) -> Option<i32> {
                match self {
                    Self::ThrottlingException(t) => Some(t.retry_after_seconds()),
                    _ => None,
                }
            }
        })*
    };
}

use aws_sdk_identitystore::operation as op;
throttling_hint!(
    op::create_user::CreateUserError,
    op::describe_user::DescribeUserError,
    op::update_user::UpdateUserError,
    op::delete_user::DeleteUserError,
    op::list_users::ListUsersError,
    op::get_user_id::GetUserIdError,
    op::create_group::CreateGroupError,
    op::describe_group::DescribeGroupError,
    op::update_group::UpdateGroupError,
    op::delete_group::DeleteGroupError,
    op::list_groups::ListGroupsError,
    op::get_group_id::GetGroupIdError,
    op::create_group_membership::CreateGroupMembershipError,
    op::delete_group_membership::DeleteGroupMembershipError,
    op::get_group_membership_id::GetGroupMembershipIdError,
    op::list_group_memberships::ListGroupMembershipsError,
    op::list_group_memberships_for_member::ListGroupMembershipsForMemberError,
    op::is_member_in_groups::IsMemberInGroupsError,
);

/// Wraps an Identity Store SDK error with its throttling hint.
fn fail<E>(
    operation: &'static str,
) -> impl FnOnce(
    aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Error
where
    E: ThrottlingHint
        + aws_sdk_identitystore::error::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    move |err| {
        let wait = retry_after(&err);
        Error::sdk(operation, err).with_retry_after(wait)
    }
}

fn miss<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

impl SdkIdentityStore {
    /// A client of identity store `store_id` (an id or ARN) at the default rate.
    pub fn new(config: &aws_config::SdkConfig, store_id: impl Into<String>) -> Self {
        Self::from_client(
            Client::new(config),
            store_id,
            NonZeroU32::new(DEFAULT_REQUESTS_PER_SECOND).unwrap_or(NonZeroU32::MIN),
        )
    }

    /// A client from a ready SDK client (tests use this with mocks), sharing the
    /// process-wide limiter of `store_id` at `per_second`.
    pub fn from_client(
        client: Client,
        store_id: impl Into<String>,
        per_second: NonZeroU32,
    ) -> Self {
        let store_id = store_id.into();
        let limiter = rate_limiter(&store_id, per_second);
        Self {
            client,
            store_id,
            limiter,
            known_memberships: Arc::default(),
        }
    }

    /// Runs one API call: waits for the shared limiter, then sends. Retries belong to the
    /// SDK (adaptive mode, every attempt paced by its client rate limiter) and to the
    /// caller's executor, never a third loop here.
    async fn call<T, F, Fut>(&self, send: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        self.limiter.until_ready().await;
        send().await
    }

    fn remember_membership(&self, group: &GroupId, user: &UserId, membership: &MembershipId) {
        if let Ok(mut known) = self.known_memberships.lock() {
            known.insert((group.0.clone(), user.0.clone()), membership.clone());
        }
    }

    fn forget_membership(&self, group: &GroupId, user: &UserId) -> Option<MembershipId> {
        self.known_memberships
            .lock()
            .ok()?
            .remove(&(group.0.clone(), user.0.clone()))
    }

    /// Sends `DeleteGroupMembership`; `Ok(false)` when the service has no such membership.
    async fn delete_membership(&self, membership: &MembershipId) -> Result<bool> {
        let deleted = self
            .call(|| async {
                self.client
                    .delete_group_membership()
                    .identity_store_id(&self.store_id)
                    .membership_id(membership.as_str())
                    .send()
                    .await
                    .map_err(fail("DeleteGroupMembership"))
            })
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(err) if err.is_not_found() => Ok(false),
            Err(err) => Err(err),
        }
    }

    async fn membership_id(&self, group: &GroupId, user: &UserId) -> Result<Option<MembershipId>> {
        let found = self
            .call(|| async {
                self.client
                    .get_group_membership_id()
                    .identity_store_id(&self.store_id)
                    .group_id(group.as_str())
                    .member_id(MemberId::UserId(user.0.clone()))
                    .send()
                    .await
                    .map_err(fail("GetGroupMembershipId"))
            })
            .await
            .map(|out| MembershipId(out.membership_id().to_owned()));
        miss(found)
    }

    /// User names and display names of `ids`: describing each when there are few, listing
    /// every user once when that takes fewer calls.
    /// Every (membership id, user id) of a group, page by page.
    fn memberships_of<'a>(
        &'a self,
        group: &'a GroupId,
    ) -> BoxStream<'a, Result<(MembershipId, UserId)>> {
        paged(move |token| async move {
            let out = self
                .call(|| async {
                    self.client
                        .list_group_memberships()
                        .identity_store_id(&self.store_id)
                        .group_id(group.as_str())
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(fail("ListGroupMemberships"))
                })
                .await?;
            let items = out
                .group_memberships()
                .iter()
                .filter_map(|m| {
                    let user = UserId(m.member_id()?.as_user_id().ok()?.clone());
                    let membership = MembershipId(m.membership_id().to_owned());
                    self.remember_membership(group, &user, &membership);
                    Some((membership, user))
                })
                .collect();
            Ok((items, out.next_token().map(str::to_owned)))
        })
    }

    async fn user_names(
        &self,
        ids: &[UserId],
    ) -> Result<HashMap<UserId, (String, Option<String>)>> {
        let mut names = HashMap::new();
        if ids.len() <= 20 {
            for id in ids {
                let user = self.describe_user(id).await?;
                names.insert(user.id, (user.user_name, user.display_name));
            }
        } else {
            let mut users = self.list_users();
            while let Some(user) = users.try_next().await? {
                names.insert(user.id, (user.user_name, user.display_name));
            }
        }
        Ok(names)
    }
}

#[async_trait]
impl IdentityStore for SdkIdentityStore {
    fn store_id(&self) -> &str {
        &self.store_id
    }

    async fn create_user(&self, user: &NewUser, on_conflict: OnConflict) -> Result<Created<User>> {
        let mut request = self
            .client
            .create_user()
            .identity_store_id(&self.store_id)
            .user_name(&user.user_name)
            .display_name(&user.display_name)
            .name(
                Name::builder()
                    .given_name(&user.given_name)
                    .family_name(&user.family_name)
                    .build(),
            );
        if let Some(email) = user.email.as_ref().filter(|e| !e.is_empty()) {
            request = request.emails(
                Email::builder()
                    .value(email)
                    .r#type("work")
                    .primary(true)
                    .build(),
            );
        }
        if let Some(phone) = user.phone.as_ref().filter(|p| !p.is_empty()) {
            request = request.phone_numbers(
                PhoneNumber::builder()
                    .value(phone)
                    .r#type("work")
                    .primary(true)
                    .build(),
            );
        }
        match self
            .call(|| async { request.clone().send().await.map_err(fail("CreateUser")) })
            .await
        {
            // One call per create: the record is what was sent, with the id it got.
            Ok(out) => Ok(Created {
                value: User {
                    id: UserId(out.user_id().to_owned()),
                    user_name: user.user_name.clone(),
                    display_name: Some(user.display_name.clone()),
                    given_name: Some(user.given_name.clone()),
                    family_name: Some(user.family_name.clone()),
                    email: user.email.clone().filter(|e| !e.is_empty()),
                    phone: user.phone.clone().filter(|p| !p.is_empty()),
                    external_ids: Vec::new(),
                    enabled: None,
                },
                adopted: false,
            }),
            Err(err) if err.is_conflict() && on_conflict == OnConflict::Adopt => {
                let Some(id) = self
                    .find_user(&UserLookup::UserName(user.user_name.clone()))
                    .await?
                else {
                    return Err(err);
                };
                Ok(Created {
                    value: self.describe_user(&id).await?,
                    adopted: true,
                })
            }
            Err(err) => Err(err),
        }
    }

    async fn describe_user(&self, id: &UserId) -> Result<User> {
        let out = self
            .call(|| async {
                self.client
                    .describe_user()
                    .identity_store_id(&self.store_id)
                    .user_id(id.as_str())
                    .send()
                    .await
                    .map_err(fail("DescribeUser"))
            })
            .await?;
        Ok(user_from_sdk!(&out))
    }

    async fn update_user(&self, id: &UserId, changes: &[UserChange]) -> Result<()> {
        let operations = changes
            .iter()
            .map(change_operation)
            .collect::<Result<Vec<_>>>()?;
        for chunk in operations.chunks(100) {
            self.call(|| async {
                self.client
                    .update_user()
                    .identity_store_id(&self.store_id)
                    .user_id(id.as_str())
                    .set_operations(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(fail("UpdateUser"))
            })
            .await?;
        }
        Ok(())
    }

    async fn delete_user(&self, id: &UserId) -> Result<()> {
        self.call(|| async {
            self.client
                .delete_user()
                .identity_store_id(&self.store_id)
                .user_id(id.as_str())
                .send()
                .await
                .map_err(fail("DeleteUser"))
        })
        .await?;
        Ok(())
    }

    fn list_users(&self) -> BoxStream<'_, Result<User>> {
        paged(move |token| async move {
            let out = self
                .call(|| async {
                    self.client
                        .list_users()
                        .identity_store_id(&self.store_id)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(fail("ListUsers"))
                })
                .await?;
            Ok((
                out.users().iter().map(user_from).collect(),
                out.next_token().map(str::to_owned),
            ))
        })
    }

    async fn find_user(&self, lookup: &UserLookup) -> Result<Option<UserId>> {
        let identifier = match lookup {
            UserLookup::UserName(name) => unique("userName", name)?,
            UserLookup::Email(email) => unique("emails.value", email)?,
            UserLookup::ExternalId(e) => AlternateIdentifier::ExternalId(external_id(e)?),
        };
        let found = self
            .call(|| async {
                self.client
                    .get_user_id()
                    .identity_store_id(&self.store_id)
                    .alternate_identifier(identifier.clone())
                    .send()
                    .await
                    .map_err(fail("GetUserId"))
            })
            .await
            .map(|out| UserId(out.user_id().to_owned()));
        miss(found)
    }

    async fn create_group(
        &self,
        display_name: &str,
        description: Option<&str>,
        on_conflict: OnConflict,
    ) -> Result<Created<Group>> {
        // `Description` has a minimum length of 1: an empty one is not sent at all.
        let description = description.filter(|d| !d.is_empty());
        let created = self
            .call(|| async {
                self.client
                    .create_group()
                    .identity_store_id(&self.store_id)
                    .display_name(display_name)
                    .set_description(description.map(str::to_owned))
                    .send()
                    .await
                    .map_err(fail("CreateGroup"))
            })
            .await;
        match created {
            Ok(out) => Ok(Created {
                value: Group {
                    id: GroupId(out.group_id().to_owned()),
                    display_name: display_name.to_owned(),
                    description: description.map(str::to_owned),
                    external_ids: Vec::new(),
                },
                adopted: false,
            }),
            Err(err) if err.is_conflict() && on_conflict == OnConflict::Adopt => {
                let Some(id) = self
                    .find_group(&GroupLookup::DisplayName(display_name.to_owned()))
                    .await?
                else {
                    return Err(err);
                };
                Ok(Created {
                    value: self.describe_group(&id).await?,
                    adopted: true,
                })
            }
            Err(err) => Err(err),
        }
    }

    async fn describe_group(&self, id: &GroupId) -> Result<Group> {
        let out = self
            .call(|| async {
                self.client
                    .describe_group()
                    .identity_store_id(&self.store_id)
                    .group_id(id.as_str())
                    .send()
                    .await
                    .map_err(fail("DescribeGroup"))
            })
            .await?;
        Ok(group_from_sdk!(&out))
    }

    async fn update_group(
        &self,
        id: &GroupId,
        display_name: Option<&str>,
        description: Option<&str>,
    ) -> Result<()> {
        let mut operations = Vec::new();
        if let Some(name) = display_name {
            operations.push(operation("displayName", Document::from(name))?);
        }
        // `Description` has a minimum length of 1: an empty one is not sent.
        if let Some(text) = description.filter(|d| !d.is_empty()) {
            operations.push(operation("description", Document::from(text))?);
        }
        if operations.is_empty() {
            return Ok(());
        }
        self.call(|| async {
            self.client
                .update_group()
                .identity_store_id(&self.store_id)
                .group_id(id.as_str())
                .set_operations(Some(operations.clone()))
                .send()
                .await
                .map_err(fail("UpdateGroup"))
        })
        .await?;
        Ok(())
    }

    async fn delete_group(&self, id: &GroupId) -> Result<()> {
        self.call(|| async {
            self.client
                .delete_group()
                .identity_store_id(&self.store_id)
                .group_id(id.as_str())
                .send()
                .await
                .map_err(fail("DeleteGroup"))
        })
        .await?;
        Ok(())
    }

    fn list_groups(&self) -> BoxStream<'_, Result<Group>> {
        paged(move |token| async move {
            let out = self
                .call(|| async {
                    self.client
                        .list_groups()
                        .identity_store_id(&self.store_id)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(fail("ListGroups"))
                })
                .await?;
            Ok((
                out.groups().iter().map(group_from).collect(),
                out.next_token().map(str::to_owned),
            ))
        })
    }

    async fn find_group(&self, lookup: &GroupLookup) -> Result<Option<GroupId>> {
        let identifier = match lookup {
            GroupLookup::DisplayName(name) => unique("displayName", name)?,
            GroupLookup::ExternalId(e) => AlternateIdentifier::ExternalId(external_id(e)?),
        };
        let found = self
            .call(|| async {
                self.client
                    .get_group_id()
                    .identity_store_id(&self.store_id)
                    .alternate_identifier(identifier.clone())
                    .send()
                    .await
                    .map_err(fail("GetGroupId"))
            })
            .await
            .map(|out| GroupId(out.group_id().to_owned()));
        miss(found)
    }

    async fn add_member(&self, group: &GroupId, user: &UserId) -> Result<MembershipId> {
        // One request per add: sent directly; real AWS refuses a duplicate with
        // ConflictException, and only then is the existing membership looked up. (moto
        // accepts a duplicate and makes a second membership: callers that may add an existing
        // member against it check first.)
        let created = self
            .call(|| async {
                self.client
                    .create_group_membership()
                    .identity_store_id(&self.store_id)
                    .group_id(group.as_str())
                    .member_id(MemberId::UserId(user.0.clone()))
                    .send()
                    .await
                    .map_err(fail("CreateGroupMembership"))
            })
            .await;
        let membership = match created {
            Ok(out) => MembershipId(out.membership_id().to_owned()),
            Err(err) if err.is_conflict() => match self.membership_id(group, user).await? {
                Some(existing) => existing,
                None => return Err(err),
            },
            Err(err) => return Err(err),
        };
        self.remember_membership(group, user, &membership);
        Ok(membership)
    }

    /// One `DeleteGroupMembership` when this client has read or made the membership (a
    /// sync's snapshot has); a membership id that is no longer the service's (removed and
    /// added again since) is looked up with `GetGroupMembershipId` and deleted once more.
    async fn remove_member(&self, group: &GroupId, user: &UserId) -> Result<bool> {
        if let Some(known) = self.forget_membership(group, user)
            && self.delete_membership(&known).await?
        {
            return Ok(true);
        }
        match self.membership_id(group, user).await? {
            Some(membership) => self.delete_membership(&membership).await,
            None => Ok(false),
        }
    }

    fn member_ids<'a>(&'a self, group: &'a GroupId) -> BoxStream<'a, Result<UserId>> {
        self.memberships_of(group).map_ok(|(_, user)| user).boxed()
    }

    async fn group_members(&self, group: &GroupId) -> Result<Vec<Member>> {
        let memberships: Vec<(MembershipId, UserId)> =
            self.memberships_of(group).try_collect().await?;
        let ids: Vec<UserId> = memberships.iter().map(|(_, u)| u.clone()).collect();
        let names = self.user_names(&ids).await?;
        Ok(memberships
            .into_iter()
            .map(|(membership_id, user_id)| {
                let (user_name, display_name) = names.get(&user_id).cloned().unwrap_or_default();
                Member {
                    membership_id,
                    user_id,
                    user_name,
                    display_name,
                }
            })
            .collect())
    }

    async fn user_groups(&self, user: &UserId) -> Result<Vec<UserGroup>> {
        let memberships: Vec<(MembershipId, GroupId)> = paged(move |token| async move {
            let out = self
                .call(|| async {
                    self.client
                        .list_group_memberships_for_member()
                        .identity_store_id(&self.store_id)
                        .member_id(MemberId::UserId(user.0.clone()))
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(fail("ListGroupMembershipsForMember"))
                })
                .await?;
            let items = out
                .group_memberships()
                .iter()
                .filter_map(|m| {
                    let membership = MembershipId(m.membership_id().to_owned());
                    let group = GroupId(m.group_id()?.to_owned());
                    self.remember_membership(&group, user, &membership);
                    Some((membership, group))
                })
                .collect();
            Ok((items, out.next_token().map(str::to_owned)))
        })
        .try_collect()
        .await?;
        let mut groups = Vec::with_capacity(memberships.len());
        for (membership_id, group_id) in memberships {
            let display_name = self.describe_group(&group_id).await?.display_name;
            groups.push(UserGroup {
                membership_id,
                group_id,
                display_name,
            });
        }
        Ok(groups)
    }

    async fn is_member(
        &self,
        user: &UserId,
        groups: &[GroupId],
    ) -> Result<BTreeMap<GroupId, bool>> {
        let mut result: BTreeMap<GroupId, bool> =
            groups.iter().map(|g| (g.clone(), false)).collect();
        for chunk in groups.chunks(MAX_GROUPS_PER_MEMBERSHIP_CHECK) {
            let out = self
                .call(|| async {
                    self.client
                        .is_member_in_groups()
                        .identity_store_id(&self.store_id)
                        .member_id(MemberId::UserId(user.0.clone()))
                        .set_group_ids(Some(chunk.iter().map(|g| g.0.clone()).collect()))
                        .send()
                        .await
                        .map_err(fail("IsMemberInGroups"))
                })
                .await?;
            for r in out.results() {
                if let Some(group) = r.group_id() {
                    result.insert(GroupId(group.to_owned()), r.membership_exists());
                }
            }
        }
        Ok(result)
    }
}

/// Follows a `NextToken` API to the end: a page may be short (even empty) while a token
/// says more; a token seen before ends the stream with an error rather than looping.
fn paged<'a, T, F, Fut>(fetch: F) -> BoxStream<'a, Result<T>>
where
    T: Send + 'a,
    F: Fn(Option<String>) -> Fut + Send + Sync + 'a,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>)>> + Send + 'a,
{
    struct State<F> {
        fetch: F,
        token: Option<String>,
        seen: std::collections::HashSet<String>,
        done: bool,
    }
    let state = State {
        fetch,
        token: None,
        seen: Default::default(),
        done: false,
    };
    stream::try_unfold(state, |mut state| async move {
        if state.done {
            return Ok(None);
        }
        let (items, next) = (state.fetch)(state.token.take()).await?;
        match next.filter(|t| !t.is_empty()) {
            Some(token) if !state.seen.insert(token.clone()) => {
                return Err(Error::Config(format!(
                    "the service repeated the page token {token:?}; stopped paging"
                )));
            }
            Some(token) => state.token = Some(token),
            None => state.done = true,
        }
        Ok(Some((stream::iter(items.into_iter().map(Ok)), state)))
    })
    .try_flatten()
    .boxed()
}
