//! End to end through the JumpCloud source connector: the fake JumpCloud (over HTTP, through
//! the real client) → the engine → an in-memory target. The first sync creates exactly the
//! expected objects, the second plan is empty, and seed 002's rules hold when a group is
//! disassociated from the application or deleted.

use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::ids::{ApplicationId, GroupId, UserId};
use jumpcloud_api::models::NewSystemUser;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::Source;
use provisioning_core::connectors::jumpcloud::JumpCloudSource;
use provisioning_core::memory::MemoryDirectory;
use provisioning_core::model::{Scope, Snapshot};
use provisioning_core::plan::{Plan, SkipReason};
use provisioning_core::policy::{DeletionGuard, Policy};
use provisioning_core::sync::plan_sync;

struct Demo {
    fake: FakeJumpCloud,
    app: ApplicationId,
    research: GroupId,
    alan: UserId,
}

async fn demo() -> Demo {
    let fake = FakeJumpCloud::start().await;
    let ada = fake.add_user(NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace"));
    let grace =
        fake.add_user(NewSystemUser::new("grace", "grace@example.com").names("Grace", "Hopper"));
    let alan =
        fake.add_user(NewSystemUser::new("alan", "alan@example.com").names("Alan", "Turing"));
    fake.add_user(NewSystemUser::new("outsider", "outsider@example.com").names("Out", "Sider"));
    let eng = fake.add_group("Engineering");
    let research = fake.add_group("Research");
    let finance = fake.add_group("Finance");
    fake.add_member(&eng, &ada);
    fake.add_member(&eng, &grace);
    fake.add_member(&research, &grace);
    fake.add_member(&research, &alan);
    let outsider_group_member =
        fake.add_user(NewSystemUser::new("bob", "bob@example.com").names("Bob", "B"));
    fake.add_member(&finance, &outsider_group_member);
    let app = fake.add_application("aws", "AWS SSO");
    fake.associate_group(&app, &eng);
    fake.associate_group(&app, &research);
    Demo {
        fake,
        app,
        research,
        alan,
    }
}

fn deprovisioning() -> Policy {
    let mut policy = Policy::default();
    policy.allow_deprovision = true;
    policy.deletion_guard = DeletionGuard::unlimited();
    policy
}

async fn sync(source: &JumpCloudSource, target: &MemoryDirectory, policy: &Policy) -> Plan {
    let scope = Scope::Application("AWS SSO".into());
    let plan = plan_sync(source, &scope, target, policy)
        .await
        .expect("reads succeed");
    assert!(plan.abort.is_none(), "{:?}", plan.abort);
    let report = apply(&plan, target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "{report:#?}");
    let again = plan_sync(source, &scope, target, policy).await.unwrap();
    assert!(again.is_empty(), "second plan: {:#?}", again.changes);
    plan
}

fn names(snapshot: &Snapshot) -> Vec<String> {
    let mut names: Vec<_> = snapshot.users.iter().map(|u| u.user_name.clone()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_application_scope_reads_its_groups_members_and_nothing_else() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let snapshot = source
        .read(&Scope::Application("AWS SSO".into()))
        .await
        .unwrap();
    assert_eq!(names(&snapshot), ["ada", "alan", "grace"]);
    assert_eq!(snapshot.groups.len(), 2);
    assert_eq!(snapshot.memberships.len(), 4);
    assert_eq!(
        snapshot.groups_out_of_scope.len(),
        1,
        "Finance exists but is not bound"
    );
    // By id too, and by group names.
    let by_id = source
        .read(&Scope::Application(demo.app.to_string()))
        .await
        .unwrap();
    assert_eq!(by_id, snapshot);
    let named = source
        .read(&Scope::Groups(vec!["Research".into()]))
        .await
        .unwrap();
    assert_eq!(names(&named), ["alan", "grace"]);
    let missing = source
        .read(&Scope::Groups(vec!["Nope".into()]))
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("no JumpCloud user group is named \"Nope\"")
    );
    let no_app = source
        .read(&Scope::Application("Salesforce".into()))
        .await
        .unwrap_err();
    assert!(no_app.to_string().contains("no JumpCloud application"));
}

#[tokio::test]
async fn a_first_sync_creates_exactly_the_scope_and_a_second_plan_is_empty() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    let plan = sync(&source, &target, &Policy::default()).await;
    assert_eq!(plan.counts()["create_user"], 3);
    assert_eq!(plan.counts()["create_group"], 2);
    let t = target.snapshot();
    assert_eq!(names(&t), ["ada", "alan", "grace"]);
    assert_eq!(t.memberships.len(), 4);
}

#[tokio::test]
async fn a_disassociated_group_is_left_as_is_and_only_its_exclusive_members_lose_access() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    sync(&source, &target, &Policy::default()).await;
    demo.fake.dissociate_group(&demo.app, &demo.research);
    let plan = sync(&source, &target, &deprovisioning()).await;
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.subject == "Research" && s.reason == SkipReason::LeftScope)
    );
    let t = target.snapshot();
    let active = |name: &str| t.users.iter().find(|u| u.user_name == name).unwrap().active;
    assert!(!active("alan"), "only in Research");
    assert!(active("grace"), "still in Engineering");
    assert!(
        t.groups.iter().any(|g| g.display_name == "Research"),
        "left as-is"
    );
}

#[tokio::test]
async fn a_group_deleted_at_the_source_is_deleted_and_suspended_users_are_deactivated() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    sync(&source, &target, &Policy::default()).await;
    demo.fake.remove_group(&demo.research);
    demo.fake
        .set_user_field(&demo.alan, "state", serde_json::json!("SUSPENDED"));
    let plan = sync(&source, &target, &deprovisioning()).await;
    assert_eq!(plan.counts().get("delete_group"), Some(&1));
    let t = target.snapshot();
    assert!(!t.groups.iter().any(|g| g.display_name == "Research"));
    assert!(
        !t.users
            .iter()
            .find(|u| u.user_name == "alan")
            .unwrap()
            .active
    );
}

#[tokio::test]
async fn a_dry_run_reads_only() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    let before = demo.fake.requests();
    let plan = plan_sync(
        &source,
        &Scope::Application("AWS SSO".into()),
        &target,
        &Policy::default(),
    )
    .await
    .unwrap();
    assert!(!plan.is_empty());
    assert_eq!(target.writes(), 0);
    // Reads: applications, associations, groups, two groups' members, users.
    assert_eq!(demo.fake.requests() - before, 6);
}
