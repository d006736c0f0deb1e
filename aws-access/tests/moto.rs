//! aws-access against a live moto server: Identity Store CRUD, lists, lookups and
//! memberships; IAM role policies; EC2 DryRun probes, allowed and denied, and the live probe;
//! SSM SecureString; identity store discovery.

use std::collections::BTreeSet;
use std::num::NonZeroU32;

use aws_access::config::{IdentityStoreRef, resolve_identity_store};
use aws_access::ec2::{Ec2Access, Outcome, ProbeSpec, SdkEc2};
use aws_access::iam::{AttachOutcome, DetachOutcome, RolePolicies, SdkRolePolicies};
use aws_access::identity_store::{
    GroupId, GroupLookup, IdentityStore, NewUser, OnConflict, SdkIdentityStore, UserChange,
    UserLookup,
};
use aws_access::ssm::{Parameters, SdkParameters};
use aws_sdk_identitystore::types::Name;
use futures::TryStreamExt;
use secrecy::ExposeSecret;
use test_peers::Peer;

async fn config_at(endpoint: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    let credentials = aws_credential_types::Credentials::new(key, secret, None, None, "test");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .load()
        .await
}

async fn moto() -> aws_config::SdkConfig {
    config_at(&Peer::Moto.url(), "testing", "testing").await
}

/// A name unique to this run: moto's state lives as long as the process, shared by tests.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // Ten hex digits: an identity store id must match `d-[0-9a-f]{10}` (the request
    // validator in front of moto checks it as the service does).
    format!("{prefix}{:010x}", nanos % 0x100_0000_0000)
}

/// moto keeps one isolated store per identity store id.
fn store(config: &aws_config::SdkConfig) -> SdkIdentityStore {
    let id = unique("d-");
    SdkIdentityStore::from_client(
        aws_sdk_identitystore::Client::new(config),
        id,
        NonZeroU32::new(1000).unwrap(),
    )
}

#[tokio::test]
async fn moto_creates_an_identity_store_user_and_lists_it() {
    // The harness smoke test: the plain SDK with an endpoint override.
    let client = aws_sdk_identitystore::Client::new(&moto().await);
    let store = unique("d-");
    let created = client
        .create_user()
        .identity_store_id(&store)
        .user_name("ada.lovelace@example.com")
        .display_name("Ada Lovelace")
        .name(
            Name::builder()
                .given_name("Ada")
                .family_name("Lovelace")
                .build(),
        )
        .send()
        .await
        .expect("moto accepts CreateUser");
    let listed = client
        .list_users()
        .identity_store_id(&store)
        .send()
        .await
        .expect("moto answers ListUsers");
    assert_eq!(listed.users().len(), 1);
    assert_eq!(listed.users()[0].user_id(), created.user_id());
    assert_eq!(
        listed.users()[0].user_name(),
        Some("ada.lovelace@example.com")
    );
}

