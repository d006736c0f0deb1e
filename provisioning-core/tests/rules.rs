//! One test per provisioning rule (seed workflows 002, 003 and 004), run through the
//! public API: plan against an in-memory target, apply, and plan again.

use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::{Capabilities, TargetReader};
use provisioning_core::mapping::AttributeMapping;
use provisioning_core::memory::MemoryDirectory;
use provisioning_core::model::{ExternalId, Group, Phone, Scope, Snapshot, User};
use provisioning_core::plan::{Abort, Operation, Plan, Reason, Ref, SkipReason, plan};
use provisioning_core::policy::{DEFAULT_ISSUER, DeletionGuard, Deprovision, Policy};
use provisioning_core::sync::plan_sync;

fn person(id: &str, name: &str) -> User {
    let (given, family) = name.split_once(' ').unwrap_or((name, "Doe"));
    User::new(id, format!("{}@example.com", given.to_lowercase())).with_names(given, family)
}

/// A JumpCloud-like source: users, groups, memberships, one application binding groups.
fn source() -> MemoryDirectory {
    let jc = MemoryDirectory::default();
    jc.insert_user(person("u1", "Ada Lovelace"));
    jc.insert_user(person("u2", "Grace Hopper"));
    jc.insert_user(person("u3", "Alan Turing"));
    jc.insert_group(Group::new("g1", "Engineering"));
    jc.insert_group(Group::new("g2", "Research"));
    jc.add_member("g1", "u1");
    jc.add_member("g1", "u2");
    jc.add_member("g2", "u2");
    jc.add_member("g2", "u3");
    jc.bind_group("aws", "g1");
    jc.bind_group("aws", "g2");
    jc
}

fn scope() -> Scope {
    Scope::Application("aws".into())
}

fn deprovisioning() -> Policy {
    let mut policy = Policy::default();
    policy.allow_deprovision = true;
    policy.deletion_guard = DeletionGuard::unlimited();
    policy
}

async fn plan_for(source: &MemoryDirectory, target: &MemoryDirectory, policy: &Policy) -> Plan {
    plan_sync(source, &scope(), target, policy)
        .await
        .expect("in-memory reads succeed")
}

/// Plans, applies, and asserts the next plan is empty. Returns the applied plan.
async fn sync(source: &MemoryDirectory, target: &MemoryDirectory, policy: &Policy) -> Plan {
    let plan = plan_for(source, target, policy).await;
    assert!(plan.abort.is_none(), "unexpected abort: {:?}", plan.abort);
    let report = apply(&plan, target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "apply failed: {report:#?}");
    let again = plan_for(source, target, policy).await;
    assert!(
        again.is_empty(),
        "second plan not empty: {:#?}",
        again.changes
    );
    plan
}

fn user_named<'a>(dir: &'a Snapshot, user_name: &str) -> &'a User {
    dir.users
        .iter()
        .find(|u| u.user_name == user_name)
        .unwrap_or_else(|| panic!("{user_name} missing"))
}

fn group_named<'a>(dir: &'a Snapshot, name: &str) -> Option<&'a Group> {
    dir.groups.iter().find(|g| g.display_name == name)
}

fn members(dir: &Snapshot, group: &str) -> Vec<String> {
    let Some(g) = group_named(dir, group) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .members_of(&g.id)
        .map(|uid| {
            dir.users
                .iter()
                .find(|u| u.id == uid)
                .unwrap()
                .user_name
                .clone()
        })
        .collect();
    names.sort();
    names
}

fn skipped<'a>(plan: &'a Plan, subject: &str) -> Vec<&'a SkipReason> {
    plan.skipped
        .iter()
        .filter(|s| s.subject == subject)
        .map(|s| &s.reason)
        .collect()
}

