use std::time::Duration;

use jumpcloud_api::Error;
use jumpcloud_api::bulk::{BulkUserUpdate, WaitOptions};
use jumpcloud_api::ids::JobId;
use jumpcloud_api::models::NewSystemUser;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::setup;

fn quick() -> WaitOptions {
    WaitOptions::new(Duration::from_millis(10), Duration::from_secs(5))
}

#[tokio::test]
async fn bulk_creates_are_split_into_jobs_of_800() {
    let (server, jc) = setup().await;
    let sizes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = sizes.clone();
    Mock::given(method("POST"))
        .and(path("/api/v2/bulk/users"))
        .respond_with(move |req: &Request| {
            let body: Vec<Value> = serde_json::from_slice(&req.body).unwrap();
            let mut sizes = seen.lock().unwrap();
            sizes.push(body.len());
            ResponseTemplate::new(201)
                .set_body_json(json!({"jobId": format!("job{}", sizes.len())}))
        })
        .expect(3)
        .mount(&server)
        .await;
    let users: Vec<_> = (0..1_700)
        .map(|i| NewSystemUser::new(format!("user{i}"), format!("user{i}@example.com")))
        .collect();
    let jobs = jc.bulk().create_users(&users).await.unwrap();
    assert_eq!(*sizes.lock().unwrap(), [800, 800, 100]);
    assert_eq!(
        jobs.job_ids(),
        [
            JobId::from("job1"),
            JobId::from("job2"),
            JobId::from("job3")
        ]
    );
}

#[tokio::test]
async fn a_job_is_polled_until_every_item_is_final_and_reports_ids_and_failures() {
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/bulk/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jobId": "j1"})))
        .mount(&server)
        .await;
    // First poll: nothing processed yet; second: one pending; then final.
    Mock::given(method("GET"))
        .and(path("/api/v2/bulk/users/j1/results"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/bulk/users/j1/results"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "r1", "status": "finished", "persistedFields": {"username": "ada", "_id": "u-ada"}},
            {"id": "r2", "status": "pending", "meta": {"username": "grace"}},
            {"id": "r3", "status": "pending", "meta": {"username": "alan"}}])))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/bulk/users/j1/results"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "r1", "status": "finished", "persistedFields": {"username": "ada", "_id": "u-ada"}},
            {"id": "r2", "status": "failed", "statusMsg": "email already in use", "meta": {"username": "grace"}},
            {"id": "r3", "status": "finished", "meta": {"username": "alan"}}])))
        .with_priority(3)
        .mount(&server)
        .await;
    // alan's result carries no id: it is looked up by user name.
    Mock::given(method("GET"))
        .and(path("/api/systemusers"))
        .and(query_param("filter", "username:$eq:alan"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"totalCount": 1, "results": [{"_id": "u-alan", "username": "alan"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let users: Vec<_> = ["ada", "grace", "alan"]
        .iter()
        .map(|u| NewSystemUser::new(*u, format!("{u}@example.com")))
        .collect();
    let outcome = jc
        .bulk()
        .create_users(&users)
        .await
        .unwrap()
        .wait(&quick())
        .await
        .unwrap();
    let created: Vec<_> = outcome
        .created
        .iter()
        .map(|c| (c.username.as_str(), c.id.as_str()))
        .collect();
    assert_eq!(created, [("ada", "u-ada"), ("alan", "u-alan")]);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].username.as_deref(), Some("grace"));
    assert_eq!(outcome.failed[0].message, "email already in use");
}

#[tokio::test]
async fn a_job_id_is_not_a_created_user() {
    // jcapi-python#37: the job "finished" but the user does not exist.
    let (server, jc) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/bulk/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jobId": "j1"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/bulk/users/j1/results"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": "r1", "status": "finished"}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/systemusers"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"totalCount": 0, "results": []})),
        )
        .mount(&server)
        .await;
    let outcome = jc
        .bulk()
        .create_users(&[NewSystemUser::new("ghost", "ghost@example.com")])
        .await
        .unwrap()
        .wait(&quick())
        .await
        .unwrap();
    assert!(outcome.created.is_empty());
    assert_eq!(outcome.failed[0].username.as_deref(), Some("ghost"));
}

#[tokio::test]
async fn polling_stops_at_the_deadline_with_what_is_pending() {
    let (server, jc) = setup().await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/bulk/users"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"jobId": "j2"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/bulk/users/j2/results"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": "r1", "status": "pending"}])),
        )
        .mount(&server)
        .await;
    let jobs = jc
        .bulk()
        .update_users(&[BulkUserUpdate::new("u1".into()).set("department", "Research")])
        .await
        .unwrap();
    let err = jobs
        .wait(&WaitOptions::new(
            Duration::from_millis(10),
            Duration::from_millis(100),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JobTimeout { pending: 1, .. }), "{err}");
}
