//! Prints a sample plan, as a table and as JSON (the example in docs/provisioning-core.md):
//! `cargo run -p provisioning-core --example sample_plan`.

use provisioning_core::connector::Capabilities;
use provisioning_core::model::{ExternalId, Group, Snapshot, User};
use provisioning_core::plan::plan;
use provisioning_core::policy::{DEFAULT_ISSUER, DeletionGuard, Policy};
use provisioning_core::report::render_plan;

fn person(id: &str, given: &str, family: &str) -> User {
    let email = format!("{}@example.com", given.to_lowercase());
    User::new(id, &email)
        .with_names(given, family)
        .with_email(email)
}

fn main() -> Result<(), serde_json::Error> {
    // The source (e.g. the groups bound to one JumpCloud application).
    let mut source = Snapshot::default();
    source.users.push(person("jc-ada", "Ada", "Lovelace"));
    source.users.push(person("jc-grace", "Grace", "Hopper"));
    source
        .users
        .push(User::new("jc-svc", "svc-backup@example.com"));
    source
        .groups
        .push(Group::new("jc-eng", "Platform Engineering"));
    source.add_membership("jc-eng", "jc-ada");
    source.add_membership("jc-eng", "jc-grace");
    source.add_membership("jc-eng", "jc-svc");

    // The target: Grace exists unowned (made by hand); Alan and Engineering are ours.
    let mut target = Snapshot::default();
    target.users.push(person("9067-grace", "Grace", "Hopper"));
    let mut alan = person("9067-alan", "Alan", "Turing");
    alan.external_id = Some(ExternalId::new(DEFAULT_ISSUER, "jc-alan"));
    target.users.push(alan);
    let mut eng = Group::new("9067-eng", "Engineering");
    eng.external_id = Some(ExternalId::new(DEFAULT_ISSUER, "jc-eng"));
    target.groups.push(eng);
    target.add_membership("9067-eng", "9067-alan");

    // An IAM Identity Center-like target, and a policy that allows deprovisioning.
    let mut caps = Capabilities::default();
    caps.requires_names = true;
    caps.max_members_per_request = 100;
    let mut policy = Policy::default();
    policy.allow_deprovision = true;
    policy.deletion_guard = DeletionGuard::unlimited();

    let plan = plan(&source, &target, &caps, &policy);
    println!("{}", render_plan(&plan));
    println!("{}", serde_json::to_string_pretty(&plan)?);
    Ok(())
}
