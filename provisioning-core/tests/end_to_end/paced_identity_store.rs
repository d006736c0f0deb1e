//! Fake JumpCloud → moto's Identity Store through the real clients, with moto behind the
//! pacing proxy (`test_peers::pacing`): the service's quota enforced and every request the
//! AWS SDK sends counted at the wire, by operation. The AWS client is configured exactly as
//! the `provision` command configures it (`aws_access::config::load`: adaptive retries,
//! timeouts; `SdkIdentityStore::new`: the default 18 requests/s limiter).
//!
//! The oracles are the proxy's counts and moto's own state read without the proxy, never the
//! engine's report alone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_access::config::{AwsSettings, load};
use aws_access::identity_store::SdkIdentityStore;
use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::models::NewSystemUser;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::jumpcloud::JumpCloudSource;
use provisioning_core::connectors::ownership::OwnershipRecord;
use provisioning_core::policy::Policy;
use provisioning_core::report::Report;
use provisioning_core::sync::plan_sync;
use test_peers::pacing::{Pacing, PacingProxy};

use crate::common;

/// `users` users in `groups` groups of `per_group`, every group bound to "AWS SSO".
async fn directory(users: usize, groups: usize, per_group: usize) -> FakeJumpCloud {
    let fake = FakeJumpCloud::start().await;
    let ids: Vec<_> = (0..users)
        .map(|i| {
            fake.add_user(
                NewSystemUser::new(format!("paced{i:03}"), format!("paced{i:03}@example.com"))
                    .names(format!("Given{i}"), format!("Family{i}")),
            )
        })
        .collect();
    let app = fake.add_application("aws", "AWS SSO");
    for g in 0..groups {
        let group = fake.add_group(&format!("Paced {g}"));
        for k in 0..per_group {
            fake.add_member(&group, &ids[(g * per_group + k) % users]);
        }
        fake.associate_group(&app, &group);
    }
    fake
}

/// The Identity Store client `provision` builds, pointed at `url`, with moto's dummy
/// credentials.
async fn product_client(url: &str) -> Arc<SdkIdentityStore> {
    let config = test_peers::with_moto_credentials(load(&AwsSettings::local(url)).await);
    let store_id = format!("d-{:010x}", fastrand::u64(..) % 0xff_ffff_ffff);
    Arc::new(SdkIdentityStore::new(&config, store_id))
}

/// A sync's two ends: the JumpCloud fake with the directory, and a fresh moto identity
/// store behind a pacing proxy granting `per_second` requests/s, 30 ms per answer.
struct Paced {
    _jc: FakeJumpCloud,
    proxy: PacingProxy,
    target: IdentityStoreTarget,
    source: JumpCloudSource,
    store_id: String,
}

async fn paced(users: usize, groups: usize, per_group: usize, per_second: u32) -> Paced {
    let jc = directory(users, groups, per_group).await;
    let proxy = PacingProxy::start(
        &test_peers::Peer::Moto.url(),
        Pacing::per_second(per_second).latency(Duration::from_millis(30)),
    )
    .await
    .unwrap();
    let store = product_client(&proxy.url()).await;
    let store_id = aws_access::identity_store::IdentityStore::store_id(store.as_ref()).to_owned();
    Paced {
        target: IdentityStoreTarget::new(store, OwnershipRecord::in_memory()),
        source: JumpCloudSource::new(jc.client()),
        _jc: jc,
        proxy,
        store_id,
    }
}

/// What moto holds for `store_id`, read directly (not through the proxy or the engine):
/// user names, group names, and (group name, user name) memberships.
/// The users, groups and (group, user) memberships `directory` holds, by name, computed
/// from how it builds them (not read through the connector).
fn expected_state(
    users: usize,
    groups: usize,
    per_group: usize,
) -> (
    BTreeSet<String>,
    BTreeSet<String>,
    BTreeSet<(String, String)>,
) {
    let user = |i: usize| format!("paced{i:03}");
    let names = (0..users).map(user).collect();
    let group_names = (0..groups).map(|g| format!("Paced {g}")).collect();
    let memberships = (0..groups)
        .flat_map(|g| {
            (0..per_group).map(move |k| (format!("Paced {g}"), user((g * per_group + k) % users)))
        })
        .collect();
    (names, group_names, memberships)
}

