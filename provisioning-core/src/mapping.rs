//! Attribute mapping: which source attributes become which target attributes.
//!
//! The default is seed workflow 002's JumpCloud → SCIM table:
//!
//! | source | target |
//! |---|---|
//! | username | `userName` |
//! | active (state) | `active` |
//! | displayName (else "first last") | `displayName` |
//! | firstname | `name.givenName` |
//! | lastname | `name.familyName` |
//! | company (primary) email | `emails.value` (one, primary) |
//!
//! A target overrides it: [`AttributeMapping::with`] adds or replaces one entry, for example
//! the one work phone number that IAM Identity Center keeps, or a custom attribute such as
//! `costCenter` for ABAC. Only mapped target attributes are compared and written: anything
//! else a target holds is left alone.
//!
//! ```
//! use provisioning_core::mapping::{AttributeMapping, SourceField, TargetField};
//! use provisioning_core::model::User;
//!
//! let mapping = AttributeMapping::default()
//!     .with(TargetField::Attribute("costCenter".into()), SourceField::Attribute("cost_center".into()));
//! let mut ada = User::new("u1", "ada@example.com").with_names("Ada", "Lovelace");
//! ada.attributes.insert("cost_center".into(), "blue".into());
//! let desired = mapping.map_user(&ada);
//! assert_eq!(desired.attributes["costCenter"], "blue");
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{Email, Phone, User};

/// A target user attribute the engine can write.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "field", content = "name")]
pub enum TargetField {
    /// `userName`.
    UserName,
    /// `displayName`.
    DisplayName,
    /// `name.givenName`.
    GivenName,
    /// `name.familyName`.
    FamilyName,
    /// The one email, written as primary and of kind `work`.
    Email,
    /// The one phone number.
    Phone,
    /// `active`.
    Active,
    /// A named extra attribute.
    Attribute(String),
}

/// Where a target attribute's value comes from in the source user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "name")]
pub enum SourceField {
    /// The user name.
    UserName,
    /// The display name, else `"{given} {family}"` when both names are known.
    DisplayName,
    /// The given name.
    GivenName,
    /// The family name.
    FamilyName,
    /// The primary email, else the first.
    PrimaryEmail,
    /// The phone number of this kind (`work` by default); only one is ever synced.
    Phone(String),
    /// Whether the user is active.
    Active,
    /// A named extra attribute.
    Attribute(String),
}

/// One mapping entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapped {
    /// The attribute written at the target.
    pub target: TargetField,
    /// Where its value comes from.
    pub source: SourceField,
}

/// The attribute mapping of one target. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMapping {
    /// The entries, at most one per target attribute.
    pub entries: Vec<Mapped>,
}

impl Default for AttributeMapping {
    /// Seed workflow 002's JumpCloud → SCIM table.
    fn default() -> Self {
        use SourceField as S;
        use TargetField as T;
        Self {
            entries: vec![
                Mapped {
                    target: T::UserName,
                    source: S::UserName,
                },
                Mapped {
                    target: T::Active,
                    source: S::Active,
                },
                Mapped {
                    target: T::DisplayName,
                    source: S::DisplayName,
                },
                Mapped {
                    target: T::GivenName,
                    source: S::GivenName,
                },
                Mapped {
                    target: T::FamilyName,
                    source: S::FamilyName,
                },
                Mapped {
                    target: T::Email,
                    source: S::PrimaryEmail,
                },
            ],
        }
    }
}

impl AttributeMapping {
    /// The default table plus one phone number of kind `work`, as seed workflow 003's
    /// JumpCloud → IAM Identity Center connector syncs.
    ///
    /// ```
    /// use provisioning_core::mapping::{AttributeMapping, TargetField};
    /// assert!(AttributeMapping::with_work_phone().maps(&TargetField::Phone));
    /// ```
    pub fn with_work_phone() -> Self {
        Self::default().with(TargetField::Phone, SourceField::Phone("work".into()))
    }

    /// Maps `target` from `source`, replacing an earlier entry for `target`.
    ///
    /// ```
    /// use provisioning_core::mapping::{AttributeMapping, SourceField, TargetField};
    /// // Use the email as the target's user name.
    /// let mapping = AttributeMapping::default().with(TargetField::UserName, SourceField::PrimaryEmail);
    /// assert_eq!(mapping.entries.len(), AttributeMapping::default().entries.len());
    /// ```
    #[must_use]
    pub fn with(mut self, target: TargetField, source: SourceField) -> Self {
        self.entries.retain(|m| m.target != target);
        self.entries.push(Mapped { target, source });
        self
    }

