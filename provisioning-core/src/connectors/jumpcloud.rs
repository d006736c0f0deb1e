//! JumpCloud as a source: users, groups and memberships, scoped to the user groups bound to
//! one JumpCloud application (what the SSO connectors of seed workflows 002 and 003 sync), to
//! named groups, or to everything.
//!
//! Reads cost the list calls the page sizes require: every group once, every user once, and
//! each scoped group's members — never a call per user.
//!
//! A group the engine synced earlier that a read no longer returns is deleted at the target
//! only when [`Source::confirm_gone`] confirms it: `GET /v2/usergroups/{id}` answers 404. Any
//! other answer keeps it (it has only left the configured scope).
//!
//! | JumpCloud | engine |
//! |---|---|
//! | `username` | `user_name` |
//! | `firstname`, `lastname`, `displayname` | `given_name`, `family_name`, `display_name` |
//! | `email` | the one primary `work` email |
//! | `phoneNumbers[{type, number}]` | `phone_numbers` (the mapping keeps one, the work one by default) |
//! | `state` `ACTIVATED` | `active = true` |
//! | `state` `SUSPENDED` | `active = false` (deactivated at the target) |
//! | `state` `STAGED` (created, not yet activated) | held: [`Hold::Staged`] (not created at the target; an existing twin is left as it is) |
//! | any other `state` (`"PENDING_REVIEW"`, …) | held: [`Hold::UnknownState`] naming the value (the user and its twin are skipped) |
//! | no `state`: `suspended: true` / `activated: false` / neither | `active = false` / [`Hold::Staged`] / `active = true` |
//!
//! | `attributes[{name, value}]` and `department`, `costCenter`, `company`, `jobTitle`, `employeeIdentifier`, `employeeType`, `location` | `attributes` |
//!
//! A held user keeps `active = true`: the planner acts on the hold, never on `active`, so a
//! state the engine does not know can never read as "inactive".
//!
//! Records JumpCloud sends that cannot be read are never taken for absent ones (an absent
//! user is deprovisioned, an absent member removed):
//!
//! | unreadable record | read as |
//! |---|---|
//! | a user, with an id | held: [`Hold::Unreadable`] (its target twin is left as it is) |
//! | a group, with an id | out of scope: left as it is at the target |
//! | a member or association edge naming its user or group | the membership or binding it names |
//! | any record without an id | the read fails, naming the list: nothing is planned from it |
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use provisioning_core::connector::Source;
//! use provisioning_core::connectors::jumpcloud::JumpCloudSource;
//! use provisioning_core::model::Scope;
//!
//! let source = JumpCloudSource::new(jumpcloud_api::Client::from_env()?);
//! let snapshot = source.read(&Scope::Application("AWS SSO".into())).await?;
//! println!("{} users in {} groups", snapshot.users.len(), snapshot.groups.len());
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use futures::{FutureExt, StreamExt, TryStreamExt};
use jumpcloud_api::Skipped;
use jumpcloud_api::ids::{ApplicationId, GroupId};
use jumpcloud_api::models::{SystemUser, UserGroup, UserState};
use jumpcloud_api::v2::AssociationTarget;

use crate::connector::{ConnectorError, ErrorClass, Source};
use crate::connectors::confirm_gone_by_lookup;
use crate::model::{Email, Group, Hold, Membership, Phone, Scope, Snapshot, User};

/// Groups whose member lists are read at once.
const MEMBER_READS_IN_FLIGHT: usize = 4;

/// User fields copied into [`User::attributes`] when JumpCloud sends them.
pub const COPIED_FIELDS: [&str; 7] = [
    "department",
    "costCenter",
    "company",
    "jobTitle",
    "employeeIdentifier",
    "employeeType",
    "location",
];

/// JumpCloud as a [`Source`]. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct JumpCloudSource {
    client: jumpcloud_api::Client,
}

