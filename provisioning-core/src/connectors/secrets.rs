//! Where a connector's secret (an API key, a bearer token) comes from: an environment
//! variable, a file, or an SSM `SecureString` parameter — as seed workflow 004 kept its Okta
//! and AWS tokens in SSM. Configuration names the place, never the value, so secrets stay off
//! command lines and out of configuration files; the value lives only in a [`SecretString`].
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use provisioning_core::connectors::secrets::SecretRef;
//! use secrecy::ExposeSecret;
//!
//! // PATH stands in for a token variable here: it is set in every shell.
//! let key: SecretRef = serde_json::from_str(r#"{"env": "PATH"}"#).unwrap();
//! let value = key.resolve(None).await.unwrap();
//! assert!(!value.expose_secret().is_empty());
//! assert_eq!(format!("{key}"), "environment variable PATH");
//! # });
//! ```

use std::fmt;
use std::path::PathBuf;

use aws_access::ssm::Parameters;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::connector::{ConnectorError, ErrorClass};

/// A reference to a secret. In TOML: `token = { env = "OKTA_TOKEN" }`,
/// `{ file = "/run/secrets/okta" }` or `{ ssm = "/sync/okta-token" }`.
///
/// A plain string where a reference is expected is refused without repeating it — it may be
/// the secret itself, pasted by mistake:
///
/// ```
/// use provisioning_core::connectors::secrets::SecretRef;
/// let err = serde_json::from_str::<SecretRef>(r#""s3cr3t-key""#).unwrap_err().to_string();
/// assert!(err.contains("{ env = "), "{err}");
/// assert!(!err.contains("s3cr3t"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file holding the value (surrounding whitespace is trimmed).
    File(PathBuf),
    /// An SSM Parameter Store `SecureString`, read decrypted.
    Ssm(String),
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RefVisitor)
    }
}

const PLACES: &[&str] = &["env", "file", "ssm"];

struct RefVisitor;

impl<'de> serde::de::Visitor<'de> for RefVisitor {
    type Value = SecretRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a reference to a secret: { env = \"NAME\" }, { file = \"/path\" } or { ssm = \"/parameter\" }",
        )
    }

    fn visit_str<E: serde::de::Error>(self, _value: &str) -> Result<SecretRef, E> {
        // Never repeat the value: it may be the secret itself.
        Err(E::custom(
            "a secret cannot be written in the configuration; name where it is instead: \
             { env = \"NAME\" }, { file = \"/path\" } or { ssm = \"/parameter\" }",
        ))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
        use serde::de::Error;
        let Some(place) = map.next_key::<String>()? else {
            return Err(A::Error::custom(
                "an empty secret reference; expected one of env, file or ssm",
            ));
        };
        let value: String = map.next_value()?;
        let secret = match place.as_str() {
            "env" => SecretRef::Env(value),
            "file" => SecretRef::File(PathBuf::from(value)),
            "ssm" => SecretRef::Ssm(value),
            other => return Err(A::Error::unknown_variant(other, PLACES)),
        };
        if map.next_key::<String>()?.is_some() {
            return Err(A::Error::custom(
                "a secret reference names one place: env, file or ssm",
            ));
        }
        Ok(secret)
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(name) => write!(f, "environment variable {name}"),
            SecretRef::File(path) => write!(f, "file {}", path.display()),
            SecretRef::Ssm(name) => write!(f, "SSM parameter {name}"),
        }
    }
}

fn invalid(message: String) -> ConnectorError {
    ConnectorError::new(ErrorClass::Invalid, message)
}