#[tokio::test]
async fn first_sync_creates_users_groups_and_memberships_and_converges() {
    let (jc, target) = (source(), MemoryDirectory::default());
    let plan = sync(&jc, &target, &Policy::default()).await;
    assert_eq!(plan.counts()["create_user"], 3);
    assert_eq!(plan.counts()["create_group"], 2);
    let t = target.snapshot();
    assert_eq!(
        members(&t, "Engineering"),
        ["ada@example.com", "grace@example.com"]
    );
    assert_eq!(
        members(&t, "Research"),
        ["alan@example.com", "grace@example.com"]
    );
    // Every object created carries the ownership mark and its source id.
    let ada = user_named(&t, "ada@example.com");
    assert_eq!(ada.external_id, Some(ExternalId::new(DEFAULT_ISSUER, "u1")));
}

#[tokio::test]
async fn plan_is_ordered_users_groups_additions_then_removals_with_placeholders() {
    let (jc, target) = (source(), MemoryDirectory::default());
    let plan = plan_for(&jc, &target, &Policy::default()).await;
    let phases: Vec<_> = plan.changes.iter().map(|c| c.operation.phase()).collect();
    let mut sorted = phases.clone();
    sorted.sort();
    assert_eq!(phases, sorted, "changes are in phase order");
    // Memberships refer to users and groups created earlier in the plan, by placeholder.
    for change in &plan.changes {
        if let Operation::AddMembers { group, users } = &change.operation {
            assert!(matches!(group, Ref::New(_)));
            assert!(users.iter().all(|u| matches!(u, Ref::New(_))));
            assert!(change.depends_on.iter().all(|&d| d < change.id));
            assert_eq!(change.depends_on.len(), users.len() + 1);
        }
    }
    // The plan survives a JSON round trip unchanged.
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
}

#[tokio::test]
async fn empty_groups_are_not_created() {
    let jc = source();
    jc.insert_group(Group::new("g3", "Nobody"));
    jc.bind_group("aws", "g3");
    let target = MemoryDirectory::default();
    let plan = sync(&jc, &target, &Policy::default()).await;
    assert!(group_named(&target.snapshot(), "Nobody").is_none());
    assert_eq!(skipped(&plan, "Nobody"), [&SkipReason::EmptyGroup]);

    let mut policy = Policy::default();
    policy.create_empty_groups = true;
    sync(&jc, &target, &policy).await;
    assert!(group_named(&target.snapshot(), "Nobody").is_some());
}

#[tokio::test]
async fn an_existing_target_group_with_the_same_name_is_taken_over() {
    let jc = source();
    let target = MemoryDirectory::default();
    target.insert_group(Group::new("aws-g", "Engineering"));
    let plan = sync(&jc, &target, &Policy::default()).await;
    let adopt = plan
        .changes
        .iter()
        .find(|c| c.subject == "Engineering")
        .unwrap();
    assert_eq!(adopt.reason, Reason::AdoptedByName);
    let t = target.snapshot();
    let group = group_named(&t, "Engineering").unwrap();
    assert_eq!(group.id, "aws-g", "no second group was created");
    assert_eq!(
        group.external_id,
        Some(ExternalId::new(DEFAULT_ISSUER, "g1"))
    );
    assert_eq!(t.groups.len(), 2);
}

#[tokio::test]
async fn group_renames_propagate() {
    let (jc, target) = (source(), MemoryDirectory::default());
    sync(&jc, &target, &Policy::default()).await;
    jc.insert_group(Group::new("g1", "Platform Engineering"));
    let plan = sync(&jc, &target, &Policy::default()).await;
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(
        plan.changes[0].reason,
        Reason::Renamed {
            from: "Engineering".into()
        }
    );
    let t = target.snapshot();
    assert!(group_named(&t, "Engineering").is_none());
    assert_eq!(members(&t, "Platform Engineering").len(), 2);
}

#[tokio::test]
async fn a_group_that_leaves_the_scope_is_left_as_is_and_only_its_exclusive_members_are_deactivated()
 {
    let (jc, target) = (source(), MemoryDirectory::default());
    sync(&jc, &target, &Policy::default()).await;
    // Research is disassociated from the application. Alan is only in Research; Grace is
    // also in Engineering, which still grants her the application.
    jc.unbind_group("aws", "g2");
    let plan = sync(&jc, &target, &deprovisioning()).await;
    let t = target.snapshot();
    assert_eq!(
        members(&t, "Research"),
        ["alan@example.com", "grace@example.com"],
        "left as-is"
    );
    assert!(
        !user_named(&t, "alan@example.com").active,
        "Alan loses access"
    );
    assert!(
        user_named(&t, "grace@example.com").active,
        "Grace keeps access through Engineering"
    );
    assert_eq!(skipped(&plan, "Research"), [&SkipReason::LeftScope]);
    assert_eq!(plan.counts().get("delete_group"), None);
}

