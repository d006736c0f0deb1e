//! One test per provisioning rule (seed workflows 002, 003 and 004), run through the
//! public API: plan against an in-memory target, apply, and plan again.

use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::{Capabilities, TargetModel, TargetReader};
use provisioning_core::mapping::{AttributeMapping, TargetField};
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
    // Alan's deactivation and his membership of Research: 2 of the 9 users, groups and
    // memberships the engine manages, more than 10 %.
    policy.deletion_guard = DeletionGuard::default();
    let plan = plan_for(&jc, &target, &policy).await;
    assert!(
        matches!(
            plan.abort,
            Some(Abort::AccessGuard {
                removals: 2,
                managed: 9,
                overall: true,
                ..
            })
        ),
        "{:?}",
        plan.abort
    );
    let writes_before = target.writes();
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(report.aborted.is_some() && !report.is_success());
    assert_eq!(
        target.writes(),
        writes_before,
        "not even the unrelated create was written"
    );

    policy.deletion_guard = DeletionGuard {
        max_count: Some(2),
        max_percent: 100.0,
        ..DeletionGuard::default()
    };
    assert!(plan_for(&jc, &target, &policy).await.abort.is_none());
    policy.deletion_guard = DeletionGuard {
        max_count: Some(1),
        max_percent: 100.0,
        ..DeletionGuard::default()
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
    // One membership of the nine users, groups and memberships managed is 11 %: over the
    // default guard in a directory this small, so it is counted and aborts...
    let tripped = plan_for(&jc2, &target, &Policy::default()).await;
    assert_eq!(tripped.access_removals(), 1);
    assert!(tripped.abort.is_some());
    // ...and goes through under a guard that allows it.
    let mut policy = Policy::default();
    policy.deletion_guard.max_percent = 20.0;
    let plan = sync(&jc2, &target, &policy).await;
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

// --- Access guards: every loss of access is counted, gated and explainable. --------------

/// `n` people, all in group `g1` ("Engineering"); the first `also_in_g2` also in `g2`.
fn team(n: usize, also_in_g2: usize) -> Snapshot {
    let mut s = Snapshot::default();
    s.groups.push(Group::new("g1", "Engineering"));
    s.groups.push(Group::new("g2", "Everyone"));
    for i in 0..n {
        let id = format!("u{i}");
        s.users.push(person(&id, &format!("P{i} Person")));
        s.add_membership("g1", &id);
        s.add_membership("g2", &id);
        if i >= also_in_g2 {
            s.memberships.remove(&provisioning_core::model::Membership {
                group_id: "g2".into(),
                user_id: id.clone(),
            });
        }
    }
    s
}

/// Syncs `source` into a fresh in-memory target with the default policy.
async fn synced(source: &Snapshot) -> MemoryDirectory {
    let target = MemoryDirectory::default();
    let first = plan(
        source,
        &target.snapshot(),
        &target.capabilities(),
        &Policy::default(),
    );
    assert!(first.abort.is_none(), "{:?}", first.abort);
    assert!(
        apply(&first, &target, &ApplyOptions::default())
            .await
            .is_success()
    );
    target
}

fn plan_on(source: &Snapshot, target: &MemoryDirectory, policy: &Policy) -> Plan {
    plan(source, &target.snapshot(), &target.capabilities(), policy)
}

fn group_trips(plan: &Plan) -> Vec<(String, usize, usize, bool)> {
    match &plan.abort {
        Some(Abort::AccessGuard { groups, .. }) => groups
            .iter()
            .map(|g| (g.group.clone(), g.members, g.removed, g.source_empty))
            .collect(),
        other => panic!("expected an access-guard abort, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bound_group_read_back_empty_aborts_the_run_naming_it() {
    let clean = team(3, 3);
    let target = synced(&clean).await;
    // Engineering comes back with no members (emptied to be rebuilt; a truncated read).
    let mut damaged = clean.clone();
    damaged.memberships.retain(|m| m.group_id != "g1");
    let plan = plan_on(&damaged, &target, &Policy::default());
    assert_eq!(group_trips(&plan), [("Engineering".to_owned(), 3, 3, true)]);
    assert!(
        plan.abort
            .as_ref()
            .unwrap()
            .to_string()
            .contains("\"Engineering\"")
    );
    assert_eq!(plan.access_removals(), 3, "each member counts");
    let writes = target.writes();
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(report.aborted.is_some());
    assert_eq!(target.writes(), writes, "nothing is written");
    assert_eq!(members(&target.snapshot(), "Engineering").len(), 3);
}

#[tokio::test]
async fn a_partial_member_list_losing_most_of_one_group_aborts() {
    let clean = team(10, 10);
    let target = synced(&clean).await;
    // Six of Engineering's ten members are missing from its list (still in Everyone).
    let mut damaged = clean.clone();
    for i in 0..6 {
        damaged
            .memberships
            .remove(&provisioning_core::model::Membership {
                group_id: "g1".into(),
                user_id: format!("u{i}"),
            });
    }
    let mut policy = Policy::default();
    policy.deletion_guard.max_percent = 100.0; // only the per-group bound is at stake
    let plan = plan_on(&damaged, &target, &policy);
    assert_eq!(
        group_trips(&plan),
        [("Engineering".to_owned(), 10, 6, false)]
    );
    // Five of ten is within the per-group bound.
    damaged
        .memberships
        .insert(provisioning_core::model::Membership {
            group_id: "g1".into(),
            user_id: "u0".into(),
        });
    assert!(plan_on(&damaged, &target, &policy).abort.is_none());
}

#[tokio::test]
async fn a_user_suspended_at_the_source_is_not_deactivated_without_the_opt_in() {
    let clean = team(3, 3);
    let target = synced(&clean).await;
    let mut suspended = clean.clone();
    suspended.users[0].active = false;
    let plan = plan_on(&suspended, &target, &Policy::default());
    assert!(
        plan.changes.iter().all(|c| {
            !matches!(&c.operation, Operation::UpdateUser { fields, .. } if fields.contains(&provisioning_core::mapping::TargetField::Active))
                && !matches!(c.operation, Operation::DeactivateUser { .. })
        }),
        "{:#?}",
        plan.changes
    );
    assert_eq!(
        skipped(&plan, "p0@example.com"),
        [&SkipReason::DeprovisionNotAllowed {
            would: "deactivate_user".into()
        }]
    );
    apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(user_named(&target.snapshot(), "p0@example.com").active);

    // With the opt-in it is a deactivation, planned as one and counted by the guard.
    let plan = plan_on(&suspended, &target, &deprovisioning());
    let deactivation: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.operation, Operation::DeactivateUser { .. }))
        .collect();
    assert_eq!(deactivation.len(), 1);
    assert_eq!(deactivation[0].reason, Reason::InactiveAtSource);
    assert_eq!(plan.access_removals(), 1);
    let mut guarded = deprovisioning();
    guarded.deletion_guard = DeletionGuard {
        max_count: Some(0),
        ..DeletionGuard::default()
    };
    assert!(plan_on(&suspended, &target, &guarded).abort.is_some());
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(report.is_success());
    assert_eq!(report.access_removed, 1);
    assert!(!user_named(&target.snapshot(), "p0@example.com").active);
}

#[tokio::test]
async fn unknown_and_staged_source_states_skip_the_user_and_write_nothing() {
    use provisioning_core::model::Hold;
    let clean = team(3, 3);
    let target = synced(&clean).await;
    let mut odd = clean.clone();
    odd.users[0].hold = Some(Hold::UnknownState {
        value: "PENDING_REVIEW".into(),
    });
    odd.users[0].active = false;
    odd.users[1].hold = Some(Hold::Staged);
    odd.users[1].active = false;
    // And a new staged user is not created.
    let mut new = person("u9", "New Hire");
    new.hold = Some(Hold::Staged);
    new.active = false;
    odd.users.push(new);
    odd.add_membership("g1", "u9");
    let plan = plan_on(&odd, &target, &deprovisioning());
    assert!(plan.is_empty(), "{:#?}", plan.changes);
    let held = skipped(&plan, "p0@example.com");
    assert!(matches!(held[..], [SkipReason::Held { .. }]));
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.to_string_contains("PENDING_REVIEW"))
    );
    assert!(matches!(
        skipped(&plan, "new@example.com")[..],
        [SkipReason::Held { hold: Hold::Staged }]
    ));
    let writes = target.writes();
    apply(&plan, &target, &ApplyOptions::default()).await;
    assert_eq!(target.writes(), writes);
}

