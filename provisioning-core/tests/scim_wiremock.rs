//! The SCIM target's contracts that scim2-server cannot show: IAM Identity Center's empty
//! `members` and cursor paging, throttled reads, an expired token, membership PATCHes of at
//! most 100 changes in the filter-path form, Pulumi's attribute whitelist, and the members
//! adopted groups keep (recorded in the ownership record, beside `externalId` marks).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use provisioning_core::connector::{ErrorClass, Target, TargetReader};
use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
use provisioning_core::connectors::scim::client::{Paging, Resource, ScimClient};
use provisioning_core::connectors::scim::{Profile, ScimTarget};
use provisioning_core::mapping::TargetField;
use provisioning_core::model::{ExternalId, Group, Membership, User};
use provisioning_core::plan::Operation;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn setup(profile: Profile) -> (MockServer, ScimTarget) {
    let server = MockServer::start().await;
    // Anything unexpected fails readably instead of as a bare 404.
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(500)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let target = target_on(&server, profile);
    (server, target)
}

/// A target on `server`'s `/scim/v2`, retrying fast.
fn target_on(server: &MockServer, profile: Profile) -> ScimTarget {
    let client = ScimClient::builder(format!("{}/scim/v2", server.uri()), "tok3n".into())
        .fast_retries()
        .build()
        .unwrap();
    ScimTarget::new(client, profile)
}

fn list(resources: Value, next_cursor: Option<&str>) -> ResponseTemplate {
    let mut body =
        json!({"itemsPerPage": resources.as_array().unwrap().len(), "Resources": resources});
    if let Some(cursor) = next_cursor {
        body["nextCursor"] = json!(cursor);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn aws_reads_follow_cursors_and_list_members_per_group() {
    let (server, target) = setup(Profile::AwsIdentityCenter).await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("cursor", ""))
        .and(query_param("count", "100"))
        .and(header("authorization", "Bearer tok3n"))
        .respond_with(list(json!([{"id": "u1", "userName": "ada"}]), Some("c2")))
        .expect(1)
        .mount(&server)
        .await;
    // A short page with a cursor is not the end.
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("cursor", "c2"))
        .respond_with(list(
            json!([{"id": "u2", "userName": "grace", "externalId": "identity-provisioning:jc2"}]),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Groups"))
        .respond_with(list(
            json!([{"id": "g1", "displayName": "Engineering", "members": []}]),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("filter", "groups.value eq \"g1\""))
        .respond_with(list(json!([{"id": "u2", "userName": "grace"}]), None))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;

    let snapshot = target.read().await.unwrap();
    assert_eq!(snapshot.users.len(), 2);
    let grace = snapshot.users.iter().find(|u| u.id == "u2").unwrap();
    assert_eq!(grace.external_id.as_ref().unwrap().id, "jc2");
    let members: Vec<_> = snapshot
        .memberships
        .iter()
        .map(|m| m.user_id.as_str())
        .collect();
    assert_eq!(members, ["u2"]);
}

#[tokio::test]
async fn a_throttled_read_waits_and_an_expired_token_says_so() {
    let (server, target) = setup(Profile::Generic).await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("filter", "userName eq \"ada+x@example.com\""))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
            "Resources": [{"id": "u1", "userName": "Ada+X@example.com"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let found = target.find_user("ada+x@example.com").await.unwrap();
    assert_eq!(
        found.unwrap().id,
        "u1",
        "matched case-insensitively, + kept"
    );

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"status": "401", "detail": "expired"})),
        )
        .mount(&server)
        .await;
    let err = target.read().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Denied);
    let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(chain.contains("expired or is wrong"), "{chain}");
    assert!(!chain.contains("tok3n"), "{chain}");
}

