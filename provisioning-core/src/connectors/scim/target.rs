//! The SCIM 2.0 target: the engine's writes as SCIM requests, under a [`Profile`].

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::client::{Error, Resource, ScimClient};
use super::filter::{eq, member_path};
use super::profile::{ENTERPRISE_ATTRIBUTES, PULUMI_MAX_GROUP_NAME, Profile};
use super::resources::{
    ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, MultiValue, Name, PatchOp, PatchOperation, ScimGroup,
    ScimUser, USER_SCHEMA,
};
use crate::connector::{Applied, Capabilities, ConnectorError, ErrorClass, Target, TargetReader};
use crate::connectors::ownership::{Kind, OwnershipRecord};
use crate::connectors::records::{Records, read_each};
use crate::mapping::TargetField;
use crate::model::{Email, ExternalId, Group, Hold, Membership, Phone, Snapshot, User};
use crate::plan::Operation;
use crate::util::{fold, spellings};

/// Membership changes per PATCH request (IAM Identity Center's limit).
pub const MAX_MEMBER_CHANGES: usize = 100;

/// A SCIM 2.0 service provider as a [`Target`]. See the [module documentation](super).
#[derive(Debug, Clone)]
pub struct ScimTarget {
    client: ScimClient,
    profile: Profile,
    ownership: Arc<OwnershipRecord>,
}

impl ScimTarget {
    /// A target reached through `client`, following `profile`'s rules. Its ownership
    /// record — the links of profiles that do not store `externalId` (Pulumi), and the
    /// members adopted groups keep (every profile) — lives in memory until
    /// [`with_ownership`](Self::with_ownership) gives it a file.
    ///
    /// ```
    /// use provisioning_core::connectors::scim::{Profile, ScimTarget, client::ScimClient};
    /// let client = ScimClient::builder("http://127.0.0.1:9/v2", "t".into()).build().unwrap();
    /// let target = ScimTarget::new(client, Profile::AwsIdentityCenter);
    /// # let _ = target;
    /// ```
    pub fn new(client: ScimClient, profile: Profile) -> Self {
        Self {
            client,
            profile,
            ownership: Arc::new(OwnershipRecord::in_memory()),
        }
    }