trait SkippedText {
    fn to_string_contains(&self, text: &str) -> bool;
}

impl SkippedText for provisioning_core::plan::Skipped {
    fn to_string_contains(&self, text: &str) -> bool {
        self.reason.to_string().contains(text)
    }
}

#[tokio::test]
async fn the_guard_counts_against_what_the_engine_manages_not_the_whole_target() {
    let clean = team(50, 0);
    let target = synced(&clean).await;
    for i in 0..1000 {
        target.insert_user(person(&format!("hand-{i}"), &format!("Hand{i} Made")));
    }
    let mut keeps_one = clean.clone();
    keeps_one.users.truncate(1);
    keeps_one.memberships.retain(|m| m.user_id == "u0");
    let mut policy = deprovisioning();
    policy.deletion_guard = DeletionGuard::default();
    let plan = plan_on(&keeps_one, &target, &policy);
    match &plan.abort {
        Some(Abort::AccessGuard {
            removals,
            managed,
            overall,
            ..
        }) => {
            assert!(*overall);
            assert_eq!(*removals, 49 + 49, "49 deactivations and 49 memberships");
            assert_eq!(
                *managed,
                50 + 1 + 50,
                "50 users, 1 group, 50 memberships; not the 1,000 others"
            );
        }
        other => panic!("expected an abort, got {other:?}"),
    }
}

