//! Seed workflow 000's JumpCloud steps, each binary run as a user runs it, in --sandbox mode.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(bin)
        .args(args)
        .env_remove("JUMPCLOUD_API_KEY")
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bulk_create_tracks_the_job_to_user_ids() {
    let bin = env!("CARGO_BIN_EXE_jc_bulk_create_users");
    let (ok, out, err) = run(
        bin,
        &[
            "--sandbox",
            "--apply",
            "--user",
            "alan.turing,alan@example.com,Alan,Turing",
            "--user",
            "ada.lovelace,ada2@example.com,Ada,L",
        ],
    );
    assert!(
        ok,
        "one user exists already in the sandbox: left as it is: {out}{err}"
    );
    assert!(out.contains("Started bulk job "), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("User:alan.turing created with UserId:")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("User:ada.lovelace exists with UserId:")
                && l.ends_with("left as it is")),
        "{out}"
    );

    let (ok, out, _) = run(bin, &["--user", "x,x@example.com,X,Y"]);
    assert!(ok && out.starts_with("Dry run"), "{out}");
    let (ok, _, err) = run(bin, &["--sandbox", "--user", "not-a-user"]);
    assert!(
        !ok && err.contains("expected `username,email,first name,last name`"),
        "{err}"
    );
}

#[test]
fn create_group_reuses_or_creates() {
    let bin = env!("CARGO_BIN_EXE_jc_create_group");
    let (ok, out, _) = run(bin, &["--sandbox", "--name", "Engineering", "--apply"]);
    assert!(
        ok && out.contains("Group:Engineering exists with GroupId:") && out.contains("reusing it"),
        "{out}"
    );
    let (ok, out, _) = run(bin, &["--sandbox", "--name", "AWS Developers", "--apply"]);
    assert!(ok && out.contains("Existing user groups (2):"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("Group:AWS Developers with GroupId:")
                && l.ends_with("created successfully")),
        "{out}"
    );
}

#[test]
fn add_user_to_a_new_group_and_bind_a_group_once() {
    let (ok, out, _) = run(
        env!("CARGO_BIN_EXE_jc_add_user_to_group"),
        &[
            "--sandbox",
            "--username",
            "ada.lovelace",
            "--group",
            "AWS Developers",
            "--apply",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("Group:AWS Developers with GroupId:"), "{out}");
    assert!(
        out.contains("User:ada.lovelace added to Group:AWS Developers successfully"),
        "{out}"
    );

    let bind = env!("CARGO_BIN_EXE_jc_bind_group_to_app");
    let (ok, out, _) = run(
        bind,
        &[
            "--sandbox",
            "--app",
            "AWS SSO",
            "--group",
            "Engineering",
            "--apply",
        ],
    );
    assert!(ok && out.contains("already associated"), "{out}");
    let (ok, out, _) = run(
        bind,
        &[
            "--sandbox",
            "--app",
            "AWS SSO",
            "--group",
            "Finance",
            "--apply",
        ],
    );
    assert!(
        ok && out.contains("Group:Finance associated with AWS SSO successfully"),
        "{out}"
    );
    let (ok, _, err) = run(bind, &["--sandbox", "--app", "Nope", "--group", "Finance"]);
    assert!(!ok && err.contains("no application labelled"), "{err}");
}

#[test]
fn without_a_key_or_sandbox_the_error_says_what_to_do() {
    let (ok, _, err) = run(env!("CARGO_BIN_EXE_jc_create_group"), &["--name", "x"]);
    assert!(!ok);
    assert!(
        err.contains("JUMPCLOUD_API_KEY") && err.contains("--sandbox"),
        "{err}"
    );
}
