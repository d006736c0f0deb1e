//! A declarative plan/apply engine that keeps users, groups and memberships in a target
//! directory in line with a source directory.
//!
//! # Purpose
//!
//! `terraform plan` / `apply` for identities: read what a source (JumpCloud, Okta) says
//! should exist, read what a target (the AWS Identity Store API, a SCIM 2.0 application
//! such as Pulumi or the AWS SCIM endpoint) holds, compute the exact, minimal set of changes
//! with a reason for each, show it, and apply it safely with the fewest API calls. A second
//! plan after an apply is empty.
//!
//! # Design
//!
//! Two layers live in this crate:
//!
//! - the **engine** — model, a pure `plan(source, target, policy) -> Plan` function, `apply`,
//!   provisioning rules, attribute mapping, safety guards and reports. It names no HTTP or
//!   AWS type, so it is tested entirely in memory;
//! - the **connectors** — the only bridge to the client crates (`jumpcloud-api`,
//!   `aws-access`, a SCIM client): each implements the engine's object-safe `Source` /
//!   `Target` traits, so a command can pick them from configuration.
//!
//! Anything that writes is safe by default: a dry run never reaches a write call; every loss
//! of access (a deactivation, a deletion, a removed membership) is counted in the plan and
//! passes the access guard (overall and per group), deactivations and deletions also need an
//! explicit opt-in; an empty or failed source read aborts the run; only objects the engine
//! owns or has adopted are ever changed, and excluded or skipped ones never; a tripped guard
//! is passed only by applying a reviewed [saved plan](saved) whose two sides have not moved.
//!
//! # Features
//!
//! - `peer-tests`: compiles the tests that run against a live scim2-server (an independent
//!   SCIM 2.0 implementation). `scripts/test-all` starts it and turns this on.

#[doc = include_str!("../../docs/provisioning-core.md")]
pub mod guide {}

pub mod apply;
pub mod connector;
pub mod connectors;
pub mod mapping;
pub mod memory;
pub mod model;
pub mod plan;
pub mod policy;
pub mod report;
pub mod saved;
pub mod sync;
mod util;