#[tokio::test]
async fn exclusions_match_case_insensitively_and_protect_unlinked_members() {
    let mut source = team(2, 0);
    source.users[0].user_name = "Admin@example.com".into();
    let target = MemoryDirectory::default();
    // The break-glass account exists at the target, unlinked, and is in Engineering, which
    // the engine manages.
    let mut admin = person("t-admin", "Admin Breakglass");
    admin.user_name = "admin@example.com".into();
    admin.given_name = Some("Break".into());
    target.insert_user(admin.clone());
    let mut policy = Policy::default();
    policy.exclude_users = vec!["admin@example.com".into()];
    let first = plan_on(&source, &target, &policy);
    assert_eq!(
        skipped(&first, "Admin@example.com"),
        [&SkipReason::Excluded]
    );
    assert!(
        apply(&first, &target, &ApplyOptions::default())
            .await
            .is_success()
    );
    let engineering = group_named(&target.snapshot(), "Engineering")
        .unwrap()
        .id
        .clone();
    target.add_member(&engineering, "t-admin");
    let before = user_named(&target.snapshot(), "admin@example.com").clone();
    for policy in [policy.clone(), {
        let mut mirror = policy.clone();
        mirror.adopted_group_members = provisioning_core::policy::AdoptedMembers::Mirror;
        mirror.allow_deprovision = true;
        mirror
    }] {
        let plan = plan_on(&source, &target, &policy);
        assert!(plan.is_empty(), "{:#?}", plan.changes);
        assert!(
            apply(&plan, &target, &ApplyOptions::default())
                .await
                .is_success()
        );
    }
    let after = target.snapshot();
    assert_eq!(
        user_named(&after, "admin@example.com"),
        &before,
        "never adopted or changed"
    );
    assert!(members(&after, "Engineering").contains(&"admin@example.com".to_owned()));
}

#[tokio::test]
async fn an_adopted_group_keeps_the_members_the_engine_did_not_add() {
    let source = team(2, 0);
    let target = MemoryDirectory::default();
    target.insert_group(Group::new("tg", "Engineering"));
    for i in 0..3 {
        let id = format!("hand-{i}");
        target.insert_user(person(&id, &format!("Hand{i} Made")));
        target.add_member("tg", &id);
    }
    let first = plan_on(&source, &target, &Policy::default());
    assert_eq!(
        first.access_removals(),
        0,
        "adoption removes nobody by default"
    );
    assert_eq!(
        skipped(&first, "Engineering"),
        [&SkipReason::KeptMembers { count: 3 }]
    );
    assert!(
        apply(&first, &target, &ApplyOptions::default())
            .await
            .is_success()
    );
    assert_eq!(members(&target.snapshot(), "Engineering").len(), 5);
    let second = plan_on(&source, &target, &Policy::default());
    assert!(second.is_empty(), "{:#?}", second.changes);

    // A member the engine added is managed: it goes when the source drops it.
    let mut mover = source.clone();
    mover.memberships.retain(|m| m.user_id != "u1");
    let plan = plan_on(&mover, &target, &Policy::default());
    let removed: Vec<_> = plan
        .changes
        .iter()
        .flat_map(|c| c.members.clone())
        .collect();
    assert_eq!(removed, ["p1@example.com"]);
    assert_eq!(plan.access_removals(), 1);

    // Mirroring removes the others too, each counted.
    let mut mirror = Policy::default();
    mirror.adopted_group_members = provisioning_core::policy::AdoptedMembers::Mirror;
    mirror.deletion_guard = DeletionGuard::unlimited();
    let plan = plan_on(&source, &target, &mirror);
    assert_eq!(plan.access_removals(), 3);
}

