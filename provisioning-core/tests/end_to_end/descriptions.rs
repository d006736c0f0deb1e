//! Group descriptions, end to end. The Identity Store refuses an empty `Description`
//! (length 1–1,024) while moto accepts one, so what the target sends is read back from moto
//! through the AWS SDK itself. And a source whose groups have descriptions must converge at
//! every SCIM profile.

use std::num::NonZeroU32;
use std::sync::Arc;

use aws_access::identity_store::{IdentityStore, OnConflict, SdkIdentityStore};
use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::models::NewSystemUser;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::{Target, TargetReader};
use provisioning_core::connectors::identity_store::{IdentityStoreTarget, MAX_GROUP_DESCRIPTION};
use provisioning_core::connectors::jumpcloud::JumpCloudSource;
use provisioning_core::connectors::ownership::OwnershipRecord;
use provisioning_core::connectors::scim::client::ScimClient;
use provisioning_core::connectors::scim::{Profile, ScimTarget};
use provisioning_core::model::{Group, Scope};
use provisioning_core::plan::Operation;
use provisioning_core::policy::Policy;
use provisioning_core::report::render_plan;
use provisioning_core::sync::plan_sync;
use test_peers::Peer;

use crate::common;

/// A fresh identity store on moto: the SDK client (to read what moto stored), its id, and
/// the target over it.
async fn moto() -> (aws_sdk_identitystore::Client, String, Arc<SdkIdentityStore>) {
    let config = test_peers::moto_sdk_config().await;
    let client = aws_sdk_identitystore::Client::new(&config);
    let store_id = format!("d-{:010x}", fastrand::u64(..) % 0xff_ffff_ffff);
    let store = SdkIdentityStore::from_client(
        client.clone(),
        store_id.clone(),
        NonZeroU32::new(200).unwrap(),
    );
    (client, store_id, Arc::new(store))
}

/// Each group's `Description` as moto stores it, by display name.
async fn stored_descriptions(
    client: &aws_sdk_identitystore::Client,
    store_id: &str,
) -> Vec<(String, Option<String>)> {
    let out = client
        .list_groups()
        .identity_store_id(store_id)
        .send()
        .await
        .unwrap();
    let mut groups: Vec<_> = out
        .groups()
        .iter()
        .map(|g| {
            (
                g.display_name().unwrap_or_default().to_owned(),
                g.description().map(str::to_owned),
            )
        })
        .collect();
    groups.sort();
    groups
}

#[tokio::test]
async fn identity_store_groups_without_a_description_are_created_without_one() {
    // The demo's groups have no description: the fake JumpCloud sends "" for them.
    let demo = common::demo().await;
    let (client, store_id, store) = moto().await;
    let target = IdentityStoreTarget::new(store, OwnershipRecord::in_memory());
    common::sync(&demo, &target, &Policy::default()).await;
    assert_eq!(
        stored_descriptions(&client, &store_id).await,
        [
            ("Engineering".to_owned(), None),
            ("Research".to_owned(), None)
        ],
        "no empty Description reached the wire"
    );
}

