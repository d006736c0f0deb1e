//! Smoke test of the Prism test peer: Prism, serving JumpCloud's official v2 spec,
//! accepts a request that follows the spec and rejects one that does not with 422.

use serde_json::json;
use test_peers::Peer;

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test]
async fn prism_accepts_a_valid_v2_member_change() {
    let base = Peer::JumpCloudV2.url();
    let response = http()
        .post(format!(
            "{base}/usergroups/5f0c1b2e3d4a5b6c7d8e9f01/members"
        ))
        .header("x-api-key", "test-key")
        .json(&json!({"op": "add", "type": "user", "id": "5f0c1b2e3d4a5b6c7d8e9f02"}))
        .send()
        .await
        .expect("Prism answers");
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "expected 2xx from Prism, got {status}: {body}"
    );
}

#[tokio::test]
async fn prism_rejects_an_invalid_v2_member_change_with_422() {
    let base = Peer::JumpCloudV2.url();
    let response = http()
        .post(format!("{base}/usergroups/5f0c1b2e3d4a5b6c7d8e9f01/members"))
        .header("x-api-key", "test-key")
        // `op` must be add/remove/update, `type` must be user, and `id` is required.
        .json(&json!({"op": "delete", "type": "system"}))
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(response.status().as_u16(), 422);
    let problem: serde_json::Value = response.json().await.expect("a problem+json body");
    let fields: Vec<String> = problem["validation"]
        .as_array()
        .expect("Prism lists the validation failures")
        .iter()
        .map(|v| v["location"].to_string())
        .collect();
    assert!(
        fields.iter().any(|f| f.contains("op")),
        "the bad `op` is named: {fields:?}"
    );
}

#[tokio::test]
async fn prism_serves_the_v1_spec_at_its_root() {
    let base = Peer::JumpCloudV1.url();
    let response = http()
        .get(format!("{base}/systemusers"))
        .query(&[("limit", "10"), ("skip", "0")])
        .header("x-api-key", "test-key")
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(response.status().as_u16(), 200);
    let list: serde_json::Value = response.json().await.expect("JSON body");
    assert!(
        list["results"].is_array(),
        "v1 lists are {{totalCount, results}}: {list}"
    );
}

// ---- Contract: every request the client can send validates against the official specs ----

mod contract {
    use jumpcloud_api::Client;
    use jumpcloud_api::bulk::BulkUserUpdate;
    use jumpcloud_api::filter::{V1Filter, V2Filter};
    use jumpcloud_api::ids::{ApplicationId, GroupId, ScheduledJobId, UserId};
    use jumpcloud_api::models::{Attribute, NewSystemUser, UserGroupInput, UserState, UserUpdate};
    use jumpcloud_api::retry::RetryPolicy;
    use jumpcloud_api::v1::UserSearch;
    use jumpcloud_api::v2::AssociationTarget;
    use test_peers::Peer;

    const ID: &str = "5f0c1b2e3d4a5b6c7d8e9f01";

    fn prism() -> Client {
        prism_with(Peer::JumpCloudV2)
    }

    /// A client whose v2 requests go to `v2` (the current or the complete 2023 spec).
    fn prism_with(v2: Peer) -> Client {
        Client::builder()
            .api_key("prism-accepts-any-key")
            .v1_base_url(Peer::JumpCloudV1.url())
            .v2_base_url(v2.url())
            .retry(RetryPolicy::none())
            .build()
            .expect("a client for Prism")
    }

    /// Prism answers 422 (or its own 4xx problem) to a request that breaks the spec.
    fn valid<T>(what: &str, result: jumpcloud_api::Result<T>) -> T {
        match result {
            Ok(value) => value,
            Err(err) => panic!("{what}: Prism refused the request: {err}"),
        }
    }

    #[tokio::test]
    async fn v1_user_requests_are_valid() {
        let jc = prism();
        let id = UserId::from(ID);
        valid(
            "list users",
            jc.users()
                .list()
                .filter(V1Filter::new().eq("email", "ada+x@example.com"))
                .page(0)
                .await,
        );
        valid("get user", jc.users().get(&id).await);
        let mut new = NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace");
        new.state = Some(UserState::Staged);
        new.attributes.push(Attribute {
            name: "costCenter".into(),
            value: "blue".into(),
        });
        valid("create user", jc.users().create(&new).await);
        let mut update = UserUpdate::default();
        update.lastname = Some("Byron".into());
        update.state = Some(UserState::Suspended);
        valid("update user", jc.users().update(&id, &update).await);
        valid("delete user", jc.users().delete(&id, true).await);
        valid("activate user", jc.users().activate(&id).await);
        valid(
            "search users",
            jc.users()
                .search_page(&UserSearch::field_equals("department", "R&D"), 0)
                .await,
        );
        valid(
            "search users by text",
            jc.users()
                .search_page(&UserSearch::text("ada", &["email", "username"]), 0)
                .await,
        );
    }

