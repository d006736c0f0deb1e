//! Sync benchmark (not a timed test): JumpCloud to the Identity Store through the real
//! connectors.
//!
//! (a) and (b) run through the **real clients, counted at the wire**: `SdkIdentityStore`
//! (the real aws-sdk-identitystore client, configured as `provision` configures it) sends to
//! moto behind `test_peers::pacing::PacingProxy` — 20 requests/s with a second of burst,
//! 150 ms per answer, `ThrottlingException` over the rate, every request counted by
//! `X-Amz-Target` — and `JumpCloudSource` reads the JumpCloud fake over loopback HTTP through
//! the real JumpCloud client. moto is the test command's (`TEST_PEER_MOTO_URL`) or, when that
//! is unset, one the benchmark starts from `.peers/moto` (run `scripts/test-all` once to
//! install it).
//!
//! (a') and (b') are the **planner/executor figures**: the same workloads against
//! `FakeIdentityStore`, a fake *below* the SDK client limited like the service; they measure
//! the engine, not what the client sends.
//!
//! ```sh
//! cargo bench -p provisioning-core --bench sync                   # all parts
//! cargo bench -p provisioning-core --bench sync -- calls          # (a) no-op and 100 changes, at the wire
//! cargo bench -p provisioning-core --bench sync -- cold           # (b) cold sync, at the wire
//! cargo bench -p provisioning-core --bench sync -- engine-calls   # (a') the same on the fake
//! cargo bench -p provisioning-core --bench sync -- engine-cold    # (b') the same on the fake
//! cargo bench -p provisioning-core --bench sync -- compare        # (c) other tools' call counts
//! SYNC_BENCH_COLD_USERS=10000 cargo bench -p provisioning-core --bench sync -- cold
//! ```
//!
//! - (a) 10,000 users, 500 groups, 50,000 memberships already in sync: the no-op sync makes
//!   only the list calls the page sizes require on each side and zero writes, within
//!   1.15 × max(list calls ÷ 20, the longest `NextToken` chain × latency); then 100 source
//!   changes make exactly the writes they need.
//! - (b) a cold sync (empty target) makes at most 1.01 × (writes + list pages) calls and
//!   takes at most 1.15 × its calls ÷ 20 s, with zero throttling failures. At full size that
//!   is 60,500 writes, about 56 minutes: the default is 1,000 users, 50 groups and 5,000
//!   memberships (`SYNC_BENCH_COLD_USERS` scales it).
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

fn diff<K: Ord + Clone>(after: &BTreeMap<K, u64>, before: &BTreeMap<K, u64>) -> BTreeMap<K, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn is_read(operation: &str) -> bool {
    ["List", "Describe", "Get", "IsMember"]
        .iter()
        .any(|p| operation.starts_with(p))
}

fn split<K: AsRef<str>>(calls: &BTreeMap<K, u64>) -> (u64, u64) {
    let reads = calls
        .iter()
        .filter(|(k, _)| is_read(k.as_ref()))
        .map(|(_, v)| v)
        .sum();
    let writes = calls
        .iter()
        .filter(|(k, _)| !is_read(k.as_ref()))
        .map(|(_, v)| v)
        .sum();
    (reads, writes)
}

/// The writes among `calls`, by operation.
fn writes_of<K: AsRef<str> + Ord + Clone>(calls: &BTreeMap<K, u64>) -> BTreeMap<String, u64> {
    calls
        .iter()
        .filter(|(k, _)| !is_read(k.as_ref()))
        .map(|(k, v)| (k.as_ref().to_owned(), *v))
        .collect()
}

/// The JumpCloud requests a read of `shape` needs at 100 a page: the application lookup,
/// the groups, the application's associations, the users, each group's members.
fn jumpcloud_pages(shape: Shape) -> u64 {
    1 + 2 * pages(shape.groups) + pages(shape.users) + shape.groups as u64 * pages(shape.per_group)
}

/// The Identity Store list calls a read of `shape` needs at 100 a page.
fn store_pages(shape: Shape) -> u64 {
    pages(shape.users) + pages(shape.groups) + shape.groups as u64 * pages(shape.per_group)
}

