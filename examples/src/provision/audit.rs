//! `provision audit`: what differs between the source and the target, and seed workflow
//! 001's two audit views — the members of a group, and the groups of a user — on both sides
//! at once.
//!
//! Users are matched by userName and groups by display name, ignoring case, as the engine
//! matches objects it does not own yet. Everything here is computed from two snapshots and a
//! plan: an audit reads each side once and writes nothing.
//!
//! ```
//! use provisioning_core::model::{Group, Snapshot, User};
//! use provisioning_examples::provision::audit::members_of;
//!
//! let mut source = Snapshot::default();
//! source.users.push(User::new("u1", "ada"));
//! source.groups.push(Group::new("g1", "Engineering"));
//! source.add_membership("g1", "u1");
//! let target = Snapshot::default();
//!
//! let view = members_of("engineering", &source, &target);
//! assert_eq!(view.rows[0].name, "ada");
//! assert!(view.rows[0].in_source && !view.rows[0].at_target);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use provisioning_core::model::Snapshot;
use provisioning_core::plan::{Operation, Plan, Reason};
use serde::Serialize;

/// How many objects of one kind each side holds, and how many match by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// At the source, within the scope.
    pub source: usize,
    /// At the target.
    pub target: usize,
    /// On both sides, by name.
    pub matched: usize,
}

/// A membership, by names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Member {
    /// The group's display name.
    pub group: String,
    /// The user's userName.
    pub user: String,
}

/// An object at the target that the source does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetOnly {
    /// userName or display name.
    pub name: String,
    /// The tool that owns it, from its ownership mark (`None`: unowned, left alone).
    pub owner: Option<String>,
}

/// Drift between a source and a target. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Drift {
    /// Users on each side.
    pub users: Counts,
    /// Groups on each side.
    pub groups: Counts,
    /// Memberships on each side (counted within groups present on both sides).
    pub memberships: Counts,
    /// Users of the source missing at the target.
    pub users_only_in_source: Vec<String>,
    /// Users at the target that the source does not hold.
    pub users_only_at_target: Vec<TargetOnly>,
    /// Groups of the source missing at the target.
    pub groups_only_in_source: Vec<String>,
    /// Groups at the target that the source does not hold.
    pub groups_only_at_target: Vec<TargetOnly>,
    /// Memberships of the source missing at the target (groups on both sides).
    pub members_missing_at_target: Vec<Member>,
    /// Memberships at the target that the source does not hold (groups on both sides).
    pub members_extra_at_target: Vec<Member>,
    /// Objects on both sides whose attributes differ, with the attributes.
    pub attributes_differ: Vec<String>,
    /// Unowned target objects a sync would adopt by name.
    pub would_adopt: Vec<String>,
    /// Changes a sync would make now.
    pub pending_changes: usize,
}

impl Drift {
    /// Whether the two sides agree on everything the source holds.
    pub fn is_in_sync(&self) -> bool {
        self.users_only_in_source.is_empty()
            && self.groups_only_in_source.is_empty()
            && self.members_missing_at_target.is_empty()
            && self.members_extra_at_target.is_empty()
            && self.attributes_differ.is_empty()
            && self.would_adopt.is_empty()
    }
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

/// Names by id, and ids by lower-cased name, of one snapshot.
struct Names<'a> {
    users: BTreeMap<&'a str, &'a str>,
    groups: BTreeMap<&'a str, &'a str>,
}

impl<'a> Names<'a> {
    fn of(snapshot: &'a Snapshot) -> Self {
        Self {
            users: snapshot
                .users
                .iter()
                .map(|u| (u.id.as_str(), u.user_name.as_str()))
                .collect(),
            groups: snapshot
                .groups
                .iter()
                .map(|g| (g.id.as_str(), g.display_name.as_str()))
                .collect(),
        }
    }

    /// Memberships by lower-cased (group, user) names, with the names as written.
    fn memberships(&self, snapshot: &Snapshot) -> BTreeMap<(String, String), Member> {
        snapshot
            .memberships
            .iter()
            .filter_map(|m| {
                let group = self.groups.get(m.group_id.as_str())?;
                let user = self.users.get(m.user_id.as_str())?;
                Some((
                    (key(group), key(user)),
                    Member {
                        group: (*group).to_owned(),
                        user: (*user).to_owned(),
                    },
                ))
            })
            .collect()
    }
}

