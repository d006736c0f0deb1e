//! The executor: dry runs cannot write, retries, throttling, adopt-on-conflict, failed
//! dependencies, and idempotent removals.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::{
    Applied, Capabilities, ConnectorError, ErrorClass, Target, TargetReader,
};
use provisioning_core::memory::MemoryDirectory;
use provisioning_core::model::{Group, Scope, Snapshot, User};
use provisioning_core::plan::{Operation, plan};
use provisioning_core::policy::Policy;
use provisioning_core::report::{Status, render_plan, render_report};
use provisioning_core::sync::plan_sync;

fn source() -> MemoryDirectory {
    let jc = MemoryDirectory::default();
    for (id, name) in [("u1", "ada"), ("u2", "grace"), ("u3", "alan")] {
        jc.insert_user(User::new(id, format!("{name}@example.com")).with_names(name, "Test"));
        jc.add_member("g1", id);
    }
    jc.insert_group(Group::new("g1", "Engineering"));
    jc
}

fn fast() -> ApplyOptions {
    let mut options = ApplyOptions::default();
    options.base_backoff = Duration::from_millis(1);
    options.max_backoff = Duration::from_millis(50);
    options
}

/// A target that reads like an empty directory and fails the test on any write.
struct ReadOnly(MemoryDirectory);

#[async_trait]
impl TargetReader for ReadOnly {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    async fn read(&self) -> Result<Snapshot, ConnectorError> {
        TargetReader::read(&self.0).await
    }
    async fn find_user(&self, user_name: &str) -> Result<Option<User>, ConnectorError> {
        self.0.find_user(user_name).await
    }
    async fn find_group(&self, name: &str) -> Result<Option<Group>, ConnectorError> {
        self.0.find_group(name).await
    }
}

#[async_trait]
impl Target for ReadOnly {
    async fn write(&self, operation: &Operation<String>) -> Result<Applied, ConnectorError> {
        panic!("a dry run reached a write: {operation:?}");
    }
}