#[tokio::test]
async fn member_changes_go_in_patches_of_at_most_100_in_the_filter_path_form() {
    let (server, target) = setup(Profile::AwsIdentityCenter).await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Groups/g1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(4)
        .mount(&server)
        .await;
    let users: Vec<String> = (0..150).map(|i| format!("u{i}")).collect();
    let add = Operation::AddMembers {
        group: "g1".into(),
        users: users.clone(),
    };
    target.write(&add).await.unwrap();
    let remove = Operation::RemoveMembers {
        group: "g1".into(),
        users,
    };
    target.write(&remove).await.unwrap();

    let patches: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "PATCH")
        .map(|r| r.body_json().unwrap())
        .collect();
    let adds = &patches[..2];
    assert_eq!(
        adds[0]["Operations"][0]["value"].as_array().unwrap().len(),
        100
    );
    assert_eq!(
        adds[1]["Operations"][0]["value"].as_array().unwrap().len(),
        50
    );
    let removes = &patches[2..];
    assert_eq!(removes[0]["Operations"].as_array().unwrap().len(), 100);
    assert_eq!(removes[1]["Operations"].as_array().unwrap().len(), 50);
    for op in removes
        .iter()
        .flat_map(|p| p["Operations"].as_array().unwrap())
    {
        assert_eq!(op["op"], "remove");
        assert!(
            op["path"]
                .as_str()
                .unwrap()
                .starts_with("members[value eq \""),
            "{op}"
        );
        assert!(
            op.get("value").is_none(),
            "never the value-array remove: {op}"
        );
    }
}

#[tokio::test]
async fn pulumi_refuses_attributes_it_cannot_store_before_sending_anything() {
    let (server, target) = setup(Profile::Pulumi).await;
    let mut user = User::new("u1", "ada").with_names("Ada", "Lovelace");
    user.attributes.insert("costCenter".into(), "42".into());
    let update = Operation::UpdateUser {
        id: "u1".into(),
        user,
        fields: vec![TargetField::Attribute("costCenter".into())],
    };
    let err = target.write(&update).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Invalid);
    assert!(
        err.to_string()
            .contains("remove it from the attribute mapping"),
        "{err}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deactivation_is_one_patch_of_active_false() {
    let (server, target) = setup(Profile::Pulumi).await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Users/u1"))
        .and(body_partial_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}]
        })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    target
        .write(&Operation::DeactivateUser { id: "u1".into() })
        .await
        .unwrap();
    let err = target
        .write(&Operation::DeleteUser { id: "u1".into() })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot delete users"), "{err}");
}

#[tokio::test]
async fn a_replace_sends_back_the_attributes_it_does_not_know() {
    let server = MockServer::start().await;
    let stored = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1", "userName": "ada", "active": true,
        "urn:example:custom": {"badge": 7},
        "meta": {"resourceType": "User"}
    });
    Mock::given(method("GET"))
        .and(path("/v2/Users/u1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(stored.clone()))
        .mount(&server)
        .await;
    let mut replaced = stored.clone();
    replaced["active"] = json!(false);
    Mock::given(method("PUT"))
        .and(path("/v2/Users/u1"))
        .and(wiremock::matchers::body_json(replaced.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(replaced))
        .expect(1)
        .mount(&server)
        .await;
    let scim = ScimClient::builder(format!("{}/v2", server.uri()), "t".into())
        .build()
        .unwrap();
    let mut user: provisioning_core::connectors::scim::resources::ScimUser =
        scim.get_one(Resource::Users, "u1").await.unwrap();
    user.active = Some(false);
    let back = scim.replace(Resource::Users, "u1", &user).await.unwrap();
    assert_eq!(back.extra["urn:example:custom"]["badge"], 7);
}

#[tokio::test]
async fn a_start_index_of_zero_is_read_as_the_first_page_not_a_panic() {
    let (server, target) = setup(Profile::Generic).await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("startIndex", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": 1, "startIndex": 0, "itemsPerPage": 1,
            "Resources": [{"id": "u1", "userName": "ada"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Groups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": 0, "startIndex": 0, "itemsPerPage": 0, "Resources": []
        })))
        .mount(&server)
        .await;
    let snapshot = target.read().await.unwrap();
    assert_eq!(snapshot.users.len(), 1);
}

fn temp_record(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "scim-kept-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("record.jsonl")
}

/// Users `u1`, `u2`, `u3`, all members of group `g1` (with `externalId` when given). The
/// mocks stay as they are, so a membership a write removes still reads as present: what a
/// read reports kept is then only what the record still holds.
async fn mount_directory(server: &MockServer, group_external_id: Option<&str>) {
    let users: Vec<Value> = ["u1", "u2", "u3"]
        .iter()
        .map(|id| json!({"id": id, "userName": format!("{id}@example.com")}))
        .collect();
    let mut group = json!({
        "id": "g1", "displayName": "Engineering",
        "members": [{"value": "u1"}, {"value": "u2"}, {"value": "u3"}]
    });
    if let Some(value) = group_external_id {
        group["externalId"] = json!(value);
    }
    for (resource, items) in [("Users", Value::Array(users)), ("Groups", json!([group]))] {
        let n = items.as_array().unwrap().len();
        Mock::given(method("GET"))
            .and(path(format!("/scim/v2/{resource}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "totalResults": n, "startIndex": 1, "itemsPerPage": n, "Resources": items
            })))
            .mount(server)
            .await;
    }
}

