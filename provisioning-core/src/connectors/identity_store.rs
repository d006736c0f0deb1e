//! IAM Identity Center's Identity Store API as a target, through `aws-access` (and so through
//! its process-wide rate limiter per identity store, shared with every other caller).
//!
//! What the API allows shapes what the engine may plan ([`IdentityStoreTarget::capabilities`]):
//!
//! - **no deactivation**: `UserStatus` is read-only in this API, so an inactive source user is
//!   not created, and a departing user is deleted when the policy says `deprovision = delete`
//!   or kept (with its memberships removed) and reported otherwise;
//! - **given and family names and a display name are required**: users without are skipped;
//! - **one membership per request** (`CreateGroupMembership` has no batch form);
//! - **the ownership mark**: `CreateUser` and `CreateGroup` take no `ExternalIds`, so the
//!   connector keeps its links in an [ownership record](crate::connectors::ownership) — a
//!   file in production — instead of costing a second call per object. Objects that carry
//!   someone else's `ExternalIds` (a SCIM provisioner's) are reported as owned by that
//!   issuer and left alone;
//! - **kept members**: no API says who added a member, so when the engine adopts a group the
//!   members it keeps (the `keep_members` of [`Operation::UpdateGroup`]) go into the same
//!   record, and every read reports those the group still has in
//!   [`Snapshot::kept_memberships`]. Removing such a member, adding it (the engine's own
//!   from then on), or deleting its group or user forgets it.
//!
//! Reads cost the list calls the page sizes require: ⌈users/100⌉ + ⌈groups/100⌉ + one
//! `ListGroupMemberships` per 100 members of each group — never a call per user.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use aws_access::config::AwsSettings;
//! use aws_access::identity_store::SdkIdentityStore;
//! use provisioning_core::connectors::identity_store::IdentityStoreTarget;
//! use provisioning_core::connectors::ownership::OwnershipRecord;
//!
//! let config = aws_access::config::load(&AwsSettings::default()).await;
//! let store = SdkIdentityStore::new(&config, "d-1234567890");
//! let target = IdentityStoreTarget::new(Arc::new(store), OwnershipRecord::open("identity-store.ownership.jsonl")?);
//! # let _ = target;
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use aws_access::identity_store::{
    self as ids, GroupId, GroupLookup, IdentityStore, NewUser, OnConflict, UserChange, UserId,
    UserLookup,
};
use futures::{FutureExt, StreamExt, TryStreamExt};

/// Groups whose member lists are read at once.
const MEMBER_READS_IN_FLIGHT: usize = 8;

use crate::connector::{
    Applied, Capabilities, ConnectorError, ErrorClass, Target, TargetModel, TargetReader,
};
use crate::connectors::ownership::{Kind, OwnershipRecord};
use crate::mapping::TargetField;
use crate::model::{Email, ExternalId, Group, Membership, Phone, Snapshot, User};
use crate::plan::Operation;
use crate::util::{cut_utf16, fold, non_blank, spellings};

/// The longest group description the Identity Store accepts (`Description`: 1–1,024
/// characters). A longer one is cut to fit — see [`fit_description`] — rather than refused,
/// which would leave the group, and every membership in it, unsynced.
pub const MAX_GROUP_DESCRIPTION: usize = 1024;

/// A group description as the Identity Store can store it: `None` when blank (the API
/// refuses an empty `Description`), otherwise cut at a character boundary to at most
/// [`MAX_GROUP_DESCRIPTION`] UTF-16 code units — which is also at most that many
/// characters, so it fits whichever way the service counts.
///
/// ```
/// use provisioning_core::connectors::identity_store::{fit_description, MAX_GROUP_DESCRIPTION};
///
/// assert_eq!(fit_description(Some("")), None);
/// assert_eq!(fit_description(Some("  ")), None);
/// assert_eq!(fit_description(Some("Builds the product")).as_deref(), Some("Builds the product"));
/// let long = "é".repeat(MAX_GROUP_DESCRIPTION + 5);
/// assert_eq!(fit_description(Some(&long)).unwrap().chars().count(), MAX_GROUP_DESCRIPTION);
/// let emoji = "🦀".repeat(MAX_GROUP_DESCRIPTION); // two UTF-16 units each
/// assert_eq!(fit_description(Some(&emoji)).unwrap().chars().count(), MAX_GROUP_DESCRIPTION / 2);
/// ```
pub fn fit_description(text: Option<&str>) -> Option<String> {
    let text = text.filter(|t| !t.trim().is_empty())?;
    let end = cut_utf16(text, MAX_GROUP_DESCRIPTION).len();
    if end < text.len() {
        tracing::warn!(
            length = text.chars().count(),
            max = MAX_GROUP_DESCRIPTION,
            "a group description longer than the Identity Store accepts was cut to fit"
        );
    }
    Some(text[..end].to_owned())
}

