//! Ids as newtypes: a group id cannot be passed where a user id is expected.
//!
//! ```
//! use jumpcloud_api::ids::{GroupId, UserId};
//! let user = UserId::from("5f0c1b2e3d4a5b6c7d8e9f02");
//! let group: GroupId = "5f0c1b2e3d4a5b6c7d8e9f01".into();
//! assert_eq!(user.as_str(), "5f0c1b2e3d4a5b6c7d8e9f02");
//! assert_eq!(group.to_string(), "5f0c1b2e3d4a5b6c7d8e9f01");
//! ```

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A system user's id (`_id` in v1, `id` in v2 graph objects).
    UserId
);
id_type!(
    /// A user group's id.
    GroupId
);
id_type!(
    /// An application's id.
    ApplicationId
);
id_type!(
    /// An organisation's id (`x-org-id`).
    OrgId
);
id_type!(
    /// A bulk or import job's id.
    JobId
);
id_type!(
    /// A scheduled user-state job's id.
    ScheduledJobId
);
