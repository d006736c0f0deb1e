//! Property tests over random source and target directories, capabilities and policies:
//! - the plan of a target that already matches its source is empty;
//! - applying plan(S, T) to T converges: the next plan is empty, every source user the
//!   plan did not skip is at the target with its mapped attributes, and every source group
//!   it did not skip is there holding its members (read from the target's own links);
//! - no plan deactivates or deletes when the policy forbids it;
//! - an aborted plan writes nothing;
//! - under source damage (groups emptied, lists truncated, states randomised, names
//!   re-cased) an apply never removes more access than the guard allows, counted from the
//!   target before and after, never touches an excluded or held user, and never deprovisions
//!   without the opt-in;
//! - planning (a dry run) never writes;
//! - applying the same plan twice leaves the target as applying it once;
//! - the planner is deterministic.
//!
//! Every target is a strict one ([`MemoryDirectory::strict`]): names unique
//! case-insensitively after NFC on create and rename, fields the capabilities do not hold
//! dropped, descriptions and inactive users refused where the model refuses them. Sources
//! carry descriptions (empty, long), phones, a custom attribute, case and NFD/NFC variants
//! of one name, and link to target users of other names (rename swaps and chains).

use std::collections::BTreeSet;

use proptest::prelude::*;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::{Capabilities, TargetModel, TargetReader};
use provisioning_core::mapping::{AttributeMapping, SourceField, TargetField};
use provisioning_core::memory::MemoryDirectory;
use provisioning_core::model::{ExternalId, Group, Snapshot, User};
use provisioning_core::plan::{Plan, plan};
use provisioning_core::policy::{DEFAULT_ISSUER, DeletionGuard, Deprovision, Policy};

/// With case variants ("ada", "Ada"), one name in NFC and NFD ("josé"), and the Turkish
/// capital dotted I against its lowercase spelling ("İrem", "i̇rem"): each pair folds to one
/// name (NFC, then lowercase), the key the engine and the strict target compare.
const USER_NAMES: [&str; 13] = [
    "ada",
    "Ada",
    "grace",
    "alan",
    "edsger",
    "barbara",
    "ken",
    "svc-ci",
    "lin",
    "jos\u{e9}",
    "jose\u{301}",
    "\u{130}rem",
    "i\u{307}rem",
];
const GROUP_NAMES: [&str; 7] = [
    "Engineering",
    "Research",
    "AWSAdmins",
    "Ops",
    "ops",
    "Finance",
    "Caf\u{e9}",
];

/// The key a real target compares names by.
fn fold(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfc().collect::<String>().to_lowercase()
}

/// None, empty, blank, a short one, one over the Identity Store's 1,024 characters.
fn description(kind: u8) -> Option<String> {
    match kind {
        0 => None,
        1 => Some(String::new()),
        2 => Some("  ".into()),
        3 => Some("The team".into()),
        _ => Some("long ".repeat(220)),
    }
}

fn source_user(i: usize, name: usize, names: bool, active: bool, extra: u8) -> User {
    let mut user = User::new(format!("u{i}"), USER_NAMES[name]);
    if names {
        user = user.with_names(USER_NAMES[name], "Test");
    }
    user.active = active;
    if extra & 1 == 1 {
        user.phone_numbers.push(provisioning_core::model::Phone {
            value: format!("+1 555 010{i}"),
            kind: Some("work".into()),
        });
    }
    if extra & 2 == 2 {
        user.attributes.insert("department".into(), format!("D{i}"));
    }
    user.with_email(format!("{}@example.com", USER_NAMES[name].to_lowercase()))
}

prop_compose! {
    fn arb_source()(
        users in prop::collection::vec((0..USER_NAMES.len(), prop::bool::weighted(0.8), prop::bool::weighted(0.9), 0u8..4), 0..9),
        groups in prop::collection::vec((0..GROUP_NAMES.len(), 0u8..5), 0..5),
        members in prop::collection::vec((0..5usize, 0..9usize), 0..20),
        out_of_scope in prop::collection::vec(0..8usize, 0..3),
    ) -> Snapshot {
        let mut s = Snapshot::default();
        for (i, (name, names, active, extra)) in users.into_iter().enumerate() {
            s.users.push(source_user(i, name, names, active, extra));
        }
        for (i, (name, described)) in groups.into_iter().enumerate() {
            let mut group = Group::new(format!("g{i}"), GROUP_NAMES[name]);
            group.description = description(described);
            s.groups.push(group);
        }
        for (g, u) in members {
            if g < s.groups.len() && u < s.users.len() {
                s.add_membership(format!("g{g}"), format!("u{u}"));
            }
        }
        for g in out_of_scope {
            if g >= s.groups.len() {
                s.groups_out_of_scope.insert(format!("g{g}"));
            }
        }
        s
    }
}

