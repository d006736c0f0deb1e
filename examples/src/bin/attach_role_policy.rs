//! Seed workflow 000, step 5: attach an IAM managed policy to the role the SSO users assume,
//! then verify and log the policies attached to that role.
//!
//! Dry run by default (shows the role's policies and what would change); `--apply` attaches.
//!
//! ```sh
//! cargo run -p provisioning-examples --bin attach_role_policy -- \
//!     --role AWSReservedSSO_Developers_0123456789abcdef \
//!     --policy-arn arn:aws:iam::aws:policy/AmazonEC2FullAccess --apply
//! ```

use anyhow::{Context, Result};
use aws_access::config::{AwsSettings, load};
use aws_access::iam::{AttachOutcome, RolePolicies, SdkRolePolicies};
use clap::Parser;

/// Attach a managed policy to an IAM role, idempotently, and list the role's policies.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The role's name.
    #[arg(long)]
    role: String,
    /// The managed policy's ARN.
    #[arg(long)]
    policy_arn: String,
    /// Attach it (without this flag, only show what would happen).
    #[arg(long)]
    apply: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    provisioning_examples::init_tracing();
    let cli = Cli::parse();
    let iam = SdkRolePolicies::new(&load(&AwsSettings::default()).await);
    let before = iam
        .attached(&cli.role)
        .await
        .with_context(|| format!("listing the policies of role {}", cli.role))?;
    let already = before.iter().any(|p| p.arn == cli.policy_arn);
    let outcome = if cli.apply {
        Some(
            iam.attach(&cli.role, &cli.policy_arn)
                .await
                .with_context(|| format!("attaching {} to {}", cli.policy_arn, cli.role))?,
        )
    } else {
        None
    };
    let after = if cli.apply {
        iam.attached(&cli.role).await?
    } else {
        before
    };
    if cli.json {
        let result = serde_json::json!({
            "role": cli.role,
            "policy_arn": cli.policy_arn,
            "outcome": outcome,
            "dry_run": !cli.apply,
            "attached_policies": after,
        });
        println!("{result}");
        return Ok(());
    }
    match outcome {
        Some(AttachOutcome::Attached) => {
            println!("Attached {} to role {}", cli.policy_arn, cli.role)
        }
        Some(AttachOutcome::AlreadyAttached) => println!(
            "{} was already attached to role {}",
            cli.policy_arn, cli.role
        ),
        None if already => println!(
            "Dry run: {} is already attached to role {}; nothing to do",
            cli.policy_arn, cli.role
        ),
        None => println!(
            "Dry run: would attach {} to role {} (pass --apply)",
            cli.policy_arn, cli.role
        ),
    }
    println!("Policies attached to role {}:", cli.role);
    for policy in &after {
        println!("  {}  {}", policy.name, policy.arn);
    }
    Ok(())
}
