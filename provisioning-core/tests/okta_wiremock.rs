//! The Okta source's refusals: a group name with no exact match or with two, an
//! application scope, and a wrong token — each with a message that says what to fix. Also
//! what it reads and confirms over HTTP: statuses the engine does not know become holds,
//! and a group is confirmed gone only by a 404.

use std::collections::BTreeSet;

use provisioning_core::connector::{ErrorClass, Source};
use provisioning_core::connectors::okta::OktaSource;
use provisioning_core::model::{Hold, Scope};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn okta_answering(groups: serde_json::Value) -> (MockServer, OktaSource) {
    let (server, okta) = okta().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups"))
        .and(query_param("q", "Eng"))
        .respond_with(ResponseTemplate::new(200).set_body_json(groups))
        .mount(&server)
        .await;
    (server, okta)
}

fn groups(names: &[&str]) -> Scope {
    Scope::Groups(names.iter().map(|n| (*n).to_owned()).collect())
}

#[tokio::test]
async fn a_name_must_match_exactly_one_group() {
    let (_server, okta) = okta_answering(json!([
        {"id": "00g1", "profile": {"name": "Engineering"}},
        {"id": "00g2", "profile": {"name": "Eng-Ops"}}
    ]))
    .await;
    let err = okta.read(&groups(&["Eng"])).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Invalid);
    let text = err.to_string();
    assert!(
        text.contains("no Okta group is named exactly \"Eng\""),
        "{text}"
    );
    assert!(text.contains("Engineering, Eng-Ops"), "{text}");

    let (_server, okta) = okta_answering(json!([
        {"id": "00g1", "profile": {"name": "Eng"}},
        {"id": "00g2", "profile": {"name": "Eng"}}
    ]))
    .await;
    let text = okta.read(&groups(&["Eng"])).await.unwrap_err().to_string();
    assert!(
        text.contains("2 Okta groups are named exactly \"Eng\" (ids 00g1, 00g2)"),
        "{text}"
    );
}

#[tokio::test]
async fn an_application_scope_and_a_wrong_token_are_explained() {
    let (server, okta) = okta_answering(json!([])).await;
    let err = okta
        .read(&Scope::Application("aws".into()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("named groups"), "{err}");

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "errorCode": "E0000011", "errorSummary": "Invalid token provided"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = okta.read(&groups(&["Eng"])).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Denied);
    let text = err.to_string();
    assert!(
        text.contains("E0000011") && text.contains("create a new one"),
        "{text}"
    );
    assert!(!text.contains("t0ken"));
}

/// A mock Okta that fails every unexpected request readably, and a source on it.
async fn okta() -> (MockServer, OktaSource) {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(500)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let okta = OktaSource::builder(server.uri(), "t0ken".into())
        .fast_retries()
        .build()
        .unwrap();
    (server, okta)
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn a_group_is_confirmed_gone_by_a_404_and_kept_by_a_200() {
    let (server, okta) = okta().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g-gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "errorCode": "E0000007", "errorSummary": "Not found: Resource not found: 00g-gone (UserGroup)"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g-kept"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "00g-kept", "type": "OKTA_GROUP", "profile": {"name": "Research"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    // An id travels as one path segment: a slash cannot reach another resource.
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g%2Fusers"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let gone = okta
        .confirm_gone(&set(&["00g-gone", "00g-kept", "00g/users"]))
        .await
        .unwrap();
    assert_eq!(gone, set(&["00g-gone", "00g/users"]));
    assert!(
        okta.confirm_gone(&BTreeSet::new())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_lookup_that_fails_on_every_attempt_is_an_error_not_a_deletion() {
    let (server, okta) = okta().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g-kept"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "00g-kept"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g-broken"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "errorCode": "E0000009", "errorSummary": "Internal Server Error"
        })))
        .expect(5) // the first attempt and four read retries
        .mount(&server)
        .await;
    let err = okta
        .confirm_gone(&set(&["00g-broken", "00g-kept"]))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    assert!(
        err.to_string()
            .contains("looking up group 00g-broken to learn whether it was deleted"),
        "{err}"
    );
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("HTTP 500 E0000009"), "{cause}");
    assert!(!cause.contains("t0ken"));
}