#[tokio::test]
async fn a_managed_group_deleted_at_the_source_is_deleted_with_the_same_member_rule() {
    let (jc, target) = (source(), MemoryDirectory::default());
    sync(&jc, &target, &Policy::default()).await;
    jc.remove_group("g2");
    let plan = sync(&jc, &target, &deprovisioning()).await;
    let t = target.snapshot();
    assert!(
        group_named(&t, "Research").is_none(),
        "deleted at the target"
    );
    assert!(!user_named(&t, "alan@example.com").active);
    assert!(user_named(&t, "grace@example.com").active);
    let delete = plan
        .changes
        .iter()
        .find(|c| c.subject == "Research")
        .unwrap();
    assert_eq!(delete.reason, Reason::DeletedAtSource);
}

#[tokio::test]
async fn group_management_off_leaves_groups_and_memberships_untouched() {
    let (jc, target) = (source(), MemoryDirectory::default());
    sync(&jc, &target, &Policy::default()).await;
    let before = target.snapshot();
    // At the source: a rename, a member leaves one group, and a new group appears.
    jc.insert_group(Group::new("g1", "Renamed"));
    jc.insert_user(person("u4", "Edsger Dijkstra"));
    jc.insert_group(Group::new("g9", "New"));
    jc.add_member("g9", "u4");
    jc.add_member("g1", "u4");
    jc.bind_group("aws", "g9");
    let mut policy = Policy::default();
    policy.manage_groups = false;
    let plan = sync(&jc, &target, &policy).await;
    assert_eq!(
        plan.counts().keys().copied().collect::<Vec<_>>(),
        ["create_user"],
        "users stay managed"
    );
    let after = target.snapshot();
    assert_eq!(after.groups, before.groups);
    assert_eq!(after.memberships, before.memberships);
}

#[tokio::test]
async fn users_without_given_and_family_names_are_skipped_where_the_target_requires_them() {
    let jc = source();
    let mut nameless = User::new("u5", "svc-backup@example.com");
    nameless.given_name = None;
    jc.insert_user(nameless);
    jc.add_member("g1", "u5");
    let mut caps = Capabilities::default();
    caps.requires_names = true;
    let target = MemoryDirectory::default().with_capabilities(caps);
    let plan = sync(&jc, &target, &Policy::default()).await;
    assert_eq!(
        skipped(&plan, "svc-backup@example.com"),
        [&SkipReason::MissingNames]
    );
    assert!(
        SkipReason::MissingNames
            .to_string()
            .contains("given and family names")
    );
    let t = target.snapshot();
    assert_eq!(t.users.len(), 3);
    assert_eq!(members(&t, "Engineering").len(), 2);

    // A target that does not require names takes the user.
    let lenient = MemoryDirectory::default();
    sync(&jc, &lenient, &Policy::default()).await;
    assert_eq!(lenient.snapshot().users.len(), 4);
}

#[tokio::test]
async fn only_one_phone_number_is_synced_the_work_one_by_default() {
    let jc = source();
    let mut ada = person("u1", "Ada Lovelace");
    ada.phone_numbers = vec![
        Phone {
            value: "+44 1".into(),
            kind: Some("mobile".into()),
        },
        Phone {
            value: "+44 2".into(),
            kind: Some("work".into()),
        },
        Phone {
            value: "+44 3".into(),
            kind: Some("home".into()),
        },
    ];
    jc.insert_user(ada);
    let target = MemoryDirectory::default();
    let mut policy = Policy::default();
    policy.mapping = AttributeMapping::with_work_phone();
    sync(&jc, &target, &policy).await;
    let t = target.snapshot();
    let phones = &user_named(&t, "ada@example.com").phone_numbers;
    assert_eq!(phones.len(), 1);
    assert_eq!(phones[0].value, "+44 2");
}

