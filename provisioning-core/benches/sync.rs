//! Sync benchmark (not a timed test): JumpCloud to the Identity Store through the real
//! connectors, against the JumpCloud fake (HTTP on loopback) and the Identity Store fake
//! limited like the service — 20 requests/s collectively, 150 ms per call — with our
//! client's shared limiter in front of it (18 requests/s, as `SdkIdentityStore` paces).
//!
//! ```sh
//! cargo bench -p provisioning-core --bench sync             # all parts
//! cargo bench -p provisioning-core --bench sync -- calls    # (a) no-op and 100 changes
//! cargo bench -p provisioning-core --bench sync -- cold     # (b) cold sync wall time
//! cargo bench -p provisioning-core --bench sync -- compare  # (c) other tools' call counts
//! SYNC_BENCH_COLD_USERS=10000 cargo bench -p provisioning-core --bench sync -- cold
//! ```
//!
//! - (a) 10,000 users, 500 groups, 50,000 memberships already in sync: the no-op sync makes
//!   only the list calls the page sizes require on each side and zero writes; then 100
//!   source changes make exactly the writes they need.
//! - (b) a cold sync (empty target) takes at most 1.15 × its calls ÷ 20 s, with zero
//!   throttling failures. At full size that is 60,500 writes, about 56 minutes: the default
//!   is 1,000 users, 50 groups and 5,000 memberships (`SYNC_BENCH_COLD_USERS` scales it).
//! - (c) the calls the same workload costs with the call patterns of the tools described in
//!   shared/reference/aws.md §8, computed from those patterns.
//!
//! Record the output in docs/performance.md.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_access::fake::FakeIdentityStore;
use aws_access::identity_store::rate_limiter;
use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::ids::{GroupId, UserId};
use jumpcloud_api::models::NewSystemUser;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::jumpcloud::JumpCloudSource;
use provisioning_core::connectors::ownership::OwnershipRecord;
use provisioning_core::model::Scope;
use provisioning_core::plan::Plan;
use provisioning_core::policy::Policy;
use provisioning_core::report::Report;
use provisioning_core::sync::plan_sync;
use serde_json::json;

const SERVICE_RATE: u32 = 20;
const CLIENT_RATE: u32 = 18;
const LATENCY: Duration = Duration::from_millis(150);
const PAGE: u64 = 100;

#[derive(Debug, Clone, Copy)]
struct Shape {
    users: usize,
    groups: usize,
    per_group: usize,
}

impl Shape {
    fn memberships(self) -> usize {
        self.groups * self.per_group
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} users, {} groups, {} memberships",
            self.users,
            self.groups,
            self.memberships()
        )
    }
}

struct Directory {
    jc: FakeJumpCloud,
    users: Vec<UserId>,
    groups: Vec<GroupId>,
}

/// Every group holds `per_group` users, spread so that each user is in
/// `groups × per_group ÷ users` groups; every group is bound to the `AWS SSO` application.
async fn jumpcloud(shape: Shape) -> Directory {
    let jc = FakeJumpCloud::start().await;
    let users: Vec<UserId> = (0..shape.users)
        .map(|i| {
            jc.add_user(
                NewSystemUser::new(format!("user{i:05}"), format!("user{i:05}@example.com"))
                    .names(format!("Given{i}"), format!("Family{i}")),
            )
        })
        .collect();
    let app = jc.add_application("aws", "AWS SSO");
    let stride = (shape.users / shape.groups).max(1);
    let groups: Vec<GroupId> = (0..shape.groups)
        .map(|g| {
            let group = jc.add_group(&format!("Team {g:03}"));
            for k in 0..shape.per_group {
                jc.add_member(&group, &users[(g * stride + k) % shape.users]);
            }
            jc.associate_group(&app, &group);
            group
        })
        .collect();
    Directory { jc, users, groups }
}

fn limited(store: FakeIdentityStore, id: &str) -> FakeIdentityStore {
    store
        .with_latency(LATENCY)
        .with_rate_limit(NonZeroU32::new(SERVICE_RATE).unwrap())
        .paced_by(rate_limiter(id, NonZeroU32::new(CLIENT_RATE).unwrap()))
}

