//! What moto lacks or gets wrong, against the real SDK with `aws-smithy-mocks` (the SDK's
//! serialisation, retry and error code paths run; only the transport is replaced):
//! UpdateUser's attribute operations, SimulatePrincipalPolicy, a persistent throttle (the
//! SDK's adaptive retries, one layer), short and empty pages that still carry a NextToken, a repeated token,
//! the duplicate-membership conflict of real AWS, and its `ResourceNotFoundException` to a
//! `DeleteGroupMembership` of a membership id that is gone (moto answers it with success).

use std::num::NonZeroU32;

use aws_access::config::AwsSettings;
use aws_access::iam::{RolePolicies, SdkRolePolicies, Verdict};
use aws_access::identity_store::{GroupId, IdentityStore, SdkIdentityStore, UserChange, UserId};
use aws_sdk_identitystore::Client;
use aws_sdk_identitystore::operation::create_group_membership::{
    CreateGroupMembershipError, CreateGroupMembershipOutput,
};
use aws_sdk_identitystore::operation::delete_group_membership::{
    DeleteGroupMembershipError, DeleteGroupMembershipOutput,
};
use aws_sdk_identitystore::operation::describe_user::{DescribeUserError, DescribeUserOutput};
use aws_sdk_identitystore::operation::get_group_membership_id::GetGroupMembershipIdOutput;
use aws_sdk_identitystore::operation::list_groups::ListGroupsOutput;
use aws_sdk_identitystore::operation::list_users::ListUsersOutput;
use aws_sdk_identitystore::operation::update_user::UpdateUserOutput;
use aws_sdk_identitystore::types::User;
use aws_sdk_identitystore::types::error::{
    ConflictException, ResourceNotFoundException, ThrottlingException,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::Document;
use futures::TryStreamExt;

fn store(client: Client) -> SdkIdentityStore {
    SdkIdentityStore::from_client(client, "d-1234567890", NonZeroU32::new(1000).unwrap())
}

fn user(id: &str) -> User {
    User::builder()
        .identity_store_id("d-1234567890")
        .user_id(id)
        .user_arn(format!("arn:aws:identitystore:::user/{id}"))
        .revision("1")
        .user_name(format!("{id}@example.com"))
        .build()
        .unwrap()
}

/// The metadata the SDK's deserializer attaches to a service error: its code.
fn meta(code: &str, message: &str) -> aws_smithy_types::error::ErrorMetadata {
    aws_smithy_types::error::ErrorMetadata::builder()
        .code(code)
        .message(message)
        .build()
}

#[tokio::test]
async fn update_user_sends_attribute_operations_at_most_100_per_call() {
    let update = mock!(Client::update_user)
        .match_requests(|req| {
            let ops = req.operations();
            match ops.first().map(|o| o.attribute_path()) {
                Some("displayName") => {
                    ops.len() == 100
                        && ops[1].attribute_path() == "emails"
                        && matches!(ops[1].attribute_value(), Some(Document::Array(items)) if matches!(&items[0], Document::Object(m) if m.get("value") == Some(&Document::from("ada@example.com")) && m.get("primary") == Some(&Document::Bool(true))))
                        && ops[2].attribute_path() == "phoneNumbers"
                        && ops[2].attribute_value() == Some(&Document::Null)
                }
                Some("name.familyName") => ops.len() == 5,
                _ => false,
            }
        })
        .then_output(|| UpdateUserOutput::builder()
                .identity_store_id("d-1234567890")
                .user_id("u-1")
                .user_arn("arn:aws:identitystore:::user/u-1")
                .revision("2")
                .build()
                .unwrap());
    let store = store(mock_client!(
        aws_sdk_identitystore,
        RuleMode::MatchAny,
        [&update]
    ));
    let mut changes = vec![
        UserChange::DisplayName("Ada".into()),
        UserChange::Email(Some("ada@example.com".into())),
        UserChange::Phone(None),
    ];
    changes.extend((0..97).map(|i| UserChange::GivenName(format!("Ada{i}"))));
    changes.extend((0..5).map(|i| UserChange::FamilyName(format!("Lovelace{i}"))));
    store
        .update_user(&UserId::from("u-1"), &changes)
        .await
        .unwrap();
    assert_eq!(
        update.num_calls(),
        2,
        "105 changes in two calls, both matched"
    );
}

#[tokio::test]
async fn a_persistent_throttle_is_retried_by_the_sdk_alone_and_reported_with_its_hint() {
    let throttled = mock!(Client::describe_user)
        .sequence()
        .error(|| {
            DescribeUserError::ThrottlingException(
                ThrottlingException::builder()
                    .message("Rate exceeded")
                    .retry_after_seconds(1)
                    .meta(meta("ThrottlingException", "Rate exceeded"))
                    .build(),
            )
        })
        .repeatedly()
        .build();
    let mut settings = AwsSettings::default();
    settings.max_attempts = 3;
    let retry = aws_access::config::retry_config(&settings)
        .with_initial_backoff(std::time::Duration::from_millis(10))
        .with_max_backoff(std::time::Duration::from_millis(100));
    let client = mock_client!(
        aws_sdk_identitystore,
        RuleMode::Sequential,
        [&throttled],
        |conf| conf.retry_config(retry.clone())
    );
    let err = store(client)
        .describe_user(&UserId::from("u-1"))
        .await
        .unwrap_err();
    assert!(err.is_throttled(), "{err}");
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(1)));
    // One retry layer below the executor: the SDK's own attempts, and no loop of ours on top
    // (there used to be two more rounds of the SDK's attempts after waiting out the hint).
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn throttling_that_clears_is_invisible_to_the_caller() {
    let flaky = mock!(Client::describe_user)
        .sequence()
        .error(|| {
            DescribeUserError::ThrottlingException(
                ThrottlingException::builder()
                    .retry_after_seconds(0)
                    .meta(meta("ThrottlingException", "Rate exceeded"))
                    .build(),
            )
        })
        .output(|| {
            DescribeUserOutput::builder()
                .identity_store_id("d-1234567890")
                .user_id("u-1")
                .user_arn("arn:aws:identitystore:::user/u-1")
                .revision("1")
                .user_name("ada")
                .build()
                .unwrap()
        })
        .build();
    let store = store(mock_client!(aws_sdk_identitystore, [&flaky]));
    assert_eq!(
        store
            .describe_user(&UserId::from("u-1"))
            .await
            .unwrap()
            .user_name,
        "ada"
    );
    assert_eq!(flaky.num_calls(), 2);
}

