//! Streams every user from the fake JumpCloud (no injected latency) and reports users per
//! second and the memory streaming adds. Not a timed test; record the output in
//! docs/performance.md:
//!
//! ```sh
//! cargo bench -p jumpcloud-api --features fake --bench stream_users
//! ```
//!
//! Targets: at least 100,000 users/s for 100,000 users, and client memory that does not grow
//! with the number of users (a few pages in flight, not the whole list).
//!
//! The fake runs in the same process and is built on wiremock, whose mounted mock keeps a
//! copy of every request it matched (wiremock 0.6.5 `MountedMock::matched_requests`): the
//! process grows by a fixed amount per request whatever the client does. The benchmark
//! measures that cost first (the same page fetched again and again), and reports what remains
//! once it is taken out: the client's share.

use std::time::Instant;

use futures::TryStreamExt;
use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::models::NewSystemUser;

fn rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0.0)
}

async fn fake_with(users: usize) -> FakeJumpCloud {
    let fake = FakeJumpCloud::start().await;
    for i in 0..users {
        fake.add_user(
            NewSystemUser::new(format!("user{i:06}"), format!("user{i:06}@example.com"))
                .names(format!("Given{i}"), "Family"),
        );
    }
    // Warm up: the fake builds its id index, the client its connection.
    fake.client()
        .users()
        .list()
        .limit(1)
        .page(0)
        .await
        .expect("the fake answers");
    fake
}

/// KiB the process keeps per request the fake serves (a 100-user page, fetched again and again).
async fn retained_per_request() -> f64 {
    let fake = fake_with(100).await;
    let jc = fake.client();
    let before = rss_kib();
    let rounds = 2_000;
    for _ in 0..rounds {
        jc.users().list().page(0).await.expect("the fake answers");
    }
    (rss_kib() - before) / f64::from(rounds)
}

async fn stream(users: usize, per_request: f64) {
    let fake = fake_with(users).await;
    let jc = fake.client();
    let (before, requests_before) = (rss_kib(), fake.requests());
    let started = Instant::now();
    let mut all = jc.users().list().stream();
    let mut seen = 0usize;
    while let Some(user) = all.try_next().await.expect("the fake answers") {
        seen += usize::from(!user.username.is_empty());
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(seen, users, "every user streamed");
    let grew = rss_kib() - before;
    let requests = fake.requests() - requests_before;
    let client = grew - per_request * requests as f64;
    println!(
        "stream {users:>7} users: {:>7.0} users/s; process grew {grew:>6.0} KiB over {requests} requests, \
         of which the fake's per-request retention {:>6.0} KiB; client share {client:>5.0} KiB",
        users as f64 / secs,
        per_request * requests as f64,
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "machine: {} logical CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let per_request = runtime.block_on(retained_per_request());
    println!("fake (wiremock) retention: {per_request:.2} KiB per request");
    for users in [10_000, 100_000, 300_000] {
        runtime.block_on(stream(users, per_request));
    }
}
