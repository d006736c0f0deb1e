//! Seed workflow 000, step 2: create a user group with a unique name (reusing an existing
//! one of that name), and list the existing groups.
//!
//! ```sh
//! cargo run -p provisioning-examples --bin jc_create_group -- --sandbox --name "AWS Developers" --apply
//! ```

use anyhow::{Context, Result};
use clap::Parser;
use jumpcloud_api::models::UserGroupInput;

/// Create a JumpCloud user group unless one of that name exists; list the groups.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The group's name.
    #[arg(long)]
    name: String,
    /// A description for a new group.
    #[arg(long)]
    description: Option<String>,
    /// Create it (without this flag, only show what would happen).
    #[arg(long)]
    apply: bool,
    /// Run against a local fake JumpCloud seeded with demo data.
    #[arg(long)]
    sandbox: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    provisioning_examples::init_tracing();
    let cli = Cli::parse();
    let (jc, _sandbox) = provisioning_examples::jumpcloud::connect(cli.sandbox).await?;
    let groups = jc
        .user_groups()
        .list()
        .all()
        .await
        .context("listing user groups")?;
    println!("Existing user groups ({}):", groups.len());
    for group in &groups {
        println!("  {}  {}", group.id, group.name);
    }
    if let Some(existing) = groups.iter().find(|g| g.name == cli.name) {
        println!(
            "Group:{} exists with GroupId:{}; reusing it",
            existing.name, existing.id
        );
        return Ok(());
    }
    if !cli.apply {
        println!("Dry run: would create group {} (pass --apply)", cli.name);
        return Ok(());
    }
    let mut input = UserGroupInput::new(&cli.name);
    input.description = cli.description;
    let group = jc
        .user_groups()
        .create(&input)
        .await
        .with_context(|| format!("creating group {}", cli.name))?;
    println!(
        "Group:{} with GroupId:{} created successfully",
        group.name, group.id
    );
    Ok(())
}
