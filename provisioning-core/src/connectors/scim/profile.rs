//! Target profiles: what one SCIM service provider accepts, beyond the RFC.
//!
//! | | `generic` | `aws-identity-center` | `pulumi` |
//! |---|---|---|---|
//! | user paging | index | cursor | index |
//! | group paging | index | cursor | none (one request) |
//! | group members | listed on the group | not listed: `groups.value eq` per group | listed on the group |
//! | ownership mark | `externalId` | `externalId` | local [ownership record](crate::connectors::ownership) (`externalId` is not stored) |
//! | user attributes | core, one phone, Enterprise User | core, one phone, Enterprise User | `userName`, `displayName`, `name.givenName`, `name.familyName`, one work email, `active` |
//! | given and family name | optional | required | optional |
//! | delete users | yes | yes | no: deprovisioning deactivates |
//! | change a userName | yes | yes | no (immutable) |
//! | group names | any | any | at most 100 characters |
//! | rate limit | none | 20 requests/s (the quota for all clients) | none known |
//!
//! Every profile sends exactly one primary work email, never sends `groups`, never uses
//! `/Bulk`, filters with `eq` only, removes members by the filter path
//! `members[value eq "…"]` (never a path-less remove or a replace of all members), and
//! changes at most 100 members per PATCH.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use super::client::Paging;
use crate::connector::{Capabilities, TargetModel};
use crate::mapping::TargetField;

pub use crate::connector::ENTERPRISE_ATTRIBUTES;

/// The most characters of a Pulumi team (group) name.
pub const PULUMI_MAX_GROUP_NAME: usize = 100;

/// A SCIM service provider's rules. See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Profile {
    /// An RFC 7643/7644 service provider.
    #[default]
    Generic,
    /// IAM Identity Center's SCIM endpoint.
    AwsIdentityCenter,
    /// Pulumi Cloud's SCIM endpoint.
    Pulumi,
}

impl Profile {
    /// What the engine may plan for this target.
    ///
    /// ```
    /// use provisioning_core::connectors::scim::Profile;
    /// assert!(!Profile::Pulumi.capabilities().can_delete_users);
    /// assert!(Profile::AwsIdentityCenter.capabilities().requires_names);
    /// ```
    pub fn capabilities(self) -> Capabilities {
        self.model().capabilities()
    }

    /// The target model whose rules this profile follows.
    ///
    /// ```
    /// use provisioning_core::connector::TargetModel;
    /// use provisioning_core::connectors::scim::Profile;
    /// assert_eq!(Profile::Pulumi.model(), TargetModel::Pulumi);
    /// ```
    pub fn model(self) -> TargetModel {
        match self {
            Profile::Generic => TargetModel::Generic,
            Profile::AwsIdentityCenter => TargetModel::AwsIdentityCenter,
            Profile::Pulumi => TargetModel::Pulumi,
        }
    }

    /// The client-side rate limit the connector applies to every request, reads included.
    pub fn rate_limit(self) -> Option<NonZeroU32> {
        self.capabilities().rate_limit
    }

    pub(crate) fn user_paging(self) -> Paging {
        match self {
            Profile::AwsIdentityCenter => Paging::Cursor,
            Profile::Generic | Profile::Pulumi => Paging::Index,
        }
    }

    pub(crate) fn group_paging(self) -> Paging {
        match self {
            Profile::AwsIdentityCenter => Paging::Cursor,
            Profile::Generic => Paging::Index,
            Profile::Pulumi => Paging::Unpaged,
        }
    }

    /// Whether groups come back without their members, which are then listed per group
    /// with `filter=groups.value eq "<group id>"` on `/Users`.
    pub(crate) fn members_need_lookup(self) -> bool {
        self == Profile::AwsIdentityCenter
    }

    /// Whether the target stores `externalId` (else the connector keeps an ownership record).
    pub fn stores_external_id(self) -> bool {
        self != Profile::Pulumi
    }

    /// Whether the target stores this user attribute.
    ///
    /// ```
    /// use provisioning_core::connectors::scim::Profile;
    /// use provisioning_core::mapping::TargetField;
    /// assert!(Profile::AwsIdentityCenter.supports(&TargetField::Attribute("costCenter".into())));
    /// assert!(!Profile::Pulumi.supports(&TargetField::Phone));
    /// ```
    pub fn supports(self, field: &TargetField) -> bool {
        self.capabilities().holds(field)
    }

    /// The profile's name, as in configuration files.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Generic => "generic",
            Profile::AwsIdentityCenter => "aws-identity-center",
            Profile::Pulumi => "pulumi",
        }
    }
}
