//! Where the live test peers listen.
//!
//! `scripts/test-all` installs and starts the test peers (moto server, two Prism instances
//! serving JumpCloud's official specs, scim2-server), waits until each answers, and hands
//! their URLs to the tests through environment variables. Peer-backed tests ask this crate
//! for those URLs. A peer-backed test never skips: when a variable is missing, the test
//! fails and says how to run it.
//!
//! ```no_run
//! let moto = test_peers::Peer::Moto.url();
//! assert!(moto.starts_with("http://127.0.0.1:"));
//! ```

use std::fmt;

pub mod hostile;
pub mod moto;
pub mod pacing;

/// A test peer started by `scripts/test-all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// moto server: AWS Identity Store, IAM, EC2, SSM and sso-admin on one endpoint.
    Moto,
    /// A second moto server, reserved for the test that turns on IAM enforcement (which
    /// is global to a moto process and would break every concurrent test on [`Peer::Moto`]).
    MotoAuth,
    /// Prism serving JumpCloud's official v1 spec, routes at the root (no `/api`).
    JumpCloudV1,
    /// Prism serving JumpCloud's official v2 spec, routes at the root (no `/api/v2`).
    JumpCloudV2,
    /// Prism serving the complete 2023 v2 spec (`baton-jumpcloud/jcapi2/openapi.yaml`), which
    /// keeps operations the newer PowerShell spec drops (the import job).
    JumpCloudV2Complete,
    /// scim2-server, an independent SCIM 2.0 server; the URL ends in `/v2`.
    Scim,
    /// scim2-server with IAM Identity Center's service provider configuration (no bulk,
    /// sort or ETags, at most 100 results, cursor paging), serving a fresh tenant per path
    /// prefix: use [`scim_tenant`] for an isolated base URL.
    ScimAwsIdentityCenter,
    /// scim2-server restricted to Pulumi's attributes (users: `userName`, `displayName`,
    /// `name.givenName`, `name.familyName`, `emails`, `active`; groups: `displayName`,
    /// `members`; no Enterprise User extension), serving a fresh tenant per path prefix: use
    /// [`scim_tenant`].
    ScimPulumi,
}

impl Peer {
    /// Every peer the test command starts.
    pub const ALL: [Peer; 8] = [
        Peer::Moto,
        Peer::MotoAuth,
        Peer::JumpCloudV1,
        Peer::JumpCloudV2,
        Peer::JumpCloudV2Complete,
        Peer::Scim,
        Peer::ScimAwsIdentityCenter,
        Peer::ScimPulumi,
    ];

    /// The environment variable that carries this peer's base URL.
    ///
    /// ```
    /// assert_eq!(test_peers::Peer::Moto.env_var(), "TEST_PEER_MOTO_URL");
    /// ```
    pub fn env_var(self) -> &'static str {
        match self {
            Peer::Moto => "TEST_PEER_MOTO_URL",
            Peer::MotoAuth => "TEST_PEER_MOTO_AUTH_URL",
            Peer::JumpCloudV1 => "TEST_PEER_JUMPCLOUD_V1_URL",
            Peer::JumpCloudV2 => "TEST_PEER_JUMPCLOUD_V2_URL",
            Peer::JumpCloudV2Complete => "TEST_PEER_JUMPCLOUD_V2_COMPLETE_URL",
            Peer::Scim => "TEST_PEER_SCIM_URL",
            Peer::ScimAwsIdentityCenter => "TEST_PEER_SCIM_AWS_URL",
            Peer::ScimPulumi => "TEST_PEER_SCIM_PULUMI_URL",
        }
    }

    /// The base URL of this peer, without a trailing slash.
    ///
    /// # Panics
    ///
    /// Panics, failing the calling test with instructions, when the peer's variable is
    /// unset or empty: the test was run without the peers that `scripts/test-all` starts.
    ///
    /// ```no_run
    /// let scim = test_peers::Peer::Scim.url();
    /// assert!(scim.ends_with("/v2"));
    /// ```
    pub fn url(self) -> String {
        match lookup(self.env_var()) {
            Ok(url) => url,
            Err(missing) => panic!("{missing}"),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Peer::Moto => "moto server",
            Peer::MotoAuth => "moto server (IAM enforcement)",
            Peer::JumpCloudV1 => "Prism (JumpCloud v1 spec)",
            Peer::JumpCloudV2 => "Prism (JumpCloud v2 spec)",
            Peer::JumpCloudV2Complete => "Prism (complete 2023 JumpCloud v2 spec)",
            Peer::Scim => "scim2-server",
            Peer::ScimAwsIdentityCenter => "scim2-server (IAM Identity Center profile)",
            Peer::ScimPulumi => "scim2-server (Pulumi profile)",
        })
    }
}