#[tokio::test]
async fn a_group_out_of_the_configured_scope_is_left_unless_the_source_confirms_it_is_gone() {
    let clean = team(3, 3);
    let target = synced(&clean).await;
    // Okta-style: Everyone is no longer configured; the source does not list it at all.
    let mut narrowed = clean.clone();
    narrowed.groups.retain(|g| g.id == "g1");
    narrowed.memberships.retain(|m| m.group_id == "g1");
    let plan = plan_on(&narrowed, &target, &deprovisioning());
    assert!(plan.is_empty(), "{:#?}", plan.changes);
    assert_eq!(skipped(&plan, "Everyone"), [&SkipReason::NotConfirmedGone]);
    // Confirmed deleted at the source (an Okta 404): deleted, with its memberships counted.
    narrowed.groups_gone.insert("g2".into());
    let plan = plan_on(&narrowed, &target, &deprovisioning());
    let delete: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.operation, Operation::DeleteGroup { .. }))
        .collect();
    assert_eq!(delete.len(), 1);
    assert_eq!(delete[0].removes_access, 1 + 3);
}

#[tokio::test]
async fn adopt_on_conflict_follows_the_policy() {
    let source = team(1, 0);
    let target = MemoryDirectory::default();
    let mut policy = Policy::default();
    policy.adopt_existing_users = false;
    let plan = plan_on(&source, &target, &policy);
    // Between plan and apply, someone creates the same user by hand.
    target.insert_user(person("hand", "P0 Person"));
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    let create = report
        .outcomes
        .iter()
        .find(|o| o.kind == "create_user")
        .unwrap();
    match &create.status {
        provisioning_core::report::Status::Failed { error, .. } => {
            assert!(error.contains("adopt_existing_users"), "{error}")
        }
        other => panic!("expected a failed change, got {other:?}"),
    }
    let hand = user_named(&target.snapshot(), "p0@example.com").clone();
    assert_eq!(hand.external_id, None, "not taken over");
}

#[tokio::test]
async fn a_saved_plan_is_refused_when_the_source_changed_since() {
    use provisioning_core::saved::{SavedPlan, SavedPlanError};
    let clean = team(3, 3);
    let target = synced(&clean).await;
    let mut damaged = clean.clone();
    damaged.memberships.retain(|m| m.group_id != "g1");
    let tripped = plan_on(&damaged, &target, &Policy::default());
    assert!(tripped.abort.is_some());
    let saved = SavedPlan::new(tripped, &damaged, &target.snapshot());
    let saved: SavedPlan = serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap();
    // Without the count, or with another count: refused.
    assert!(matches!(
        saved.accept(&damaged, &target.snapshot(), None),
        Err(SavedPlanError::NotAccepted { removals: 3, .. })
    ));
    assert!(matches!(
        saved.accept(&damaged, &target.snapshot(), Some(2)),
        Err(SavedPlanError::CountMismatch { .. })
    ));
    // The source moved: refused, naming what moved.
    let mut moved = damaged.clone();
    moved.add_membership("g1", "u0");
    let err = saved
        .accept(&moved, &target.snapshot(), Some(3))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("membership added: p0@example.com in Engineering"),
        "{err}"
    );
    // Unchanged and accepted: applied exactly.
    let plan = saved.accept(&damaged, &target.snapshot(), Some(3)).unwrap();
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(report.is_success());
    assert_eq!(report.access_removed, 3);
    assert!(members(&target.snapshot(), "Engineering").is_empty());
}

