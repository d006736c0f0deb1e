//! What an apply did: per change ok, skipped or failed, counts, API calls and duration,
//! and human-readable tables for plans and reports.
//!
//! ```
//! use provisioning_core::report::{render_plan, Report};
//! use provisioning_core::plan::Plan;
//!
//! assert!(render_plan(&Plan::default()).contains("No changes"));
//! let report = Report::default();
//! assert!(report.is_success());
//! println!("{}", serde_json::to_string_pretty(&report).unwrap());
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::connector::ErrorClass;
use crate::plan::{Operation, Plan, Ref, SkipReason};
use crate::policy::DEFAULT_ISSUER;

/// How one change ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Status {
    /// Written (or already in place).
    Ok {
        /// The id of the object created, for creates.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created_id: Option<String>,
        /// What else is worth knowing (adopted after a conflict, already gone, …).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Not attempted.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Attempted and failed.
    Failed {
        /// The failure's class.
        class: ErrorClass,
        /// What failed, with its causes.
        error: String,
    },
}

/// The outcome of one planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeOutcome {
    /// The change's id in the plan.
    pub change: usize,
    /// A userName or a group name.
    pub subject: String,
    /// The operation kind (`create_user`, …).
    pub kind: String,
    /// How it ended.
    #[serde(flatten)]
    pub status: Status,
    /// Write attempts made (0 when skipped).
    pub attempts: u32,
}

/// What an apply did. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Report {
    /// One outcome per planned change, in plan order.
    pub outcomes: Vec<ChangeOutcome>,
    /// Set when a guard stopped the apply before its first write.
    pub aborted: Option<crate::plan::Abort>,
    /// Calls made to the target, per kind (writes by operation kind, and lookups).
    pub api_calls: BTreeMap<String, u64>,
    /// Throttled responses that were waited out and retried.
    pub throttled: u64,
    /// Access removed by the changes written (their
    /// [`removes_access`](crate::plan::PlannedChange::removes_access)).
    #[serde(default)]
    pub access_removed: usize,
    /// Wall time of the apply.
    #[serde(rename = "duration_ms", with = "millis")]
    pub duration: Duration,
}

/// Outcome counts of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Changes written.
    pub ok: usize,
    /// Changes not attempted.
    pub skipped: usize,
    /// Changes that failed.
    pub failed: usize,
}

impl Report {
    /// Outcome counts.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for outcome in &self.outcomes {
            match outcome.status {
                Status::Ok { .. } => counts.ok += 1,
                Status::Skipped { .. } => counts.skipped += 1,
                Status::Failed { .. } => counts.failed += 1,
            }
        }
        counts
    }

    /// Whether every change was written and no guard aborted the run.
    pub fn is_success(&self) -> bool {
        self.aborted.is_none()
            && self
                .outcomes
                .iter()
                .all(|o| matches!(o.status, Status::Ok { .. }))
    }

    /// Total calls made to the target.
    pub fn total_calls(&self) -> u64 {
        self.api_calls.values().sum()
    }
}

fn describe_refs(users: &[Ref]) -> String {
    let shown: Vec<String> = users.iter().take(5).map(Ref::to_string).collect();
    let more = users.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} (+{more} more)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn describe_members(names: &[String]) -> String {
    let shown = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    match names.len().saturating_sub(5) {
        0 => shown,
        more => format!("{shown} (+{more} more)"),
    }
}

fn detail(operation: &Operation<Ref>) -> String {
    match operation {
        Operation::CreateUser { placeholder, .. } | Operation::CreateGroup { placeholder, .. } => {
            format!("as <{placeholder}>")
        }
        Operation::UpdateUser { id, .. }
        | Operation::UpdateGroup { id, .. }
        | Operation::DeactivateUser { id }
        | Operation::DeleteUser { id }
        | Operation::DeleteGroup { id } => id.clone(),
        Operation::AddMembers { users, .. } | Operation::RemoveMembers { users, .. } => {
            format!("{} member(s): {}", users.len(), describe_refs(users))
        }
    }
}

