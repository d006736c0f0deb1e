//! The demo source, the scenarios every target runs, and a readable view of a target.

use std::collections::{BTreeMap, BTreeSet};

use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::ids::{ApplicationId, GroupId, UserId};
use jumpcloud_api::models::NewSystemUser;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::{Target, TargetReader};
use provisioning_core::connectors::jumpcloud::JumpCloudSource;
use provisioning_core::model::Scope;
use provisioning_core::plan::{Plan, SkipReason};
use provisioning_core::policy::{DeletionGuard, Deprovision, Policy};
use provisioning_core::sync::plan_sync;

/// A userName with a `+` (a space, if a filter is not percent-encoded) and a `"` (which a
/// filter literal must escape).
pub const ODD_NAME: &str = "d\"arcy+ops@example.com";

/// The JumpCloud demo: "AWS SSO" binds Engineering (ada, grace, d"arcy) and Research
/// (grace, alan); Finance (bob) is not bound.
pub struct Demo {
    pub fake: FakeJumpCloud,
    pub app: ApplicationId,
    pub engineering: GroupId,
    pub research: GroupId,
    pub ada: UserId,
}

pub async fn demo() -> Demo {
    let fake = FakeJumpCloud::start().await;
    let user = |name: &str, email: &str, given: &str, family: &str| {
        fake.add_user(NewSystemUser::new(name, email).names(given, family))
    };
    let ada = user("ada", "ada@example.com", "Ada", "Lovelace");
    let grace = user("grace", "grace@example.com", "Grace", "Hopper");
    let alan = user("alan", "alan@example.com", "Alan", "Turing");
    let darcy = user(ODD_NAME, "darcy+ops@example.com", "D'Arcy", "Ops");
    let bob = user("bob", "bob@example.com", "Bob", "Builder");
    let engineering = fake.add_group("Engineering");
    let research = fake.add_group("Research");
    let finance = fake.add_group("Finance");
    for member in [&ada, &grace, &darcy] {
        fake.add_member(&engineering, member);
    }
    fake.add_member(&research, &grace);
    fake.add_member(&research, &alan);
    fake.add_member(&finance, &bob);
    let app = fake.add_application("aws", "AWS SSO");
    fake.associate_group(&app, &engineering);
    fake.associate_group(&app, &research);
    Demo {
        fake,
        app,
        engineering,
        research,
        ada,
    }
}

pub fn scope() -> Scope {
    Scope::Application("AWS SSO".into())
}

/// A policy that may deprovision, the way `deprovision` says.
pub fn deprovisioning(deprovision: Deprovision) -> Policy {
    let mut policy = Policy::default();
    policy.allow_deprovision = true;
    policy.deprovision = deprovision;
    policy.deletion_guard = DeletionGuard::unlimited();
    policy
}

/// Plans, applies, and checks that the apply succeeded and the next plan is empty.
pub async fn sync(demo: &Demo, target: &dyn Target, policy: &Policy) -> Plan {
    let source = JumpCloudSource::new(demo.fake.client());
    let plan = plan_sync(&source, &scope(), target, policy)
        .await
        .expect("the source and the target can be read");
    assert!(plan.abort.is_none(), "{:?}", plan.abort);
    let report = apply(&plan, target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "{report:#?}");
    let again = plan_sync(&source, &scope(), target, policy).await.unwrap();
    assert!(again.is_empty(), "second plan: {:#?}", again.changes);
    plan
}

/// A target as people read it: users by userName (with their active flag), and groups by
/// name with their members' userNames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub users: BTreeMap<String, bool>,
    pub groups: BTreeMap<String, BTreeSet<String>>,
}