// --- Renames and descriptions on a strict target (names unique regardless of case) ---

fn strict() -> MemoryDirectory {
    MemoryDirectory::strict(TargetModel::Generic)
}

fn renamed(id: &str, user_name: &str, given: &str) -> User {
    User::new(id, user_name).with_names(given, "Doe")
}

fn change_kinds(plan: &Plan) -> Vec<(&str, &str)> {
    plan.changes
        .iter()
        .map(|c| (c.operation.kind(), c.subject.as_str()))
        .collect()
}

#[tokio::test]
async fn users_who_swap_names_converge_in_one_apply_through_a_temporary_name() {
    let (jc, target) = (source(), strict());
    sync(&jc, &target, &Policy::default()).await;
    // ada and grace swap userNames at the source (the second in another case).
    jc.insert_user(renamed("u1", "grace@example.com", "Ada"));
    jc.insert_user(renamed("u2", "ADA@example.com", "Grace"));
    let plan = sync(&jc, &target, &Policy::default()).await;
    let temporary: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.reason, Reason::TemporaryName { .. }))
        .collect();
    assert_eq!(temporary.len(), 1, "{}", render(&plan));
    // The final renames wait for the step that frees their name.
    let finals: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.operation.kind() == "update_user" && c.id != temporary[0].id)
        .collect();
    assert_eq!(finals.len(), 2);
    assert!(
        finals.iter().all(|c| !c.depends_on.is_empty()),
        "{}",
        render(&plan)
    );
    let t = target.snapshot();
    assert_eq!(
        user_named(&t, "grace@example.com").given_name.as_deref(),
        Some("Ada")
    );
    assert_eq!(
        user_named(&t, "ADA@example.com").given_name.as_deref(),
        Some("Grace")
    );
    assert_eq!(
        members(&t, "Engineering").len(),
        2,
        "memberships follow the ids"
    );
}

#[tokio::test]
async fn a_chain_of_group_renames_converges_in_one_apply() {
    let (jc, target) = (source(), strict());
    sync(&jc, &target, &Policy::default()).await;
    // Engineering → Research while Research → Science: the second must go first.
    jc.insert_group(Group::new("g1", "research"));
    jc.insert_group(Group::new("g2", "Science"));
    let plan = sync(&jc, &target, &Policy::default()).await;
    assert_eq!(
        change_kinds(&plan),
        [("update_group", "Science"), ("update_group", "research")]
    );
    assert_eq!(plan.changes[1].depends_on, [plan.changes[0].id]);
    let t = target.snapshot();
    assert_eq!(
        members(&t, "research"),
        ["ada@example.com", "grace@example.com"]
    );
    assert_eq!(
        members(&t, "Science"),
        ["alan@example.com", "grace@example.com"]
    );
}

#[tokio::test]
async fn two_users_renamed_into_one_name_are_both_left_naming_each_other() {
    let (jc, target) = (source(), strict());
    sync(&jc, &target, &Policy::default()).await;
    jc.insert_user(renamed("u1", "same@example.com", "Ada"));
    jc.insert_user(renamed("u2", "Same@Example.com", "Grace"));
    let plan = sync(&jc, &target, &Policy::default()).await;
    assert!(
        plan.changes
            .iter()
            .all(|c| c.operation.kind() != "update_user" || {
                let Operation::UpdateUser { fields, .. } = &c.operation else {
                    unreachable!()
                };
                !fields.contains(&TargetField::UserName)
            }),
        "{}",
        render(&plan)
    );
    assert_eq!(
        skipped(&plan, "same@example.com"),
        [&SkipReason::NameCollision {
            name: "same@example.com".into(),
            with: vec!["Same@Example.com".into()],
        }]
    );
    assert_eq!(skipped(&plan, "Same@Example.com").len(), 1);
    let t = target.snapshot();
    assert_eq!(
        user_named(&t, "ada@example.com")
            .external_id
            .as_ref()
            .unwrap()
            .id,
        "u1"
    );
    assert_eq!(
        user_named(&t, "grace@example.com")
            .external_id
            .as_ref()
            .unwrap()
            .id,
        "u2"
    );
}