fn record_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("sync-bench-{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn diff(
    after: &BTreeMap<&'static str, u64>,
    before: &BTreeMap<&'static str, u64>,
) -> BTreeMap<&'static str, u64> {
    after
        .iter()
        .map(|(k, v)| (*k, v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn is_read(operation: &str) -> bool {
    ["List", "Describe", "Get", "IsMember"]
        .iter()
        .any(|p| operation.starts_with(p))
}

fn split(calls: &BTreeMap<&'static str, u64>) -> (u64, u64) {
    let reads = calls
        .iter()
        .filter(|(k, _)| is_read(k))
        .map(|(_, v)| v)
        .sum();
    let writes = calls
        .iter()
        .filter(|(k, _)| !is_read(k))
        .map(|(_, v)| v)
        .sum();
    (reads, writes)
}

fn pages(n: usize) -> u64 {
    (n as u64).div_ceil(PAGE).max(1)
}

async fn sync(
    source: &JumpCloudSource,
    target: &IdentityStoreTarget,
    apply_it: bool,
) -> (Plan, Report) {
    let plan = plan_sync(
        source,
        &Scope::Application("AWS SSO".into()),
        target,
        &Policy::default(),
    )
    .await
    .expect("both sides read");
    let report = if apply_it && !plan.is_empty() {
        apply(&plan, target, &ApplyOptions::default()).await
    } else {
        Report::default()
    };
    (plan, report)
}

async fn calls() {
    let shape = Shape {
        users: 10_000,
        groups: 500,
        per_group: 100,
    };
    println!(
        "(a) calls: {shape}; Identity Store fake at {SERVICE_RATE} req/s, {} ms; client limiter {CLIENT_RATE} req/s",
        LATENCY.as_millis()
    );
    let dir = jumpcloud(shape).await;
    let source = JumpCloudSource::new(dir.jc.client());
    let id = "d-bench00001";
    let path = record_path("calls");

    // Bring the target in sync without limits (the starting state, not measured).
    let store = Arc::new(FakeIdentityStore::new(id));
    let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::open(&path).unwrap());
    let started = Instant::now();
    let (plan, report) = sync(&source, &target, true).await;
    assert!(report.is_success(), "the setup sync failed");
    println!(
        "  setup (unlimited store): {} changes applied in {:.1}s",
        plan.changes.len(),
        started.elapsed().as_secs_f64()
    );
    drop(target);
    let store = Arc::new(limited(Arc::into_inner(store).expect("one owner"), id));
    let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::open(&path).unwrap());

    // The no-op sync.
    let (before, jc_before) = (store.calls(), dir.jc.requests());
    let started = Instant::now();
    let (plan, _) = sync(&source, &target, true).await;
    let wall = started.elapsed();
    let target_calls = diff(&store.calls(), &before);
    let (reads, writes) = split(&target_calls);
    let jc_calls = dir.jc.requests() - jc_before;
    // The application lookup, the groups, the application's associations, the users.
    let jc_needed = 1
        + 2 * pages(shape.groups)
        + pages(shape.users)
        + (0..shape.groups)
            .map(|_| pages(shape.per_group))
            .sum::<u64>();
    let store_needed = pages(shape.users)
        + pages(shape.groups)
        + (0..shape.groups)
            .map(|_| pages(shape.per_group))
            .sum::<u64>();
    println!(
        "  no-op sync: {} changes planned; wall {:.1}s",
        plan.changes.len(),
        wall.as_secs_f64()
    );
    println!(
        "    Identity Store: {reads} list calls (page sizes require {store_needed}), {writes} writes: {target_calls:?}"
    );
    println!(
        "    JumpCloud: {jc_calls} requests (page sizes require {jc_needed}: 1 application lookup, ⌈G/100⌉ groups, ⌈G/100⌉ associations, ⌈U/100⌉ users, Σ⌈m/100⌉ members)"
    );
    assert!(
        plan.is_empty() && writes == 0,
        "a no-op sync must write nothing"
    );

    // 100 source changes: 25 joiners (each into one group), 25 renames, 25 leavers from a
    // group, 25 existing users added to another group.
    let mut expected: BTreeMap<&'static str, u64> = BTreeMap::new();
    for i in 0..25 {
        let user = dir.jc.add_user(
            NewSystemUser::new(format!("joiner{i:02}"), format!("joiner{i:02}@example.com"))
                .names("New", format!("Joiner{i}")),
        );
        dir.jc.add_member(&dir.groups[i], &user);
    }
    *expected.entry("CreateUser").or_default() += 25;
    *expected.entry("CreateGroupMembership").or_default() += 25;
    for i in 0..25 {
        dir.jc.set_user_field(
            &dir.users[1000 + i],
            "lastname",
            json!(format!("Renamed{i}")),
        );
    }
    *expected.entry("UpdateUser").or_default() += 25;
    let stride = shape.users / shape.groups;
    for g in 100..125 {
        // The group's first member leaves it (and stays in its other groups).
        dir.jc.remove_member(&dir.groups[g], &dir.users[g * stride]);
    }
    *expected.entry("DeleteGroupMembership").or_default() += 25;
    for g in 200..225 {
        // A user not yet in this group joins it.
        dir.jc.add_member(
            &dir.groups[g],
            &dir.users[(g * stride + 5_000) % shape.users],
        );
    }
    *expected.entry("CreateGroupMembership").or_default() += 25;

    let (before, jc_before) = (store.calls(), dir.jc.requests());
    let started = Instant::now();
    let (plan, report) = sync(&source, &target, true).await;
    let wall = started.elapsed();
    let target_calls = diff(&store.calls(), &before);
    let (reads, writes) = split(&target_calls);
    let write_calls: BTreeMap<&'static str, u64> = target_calls
        .iter()
        .filter(|(k, _)| !is_read(k))
        .map(|(k, v)| (*k, *v))
        .collect();
    println!(
        "  after 100 source changes: {} changes planned, {} ok, {} failed; wall {:.1}s",
        plan.changes.len(),
        report.counts().ok,
        report.counts().failed,
        wall.as_secs_f64()
    );
    println!("    Identity Store: {reads} list calls, {writes} writes: {write_calls:?}");
    println!(
        "    expected writes: {expected:?} -> {}",
        if write_calls == expected {
            "exactly these"
        } else {
            "MISMATCH"
        }
    );
    println!("    JumpCloud: {} requests", dir.jc.requests() - jc_before);
    let (again, _) = sync(&source, &target, false).await;
    println!("  plan after that: {} changes", again.changes.len());
    let _ = std::fs::remove_file(&path);
}