#[tokio::test]
async fn a_dry_run_plans_and_renders_without_reaching_a_write() {
    let target = ReadOnly(MemoryDirectory::default());
    let plan = plan_sync(&source(), &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    assert_eq!(plan.changes.len(), 5);
    let text = render_plan(&plan);
    assert!(
        text.contains("create_user") && text.contains("<new-user-1>"),
        "{text}"
    );
    assert!(text.contains("5 change(s)"), "{text}");
}

/// A target that fails the first `n` writes of a kind with the given class.
struct Flaky {
    inner: MemoryDirectory,
    kind: &'static str,
    class: ErrorClass,
    remaining: Mutex<u32>,
}

#[async_trait]
impl TargetReader for Flaky {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn read(&self) -> Result<Snapshot, ConnectorError> {
        TargetReader::read(&self.inner).await
    }
    async fn find_user(&self, user_name: &str) -> Result<Option<User>, ConnectorError> {
        self.inner.find_user(user_name).await
    }
    async fn find_group(&self, name: &str) -> Result<Option<Group>, ConnectorError> {
        self.inner.find_group(name).await
    }
}

#[async_trait]
impl Target for Flaky {
    async fn write(&self, operation: &Operation<String>) -> Result<Applied, ConnectorError> {
        if operation.kind() == self.kind {
            let mut remaining = self.remaining.lock().unwrap();
            if *remaining > 0 {
                *remaining -= 1;
                return Err(ConnectorError::new(
                    self.class,
                    format!("injected {}", self.class),
                ));
            }
        }
        self.inner.write(operation).await
    }
}

fn flaky(kind: &'static str, class: ErrorClass, failures: u32) -> Flaky {
    Flaky {
        inner: MemoryDirectory::default(),
        kind,
        class,
        remaining: Mutex::new(failures),
    }
}

#[tokio::test]
async fn transient_failures_are_retried_until_they_succeed() {
    let target = flaky("create_group", ErrorClass::Transient, 2);
    let plan = plan_sync(&source(), &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    let report = apply(&plan, &target, &fast()).await;
    assert!(report.is_success(), "{}", render_report(&report));
    let group = report
        .outcomes
        .iter()
        .find(|o| o.kind == "create_group")
        .unwrap();
    assert_eq!(group.attempts, 3);
    assert_eq!(report.api_calls["create_group"], 3);
}

#[tokio::test]
async fn a_failure_is_reported_and_changes_that_depend_on_it_are_skipped_not_attempted() {
    let target = flaky("create_group", ErrorClass::Denied, 1);
    let plan = plan_sync(&source(), &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    let report = apply(&plan, &target, &fast()).await;
    let counts = report.counts();
    assert_eq!(
        (counts.ok, counts.failed, counts.skipped),
        (3, 1, 1),
        "{}",
        render_report(&report)
    );
    let failed = report
        .outcomes
        .iter()
        .find(|o| o.kind == "create_group")
        .unwrap();
    assert_eq!(failed.attempts, 1, "a denied call is not retried");
    assert!(matches!(
        &failed.status,
        Status::Failed {
            class: ErrorClass::Denied,
            ..
        }
    ));
    let members = report
        .outcomes
        .iter()
        .find(|o| o.kind == "add_members")
        .unwrap();
    assert!(matches!(&members.status, Status::Skipped { reason } if reason.contains("depends on")));
    assert_eq!(report.api_calls.get("add_members"), None);
    assert_eq!(
        target.inner.snapshot().users.len(),
        3,
        "the other changes went through"
    );
}

#[tokio::test]
async fn retries_give_up_after_max_attempts() {
    let target = flaky("create_user", ErrorClass::Transient, 100);
    let plan = plan_sync(&source(), &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    let report = apply(&plan, &target, &fast()).await;
    assert!(!report.is_success());
    let attempts: Vec<u32> = report
        .outcomes
        .iter()
        .filter(|o| o.kind == "create_user")
        .map(|o| o.attempts)
        .collect();
    assert_eq!(attempts, [6, 6, 6]);
}

#[tokio::test]
async fn a_create_that_conflicts_adopts_the_existing_object_so_a_rerun_makes_no_duplicate() {
    // Plan against an empty target; then, as if an earlier run crashed after its writes,
    // the objects appear before this apply runs.
    let jc = source();
    let target = MemoryDirectory::default();
    let plan = plan_sync(&jc, &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    target.insert_user(User::new("pre-1", "ada@example.com"));
    target.insert_group(Group::new("pre-g", "Engineering"));

    let report = apply(&plan, &target, &fast()).await;
    assert!(report.is_success(), "{}", render_report(&report));
    let t = target.snapshot();
    assert_eq!(t.users.len(), 3);
    assert_eq!(t.groups.len(), 1);
    let ada = t.users.iter().find(|u| u.id == "pre-1").unwrap();
    assert_eq!(
        ada.given_name.as_deref(),
        Some("ada"),
        "the adopted user is overwritten"
    );
    assert!(ada.external_id.is_some(), "and marked as ours");
    assert_eq!(
        t.members_of("pre-g").count(),
        3,
        "memberships use the adopted ids"
    );
    let again = plan_sync(&jc, &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    assert!(again.is_empty(), "{}", render_plan(&again));
}

#[tokio::test]
async fn removing_what_is_already_gone_counts_as_done() {
    let jc = source();
    let target = MemoryDirectory::default();
    let first = plan_sync(&jc, &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    assert!(apply(&first, &target, &fast()).await.is_success());
    jc.remove_user("u3");
    let mut policy = Policy::default();
    policy.allow_deprovision = true;
    policy.deprovision = provisioning_core::policy::Deprovision::Delete;
    policy.deletion_guard = provisioning_core::policy::DeletionGuard::unlimited();
    let plan = plan_sync(&jc, &Scope::All, &target, &policy).await.unwrap();
    // Someone deletes Alan by hand between plan and apply.
    let alan = target
        .snapshot()
        .users
        .into_iter()
        .find(|u| u.user_name.starts_with("alan"))
        .unwrap();
    target.remove_user(&alan.id);
    let report = apply(&plan, &target, &fast()).await;
    assert!(report.is_success(), "{}", render_report(&report));
    assert!(
        report
            .outcomes
            .iter()
            .any(|o| matches!(&o.status, Status::Ok { note: Some(n), .. } if n == "already gone"))
    );
}

/// The plan that creates `n` users in an empty `target`.
fn create_users_plan(n: usize, target: &MemoryDirectory) -> provisioning_core::plan::Plan {
    let mut source = Snapshot::default();
    for i in 0..n {
        source
            .users
            .push(User::new(format!("u{i}"), format!("user{i}@example.com")));
    }
    plan(
        &source,
        &Snapshot::default(),
        &target.capabilities(),
        &Policy::default(),
    )
}

#[tokio::test]
async fn throttled_calls_are_waited_out_and_retried_without_failures() {
    // A target that allows 50 requests per second, and an executor told to go faster:
    // the target throttles, the executor waits the retry-after hint and retries.
    let target = MemoryDirectory::default().with_rate_limit(NonZeroU32::new(50).unwrap());
    let plan = create_users_plan(120, &target);
    let mut options = fast();
    options.rate_limit = NonZeroU32::new(1000);
    options.max_attempts = 50;
    options.max_backoff = Duration::from_secs(1);
    let report = apply(&plan, &target, &options).await;
    assert!(report.is_success(), "{}", render_report(&report));
    assert!(report.throttled > 0, "the target did throttle");
    assert_eq!(target.snapshot().users.len(), 120);
}

#[tokio::test]
async fn pacing_at_the_targets_declared_rate_avoids_throttling() {
    let target = MemoryDirectory::default().with_rate_limit(NonZeroU32::new(200).unwrap());
    let plan = create_users_plan(100, &target);
    let report = apply(&plan, &target, &fast()).await;
    assert!(report.is_success());
    assert_eq!(report.throttled, 0);
    assert_eq!(target.throttled(), 0);
}
