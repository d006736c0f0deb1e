//! The fake JumpCloud, tested like product code: through the real client, over HTTP.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jumpcloud_api::Error;
use jumpcloud_api::bulk::WaitOptions;
use jumpcloud_api::fake::{FakeJumpCloud, Fault, Quirks};
use jumpcloud_api::filter::V1Filter;
use jumpcloud_api::ids::UserId;
use jumpcloud_api::models::{NewSystemUser, UserGroupInput, UserState};
use jumpcloud_api::v2::AssociationTarget;

fn person(i: usize) -> NewSystemUser {
    NewSystemUser::new(format!("user{i:03}"), format!("user{i:03}@example.com"))
        .names(format!("User{i}"), "Test")
}

/// Every user the fake holds, by name, straight from its state (not through the client).
fn held_names(fake: &FakeJumpCloud) -> BTreeSet<String> {
    fake.users()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn users_are_read_whole_and_once_through_short_pages_and_phantom_totals() {
    let fake = FakeJumpCloud::start().await;
    for i in 0..250 {
        fake.add_user(person(i));
    }
    let jc = fake.client();
    assert_eq!(jc.users().list().all().await.unwrap().len(), 250);
    let first = jc.users().list().page(0).await.unwrap();
    assert_eq!((first.items.len(), first.total), (100, Some(250)));

    // Every 4th position a phantom, 30 more after the end: pages of 75, totals that promise
    // 363 (250 + 83 phantoms + 30).
    fake.set_quirks(Quirks {
        phantom_every: Some(4),
        phantom_tail: 30,
        ..Quirks::default()
    });
    let short = jc.users().list().page(0).await.unwrap();
    assert_eq!((short.items.len(), short.total), (75, Some(363)));
    let all = jc.users().list().all().await.unwrap();
    let names: Vec<String> = all.iter().map(|u| u.username.clone()).collect();
    let unique: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(names.len(), unique.len(), "no user read twice");
    assert_eq!(unique, held_names(&fake), "every user read");
}

#[tokio::test]
async fn member_lists_are_read_whole_through_a_window_of_empty_pages() {
    let fake = FakeJumpCloud::start().await;
    let group = fake.add_group("Everyone");
    let mut added = BTreeSet::new();
    for i in 0..300 {
        let user = fake.add_user(person(i));
        fake.add_member(&group, &user);
        added.insert(user);
    }
    // Positions 100..350 are phantoms: pages at skip 100 and 200 come back empty.
    fake.set_quirks(Quirks {
        phantom_run: Some((100, 250)),
        ..Quirks::default()
    });
    let jc = fake.client();
    assert!(
        jc.user_groups()
            .members(&group)
            .page(100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let members: BTreeSet<UserId> = jc
        .user_groups()
        .members(&group)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|edge| UserId(edge.to.id))
        .collect();
    assert_eq!(
        members, added,
        "the list did not end at the first empty page"
    );
}

#[tokio::test]
async fn a_read_survives_429s_every_few_requests_and_an_html_500() {
    let fake = FakeJumpCloud::start().await;
    for i in 0..450 {
        fake.add_user(person(i));
    }
    fake.set_quirks(Quirks {
        rate_limit_every: Some(3),
        ..Quirks::default()
    });
    fake.inject([Fault::HtmlError(500)]);
    let jc = fake.client();
    let all = jc.users().list().all().await.unwrap();
    assert_eq!(all.len(), 450);
    assert!(
        fake.requests() > 6,
        "the 429s and the 500 were answered and retried"
    );
}

#[tokio::test]
async fn users_are_created_filtered_updated_activated_and_deleted() {
    let fake = FakeJumpCloud::start().await;
    let jc = fake.client();
    let mut staged = person(1);
    staged.state = Some(UserState::Staged);
    let user = jc.users().create(&staged).await.unwrap();
    assert_eq!(user.state, Some(UserState::Staged));
    let err = jc.users().create(&person(1)).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    let found = jc
        .users()
        .list()
        .filter(V1Filter::new().eq("username", "user001"))
        .all()
        .await
        .unwrap();
    assert_eq!(found[0].id, user.id);
    jc.users().activate(&user.id).await.unwrap();
    assert_eq!(
        jc.users().get(&user.id).await.unwrap().state,
        Some(UserState::Activated)
    );
    jc.users()
        .update_attributes(&user.id, |a| {
            a.push(jumpcloud_api::models::Attribute {
                name: "team".into(),
                value: "sre".into(),
            })
        })
        .await
        .unwrap();
    assert_eq!(jc.users().get(&user.id).await.unwrap().attributes.len(), 1);
    jc.users().delete(&user.id, false).await.unwrap();
    assert!(jc.users().get(&user.id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn groups_members_and_application_bindings_form_a_graph() {
    let fake = FakeJumpCloud::start().await;
    let jc = fake.client();
    let ada = fake.add_user(person(1));
    let grace = fake.add_user(person(2));
    let app = fake.add_application("aws", "AWS SSO");
    let eng = jc
        .user_groups()
        .create(&UserGroupInput::new("Engineering"))
        .await
        .unwrap();
    let duplicate = jc
        .user_groups()
        .create(&UserGroupInput::new("Engineering"))
        .await
        .unwrap_err();
    assert!(duplicate.is_conflict(), "{duplicate}");
    assert_eq!(
        jc.user_groups()
            .find_by_name("Engineering")
            .await
            .unwrap()
            .unwrap()
            .id,
        eng.id
    );

    jc.user_groups().add_member(&eng.id, &ada).await.unwrap();
    jc.user_groups().add_member(&eng.id, &grace).await.unwrap();
    jc.user_groups().add_member(&eng.id, &grace).await.unwrap();
    assert_eq!(
        jc.user_groups().members(&eng.id).all().await.unwrap().len(),
        2,
        "adding twice changes nothing"
    );
    jc.user_groups()
        .remove_member(&eng.id, &grace)
        .await
        .unwrap();
    assert_eq!(fake.members(&eng.id), std::slice::from_ref(&ada));
    assert_eq!(
        jc.users().member_of(&ada).all().await.unwrap()[0].id,
        eng.id.as_str()
    );

    assert!(
        !jc.applications()
            .is_associated(&app, AssociationTarget::UserGroup, eng.id.as_str())
            .await
            .unwrap()
    );
    jc.applications()
        .associate(&app, AssociationTarget::UserGroup, eng.id.as_str())
        .await
        .unwrap();
    assert!(
        jc.applications()
            .is_associated(&app, AssociationTarget::UserGroup, eng.id.as_str())
            .await
            .unwrap()
    );
    let bound = jc.applications().user_groups(&app).all().await.unwrap();
    assert_eq!(bound[0].id, eng.id.as_str());
    let users = jc.applications().users(&app).all().await.unwrap();
    assert_eq!(users.len(), 1);
    assert!(!users[0].is_direct(), "reached through the group");
    let apps = jc.applications().find_by_label("AWS SSO").await.unwrap();
    assert_eq!(apps[0].id, app);

    jc.user_groups().delete(&eng.id).await.unwrap();
    assert!(
        jc.applications()
            .user_groups(&app)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn bulk_jobs_are_pending_for_a_while_then_report_ids_and_failures() {
    let fake = FakeJumpCloud::start().await;
    fake.add_user(person(7));
    fake.set_bulk_pending_polls(2);
    let jc = fake.client();
    let users: Vec<_> = (5..10).map(person).collect();
    let jobs = jc.bulk().create_users(&users).await.unwrap();
    let outcome = jobs
        .wait(&WaitOptions::new(
            Duration::from_millis(5),
            Duration::from_secs(5),
        ))
        .await
        .unwrap();
    assert_eq!(outcome.created.len(), 4);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].username.as_deref(), Some("user007"));
    for created in &outcome.created {
        let user = jc.users().get(&created.id).await.unwrap();
        assert_eq!(
            user.username, created.username,
            "the id is the created user's"
        );
    }
}

#[tokio::test]
async fn injected_faults_exercise_the_clients_retries() {
    let fake = FakeJumpCloud::start().await;
    let jc = fake.client();
    fake.inject([Fault::RateLimited(0), Fault::ServerError(502)]);
    assert!(
        jc.user_groups().list().all().await.unwrap().is_empty(),
        "a 429 and a 502 on a read are retried"
    );
    fake.inject([Fault::ServerError(503)]);
    let err = jc.users().create(&person(1)).await.unwrap_err();
    assert!(
        matches!(err, Error::Unconfirmed { .. }),
        "a create is not resent: {err}"
    );
    assert!(
        jc.users().list().all().await.unwrap().is_empty(),
        "and nothing was created"
    );
}

#[tokio::test]
async fn latency_is_simulated_and_states_are_scheduled() {
    let fake = FakeJumpCloud::start().await;
    let ada = fake.add_user(person(1));
    fake.set_latency(Duration::from_millis(50));
    let jc = fake.client();
    let started = Instant::now();
    jc.users().get(&ada).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    let scheduled = jc
        .bulk()
        .schedule_state(
            std::slice::from_ref(&ada),
            UserState::Suspended,
            "2026-12-01T09:00:00Z",
        )
        .await
        .unwrap();
    assert_eq!(scheduled[0].system_user_id, ada);
    assert_eq!(
        jc.bulk()
            .scheduled_states(Some(&ada))
            .all()
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        jc.bulk()
            .scheduled_states(Some(&UserId::from("other")))
            .all()
            .await
            .unwrap()
            .is_empty()
    );
    jc.bulk()
        .cancel_scheduled_state(&scheduled[0].scheduled_job_id)
        .await
        .unwrap();
    assert!(
        jc.bulk()
            .scheduled_states(None)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
}