#[tokio::test]
async fn a_short_or_empty_page_that_carries_a_next_token_is_not_the_end() {
    let page1 = mock!(Client::list_users)
        .match_requests(|req| req.next_token().is_none() && req.max_results() == Some(100))
        .then_output(|| {
            ListUsersOutput::builder()
                .users(user("u1"))
                .users(user("u2"))
                .next_token("t1")
                .build()
                .unwrap()
        });
    let page2 = mock!(Client::list_users)
        .match_requests(|req| req.next_token() == Some("t1"))
        .then_output(|| {
            ListUsersOutput::builder()
                .set_users(Some(Vec::new()))
                .next_token("t2")
                .build()
                .unwrap()
        });
    let page3 = mock!(Client::list_users)
        .match_requests(|req| req.next_token() == Some("t2"))
        .then_output(|| {
            ListUsersOutput::builder()
                .users(user("u3"))
                .build()
                .unwrap()
        });
    let store = store(mock_client!(
        aws_sdk_identitystore,
        RuleMode::MatchAny,
        [&page1, &page2, &page3]
    ));
    let users: Vec<_> = store.list_users().try_collect().await.unwrap();
    let ids: Vec<_> = users.iter().map(|u| u.id.as_str().to_owned()).collect();
    assert_eq!(ids, ["u1", "u2", "u3"]);
}

#[tokio::test]
async fn a_repeated_next_token_stops_paging_with_an_error() {
    let looping = mock!(Client::list_groups).then_output(|| {
        ListGroupsOutput::builder()
            .set_groups(Some(Vec::new()))
            .next_token("same")
            .build()
            .unwrap()
    });
    let store = store(mock_client!(
        aws_sdk_identitystore,
        RuleMode::MatchAny,
        [&looping]
    ));
    let err = store
        .list_groups()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("repeated the page token"), "{err}");
    assert_eq!(looping.num_calls(), 2);
}

