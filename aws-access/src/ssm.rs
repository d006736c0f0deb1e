//! SSM Parameter Store: read a `SecureString` parameter, decrypted, straight into a
//! [`SecretString`] — seed workflow 004 keeps its Okta and AWS tokens there.
//!
//! The value never appears in an error, a log line or a `Debug` output.
//!
//! ```no_run
//! # async fn run() -> aws_access::Result<()> {
//! use aws_access::config::{AwsSettings, load};
//! use aws_access::ssm::{Parameters, SdkParameters};
//! use secrecy::ExposeSecret;
//!
//! let ssm = SdkParameters::new(&load(&AwsSettings::default()).await);
//! let token = ssm.secure_string("/sync/okta-token").await?;
//! assert!(!token.expose_secret().is_empty());
//! # Ok(()) }
//! ```

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use secrecy::SecretString;

use crate::error::{Error, Result};

/// The SSM facade. See the [module documentation](self).
#[async_trait]
pub trait Parameters: Send + Sync {
    /// The decrypted value of parameter `name`.
    ///
    /// # Errors
    ///
    /// Not found (`ParameterNotFound`), access denied (including KMS), or a response
    /// without a value. The message names the parameter, never its value.
    async fn secure_string(&self, name: &str) -> Result<SecretString>;
}

/// SSM on the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkParameters {
    client: Client,
}

impl SdkParameters {
    /// A client from the configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

#[async_trait]
impl Parameters for SdkParameters {
    async fn secure_string(&self, name: &str) -> Result<SecretString> {
        let out = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| Error::sdk("GetParameter", e))?;
        let value = out
            .parameter()
            .and_then(|p| p.value())
            .ok_or(Error::missing_field("GetParameter", "Parameter.Value"))?;
        Ok(SecretString::from(value.to_owned()))
    }
}
