//! End to end through the JumpCloud source connector: the fake JumpCloud (over HTTP, through
//! the real client) → the engine → an in-memory target. The first sync creates exactly the
//! expected objects, the second plan is empty, and seed 002's rules hold when a group is
//! disassociated from the application or deleted. Deleted groups are confirmed by id
//! (`confirm_gone`: 404 is gone, anything else is not), and staged or unknown user states
//! are read as holds, never as inactive.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::ids::{ApplicationId, GroupId, UserId};
use jumpcloud_api::models::NewSystemUser;
use jumpcloud_api::retry::RetryPolicy;
use provisioning_core::apply::{ApplyOptions, apply};
use provisioning_core::connector::{ErrorClass, Source};
use provisioning_core::connectors::jumpcloud::JumpCloudSource;
use provisioning_core::memory::MemoryDirectory;
use provisioning_core::model::{Hold, Scope, Snapshot, User};
use provisioning_core::plan::{Plan, SkipReason};
use provisioning_core::policy::{DeletionGuard, Policy};
use provisioning_core::sync::plan_sync;

struct Demo {
    fake: FakeJumpCloud,
    app: ApplicationId,
    eng: GroupId,
    research: GroupId,
    grace: UserId,
    alan: UserId,
}

async fn demo() -> Demo {
    let fake = FakeJumpCloud::start().await;
    let ada = fake.add_user(NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace"));
    let grace =
        fake.add_user(NewSystemUser::new("grace", "grace@example.com").names("Grace", "Hopper"));
    let alan =
        fake.add_user(NewSystemUser::new("alan", "alan@example.com").names("Alan", "Turing"));
    fake.add_user(NewSystemUser::new("outsider", "outsider@example.com").names("Out", "Sider"));
    let eng = fake.add_group("Engineering");
    let research = fake.add_group("Research");
    let finance = fake.add_group("Finance");
    fake.add_member(&eng, &ada);
    fake.add_member(&eng, &grace);
    fake.add_member(&research, &grace);
    fake.add_member(&research, &alan);
    let outsider_group_member =
        fake.add_user(NewSystemUser::new("bob", "bob@example.com").names("Bob", "B"));
    fake.add_member(&finance, &outsider_group_member);
    let app = fake.add_application("aws", "AWS SSO");
    fake.associate_group(&app, &eng);
    fake.associate_group(&app, &research);
    Demo {
        fake,
        app,
        eng,
        research,
        grace,
        alan,
    }
}

fn deprovisioning() -> Policy {
    let mut policy = Policy::default();
    policy.allow_deprovision = true;
    policy.deletion_guard = DeletionGuard::unlimited();
    policy
}

async fn sync(source: &JumpCloudSource, target: &MemoryDirectory, policy: &Policy) -> Plan {
    let scope = Scope::Application("AWS SSO".into());
    let plan = plan_sync(source, &scope, target, policy)
        .await
        .expect("reads succeed");
    assert!(plan.abort.is_none(), "{:?}", plan.abort);
    let report = apply(&plan, target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "{report:#?}");
    let again = plan_sync(source, &scope, target, policy).await.unwrap();
    assert!(again.is_empty(), "second plan: {:#?}", again.changes);
    plan
}

fn names(snapshot: &Snapshot) -> Vec<String> {
    let mut names: Vec<_> = snapshot.users.iter().map(|u| u.user_name.clone()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_application_scope_reads_its_groups_members_and_nothing_else() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let snapshot = source
        .read(&Scope::Application("AWS SSO".into()))
        .await
        .unwrap();
    assert_eq!(names(&snapshot), ["ada", "alan", "grace"]);
    assert_eq!(snapshot.groups.len(), 2);
    assert_eq!(snapshot.memberships.len(), 4);
    assert_eq!(
        snapshot.groups_out_of_scope.len(),
        1,
        "Finance exists but is not bound"
    );
    // By id too, and by group names.
    let by_id = source
        .read(&Scope::Application(demo.app.to_string()))
        .await
        .unwrap();
    assert_eq!(by_id, snapshot);
    let named = source
        .read(&Scope::Groups(vec!["Research".into()]))
        .await
        .unwrap();
    assert_eq!(names(&named), ["alan", "grace"]);
    let missing = source
        .read(&Scope::Groups(vec!["Nope".into()]))
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("no JumpCloud user group is named \"Nope\"")
    );
    let no_app = source
        .read(&Scope::Application("Salesforce".into()))
        .await
        .unwrap_err();
    assert!(no_app.to_string().contains("no JumpCloud application"));
}

#[tokio::test]
async fn a_first_sync_creates_exactly_the_scope_and_a_second_plan_is_empty() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    let plan = sync(&source, &target, &Policy::default()).await;
    assert_eq!(plan.counts()["create_user"], 3);
    assert_eq!(plan.counts()["create_group"], 2);
    let t = target.snapshot();
    assert_eq!(names(&t), ["ada", "alan", "grace"]);
    assert_eq!(t.memberships.len(), 4);
}

