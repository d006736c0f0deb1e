//! SCIM 2.0 wire models (RFC 7643, RFC 7644): users, groups, list responses, PATCH
//! requests and error bodies.
//!
//! Resources keep every attribute they do not model in `extra`, so a resource read and
//! written back loses nothing. Optional attributes are left out when unset — in particular
//! `groups` is never sent, which IAM Identity Center rejects on create. `active` and
//! `primary` accept the strings `"True"`/`"false"` some servers send.
//!
//! ```
//! use provisioning_core::connectors::scim::resources::ScimUser;
//!
//! let json = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"9f","userName":"ada",
//!   "active":"True","urn:example:custom":{"badge":"7"}}"#;
//! let user: ScimUser = serde_json::from_str(json).unwrap();
//! assert_eq!(user.active, Some(true));
//! let back = serde_json::to_value(&user).unwrap();
//! assert_eq!(back["urn:example:custom"]["badge"], "7"); // kept on the round trip
//! ```

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The Enterprise User extension (department, costCenter, …).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The PATCH request message.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A SCIM user.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScimUser {
    /// Schema URNs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The service provider's id; unset on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The client's id of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The unique login name.
    #[serde(default)]
    pub user_name: String,
    /// Name parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// Name to display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<MultiValue>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<MultiValue>,
    /// Whether the user may sign in.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool"
    )]
    pub active: Option<bool>,
    /// The Enterprise User extension's attributes.
    #[serde(
        rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enterprise: Option<Map<String, Value>>,
    /// Every other attribute (`meta`, `groups`, other extensions), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The parts of a user's name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Name {
    /// Given (first) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family (last) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Other name parts (`formatted`, `middleName`, …), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One value of a multi-valued attribute such as `emails` or `phoneNumbers`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MultiValue {
    /// The value.
    #[serde(default)]
    pub value: String,
    /// Its kind (`work`, `home`, `mobile`, …).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether it is the primary value.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool"
    )]
    pub primary: Option<bool>,
    /// Other sub-attributes, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MultiValue {
    /// A primary value of kind `kind`.
    ///
    /// ```
    /// let email = provisioning_core::connectors::scim::resources::MultiValue::primary("ada@example.com", "work");
    /// assert_eq!(email.primary, Some(true));
    /// ```
    pub fn primary(value: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            kind: Some(kind.into()),
            primary: Some(true),
            extra: Map::new(),
        }
    }
}

/// A SCIM group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScimGroup {
    /// Schema URNs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The service provider's id; unset on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The client's id of the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The group's name.
    #[serde(default)]
    pub display_name: String,
    /// Members, as far as the server lists them (IAM Identity Center lists none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    /// Every other attribute, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Member {
    /// The member's id.
    pub value: String,
    /// The member's display name, when the server gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `User` or `Group`, when the server says.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Other sub-attributes (`$ref`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page of a list or filter request, in index form (`totalResults`, `startIndex`) or
/// cursor form (`nextCursor`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListResponse<T> {
    /// Matches in all pages (index form; optional in cursor form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_results: Option<u64>,
    /// The 1-based index of the first resource of this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u64>,
    /// Resources in this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_per_page: Option<u64>,
    /// The cursor of the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The resources.
    #[serde(rename = "Resources", default = "Vec::new")]
    pub resources: Vec<T>,
}

/// A PATCH request (RFC 7644 §3.5.2).
///
/// ```
/// use provisioning_core::connectors::scim::resources::{PatchOp, PatchOperation};
/// let patch = PatchOp::new(vec![PatchOperation::replace("active", false.into())]);
/// let json = serde_json::to_value(&patch).unwrap();
/// assert_eq!(json["Operations"][0]["op"], "replace");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PatchOp {
    /// Always the PatchOp message schema.
    pub schemas: Vec<String>,
    /// The operations, applied in order.
    #[serde(rename = "Operations")]
    pub operations: Vec<PatchOperation>,
}

