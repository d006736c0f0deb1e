//! A local ownership record, for targets that cannot hold the engine's ownership mark.
//!
//! The engine tells its own objects from everyone else's by their [`ExternalId`]. Some
//! targets cannot store one: Pulumi accepts a SCIM `externalId` but never stores it, and the
//! Identity Store's `CreateUser` has no `ExternalIds` parameter (the mark needs a second
//! call, which some test peers do not implement). For those, the connector keeps the links
//! itself: target object id → the [`ExternalId`] it would have carried.
//!
//! The record is an append-only file of JSON lines, one per change, replayed (and compacted)
//! on open. A line is written and flushed as each write succeeds, so a run that stops
//! half-way keeps every link it made; a torn last line (a crash mid-write) is ignored. Without a file
//! ([`OwnershipRecord::in_memory`]) the links last as long as the process.
//!
//! ```
//! use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
//! use provisioning_core::model::ExternalId;
//!
//! let dir = std::env::temp_dir().join(format!("ownership-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("pulumi-acme.ownership.jsonl");
//! # let _ = std::fs::remove_file(&path);
//! let record = OwnershipRecord::open(&path)?;
//! record.set(Kind::User, "scim-id-1", ExternalId::new("identity-provisioning", "5f0c"))?;
//! drop(record);
//! let again = OwnershipRecord::open(&path)?;
//! assert_eq!(again.get(Kind::User, "scim-id-1").unwrap().id, "5f0c");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), provisioning_core::connector::ConnectorError>(())
//! ```

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::connector::{ConnectorError, ErrorClass};
use crate::model::ExternalId;
use crate::util::lock;

/// What kind of target object a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A user.
    User,
    /// A group.
    Group,
}

/// One line of the file: a link made, or (without `external_id`) a link dropped.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    kind: Kind,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<ExternalId>,
}

/// Target object id → ownership mark, kept by the connector. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct OwnershipRecord {
    links: Mutex<HashMap<(Kind, String), ExternalId>>,
    file: Option<(PathBuf, Mutex<File>)>,
}

impl OwnershipRecord {
    /// A record that lives as long as the process.
    ///
    /// ```
    /// let record = provisioning_core::connectors::ownership::OwnershipRecord::in_memory();
    /// assert!(record.is_empty());
    /// ```
    pub fn in_memory() -> Self {
        Self {
            links: Mutex::new(HashMap::new()),
            file: None,
        }
    }

    /// Opens (or creates) the record at `path` and replays it.
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Invalid`] when the file cannot be read or created, or a line other than
    /// the last is not a record line.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ConnectorError> {
        let path = path.as_ref().to_path_buf();
        let problem = |what: String| {
            ConnectorError::new(
                ErrorClass::Invalid,
                format!("ownership record {}: {what}", path.display()),
            )
        };
        let mut links = HashMap::new();
        let mut torn = false;
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| problem(format!("cannot be read ({e})")))?;
            torn = !text.is_empty() && !text.ends_with('\n');
            let lines: Vec<&str> = text.lines().collect();
            let last = lines.len();
            for (n, text) in lines.iter().enumerate() {
                if text.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Line>(text) {
                    Ok(Line {
                        kind,
                        id,
                        external_id: Some(mark),
                    }) => {
                        links.insert((kind, id), mark);
                    }
                    Ok(Line { kind, id, .. }) => {
                        links.remove(&(kind, id));
                    }
                    // A crash while appending leaves a torn last line: the write it recorded
                    // is re-planned next run.
                    Err(_) if n + 1 == last => {
                        tracing::warn!(path = %path.display(), "ignoring a torn last line");
                    }
                    Err(e) => {
                        return Err(problem(format!(
                            "line {} is not an ownership line ({e}); restore the file from a backup",
                            n + 1
                        )));
                    }
                }
            }
        }
        if torn || !links.is_empty() {
            // Compact: one line per live link, written aside and renamed over the record,
            // so the file stays as small as the links and a torn line is gone.
            let aside = path.with_extension("jsonl.tmp");
            let mut text = String::new();
            for ((kind, id), mark) in &links {
                let line = Line {
                    kind: *kind,
                    id: id.clone(),
                    external_id: Some(mark.clone()),
                };
                text.push_str(&serde_json::to_string(&line).unwrap_or_default());
                text.push('\n');
            }
            std::fs::write(&aside, text)
                .and_then(|()| std::fs::rename(&aside, &path))
                .map_err(|e| problem(format!("cannot be rewritten ({e})")))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| problem(format!("cannot be opened for writing ({e})")))?;
        Ok(Self {
            links: Mutex::new(links),
            file: Some((path, Mutex::new(file))),
        })
    }

    /// The mark recorded for a target object.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// assert!(OwnershipRecord::in_memory().get(Kind::Group, "g1").is_none());
    /// ```
    pub fn get(&self, kind: Kind, id: &str) -> Option<ExternalId> {
        lock(&self.links).get(&(kind, id.to_owned())).cloned()
    }

