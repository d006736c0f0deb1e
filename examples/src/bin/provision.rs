//! `provision`: plan, apply and audit a sync from a source directory (JumpCloud, Okta) to
//! a target (the Identity Store API, a SCIM 2.0 application), driven by a TOML
//! configuration. `--sandbox` runs the whole flow against local fakes, no account needed.
//!
//! ```sh
//! cargo run -p provisioning-examples --bin provision -- --sandbox
//! cargo run -p provisioning-examples --bin provision -- --config provision.toml plan
//! cargo run -p provisioning-examples --bin provision -- --config provision.toml apply
//! cargo run -p provisioning-examples --bin provision -- --config provision.toml apply --wait-lock
//! cargo run -p provisioning-examples --bin provision -- --config provision.toml plan --out plan.json
//! cargo run -p provisioning-examples --bin provision -- --config provision.toml apply plan.json --accept-removals 12
//! cargo run -p provisioning-examples --bin provision -- --config provision.toml audit --group Engineering
//! cargo run -p provisioning-examples --bin provision -- --config provision.toml import --into-group "Pulumi users"
//! ```
//!
//! Exit status: 0 done; 1 an error before any write; 2 some changes failed; 3 a guard
//! aborted the run. Logs go to standard error under `RUST_LOG` (e.g. `RUST_LOG=info`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use provisioning_examples::provision::config::Config;
use provisioning_examples::provision::connect::{RecordAccess, connect};
use provisioning_examples::provision::run::{self, AuditView, EXIT_ERROR, Outcome};
use provisioning_examples::provision::sandbox::Sandbox;

/// Sync users, groups and memberships from JumpCloud or Okta to IAM Identity Center or a
/// SCIM application: plan first, apply safely, audit any time.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Secrets are never arguments: the configuration names \
    where each one is (an environment variable, a file, an SSM parameter).\n\
    Exit status: 0 done, 1 error before any write, 2 some changes failed, 3 aborted by a guard."
)]
struct Cli {
    /// The configuration file [default: provision.toml].
    #[arg(long, short, global = true, env = "PROVISION_CONFIG")]
    config: Option<PathBuf>,
    /// Run against a local fake JumpCloud and an in-memory Identity Store seeded with demo
    /// data; without a command: plan, apply, and plan again.
    #[arg(long, global = true)]
    sandbox: bool,
    /// Print one JSON document on standard output instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a sync would change, and why. Writes nothing to either side.
    Plan {
        /// Also save the plan, with both snapshots it was made from, to this file (for
        /// `provision apply FILE`).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Plan, then apply the plan; or apply a saved plan exactly as saved.
    Apply {
        /// A plan saved by `provision plan --out FILE`: applied only if neither side has
        /// changed since.
        #[arg(value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Apply a saved plan a guard stopped: name its number of access removals.
        #[arg(long, value_name = "N", requires = "plan")]
        accept_removals: Option<usize>,
        /// Only plan: write nothing (the ownership record is opened read-only).
        #[arg(long)]
        dry_run: bool,
        /// When another `provision apply` holds the ownership record's lock, wait for it to
        /// end instead of failing at once.
        #[arg(long)]
        wait_lock: bool,
    },
    /// Show drift between the source and the target, or who is in a group, or which
    /// groups a user is in. Writes nothing.
    Audit {
        /// The members of this group (by display name), on both sides.
        #[arg(long, conflicts_with = "user")]
        group: Option<String>,
        /// The groups of this user (by userName), on both sides.
        #[arg(long)]
        user: Option<String>,
    },
    /// List the target's users JumpCloud does not know (New) or knows (Imported); with
    /// --into-group, create the New ones in JumpCloud and add them to that group (it must be
    /// bound to the configured application).
    Import {
        /// A JumpCloud group bound to the application that imported users join.
        #[arg(long)]
        into_group: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    provisioning_examples::init_tracing();
    let cli = Cli::parse();
    match execute(cli).await {
        Ok(outcome) => ExitCode::from(outcome.exit as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

async fn execute(cli: Cli) -> Result<Outcome> {
    if cli.command.is_none() && !cli.sandbox {
        bail!(
            "say what to do: `provision plan`, `provision apply` or `provision audit` (or try \
             `provision --sandbox`)"
        );
    }
    let sandbox;
    let loaded;
    let (connected, policy) = if cli.sandbox {
        if let Some(path) = &cli.config {
            bail!(
                "--sandbox runs against built-in demo data and takes no configuration (got {}, \
                 from --config or PROVISION_CONFIG)",
                path.display()
            );
        }
        sandbox = Sandbox::start().await?;
        eprintln!(
            "sandbox: a fake JumpCloud at {} and an in-memory Identity Store {}, seeded with demo \
             data; the same run against real services takes this configuration:\n\n{}",
            sandbox.jumpcloud.uri(),
            provisioning_examples::provision::sandbox::SANDBOX_STORE_ID,
            provisioning_examples::provision::sandbox::SANDBOX_CONFIG
        );
        (&sandbox.connected, &sandbox.connected.policy)
    } else {
        let path = cli
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from("provision.toml"));
        let config = Config::load(&path)?;
        // Only a real apply writes the ownership record, and holds its lock for the run.
        let access = match &cli.command {
            Some(Command::Apply {
                dry_run: false,
                wait_lock,
                ..
            }) => RecordAccess::Run { wait: *wait_lock },
            _ => RecordAccess::ReadOnly,
        };
        let connected = connect(&config, &path, access).await?;
        loaded = connected;
        (&loaded, &loaded.policy)
    };
    let outcome = match cli.command {
        // Without a command only the sandbox gets here (checked first): its tour.
        None => run::tour(connected, policy, cli.json).await?,
        Some(Command::Plan { out }) => {
            run::plan(connected, policy, out.as_deref(), cli.json).await?
        }
        Some(Command::Apply {
            plan: Some(file),
            accept_removals,
            dry_run,
            ..
        }) => {
            run::apply_saved(connected, policy, &file, accept_removals, dry_run, cli.json).await?
        }
        Some(Command::Apply {
            plan: None,
            dry_run,
            ..
        }) => run::apply(connected, policy, dry_run, cli.json).await?,
        Some(Command::Audit { group, user }) => {
            let view = match (group, user) {
                (Some(group), _) => AuditView::MembersOf(group),
                (None, Some(user)) => AuditView::GroupsOf(user),
                (None, None) => AuditView::Drift,
            };
            run::audit(connected, policy, &view, cli.json).await?
        }
        Some(Command::Import { into_group }) => {
            run::import(connected, into_group.as_deref(), cli.json).await?
        }
    };
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&outcome.json)?);
    }
    Ok(outcome)
}
