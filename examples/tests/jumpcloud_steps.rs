//! Seed workflow 000's JumpCloud steps run as a user runs them, twice each, against one fake
//! JumpCloud that misbehaves as the real one does: a 429 every few requests, short pages
//! whose totals count phantom records, and an nginx HTML 500 at the start of every run. Every
//! step succeeds, the second run of each has nothing to do, and the outcome is checked in the
//! fake's own state, not through the client.

use std::process::Command;

use jumpcloud_api::fake::{FakeJumpCloud, Fault, Quirks};
use jumpcloud_api::models::NewSystemUser;

struct Run {
    ok: bool,
    out: String,
    err: String,
}

/// Runs a step binary against `fake` through the environment a user sets.
async fn step(fake: &FakeJumpCloud, bin: &'static str, args: &[&str]) -> Run {
    fake.inject([Fault::HtmlError(500)]);
    let uri = fake.uri();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(&args)
            .env("JUMPCLOUD_API_KEY", "fake-jumpcloud-key")
            .env("JUMPCLOUD_BASE_URL", uri)
            .env_remove("JUMPCLOUD_ORG_ID")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    Run {
        ok: output.status.success(),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn named<'a>(
    records: &'a [serde_json::Value],
    field: &str,
    name: &str,
) -> Vec<&'a serde_json::Value> {
    records.iter().filter(|r| r[field] == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_succeeds_against_a_quirky_jumpcloud_and_a_second_run_has_nothing_to_do() {
    let fake = FakeJumpCloud::start().await;
    for i in 0..150 {
        fake.add_user(NewSystemUser::new(
            format!("user{i:03}"),
            format!("user{i:03}@example.com"),
        ));
    }
    for i in 0..120 {
        fake.add_group(&format!("Team {i:03}"));
    }
    let app = fake.add_application("aws", "AWS SSO");
    fake.set_quirks(Quirks {
        phantom_every: Some(3),
        phantom_tail: 5,
        rate_limit_every: Some(4),
        ..Quirks::default()
    });

    // Step 1: bulk-create a user (and one that exists already).
    let bulk = env!("CARGO_BIN_EXE_jc_bulk_create_users");
    let args = [
        "--apply",
        "--poll-seconds",
        "1",
        "--user",
        "alan.turing,alan@example.com,Alan,Turing",
        "--user",
        "user149,user149@example.com,User,149",
    ];
    let first = step(&fake, bulk, &args).await;
    assert!(first.ok, "{}{}", first.out, first.err);
    assert!(
        first.out.contains("User:alan.turing created with UserId:"),
        "{}",
        first.out
    );
    assert!(
        first.out.contains("User:user149 exists with UserId:"),
        "{}",
        first.out
    );
    let again = step(&fake, bulk, &args).await;
    assert!(
        again.ok && again.out.contains("nothing to do"),
        "{}{}",
        again.out,
        again.err
    );
    let users = fake.users();
    assert_eq!(named(&users, "username", "alan.turing").len(), 1);
    assert_eq!(users.len(), 151);

    // Step 2: create a group.
    let create = env!("CARGO_BIN_EXE_jc_create_group");
    let args = ["--name", "AWS Developers", "--apply"];
    let first = step(&fake, create, &args).await;
    assert!(
        first.ok && first.out.contains("created successfully"),
        "{}{}",
        first.out,
        first.err
    );
    assert!(
        first.out.contains("Existing user groups (120):"),
        "every group listed once: {}",
        first.out
    );
    let again = step(&fake, create, &args).await;
    assert!(
        again.ok && again.out.contains("reusing it"),
        "{}{}",
        again.out,
        again.err
    );
    let groups = fake.groups();
    let developers = named(&groups, "name", "AWS Developers");
    assert_eq!(developers.len(), 1, "one group, not two");
    let group_id = jumpcloud_api::ids::GroupId(developers[0]["id"].as_str().unwrap().to_owned());

    // Step 3: add the user to it.
    let add = env!("CARGO_BIN_EXE_jc_add_user_to_group");
    let args = [
        "--username",
        "alan.turing",
        "--group",
        "AWS Developers",
        "--apply",
    ];
    let first = step(&fake, add, &args).await;
    assert!(
        first.ok
            && first
                .out
                .contains("added to Group:AWS Developers successfully"),
        "{}{}",
        first.out,
        first.err
    );
    let again = step(&fake, add, &args).await;
    assert!(
        again.ok && again.out.contains("already a member"),
        "{}{}",
        again.out,
        again.err
    );
    assert!(again.out.contains("nothing to do"), "{}", again.out);
    assert_eq!(fake.members(&group_id).len(), 1);

    // Step 4: bind the group to the application.
    let bind = env!("CARGO_BIN_EXE_jc_bind_group_to_app");
    let args = ["--app", "AWS SSO", "--group", "AWS Developers", "--apply"];
    let first = step(&fake, bind, &args).await;
    assert!(
        first.ok && first.out.contains("associated with AWS SSO successfully"),
        "{}{}",
        first.out,
        first.err
    );
    let again = step(&fake, bind, &args).await;
    assert!(
        again.ok && again.out.contains("nothing to do"),
        "{}{}",
        again.out,
        again.err
    );
    assert_eq!(fake.bound_groups(&app), [group_id]);
}
