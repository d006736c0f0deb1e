//! The commands: `plan`, `apply`, `audit`, `import`, and the sandbox tour (plan, apply, plan again).
//!
//! Each reads the source and the target once, prints tables for people as it goes (unless
//! `json` is set), and returns an [`Outcome`]: the JSON document for machines and the exit
//! status.
//!
//! | exit | meaning |
//! |---|---|
//! | 0 | done (for `plan`: the plan can be applied) |
//! | 1 | an error before any write: configuration, a secret, reading a directory |
//! | 2 | some changes failed (the report lists each; the others were written) |
//! | 3 | a guard aborted the run (deletion guard, empty source): nothing was written |

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use provisioning_core::apply::{ApplyOptions, apply_observed};
use provisioning_core::connectors::jumpcloud_import::{
    ImportOptions, ImportStatus, JumpCloudImport,
};
use provisioning_core::model::{Scope, Snapshot};
use provisioning_core::plan::{Plan, SkipReason, plan as make_plan};
use provisioning_core::policy::{DEFAULT_ISSUER, Policy};
use provisioning_core::report::{Report, Status, render_plan, render_report};
use provisioning_core::saved::SavedPlan;
use provisioning_core::sync::{SyncError, read_both};
use serde_json::{Value, json};
use std::path::Path;

use super::audit;
use super::connect::Connected;

/// How a command ended. See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done.
    Success = 0,
    /// Some changes failed.
    ChangesFailed = 2,
    /// A guard aborted the run before any write.
    Aborted = 3,
}

/// The exit status of an error before any write.
pub const EXIT_ERROR: u8 = 1;

/// What a command produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The tables for people, as printed (when not in JSON mode).
    pub human: String,
    /// The document for machines.
    pub json: Value,
    /// The exit status.
    pub exit: Exit,
}

/// Where human output goes: printed as it is produced (so the plan shows before a long
/// apply starts), and kept for the [`Outcome`].
#[derive(Debug, Default)]
pub struct Printer {
    quiet: bool,
    text: String,
}

impl Printer {
    /// A printer; `quiet` (JSON mode) keeps the text without printing it.
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            text: String::new(),
        }
    }

    /// Prints `text`.
    pub fn print(&mut self, text: &str) {
        if !self.quiet {
            print!("{text}");
        }
        self.text.push_str(text);
    }

    fn finish(self) -> String {
        self.text
    }
}

/// Reads the source (within the scope) and the target, once each, and asks the source
/// which groups synced earlier are gone ([`read_both`]).
///
/// # Errors
///
/// When a read fails; the message names the side. Nothing was written.
pub async fn read(connected: &Connected, policy: &Policy) -> Result<(Snapshot, Snapshot)> {
    read_both(
        connected.source.as_ref(),
        &connected.scope,
        connected.target.as_ref(),
        policy,
    )
    .await
    .map_err(|err| {
        let side = match &err {
            SyncError::TargetRead(_) => format!("the target ({})", connected.target_label),
            _ => format!("the source ({})", connected.source_label),
        };
        anyhow::Error::new(err).context(format!("reading {side}; nothing was written"))
    })
}

/// A plan and the two snapshots it was made from.
struct Planned {
    plan: Plan,
    source: Snapshot,
    target: Snapshot,
}

async fn planned(connected: &Connected, policy: &Policy) -> Result<Planned> {
    let (source, target) = read(connected, policy).await?;
    let plan = make_plan(&source, &target, &connected.target.capabilities(), policy);
    Ok(Planned {
        plan,
        source,
        target,
    })
}

fn header(connected: &Connected, what: &str) -> String {
    format!(
        "{what}: {} -> {}\n\n",
        connected.source_label, connected.target_label
    )
}

/// A JSON document naming the source and the target, with `fields` besides.
fn document(connected: &Connected, fields: Value) -> Value {
    let mut document = json!({
        "source": connected.source_label,
        "target": connected.target_label,
    });
    if let (Some(all), Value::Object(fields)) = (document.as_object_mut(), fields) {
        all.extend(fields);
    }
    document
}

/// Reads both sides, plans, and shows the plan under its header.
async fn shown_plan(connected: &Connected, policy: &Policy, out: &mut Printer) -> Result<Planned> {
    let planned = planned(connected, policy).await?;
    out.print(&header(connected, "Plan"));
    out.print(&render_plan(&planned.plan));
    Ok(planned)
}