/// The bearer token scim2-server was started with (`TEST_PEER_SCIM_TOKEN`).
///
/// It is a throw-away value made up by the test command, not a secret.
///
/// # Panics
///
/// Panics with instructions when the variable is unset, like [`Peer::url`].
pub fn scim_token() -> String {
    match lookup("TEST_PEER_SCIM_TOKEN") {
        Ok(token) => token,
        Err(missing) => panic!("{missing}"),
    }
}

/// A base URL (ending in `/v2`) of a tenant of `peer` that no other test uses: the
/// profile servers create a tenant, with its own empty storage, on the first request to
/// `/<tenant>`. `name` makes the tenant recognisable in the server's log.
///
/// # Panics
///
/// Panics with instructions when the peer's variable is unset, like [`Peer::url`].
///
/// ```no_run
/// let base = test_peers::scim_tenant(test_peers::Peer::ScimPulumi, "first-sync");
/// assert!(base.ends_with("/v2"));
/// ```
pub fn scim_tenant(peer: Peer, name: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}/{name}-{}-{nanos}-{n}/v2",
        peer.url(),
        std::process::id()
    )
}

/// Why a peer's variable could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Missing(&'static str);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not set: this test needs the live test peers. Run `scripts/test-all` \
             from the repository root; it installs and starts moto, Prism and scim2-server \
             and sets the TEST_PEER_* variables. Plain `cargo test` does not compile \
             peer-backed tests (they need the `peer-tests` feature).",
            self.0
        )
    }
}

fn lookup(var: &'static str) -> Result<String, Missing> {
    lookup_in(var, |name| std::env::var(name).ok())
}

fn lookup_in(var: &'static str, get: impl Fn(&str) -> Option<String>) -> Result<String, Missing> {
    match get(var) {
        Some(value) if !value.trim().is_empty() => {
            Ok(value.trim().trim_end_matches('/').to_owned())
        }
        _ => Err(Missing(var)),
    }
}

/// The AWS SDK configuration of a client of moto ([`Peer::Moto`]): its URL as the endpoint
/// of every service, region `us-east-1`, and the dummy credentials moto accepts. Tests read
/// what moto holds through it, independently of the engine's connectors.
///
/// ```no_run
/// # async fn run() {
/// let config = test_peers::moto_sdk_config().await;
/// assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
/// # }
/// ```
pub async fn moto_sdk_config() -> aws_config::SdkConfig {
    sdk_config_for(&Peer::Moto.url()).await
}

/// The dummy credentials moto accepts (`testing` / `testing`): not a secret.
///
/// ```
/// use aws_credential_types::provider::ProvideCredentials;
/// let _ = test_peers::moto_credentials();
/// ```
pub fn moto_credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new("testing", "testing", None, None, "test")
}

/// `config` with [`moto_credentials`]: for a configuration loaded the way the product loads
/// it (`aws_access::config::load`), pointed at moto.
///
/// ```no_run
/// # async fn run() {
/// let loaded = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
/// let config = test_peers::with_moto_credentials(loaded);
/// assert!(config.credentials_provider().is_some());
/// # }
/// ```
pub fn with_moto_credentials(config: aws_config::SdkConfig) -> aws_config::SdkConfig {
    config
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(moto_credentials()),
        )
        .build()
}

/// The AWS SDK configuration of a client of the moto (or proxy in front of it) at `url`:
/// `url` as the endpoint of every service, region `us-east-1`, and [`moto_credentials`].
///
/// ```no_run
/// # async fn run() {
/// let config = test_peers::sdk_config_for("http://127.0.0.1:5000").await;
/// assert!(config.endpoint_url().is_some());
/// # }
/// ```
pub async fn sdk_config_for(url: &str) -> aws_config::SdkConfig {
    let credentials = moto_credentials();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_variable_gives_the_url_without_trailing_slash() {
        let got = lookup_in("X", |_| Some("http://127.0.0.1:4010/".into()));
        assert_eq!(got, Ok("http://127.0.0.1:4010".to_owned()));
    }

    #[test]
    fn an_unset_or_blank_variable_is_an_error_that_says_what_to_run() {
        for value in [None, Some(String::new()), Some("  ".to_owned())] {
            let err = lookup_in("TEST_PEER_MOTO_URL", |_| value.clone()).unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("TEST_PEER_MOTO_URL is not set"), "{text}");
            assert!(text.contains("scripts/test-all"), "{text}");
        }
    }

    #[test]
    fn every_peer_has_its_own_variable() {
        let mut vars: Vec<_> = Peer::ALL.iter().map(|p| p.env_var()).collect();
        vars.sort_unstable();
        vars.dedup();
        assert_eq!(vars.len(), Peer::ALL.len());
    }
}