/// What the 100 source changes hold besides joiners, leavers and members added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Movers {
    /// 25 renames (`UpdateUser`).
    Renames,
    /// 25 more existing users added to a group: moto has no `UpdateUser` (its Identity
    /// Store answers it as an unknown operation), so the wire benchmark cannot rename.
    MoreMembers,
}

/// 100 source changes: 25 joiners (each into one group), 25 renames (or, see [`Movers`],
/// 25 more members added), 25 leavers from a group, 25 existing users added to another
/// group. Returns the writes they need.
fn hundred_changes(dir: &Directory, shape: Shape, movers: Movers) -> BTreeMap<String, u64> {
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for i in 0..25 {
        let user = dir.jc.add_user(
            NewSystemUser::new(format!("joiner{i:02}"), format!("joiner{i:02}@example.com"))
                .names("New", format!("Joiner{i}")),
        );
        dir.jc.add_member(&dir.groups[i], &user);
    }
    *expected.entry("CreateUser".into()).or_default() += 25;
    *expected.entry("CreateGroupMembership".into()).or_default() += 25;
    let stride = shape.users / shape.groups;
    match movers {
        Movers::Renames => {
            for i in 0..25 {
                dir.jc.set_user_field(
                    &dir.users[1000 + i],
                    "lastname",
                    json!(format!("Renamed{i}")),
                );
            }
            *expected.entry("UpdateUser".into()).or_default() += 25;
        }
        Movers::MoreMembers => {
            for g in 300..325 {
                dir.jc.add_member(
                    &dir.groups[g],
                    &dir.users[(g * stride + 5_000) % shape.users],
                );
            }
            *expected.entry("CreateGroupMembership".into()).or_default() += 25;
        }
    }
    for g in 100..125 {
        // The group's first member leaves it (and stays in its other groups).
        dir.jc.remove_member(&dir.groups[g], &dir.users[g * stride]);
    }
    *expected.entry("DeleteGroupMembership".into()).or_default() += 25;
    for g in 200..225 {
        // A user not yet in this group joins it.
        dir.jc.add_member(
            &dir.groups[g],
            &dir.users[(g * stride + 5_000) % shape.users],
        );
    }
    *expected.entry("CreateGroupMembership".into()).or_default() += 25;
    expected
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

async fn engine_calls() {
    let shape = Shape {
        users: 10_000,
        groups: 500,
        per_group: 100,
    };
    println!(
        "(a') planner/executor figure, FakeIdentityStore below the client (not the wire): {shape}; fake at {SERVICE_RATE} req/s, {} ms; client limiter {CLIENT_RATE} req/s",
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
    let (jc_needed, store_needed) = (jumpcloud_pages(shape), store_pages(shape));
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

    let expected = hundred_changes(&dir, shape, Movers::Renames);

    let (before, jc_before) = (store.calls(), dir.jc.requests());
    let started = Instant::now();
    let (plan, report) = sync(&source, &target, true).await;
    let wall = started.elapsed();
    let target_calls = diff(&store.calls(), &before);
    let (reads, writes) = split(&target_calls);
    let write_calls = writes_of(&target_calls);
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

async fn engine_cold() {
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
        "(b') planner/executor figure, FakeIdentityStore below the client (not the wire): cold sync of {shape} into an empty fake at {SERVICE_RATE} req/s, {} ms",
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
        runtime.block_on(wire::calls());
    }
    if wants("cold") {
        runtime.block_on(wire::cold());
    }
    if wants("engine-calls") {
        runtime.block_on(engine_calls());
    }
    if wants("engine-cold") {
        runtime.block_on(engine_cold());
    }
}

/// (a) and (b) through the real clients, counted at the wire: `SdkIdentityStore` (the real
/// aws-sdk-identitystore client, configured as `provision` configures it: adaptive retries,
/// the 18 requests/s limiter) sending to moto behind `test_peers::pacing::PacingProxy` — 20
/// requests/s with one second of burst, 150 ms per answer, `ThrottlingException` over the
/// rate — which counts every request by `X-Amz-Target`; `JumpCloudSource` on the real
/// JumpCloud client over loopback HTTP to the JumpCloud fake, which counts the requests it
/// serves.
mod wire {
    use super::*;

    use aws_access::config::{AwsSettings, load};
    use aws_access::identity_store::SdkIdentityStore;
    use test_peers::moto::OwnMoto;
    use test_peers::pacing::{Pacing, PacingProxy};

    /// moto: the test command's (`TEST_PEER_MOTO_URL`) or one of the bench's own.
    fn moto() -> (Option<OwnMoto>, String) {
        match std::env::var("TEST_PEER_MOTO_URL") {
            Ok(url) if !url.trim().is_empty() => (None, url),
            _ => {
                let own = OwnMoto::start().unwrap_or_else(|e| panic!("{e}"));
                let url = own.url().to_owned();
                (Some(own), url)
            }
        }
    }

    fn store_id() -> String {
        format!("d-{:010x}", fastrand::u64(..) % 0xff_ffff_ffff)
    }

    /// The client `provision` builds, at `url`, with moto's dummy credentials.
    async fn product_store(url: &str, store_id: &str) -> Arc<SdkIdentityStore> {
        let config = test_peers::with_moto_credentials(load(&AwsSettings::local(url)).await);
        Arc::new(SdkIdentityStore::new(&config, store_id))
    }

    /// An unpaced client straight to moto, for the starting state (not measured).
    async fn setup_store(moto: &str, store_id: &str) -> Arc<SdkIdentityStore> {
        let config = test_peers::sdk_config_for(moto).await;
        Arc::new(SdkIdentityStore::from_client(
            aws_sdk_identitystore::Client::new(&config),
            store_id,
            NonZeroU32::new(100_000).unwrap(),
        ))
    }

    fn pacing() -> Pacing {
        Pacing::per_second(SERVICE_RATE).latency(LATENCY)
    }

    fn verdict(ok: bool) -> &'static str {
        if ok { "within" } else { "OVER" }
    }

    pub async fn calls() {
        let shape = Shape {
            users: 10_000,
            groups: 500,
            per_group: 100,
        };
        println!(
            "(a) calls at the wire: {shape}; SdkIdentityStore -> pacing proxy ({SERVICE_RATE} req/s, {} ms) -> moto; JumpCloud client -> JumpCloud fake",
            LATENCY.as_millis()
        );
        let (_moto, moto_url) = moto();
        let dir = jumpcloud(shape).await;
        let source = JumpCloudSource::new(dir.jc.client());
        let id = store_id();
        let path = record_path("wire-calls");

        // The starting state, straight to moto (not measured).
        let started = Instant::now();
        let target = IdentityStoreTarget::new(
            setup_store(&moto_url, &id).await,
            OwnershipRecord::open(&path).unwrap(),
        );
        let mut fast = ApplyOptions::default();
        fast.concurrency = 32;
        fast.rate_limit = NonZeroU32::new(100_000);
        let plan = plan_sync(
            &source,
            &Scope::Application("AWS SSO".into()),
            &target,
            &Policy::default(),
        )
        .await
        .expect("both sides read");
        let report = apply(&plan, &target, &fast).await;
        assert!(report.is_success(), "the setup sync failed");
        println!(
            "  setup (straight to moto, unpaced): {} changes applied in {:.1}s",
            plan.changes.len(),
            started.elapsed().as_secs_f64()
        );
        drop(target);

        let proxy = PacingProxy::start(&moto_url, pacing()).await.unwrap();
        let target = IdentityStoreTarget::new(
            product_store(&proxy.url(), &id).await,
            OwnershipRecord::open(&path).unwrap(),
        );

        // The no-op sync.
        let jc_before = dir.jc.requests();
        let started = Instant::now();
        let (plan, _) = sync(&source, &target, true).await;
        let wall = started.elapsed().as_secs_f64();
        let sent = proxy.forwarded();
        let (reads, writes) = split(&sent);
        let jc_calls = dir.jc.requests() - jc_before;
        let (jc_needed, store_needed) = (jumpcloud_pages(shape), store_pages(shape));
        let chain = pages(shape.users) as f64 * LATENCY.as_secs_f64();
        let floor = (store_needed as f64 / f64::from(SERVICE_RATE)).max(chain);
        println!(
            "  no-op sync: {} changes planned; wall {wall:.2}s; floor max({store_needed}/{SERVICE_RATE} = {:.2}s, longest NextToken chain {} x {} ms = {chain:.1}s) = {floor:.2}s; bound 1.15 x floor = {:.2}s -> {}",
            plan.changes.len(),
            store_needed as f64 / f64::from(SERVICE_RATE),
            pages(shape.users),
            LATENCY.as_millis(),
            1.15 * floor,
            verdict(wall <= 1.15 * floor)
        );
        println!(
            "    Identity Store at the wire: {reads} list calls (page sizes require {store_needed}), {writes} writes, {} throttled: {sent:?}",
            proxy.throttled_total()
        );
        println!("    JumpCloud: {jc_calls} requests (page sizes require {jc_needed})");
        assert!(
            plan.is_empty() && writes == 0,
            "a no-op sync must write nothing"
        );
        // What moto itself takes to serve the same reads, with no proxy, latency or limit:
        // the part of the wall time that is the emulator's, not the client's.
        let unpaced = IdentityStoreTarget::new(
            setup_store(&moto_url, &id).await,
            OwnershipRecord::in_memory(),
        );
        let started = Instant::now();
        provisioning_core::connector::TargetReader::read(&unpaced)
            .await
            .expect("moto reads");
        println!(
            "    moto's own time for the same {store_needed} reads, unpaced and unlimited: {:.1}s",
            started.elapsed().as_secs_f64()
        );
        drop(unpaced);

        // moto cannot rename (no UpdateUser): 25 more members stand in for the renames.
        let expected = hundred_changes(&dir, shape, Movers::MoreMembers);
        proxy.reset_counts();
        let jc_before = dir.jc.requests();
        let started = Instant::now();
        let (plan, report) = sync(&source, &target, true).await;
        let wall = started.elapsed().as_secs_f64();
        let sent = proxy.forwarded();
        let (reads, writes) = split(&sent);
        let write_calls = writes_of(&sent);
        println!(
            "  after 100 source changes: {} changes planned, {} ok, {} failed; wall {wall:.1}s",
            plan.changes.len(),
            report.counts().ok,
            report.counts().failed,
        );
        println!(
            "    Identity Store at the wire: {reads} list calls, {writes} writes, {} throttled: {write_calls:?}",
            proxy.throttled_total()
        );
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

    pub async fn cold() {
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
            "(b) cold sync at the wire: {shape}; SdkIdentityStore -> pacing proxy ({SERVICE_RATE} req/s, {} ms) -> empty moto store",
            LATENCY.as_millis()
        );
        let (_moto, moto_url) = moto();
        let dir = jumpcloud(shape).await;
        let source = JumpCloudSource::new(dir.jc.client());
        let id = store_id();
        let path = record_path("wire-cold");
        let proxy = PacingProxy::start(&moto_url, pacing()).await.unwrap();
        let target = IdentityStoreTarget::new(
            product_store(&proxy.url(), &id).await,
            OwnershipRecord::open(&path).unwrap(),
        );
        let started = Instant::now();
        let (plan, report) = sync(&source, &target, true).await;
        let wall = started.elapsed().as_secs_f64();
        let sent = proxy.forwarded();
        let (reads, writes) = split(&sent);
        let total = reads + writes;
        let planned = plan.changes.len() as u64;
        let call_bound = 1.01 * (planned + reads) as f64;
        let time_bound = 1.15 * total as f64 / f64::from(SERVICE_RATE);
        println!(
            "  {planned} changes: {} ok, {} failed",
            report.counts().ok,
            report.counts().failed
        );
        println!(
            "  calls at the wire: {total} ({reads} list pages, {writes} writes) for {planned} changes; bound 1.01 x (changes + pages) = {call_bound:.0} -> {}: {sent:?}",
            verdict(total as f64 <= call_bound)
        );
        println!(
            "  wall {wall:.1}s; calls/20 = {:.1}s; bound 1.15 x calls/20 = {time_bound:.1}s -> {}",
            total as f64 / f64::from(SERVICE_RATE),
            verdict(wall <= time_bound)
        );
        println!(
            "  throttling: {} refused by the proxy, {} retried by the executor, {} failures",
            proxy.throttled_total(),
            report.throttled,
            report.counts().failed
        );
        let (again, _) = sync(&source, &target, false).await;
        println!("  plan after that: {} changes", again.changes.len());
        let _ = std::fs::remove_file(&path);
    }
}
