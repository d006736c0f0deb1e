//! The `provision` command's configuration file (TOML).
//!
//! One source, one target, the policy, and where AWS is. Secrets are references —
//! `{ env = "NAME" }`, `{ file = "/path" }` or `{ ssm = "/parameter" }` — never values, so a
//! configuration file can be committed and reviewed.
//!
//! ```toml
//! [source.jumpcloud]
//! api_key = { env = "JUMPCLOUD_API_KEY" }
//! application = "AWS SSO"            # or: groups = ["Engineering", "Finance"]
//!
//! [target.identity_store]
//! identity_store_id = "d-1234567890" # omitted: discovered with sso-admin ListInstances
//!
//! [policy]
//! allow_deprovision = true
//! deprovision = "delete"
//! exclude_groups = ["AWS*"]
//! deletion_guard = { max_percent = 5.0, max_count = 20 }
//!
//! [aws]
//! region = "eu-west-1"
//! ```
//!
//! Every field is checked: an unknown or misspelt field, a value of the wrong type or a
//! missing required field is an error that names the field (`source.jumpcloud.aplication`),
//! its line, and what is expected.
//!
//! ```
//! use provisioning_examples::provision::config::Config;
//!
//! let err = Config::parse("[source.jumpcloud]\naplication = \"AWS SSO\"\n").unwrap_err();
//! assert!(err.to_string().contains("source.jumpcloud"), "{err}");
//! assert!(err.to_string().contains("aplication"), "{err}");
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use provisioning_core::connectors::scim::Profile;
use provisioning_core::connectors::secrets::SecretRef;
use provisioning_core::model::Scope;
use provisioning_core::policy::{Policy, check_configured_issuer};
use serde::Deserialize;

/// A parsed and checked configuration. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// Where users and groups come from.
    pub source: SourceConfig,
    /// Where they are provisioned.
    pub target: TargetConfig,
    /// The provisioning rules; every field defaults to the seed workflows' behaviour.
    #[serde(default)]
    pub policy: Policy,
    /// AWS access, for the Identity Store target and SSM secrets.
    #[serde(default)]
    pub aws: AwsConfig,
    /// Whether `[policy] issuer` was set (otherwise [`Config::issuer`] derives it).
    #[serde(skip)]
    issuer_configured: bool,
}

/// Where the sync's ownership issuer ([`Policy::issuer`]) comes from. See
/// [`Config::issuer`].
///
/// ```
/// use provisioning_examples::provision::config::{Config, Issuer};
///
/// let config = Config::parse(r#"
///     [source.okta]
///     org_url = "https://example.okta.com"
///     token = { env = "OKTA_TOKEN" }
///     groups = ["aws-admins"]
///     [target.identity_store]
/// "#)?;
/// assert_eq!(config.issuer(), Issuer::Derived("okta:example.okta.com".into()));
/// # Ok::<(), provisioning_examples::provision::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Issuer {
    /// `[policy] issuer`, as configured (and checked).
    Configured(String),
    /// Derived from the source's configuration: `jumpcloud:<org_id>` or `okta:<host of
    /// org_url>`.
    Derived(String),
    /// JumpCloud without `org_id`: `jumpcloud:<id>` of the organisation the API key
    /// belongs to, which only JumpCloud knows (`GET /api/organizations`, asked when
    /// connecting; see [`connect`](super::connect::connect)).
    JumpCloudOrganization,
}

/// The source directory: one table, `[source.jumpcloud]` or `[source.okta]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum SourceConfig {
    /// JumpCloud.
    Jumpcloud(JumpCloudConfig),
    /// Okta.
    Okta(OktaConfig),
}

/// `[source.jumpcloud]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct JumpCloudConfig {
    /// The API key.
    pub api_key: SecretRef,
    /// The organisation id, for multi-tenant (MSP) keys.
    pub org_id: Option<String>,
    /// The API's base URL; default `https://console.jumpcloud.com`.
    pub base_url: Option<String>,
    /// Sync the groups bound to this application (its display label, name or id).
    pub application: Option<String>,
    /// Or: sync these groups, by exact name.
    pub groups: Option<Vec<String>>,
}

/// `[source.okta]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OktaConfig {
    /// The organisation's URL, such as `https://example.okta.com`.
    pub org_url: String,
    /// An API token (SSWS).
    pub token: SecretRef,
    /// The groups to sync, by exact name.
    pub groups: Vec<String>,
}

