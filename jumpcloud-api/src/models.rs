//! Models: lenient where JumpCloud is loose (unknown fields kept in `extra`, dates as
//! strings, optional fields as `Option`, an explicit `null` read as absent), strict where it
//! matters (ids as newtypes, the user state an enum whose `Unknown` fallback keeps the value
//! sent).
//!
//! ```
//! use jumpcloud_api::models::{SystemUser, UserState};
//! let user: SystemUser = serde_json::from_str(
//!     r#"{"_id":"u1","username":"ada","email":"ada@example.com","state":"ACTIVATED","newField":1}"#,
//! ).unwrap();
//! assert_eq!(user.state, Some(UserState::Activated));
//! assert_eq!(user.extra["newField"], 1); // kept, and written back on a round trip
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{GroupId, UserId};

/// Reads `null` as the default value: JumpCloud (and its spec's examples) send `null` where
/// the schema says string or array.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A user's state, as JumpCloud writes it (`"STAGED"`, `"ACTIVATED"`, `"SUSPENDED"`).
///
/// A state this client does not know is kept, verbatim, in [`UserState::Unknown`] and written
/// back unchanged, so a caller can name it (and decide what it means) instead of guessing.
///
/// ```
/// use jumpcloud_api::models::UserState;
/// let known: UserState = serde_json::from_str(r#""SUSPENDED""#).unwrap();
/// assert_eq!(known, UserState::Suspended);
/// let new: UserState = serde_json::from_str(r#""PENDING_REVIEW""#).unwrap();
/// assert_eq!(new, UserState::Unknown("PENDING_REVIEW".into()));
/// assert_eq!(new.as_str(), "PENDING_REVIEW");
/// assert_eq!(serde_json::to_string(&new).unwrap(), r#""PENDING_REVIEW""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserState {
    /// Created, not yet active (cannot sign in).
    Staged,
    /// Active.
    Activated,
    /// Suspended (cannot sign in).
    Suspended,
    /// A state this client does not know, holding the value the server sent.
    Unknown(String),
}

impl UserState {
    /// The state as JumpCloud writes it: `"STAGED"`, `"ACTIVATED"`, `"SUSPENDED"`, or the
    /// raw value of an unknown state.
    ///
    /// ```
    /// use jumpcloud_api::models::UserState;
    /// assert_eq!(UserState::Activated.as_str(), "ACTIVATED");
    /// assert_eq!(UserState::Unknown("LOCKED".into()).as_str(), "LOCKED");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Self::Staged => "STAGED",
            Self::Activated => "ACTIVATED",
            Self::Suspended => "SUSPENDED",
            Self::Unknown(value) => value,
        }
    }

    /// Reads a state as JumpCloud writes it; anything but the three known values becomes
    /// [`UserState::Unknown`] with the value kept as sent (case included).
    ///
    /// ```
    /// use jumpcloud_api::models::UserState;
    /// assert_eq!(UserState::from_wire("STAGED"), UserState::Staged);
    /// assert_eq!(UserState::from_wire("staged"), UserState::Unknown("staged".into()));
    /// ```
    pub fn from_wire(value: &str) -> Self {
        match value {
            "STAGED" => Self::Staged,
            "ACTIVATED" => Self::Activated,
            "SUSPENDED" => Self::Suspended,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl std::fmt::Display for UserState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for UserState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UserState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = UserState;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a user state string such as \"ACTIVATED\"")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<UserState, E> {
                Ok(UserState::from_wire(value))
            }
            fn visit_string<E: serde::de::Error>(self, value: String) -> Result<UserState, E> {
                Ok(match UserState::from_wire(&value) {
                    UserState::Unknown(_) => UserState::Unknown(value),
                    known => known,
                })
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A phone number of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PhoneNumber {
    /// Its kind (`work`, `mobile`, …).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A custom attribute of a user. The list is replaced as a whole on update: read, change,
/// write back (concurrent updates lose data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// Its name.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Its value (at most 1024 characters).
    #[serde(deserialize_with = "nullable")]
    pub value: String,
}

/// A system user (v1 `systemuserreturn`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct SystemUser {
    /// The id.
    #[serde(rename = "_id", default, deserialize_with = "nullable")]
    pub id: UserId,
    /// The unique user name.
    #[serde(default, deserialize_with = "nullable")]
    pub username: String,
    /// The email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub displayname: Option<String>,
    /// The state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UserState>,
    /// Whether the account is activated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated: Option<bool>,
    /// Whether the account is suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    /// Phone numbers.
    #[serde(
        default,
        rename = "phoneNumbers",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "nullable"
    )]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Custom attributes.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "nullable"
    )]
    pub attributes: Vec<Attribute>,
    /// When it was created (as JumpCloud sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Everything else JumpCloud sent (department, company, manager, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user to create (v1 `systemuserputpost`; also the item of a bulk create).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct NewSystemUser {
    /// The unique user name (required).
    pub username: String,
    /// The email (required).
    pub email: String,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub displayname: Option<String>,
    /// The initial state; without it the organisation's default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UserState>,
    /// Phone numbers.
    #[serde(
        default,
        rename = "phoneNumbers",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Custom attributes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Other writable fields (department, company, jobTitle, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NewSystemUser {
    /// A user with the two required fields.
    ///
    /// ```
    /// let user = jumpcloud_api::models::NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace");
    /// assert_eq!(user.lastname.as_deref(), Some("Lovelace"));
    /// ```
    pub fn new(username: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            email: email.into(),
            ..Self::default()
        }
    }

    /// Sets first and last name.
    #[must_use]
    pub fn names(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.firstname = Some(first.into());
        self.lastname = Some(last.into());
        self
    }
}