/// Compares `source` and `target`; `plan` (planned from the same snapshots) supplies the
/// attribute differences under the policy's mapping.
pub fn drift(source: &Snapshot, target: &Snapshot, plan: &Plan) -> Drift {
    let owner = |mark: &Option<provisioning_core::model::ExternalId>| {
        mark.as_ref().map(|m| m.issuer.clone())
    };
    let source_users: BTreeSet<String> = source.users.iter().map(|u| key(&u.user_name)).collect();
    let target_users: BTreeSet<String> = target.users.iter().map(|u| key(&u.user_name)).collect();
    let source_groups: BTreeSet<String> =
        source.groups.iter().map(|g| key(&g.display_name)).collect();
    let target_groups: BTreeSet<String> =
        target.groups.iter().map(|g| key(&g.display_name)).collect();

    let wanted = Names::of(source).memberships(source);
    let actual = Names::of(target).memberships(target);
    let both = |(group, _): &(String, String)| {
        source_groups.contains(group) && target_groups.contains(group)
    };
    let wanted: BTreeMap<_, _> = wanted.into_iter().filter(|(k, _)| both(k)).collect();
    let actual: BTreeMap<_, _> = actual.into_iter().filter(|(k, _)| both(k)).collect();

    let updates = |adoptions: bool| {
        plan.changes
            .iter()
            .filter(|c| {
                matches!(
                    c.operation,
                    Operation::UpdateUser { .. } | Operation::UpdateGroup { .. }
                ) && (c.reason == Reason::AdoptedByName) == adoptions
            })
            .map(|c| {
                if adoptions {
                    c.subject.clone()
                } else {
                    format!("{}: {}", c.subject, c.reason)
                }
            })
            .collect::<Vec<_>>()
    };

    Drift {
        users: Counts {
            source: source.users.len(),
            target: target.users.len(),
            matched: source_users.intersection(&target_users).count(),
        },
        groups: Counts {
            source: source.groups.len(),
            target: target.groups.len(),
            matched: source_groups.intersection(&target_groups).count(),
        },
        memberships: Counts {
            source: wanted.len(),
            target: actual.len(),
            matched: wanted.keys().filter(|k| actual.contains_key(*k)).count(),
        },
        users_only_in_source: source
            .users
            .iter()
            .filter(|u| !target_users.contains(&key(&u.user_name)))
            .map(|u| u.user_name.clone())
            .collect(),
        users_only_at_target: target
            .users
            .iter()
            .filter(|u| !source_users.contains(&key(&u.user_name)))
            .map(|u| TargetOnly {
                name: u.user_name.clone(),
                owner: owner(&u.external_id),
            })
            .collect(),
        groups_only_in_source: source
            .groups
            .iter()
            .filter(|g| !target_groups.contains(&key(&g.display_name)))
            .map(|g| g.display_name.clone())
            .collect(),
        groups_only_at_target: target
            .groups
            .iter()
            .filter(|g| !source_groups.contains(&key(&g.display_name)))
            .map(|g| TargetOnly {
                name: g.display_name.clone(),
                owner: owner(&g.external_id),
            })
            .collect(),
        members_missing_at_target: wanted
            .iter()
            .filter(|(k, _)| !actual.contains_key(*k))
            .map(|(_, m)| m.clone())
            .collect(),
        members_extra_at_target: actual
            .iter()
            .filter(|(k, _)| !wanted.contains_key(*k))
            .map(|(_, m)| m.clone())
            .collect(),
        attributes_differ: updates(false),
        would_adopt: updates(true),
        pending_changes: plan.changes.len(),
    }
}