#[tokio::test]
async fn an_unknown_or_staged_status_is_read_as_a_hold() {
    let (server, okta) = okta().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups"))
        .and(query_param("q", "Engineering"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "00g1", "profile": {"name": "Engineering"}}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g1/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "00u1", "status": "ACTIVE", "profile": {"login": "ada@example.com"}},
            {"id": "00u2", "status": "SOMETHING_NEW", "profile": {"login": "bob@example.com"}},
            {"id": "00u3", "status": "PROVISIONED", "profile": {"login": "cy@example.com"}},
            {"id": "00u4", "status": "DEPROVISIONED", "profile": {"login": "di@example.com"}}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let snapshot = okta.read(&groups(&["Engineering"])).await.unwrap();
    let user = |login: &str| {
        snapshot
            .users
            .iter()
            .find(|u| u.user_name == login)
            .unwrap_or_else(|| panic!("{login} is read"))
    };
    assert!(user("ada@example.com").active);
    assert_eq!(user("ada@example.com").hold, None);
    assert_eq!(
        user("bob@example.com").hold,
        Some(Hold::UnknownState {
            value: "SOMETHING_NEW".into()
        })
    );
    assert!(
        user("bob@example.com").active,
        "an unknown status is not inactive"
    );
    assert_eq!(user("cy@example.com").hold, Some(Hold::Staged));
    assert!(!user("di@example.com").active);
    assert_eq!(user("di@example.com").hold, None);
    assert_eq!(snapshot.memberships.len(), 4, "held users stay members");
}

/// Serves group `00g1` "Engineering" with `members` as its one member page.
async fn serve_members(server: &MockServer, members: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/api/v1/groups"))
        .and(query_param("q", "Engineering"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "00g1", "profile": {"name": "Engineering"}}
        ])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g1/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(members))
        .mount(server)
        .await;
}

#[tokio::test]
async fn an_unreadable_member_is_held_and_its_target_twin_keeps_its_access() {
    use provisioning_core::apply::{ApplyOptions, apply};
    use provisioning_core::memory::MemoryDirectory;
    use provisioning_core::plan::SkipReason;
    use provisioning_core::policy::{DeletionGuard, Policy};
    use provisioning_core::sync::plan_sync;

    let (server, okta) = okta().await;
    let ada = json!({"id": "00u1", "status": "ACTIVE", "profile": {"login": "ada@example.com"}});
    let bob = json!({"id": "00u2", "status": "ACTIVE", "profile": {"login": "bob@example.com"}});
    serve_members(&server, json!([ada, bob])).await;
    let scope = groups(&["Engineering"]);
    let mut policy = Policy::default();
    policy.allow_deprovision = true;
    policy.deletion_guard = DeletionGuard::unlimited();
    let target = MemoryDirectory::default();
    let plan = plan_sync(&okta, &scope, &target, &policy).await.unwrap();
    assert!(
        apply(&plan, &target, &ApplyOptions::default())
            .await
            .is_success()
    );
    let before = target.snapshot();
    assert_eq!((before.users.len(), before.memberships.len()), (2, 2));

    // Bob's record turns unreadable (a profile that is not an object): not "gone".
    server.reset().await;
    let unreadable = json!({"id": "00u2", "status": "ACTIVE", "profile": "bob@example.com"});
    serve_members(&server, json!([ada, unreadable])).await;
    let snapshot = okta
        .read(&scope)
        .await
        .expect("one bad record does not fail the read");
    let held = snapshot
        .users
        .iter()
        .find(|u| u.id == "00u2")
        .expect("bob is still there");
    assert!(
        matches!(held.hold, Some(Hold::Unreadable { .. })),
        "{:?}",
        held.hold
    );
    assert_eq!(snapshot.memberships.len(), 2, "bob is still a member");

    let plan = plan_sync(&okta, &scope, &target, &policy).await.unwrap();
    assert!(plan.is_empty(), "nothing to do: {:#?}", plan.changes);
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.subject == "00u2" && matches!(s.reason, SkipReason::Held { .. })),
        "the plan names the held record: {:#?}",
        plan.skipped
    );
    assert!(
        apply(&plan, &target, &ApplyOptions::default())
            .await
            .is_success()
    );
    assert_eq!(target.snapshot(), before, "nothing at the target changed");
}

#[tokio::test]
async fn an_unreadable_record_without_an_id_fails_the_read_naming_the_list() {
    let (server, okta) = okta().await;
    serve_members(
        &server,
        json!([{"id": "00u1", "profile": {"login": "ada@example.com"}}, {"profile": 7}]),
    )
    .await;
    let err = okta.read(&groups(&["Engineering"])).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal);
    let message = err.to_string();
    assert!(
        message.contains("listing the members of group 00g1"),
        "{message}"
    );
    assert!(message.contains("carries no id"), "{message}");
}