fn adopt(keep: &[&str]) -> Operation<String> {
    let mut group = Group::new("g1", "Engineering");
    group.external_id = Some(ExternalId::new("identity-provisioning", "jc-g1"));
    Operation::UpdateGroup {
        id: "g1".into(),
        group,
        keep_members: keep.iter().map(|u| (*u).to_owned()).collect(),
    }
}

fn kept(users: &[&str]) -> BTreeSet<Membership> {
    users
        .iter()
        .map(|u| Membership {
            group_id: "g1".into(),
            user_id: (*u).to_owned(),
        })
        .collect()
}

async fn kept_now(target: &ScimTarget) -> BTreeSet<Membership> {
    target.read().await.unwrap().kept_memberships
}

fn with_record(target: ScimTarget, file: &Path) -> ScimTarget {
    target.with_ownership(OwnershipRecord::open(file).unwrap())
}

#[tokio::test]
async fn an_adoption_keeps_its_members_in_the_record_and_the_mark_stays_in_external_id() {
    let (server, target) = setup(Profile::Generic).await;
    // A stale link in the record: a profile that stores externalId never reads it.
    let file = temp_record("generic");
    let seeded = OwnershipRecord::open(&file).unwrap();
    seeded
        .set(Kind::Group, "g1", ExternalId::new("stale", "x"))
        .unwrap();
    drop(seeded);
    let target = with_record(target, &file);
    mount_directory(&server, Some("identity-provisioning:jc-g1")).await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Groups/g1"))
        .and(body_partial_json(json!({"Operations": [
            {"op": "replace", "path": "displayName", "value": "Engineering"},
            {"op": "replace", "path": "externalId", "value": "identity-provisioning:jc-g1"}
        ]})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    // `u9` is not a member: recorded, but not reported.
    target.write(&adopt(&["u2", "u3", "u9"])).await.unwrap();
    let read = target.read().await.unwrap();
    assert_eq!(read.kept_memberships, kept(&["u2", "u3"]));
    let mark = read.groups[0].external_id.clone().unwrap();
    assert_eq!(mark, ExternalId::new("identity-provisioning", "jc-g1"));
    let record = std::fs::read_to_string(&file).unwrap();
    assert!(
        !record.contains("jc-g1"),
        "the mark went to externalId, not to the record:\n{record}"
    );

    drop(target);
    let reopened = with_record(target_on(&server, Profile::Generic), &file);
    let read = reopened.read().await.unwrap();
    assert_eq!(read.kept_memberships, kept(&["u2", "u3"]), "after a reopen");
    assert_eq!(read.groups[0].external_id, Some(mark));
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn pulumi_keeps_its_marks_and_its_kept_members_in_one_file_across_a_reopen() {
    let (server, target) = setup(Profile::Pulumi).await;
    let file = temp_record("pulumi");
    let target = with_record(target, &file);
    mount_directory(&server, None).await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Groups/g1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    target.write(&adopt(&["u1", "u3"])).await.unwrap();
    let patch: Value = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .find(|r| r.method.as_str() == "PATCH")
        .unwrap()
        .body_json()
        .unwrap();
    assert_eq!(
        patch["Operations"].as_array().unwrap().len(),
        1,
        "no externalId for Pulumi: {patch}"
    );
    drop(target);

    let reopened = with_record(target_on(&server, Profile::Pulumi), &file);
    let read = reopened.read().await.unwrap();
    assert_eq!(read.kept_memberships, kept(&["u1", "u3"]));
    assert_eq!(
        read.groups[0].external_id,
        Some(ExternalId::new("identity-provisioning", "jc-g1")),
        "the mark came back from the record"
    );
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn member_changes_and_deletions_forget_kept_members() {
    let (server, target) = setup(Profile::Generic).await;
    mount_directory(&server, None).await;
    for (verb, at) in [
        ("PATCH", "/scim/v2/Groups/g1"),
        ("DELETE", "/scim/v2/Users/u2"),
        ("DELETE", "/scim/v2/Groups/g1"),
    ] {
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
    }
    target.write(&adopt(&["u1", "u2", "u3"])).await.unwrap();
    let remove = Operation::RemoveMembers {
        group: "g1".into(),
        users: vec!["u1".into()],
    };
    target.write(&remove).await.unwrap();
    assert_eq!(kept_now(&target).await, kept(&["u2", "u3"]), "removed");
    target
        .write(&Operation::DeleteUser { id: "u2".into() })
        .await
        .unwrap();
    assert_eq!(kept_now(&target).await, kept(&["u3"]), "its user deleted");
    let add = Operation::AddMembers {
        group: "g1".into(),
        users: vec!["u3".into()],
    };
    target.write(&add).await.unwrap();
    assert_eq!(
        kept_now(&target).await,
        kept(&[]),
        "added by the engine: its own"
    );

    target.write(&adopt(&["u1"])).await.unwrap();
    assert_eq!(kept_now(&target).await, kept(&["u1"]));
    target
        .write(&Operation::DeleteGroup { id: "g1".into() })
        .await
        .unwrap();
    assert_eq!(kept_now(&target).await, kept(&[]), "its group deleted");
}

#[tokio::test]
async fn a_failed_adoption_keeps_no_member() {
    let (server, target) = setup(Profile::Generic).await;
    mount_directory(&server, None).await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Groups/g1"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"status": "404", "detail": "gone"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    target.write(&adopt(&["u1", "u2"])).await.unwrap_err();
    assert!(target.read().await.unwrap().kept_memberships.is_empty());
}

/// The names of the Unicode lookups: "Renée" with a precomposed é (NFC) and with e + U+0301
/// (NFD), and the Turkish dotted capital İ.
const RENEE_NFC: &str = "ren\u{e9}e@example.com";
const RENEE_NFD: &str = "rene\u{301}e@example.com";

/// Answers `filter` with `resources` (and counts the request).
async fn answer(server: &MockServer, resource: &str, filter: &str, resources: Value) {
    let n = resources.as_array().unwrap().len();
    Mock::given(method("GET"))
        .and(path(format!("/scim/v2/{resource}")))
        .and(query_param("filter", filter))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": n, "startIndex": 1, "itemsPerPage": n, "Resources": resources
        })))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn find_user_asks_for_the_other_normalisation_form_when_the_first_misses() {
    let (server, target) = setup(Profile::Generic).await;
    // A server comparing bytes: the NFD name is found only by its NFD spelling.
    answer(
        &server,
        "Users",
        &format!("userName eq \"{RENEE_NFC}\""),
        json!([]),
    )
    .await;
    answer(
        &server,
        "Users",
        &format!("userName eq \"{RENEE_NFD}\""),
        json!([{"id": "u1", "userName": RENEE_NFD}]),
    )
    .await;
    let found = target
        .find_user(RENEE_NFC)
        .await
        .unwrap()
        .expect("found by its NFD spelling");
    assert_eq!(
        (found.id.as_str(), found.user_name.as_str()),
        ("u1", RENEE_NFD)
    );

    // And the other way round: an NFD source name, an NFC target name.
    server.reset().await;
    answer(
        &server,
        "Users",
        &format!("userName eq \"{RENEE_NFD}\""),
        json!([]),
    )
    .await;
    answer(
        &server,
        "Users",
        &format!("userName eq \"{RENEE_NFC}\""),
        json!([{"id": "u2", "userName": RENEE_NFC}]),
    )
    .await;
    assert_eq!(target.find_user(RENEE_NFD).await.unwrap().unwrap().id, "u2");
}

#[tokio::test]
async fn find_user_keeps_case_variants_and_drops_candidates_whose_folded_name_differs() {
    let (server, target) = setup(Profile::Generic).await;
    // A case-insensitive server answers a case variant of the NFC spelling: one request.
    answer(
        &server,
        "Users",
        &format!("userName eq \"{RENEE_NFC}\""),
        json!([{"id": "u1", "userName": "REN\u{c9}E@example.com"}]),
    )
    .await;
    assert_eq!(target.find_user(RENEE_NFC).await.unwrap().unwrap().id, "u1");

    // A loose server (or one folding İ to i) answers names the engine holds for different
    // ones: İ folds to i + U+0307, never to a plain i or I, nor to the dotless ı.
    server.reset().await;
    let loose = json!([
        {"id": "u2", "userName": "istanbul@example.com"},
        {"id": "u3", "userName": "Istanbul@example.com"},
        {"id": "u4", "userName": "\u{131}stanbul@example.com"}
    ]);
    answer(
        &server,
        "Users",
        "userName eq \"\u{130}stanbul@example.com\"",
        loose.clone(),
    )
    .await;
    answer(
        &server,
        "Users",
        "userName eq \"I\u{307}stanbul@example.com\"",
        loose,
    )
    .await;
    assert_eq!(
        target
            .find_user("\u{130}stanbul@example.com")
            .await
            .unwrap(),
        None,
        "never an object whose folded name differs"
    );

    // The dotted i, however composed, is the same name.
    server.reset().await;
    answer(
        &server,
        "Users",
        "userName eq \"\u{130}stanbul@example.com\"",
        json!([{"id": "u5", "userName": "i\u{307}stanbul@example.com"}]),
    )
    .await;
    assert_eq!(
        target
            .find_user("\u{130}stanbul@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        "u5"
    );
}

#[tokio::test]
async fn find_group_matches_folded_names_in_either_normalisation_form() {
    let (server, target) = setup(Profile::Generic).await;
    let (nfc, nfd) = ("Caf\u{e9} Staff", "Cafe\u{301} Staff");
    answer(
        &server,
        "Groups",
        &format!("displayName eq \"{nfc}\""),
        json!([]),
    )
    .await;
    answer(
        &server,
        "Groups",
        &format!("displayName eq \"{nfd}\""),
        json!([{"id": "g1", "displayName": "CAFE\u{301} STAFF"}]),
    )
    .await;
    let found = target
        .find_group(nfc)
        .await
        .unwrap()
        .expect("found, case aside");
    assert_eq!(found.id, "g1");

    server.reset().await;
    answer(
        &server,
        "Groups",
        "displayName eq \"Ops\"",
        json!([{"id": "g2", "displayName": "Ops-2"}]),
    )
    .await;
    assert_eq!(target.find_group("Ops").await.unwrap(), None);
}

fn client_on(server: &MockServer) -> ScimClient {
    ScimClient::builder(format!("{}/scim/v2", server.uri()), "tok3n".into())
        .fast_retries()
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_server_that_ignores_start_index_is_an_error_not_a_list_read_twice() {
    let (server, _) = setup(Profile::Generic).await;
    let users: Vec<Value> = (0..100)
        .map(|i| json!({"id": format!("u{i}"), "userName": format!("user{i}")}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": 250, "startIndex": 1, "itemsPerPage": 100, "Resources": users
        })))
        .mount(&server)
        .await;
    let err = client_on(&server)
        .list::<Value>(Resource::Users, None, Paging::Index)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no progress"), "{err}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "stopped at once"
    );
}