async fn moto_state(
    store_id: &str,
) -> (
    BTreeSet<String>,
    BTreeSet<String>,
    BTreeSet<(String, String)>,
) {
    let client = aws_sdk_identitystore::Client::new(&test_peers::moto_sdk_config().await);
    let users: Vec<_> = client
        .list_users()
        .identity_store_id(store_id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("moto lists users");
    let names: BTreeMap<String, String> = users
        .iter()
        .map(|u| {
            (
                u.user_id().to_owned(),
                u.user_name().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let groups: Vec<_> = client
        .list_groups()
        .identity_store_id(store_id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("moto lists groups");
    let mut memberships = BTreeSet::new();
    for group in &groups {
        let members: Vec<_> = client
            .list_group_memberships()
            .identity_store_id(store_id)
            .group_id(group.group_id())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .expect("moto lists memberships");
        for m in members {
            if let Some(aws_sdk_identitystore::types::MemberId::UserId(user)) = m.member_id() {
                memberships.insert((
                    group.display_name().unwrap_or("").to_owned(),
                    names.get(user).cloned().unwrap_or_default(),
                ));
            }
        }
    }
    (
        names.into_values().collect(),
        groups
            .iter()
            .map(|g| g.display_name().unwrap_or("").to_owned())
            .collect(),
        memberships,
    )
}

fn is_write(operation: &str) -> bool {
    ["Create", "Update", "Delete"]
        .iter()
        .any(|p| operation.starts_with(p))
}

fn split(calls: &BTreeMap<String, u64>) -> (u64, u64) {
    let writes = calls
        .iter()
        .filter(|(k, _)| is_write(k))
        .map(|(_, v)| v)
        .sum();
    let reads = calls
        .iter()
        .filter(|(k, _)| !is_write(k))
        .map(|(_, v)| v)
        .sum();
    (reads, writes)
}

async fn sync(
    source: &JumpCloudSource,
    target: &IdentityStoreTarget,
) -> (provisioning_core::plan::Plan, Report) {
    let plan = plan_sync(source, &common::scope(), target, &Policy::default())
        .await
        .expect("both sides read");
    assert!(plan.abort.is_none(), "{:?}", plan.abort);
    let report = apply(&plan, target, &ApplyOptions::default()).await;
    (plan, report)
}

#[tokio::test]
async fn through_the_real_sdk_a_cold_sync_costs_one_request_per_change_and_a_no_op_only_its_pages()
{
    let (users, groups, per_group) = (60, 3, 20);
    let Paced {
        proxy,
        target,
        source,
        store_id,
        _jc,
    } = paced(users, groups, per_group, 20).await;

    let (plan, report) = sync(&source, &target).await;
    assert_eq!(report.counts().failed, 0, "{report:?}");
    assert!(proxy.failed().is_empty(), "moto answered every request");
    let sent = proxy.forwarded();
    let (reads, writes) = split(&sent);
    let changes = (users + groups + groups * per_group) as u64;
    assert_eq!(plan.changes.len() as u64, changes, "{sent:?}");
    // One request per change: no DescribeUser after CreateUser, no GetGroupMembershipId
    // before CreateGroupMembership.
    assert_eq!(writes, changes, "{sent:?}");
    assert_eq!(sent.get("CreateUser"), Some(&(users as u64)), "{sent:?}");
    assert_eq!(
        sent.get("CreateGroupMembership"),
        Some(&((groups * per_group) as u64)),
        "{sent:?}"
    );
    // An empty store: one ListUsers page and one ListGroups page, nothing else.
    assert_eq!(reads, 2, "{sent:?}");
    assert_eq!(proxy.throttled_total(), 0, "{:?}", proxy.throttled());

    // moto holds exactly the source, read without the proxy.
    assert_eq!(
        moto_state(&store_id).await,
        expected_state(users, groups, per_group),
        "moto holds exactly the source's users, groups and memberships"
    );

    // A no-op sync costs the list pages only: 1 ListUsers, 1 ListGroups, one member list a
    // group, and no write.
    proxy.reset_counts();
    let plan = plan_sync(&source, &common::scope(), &target, &Policy::default())
        .await
        .unwrap();
    assert!(plan.is_empty(), "{:?}", plan.changes);
    let sent = proxy.forwarded();
    let expected: BTreeMap<String, u64> = [
        ("ListUsers".to_owned(), 1),
        ("ListGroups".to_owned(), 1),
        ("ListGroupMemberships".to_owned(), groups as u64),
    ]
    .into();
    assert_eq!(sent, expected);
}

#[tokio::test]
async fn with_the_service_granting_5_requests_per_second_the_pace_adapts_and_the_sync_converges() {
    // 40 users and 2 groups of 20: 82 writes. The client starts at its ceiling of 18
    // requests/s, the service grants 5 (other tools spend the rest of the quota).
    let (users, groups, per_group) = (40, 2, 20);
    let Paced {
        proxy,
        target,
        source,
        store_id,
        _jc,
    } = paced(users, groups, per_group, 5).await;

    let started = Instant::now();
    let (plan, report) = sync(&source, &target).await;
    let wall = started.elapsed();
    let (forwarded, throttled) = (proxy.forwarded_total(), proxy.throttled_total());
    let share = throttled as f64 / (forwarded + throttled) as f64;
    eprintln!(
        "5 requests/s: {} changes, {} ok, {} failed in {:.1}s; {forwarded} requests served, \
         {throttled} throttled ({:.1} %), {} throttled responses retried by the executor",
        plan.changes.len(),
        report.counts().ok,
        report.counts().failed,
        wall.as_secs_f64(),
        share * 100.0,
        report.throttled,
    );
    assert_eq!(report.counts().failed, 0, "{report:?}");
    // Measured: 12.5 % with the SDK's adaptive mode; 54.8 % with standard mode and 8 attempts
    // (what the client ran before), which this bound fails.
    assert!(
        share <= 0.2,
        "{throttled} of {} requests throttled",
        forwarded + throttled
    );
    assert_eq!(
        moto_state(&store_id).await,
        expected_state(users, groups, per_group),
        "moto holds exactly the source's users, groups and memberships"
    );
    let again = plan_sync(&source, &common::scope(), &target, &Policy::default())
        .await
        .unwrap();
    assert!(again.is_empty(), "{:?}", again.changes);
}
