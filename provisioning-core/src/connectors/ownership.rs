//! A local ownership record, for targets that cannot hold the engine's ownership mark.
//!
//! The engine tells its own objects from everyone else's by their [`ExternalId`]. Some
//! targets cannot store one: Pulumi accepts a SCIM `externalId` but never stores it, and the
//! Identity Store's `CreateUser` has no `ExternalIds` parameter (the mark needs a second
//! call, which some test peers do not implement). For those, the connector keeps the links
//! itself: target object id → the [`ExternalId`] it would have carried.
//!
//! The record also holds the **kept memberships** of every target (whatever its mark
//! support): when the engine adopts an existing group, the members the group already had
//! and the source does not list were not added by the engine, and are never removed by it
//! (see [`Snapshot::kept_memberships`](crate::model::Snapshot::kept_memberships)). No target
//! can say who added a member, so the connector records them
//! ([`OwnershipRecord::keep_member`]) and reports them back on every read.
//!
//! The record is an append-only file of JSON lines, one per change, replayed (and compacted)
//! on open. A line is written and flushed as each write succeeds, so a run that stops
//! half-way keeps every link it made; a torn last line (a crash mid-write) is ignored. Without a file
//! ([`OwnershipRecord::in_memory`]) the links last as long as the process.
//!
//! | line | meaning |
//! |---|---|
//! | `{"kind":"user","id":"…","external_id":{"issuer":"…","id":"…"}}` | target object `id` carries the mark |
//! | `{"kind":"group","id":"…"}` | the link of group `id` is dropped |
//! | `{"keep":{"group_id":"…","user_id":"…"}}` | the membership is kept |
//! | `{"forget":{"group_id":"…","user_id":"…"}}` | the membership is no longer kept |
//! | `{"forget_group":"…"}` | no member of the group is kept any more |
//! | `{"forget_user":"…"}` | no membership of the user is kept any more |
//!
//! Files written before kept memberships existed hold only the first two shapes, and read
//! as before.
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

use std::collections::{BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::connector::{ConnectorError, ErrorClass};
use crate::model::{ExternalId, Membership};
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

/// One line of the file. See the table in the [module documentation](self).
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    /// A link made, or (without `external_id`) a link dropped: the only shape of older files.
    Link {
        kind: Kind,
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<ExternalId>,
    },
    /// A membership kept.
    Keep { keep: Membership },
    /// A membership no longer kept.
    Forget { forget: Membership },
    /// No member of this group kept any more.
    ForgetGroup { forget_group: String },
    /// No membership of this user kept any more.
    ForgetUser { forget_user: String },
}

/// What the record holds: the links, and the kept memberships.
#[derive(Debug, Default)]
struct Entries {
    links: HashMap<(Kind, String), ExternalId>,
    kept: BTreeSet<Membership>,
}

impl Entries {
    /// Replays one line.
    fn apply(&mut self, line: Line) {
        match line {
            Line::Link {
                kind,
                id,
                external_id: Some(mark),
            } => {
                self.links.insert((kind, id), mark);
            }
            Line::Link { kind, id, .. } => {
                self.links.remove(&(kind, id));
            }
            Line::Keep { keep } => {
                self.kept.insert(keep);
            }
            Line::Forget { forget } => {
                self.kept.remove(&forget);
            }
            line @ (Line::ForgetGroup { .. } | Line::ForgetUser { .. }) => {
                self.forget_all(&line);
            }
        }
    }

    /// Drops every kept membership a `forget_group` / `forget_user` line names; whether any
    /// was kept.
    fn forget_all(&mut self, line: &Line) -> bool {
        let before = self.kept.len();
        self.kept.retain(|m| match line {
            Line::ForgetGroup { forget_group } => &m.group_id != forget_group,
            Line::ForgetUser { forget_user } => &m.user_id != forget_user,
            _ => true,
        });
        self.kept.len() != before
    }