#[tokio::test]
async fn a_cursor_cycle_is_an_error_not_an_endless_list() {
    let (server, _) = setup(Profile::Generic).await;
    for (asked, next) in [("", "A"), ("A", "B"), ("B", "A")] {
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users"))
            .and(query_param("cursor", asked))
            .respond_with(list(
                json!([{"id": format!("u{asked}"), "userName": "x"}]),
                Some(next),
            ))
            .mount(&server)
            .await;
    }
    let err = client_on(&server)
        .list::<Value>(Resource::Users, None, Paging::Cursor)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("returned before"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_answer_over_32_mib_is_an_error_read_no_further() {
    let (server, _) = setup(Profile::Generic).await;
    let huge = "x".repeat(33 * 1024 * 1024);
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(list(json!([{"id": "u1", "userName": huge}]), None))
        .mount(&server)
        .await;
    let err = client_on(&server)
        .list::<Value>(Resource::Users, None, Paging::Cursor)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            provisioning_core::connectors::scim::client::Error::TooLarge { .. }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_write_answered_with_over_32_mib_is_an_error_read_no_further() {
    let (server, _) = setup(Profile::Generic).await;
    let huge = "x".repeat(33 * 1024 * 1024);
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "u1", "userName": huge})),
        )
        .mount(&server)
        .await;
    let err = client_on(&server)
        .create::<Value>(Resource::Users, &json!({"userName": "ada"}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            provisioning_core::connectors::scim::client::Error::TooLarge { .. }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_ignores_start_index_and_does_not_say_where_it_starts_is_an_error() {
    // No startIndex in the answer: the client cannot see that the server went back; the same
    // page again is what gives it away (it used to read on to the 100,000-page cap).
    let (server, _) = setup(Profile::Generic).await;
    let users: Vec<Value> = (0..100)
        .map(|i| json!({"id": format!("u{i}"), "userName": format!("user{i}")}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalResults": 1_000_000, "itemsPerPage": 100, "Resources": users
        })))
        .mount(&server)
        .await;
    let listed = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        client_on(&server).list::<Value>(Resource::Users, None, Paging::Index),
    )
    .await
    .expect("the list ends instead of reading to the page cap");
    let err = listed.unwrap_err();
    assert!(err.to_string().contains("same page"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

/// Serves `users` and `groups` as one page each.
async fn serve_directory(server: &MockServer, users: Value, groups: Value) {
    for (resource, resources) in [("Users", users), ("Groups", groups)] {
        Mock::given(method("GET"))
            .and(path(format!("/scim/v2/{resource}")))
            .respond_with(list(resources, None))
            .mount(server)
            .await;
    }
}

/// A source holding ada (`s1`) in Engineering (`sg1`), and `more` users outside it.
fn source_with(more: &[(&str, &str)]) -> provisioning_core::memory::MemoryDirectory {
    let mut snapshot = provisioning_core::model::Snapshot::default();
    snapshot.users.push(User::new("s1", "ada"));
    for (id, name) in more {
        snapshot.users.push(User::new(*id, *name));
    }
    snapshot.groups.push(Group::new("sg1", "Engineering"));
    snapshot.add_membership("sg1", "s1");
    provisioning_core::memory::MemoryDirectory::new(snapshot)
}

fn deprovisioning() -> provisioning_core::policy::Policy {
    let mut policy = provisioning_core::policy::Policy::default();
    policy.allow_deprovision = true;
    policy.deletion_guard = provisioning_core::policy::DeletionGuard::unlimited();
    policy
}

#[tokio::test]
async fn an_unreadable_user_is_held_by_its_id_and_keeps_its_memberships() {
    use provisioning_core::model::{Hold, Scope};
    use provisioning_core::plan::SkipReason;

    let (server, target) = setup(Profile::Generic).await;
    serve_directory(
        &server,
        json!([
            {"id": "u1", "userName": "ada", "externalId": "identity-provisioning:s1"},
            // Bob left the source; his record is unreadable (`active` is a number).
            {"id": "u2", "userName": "bob", "externalId": "identity-provisioning:s2", "active": 3}
        ]),
        json!([
            {"id": "g1", "displayName": "Engineering", "externalId": "identity-provisioning:sg1",
             "members": [{"value": "u1"}, {"value": "u2"}]},
            // An unreadable group (a displayName that is not a string): left out.
            {"id": "g2", "displayName": 5, "externalId": "identity-provisioning:sg2",
             "members": [{"value": "u1"}]}
        ]),
    )
    .await;
    let snapshot = target
        .read()
        .await
        .expect("unreadable records do not fail the read");
    let held = snapshot
        .users
        .iter()
        .find(|u| u.id == "u2")
        .expect("bob is held");
    assert!(
        matches!(held.hold, Some(Hold::Unreadable { .. })),
        "{:?}",
        held.hold
    );
    assert!(snapshot.memberships.contains(&Membership {
        group_id: "g1".into(),
        user_id: "u2".into()
    }));
    assert!(
        snapshot.groups.iter().all(|g| g.id != "g2"),
        "the unreadable group is left out"
    );

    let plan = provisioning_core::sync::plan_sync(
        &source_with(&[]),
        &Scope::All,
        &target,
        &deprovisioning(),
    )
    .await
    .unwrap();
    let removing = plan.changes.iter().filter(|c| {
        matches!(
            c.operation,
            Operation::RemoveMembers { .. }
                | Operation::DeleteUser { .. }
                | Operation::DeactivateUser { .. }
                | Operation::DeleteGroup { .. }
        )
    });
    assert_eq!(
        removing.count(),
        0,
        "no access removed: {:#?}",
        plan.changes
    );
    assert!(
        plan.changes
            .iter()
            .all(|c| !format!("{:?}", c.operation).contains("u2")),
        "nothing is planned for the held user: {:#?}",
        plan.changes
    );
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.subject == "target user u2" && matches!(s.reason, SkipReason::Held { .. })),
        "{:#?}",
        plan.skipped
    );
}