#[tokio::test]
async fn a_rename_into_the_name_of_a_user_this_run_deletes_waits_for_the_deletion() {
    let (jc, target) = (source(), strict());
    let mut policy = deprovisioning();
    policy.deprovision = Deprovision::Delete;
    // Ours, mirroring a source user that is gone.
    let mut leftover = renamed("t-old", "ada.l@example.com", "Old");
    leftover.external_id = Some(ExternalId::new(DEFAULT_ISSUER, "u-gone"));
    target.insert_user(leftover);
    sync(&jc, &target, &policy).await;
    assert!(target.snapshot().users.iter().all(|u| u.id != "t-old"));

    let mut leftover = renamed("t-old2", "ada.lovelace@example.com", "Old");
    leftover.external_id = Some(ExternalId::new(DEFAULT_ISSUER, "u-gone"));
    target.insert_user(leftover);
    jc.insert_user(renamed("u1", "Ada.Lovelace@example.com", "Ada"));
    let plan = sync(&jc, &target, &policy).await;
    assert_eq!(
        plan.changes[0].operation,
        Operation::DeleteUser {
            id: "t-old2".into()
        }
    );
    let rename = plan
        .changes
        .iter()
        .find(|c| c.subject == "Ada.Lovelace@example.com")
        .unwrap();
    assert_eq!(rename.depends_on, [0], "{}", render(&plan));
    let t = target.snapshot();
    assert_eq!(
        user_named(&t, "Ada.Lovelace@example.com")
            .external_id
            .as_ref()
            .unwrap()
            .id,
        "u1"
    );
}

#[tokio::test]
async fn a_rename_into_a_name_another_object_keeps_is_skipped_naming_it() {
    let (jc, target) = (source(), strict());
    sync(&jc, &target, &Policy::default()).await;
    target.insert_user(renamed("t-theirs", "ada.new@example.com", "Someone"));
    jc.insert_user(User::new("u1", "ADA.NEW@example.com").with_names("Ada", "Lovelace"));
    let plan = sync(&jc, &target, &Policy::default()).await;
    assert!(plan.is_empty(), "{}", render(&plan));
    assert!(
        target
            .snapshot()
            .users
            .iter()
            .any(|u| u.user_name == "ada@example.com")
    );
    assert_eq!(
        skipped(&plan, "ADA.NEW@example.com"),
        [&SkipReason::NameHeld {
            name: "ADA.NEW@example.com".into(),
            holder: "ada.new@example.com".into(),
        }]
    );
}

#[tokio::test]
async fn group_descriptions_converge_on_targets_that_hold_none_and_blank_ones_are_never_written() {
    for model in [
        TargetModel::Generic,
        TargetModel::Pulumi,
        TargetModel::AwsIdentityCenter,
        TargetModel::IdentityStore,
    ] {
        let jc = source();
        let mut described = Group::new("g1", "Engineering");
        described.description = Some("Builds the product".into());
        jc.insert_group(described);
        let mut blank = Group::new("g2", "Research");
        blank.description = Some(String::new()); // JumpCloud's "no description"
        jc.insert_group(blank);
        let target = MemoryDirectory::strict(model);
        // The strict Identity Store refuses an empty description: the first sync fails if
        // the engine sends one.
        sync(&jc, &target, &Policy::default()).await;
        let t = target.snapshot();
        let held = |name: &str| group_named(&t, name).unwrap().description.clone();
        assert_eq!(held("Research"), None, "{model:?}");
        let expected =
            (model == TargetModel::IdentityStore).then(|| "Builds the product".to_owned());
        assert_eq!(held("Engineering"), expected, "{model:?}");
    }
}

#[tokio::test]
async fn a_description_over_the_identity_stores_limit_is_written_cut_and_converges() {
    let jc = source();
    let mut long = Group::new("g1", "Engineering");
    long.description = Some("é".repeat(1500));
    jc.insert_group(long);
    let target = MemoryDirectory::strict(TargetModel::IdentityStore);
    sync(&jc, &target, &Policy::default()).await;
    let t = target.snapshot();
    let held = group_named(&t, "Engineering")
        .unwrap()
        .description
        .clone()
        .unwrap();
    assert_eq!(held.chars().count(), 1024);
}

fn render(plan: &Plan) -> String {
    provisioning_core::report::render_plan(plan)
}