    /// One line per live entry: the compacted file.
    fn compacted(&self) -> String {
        let links = self.links.iter().map(|((kind, id), mark)| Line::Link {
            kind: *kind,
            id: id.clone(),
            external_id: Some(mark.clone()),
        });
        let kept = self.kept.iter().map(|m| Line::Keep { keep: m.clone() });
        let mut text = String::new();
        for line in links.chain(kept) {
            text.push_str(&serde_json::to_string(&line).unwrap_or_default());
            text.push('\n');
        }
        text
    }
}

/// Target object id → ownership mark, and the kept memberships, kept by the connector. See
/// the [module documentation](self).
#[derive(Debug)]
pub struct OwnershipRecord {
    entries: Mutex<Entries>,
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
            entries: Mutex::new(Entries::default()),
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
        let mut entries = Entries::default();
        let mut text = String::new();
        if path.exists() {
            text = std::fs::read_to_string(&path)
                .map_err(|e| problem(format!("cannot be read ({e})")))?;
            let lines: Vec<&str> = text.lines().collect();
            let last = lines.len();
            for (n, text) in lines.iter().enumerate() {
                if text.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Line>(text) {
                    Ok(line) => entries.apply(line),
                    // A crash while appending leaves a torn last line: the write it recorded
                    // is re-planned next run.
                    Err(_) if n + 1 == last => {
                        tracing::warn!(path = %path.display(), "ignoring a torn last line");
                    }
                    Err(e) => {
                        return Err(problem(format!(
                            "line {} is not an ownership line (a link or a kept membership: {e}); \
                             restore the file from a backup",
                            n + 1
                        )));
                    }
                }
            }
        }
        if !text.is_empty() {
            // Compact: one line per live entry, written aside and renamed over the record,
            // so the file stays as small as what it holds and a torn line is gone.
            let aside = path.with_extension("jsonl.tmp");
            std::fs::write(&aside, entries.compacted())
                .and_then(|()| std::fs::rename(&aside, &path))
                .map_err(|e| problem(format!("cannot be rewritten ({e})")))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| problem(format!("cannot be opened for writing ({e})")))?;
        Ok(Self {
            entries: Mutex::new(entries),
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
        lock(&self.entries)
            .links
            .get(&(kind, id.to_owned()))
            .cloned()
    }

    /// Records that the target object `id` carries `mark`.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// use provisioning_core::model::ExternalId;
    /// let record = OwnershipRecord::in_memory();
    /// record.set(Kind::Group, "g1", ExternalId::new("identity-provisioning", "jc-g1"))?;
    /// assert_eq!(record.get(Kind::Group, "g1").unwrap().id, "jc-g1");
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written to the file.
    pub fn set(&self, kind: Kind, id: &str, mark: ExternalId) -> Result<(), ConnectorError> {
        self.append(&Line::Link {
            kind,
            id: id.to_owned(),
            external_id: Some(mark.clone()),
        })?;
        lock(&self.entries)
            .links
            .insert((kind, id.to_owned()), mark);
        Ok(())
    }

    /// Forgets the target object `id` (it was deleted). Kept memberships are separate: see
    /// [`forget_group`](Self::forget_group) and [`forget_user`](Self::forget_user).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// use provisioning_core::model::ExternalId;
    /// let record = OwnershipRecord::in_memory();
    /// record.set(Kind::User, "u1", ExternalId::new("identity-provisioning", "jc-u1"))?;
    /// record.remove(Kind::User, "u1")?;
    /// assert!(record.get(Kind::User, "u1").is_none());
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written to the file.
    pub fn remove(&self, kind: Kind, id: &str) -> Result<(), ConnectorError> {
        let had = lock(&self.entries)
            .links
            .remove(&(kind, id.to_owned()))
            .is_some();
        if had {
            self.append(&Line::Link {
                kind,
                id: id.to_owned(),
                external_id: None,
            })?;
        }
        Ok(())
    }

    /// Records that target user `user_id`'s membership of target group `group_id` is kept:
    /// the group was adopted with this member, whom the engine did not add. Recording a
    /// kept membership again writes nothing.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// let record = OwnershipRecord::in_memory();
    /// record.keep_member("g1", "u7")?;
    /// assert_eq!(record.kept_members().len(), 1);
    /// assert!(record.is_empty(), "no link: kept memberships are counted apart");
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written to the file.
    pub fn keep_member(&self, group_id: &str, user_id: &str) -> Result<(), ConnectorError> {
        let m = membership(group_id, user_id);
        if lock(&self.entries).kept.contains(&m) {
            return Ok(());
        }
        self.append(&Line::Keep { keep: m.clone() })?;
        lock(&self.entries).kept.insert(m);
        Ok(())
    }

    /// Stops keeping one membership (it was removed, or the engine added it since). A
    /// membership that is not kept writes nothing.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// let record = OwnershipRecord::in_memory();
    /// record.keep_member("g1", "u7")?;
    /// record.forget_member("g1", "u7")?;
    /// assert!(record.kept_members().is_empty());
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written to the file.
    pub fn forget_member(&self, group_id: &str, user_id: &str) -> Result<(), ConnectorError> {
        let m = membership(group_id, user_id);
        let had = lock(&self.entries).kept.remove(&m);
        if had {
            self.append(&Line::Forget { forget: m })?;
        }
        Ok(())
    }

    /// Stops keeping every member of group `group_id` (it was deleted).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// let record = OwnershipRecord::in_memory();
    /// record.keep_member("g1", "u7")?;
    /// record.keep_member("g1", "u8")?;
    /// record.keep_member("g2", "u7")?;
    /// record.forget_group("g1")?;
    /// assert_eq!(record.kept_members().len(), 1);
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written to the file.
    pub fn forget_group(&self, group_id: &str) -> Result<(), ConnectorError> {
        self.forget_all(Line::ForgetGroup {
            forget_group: group_id.to_owned(),
        })
    }

    /// Stops keeping every membership of user `user_id` (it was deleted).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// let record = OwnershipRecord::in_memory();
    /// record.keep_member("g1", "u7")?;
    /// record.keep_member("g2", "u7")?;
    /// record.forget_user("u7")?;
    /// assert!(record.kept_members().is_empty());
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written to the file.
    pub fn forget_user(&self, user_id: &str) -> Result<(), ConnectorError> {
        self.forget_all(Line::ForgetUser {
            forget_user: user_id.to_owned(),
        })
    }

    /// Applies a `forget_group` / `forget_user` line, and writes it when it dropped any
    /// kept membership.
    fn forget_all(&self, line: Line) -> Result<(), ConnectorError> {
        let had = lock(&self.entries).forget_all(&line);
        if had {
            self.append(&line)?;
        }
        Ok(())
    }

    /// The kept memberships, by target ids: every one recorded and not forgotten, whether
    /// or not the target still has it (readers keep those it has).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// let record = OwnershipRecord::in_memory();
    /// record.keep_member("g1", "u7")?;
    /// let kept = record.kept_members();
    /// assert_eq!(kept.first().map(|m| m.user_id.as_str()), Some("u7"));
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    pub fn kept_members(&self) -> BTreeSet<Membership> {
        lock(&self.entries).kept.clone()
    }

    /// The kept memberships among `present` (what a target read found): what a target
    /// reports as [`Snapshot::kept_memberships`](crate::model::Snapshot::kept_memberships).
    ///
    /// ```
    /// use std::collections::BTreeSet;
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// use provisioning_core::model::Membership;
    /// let record = OwnershipRecord::in_memory();
    /// record.keep_member("g1", "u7")?;
    /// record.keep_member("g1", "u8")?;
    /// let present = BTreeSet::from([Membership { group_id: "g1".into(), user_id: "u7".into() }]);
    /// assert_eq!(record.kept_among(&present), present);
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    pub fn kept_among(&self, present: &BTreeSet<Membership>) -> BTreeSet<Membership> {
        lock(&self.entries)
            .kept
            .intersection(present)
            .cloned()
            .collect()
    }

    /// Whether no link is recorded (kept memberships are not links).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// assert!(OwnershipRecord::in_memory().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        lock(&self.entries).links.is_empty()
    }