    #[tokio::test]
    async fn v1_application_requests_are_valid() {
        let jc = prism();
        valid("list applications", jc.applications().list().page(0).await);
        valid(
            "get application",
            jc.applications().get(&ApplicationId::from(ID)).await,
        );
    }

    #[tokio::test]
    async fn v2_group_requests_are_valid() {
        for spec in [Peer::JumpCloudV2, Peer::JumpCloudV2Complete] {
            v2_group_requests(prism_with(spec)).await;
        }
    }

    async fn v2_group_requests(jc: Client) {
        let group = GroupId::from(ID);
        let user = UserId::from("5f0c1b2e3d4a5b6c7d8e9f02");
        valid(
            "list groups",
            jc.user_groups()
                .list()
                .filter(V2Filter::new().eq("name", "Test Group"))
                .page(0)
                .await,
        );
        valid("get group", jc.user_groups().get(&group).await);
        valid(
            "create group",
            jc.user_groups()
                .create(&UserGroupInput::new("eng").description("builds"))
                .await,
        );
        valid(
            "update group",
            jc.user_groups()
                .update(&group, &UserGroupInput::new("engineering"))
                .await,
        );
        valid("delete group", jc.user_groups().delete(&group).await);
        valid(
            "list members",
            jc.user_groups().members(&group).page(0).await,
        );
        valid(
            "add member",
            jc.user_groups().add_member(&group, &user).await,
        );
        valid(
            "remove member",
            jc.user_groups().remove_member(&group, &user).await,
        );
        valid(
            "membership",
            jc.user_groups().membership(&group).page(0).await,
        );
        valid(
            "member of",
            jc.users()
                .member_of(&user)
                .filter(V2Filter::new().eq("type", "user_group"))
                .page(0)
                .await,
        );
    }

    #[tokio::test]
    async fn v2_application_requests_are_valid() {
        for spec in [Peer::JumpCloudV2, Peer::JumpCloudV2Complete] {
            v2_application_requests(prism_with(spec)).await;
        }
    }

    async fn v2_application_requests(jc: Client) {
        let app = ApplicationId::from(ID);
        for target in [AssociationTarget::User, AssociationTarget::UserGroup] {
            valid(
                "list associations",
                jc.applications().associations(&app, target).page(0).await,
            );
            valid(
                "associate",
                jc.applications()
                    .associate(&app, target, "5f0c1b2e3d4a5b6c7d8e9f02")
                    .await,
            );
            valid(
                "dissociate",
                jc.applications()
                    .dissociate(&app, target, "5f0c1b2e3d4a5b6c7d8e9f02")
                    .await,
            );
        }
        valid(
            "application user groups",
            jc.applications().user_groups(&app).page(0).await,
        );
        valid(
            "application users",
            jc.applications().users(&app).page(0).await,
        );
        valid(
            "import preview",
            jc.applications().import_preview(&app, 0, 50).await,
        );
    }

    #[tokio::test]
    async fn the_import_job_is_valid_against_the_complete_spec() {
        // The newer PowerShell spec files drop POST /applications/{id}/import/jobs.
        let jc = prism_with(Peer::JumpCloudV2Complete);
        let job = jumpcloud_api::v2::ImportJob::default();
        valid(
            "import job",
            jc.applications()
                .import(&ApplicationId::from(ID), &job)
                .await,
        );
    }

    #[tokio::test]
    async fn v2_bulk_requests_are_valid() {
        for spec in [Peer::JumpCloudV2, Peer::JumpCloudV2Complete] {
            v2_bulk_requests(prism_with(spec)).await;
        }
    }

    async fn v2_bulk_requests(jc: Client) {
        let users = vec![NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace")];
        let jobs = valid("bulk create", jc.bulk().create_users(&users).await);
        valid(
            "bulk results",
            jc.bulk().results(&jobs.job_ids()[0]).page(0).await,
        );
        let update = BulkUserUpdate::new(UserId::from(ID)).set("department", "Research");
        valid("bulk update", jc.bulk().update_users(&[update]).await);
        let user = UserId::from(ID);
        valid(
            "schedule state",
            jc.bulk()
                .schedule_state(
                    std::slice::from_ref(&user),
                    UserState::Suspended,
                    "2026-12-01T09:00:00Z",
                )
                .await,
        );
        valid(
            "scheduled states",
            jc.bulk().scheduled_states(Some(&user)).page(0).await,
        );
        valid(
            "cancel scheduled state",
            jc.bulk()
                .cancel_scheduled_state(&ScheduledJobId::from(ID))
                .await,
        );
    }
}
