//! Seed workflow 000, step 4: list the applications, see which groups are bound to one, and
//! bind a group to it only if missing
//! (`POST /api/v2/applications/{app_id}/associations` with `{"op": "add", "type": "user_group", …}`).
//!
//! ```sh
//! cargo run -p provisioning-examples --bin jc_bind_group_to_app -- --sandbox \
//!     --app "AWS SSO" --group Finance --apply
//! ```

use anyhow::{Context, Result, bail};
use clap::Parser;
use jumpcloud_api::v2::{AssociationTarget, Edit};

/// Associate a JumpCloud user group with an application, once.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The application's display label (as listed).
    #[arg(long)]
    app: String,
    /// The group's name.
    #[arg(long)]
    group: String,
    /// Do it (without this flag, only show what would happen).
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
    let apps = jc
        .applications()
        .list()
        .all()
        .await
        .context("listing applications")?;
    println!("Applications ({}):", apps.len());
    for app in &apps {
        println!(
            "  {}  {}",
            app.id,
            app.display_label.as_deref().unwrap_or(&app.name)
        );
    }
    let matching: Vec<_> = apps
        .iter()
        .filter(|a| a.display_label.as_deref() == Some(cli.app.as_str()))
        .collect();
    let app = match matching[..] {
        [one] => one,
        [] => bail!("no application labelled {:?}", cli.app),
        _ => bail!(
            "{} applications are labelled {:?}; rename one or use its id",
            matching.len(),
            cli.app
        ),
    };
    let Some(group) = jc
        .user_groups()
        .find_by_name(&cli.group)
        .await
        .context("looking up the group")?
    else {
        bail!("no JumpCloud user group named {:?}", cli.group);
    };
    let bound = jc
        .applications()
        .associations(&app.id, AssociationTarget::UserGroup)
        .all()
        .await
        .context("listing the associations")?;
    println!("Groups bound to {}: {}", cli.app, bound.len());
    if bound.iter().any(|edge| edge.to.id == group.id.as_str()) {
        println!(
            "Group:{} is already associated with {}; nothing to do",
            group.name, cli.app
        );
        return Ok(());
    }
    if !cli.apply {
        println!(
            "Dry run: would associate Group:{} with {} (pass --apply)",
            group.name, cli.app
        );
        return Ok(());
    }
    let edit = jc
        .applications()
        .associate(&app.id, AssociationTarget::UserGroup, group.id.as_str())
        .await
        .context("associating the group")?;
    match edit {
        Edit::Changed => println!(
            "Group:{} associated with {} successfully",
            group.name, cli.app
        ),
        // Bound between the listing and the write (by someone else, or a resent request).
        Edit::AlreadySo => println!(
            "Group:{} is already associated with {}; nothing to do",
            group.name, cli.app
        ),
    }
    Ok(())
}
