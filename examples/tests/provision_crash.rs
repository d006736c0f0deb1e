//! `provision apply` killed with SIGKILL at random points of a cold sync to moto's Identity
//! Store, and run again each time, converges to exactly the source: no duplicate user, group
//! or membership, nothing left unmanaged (every target object is in the ownership record as
//! the engine's own), and the next plan is empty — with adoption on, and with adoption off
//! (where only the record's intent lines keep a create killed before its link from being
//! orphaned). The target is read back through the AWS SDK client, never through the
//! connector under test.
//!
//! The kill delays come from a seed printed at the start (`PROVISION_CRASH_SEED=<n>` replays
//! one run's delays; the timing of the binary still varies).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::models::NewSystemUser;
use serde_json::Value;
use test_peers::Peer;

/// Kills that land while the binary still runs, per scenario.
const KILLS: usize = 10;
const USERS: usize = 40;
const GROUPS: usize = 6;

/// The binary with the test's secrets in its environment.
fn provision(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_provision"));
    command
        .arg("--config")
        .arg(config)
        .env("PROVISION_TEST_JUMPCLOUD_KEY", "fake-jumpcloud-key")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env_remove("RUST_LOG");
    command
}

/// Runs `provision --config <config> <args>` to its end, off the async runtime (the fake
/// JumpCloud serves from it meanwhile): exit code, stdout, stderr.
async fn run(config: &Path, args: &[&str]) -> (i32, String, String) {
    let mut command = provision(config);
    command.args(args);
    let output = tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A small xorshift generator: the delays need no more, and the seed is printed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// JumpCloud with `USERS` users and `GROUPS` groups bound to `AWS SSO`; user `i` is in
/// group `i % GROUPS` and `(i + 1) % GROUPS` (2 × 40 = 80 memberships).
async fn jumpcloud() -> (FakeJumpCloud, Source) {
    let jc = FakeJumpCloud::start().await;
    let app = jc.add_application("aws", "AWS SSO");
    let groups: Vec<_> = (0..GROUPS)
        .map(|g| {
            let id = jc.add_group(&format!("Team {g}"));
            jc.associate_group(&app, &id);
            id
        })
        .collect();
    let mut source = Source::default();
    for i in 0..USERS {
        let name = format!("user{i:02}");
        let id = jc.add_user(
            NewSystemUser::new(&name, format!("{name}@example.com"))
                .names(format!("Given{i}"), format!("Family{i}")),
        );
        source.users.insert(name.clone());
        for g in [i % GROUPS, (i + 1) % GROUPS] {
            jc.add_member(&groups[g], &id);
            source.memberships.push((format!("Team {g}"), name.clone()));
        }
    }
    source.groups = (0..GROUPS).map(|g| format!("Team {g}")).collect();
    source.memberships.sort();
    (jc, source)
}

/// What the source holds, by name.
#[derive(Debug, Default)]
struct Source {
    users: BTreeSet<String>,
    groups: BTreeSet<String>,
    memberships: Vec<(String, String)>,
}

/// moto's identity store, read through the AWS SDK client (`aws-access`'s thin wrapper of
/// it, not the engine's connector): users (id, userName), groups (id, displayName) and
/// memberships as (group name, user name), each as listed — duplicates would show.
struct Moto {
    users: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    memberships: Vec<(String, String)>,
}

async fn moto(store: &str) -> Moto {
    use aws_access::identity_store::{IdentityStore, SdkIdentityStore};
    use futures::TryStreamExt;
    let config = test_peers::moto_sdk_config().await;
    let client = SdkIdentityStore::new(&config, store);
    let users: Vec<_> = client.list_users().try_collect().await.unwrap();
    let groups: Vec<_> = client.list_groups().try_collect().await.unwrap();
    let mut memberships = Vec::new();
    for g in &groups {
        let ids: Vec<_> = client.member_ids(&g.id).try_collect().await.unwrap();
        for id in ids {
            let user = users
                .iter()
                .find(|u| u.id == id)
                .expect("a member is a user");
            memberships.push((g.display_name.clone(), user.user_name.clone()));
        }
    }
    memberships.sort();
    Moto {
        users: users.into_iter().map(|u| (u.id.0, u.user_name)).collect(),
        groups: groups
            .into_iter()
            .map(|g| (g.id.0, g.display_name))
            .collect(),
        memberships,
    }
}

/// The links of the ownership record, replayed from its lines as this test reads the
/// format (kind, target id) → mark id: independent of the connector's own reader.
fn links(record: &Path) -> BTreeMap<(String, String), String> {
    let mut links = BTreeMap::new();
    let text = std::fs::read_to_string(record).unwrap_or_default();
    for line in text.lines() {
        let Ok(line) = serde_json::from_str::<Value>(line) else {
            continue; // a torn last line
        };
        let (Some(kind), Some(id)) = (line["kind"].as_str(), line["id"].as_str()) else {
            continue;
        };
        let key = (kind.to_owned(), id.to_owned());
        match line["external_id"]["id"].as_str() {
            Some(mark) => links.insert(key, mark.to_owned()),
            None => links.remove(&key),
        };
    }
    links
}

/// A directory of its own holding a configuration from the fake JumpCloud `jc` to a fresh
/// identity store on moto, with `policy` lines: the directory, the configuration's path
/// and the store id.
fn cold_sync_config(jc: &FakeJumpCloud, name: &str, policy: &str) -> (PathBuf, PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("provision-{name}-{}", nanos()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = format!("d-{:010x}", nanos() % 0xff_ffff_ffff);
    let config = dir.join("provision.toml");
    std::fs::write(
        &config,
        format!(
            "[source.jumpcloud]\napi_key = {{ env = \"PROVISION_TEST_JUMPCLOUD_KEY\" }}\nbase_url = \"{}\"\napplication = \"AWS SSO\"\n\n\
             [target.identity_store]\nidentity_store_id = \"{store}\"\n\n\
             [aws]\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\n\n\
             [policy]\n{policy}",
            jc.uri(),
            Peer::Moto.url()
        ),
    )
    .unwrap();
    (dir, config, store)
}

/// One cold sync to a fresh identity store, killed at random points until it completes;
/// returns the config, the store and the number of kills that landed mid-run. Stops
/// killing once `wanted` kills have landed, and lets the last run finish.
async fn killed_sync(
    jc: &FakeJumpCloud,
    adoption: bool,
    rng: &mut Rng,
    wanted: usize,
) -> (PathBuf, String, usize) {
    let policy = if adoption {
        String::new()
    } else {
        "adopt_existing_users = false\nadopt_existing_groups = false\n".to_owned()
    };
    let (dir, config, store) = cold_sync_config(jc, "crash", &policy);
    let record = dir.join("provision.ownership.jsonl");
    let lines = || {
        std::fs::read_to_string(&record)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let mut kills = 0;
    loop {
        let before = lines();
        let mut child = provision(&config)
            .arg("apply")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        if kills >= wanted {
            let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
                .await
                .unwrap();
            // Exit 2 (some change failed) is allowed here: the run after it must converge.
            assert!(
                matches!(status.code(), Some(0 | 2)),
                "the run after the kills: {status}"
            );
            break;
        }
        // Startup and the read take a few hundred ms; 18 writes/s follow.
        let delay = Duration::from_millis(150 + rng.below(1200));
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_some() {
            // It finished before the kill: the sync is done.
            eprintln!("  run finished before {delay:?}: no kill");
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Only a kill that lands after the run wrote something counts: one during startup
        // or the read tests nothing.
        let after = lines();
        if after > before {
            kills += 1;
            eprintln!(
                "  kill {kills} at {delay:?}: the record went from {before} to {after} lines"
            );
        } else {
            eprintln!("  kill at {delay:?} before any write: not counted");
        }
    }
    // A last run, unkilled, completes whatever the kills left undone.
    let (code, out, err) = run(&config, &["apply"]).await;
    assert_eq!(code, 0, "the converging run: {out}{err}");
    (config, store, kills)
}

/// The target holds exactly the source, everything in it is the engine's own, and the next
/// plan is empty.
async fn assert_converged(config: &Path, store: &str, source: &Source) {
    let moto = moto(store).await;
    let user_names: Vec<&String> = moto.users.iter().map(|(_, n)| n).collect();
    let group_names: Vec<&String> = moto.groups.iter().map(|(_, n)| n).collect();
    assert_eq!(
        user_names.iter().copied().collect::<BTreeSet<_>>(),
        source.users.iter().collect::<BTreeSet<_>>(),
        "users"
    );
    assert_eq!(user_names.len(), source.users.len(), "duplicate users");
    assert_eq!(
        group_names.iter().copied().collect::<BTreeSet<_>>(),
        source.groups.iter().collect::<BTreeSet<_>>(),
        "groups"
    );
    assert_eq!(group_names.len(), source.groups.len(), "duplicate groups");
    assert_eq!(
        moto.memberships, source.memberships,
        "memberships (a duplicate would show twice)"
    );

    let links = links(&config.with_file_name("provision.ownership.jsonl"));
    for (id, name) in &moto.users {
        assert!(
            links.contains_key(&("user".to_owned(), id.clone())),
            "user {name} ({id}) is not in the record: unmanaged"
        );
    }
    for (id, name) in &moto.groups {
        assert!(
            links.contains_key(&("group".to_owned(), id.clone())),
            "group {name} ({id}) is not in the record: unmanaged"
        );
    }

    let (code, out, err) = run(config, &["--json", "plan"]).await;
    assert_eq!(code, 0, "plan: {out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["plan"]["changes"], Value::Array(vec![]), "{doc}");
    assert_eq!(doc["plan"]["skipped"], Value::Array(vec![]), "{doc}");
}

async fn crash_scenario(adoption: bool) {
    let seed = std::env::var("PROVISION_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| nanos() | 1);
    eprintln!("adoption {adoption}: PROVISION_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let (jc, source) = jumpcloud().await;
    let started = Instant::now();
    let mut landed = 0;
    // Kills past the end of a sync land nowhere: start another cold sync until enough
    // have landed mid-run.
    while landed < KILLS {
        let (config, store, kills) = killed_sync(&jc, adoption, &mut rng, KILLS - landed).await;
        assert_converged(&config, &store, &source).await;
        landed += kills;
        eprintln!("  converged after {kills} kills ({landed} in all)");
    }
    eprintln!(
        "adoption {adoption}: {landed} kills in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cold_sync_killed_at_random_points_converges_with_adoption_on() {
    crash_scenario(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cold_sync_killed_at_random_points_converges_with_adoption_off() {
    crash_scenario(false).await;
}

/// A second `apply` while one runs fails at once naming the holder, or waits with
/// `--wait-lock`; a `plan` meanwhile works and writes nothing; a `plan` before the record
/// exists creates nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_apply_during_an_apply_fails_naming_the_holder_or_waits() {
    let (jc, source) = jumpcloud().await;
    let (dir, config, store) = cold_sync_config(&jc, "lock", "");
    let record = dir.join("provision.ownership.jsonl");
    let lock = dir.join("provision.ownership.jsonl.lock");

    // Before any apply: the plan reads an empty record and creates no file at all.
    let (code, out, err) = run(&config, &["plan"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["provision.toml"], "the plan wrote nothing");

    // A cold sync of 126 writes at 18 requests/s runs for seconds.
    let mut first = provision(&config)
        .arg("apply")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&lock)
        .unwrap_or_default()
        .contains(&format!("\"pid\":{pid}"))
    {
        assert!(
            Instant::now() < deadline,
            "the first apply never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (code, out, err) = run(&config, &["apply"]).await;
    assert_eq!(code, 1, "the second apply is refused: {out}{err}");
    assert!(
        err.contains(&format!("locked by another run (pid {pid}, started ")),
        "{err}"
    );
    assert!(err.contains("--wait-lock"), "{err}");

    let before = std::fs::read(&record).unwrap();
    let (code, out, err) = run(&config, &["plan"]).await;
    assert_eq!(code, 0, "a plan during the apply works: {out}{err}");
    let after = std::fs::read(&record).unwrap();
    assert!(
        after.starts_with(&before),
        "the plan did not rewrite the record (the apply only appended)"
    );

    assert!(
        first.try_wait().unwrap().is_none(),
        "the first apply still runs, so the wait below is real"
    );
    let (code, out, err) = run(&config, &["apply", "--wait-lock"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("waiting for it to end"), "{err}");
    assert!(
        first.try_wait().unwrap().is_some(),
        "it waited for the first"
    );
    assert_converged(&config, &store, &source).await;
}

fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