impl JumpCloudSource {
    /// A source reading through `client`.
    ///
    /// ```no_run
    /// # fn run() -> jumpcloud_api::Result<()> {
    /// let source = provisioning_core::connectors::jumpcloud::JumpCloudSource::new(jumpcloud_api::Client::from_env()?);
    /// # let _ = source;
    /// # Ok(()) }
    /// ```
    pub fn new(client: jumpcloud_api::Client) -> Self {
        Self { client }
    }

    /// The application `key` names: its id, or its display label (exactly one must match).
    pub(crate) async fn application(&self, key: &str) -> Result<ApplicationId, ConnectorError> {
        let apps = self
            .client
            .applications()
            .list()
            .all()
            .await
            .map_err(class("listing applications"))?;
        if let Some(app) = apps.iter().find(|a| a.id.as_str() == key) {
            return Ok(app.id.clone());
        }
        let labelled: Vec<_> = apps
            .iter()
            .filter(|a| a.display_label.as_deref() == Some(key))
            .collect();
        match labelled[..] {
            [one] => Ok(one.id.clone()),
            [] => Err(ConnectorError::new(
                ErrorClass::Invalid,
                format!(
                    "no JumpCloud application has the id or label {key:?}; check the scope in the configuration"
                ),
            )),
            _ => Err(ConnectorError::new(
                ErrorClass::Invalid,
                format!(
                    "{} JumpCloud applications are labelled {key:?}; name the application by its id",
                    labelled.len()
                ),
            )),
        }
    }

    /// The ids of the groups in `scope`, from all `groups`.
    async fn scoped_group_ids(
        &self,
        scope: &Scope,
        groups: &BTreeMap<GroupId, UserGroup>,
    ) -> Result<BTreeSet<GroupId>, ConnectorError> {
        match scope {
            Scope::All => Ok(groups.keys().cloned().collect()),
            Scope::Application(key) => {
                let app = self.application(key).await?;
                let what = "listing the application's group associations";
                let edges = self
                    .client
                    .applications()
                    .associations(&app, AssociationTarget::UserGroup)
                    .listing()
                    .await
                    .map_err(class(what))?;
                let unreadable = edge_targets(&edges.skipped, "user_group", what)?;
                // A binding to a group that no longer exists is ignored.
                Ok(edges
                    .items
                    .into_iter()
                    .map(|e| e.to.id)
                    .chain(unreadable)
                    .map(GroupId)
                    .filter(|g| groups.contains_key(g))
                    .collect())
            }
            Scope::Groups(names) => names
                .iter()
                .map(|name| {
                    groups
                        .values()
                        .find(|g| &g.name == name)
                        .map(|g| g.id.clone())
                        .ok_or_else(|| {
                            ConnectorError::new(
                                ErrorClass::Invalid,
                                format!("no JumpCloud user group is named {name:?}"),
                            )
                        })
                })
                .collect(),
        }
    }
}

/// Maps a client error to the engine's classes, saying what was being done.
pub(crate) fn class(
    doing: impl std::fmt::Display,
) -> impl Fn(jumpcloud_api::Error) -> ConnectorError {
    move |err| {
        let class = match err.status() {
            _ if err.is_rate_limited() => ErrorClass::RateLimited,
            _ if err.is_retryable() => ErrorClass::Transient,
            Some(404) => ErrorClass::NotFound,
            Some(409) => ErrorClass::Conflict,
            Some(401 | 403) => ErrorClass::Denied,
            Some(400 | 422) => ErrorClass::Invalid,
            _ => ErrorClass::Fatal,
        };
        let hint = if class == ErrorClass::Denied {
            " (check JUMPCLOUD_API_KEY and JUMPCLOUD_ORG_ID)"
        } else {
            ""
        };
        ConnectorError::new(class, format!("JumpCloud: {doing}{hint}"))
            .with_retry_after(err.retry_after())
            .with_source(err)
    }
}

