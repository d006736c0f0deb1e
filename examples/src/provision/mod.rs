//! The `provision` command's library: configuration, connecting the configured source and
//! target, the sandbox, the audit views, and running `plan`, `apply` and `audit`.
//!
//! The binary (`src/bin/provision.rs`) only parses arguments; everything it does is here, so
//! it is documented and tested like the rest of the SDK:
//!
//! - [`config`]: the TOML configuration, checked field by field;
//! - [`connect`]: the configured source and target as engine connectors, secrets resolved
//!   from their references;
//! - [`sandbox`]: a fake JumpCloud and an in-memory Identity Store seeded with demo data;
//! - [`audit`]: drift between source and target, the members of a group, the groups of a
//!   user;
//! - [`run`]: the commands, their human and JSON output, and their exit codes.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use provisioning_examples::provision::{config::Config, connect::{connect, RecordAccess}, run};
//!
//! let config = Config::load("provision.toml".as_ref())?;
//! let connected = connect(&config, "provision.toml".as_ref(), RecordAccess::ReadOnly).await?;
//! // The policy to plan with: the configuration's, with its issuer settled.
//! let outcome = run::plan(&connected, &connected.policy, None, false).await?;
//! print!("{}", outcome.human);
//! # Ok(()) }
//! ```

pub mod audit;
pub mod config;
pub mod connect;
pub mod run;
pub mod sandbox;