#[tokio::test]
async fn a_disassociated_group_is_left_as_is_and_only_its_exclusive_members_lose_access() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    sync(&source, &target, &Policy::default()).await;
    demo.fake.dissociate_group(&demo.app, &demo.research);
    let plan = sync(&source, &target, &deprovisioning()).await;
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.subject == "Research" && s.reason == SkipReason::LeftScope)
    );
    let t = target.snapshot();
    let active = |name: &str| t.users.iter().find(|u| u.user_name == name).unwrap().active;
    assert!(!active("alan"), "only in Research");
    assert!(active("grace"), "still in Engineering");
    assert!(
        t.groups.iter().any(|g| g.display_name == "Research"),
        "left as-is"
    );
}

#[tokio::test]
async fn a_group_deleted_at_the_source_is_deleted_and_suspended_users_are_deactivated() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    sync(&source, &target, &Policy::default()).await;
    demo.fake.remove_group(&demo.research);
    demo.fake
        .set_user_field(&demo.alan, "state", serde_json::json!("SUSPENDED"));
    let plan = sync(&source, &target, &deprovisioning()).await;
    assert_eq!(plan.counts().get("delete_group"), Some(&1));
    let t = target.snapshot();
    assert!(!t.groups.iter().any(|g| g.display_name == "Research"));
    assert!(
        !t.users
            .iter()
            .find(|u| u.user_name == "alan")
            .unwrap()
            .active
    );
}

#[tokio::test]
async fn a_dry_run_reads_only() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    let before = demo.fake.requests();
    let plan = plan_sync(
        &source,
        &Scope::Application("AWS SSO".into()),
        &target,
        &Policy::default(),
    )
    .await
    .unwrap();
    assert!(!plan.is_empty());
    assert_eq!(target.writes(), 0);
    // Reads: applications, associations, groups, two groups' members, users.
    assert_eq!(demo.fake.requests() - before, 6);
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn confirm_gone_names_only_the_groups_jumpcloud_no_longer_has() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    demo.fake.dissociate_group(&demo.app, &demo.eng); // left the scope, still exists
    demo.fake.remove_group(&demo.research); // deleted
    let before = demo.fake.requests();
    let gone = source
        .confirm_gone(&set(&[
            demo.eng.as_str(),
            demo.research.as_str(),
            "5f0c1b2e3d4a5b6c7d8e9f99", // never existed
            "g1/members",               // cannot be an id: not sent, not confirmed
        ]))
        .await
        .unwrap();
    assert_eq!(
        gone,
        set(&[demo.research.as_str(), "5f0c1b2e3d4a5b6c7d8e9f99"])
    );
    assert_eq!(demo.fake.requests() - before, 3, "one GET per plain id");
    assert!(
        source
            .confirm_gone(&BTreeSet::new())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn confirm_gone_looks_groups_up_a_few_at_a_time() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let ids: Vec<String> = (0..8)
        .map(|n| format!("5f0c1b2e3d4a5b6c7d8e9f{n:02}"))
        .collect();
    demo.fake.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    let gone = source
        .confirm_gone(&ids.iter().cloned().collect())
        .await
        .unwrap();
    assert_eq!(gone.len(), 8);
    // Eight lookups of 150 ms, at most four in flight: at least two rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}: more than four lookups were in flight",
        started.elapsed()
    );
}

/// A mock JumpCloud that fails every unexpected request readably, and a source on it whose
/// client retries three times, fast.
async fn mock_jumpcloud() -> (wiremock::MockServer, JumpCloudSource) {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(500)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let client = jumpcloud_api::Client::builder()
        .api_key("test-key")
        .base_url(server.uri())
        .retry(RetryPolicy::fast(3))
        .build()
        .unwrap();
    (server, JumpCloudSource::new(client))
}