fn text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JumpCloud user as an engine user. The state maps as the
/// [module documentation](self) tables: `SUSPENDED` is inactive, `STAGED` and unknown states
/// are held (see [`User::hold`]).
///
/// ```
/// use jumpcloud_api::models::SystemUser;
/// use provisioning_core::connectors::jumpcloud::user_from;
/// use provisioning_core::model::Hold;
///
/// let jc: SystemUser = serde_json::from_str(
///     r#"{"_id":"5f0c","username":"ada","email":"ada@example.com","firstname":"Ada","lastname":"Lovelace","state":"SUSPENDED","department":"R&D"}"#,
/// ).unwrap();
/// let user = user_from(&jc);
/// assert_eq!(user.primary_email(), Some("ada@example.com"));
/// assert!(!user.active);
/// assert_eq!(user.hold, None);
/// assert_eq!(user.attributes["department"], "R&D");
///
/// let jc: SystemUser = serde_json::from_str(r#"{"_id":"5f0d","username":"bob","state":"PENDING_REVIEW"}"#).unwrap();
/// assert_eq!(user_from(&jc).hold, Some(Hold::UnknownState { value: "PENDING_REVIEW".into() }));
/// ```
pub fn user_from(u: &SystemUser) -> User {
    let mut user = User::new(u.id.as_str(), &u.username);
    user.given_name = u.firstname.clone().filter(|s| !s.trim().is_empty());
    user.family_name = u.lastname.clone().filter(|s| !s.trim().is_empty());
    user.display_name = u.displayname.clone().filter(|s| !s.trim().is_empty());
    user.emails = u
        .email
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(Email::primary_work)
        .collect();
    user.phone_numbers = u
        .phone_numbers
        .iter()
        .filter_map(|p| {
            Some(Phone {
                value: p.number.clone()?,
                kind: p.kind.clone(),
            })
        })
        .collect();
    match &u.state {
        Some(UserState::Activated) => user.active = true,
        Some(UserState::Suspended) => user.active = false,
        Some(UserState::Staged) => user.hold = Some(Hold::Staged),
        Some(UserState::Unknown(value)) => {
            user.hold = Some(Hold::UnknownState {
                value: value.clone(),
            });
        }
        // Older records carry only the booleans.
        None if u.suspended == Some(true) => user.active = false,
        None if u.activated == Some(false) => user.hold = Some(Hold::Staged),
        None => user.active = true,
    }
    for field in COPIED_FIELDS {
        if let Some(value) = u.extra.get(field).and_then(text) {
            user.attributes.insert(field.to_owned(), value);
        }
    }
    for attribute in &u.attributes {
        user.attributes
            .insert(attribute.name.clone(), attribute.value.clone());
    }
    user
}

