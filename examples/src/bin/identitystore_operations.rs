//! Seed workflow 001: IAM Identity Center identity store operations, with the same
//! subcommands and arguments as aws-samples' `identitystore_operations.py`, plus what it
//! lacks (update_user, remove_from_group, delete_user, complete pagination, `--json`).
//!
//! ```sh
//! cargo run -p provisioning-examples --bin identitystore_operations -- \
//!     create_user --identitystoreid d-123456a7890 --username johndoe \
//!     --givenname John --familyname Doe --groupname AWS_Data_Science
//! ```
//!
//! Credentials and region come from the AWS default chain; `AWS_ENDPOINT_URL` points it at
//! another endpoint (a local emulator).

use anyhow::{Context, Result, bail};
use aws_access::config::{AwsSettings, identity_store_id, load};
use aws_access::identity_store::{
    GroupId, GroupLookup, IdentityStore, NewUser, OnConflict, SdkIdentityStore, UserChange, UserId,
    UserLookup,
};
use clap::{Args, Parser, Subcommand};
use serde_json::json;

/// Manage and audit IAM Identity Center users and groups through the Identity Store API.
#[derive(Debug, Parser)]
#[command(name = "identitystore_operations", version)]
struct Cli {
    /// Print results as JSON instead of lines of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Store {
    /// The identity store id (d-…) or ARN.
    #[arg(long = "identitystoreid")]
    identity_store_id: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a user, and optionally add it to a group.
    #[command(name = "create_user")]
    CreateUser {
        #[command(flatten)]
        store: Store,
        #[arg(long = "username")]
        user_name: String,
        #[arg(long = "givenname")]
        given_name: String,
        #[arg(long = "familyname")]
        family_name: String,
        /// The user's email.
        #[arg(long)]
        email: Option<String>,
        /// A group to add the new user to.
        #[arg(long = "groupname")]
        group_name: Option<String>,
    },
    /// Create a group.
    #[command(name = "create_group")]
    CreateGroup {
        #[command(flatten)]
        store: Store,
        #[arg(long = "groupname")]
        group_name: String,
        /// The group's description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Add a user to a group.
    #[command(name = "adduser_to_group")]
    AddUserToGroup {
        #[command(flatten)]
        store: Store,
        #[arg(long = "username")]
        user_name: String,
        #[arg(long = "groupname")]
        group_name: String,
    },
    /// Remove a user from a group.
    #[command(name = "remove_from_group")]
    RemoveFromGroup {
        #[command(flatten)]
        store: Store,
        #[arg(long = "username")]
        user_name: String,
        #[arg(long = "groupname")]
        group_name: String,
    },
    /// Delete a group.
    #[command(name = "delete_group")]
    DeleteGroup {
        #[command(flatten)]
        store: Store,
        #[arg(long = "groupname")]
        group_name: String,
    },
    /// Change a user's names or email.
    #[command(name = "update_user")]
    UpdateUser {
        #[command(flatten)]
        store: Store,
        #[arg(long = "username")]
        user_name: String,
        #[arg(long = "givenname")]
        given_name: Option<String>,
        #[arg(long = "familyname")]
        family_name: Option<String>,
        #[arg(long = "displayname")]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Delete a user.
    #[command(name = "delete_user")]
    DeleteUser {
        #[command(flatten)]
        store: Store,
        #[arg(long = "username")]
        user_name: String,
    },
    /// List the members of a group (audit).
    #[command(name = "list_members")]
    ListMembers {
        #[command(flatten)]
        store: Store,
        #[arg(long = "groupname")]
        group_name: String,
    },
    /// List the groups of a user (audit).
    #[command(name = "list_membership")]
    ListMembership {
        #[command(flatten)]
        store: Store,
        #[arg(long = "username")]
        user_name: String,
    },
}

async fn connect(store: &Store) -> Result<SdkIdentityStore> {
    let id = identity_store_id(&store.identity_store_id)?;
    Ok(SdkIdentityStore::new(
        &load(&AwsSettings::default()).await,
        id,
    ))
}

async fn user_id(store: &SdkIdentityStore, user_name: &str) -> Result<UserId> {
    store
        .find_user(&UserLookup::UserName(user_name.to_owned()))
        .await
        .with_context(|| format!("looking up user {user_name}"))?
        .with_context(|| {
            format!(
                "no user named {user_name} in identity store {}",
                store.store_id()
            )
        })
}

async fn group_id(store: &SdkIdentityStore, group_name: &str) -> Result<GroupId> {
    store
        .find_group(&GroupLookup::DisplayName(group_name.to_owned()))
        .await
        .with_context(|| format!("looking up group {group_name}"))?
        .with_context(|| {
            format!(
                "no group named {group_name} in identity store {}",
                store.store_id()
            )
        })
}

/// Prints `text` lines, or `value` as JSON.
fn out(json: bool, text: &[String], value: serde_json::Value) {
    if json {
        println!("{value}");
    } else {
        for line in text {
            println!("{line}");
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    provisioning_examples::init_tracing();
    let cli = Cli::parse();
    let json = cli.json;
    match cli.command {
        Command::CreateUser {
            store,
            user_name,
            given_name,
            family_name,
            email,
            group_name,
        } => {
            let store = connect(&store).await?;
            // The group is looked up first: a missing group fails the command before anything
            // is written (the seed script would create the user and then fail).
            let group = match &group_name {
                Some(name) => Some(group_id(&store, name).await?),
                None => None,
            };
            let mut new = NewUser::new(&user_name, given_name, family_name);
            if let Some(email) = email {
                new = new.email(email);
            }
            let user = store
                .create_user(&new, OnConflict::Fail)
                .await
                .with_context(|| format!("creating user {user_name}"))?
                .value;
            let mut lines = vec![format!(
                "User:{user_name} with UserId:{} created successfully",
                user.id
            )];
            if let (Some(group), Some(group_name)) = (&group, &group_name) {
                store
                    .add_member(group, &user.id)
                    .await
                    .with_context(|| format!("adding {user_name} to {group_name}"))?;
                lines.push(format!(
                    "User:{user_name} added to Group:{group_name} successfully"
                ));
            }
            out(
                json,
                &lines,
                json!({"user_name": user_name, "user_id": user.id, "group": group_name}),
            );
        }
        Command::CreateGroup {
            store,
            group_name,
            description,
        } => {
            let store = connect(&store).await?;
            let group = store
                .create_group(&group_name, description.as_deref(), OnConflict::Fail)
                .await
                .with_context(|| format!("creating group {group_name}"))?
                .value;
            let line = format!(
                "Group:{group_name} with GroupId:{} created successfully",
                group.id
            );
            out(
                json,
                &[line],
                json!({"group_name": group_name, "group_id": group.id}),
            );
        }
        Command::AddUserToGroup {
            store,
            user_name,
            group_name,
        } => {
            let store = connect(&store).await?;
            let (user, group) = (
                user_id(&store, &user_name).await?,
                group_id(&store, &group_name).await?,
            );
            // Idempotent: a second run finds the member and writes nothing (moto would
            // accept a duplicate membership; the service would answer a conflict).
            let present = store
                .is_member(&user, std::slice::from_ref(&group))
                .await
                .with_context(|| format!("checking whether {user_name} is in {group_name}"))?
                .get(&group)
                .copied()
                .unwrap_or(false);
            if present {
                let line = format!(
                    "User:{user_name} is already a member of Group:{group_name}: nothing to do"
                );
                out(
                    json,
                    &[line],
                    json!({"user_name": user_name, "group_name": group_name, "already_member": true}),
                );
                return Ok(());
            }
            let membership = store
                .add_member(&group, &user)
                .await
                .with_context(|| format!("adding {user_name} to {group_name}"))?;
            let line = format!("User:{user_name} added to Group:{group_name} successfully");
            out(
                json,
                &[line],
                json!({"user_name": user_name, "group_name": group_name, "membership_id": membership}),
            );
        }
        Command::RemoveFromGroup {
            store,
            user_name,
            group_name,
        } => {
            let store = connect(&store).await?;
            let (user, group) = (
                user_id(&store, &user_name).await?,
                group_id(&store, &group_name).await?,
            );
            let removed = store
                .remove_member(&group, &user)
                .await
                .with_context(|| format!("removing {user_name} from {group_name}"))?;
            let line = if removed {
                format!("User:{user_name} removed from Group:{group_name} successfully")
            } else {
                format!("User:{user_name} was not a member of Group:{group_name}")
            };
            out(
                json,
                &[line],
                json!({"user_name": user_name, "group_name": group_name, "removed": removed}),
            );
        }
        Command::DeleteGroup { store, group_name } => {
            let store = connect(&store).await?;
            let group = group_id(&store, &group_name).await?;
            store
                .delete_group(&group)
                .await
                .with_context(|| format!("deleting group {group_name}"))?;
            out(
                json,
                &[format!("Group:{group_name} deleted successfully")],
                json!({"group_name": group_name, "deleted": true}),
            );
        }
        Command::UpdateUser {
            store,
            user_name,
            given_name,
            family_name,
            display_name,
            email,
        } => {
            let store = connect(&store).await?;
            let user = user_id(&store, &user_name).await?;
            let mut changes = Vec::new();
            changes.extend(given_name.map(UserChange::GivenName));
            changes.extend(family_name.map(UserChange::FamilyName));
            changes.extend(display_name.map(UserChange::DisplayName));
            changes.extend(email.map(|e| UserChange::Email(Some(e))));
            if changes.is_empty() {
                bail!(
                    "nothing to update: give --givenname, --familyname, --displayname or --email"
                );
            }
            store
                .update_user(&user, &changes)
                .await
                .with_context(|| format!("updating user {user_name}"))?;
            out(
                json,
                &[format!("User:{user_name} updated successfully")],
                json!({"user_name": user_name, "changes": changes.len()}),
            );
        }
        Command::DeleteUser { store, user_name } => {
            let store = connect(&store).await?;
            let user = user_id(&store, &user_name).await?;
            store
                .delete_user(&user)
                .await
                .with_context(|| format!("deleting user {user_name}"))?;
            out(
                json,
                &[format!("User:{user_name} deleted successfully")],
                json!({"user_name": user_name, "deleted": true}),
            );
        }
        Command::ListMembers { store, group_name } => {
            let store = connect(&store).await?;
            let group = group_id(&store, &group_name).await?;
            let members = store
                .group_members(&group)
                .await
                .with_context(|| format!("listing members of {group_name}"))?;
            let lines: Vec<String> = members
                .iter()
                .map(|m| {
                    format!(
                        "UserName:{},Display Name: {}",
                        m.user_name,
                        m.display_name.as_deref().unwrap_or("")
                    )
                })
                .collect();
            out(
                json,
                &lines,
                json!({"group_name": group_name, "members": members}),
            );
        }
        Command::ListMembership { store, user_name } => {
            let store = connect(&store).await?;
            let user = user_id(&store, &user_name).await?;
            let groups = store
                .user_groups(&user)
                .await
                .with_context(|| format!("listing groups of {user_name}"))?;
            let mut lines = vec![format!(
                "User :{user_name} is a member of the following groups"
            )];
            lines.extend(groups.iter().map(|g| g.display_name.clone()));
            out(
                json,
                &lines,
                json!({"user_name": user_name, "groups": groups}),
            );
        }
    }
    Ok(())
}
