//! Connectors: the only bridge between the engine and the client crates. Each one
//! implements the engine's [`Source`](crate::connector::Source) or
//! [`Target`](crate::connector::Target) traits on a client, converting client records into
//! engine records and client errors into [`ConnectorError`](crate::connector::ConnectorError)s.
//!
//! | connector | role | on |
//! |---|---|---|
//! | [`jumpcloud::JumpCloudSource`] | source: users, groups and memberships in a scope | `jumpcloud-api` |
//! | [`jumpcloud_import::JumpCloudImport`] | import: an application's users missing from JumpCloud, created by bulk job | `jumpcloud-api` |
//! | [`okta::OktaSource`] | source: named Okta groups and their users | its own small HTTP reader |
//! | [`identity_store::IdentityStoreTarget`] | target: IAM Identity Center through the Identity Store API | `aws-access` |
//! | [`scim::ScimTarget`] | target: a SCIM 2.0 application (Pulumi, IAM Identity Center, RFC) | its own SCIM client ([`scim::client`]) |
//! | [`ownership::OwnershipRecord`] | the ownership links of targets that cannot store them, and the members adopted groups keep | a local file |
//! | [`secrets::SecretRef`] | where a connector's API key or token comes from | `aws-access` (SSM) |

/// The connector guides of `docs/connectors/`, compiled here so that their snippets are
/// tested.
pub mod guides {
    #[doc = include_str!("../../../docs/connectors/jumpcloud.md")]
    pub mod jumpcloud {}
    #[doc = include_str!("../../../docs/connectors/okta.md")]
    pub mod okta {}
    #[doc = include_str!("../../../docs/connectors/identity-store.md")]
    pub mod identity_store {}
    #[doc = include_str!("../../../docs/connectors/scim.md")]
    pub mod scim {}
    #[doc = include_str!("../../../docs/connectors/jumpcloud-import.md")]
    pub mod jumpcloud_import {}
}
mod http;
pub mod identity_store;
pub mod jumpcloud;
pub mod jumpcloud_import;
pub mod okta;
pub mod ownership;
pub mod scim;
pub mod secrets;
