//! Fake JumpCloud → moto's Identity Store, through aws-access's SDK client. Each test uses
//! its own identity store id, which moto keeps apart.
//!
//! The Identity Store API cannot deactivate users, so departures are deletions here (the
//! policy says `deprovision = delete`); with the default policy they are reported instead
//! (see the `rules` tests).

use std::num::NonZeroU32;
use std::sync::Arc;

use aws_access::identity_store::SdkIdentityStore;
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::ownership::OwnershipRecord;
use provisioning_core::policy::Deprovision;

use crate::common::{self, Departed};

/// A fresh identity store of its own on moto.
pub async fn moto_store() -> Arc<SdkIdentityStore> {
    let config = test_peers::moto_sdk_config().await;
    let store_id = format!("d-{:010x}", fastrand::u64(..) % 0xff_ffff_ffff);
    let store = SdkIdentityStore::from_client(
        aws_sdk_identitystore::Client::new(&config),
        store_id,
        NonZeroU32::new(200).unwrap(),
    );
    Arc::new(store)
}

async fn target() -> IdentityStoreTarget {
    IdentityStoreTarget::new(moto_store().await, OwnershipRecord::in_memory())
}

#[tokio::test]
async fn identity_store_first_sync_converges_and_a_dry_run_writes_nothing() {
    let demo = common::demo().await;
    let target = target().await;
    common::first_sync_converges_and_a_dry_run_writes_nothing(&demo, &target).await;
}

#[tokio::test]
async fn identity_store_deletes_departed_users_when_the_policy_says_so() {
    let demo = common::demo().await;
    let target = target().await;
    let policy = common::deprovisioning(Deprovision::Delete);
    common::removals_deprovision_per_policy(&demo, &target, &policy, Departed::Gone).await;
}

#[tokio::test]
async fn identity_store_a_disassociated_group_is_left_as_is() {
    let demo = common::demo().await;
    let target = target().await;
    let policy = common::deprovisioning(Deprovision::Delete);
    common::a_disassociated_group_is_left_as_is(&demo, &target, &policy, Departed::Gone).await;
}