/// Whether `id` can be a JumpCloud object id, and so travel in a path unchanged.
fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[async_trait]
impl Source for JumpCloudSource {
    /// Looks each group up by id (`GET /v2/usergroups/{id}`, a few at a time): a 404 confirms
    /// it is gone, a group answer keeps it. An id that cannot be a JumpCloud id (anything but
    /// letters, digits, `-` and `_`) is not sent and not confirmed.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::collections::BTreeSet;
    /// use provisioning_core::connector::Source;
    /// use provisioning_core::connectors::jumpcloud::JumpCloudSource;
    ///
    /// let source = JumpCloudSource::new(jumpcloud_api::Client::from_env()?);
    /// let asked = BTreeSet::from(["5f0c1b2e3d4a5b6c7d8e9f01".to_string()]);
    /// let gone = source.confirm_gone(&asked).await?;
    /// println!("{} of {} deleted at JumpCloud", gone.len(), asked.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Any failure of a lookup other than a 404 (after the client's retries), classified
    /// like the reads; the sync stops before planning.
    async fn confirm_gone(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, ConnectorError> {
        let mut plain = Vec::new();
        for id in ids {
            if is_plain_id(id) {
                plain.push(id.clone());
            } else {
                tracing::warn!(
                    group = id.as_str(),
                    "not a JumpCloud group id; not looked up, so not deleted"
                );
            }
        }
        let client = &self.client;
        confirm_gone_by_lookup(plain, |id| async move {
            match client.user_groups().get(&GroupId(id.clone())).await {
                Ok(_) => Ok(false),
                Err(err) if err.is_not_found() => Ok(true),
                Err(err) => Err(class(format!(
                    "looking up user group {id} to learn whether it was deleted \
                     (nothing is deleted until every lookup answers)"
                ))(err)),
            }
        })
        .await
    }

    async fn read(&self, scope: &Scope) -> Result<Snapshot, ConnectorError> {
        // The users are listed while the groups, the scope and the member lists are read:
        // neither depends on the other, and the slower chain sets the read's wall time.
        let groups_side = async {
            let what = "listing user groups";
            let group_list = self
                .client
                .user_groups()
                .list()
                .listing()
                .await
                .map_err(class(what))?;
            // An unreadable group is left as it is: out of scope, never deleted.
            let unreadable_groups = record_ids(&group_list.skipped, what)?;
            let groups: BTreeMap<GroupId, UserGroup> = group_list
                .items
                .into_iter()
                .map(|g| (g.id.clone(), g))
                .collect();
            let in_scope = self.scoped_group_ids(scope, &groups).await?;

            // A few groups' member lists in flight at once: JumpCloud publishes no rate limit,
            // and the client waits out a 429 with backoff, so stay modest.
            let client = &self.client;
            let member_lists: Vec<(GroupId, jumpcloud_api::Listing<_>)> =
                futures::stream::iter(in_scope.iter().cloned())
                    .map(|group| {
                        async move {
                            let members = client.user_groups().members(&group).listing().await;
                            members.map(|members| (group, members))
                        }
                        .boxed()
                    })
                    .buffered(MEMBER_READS_IN_FLIGHT)
                    .try_collect()
                    .await
                    .map_err(class("listing group members"))?;
            let mut memberships = BTreeSet::new();
            for (group, members) in member_lists {
                let what = format!("listing the members of user group {}", group.0);
                let unreadable = edge_targets(&members.skipped, "user", &what)?;
                let readable = members
                    .items
                    .into_iter()
                    .filter(|e| e.to.kind == "user")
                    .map(|e| e.to.id);
                for user_id in readable.chain(unreadable) {
                    memberships.insert(Membership {
                        group_id: group.0.clone(),
                        user_id,
                    });
                }
            }
            Ok::<_, ConnectorError>((groups, in_scope, unreadable_groups, memberships))
        };
        let users_side = async {
            let what = "listing users";
            let user_list = self
                .client
                .users()
                .list()
                .listing()
                .await
                .map_err(class(what))?;
            Ok::<_, ConnectorError>(user_list)
        };
        let ((groups, in_scope, unreadable_groups, memberships), user_list) =
            futures::try_join!(groups_side, users_side)?;
        let members: BTreeSet<&str> = memberships.iter().map(|m| m.user_id.as_str()).collect();
        let what = "listing users";
        let unreadable_users = user_list
            .skipped
            .iter()
            .zip(record_ids(&user_list.skipped, what)?)
            .map(|(skipped, id)| {
                // Its name is unknown: the id names it in the plan's skips.
                let mut user = User::new(id.clone(), id);
                user.hold = Some(Hold::Unreadable {
                    reason: skipped.reason.clone(),
                });
                user
            });
        let users = user_list
            .items
            .iter()
            .map(user_from)
            .chain(unreadable_users)
            .filter(|u| matches!(scope, Scope::All) || members.contains(u.id.as_str()))
            .collect::<Vec<_>>();
        // A membership of a user that no longer exists is dropped, not synced.
        let known: BTreeSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
        let memberships = memberships
            .iter()
            .filter(|m| known.contains(m.user_id.as_str()))
            .cloned()
            .collect();

        Ok(Snapshot {
            users,
            groups: in_scope
                .iter()
                .filter_map(|id| groups.get(id))
                .map(|g| Group {
                    id: g.id.0.clone(),
                    display_name: g.name.clone(),
                    // JumpCloud sends "" for a group without one.
                    description: crate::util::non_blank(g.description.clone()),
                    external_id: None,
                })
                .collect(),
            memberships,
            groups_out_of_scope: groups
                .keys()
                .filter(|id| !in_scope.contains(*id))
                .map(|id| id.0.clone())
                .chain(unreadable_groups)
                .collect(),
            ..Snapshot::default()
        })
    }
}

/// The ids of records a list could not read; one without an id fails the read, as nothing
/// can be said of what it was.
fn record_ids(skipped: &[Skipped], what: &str) -> Result<Vec<String>, ConnectorError> {
    skipped
        .iter()
        .map(|s| s.id.clone().ok_or_else(|| unreadable(s, what)))
        .collect()
}

/// The ids of the `kind` objects unreadable edges point to (`kind:id`); an edge naming
/// nothing fails the read, as a membership or binding may be missing.
fn edge_targets(
    skipped: &[Skipped],
    kind: &str,
    what: &str,
) -> Result<Vec<String>, ConnectorError> {
    let mut ids = Vec::new();
    for s in skipped {
        let target = s.id.as_deref().and_then(|id| id.split_once(':'));
        match target {
            Some((k, id)) if k == kind && !id.is_empty() => ids.push(id.to_owned()),
            Some((_, id)) if !id.is_empty() => {}
            _ => return Err(unreadable(s, what)),
        }
    }
    Ok(ids)
}

fn unreadable(skipped: &Skipped, what: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorClass::Fatal,
        format!(
            "{what}: JumpCloud sent a {skipped} that names no object, so the list may be \
             missing one; nothing was planned (check the object in the JumpCloud console, \
             or try again later)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jc(json: serde_json::Value) -> SystemUser {
        serde_json::from_value(json).unwrap()
    }

    fn with_state(state: &str) -> User {
        user_from(&jc(
            serde_json::json!({"_id": "u1", "username": "ada", "state": state}),
        ))
    }

    #[test]
    fn activated_is_active() {
        let user = with_state("ACTIVATED");
        assert!(user.active);
        assert_eq!(user.hold, None);
    }

    #[test]
    fn suspended_is_inactive() {
        let user = with_state("SUSPENDED");
        assert!(!user.active);
        assert_eq!(user.hold, None);
    }

    #[test]
    fn staged_is_held_not_inactive() {
        let user = with_state("STAGED");
        assert_eq!(user.hold, Some(Hold::Staged));
        assert!(user.active, "a held user must never read as inactive");
    }

    #[test]
    fn an_unknown_state_is_held_with_its_value() {
        let user = with_state("PENDING_REVIEW");
        assert_eq!(
            user.hold,
            Some(Hold::UnknownState {
                value: "PENDING_REVIEW".into()
            })
        );
        assert!(user.active, "an unknown state must never read as inactive");
    }

    #[test]
    fn without_a_state_the_booleans_decide() {
        let user = |extra: serde_json::Value| {
            let mut json = serde_json::json!({"_id": "u1", "username": "ada"});
            json.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            user_from(&jc(json))
        };
        let suspended = user(serde_json::json!({"suspended": true, "activated": true}));
        assert!(!suspended.active);
        assert_eq!(suspended.hold, None);
        // Suspended wins over not-yet-activated: the person may not sign in either way.
        let both = user(serde_json::json!({"suspended": true, "activated": false}));
        assert!(!both.active);
        assert_eq!(both.hold, None);
        let staged = user(serde_json::json!({"suspended": false, "activated": false}));
        assert_eq!(staged.hold, Some(Hold::Staged));
        let active = user(serde_json::json!({"activated": true}));
        assert!(active.active);
        assert_eq!(active.hold, None);
        let bare = user(serde_json::json!({}));
        assert!(bare.active);
        assert_eq!(bare.hold, None);
    }

    #[test]
    fn only_plain_ids_are_looked_up() {
        assert!(is_plain_id("5f0c1b2e3d4a5b6c7d8e9f01"));
        assert!(is_plain_id("group_1-a"));
        for id in ["", "g1/members", "../systemusers", "g1?x=1", "g%2F1", "g 1"] {
            assert!(!is_plain_id(id), "{id:?}");
        }
    }

    #[test]
    fn the_state_wins_over_the_booleans() {
        let user = user_from(&jc(serde_json::json!({
            "_id": "u1", "username": "ada", "state": "ACTIVATED", "suspended": true
        })));
        assert!(user.active);
        assert_eq!(user.hold, None);
    }
}
