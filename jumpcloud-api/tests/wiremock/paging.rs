use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::setup;

fn users(from: usize, n: usize) -> Vec<Value> {
    (from..from + n)
        .map(|i| json!({"_id": format!("u{i:03}"), "username": format!("user{i}")}))
        .collect()
}

fn groups(from: usize, n: usize) -> Vec<Value> {
    (from..from + n)
        .map(|i| json!({"id": format!("g{i:03}"), "name": format!("group{i}")}))
        .collect()
}

#[tokio::test]
async fn v1_lists_page_by_skip_until_the_total() {
    let (server, jc) = setup().await;
    for (skip, n) in [(0, 100), (100, 50)] {
        Mock::given(method("GET"))
            .and(path("/api/systemusers"))
            .and(query_param("skip", skip.to_string()))
            .and(query_param("limit", "100"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"totalCount": 150, "results": users(skip, n)})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let all = jc.users().list().all().await.unwrap();
    assert_eq!(all.len(), 150);
}

#[tokio::test]
async fn a_short_page_is_not_the_end_while_the_total_says_more() {
    // JumpCloud support#369: a page of 60 (associations to deleted objects) before the end.
    let (server, jc) = setup().await;
    for (skip, n) in [(0, 60), (60, 100), (160, 40)] {
        Mock::given(method("GET"))
            .and(path("/api/v2/usergroups"))
            .and(query_param("skip", skip.to_string()))
            .and(query_param("sort", "id"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-total-count", "200")
                    .set_body_json(groups(skip, n)),
            )
            .expect(if skip == 0 { 2 } else { 1 })
            .mount(&server)
            .await;
    }
    let all = jc.user_groups().list().all().await.unwrap();
    assert_eq!(all.len(), 200);
    let first = jc.user_groups().list().page(0).await.unwrap();
    assert_eq!(
        (first.items.len(), first.total, first.next_skip),
        (60, Some(200), Some(60))
    );
}

#[tokio::test]
async fn without_a_total_a_short_page_ends_the_list_and_an_empty_page_always_does() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .and(query_param("skip", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(groups(0, 100)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .and(query_param("skip", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(groups(100, 7)))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(jc.user_groups().list().all().await.unwrap().len(), 107);

    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-total-count", "500")
                .set_body_json(json!([])),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert!(
        jc.user_groups().list().all().await.unwrap().is_empty(),
        "an empty page ends it, whatever the total"
    );
}

#[tokio::test]
async fn a_smaller_page_size_is_honoured_and_capped_at_100() {
    let (server, jc) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .and(query_param("limit", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(groups(0, 3)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .and(query_param("limit", "25"))
        .respond_with(ResponseTemplate::new(200).set_body_json(groups(0, 3)))
        .expect(1)
        .mount(&server)
        .await;
    jc.user_groups().list().limit(1_000).all().await.unwrap();
    jc.user_groups().list().limit(25).all().await.unwrap();
}
