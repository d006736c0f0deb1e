//! `provision --sandbox`: the whole flow with no account — a fake JumpCloud on a loopback
//! port and an in-memory Identity Store (20 requests/s, 30 ms per call, paced as the real
//! client is), seeded with demo data that exercises the rules a first sync meets:
//!
//! | demo data | what the first plan does |
//! |---|---|
//! | `Engineering`, `Data Science` bound to the `AWS SSO` application; `Finance` bound elsewhere | syncs the two bound groups, not `Finance` |
//! | `ada.lovelace`, `alan.turing`, `katherine.johnson` | creates them, with their memberships |
//! | `grace.hopper`, already in the store as "Grace H." | adopts her by userName and updates her names |
//! | `Engineering`, already in the store, empty | adopts the group and adds its members |
//! | `margaret.hamilton`, no last name | skips her: the Identity Store requires both names |
//! | `linus.t`, suspended in JumpCloud | skips him: the Identity Store cannot hold an inactive user |
//! | `AWSControlTowerAdmins` and `break-glass-admin` in the store | leaves them alone (excluded, unowned) |
//! | `hedy.lamarr`, only in the store | leaves her alone (unowned); `provision --sandbox import` lists her as New |
//!
//! [`SANDBOX_CONFIG`] is the configuration the same run takes against real services.
//!
//! ```
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let sandbox = provisioning_examples::provision::sandbox::Sandbox::start().await?;
//! assert!(sandbox.connected.target_label.starts_with("Identity Store (sandbox)"));
//! # Ok::<(), anyhow::Error>(())
//! # }).unwrap();
//! ```

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_access::fake::FakeIdentityStore;
use aws_access::identity_store::{IdentityStore, NewUser, OnConflict, rate_limiter};
use jumpcloud_api::fake::FakeJumpCloud;
use jumpcloud_api::models::NewSystemUser;
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::jumpcloud::JumpCloudSource;
use provisioning_core::connectors::ownership::OwnershipRecord;
use serde_json::json;

use super::config::Config;
use super::connect::{Connected, jumpcloud_issuer};

/// The configuration the sandbox stands for: JumpCloud's `AWS SSO` application to an
/// Identity Store, with the default policy.
pub const SANDBOX_CONFIG: &str = r#"# provision.toml
[source.jumpcloud]
api_key = { env = "JUMPCLOUD_API_KEY" }
application = "AWS SSO"

[target.identity_store]
identity_store_id = "d-9067a1b2c3"

[policy]
exclude_groups = ["AWS*"]
"#;

/// The sandbox's identity store id.
pub const SANDBOX_STORE_ID: &str = "d-9067a1b2c3";

/// A running sandbox: the fakes, and the connectors over them.
#[derive(Debug)]
pub struct Sandbox {
    /// The fake JumpCloud (serving on a loopback port while this lives).
    pub jumpcloud: FakeJumpCloud,
    /// The in-memory Identity Store.
    pub store: Arc<FakeIdentityStore>,
    /// [`SANDBOX_CONFIG`], parsed.
    pub config: Config,
    /// The source and target of the sync.
    pub connected: Connected,
}

impl Sandbox {
    /// Starts the fakes and seeds them. See the [module documentation](self).
    ///
    /// # Errors
    ///
    /// When seeding the in-memory store fails (it should not).
    pub async fn start() -> Result<Self> {
        let jumpcloud = FakeJumpCloud::start().await;
        seed_jumpcloud(&jumpcloud);
        jumpcloud.set_bulk_pending_polls(1);

        let store = Arc::new(
            FakeIdentityStore::new(SANDBOX_STORE_ID)
                .with_latency(Duration::from_millis(30))
                .with_rate_limit(NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN))
                .paced_by(rate_limiter(
                    SANDBOX_STORE_ID,
                    NonZeroU32::new(18).unwrap_or(NonZeroU32::MIN),
                )),
        );
        seed_store(store.as_ref())
            .await
            .context("seeding the sandbox's identity store")?;

        let config = Config::parse(SANDBOX_CONFIG).context("the sandbox configuration")?;
        // As `connect` does for a JumpCloud source without an org id: the key's organisation.
        let mut policy = config.policy.clone();
        policy.issuer = jumpcloud_issuer(&jumpcloud.client()).await?;
        let connected = Connected {
            source: Box::new(JumpCloudSource::new(jumpcloud.client())),
            scope: config.scope(),
            target: Box::new(IdentityStoreTarget::new(
                store.clone(),
                OwnershipRecord::in_memory(),
            )),
            source_label: format!(
                "JumpCloud (sandbox at {}), application \"AWS SSO\"",
                jumpcloud.uri()
            ),
            target_label: format!("Identity Store (sandbox) {SANDBOX_STORE_ID}"),
            jumpcloud: Some(jumpcloud.client()),
            policy,
            issuer_derived: true,
        };
        Ok(Self {
            jumpcloud,
            store,
            config,
            connected,
        })
    }
}

fn seed_jumpcloud(jc: &FakeJumpCloud) {
    let user = |name: &str, first: &str, last: &str| {
        jc.add_user(NewSystemUser::new(name, format!("{name}@example.com")).names(first, last))
    };
    let ada = user("ada.lovelace", "Ada", "Lovelace");
    let grace = user("grace.hopper", "Grace", "Hopper");
    let alan = user("alan.turing", "Alan", "Turing");
    let katherine = user("katherine.johnson", "Katherine", "Johnson");
    let margaret = jc.add_user(
        NewSystemUser::new("margaret.hamilton", "margaret.hamilton@example.com")
            .names("Margaret", ""),
    );
    let linus = user("linus.t", "Linus", "Torvalds");
    jc.set_user_field(&linus, "suspended", json!(true));
    jc.set_user_field(&linus, "state", json!("SUSPENDED"));

    let engineering = jc.add_group("Engineering");
    let data = jc.add_group("Data Science");
    let finance = jc.add_group("Finance");
    for user in [&ada, &grace, &alan, &margaret] {
        jc.add_member(&engineering, user);
    }
    for user in [&katherine, &alan, &linus] {
        jc.add_member(&data, user);
    }
    jc.add_member(&finance, &grace);

    let aws = jc.add_application("aws", "AWS SSO");
    let pulumi = jc.add_application("pulumi", "Pulumi");
    jc.associate_group(&aws, &engineering);
    jc.associate_group(&aws, &data);
    jc.associate_group(&pulumi, &finance);
}

async fn seed_store(store: &dyn IdentityStore) -> aws_access::Result<()> {
    let grace = NewUser::new("grace.hopper", "Grace", "H.").email("grace.hopper@example.com");
    store.create_user(&grace, OnConflict::Fail).await?;
    let hedy = NewUser::new("hedy.lamarr", "Hedy", "Lamarr").email("hedy.lamarr@example.com");
    store.create_user(&hedy, OnConflict::Fail).await?;
    let admin = NewUser::new("break-glass-admin", "Break", "Glass");
    let admin = store.create_user(&admin, OnConflict::Fail).await?.value;
    let tower = store
        .create_group(
            "AWSControlTowerAdmins",
            Some("Created by AWS Control Tower"),
            OnConflict::Fail,
        )
        .await?
        .value;
    store.add_member(&tower.id, &admin.id).await?;
    store
        .create_group("Engineering", None, OnConflict::Fail)
        .await?;
    Ok(())
}
