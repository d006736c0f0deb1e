//! The Identity Store target's lookups by name against moto, which compares names byte for
//! byte: a name stored in NFD is found for its NFC spelling, and the other way round.

use aws_access::identity_store::{IdentityStore, NewUser, OnConflict};
use provisioning_core::connector::TargetReader;
use provisioning_core::connectors::identity_store::IdentityStoreTarget;
use provisioning_core::connectors::ownership::OwnershipRecord;

use crate::jumpcloud_to_identity_store::moto_store;

const NFC: &str = "ren\u{e9}e@example.com";
const NFD: &str = "rene\u{301}e@example.com";

#[tokio::test]
async fn identity_store_finds_a_name_stored_in_the_other_normalisation_form() {
    let store = moto_store().await;
    store
        .create_user(&NewUser::new(NFD, "Renée", "Nfd"), OnConflict::Fail)
        .await
        .unwrap();
    store
        .create_user(
            &NewUser::new("zo\u{eb}@example.com", "Zoë", "Nfc"),
            OnConflict::Fail,
        )
        .await
        .unwrap();
    store
        .create_group("Cafe\u{301} Staff", None, OnConflict::Fail)
        .await
        .unwrap();
    let target = IdentityStoreTarget::new(store, OwnershipRecord::in_memory());

    let found = target
        .find_user(NFC)
        .await
        .unwrap()
        .expect("the NFD name, for NFC");
    assert_eq!(found.user_name, NFD);
    let found = target
        .find_user("zoe\u{308}@example.com")
        .await
        .unwrap()
        .expect("the NFC name, for NFD");
    assert_eq!(found.user_name, "zo\u{eb}@example.com");
    let group = target
        .find_group("Caf\u{e9} Staff")
        .await
        .unwrap()
        .expect("the NFD group name, for NFC");
    assert_eq!(group.display_name, "Cafe\u{301} Staff");
    assert_eq!(target.find_user("renee@example.com").await.unwrap(), None);
}