#[tokio::test]
async fn an_existing_target_user_with_the_same_user_name_is_adopted_and_overwritten() {
    let jc = source();
    let target = MemoryDirectory::default();
    let mut stale = User::new("aws-1", "ADA@example.com").with_names("Ada", "Byron");
    stale.active = false;
    target.insert_user(stale);
    let plan = sync(&jc, &target, &Policy::default()).await;
    let adopt = plan
        .changes
        .iter()
        .find(|c| c.subject == "ada@example.com")
        .unwrap();
    assert_eq!(adopt.reason, Reason::AdoptedByName);
    let t = target.snapshot();
    assert_eq!(t.users.len(), 3, "no duplicate created");
    let ada = t.users.iter().find(|u| u.id == "aws-1").unwrap();
    assert_eq!(ada.family_name.as_deref(), Some("Lovelace"));
    assert_eq!(ada.user_name, "ada@example.com");
    assert!(
        ada.active,
        "attributes sync although the user was disabled at the target"
    );
    assert_eq!(ada.external_id, Some(ExternalId::new(DEFAULT_ISSUER, "u1")));
}

#[tokio::test]
async fn deprovisioning_deactivates_by_default_and_deletes_only_when_the_policy_says_so() {
    let (jc, target) = (source(), MemoryDirectory::default());
    sync(&jc, &target, &Policy::default()).await;
    jc.remove_user("u3");
    let plan = sync(&jc, &target, &deprovisioning()).await;
    assert_eq!(plan.counts().get("deactivate_user"), Some(&1));
    assert!(!user_named(&target.snapshot(), "alan@example.com").active);

    let mut delete = deprovisioning();
    delete.deprovision = Deprovision::Delete;
    let plan = sync(&jc, &target, &delete).await;
    assert_eq!(plan.counts().get("delete_user"), Some(&1));
    assert!(
        target
            .snapshot()
            .users
            .iter()
            .all(|u| u.user_name != "alan@example.com")
    );
}

#[tokio::test]
async fn a_target_that_cannot_delete_users_gets_deactivations_instead() {
    let jc = source();
    let mut caps = Capabilities::default();
    caps.can_delete_users = false;
    let target = MemoryDirectory::default().with_capabilities(caps);
    sync(&jc, &target, &Policy::default()).await;
    jc.remove_user("u3");
    let mut delete = deprovisioning();
    delete.deprovision = Deprovision::Delete;
    let plan = sync(&jc, &target, &delete).await;
    assert_eq!(plan.counts().get("deactivate_user"), Some(&1));
    assert_eq!(plan.counts().get("delete_user"), None);
}

#[tokio::test]
async fn a_target_that_cannot_deactivate_holds_no_inactive_users_and_deletes_only_by_policy() {
    let jc = source();
    let mut suspended = person("u4", "Kay Suspended");
    suspended.active = false;
    jc.insert_user(suspended);
    jc.add_member("g1", "u4");
    let mut caps = Capabilities::default();
    caps.can_deactivate_users = false;
    let target = MemoryDirectory::default().with_capabilities(caps);
    let first = sync(&jc, &target, &Policy::default()).await;
    assert_eq!(
        skipped(&first, "kay@example.com"),
        [&SkipReason::CannotDeactivate]
    );
    assert_eq!(
        target.snapshot().users.len(),
        3,
        "the inactive user is not created"
    );

    // Alan is suspended at the source, Grace leaves: deactivation is impossible, so the
    // default policy only takes their group memberships away and says why it keeps the
    // accounts; a deleting policy removes both.
    let mut alan = person("u3", "Alan Turing");
    alan.active = false;
    jc.insert_user(alan);
    jc.remove_user("u2");
    let plan = plan_for(&jc, &target, &deprovisioning()).await;
    assert_eq!(
        plan.counts().keys().collect::<Vec<_>>(),
        [&"remove_members"]
    );
    assert_eq!(
        skipped(&plan, "alan@example.com"),
        [&SkipReason::CannotDeactivate]
    );
    assert_eq!(
        skipped(&plan, "grace@example.com"),
        [&SkipReason::CannotDeactivate]
    );
    let mut delete = deprovisioning();
    delete.deprovision = Deprovision::Delete;
    let plan = sync(&jc, &target, &delete).await;
    assert_eq!(plan.counts().get("delete_user"), Some(&2));
    assert_eq!(plan.counts().get("deactivate_user"), None);
    let names: Vec<_> = target
        .snapshot()
        .users
        .iter()
        .map(|u| u.user_name.clone())
        .collect();
    assert_eq!(names, ["ada@example.com"]);
}