#[tokio::test]
async fn users_are_created_described_found_listed_and_deleted() {
    let store = store(&moto().await);
    let ada = NewUser::new("ada@example.com", "Ada", "Lovelace")
        .email("ada@example.com")
        .phone("+44 20 7946 0000");
    let created = store.create_user(&ada, OnConflict::Fail).await.unwrap();
    assert!(!created.adopted);
    let user = &created.value;
    assert_eq!(user.user_name, "ada@example.com");
    assert_eq!(user.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(user.phone.as_deref(), Some("+44 20 7946 0000"));

    let duplicate = store.create_user(&ada, OnConflict::Fail).await.unwrap_err();
    assert!(duplicate.is_conflict(), "{duplicate}");
    let adopted = store.create_user(&ada, OnConflict::Adopt).await.unwrap();
    assert!(adopted.adopted);
    assert_eq!(adopted.value.id, user.id);

    assert_eq!(
        store
            .find_user(&UserLookup::UserName("ada@example.com".into()))
            .await
            .unwrap(),
        Some(user.id.clone())
    );
    assert_eq!(
        store
            .find_user(&UserLookup::Email("ada@example.com".into()))
            .await
            .unwrap(),
        Some(user.id.clone())
    );
    assert_eq!(
        store
            .find_user(&UserLookup::UserName("nobody".into()))
            .await
            .unwrap(),
        None
    );

    store.delete_user(&user.id).await.unwrap();
    let gone = store.describe_user(&user.id).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn lists_follow_next_token_over_more_than_250_users() {
    let store = store(&moto().await);
    for i in 0..260 {
        let user = NewUser::new(format!("user{i:03}@example.com"), "User", format!("{i:03}"));
        store.create_user(&user, OnConflict::Fail).await.unwrap();
    }
    let users: Vec<_> = store.list_users().try_collect().await.unwrap();
    let names: BTreeSet<_> = users.iter().map(|u| u.user_name.clone()).collect();
    assert_eq!(users.len(), 260, "three pages of at most 100, nothing lost");
    assert_eq!(names.len(), 260, "nothing repeated");
}

#[tokio::test]
async fn groups_and_memberships_carry_names_and_are_idempotent() {
    let store = store(&moto().await);
    let eng = store
        .create_group("Engineering", Some("builds things"), OnConflict::Fail)
        .await
        .unwrap()
        .value;
    let adopted = store
        .create_group("Engineering", None, OnConflict::Adopt)
        .await
        .unwrap();
    assert!(adopted.adopted);
    assert_eq!(adopted.value.id, eng.id);
    assert_eq!(
        store
            .find_group(&GroupLookup::DisplayName("Engineering".into()))
            .await
            .unwrap(),
        Some(eng.id.clone())
    );
    assert_eq!(
        store
            .find_group(&GroupLookup::DisplayName("Nope".into()))
            .await
            .unwrap(),
        None
    );

    let mut users = Vec::new();
    for name in ["ada", "grace"] {
        let user = NewUser::new(format!("{name}@example.com"), name, "Test");
        users.push(
            store
                .create_user(&user, OnConflict::Fail)
                .await
                .unwrap()
                .value,
        );
    }
    // (A second add of a member is the service's ConflictException, resolved to the
    // existing membership: moto does not refuse duplicates, so tests/mocked.rs shows it.)
    store.add_member(&eng.id, &users[0].id).await.unwrap();
    store.add_member(&eng.id, &users[1].id).await.unwrap();

    let members = store.group_members(&eng.id).await.unwrap();
    let names: BTreeSet<_> = members.iter().map(|m| m.user_name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["ada@example.com", "grace@example.com"])
    );
    let groups = store.user_groups(&users[0].id).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].display_name, "Engineering");

    // IsMemberInGroups takes 100 groups per call: 150 are checked in two.
    let mut ids: Vec<GroupId> = vec![eng.id.clone()];
    for i in 0..149 {
        ids.push(
            store
                .create_group(&format!("g{i}"), None, OnConflict::Fail)
                .await
                .unwrap()
                .value
                .id,
        );
    }
    let membership = store.is_member(&users[0].id, &ids).await.unwrap();
    assert_eq!(membership.len(), 150);
    assert_eq!(membership.values().filter(|m| **m).count(), 1);
    assert!(membership[&eng.id]);

    assert!(store.remove_member(&eng.id, &users[0].id).await.unwrap());
    assert!(
        !store.remove_member(&eng.id, &users[0].id).await.unwrap(),
        "not a member any more"
    );
    let groups: Vec<_> = store.list_groups().try_collect().await.unwrap();
    assert_eq!(groups.len(), 150);
    store.delete_group(&eng.id).await.unwrap();
    assert!(
        store
            .describe_group(&eng.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn update_user_is_not_implemented_by_moto_and_fails_clearly() {
    // moto answers UpdateUser with HTTP 500; the SDK retries, then we report the failure.
    // (The wiremock-free request-shape tests are in tests/mocked.rs.)
    let store = store(&moto().await);
    let user = store
        .create_user(&NewUser::new("ada", "Ada", "Lovelace"), OnConflict::Fail)
        .await
        .unwrap()
        .value;
    let err = store
        .update_user(&user.id, &[UserChange::DisplayName("Countess".into())])
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("UpdateUser failed"), "{err}");
}

#[tokio::test]
async fn role_policies_attach_list_and_detach_idempotently_within_the_quota() {
    let config = moto().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let role = unique("sso-role-");
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    let mut arns = Vec::new();
    for i in 0..11 {
        let policy = iam
            .create_policy()
            .policy_name(unique(&format!("p{i}-")))
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#)
            .send()
            .await
            .unwrap();
        arns.push(policy.policy().unwrap().arn().unwrap().to_owned());
    }
    let policies = SdkRolePolicies::new(&config);
    assert_eq!(
        policies.attach(&role, &arns[0]).await.unwrap(),
        AttachOutcome::Attached
    );
    assert_eq!(
        policies.attach(&role, &arns[0]).await.unwrap(),
        AttachOutcome::AlreadyAttached
    );
    let managed = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    assert_eq!(
        policies.attach(&role, managed).await.unwrap(),
        AttachOutcome::Attached
    );
    let attached = policies.attached(&role).await.unwrap();
    assert_eq!(attached.len(), 2);
    assert!(
        attached
            .iter()
            .any(|p| p.arn == managed && p.name == "ReadOnlyAccess")
    );

    // moto does not enforce the quota, but reports it (10): we stop before IAM would.
    for arn in &arns[1..9] {
        policies.attach(&role, arn).await.unwrap();
    }
    let full = policies.attach(&role, &arns[9]).await.unwrap_err();
    assert!(
        matches!(
            full,
            aws_access::Error::RolePolicyQuota {
                attached: 10,
                quota: 10,
                ..
            }
        ),
        "{full}"
    );
    assert!(full.to_string().contains("L-0DA4ABF3"));

    assert_eq!(
        policies.detach(&role, managed).await.unwrap(),
        DetachOutcome::Detached
    );
    assert_eq!(
        policies.detach(&role, managed).await.unwrap(),
        DetachOutcome::NotAttached
    );
    let missing = policies
        .attach(&role, "arn:aws:iam::aws:policy/NoSuchPolicy")
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
}

#[tokio::test]
async fn the_ec2_probe_is_allowed_for_an_unrestricted_caller_and_the_live_probe_cleans_up() {
    let ec2 = SdkEc2::new(&moto().await);
    let spec = ProbeSpec::new("ami-12c6146b", "t2.micro");
    let report = ec2.probe(&spec).await;
    assert_eq!(report.run_instances, Outcome::Allowed);
    assert_eq!(report.describe_instances, Outcome::Allowed);
    assert_eq!(report.terminate_instances, Outcome::Allowed);

    let live = ec2.live(&spec).await.unwrap();
    assert_eq!(live.launch, Outcome::Allowed);
    assert_eq!(live.describe, Outcome::Allowed);
    assert_eq!(
        live.state.as_deref(),
        Some("running"),
        "described by the id it got"
    );
    assert_eq!(live.terminate, Outcome::Allowed);
    assert!(live.cleaned_up);
}

#[tokio::test]
async fn the_ec2_probe_tells_allowed_from_denied_under_iam_enforcement() {
    // A moto of its own: enforcement is global to the process.
    let url = Peer::MotoAuth.url();
    moto_control(&url, "/moto-api/reset-auth", "inf").await;
    let admin = config_at(&url, "setup", "setup").await;
    let iam = aws_sdk_iam::Client::new(&admin);
    let mut keys = Vec::new();
    for (user, action) in [("prober", "ec2:DescribeInstances"), ("root-like", "*")] {
        iam.create_user().user_name(user).send().await.unwrap();
        let document = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
        );
        iam.put_user_policy()
            .user_name(user)
            .policy_name("probe")
            .policy_document(document)
            .send()
            .await
            .unwrap();
        let key = iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .unwrap();
        let key = key.access_key().unwrap();
        keys.push((
            key.access_key_id().to_owned(),
            key.secret_access_key().to_owned(),
        ));
    }
    moto_control(&url, "/moto-api/reset-auth", "0").await;

    let spec = ProbeSpec::new("ami-12c6146b", "t2.micro");
    let limited = SdkEc2::new(&config_at(&url, &keys[0].0, &keys[0].1).await)
        .probe(&spec)
        .await;
    let full = SdkEc2::new(&config_at(&url, &keys[1].0, &keys[1].1).await)
        .probe(&spec)
        .await;
    moto_control(&url, "/moto-api/reset-auth", "inf").await;

    assert!(
        matches!(limited.run_instances, Outcome::Denied { .. }),
        "{limited:?}"
    );
    assert_eq!(limited.describe_instances, Outcome::Allowed);
    assert!(
        matches!(limited.terminate_instances, Outcome::Denied { .. }),
        "{limited:?}"
    );
    assert_eq!(full.run_instances, Outcome::Allowed);
    assert_eq!(full.terminate_instances, Outcome::Allowed);
}

