//! Seed workflow 001's CLI, driven end to end against moto: the binary as a user runs it,
//! configured only through the environment (`AWS_ENDPOINT_URL`).

use std::process::{Command, Output};

use test_peers::Peer;

fn run(store: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_identitystore_operations"));
    command
        .args(args)
        .args(["--identitystoreid", store])
        .env("AWS_ENDPOINT_URL", Peer::Moto.url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE");
    command.output().expect("the binary runs")
}

fn ok(store: &str, args: &[&str]) -> String {
    let output = run(store, args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn the_seed_001_walkthrough_runs_against_moto() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let store = format!("d-{:010}", nanos % 10_000_000_000);
    let store = store.as_str();

    let out = ok(store, &["create_group", "--groupname", "AWS_Data_Science"]);
    assert!(
        out.starts_with("Group:AWS_Data_Science with GroupId:"),
        "{out}"
    );
    ok(
        store,
        &["create_group", "--groupname", "AWS_Applied_Scientists"],
    );

    let out = ok(
        store,
        &[
            "create_user",
            "--username",
            "johndoe",
            "--givenname",
            "John",
            "--familyname",
            "Doe",
            "--groupname",
            "AWS_Data_Science",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("User:johndoe with UserId:")
            && lines[0].ends_with(" created successfully"),
        "{out}"
    );
    assert_eq!(
        lines[1],
        "User:johndoe added to Group:AWS_Data_Science successfully"
    );

    let out = ok(
        store,
        &[
            "adduser_to_group",
            "--groupname",
            "AWS_Applied_Scientists",
            "--username",
            "johndoe",
        ],
    );
    assert_eq!(
        out.trim(),
        "User:johndoe added to Group:AWS_Applied_Scientists successfully"
    );
    // Again: the member is there, nothing is written (no duplicate membership).
    let out = ok(
        store,
        &[
            "adduser_to_group",
            "--groupname",
            "AWS_Applied_Scientists",
            "--username",
            "johndoe",
        ],
    );
    assert_eq!(
        out.trim(),
        "User:johndoe is already a member of Group:AWS_Applied_Scientists: nothing to do"
    );

    let out = ok(
        store,
        &["list_members", "--groupname", "AWS_Applied_Scientists"],
    );
    assert_eq!(out.trim(), "UserName:johndoe,Display Name: John Doe");

    let out = ok(store, &["list_membership", "--username", "johndoe"]);
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.remove(0),
        "User :johndoe is a member of the following groups"
    );
    lines.sort_unstable();
    assert_eq!(lines, ["AWS_Applied_Scientists", "AWS_Data_Science"]);

    let out = ok(
        store,
        &["--json", "list_membership", "--username", "johndoe"],
    );
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(value["groups"].as_array().map(Vec::len), Some(2));

    let out = ok(
        store,
        &[
            "remove_from_group",
            "--groupname",
            "AWS_Applied_Scientists",
            "--username",
            "johndoe",
        ],
    );
    assert_eq!(
        out.trim(),
        "User:johndoe removed from Group:AWS_Applied_Scientists successfully"
    );
    ok(
        store,
        &["delete_group", "--groupname", "AWS_Applied_Scientists"],
    );
    ok(store, &["delete_user", "--username", "johndoe"]);

    // A missing user is a clear error and a non-zero exit.
    let missing = run(store, &["list_membership", "--username", "johndoe"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no user named johndoe"), "{stderr}");
}
