//! Importing an application's users into JumpCloud (seed workflow 002, "Importing Users").
//!
//! An application that was in use before JumpCloud managed it holds users JumpCloud does
//! not know. [`JumpCloudImport::preview`] reads the application's users (any
//! [`TargetReader`]: a SCIM application, the Identity Store) and JumpCloud's, and lists each
//! application user as **New** (missing from JumpCloud) or **Imported** (a JumpCloud user
//! with the same userName or email exists). [`JumpCloudImport::import`] creates the New
//! ones through JumpCloud bulk jobs (800 users per job), waits for the jobs, reports every
//! user that failed, and — since only users of a group bound to the application are
//! managed — adds the imported users to a group that must be bound to the application.
//!
//! ```no_run
//! # async fn run(scim: provisioning_core::connectors::scim::ScimTarget) -> Result<(), Box<dyn std::error::Error>> {
//! use provisioning_core::connectors::jumpcloud_import::{ImportOptions, JumpCloudImport};
//!
//! let import = JumpCloudImport::new(jumpcloud_api::Client::from_env()?);
//! let candidates = import.preview(&scim).await?;
//! let options = ImportOptions::into_group("Pulumi", "Pulumi users");
//! let report = import.import(&candidates, &options).await?;
//! println!("{} created, {} failed", report.created.len(), report.failed.len());
//! # Ok(()) }
//! ```

use std::collections::HashMap;

use jumpcloud_api::bulk::WaitOptions;
use jumpcloud_api::ids::{GroupId, UserId};
use jumpcloud_api::models::NewSystemUser;
use jumpcloud_api::v2::AssociationTarget;
use serde::Serialize;

use crate::connector::{ConnectorError, ErrorClass, TargetReader};
use crate::connectors::jumpcloud::{JumpCloudSource, class};
use crate::model::User;
use crate::util::fold;

/// Whether an application user is known to JumpCloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Missing from JumpCloud: an import creates it.
    New,
    /// A JumpCloud user with the same userName or email exists.
    Imported,
}

/// One application user and its import status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportCandidate {
    /// The user as the application holds it.
    pub user: User,
    /// New or Imported.
    pub status: ImportStatus,
    /// The JumpCloud user's id, when Imported.
    pub jumpcloud_id: Option<String>,
}

/// What [`JumpCloudImport::import`] does besides creating users.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ImportOptions {
    /// The JumpCloud application (id or label) the users are imported for.
    pub application: String,
    /// A user group bound to that application that every imported user joins.
    pub group: String,
    /// How long to wait for the bulk jobs.
    pub wait: WaitOptions,
}

impl ImportOptions {
    /// Import for `application` (id or label), adding the users to `group` (by name), which
    /// must be bound to it.
    ///
    /// ```
    /// let options = provisioning_core::connectors::jumpcloud_import::ImportOptions::into_group("Pulumi", "Pulumi users");
    /// assert_eq!(options.group, "Pulumi users");
    /// ```
    pub fn into_group(application: impl Into<String>, group: impl Into<String>) -> Self {
        Self {
            application: application.into(),
            group: group.into(),
            wait: WaitOptions::default(),
        }
    }
}

/// What an import did, user by user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ImportReport {
    /// Users created in JumpCloud: (userName, JumpCloud id).
    pub created: Vec<(String, String)>,
    /// Users that could not be created, or not added to the group: (userName, why).
    pub failed: Vec<(String, String)>,
    /// Users added to the group (created ones and Imported ones that were not members).
    pub added_to_group: Vec<String>,
}

/// The import workflow. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct JumpCloudImport {
    client: jumpcloud_api::Client,
}

impl JumpCloudImport {
    /// An import into the JumpCloud organisation of `client`.
    ///
    /// ```no_run
    /// # fn run() -> jumpcloud_api::Result<()> {
    /// let import = provisioning_core::connectors::jumpcloud_import::JumpCloudImport::new(jumpcloud_api::Client::from_env()?);
    /// # let _ = import;
    /// # Ok(()) }
    /// ```
    pub fn new(client: jumpcloud_api::Client) -> Self {
        Self { client }
    }