    /// Stops writing `target`.
    ///
    /// ```
    /// use provisioning_core::mapping::{AttributeMapping, TargetField};
    /// let mapping = AttributeMapping::default().without(&TargetField::Email);
    /// assert!(!mapping.maps(&TargetField::Email));
    /// ```
    #[must_use]
    pub fn without(mut self, target: &TargetField) -> Self {
        self.entries.retain(|m| &m.target != target);
        self
    }

    /// Whether `target` is written.
    pub fn maps(&self, target: &TargetField) -> bool {
        self.entries.iter().any(|m| &m.target == target)
    }

    /// The target user that `source` should become, with only mapped attributes set. The
    /// id and external id are left for the planner to fill in.
    ///
    /// ```
    /// use provisioning_core::mapping::AttributeMapping;
    /// use provisioning_core::model::User;
    /// let jc = User::new("5f0c", "ada").with_names("Ada", "Lovelace").with_email("ada@example.com");
    /// let desired = AttributeMapping::default().map_user(&jc);
    /// assert_eq!(desired.emails.len(), 1);
    /// assert_eq!(desired.given_name.as_deref(), Some("Ada"));
    /// ```
    pub fn map_user(&self, source: &User) -> User {
        let mut out = User::new(String::new(), String::new());
        out.active = true;
        for Mapped {
            target,
            source: from,
        } in &self.entries
        {
            let value = read(source, from);
            match target {
                TargetField::UserName => out.user_name = value.text().unwrap_or_default(),
                TargetField::DisplayName => out.display_name = value.text(),
                TargetField::GivenName => out.given_name = value.text(),
                TargetField::FamilyName => out.family_name = value.text(),
                TargetField::Email => {
                    out.emails = value.text().map(Email::primary_work).into_iter().collect();
                }
                TargetField::Phone => {
                    out.phone_numbers = match (value, from) {
                        (Value::Text(Some(value)), SourceField::Phone(kind)) => vec![Phone {
                            value,
                            kind: Some(kind.clone()),
                        }],
                        (Value::Text(Some(value)), _) => vec![Phone { value, kind: None }],
                        _ => Vec::new(),
                    };
                }
                TargetField::Active => out.active = value.flag(),
                TargetField::Attribute(name) => {
                    if let Some(text) = value.text() {
                        out.attributes.insert(name.clone(), text);
                    }
                }
            }
        }
        out
    }

    /// The mapped attributes on which `desired` and `actual` differ, in mapping order.
    ///
    /// ```
    /// use provisioning_core::mapping::{AttributeMapping, TargetField};
    /// use provisioning_core::model::User;
    /// let desired = User::new("", "ada").with_names("Ada", "Lovelace");
    /// let mut actual = desired.clone();
    /// actual.family_name = Some("Byron".into());
    /// let diff = AttributeMapping::default().differences(&desired, &actual);
    /// assert!(diff.contains(&TargetField::FamilyName));
    /// ```
    pub fn differences(&self, desired: &User, actual: &User) -> Vec<TargetField> {
        self.entries
            .iter()
            .map(|m| &m.target)
            .filter(|target| !same(target, desired, actual))
            .cloned()
            .collect()
    }
}

fn same(target: &TargetField, a: &User, b: &User) -> bool {
    match target {
        TargetField::UserName => a.user_name == b.user_name,
        TargetField::DisplayName => a.display_name == b.display_name,
        TargetField::GivenName => a.given_name == b.given_name,
        TargetField::FamilyName => a.family_name == b.family_name,
        TargetField::Email => a.primary_email() == b.primary_email() && b.emails.len() <= 1,
        TargetField::Phone => {
            a.phone_numbers.first().map(|p| &p.value) == b.phone_numbers.first().map(|p| &p.value)
                && b.phone_numbers.len() <= 1
        }
        TargetField::Active => a.active == b.active,
        TargetField::Attribute(name) => a.attributes.get(name) == b.attributes.get(name),
    }
}

enum Value {
    Text(Option<String>),
    Flag(bool),
}

impl Value {
    fn text(self) -> Option<String> {
        match self {
            Value::Text(text) => crate::util::non_blank(text),
            Value::Flag(flag) => Some(flag.to_string()),
        }
    }

