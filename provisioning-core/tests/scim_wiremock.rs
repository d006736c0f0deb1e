//! The SCIM target's contracts that scim2-server cannot show: IAM Identity Center's empty
//! `members` and cursor paging, throttled reads, an expired token, membership PATCHes of at
//! most 100 changes in the filter-path form, and Pulumi's attribute whitelist.

use provisioning_core::connector::{ErrorClass, Target, TargetReader};
use provisioning_core::connectors::scim::client::{Resource, ScimClient};
use provisioning_core::connectors::scim::{Profile, ScimTarget};
use provisioning_core::mapping::TargetField;
use provisioning_core::model::User;
use provisioning_core::plan::Operation;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn setup(profile: Profile) -> (MockServer, ScimTarget) {
    let server = MockServer::start().await;
    // Anything unexpected fails readably instead of as a bare 404.
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(500)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let client = ScimClient::builder(format!("{}/scim/v2", server.uri()), "tok3n".into())
        .fast_retries()
        .build()
        .unwrap();
    (server, ScimTarget::new(client, profile))
}

fn list(resources: Value, next_cursor: Option<&str>) -> ResponseTemplate {
    let mut body =
        json!({"itemsPerPage": resources.as_array().unwrap().len(), "Resources": resources});
    if let Some(cursor) = next_cursor {
        body["nextCursor"] = json!(cursor);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn aws_reads_follow_cursors_and_list_members_per_group() {
    let (server, target) = setup(Profile::AwsIdentityCenter).await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("cursor", ""))
        .and(query_param("count", "100"))
        .and(header("authorization", "Bearer tok3n"))
        .respond_with(list(json!([{"id": "u1", "userName": "ada"}]), Some("c2")))
        .expect(1)
        .mount(&server)
        .await;
    // A short page with a cursor is not the end.
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("cursor", "c2"))
        .respond_with(list(
            json!([{"id": "u2", "userName": "grace", "externalId": "identity-provisioning:jc2"}]),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Groups"))
        .respond_with(list(
            json!([{"id": "g1", "displayName": "Engineering", "members": []}]),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("filter", "groups.value eq \"g1\""))
        .respond_with(list(json!([{"id": "u2", "userName": "grace"}]), None))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;

    let snapshot = target.read().await.unwrap();
    assert_eq!(snapshot.users.len(), 2);
    let grace = snapshot.users.iter().find(|u| u.id == "u2").unwrap();
    assert_eq!(grace.external_id.as_ref().unwrap().id, "jc2");
    let members: Vec<_> = snapshot
        .memberships
        .iter()
        .map(|m| m.user_id.as_str())
        .collect();
    assert_eq!(members, ["u2"]);
}

#[tokio::test]
async fn a_throttled_read_waits_and_an_expired_token_says_so() {
    let (server, target) = setup(Profile::Generic).await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("filter", "userName eq \"ada+x@example.com\""))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
            "Resources": [{"id": "u1", "userName": "Ada+X@example.com"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let found = target.find_user("ada+x@example.com").await.unwrap();
    assert_eq!(
        found.unwrap().id,
        "u1",
        "matched case-insensitively, + kept"
    );

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"status": "401", "detail": "expired"})),
        )
        .mount(&server)
        .await;
    let err = target.read().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Denied);
    let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(chain.contains("expired or is wrong"), "{chain}");
    assert!(!chain.contains("tok3n"), "{chain}");
}

#[tokio::test]
async fn member_changes_go_in_patches_of_at_most_100_in_the_filter_path_form() {
    let (server, target) = setup(Profile::AwsIdentityCenter).await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Groups/g1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(4)
        .mount(&server)
        .await;
    let users: Vec<String> = (0..150).map(|i| format!("u{i}")).collect();
    let add = Operation::AddMembers {
        group: "g1".into(),
        users: users.clone(),
    };
    target.write(&add).await.unwrap();
    let remove = Operation::RemoveMembers {
        group: "g1".into(),
        users,
    };
    target.write(&remove).await.unwrap();

    let patches: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "PATCH")
        .map(|r| r.body_json().unwrap())
        .collect();
    let adds = &patches[..2];
    assert_eq!(
        adds[0]["Operations"][0]["value"].as_array().unwrap().len(),
        100
    );
    assert_eq!(
        adds[1]["Operations"][0]["value"].as_array().unwrap().len(),
        50
    );
    let removes = &patches[2..];
    assert_eq!(removes[0]["Operations"].as_array().unwrap().len(), 100);
    assert_eq!(removes[1]["Operations"].as_array().unwrap().len(), 50);
    for op in removes
        .iter()
        .flat_map(|p| p["Operations"].as_array().unwrap())
    {
        assert_eq!(op["op"], "remove");
        assert!(
            op["path"]
                .as_str()
                .unwrap()
                .starts_with("members[value eq \""),
            "{op}"
        );
        assert!(
            op.get("value").is_none(),
            "never the value-array remove: {op}"
        );
    }
}

#[tokio::test]
async fn pulumi_refuses_attributes_it_cannot_store_before_sending_anything() {
    let (server, target) = setup(Profile::Pulumi).await;
    let mut user = User::new("u1", "ada").with_names("Ada", "Lovelace");
    user.attributes.insert("costCenter".into(), "42".into());
    let update = Operation::UpdateUser {
        id: "u1".into(),
        user,
        fields: vec![TargetField::Attribute("costCenter".into())],
    };
    let err = target.write(&update).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Invalid);
    assert!(
        err.to_string()
            .contains("remove it from the attribute mapping"),
        "{err}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deactivation_is_one_patch_of_active_false() {
    let (server, target) = setup(Profile::Pulumi).await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Users/u1"))
        .and(body_partial_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}]
        })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    target
        .write(&Operation::DeactivateUser { id: "u1".into() })
        .await
        .unwrap();
    let err = target
        .write(&Operation::DeleteUser { id: "u1".into() })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot delete users"), "{err}");
}

#[tokio::test]
async fn a_replace_sends_back_the_attributes_it_does_not_know() {
    let server = MockServer::start().await;
    let stored = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1", "userName": "ada", "active": true,
        "urn:example:custom": {"badge": 7},
        "meta": {"resourceType": "User"}
    });
    Mock::given(method("GET"))
        .and(path("/v2/Users/u1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(stored.clone()))
        .mount(&server)
        .await;
    let mut replaced = stored.clone();
    replaced["active"] = json!(false);
    Mock::given(method("PUT"))
        .and(path("/v2/Users/u1"))
        .and(wiremock::matchers::body_json(replaced.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(replaced))
        .expect(1)
        .mount(&server)
        .await;
    let scim = ScimClient::builder(format!("{}/v2", server.uri()), "t".into())
        .build()
        .unwrap();
    let mut user: provisioning_core::connectors::scim::resources::ScimUser =
        scim.get_one(Resource::Users, "u1").await.unwrap();
    user.active = Some(false);
    let back = scim.replace(Resource::Users, "u1", &user).await.unwrap();
    assert_eq!(back.extra["urn:example:custom"]["badge"], 7);
}

#[tokio::test]
async fn a_start_index_of_zero_is_read_as_the_first_page_not_a_panic() {
    let (server, target) = setup(Profile::Generic).await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("startIndex", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": 1, "startIndex": 0, "itemsPerPage": 1,
            "Resources": [{"id": "u1", "userName": "ada"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Groups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": 0, "startIndex": 0, "itemsPerPage": 0, "Resources": []
        })))
        .mount(&server)
        .await;
    let snapshot = target.read().await.unwrap();
    assert_eq!(snapshot.users.len(), 1);
}