#[tokio::test]
async fn deactivations_and_deletions_need_an_explicit_opt_in() {
    let (jc, target) = (source(), MemoryDirectory::default());
    sync(&jc, &target, &Policy::default()).await;
    jc.remove_user("u3");
    jc.remove_group("g2");
    let plan = plan_for(&jc, &target, &Policy::default()).await;
    assert_eq!(plan.destructive_count(), 0);
    assert!(matches!(
        skipped(&plan, "alan@example.com")[..],
        [SkipReason::DeprovisionNotAllowed { .. }]
    ));
    assert!(matches!(
        skipped(&plan, "Research")[..],
        [SkipReason::DeprovisionNotAllowed { .. }]
    ));
}

#[tokio::test]
async fn the_deletion_threshold_aborts_the_whole_apply_before_any_write() {
    let (jc, target) = (source(), MemoryDirectory::default());
    sync(&jc, &target, &Policy::default()).await;
    jc.remove_user("u3");
    jc.insert_user(person("u7", "Barbara Liskov"));
    jc.add_member("g1", "u7");
    let mut policy = deprovisioning();
    policy.deletion_guard = DeletionGuard::default(); // 10 % of 5 objects: not even one
    let plan = plan_for(&jc, &target, &policy).await;
    assert!(matches!(
        plan.abort,
        Some(Abort::DeletionGuard {
            destructive: 1,
            target_size: 5,
            ..
        })
    ));
    let writes_before = target.writes();
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(report.aborted.is_some() && !report.is_success());
    assert_eq!(
        target.writes(),
        writes_before,
        "not even the unrelated create was written"
    );

    policy.deletion_guard = DeletionGuard {
        max_count: Some(1),
        max_percent: 100.0,
    };
    assert!(plan_for(&jc, &target, &policy).await.abort.is_none());
    policy.deletion_guard = DeletionGuard {
        max_count: Some(0),
        max_percent: 100.0,
    };
    assert!(plan_for(&jc, &target, &policy).await.abort.is_some());
}

#[tokio::test]
async fn an_empty_source_aborts() {
    let target = MemoryDirectory::default();
    sync(&source(), &target, &Policy::default()).await;
    let empty = MemoryDirectory::default();
    let plan = plan_for(&empty, &target, &deprovisioning()).await;
    assert_eq!(plan.abort, Some(Abort::EmptySource));
    assert!(plan.changes.is_empty());
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert_eq!(report.aborted, Some(Abort::EmptySource));
}

#[tokio::test]
async fn a_failed_source_read_aborts() {
    struct Broken;
    #[async_trait::async_trait]
    impl provisioning_core::connector::Source for Broken {
        async fn read(
            &self,
            _: &Scope,
        ) -> Result<Snapshot, provisioning_core::connector::ConnectorError> {
            Err(provisioning_core::connector::ConnectorError::new(
                provisioning_core::connector::ErrorClass::Denied,
                "listing users was denied",
            ))
        }
    }
    let err = plan_sync(
        &Broken,
        &scope(),
        &MemoryDirectory::default(),
        &Policy::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("could not read the source"));
}

