//! Every JumpCloud write, counted at the wire: the real client sends to the fake JumpCloud
//! through `test_peers::pacing::PacingProxy` (unlimited), which counts each request it
//! forwards by method and path. The oracle is the proxy's count, not the client's: each
//! write costs the requests docs/performance.md lists, an edit JumpCloud says is already so
//! (409 to an add, 404 to a remove) is one request and a success, and a non-idempotent
//! create answered 500 is sent once, not retried.

use std::collections::BTreeMap;

use jumpcloud_api::Client;
use jumpcloud_api::fake::{FakeJumpCloud, Fault};
use jumpcloud_api::models::{Attribute, NewSystemUser, UserGroupInput, UserUpdate};
use jumpcloud_api::retry::RetryPolicy;
use jumpcloud_api::v2::{AssociationTarget, Edit};
use test_peers::pacing::{Pacing, PacingProxy};

/// The fake, the counting proxy in front of it, and the real client on the proxy.
async fn counted() -> (FakeJumpCloud, PacingProxy, Client) {
    let fake = FakeJumpCloud::start().await;
    let proxy = PacingProxy::start(&fake.uri(), Pacing::unlimited())
        .await
        .unwrap();
    let client = Client::builder()
        .api_key("fake-jumpcloud-key")
        .base_url(proxy.url())
        .retry(RetryPolicy::fast(5))
        .build()
        .unwrap();
    (fake, proxy, client)
}

/// The requests forwarded since the last call, by method, and resets the count.
fn sent(proxy: &PacingProxy) -> BTreeMap<String, u64> {
    assert!(proxy.failed().is_empty(), "the fake answered every request");
    let mut by_method = BTreeMap::new();
    for (request, n) in proxy.forwarded() {
        let method = request.split(' ').next().unwrap_or_default().to_owned();
        *by_method.entry(method).or_default() += n;
    }
    proxy.reset_counts();
    by_method
}

fn only(method: &str, n: u64) -> BTreeMap<String, u64> {
    BTreeMap::from([(method.to_owned(), n)])
}

#[tokio::test]
async fn each_write_is_the_requests_the_docs_list() {
    let (fake, proxy, jc) = counted().await;
    let app = fake.add_application("aws", "AWS SSO");
    sent(&proxy);

    let ada = jc
        .users()
        .create(&NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace"))
        .await
        .unwrap();
    assert_eq!(sent(&proxy), only("POST", 1), "create a user");

    let mut change = UserUpdate::default();
    change.lastname = Some("Byron".into());
    jc.users().update(&ada.id, &change).await.unwrap();
    assert_eq!(sent(&proxy), only("PUT", 1), "update a user");

    jc.users()
        .update_attributes(&ada.id, |attributes| {
            attributes.push(Attribute {
                name: "costCenter".into(),
                value: "blue".into(),
            });
        })
        .await
        .unwrap();
    let read_then_write = BTreeMap::from([("GET".to_owned(), 1), ("PUT".to_owned(), 1)]);
    assert_eq!(
        sent(&proxy),
        read_then_write,
        "custom attributes: read, then write whole"
    );

    let group = jc
        .user_groups()
        .create(&UserGroupInput::new("Engineering"))
        .await
        .unwrap();
    assert_eq!(sent(&proxy), only("POST", 1), "create a group");

    let groups = jc.user_groups();
    assert_eq!(
        groups.add_member(&group.id, &ada.id).await.unwrap(),
        Edit::Changed
    );
    assert_eq!(sent(&proxy), only("POST", 1), "add a member");
    assert_eq!(
        groups.add_member(&group.id, &ada.id).await.unwrap(),
        Edit::AlreadySo
    );
    assert_eq!(
        sent(&proxy),
        only("POST", 1),
        "a present member: one 409, not retried"
    );
    assert_eq!(
        groups.remove_member(&group.id, &ada.id).await.unwrap(),
        Edit::Changed
    );
    assert_eq!(sent(&proxy), only("POST", 1), "remove a member");
    assert_eq!(
        groups.remove_member(&group.id, &ada.id).await.unwrap(),
        Edit::AlreadySo
    );
    assert_eq!(
        sent(&proxy),
        only("POST", 1),
        "an absent member: one 404, not retried"
    );

    let apps = jc.applications();
    let bind = || apps.associate(&app, AssociationTarget::UserGroup, group.id.as_str());
    assert_eq!(bind().await.unwrap(), Edit::Changed);
    assert_eq!(
        sent(&proxy),
        only("POST", 1),
        "bind a group to an application"
    );
    assert_eq!(bind().await.unwrap(), Edit::AlreadySo);
    assert_eq!(
        sent(&proxy),
        only("POST", 1),
        "an existing binding: one 409, not retried"
    );

    // What the fake holds, read straight from its state: the writes took effect.
    let held = fake.users();
    let ada_held = held.iter().find(|u| u["username"] == "ada").unwrap();
    assert_eq!(ada_held["lastname"], "Byron");
    assert_eq!(ada_held["attributes"][0]["value"], "blue");
}

#[tokio::test]
async fn an_idempotent_edit_is_retried_through_a_500_and_a_create_is_not() {
    let (fake, proxy, jc) = counted().await;
    let group = fake.add_group("Engineering");
    let ada = fake.add_user(NewSystemUser::new("ada", "ada@example.com"));
    sent(&proxy);

    fake.inject([Fault::HtmlError(500)]);
    let edit = jc.user_groups().add_member(&group, &ada).await.unwrap();
    assert_eq!(edit, Edit::Changed);
    assert_eq!(
        sent(&proxy),
        only("POST", 2),
        "a member add is idempotent: one retry"
    );

    fake.inject([Fault::ServerError(500)]);
    let err = jc
        .users()
        .create(&NewSystemUser::new("grace", "grace@example.com"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("500"), "{err}");
    assert_eq!(
        sent(&proxy),
        only("POST", 1),
        "a create is not retried: it may have happened"
    );
}