    /// Lists the application's users as New or Imported, sorted by userName. Reads only.
    ///
    /// # Errors
    ///
    /// A failed read of the application or of JumpCloud.
    pub async fn preview(
        &self,
        application: &dyn TargetReader,
    ) -> Result<Vec<ImportCandidate>, ConnectorError> {
        let app_users = application.read().await?.users;
        let known = self
            .client
            .users()
            .list()
            .all()
            .await
            .map_err(class("listing users"))?;
        let mut by_key: HashMap<String, String> = HashMap::new();
        for user in &known {
            by_key.insert(fold(&user.username), user.id.to_string());
            if let Some(email) = user.email.as_deref().filter(|e| !e.is_empty()) {
                by_key
                    .entry(fold(email))
                    .or_insert_with(|| user.id.to_string());
            }
        }
        let mut candidates: Vec<ImportCandidate> = app_users
            .into_iter()
            .map(|user| {
                let found = std::iter::once(user.user_name.as_str())
                    .chain(user.primary_email())
                    .find_map(|key| by_key.get(&fold(key)).cloned());
                ImportCandidate {
                    status: if found.is_some() {
                        ImportStatus::Imported
                    } else {
                        ImportStatus::New
                    },
                    jumpcloud_id: found,
                    user,
                }
            })
            .collect();
        candidates.sort_by(|a, b| a.user.user_name.cmp(&b.user.user_name));
        Ok(candidates)
    }

    /// Creates the New candidates in JumpCloud and adds every candidate to the options'
    /// group. Failures are reported user by user; the import goes on past them.
    ///
    /// # Errors
    ///
    /// Before anything is written: the application or the group cannot be found, or the
    /// group is not bound to the application (imported users would not be managed). After:
    /// a bulk job that could not be started or waited for.
    pub async fn import(
        &self,
        candidates: &[ImportCandidate],
        options: &ImportOptions,
    ) -> Result<ImportReport, ConnectorError> {
        let group = self.bound_group(options).await?;
        let mut report = ImportReport::default();

        let mut to_create = Vec::new();
        for c in candidates.iter().filter(|c| c.status == ImportStatus::New) {
            match c.user.primary_email() {
                Some(email) => {
                    let mut new = NewSystemUser::new(&c.user.user_name, email);
                    new.firstname = c.user.given_name.clone();
                    new.lastname = c.user.family_name.clone();
                    new.displayname = c.user.display_name.clone();
                    to_create.push(new);
                }
                None => report.failed.push((
                    c.user.user_name.clone(),
                    "no email, which JumpCloud requires; set one in the application".into(),
                )),
            }
        }
        let mut members: Vec<(String, UserId)> = candidates
            .iter()
            .filter_map(|c| Some((c.user.user_name.clone(), UserId(c.jumpcloud_id.clone()?))))
            .collect();
        if !to_create.is_empty() {
            let jobs = self
                .client
                .bulk()
                .create_users(&to_create)
                .await
                .map_err(class("starting the bulk user creation"))?;
            let outcome = jobs
                .wait(&options.wait)
                .await
                .map_err(class("waiting for the bulk user creation"))?;
            for created in outcome.created {
                report
                    .created
                    .push((created.username.clone(), created.id.to_string()));
                members.push((created.username, created.id));
            }
            for failed in outcome.failed {
                let name = failed
                    .username
                    .unwrap_or_else(|| format!("(job {})", failed.job_id));
                report
                    .failed
                    .push((name, format!("{}: {}", failed.status, failed.message)));
            }
        }

        let current: Vec<String> = self
            .client
            .user_groups()
            .members(&group)
            .all()
            .await
            .map_err(class("listing the group's members"))?
            .into_iter()
            .map(|edge| edge.to.id)
            .collect();
        for (name, id) in members {
            if current.contains(&id.0) {
                continue;
            }
            match self.client.user_groups().add_member(&group, &id).await {
                Ok(_) => report.added_to_group.push(name),
                Err(err) => report
                    .failed
                    .push((name, format!("not added to the group: {err}"))),
            }
        }
        Ok(report)
    }

    /// The options' group, checked to be bound to the options' application.
    async fn bound_group(&self, options: &ImportOptions) -> Result<GroupId, ConnectorError> {
        let app = JumpCloudSource::new(self.client.clone())
            .application(&options.application)
            .await?;
        let group = self
            .client
            .user_groups()
            .find_by_name(&options.group)
            .await
            .map_err(class("looking up the import group"))?
            .ok_or_else(|| {
                ConnectorError::new(
                    ErrorClass::Invalid,
                    format!("no JumpCloud user group is named {:?}", options.group),
                )
            })?;
        let bound = self
            .client
            .applications()
            .is_associated(&app, AssociationTarget::UserGroup, group.id.as_str())
            .await
            .map_err(class("checking the group's binding to the application"))?;
        if !bound {
            return Err(ConnectorError::new(
                ErrorClass::Invalid,
                format!(
                    "the group {:?} is not bound to the application {:?}, so imported users \
                     would not be managed; bind it first (nothing was imported)",
                    options.group, options.application
                ),
            ));
        }
        Ok(group.id)
    }
}