    /// Keeps the target's ownership record in `record`: for every profile, the members
    /// adopted groups keep (the `keep_members` of [`Operation::UpdateGroup`], reported back
    /// in [`Snapshot::kept_memberships`]); where the profile does not store `externalId`
    /// (Pulumi), the ownership links too. Where it does, the mark is read from and written
    /// to `externalId` only, whatever the record holds.
    ///
    /// ```no_run
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// use provisioning_core::connectors::scim::{Profile, ScimTarget, client::ScimClient};
    /// let client = ScimClient::builder("https://api.pulumi.com/scim/v2/acme", "t".into()).build().unwrap();
    /// let record = OwnershipRecord::open("pulumi-acme.ownership.jsonl").unwrap();
    /// let target = ScimTarget::new(client, Profile::Pulumi).with_ownership(record);
    /// # let _ = target;
    /// ```
    #[must_use]
    pub fn with_ownership(mut self, record: OwnershipRecord) -> Self {
        self.ownership = Arc::new(record);
        self
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The mark of an object: its `externalId` where the profile stores one; otherwise the
    /// record's link, or, for an unlinked object, the mark of the create a stopped run made
    /// (its intent, by name).
    fn mark(
        &self,
        kind: Kind,
        id: &str,
        name: &str,
        external_id: Option<&str>,
    ) -> Result<Option<ExternalId>, ConnectorError> {
        if self.profile.stores_external_id() {
            Ok(external_id.map(parse_external_id))
        } else if let Some(mark) = self.ownership.get(kind, id) {
            Ok(Some(mark))
        } else {
            self.ownership.claim(kind, id, name)
        }
    }

    /// The mark to keep in the record (not in the object) for a create.
    fn local_mark<'a>(&self, mark: Option<&'a ExternalId>) -> Option<&'a ExternalId> {
        mark.filter(|_| !self.profile.stores_external_id())
    }

    fn user(&self, scim: ScimUser) -> Result<User, ConnectorError> {
        let id = scim.id.clone().unwrap_or_default();
        let external_id = self.mark(
            Kind::User,
            &id,
            &scim.user_name,
            scim.external_id.as_deref(),
        )?;
        Ok(user_from(scim, id, external_id))
    }

    fn group(&self, scim: &ScimGroup) -> Result<Group, ConnectorError> {
        let id = scim.id.clone().unwrap_or_default();
        Ok(Group {
            external_id: self.mark(
                Kind::Group,
                &id,
                &scim.display_name,
                scim.external_id.as_deref(),
            )?,
            id,
            display_name: scim.display_name.clone(),
            description: None,
        })
    }

    fn external_id_value(&self, mark: Option<&ExternalId>) -> Option<String> {
        mark.filter(|_| self.profile.stores_external_id())
            .map(|m| format!("{}:{}", m.issuer, m.id))
    }

    /// Records the mark locally when the profile does not store it.
    fn remember(
        &self,
        kind: Kind,
        id: &str,
        mark: Option<&ExternalId>,
    ) -> Result<(), ConnectorError> {
        match mark {
            Some(mark) if !self.profile.stores_external_id() => {
                self.ownership.set(kind, id, mark.clone())
            }
            _ => Ok(()),
        }
    }

    fn new_user(&self, user: &User) -> Result<ScimUser, ConnectorError> {
        let mut scim = ScimUser {
            schemas: vec![USER_SCHEMA.to_owned()],
            external_id: self.external_id_value(user.external_id.as_ref()),
            user_name: user.user_name.clone(),
            display_name: user.display_name.clone().or_else(|| full_name(user)),
            emails: user
                .primary_email()
                .map(|e| MultiValue::primary(e, "work"))
                .into_iter()
                .collect(),
            active: Some(user.active),
            ..ScimUser::default()
        };
        if user.given_name.is_some() || user.family_name.is_some() {
            scim.name = Some(Name {
                given_name: user.given_name.clone(),
                family_name: user.family_name.clone(),
                ..Name::default()
            });
        }
        if let Some(phone) = user.phone_numbers.first() {
            self.check(&TargetField::Phone)?;
            scim.phone_numbers = vec![MultiValue {
                value: phone.value.clone(),
                kind: Some(phone.kind.clone().unwrap_or_else(|| "work".into())),
                ..MultiValue::default()
            }];
        }
        let mut enterprise = Map::new();
        for (name, value) in &user.attributes {
            self.check(&TargetField::Attribute(name.clone()))?;
            enterprise.insert(name.clone(), Value::String(value.clone()));
        }
        if !enterprise.is_empty() {
            scim.schemas.push(ENTERPRISE_USER_SCHEMA.to_owned());
            scim.enterprise = Some(enterprise);
        }
        Ok(scim)
    }

    /// Refuses a mapped attribute the profile cannot store, naming the fix.
    fn check(&self, field: &TargetField) -> Result<(), ConnectorError> {
        if self.profile.supports(field) {
            return Ok(());
        }
        Err(ConnectorError::new(
            ErrorClass::Invalid,
            format!(
                "the SCIM profile {} does not store {}; remove it from the attribute mapping{}",
                self.profile.name(),
                field_path(field),
                if matches!(field, TargetField::Attribute(_)) {
                    format!(
                        " (SCIM targets store the Enterprise User attributes {})",
                        ENTERPRISE_ATTRIBUTES.join(", ")
                    )
                } else {
                    String::new()
                }
            ),
        ))
    }

    fn user_patch(
        &self,
        user: &User,
        fields: &[TargetField],
    ) -> Result<Vec<PatchOperation>, ConnectorError> {
        let mut ops = Vec::new();
        for field in fields {
            self.check(field)?;
            let path = field_path(field);
            let value = match field {
                TargetField::UserName => Some(json!(user.user_name)),
                TargetField::DisplayName => user.display_name.clone().map(Value::String),
                TargetField::GivenName => user.given_name.clone().map(Value::String),
                TargetField::FamilyName => user.family_name.clone().map(Value::String),
                TargetField::Email => user
                    .primary_email()
                    .map(|e| json!([MultiValue::primary(e, "work")])),
                TargetField::Phone => user.phone_numbers.first().map(
                    |p| json!([{"value": p.value, "type": p.kind.as_deref().unwrap_or("work")}]),
                ),
                TargetField::Active => Some(json!(user.active)),
                TargetField::Attribute(name) => user.attributes.get(name).map(|v| json!(v)),
            };
            ops.push(match value {
                Some(value) => PatchOperation::replace(path, value),
                None => PatchOperation::remove(path),
            });
        }
        if let Some(value) = self.external_id_value(user.external_id.as_ref()) {
            ops.push(PatchOperation::replace("externalId", json!(value)));
        }
        Ok(ops)
    }

    /// The members of groups, from the group resources or, where the target does not list
    /// them, one `/Users` filter per group.
    async fn memberships(
        &self,
        groups: &[ScimGroup],
        users: &BTreeSet<&str>,
    ) -> Result<BTreeSet<Membership>, ConnectorError> {
        let mut memberships = BTreeSet::new();
        for group in groups {
            let Some(group_id) = group.id.as_deref() else {
                continue;
            };
            let mut members: Vec<String> = group
                .members
                .iter()
                .filter(|m| {
                    m.kind
                        .as_deref()
                        .is_none_or(|k| k.eq_ignore_ascii_case("user"))
                })
                .map(|m| m.value.clone())
                .collect();
            if members.is_empty() && self.profile.members_need_lookup() {
                // Only the ids are needed: a member whose record is unreadable still counts.
                let found = self
                    .client
                    .list_values(
                        Resource::Users,
                        Some(&eq("groups.value", group_id)),
                        self.profile.user_paging(),
                    )
                    .await
                    .map_err(connector_error("listing the members of a group"))?;
                members = found
                    .iter()
                    .filter_map(|u| u["id"].as_str().map(str::to_owned))
                    .collect();
            }
            for user_id in members {
                if users.contains(user_id.as_str()) {
                    memberships.insert(Membership {
                        group_id: group_id.to_owned(),
                        user_id,
                    });
                }
            }
        }
        Ok(memberships)
    }

    /// Adds or removes members, a chunk per PATCH. Each membership a PATCH changed is no
    /// longer kept: one the engine removes is gone, one it adds is its own.
    async fn patch_members(
        &self,
        group: &str,
        users: &[String],
        op: impl Fn(&[String]) -> Vec<PatchOperation>,
    ) -> Result<Applied, ConnectorError> {
        for chunk in users.chunks(MAX_MEMBER_CHANGES) {
            self.client
                .patch(Resource::Groups, group, &PatchOp::new(op(chunk)))
                .await
                .map_err(connector_error("changing group members"))?;
            for user in chunk {
                self.ownership.forget_member(group, user)?;
            }
        }
        Ok(Applied::default())
    }
}

