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

/// Mounts one v2 group page answered at `skip` (expected exactly once) with `total`.
async fn v2_groups_page(server: &wiremock::MockServer, skip: u64, items: Vec<Value>, total: u64) {
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups"))
        .and(query_param("skip", skip.to_string()))
        .and(query_param("sort", "id"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-total-count", total.to_string())
                .set_body_json(items),
        )
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_short_page_is_not_the_end_and_paging_stays_positional() {
    // JumpCloud support#369: a page comes back with 60 of 100 (associations to deleted
    // objects) while the total counts them. The next page starts at 100, not 60: advancing
    // by the number returned reads 40 items twice. Only skips 0, 100 and 200 are mounted; any
    // other skip hits the catch-all and fails the list.
    let (server, jc) = setup().await;
    v2_groups_page(&server, 0, groups(0, 60), 250).await;
    v2_groups_page(&server, 100, groups(100, 100), 250).await;
    v2_groups_page(&server, 200, groups(200, 50), 250).await;
    let all = jc.user_groups().list().all().await.unwrap();
    assert_eq!(all.len(), 210);
    let ids: std::collections::BTreeSet<_> = all.iter().map(|g| g.id.as_str().to_owned()).collect();
    assert_eq!(ids.len(), 210, "no group read twice");
}

#[tokio::test]
async fn the_first_page_says_where_the_next_starts() {
    let (server, jc) = setup().await;
    v2_groups_page(&server, 0, groups(0, 60), 250).await;
    let first = jc.user_groups().list().page(0).await.unwrap();
    assert_eq!(
        (first.items.len(), first.total, first.next_skip),
        (60, Some(250), Some(100))
    );
}

#[tokio::test]
async fn empty_pages_before_the_total_are_read_through() {
    // A window of empty pages (every record of it dangling) is not the end of the list: a
    // member list cut there is removed access.
    let (server, jc) = setup().await;
    v2_groups_page(&server, 0, groups(0, 100), 400).await;
    v2_groups_page(&server, 100, vec![], 400).await;
    v2_groups_page(&server, 200, vec![], 400).await;
    v2_groups_page(&server, 300, groups(300, 100), 400).await;
    assert_eq!(jc.user_groups().list().all().await.unwrap().len(), 200);
}

#[tokio::test]
async fn more_empty_pages_in_a_row_than_allowed_is_an_error_not_a_short_list() {
    use jumpcloud_api::page::MAX_EMPTY_PAGES;
    let (server, jc) = setup().await;
    v2_groups_page(&server, 0, groups(0, 100), 100_000).await;
    for page in 1..=u64::from(MAX_EMPTY_PAGES) + 1 {
        v2_groups_page(&server, page * 100, vec![], 100_000).await;
    }
    let err = jc.user_groups().list().all().await.unwrap_err();
    assert!(matches!(err, jumpcloud_api::Error::Paging { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("empty pages in a row"), "{text}");
    assert!(text.contains("incomplete"), "{text}");
}

#[tokio::test]
async fn an_item_listed_twice_is_kept_once() {
    // The last line of defence, for a list that shifts under the reader.
    let (server, jc) = setup().await;
    let mut second = groups(99, 1); // g099 again
    second.extend(groups(100, 50));
    v2_groups_page(&server, 0, groups(0, 100), 151).await;
    v2_groups_page(&server, 100, second, 151).await;
    let all = jc.user_groups().list().all().await.unwrap();
    assert_eq!(all.len(), 150);
    assert_eq!(all.iter().filter(|g| g.id.as_str() == "g099").count(), 1);
}

#[tokio::test]
async fn an_unreadable_record_is_reported_by_id_and_the_rest_of_the_page_kept() {
    let (server, jc) = setup().await;
    let results = json!([
        {"_id": "u1", "username": "ada"},
        {"_id": "u2", "username": ["not", "a", "name"]},
        null,
        {"_id": "u4", "username": "grace", "email": null, "firstname": null,
         "phoneNumbers": null, "attributes": null, "state": null},
    ]);
    Mock::given(method("GET"))
        .and(path("/api/systemusers"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"totalCount": 4, "results": results})),
        )
        .mount(&server)
        .await;
    let listing = jc.users().list().listing().await.unwrap();
    let names: Vec<_> = listing.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["ada", "grace"], "explicit nulls read as absent");
    let skipped: Vec<_> = listing
        .skipped
        .iter()
        .map(|s| (s.id.as_deref(), s.position))
        .collect();
    assert_eq!(skipped, [(Some("u2"), 1), (None, 2)]);
    assert!(
        listing.skipped[1].reason.contains("null"),
        "{:?}",
        listing.skipped[1]
    );
    assert_eq!(jc.users().list().all().await.unwrap().len(), 2);
}

#[tokio::test]
async fn without_a_total_a_short_or_empty_page_ends_the_list() {
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
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    assert!(jc.user_groups().list().all().await.unwrap().is_empty());
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