/// The Identity Store as a [`Target`]. See the [module documentation](self).
#[derive(Clone)]
pub struct IdentityStoreTarget {
    store: Arc<dyn IdentityStore>,
    ownership: Arc<OwnershipRecord>,
    /// When set, users also carry the mark in `ExternalIds` under this issuer.
    mark_issuer: Option<String>,
}

impl std::fmt::Debug for IdentityStoreTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityStoreTarget")
            .field("store_id", &self.store.store_id())
            .finish_non_exhaustive()
    }
}

impl IdentityStoreTarget {
    /// A target writing through `store`, keeping its ownership links and the members
    /// adopted groups keep in `ownership`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use aws_access::fake::FakeIdentityStore;
    /// use provisioning_core::connector::TargetReader;
    /// use provisioning_core::connectors::identity_store::IdentityStoreTarget;
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    ///
    /// let target = IdentityStoreTarget::new(Arc::new(FakeIdentityStore::new("d-1234567890")), OwnershipRecord::in_memory());
    /// assert!(!target.capabilities().can_deactivate_users);
    /// ```
    pub fn new(store: Arc<dyn IdentityStore>, ownership: OwnershipRecord) -> Self {
        Self {
            store,
            ownership: Arc::new(ownership),
            mark_issuer: None,
        }
    }

    /// Also writes each user's ownership mark into its `ExternalIds` (one `UpdateUser` after
    /// each create or adoption), under `issuer` — the policy's issuer. The mark is then
    /// visible in AWS and survives the loss of the ownership record; reading prefers the
    /// `ExternalIds` entry of `issuer`. Groups keep their mark in the record only (the
    /// group API has no `ExternalIds` to write). A mark that cannot be written after a
    /// successful create is logged, not failed: the record still holds it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use aws_access::fake::FakeIdentityStore;
    /// use provisioning_core::connectors::identity_store::IdentityStoreTarget;
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// use provisioning_core::policy::DEFAULT_ISSUER;
    ///
    /// let target = IdentityStoreTarget::new(Arc::new(FakeIdentityStore::new("d-1234567890")), OwnershipRecord::in_memory())
    ///     .with_external_id_marks(DEFAULT_ISSUER);
    /// # let _ = target;
    /// ```
    #[must_use]
    pub fn with_external_id_marks(mut self, issuer: impl Into<String>) -> Self {
        self.mark_issuer = Some(issuer.into());
        self
    }

    fn mark(&self, kind: Kind, id: &str, theirs: &[ids::ExternalId]) -> Option<ExternalId> {
        self.ownership.get(kind, id).or_else(|| {
            let ours = self
                .mark_issuer
                .as_deref()
                .and_then(|issuer| theirs.iter().find(|e| e.issuer == issuer));
            ours.or_else(|| theirs.first())
                .map(|e| ExternalId::new(e.issuer.clone(), e.id.clone()))
        })
    }

    /// The `ExternalIds` change that writes `mark`, when marks are written.
    fn mark_change(&self, mark: Option<&ExternalId>) -> Option<UserChange> {
        let mark = mark.filter(|_| self.mark_issuer.is_some())?;
        Some(UserChange::ExternalIds(vec![ids::ExternalId {
            issuer: mark.issuer.clone(),
            id: mark.id.clone(),
        }]))
    }

    /// The mark of an object, or, for an unmarked one, the mark of the create a stopped run
    /// made (its intent, by name).
    fn mark_or_claim(
        &self,
        kind: Kind,
        id: &str,
        name: &str,
        theirs: &[ids::ExternalId],
    ) -> Result<Option<ExternalId>, ConnectorError> {
        match self.mark(kind, id, theirs) {
            Some(mark) => Ok(Some(mark)),
            None => self.ownership.claim(kind, id, name),
        }
    }

