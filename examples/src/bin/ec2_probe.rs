//! Seed workflow 000, step 6: test the permissions with EC2. The policy should allow
//! launching and describing instances but not terminating them.
//!
//! By default, free DryRun probes (note: they appear in CloudTrail as failed calls).
//! `--live` reproduces the seed for real: launch one instance, describe it by the id it
//! got, try to terminate it, and always clean up.
//!
//! ```sh
//! cargo run -p provisioning-examples --bin ec2_probe -- --image-id ami-0123456789abcdef0
//! ```

use anyhow::Result;
use aws_access::config::{AwsSettings, load};
use aws_access::ec2::{Ec2Access, Outcome, ProbeSpec, SdkEc2};
use clap::Parser;

/// Probe whether the current credentials may run, describe and terminate EC2 instances.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The AMI to (dry-)launch.
    #[arg(long)]
    image_id: String,
    /// The instance type.
    #[arg(long, default_value = "t2.micro")]
    instance_type: String,
    /// Launch and terminate a real instance (costs money) instead of DryRun probes.
    #[arg(long)]
    live: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Allowed => "allowed".into(),
        Outcome::Denied {
            code,
            encoded_message,
        } => match encoded_message {
            Some(m) => format!(
                "DENIED ({code}; decode with `aws sts decode-authorization-message --encoded-message {m}`)"
            ),
            None => format!("DENIED ({code})"),
        },
        Outcome::Error { code, message } => format!(
            "error ({}): {message}",
            code.as_deref().unwrap_or("no code")
        ),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    provisioning_examples::init_tracing();
    let cli = Cli::parse();
    let ec2 = SdkEc2::new(&load(&AwsSettings::default()).await);
    let spec = ProbeSpec::new(&cli.image_id, &cli.instance_type);
    if cli.live {
        let report = ec2.live(&spec).await?;
        if cli.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            println!("RunInstances        {}", describe(&report.launch));
            if let Some(id) = &report.instance_id {
                println!("  launched {id}");
            }
            println!(
                "DescribeInstances   {} (state: {})",
                describe(&report.describe),
                report.state.as_deref().unwrap_or("unknown")
            );
            println!("TerminateInstances  {}", describe(&report.terminate));
        }
        if !report.cleaned_up {
            anyhow::bail!(
                "instance {} is still running: terminate it by hand",
                report.instance_id.as_deref().unwrap_or("?")
            );
        }
    } else {
        let report = ec2.probe(&spec).await;
        if cli.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            println!("RunInstances        {}", describe(&report.run_instances));
            println!(
                "DescribeInstances   {}",
                describe(&report.describe_instances)
            );
            println!(
                "TerminateInstances  {}",
                describe(&report.terminate_instances)
            );
        }
    }
    Ok(())
}