    fn flag(self) -> bool {
        match self {
            Value::Flag(flag) => flag,
            Value::Text(text) => text.is_some_and(|t| t.eq_ignore_ascii_case("true")),
        }
    }
}

fn read(user: &User, from: &SourceField) -> Value {
    match from {
        SourceField::UserName => Value::Text(Some(user.user_name.clone())),
        SourceField::DisplayName => Value::Text(user.display_name.clone().or_else(|| {
            match (&user.given_name, &user.family_name) {
                (Some(given), Some(family)) => Some(format!("{given} {family}")),
                _ => None,
            }
        })),
        SourceField::GivenName => Value::Text(user.given_name.clone()),
        SourceField::FamilyName => Value::Text(user.family_name.clone()),
        SourceField::PrimaryEmail => Value::Text(user.primary_email().map(str::to_owned)),
        SourceField::Phone(kind) => Value::Text(
            user.phone_numbers
                .iter()
                .find(|p| {
                    p.kind
                        .as_deref()
                        .is_some_and(|k| k.eq_ignore_ascii_case(kind))
                })
                .map(|p| p.value.clone()),
        ),
        SourceField::Active => Value::Flag(user.active),
        SourceField::Attribute(name) => Value::Text(user.attributes.get(name).cloned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jumpcloud_user() -> User {
        let mut user = User::new("5f0c", "ada").with_names("Ada", "Lovelace");
        user.emails = vec![
            Email {
                value: "ada.personal@example.org".into(),
                kind: Some("home".into()),
                primary: false,
            },
            Email {
                value: "ada@example.com".into(),
                kind: Some("work".into()),
                primary: true,
            },
        ];
        user.phone_numbers = vec![
            Phone {
                value: "+1 555 0100".into(),
                kind: Some("mobile".into()),
            },
            Phone {
                value: "+1 555 0199".into(),
                kind: Some("work".into()),
            },
        ];
        user
    }

    #[test]
    fn the_default_table_is_seed_002s() {
        let desired = AttributeMapping::default().map_user(&jumpcloud_user());
        assert_eq!(desired.user_name, "ada");
        assert!(desired.active);
        assert_eq!(desired.display_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(desired.given_name.as_deref(), Some("Ada"));
        assert_eq!(desired.family_name.as_deref(), Some("Lovelace"));
        // No secondary emails: only the company (primary) one, marked primary.
        assert_eq!(desired.emails.len(), 1);
        assert_eq!(desired.emails[0].value, "ada@example.com");
        assert!(desired.emails[0].primary);
        // Phones are not in seed 002's table.
        assert!(desired.phone_numbers.is_empty());
    }

    #[test]
    fn only_one_phone_number_is_synced_the_work_one_by_default() {
        let desired = AttributeMapping::with_work_phone().map_user(&jumpcloud_user());
        assert_eq!(desired.phone_numbers.len(), 1);
        assert_eq!(desired.phone_numbers[0].value, "+1 555 0199");

        let mobile = AttributeMapping::default()
            .with(TargetField::Phone, SourceField::Phone("mobile".into()))
            .map_user(&jumpcloud_user());
        assert_eq!(mobile.phone_numbers[0].value, "+1 555 0100");
    }

    #[test]
    fn display_name_falls_back_to_first_and_last_name() {
        let mut user = jumpcloud_user();
        user.display_name = None;
        let desired = AttributeMapping::default().map_user(&user);
        assert_eq!(desired.display_name.as_deref(), Some("Ada Lovelace"));
    }

    #[test]
    fn unmapped_target_attributes_never_count_as_differences() {
        let mapping = AttributeMapping::default();
        let desired = mapping.map_user(&jumpcloud_user());
        let mut actual = desired.clone();
        actual.attributes.insert("title".into(), "Countess".into());
        actual.phone_numbers.push(Phone {
            value: "1".into(),
            kind: None,
        });
        assert!(mapping.differences(&desired, &actual).is_empty());
    }

    #[test]
    fn a_target_with_two_emails_differs_from_the_one_we_write() {
        let mapping = AttributeMapping::default();
        let desired = mapping.map_user(&jumpcloud_user());
        let mut actual = desired.clone();
        actual.emails.push(Email {
            value: "x@example.com".into(),
            kind: None,
            primary: false,
        });
        assert_eq!(mapping.differences(&desired, &actual), [TargetField::Email]);
    }
}