/// Renders a plan as a table: one line per change (number, operation, subject, detail,
/// reason), then what is skipped and why, then the abort reason if any.
///
/// ```
/// let text = provisioning_core::report::render_plan(&provisioning_core::plan::Plan::default());
/// assert!(text.starts_with("No changes"));
/// ```
pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.changes.is_empty() {
        out.push_str("No changes: the target matches the source.\n");
    } else {
        let rows: Vec<[String; 5]> = plan
            .changes
            .iter()
            .map(|c| {
                [
                    format!("{}", c.id + 1),
                    c.operation.kind().to_owned(),
                    c.subject.clone(),
                    if c.members.is_empty() {
                        detail(&c.operation)
                    } else {
                        describe_members(&c.members)
                    },
                    c.reason.to_string(),
                ]
            })
            .collect();
        table(
            &mut out,
            ["#", "change", "subject", "detail", "reason"],
            &rows,
        );
        let counts: Vec<String> = plan
            .counts()
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let _ = writeln!(
            out,
            "\n{} change(s): {}",
            plan.changes.len(),
            counts.join(", ")
        );
    }
    let removals: Vec<_> = plan
        .changes
        .iter()
        .filter_map(|c| Some((c, c.access_removed()?)))
        .collect();
    if !removals.is_empty() {
        let _ = writeln!(
            out,
            "\nAccess removals: {} of the {} users, groups and memberships the engine manages:",
            plan.access_removals(),
            plan.managed
        );
        for (c, what) in removals {
            let members = if c.members.is_empty() {
                String::new()
            } else {
                format!(" ({})", describe_members(&c.members))
            };
            let _ = writeln!(out, "  - #{}: {what}{members}: {}", c.id + 1, c.reason);
        }
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(out, "\nSkipped ({}):", plan.skipped.len());
        for s in &plan.skipped {
            let _ = writeln!(out, "  - {}: {}", s.subject, s.reason);
        }
        let old_marks = plan.skipped.iter().any(|s| {
            matches!(&s.reason, SkipReason::OwnedByOtherIssuer { issuer } if issuer == DEFAULT_ISSUER)
        });
        if old_marks {
            let _ = writeln!(out, "{}", old_default_hint());
        }
    }
    if let Some(abort) = &plan.abort {
        let _ = writeln!(out, "\nABORTED, this plan will not be applied: {abort}");
    }
    out
}

/// The note under a plan's skips when some are marked with [`DEFAULT_ISSUER`], the issuer
/// the `provision` command wrote before it derived one per source: those objects are most
/// likely this tool's own, from before an upgrade.
///
/// ```
/// let hint = provisioning_core::report::old_default_hint();
/// assert!(hint.contains(r#"issuer = "identity-provisioning""#));
/// ```
pub fn old_default_hint() -> String {
    format!(
        "  Note: objects marked {DEFAULT_ISSUER:?} carry the ownership issuer this tool used by \
         default before it derived one per source (jumpcloud:<org id>, okta:<host>). If this \
         sync created them, set `issuer = \"{DEFAULT_ISSUER}\"` in [policy] to keep managing \
         them (see \"Upgrading: the ownership issuer\" in docs/provision.md)."
    )
}

/// Renders a report: one line per change that was not simply written, the counts, the
/// calls per kind and the duration.
///
/// ```
/// let text = provisioning_core::report::render_report(&provisioning_core::report::Report::default());
/// assert!(text.contains("0 ok, 0 skipped, 0 failed"));
/// ```
pub fn render_report(report: &Report) -> String {
    let mut out = String::new();
    if let Some(abort) = &report.aborted {
        let _ = writeln!(out, "ABORTED before any write: {abort}");
    }
    let rows: Vec<[String; 5]> = report
        .outcomes
        .iter()
        .map(|o| {
            let (status, detail) = match &o.status {
                Status::Ok { created_id, note } => (
                    "ok".to_owned(),
                    [
                        created_id.as_ref().map(|id| format!("id {id}")),
                        note.clone(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; "),
                ),
                Status::Skipped { reason } => ("skipped".to_owned(), reason.clone()),
                Status::Failed { class, error } => (format!("FAILED ({class})"), error.clone()),
            };
            [
                format!("{}", o.change + 1),
                o.kind.clone(),
                o.subject.clone(),
                status,
                detail,
            ]
        })
        .collect();
    if !rows.is_empty() {
        table(
            &mut out,
            ["#", "change", "subject", "result", "detail"],
            &rows,
        );
        out.push('\n');
    }
    let counts = report.counts();
    let calls: Vec<String> = report
        .api_calls
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(
        out,
        "{} ok, {} skipped, {} failed ({} access removal(s) written) in {:.1}s; {} call(s){}{}; {} throttled response(s) retried",
        counts.ok,
        counts.skipped,
        counts.failed,
        report.access_removed,
        report.duration.as_secs_f64(),
        report.total_calls(),
        if calls.is_empty() { "" } else { ": " },
        calls.join(", "),
        report.throttled,
    );
    out
}

fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: [&str; N]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(out, header);
    for row in rows {
        line(out, std::array::from_fn(|i| row[i].as_str()));
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