/// POSTs a text/plain body to moto's control API with a bare HTTP/1.1 request (moto
/// rejects a form-encoded body there).
async fn moto_control(base: &str, path: &str, body: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("moto listens");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
        "{response}"
    );
}

#[tokio::test]
async fn a_secure_string_is_read_decrypted_into_a_secret() {
    let config = moto().await;
    let name = unique("/sync/okta-token-");
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name(&name)
        .value("00aBcD-okta-token")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let ssm = SdkParameters::new(&config);
    let secret = ssm.secure_string(&name).await.unwrap();
    assert_eq!(secret.expose_secret(), "00aBcD-okta-token");
    assert!(!format!("{secret:?}").contains("okta-token"));
    let missing = ssm.secure_string("/no/such/parameter").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert!(missing.to_string().contains("GetParameter"));
}

#[tokio::test]
async fn the_identity_store_is_discovered_from_the_one_identity_center_instance() {
    let config = moto().await;
    let id = resolve_identity_store(&config, &IdentityStoreRef::Discover)
        .await
        .unwrap();
    assert!(id.starts_with("d-"), "{id}");
}

/// Counts the operations the real SDK client sends, by their `X-Amz-Target` header: what
/// the wire sees, not what a fake below the client would.
#[derive(Debug, Default, Clone)]
struct WireCount(std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, u32>>>);

