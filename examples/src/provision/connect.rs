//! The configured source and target, as engine connectors.
//!
//! Secrets are resolved here, once, from their references (environment, file, SSM) into
//! `SecretString`s handed to the clients; AWS configuration is loaded only when the target
//! is the Identity Store or a secret lives in SSM.
//!
//! Every target gets a file-backed [`OwnershipRecord`] (at [`ownership_path`]): it holds the
//! members adopted groups keep — which the engine must never remove, and which no target can
//! tell apart from the members it added — and, for targets that cannot store the ownership
//! mark (the Identity Store, Pulumi), the marks. `provision apply` opens it locked for the
//! run ([`RecordAccess::Run`]); `plan`, `apply --dry-run`, `audit` and `import` open it
//! read-only ([`RecordAccess::ReadOnly`]), so they never write it and work beside a running
//! apply, in a read-only directory, and before the file exists.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use aws_access::config::{AwsSettings, IdentityStoreRef};
use aws_access::identity_store::SdkIdentityStore;
use aws_access::ssm::{Parameters, SdkParameters};
use jumpcloud_api::ids::OrgId;
use provisioning_core::connector::{ErrorClass, Source, Target};
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::jumpcloud::JumpCloudSource;
use provisioning_core::connectors::okta::OktaSource;
use provisioning_core::connectors::ownership::OwnershipRecord;
use provisioning_core::connectors::scim::ScimTarget;
use provisioning_core::connectors::scim::client::ScimClient;
use provisioning_core::connectors::secrets::SecretRef;
use provisioning_core::model::Scope;
use provisioning_core::policy::Policy;

use super::config::{AwsConfig, Config, Issuer, SourceConfig, TargetConfig};

/// How a command opens the ownership record.
///
/// ```
/// use provisioning_examples::provision::connect::RecordAccess;
/// assert_ne!(RecordAccess::ReadOnly, RecordAccess::Run { wait: false });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordAccess {
    /// A snapshot, never written: `plan`, `apply --dry-run`, `audit`, `import`.
    ReadOnly,
    /// Locked for the run: `apply`. With `wait`, waits for another run's lock
    /// (`--wait-lock`); without, fails at once naming its holder.
    Run {
        /// Wait for another run to release the lock.
        wait: bool,
    },
}

/// A source and a target ready for a sync, with how to name them in output.
pub struct Connected {
    /// The source directory.
    pub source: Box<dyn Source>,
    /// The scope the source is read in.
    pub scope: Scope,
    /// The target directory.
    pub target: Box<dyn Target>,
    /// The source, as shown to people (`JumpCloud, application "AWS SSO"`).
    pub source_label: String,
    /// The target, as shown to people (`Identity Store d-1234567890`).
    pub target_label: String,
    /// The JumpCloud client, when the source is JumpCloud (for `provision import`).
    pub jumpcloud: Option<jumpcloud_api::Client>,
    /// The configuration's policy with its issuer settled ([`Config::issuer`]): the policy
    /// to plan with.
    pub policy: Policy,
    /// Whether that issuer was derived from the source (no `[policy] issuer`): an apply
    /// then refuses while the target holds objects marked with the old default issuer
    /// (see [`run::apply`](super::run::apply)).
    pub issuer_derived: bool,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected")
            .field("source", &self.source_label)
            .field("scope", &self.scope)
            .field("target", &self.target_label)
            .field("issuer", &self.policy.issuer)
            .finish_non_exhaustive()
    }
}

/// Where a target's ownership record lives — the members adopted groups keep, and the
/// ownership marks of targets that cannot store them: `configured` (`ownership_file`) or,
/// when the configuration does not say, beside the configuration file,
/// `<file stem>.ownership.jsonl`. Relative paths in the configuration are taken relative to
/// the configuration file too.
///
/// ```
/// use std::path::Path;
/// use provisioning_examples::provision::connect::ownership_path;
///
/// let config = Path::new("/etc/sync/prod.toml");
/// assert_eq!(ownership_path(config, None), Path::new("/etc/sync/prod.ownership.jsonl"));
/// assert_eq!(ownership_path(config, Some(Path::new("state/own.jsonl"))), Path::new("/etc/sync/state/own.jsonl"));
/// ```
pub fn ownership_path(config_path: &Path, configured: Option<&Path>) -> PathBuf {
    let dir = config_path.parent().unwrap_or(Path::new(""));
    match configured {
        Some(path) => dir.join(path),
        None => {
            let stem = config_path
                .file_stem()
                .map_or_else(|| "provision".into(), |s| s.to_string_lossy());
            dir.join(format!("{stem}.ownership.jsonl"))
        }
    }
}