pub async fn view(target: &dyn TargetReader) -> View {
    let snapshot = target.read().await.expect("the target can be read");
    let names: BTreeMap<&str, &str> = snapshot
        .users
        .iter()
        .map(|u| (u.id.as_str(), u.user_name.as_str()))
        .collect();
    let mut groups: BTreeMap<String, BTreeSet<String>> = snapshot
        .groups
        .iter()
        .map(|g| (g.display_name.clone(), BTreeSet::new()))
        .collect();
    for m in &snapshot.memberships {
        let group = snapshot.groups.iter().find(|g| g.id == m.group_id).unwrap();
        groups
            .get_mut(&group.display_name)
            .unwrap()
            .insert(names[m.user_id.as_str()].to_owned());
    }
    View {
        users: snapshot
            .users
            .iter()
            .map(|u| (u.user_name.clone(), u.active))
            .collect(),
        groups,
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// What the first sync of the demo must leave at any target.
pub fn expected_first_sync() -> View {
    View {
        users: ["ada", "alan", "grace", ODD_NAME]
            .into_iter()
            .map(|n| (n.to_owned(), true))
            .collect(),
        groups: BTreeMap::from([
            ("Engineering".to_owned(), set(&["ada", "grace", ODD_NAME])),
            ("Research".to_owned(), set(&["alan", "grace"])),
        ]),
    }
}

/// First sync, empty second plan, the odd userName found by a lookup, and a dry run that
/// leaves the target untouched.
pub async fn first_sync_converges_and_a_dry_run_writes_nothing(demo: &Demo, target: &dyn Target) {
    let plan = sync(demo, target, &Policy::default()).await;
    let counts = plan.counts();
    assert_eq!(counts["create_user"], 4, "{counts:?}");
    assert_eq!(counts["create_group"], 2, "{counts:?}");
    assert_eq!(view(target).await, expected_first_sync());

    let found = target
        .find_user(ODD_NAME)
        .await
        .expect("the lookup succeeds")
        .expect("the user with a + and a quote is found by userName");
    assert_eq!(found.user_name, ODD_NAME);

    // A dry run is a plan alone: it sees the new joiner and writes nothing.
    let eve = demo
        .fake
        .add_user(NewSystemUser::new("eve", "eve@example.com").names("Eve", "Joiner"));
    demo.fake.add_member(&demo.engineering, &eve);
    let before = view(target).await;
    let source = JumpCloudSource::new(demo.fake.client());
    let reader: &dyn TargetReader = target;
    let dry = plan_sync(&source, &scope(), reader, &Policy::default())
        .await
        .unwrap();
    assert_eq!(dry.counts()["create_user"], 1);
    assert_eq!(view(target).await, before, "a dry run changed the target");
}

/// How a departed user ends up at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departed {
    /// Kept, with `active = false`.
    Inactive,
    /// Deleted.
    Gone,
}

/// Ada is removed and Research deleted at the source: Research is deleted at the target,
/// and Ada and Alan (who was only in Research) are deprovisioned as `policy` and the target
/// allow.
pub async fn removals_deprovision_per_policy(
    demo: &Demo,
    target: &dyn Target,
    policy: &Policy,
    departed: Departed,
) {
    sync(demo, target, &Policy::default()).await;
    demo.fake.remove_user(&demo.ada);
    demo.fake.remove_group(&demo.research);
    let plan = sync(demo, target, policy).await;
    assert_eq!(
        plan.counts().get("delete_group"),
        Some(&1),
        "{:?}",
        plan.counts()
    );
    let after = view(target).await;
    assert_eq!(after.groups.keys().collect::<Vec<_>>(), ["Engineering"]);
    assert_eq!(after.groups["Engineering"], set(&["grace", ODD_NAME]));
    for name in ["ada", "alan"] {
        match departed {
            Departed::Inactive => assert_eq!(after.users.get(name), Some(&false), "{name}"),
            Departed::Gone => assert_eq!(after.users.get(name), None, "{name}"),
        }
    }
    assert_eq!(after.users.get("grace"), Some(&true));
}

/// Seed 002's rule: a group disassociated from the application is left as it is, and only
/// its members covered by no other bound group lose access (Alan; not Grace).
pub async fn a_disassociated_group_is_left_as_is(
    demo: &Demo,
    target: &dyn Target,
    policy: &Policy,
    departed: Departed,
) {
    sync(demo, target, &Policy::default()).await;
    demo.fake.dissociate_group(&demo.app, &demo.research);
    let plan = sync(demo, target, policy).await;
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.subject == "Research" && s.reason == SkipReason::LeftScope),
        "{:#?}",
        plan.skipped
    );
    let after = view(target).await;
    assert!(after.groups.contains_key("Research"), "left as it is");
    assert_eq!(
        after.users.get("grace"),
        Some(&true),
        "still in Engineering"
    );
    match departed {
        Departed::Inactive => assert_eq!(after.users.get("alan"), Some(&false)),
        Departed::Gone => assert_eq!(after.users.get("alan"), None),
    }
}
