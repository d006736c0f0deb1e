//! Shared start-up code for the example programs of this workspace.
//!
//! Every binary in this crate (one per documented workflow step, and the `provision`
//! command) starts the same way: logs go to standard error, filtered by `RUST_LOG`, and
//! secrets come from the environment as [`SecretString`]s — never from the command line,
//! where other users of the machine could read them in the process list.
//!
//! ```no_run
//! fn main() -> anyhow::Result<()> {
//!     provisioning_examples::init_tracing();
//!     let key = provisioning_examples::secret_from_env("JUMPCLOUD_API_KEY")?;
//!     # let _ = key;
//!     Ok(())
//! }
//! ```

pub mod provision;

use anyhow::{Result, bail};
use secrecy::SecretString;

/// Sends `tracing` logs to standard error, filtered by `RUST_LOG` (default: `warn`), in
/// colour only when standard error is a terminal.
///
/// Call it once, first thing in `main`. A second call does nothing.
///
/// ```
/// provisioning_examples::init_tracing();
/// provisioning_examples::init_tracing();
/// ```
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // `try_init` fails only when a subscriber is already set: keep that one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Reads a secret (an API key or token) from the environment variable `name`.
///
/// # Errors
///
/// Fails, naming the variable and what to do, when it is unset, empty or not valid UTF-8.
/// The error never contains the value.
///
/// ```
/// let err = provisioning_examples::secret_from_env("SURELY_UNSET_VARIABLE_FOR_DOCS").unwrap_err();
/// assert!(err.to_string().contains("SURELY_UNSET_VARIABLE_FOR_DOCS"));
/// ```
pub fn secret_from_env(name: &str) -> Result<SecretString> {
    secret_from(name, std::env::var(name))
}

fn secret_from(name: &str, value: Result<String, std::env::VarError>) -> Result<SecretString> {
    match value {
        Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value.trim().to_owned())),
        Ok(_) => bail!("{name} is set but empty: export it with the secret's value"),
        Err(std::env::VarError::NotPresent) => {
            bail!(
                "{name} is not set: export it with the secret's value (never pass secrets as arguments)"
            )
        }
        Err(std::env::VarError::NotUnicode(_)) => bail!("{name} is not valid UTF-8"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_set_variable_becomes_a_trimmed_secret() {
        let secret = secret_from("K", Ok(" s3cr3t\n".into())).unwrap();
        assert_eq!(secret.expose_secret(), "s3cr3t");
        assert!(!format!("{secret:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_missing_or_blank_variable_is_a_clear_error() {
        let missing = secret_from("JUMPCLOUD_API_KEY", Err(std::env::VarError::NotPresent));
        let text = missing.unwrap_err().to_string();
        assert!(text.contains("JUMPCLOUD_API_KEY is not set"), "{text}");

        let blank = secret_from("JUMPCLOUD_API_KEY", Ok("   ".into()));
        assert!(blank.unwrap_err().to_string().contains("empty"));
    }
}

/// Connecting the JumpCloud examples: the real API from the environment, or `--sandbox`.
pub mod jumpcloud {
    use anyhow::{Context, Result};
    use jumpcloud_api::Client;
    use jumpcloud_api::fake::FakeJumpCloud;
    use jumpcloud_api::models::NewSystemUser;

    /// The display label of the sandbox's demo application.
    pub const SANDBOX_APP: &str = "AWS SSO";

    /// A client for JumpCloud: from `JUMPCLOUD_API_KEY` (and `JUMPCLOUD_ORG_ID`,
    /// `JUMPCLOUD_BASE_URL`), or, with `sandbox`, for a fake JumpCloud on a local port seeded
    /// with demo data (returned too: it lives as long as the program needs it).
    ///
    /// # Errors
    ///
    /// When the environment lacks the API key (outside the sandbox).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let (jc, fake) = provisioning_examples::jumpcloud::connect(true).await?;
    /// assert!(fake.is_some());
    /// assert!(!jc.user_groups().list().all().await?.is_empty());
    /// # Ok::<(), anyhow::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(sandbox: bool) -> Result<(Client, Option<FakeJumpCloud>)> {
        if !sandbox {
            let client = Client::from_env().context(
                "connecting to JumpCloud (or pass --sandbox to try this against a local fake)",
            )?;
            return Ok((client, None));
        }
        let fake = FakeJumpCloud::start().await;
        let ada = fake.add_user(
            NewSystemUser::new("ada.lovelace", "ada@example.com").names("Ada", "Lovelace"),
        );
        let grace = fake.add_user(
            NewSystemUser::new("grace.hopper", "grace@example.com").names("Grace", "Hopper"),
        );
        let eng = fake.add_group("Engineering");
        fake.add_group("Finance");
        fake.add_member(&eng, &ada);
        fake.add_member(&eng, &grace);
        let app = fake.add_application("aws", SANDBOX_APP);
        fake.add_application("pulumi", "Pulumi");
        fake.associate_group(&app, &eng);
        fake.set_bulk_pending_polls(2);
        eprintln!(
            "sandbox: a fake JumpCloud at {} with demo users (ada.lovelace, grace.hopper), groups \
             (Engineering, Finance) and applications ({SANDBOX_APP}, Pulumi)",
            fake.uri()
        );
        Ok((fake.client(), Some(fake)))
    }
}
