//! The reads overlap: a sync reads its source while it reads its target, and the Identity
//! Store target reads its chain of user pages while it reads its groups and their member
//! lists. Checked by what is in flight at once — the fake store records which calls'
//! latencies overlap, and the source waits for a target call to be in flight — not by a
//! clock: read one after another, these tests fail whatever the machine's speed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_access::fake::FakeIdentityStore;
use aws_access::identity_store::{IdentityStore, NewUser, OnConflict};
use provisioning_core::connector::{ConnectorError, ErrorClass, Source, TargetReader};
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::ownership::OwnershipRecord;
use provisioning_core::model::{Scope, Snapshot, User};
use provisioning_core::policy::Policy;
use provisioning_core::sync::read_both;

const LATENCY: Duration = Duration::from_millis(20);

/// A store of `users` users and `groups` groups of 20 members, every call `LATENCY` long.
async fn store(users: usize, groups: usize) -> Arc<FakeIdentityStore> {
    let store = Arc::new(FakeIdentityStore::new("d-1234567890"));
    let mut ids = Vec::new();
    for n in 0..users {
        let user = NewUser::new(format!("user{n}"), "Given", "Family");
        ids.push(
            store
                .create_user(&user, OnConflict::Fail)
                .await
                .unwrap()
                .value
                .id,
        );
    }
    for g in 0..groups {
        let name = format!("group{g}");
        let group = store
            .create_group(&name, None, OnConflict::Fail)
            .await
            .unwrap();
        for user in ids.iter().skip(g).step_by(groups).take(20) {
            store.add_member(&group.value.id, user).await.unwrap();
        }
    }
    // Latency from now on: the reads, not the setup.
    Arc::new(Arc::try_unwrap(store).unwrap().with_latency(LATENCY))
}

/// A source whose read ends only once the target store has a call in flight: a sync that
/// read the source before (or after) the target would make it wait in vain.
struct WaitsForTheTarget {
    store: Arc<FakeIdentityStore>,
}

#[async_trait]
impl Source for WaitsForTheTarget {
    async fn read(&self, _scope: &Scope) -> Result<Snapshot, ConnectorError> {
        let watching = async {
            while self.store.in_flight() == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), watching)
            .await
            .map_err(|_| {
                ConnectorError::new(
                    ErrorClass::Fatal,
                    "the target was not read while the source was",
                )
            })?;
        let mut snapshot = Snapshot::default();
        snapshot.users.push(User::new("s1", "user0"));
        Ok(snapshot)
    }
}

#[tokio::test]
async fn a_sync_reads_its_source_while_it_reads_its_target() {
    let store = store(250, 2).await;
    let source = WaitsForTheTarget {
        store: store.clone(),
    };
    let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::in_memory());
    let (wanted, actual) = read_both(&source, &Scope::All, &target, &Policy::default())
        .await
        .expect("both sides read at once");
    assert_eq!((wanted.users.len(), actual.users.len()), (1, 250));
}

#[tokio::test]
async fn the_identity_store_reads_its_user_pages_while_it_reads_groups_and_members() {
    // 1,000 users: a chain of 10 pages. 250 groups: 3 pages, and 250 member lists.
    let store = store(1_000, 250).await;
    let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::in_memory());
    let snapshot = target.read().await.unwrap();
    assert_eq!(snapshot.groups.len(), 250);
    assert_eq!(
        (snapshot.users.len(), snapshot.memberships.len()),
        (1_000, 1_000)
    );
    let calls = store.calls();
    assert_eq!(
        (
            calls["ListUsers"],
            calls["ListGroups"],
            calls["ListGroupMemberships"]
        ),
        (10, 3, 250)
    );
    assert!(
        store.overlapped("ListGroups", "ListGroupMemberships"),
        "member lists start with the first page of groups, not after the last"
    );
    assert!(
        store.overlapped("ListUsers", "ListGroups"),
        "the group pages are read while the user pages are"
    );
    assert!(
        store.overlapped("ListUsers", "ListGroupMemberships"),
        "the member lists are read while the user pages are"
    );
    assert!(
        store.peak_in_flight("ListGroupMemberships") > 1,
        "several member lists are in flight at once"
    );
    assert_eq!(
        store.peak_in_flight("ListUsers"),
        1,
        "a NextToken chain is one at a time"
    );
}
