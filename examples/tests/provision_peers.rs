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
    let target = format!(
        "[target.identity_store]\nidentity_store_id = \"{store}\"\n\n[aws]\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\n",
        Peer::Moto.url()
    );
    let config = write_config(&dir, &jumpcloud_source(&jc, "AWS SSO"), &target);

    let out = ok(&config, &["apply"]).await;
    assert!(out.contains("add_members   Engineering"), "{out}");
    assert!(out.contains("0 failed"), "{out}");
    // The ownership record defaults to a file beside the configuration.
    let record = std::fs::read_to_string(dir.join("provision.ownership.jsonl")).unwrap();
    assert_eq!(
        record.lines().count(),
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

/// Nanoseconds since the epoch: unique enough to keep runs apart.
fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