/// Renders a drift report for people.
///
/// ```
/// use provisioning_examples::provision::audit::{Drift, render_drift};
/// assert!(render_drift(&Drift::default()).contains("in sync"));
/// ```
pub fn render_drift(drift: &Drift) -> String {
    let mut out = String::new();
    let line = |out: &mut String, what: &str, c: Counts| {
        let _ = writeln!(
            out,
            "  {what:<12} {:>6} in source  {:>6} at target  {:>6} on both sides",
            c.source, c.target, c.matched
        );
    };
    line(&mut out, "users", drift.users);
    line(&mut out, "groups", drift.groups);
    line(&mut out, "memberships", drift.memberships);
    let list = |out: &mut String, title: &str, items: Vec<String>| {
        if !items.is_empty() {
            let _ = writeln!(out, "\n{title} ({}):", items.len());
            for item in items {
                let _ = writeln!(out, "  - {item}");
            }
        }
    };
    let target_only = |items: &[TargetOnly]| {
        items
            .iter()
            .map(|t| match &t.owner {
                Some(owner) => format!("{} (owned by {owner})", t.name),
                None => format!("{} (unowned: left alone)", t.name),
            })
            .collect()
    };
    let members = |items: &[Member]| {
        items
            .iter()
            .map(|m| format!("{} in {}", m.user, m.group))
            .collect()
    };
    list(
        &mut out,
        "Users only in the source",
        drift.users_only_in_source.clone(),
    );
    list(
        &mut out,
        "Users only at the target",
        target_only(&drift.users_only_at_target),
    );
    list(
        &mut out,
        "Groups only in the source",
        drift.groups_only_in_source.clone(),
    );
    list(
        &mut out,
        "Groups only at the target",
        target_only(&drift.groups_only_at_target),
    );
    list(
        &mut out,
        "Memberships missing at the target",
        members(&drift.members_missing_at_target),
    );
    list(
        &mut out,
        "Memberships only at the target",
        members(&drift.members_extra_at_target),
    );
    list(
        &mut out,
        "Attributes that differ",
        drift.attributes_differ.clone(),
    );
    list(
        &mut out,
        "Unowned at the target, adopted by name on the next sync",
        drift.would_adopt.clone(),
    );
    if drift.is_in_sync() {
        out.push_str("\nThe target is in sync with the source.\n");
    } else {
        let _ = writeln!(
            out,
            "\nDrift found: a sync would make {} change(s) (`provision plan` lists them).",
            drift.pending_changes
        );
    }
    out
}

/// One line of a membership view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewRow {
    /// The member's userName, or the group's display name.
    pub name: String,
    /// Whether the source holds this membership.
    pub in_source: bool,
    /// Whether the target holds it.
    pub at_target: bool,
}

/// The members of a group, or the groups of a user, on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembershipView {
    /// `members of group` or `groups of user`.
    pub view: &'static str,
    /// The group's or user's name, as asked.
    pub name: String,
    /// Whether the source holds the group or user.
    pub found_in_source: bool,
    /// Whether the target holds it.
    pub found_at_target: bool,
    /// The members or groups, by name.
    pub rows: Vec<ViewRow>,
}

/// Which names a snapshot relates to `name`: (found, related names).
fn related(snapshot: &Snapshot, name: &str, of_group: bool) -> (bool, Vec<String>) {
    let names = Names::of(snapshot);
    let wanted = key(name);
    let memberships = names.memberships(snapshot);
    let found = if of_group {
        snapshot
            .groups
            .iter()
            .any(|g| key(&g.display_name) == wanted)
    } else {
        snapshot.users.iter().any(|u| key(&u.user_name) == wanted)
    };
    let related = memberships
        .into_iter()
        .filter(|((group, user), _)| if of_group { group } else { user } == &wanted)
        .map(|(_, m)| if of_group { m.user } else { m.group })
        .collect();
    (found, related)
}

fn view(view: &'static str, name: &str, source: &Snapshot, target: &Snapshot) -> MembershipView {
    let of_group = view == "members of group";
    let (found_in_source, in_source) = related(source, name, of_group);
    let (found_at_target, at_target) = related(target, name, of_group);
    let mut rows: BTreeMap<String, ViewRow> = BTreeMap::new();
    for (names, side) in [(in_source, true), (at_target, false)] {
        for n in names {
            let row = rows.entry(key(&n)).or_insert_with(|| ViewRow {
                name: n.clone(),
                in_source: false,
                at_target: false,
            });
            if side {
                row.in_source = true;
            } else {
                row.at_target = true;
            }
        }
    }
    MembershipView {
        view,
        name: name.to_owned(),
        found_in_source,
        found_at_target,
        rows: rows.into_values().collect(),
    }
}

/// The members of group `name` on both sides (seed 001's `list_members`).
pub fn members_of(name: &str, source: &Snapshot, target: &Snapshot) -> MembershipView {
    view("members of group", name, source, target)
}

/// The groups of user `name` on both sides (seed 001's `list_membership`).
///
/// ```
/// use provisioning_core::model::{Group, Snapshot, User};
/// use provisioning_examples::provision::audit::groups_of;
///
/// let mut target = Snapshot::default();
/// target.users.push(User::new("u1", "ada"));
/// target.groups.push(Group::new("g1", "Engineering"));
/// target.add_membership("g1", "u1");
/// let view = groups_of("ada", &Snapshot::default(), &target);
/// assert!(view.found_at_target && !view.found_in_source);
/// assert_eq!(view.rows[0].name, "Engineering");
/// ```
pub fn groups_of(name: &str, source: &Snapshot, target: &Snapshot) -> MembershipView {
    view("groups of user", name, source, target)
}

