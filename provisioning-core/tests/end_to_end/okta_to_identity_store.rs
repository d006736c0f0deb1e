//! Seed workflow 004 — Okta → AWS: a wiremock Okta (Link paging over three pages, a 429
//! with a reset time, a prefix-matching group query) → moto's Identity Store, which already
//! holds the group and some of its users. Only the missing users are created and only the
//! missing memberships added.

use std::time::{Duration, Instant, SystemTime};

use aws_access::identity_store::{IdentityStore, NewUser, OnConflict};
use futures::TryStreamExt;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::okta::OktaSource;
use provisioning_core::connectors::ownership::OwnershipRecord;
use provisioning_core::model::Scope;
use provisioning_core::policy::Policy;
use provisioning_core::sync::plan_sync;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::jumpcloud_to_identity_store::moto_store;

fn person(id: &str, login: &str, first: &str, last: &str) -> Value {
    json!({"id": id, "status": "ACTIVE", "profile": {
        "login": login, "email": login, "firstName": first, "lastName": last}})
}

fn page(users: Value, next: Option<String>) -> ResponseTemplate {
    let mut response = ResponseTemplate::new(200).set_body_json(users);
    if let Some(next) = next {
        response = response.insert_header("link", format!("<{next}>; rel=\"next\"").as_str());
    }
    response.insert_header("x-rate-limit-remaining", "100")
}

async fn okta() -> MockServer {
    let okta = MockServer::start().await;
    let uri = okta.uri();
    let members = "/api/v1/groups/00gEng/users";
    // `q` matches by prefix: the contractors' group comes back too and must be ignored.
    Mock::given(method("GET"))
        .and(path("/api/v1/groups"))
        .and(query_param("q", "Platform-Engineering"))
        .and(header("authorization", "SSWS okta-test-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "00gEng", "profile": {"name": "Platform-Engineering"}},
            {"id": "00gEngC", "profile": {"name": "Platform-Engineering-Contractors"}}
        ])))
        .expect(1)
        .mount(&okta)
        .await;
    Mock::given(method("GET"))
        .and(path(members))
        .and(query_param("limit", "200"))
        .respond_with(page(
            json!([
                person("00u1", "ada@example.com", "Ada", "Lovelace"),
                person("00u2", "grace@example.com", "Grace", "Hopper")
            ]),
            Some(format!("{uri}{members}?after=00u2&limit=200")),
        ))
        .with_priority(3)
        .expect(1)
        .mount(&okta)
        .await;
    // Page two is throttled once: the reset is 1 s after the server's own clock.
    let now = SystemTime::now();
    let reset = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    Mock::given(method("GET"))
        .and(path(members))
        .and(query_param("after", "00u2"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                .insert_header("date", httpdate::fmt_http_date(now).as_str())
                .set_body_json(json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&okta)
        .await;
    Mock::given(method("GET"))
        .and(path(members))
        .and(query_param("after", "00u2"))
        .respond_with(page(
            json!([
                person("00u3", "alan@example.com", "Alan", "Turing"),
                person("00u4", "kay@example.com", "Kay", "Stone")
            ]),
            Some(format!("{uri}{members}?after=00u4&limit=200")),
        ))
        .with_priority(2)
        .expect(1)
        .mount(&okta)
        .await;
    Mock::given(method("GET"))
        .and(path(members))
        .and(query_param("after", "00u4"))
        .respond_with(page(
            json!([person("00u5", "lin@example.com", "Lin", "Park")]),
            None,
        ))
        .with_priority(2)
        .expect(1)
        .mount(&okta)
        .await;
    okta
}

#[tokio::test]
async fn okta_to_identity_store_creates_only_missing_users_and_memberships() {
    let okta = okta().await;
    // The identity store already has the group, Ada and Grace, and Grace in the group.
    let store = moto_store().await;
    let group = store
        .create_group("Platform-Engineering", None, OnConflict::Fail)
        .await
        .unwrap()
        .value;
    let person =
        |login: &str, first: &str, last: &str| NewUser::new(login, first, last).email(login);
    store
        .create_user(
            &person("ada@example.com", "Ada", "Lovelace"),
            OnConflict::Fail,
        )
        .await
        .unwrap();
    let grace = store
        .create_user(
            &person("grace@example.com", "Grace", "Hopper"),
            OnConflict::Fail,
        )
        .await
        .unwrap()
        .value;
    store.add_member(&group.id, &grace.id).await.unwrap();

    let source = OktaSource::builder(okta.uri(), "okta-test-token".into())
        .fast_retries()
        .build()
        .unwrap();
    let target = IdentityStoreTarget::new(store.clone(), OwnershipRecord::in_memory());
    let scope = Scope::Groups(vec!["Platform-Engineering".into()]);
    let policy = Policy::default();

    let started = Instant::now();
    let plan = plan_sync(&source, &scope, &target, &policy).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the 429 was waited out until the reset"
    );
    let counts = plan.counts();
    assert_eq!(
        counts["create_user"], 3,
        "only Alan, Kay and Lin are missing: {counts:?}"
    );
    assert_eq!(
        counts["add_members"], 4,
        "Grace is a member already: {counts:?}"
    );
    assert_eq!(
        counts.get("create_group"),
        None,
        "the group is taken over: {counts:?}"
    );
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "{report:#?}");

    let members: Vec<_> = store.member_ids(&group.id).try_collect().await.unwrap();
    assert_eq!(members.len(), 5);
    let users: Vec<_> = store.list_users().try_collect().await.unwrap();
    assert_eq!(users.len(), 5);

    // The second run reads Okta again and has nothing to do.
    okta.reset().await;
    let okta = self::okta().await;
    let source = OktaSource::builder(okta.uri(), "okta-test-token".into())
        .fast_retries()
        .build()
        .unwrap();
    let again = plan_sync(&source, &scope, &target, &policy).await.unwrap();
    assert!(again.is_empty(), "{:#?}", again.changes);
}
