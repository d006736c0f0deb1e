use jumpcloud_api::filter::V1Filter;
use jumpcloud_api::ids::{ApplicationId, UserId};
use jumpcloud_api::models::{Attribute, NewSystemUser, UserState, UserUpdate};
use jumpcloud_api::v1::UserSearch;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::{KEY, setup};

fn user(id: &str, name: &str) -> serde_json::Value {
    json!({"_id": id, "username": name, "email": format!("{name}@example.com"), "state": "ACTIVATED",
           "attributes": [{"name": "costCenter", "value": "blue"}], "department": "R&D"})
}

#[tokio::test]
async fn every_request_carries_the_key_the_org_id_and_a_user_agent() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/systemusers/u1"))
        .and(header("x-api-key", KEY))
        .and(header("x-org-id", "org-42"))
        .and(header("accept", "application/json"))
        .and(header("user-agent", jumpcloud_api::client::USER_AGENT))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1", "ada")))
        .expect(1)
        .mount(&server)
        .await;
    let ada = jc.users().get(&UserId::from("u1")).await.unwrap();
    assert_eq!(ada.username, "ada");
    assert_eq!(ada.state, Some(UserState::Activated));
    assert_eq!(ada.extra["department"], "R&D", "unknown fields are kept");
}

#[tokio::test]
async fn create_sends_the_v1_user_shape() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/systemusers"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"username": "ada", "email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace", "state": "ACTIVATED"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1", "ada")))
        .expect(1)
        .mount(&server)
        .await;
    let mut new = NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace");
    new.state = Some(UserState::Activated);
    assert_eq!(
        jc.users().create(&new).await.unwrap().id,
        UserId::from("u1")
    );
}

#[tokio::test]
async fn update_sends_only_the_fields_set_and_attributes_are_read_modified_written() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/systemusers/u1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1", "ada")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/systemusers/u1"))
        .and(body_json(json!({"attributes": [{"name": "costCenter", "value": "blue"}, {"name": "team", "value": "sre"}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1", "ada")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/systemusers/u1"))
        .and(body_json(json!({"lastname": "Byron"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1", "ada")))
        .expect(1)
        .mount(&server)
        .await;
    jc.users()
        .update_attributes(&UserId::from("u1"), |attrs| {
            attrs.push(Attribute {
                name: "team".into(),
                value: "sre".into(),
            })
        })
        .await
        .unwrap();
    let mut update = UserUpdate::default();
    update.lastname = Some("Byron".into());
    jc.users()
        .update(&UserId::from("u1"), &update)
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_can_cascade_the_manager_field_and_activate_posts_an_empty_object() {
    let (server, jc) = setup().await;
    Mock::given(method("DELETE"))
        .and(path("/api/systemusers/u1"))
        .and(query_param("cascade_manager", "null"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1", "ada")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/systemusers/u2/state/activate"))
        .and(body_json(json!({})))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    jc.users().delete(&UserId::from("u1"), true).await.unwrap();
    jc.users().activate(&UserId::from("u2")).await.unwrap();
}

#[tokio::test]
async fn filters_reach_the_server_exactly() {
    let (server, jc) = setup().await;
    let tricky = "ada+ops, \"the\" \\ countess:1 Ürsula@example.com";
    Mock::given(method("GET"))
        .and(path("/api/systemusers"))
        .and(query_param("filter", format!("email:$eq:{tricky}")))
        .and(query_param("sort", "_id"))
        .and(query_param("limit", "100"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"totalCount": 1, "results": [user("u1", "ada")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let found = jc
        .users()
        .list()
        .filter(V1Filter::new().eq("email", tricky))
        .all()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn search_posts_the_filter_with_limit_and_skip() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/search/systemusers"))
        .and(body_json(
            json!({"filter": {"and": [{"department": "R&D"}]}, "limit": 100, "skip": 0}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"totalCount": 1, "results": [user("u1", "ada")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    use futures::TryStreamExt;
    let found: Vec<_> = jc
        .users()
        .search(&UserSearch::field_equals("department", "R&D"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found[0].username, "ada");
}

#[tokio::test]
async fn applications_are_listed_and_fetched_and_member_of_reads_the_v2_graph() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/applications"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "applications", "totalCount": 2, "results": [
            {"_id": "a1", "name": "aws", "displayLabel": "AWS SSO", "ssoUrl": "https://x", "config": {}},
            {"_id": "a2", "name": "pulumi", "displayLabel": "Pulumi"}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/applications/a1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"_id": "a1", "name": "aws", "displayLabel": "AWS SSO"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/u1/memberof"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-total-count", "1").set_body_json(json!([
            {"id": "g1", "type": "user_group", "paths": [[{"to": {"id": "g1", "type": "user_group"}}]]}])))
        .expect(1)
        .mount(&server)
        .await;
    let aws = jc.applications().find_by_label("AWS SSO").await.unwrap();
    assert_eq!(aws.len(), 1);
    assert_eq!(
        jc.applications()
            .get(&ApplicationId::from("a1"))
            .await
            .unwrap()
            .name,
        "aws"
    );
    let groups = jc
        .users()
        .member_of(&UserId::from("u1"))
        .all()
        .await
        .unwrap();
    assert!(groups[0].is_direct());
}

#[tokio::test]
async fn organizations_are_listed_without_the_org_id_header() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/organizations"))
        .and(header("x-api-key", KEY))
        .respond_with(|req: &wiremock::Request| {
            // JumpCloud answers 403 when this route carries x-org-id.
            if req.headers.contains_key("x-org-id") {
                return ResponseTemplate::new(403).set_body_json(json!({"message": "Forbidden"}));
            }
            ResponseTemplate::new(200).set_body_json(json!({
                "totalCount": 1,
                "results": [{"_id": "5f3a1b2c3d4e5f6a7b8c9d0e", "displayName": "Acme", "logoUrl": ""}]
            }))
        })
        .expect(1)
        .mount(&server)
        .await;
    let orgs = jc.organizations().list().all().await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].id.as_str(), "5f3a1b2c3d4e5f6a7b8c9d0e");
    assert_eq!(orgs[0].display_name.as_deref(), Some("Acme"));
}