/// The target: one table, `[target.identity_store]` or `[target.scim]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum TargetConfig {
    /// IAM Identity Center's Identity Store API.
    IdentityStore(IdentityStoreConfig),
    /// A SCIM 2.0 service provider.
    Scim(ScimConfig),
}

/// `[target.identity_store]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IdentityStoreConfig {
    /// The identity store (`d-…`, a UUID or an ARN); omitted: the only IAM Identity Center
    /// instance of the account and region.
    pub identity_store_id: Option<String>,
    /// Where the record of the objects this tool owns, and of the members adopted groups
    /// keep, is kept; default: beside the configuration file, `<name>.ownership.jsonl`.
    pub ownership_file: Option<PathBuf>,
    /// Also mark owned users in their `ExternalIds` (visible in AWS).
    #[serde(default)]
    pub external_id_marks: bool,
}

/// `[target.scim]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ScimConfig {
    /// The SCIM base URL, such as `https://scim.eu-west-1.amazonaws.com/<tenant>/scim/v2`.
    pub base_url: String,
    /// The bearer token.
    pub token: SecretRef,
    /// The service provider's rules: `generic`, `aws-identity-center` or `pulumi`.
    #[serde(default)]
    pub profile: Profile,
    /// Where the record of the members adopted groups keep (and, for Pulumi, which never
    /// stores `externalId`, of the objects this tool owns) is kept; default: beside the
    /// configuration file, `<name>.ownership.jsonl`.
    pub ownership_file: Option<PathBuf>,
}

/// `[aws]`: overrides of the AWS default configuration chain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AwsConfig {
    /// The region.
    pub region: Option<String>,
    /// A named profile of the shared configuration files.
    pub profile: Option<String>,
    /// One endpoint for every AWS service (a local emulator).
    pub endpoint_url: Option<String>,
}

/// A configuration that could not be read or is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, as a dotted path (`policy.deletion_guard.max_percent`); empty for the file.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.field.is_empty() {
            write!(f, "`{}`: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_owned(),
        message: message.into(),
        line: None,
    }
}