impl SecretRef {
    /// Reads the secret. `ssm` reads SSM references (`None` when the configuration has none).
    ///
    /// # Errors
    ///
    /// When the place is missing, unreadable or empty, or SSM refuses; the message names the
    /// place and what to do, never the value.
    pub async fn resolve(
        &self,
        ssm: Option<&dyn Parameters>,
    ) -> Result<SecretString, ConnectorError> {
        let value = match self {
            SecretRef::Env(name) => {
                let value = std::env::var(name).map_err(|_| {
                    invalid(format!(
                        "{self} is not set: export it with the secret's value"
                    ))
                })?;
                SecretString::from(value)
            }
            SecretRef::File(path) => {
                let value = std::fs::read_to_string(path)
                    .map_err(|e| invalid(format!("cannot read the secret from {self}: {e}")))?;
                SecretString::from(value)
            }
            SecretRef::Ssm(name) => {
                let ssm = ssm.ok_or_else(|| {
                    invalid(format!(
                        "{self} needs AWS access, which this run was not given"
                    ))
                })?;
                ssm.secure_string(name).await.map_err(|err| {
                    let class = if err.is_not_found() {
                        ErrorClass::Invalid
                    } else if err.is_access_denied() {
                        ErrorClass::Denied
                    } else if err.is_throttled() {
                        ErrorClass::RateLimited
                    } else {
                        ErrorClass::Fatal
                    };
                    ConnectorError::new(class, format!("cannot read {self}")).with_source(err)
                })?
            }
        };
        let trimmed = value.expose_secret().trim();
        if trimmed.is_empty() {
            return Err(invalid(format!("{self} is empty")));
        }
        Ok(SecretString::from(trimmed.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_access::fake::FakeParameters;

    #[tokio::test]
    async fn a_file_is_read_and_trimmed_and_an_empty_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("secret-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "  s3cr3t-token\n").unwrap();
        let secret = SecretRef::File(file.clone()).resolve(None).await.unwrap();
        assert_eq!(secret.expose_secret(), "s3cr3t-token");
        std::fs::write(&file, "\n").unwrap();
        let empty = SecretRef::File(file.clone())
            .resolve(None)
            .await
            .unwrap_err();
        assert!(empty.to_string().ends_with("is empty"), "{empty}");
        let missing = SecretRef::File(dir.join("nope"))
            .resolve(None)
            .await
            .unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read the secret from file"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn ssm_parameters_are_read_and_their_absence_is_explained() {
        let ssm = FakeParameters::default();
        ssm.put(
            "/sync/okta-token",
            SecretString::from("00okta-token".to_owned()),
        );
        let reference = SecretRef::Ssm("/sync/okta-token".into());
        let secret = reference.resolve(Some(&ssm)).await.unwrap();
        assert_eq!(secret.expose_secret(), "00okta-token");
        let missing = SecretRef::Ssm("/sync/none".into())
            .resolve(Some(&ssm))
            .await
            .unwrap_err();
        assert_eq!(missing.class(), ErrorClass::Invalid);
        assert!(missing.to_string().contains("SSM parameter /sync/none"));
        let no_aws = reference.resolve(None).await.unwrap_err();
        assert!(no_aws.to_string().contains("needs AWS access"));
    }

    #[tokio::test]
    async fn an_unset_variable_names_itself_and_no_value_ever_shows() {
        let err = SecretRef::Env("SURELY_UNSET_SECRET_VARIABLE".into())
            .resolve(None)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("SURELY_UNSET_SECRET_VARIABLE is not set")
        );
        let ssm = FakeParameters::default();
        ssm.put("/p", SecretString::from("do-not-print-me".to_owned()));
        let secret = SecretRef::Ssm("/p".into())
            .resolve(Some(&ssm))
            .await
            .unwrap();
        assert!(!format!("{secret:?}").contains("do-not-print-me"));
    }

    #[test]
    fn references_read_from_configuration() {
        let refs: Vec<SecretRef> = serde_json::from_str(
            r#"[{"env":"JUMPCLOUD_API_KEY"},{"file":"/run/secrets/k"},{"ssm":"/sync/k"}]"#,
        )
        .unwrap();
        assert_eq!(refs[2], SecretRef::Ssm("/sync/k".into()));
    }
}
