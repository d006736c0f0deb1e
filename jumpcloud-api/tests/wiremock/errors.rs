use jumpcloud_api::ids::{GroupId, UserId};
use jumpcloud_api::models::NewSystemUser;
use jumpcloud_api::{Client, Error};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::{KEY, setup};

#[tokio::test]
async fn a_429_is_waited_out_with_its_retry_after_and_retried() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "g1", "name": "eng"})))
        .expect(1)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    assert_eq!(
        jc.user_groups()
            .get(&GroupId::from("g1"))
            .await
            .unwrap()
            .name,
        "eng"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
}

#[tokio::test]
async fn one_html_500_on_a_read_is_retried_and_the_read_succeeds() {
    // An nginx error page in front of JumpCloud: a GET is idempotent, so it is sent again.
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "text/html")
                .set_body_string(
                    "<html><body><h1>500 Internal Server Error</h1>nginx</body></html>",
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "g1", "name": "eng"})))
        .expect(1)
        .mount(&server)
        .await;
    let group = jc.user_groups().get(&GroupId::from("g1")).await.unwrap();
    assert_eq!(group.name, "eng");
}

#[tokio::test]
async fn a_create_that_gets_a_500_is_not_resent() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/systemusers"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let err = jc
        .users()
        .create(&NewSystemUser::new("ada", "ada@example.com"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500), "{err}");
}

#[tokio::test]
async fn a_503_on_a_read_is_retried_then_given_up_with_the_status() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .expect(4)
        .mount(&server)
        .await;
    let err = jc
        .user_groups()
        .get(&GroupId::from("g1"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("upstream unavailable"), "{err}");
}

#[tokio::test]
async fn a_create_that_gets_a_503_is_not_resent_and_says_so() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/systemusers"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let err = jc
        .users()
        .create(&NewSystemUser::new("ada", "ada@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unconfirmed { .. }), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_create_that_gets_a_429_is_retried_as_it_was_refused_unprocessed() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/usergroups"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/usergroups"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "g9", "name": "new"})))
        .expect(1)
        .mount(&server)
        .await;
    let group = jc
        .user_groups()
        .create(&jumpcloud_api::models::UserGroupInput::new("new"))
        .await
        .unwrap();
    assert_eq!(group.id, GroupId::from("g9"));
}

#[tokio::test]
async fn member_edits_are_idempotent_so_a_503_is_retried() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/usergroups/g1/members"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/usergroups/g1/members"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    jc.user_groups()
        .add_member(&GroupId::from("g1"), &UserId::from("u1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn error_bodies_keep_code_message_or_raw_text() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/systemusers/missing"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": 404, "message": "Not Found", "status": "x"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/systemusers/boss"))
        .respond_with(ResponseTemplate::new(409).set_body_string("user is a manager"))
        .mount(&server)
        .await;
    let missing = jc.users().get(&UserId::from("missing")).await.unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(
        missing.to_string(),
        "JumpCloud answered HTTP 404 to /systemusers/{id}: Not Found"
    );
    let boss = jc
        .users()
        .delete(&UserId::from("boss"), false)
        .await
        .unwrap_err();
    assert!(boss.is_conflict());
    assert!(boss.to_string().ends_with("user is a manager"), "{boss}");
    assert!(!format!("{boss:?}{boss}").contains(KEY));
}