async fn cold() {
    let users: usize = std::env::var("SYNC_BENCH_COLD_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let shape = Shape {
        users,
        groups: (users / 20).max(1),
        per_group: 100.min(users),
    };
    println!(
        "(b) cold sync: {shape} into an empty Identity Store fake at {SERVICE_RATE} req/s, {} ms",
        LATENCY.as_millis()
    );
    let dir = jumpcloud(shape).await;
    let source = JumpCloudSource::new(dir.jc.client());
    let id = "d-bench00002";
    let path = record_path("cold");
    let store = Arc::new(limited(FakeIdentityStore::new(id), id));
    let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::open(&path).unwrap());
    let started = Instant::now();
    let (plan, report) = sync(&source, &target, true).await;
    let wall = started.elapsed();
    let calls = store.calls();
    let (reads, writes) = split(&calls);
    let total = reads + writes;
    let bound = 1.15 * total as f64 / f64::from(SERVICE_RATE);
    println!(
        "  {} changes: {} ok, {} failed",
        plan.changes.len(),
        report.counts().ok,
        report.counts().failed
    );
    println!("  calls: {total} ({reads} reads, {writes} writes): {calls:?}");
    println!(
        "  wall {:.1}s; calls/20 = {:.1}s; bound 1.15 x calls/20 = {bound:.1}s -> {}",
        wall.as_secs_f64(),
        total as f64 / f64::from(SERVICE_RATE),
        if wall.as_secs_f64() <= bound {
            "within"
        } else {
            "OVER"
        }
    );
    println!(
        "  throttling: {} refused by the service, {} retried by the executor, {} failures",
        store.throttled(),
        report.throttled,
        report.counts().failed
    );
    let (again, _) = sync(&source, &target, false).await;
    println!("  plan after that: {} changes", again.changes.len());
    let _ = std::fs::remove_file(&path);
}

/// (c) The workload's calls under other call patterns (shared/reference/aws.md §8 and
/// seed workflow 004), computed from the patterns; ours are the measured figures of (a)
/// and the planned writes of a cold sync.
fn compare() {
    let (u, g, per) = (10_000u64, 500u64, 100u64);
    let m = g * per;
    let reads = u.div_ceil(PAGE) + g.div_ceil(PAGE) + g * per.div_ceil(PAGE);
    let rows: [(&str, u64, u64); 4] = [
        (
            "identity-provisioning (this SDK): list and diff, one write per change",
            reads,
            2 + u + g + m,
        ),
        (
            "ssosync, groups method: lists + one SCIM GET per user for `active`; per-member lookup + one PATCH per membership",
            reads + u,
            2 + u + g + 2 * m,
        ),
        (
            "ssosync, legacy users_groups: IsMemberInGroups once per (user, group) pair",
            reads + u * g,
            2 + u + g + m + u * g,
        ),
        (
            "seed 004 script: GetUserId per user, GetGroupId per group, a membership check per (user, group)",
            u + g + m,
            u + g + m + u + g + m,
        ),
    ];
    println!("(c) {u} users, {g} groups, {m} memberships: calls, and time at {SERVICE_RATE} req/s");
    println!("| call pattern | no-op sync | at 20 req/s | cold sync | at 20 req/s |");
    println!("|---|---:|---:|---:|---:|");
    for (name, noop, cold) in rows {
        println!(
            "| {name} | {noop} | {} | {cold} | {} |",
            human(noop),
            human(cold)
        );
    }
}

fn human(calls: u64) -> String {
    let secs = calls / u64::from(SERVICE_RATE);
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{:.1} h", s as f64 / 3600.0),
        s => format!("{:.1} days", s as f64 / 86_400.0),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |part: &str| args.is_empty() || args.iter().any(|a| a == part);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    if wants("compare") {
        compare();
    }
    if wants("calls") {
        runtime.block_on(calls());
    }
    if wants("cold") {
        runtime.block_on(cold());
    }
}
