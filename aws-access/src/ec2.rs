//! EC2 permission probes: does a policy allow launching, describing and terminating
//! instances?
//!
//! Seed workflow 000 verified a policy by launching a real instance, picking one by its
//! position in a list, and trying to terminate it. [`Ec2Access::probe`] answers the same
//! question at no cost with `DryRun`: `DryRunOperation` means allowed;
//! `UnauthorizedOperation` (or `AccessDenied`) means denied, with AWS's encoded
//! authorization message kept for `aws sts decode-authorization-message`.
//! [`Ec2Access::live`] reproduces the seed for real when asked: it launches one instance,
//! describes it **by the id it got**, tries to terminate it, and always cleans up what it
//! launched (reporting it when it cannot).
//!
//! Caveat: DryRun calls are recorded in CloudTrail as failed calls (`DryRunOperation`,
//! `UnauthorizedOperation`); tell whoever watches those alarms before probing.
//!
//! ```no_run
//! # async fn run() -> aws_access::Result<()> {
//! use aws_access::config::{AwsSettings, load};
//! use aws_access::ec2::{Ec2Access, ProbeSpec, SdkEc2};
//!
//! let ec2 = SdkEc2::new(&load(&AwsSettings::default()).await);
//! let report = ec2.probe(&ProbeSpec::new("ami-0123456789abcdef0", "t2.micro")).await;
//! println!("run: {:?}, terminate: {:?}", report.run_instances, report.terminate_instances);
//! # Ok(()) }
//! ```

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::InstanceType;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The instance id a terminate probe names when the caller gives none (DryRun checks the
/// permission before the instance).
pub const PLACEHOLDER_INSTANCE_ID: &str = "i-00000000000000000";

/// What a probe asks about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProbeSpec {
    /// The AMI to launch.
    pub image_id: String,
    /// The instance type, such as `t2.micro`.
    pub instance_type: String,
    /// The instance DescribeInstances and TerminateInstances name in a dry run.
    pub instance_id: Option<String>,
}

impl ProbeSpec {
    /// Probes for launching `image_id` as `instance_type`.
    ///
    /// ```
    /// let spec = aws_access::ec2::ProbeSpec::new("ami-1", "t2.micro");
    /// assert!(spec.instance_id.is_none());
    /// ```
    pub fn new(image_id: impl Into<String>, instance_type: impl Into<String>) -> Self {
        Self {
            image_id: image_id.into(),
            instance_type: instance_type.into(),
            instance_id: None,
        }
    }
}

/// The outcome of one probed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Permitted (`DryRunOperation`, or the live call succeeded).
    Allowed,
    /// Not permitted.
    Denied {
        /// `UnauthorizedOperation` or `AccessDenied`.
        code: String,
        /// AWS's encoded authorization failure message, when present.
        encoded_message: Option<String>,
    },
    /// Neither: the call failed for another reason.
    Error {
        /// The error code, when there is one.
        code: Option<String>,
        /// What failed.
        message: String,
    },
}

/// The dry-run verdicts of the three calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// `RunInstances`.
    pub run_instances: Outcome,
    /// `DescribeInstances`.
    pub describe_instances: Outcome,
    /// `TerminateInstances`.
    pub terminate_instances: Outcome,
}

/// What a live run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveReport {
    /// Launching one instance.
    pub launch: Outcome,
    /// The id it got, when it launched.
    pub instance_id: Option<String>,
    /// Describing it by that id.
    pub describe: Outcome,
    /// Its state as described.
    pub state: Option<String>,
    /// Terminating it (the call under test).
    pub terminate: Outcome,
    /// Whether nothing the run launched is left running. `false` means: terminate
    /// `instance_id` by hand.
    pub cleaned_up: bool,
}

/// The EC2 facade. See the [module documentation](self).
#[async_trait]
pub trait Ec2Access: Send + Sync {
    /// Dry-run probes of RunInstances, DescribeInstances and TerminateInstances.
    async fn probe(&self, spec: &ProbeSpec) -> ProbeReport;

    /// Launches one instance, describes it, tries to terminate it, and cleans up.
    ///
    /// # Errors
    ///
    /// Only when the launch response lacks the instance id; every call's outcome is
    /// otherwise in the report.
    async fn live(&self, spec: &ProbeSpec) -> Result<LiveReport>;
}