fn plan_exit(plan: &Plan) -> Exit {
    if plan.abort.is_some() {
        Exit::Aborted
    } else {
        Exit::Success
    }
}

/// `provision plan`: what a sync would change, and why. Writes nothing to either side;
/// with `out`, saves the plan and both snapshots there for `provision apply <file>`.
///
/// # Errors
///
/// When a directory cannot be read, or the plan cannot be saved.
pub async fn plan(
    connected: &Connected,
    policy: &Policy,
    out_file: Option<&Path>,
    json: bool,
) -> Result<Outcome> {
    let mut out = Printer::new(json);
    let Planned {
        plan,
        source,
        target,
    } = shown_plan(connected, policy, &mut out).await?;
    if let Some(path) = out_file {
        let saved = SavedPlan::new(plan.clone(), &source, &target);
        save(path, &saved)?;
        let accept = if plan.abort.is_some() {
            format!(" --accept-removals {}", saved.access_removals)
        } else {
            String::new()
        };
        out.print(&format!(
            "\nSaved the plan and both snapshots to {}: review it, then apply exactly it with \
             `provision apply {}{accept}` (refused if either side changes meanwhile).\n",
            path.display(),
            path.display()
        ));
    }
    Ok(Outcome {
        exit: plan_exit(&plan),
        json: document(connected, json!({ "plan": plan })),
        human: out.finish(),
    })
}

/// Writes `saved` to `path` through a file beside it renamed into place, so that a reader
/// never sees half a plan.
fn save(path: &Path, saved: &SavedPlan) -> Result<()> {
    let text = serde_json::to_string_pretty(saved).context("serialising the plan")?;
    let aside = path.with_extension("json.tmp");
    std::fs::write(&aside, text)
        .and_then(|()| std::fs::rename(&aside, path))
        .with_context(|| format!("saving the plan to {}", path.display()))
}

/// Reads a saved plan.
fn load(path: &Path) -> Result<SavedPlan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the saved plan {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a saved plan (write one with `provision plan --out {}`)",
            path.display(),
            path.display()
        )
    })
}

/// `provision apply`: plans, shows the plan, and applies it with a progress bar on standard
/// error. `dry_run` stops after the plan.
///
/// # Errors
///
/// When a directory cannot be read. Failed changes are not errors: they are in the report
/// and give [`Exit::ChangesFailed`].
pub async fn apply(
    connected: &Connected,
    policy: &Policy,
    dry_run: bool,
    json: bool,
) -> Result<Outcome> {
    let mut out = Printer::new(json);
    let plan = shown_plan(connected, policy, &mut out).await?.plan;
    Ok(applied_or_dry_run(plan, connected, dry_run, out).await)
}

/// The end of `apply`, fresh or saved: with `dry_run`, says that nothing was written;
/// otherwise applies `plan` and shows the report.
async fn applied_or_dry_run(
    plan: Plan,
    connected: &Connected,
    dry_run: bool,
    mut out: Printer,
) -> Outcome {
    if dry_run {
        out.print("\nDry run: nothing was written.\n");
        return Outcome {
            exit: plan_exit(&plan),
            json: document(connected, json!({ "dry_run": true, "plan": plan })),
            human: out.finish(),
        };
    }
    if let Some(refusal) = upgrade_refusal(&plan, connected) {
        out.print(&format!("\nREFUSED: {refusal}\n"));
        return Outcome {
            exit: Exit::Aborted,
            json: document(connected, json!({ "plan": plan, "refused": refusal })),
            human: out.finish(),
        };
    }
    let report = if plan.is_empty() && plan.abort.is_none() {
        out.print("\nNothing to apply.\n");
        Report::default()
    } else {
        out.print("\nApplying...\n");
        let report = apply_with_progress(&plan, connected).await;
        out.print(&format!("\n{}", render_report(&report)));
        report
    };
    Outcome {
        exit: report_exit(&report),
        json: document(connected, json!({ "plan": plan, "report": report })),
        human: out.finish(),
    }
}

