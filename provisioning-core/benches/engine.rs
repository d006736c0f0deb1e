//! Engine benchmark (not a timed test). Run it with
//!
//! ```sh
//! cargo bench -p provisioning-core --bench engine            # both parts
//! cargo bench -p provisioning-core --bench engine -- plan    # planning only
//! cargo bench -p provisioning-core --bench engine -- apply   # the paced apply only
//! ```
//!
//! and record its output in docs/performance.md.
//!
//! - plan: IAM Identity Center's maximum directory (100,000 users, 10,000 groups,
//!   1,000,000 memberships) from an empty target, then the no-op plan against a target that
//!   already mirrors it; wall time and peak memory (VmHWM). Targets: under 2 s, under 1 GiB,
//!   and zero changes for the no-op.
//! - apply: a 2,000-change plan applied to the in-memory target limited to 20 requests/s
//!   with 150 ms latency (the Identity Store's collective quota). Target: at most
//!   1.15 × 2,000 / 20 = 115 s, with no throttling failure.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::{Capabilities, TargetReader};
use provisioning_core::mapping::AttributeMapping;
use provisioning_core::memory::MemoryDirectory;
use provisioning_core::model::{ExternalId, Group, Membership, Snapshot, User};
use provisioning_core::plan::plan;
use provisioning_core::policy::{DEFAULT_ISSUER, Policy};

fn source(users: usize, groups: usize, groups_per_user: usize) -> Snapshot {
    let mut s = Snapshot::default();
    for i in 0..users {
        s.users.push(
            User::new(format!("u{i:06}"), format!("user{i:06}@example.com"))
                .with_names(format!("Given{i}"), format!("Family{i}"))
                .with_email(format!("user{i:06}@example.com")),
        );
    }
    for g in 0..groups {
        s.groups
            .push(Group::new(format!("g{g:05}"), format!("group-{g:05}")));
    }
    for i in 0..users {
        for k in 0..groups_per_user {
            let g = (i * 7 + k * 1_009) % groups;
            s.memberships.insert(Membership {
                group_id: format!("g{g:05}"),
                user_id: format!("u{i:06}"),
            });
        }
    }
    s
}

/// What a target looks like once it mirrors `source`.
fn mirror(source: &Snapshot, mapping: &AttributeMapping) -> Snapshot {
    let mut t = Snapshot::default();
    for s in &source.users {
        let mut user = mapping.map_user(s);
        user.id = format!("t-{}", s.id);
        user.external_id = Some(ExternalId::new(DEFAULT_ISSUER, &s.id));
        t.users.push(user);
    }
    for g in &source.groups {
        let mut group = g.clone();
        group.id = format!("t-{}", g.id);
        group.external_id = Some(ExternalId::new(DEFAULT_ISSUER, &g.id));
        t.groups.push(group);
    }
    t.memberships = source
        .memberships
        .iter()
        .map(|m| Membership {
            group_id: format!("t-{}", m.group_id),
            user_id: format!("t-{}", m.user_id),
        })
        .collect();
    t
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn bench_plan() {
    let policy = Policy::default();
    let mut caps = Capabilities::default();
    caps.requires_names = true;
    caps.max_members_per_request = 100;
    let source = source(100_000, 10_000, 10);
    println!(
        "plan: source of {} users, {} groups, {} memberships",
        source.users.len(),
        source.groups.len(),
        source.memberships.len()
    );
    let started = Instant::now();
    let cold = plan(&source, &Snapshot::default(), &caps, &policy);
    let cold_time = started.elapsed();
    println!(
        "plan: cold (empty target): {} changes in {:.3} s",
        cold.changes.len(),
        cold_time.as_secs_f64()
    );
    drop(cold);

    let target = mirror(&source, &policy.mapping);
    let started = Instant::now();
    let noop = plan(&source, &target, &caps, &policy);
    let noop_time = started.elapsed();
    println!(
        "plan: no-op (mirrored target): {} changes in {:.3} s",
        noop.changes.len(),
        noop_time.as_secs_f64()
    );
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    println!("plan: peak memory of the process (both snapshots, both plans): {peak:.0} MiB");
    let ok = cold_time < Duration::from_secs(2)
        && noop_time < Duration::from_secs(2)
        && peak < 1024.0
        && noop.is_empty();
    println!(
        "plan: targets (< 2 s each, < 1024 MiB, no-op empty): {}",
        if ok { "met" } else { "NOT MET" }
    );
}

fn bench_apply() {
    const RATE: u32 = 20;
    let latency = Duration::from_millis(150);
    // 1,000 users, 20 groups and 980 single-member additions: 2,000 changes.
    let mut source = source(1_000, 20, 1);
    let kept: Vec<Membership> = source.memberships.iter().take(980).cloned().collect();
    source.memberships = kept.into_iter().collect();
    let mut caps = Capabilities::default();
    caps.max_members_per_request = 1; // the Identity Store adds one member per call
    let target = MemoryDirectory::default()
        .with_capabilities(caps)
        .with_latency(latency)
        .with_rate_limit(NonZeroU32::new(RATE).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let plan = plan(&source, &Snapshot::default(), &target.capabilities(), &Policy::default());
        let changes = plan.changes.len();
        println!("apply: {changes} changes to a target limited to {RATE} requests/s with {} ms latency", latency.as_millis());
        let report = apply(&plan, &target, &ApplyOptions::default()).await;
        let counts = report.counts();
        let bound = 1.15 * changes as f64 / f64::from(RATE);
        let secs = report.duration.as_secs_f64();
        println!(
            "apply: {} ok, {} failed, {} skipped in {secs:.1} s ({:.1} writes/s); bound 1.15 x {changes} / {RATE} = {bound:.1} s",
            counts.ok,
            counts.failed,
            counts.skipped,
            report.total_calls() as f64 / secs
        );
        println!(
            "apply: throttled responses: {} seen by the executor, {} counted by the target; failures from throttling: {}",
            report.throttled,
            target.throttled(),
            report.outcomes.iter().filter(|o| matches!(&o.status, provisioning_core::report::Status::Failed { class: provisioning_core::connector::ErrorClass::RateLimited, .. })).count()
        );
        let ok = secs <= bound && counts.failed == 0;
        println!("apply: target (<= {bound:.1} s, no failure): {}", if ok { "met" } else { "NOT MET" });
    });
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let all = args.is_empty();
    println!(
        "machine: {} logical CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if all || args.iter().any(|a| a == "plan") {
        bench_plan();
    }
    if all || args.iter().any(|a| a == "apply") {
        bench_apply();
    }
}