/// 0: unowned, 1: ours (linked to a random source id), 2: another tool's.
fn link(kind: u8, source_id: usize, prefix: &str) -> Option<ExternalId> {
    match kind {
        1 => Some(ExternalId::new(
            DEFAULT_ISSUER,
            format!("{prefix}{source_id}"),
        )),
        2 => Some(ExternalId::new("other-tool", format!("x{source_id}"))),
        _ => None,
    }
}

prop_compose! {
    fn arb_target()(
        users in prop::collection::vec((0..USER_NAMES.len(), 0u8..3, 0..9usize, any::<bool>(), any::<bool>()), 0..9),
        groups in prop::collection::vec((0..GROUP_NAMES.len(), 0u8..3, 0..8usize, any::<bool>()), 0..5),
        members in prop::collection::vec((0..5usize, 0..9usize), 0..20),
    ) -> MemoryDirectory {
        // Strict: the capabilities each test declares say what it holds and refuses.
        let t = MemoryDirectory::strict(TargetModel::Generic);
        let mut user_names = BTreeSet::new();
        let mut user_ids = Vec::new();
        for (i, (name, kind, sid, names, active)) in users.into_iter().enumerate() {
            // A real target keeps userNames unique, case-insensitively.
            if !user_names.insert(fold(USER_NAMES[name])) {
                continue;
            }
            let mut user = User::new(format!("t{i}"), USER_NAMES[name]);
            if names {
                user = user.with_names("Someone", "Else");
            }
            user.active = active;
            user.external_id = link(kind, sid, "u");
            user_ids.push(user.id.clone());
            t.insert_user(user);
        }
        let mut group_names = BTreeSet::new();
        let mut group_ids = Vec::new();
        for (i, (name, kind, sid, described)) in groups.into_iter().enumerate() {
            if !group_names.insert(fold(GROUP_NAMES[name])) {
                continue;
            }
            let mut group = Group::new(format!("tg{i}"), GROUP_NAMES[name]);
            group.description = described.then(|| "Old".to_owned());
            group.external_id = link(kind, sid, "g");
            group_ids.push(group.id.clone());
            t.insert_group(group);
        }
        for (g, u) in members {
            if g < group_ids.len() && u < user_ids.len() {
                t.add_member(&group_ids[g], &user_ids[u]);
            }
        }
        t
    }
}

prop_compose! {
    fn arb_caps()(
        model in prop::sample::select(vec![TargetModel::IdentityStore, TargetModel::AwsIdentityCenter, TargetModel::Pulumi, TargetModel::Generic]),
        requires_names: bool, can_delete_users: bool, can_rename_users: bool, can_rename_groups: bool,
        can_deactivate_users: bool, max_members in 1usize..4,
    ) -> Capabilities {
        // A model's fields, descriptions and limits, with its switches drawn both ways.
        let mut caps = model.capabilities();
        caps.requires_names = requires_names;
        caps.can_deactivate_users = can_deactivate_users;
        caps.can_delete_users = can_delete_users;
        caps.can_rename_users = can_rename_users;
        caps.can_rename_groups = can_rename_groups;
        caps.max_members_per_request = max_members;
        caps
    }
}

