//! A typed async client for the [JumpCloud Directory Platform API] v1 and v2.
//!
//! # Purpose
//!
//! Rust programs that automate the JumpCloud user lifecycle (onboarding tools, the
//! `provisioning-core` sync engine) talk to JumpCloud through this crate instead of
//! hand-rolled HTTP calls. It covers users (`/api/systemusers`), user groups and their
//! members, application associations, bulk user jobs, scheduled user states and
//! application imports, and it makes the known traps impossible to fall into:
//!
//! - lists are paged at most 100 items at a time and end by the total count JumpCloud
//!   reports, never merely because one page came back short;
//! - a bulk job id is not a created user: bulk jobs are polled until every item is final;
//! - the region (US, EU, IN) picks the host, and the API key is a
//!   [`secrecy::SecretString`](https://docs.rs/secrecy) that no `Debug`, `Display`, log line
//!   or error ever shows.
//!
//! # Design
//!
//! One cheap-to-clone `Client` holds one HTTP client, the credentials and separate v1 and
//! v2 base URLs (the test seam: Prism and wiremock serve each version at their own root).
//! Handlers mirror the API (`client.users().list().limit(100).send().await?`), ids are
//! newtypes so a group id cannot be passed where a user id is expected, and every call
//! returns one `#[non_exhaustive]` error type with classification methods
//! (`is_not_found()`, `is_rate_limited()`, `retry_after()`, …). A stateful in-memory fake
//! of the API sits behind the `fake` feature for tests and the sandbox.
//!
//! This crate knows nothing of provisioning: the engine in `provisioning-core` depends on
//! it, never the other way round.
//!
//! # Quick start
//!
//! ```no_run
//! # async fn run() -> jumpcloud_api::Result<()> {
//! let jc = jumpcloud_api::Client::from_env()?; // JUMPCLOUD_API_KEY, JUMPCLOUD_ORG_ID, JUMPCLOUD_BASE_URL
//! for group in jc.user_groups().list().all().await? {
//!     println!("{} {}", group.id, group.name);
//! }
//! # Ok(()) }
//! ```
//!
//! The [`guide`] module (docs/jumpcloud-api.md) tours authentication, lists and filters,
//! errors and retries, bulk jobs and the fake.
//!
//! # Features
//!
//! - `fake`: a stateful fake JumpCloud on a local HTTP server ([`fake`](crate::fake)).
//! - `peer-tests`: compiles the contract tests that run against Prism serving JumpCloud's
//!   official OpenAPI specs (vendored in `specs/`). `scripts/test-all` starts Prism and turns
//!   this on.
//!
//! [JumpCloud Directory Platform API]: https://docs.jumpcloud.com/api/

#[doc = include_str!("../../docs/jumpcloud-api.md")]
pub mod guide {}

pub mod bulk;
pub mod client;
pub mod error;
#[cfg(feature = "fake")]
pub mod fake;
pub mod filter;
pub mod ids;
mod list;
pub mod models;
pub mod page;
pub mod retry;
pub mod v1;
pub mod v2;

pub use client::{Api, Client, ClientBuilder, Region};
pub use error::{Error, Result};
pub use list::{List, Listing, Syntax, V1List, V2List, read_page};
pub use page::{Page, Skipped};
