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
//! | [`ownership::OwnershipRecord`] | the ownership links of targets that cannot store them, and the members adopted groups keep | a [`state::StateStore`] (a local file) |
//! | [`state::FileStateStore`] | where the ownership record lives: locked for a run, read-only otherwise, durable appends, atomic compaction | `std::fs` |
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
use std::collections::BTreeSet;
use std::future::Future;

use futures::{StreamExt, TryStreamExt};

use crate::connector::ConnectorError;

/// Source groups looked up by id at once, in a [`Source::confirm_gone`](crate::connector::Source::confirm_gone).
const GROUP_LOOKUPS_IN_FLIGHT: usize = 4;

/// The `Source::confirm_gone` of a source that can look a group up by id: `gone(id)` answers
/// whether the source says the group no longer exists (a 404), a few lookups in flight at
/// once. The first failed lookup fails the whole answer, so that nothing is deleted on a
/// partial one.
pub(crate) async fn confirm_gone_by_lookup<F, Fut>(
    ids: impl IntoIterator<Item = String>,
    gone: F,
) -> Result<BTreeSet<String>, ConnectorError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<bool, ConnectorError>>,
{
    let gone = &gone;
    let answers: Vec<Option<String>> = futures::stream::iter(ids)
        .map(|id| async move { Ok::<_, ConnectorError>(gone(id.clone()).await?.then_some(id)) })
        .buffer_unordered(GROUP_LOOKUPS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(answers.into_iter().flatten().collect())
}

mod http;
pub mod identity_store;
pub mod jumpcloud;
pub mod jumpcloud_import;
pub mod okta;
pub mod ownership;
mod records;
pub mod scim;
pub mod secrets;
pub mod state;