#[tokio::test]
async fn a_source_user_linked_to_an_unreadable_target_user_is_skipped_not_created_again() {
    use provisioning_core::model::Scope;
    use provisioning_core::plan::SkipReason;

    let (server, target) = setup(Profile::Pulumi).await;
    // Pulumi keeps no externalId: the links are in the ownership record.
    let record = OwnershipRecord::in_memory();
    let mark = |id: &str| ExternalId::new("identity-provisioning", id);
    record.set(Kind::User, "u1", mark("s1")).unwrap();
    record.set(Kind::User, "u2", mark("s2")).unwrap();
    record.set(Kind::Group, "g1", mark("sg1")).unwrap();
    let target = target.with_ownership(record);
    serve_directory(
        &server,
        json!([
            {"id": "u1", "userName": "ada"},
            {"id": "u2", "userName": "bob", "active": {"not": "a flag"}}
        ]),
        json!([{"id": "g1", "displayName": "Engineering", "members": [{"value": "u1"}]}]),
    )
    .await;
    let plan = provisioning_core::sync::plan_sync(
        &source_with(&[("s2", "bob")]),
        &Scope::All,
        &target,
        &deprovisioning(),
    )
    .await
    .unwrap();
    assert!(
        plan.changes
            .iter()
            .all(|c| !matches!(c.operation, Operation::CreateUser { .. })),
        "bob's twin exists, unreadable: no second bob: {:#?}",
        plan.changes
    );
    assert!(
        plan.skipped.iter().any(|s| s.subject == "bob"
            && matches!(&s.reason, SkipReason::TwinHeld { twin, .. } if twin == "u2")),
        "{:#?}",
        plan.skipped
    );
}
