//! Seed workflow 000, step 1: create users through a JumpCloud bulk job and track the job
//! until each user has its id (a job id is not a created user).
//!
//! ```sh
//! cargo run -p provisioning-examples --bin jc_bulk_create_users -- --sandbox \
//!     --user alan.turing,alan@example.com,Alan,Turing --apply
//! ```

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use jumpcloud_api::bulk::WaitOptions;
use jumpcloud_api::filter::V1Filter;
use jumpcloud_api::models::NewSystemUser;

/// Create JumpCloud users with a bulk job and report their ids.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// A user as `username,email,first name,last name`; repeat for more.
    #[arg(long = "user", required = true, value_parser = parse_user)]
    users: Vec<NewSystemUser>,
    /// Create them (without this flag, only show what would be sent).
    #[arg(long)]
    apply: bool,
    /// Run against a local fake JumpCloud seeded with demo data.
    #[arg(long)]
    sandbox: bool,
    /// Seconds between polls of the job's results.
    #[arg(long, default_value_t = 2)]
    poll_seconds: u64,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 300)]
    deadline_seconds: u64,
}

fn parse_user(text: &str) -> Result<NewSystemUser, String> {
    match text.split(',').map(str::trim).collect::<Vec<_>>()[..] {
        [username, email, first, last] if !username.is_empty() && email.contains('@') => {
            Ok(NewSystemUser::new(username, email).names(first, last))
        }
        _ => Err(format!(
            "expected `username,email,first name,last name`, got {text:?}"
        )),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    provisioning_examples::init_tracing();
    let cli = Cli::parse();
    if !cli.apply {
        println!(
            "Dry run: would create {} user(s) in bulk jobs of at most 800:",
            cli.users.len()
        );
        for user in &cli.users {
            println!("  {} <{}>", user.username, user.email);
        }
        println!("Pass --apply to create them.");
        return Ok(());
    }
    let (jc, _sandbox) = provisioning_examples::jumpcloud::connect(cli.sandbox).await?;
    // Users that exist already are left as they are, so that a second run has nothing to do
    // (a bulk create of an existing username fails that item).
    let mut to_create = Vec::new();
    for user in &cli.users {
        let found = jc
            .users()
            .list()
            .filter(V1Filter::new().eq("username", &user.username))
            .all()
            .await
            .with_context(|| format!("looking up user {}", user.username))?;
        match found.into_iter().find(|u| u.username == user.username) {
            Some(existing) => println!(
                "User:{} exists with UserId:{}; left as it is",
                existing.username, existing.id
            ),
            None => to_create.push(user.clone()),
        }
    }
    if to_create.is_empty() {
        println!("Every user exists already; nothing to do");
        return Ok(());
    }
    let jobs = jc
        .bulk()
        .create_users(&to_create)
        .await
        .context("starting the bulk job")?;
    for job in jobs.job_ids() {
        println!("Started bulk job {job}");
    }
    let wait = WaitOptions::new(
        Duration::from_secs(cli.poll_seconds.max(1)),
        Duration::from_secs(cli.deadline_seconds),
    );
    let wait = if cli.sandbox {
        WaitOptions::new(Duration::from_millis(100), wait.deadline)
    } else {
        wait
    };
    let outcome = jobs.wait(&wait).await.context("waiting for the bulk job")?;
    for user in &outcome.created {
        println!("User:{} created with UserId:{}", user.username, user.id);
    }
    for failure in &outcome.failed {
        println!(
            "User:{} FAILED: {}",
            failure.username.as_deref().unwrap_or("?"),
            failure.message
        );
    }
    if !outcome.failed.is_empty() {
        bail!(
            "{} of {} user(s) were not created",
            outcome.failed.len(),
            to_create.len()
        );
    }
    Ok(())
}
