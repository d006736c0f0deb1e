use jumpcloud_api::ids::{ApplicationId, GroupId, UserId};
use jumpcloud_api::models::{UserGroupInput, UserState};
use jumpcloud_api::v2::{AssociationTarget, ImportJob};
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::setup;

#[tokio::test]
async fn find_by_name_filters_on_the_server_and_checks_the_exact_name() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .and(query_param("filter", "name:eq:AWS Developers"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-total-count", "1")
                .set_body_json(json!([
            {"id": "g1", "name": "AWS Developers", "membershipMethod": "STATIC"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .and(query_param("filter", "name:eq:aws developers"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": "g1", "name": "AWS Developers"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let group = jc
        .user_groups()
        .find_by_name("AWS Developers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(group.membership_method.as_deref(), Some("STATIC"));
    assert!(
        jc.user_groups()
            .find_by_name("aws developers")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_group_is_read_by_id_and_a_missing_one_is_not_found() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "g1", "name": "Eng", "type": "user_group"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .expect(1) // a 404 is an answer: not retried
        .mount(&server)
        .await;
    let group = jc.user_groups().get(&GroupId::from("g1")).await.unwrap();
    assert_eq!((group.id.as_str(), group.name.as_str()), ("g1", "Eng"));
    let missing = jc
        .user_groups()
        .get(&GroupId::from("g404"))
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert!(!missing.is_retryable());
}

#[tokio::test]
async fn groups_are_created_replaced_and_deleted() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/usergroups"))
        .and(body_json(json!({"name": "Eng", "description": "builds"})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "g1", "name": "Eng", "description": "builds"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/usergroups/g1"))
        .and(body_json(json!({"name": "Engineering"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "g1", "name": "Engineering"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let group = jc
        .user_groups()
        .create(&UserGroupInput::new("Eng").description("builds"))
        .await
        .unwrap();
    let renamed = jc
        .user_groups()
        .update(&group.id, &UserGroupInput::new("Engineering"))
        .await
        .unwrap();
    assert_eq!(renamed.name, "Engineering");
    jc.user_groups().delete(&group.id).await.unwrap();
}

#[tokio::test]
async fn members_are_listed_added_and_removed_with_the_graph_operation_shape() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1/members"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-total-count", "2")
                .set_body_json(json!([
            {"to": {"id": "u1", "type": "user"}}, {"to": {"id": "u2", "type": "user"}}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    for op in ["add", "remove"] {
        Mock::given(method("POST"))
            .and(path("/api/v2/usergroups/g1/members"))
            .and(body_json(json!({"op": op, "type": "user", "id": "u3"})))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1/membership"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "u1", "type": "user", "paths": [[{"to": {"id": "u1", "type": "user"}}]]},
            {"id": "u9", "type": "user", "paths": [[{"to": {"id": "g2", "type": "user_group"}}, {"to": {"id": "u9", "type": "user"}}]]}])))
        .expect(1)
        .mount(&server)
        .await;
    let members = jc
        .user_groups()
        .members(&GroupId::from("g1"))
        .all()
        .await
        .unwrap();
    assert_eq!(
        members.iter().map(|m| m.to.id.as_str()).collect::<Vec<_>>(),
        ["u1", "u2"]
    );
    jc.user_groups()
        .add_member(&GroupId::from("g1"), &UserId::from("u3"))
        .await
        .unwrap();
    jc.user_groups()
        .remove_member(&GroupId::from("g1"), &UserId::from("u3"))
        .await
        .unwrap();
    let everyone = jc
        .user_groups()
        .membership(&GroupId::from("g1"))
        .all()
        .await
        .unwrap();
    assert!(everyone[0].is_direct() && !everyone[1].is_direct());
}

#[tokio::test]
async fn a_group_is_associated_with_an_application_only_if_missing() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/applications/a1/associations"))
        .and(query_param("targets", "user_group"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"to": {"id": "g1", "type": "user_group"}}])),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/applications/a1/associations"))
        .and(body_json(
            json!({"op": "add", "type": "user_group", "id": "g2"}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let app = ApplicationId::from("a1");
    for group in ["g1", "g2"] {
        if !jc
            .applications()
            .is_associated(&app, AssociationTarget::UserGroup, group)
            .await
            .unwrap()
        {
            jc.applications()
                .associate(&app, AssociationTarget::UserGroup, group)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn application_traversals_and_imports() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/applications/a1/usergroups"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": "g1", "type": "user_group", "paths": []}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/applications/a1/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": "u1", "type": "user", "paths": []}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/applications/a1/import/users"))
        .and(query_param("limit", "50"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": [{"id": "x1", "username": "ada", "email": "ada@example.com"}], "total_count": 1})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/applications/a1/import/jobs"))
        .and(body_json(
            json!({"allowUserReactivation": true, "operations": ["users.create", "users.update"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jobId": "j1"})))
        .expect(1)
        .mount(&server)
        .await;
    let app = ApplicationId::from("a1");
    assert_eq!(
        jc.applications().user_groups(&app).all().await.unwrap()[0].id,
        "g1"
    );
    assert_eq!(
        jc.applications().users(&app).all().await.unwrap()[0].id,
        "u1"
    );
    let preview = jc.applications().import_preview(&app, 0, 50).await.unwrap();
    assert_eq!(preview.users[0].username.as_deref(), Some("ada"));
    assert_eq!(
        jc.applications()
            .import(&app, &ImportJob::default())
            .await
            .unwrap()
            .as_str(),
        "j1"
    );
}

#[tokio::test]
async fn user_states_are_scheduled_listed_and_cancelled() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/bulk/userstates"))
        .and(body_json(json!({"user_ids": ["u1"], "state": "SUSPENDED", "start_date": "2026-12-01T09:00:00Z"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!([
            {"scheduledJobId": "s1", "systemUserId": "u1", "state": "SUSPENDED", "scheduledDate": "2026-12-01T09:00:00Z"}])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/bulk/userstates"))
        .and(query_param("userid", "u1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"scheduledJobId": "s1", "systemUserId": "u1", "state": "SUSPENDED", "scheduledDate": "2026-12-01T09:00:00Z"}])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/bulk/userstates/s1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let user = UserId::from("u1");
    let scheduled = jc
        .bulk()
        .schedule_state(
            std::slice::from_ref(&user),
            UserState::Suspended,
            "2026-12-01T09:00:00Z",
        )
        .await
        .unwrap();
    assert_eq!(
        jc.bulk().scheduled_states(Some(&user)).all().await.unwrap(),
        scheduled
    );
    jc.bulk()
        .cancel_scheduled_state(&scheduled[0].scheduled_job_id)
        .await
        .unwrap();
}