/// Changes to a user (v1 `systemuserput`): only the fields set are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct UserUpdate {
    /// New email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// New last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub displayname: Option<String>,
    /// `Activated` or `Suspended` (a staged user is activated with
    /// [`Users::activate`](crate::v1::Users::activate)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UserState>,
    /// The whole attribute list (replaces the current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<Attribute>>,
    /// Other fields to set.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An application (v1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Application {
    /// The id.
    #[serde(rename = "_id", default, deserialize_with = "nullable")]
    pub id: crate::ids::ApplicationId,
    /// The catalogue name (such as `aws`).
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The label shown to users.
    #[serde(
        default,
        rename = "displayLabel",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_label: Option<String>,
    /// The display name.
    #[serde(
        default,
        rename = "displayName",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
    /// Whether it is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Everything else (config, sso, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An organisation (v1 `GET /organizations`): the organisations an API key can reach — one
/// for an ordinary administrator's key, several for a multi-tenant (MSP) key.
///
/// ```
/// let org: jumpcloud_api::models::Organization = serde_json::from_str(
///     r#"{"_id":"5f3a1b2c3d4e5f6a7b8c9d0e","displayName":"Acme","logoUrl":""}"#,
/// ).unwrap();
/// assert_eq!(org.id.as_str(), "5f3a1b2c3d4e5f6a7b8c9d0e");
/// assert_eq!(org.display_name.as_deref(), Some("Acme"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Organization {
    /// The id (the `x-org-id` of multi-tenant keys).
    #[serde(rename = "_id", default, deserialize_with = "nullable")]
    pub id: crate::ids::OrgId,
    /// The name.
    #[serde(
        default,
        rename = "displayName",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
    /// Everything else (`logoUrl`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user group (v2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct UserGroup {
    /// The id.
    pub id: GroupId,
    /// The unique name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The group's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `STATIC`, `DYNAMIC_…` or `NOTSET`.
    #[serde(
        default,
        rename = "membershipMethod",
        skip_serializing_if = "Option::is_none"
    )]
    pub membership_method: Option<String>,
    /// Everything else (attributes, memberQuery, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user group to create or replace (v2 `UserGroupPost` / `UserGroupPut`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct UserGroupInput {
    /// The name (required).
    pub name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserGroupInput {
    /// A group with a name.
    ///
    /// ```
    /// let group = jumpcloud_api::models::UserGroupInput::new("Engineering").description("builds");
    /// assert_eq!(group.description.as_deref(), Some("builds"));
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

/// A node of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GraphObject {
    /// Its id.
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    /// Its type (`user`, `user_group`, `application`, …).
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    /// Edge attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Value>,
}