#[async_trait]
impl TargetReader for ScimTarget {
    fn capabilities(&self) -> Capabilities {
        self.profile.capabilities()
    }

    async fn read(&self) -> Result<Snapshot, ConnectorError> {
        let users: Records<ScimUser> = read_each(
            self.client
                .list_values(Resource::Users, None, self.profile.user_paging())
                .await
                .map_err(connector_error("listing users"))?,
            "SCIM: listing users",
        )?;
        let groups: Records<ScimGroup> = read_each(
            self.client
                .list_values(Resource::Groups, None, self.profile.group_paging())
                .await
                .map_err(connector_error("listing groups"))?,
            "SCIM: listing groups",
        )?;
        let user_ids: BTreeSet<&str> = users
            .items
            .iter()
            .filter_map(|u| u.id.as_deref())
            .chain(users.unreadable.iter().map(|u| u.id.as_str()))
            .collect();
        let memberships = self.memberships(&groups.items, &user_ids).await?;
        let kept_memberships = self.ownership.kept_among(&memberships);
        // A complete read: the intents it does not answer are creates that never happened.
        // An unreadable record may be one of them: its kind's intents wait for a read that
        // can tell.
        if users.unreadable.is_empty() {
            let names = users.items.iter().map(|u| u.user_name.as_str());
            self.ownership.settle_unclaimed(Kind::User, names)?;
        }
        if groups.unreadable.is_empty() {
            let names = groups.items.iter().map(|g| g.display_name.as_str());
            self.ownership.settle_unclaimed(Kind::Group, names)?;
        }
        // An unreadable user is held by its id (never changed, deprovisioned or removed from
        // a group); an unreadable group is left out, so nothing is planned for it or its
        // members.
        let held = users.unreadable.into_iter().map(|u| {
            let mut user = User::new(u.id.clone(), u.id.clone());
            user.external_id = self.ownership.get(Kind::User, &u.id);
            user.hold = Some(Hold::Unreadable { reason: u.reason });
            user
        });
        Ok(Snapshot {
            groups: groups
                .items
                .iter()
                .map(|g| self.group(g))
                .collect::<Result<_, _>>()?,
            users: users
                .items
                .into_iter()
                .map(|u| self.user(u))
                .chain(held.map(Ok))
                .collect::<Result<_, _>>()?,
            memberships,
            groups_out_of_scope: BTreeSet::new(),
            kept_memberships,
            ..Snapshot::default()
        })
    }

