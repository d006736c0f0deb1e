//! Fake JumpCloud → scim2-server, once per target profile. Each test gets its own tenant
//! (its own empty storage) on the profile's server.

use provisioning_core::connectors::scim::client::ScimClient;
use provisioning_core::connectors::scim::{Profile, ScimTarget};
use provisioning_core::policy::Deprovision;
use serde_json::Value;
use test_peers::Peer;

use crate::common::{self, Departed, ODD_NAME};

fn target(peer: Peer, profile: Profile, test: &str) -> (ScimTarget, String) {
    let base = test_peers::scim_tenant(peer, test);
    (target_at(&base, profile), base)
}

/// A target of `profile` at `base`, paced as the profile says.
fn target_at(base: &str, profile: Profile) -> ScimTarget {
    let mut client = ScimClient::builder(base, test_peers::scim_token().into());
    if let Some(rate) = profile.rate_limit() {
        client = client.rate_limit(rate);
    }
    ScimTarget::new(client.build().unwrap(), profile)
}

fn pulumi(test: &str) -> (ScimTarget, String) {
    target(Peer::ScimPulumi, Profile::Pulumi, test)
}

fn aws(test: &str) -> (ScimTarget, String) {
    target(
        Peer::ScimAwsIdentityCenter,
        Profile::AwsIdentityCenter,
        test,
    )
}

