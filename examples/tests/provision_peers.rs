//! `provision` driven by a configuration file, as in production: a fake JumpCloud (in this
//! test process) to moto's Identity Store and to scim2-server's Pulumi profile. The binary
//! gets its secrets from the environment by reference, never as arguments.

use std::path::{Path, PathBuf};
use std::process::Command;

use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::models::NewSystemUser;
use serde_json::Value;
use test_peers::Peer;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `provision --config <config> <args>` off the async runtime (the fake JumpCloud
/// serves from it meanwhile).
async fn provision(config: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_provision"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env("PROVISION_TEST_JUMPCLOUD_KEY", "fake-jumpcloud-key")
        .env("PROVISION_TEST_SCIM_TOKEN", test_peers::scim_token())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env_remove("RUST_LOG");
    let output = tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn ok(config: &Path, args: &[&str]) -> String {
    let run = provision(config, args).await;
    assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    run.stdout
}

async fn changes(config: &Path) -> Vec<Value> {
    let out = ok(config, &["--json", "plan"]).await;
    let doc: Value = serde_json::from_str(&out).unwrap();
    doc["plan"]["changes"].as_array().unwrap().clone()
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("provision-{name}-{}", nanos()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// JumpCloud with `AWS SSO` bound to Engineering (ada, grace) and Data Science (alan).
async fn jumpcloud() -> (
    FakeJumpCloud,
    jumpcloud_api::ids::GroupId,
    jumpcloud_api::ids::UserId,
) {
    let jc = FakeJumpCloud::start().await;
    let user = |name: &str, first: &str, last: &str| {
        jc.add_user(NewSystemUser::new(name, format!("{name}@example.com")).names(first, last))
    };
    let ada = user("ada.lovelace", "Ada", "Lovelace");
    let grace = user("grace.hopper", "Grace", "Hopper");
    let alan = user("alan.turing", "Alan", "Turing");
    let engineering = jc.add_group("Engineering");
    let data = jc.add_group("Data Science");
    jc.add_member(&engineering, &ada);
    jc.add_member(&engineering, &grace);
    jc.add_member(&data, &alan);
    let app = jc.add_application("aws", "AWS SSO");
    jc.associate_group(&app, &engineering);
    jc.associate_group(&app, &data);
    jc.add_application("empty", "Nothing bound");
    (jc, engineering, grace)
}

fn write_config(dir: &Path, source: &str, target: &str) -> PathBuf {
    let path = dir.join("provision.toml");
    std::fs::write(&path, format!("{source}\n{target}")).unwrap();
    path
}

fn jumpcloud_source(jc: &FakeJumpCloud, application: &str) -> String {
    format!(
        "[source.jumpcloud]\napi_key = {{ env = \"PROVISION_TEST_JUMPCLOUD_KEY\" }}\nbase_url = \"{}\"\napplication = \"{application}\"\n",
        jc.uri()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_sync_to_moto_converges_audits_and_follows_a_mover() {
    let (jc, engineering, grace) = jumpcloud().await;
    let dir = workdir("moto");
    let store = format!("d-{:010x}", nanos() % 0xff_ffff_ffff);
    // One mover of 3 users, 2 groups and 3 memberships is 12.5 % of what the engine
    // manages: a directory this small needs a wider guard than the default 10 %.
    let target = format!(
        "{}\n[policy]\ndeletion_guard = {{ max_percent = 20.0 }}\n",
        moto_target(&store)
    );
    let config = write_config(&dir, &jumpcloud_source(&jc, "AWS SSO"), &target);

    let out = ok(&config, &["apply"]).await;
    assert!(out.contains("add_members   Engineering"), "{out}");
    assert!(out.contains("0 failed"), "{out}");
    // The ownership record defaults to a file beside the configuration.
    // It also holds its header and each create's intent, settled by the create's link.
    let record = std::fs::read_to_string(dir.join("provision.ownership.jsonl")).unwrap();
    assert_eq!(
        record
            .lines()
            .filter(|l| l.starts_with("{\"kind\":") && l.contains("\"external_id\""))
            .count(),
        5,
        "3 users and 2 groups owned:\n{record}"
    );
    assert!(changes(&config).await.is_empty());

    let audit = ok(&config, &["audit"]).await;
    assert!(
        audit.contains("The target is in sync with the source."),
        "{audit}"
    );
    let view = ok(&config, &["audit", "--user", "grace.hopper"]).await;
    assert!(view.contains("Engineering  yes     yes"), "{view}");

    // A mover: grace leaves Engineering at the source.
    jc.remove_member(&engineering, &grace);
    let planned = changes(&config).await;
    assert_eq!(planned.len(), 1, "{planned:?}");
    assert_eq!(planned[0]["operation"]["op"], "remove_members");
    assert_eq!(planned[0]["members"][0], "grace.hopper");
    let dry = ok(&config, &["apply", "--dry-run"]).await;
    assert!(dry.contains("Dry run: nothing was written."), "{dry}");
    assert_eq!(changes(&config).await.len(), 1, "the dry run wrote nothing");
    ok(&config, &["apply"]).await;
    assert!(changes(&config).await.is_empty());
    let view = ok(&config, &["audit", "--group", "Engineering"]).await;
    assert!(!view.contains("grace.hopper"), "{view}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_sync_to_pulumi_scim_converges() {
    let (jc, _, _) = jumpcloud().await;
    let dir = workdir("pulumi");
    let target = format!(
        "[target.scim]\nbase_url = \"{}\"\ntoken = {{ env = \"PROVISION_TEST_SCIM_TOKEN\" }}\nprofile = \"pulumi\"\n",
        test_peers::scim_tenant(Peer::ScimPulumi, "provision")
    );
    let config = write_config(&dir, &jumpcloud_source(&jc, "AWS SSO"), &target);
    let run = provision(&config, &["--json", "apply"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["report"]["outcomes"].as_array().unwrap().len(),
        5 + 3 - 1,
        "{doc}"
    );
    assert!(changes(&config).await.is_empty());
    // Pulumi never stores externalId: ownership lives in the record beside the config.
    assert!(dir.join("provision.ownership.jsonl").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_source_aborts_with_exit_3_and_writes_nothing() {
    let (jc, _, _) = jumpcloud().await;
    let dir = workdir("empty");
    let target = format!(
        "[target.scim]\nbase_url = \"{}\"\ntoken = {{ env = \"PROVISION_TEST_SCIM_TOKEN\" }}\n",
        test_peers::scim_tenant(Peer::ScimAwsIdentityCenter, "provision-empty")
    );
    let config = write_config(&dir, &jumpcloud_source(&jc, "Nothing bound"), &target);
    let run = provision(&config, &["apply"]).await;
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ABORTED"), "{}", run.stdout);
    let plan = provision(&config, &["plan"]).await;
    assert_eq!(plan.code, 3, "{}", plan.stdout);
}

fn moto_target(store: &str) -> String {
    format!(
        "[target.identity_store]\nidentity_store_id = \"{store}\"\n\n[aws]\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\n",
        Peer::Moto.url()
    )
}

/// Everything moto's identity store holds, read through the AWS SDK client (not the
/// engine): user names, group names, and (group, user) name pairs.
async fn store_state(store: &str) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
    use aws_access::identity_store::{IdentityStore, SdkIdentityStore};
    use futures::TryStreamExt;
    let config = test_peers::moto_sdk_config().await;
    let client = SdkIdentityStore::new(&config, store);
    let users: Vec<_> = client.list_users().try_collect().await.unwrap();
    let groups: Vec<_> = client.list_groups().try_collect().await.unwrap();
    let mut pairs = Vec::new();
    for g in &groups {
        let ids: Vec<_> = client.member_ids(&g.id).try_collect().await.unwrap();
        for id in ids {
            let user = users.iter().find(|u| u.id == id).unwrap();
            pairs.push((g.display_name.clone(), user.user_name.clone()));
        }
    }
    let mut names: Vec<_> = users.iter().map(|u| u.user_name.clone()).collect();
    let mut group_names: Vec<_> = groups.iter().map(|g| g.display_name.clone()).collect();
    names.sort();
    group_names.sort();
    pairs.sort();
    (names, group_names, pairs)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bound_group_read_back_empty_aborts_with_exit_3_and_a_saved_plan_applies_only_as_reviewed()
 {
    let (jc, engineering, grace) = jumpcloud().await;
    let ada = jc
        .members(&engineering)
        .into_iter()
        .find(|u| *u != grace)
        .unwrap();
    let dir = workdir("moto-empty-group");
    let store = format!("d-{:010x}", nanos() % 0xff_ffff_ffff);
    let config = write_config(
        &dir,
        &jumpcloud_source(&jc, "AWS SSO"),
        &moto_target(&store),
    );
    ok(&config, &["apply"]).await;
    let synced = store_state(&store).await;
    assert_eq!(synced.2.len(), 3, "{synced:?}");
    // The record's links (kind, target id, mark), in any order: a run's open compacts the
    // file, and a create's link line also names the intent it settles.
    let links = || {
        let text = std::fs::read_to_string(dir.join("provision.ownership.jsonl")).unwrap();
        let mut links: Vec<(String, String, String)> = Vec::new();
        for line in text.lines() {
            let line: Value = serde_json::from_str(line).unwrap();
            if let (Some(kind), Some(id), Some(mark)) = (
                line["kind"].as_str(),
                line["id"].as_str(),
                line["external_id"]["id"].as_str(),
            ) {
                links.push((kind.into(), id.into(), mark.into()));
            }
        }
        links.sort();
        links
    };
    let record = links();

    // Engineering is emptied at JumpCloud (to be rebuilt): its two members would lose it.
    jc.remove_member(&engineering, &ada);
    jc.remove_member(&engineering, &grace);
    let run = provision(&config, &["apply"]).await;
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("\"Engineering\" would lose 2 of its 2 member(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("its source member list came back empty"),
        "{}",
        run.stdout
    );
    assert_eq!(
        store_state(&store).await,
        synced,
        "nothing was written to moto"
    );
    assert_eq!(links(), record, "the ownership record holds the same links");

    // The reviewed way past the guard: save the plan, then apply exactly it.
    let saved = dir.join("plan.json");
    let run = provision(&config, &["plan", "--out", saved.to_str().unwrap()]).await;
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(run.stdout.contains("--accept-removals 2"), "{}", run.stdout);
    let file = saved.to_str().unwrap();
    let run = provision(&config, &["apply", file]).await;
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(run.stdout.contains("--accept-removals 2"), "{}", run.stdout);
    let run = provision(&config, &["apply", file, "--accept-removals", "1"]).await;
    assert_eq!(run.code, 3, "{}", run.stdout);
    // The source moves after the review: refused, saying what moved.
    jc.add_member(&engineering, &ada);
    let run = provision(&config, &["apply", file, "--accept-removals", "2"]).await;
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("the source changed since the plan was saved"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("membership added: ada.lovelace in Engineering"),
        "{}",
        run.stdout
    );
    assert_eq!(store_state(&store).await, synced, "still nothing written");
    // Back as reviewed: applied exactly, and the two memberships go.
    jc.remove_member(&engineering, &ada);
    let out = ok(&config, &["apply", file, "--accept-removals", "2"]).await;
    assert!(out.contains("2 access removal(s) written"), "{out}");
    let after = store_state(&store).await;
    assert_eq!(
        after.0, synced.0,
        "users are kept (the store cannot deactivate)"
    );
    assert!(
        after.2.iter().all(|(group, _)| group != "Engineering"),
        "{after:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_suspended_at_the_source_stays_active_at_scim2_server_under_the_default_policy() {
    let (jc, _, grace) = jumpcloud().await;
    let dir = workdir("scim-suspended");
    let base = test_peers::scim_tenant(Peer::ScimAwsIdentityCenter, "provision-suspended");
    let target = format!(
        "[target.scim]\nbase_url = \"{base}\"\ntoken = {{ env = \"PROVISION_TEST_SCIM_TOKEN\" }}\n"
    );
    let config = write_config(&dir, &jumpcloud_source(&jc, "AWS SSO"), &target);
    ok(&config, &["apply"]).await;
    jc.set_user_field(&grace, "state", Value::from("SUSPENDED"));
    let run = provision(&config, &["--json", "apply"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let skipped = doc["plan"]["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["subject"] == "grace.hopper"
            && s["reason"] == "deprovision_not_allowed"
            && s["would"] == "deactivate_user"),
        "{doc}"
    );
    // Read back from scim2-server itself.
    let users: Value = scim_get(&format!(
        "{base}/Users?filter=userName%20eq%20%22grace.hopper%22"
    ))
    .await;
    assert_eq!(
        users["Resources"][0]["active"],
        Value::Bool(true),
        "{users}"
    );
}

/// GETs a SCIM resource from the peer itself (not through our client).
async fn scim_get(url: &str) -> Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(test_peers::scim_token())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap()
}

/// Nanoseconds since the epoch: unique enough to keep runs apart.
fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