    /// `userName eq "…"` for the name as given, then for its other Unicode normalisation
    /// form if it differs (a server comparing bytes finds an NFD name only by its NFD
    /// spelling). `userName` is `caseExact = false` (RFC 7643 §4.1.1), so servers should
    /// match case variants, but they differ: whatever a server returns is compared
    /// client-side with the engine's folding, and a candidate whose folded name differs is
    /// never returned.
    async fn find_user(&self, user_name: &str) -> Result<Option<User>, ConnectorError> {
        let wanted = fold(user_name);
        for spelling in spellings(user_name) {
            let found: Vec<ScimUser> = self
                .client
                .list(
                    Resource::Users,
                    Some(&eq("userName", &spelling)),
                    self.profile.user_paging(),
                )
                .await
                .map_err(connector_error("looking up a user by userName"))?;
            if let Some(user) = found.into_iter().find(|u| fold(&u.user_name) == wanted) {
                return self.user(user).map(Some);
            }
        }
        Ok(None)
    }

    /// As [`find_user`](Self::find_user), by `displayName` (also `caseExact = false`).
    async fn find_group(&self, display_name: &str) -> Result<Option<Group>, ConnectorError> {
        let wanted = fold(display_name);
        for spelling in spellings(display_name) {
            let found: Vec<ScimGroup> = self
                .client
                .list(
                    Resource::Groups,
                    Some(&eq("displayName", &spelling)),
                    self.profile.group_paging(),
                )
                .await
                .map_err(connector_error("looking up a group by displayName"))?;
            if let Some(group) = found.iter().find(|g| fold(&g.display_name) == wanted) {
                return self.group(group).map(Some);
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl Target for ScimTarget {
    async fn write(&self, operation: &Operation<String>) -> Result<Applied, ConnectorError> {
        match operation {
            Operation::CreateUser { user, .. } => {
                let body = self.new_user(user)?;
                let id = self
                    .ownership
                    .created(
                        Kind::User,
                        &user.user_name,
                        self.local_mark(user.external_id.as_ref()),
                        async {
                            let created = self
                                .client
                                .create(Resource::Users, &body)
                                .await
                                .map_err(connector_error("creating a user"))?;
                            created.id.ok_or_else(missing_id)
                        },
                    )
                    .await?;
                Ok(Applied {
                    created_id: Some(id),
                })
            }
            Operation::UpdateUser { id, user, fields } => {
                let ops = self.user_patch(user, fields)?;
                if !ops.is_empty() {
                    self.client
                        .patch(Resource::Users, id, &PatchOp::new(ops))
                        .await
                        .map_err(connector_error("updating a user"))?;
                }
                self.remember(Kind::User, id, user.external_id.as_ref())?;
                Ok(Applied::default())
            }
            Operation::DeactivateUser { id } => {
                let ops = vec![PatchOperation::replace("active", json!(false))];
                self.client
                    .patch(Resource::Users, id, &PatchOp::new(ops))
                    .await
                    .map_err(connector_error("deactivating a user"))?;
                Ok(Applied::default())
            }
            Operation::DeleteUser { id } => {
                if !self.capabilities().can_delete_users {
                    return Err(ConnectorError::new(
                        ErrorClass::Invalid,
                        format!(
                            "the SCIM profile {} cannot delete users; deprovision by deactivating",
                            self.profile.name()
                        ),
                    ));
                }
                self.client
                    .delete(Resource::Users, id)
                    .await
                    .map_err(connector_error("deleting a user"))?;
                self.ownership.remove(Kind::User, id)?;
                self.ownership.forget_user(id)?;
                Ok(Applied::default())
            }
            Operation::CreateGroup { group, .. } => {
                self.check_group_name(&group.display_name)?;
                let body = ScimGroup {
                    schemas: vec![GROUP_SCHEMA.to_owned()],
                    external_id: self.external_id_value(group.external_id.as_ref()),
                    display_name: group.display_name.clone(),
                    ..ScimGroup::default()
                };
                let id = self
                    .ownership
                    .created(
                        Kind::Group,
                        &group.display_name,
                        self.local_mark(group.external_id.as_ref()),
                        async {
                            let created = self
                                .client
                                .create(Resource::Groups, &body)
                                .await
                                .map_err(connector_error("creating a group"))?;
                            created.id.ok_or_else(missing_id)
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
                self.check_group_name(&group.display_name)?;
                let mut ops = vec![PatchOperation::replace(
                    "displayName",
                    json!(group.display_name),
                )];
                if let Some(value) = self.external_id_value(group.external_id.as_ref()) {
                    ops.push(PatchOperation::replace("externalId", json!(value)));
                }
                self.client
                    .patch(Resource::Groups, id, &PatchOp::new(ops))
                    .await
                    .map_err(connector_error("updating a group"))?;
                self.remember(Kind::Group, id, group.external_id.as_ref())?;
                for user in keep_members {
                    self.ownership.keep_member(id, user)?;
                }
                Ok(Applied::default())
            }
            Operation::DeleteGroup { id } => {
                self.client
                    .delete(Resource::Groups, id)
                    .await
                    .map_err(connector_error("deleting a group"))?;
                self.ownership.remove(Kind::Group, id)?;
                self.ownership.forget_group(id)?;
                Ok(Applied::default())
            }
            Operation::AddMembers { group, users } => {
                self.patch_members(group, users, |chunk| {
                    let values: Vec<Value> = chunk.iter().map(|id| json!({"value": id})).collect();
                    vec![PatchOperation::add("members", Value::Array(values))]
                })
                .await
            }
            Operation::RemoveMembers { group, users } => {
                self.patch_members(group, users, |chunk| {
                    chunk
                        .iter()
                        .map(|id| PatchOperation::remove(member_path(id)))
                        .collect()
                })
                .await
            }
        }
    }
}

impl ScimTarget {
    fn check_group_name(&self, name: &str) -> Result<(), ConnectorError> {
        if self.profile == Profile::Pulumi && name.chars().count() > PULUMI_MAX_GROUP_NAME {
            return Err(ConnectorError::new(
                ErrorClass::Invalid,
                format!(
                    "the group name {name:?} is longer than Pulumi's {PULUMI_MAX_GROUP_NAME} characters; rename it at the source or exclude it"
                ),
            ));
        }
        Ok(())
    }
}

fn missing_id() -> ConnectorError {
    ConnectorError::new(
        ErrorClass::Fatal,
        "the SCIM server answered a create without an id; the object may exist: re-plan before retrying",
    )
}

/// The `externalId` the engine writes is `issuer:id`; a value without a colon was written by
/// someone else.
///
/// Split at the **last** colon: issuers derived from the source contain one
/// (`jumpcloud:<org id>`, `okta:<host>`), source ids never do — JumpCloud ids are 24
/// hexadecimal digits (MongoDB ObjectIds) and Okta ids are 20 letters and digits
/// (`00u1abcd…`). So `jumpcloud:5f3a:abc123` is issuer `jumpcloud:5f3a`, id `abc123`, and a
/// mark of the old single-word default (`identity-provisioning:abc123`) still reads as it
/// was written.
fn parse_external_id(value: &str) -> ExternalId {
    match value.rsplit_once(':') {
        Some((issuer, id)) if !issuer.is_empty() => ExternalId::new(issuer, id),
        _ => ExternalId::new("unknown", value),
    }
}

fn full_name(user: &User) -> Option<String> {
    match (&user.given_name, &user.family_name) {
        (Some(given), Some(family)) => Some(format!("{given} {family}")),
        _ => None,
    }
}

fn field_path(field: &TargetField) -> String {
    match field {
        TargetField::UserName => "userName".into(),
        TargetField::DisplayName => "displayName".into(),
        TargetField::GivenName => "name.givenName".into(),
        TargetField::FamilyName => "name.familyName".into(),
        TargetField::Email => "emails".into(),
        TargetField::Phone => "phoneNumbers".into(),
        TargetField::Active => "active".into(),
        TargetField::Attribute(name) => format!("{ENTERPRISE_USER_SCHEMA}:{name}"),
    }
}

/// A SCIM user as an engine user.
fn user_from(scim: ScimUser, id: String, external_id: Option<ExternalId>) -> User {
    let mut user = User::new(id, scim.user_name);
    if let Some(name) = scim.name {
        user.given_name = name.given_name;
        user.family_name = name.family_name;
    }
    user.display_name = scim.display_name;
    user.emails = scim
        .emails
        .into_iter()
        .map(|e| Email {
            value: e.value,
            kind: e.kind,
            primary: e.primary.unwrap_or(false),
        })
        .collect();
    user.phone_numbers = scim
        .phone_numbers
        .into_iter()
        .map(|p| Phone {
            value: p.value,
            kind: p.kind,
        })
        .collect();
    user.active = scim.active.unwrap_or(true);
    user.external_id = external_id;
    for (name, value) in scim.enterprise.unwrap_or_default() {
        if let Value::String(text) = value {
            user.attributes.insert(name, text);
        }
    }
    user
}

/// Maps a SCIM client error to the engine's classes, saying what was being done.
fn connector_error(doing: &'static str) -> impl Fn(Error) -> ConnectorError {
    move |err| {
        ConnectorError::new(err.class(), format!("SCIM: {doing}"))
            .with_retry_after(err.retry_after())
            .with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_written_by_others_are_not_ours() {
        assert_eq!(
            parse_external_id("identity-provisioning:5f0c"),
            ExternalId::new("identity-provisioning", "5f0c")
        );
        assert_eq!(
            parse_external_id("00u1abcd"),
            ExternalId::new("unknown", "00u1abcd")
        );
    }

    #[test]
    fn an_issuer_with_a_colon_reads_back_as_written() {
        let mark = ExternalId::new(
            "jumpcloud:5f3a1b2c3d4e5f6a7b8c9d0e",
            "5f0c1b2e3d4a5b6c7d8e9f01",
        );
        let written = format!("{}:{}", mark.issuer, mark.id);
        assert_eq!(parse_external_id(&written), mark);
        assert_eq!(
            parse_external_id("jumpcloud:5f3a:abc123"),
            ExternalId::new("jumpcloud:5f3a", "abc123")
        );
        assert_eq!(
            parse_external_id("okta:example.okta.com:00u1abcd2EFGH3ijk4x7"),
            ExternalId::new("okta:example.okta.com", "00u1abcd2EFGH3ijk4x7")
        );
        // Marks written under the old default still read as ours under it.
        assert_eq!(
            parse_external_id("identity-provisioning:abc123"),
            ExternalId::new("identity-provisioning", "abc123")
        );
    }
}