    fn user(&self, u: ids::User) -> Result<User, ConnectorError> {
        let external_id =
            self.mark_or_claim(Kind::User, u.id.as_str(), &u.user_name, &u.external_ids)?;
        let mut user = User::new(u.id.as_str(), u.user_name);
        user.external_id = external_id;
        user.display_name = u.display_name;
        user.given_name = u.given_name;
        user.family_name = u.family_name;
        user.emails = u.email.map(Email::primary_work).into_iter().collect();
        user.phone_numbers = u
            .phone
            .map(|value| Phone {
                value,
                kind: Some("work".into()),
            })
            .into_iter()
            .collect();
        user.active = u.enabled.unwrap_or(true);
        Ok(user)
    }

    fn group(&self, g: ids::Group) -> Result<Group, ConnectorError> {
        Ok(Group {
            external_id: self.mark_or_claim(
                Kind::Group,
                g.id.as_str(),
                &g.display_name,
                &g.external_ids,
            )?,
            id: g.id.0,
            display_name: g.display_name,
            // Never stored empty by the API; read a blank one (another tool's, or moto's)
            // as none, as sources are.
            description: non_blank(g.description),
        })
    }

    fn remember(
        &self,
        kind: Kind,
        id: &str,
        mark: Option<&ExternalId>,
    ) -> Result<(), ConnectorError> {
        match mark {
            Some(mark) => self.ownership.set(kind, id, mark.clone()),
            None => Ok(()),
        }
    }
}

/// The user changes that make the target user match `user` in `fields`.
fn changes(user: &User, fields: &[TargetField]) -> Result<Vec<UserChange>, ConnectorError> {
    let required = |value: &Option<String>, what: &str| {
        non_blank(value.as_deref()).ok_or_else(|| {
            ConnectorError::new(
                ErrorClass::Invalid,
                format!("the Identity Store requires a {what}; set it at the source"),
            )
        })
    };
    let mut out = Vec::new();
    for field in fields {
        out.push(match field {
            TargetField::UserName => UserChange::UserName(user.user_name.clone()),
            TargetField::DisplayName => {
                UserChange::DisplayName(required(&user.display_name, "display name")?)
            }
            TargetField::GivenName => {
                UserChange::GivenName(required(&user.given_name, "given name")?)
            }
            TargetField::FamilyName => {
                UserChange::FamilyName(required(&user.family_name, "family name")?)
            }
            // Blank is absent: the change clears the attribute rather than sending "".
            TargetField::Email => UserChange::Email(non_blank(user.primary_email())),
            TargetField::Phone => UserChange::Phone(non_blank(
                user.phone_numbers.first().map(|p| p.value.as_str()),
            )),
            // The planner never asks (the status is read-only here).
            TargetField::Active => continue,
            TargetField::Attribute(name) => {
                return Err(ConnectorError::new(
                    ErrorClass::Invalid,
                    format!(
                        "the Identity Store target does not write custom attributes ({name}); \
                         remove it from the mapping, or sync it through the SCIM endpoint's \
                         Enterprise User attributes"
                    ),
                ));
            }
        });
    }
    Ok(out)
}

/// Maps an `aws-access` error to the engine's classes, saying what was being done.
fn class(doing: &'static str) -> impl Fn(aws_access::Error) -> ConnectorError {
    move |err| {
        let class = if err.is_throttled() {
            ErrorClass::RateLimited
        } else if err.is_conflict() {
            ErrorClass::Conflict
        } else if err.is_not_found() {
            ErrorClass::NotFound
        } else if err.is_access_denied() {
            ErrorClass::Denied
        } else if err.code() == Some("ValidationException") {
            ErrorClass::Invalid
        } else if matches!(err.status(), Some(500..=599)) {
            ErrorClass::Transient
        } else {
            ErrorClass::Fatal
        };
        let hint = if class == ErrorClass::Denied {
            " (grant the identitystore: action to the credentials in use)"
        } else {
            ""
        };
        ConnectorError::new(class, format!("Identity Store: {doing}{hint}"))
            .with_retry_after(err.retry_after())
            .with_source(err)
    }
}

#[async_trait]
impl TargetReader for IdentityStoreTarget {
    fn capabilities(&self) -> Capabilities {
        // Paced by aws-access's shared limiter, below the instance's quota.
        TargetModel::IdentityStore.capabilities()
    }

