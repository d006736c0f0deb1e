//! The Identity Store target's `ExternalIds` marks, on aws-access's fake identity store
//! (moto does not implement `UpdateUser`): created users carry the mark, and a run that lost
//! its ownership record still recognises its own users.

use std::sync::Arc;

use aws_access::fake::FakeIdentityStore;
use aws_access::identity_store::IdentityStore;
use futures::TryStreamExt;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::ownership::OwnershipRecord;
use provisioning_core::memory::MemoryDirectory;
use provisioning_core::model::{Group, Scope, User};
use provisioning_core::policy::{DEFAULT_ISSUER, Policy};
use provisioning_core::sync::plan_sync;

#[tokio::test]
async fn created_users_carry_the_mark_and_are_recognised_without_the_record() {
    let source = MemoryDirectory::default();
    source.insert_user(User::new("jc-1", "ada@example.com").with_names("Ada", "Lovelace"));
    source.insert_user(User::new("jc-2", "grace@example.com").with_names("Grace", "Hopper"));
    source.insert_group(Group::new("jc-g", "Engineering"));
    source.add_member("jc-g", "jc-1");
    let store = Arc::new(FakeIdentityStore::new("d-1234567890"));
    let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::in_memory())
        .with_external_id_marks(DEFAULT_ISSUER);
    let policy = Policy::default();

    let plan = plan_sync(&source, &Scope::All, &target, &policy)
        .await
        .unwrap();
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "{report:#?}");

    let users: Vec<_> = store.list_users().try_collect().await.unwrap();
    for user in &users {
        assert_eq!(user.external_ids.len(), 1, "{user:?}");
        assert_eq!(user.external_ids[0].issuer, DEFAULT_ISSUER);
    }
    let mut marked: Vec<_> = users
        .iter()
        .map(|u| u.external_ids[0].id.as_str())
        .collect();
    marked.sort_unstable();
    assert_eq!(marked, ["jc-1", "jc-2"]);

    // A fresh, empty record: users are ours by their marks. The group's mark lived only in
    // the lost record, so the group is taken over by name again — an adoption, not a copy.
    let forgetful = IdentityStoreTarget::new(store.clone(), OwnershipRecord::in_memory())
        .with_external_id_marks(DEFAULT_ISSUER);
    let again = plan_sync(&source, &Scope::All, &forgetful, &policy)
        .await
        .unwrap();
    let counts = again.counts();
    assert_eq!(counts.get("create_user"), None, "{counts:?}");
    assert_eq!(counts.get("update_user"), None, "{counts:?}");
    assert_eq!(counts.get("create_group"), None, "{counts:?}");
}
