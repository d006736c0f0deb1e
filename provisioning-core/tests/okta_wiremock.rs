//! The Okta source's refusals: a group name with no exact match or with two, an
//! application scope, and a wrong token — each with a message that says what to fix.

use provisioning_core::connector::{ErrorClass, Source};
use provisioning_core::connectors::okta::OktaSource;
use provisioning_core::model::Scope;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn okta_answering(groups: serde_json::Value) -> (MockServer, OktaSource) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups"))
        .and(query_param("q", "Eng"))
        .respond_with(ResponseTemplate::new(200).set_body_json(groups))
        .mount(&server)
        .await;
    let okta = OktaSource::builder(server.uri(), "t0ken".into())
        .fast_retries()
        .build()
        .unwrap();
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