#[tokio::test]
async fn a_response_of_the_wrong_shape_is_a_decode_error_not_a_panic() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>login</html>"))
        .mount(&server)
        .await;
    let err = jc
        .user_groups()
        .get(&GroupId::from("g1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

#[tokio::test]
async fn an_unreachable_host_is_a_transport_error_that_never_shows_the_key() {
    let client = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .retry(jumpcloud_api::retry::RetryPolicy::fast(1))
        .build()
        .unwrap();
    let err = client.users().get(&UserId::from("u1")).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    assert!(!text.contains(KEY), "{text}");
}

#[tokio::test]
async fn the_client_side_rate_limit_is_shared_by_clones() {
    let (server, _) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "g1", "name": "eng"})))
        .expect(6)
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .v2_base_url(format!("{}/api/v2", server.uri()))
        .rate_limit(std::num::NonZeroU32::new(20).unwrap())
        .build()
        .unwrap();
    let clone = client.clone();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        client
            .user_groups()
            .get(&GroupId::from("g1"))
            .await
            .unwrap();
        clone.user_groups().get(&GroupId::from("g1")).await.unwrap();
    }
    // Six requests at 20/s without bursts: five intervals of 50 ms at least.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(240),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn adding_a_present_member_and_removing_an_absent_one_succeed() {
    // JumpCloud answers 409 to an add of an existing edge and 404 to a remove of a missing
    // one: the graph is as asked either way.
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/usergroups/g1/members"))
        .and(wiremock::matchers::body_partial_json(json!({"op": "add"})))
        .respond_with(
            ResponseTemplate::new(409).set_body_json(json!({"message": "already exists"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/usergroups/g1/members"))
        .and(wiremock::matchers::body_partial_json(
            json!({"op": "remove"}),
        ))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "not found"})))
        .expect(1)
        .mount(&server)
        .await;
    let (group, user) = (GroupId::from("g1"), UserId::from("u1"));
    jc.user_groups().add_member(&group, &user).await.unwrap();
    jc.user_groups().remove_member(&group, &user).await.unwrap();
}

#[tokio::test]
async fn an_existing_association_and_an_absent_one_succeed() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/applications/a1/associations"))
        .and(wiremock::matchers::body_partial_json(json!({"op": "add"})))
        .respond_with(ResponseTemplate::new(409))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/applications/a1/associations"))
        .and(wiremock::matchers::body_partial_json(
            json!({"op": "remove"}),
        ))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    use jumpcloud_api::v2::AssociationTarget;
    let app = jumpcloud_api::ids::ApplicationId::from("a1");
    jc.applications()
        .associate(&app, AssociationTarget::UserGroup, "g1")
        .await
        .unwrap();
    jc.applications()
        .dissociate(&app, AssociationTarget::UserGroup, "g1")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_the_key_goes_nowhere_else() {
    // Something in front of the API answers 302 to another origin: following it would hand
    // that origin the API key and organisation id.
    let (server, jc) = setup().await;
    let elsewhere = wiremock::MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&elsewhere)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/steal", elsewhere.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = jc.user_groups().list().all().await.unwrap_err();
    assert!(
        matches!(err, Error::Redirected { status: 302, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("not followed"), "{err}");
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the other origin was sent nothing"
    );
}

#[tokio::test]
async fn an_answer_over_the_body_cap_is_an_error_read_no_further() {
    let server = wiremock::MockServer::start().await;
    let big: Vec<_> = (0..200)
        .map(|i| json!({"id": format!("g{i:04}"), "name": "x".repeat(40)}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(big))
        .mount(&server)
        .await;
    let jc = Client::builder()
        .api_key(KEY)
        .v2_base_url(format!("{}/api/v2", server.uri()))
        .max_body_bytes(4_096)
        .build()
        .unwrap();
    let err = jc.user_groups().list().page(0).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 4_096, .. }), "{err}");
    assert!(err.to_string().contains("max_body_bytes"), "{err}");
    // Under the cap, the same answer reads.
    let roomy = Client::builder()
        .api_key(KEY)
        .v2_base_url(format!("{}/api/v2", server.uri()))
        .build()
        .unwrap();
    assert_eq!(
        roomy
            .user_groups()
            .list()
            .page(0)
            .await
            .unwrap()
            .items
            .len(),
        200
    );
}

#[tokio::test]
async fn a_retry_after_given_as_an_http_date_is_waited_out() {
    let (server, jc) = setup().await;
    let soon =
        httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(2));
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", soon.as_str()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    jc.user_groups().list().all().await.unwrap();
    // An HTTP date has one-second resolution: two seconds ahead is more than one away.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "the date was waited for, not ignored ({:?})",
        started.elapsed()
    );
}