prop_compose! {
    fn arb_policy()(
        manage_groups in prop::bool::weighted(0.8),
        create_empty_groups: bool,
        adopt_existing_groups: bool,
        adopt_existing_users: bool,
        allow_deprovision: bool,
        delete: bool,
        max_percent in prop::sample::select(vec![0.0, 10.0, 50.0, 100.0]),
        max_count in prop::option::of(0usize..4),
        mapping in 0u8..3,
    ) -> Policy {
        let mut policy = Policy::default();
        policy.mapping = match mapping {
            0 => AttributeMapping::default(),
            1 => AttributeMapping::with_work_phone(),
            _ => AttributeMapping::with_work_phone().with(
                TargetField::Attribute("department".into()),
                SourceField::Attribute("department".into()),
            ),
        };
        policy.manage_groups = manage_groups;
        policy.create_empty_groups = create_empty_groups;
        policy.adopt_existing_groups = adopt_existing_groups;
        policy.adopt_existing_users = adopt_existing_users;
        policy.allow_deprovision = allow_deprovision;
        policy.deprovision = if delete { Deprovision::Delete } else { Deprovision::Deactivate };
        policy.deletion_guard = DeletionGuard { max_count, max_percent, ..DeletionGuard::default() };
        policy
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

fn plan_against(source: &Snapshot, target: &MemoryDirectory, policy: &Policy) -> Plan {
    plan(source, &target.snapshot(), &target.capabilities(), policy)
}

fn caps_of(target: &MemoryDirectory) -> Capabilities {
    target.capabilities()
}

fn options() -> ApplyOptions {
    let mut options = ApplyOptions::default();
    options.concurrency = 3;
    options
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn applying_a_plan_converges_and_the_next_plan_is_empty(
        source in arb_source(), target in arb_target(), caps in arb_caps(), mut policy in arb_policy(),
    ) {
        prop_assume!(!source.is_empty());
        policy.deletion_guard = DeletionGuard::unlimited();
        let target = target.with_capabilities(caps);
        let first = plan_against(&source, &target, &policy);
        prop_assert!(first.abort.is_none());
        let report = block_on(apply(&first, &target, &options()));
        prop_assert!(report.is_success(), "{}", provisioning_core::report::render_report(&report));

        let next = plan_against(&source, &target, &policy);
        prop_assert!(next.is_empty(), "not converged: {}", provisioning_core::report::render_plan(&next));

        // Every source user the plan did not skip is at the target, linked and up to date.
        let skipped: BTreeSet<&str> = first.skipped.iter().map(|s| s.subject.as_str()).collect();
        let now = target.snapshot();
        for s in &source.users {
            if skipped.contains(s.user_name.as_str()) {
                continue;
            }
            let caps = target.capabilities();
            let desired = caps.held(policy.mapping.map_user(s));
            // A target that holds no inactive user does not mirror one: it is left to
            // deprovisioning.
            if !desired.active && !caps.can_deactivate_users {
                continue;
            }
            // (A random target may link two users to one source user; one of them mirrors it.)
            let mirrored = now
                .users
                .iter()
                .filter(|t| t.external_id.as_ref().is_some_and(|l| l.issuer == DEFAULT_ISSUER && l.id == s.id))
                .any(|t| {
                    let mut fields = policy.mapping.differences(&desired, t);
                    fields.retain(|f| caps.holds(f));
                    if !caps.can_rename_users {
                        fields.retain(|f| *f != TargetField::UserName);
                    }
                    // Without the opt-in a user suspended at the source stays active; a
                    // target that cannot deactivate holds only active users.
                    // (A target that cannot write a status keeps the one it has.)
                    if (!policy.allow_deprovision && !desired.active && t.active) || !caps.can_deactivate_users {
                        fields.retain(|f| *f != TargetField::Active);
                    }
                    fields.is_empty()
                });
            prop_assert!(
                mirrored,
                "{} is not mirrored at the target: {:?}\nafter the plan\n{}",
                s.user_name,
                now.users,
                provisioning_core::report::render_plan(&first)
            );
        }
        // Every source group the plan did not skip is at the target, linked, and holds
        // every member the plan did not skip: read from the target's own links, not from
        // the planner's views.
        if policy.manage_groups {
            let linked_to = |id: &str| -> Option<String> {
                now.users
                    .iter()
                    .find(|u| u.id == id)
                    .and_then(|u| u.external_id.as_ref())
                    .filter(|l| l.issuer == DEFAULT_ISSUER)
                    .map(|l| l.id.clone())
            };
            for g in &source.groups {
                if skipped.contains(g.display_name.as_str()) {
                    continue;
                }
                let twin = now.groups.iter().find(|t| {
                    t.external_id.as_ref().is_some_and(|l| l.issuer == DEFAULT_ISSUER && l.id == g.id)
                });
                let Some(twin) = twin else {
                    prop_assert!(false, "group {} is not at the target", g.display_name);
                    continue;
                };
                let held: BTreeSet<String> = now.members_of(&twin.id).filter_map(linked_to).collect();
                for u in source.members_of(&g.id) {
                    let user = source.users.iter().find(|s| s.id == u).unwrap();
                    let gone = !user.active && !caps_of(&target).can_deactivate_users;
                    if skipped.contains(user.user_name.as_str()) || gone {
                        continue;
                    }
                    prop_assert!(held.contains(u), "{} is not a member of {} at the target", user.user_name, g.display_name);
                }
            }
        }
    }

    #[test]
    fn a_target_that_matches_its_source_plans_nothing(
        source in arb_source(), caps in arb_caps(), policy in arb_policy(),
    ) {
        prop_assume!(!source.is_empty());
        let target = MemoryDirectory::strict(TargetModel::Generic).with_capabilities(caps);
        let mut unlimited = policy.clone();
        unlimited.deletion_guard = DeletionGuard::unlimited();
        let report = block_on(apply(&plan_against(&source, &target, &unlimited), &target, &options()));
        prop_assert!(report.is_success());
        prop_assert!(plan_against(&source, &target, &policy).is_empty());
    }

    #[test]
    fn no_plan_deprovisions_when_the_policy_forbids_it(
        source in arb_source(), target in arb_target(), caps in arb_caps(), mut policy in arb_policy(),
    ) {
        policy.allow_deprovision = false;
        let target = target.with_capabilities(caps);
        let plan = plan_against(&source, &target, &policy);
        prop_assert_eq!(plan.destructive_count(), 0);
        let before = target.snapshot();
        let report = block_on(apply(&plan, &target, &options()));
        let after = target.snapshot();
        prop_assert!(report.outcomes.iter().all(|o| !matches!(o.kind.as_str(), "deactivate_user" | "delete_user" | "delete_group")));
        for user in &before.users {
            let still = after.users.iter().find(|u| u.id == user.id);
            prop_assert!(still.is_some(), "{} was deleted", user.user_name);
        }
        for group in &before.groups {
            prop_assert!(after.groups.iter().any(|g| g.id == group.id), "{} was deleted", group.display_name);
        }
    }

    #[test]
    fn an_aborted_plan_writes_nothing(
        source in arb_source(), target in arb_target(), caps in arb_caps(), policy in arb_policy(),
    ) {
        let target = target.with_capabilities(caps);
        let plan = plan_against(&source, &target, &policy);
        let report = block_on(apply(&plan, &target, &options()));
        if plan.abort.is_some() {
            prop_assert_eq!(target.writes(), 0);
            prop_assert!(report.outcomes.is_empty());
        }
    }

    /// A synced target, then a damaged source read (groups emptied, member lists truncated,
    /// states randomised, names in another case): whatever the policy, the apply never
    /// removes more access than the guard allows, never touches an excluded or held user,
    /// and never deactivates or deletes without `allow_deprovision`. Access removed is
    /// counted from the target's snapshots before and after, not from the plan.
    #[test]
    fn the_access_guard_holds_when_the_source_misbehaves(
        source in arb_source(), target in arb_target(), caps in arb_caps(), mut policy in arb_policy(),
        damage in arb_damage(), excluded in prop::option::of(0..USER_NAMES.len()),
    ) {
        prop_assume!(!source.is_empty());
        let target = target.with_capabilities(caps);
        let mut clean = policy.clone();
        clean.deletion_guard = DeletionGuard::unlimited();
        let first = plan_against(&source, &target, &clean);
        prop_assert!(block_on(apply(&first, &target, &options())).is_success());

        if let Some(name) = excluded {
            policy.exclude_users = vec![USER_NAMES[name].to_uppercase()];
        }
        let damaged = damage.apply_to(&source);
        let before = target.snapshot();
        let plan = plan_against(&damaged, &target, &policy);
        block_on(apply(&plan, &target, &options()));
        let after = target.snapshot();
        let removed = removed_access(&before, &after);

        // Never more than the guard allows, measured against the engine's objects as the
        // target shows them (ours before or after), independently of the plan's figures.
        let guard = policy.deletion_guard;
        if let Some(max) = guard.max_count {
            prop_assert!(removed <= max, "{removed} removed, max_count {max}");
        }
        let managed = managed_upper_bound(&before, &after);
        prop_assert!(
            (removed as f64) * 100.0 <= guard.max_percent * (managed as f64) + 1e-9,
            "{removed} removed of at most {managed} managed, max {}%", guard.max_percent
        );
        // A group the source returned empty loses no member.
        for g in &damaged.groups {
            if damaged.members_of(&g.id).next().is_some() {
                continue;
            }
            for t in after.groups.iter().filter(|t| t.external_id.as_ref().is_some_and(|l| l.id == g.id && l.issuer == DEFAULT_ISSUER)) {
                let then: BTreeSet<_> = before.members_of(&t.id).collect();
                let now: BTreeSet<_> = after.members_of(&t.id).collect();
                prop_assert!(then.is_subset(&now), "{} lost members while empty at the source", t.display_name);
            }
        }
        // Excluded and held users are never touched, nor removed from a group.
        // (A held user's twin is the target user linked to it, or one of its name that is not
        // linked to another source user.)
        let linked_to = |t: &User| t.external_id.as_ref().filter(|l| l.issuer == DEFAULT_ISSUER).map(|l| l.id.clone());
        let protected: Vec<&User> = before.users.iter().filter(|t| {
            let name = t.user_name.to_lowercase();
            let link = linked_to(t);
            let linked_elsewhere = |held: &User| link.as_ref().is_some_and(|id| id != &held.id && damaged.users.iter().any(|s| &s.id == id));
            policy.exclude_users.iter().any(|p| p.to_lowercase() == name)
                || damaged.users.iter().any(|s| s.hold.is_some() && (link.as_deref() == Some(s.id.as_str()) || (s.user_name.to_lowercase() == name && !linked_elsewhere(s))))
        }).collect();
        for t in protected {
            prop_assert_eq!(after.users.iter().find(|u| u.id == t.id), Some(t), "{} was changed", t.user_name);
            let then: BTreeSet<_> = before.memberships.iter().filter(|m| m.user_id == t.id).collect();
            let now: BTreeSet<_> = after.memberships.iter().filter(|m| m.user_id == t.id).collect();
            prop_assert!(then.is_subset(&now), "{} lost a membership", t.user_name);
        }
        // Nothing is deactivated or deleted without the opt-in.
        if !policy.allow_deprovision {
            for t in &before.users {
                let now = after.users.iter().find(|u| u.id == t.id);
                prop_assert!(now.is_some(), "{} deleted", t.user_name);
                prop_assert!(!t.active || now.is_some_and(|u| u.active), "{} deactivated", t.user_name);
            }
            for g in &before.groups {
                prop_assert!(after.groups.iter().any(|t| t.id == g.id), "{} deleted", g.display_name);
            }
        }
    }

    #[test]
    fn planning_never_writes_and_is_deterministic(
        source in arb_source(), target in arb_target(), caps in arb_caps(), policy in arb_policy(),
    ) {
        let target = target.with_capabilities(caps);
        let source_dir = MemoryDirectory::new(source.clone());
        let planned = block_on(provisioning_core::sync::plan_sync(
            &source_dir, &provisioning_core::model::Scope::All, &target, &policy,
        )).unwrap();
        prop_assert_eq!(target.writes(), 0);
        let (mut reversed, _) = block_on(provisioning_core::sync::read_both(
            &source_dir, &provisioning_core::model::Scope::All, &target, &policy,
        )).unwrap();
        reversed.users.reverse();
        reversed.groups.reverse();
        prop_assert_eq!(planned, plan_against(&reversed, &target, &policy));
    }

    #[test]
    fn applying_a_plan_twice_equals_applying_it_once(
        source in arb_source(), target in arb_target(), caps in arb_caps(), mut policy in arb_policy(),
    ) {
        prop_assume!(!source.is_empty());
        policy.deletion_guard = DeletionGuard::unlimited();
        let target = target.with_capabilities(caps);
        let plan = plan_against(&source, &target, &policy);
        let first = block_on(apply(&plan, &target, &options()));
        prop_assert!(first.is_success(), "{}", provisioning_core::report::render_report(&first));
        let once = target.snapshot();
        let again = block_on(apply(&plan, &target, &options()));
        prop_assert!(again.is_success(), "{}", provisioning_core::report::render_report(&again));
        prop_assert_eq!(target.snapshot(), once);
    }
}

/// Damage done to a source read.
#[derive(Debug, Clone)]
struct Damage {
    /// Groups (by index) whose member list comes back empty.
    emptied: Vec<usize>,
    /// Memberships (by index) missing from the read.
    truncated: Vec<usize>,
    /// Users (by index) and the state they come back in: 0 suspended, 1 staged, 2 unknown.
    states: Vec<(usize, u8)>,
    /// Users (by index) whose userName comes back upper-cased.
    recased: Vec<usize>,
}

impl Damage {
    fn apply_to(&self, source: &Snapshot) -> Snapshot {
        use provisioning_core::model::Hold;
        let mut s = source.clone();
        for &g in &self.emptied {
            if let Some(group) = s.groups.get(g) {
                let id = group.id.clone();
                s.memberships.retain(|m| m.group_id != id);
            }
        }
        let all: Vec<_> = s.memberships.iter().cloned().collect();
        for &i in &self.truncated {
            if let Some(m) = all.get(i) {
                s.memberships.remove(m);
            }
        }
        for &(u, state) in &self.states {
            if let Some(user) = s.users.get_mut(u) {
                match state {
                    0 => user.active = false,
                    1 => user.hold = Some(Hold::Staged),
                    _ => {
                        user.hold = Some(Hold::UnknownState {
                            value: "PENDING_REVIEW".into(),
                        })
                    }
                }
            }
        }
        for &u in &self.recased {
            if let Some(user) = s.users.get_mut(u) {
                user.user_name = user.user_name.to_uppercase();
            }
        }
        s
    }
}

prop_compose! {
    fn arb_damage()(
        emptied in prop::collection::vec(0..5usize, 0..2),
        truncated in prop::collection::vec(0..20usize, 0..6),
        states in prop::collection::vec((0..9usize, 0u8..3), 0..3),
        recased in prop::collection::vec(0..9usize, 0..2),
    ) -> Damage {
        Damage { emptied, truncated, states, recased }
    }
}

/// Access removed between two snapshots of one target: users deleted or deactivated,
/// groups deleted, memberships removed (a deleted group's included).
fn removed_access(before: &Snapshot, after: &Snapshot) -> usize {
    let users = before
        .users
        .iter()
        .filter(|t| match after.users.iter().find(|u| u.id == t.id) {
            None => true,
            Some(now) => t.active && !now.active,
        })
        .count();
    let groups = before
        .groups
        .iter()
        .filter(|t| !after.groups.iter().any(|g| g.id == t.id))
        .count();
    // A deleted user's memberships go with it: counted once, as the user.
    let deleted_users: BTreeSet<&str> = before
        .users
        .iter()
        .filter(|t| !after.users.iter().any(|u| u.id == t.id))
        .map(|t| t.id.as_str())
        .collect();
    let memberships = before
        .memberships
        .difference(&after.memberships)
        .filter(|m| !deleted_users.contains(m.user_id.as_str()))
        .count();
    users + groups + memberships
}

/// At least what the engine manages: the users and groups carrying its mark before or
/// after, and the memberships of those groups before.
fn managed_upper_bound(before: &Snapshot, after: &Snapshot) -> usize {
    let ours = |e: &Option<ExternalId>| e.as_ref().is_some_and(|l| l.issuer == DEFAULT_ISSUER);
    let users: BTreeSet<&str> = before
        .users
        .iter()
        .chain(&after.users)
        .filter(|u| ours(&u.external_id))
        .map(|u| u.id.as_str())
        .collect();
    let groups: BTreeSet<&str> = before
        .groups
        .iter()
        .chain(&after.groups)
        .filter(|g| ours(&g.external_id))
        .map(|g| g.id.as_str())
        .collect();
    let memberships = before
        .memberships
        .iter()
        .filter(|m| groups.contains(m.group_id.as_str()))
        .count();
    users.len() + groups.len() + memberships
}