/// Why an apply must not run: the issuer was derived from the source (no `[policy]
/// issuer`) and the target holds objects marked with the issuer earlier versions used by
/// default. Applying would leave them unmanaged — a leaver among them would keep access —
/// so the user picks: keep managing them, or leave them.
fn upgrade_refusal(plan: &Plan, connected: &Connected) -> Option<String> {
    let marked_by_old_default = plan
        .skipped
        .iter()
        .filter(|s| {
            matches!(&s.reason, SkipReason::OwnedByOtherIssuer { issuer } if issuer == DEFAULT_ISSUER)
        })
        .count();
    (connected.issuer_derived && marked_by_old_default > 0).then(|| {
        format!(
            "{marked_by_old_default} target object(s) carry the ownership mark \
             {DEFAULT_ISSUER:?}, which earlier versions used by default, and the issuer is now \
             derived from the source ({:?}), so they would no longer be managed (nor \
             deprovisioned). Set `issuer = {DEFAULT_ISSUER:?}` in [policy] to keep managing \
             them, or an issuer of your own (no ':') to leave them as they are; nothing was \
             written",
            connected.policy.issuer
        )
    })
}

/// `provision apply <file>`: applies a saved plan exactly as saved — only if both sides,
/// read again now, equal the snapshots it was made from, and (for a plan a guard stopped)
/// `accept_removals` names its access removals. Otherwise nothing is written and the
/// refusal says what moved ([`Exit::Aborted`]).
///
/// # Errors
///
/// When the file cannot be read or is not a saved plan, or a directory cannot be read.
pub async fn apply_saved(
    connected: &Connected,
    policy: &Policy,
    path: &Path,
    accept_removals: Option<usize>,
    dry_run: bool,
    json: bool,
) -> Result<Outcome> {
    let saved = load(path)?;
    let mut out = Printer::new(json);
    let (source, target) = read(connected, policy).await?;
    out.print(&header(connected, "Saved plan"));
    let plan = match saved.accept(&source, &target, accept_removals) {
        Ok(plan) => plan,
        Err(refusal) => {
            out.print(&render_plan(&saved.plan));
            out.print(&format!("\nREFUSED: {refusal}\n"));
            return Ok(Outcome {
                exit: Exit::Aborted,
                json: document(
                    connected,
                    json!({ "plan": saved.plan, "refused": refusal.to_string() }),
                ),
                human: out.finish(),
            });
        }
    };
    out.print(&render_plan(&plan));
    out.print(&format!(
        "\nBoth sides match the saved snapshots; {} access removal(s) accepted.\n",
        plan.access_removals()
    ));
    Ok(applied_or_dry_run(plan, connected, dry_run, out).await)
}

fn report_exit(report: &Report) -> Exit {
    if report.aborted.is_some() {
        Exit::Aborted
    } else if report.is_success() {
        Exit::Success
    } else {
        Exit::ChangesFailed
    }
}

/// Applies `plan` to the connected target, drawing a progress bar on standard error when
/// it is a terminal.
pub async fn apply_with_progress(plan: &Plan, connected: &Connected) -> Report {
    let bar = ProgressBar::with_draw_target(
        Some(plan.changes.len() as u64),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {pos}/{len} changes, {elapsed} elapsed, eta {eta} {msg}",
    ) {
        bar.set_style(style);
    }
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let report = apply_observed(
        plan,
        connected.target.as_ref(),
        &ApplyOptions::default(),
        &|o| {
            if matches!(o.status, Status::Failed { .. }) {
                let n = failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                bar.set_message(format!("({n} failed)"));
            }
            bar.inc(1);
        },
    )
    .await;
    bar.finish_and_clear();
    report
}

/// What `provision audit` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditView {
    /// Drift between source and target.
    Drift,
    /// The members of a group, on both sides.
    MembersOf(String),
    /// The groups of a user, on both sides.
    GroupsOf(String),
}