/// The AWS settings of the `[aws]` table.
pub fn aws_settings(aws: &AwsConfig) -> AwsSettings {
    let mut settings = AwsSettings::default();
    settings.region.clone_from(&aws.region);
    settings.profile.clone_from(&aws.profile);
    settings.endpoint_url.clone_from(&aws.endpoint_url);
    settings
}

/// Connects the configured source and target, opening the target's ownership record as
/// `access` says (for a run: locked, created when missing). `config_path` locates relative
/// paths.
///
/// # Errors
///
/// When a secret cannot be resolved, a client cannot be built, the identity store cannot
/// be found, or the ownership record cannot be opened (for a run: another run holds its
/// lock); each message names the part of the configuration at fault. Nothing is read from the directories yet.
pub async fn connect(
    config: &Config,
    config_path: &Path,
    access: RecordAccess,
) -> Result<Connected> {
    let needs_aws = matches!(config.target, TargetConfig::IdentityStore(_)) || config.uses_ssm();
    let aws = if needs_aws {
        Some(aws_access::config::load(&aws_settings(&config.aws)).await)
    } else {
        None
    };
    let ssm = aws.as_ref().map(SdkParameters::new);
    let ssm = ssm.as_ref().map(|p| p as &dyn Parameters);

    let mut policy = config.policy.clone();
    let mut jumpcloud = None;
    let (source, source_label): (Box<dyn Source>, String) = match &config.source {
        SourceConfig::Jumpcloud(jc) => {
            let key = secret(&jc.api_key, ssm, "source.jumpcloud.api_key").await?;
            let mut builder = jumpcloud_api::Client::builder().api_key(key);
            if let Some(org) = &jc.org_id {
                builder = builder.org_id(OrgId(org.clone()));
            }
            if let Some(url) = &jc.base_url {
                builder = builder.base_url(url);
            }
            let client = builder
                .build()
                .context("configuring the JumpCloud client (source.jumpcloud)")?;
            let label = match (&jc.application, &jc.groups) {
                (Some(app), _) => format!("JumpCloud, groups bound to application {app:?}"),
                (None, groups) => {
                    format!("JumpCloud, groups {:?}", groups.as_deref().unwrap_or(&[]))
                }
            };
            if config.issuer() == Issuer::JumpCloudOrganization {
                policy.issuer = jumpcloud_issuer(&client).await?;
            }
            jumpcloud = Some(client.clone());
            (Box::new(JumpCloudSource::new(client)), label)
        }
        SourceConfig::Okta(okta) => {
            let token = secret(&okta.token, ssm, "source.okta.token").await?;
            let source = OktaSource::builder(okta.org_url.clone(), token)
                .build()
                .context("configuring the Okta source (source.okta)")?;
            (
                Box::new(source),
                format!("Okta {}, groups {:?}", okta.org_url, okta.groups),
            )
        }
    };

    let (target, target_label): (Box<dyn Target>, String) = match &config.target {
        TargetConfig::IdentityStore(store) => {
            let aws = aws.as_ref().context("AWS configuration was not loaded")?;
            let wanted = store
                .identity_store_id
                .clone()
                .map_or(IdentityStoreRef::Discover, IdentityStoreRef::Given);
            let store_id = aws_access::config::resolve_identity_store(aws, &wanted)
                .await
                .context("finding the identity store (target.identity_store.identity_store_id)")?;
            let record = open_record(
                config_path,
                store.ownership_file.as_deref(),
                "target.identity_store.ownership_file",
                access,
            )
            .await?;
            let mut target =
                IdentityStoreTarget::new(Arc::new(SdkIdentityStore::new(aws, &store_id)), record);
            if store.external_id_marks {
                target = target.with_external_id_marks(policy.issuer.clone());
            }
            (Box::new(target), format!("Identity Store {store_id}"))
        }
        TargetConfig::Scim(scim) => {
            let token = secret(&scim.token, ssm, "target.scim.token").await?;
            let base = scim.base_url.trim_end_matches('/');
            let mut builder = ScimClient::builder(base, token);
            if let Some(rate) = scim.profile.rate_limit() {
                builder = builder.rate_limit(rate);
            }
            let client = builder
                .build()
                .context("configuring the SCIM client (target.scim)")?;
            // Every profile: the members adopted groups keep must outlive the run, or the
            // next one would remove people the tool never added. (The marks go to the
            // record only where the profile does not store externalId.)
            let record = open_record(
                config_path,
                scim.ownership_file.as_deref(),
                "target.scim.ownership_file",
                access,
            )
            .await?;
            let target = ScimTarget::new(client, scim.profile).with_ownership(record);
            (
                Box::new(target),
                format!("SCIM {base} ({} profile)", scim.profile.name()),
            )
        }
    };

    Ok(Connected {
        source,
        scope: config.scope(),
        target,
        source_label,
        target_label,
        jumpcloud,
        policy,
        issuer_derived: !matches!(config.issuer(), Issuer::Configured(_)),
    })
}