    async fn read(&self) -> Result<Snapshot, ConnectorError> {
        let store = &self.store;
        // The users' pages follow each other's NextToken: they are read while the groups
        // and their member lists are, all on the store's shared limiter, so the read takes
        // the longer of the two chains instead of their sum.
        let users_side = async {
            store
                .list_users()
                .try_collect::<Vec<ids::User>>()
                .await
                .map_err(class("listing users"))
        };
        // Several groups' member lists in flight at once, from the first page of groups on
        // (not after the last): each call still waits on the store's shared limiter, so
        // this fills the quota instead of idling through the service's latency one group
        // at a time.
        let groups_side = store
            .list_groups()
            .map(|group| {
                async move {
                    let group = group.map_err(class("listing groups"))?;
                    let members: Vec<UserId> = store
                        .member_ids(&group.id)
                        .try_collect()
                        .await
                        .map_err(class("listing group memberships"))?;
                    Ok::<_, ConnectorError>((group, members))
                }
                .boxed()
            })
            .buffered(MEMBER_READS_IN_FLIGHT)
            .try_collect::<Vec<(ids::Group, Vec<UserId>)>>();
        let (users, member_lists) = futures::try_join!(users_side, groups_side)?;
        let known: BTreeSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
        let mut memberships = BTreeSet::new();
        let mut groups = Vec::with_capacity(member_lists.len());
        for (group, members) in member_lists {
            for user in members {
                if known.contains(user.as_str()) {
                    memberships.insert(Membership {
                        group_id: group.id.0.clone(),
                        user_id: user.0,
                    });
                }
            }
            groups.push(group);
        }
        let kept_memberships = self.ownership.kept_among(&memberships);
        // A complete read: the intents it does not answer are creates that never happened.
        self.ownership
            .settle_unclaimed(Kind::User, users.iter().map(|u| u.user_name.as_str()))?;
        self.ownership
            .settle_unclaimed(Kind::Group, groups.iter().map(|g| g.display_name.as_str()))?;
        let users = users
            .into_iter()
            .map(|u| self.user(u))
            .collect::<Result<_, _>>()?;
        let groups = groups
            .into_iter()
            .map(|g| self.group(g))
            .collect::<Result<_, _>>()?;
        Ok(Snapshot {
            users,
            groups,
            memberships,
            groups_out_of_scope: BTreeSet::new(),
            kept_memberships,
            ..Snapshot::default()
        })
    }

    /// `GetUserId` by `userName` as given, then by its other Unicode normalisation form if
    /// it differs; each hit is described and kept only if its folded name equals the wanted
    /// one. Case variants are found as far as the service finds them (IAM Identity Center
    /// compares `userName` case-insensitively; moto does not).
    async fn find_user(&self, user_name: &str) -> Result<Option<User>, ConnectorError> {
        let wanted = fold(user_name);
        for spelling in spellings(user_name) {
            let lookup = UserLookup::UserName(spelling);
            let Some(id) = self
                .store
                .find_user(&lookup)
                .await
                .map_err(class("looking up a user by userName"))?
            else {
                continue;
            };
            let user = self
                .store
                .describe_user(&id)
                .await
                .map_err(class("describing a user"))?;
            if fold(&user.user_name) == wanted {
                return self.user(user).map(Some);
            }
        }
        Ok(None)
    }