/// Renders a membership view as a table.
pub fn render_view(view: &MembershipView) -> String {
    let mut out = String::new();
    let found = |yes: bool| if yes { "found" } else { "NOT FOUND" };
    let _ = writeln!(
        out,
        "{} {:?}: source {}, target {}",
        capitalise(view.view),
        view.name,
        found(view.found_in_source),
        found(view.found_at_target)
    );
    if view.rows.is_empty() {
        out.push_str("  (none)\n");
        return out;
    }
    let width = view
        .rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let _ = writeln!(out, "  {:<width$}  source  target", "name");
    for row in &view.rows {
        let mark = |yes: bool| if yes { "yes" } else { "-" };
        let note = match (row.in_source, row.at_target) {
            (true, false) => "missing at the target",
            (false, true) => "only at the target",
            _ => "",
        };
        let line = format!(
            "  {:<width$}  {:<6}  {:<6}  {note}",
            row.name,
            mark(row.in_source),
            mark(row.at_target)
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisioning_core::model::{ExternalId, Group, User};

    fn snapshots() -> (Snapshot, Snapshot) {
        let mut source = Snapshot::default();
        for (id, name) in [("s1", "ada"), ("s2", "grace"), ("s3", "alan")] {
            source.users.push(User::new(id, name));
        }
        source.groups.push(Group::new("sg1", "Engineering"));
        source.groups.push(Group::new("sg2", "Data"));
        source.add_membership("sg1", "s1");
        source.add_membership("sg1", "s2");
        source.add_membership("sg2", "s3");

        let mut target = Snapshot::default();
        target.users.push(User::new("t1", "ADA"));
        target.users.push(User::new("t2", "grace"));
        let mut bob = User::new("t3", "bob");
        bob.external_id = Some(ExternalId::new("identity-provisioning", "x"));
        target.users.push(bob);
        target.users.push(User::new("t4", "break-glass"));
        target.groups.push(Group::new("tg1", "engineering"));
        target
            .groups
            .push(Group::new("tg2", "AWSControlTowerAdmins"));
        target.add_membership("tg1", "t1");
        target.add_membership("tg1", "t3");
        target.add_membership("tg2", "t4");
        (source, target)
    }

    #[test]
    fn drift_lists_each_side_by_name_ignoring_case() {
        let (source, target) = snapshots();
        let drift = drift(&source, &target, &Plan::default());
        assert_eq!(
            drift.users,
            Counts {
                source: 3,
                target: 4,
                matched: 2
            }
        );
        assert_eq!(drift.users_only_in_source, ["alan"]);
        assert_eq!(drift.users_only_at_target.len(), 2);
        assert_eq!(
            drift.users_only_at_target[0].owner.as_deref(),
            Some("identity-provisioning")
        );
        assert_eq!(drift.users_only_at_target[1].owner, None);
        assert_eq!(drift.groups_only_in_source, ["Data"]);
        assert_eq!(drift.groups_only_at_target[0].name, "AWSControlTowerAdmins");
        // Only groups on both sides count: Engineering.
        assert_eq!(
            drift.members_missing_at_target,
            [Member {
                group: "Engineering".into(),
                user: "grace".into()
            }]
        );
        assert_eq!(
            drift.members_extra_at_target,
            [Member {
                group: "engineering".into(),
                user: "bob".into()
            }]
        );
        assert!(!drift.is_in_sync());
        let text = render_drift(&drift);
        assert!(text.contains("break-glass (unowned: left alone)"), "{text}");
        assert!(text.contains("grace in Engineering"), "{text}");
    }

    #[test]
    fn identical_sides_are_in_sync() {
        let (source, _) = snapshots();
        let drift = drift(&source, &source, &Plan::default());
        assert!(drift.is_in_sync(), "{drift:?}");
        assert_eq!(
            drift.memberships,
            Counts {
                source: 3,
                target: 3,
                matched: 3
            }
        );
    }

    #[test]
    fn views_show_both_sides() {
        let (source, target) = snapshots();
        let view = members_of("Engineering", &source, &target);
        let rows: Vec<(&str, bool, bool)> = view
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.in_source, r.at_target))
            .collect();
        assert_eq!(
            rows,
            [
                ("ada", true, true),
                ("bob", false, true),
                ("grace", true, false)
            ]
        );
        let text = render_view(&view);
        assert!(
            text.contains("grace  yes     -       missing at the target"),
            "{text}"
        );

        let view = groups_of("break-glass", &source, &target);
        assert!(!view.found_in_source && view.found_at_target);
        assert_eq!(view.rows[0].name, "AWSControlTowerAdmins");
        let view = groups_of("nobody", &source, &target);
        assert!(render_view(&view).contains("NOT FOUND"));
    }
}
