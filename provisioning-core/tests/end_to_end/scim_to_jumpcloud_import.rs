//! Seed 002's "Importing Users": scim2-server (an application in use before JumpCloud)
//! → the fake JumpCloud. The preview lists New and Imported users; the import creates the
//! New ones by bulk job and adds everyone to the group bound to the application.

use jumpcloud_api::models::NewSystemUser;
use provisioning_core::connectors::jumpcloud_import::{
    ImportOptions, ImportStatus, JumpCloudImport,
};
use provisioning_core::connectors::scim::client::{Resource, ScimClient};
use provisioning_core::connectors::scim::resources::{MultiValue, Name, ScimUser};
use provisioning_core::connectors::scim::{Profile, ScimTarget};
use test_peers::Peer;

fn scim_user(user_name: &str, email: &str, given: &str, family: &str) -> ScimUser {
    let mut user = ScimUser::default();
    user.user_name = user_name.into();
    user.emails = vec![MultiValue::primary(email, "work")];
    let mut name = Name::default();
    name.given_name = Some(given.into());
    name.family_name = Some(family.into());
    user.name = Some(name);
    user.display_name = Some(format!("{given} {family}"));
    user.active = Some(true);
    user
}

#[tokio::test]
async fn new_users_are_created_by_bulk_job_and_everyone_joins_the_bound_group() {
    // The application holds three users; JumpCloud knows one of them (by email).
    let base = test_peers::scim_tenant(Peer::ScimPulumi, "import");
    let client = ScimClient::builder(&base, test_peers::scim_token().into())
        .build()
        .unwrap();
    for (user_name, email, given, family) in [
        ("ada", "ada@example.com", "Ada", "Lovelace"),
        ("grace", "grace@example.com", "Grace", "Hopper"),
        ("d\"arcy+ops", "darcy+ops@example.com", "DArcy", "Ops"),
    ] {
        let created: ScimUser = client
            .create(Resource::Users, &scim_user(user_name, email, given, family))
            .await
            .unwrap();
        assert!(created.id.is_some());
    }
    let app = ScimTarget::new(client, Profile::Pulumi);

    let fake = jumpcloud_api::fake::FakeJumpCloud::start().await;
    let ada = fake.add_user(NewSystemUser::new("ada.lovelace", "ada@example.com"));
    let group = fake.add_group("Pulumi users");
    let unbound = fake.add_group("Everyone");
    let pulumi = fake.add_application("pulumi", "Pulumi");
    fake.associate_group(&pulumi, &group);
    let import = JumpCloudImport::new(fake.client());

    let preview = import.preview(&app).await.unwrap();
    let statuses: Vec<_> = preview
        .iter()
        .map(|c| (c.user.user_name.as_str(), c.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("ada", ImportStatus::Imported),
            ("d\"arcy+ops", ImportStatus::New),
            ("grace", ImportStatus::New)
        ]
    );
    assert_eq!(preview[0].jumpcloud_id.as_deref(), Some(ada.as_str()));

    // A group that is not bound to the application is refused before anything is written.
    let users_before = fake.users().len();
    let err = import
        .import(&preview, &ImportOptions::into_group("Pulumi", "Everyone"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not bound"), "{err}");
    assert_eq!(fake.users().len(), users_before);
    assert!(fake.members(&unbound).is_empty());

    let report = import
        .import(
            &preview,
            &ImportOptions::into_group("Pulumi", "Pulumi users"),
        )
        .await
        .unwrap();
    assert!(report.failed.is_empty(), "{report:#?}");
    let mut created: Vec<_> = report.created.iter().map(|(n, _)| n.as_str()).collect();
    created.sort_unstable();
    assert_eq!(created, ["d\"arcy+ops", "grace"]);
    assert_eq!(fake.members(&group).len(), 3, "the Imported user joins too");

    // Imported now, all of them.
    let again = import.preview(&app).await.unwrap();
    assert!(again.iter().all(|c| c.status == ImportStatus::Imported));
}