#[tokio::test]
async fn over_http_a_404_is_gone_a_200_is_kept_and_a_failure_is_an_error() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let (server, source) = mock_jumpcloud().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g-gone"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"message": "Not Found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g-kept"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "g-kept", "name": "Research"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let gone = source
        .confirm_gone(&set(&["g-gone", "g-kept"]))
        .await
        .unwrap();
    assert_eq!(gone, set(&["g-gone"]));

    // 500 on every attempt: the client resends the read (3 retries), then gives up, and
    // nothing is confirmed.
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g-broken"))
        .respond_with(ResponseTemplate::new(500).set_body_string("internal error"))
        .expect(4)
        .mount(&server)
        .await;
    let err = source.confirm_gone(&set(&["g-broken"])).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal);
    assert!(
        err.to_string()
            .contains("looking up user group g-broken to learn whether it was deleted"),
        "{err}"
    );
    assert!(
        std::error::Error::source(&err)
            .unwrap()
            .to_string()
            .contains("500"),
        "the cause keeps the status"
    );

    // 503 on every attempt: retried, then a transient error.
    Mock::given(method("GET"))
        .and(path("/api/v2/usergroups/g-down"))
        .respond_with(ResponseTemplate::new(503))
        .expect(4)
        .mount(&server)
        .await;
    let err = source.confirm_gone(&set(&["g-down"])).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
}

fn user<'a>(snapshot: &'a Snapshot, name: &str) -> &'a User {
    snapshot
        .users
        .iter()
        .find(|u| u.user_name == name)
        .unwrap_or_else(|| panic!("{name} is read"))
}

#[tokio::test]
async fn staged_and_unknown_states_are_read_as_holds_and_the_planner_skips_them() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    sync(&source, &target, &Policy::default()).await;

    demo.fake
        .set_user_field(&demo.alan, "state", serde_json::json!("PENDING_REVIEW"));
    demo.fake
        .set_user_field(&demo.grace, "state", serde_json::json!("STAGED"));
    let snapshot = source
        .read(&Scope::Application("AWS SSO".into()))
        .await
        .unwrap();
    assert_eq!(
        user(&snapshot, "alan").hold,
        Some(Hold::UnknownState {
            value: "PENDING_REVIEW".into()
        })
    );
    assert_eq!(user(&snapshot, "grace").hold, Some(Hold::Staged));
    assert_eq!(user(&snapshot, "ada").hold, None);

    let plan = plan_sync(
        &source,
        &Scope::Application("AWS SSO".into()),
        &target,
        &deprovisioning(),
    )
    .await
    .unwrap();
    for name in ["alan", "grace"] {
        assert!(
            plan.skipped
                .iter()
                .any(|s| s.subject == name && matches!(s.reason, SkipReason::Held { .. })),
            "{name} is skipped as held: {:#?}",
            plan.skipped
        );
    }
    assert!(
        plan.is_empty(),
        "a held user's twin is neither deactivated nor removed: {:#?}",
        plan.changes
    );
}