#[tokio::test]
async fn a_duplicate_membership_conflict_resolves_to_the_existing_membership() {
    // Real AWS: the create is sent first and conflicts (the member is there already); only
    // then is the existing membership looked up.
    let lookup = mock!(Client::get_group_membership_id)
        .sequence()
        .output(|| {
            GetGroupMembershipIdOutput::builder()
                .membership_id("m-existing")
                .membership_arn("arn:aws:identitystore:::membership/m-existing")
                .identity_store_id("d-1234567890")
                .build()
                .unwrap()
        })
        .build();
    let create = mock!(Client::create_group_membership).then_error(|| {
        CreateGroupMembershipError::ConflictException(
            ConflictException::builder()
                .message("Member already exists")
                .meta(meta("ConflictException", "Member already exists"))
                .build(),
        )
    });
    let unused = mock!(Client::create_group_membership).then_output(|| {
        CreateGroupMembershipOutput::builder()
            .membership_id("m-new")
            .membership_arn("arn:aws:identitystore:::membership/m-new")
            .identity_store_id("d-1234567890")
            .build()
            .unwrap()
    });
    let store = store(mock_client!(
        aws_sdk_identitystore,
        RuleMode::MatchAny,
        [&lookup, &create, &unused]
    ));
    let id = store
        .add_member(&GroupId::from("g-1"), &UserId::from("u-1"))
        .await
        .unwrap();
    assert_eq!(id.as_str(), "m-existing");
    assert_eq!(create.num_calls(), 1);
    assert_eq!(lookup.num_calls(), 1, "looked up only after the conflict");
    assert_eq!(unused.num_calls(), 0);
}

#[tokio::test]
async fn explain_maps_simulate_principal_policy_to_verdicts() {
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyOutput;
    use aws_sdk_iam::types::{EvaluationResult, PolicyEvaluationDecisionType as D, Statement};
    let simulate = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .match_requests(|req| {
            req.policy_source_arn() == Some("arn:aws:iam::123456789012:role/dev")
                && req.action_names().len() == 3
        })
        .then_output(|| {
            let result = |action: &str, decision: D, policy: Option<&str>| {
                let mut b = EvaluationResult::builder()
                    .eval_action_name(action)
                    .eval_decision(decision);
                if let Some(p) = policy {
                    b = b.matched_statements(Statement::builder().source_policy_id(p).build());
                }
                b.build().unwrap()
            };
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result("ec2:RunInstances", D::Allowed, Some("ec2-launch")))
                .evaluation_results(result(
                    "ec2:TerminateInstances",
                    D::ExplicitDeny,
                    Some("no-terminate"),
                ))
                .evaluation_results(result("s3:GetObject", D::ImplicitDeny, None))
                .is_truncated(false)
                .build()
        });
    let iam = SdkRolePolicies::from_client(mock_client!(aws_sdk_iam, [&simulate]));
    let decisions = iam
        .explain(
            "arn:aws:iam::123456789012:role/dev",
            &["ec2:RunInstances", "ec2:TerminateInstances", "s3:GetObject"],
            &[],
        )
        .await
        .unwrap();
    let verdicts: Vec<_> = decisions
        .iter()
        .map(|d| (d.action.as_str(), d.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("ec2:RunInstances", Verdict::Allowed),
            ("ec2:TerminateInstances", Verdict::ExplicitDeny),
            ("s3:GetObject", Verdict::ImplicitDeny)
        ]
    );
    assert_eq!(decisions[1].matched_policies, ["no-terminate"]);
}

#[tokio::test]
async fn a_removal_by_a_membership_id_that_is_gone_looks_the_current_one_up() {
    // This client made the membership (m-old); someone removed it and added it back (m-new).
    // The delete by the id it knows is refused as real AWS refuses it; the current id is
    // looked up and deleted.
    let create = mock!(Client::create_group_membership).then_output(|| {
        CreateGroupMembershipOutput::builder()
            .membership_id("m-old")
            .membership_arn("arn:aws:identitystore:::membership/m-old")
            .identity_store_id("d-1234567890")
            .build()
            .unwrap()
    });
    let stale = mock!(Client::delete_group_membership)
        .match_requests(|req| req.membership_id() == Some("m-old"))
        .then_error(|| {
            DeleteGroupMembershipError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("GroupMembership not found")
                    .meta(meta(
                        "ResourceNotFoundException",
                        "GroupMembership not found",
                    ))
                    .build(),
            )
        });
    let lookup = mock!(Client::get_group_membership_id).then_output(|| {
        GetGroupMembershipIdOutput::builder()
            .membership_id("m-new")
            .membership_arn("arn:aws:identitystore:::membership/m-new")
            .identity_store_id("d-1234567890")
            .build()
            .unwrap()
    });
    let current = mock!(Client::delete_group_membership)
        .match_requests(|req| req.membership_id() == Some("m-new"))
        .then_output(|| DeleteGroupMembershipOutput::builder().build());
    let store = store(mock_client!(
        aws_sdk_identitystore,
        RuleMode::MatchAny,
        [&create, &stale, &lookup, &current]
    ));
    let (group, user) = (GroupId::from("g-1"), UserId::from("u-1"));
    store.add_member(&group, &user).await.unwrap();
    assert!(store.remove_member(&group, &user).await.unwrap());
    assert_eq!(
        (stale.num_calls(), lookup.num_calls(), current.num_calls()),
        (1, 1, 1)
    );
}
