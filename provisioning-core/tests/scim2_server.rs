//! Smoke test of the scim2-server test peer: a user is created over SCIM 2.0 and found
//! again with a `userName eq` filter, including a `+` that must survive URL encoding.

use serde_json::{Value, json};
use test_peers::Peer;

#[tokio::test]
async fn scim2_server_creates_a_user_and_finds_it_by_user_name() {
    let base = Peer::Scim.url();
    let token = test_peers::scim_token();
    let http = reqwest::Client::new();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let user_name = format!("grace+{nanos}@example.com");

    let created = http
        .post(format!("{base}/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": "Grace", "familyName": "Hopper"},
            "displayName": "Grace Hopper",
            "emails": [{"value": user_name, "type": "work", "primary": true}],
            "active": true
        }))
        .send()
        .await
        .expect("scim2-server answers");
    assert_eq!(
        created.status().as_u16(),
        201,
        "POST /Users creates the user"
    );
    let created: Value = created.json().await.expect("the created user as JSON");
    let id = created["id"]
        .as_str()
        .expect("the server assigns an id")
        .to_owned();

    // `query` percent-encodes the whole value: the `+` travels as %2B, not as a space.
    let filter = format!("userName eq \"{user_name}\"");
    let found = http
        .get(format!("{base}/Users"))
        .bearer_auth(&token)
        .query(&[("filter", filter.as_str())])
        .send()
        .await
        .expect("scim2-server answers");
    assert_eq!(found.status().as_u16(), 200);
    let found: Value = found.json().await.expect("a ListResponse");
    assert_eq!(found["totalResults"], 1, "exactly one match: {found}");
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    assert_eq!(found["Resources"][0]["userName"], user_name.as_str());
}

#[tokio::test]
async fn scim2_server_refuses_a_wrong_token() {
    let base = Peer::Scim.url();
    let response = reqwest::Client::new()
        .get(format!("{base}/Users"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .expect("scim2-server answers");
    assert_eq!(response.status().as_u16(), 401);
}
