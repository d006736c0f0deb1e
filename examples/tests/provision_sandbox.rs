//! The `provision` command as a user runs it: the sandbox tour (the README's main job), its
//! single commands, and the errors a bad configuration gets. No peer needed.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn provision(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_provision"))
        .args(args)
        .env_remove("PROVISION_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", run.stdout, run.stderr))
}

fn kinds_and_subjects(plan: &Value) -> Vec<(String, String)> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["operation"]["op"].as_str().unwrap().to_owned(),
                c["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_sandbox_tour_plans_applies_and_converges() {
    let run = provision(&["--sandbox"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    for expected in [
        "== 1. provision plan ==",
        "create_user   ada.lovelace",
        "add_members   Engineering        ada.lovelace",
        "margaret.hamilton: the target requires given and family names",
        "== 2. provision apply ==",
        "11 ok, 0 skipped, 0 failed",
        "== 3. provision plan, again ==",
        "No changes: the target matches the source.",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The configuration the sandbox stands for goes to stderr, with no secret in it.
    assert!(run.stderr.contains("[source.jumpcloud]"), "{}", run.stderr);

    let doc = json(&provision(&["--sandbox", "--json"]));
    let first = kinds_and_subjects(&doc["first_plan"]);
    assert!(first.contains(&("create_user".into(), "katherine.johnson".into())));
    assert!(first.contains(&("update_user".into(), "grace.hopper".into())));
    assert!(first.contains(&("create_group".into(), "Data Science".into())));
    // Out of scope, excluded or unowned: never touched.
    for (_, subject) in &first {
        assert!(
            ![
                "Finance",
                "AWSControlTowerAdmins",
                "break-glass-admin",
                "linus.t"
            ]
            .contains(&subject.as_str()),
            "{subject} must not be planned"
        );
    }
    let outcomes = doc["report"]["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), first.len());
    assert!(outcomes.iter().all(|o| o["status"] == "ok"), "{outcomes:?}");
    assert_eq!(doc["second_plan"]["changes"].as_array().unwrap().len(), 0);
}

#[test]
fn sandbox_commands_plan_dry_run_and_audit_write_nothing() {
    let plan = json(&provision(&["--sandbox", "--json", "plan"]));
    let dry = provision(&["--sandbox", "apply", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("Dry run: nothing was written."),
        "{}",
        dry.stdout
    );
    assert!(
        !dry.stdout.contains(" ok, "),
        "a dry run has no report: {}",
        dry.stdout
    );
    assert_eq!(
        plan["plan"]["changes"].as_array().unwrap().len(),
        11,
        "{plan}"
    );

    let audit = provision(&["--sandbox", "audit"]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    for expected in [
        "Users only in the source (5):",
        "break-glass-admin (unowned: left alone)",
        "AWSControlTowerAdmins (unowned: left alone)",
        "Drift found: a sync would make 11 change(s)",
    ] {
        assert!(
            audit.stdout.contains(expected),
            "missing {expected:?}:\n{}",
            audit.stdout
        );
    }

    let members = json(&provision(&[
        "--sandbox",
        "--json",
        "audit",
        "--group",
        "engineering",
    ]));
    let rows: Vec<(&str, bool, bool)> = members["view"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["in_source"].as_bool().unwrap(),
                r["at_target"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ada.lovelace", true, false),
            ("alan.turing", true, false),
            ("grace.hopper", true, false),
            ("margaret.hamilton", true, false),
        ]
    );

    let groups = provision(&["--sandbox", "audit", "--user", "break-glass-admin"]);
    assert!(
        groups
            .stdout
            .contains("Groups of user \"break-glass-admin\": source NOT FOUND, target found"),
        "{}",
        groups.stdout
    );
    assert!(
        groups
            .stdout
            .contains("AWSControlTowerAdmins  -       yes     only at the target"),
        "{}",
        groups.stdout
    );
}

fn config_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("provision-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_configurations_name_the_field_and_exit_1() {
    let missing = provision(&["--config", "/nonexistent/provision.toml", "plan"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("cannot read the configuration file /nonexistent/provision.toml"),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("--sandbox"), "{}", missing.stderr);

    let path = config_file(
        "misspelt.toml",
        "[source.jumpcloud]\napi_key = { env = \"JUMPCLOUD_API_KEY\" }\napplication = \"AWS SSO\"\n\n[target.identity_store]\n\n[policy]\nalow_deprovision = true\n",
    );
    let run = provision(&["--config", path.to_str().unwrap(), "apply"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`policy.alow_deprovision`: unknown field"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(line 8)"), "{}", run.stderr);

    let path = config_file(
        "pasted-secret.toml",
        "[source.okta]\norg_url = \"https://example.okta.com\"\ntoken = \"00aBcSeCrEt\"\ngroups = [\"aws\"]\n\n[target.scim]\nbase_url = \"https://scim.example.com/v2\"\ntoken = { env = \"SCIM_TOKEN\" }\n",
    );
    let run = provision(&["--config", path.to_str().unwrap(), "plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`source.okta.token`: a secret cannot be written in the configuration"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("00aBcSeCrEt"), "{}", run.stderr);

    let path = config_file(
        "unset-secret.toml",
        "[source.okta]\norg_url = \"https://example.okta.com\"\ntoken = { env = \"PROVISION_TEST_SURELY_UNSET\" }\ngroups = [\"aws\"]\n\n[target.scim]\nbase_url = \"https://scim.example.com/v2\"\ntoken = { env = \"SCIM_TOKEN\" }\n",
    );
    let run = provision(&["--config", path.to_str().unwrap(), "plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("reading the secret of `source.okta.token`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("PROVISION_TEST_SURELY_UNSET is not set"),
        "{}",
        run.stderr
    );

    let no_command = provision(&["--config", path.to_str().unwrap()]);
    assert_eq!(no_command.code, 1);
    assert!(
        no_command.stderr.contains("provision plan"),
        "{}",
        no_command.stderr
    );

    let both = provision(&["--sandbox", "--config", path.to_str().unwrap(), "plan"]);
    assert_eq!(both.code, 1);
    assert!(
        both.stderr.contains("takes no configuration"),
        "{}",
        both.stderr
    );
}

#[test]
fn sandbox_import_lists_new_and_imported_users_and_reports_each_failure() {
    let preview = provision(&["--sandbox", "import"]);
    assert_eq!(preview.code, 0, "{}", preview.stderr);
    assert!(
        preview.stdout.contains("hedy.lamarr        New"),
        "{}",
        preview.stdout
    );
    assert!(
        preview.stdout.contains("grace.hopper       Imported  5f"),
        "{}",
        preview.stdout
    );
    assert!(
        preview.stdout.contains("Preview only"),
        "{}",
        preview.stdout
    );

    let unbound = provision(&["--sandbox", "import", "--into-group", "Finance"]);
    assert_eq!(unbound.code, 1);
    assert!(
        unbound.stderr.contains("not bound to the application"),
        "{}",
        unbound.stderr
    );

    let run = provision(&[
        "--sandbox",
        "--json",
        "import",
        "--into-group",
        "Engineering",
    ]);
    assert_eq!(
        run.code, 2,
        "one user has no email: {}{}",
        run.stdout, run.stderr
    );
    let doc = json(&run);
    assert_eq!(doc["report"]["created"][0][0], "hedy.lamarr");
    assert_eq!(doc["report"]["failed"][0][0], "break-glass-admin");
    assert!(
        doc["report"]["failed"][0][1]
            .as_str()
            .unwrap()
            .contains("no email")
    );
}