/// JumpCloud answers a group created without a description with `"description": ""`; the
/// engine holds that as no description, or every plan against a target that stores none
/// (the Identity Store refuses an empty one) would repeat an update.
#[tokio::test]
async fn a_group_without_a_description_reads_as_none() {
    let fake = FakeJumpCloud::start().await;
    let ada = fake.add_user(NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace"));
    let bare = fake.add_group("Engineering");
    let blank = fake.add_group_described("Research", "  ");
    let described = fake.add_group_described("Finance", "Pays the bills");
    for group in [&bare, &blank, &described] {
        fake.add_member(group, &ada);
    }
    let raw = fake.client().user_groups().get(&bare).await.unwrap();
    assert_eq!(
        raw.description.as_deref(),
        Some(""),
        "the fake answers as JumpCloud does"
    );

    let source = JumpCloudSource::new(fake.client());
    let scope = Scope::Groups(vec![
        "Engineering".into(),
        "Research".into(),
        "Finance".into(),
    ]);
    let read = source.read(&scope).await.unwrap();
    let description = |name: &str| {
        read.groups
            .iter()
            .find(|g| g.display_name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .description
            .clone()
    };
    assert_eq!(description("Engineering"), None);
    assert_eq!(description("Research"), None);
    assert_eq!(description("Finance").as_deref(), Some("Pays the bills"));
}

/// Every user the fake holds, by id, with their groups: read from the fake's own state, not
/// through the client or the source.
fn fake_state(
    fake: &FakeJumpCloud,
    groups: &[GroupId],
) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let users = fake
        .users()
        .iter()
        .map(|u| u["_id"].as_str().unwrap().to_owned())
        .collect();
    let memberships = groups
        .iter()
        .flat_map(|g| {
            fake.members(g)
                .into_iter()
                .map(move |u| (g.as_str().to_owned(), u.as_str().to_owned()))
        })
        .collect();
    (users, memberships)
}

#[tokio::test]
async fn a_quirky_jumpcloud_is_read_whole_and_once_and_a_sync_converges() {
    // Short pages whose totals count phantoms, a window of empty pages, phantom totals past
    // the end, a 429 every few requests and one nginx HTML 500: the read still returns every
    // user and member exactly once (no false name collisions, no truncated member list).
    use jumpcloud_api::fake::{Fault, Quirks};
    let fake = FakeJumpCloud::start().await;
    let everyone = fake.add_group("Everyone");
    let staff = fake.add_group("Staff");
    for i in 0..300 {
        let user = fake.add_user(
            NewSystemUser::new(format!("user{i:03}"), format!("user{i:03}@example.com"))
                .names(format!("User{i}"), "Test"),
        );
        fake.add_member(&everyone, &user);
        if i % 3 == 0 {
            fake.add_member(&staff, &user);
        }
    }
    let (users, memberships) = fake_state(&fake, &[everyone.clone(), staff.clone()]);
    fake.set_quirks(Quirks {
        phantom_every: Some(7),
        phantom_run: Some((120, 230)),
        phantom_tail: 40,
        rate_limit_every: Some(5),
    });
    fake.inject([Fault::HtmlError(500)]);
    let source = JumpCloudSource::new(fake.client());
    let snapshot = source.read(&Scope::All).await.unwrap();
    let read: Vec<&str> = snapshot.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(read.len(), 300, "no user read twice or lost");
    assert_eq!(
        read.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
        users
    );
    let read_memberships: BTreeSet<(String, String)> = snapshot
        .memberships
        .iter()
        .map(|m| (m.group_id.clone(), m.user_id.clone()))
        .collect();
    assert_eq!(
        read_memberships, memberships,
        "every member list read whole"
    );

    let target = MemoryDirectory::default();
    let plan = plan_sync(&source, &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    assert!(
        plan.skipped.is_empty(),
        "no false collisions: {:#?}",
        plan.skipped
    );
    let report = apply(&plan, &target, &ApplyOptions::default()).await;
    assert!(report.is_success(), "{report:#?}");
    let t = target.snapshot();
    assert_eq!(t.users.len(), 300);
    assert_eq!(t.memberships.len(), memberships.len());
    let again = plan_sync(&source, &Scope::All, &target, &Policy::default())
        .await
        .unwrap();
    assert!(again.is_empty(), "second plan: {:#?}", again.changes);
}

#[tokio::test]
async fn an_unreadable_user_record_is_held_and_its_target_twin_kept() {
    let demo = demo().await;
    let source = JumpCloudSource::new(demo.fake.client());
    let target = MemoryDirectory::default();
    sync(&source, &target, &Policy::default()).await;
    let before = target.snapshot();

    // A record the client cannot read (a username that is not a string): not "absent".
    demo.fake
        .set_user_field(&demo.alan, "username", serde_json::json!({"not": "a name"}));
    let snapshot = source
        .read(&Scope::Application("AWS SSO".into()))
        .await
        .unwrap();
    let alan = snapshot
        .users
        .iter()
        .find(|u| u.id == demo.alan.as_str())
        .expect("the unreadable user is still in the snapshot");
    assert!(
        matches!(alan.hold, Some(Hold::Unreadable { .. })),
        "{:?}",
        alan.hold
    );
    let plan = sync(&source, &target, &deprovisioning()).await;
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.subject == demo.alan.as_str() && matches!(s.reason, SkipReason::Held { .. })),
        "{:#?}",
        plan.skipped
    );
    assert_eq!(target.snapshot(), before, "nothing at the target changed");
}
