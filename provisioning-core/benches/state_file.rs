//! State file benchmark (not a timed test): what a durable ownership record costs. Each
//! change is appended, flushed and `sync_data`'d before it is reported done; this measures
//! N such appends through [`OwnershipRecord`] on the machine's temp directory, against the
//! same appends without the sync (what the record did before it was durable), and a locked
//! open that compacts the file.
//!
//! ```sh
//! cargo bench -p provisioning-core --bench state_file
//! STATE_BENCH_APPENDS=5000 STATE_BENCH_DIR=/var/tmp cargo bench -p provisioning-core --bench state_file
//! ```
//!
//! Record the output in docs/performance.md.

use std::io::Write;
use std::time::{Duration, Instant};

use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
use provisioning_core::model::ExternalId;

fn per(total: Duration, n: usize) -> String {
    format!(
        "{:>8.1} ms in all, {:>7.3} ms each",
        total.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3 / n as f64
    )
}

fn main() {
    let n: usize = std::env::var("STATE_BENCH_APPENDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let base = std::env::var_os("STATE_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = base.join(format!("state-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "machine: {} cores; {n} appends in {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        dir.display()
    );

    // Durable: what the record does.
    let path = dir.join("durable.jsonl");
    let record = OwnershipRecord::open(&path).unwrap();
    let started = Instant::now();
    for i in 0..n {
        record
            .set(
                Kind::User,
                &format!("u{i}"),
                ExternalId::new("bench", format!("s{i}")),
            )
            .unwrap();
    }
    println!(
        "durable appends (write, flush, sync_data): {}",
        per(started.elapsed(), n)
    );
    drop(record);

    // The same lines without the sync: the cost the durability adds.
    let line = "{\"kind\":\"user\",\"id\":\"u0000\",\"external_id\":{\"issuer\":\"bench\",\"id\":\"s0000\"}}\n";
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("flushed.jsonl"))
        .unwrap();
    let started = Instant::now();
    for _ in 0..n {
        file.write_all(line.as_bytes()).unwrap();
        file.flush().unwrap();
    }
    println!(
        "appends without sync (write, flush):       {}",
        per(started.elapsed(), n)
    );

    // A locked open of a file of n links plus n superseded lines: replay and compaction
    // (temp file synced, renamed, directory synced).
    let record = OwnershipRecord::open(&path).unwrap();
    for i in 0..n {
        record.remove(Kind::User, &format!("u{i}")).unwrap();
        record
            .set(
                Kind::User,
                &format!("u{i}"),
                ExternalId::new("bench", format!("t{i}")),
            )
            .unwrap();
    }
    drop(record);
    let started = Instant::now();
    let record = OwnershipRecord::open(&path).unwrap();
    println!(
        "locked open, {} lines compacted to {}: {:.1} ms",
        3 * n + 1,
        n + 1,
        started.elapsed().as_secs_f64() * 1e3
    );
    drop(record);
    let started = Instant::now();
    let read = OwnershipRecord::open_read_only(&path).unwrap();
    println!(
        "read-only open of {} lines: {:.1} ms",
        n + 1,
        started.elapsed().as_secs_f64() * 1e3
    );
    assert!(!read.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
