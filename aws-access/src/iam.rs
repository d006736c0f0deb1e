//! IAM role policies: attach and detach managed policies idempotently within the per-role
//! quota, list them, and explain what a principal may do.
//!
//! Seed workflow 000 attached a policy to the role its SSO users assume, then listed the
//! role's policies to verify. [`RolePolicies::attach`] does both safely: a policy already
//! attached is a success, and a role at its quota (`AttachedPoliciesPerRoleQuota` from
//! `GetAccountSummary`, 10 by default) fails clearly before the call instead of with
//! IAM's `LimitExceeded`.
//!
//! ```no_run
//! # async fn run() -> aws_access::Result<()> {
//! use aws_access::config::{AwsSettings, load};
//! use aws_access::iam::{RolePolicies, SdkRolePolicies};
//!
//! let iam = SdkRolePolicies::new(&load(&AwsSettings::default()).await);
//! let arn = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess";
//! println!("{:?}", iam.attach("AWSReservedSSO_Developers", arn).await?);
//! for policy in iam.attached("AWSReservedSSO_Developers").await? {
//!     println!("{} {}", policy.name, policy.arn);
//! }
//! # Ok(()) }
//! ```

use async_trait::async_trait;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::{PolicyEvaluationDecisionType, SummaryKeyType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The per-role managed policy quota IAM applies when the account summary does not say.
pub const DEFAULT_POLICIES_PER_ROLE: usize = 10;

/// A managed policy attached to a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedPolicy {
    /// The policy's name.
    pub name: String,
    /// The policy's ARN.
    pub arn: String,
}

/// What [`RolePolicies::attach`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachOutcome {
    /// The policy is now attached.
    Attached,
    /// It was attached already; nothing was changed.
    AlreadyAttached,
}

/// What [`RolePolicies::detach`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DetachOutcome {
    /// The policy is no longer attached.
    Detached,
    /// It was not attached; nothing was changed.
    NotAttached,
}

/// The verdict of a policy simulation for one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An Allow statement applies and no Deny does.
    Allowed,
    /// A Deny statement applies.
    ExplicitDeny,
    /// No statement allows it.
    ImplicitDeny,
}

/// The simulated decision for one action (and resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The action, such as `ec2:TerminateInstances`.
    pub action: String,
    /// The resource evaluated, when one was given.
    pub resource: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// The ids of the policies whose statements matched.
    pub matched_policies: Vec<String>,
}

/// The IAM role-policy facade. See the [module documentation](self).
#[async_trait]
pub trait RolePolicies: Send + Sync {
    /// Attaches a managed policy to a role; already attached is a success.
    ///
    /// # Errors
    ///
    /// [`Error::RolePolicyQuota`] when the role is full; the service's error otherwise (a
    /// missing role or policy is not found).
    async fn attach(&self, role: &str, policy_arn: &str) -> Result<AttachOutcome>;

    /// Detaches a managed policy from a role; not attached is a success.
    ///
    /// # Errors
    ///
    /// The service's error (a missing role is not found).
    async fn detach(&self, role: &str, policy_arn: &str) -> Result<DetachOutcome>;

    /// The managed policies attached to a role, every page.
    ///
    /// # Errors
    ///
    /// The service's error.
    async fn attached(&self, role: &str) -> Result<Vec<AttachedPolicy>>;

    /// Explains `SimulatePrincipalPolicy` for `principal_arn`: one decision per action (and
    /// resource, when `resources` is not empty).
    ///
    /// # Errors
    ///
    /// The service's error (moto does not implement the call).
    async fn explain(
        &self,
        principal_arn: &str,
        actions: &[&str],
        resources: &[&str],
    ) -> Result<Vec<Decision>>;
}

/// IAM on the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkRolePolicies {
    client: Client,
}

impl SdkRolePolicies {
    /// A client from the configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self::from_client(Client::new(config))
    }

    /// From a ready SDK client (tests use this with mocks).
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    async fn quota(&self) -> Result<usize> {
        let summary = self
            .client
            .get_account_summary()
            .send()
            .await
            .map_err(|e| Error::sdk("GetAccountSummary", e))?;
        Ok(summary
            .summary_map()
            .and_then(|m| m.get(&SummaryKeyType::AttachedPoliciesPerRoleQuota))
            .and_then(|q| usize::try_from(*q).ok())
            .unwrap_or(DEFAULT_POLICIES_PER_ROLE))
    }
}

#[async_trait]
impl RolePolicies for SdkRolePolicies {
    async fn attach(&self, role: &str, policy_arn: &str) -> Result<AttachOutcome> {
        let attached = self.attached(role).await?;
        if attached.iter().any(|p| p.arn == policy_arn) {
            return Ok(AttachOutcome::AlreadyAttached);
        }
        let quota = self.quota().await?;
        if attached.len() >= quota {
            return Err(Error::RolePolicyQuota {
                role: role.to_owned(),
                attached: attached.len(),
                quota,
            });
        }
        self.client
            .attach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| Error::sdk("AttachRolePolicy", e))?;
        Ok(AttachOutcome::Attached)
    }

    async fn detach(&self, role: &str, policy_arn: &str) -> Result<DetachOutcome> {
        if !self
            .attached(role)
            .await?
            .iter()
            .any(|p| p.arn == policy_arn)
        {
            return Ok(DetachOutcome::NotAttached);
        }
        match self
            .client
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
        {
            Ok(_) => Ok(DetachOutcome::Detached),
            Err(e) => {
                let err = Error::sdk("DetachRolePolicy", e);
                // Detached concurrently between the check and the call.
                if err.is_not_found() {
                    Ok(DetachOutcome::NotAttached)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn attached(&self, role: &str) -> Result<Vec<AttachedPolicy>> {
        let mut policies = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| Error::sdk("ListAttachedRolePolicies", e))?;
            for p in page.attached_policies() {
                let arn = p.policy_arn().ok_or(Error::missing_field(
                    "ListAttachedRolePolicies",
                    "PolicyArn",
                ))?;
                policies.push(AttachedPolicy {
                    name: p.policy_name().unwrap_or_default().to_owned(),
                    arn: arn.to_owned(),
                });
            }
            match page.marker() {
                Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
                _ => return Ok(policies),
            }
        }
    }

    async fn explain(
        &self,
        principal_arn: &str,
        actions: &[&str],
        resources: &[&str],
    ) -> Result<Vec<Decision>> {
        let mut decisions = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .simulate_principal_policy()
                .policy_source_arn(principal_arn)
                .set_action_names(Some(actions.iter().map(|a| (*a).to_owned()).collect()))
                .set_resource_arns(
                    (!resources.is_empty())
                        .then(|| resources.iter().map(|r| (*r).to_owned()).collect()),
                )
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| Error::sdk("SimulatePrincipalPolicy", e))?;
            for result in page.evaluation_results() {
                let verdict = match result.eval_decision() {
                    PolicyEvaluationDecisionType::Allowed => Verdict::Allowed,
                    PolicyEvaluationDecisionType::ExplicitDeny => Verdict::ExplicitDeny,
                    _ => Verdict::ImplicitDeny,
                };
                let mut matched: Vec<String> = result
                    .matched_statements()
                    .iter()
                    .filter_map(|s| s.source_policy_id().map(str::to_owned))
                    .collect();
                matched.dedup();
                decisions.push(Decision {
                    action: result.eval_action_name().to_owned(),
                    resource: result.eval_resource_name().map(str::to_owned),
                    verdict,
                    matched_policies: matched,
                });
            }
            match page.marker() {
                Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
                _ => return Ok(decisions),
            }
        }
    }
}
