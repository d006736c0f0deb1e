//! Loading AWS configuration, and finding the identity store.
//!
//! Credentials, region and endpoints come from `aws-config`'s default chain (environment,
//! shared profiles, SSO, container and instance metadata). `AWS_ENDPOINT_URL` (or
//! `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by that chain; [`AwsSettings::endpoint_url`]
//! overrides it explicitly — that is how tests point every client at a local moto server.
//! Retries run in the SDK's **adaptive** mode with [`AwsSettings::max_attempts`] attempts
//! (default [`DEFAULT_MAX_ATTEMPTS`], 5): standard mode's jittered exponential backoff, plus a
//! client-side rate limiter that the first `ThrottlingException` turns on, that lowers the
//! send rate of every client of that service in the process (the Identity Store's 20
//! requests/s are collective for an instance: the console, Terraform and other syncs use them
//! too) and raises it again gradually while calls succeed. The SDK is the only retry layer
//! of a request; the provisioning engine's executor retries a failed *change* on top, so one
//! throttled write is sent at most `max_attempts` × the executor's attempts times (5 × 6 = 30
//! with the defaults); the SDK's retry quota (500 tokens per service in the process, 5 per
//! retry, 1 back per success) stops its retries earlier in a long throttle storm.
//! Every call is bounded in time: a connect timeout (10 s), a timeout per attempt
//! ([`AwsSettings::attempt_timeout`], 30 s) and one for the whole call, retries included
//! ([`AwsSettings::operation_timeout`], 5 min), so a hung endpoint cannot hang a run.
//!
//! ```no_run
//! # async fn run() -> aws_access::Result<()> {
//! use aws_access::config::{AwsSettings, IdentityStoreRef, load, resolve_identity_store};
//!
//! let config = load(&AwsSettings::default()).await;
//! let store = resolve_identity_store(&config, &IdentityStoreRef::Discover).await?;
//! println!("identity store {store}");
//! # Ok(()) }
//! ```

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::error::{Error, Result};

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts per request by default, the first included: enough that a list page survives
/// four throttles in a row while the adaptive limiter slows down.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Overrides on top of the default configuration chain.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AwsSettings {
    /// The region; `None`: from the chain (`AWS_REGION`, the profile, …).
    pub region: Option<String>,
    /// An endpoint for every service (a local emulator); `None`: from the chain.
    pub endpoint_url: Option<String>,
    /// A named profile of the shared configuration files.
    pub profile: Option<String>,
    /// Attempts per request, the first included, in the SDK's adaptive retry mode.
    pub max_attempts: u32,
    /// The longest one attempt of a call may take.
    pub attempt_timeout: Duration,
    /// The longest a call may take, all its attempts and waits included.
    pub operation_timeout: Duration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region: None,
            endpoint_url: None,
            profile: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(300),
        }
    }
}

impl AwsSettings {
    /// Settings with an explicit endpoint (and region, as emulators need one for signing).
    ///
    /// ```
    /// let settings = aws_access::config::AwsSettings::local("http://127.0.0.1:5000");
    /// assert_eq!(settings.region.as_deref(), Some("us-east-1"));
    /// ```
    pub fn local(endpoint_url: impl Into<String>) -> Self {
        Self {
            region: Some("us-east-1".into()),
            endpoint_url: Some(endpoint_url.into()),
            ..Self::default()
        }
    }
}

/// The retry configuration [`load`] applies: adaptive mode, `settings.max_attempts` (at
/// least 1).
///
/// ```
/// use aws_access::config::{AwsSettings, retry_config};
/// let retry = retry_config(&AwsSettings::default());
/// assert_eq!(retry.max_attempts(), 5);
/// assert_eq!(retry.mode(), aws_config::retry::RetryMode::Adaptive);
/// ```
pub fn retry_config(settings: &AwsSettings) -> RetryConfig {
    RetryConfig::adaptive().with_max_attempts(settings.max_attempts.max(1))
}

/// Loads the configuration: the default chain plus `settings`.
pub async fn load(settings: &AwsSettings) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(settings.attempt_timeout))
        .operation_attempt_timeout(settings.attempt_timeout)
        .operation_timeout(settings.operation_timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(settings))
        .timeout_config(timeouts);
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// Which identity store to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityStoreRef {
    /// An identity store id (`d-…`, a UUID) or ARN
    /// (`arn:aws:identitystore::<account>:identitystore/d-…`).
    Given(String),
    /// The store of the account's one IAM Identity Center instance (sso-admin ListInstances).
    Discover,
}

/// The identity store id for `store`: the id as given (an ARN reduced to its id), or the one
/// instance's store when discovering.
///
/// # Errors
///
/// [`Error::Config`] when discovery finds no instance or several (naming them), or when the
/// given value is empty; [`Error::Service`] when ListInstances fails.
pub async fn resolve_identity_store(
    config: &SdkConfig,
    store: &IdentityStoreRef,
) -> Result<String> {
    match store {
        IdentityStoreRef::Given(value) => identity_store_id(value),
        IdentityStoreRef::Discover => {
            let client = aws_sdk_ssoadmin::Client::new(config);
            let mut ids = Vec::new();
            let mut pages = client.list_instances().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| Error::sdk("ListInstances", e))?;
                ids.extend(
                    page.instances()
                        .iter()
                        .filter_map(|i| i.identity_store_id().map(str::to_owned)),
                );
            }
            match ids.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(Error::Config(
                    "no IAM Identity Center instance in this account and region; set the \
                     identity store id explicitly or check the region"
                        .into(),
                )),
                many => Err(Error::Config(format!(
                    "{} IAM Identity Center instances found ({}); set the identity store id explicitly",
                    many.len(),
                    many.join(", ")
                ))),
            }
        }
    }
}

/// The identity store id in `value`: itself, or the last path segment of an ARN.
///
/// # Errors
///
/// [`Error::Config`] when `value` is empty.
///
/// ```
/// use aws_access::config::identity_store_id;
/// assert_eq!(identity_store_id("d-1234567890").unwrap(), "d-1234567890");
/// assert_eq!(
///     identity_store_id("arn:aws:identitystore::123456789012:identitystore/d-1234567890").unwrap(),
///     "d-1234567890"
/// );
/// assert!(identity_store_id(" ").is_err());
/// ```
pub fn identity_store_id(value: &str) -> Result<String> {
    let value = value.trim();
    let id = if value.starts_with("arn:") {
        value.rsplit('/').next().unwrap_or(value)
    } else {
        value
    };
    if id.is_empty() {
        return Err(Error::Config("the identity store id is empty".into()));
    }
    Ok(id.to_owned())
}