impl Config {
    /// Reads and checks the configuration file at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, or [`Config::parse`] refuses it; the message names the
    /// file.
    pub fn load(path: &Path) -> Result<Self, anyhow::Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the configuration file {}: {e} (pass --config <file>, or try --sandbox)",
                path.display()
            )
        })?;
        Self::parse(&text)
            .map_err(|e| anyhow::anyhow!("invalid configuration {}: {e}", path.display()))
    }

    /// Parses and checks a configuration.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field and what is expected.
    ///
    /// ```
    /// use provisioning_examples::provision::config::{Config, SourceConfig};
    ///
    /// let config = Config::parse(r#"
    ///     [source.okta]
    ///     org_url = "https://example.okta.com"
    ///     token = { ssm = "/sync/okta-token" }
    ///     groups = ["aws-admins"]
    ///
    ///     [target.scim]
    ///     base_url = "https://scim.eu-west-1.amazonaws.com/abc/scim/v2"
    ///     token = { env = "SCIM_TOKEN" }
    ///     profile = "aws-identity-center"
    /// "#)?;
    /// assert!(matches!(config.source, SourceConfig::Okta(_)));
    ///
    /// let err = Config::parse("[source.okta]\norg_url = 1\n").unwrap_err();
    /// assert_eq!(err.field, "source.okta.org_url");
    /// # Ok::<(), provisioning_examples::provision::config::ConfigError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let line_of = |span: Option<std::ops::Range<usize>>| {
            span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        };
        let deserializer = toml::Deserializer::parse(text).map_err(|e| ConfigError {
            field: String::new(),
            message: format!("not valid TOML: {}", e.message()),
            line: line_of(e.span()),
        })?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            ConfigError {
                field: if field == "." { String::new() } else { field },
                message: inner.message().to_owned(),
                line: line_of(inner.span()),
            }
        })?;
        let mut config = config;
        // `Policy` fills a missing issuer with its default; whether the file set one is only
        // visible in the document itself.
        config.issuer_configured = toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|doc| doc.get("policy")?.get("issuer").cloned())
            .is_some();
        config.check()?;
        if let Issuer::Derived(issuer) = config.issuer() {
            config.policy.issuer = issuer;
        }
        Ok(config)
    }

    /// Where the ownership issuer comes from. Set in `[policy] issuer`, it is that value;
    /// otherwise it names the source directory, so that two syncs into one target (two
    /// JumpCloud organisations, or JumpCloud and Okta) never take each other's objects
    /// for their own: `jumpcloud:<org_id>` when `org_id` is configured, `okta:<host of
    /// org_url>` for Okta, and for JumpCloud without `org_id` the id of the key's
    /// organisation, asked from JumpCloud when connecting.
    ///
    /// [`Config::parse`] already writes a derived issuer into [`Config::policy`]; the
    /// JumpCloud organisation's is written by [`connect`](super::connect::connect) into
    /// [`Connected::policy`](super::connect::Connected::policy).
    ///
    /// ```
    /// use provisioning_examples::provision::config::{Config, Issuer};
    ///
    /// let base = "[source.jumpcloud]\napi_key = { env = \"K\" }\ngroups = [\"Eng\"]\n";
    /// let with_org = Config::parse(&format!("{base}org_id = \"5f3a1b2c3d4e5f6a7b8c9d0e\"\n[target.identity_store]\n"))?;
    /// assert_eq!(with_org.issuer(), Issuer::Derived("jumpcloud:5f3a1b2c3d4e5f6a7b8c9d0e".into()));
    /// assert_eq!(with_org.policy.issuer, "jumpcloud:5f3a1b2c3d4e5f6a7b8c9d0e");
    ///
    /// let without = Config::parse(&format!("{base}[target.identity_store]\n"))?;
    /// assert_eq!(without.issuer(), Issuer::JumpCloudOrganization);
    ///
    /// let chosen = Config::parse(&format!("{base}[target.identity_store]\n[policy]\nissuer = \"identity-provisioning\"\n"))?;
    /// assert_eq!(chosen.issuer(), Issuer::Configured("identity-provisioning".into()));
    /// # Ok::<(), provisioning_examples::provision::config::ConfigError>(())
    /// ```
    pub fn issuer(&self) -> Issuer {
        if self.issuer_configured {
            return Issuer::Configured(self.policy.issuer.clone());
        }
        match &self.source {
            SourceConfig::Jumpcloud(jc) => match jc.org_id.as_deref().map(str::trim) {
                Some(org) if !org.is_empty() => Issuer::Derived(format!("jumpcloud:{org}")),
                _ => Issuer::JumpCloudOrganization,
            },
            SourceConfig::Okta(okta) => {
                // Checked by `check`: an http(s) URL with a host.
                let host = url::Url::parse(&okta.org_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                    .unwrap_or_default();
                Issuer::Derived(format!("okta:{host}"))
            }
        }
    }

    /// The checks a type cannot express.
    fn check(&self) -> Result<(), ConfigError> {
        match &self.source {
            SourceConfig::Jumpcloud(jc) => {
                match (&jc.application, &jc.groups) {
                    (Some(_), Some(_)) | (None, None) => {
                        return Err(invalid(
                            "source.jumpcloud",
                            "set exactly one of `application` (sync the groups bound to it) \
                             and `groups` (sync these groups by name)",
                        ));
                    }
                    (Some(app), None) if app.trim().is_empty() => {
                        return Err(invalid(
                            "source.jumpcloud.application",
                            "is empty; expected an application's display label, name or id",
                        ));
                    }
                    _ => {}
                }
                if let Some(groups) = &jc.groups {
                    check_names("source.jumpcloud.groups", groups)?;
                }
            }
            SourceConfig::Okta(okta) => {
                check_url("source.okta.org_url", &okta.org_url)?;
                check_names("source.okta.groups", &okta.groups)?;
            }
        }
        match &self.target {
            TargetConfig::Scim(scim) => check_url("target.scim.base_url", &scim.base_url)?,
            TargetConfig::IdentityStore(store) => {
                if let Some(id) = &store.identity_store_id
                    && aws_access::config::identity_store_id(id).is_err()
                {
                    return Err(invalid(
                        "target.identity_store.identity_store_id",
                        "is empty; expected d-xxxxxxxxxx, a UUID or an ARN (or leave it out to discover it)",
                    ));
                }
            }
        }
        if let Some(endpoint) = &self.aws.endpoint_url {
            check_url("aws.endpoint_url", endpoint)?;
        }
        if self.issuer_configured
            && let Err(err) = check_configured_issuer(&self.policy.issuer)
        {
            return Err(invalid(
                "policy.issuer",
                format!("{:?} {err}", self.policy.issuer),
            ));
        }
        if let SourceConfig::Jumpcloud(jc) = &self.source
            && let Some(org) = &jc.org_id
            && (org.trim().is_empty() || org.contains(|c: char| c == ':' || c.is_whitespace()))
        {
            return Err(invalid(
                "source.jumpcloud.org_id",
                format!(
                    "is {org:?}; expected the organisation's id (24 hexadecimal digits), or leave it out"
                ),
            ));
        }
        let guard = &self.policy.deletion_guard;
        if !(0.0..=100.0).contains(&guard.max_percent) {
            return Err(invalid(
                "policy.deletion_guard.max_percent",
                format!(
                    "is {}; expected a percentage from 0 to 100",
                    guard.max_percent
                ),
            ));
        }
        Ok(())
    }

    /// The scope the source is read in.
    ///
    /// ```
    /// use provisioning_core::model::Scope;
    /// let config = provisioning_examples::provision::config::Config::parse(r#"
    ///     [source.jumpcloud]
    ///     api_key = { env = "JUMPCLOUD_API_KEY" }
    ///     groups = ["Engineering"]
    ///     [target.identity_store]
    /// "#).unwrap();
    /// assert_eq!(config.scope(), Scope::Groups(vec!["Engineering".into()]));
    /// ```
    pub fn scope(&self) -> Scope {
        match &self.source {
            SourceConfig::Jumpcloud(jc) => match (&jc.application, &jc.groups) {
                (Some(app), _) => Scope::Application(app.clone()),
                (None, Some(groups)) => Scope::Groups(groups.clone()),
                (None, None) => Scope::All,
            },
            SourceConfig::Okta(okta) => Scope::Groups(okta.groups.clone()),
        }
    }

    /// Whether any secret is read from SSM (so AWS access is needed even for a SCIM target).
    pub fn uses_ssm(&self) -> bool {
        let source = match &self.source {
            SourceConfig::Jumpcloud(jc) => &jc.api_key,
            SourceConfig::Okta(okta) => &okta.token,
        };
        let target = match &self.target {
            TargetConfig::Scim(scim) => Some(&scim.token),
            TargetConfig::IdentityStore(_) => None,
        };
        std::iter::once(source)
            .chain(target)
            .any(|s| matches!(s, SecretRef::Ssm(_)))
    }
}

