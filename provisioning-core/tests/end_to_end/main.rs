//! End to end, against the test peers `scripts/test-all` starts: the fake JumpCloud (over
//! HTTP, through the real client) and a wiremock Okta as sources; moto's Identity Store and
//! scim2-server (with the `aws-identity-center` and `pulumi` profiles) as targets; and the
//! JumpCloud import from a SCIM application.
//!
//! Every scenario checks what a user relies on: the first sync creates exactly the expected
//! users, groups and memberships; a second plan is empty; a dry run writes nothing; removing
//! a user or a group at the source deprovisions per policy; a group leaving the application
//! follows seed 002's rule.

mod common;
mod descriptions;
mod jumpcloud_to_identity_store;
mod jumpcloud_to_scim;
mod lookups;
mod okta_to_identity_store;
mod paced_identity_store;
mod scim_to_jumpcloud_import;