/// An edge of the graph (members, associations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GraphConnection {
    /// The object it points to.
    pub to: GraphObject,
    /// The object it starts from, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<GraphObject>,
    /// Attributes of the edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Value>,
}

/// An object reached through the graph, directly or indirectly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct GraphObjectWithPaths {
    /// Its id.
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    /// Its type.
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    /// The paths through which it is reached (one edge long when direct).
    #[serde(default, deserialize_with = "nullable")]
    pub paths: Vec<Vec<GraphConnection>>,
    /// Everything else (compiledAttributes, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GraphObjectWithPaths {
    /// Whether some path reaches it directly (one edge).
    ///
    /// ```
    /// let direct: jumpcloud_api::models::GraphObjectWithPaths =
    ///     serde_json::from_str(r#"{"id":"u1","type":"user","paths":[[{"to":{"id":"u1","type":"user"}}]]}"#).unwrap();
    /// assert!(direct.is_direct());
    /// ```
    pub fn is_direct(&self) -> bool {
        self.paths.iter().any(|p| p.len() == 1)
    }
}

/// The result of one item of a bulk job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct JobResult {
    /// The item's id.
    #[serde(default)]
    pub id: String,
    /// Its status (`pending`, `finished`, `failed`, …).
    #[serde(default)]
    pub status: String,
    /// The message, for failures.
    #[serde(default, rename = "statusMsg", skip_serializing_if = "Option::is_none")]
    pub status_msg: Option<String>,
    /// Details of the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    /// The fields that were stored.
    #[serde(
        default,
        rename = "persistedFields",
        skip_serializing_if = "Option::is_none"
    )]
    pub persisted_fields: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A scheduled user state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct ScheduledUserState {
    /// The scheduled job.
    #[serde(rename = "scheduledJobId", default)]
    pub scheduled_job_id: crate::ids::ScheduledJobId,
    /// The user.
    #[serde(rename = "systemUserId", default)]
    pub system_user_id: UserId,
    /// The state it will take.
    #[serde(default)]
    pub state: String,
    /// When (UTC).
    #[serde(rename = "scheduledDate", default)]
    pub scheduled_date: String,
}

/// A user of an application's identity-management integration, as the import preview shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct ImportUser {
    /// The id in the application.
    #[serde(default)]
    pub id: String,
    /// User name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_states_round_trip_exactly() {
        for (wire, state) in [
            ("STAGED", UserState::Staged),
            ("ACTIVATED", UserState::Activated),
            ("SUSPENDED", UserState::Suspended),
        ] {
            let json = format!("\"{wire}\"");
            let read: UserState = serde_json::from_str(&json).unwrap();
            assert_eq!(read, state);
            assert_eq!(serde_json::to_string(&state).unwrap(), json);
        }
    }

    #[test]
    fn an_unknown_state_keeps_the_value_sent_and_writes_it_back() {
        let read: UserState = serde_json::from_str(r#""PENDING_REVIEW""#).unwrap();
        assert_eq!(read, UserState::Unknown("PENDING_REVIEW".into()));
        assert_eq!(serde_json::to_string(&read).unwrap(), r#""PENDING_REVIEW""#);
        // Case is not folded: a lower-case known word is not the known state.
        let read: UserState = serde_json::from_str(r#""activated""#).unwrap();
        assert_eq!(read, UserState::Unknown("activated".into()));
    }

    #[test]
    fn a_user_with_an_unknown_state_round_trips() {
        let json = r#"{"_id":"u1","username":"ada","state":"PENDING_REVIEW"}"#;
        let user: SystemUser = serde_json::from_str(json).unwrap();
        assert_eq!(
            user.state,
            Some(UserState::Unknown("PENDING_REVIEW".into()))
        );
        let back = serde_json::to_value(&user).unwrap();
        assert_eq!(back["state"], "PENDING_REVIEW");
    }

    #[test]
    fn a_state_that_is_not_a_string_is_a_decode_error() {
        let err = serde_json::from_str::<UserState>("3").unwrap_err();
        assert!(err.to_string().contains("user state"), "{err}");
    }
}