/// Classifies a failed call: DryRunOperation is the "allowed" answer of a dry run.
pub fn classify(err: &Error) -> Outcome {
    match err.code() {
        Some("DryRunOperation") => Outcome::Allowed,
        _ if err.is_access_denied() => {
            let message = match err {
                Error::Service(s) => s.message.clone(),
                _ => None,
            };
            Outcome::Denied {
                code: err.code().unwrap_or("AccessDenied").to_owned(),
                encoded_message: message.as_deref().and_then(encoded_message),
            }
        }
        code => Outcome::Error {
            code: code.map(str::to_owned),
            message: err.to_string(),
        },
    }
}

/// The encoded part of an `UnauthorizedOperation` message.
///
/// ```
/// let msg = "You are not authorized to perform this operation. Encoded authorization failure message: AbC-123";
/// assert_eq!(aws_access::ec2::encoded_message(msg).as_deref(), Some("AbC-123"));
/// ```
pub fn encoded_message(message: &str) -> Option<String> {
    const MARK: &str = "Encoded authorization failure message:";
    message
        .find(MARK)
        .map(|i| message[i + MARK.len()..].trim().to_owned())
        .filter(|m| !m.is_empty())
}

/// EC2 on the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkEc2 {
    client: Client,
}

impl SdkEc2 {
    /// A client from the configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }

    async fn run(&self, spec: &ProbeSpec, dry_run: bool) -> Result<Option<String>> {
        let out = self
            .client
            .run_instances()
            .image_id(&spec.image_id)
            .instance_type(InstanceType::from(spec.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .dry_run(dry_run)
            .send()
            .await
            .map_err(|e| Error::sdk("RunInstances", e))?;
        Ok(out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .map(str::to_owned))
    }

    async fn describe(&self, id: &str, dry_run: bool) -> Result<Option<String>> {
        let out = self
            .client
            .describe_instances()
            .instance_ids(id)
            .dry_run(dry_run)
            .send()
            .await
            .map_err(|e| Error::sdk("DescribeInstances", e))?;
        Ok(out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(id))
            .and_then(|i| i.state())
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_owned()))
    }

    async fn terminate(&self, id: &str, dry_run: bool) -> Result<()> {
        self.client
            .terminate_instances()
            .instance_ids(id)
            .dry_run(dry_run)
            .send()
            .await
            .map_err(|e| Error::sdk("TerminateInstances", e))?;
        Ok(())
    }
}

fn outcome<T>(result: &Result<T>) -> Outcome {
    match result {
        Ok(_) => Outcome::Allowed,
        Err(err) => classify(err),
    }
}

#[async_trait]
impl Ec2Access for SdkEc2 {
    async fn probe(&self, spec: &ProbeSpec) -> ProbeReport {
        let id = spec
            .instance_id
            .as_deref()
            .unwrap_or(PLACEHOLDER_INSTANCE_ID);
        ProbeReport {
            run_instances: outcome(&self.run(spec, true).await),
            describe_instances: outcome(&self.describe(id, true).await),
            terminate_instances: outcome(&self.terminate(id, true).await),
        }
    }

    async fn live(&self, spec: &ProbeSpec) -> Result<LiveReport> {
        let launched = self.run(spec, false).await;
        let launch = outcome(&launched);
        let id = match launched {
            Ok(Some(id)) => id,
            Ok(None) => {
                return Err(Error::missing_field(
                    "RunInstances",
                    "Instances[0].InstanceId",
                ));
            }
            Err(_) => {
                let error = Outcome::Error {
                    code: None,
                    message: "not attempted: the launch failed".into(),
                };
                return Ok(LiveReport {
                    launch,
                    instance_id: None,
                    describe: error.clone(),
                    state: None,
                    terminate: error,
                    cleaned_up: true,
                });
            }
        };
        let described = self.describe(&id, false).await;
        let describe = outcome(&described);
        let state = described.ok().flatten();
        let terminate = outcome(&self.terminate(&id, false).await);
        // The terminate under test may be denied; try once more so nothing is left behind,
        // and say so when that fails too.
        let cleaned_up = terminate == Outcome::Allowed || self.terminate(&id, false).await.is_ok();
        Ok(LiveReport {
            launch,
            instance_id: Some(id),
            describe,
            state,
            terminate,
            cleaned_up,
        })
    }
}
