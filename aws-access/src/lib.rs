//! Typed, throttle-aware access to the AWS services an identity provisioning tool needs,
//! on the official AWS SDK for Rust.
//!
//! # Purpose
//!
//! Small facades over the SDK clients that the sync engine and the example programs use:
//!
//! - **Identity Store** (IAM Identity Center): users, groups and group memberships, with
//!   results that carry ids and names together, lookups by user name, email or external
//!   id, and one shared client-side rate limiter per Identity Center instance that stays
//!   below AWS's collective 20 requests per second;
//! - **IAM**: attach and detach managed policies on a role idempotently, within the
//!   per-role quota, and explain `SimulatePrincipalPolicy` results;
//! - **EC2 permission probes**: `DryRun` checks that classify `RunInstances`,
//!   `DescribeInstances` and `TerminateInstances` as allowed or denied, at no cost;
//! - **SSM**: read a `SecureString` parameter straight into a `SecretString`.
//!
//! # Design
//!
//! Configuration comes from `aws-config`'s default chain (profiles, environment, SSO,
//! instance metadata) with region and endpoint overrides, which is also how tests point the
//! SDK at a local moto server. Each facade is an object-safe trait with an SDK-backed
//! implementation and an in-memory fake (feature `fake`). Errors keep the SDK error as
//! their source and offer `is_access_denied()`, `is_throttled()`, `is_not_found()` and
//! `is_conflict()`; SDK retries run in adaptive mode (the send rate follows what a throttling
//! service grants), the one retry layer of a request ([`config`]).
//!
//! This crate knows nothing of provisioning: the engine in `provisioning-core` depends on
//! it, never the other way round.
//!
//! # Features
//!
//! - `fake`: in-memory fakes of every facade ([`fake`](crate::fake)), for tests, the sandbox
//!   and benchmarks.
//! - `peer-tests`: compiles the tests that run against a live moto server (Identity Store,
//!   IAM, EC2, SSM). `scripts/test-all` starts moto and turns this on.
//!
//! The guide, with set-up, a least-privilege IAM policy and the probe's caveat, is the
//! [`guide`] module (docs/aws-access.md).

#[doc = include_str!("../../docs/aws-access.md")]
pub mod guide {}

pub mod config;
pub mod error;
pub mod identity_store;

pub use error::{Error, Result};
pub mod ec2;
#[cfg(feature = "fake")]
pub mod fake;
pub mod iam;
pub mod ssm;
