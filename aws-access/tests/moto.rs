//! Smoke test of the moto test peer: the Rust AWS SDK, pointed at moto with an endpoint
//! override, creates an Identity Store user and finds it again in ListUsers.

use aws_sdk_identitystore::types::Name;
use test_peers::Peer;

async fn identity_store_client(endpoint: &str) -> aws_sdk_identitystore::Client {
    let credentials =
        aws_credential_types::Credentials::new("testing", "testing", None, None, "moto-test-peer");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .load()
        .await;
    aws_sdk_identitystore::Client::new(&config)
}

/// moto keeps one isolated store per identity store id: a fresh id per run keeps this
/// test independent of every other test that uses the same moto process.
fn fresh_store_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!("d-{:010}", nanos % 10_000_000_000)
}

#[tokio::test]
async fn moto_creates_an_identity_store_user_and_lists_it() {
    let client = identity_store_client(&Peer::Moto.url()).await;
    let store = fresh_store_id();

    let created = client
        .create_user()
        .identity_store_id(&store)
        .user_name("ada.lovelace@example.com")
        .display_name("Ada Lovelace")
        .name(
            Name::builder()
                .given_name("Ada")
                .family_name("Lovelace")
                .build(),
        )
        .send()
        .await
        .expect("moto accepts CreateUser");
    let user_id = created.user_id().to_owned();
    assert!(!user_id.is_empty(), "CreateUser returns the new user's id");

    let mut listed = Vec::new();
    let mut pages = client
        .list_users()
        .identity_store_id(&store)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        listed.extend(page.expect("moto answers ListUsers").users().to_vec());
    }

    assert_eq!(
        listed.len(),
        1,
        "the fresh store holds exactly the user just created"
    );
    let user = &listed[0];
    assert_eq!(user.user_id(), user_id);
    assert_eq!(user.user_name(), Some("ada.lovelace@example.com"));
    assert_eq!(user.display_name(), Some("Ada Lovelace"));
    assert_eq!(user.name().and_then(|n| n.family_name()), Some("Lovelace"));
}
