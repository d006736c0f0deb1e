//! One sync, end to end: read the source and the target, plan, and (unless it is a dry run)
//! apply.
//!
//! A dry run is [`plan_sync`] alone: it takes the target as a `&dyn TargetReader`, a type
//! with no write method, so it cannot write. Applying needs a `&dyn Target` and goes through
//! [`apply`](crate::apply::apply), which refuses a plan that a guard aborted.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use provisioning_core::memory::MemoryDirectory;
//! use provisioning_core::model::{Scope, User};
//! use provisioning_core::policy::Policy;
//! use provisioning_core::sync::plan_sync;
//!
//! let source = MemoryDirectory::default();
//! source.insert_user(User::new("u1", "ada@example.com"));
//! let target = MemoryDirectory::default();
//! let plan = plan_sync(&source, &Scope::All, &target, &Policy::default()).await?;
//! assert_eq!(plan.changes.len(), 1);
//! assert_eq!(target.writes(), 0);
//! # Ok::<(), provisioning_core::sync::SyncError>(())
//! # }).unwrap();
//! ```

use std::collections::BTreeSet;

use crate::connector::{ConnectorError, Source, TargetReader};
use crate::model::{Scope, Snapshot};
use crate::plan::{Plan, plan};
use crate::policy::Policy;

/// A sync that could not be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// Reading the source failed: nothing was planned or written.
    #[error("could not read the source directory (nothing was written)")]
    SourceRead(#[source] ConnectorError),
    /// Reading the target failed: nothing was planned or written.
    #[error("could not read the target directory (nothing was written)")]
    TargetRead(#[source] ConnectorError),
    /// Asking the source whether groups synced earlier still exist failed.
    #[error(
        "could not ask the source whether the groups synced earlier still exist (nothing was written)"
    )]
    ConfirmGone(#[source] ConnectorError),
}

/// Reads `source` within `scope` and `target` (both at once), and asks the source which of the groups the
/// engine synced earlier (owned target groups, under `policy.issuer`) that the read did not
/// return are gone ([`Snapshot::groups_gone`]). Writes nothing.
///
/// The source snapshot comes first, the target snapshot second: what [`plan`] takes, and what
/// a [saved plan](crate::saved) seals.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use provisioning_core::memory::MemoryDirectory;
/// use provisioning_core::model::{Scope, User};
/// use provisioning_core::policy::Policy;
/// use provisioning_core::sync::read_both;
///
/// let source = MemoryDirectory::default();
/// source.insert_user(User::new("u1", "ada@example.com"));
/// let (wanted, actual) = read_both(&source, &Scope::All, &MemoryDirectory::default(), &Policy::default()).await?;
/// assert_eq!((wanted.users.len(), actual.users.len()), (1, 0));
/// # Ok::<(), provisioning_core::sync::SyncError>(())
/// # }).unwrap();
/// ```
///
/// # Errors
///
/// [`SyncError`] when a read or the lookup fails.
pub async fn read_both(
    source: &dyn Source,
    scope: &Scope,
    target: &dyn TargetReader,
    policy: &Policy,
) -> Result<(Snapshot, Snapshot), SyncError> {
    // Both sides are read at once: they are different services, and neither read depends
    // on the other.
    let (mut wanted, actual) = futures::try_join!(
        async { source.read(scope).await.map_err(SyncError::SourceRead) },
        async { target.read().await.map_err(SyncError::TargetRead) },
    )?;
    let known: BTreeSet<&str> = wanted
        .groups
        .iter()
        .map(|g| g.id.as_str())
        .chain(wanted.groups_out_of_scope.iter().map(String::as_str))
        .collect();
    let unaccounted: BTreeSet<String> = actual
        .groups
        .iter()
        .filter_map(|g| g.external_id.as_ref())
        .filter(|link| link.issuer == policy.issuer && !known.contains(link.id.as_str()))
        .map(|link| link.id.clone())
        .collect();
    if !unaccounted.is_empty() {
        wanted.groups_gone = source
            .confirm_gone(&unaccounted)
            .await
            .map_err(SyncError::ConfirmGone)?
            .intersection(&unaccounted)
            .cloned()
            .collect();
    }
    Ok((wanted, actual))
}

/// Reads `source` within `scope` and `target` ([`read_both`]), and plans the changes.
/// Writes nothing.
///
/// # Errors
///
/// [`SyncError`] when either read fails. An empty source is not an error here: the plan
/// comes back with [`Abort::EmptySource`](crate::plan::Abort::EmptySource) so it can be shown.
pub async fn plan_sync(
    source: &dyn Source,
    scope: &Scope,
    target: &dyn TargetReader,
    policy: &Policy,
) -> Result<Plan, SyncError> {
    let (wanted, actual) = read_both(source, scope, target, policy).await?;
    Ok(plan(&wanted, &actual, &target.capabilities(), policy))
}