    fn append(&self, line: &Line) -> Result<(), ConnectorError> {
        let Some((path, file)) = &self.file else {
            return Ok(());
        };
        let mut text = serde_json::to_string(line).unwrap_or_default();
        text.push('\n');
        let mut file = lock(file);
        let what = match line {
            Line::Link { .. } => "the object will be offered for adoption next run".to_owned(),
            Line::Keep { keep } => format!(
                "user {} is not recorded as a member that group {} keeps, so the next plan \
                 may remove it: review that plan's remove_members before applying it",
                keep.user_id, keep.group_id
            ),
            Line::Forget { .. } | Line::ForgetGroup { .. } | Line::ForgetUser { .. } => {
                "after a restart the membership reads as kept again, for as long as the \
                 target has it"
                    .to_owned()
            }
        };
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| {
                ConnectorError::new(
                    ErrorClass::Fatal,
                    format!(
                        "the write succeeded but the ownership record {} could not be updated \
                         ({e}); {what}",
                        path.display()
                    ),
                )
            })
    }
}

fn membership(group_id: &str, user_id: &str) -> Membership {
    Membership {
        group_id: group_id.to_owned(),
        user_id: user_id.to_owned(),
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

    fn kept(pairs: &[(&str, &str)]) -> BTreeSet<Membership> {
        pairs.iter().map(|(g, u)| membership(g, u)).collect()
    }

    #[test]
    fn kept_members_survive_a_reopen_and_forgetting_them_does_too() {
        let path = temp("kept");
        let record = OwnershipRecord::open(&path).unwrap();
        record
            .set(Kind::Group, "g1", ExternalId::new("idp", "jc-g1"))
            .unwrap();
        for (g, u) in [("g1", "u1"), ("g1", "u2"), ("g1", "u3"), ("g2", "u1")] {
            record.keep_member(g, u).unwrap();
        }
        record.keep_member("g1", "u1").unwrap(); // again: nothing more is written
        record.keep_member("g3", "u4").unwrap();
        record.keep_member("g4", "u5").unwrap();
        record.keep_member("g5", "u6").unwrap();
        record.forget_member("g1", "u2").unwrap();
        record.forget_member("g1", "u9").unwrap(); // never kept: nothing is written
        record.forget_group("g3").unwrap();
        record.forget_user("u5").unwrap();
        let expected = kept(&[("g1", "u1"), ("g1", "u3"), ("g2", "u1"), ("g5", "u6")]);
        assert_eq!(record.kept_members(), expected);
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(
            lines,
            1 + 7 + 3,
            "one line per change that changed something"
        );
        drop(record);

        let again = OwnershipRecord::open(&path).unwrap();
        assert_eq!(again.kept_members(), expected);
        assert_eq!(again.get(Kind::Group, "g1").unwrap().id, "jc-g1");
        assert!(!again.is_empty());
    }

    #[test]
    fn compaction_keeps_the_kept_members_and_only_them() {
        let path = temp("compact");
        let record = OwnershipRecord::open(&path).unwrap();
        record.keep_member("g1", "u1").unwrap();
        record.keep_member("g1", "u2").unwrap();
        record.forget_member("g1", "u2").unwrap();
        record.keep_member("g2", "u3").unwrap();
        record.forget_group("g2").unwrap();
        drop(record);
        // Reopening compacts: one line per live entry, and the line is a `keep` line.
        let record = OwnershipRecord::open(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text, "{\"keep\":{\"group_id\":\"g1\",\"user_id\":\"u1\"}}\n",
            "compacted"
        );
        assert!(record.is_empty(), "no link was ever made");
        // Appending after a compaction, and compacting again, loses nothing.
        record.keep_member("g3", "u4").unwrap();
        drop(record);
        let again = OwnershipRecord::open(&path).unwrap();
        assert_eq!(again.kept_members(), kept(&[("g1", "u1"), ("g3", "u4")]));
        drop(again);
        assert_eq!(
            OwnershipRecord::open(&path).unwrap().kept_members(),
            kept(&[("g1", "u1"), ("g3", "u4")])
        );
    }

    #[test]
    fn a_file_of_links_only_reads_as_before_and_a_torn_keep_line_is_ignored() {
        let path = temp("old");
        // As written before kept memberships existed: links only, one dropped.
        std::fs::write(
            &path,
            "{\"kind\":\"user\",\"id\":\"u1\",\"external_id\":{\"issuer\":\"idp\",\"id\":\"s1\"}}\n\
             {\"kind\":\"group\",\"id\":\"g1\",\"external_id\":{\"issuer\":\"idp\",\"id\":\"s2\"}}\n\
             {\"kind\":\"group\",\"id\":\"g1\"}\n",
        )
        .unwrap();
        let record = OwnershipRecord::open(&path).unwrap();
        assert_eq!(record.get(Kind::User, "u1").unwrap().id, "s1");
        assert!(record.get(Kind::Group, "g1").is_none());
        assert!(record.kept_members().is_empty());
        drop(record);

        // A crash while appending a keep line.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"keep\":{\"group_id\":\"g1\",\"user_id\":\"u1\"}}\n{\"keep\":{\"gro");
        std::fs::write(&path, text).unwrap();
        let record = OwnershipRecord::open(&path).unwrap();
        assert_eq!(record.kept_members(), kept(&[("g1", "u1")]));
        assert_eq!(record.get(Kind::User, "u1").unwrap().id, "s1");
        drop(record);

        // A line of an unknown shape in the middle is an error, not a silent loss.
        std::fs::write(
            &path,
            "{\"keep\":\"g1\"}\n{\"keep\":{\"group_id\":\"g1\",\"user_id\":\"u1\"}}\n",
        )
        .unwrap();
        let err = OwnershipRecord::open(&path).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    /// Issue #13: a plan opening the record while an apply appends to it.
    #[test]
    fn a_reader_opening_during_a_run_loses_no_link() {
        let path = temp("concurrent");
        let a = OwnershipRecord::open(&path).unwrap();
        a.set(Kind::User, "u1", ExternalId::new("idp", "s1")).unwrap();
        let b = OwnershipRecord::open(&path).unwrap();
        a.set(Kind::User, "u2", ExternalId::new("idp", "s2")).unwrap();
        drop((a, b));
        let again = OwnershipRecord::open(&path).unwrap();
        assert_eq!(again.get(Kind::User, "u1").unwrap().id, "s1");
        assert_eq!(again.get(Kind::User, "u2").map(|m| m.id), Some("s2".into()));
    }

    #[test]
    fn opening_to_read_writes_nothing() {
        let path = temp("readonly");
        let text = "{\"kind\":\"user\",\"id\":\"u1\",\"external_id\":{\"issuer\":\"idp\",\"id\":\"s1\"}}\n{\"kind\":\"user\",\"id\":\"u1\"}\n";
        std::fs::write(&path, text).unwrap();
        let record = OwnershipRecord::open(&path).unwrap();
        assert!(record.get(Kind::User, "u1").is_none());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "not rewritten");
    }

    #[test]
    fn a_record_of_a_newer_format_is_refused() {
        let path = temp("newer");
        std::fs::write(&path, "{\"format\":3}\n{\"kind\":\"user\",\"id\":\"u1\"}\n").unwrap();
        let err = OwnershipRecord::open(&path).unwrap_err();
        assert!(err.to_string().contains("newer version of the tool (format 3)"), "{err}");
    }

    #[test]
    fn an_in_memory_record_keeps_members_for_the_process() {
        let record = OwnershipRecord::in_memory();
        record.keep_member("g1", "u1").unwrap();
        record.keep_member("g1", "u2").unwrap();
        record.forget_member("g1", "u1").unwrap();
        assert_eq!(record.kept_members(), kept(&[("g1", "u2")]));
        record.forget_user("u2").unwrap();
        assert!(record.kept_members().is_empty());
    }
}