    /// Records that the target object `id` carries `mark`.
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written to the file.
    pub fn set(&self, kind: Kind, id: &str, mark: ExternalId) -> Result<(), ConnectorError> {
        self.append(&Line {
            kind,
            id: id.to_owned(),
            external_id: Some(mark.clone()),
        })?;
        lock(&self.links).insert((kind, id.to_owned()), mark);
        Ok(())
    }

    /// Forgets the target object `id` (it was deleted).
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written to the file.
    pub fn remove(&self, kind: Kind, id: &str) -> Result<(), ConnectorError> {
        if lock(&self.links).remove(&(kind, id.to_owned())).is_some() {
            self.append(&Line {
                kind,
                id: id.to_owned(),
                external_id: None,
            })?;
        }
        Ok(())
    }

    /// Whether no link is recorded.
    pub fn is_empty(&self) -> bool {
        lock(&self.links).is_empty()
    }

    fn append(&self, line: &Line) -> Result<(), ConnectorError> {
        let Some((path, file)) = &self.file else {
            return Ok(());
        };
        let mut text = serde_json::to_string(line).unwrap_or_default();
        text.push('\n');
        let mut file = lock(file);
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| {
                ConnectorError::new(
                    ErrorClass::Fatal,
                    format!(
                        "the write succeeded but the ownership record {} could not be updated \
                         ({e}); the object will be offered for adoption next run",
                        path.display()
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ownership-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("record.jsonl")
    }

    #[test]
    fn links_survive_a_reopen_and_removals_too() {
        let path = temp("reopen");
        let record = OwnershipRecord::open(&path).unwrap();
        record
            .set(Kind::User, "u1", ExternalId::new("idp", "s1"))
            .unwrap();
        record
            .set(Kind::Group, "u1", ExternalId::new("idp", "g1"))
            .unwrap();
        record
            .set(Kind::User, "u2", ExternalId::new("idp", "s2"))
            .unwrap();
        record.remove(Kind::User, "u2").unwrap();
        drop(record);
        let again = OwnershipRecord::open(&path).unwrap();
        assert_eq!(again.get(Kind::User, "u1").unwrap().id, "s1");
        assert_eq!(again.get(Kind::Group, "u1").unwrap().id, "g1");
        assert!(again.get(Kind::User, "u2").is_none());
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_a_corrupt_middle_line_is_an_error() {
        let path = temp("torn");
        std::fs::write(
            &path,
            "{\"kind\":\"user\",\"id\":\"u1\",\"external_id\":{\"issuer\":\"idp\",\"id\":\"s1\"}}\n{\"kind\":\"us",
        )
        .unwrap();
        let record = OwnershipRecord::open(&path).unwrap();
        assert_eq!(record.get(Kind::User, "u1").unwrap().id, "s1");
        record
            .set(Kind::User, "u2", ExternalId::new("idp", "s2"))
            .unwrap();
        drop(record);
        let again = OwnershipRecord::open(&path).unwrap();
        assert_eq!(
            again.get(Kind::User, "u2").unwrap().id,
            "s2",
            "the line after a torn one reads"
        );

        std::fs::write(&path, "garbage\n{\"kind\":\"user\",\"id\":\"u1\"}\n").unwrap();
        let err = OwnershipRecord::open(&path).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