/// `provision audit`. Writes nothing.
///
/// # Errors
///
/// When a directory cannot be read.
pub async fn audit(
    connected: &Connected,
    policy: &Policy,
    view: &AuditView,
    json: bool,
) -> Result<Outcome> {
    let mut out = Printer::new(json);
    let (source, target) = read(connected, policy).await?;
    out.print(&header(connected, "Audit"));
    let fields = match view {
        AuditView::Drift => {
            let plan = make_plan(&source, &target, &connected.target.capabilities(), policy);
            let drift = audit::drift(&source, &target, &plan);
            out.print(&audit::render_drift(&drift));
            json!({ "drift": drift })
        }
        AuditView::MembersOf(name) | AuditView::GroupsOf(name) => {
            let view = if matches!(view, AuditView::MembersOf(_)) {
                audit::members_of(name, &source, &target)
            } else {
                audit::groups_of(name, &source, &target)
            };
            out.print(&audit::render_view(&view));
            json!({ "view": view })
        }
    };
    Ok(Outcome {
        exit: Exit::Success,
        json: document(connected, fields),
        human: out.finish(),
    })
}

/// `provision import`: the target's users that JumpCloud does not know (New) or knows
/// (Imported), and, with `into_group`, the import of the New ones into JumpCloud, joining
/// that group — which must be bound to the configured application (seed workflow 002).
///
/// # Errors
///
/// When the source is not JumpCloud with an application scope, a read fails, or the group
/// is not bound to the application (checked before any write).
pub async fn import(
    connected: &Connected,
    into_group: Option<&str>,
    json: bool,
) -> Result<Outcome> {
    let (Some(client), Scope::Application(application)) = (&connected.jumpcloud, &connected.scope)
    else {
        anyhow::bail!(
            "import needs a JumpCloud source with an application ([source.jumpcloud] application = \"…\")"
        );
    };
    let mut out = Printer::new(json);
    let import = JumpCloudImport::new(client.clone());
    let candidates = import
        .preview(connected.target.as_ref())
        .await
        .context("listing the application's users and JumpCloud's; nothing was written")?;
    out.print(&format!(
        "Import: {} -> JumpCloud application {application:?}\n\n",
        connected.target_label
    ));
    let width = candidates
        .iter()
        .map(|c| c.user.user_name.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    out.print(&format!("{:<width$}  status    JumpCloud id\n", "userName"));
    for c in &candidates {
        let status = match c.status {
            ImportStatus::New => "New",
            ImportStatus::Imported => "Imported",
        };
        let line = format!(
            "{:<width$}  {status:<8}  {}",
            c.user.user_name,
            c.jumpcloud_id.as_deref().unwrap_or("-")
        );
        out.print(&format!("{}\n", line.trim_end()));
    }
    let new = candidates
        .iter()
        .filter(|c| c.status == ImportStatus::New)
        .count();
    out.print(&format!(
        "\n{} user(s): {new} New, {} Imported\n",
        candidates.len(),
        candidates.len() - new
    ));
    let Some(group) = into_group else {
        out.print("Preview only: pass --into-group <a group bound to the application> to import the New users.\n");
        return Ok(Outcome {
            exit: Exit::Success,
            json: json!({ "target": connected.target_label, "application": application, "candidates": candidates }),
            human: out.finish(),
        });
    };
    let report = import
        .import(
            &candidates,
            &ImportOptions::into_group(application.clone(), group),
        )
        .await
        .context("importing into JumpCloud")?;
    for (user, id) in &report.created {
        out.print(&format!("created {user} as {id}\n"));
    }
    for (user, why) in &report.failed {
        out.print(&format!("FAILED {user}: {why}\n"));
    }
    out.print(&format!(
        "{} created, {} added to {group:?}, {} failed\n",
        report.created.len(),
        report.added_to_group.len(),
        report.failed.len()
    ));
    Ok(Outcome {
        exit: if report.failed.is_empty() {
            Exit::Success
        } else {
            Exit::ChangesFailed
        },
        json: json!({ "target": connected.target_label, "application": application, "candidates": candidates, "report": report }),
        human: out.finish(),
    })
}

/// The sandbox tour: the first plan, its apply report, and the second plan, which must be
/// empty.
///
/// # Errors
///
/// When a directory cannot be read.
pub async fn tour(connected: &Connected, policy: &Policy, json: bool) -> Result<Outcome> {
    let mut out = Printer::new(json);
    out.print(&header(connected, "Sync"));
    out.print("== 1. provision plan ==\n\n");
    let first = planned(connected, policy).await?.plan;
    out.print(&render_plan(&first));
    out.print("\n== 2. provision apply ==\n\n");
    let report = apply_with_progress(&first, connected).await;
    out.print(&render_report(&report));
    out.print("\n== 3. provision plan, again ==\n\n");
    let second = planned(connected, policy).await?.plan;
    out.print(&render_plan(&second));
    let mut exit = report_exit(&report);
    if exit == Exit::Success && !second.is_empty() {
        // A sync that does not converge is a bug worth a non-zero exit.
        exit = Exit::ChangesFailed;
    }
    out.print(if exit == Exit::Success {
        "\nThe second plan is empty: the target matches the source.\n"
    } else {
        "\nThe sync did not converge: see the report above.\n"
    });
    Ok(Outcome {
        exit,
        json: document(
            connected,
            json!({ "first_plan": first, "report": report, "second_plan": second }),
        ),
        human: out.finish(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisioning_core::connector::ErrorClass;
    use provisioning_core::plan::Abort;
    use provisioning_core::report::ChangeOutcome;

    fn outcome(status: Status) -> ChangeOutcome {
        ChangeOutcome {
            change: 0,
            subject: "ada".into(),
            kind: "create_user".into(),
            status,
            attempts: 1,
        }
    }

    #[test]
    fn exit_statuses_follow_the_report() {
        let mut report = Report::default();
        report.outcomes.push(outcome(Status::Ok {
            created_id: None,
            note: None,
        }));
        assert_eq!(report_exit(&report), Exit::Success);
        report.outcomes.push(outcome(Status::Failed {
            class: ErrorClass::Conflict,
            error: "exists".into(),
        }));
        assert_eq!(report_exit(&report), Exit::ChangesFailed);
        report.aborted = Some(Abort::EmptySource);
        assert_eq!(report_exit(&report), Exit::Aborted);

        let mut plan = Plan::default();
        assert_eq!(plan_exit(&plan), Exit::Success);
        plan.abort = Some(Abort::EmptySource);
        assert_eq!(plan_exit(&plan), Exit::Aborted);
        assert_eq!(Exit::Aborted as u8, 3);
        assert_eq!(Exit::ChangesFailed as u8, 2);
    }

    /// After an upgrade, objects marked with the old default issuer would silently leave
    /// management (a leaver among them keeping access): a fresh or saved apply refuses,
    /// writes nothing, and says how to choose; a configured issuer does not trip it.
    #[tokio::test]
    async fn an_apply_refuses_while_objects_carry_the_old_default_issuer_and_the_issuer_is_derived()
    {
        use provisioning_core::memory::MemoryDirectory;
        use provisioning_core::model::{ExternalId, User};

        let source = MemoryDirectory::default();
        source.insert_user(User::new("u1", "ada@example.com").with_names("Ada", "L"));
        source.insert_user(User::new("u2", "grace@example.com").with_names("Grace", "H"));
        let target = std::sync::Arc::new(MemoryDirectory::default());
        let mut old = User::new("t1", "ada@example.com").with_names("Ada", "L");
        old.external_id = Some(ExternalId::new(DEFAULT_ISSUER, "u1"));
        target.insert_user(old);
        let mut policy = Policy::default();
        policy.issuer = "jumpcloud:5f0c".into();
        let connected = |issuer_derived| Connected {
            source: Box::new(MemoryDirectory::new(source.snapshot())),
            scope: Scope::All,
            target: Box::new(MemoryDirectory::new(target.snapshot())),
            source_label: "source".into(),
            target_label: "target".into(),
            jumpcloud: None,
            policy: policy.clone(),
            issuer_derived,
        };

        let derived = connected(true);
        let outcome = apply(&derived, &derived.policy, false, false)
            .await
            .unwrap();
        assert_eq!(outcome.exit, Exit::Aborted, "{}", outcome.human);
        assert!(
            outcome.human.contains("issuer = \"identity-provisioning\""),
            "{}",
            outcome.human
        );
        assert_eq!(
            derived.target.read().await.unwrap().users.len(),
            1,
            "nothing was written"
        );

        let configured = connected(false);
        let outcome = apply(&configured, &configured.policy, false, false)
            .await
            .unwrap();
        assert_eq!(outcome.exit, Exit::Success, "{}", outcome.human);
        assert_eq!(
            configured.target.read().await.unwrap().users.len(),
            2,
            "grace was created"
        );
    }
}