impl aws_smithy_runtime_api::client::interceptors::Intercept for WireCount {
    fn name(&self) -> &'static str {
        "WireCount"
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("?")
            .rsplit('.')
            .next()
            .unwrap_or("?")
            .to_owned();
        *self.0.lock().unwrap().entry(target).or_default() += 1;
        Ok(())
    }
}

#[tokio::test]
async fn a_user_create_and_a_membership_add_are_one_request_each_at_the_wire() {
    let count = WireCount::default();
    let config = aws_sdk_identitystore::config::Builder::from(&moto().await)
        .interceptor(count.clone())
        .build();
    let store = SdkIdentityStore::from_client(
        aws_sdk_identitystore::Client::from_conf(config),
        unique("d-"),
        NonZeroU32::new(1000).unwrap(),
    );
    let mut ada = NewUser::new(unique("ada-"), "Ada", "Lovelace");
    ada.email = Some("ada@example.com".into());
    let created = store.create_user(&ada, OnConflict::Fail).await.unwrap();
    assert_eq!(created.value.user_name, ada.user_name);
    assert_eq!(created.value.email.as_deref(), Some("ada@example.com"));
    assert_eq!(created.value.given_name.as_deref(), Some("Ada"));
    let sent = count.0.lock().unwrap().clone();
    assert_eq!(
        sent,
        [("CreateUser".to_owned(), 1)].into(),
        "one call per create"
    );
    // What was returned is what the store holds.
    assert_eq!(
        store.describe_user(&created.value.id).await.unwrap(),
        created.value
    );

    // A membership add is one request too: no lookup before it.
    let group = store
        .create_group(&unique("eng-"), None, OnConflict::Fail)
        .await
        .unwrap()
        .value;
    count.0.lock().unwrap().clear();
    store
        .add_member(&group.id, &created.value.id)
        .await
        .unwrap();
    let sent = count.0.lock().unwrap().clone();
    assert_eq!(
        sent,
        [("CreateGroupMembership".to_owned(), 1)].into(),
        "one call per add"
    );

    // A removal of a membership the client has read (as a sync's snapshot does) is one
    // request: the membership id it read, no lookup.
    let other = store
        .create_user(
            &NewUser::new(unique("grace-"), "Grace", "Hopper"),
            OnConflict::Fail,
        )
        .await
        .unwrap()
        .value;
    store.add_member(&group.id, &other.id).await.unwrap();
    let members: Vec<_> = store.member_ids(&group.id).try_collect().await.unwrap();
    assert_eq!(members.len(), 2);
    count.0.lock().unwrap().clear();
    assert!(
        store
            .remove_member(&group.id, &created.value.id)
            .await
            .unwrap()
    );
    let sent = count.0.lock().unwrap().clone();
    assert_eq!(
        sent,
        [("DeleteGroupMembership".to_owned(), 1)].into(),
        "one call per removal"
    );
    let left: Vec<_> = store.member_ids(&group.id).try_collect().await.unwrap();
    assert_eq!(
        left,
        std::slice::from_ref(&other.id),
        "the one membership is gone"
    );
}