#[tokio::test]
async fn identity_store_writes_never_send_an_empty_description_and_cut_a_long_one() {
    let (client, store_id, store) = moto().await;
    let bare = store
        .create_group("Bare", None, OnConflict::Fail)
        .await
        .unwrap()
        .value
        .id;
    let target = IdentityStoreTarget::new(store, OwnershipRecord::in_memory());
    let update = |description: Option<String>| {
        let mut group = Group::new("jc-1", "Bare");
        group.description = description;
        Operation::UpdateGroup {
            id: bare.0.clone(),
            group,
            keep_members: Vec::new(),
        }
    };
    // A blank description is none: nothing to send. (moto does not implement UpdateGroup
    // and answers 500 to any, so these succeeding shows that no request was made at all.)
    target.write(&update(Some(String::new()))).await.unwrap();
    target.write(&update(Some("  ".into()))).await.unwrap();
    assert_eq!(
        stored_descriptions(&client, &store_id).await,
        [("Bare".to_owned(), None)]
    );

    // Created with a blank description: created without one; with one longer than the
    // API accepts: cut to fit at a character boundary.
    let long = "é".repeat(MAX_GROUP_DESCRIPTION + 10);
    for (name, description) in [("Blank", String::new()), ("Long", long.clone())] {
        let mut group = Group::new("", name);
        group.description = Some(description);
        target
            .write(&Operation::CreateGroup {
                placeholder: format!("new-{name}"),
                group,
            })
            .await
            .unwrap();
    }
    let stored = stored_descriptions(&client, &store_id).await;
    assert!(stored.contains(&("Blank".to_owned(), None)), "{stored:?}");
    let cut = stored
        .iter()
        .find(|(name, _)| name == "Long")
        .and_then(|(_, d)| d.clone())
        .unwrap();
    assert_eq!(cut.chars().count(), MAX_GROUP_DESCRIPTION);
    assert!(long.starts_with(&cut));
    let read = target.read().await.unwrap();
    let blank = read
        .groups
        .iter()
        .find(|g| g.display_name == "Blank")
        .unwrap();
    assert_eq!(blank.description, None);
}

/// JumpCloud groups WITH descriptions → scim2-server under every profile → apply → the
/// second plan must be empty.
///
/// The SCIM targets hold no group description (`Capabilities::group_descriptions` is off
/// for every profile), so the planner never plans one; before it honoured that, every plan
/// repeated an `update_group` per described group.
async fn described_groups_converge(target: &dyn Target) {
    let fake = FakeJumpCloud::start().await;
    let ada = fake.add_user(NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace"));
    let grace =
        fake.add_user(NewSystemUser::new("grace", "grace@example.com").names("Grace", "Hopper"));
    let eng = fake.add_group_described("Engineering", "Builds the product");
    let research = fake.add_group_described("Research", "Asks the questions");
    fake.add_member(&eng, &ada);
    fake.add_member(&research, &grace);
    let app = fake.add_application("aws", "AWS SSO");
    fake.associate_group(&app, &eng);
    fake.associate_group(&app, &research);

    let source = JumpCloudSource::new(fake.client());
    let scope = Scope::Application("AWS SSO".into());
    let policy = Policy::default();
    let plan = plan_sync(&source, &scope, target, &policy).await.unwrap();
    assert!(plan.abort.is_none(), "{:?}", plan.abort);
    let report = apply(&plan, target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "{report:#?}");
    let again = plan_sync(&source, &scope, target, &policy).await.unwrap();
    assert!(
        again.is_empty(),
        "second plan not empty:\n{}",
        render_plan(&again)
    );
}

fn scim(base: &str, profile: Profile) -> ScimTarget {
    let mut client = ScimClient::builder(base, test_peers::scim_token().into());
    if let Some(rate) = profile.rate_limit() {
        client = client.rate_limit(rate);
    }
    ScimTarget::new(client.build().unwrap(), profile)
}

#[tokio::test]
async fn scim_generic_described_groups_converge() {
    // The plain server's storage is shared by every test; a tenant of its own on the AWS
    // profile's server keeps this one apart, under the generic profile's rules.
    let base = test_peers::scim_tenant(Peer::ScimAwsIdentityCenter, "described-generic");
    described_groups_converge(&scim(&base, Profile::Generic)).await;
}

#[tokio::test]
async fn scim_aws_identity_center_described_groups_converge() {
    let base = test_peers::scim_tenant(Peer::ScimAwsIdentityCenter, "described-aws");
    described_groups_converge(&scim(&base, Profile::AwsIdentityCenter)).await;
}

#[tokio::test]
async fn scim_pulumi_described_groups_converge() {
    let base = test_peers::scim_tenant(Peer::ScimPulumi, "described-pulumi");
    described_groups_converge(&scim(&base, Profile::Pulumi)).await;
}
