//! Seed workflow 000, step 3: add a user to a group, existing or new
//! (`POST /api/v2/usergroups/{group_id}/members` with `{"op": "add", "type": "user", "id": …}`).
//!
//! ```sh
//! cargo run -p provisioning-examples --bin jc_add_user_to_group -- --sandbox \
//!     --username ada.lovelace --group "AWS Developers" --apply
//! ```

use anyhow::{Context, Result, bail};
use clap::Parser;
use jumpcloud_api::filter::V1Filter;
use jumpcloud_api::models::UserGroupInput;
use jumpcloud_api::v2::Edit;

/// Add a JumpCloud user to a group, creating the group if it does not exist.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The user's username.
    #[arg(long)]
    username: String,
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
    let users = jc
        .users()
        .list()
        .filter(V1Filter::new().eq("username", &cli.username))
        .all()
        .await
        .context("looking up the user")?;
    let Some(user) = users.into_iter().find(|u| u.username == cli.username) else {
        bail!("no JumpCloud user named {}", cli.username);
    };
    let existing = jc
        .user_groups()
        .find_by_name(&cli.group)
        .await
        .context("looking up the group")?;
    if !cli.apply {
        match &existing {
            Some(group) => println!(
                "Dry run: would add User:{} to Group:{} ({})",
                user.username, group.name, group.id
            ),
            None => println!(
                "Dry run: would create Group:{} and add User:{} to it",
                cli.group, user.username
            ),
        }
        println!("Pass --apply to do it.");
        return Ok(());
    }
    let group = match existing {
        Some(group) => group,
        None => {
            let group = jc
                .user_groups()
                .create(&UserGroupInput::new(&cli.group))
                .await
                .context("creating the group")?;
            println!(
                "Group:{} with GroupId:{} created successfully",
                group.name, group.id
            );
            group
        }
    };
    let edit = jc
        .user_groups()
        .add_member(&group.id, &user.id)
        .await
        .context("adding the member")?;
    match edit {
        Edit::Changed => println!(
            "User:{} added to Group:{} successfully",
            user.username, group.name
        ),
        Edit::AlreadySo => println!(
            "User:{} is already a member of Group:{}; nothing to do",
            user.username, group.name
        ),
    }
    Ok(())
}