impl PatchOp {
    /// A PATCH request of `operations`.
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        Self {
            schemas: vec![PATCH_OP_SCHEMA.to_owned()],
            operations,
        }
    }
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PatchOperation {
    /// `add`, `remove` or `replace`.
    pub op: String,
    /// The attribute path; required for `remove`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value; required for `add` and `replace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl PatchOperation {
    /// `replace` the attribute at `path` with `value`.
    ///
    /// ```
    /// use provisioning_core::connectors::scim::resources::PatchOperation;
    /// let op = PatchOperation::replace("displayName", "Ada Lovelace".into());
    /// assert_eq!(op.path.as_deref(), Some("displayName"));
    /// ```
    pub fn replace(path: impl Into<String>, value: Value) -> Self {
        Self {
            op: "replace".into(),
            path: Some(path.into()),
            value: Some(value),
        }
    }

    /// `add` `value` at `path`.
    ///
    /// ```
    /// use provisioning_core::connectors::scim::resources::PatchOperation;
    /// let op = PatchOperation::add("members", serde_json::json!([{"value": "u1"}]));
    /// assert_eq!(op.op, "add");
    /// ```
    pub fn add(path: impl Into<String>, value: Value) -> Self {
        Self {
            op: "add".into(),
            path: Some(path.into()),
            value: Some(value),
        }
    }

    /// `remove` what `path` selects.
    ///
    /// ```
    /// use provisioning_core::connectors::scim::resources::PatchOperation;
    /// let op = PatchOperation::remove(r#"members[value eq "u1"]"#);
    /// assert!(op.value.is_none());
    /// ```
    pub fn remove(path: impl Into<String>) -> Self {
        Self {
            op: "remove".into(),
            path: Some(path.into()),
            value: None,
        }
    }
}

/// A SCIM error body. `status` is a string in RFC 7644 and an integer on some servers; both
/// are read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorBody {
    /// The HTTP status, as the server wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    /// The SCIM error type (`uniqueness`, `invalidFilter`, `mutability`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<String>,
    /// The server's explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Reads a boolean that may arrive as `true`, `"True"`, `"false"` or `null`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(de::Error::custom(format!(
            "expected a boolean, found {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn users_round_trip_without_losing_attributes() {
        let wire = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "id": "2819c223",
            "externalId": "identity-provisioning:5f0c",
            "userName": "bjensen@example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
            "displayName": "Babs Jensen",
            "nickName": "Babs",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true, "display": "B"}],
            "phoneNumbers": [{"value": "555-555-8377", "type": "work"}],
            "active": true,
            "groups": [{"value": "e9e30dba", "display": "Tour Guides"}],
            ENTERPRISE_USER_SCHEMA: {"department": "Tour Operations", "costCenter": "4130"},
            "urn:example:custom": {"badge": 7},
            "meta": {"resourceType": "User", "version": "W/\"3694e05e\""}
        });
        let user: ScimUser = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(user.user_name, "bjensen@example.com");
        assert_eq!(
            user.enterprise.as_ref().unwrap()["department"],
            "Tour Operations"
        );
        assert_eq!(serde_json::to_value(&user).unwrap(), wire);
    }

    #[test]
    fn groups_round_trip_and_a_new_user_sends_no_groups() {
        let wire = json!({
            "schemas": [GROUP_SCHEMA],
            "id": "e9e30dba",
            "displayName": "Tour Guides",
            "members": [{"value": "2819c223", "$ref": "https://example.com/v2/Users/2819c223", "display": "Babs"}],
            "meta": {"resourceType": "Group"}
        });
        let group: ScimGroup = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(group.members[0].value, "2819c223");
        assert_eq!(serde_json::to_value(&group).unwrap(), wire);

        let new = ScimUser {
            user_name: "ada".into(),
            ..ScimUser::default()
        };
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            json!({"userName": "ada"})
        );
    }

    #[test]
    fn lenient_booleans_and_error_statuses() {
        let user: ScimUser =
            serde_json::from_value(json!({"userName": "a", "active": "False"})).unwrap();
        assert_eq!(user.active, Some(false));
        assert!(serde_json::from_value::<ScimUser>(json!({"userName": "a", "active": 3})).is_err());
        let as_string: ErrorBody =
            serde_json::from_value(json!({"status": "409", "scimType": "uniqueness"})).unwrap();
        let as_number: ErrorBody = serde_json::from_value(json!({"status": 409})).unwrap();
        assert_eq!(as_string.scim_type.as_deref(), Some("uniqueness"));
        assert_eq!(as_number.status, Some(json!(409)));
    }

    #[test]
    fn list_responses_read_both_paging_forms() {
        let index: ListResponse<ScimUser> = serde_json::from_value(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 3, "startIndex": 1, "itemsPerPage": 1,
            "Resources": [{"id": "1", "userName": "a"}]
        }))
        .unwrap();
        assert_eq!(index.total_results, Some(3));
        let cursor: ListResponse<ScimUser> =
            serde_json::from_value(json!({"itemsPerPage": 0, "nextCursor": "abc"})).unwrap();
        assert!(cursor.resources.is_empty());
        assert_eq!(cursor.next_cursor.as_deref(), Some("abc"));
    }
}
