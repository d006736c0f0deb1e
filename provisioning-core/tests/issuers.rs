//! The ownership issuer: one per source directory, so that two syncs into one target never
//! take each other's objects for their own; and the upgrade from the old single default.

use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::memory::MemoryDirectory;
use provisioning_core::model::{ExternalId, Group, Scope, User};
use provisioning_core::plan::{Operation, Plan, SkipReason};
use provisioning_core::policy::{DEFAULT_ISSUER, DeletionGuard, Deprovision, Policy};
use provisioning_core::report::render_plan;
use provisioning_core::sync::plan_sync;

fn person(id: &str, name: &str) -> User {
    let (given, family) = name.split_once(' ').unwrap_or((name, "Doe"));
    User::new(id, format!("{}@example.com", given.to_lowercase())).with_names(given, family)
}

/// A JumpCloud organisation: its users in one group bound to the `aws` application.
fn organisation(group: (&str, &str), users: &[(&str, &str)]) -> MemoryDirectory {
    let jc = MemoryDirectory::default();
    jc.insert_group(Group::new(group.0, group.1));
    jc.bind_group("aws", group.0);
    for (id, name) in users {
        jc.insert_user(person(id, name));
        jc.add_member(group.0, id);
    }
    jc
}

/// The most destructive policy: deprovisioning on, deleting, no guard.
fn deleting(issuer: &str) -> Policy {
    let mut policy = Policy::default();
    policy.issuer = issuer.to_owned();
    policy.allow_deprovision = true;
    policy.deprovision = Deprovision::Delete;
    policy.deletion_guard = DeletionGuard::unlimited();
    policy
}

async fn plan_for(source: &MemoryDirectory, target: &MemoryDirectory, policy: &Policy) -> Plan {
    plan_sync(source, &Scope::Application("aws".into()), target, policy)
        .await
        .expect("in-memory reads succeed")
}

async fn sync(source: &MemoryDirectory, target: &MemoryDirectory, policy: &Policy) {
    let plan = plan_for(source, target, policy).await;
    assert!(plan.abort.is_none(), "unexpected abort: {:?}", plan.abort);
    let report = apply(&plan, target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "apply failed: {report:#?}");
}

fn two_organisations() -> (MemoryDirectory, MemoryDirectory) {
    // JumpCloud ids are global ObjectIds: the two organisations' ids differ.
    let acme = organisation(
        ("5f0c00000000000000000a01", "Engineering"),
        &[
            ("5f0c00000000000000000a11", "Ada Lovelace"),
            ("5f0c00000000000000000a12", "Grace Hopper"),
        ],
    );
    let globex = organisation(
        ("5f0c00000000000000000b01", "Operations"),
        &[
            ("5f0c00000000000000000b11", "Alan Turing"),
            ("5f0c00000000000000000b12", "Linus Torvalds"),
        ],
    );
    (acme, globex)
}

fn removals(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| {
            matches!(
                c.operation,
                Operation::DeleteUser { .. }
                    | Operation::DeactivateUser { .. }
                    | Operation::DeleteGroup { .. }
                    | Operation::RemoveMembers { .. }
            )
        })
        .map(|c| format!("{} {}", c.operation.kind(), c.subject))
        .collect()
}

#[tokio::test]
async fn two_organisations_with_their_own_issuers_leave_each_other_alone() {
    let (acme, globex) = two_organisations();
    let target = MemoryDirectory::default();
    let acme_policy = deleting("jumpcloud:5f3a1b2c3d4e5f6a7b8c9d0e");
    let globex_policy = deleting("jumpcloud:6a4b2c3d4e5f6a7b8c9d0e1f");

    sync(&acme, &target, &acme_policy).await;
    sync(&globex, &target, &globex_policy).await;
    assert_eq!(target.snapshot().users.len(), 4);

    for (source, policy) in [(&acme, &acme_policy), (&globex, &globex_policy)] {
        let again = plan_for(source, &target, policy).await;
        assert!(
            again.is_empty(),
            "{}: the other organisation's objects are not ours:\n{}",
            policy.issuer,
            render_plan(&again)
        );
    }
    let after = target.snapshot();
    assert_eq!(after.users.len(), 4);
    assert_eq!(after.groups.len(), 2);
}

/// The defect the derived issuers fix: under one shared issuer, each sync takes the other
/// organisation's users for its own departed ones.
#[tokio::test]
async fn under_one_shared_issuer_each_sync_would_deprovision_the_other() {
    let (acme, globex) = two_organisations();
    let target = MemoryDirectory::default();
    let shared = deleting(DEFAULT_ISSUER);
    sync(&acme, &target, &shared).await;
    sync(&globex, &target, &shared).await;
    let removed = removals(&plan_for(&acme, &target, &shared).await);
    assert!(
        removed.iter().any(|r| r.contains("alan@example.com")),
        "expected the shared issuer to plan Globex's users away: {removed:?}"
    );
}

/// An object marked with the old default is someone else's under a derived issuer: it is
/// skipped, and the plan says how to keep managing it.
#[tokio::test]
async fn marks_of_the_old_default_are_skipped_with_the_upgrade_hint() {
    let (acme, _) = two_organisations();
    let target = MemoryDirectory::default();
    let mut ada = person("t1", "Ada Lovelace");
    ada.external_id = Some(ExternalId::new(DEFAULT_ISSUER, "5f0c00000000000000000a11"));
    target.insert_user(ada);

    let plan = plan_for(
        &acme,
        &target,
        &deleting("jumpcloud:5f3a1b2c3d4e5f6a7b8c9d0e"),
    )
    .await;
    assert!(
        plan.skipped.iter().any(|s| s.subject == "ada@example.com"
            && s.reason
                == SkipReason::OwnedByOtherIssuer {
                    issuer: DEFAULT_ISSUER.into()
                }),
        "{:#?}",
        plan.skipped
    );
    let text = render_plan(&plan);
    assert!(
        text.contains("set `issuer = \"identity-provisioning\"` in [policy]"),
        "{text}"
    );

    // With the old default configured, the deployment carries on as before.
    let plan = plan_for(&acme, &target, &deleting(DEFAULT_ISSUER)).await;
    assert!(plan.skipped.is_empty(), "{:#?}", plan.skipped);
    assert!(!render_plan(&plan).contains("Note:"));
}