/// The users as the server stores them, read without our client.
async fn raw_users(base: &str) -> Vec<Value> {
    let body: Value = reqwest::Client::new()
        .get(format!("{base}/Users"))
        .bearer_auth(test_peers::scim_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["Resources"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn pulumi_first_sync_converges_and_a_dry_run_writes_nothing() {
    let demo = common::demo().await;
    let (target, base) = pulumi("pulumi-first-sync");
    common::first_sync_converges_and_a_dry_run_writes_nothing(&demo, &target).await;
    // Pulumi stores no externalId: ownership lives in the connector's record, and nothing
    // but Pulumi's six attributes was sent (the server refuses anything else).
    let users = raw_users(&base).await;
    assert_eq!(users.len(), 4);
    assert!(
        users.iter().all(|u| u.get("externalId").is_none()),
        "{users:#?}"
    );
    let darcy = users.iter().find(|u| u["userName"] == ODD_NAME).unwrap();
    assert_eq!(darcy["emails"][0]["value"], "darcy+ops@example.com");
    assert_eq!(darcy["emails"][0]["primary"], true);
}

#[tokio::test]
async fn pulumi_deprovisioning_deactivates_even_when_the_policy_deletes() {
    let demo = common::demo().await;
    let (target, _) = pulumi("pulumi-removals");
    let policy = common::deprovisioning(Deprovision::Delete);
    common::removals_deprovision_per_policy(&demo, &target, &policy, Departed::Inactive).await;
}

#[tokio::test]
async fn pulumi_a_disassociated_group_is_left_as_is() {
    let demo = common::demo().await;
    let (target, _) = pulumi("pulumi-disassociated");
    let policy = common::deprovisioning(Deprovision::Deactivate);
    common::a_disassociated_group_is_left_as_is(&demo, &target, &policy, Departed::Inactive).await;
}

#[tokio::test]
async fn aws_identity_center_first_sync_converges_and_a_dry_run_writes_nothing() {
    let demo = common::demo().await;
    let (target, base) = aws("aws-first-sync");
    common::first_sync_converges_and_a_dry_run_writes_nothing(&demo, &target).await;
    // The ownership mark travels in externalId; names are complete; one primary email.
    let users = raw_users(&base).await;
    assert_eq!(users.len(), 4);
    for user in &users {
        let mark = user["externalId"].as_str().unwrap_or_default();
        assert!(mark.starts_with("identity-provisioning:"), "{user:#?}");
        assert!(user["name"]["givenName"].is_string() && user["name"]["familyName"].is_string());
        assert_eq!(user["emails"].as_array().map(Vec::len), Some(1));
        assert!(
            user.get("groups")
                .is_none_or(|g| g.as_array().is_some_and(Vec::is_empty))
        );
    }
}

#[tokio::test]
async fn aws_identity_center_deletes_departed_users_when_the_policy_says_so() {
    let demo = common::demo().await;
    let (target, _) = aws("aws-removals");
    let policy = common::deprovisioning(Deprovision::Delete);
    common::removals_deprovision_per_policy(&demo, &target, &policy, Departed::Gone).await;
}

#[tokio::test]
async fn aws_identity_center_a_disassociated_group_is_left_as_is() {
    let demo = common::demo().await;
    let (target, _) = aws("aws-disassociated");
    let policy = common::deprovisioning(Deprovision::Deactivate);
    common::a_disassociated_group_is_left_as_is(&demo, &target, &policy, Departed::Inactive).await;
}

/// The writes among the requests a pacing proxy counted ("METHOD /path"), by method and
/// resource type (`POST Users`, `PATCH Groups`), tenant and ids left out.
fn writes_by_resource(
    counted: &std::collections::BTreeMap<String, u64>,
) -> std::collections::BTreeMap<String, u64> {
    let mut writes = std::collections::BTreeMap::new();
    for (request, n) in counted {
        let Some((method, path)) = request.split_once(' ') else {
            continue;
        };
        if method == "GET" {
            continue;
        }
        let resource = path
            .split('/')
            .find(|s| *s == "Users" || *s == "Groups")
            .unwrap_or(path);
        *writes.entry(format!("{method} {resource}")).or_default() += n;
    }
    writes
}

/// Syncs `demo` into `target` (converging, as [`common::sync`] checks) and asserts that the
/// write requests `proxy` forwarded number the planned changes; returns them by resource.
async fn sync_counting_writes(
    demo: &common::Demo,
    target: &ScimTarget,
    proxy: &test_peers::pacing::PacingProxy,
) -> std::collections::BTreeMap<String, u64> {
    let plan = common::sync(demo, target, &provisioning_core::policy::Policy::default()).await;
    let writes = writes_by_resource(&proxy.forwarded());
    let sent: u64 = writes.values().sum();
    assert_eq!(
        sent,
        plan.changes.len() as u64,
        "{writes:?} for {:#?}",
        plan.changes
    );
    writes
}

#[tokio::test]
async fn aws_profile_writes_are_one_request_per_change_at_the_wire() {
    // scim2-server with IAM Identity Center's profile, behind a counting proxy: the requests
    // the real SCIM client sent, counted on the wire.
    let demo = common::demo().await;
    let peer = Peer::ScimAwsIdentityCenter;
    let proxy = test_peers::pacing::PacingProxy::start(
        &peer.url(),
        test_peers::pacing::Pacing::unlimited(),
    )
    .await
    .unwrap();
    let base =
        test_peers::scim_tenant(peer, "aws-wire-count").replacen(&peer.url(), &proxy.url(), 1);
    let target = target_at(&base, Profile::AwsIdentityCenter);

    let writes = sync_counting_writes(&demo, &target, &proxy).await;
    assert_eq!(writes.get("POST Users"), Some(&4), "{writes:?}");
    assert_eq!(writes.get("POST Groups"), Some(&2), "{writes:?}");

    // A leaver from one group and a joiner into it: one PATCH each way at most, and a
    // POST for the joiner.
    proxy.reset_counts();
    demo.fake.remove_member(&demo.engineering, &demo.ada);
    let eve = demo.fake.add_user(
        jumpcloud_api::models::NewSystemUser::new("eve", "eve@example.com").names("Eve", "Joiner"),
    );
    demo.fake.add_member(&demo.engineering, &eve);
    let writes = sync_counting_writes(&demo, &target, &proxy).await;
    assert_eq!(writes.get("POST Users"), Some(&1), "{writes:?}");
}