fn check_names(field: &str, names: &[String]) -> Result<(), ConfigError> {
    if names.is_empty() {
        return Err(invalid(field, "is empty; expected at least one group name"));
    }
    if let Some(blank) = names.iter().position(|n| n.trim().is_empty()) {
        return Err(invalid(
            &format!("{field}[{blank}]"),
            "is blank; expected a group name",
        ));
    }
    Ok(())
}

/// An https URL, or plain http to the loopback interface (a local test server): a token or
/// signed request sent to any other plain-http URL would travel unencrypted.
fn check_url(field: &str, value: &str) -> Result<(), ConfigError> {
    let url = url::Url::parse(value).ok().filter(|u| u.host().is_some());
    let loopback = |url: &url::Url| match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url {
        Some(url) if url.scheme() == "https" => Ok(()),
        Some(url) if url.scheme() == "http" && loopback(&url) => Ok(()),
        Some(url) if url.scheme() == "http" => Err(invalid(
            field,
            format!(
                "is {value:?}, plain http: credentials would travel unencrypted; use https \
                 (plain http is allowed only on loopback)"
            ),
        )),
        _ => Err(invalid(
            field,
            format!("is {value:?}; expected an https:// URL"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JC_TO_STORE: &str = r#"
        [source.jumpcloud]
        api_key = { env = "JUMPCLOUD_API_KEY" }
        application = "AWS SSO"

        [target.identity_store]
        identity_store_id = "d-1234567890"
    "#;

    fn error(text: &str) -> ConfigError {
        Config::parse(text).unwrap_err()
    }

    #[test]
    fn a_minimal_configuration_takes_the_default_policy() {
        let config = Config::parse(JC_TO_STORE).unwrap();
        assert_eq!(config.policy, Policy::default());
        assert_eq!(config.scope(), Scope::Application("AWS SSO".into()));
        assert!(!config.uses_ssm());
    }

    #[test]
    fn the_default_issuer_names_the_source() {
        let with_org = JC_TO_STORE.replace(
            "application = \"AWS SSO\"",
            "application = \"AWS SSO\"\norg_id = \"5f3a1b2c3d4e5f6a7b8c9d0e\"",
        );
        let config = Config::parse(&with_org).unwrap();
        assert_eq!(
            config.issuer(),
            Issuer::Derived("jumpcloud:5f3a1b2c3d4e5f6a7b8c9d0e".into())
        );
        assert_eq!(config.policy.issuer, "jumpcloud:5f3a1b2c3d4e5f6a7b8c9d0e");

        // Two organisations: two issuers, so neither sync takes the other's users for its own.
        let other = Config::parse(&with_org.replace("5f3a", "6a4b")).unwrap();
        assert_ne!(config.policy.issuer, other.policy.issuer);

        // Without an org id, only JumpCloud knows the organisation: asked when connecting.
        assert_eq!(
            Config::parse(JC_TO_STORE).unwrap().issuer(),
            Issuer::JumpCloudOrganization
        );

        let okta = r#"
            [source.okta]
            org_url = "https://Example.okta.com/"
            token = { env = "OKTA_TOKEN" }
            groups = ["aws-admins"]
            [target.identity_store]
        "#;
        let config = Config::parse(okta).unwrap();
        assert_eq!(config.policy.issuer, "okta:example.okta.com");
    }

    #[test]
    fn a_configured_issuer_is_kept_and_checked() {
        let with = |issuer: &str| {
            let quoted = toml::Value::String(issuer.into()).to_string();
            format!("{JC_TO_STORE}\n[policy]\nissuer = {quoted}\n").replace(
                "application = \"AWS SSO\"",
                "application = \"AWS SSO\"\norg_id = \"5f3a1b2c3d4e5f6a7b8c9d0e\"",
            )
        };
        // The old default, kept on purpose by an existing deployment.
        let config = Config::parse(&with("identity-provisioning")).unwrap();
        assert_eq!(
            config.issuer(),
            Issuer::Configured("identity-provisioning".into())
        );
        assert_eq!(config.policy.issuer, "identity-provisioning");

        for (bad, says) in [
            ("", "is empty"),
            ("  ", "is empty"),
            ("jumpcloud:acme", "':'"),
            ("acme sync", "whitespace"),
            ("acme\tsync", "whitespace"),
            ("acme\u{7}", "control"),
        ] {
            let err = error(&with(bad));
            assert_eq!(err.field, "policy.issuer", "{bad:?}: {err}");
            assert!(err.message.contains(says), "{bad:?}: {err}");
            assert!(
                err.message.contains("use ") || err.message.contains("expected"),
                "says what to do: {err}"
            );
        }

        let err = error(&JC_TO_STORE.replace(
            "application = \"AWS SSO\"",
            "application = \"AWS SSO\"\norg_id = \"\"",
        ));
        assert_eq!(err.field, "source.jumpcloud.org_id", "{err}");
    }

    #[test]
    fn a_misspelt_policy_option_is_refused_not_ignored() {
        let err = error(&format!(
            "{JC_TO_STORE}\n[policy]\nalow_deprovision = true\n"
        ));
        assert_eq!(err.field, "policy.alow_deprovision");
        assert!(err.message.contains("allow_deprovision"), "{err}");
        assert_eq!(err.line, Some(10), "{err}");
    }

    #[test]
    fn wrong_types_name_the_nested_field_and_the_expectation() {
        let err = error(&format!(
            "{JC_TO_STORE}\n[policy.deletion_guard]\nmax_percent = \"ten\"\n"
        ));
        assert_eq!(err.field, "policy.deletion_guard.max_percent");
        assert!(err.message.contains("expected f64"), "{err}");

        let err = error(&format!(
            "{JC_TO_STORE}\n[policy]\ndeprovision = \"erase\"\n"
        ));
        assert_eq!(err.field, "policy.deprovision");
        assert!(err.message.contains("deactivate"), "{err}");
    }

    #[test]
    fn secrets_must_be_references() {
        let text = JC_TO_STORE.replace(r#"{ env = "JUMPCLOUD_API_KEY" }"#, r#""abc123""#);
        let err = error(&text);
        assert_eq!(err.field, "source.jumpcloud.api_key");
        assert!(!err.to_string().contains("abc123"), "{err}");
        let text = JC_TO_STORE.replace("{ env =", "{ environment =");
        assert!(error(&text).message.contains("env"));
    }

    #[test]
    fn scope_and_urls_are_checked() {
        let both = JC_TO_STORE.replace(
            "application = \"AWS SSO\"",
            "application = \"AWS SSO\"\ngroups = [\"Engineering\"]",
        );
        assert_eq!(error(&both).field, "source.jumpcloud");
        let neither = JC_TO_STORE.replace("application = \"AWS SSO\"", "");
        assert!(error(&neither).message.contains("exactly one"));

        let okta = r#"
            [source.okta]
            org_url = "example.okta.com"
            token = { env = "OKTA_TOKEN" }
            groups = ["aws-admins"]
            [target.scim]
            base_url = "https://scim.example.com/v2"
            token = { ssm = "/sync/scim" }
        "#;
        let err = error(okta);
        assert_eq!(err.field, "source.okta.org_url");
        assert!(err.message.contains("https://"), "{err}");
        let fixed = okta.replace("\"example.okta.com\"", "\"https://example.okta.com\"");
        let config = Config::parse(&fixed).unwrap();
        assert!(config.uses_ssm());

        let no_groups = fixed.replace("[\"aws-admins\"]", "[]");
        assert_eq!(error(&no_groups).field, "source.okta.groups");
    }

    #[test]
    fn missing_tables_and_bad_toml_are_explained() {
        let err = error("[source.jumpcloud]\napi_key = { env = \"K\" }\napplication = \"A\"\n");
        assert!(err.message.contains("target"), "{err}");
        let err = error("[source.jumpcloud\n");
        assert!(err.message.starts_with("not valid TOML"), "{err}");
        assert_eq!(err.line, Some(1));
        let err = error("[source.ldap]\nurl = \"x\"\n");
        assert_eq!(err.field, "source");
        assert!(err.message.contains("jumpcloud"), "{err}");
    }

    /// Every TOML sample in the README and the guides is a valid configuration (samples of
    /// one table get a minimal source and target around them).
    #[test]
    fn the_documented_configurations_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = vec![root.join("README.md"), root.join("docs/provision.md")];
        for entry in std::fs::read_dir(root.join("docs/workflows")).unwrap() {
            files.push(entry.unwrap().path());
        }
        let mut checked = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for block in text.split("```toml\n").skip(1) {
                let block = block.split("```").next().unwrap();
                let mut config = block.to_owned();
                if !config.contains("[source.") {
                    config.push_str(
                        "\n[source.jumpcloud]\napi_key = { env = \"K\" }\napplication = \"A\"\n",
                    );
                }
                if !config.contains("[target.") {
                    config.push_str("\n[target.identity_store]\n");
                }
                if let Err(err) = Config::parse(&config) {
                    panic!("{}: {err}\n{block}", file.display());
                }
                checked += 1;
            }
        }
        assert!(checked >= 10, "only {checked} samples found");
    }

    #[test]
    fn plain_http_is_refused_off_loopback_for_every_url() {
        let with = |extra: &str| format!("{JC_TO_STORE}\n{extra}");
        let remote = with("[aws]\nendpoint_url = \"http://aws.example.com\"");
        let err = error(&remote).to_string();
        assert!(
            err.contains("aws.endpoint_url") && err.contains("plain http"),
            "{err}"
        );
        let local = with("[aws]\nendpoint_url = \"http://127.0.0.1:5000\"");
        assert!(
            Config::parse(&local).is_ok(),
            "{:?}",
            Config::parse(&local).err()
        );
        let scim = r#"
            [source.jumpcloud]
            api_key = { env = "JUMPCLOUD_API_KEY" }
            application = "AWS SSO"

            [target.scim]
            base_url = "http://scim.example.com/scim/v2"
            token = { env = "SCIM_TOKEN" }
        "#;
        let err = error(scim).to_string();
        assert!(
            err.contains("target.scim.base_url") && err.contains("plain http"),
            "{err}"
        );
    }
}
