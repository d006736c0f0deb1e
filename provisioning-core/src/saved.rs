//! Saved plans: a reviewed plan applied exactly as it was shown.
//!
//! A tripped guard is not overridden by editing the configuration or by a blanket flag.
//! Instead the plan is saved with both snapshots it was made from ([`SavedPlan::new`]);
//! someone reviews it; and it is applied as saved only if the reviewer names its number of
//! access removals and neither side has changed since ([`SavedPlan::accept`], which the
//! caller gives freshly read snapshots). Anything that moved is listed, and nothing is
//! written.
//!
//! ```
//! use provisioning_core::connector::Capabilities;
//! use provisioning_core::model::{Group, Snapshot, User};
//! use provisioning_core::plan::plan;
//! use provisioning_core::policy::Policy;
//! use provisioning_core::saved::{SavedPlan, SavedPlanError};
//!
//! let mut source = Snapshot::default();
//! source.users.push(User::new("u1", "ada@example.com"));
//! let target = Snapshot::default();
//! let planned = plan(&source, &target, &Capabilities::default(), &Policy::default());
//! let saved = SavedPlan::new(planned, &source, &target);
//! let json = serde_json::to_string(&saved).unwrap();
//!
//! // Later: read both sides again, and apply only what was reviewed.
//! let saved: SavedPlan = serde_json::from_str(&json).unwrap();
//! let plan = saved.accept(&source, &target, Some(0)).unwrap();
//! assert_eq!(plan.changes.len(), 1);
//!
//! // The source moved in between: refused, saying what moved.
//! let mut moved = source.clone();
//! moved.users.push(User::new("u2", "bob@example.com"));
//! let err = saved.accept(&moved, &target, Some(0)).unwrap_err();
//! assert!(matches!(err, SavedPlanError::Moved { .. }));
//! assert!(err.to_string().contains("bob@example.com"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Snapshot;
use crate::plan::{Abort, Plan};

/// The format version this crate writes; newer files are refused.
pub const FORMAT: u32 = 1;

/// The most differences listed when a side moved.
const SHOWN_DIFFERENCES: usize = 20;

/// One side of a saved plan: the snapshot the plan was made from and its fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seal {
    /// SHA-256 of the snapshot in canonical form (users and groups by id), hex.
    pub fingerprint: String,
    /// The snapshot.
    pub snapshot: Snapshot,
}

impl Seal {
    /// Seals `snapshot`.
    ///
    /// ```
    /// let seal = provisioning_core::saved::Seal::of(&provisioning_core::model::Snapshot::default());
    /// assert_eq!(seal.fingerprint.len(), 64);
    /// ```
    pub fn of(snapshot: &Snapshot) -> Self {
        let snapshot = canonical(snapshot);
        let bytes = serde_json::to_vec(&snapshot).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        let mut fingerprint = String::with_capacity(64);
        for byte in digest {
            let _ = write!(fingerprint, "{byte:02x}");
        }
        Self {
            fingerprint,
            snapshot,
        }
    }
}

/// A plan with the two snapshots it was made from. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// The file format ([`FORMAT`]).
    pub format: u32,
    /// Access removals the plan makes: what `--accept-removals` must name.
    pub access_removals: usize,
    /// The plan, as shown.
    pub plan: Plan,
    /// The source side.
    pub source: Seal,
    /// The target side.
    pub target: Seal,
}

/// Why a saved plan is not applied. Nothing was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SavedPlanError {
    /// The file was written by a newer version.
    #[error(
        "the saved plan has format {found}, newer than this version reads ({FORMAT}); apply it with the version that saved it, or plan again"
    )]
    NewerFormat {
        /// The file's format.
        found: u32,
    },
    /// A side changed since the plan was saved.
    #[error("the {side} changed since the plan was saved, so it is not applied (nothing was written); plan again and review the new plan:\n{}", .differences.join("\n"))]
    Moved {
        /// `source` or `target`.
        side: &'static str,
        /// What moved, one line each (at most 20, then a count).
        differences: Vec<String>,
    },
    /// The plan was aborted by a guard and `--accept-removals` was not given.
    #[error(
        "the saved plan was stopped by a guard ({abort}); to apply it as reviewed, name its {removals} access removal(s): --accept-removals {removals}"
    )]
    NotAccepted {
        /// Why it was stopped.
        abort: String,
        /// Its access removals.
        removals: usize,
    },
    /// `--accept-removals` named another number than the plan's.
    #[error(
        "the saved plan removes {removals} access(es), not {accepted}: nothing was written; review the plan and name its count (--accept-removals {removals})"
    )]
    CountMismatch {
        /// The plan's access removals.
        removals: usize,
        /// The number given.
        accepted: usize,
    },
    /// The source was empty: no count accepts that.
    #[error(
        "the saved plan was made from an empty source read, which is never applied; fix the source scope or credentials and plan again"
    )]
    EmptySource,
}