    /// As [`find_user`](Self::find_user), by `displayName` with `GetGroupId`.
    async fn find_group(&self, display_name: &str) -> Result<Option<Group>, ConnectorError> {
        let wanted = fold(display_name);
        for spelling in spellings(display_name) {
            let lookup = GroupLookup::DisplayName(spelling);
            let Some(id) = self
                .store
                .find_group(&lookup)
                .await
                .map_err(class("looking up a group by displayName"))?
            else {
                continue;
            };
            let group = self
                .store
                .describe_group(&id)
                .await
                .map_err(class("describing a group"))?;
            if fold(&group.display_name) == wanted {
                return self.group(group).map(Some);
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl Target for IdentityStoreTarget {
    async fn write(&self, operation: &Operation<String>) -> Result<Applied, ConnectorError> {
        match operation {
            Operation::CreateUser { user, .. } => {
                let (Some(given), Some(family)) = (
                    non_blank(user.given_name.as_deref()),
                    non_blank(user.family_name.as_deref()),
                ) else {
                    return Err(ConnectorError::new(
                        ErrorClass::Invalid,
                        format!(
                            "{} has no given or family name, which the Identity Store requires",
                            user.user_name
                        ),
                    ));
                };
                let mut new = NewUser::new(&user.user_name, given, family);
                if let Some(display) = non_blank(user.display_name.as_deref()) {
                    new.display_name = display;
                }
                new.email = non_blank(user.primary_email());
                new.phone = non_blank(user.phone_numbers.first().map(|p| p.value.as_str()));
                let id = self
                    .ownership
                    .created(
                        Kind::User,
                        &user.user_name,
                        user.external_id.as_ref(),
                        async {
                            let created = self
                                .store
                                .create_user(&new, OnConflict::Fail)
                                .await
                                .map_err(class("creating a user"))?;
                            Ok(created.value.id.0)
                        },
                    )
                    .await?;
                if let Some(change) = self.mark_change(user.external_id.as_ref())
                    && let Err(err) = self.store.update_user(&UserId(id.clone()), &[change]).await
                {
                    tracing::warn!(user = %user.user_name, error = %err,
                        "created, but the ExternalIds mark could not be written; the ownership record keeps it");
                }
                Ok(Applied {
                    created_id: Some(id),
                })
            }
            Operation::UpdateUser { id, user, fields } => {
                let mut changes = changes(user, fields)?;
                changes.extend(self.mark_change(user.external_id.as_ref()));
                if !changes.is_empty() {
                    self.store
                        .update_user(&UserId(id.clone()), &changes)
                        .await
                        .map_err(class("updating a user"))?;
                }
                self.remember(Kind::User, id, user.external_id.as_ref())?;
                Ok(Applied::default())
            }
            Operation::DeactivateUser { .. } => Err(ConnectorError::new(
                ErrorClass::Invalid,
                "the Identity Store API cannot deactivate users; use deprovision = delete",
            )),
            Operation::DeleteUser { id } => {
                self.store
                    .delete_user(&UserId(id.clone()))
                    .await
                    .map_err(class("deleting a user"))?;
                self.ownership.remove(Kind::User, id)?;
                self.ownership.forget_user(id)?;
                Ok(Applied::default())
            }
            Operation::CreateGroup { group, .. } => {
                let description = fit_description(group.description.as_deref());
                let id = self
                    .ownership
                    .created(
                        Kind::Group,
                        &group.display_name,
                        group.external_id.as_ref(),
                        async {
                            let created = self
                                .store
                                .create_group(
                                    &group.display_name,
                                    description.as_deref(),
                                    OnConflict::Fail,
                                )
                                .await
                                .map_err(class("creating a group"))?;
                            Ok(created.value.id.0)
                        },
                    )
                    .await?;
                Ok(Applied {
                    created_id: Some(id),
                })
            }
            Operation::UpdateGroup {
                id,
                group,
                keep_members,
            } => {
                let current = self
                    .store
                    .describe_group(&GroupId(id.clone()))
                    .await
                    .map_err(class("describing a group"))?;
                let rename = (current.display_name != group.display_name)
                    .then_some(group.display_name.as_str());
                // Only a description to set: a blank one is never sent (the API refuses
                // ""), and one the store already holds is not sent again.
                let wanted = fit_description(group.description.as_deref());
                let describe = wanted.as_deref().filter(|w| {
                    fit_description(current.description.as_deref()).as_deref() != Some(*w)
                });
                if rename.is_some() || describe.is_some() {
                    self.store
                        .update_group(&GroupId(id.clone()), rename, describe)
                        .await
                        .map_err(class("updating a group"))?;
                }
                self.remember(Kind::Group, id, group.external_id.as_ref())?;
                for user in keep_members {
                    self.ownership.keep_member(id, user)?;
                }
                Ok(Applied::default())
            }
            Operation::DeleteGroup { id } => {
                self.store
                    .delete_group(&GroupId(id.clone()))
                    .await
                    .map_err(class("deleting a group"))?;
                self.ownership.remove(Kind::Group, id)?;
                self.ownership.forget_group(id)?;
                Ok(Applied::default())
            }
            Operation::AddMembers { group, users } => {
                for user in users {
                    self.store
                        .add_member(&GroupId(group.clone()), &UserId(user.clone()))
                        .await
                        .map_err(class("adding a group member"))?;
                    // Added by the engine: its own from now on, whatever was kept before.
                    self.ownership.forget_member(group, user)?;
                }
                Ok(Applied::default())
            }
            Operation::RemoveMembers { group, users } => {
                for user in users {
                    self.store
                        .remove_member(&GroupId(group.clone()), &UserId(user.clone()))
                        .await
                        .map_err(class("removing a group member"))?;
                    self.ownership.forget_member(group, user)?;
                }
                Ok(Applied::default())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_access::fake::FakeIdentityStore;

    use super::*;

    fn temp_record() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "identity-store-kept-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("record.jsonl")
    }

    /// A store with users `ada`, `grace` and `alan`, all three in the unowned group
    /// `Engineering`. Returns the group id and the user ids.
    async fn store() -> (Arc<FakeIdentityStore>, String, Vec<String>) {
        let store = Arc::new(FakeIdentityStore::new("d-1234567890"));
        let group = store
            .create_group("Engineering", None, OnConflict::Fail)
            .await
            .unwrap()
            .value
            .id;
        let mut users = Vec::new();
        for (name, given, family) in [
            ("ada", "Ada", "Lovelace"),
            ("grace", "Grace", "Hopper"),
            ("alan", "Alan", "Turing"),
        ] {
            let new = NewUser::new(name, given, family);
            let id = store
                .create_user(&new, OnConflict::Fail)
                .await
                .unwrap()
                .value
                .id;
            store.add_member(&group, &id).await.unwrap();
            users.push(id.0);
        }
        (store, group.0, users)
    }

    fn adopt(group: &str, keep: &[String]) -> Operation<String> {
        let mut desired = Group::new(group, "Engineering");
        desired.external_id = Some(ExternalId::new("identity-provisioning", "jc-g1"));
        Operation::UpdateGroup {
            id: group.to_owned(),
            group: desired,
            keep_members: keep.to_vec(),
        }
    }

    fn kept(group: &str, users: &[&String]) -> BTreeSet<Membership> {
        users
            .iter()
            .map(|u| Membership {
                group_id: group.to_owned(),
                user_id: (*u).clone(),
            })
            .collect()
    }

    #[tokio::test]
    async fn an_adoption_records_the_kept_members_and_reads_report_those_present() {
        let (store, group, users) = store().await;
        let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::in_memory());
        assert!(target.read().await.unwrap().kept_memberships.is_empty());

        target.write(&adopt(&group, &users[1..])).await.unwrap();
        let read = target.read().await.unwrap();
        assert_eq!(read.kept_memberships, kept(&group, &[&users[1], &users[2]]));
        assert_eq!(read.groups[0].external_id.as_ref().unwrap().id, "jc-g1");

        // Someone else removes alan: no longer present, no longer reported.
        store
            .remove_member(&GroupId(group.clone()), &UserId(users[2].clone()))
            .await
            .unwrap();
        assert_eq!(
            target.read().await.unwrap().kept_memberships,
            kept(&group, &[&users[1]])
        );
    }

    #[tokio::test]
    async fn removing_adding_and_deleting_forget_kept_members() {
        let (store, group, users) = store().await;
        let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::in_memory());
        target.write(&adopt(&group, &users)).await.unwrap();

        target
            .write(&Operation::RemoveMembers {
                group: group.clone(),
                users: vec![users[0].clone()],
            })
            .await
            .unwrap();
        // Added back by the engine: its own now, so not kept.
        target
            .write(&Operation::AddMembers {
                group: group.clone(),
                users: vec![users[0].clone()],
            })
            .await
            .unwrap();
        target
            .write(&Operation::DeleteUser {
                id: users[1].clone(),
            })
            .await
            .unwrap();
        assert_eq!(
            target.read().await.unwrap().kept_memberships,
            kept(&group, &[&users[2]])
        );
        assert_eq!(
            target.ownership.kept_members().len(),
            1,
            "forgotten, not hidden"
        );

        target
            .write(&Operation::DeleteGroup { id: group.clone() })
            .await
            .unwrap();
        assert!(target.ownership.kept_members().is_empty());
    }

    #[tokio::test]
    async fn kept_members_survive_dropping_and_reopening_the_target() {
        let (store, group, users) = store().await;
        let path = temp_record();
        let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::open(&path).unwrap());
        target.write(&adopt(&group, &users[..2])).await.unwrap();
        drop(target);

        let reopened =
            IdentityStoreTarget::new(store.clone(), OwnershipRecord::open(&path).unwrap());
        let read = reopened.read().await.unwrap();
        assert_eq!(read.kept_memberships, kept(&group, &[&users[0], &users[1]]));
        assert_eq!(
            read.groups[0].external_id.as_ref().unwrap().id,
            "jc-g1",
            "the group's mark came back from the same file"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[tokio::test]
    async fn a_failed_adoption_records_no_kept_member() {
        let (store, _, users) = store().await;
        let target = IdentityStoreTarget::new(store, OwnershipRecord::in_memory());
        let err = target.write(&adopt("g-missing", &users)).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
        assert!(target.ownership.kept_members().is_empty());
        assert!(target.read().await.unwrap().kept_memberships.is_empty());
    }
}