#[tokio::test]
async fn only_owned_or_adopted_objects_are_ever_changed() {
    let (jc, target) = (source(), MemoryDirectory::default());
    // A user and a group someone else made by hand, and a user another tool owns.
    target.insert_user(person("hand-1", "Margaret Hamilton"));
    target.insert_group(Group::new("hand-g", "Finance"));
    target.add_member("hand-g", "hand-1");
    let mut foreign = person("other-1", "Grace Hopper");
    foreign.external_id = Some(ExternalId::new("another-sync-tool", "x"));
    foreign.family_name = Some("Other".into());
    target.insert_user(foreign.clone());
    let plan = sync(&jc, &target, &deprovisioning()).await;
    let t = target.snapshot();
    assert!(
        user_named(&t, "margaret@example.com").active,
        "unowned, not in source: untouched"
    );
    assert_eq!(members(&t, "Finance"), ["margaret@example.com"]);
    assert_eq!(
        user_named(&t, "grace@example.com"),
        &foreign,
        "another tool's user is not adopted"
    );
    assert!(matches!(
        skipped(&plan, "grace@example.com")[..],
        [SkipReason::OwnedByOtherIssuer { .. }]
    ));
}

#[tokio::test]
async fn excluded_groups_are_never_touched() {
    let jc = source();
    jc.insert_group(Group::new("g-aws", "AWSControlTowerAdmins"));
    jc.add_member("g-aws", "u1");
    jc.bind_group("aws", "g-aws");
    let target = MemoryDirectory::default();
    let mut tower = Group::new("t-aws", "AWSSecurityAuditors");
    tower.external_id = Some(ExternalId::new(DEFAULT_ISSUER, "gone"));
    target.insert_group(tower);
    let plan = sync(&jc, &target, &deprovisioning()).await;
    let t = target.snapshot();
    assert!(
        group_named(&t, "AWSControlTowerAdmins").is_none(),
        "not created"
    );
    assert!(
        group_named(&t, "AWSSecurityAuditors").is_some(),
        "not deleted, though marked ours"
    );
    assert_eq!(
        skipped(&plan, "AWSControlTowerAdmins"),
        [&SkipReason::Excluded]
    );
}

#[tokio::test]
async fn membership_changes_are_chunked_at_the_targets_maximum() {
    let jc = MemoryDirectory::default();
    jc.insert_group(Group::new("g1", "Everyone"));
    for i in 0..250 {
        jc.insert_user(person(&format!("u{i}"), &format!("User{i} Test")));
        jc.add_member("g1", &format!("u{i}"));
    }
    jc.bind_group("aws", "g1");
    let mut caps = Capabilities::default();
    caps.max_members_per_request = 100;
    let target = MemoryDirectory::default().with_capabilities(caps);
    let plan = sync(&jc, &target, &Policy::default()).await;
    let sizes: Vec<usize> = plan
        .changes
        .iter()
        .filter_map(|c| match &c.operation {
            Operation::AddMembers { users, .. } => Some(users.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
}

#[tokio::test]
async fn membership_removals_follow_the_source() {
    let (jc, target) = (source(), MemoryDirectory::default());
    sync(&jc, &target, &Policy::default()).await;
    jc.insert_user(person("u2", "Grace Hopper"));
    // Grace leaves Engineering but stays in Research.
    let snapshot = jc.snapshot();
    let jc2 = MemoryDirectory::new(Snapshot {
        memberships: snapshot
            .memberships
            .into_iter()
            .filter(|m| !(m.group_id == "g1" && m.user_id == "u2"))
            .collect(),
        ..snapshot
    });
    jc2.bind_group("aws", "g1");
    jc2.bind_group("aws", "g2");
    let plan = sync(&jc2, &target, &Policy::default()).await;
    assert_eq!(
        plan.counts().keys().copied().collect::<Vec<_>>(),
        ["remove_members"]
    );
    assert_eq!(
        members(&target.snapshot(), "Engineering"),
        ["ada@example.com"]
    );
}

#[tokio::test]
async fn the_planner_is_deterministic() {
    let (jc, target) = (source(), MemoryDirectory::default());
    let s = provisioning_core::connector::Source::read(&jc, &scope())
        .await
        .unwrap();
    let t = TargetReader::read(&target).await.unwrap();
    let caps = target.capabilities();
    let first = plan(&s, &t, &caps, &Policy::default());
    let mut shuffled = s.clone();
    shuffled.users.reverse();
    shuffled.groups.reverse();
    assert_eq!(plan(&shuffled, &t, &caps, &Policy::default()), first);
}
