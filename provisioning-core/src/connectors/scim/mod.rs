//! SCIM 2.0 applications as targets: Pulumi Cloud, IAM Identity Center's SCIM endpoint, or
//! any RFC 7644 service provider.
//!
//! - [`client`]: a typed SCIM client (bearer token as a `SecretString`; index, cursor and
//!   unpaged lists; reads retried, writes classified);
//! - [`resources`]: the wire models, which keep unknown attributes on a round trip;
//! - [`filter`]: `eq` filters with correct escaping;
//! - [`Profile`]: what one service provider accepts beyond the RFC;
//! - [`ScimTarget`]: the engine's writes as SCIM requests.
//!
//! | engine write | SCIM request |
//! |---|---|
//! | create user | `POST /Users` (one primary work email, never `groups`) |
//! | update user | `PATCH /Users/{id}`, one `replace` (or `remove`) per changed attribute (the client also offers `PUT` as [`client::ScimClient::replace`]) |
//! | deactivate user | `PATCH /Users/{id}` `replace active false` |
//! | delete user | `DELETE /Users/{id}` (not on Pulumi) |
//! | create, rename group | `POST /Groups` (empty), `PATCH /Groups/{id}` `replace displayName` |
//! | delete group | `DELETE /Groups/{id}` |
//! | add, remove members | `PATCH /Groups/{id}`: `add members [{value}…]`, `remove members[value eq "…"]`; at most 100 per request |
//!
//! The engine's ownership mark travels in `externalId` as `issuer:source-id`; where the
//! target does not store it (Pulumi), the target keeps it in an
//! [ownership record](crate::connectors::ownership) instead. Every profile keeps the
//! members adopted groups keep in that record (give it a file with
//! [`ScimTarget::with_ownership`], or they are forgotten when the process ends).
//!
//! A resource the server sends that cannot be read is never taken for an absent one (an
//! absent member would not be protected) and never fails the read of the others:
//!
//! | unreadable resource | read as |
//! |---|---|
//! | a user, with an `id` | held by its id ([`Hold::Unreadable`](crate::model::Hold::Unreadable)): never changed, deprovisioned or removed from a group; a source user linked to it (by the ownership record) is skipped too; its pending creates stay pending |
//! | a group, with an `id` | left out: nothing is planned for it or its members (a source group linked to it is planned as a create, which a server with unique names refuses item by item) |
//! | any resource without an `id` | the read fails, naming the list: nothing is planned from it |
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use provisioning_core::connectors::ownership::OwnershipRecord;
//! use provisioning_core::connectors::scim::{Profile, ScimTarget, client::ScimClient};
//! use provisioning_core::connectors::secrets::SecretRef;
//!
//! let token = SecretRef::Env("PULUMI_SCIM_TOKEN".into()).resolve(None).await?;
//! let client = ScimClient::builder("https://api.pulumi.com/scim/v2/acme", token).build()?;
//! let target = ScimTarget::new(client, Profile::Pulumi)
//!     .with_ownership(OwnershipRecord::open("pulumi-acme.ownership.jsonl")?);
//! # let _ = target;
//! # Ok(()) }
//! ```

pub mod client;
pub mod filter;
mod profile;
pub mod resources;
mod target;

pub use profile::{ENTERPRISE_ATTRIBUTES, PULUMI_MAX_GROUP_NAME, Profile};
pub use target::{MAX_MEMBER_CHANGES, ScimTarget};