impl SavedPlan {
    /// Saves `plan` with the `source` and `target` snapshots it was made from.
    ///
    /// ```
    /// use provisioning_core::model::Snapshot;
    /// let saved = provisioning_core::saved::SavedPlan::new(Default::default(), &Snapshot::default(), &Snapshot::default());
    /// assert_eq!(saved.access_removals, 0);
    /// ```
    pub fn new(plan: Plan, source: &Snapshot, target: &Snapshot) -> Self {
        Self {
            format: FORMAT,
            access_removals: plan.access_removals(),
            plan,
            source: Seal::of(source),
            target: Seal::of(target),
        }
    }

    /// The plan to apply, if `source` and `target` — both read again just now — equal the
    /// saved snapshots, and `accepted` names the plan's access removals. A plan no guard
    /// stopped needs no `accepted`, but a given one must match. The returned plan carries no
    /// abort: the reviewer accepted it.
    ///
    /// # Errors
    ///
    /// [`SavedPlanError`]: a newer format, a side that moved (with what moved), a guard-stopped
    /// plan without or with the wrong count, or an empty source.
    pub fn accept(
        &self,
        source: &Snapshot,
        target: &Snapshot,
        accepted: Option<usize>,
    ) -> Result<Plan, SavedPlanError> {
        if self.format > FORMAT {
            return Err(SavedPlanError::NewerFormat { found: self.format });
        }
        for (side, seal, now) in [
            ("source", &self.source, source),
            ("target", &self.target, target),
        ] {
            let now = Seal::of(now);
            if now.fingerprint != seal.fingerprint {
                return Err(SavedPlanError::Moved {
                    side,
                    differences: differences(&seal.snapshot, &now.snapshot),
                });
            }
        }
        let removals = self.plan.access_removals();
        match (&self.plan.abort, accepted) {
            (Some(Abort::EmptySource), _) => return Err(SavedPlanError::EmptySource),
            (Some(abort), None) => {
                return Err(SavedPlanError::NotAccepted {
                    abort: abort.to_string(),
                    removals,
                });
            }
            (_, Some(n)) if n != removals => {
                return Err(SavedPlanError::CountMismatch {
                    removals,
                    accepted: n,
                });
            }
            _ => {}
        }
        let mut plan = self.plan.clone();
        plan.abort = None;
        Ok(plan)
    }
}

/// `snapshot` with users and groups in id order, so that the order a directory lists them
/// in does not change its fingerprint.
fn canonical(snapshot: &Snapshot) -> Snapshot {
    let mut snapshot = snapshot.clone();
    snapshot.users.sort_by(|a, b| a.id.cmp(&b.id));
    snapshot.groups.sort_by(|a, b| a.id.cmp(&b.id));
    snapshot
}

/// What differs between two snapshots of one side, for people.
fn differences(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut lines = Vec::new();
    let users = |s: &Snapshot| -> BTreeMap<String, String> {
        s.users
            .iter()
            .map(|u| (u.id.clone(), serde_json::to_string(u).unwrap_or_default()))
            .collect()
    };
    let names = |s: &Snapshot| -> BTreeMap<String, String> {
        s.users
            .iter()
            .map(|u| (u.id.clone(), u.user_name.clone()))
            .chain(
                s.groups
                    .iter()
                    .map(|g| (g.id.clone(), g.display_name.clone())),
            )
            .collect()
    };
    let (old_names, new_names) = (names(before), names(after));
    let name = |id: &str| {
        new_names
            .get(id)
            .or_else(|| old_names.get(id))
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    };
    compare(&users(before), &users(after), "user", &name, &mut lines);
    let groups = |s: &Snapshot| -> BTreeMap<String, String> {
        s.groups
            .iter()
            .map(|g| (g.id.clone(), serde_json::to_string(g).unwrap_or_default()))
            .collect()
    };
    compare(&groups(before), &groups(after), "group", &name, &mut lines);
    for m in before.memberships.difference(&after.memberships) {
        lines.push(format!(
            "membership removed: {} in {}",
            name(&m.user_id),
            name(&m.group_id)
        ));
    }
    for m in after.memberships.difference(&before.memberships) {
        lines.push(format!(
            "membership added: {} in {}",
            name(&m.user_id),
            name(&m.group_id)
        ));
    }
    if lines.is_empty() {
        lines.push(
            "its scope bookkeeping (groups out of scope, gone, or kept members) changed".into(),
        );
    }
    if lines.len() > SHOWN_DIFFERENCES {
        let more = lines.len() - SHOWN_DIFFERENCES;
        lines.truncate(SHOWN_DIFFERENCES);
        lines.push(format!("… and {more} more"));
    }
    lines.iter().map(|l| format!("  - {l}")).collect()
}

fn compare(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    what: &str,
    name: &dyn Fn(&str) -> String,
    lines: &mut Vec<String>,
) {
    for (id, old) in before {
        match after.get(id) {
            None => lines.push(format!("{what} removed: {}", name(id))),
            Some(new) if new != old => lines.push(format!("{what} changed: {}", name(id))),
            Some(_) => {}
        }
    }
    for id in after.keys().filter(|id| !before.contains_key(*id)) {
        lines.push(format!("{what} added: {}", name(id)));
    }
}