/// The default issuer of a JumpCloud source configured without `org_id`:
/// `jumpcloud:<id>` of the one organisation the API key reaches (v1 `GET /api/organizations`,
/// one call). An administrator's key belongs to one organisation; a multi-tenant (MSP) key
/// lists several, and then `org_id` must say which one is synced.
///
/// The organisation id is JumpCloud's own, stable name for the directory; it is never
/// derived from the key (a rotated key would orphan every object) or from the base URL
/// (every organisation shares `console.jumpcloud.com`).
///
/// # Errors
///
/// When JumpCloud cannot be asked, or the key reaches no organisation or several; the
/// message says to set `source.jumpcloud.org_id` or `policy.issuer`.
///
/// ```no_run
/// # async fn demo(jc: jumpcloud_api::Client) -> anyhow::Result<()> {
/// let issuer = provisioning_examples::provision::connect::jumpcloud_issuer(&jc).await?;
/// assert!(issuer.starts_with("jumpcloud:"));
/// # Ok(()) }
/// ```
pub async fn jumpcloud_issuer(client: &jumpcloud_api::Client) -> Result<String> {
    let orgs = client.organizations().list().all().await.context(
        "asking JumpCloud which organisation the API key belongs to, for the default \
         ownership issuer (GET /api/organizations); set `source.jumpcloud.org_id` or \
         `policy.issuer` to skip this",
    )?;
    match orgs.as_slice() {
        [org] if !org.id.as_str().is_empty() => Ok(format!("jumpcloud:{}", org.id)),
        [] | [_] => anyhow::bail!(
            "JumpCloud lists no organisation for this API key, so the default ownership issuer \
             cannot name it; set `source.jumpcloud.org_id` (or `policy.issuer`)"
        ),
        many => anyhow::bail!(
            "the JumpCloud API key reaches {} organisations (a multi-tenant key); set \
             `source.jumpcloud.org_id` to the one to sync",
            many.len()
        ),
    }
}

async fn open_record(
    config_path: &Path,
    configured: Option<&Path>,
    field: &str,
    access: RecordAccess,
) -> Result<OwnershipRecord> {
    let path = ownership_path(config_path, configured);
    let opened = match access {
        RecordAccess::ReadOnly => OwnershipRecord::open_read_only(&path),
        RecordAccess::Run { wait } => match OwnershipRecord::open(&path) {
            Err(err) if wait && err.class() == ErrorClass::Conflict => {
                eprintln!("{err}: waiting for it to end (--wait-lock)");
                // The wait blocks on the lock: off the async runtime.
                let waiting = path.clone();
                tokio::task::spawn_blocking(move || OwnershipRecord::open_waiting(&waiting))
                    .await
                    .context("waiting for the ownership record's lock")?
            }
            Err(err) if err.class() == ErrorClass::Conflict => {
                return Err(anyhow::Error::new(err)).with_context(|| {
                    format!(
                        "another `provision apply` is running on this ownership record ({field}); \
                         wait for it, or pass --wait-lock to wait"
                    )
                });
            }
            opened => opened,
        },
    };
    opened.with_context(|| format!("opening the ownership record {} ({field})", path.display()))
}

async fn secret(
    reference: &SecretRef,
    ssm: Option<&dyn Parameters>,
    field: &str,
) -> Result<secrecy::SecretString> {
    reference
        .resolve(ssm)
        .await
        .with_context(|| format!("reading the secret of `{field}`"))
}
