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
//! # A state file
//!
//! The record is stored in a [`StateStore`] (a local file: [`FileStateStore`]) as JSON
//! lines, one per change, replayed on open. It is opened one of two ways:
//!
//! - **for a run** ([`OwnershipRecord::open`], [`OwnershipRecord::open_waiting`],
//!   [`OwnershipRecord::locked`]): the store's exclusive lock is taken and held until the
//!   record is dropped, so a second run fails at once (or waits); the file is then compacted
//!   when it holds more than its live entries (atomically: a synced temp file renamed over
//!   it). Each change is appended, flushed and synced **before** the call returns, so a
//!   write reported done is in the record even after `kill -9`.
//! - **read-only** ([`OwnershipRecord::open_read_only`], [`OwnershipRecord::read_only`]): for
//!   a plan, a dry run or an audit. Nothing is created, locked, compacted or appended; a
//!   missing file is an empty record; a change attempted through it is an
//!   [`ErrorClass::Fatal`] error saying so, never a silently dropped link.
//!
//! A torn last line (a crash mid-append) is ignored on read and dropped by the next
//! compaction. New files start with a format header; a record of a newer format than this
//! build knows is refused; files without a header (written before formats existed) read as
//! format 1.
//!
//! # Intents: the crash window of a create
//!
//! A create and its link are two steps: a process killed between them leaves an object the
//! record does not know, which the next run would take for someone else's (and, with
//! adoption off, leave alone for ever). So the connector records an **intent** before the
//! create ([`OwnershipRecord::intend`]), settled by the link ([`OwnershipRecord::set_created`])
//! or by a definite failure ([`OwnershipRecord::settle`]). Reading the target, the connector
//! asks [`OwnershipRecord::claim`] about each unmarked object: one whose name (NFC, case
//! folded) matches a pending intent is the engine's own, and under a run's lock the intent
//! becomes a link. Under the lock, intents whose name the target does not hold are settled
//! ([`OwnershipRecord::settle_unclaimed`]): the create never happened.
//!
//! | line | meaning |
//! |---|---|
//! | `{"format":2}` | the header: the format of the lines that follow (absent: format 1) |
//! | `{"kind":"user","id":"…","external_id":{"issuer":"…","id":"…"}}` | target object `id` carries the mark |
//! | `{"kind":"user","id":"…","external_id":{…},"name":"…"}` | the same, made by a create: settles the intent for `name` |
//! | `{"kind":"group","id":"…"}` | the link of group `id` is dropped |
//! | `{"keep":{"group_id":"…","user_id":"…"}}` | the membership is kept |
//! | `{"forget":{"group_id":"…","user_id":"…"}}` | the membership is no longer kept |
//! | `{"forget_group":"…"}` | no member of the group is kept any more |
//! | `{"forget_user":"…"}` | no membership of the user is kept any more |
//! | `{"intent":{"kind":"user","name":"…","external_id":{…}}}` | a create of `name` (folded) with this mark is under way |
//! | `{"settled":{"kind":"user","name":"…"}}` | that create failed, or never happened |
//!
//! Files written before kept memberships existed hold only the link shapes, and read as
//! before. Without a store ([`OwnershipRecord::in_memory`]) the record lasts as long as the
//! process.
//!
//! ```
//! use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
//! use provisioning_core::model::ExternalId;
//!
//! let dir = std::env::temp_dir().join(format!("ownership-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("pulumi-acme.ownership.jsonl");
//! # let _ = std::fs::remove_file(&path);
//! let record = OwnershipRecord::open(&path)?; // locked for this run
//! record.set(Kind::User, "scim-id-1", ExternalId::new("identity-provisioning", "5f0c"))?;
//! let plan = OwnershipRecord::open_read_only(&path)?; // a plan meanwhile: sees it, writes nothing
//! assert_eq!(plan.get(Kind::User, "scim-id-1").unwrap().id, "5f0c");
//! assert!(plan.set(Kind::User, "scim-id-2", ExternalId::new("identity-provisioning", "9a1b")).is_err());
//! drop(record);
//! let again = OwnershipRecord::open(&path)?;
//! assert_eq!(again.get(Kind::User, "scim-id-1").unwrap().id, "5f0c");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), provisioning_core::connector::ConnectorError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::connector::{ConnectorError, ErrorClass};
use crate::connectors::state::{FileStateStore, StateLock, StateStore};
use crate::model::{ExternalId, Membership};
use crate::util::{fold, lock};

/// The format this build writes, and the newest it reads.
pub const FORMAT: u32 = 2;

/// What kind of target object a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A user.
    User,
    /// A group.
    Group,
}

/// A create under way: its kind, folded name and mark.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Intent {
    kind: Kind,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<ExternalId>,
}

/// One line of the file. See the table in the [module documentation](self).
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    /// The header.
    Format { format: u32 },
    /// A link made, or (without `external_id`) a link dropped: the only shape of older
    /// files. With `name`, the link of a create, which settles its intent.
    Link {
        kind: Kind,
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<ExternalId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A membership kept.
    Keep { keep: Membership },
    /// A membership no longer kept.
    Forget { forget: Membership },
    /// No member of this group kept any more.
    ForgetGroup { forget_group: String },
    /// No membership of this user kept any more.
    ForgetUser { forget_user: String },
    /// A create under way.
    Intent { intent: Intent },
    /// A create that failed or never happened.
    Settled { settled: Intent },
}

/// What the record holds: the links, the kept memberships and the pending intents.
#[derive(Debug, Default)]
struct Entries {
    links: BTreeMap<(Kind, String), ExternalId>,
    kept: BTreeSet<Membership>,
    intents: BTreeMap<(Kind, String), ExternalId>,
    /// Creates of this process whose outcome is unknown (a timeout, a 5xx): a conflict on
    /// a retry may be the object the first attempt made. Never written.
    uncertain: BTreeSet<(Kind, String)>,
}

impl Entries {
    /// Replays one line.
    fn apply(&mut self, line: Line) {
        match line {
            Line::Format { .. } => {}
            Line::Link {
                kind,
                id,
                external_id: Some(mark),
                name,
            } => {
                if let Some(name) = name {
                    self.intents.remove(&(kind, name));
                }
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
            Line::Intent { intent } => {
                if let Some(mark) = intent.external_id {
                    self.intents.insert((intent.kind, intent.name), mark);
                }
            }
            Line::Settled { settled } => {
                self.intents.remove(&(settled.kind, settled.name));
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

    /// The header and one line per live entry: the compacted file.
    fn compacted(&self) -> String {
        let header = std::iter::once(Line::Format { format: FORMAT });
        let links = self.links.iter().map(|((kind, id), mark)| Line::Link {
            kind: *kind,
            id: id.clone(),
            external_id: Some(mark.clone()),
            name: None,
        });
        let kept = self.kept.iter().map(|m| Line::Keep { keep: m.clone() });
        let intents = self
            .intents
            .iter()
            .map(|((kind, name), mark)| Line::Intent {
                intent: Intent {
                    kind: *kind,
                    name: name.clone(),
                    external_id: Some(mark.clone()),
                },
            });
        let mut text = String::new();
        for line in header.chain(links).chain(kept).chain(intents) {
            text.push_str(&serde_json::to_string(&line).unwrap_or_default());
            text.push('\n');
        }
        text
    }

    /// Replays a stored text (`name` for messages).
    fn replay(name: &str, text: &str) -> Result<Self, ConnectorError> {
        let problem = |what: String| {
            ConnectorError::new(
                ErrorClass::Invalid,
                format!("ownership record {name}: {what}"),
            )
        };
        let mut entries = Self::default();
        let lines: Vec<&str> = text.lines().collect();
        let last = lines.len();
        for (n, text) in lines.iter().enumerate() {
            if text.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Line>(text) {
                Ok(Line::Format { format }) if format > FORMAT => {
                    return Err(problem(format!(
                        "written by a newer version of the tool (format {format}; this one \
                         reads up to format {FORMAT}); upgrade the tool, or restore a backup \
                         that this version wrote"
                    )));
                }
                Ok(line) => entries.apply(line),
                // A crash while appending leaves a torn last line: the write it recorded
                // is re-planned next run.
                Err(_) if n + 1 == last => {
                    tracing::warn!(record = %name, "ignoring a torn last line");
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
        Ok(entries)
    }
}

/// How the record is written, if at all.
#[derive(Debug)]
enum Writer {
    /// No store: the process's memory only.
    Memory,
    /// Opened read-only, from the store of this name.
    ReadOnly(String),
    /// Locked for a run.
    Locked(Mutex<Box<dyn StateLock>>, String),
}

/// Target object id → ownership mark, the kept memberships and the pending intents, kept by
/// the connector. See the [module documentation](self).
#[derive(Debug)]
pub struct OwnershipRecord {
    entries: Mutex<Entries>,
    writer: Writer,
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
            writer: Writer::Memory,
        }
    }

    /// Opens the record in the file at `path` for a run: takes its lock (failing at once if
    /// another run holds it), replays it, and compacts it if it holds more than its live
    /// entries. The file is created (with its header) when missing. See
    /// [`locked`](Self::locked).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// let path = std::env::temp_dir().join(format!("ownership-open-{}.jsonl", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let record = OwnershipRecord::open(&path)?;
    /// assert!(OwnershipRecord::open(&path).is_err(), "one run at a time");
    /// # drop(record);
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`locked`](Self::locked).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ConnectorError> {
        Self::locked(&FileStateStore::new(path.as_ref()), false)
    }

    /// As [`open`](Self::open), but waits for another run to release the lock (a blocking
    /// OS lock, no polling).
    ///
    /// ```no_run
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// let record = OwnershipRecord::open_waiting("prod.ownership.jsonl")?;
    /// # let _ = record;
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`locked`](Self::locked), except that a held lock is waited for.
    pub fn open_waiting(path: impl AsRef<Path>) -> Result<Self, ConnectorError> {
        Self::locked(&FileStateStore::new(path.as_ref()), true)
    }

    /// Opens the record in the file at `path` read-only: see
    /// [`read_only`](Self::read_only).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// let path = std::env::temp_dir().join("no-such-dir-ownership").join("never.jsonl");
    /// let record = OwnershipRecord::open_read_only(&path)?;
    /// assert!(record.is_empty() && !path.exists());
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`read_only`](Self::read_only).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, ConnectorError> {
        Self::read_only(&FileStateStore::new(path.as_ref()))
    }

    /// The record in `store`, locked for a run (with `wait`, waiting for another run to
    /// release it), replayed, and compacted when it holds more than its live entries (or no
    /// header yet).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::OwnershipRecord;
    /// use provisioning_core::connectors::state::FileStateStore;
    /// let path = std::env::temp_dir().join(format!("ownership-locked-{}.jsonl", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let record = OwnershipRecord::locked(&FileStateStore::new(&path), false)?;
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"format\":2}\n");
    /// # drop(record);
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Conflict`] when another run holds the lock (and `wait` is off), naming
    /// it; [`ErrorClass::Invalid`] when the record cannot be read, is of a newer format, or
    /// a line other than the last is not a record line; [`ErrorClass::Fatal`] when it
    /// cannot be compacted.
    pub fn locked(store: &dyn StateStore, wait: bool) -> Result<Self, ConnectorError> {
        let name = store.name();
        let mut run = store.lock(wait)?;
        let text = run.read()?.unwrap_or_default();
        let entries = Entries::replay(&name, &text)?;
        let compacted = entries.compacted();
        if text != compacted {
            run.compact(&compacted)?;
        }
        Ok(Self {
            entries: Mutex::new(entries),
            writer: Writer::Locked(Mutex::new(run), name),
        })
    }

    /// The record in `store`, read-only: a snapshot of what it holds (empty when the store
    /// holds nothing yet). Nothing is ever written; a change is an error.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// use provisioning_core::connectors::state::FileStateStore;
    /// use provisioning_core::model::ExternalId;
    /// let store = FileStateStore::new(std::env::temp_dir().join("no-such-dir-ownership").join("r.jsonl"));
    /// let record = OwnershipRecord::read_only(&store)?;
    /// let err = record.set(Kind::User, "u1", ExternalId::new("idp", "s1")).unwrap_err();
    /// assert!(err.to_string().contains("opened read-only"), "{err}");
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Invalid`] when the record cannot be read, is of a newer format, or a
    /// line other than the last is not a record line.
    pub fn read_only(store: &dyn StateStore) -> Result<Self, ConnectorError> {
        let name = store.name();
        let text = store.read()?.unwrap_or_default();
        Ok(Self {
            entries: Mutex::new(Entries::replay(&name, &text)?),
            writer: Writer::ReadOnly(name),
        })
    }

    /// Whether changes are written (locked for a run, or in memory).
    ///
    /// ```
    /// assert!(provisioning_core::connectors::ownership::OwnershipRecord::in_memory().is_writable());
    /// ```
    pub fn is_writable(&self) -> bool {
        !matches!(self.writer, Writer::ReadOnly(_))
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
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
    pub fn set(&self, kind: Kind, id: &str, mark: ExternalId) -> Result<(), ConnectorError> {
        self.append(&Line::Link {
            kind,
            id: id.to_owned(),
            external_id: Some(mark.clone()),
            name: None,
        })?;
        lock(&self.entries)
            .links
            .insert((kind, id.to_owned()), mark);
        Ok(())
    }

    /// Records, before a create of `name` (a userName or group display name, compared
    /// folded), that the object about to exist is the engine's, with `mark`. Settled by
    /// [`set_created`](Self::set_created) or [`settle`](Self::settle).
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// use provisioning_core::model::ExternalId;
    /// let record = OwnershipRecord::in_memory();
    /// record.intend(Kind::User, "Ada", ExternalId::new("idp", "jc-ada"))?;
    /// // The process dies here; the next read finds "ada" unmarked:
    /// assert_eq!(record.claim(Kind::User, "u-1", "ADA")?.unwrap().id, "jc-ada");
    /// assert_eq!(record.get(Kind::User, "u-1").unwrap().id, "jc-ada");
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
    pub fn intend(&self, kind: Kind, name: &str, mark: ExternalId) -> Result<(), ConnectorError> {
        let name = fold(name);
        self.append(&Line::Intent {
            intent: Intent {
                kind,
                name: name.clone(),
                external_id: Some(mark.clone()),
            },
        })?;
        lock(&self.entries).intents.insert((kind, name), mark);
        Ok(())
    }

    /// Records that the create of `name` made object `id`, carrying `mark`: the link, which
    /// settles the intent, in one line.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// use provisioning_core::model::ExternalId;
    /// let record = OwnershipRecord::in_memory();
    /// record.intend(Kind::Group, "Engineering", ExternalId::new("idp", "jc-g1"))?;
    /// record.set_created(Kind::Group, "g-1", "Engineering", ExternalId::new("idp", "jc-g1"))?;
    /// assert_eq!(record.pending_intents(), 0);
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
    pub fn set_created(
        &self,
        kind: Kind,
        id: &str,
        name: &str,
        mark: ExternalId,
    ) -> Result<(), ConnectorError> {
        let name = fold(name);
        self.append(&Line::Link {
            kind,
            id: id.to_owned(),
            external_id: Some(mark.clone()),
            name: Some(name.clone()),
        })?;
        let mut entries = lock(&self.entries);
        entries.intents.remove(&(kind, name));
        entries.links.insert((kind, id.to_owned()), mark);
        Ok(())
    }

    /// Records the intent of a create of `name` (when it carries a mark), runs it, and
    /// records its link (settling the intent) — or settles the intent when the create
    /// definitely failed. An uncertain failure (a timeout, a 5xx) keeps the intent: the
    /// next read recognises the object if it was created after all. `create` answers the
    /// new object's id.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// use provisioning_core::model::ExternalId;
    /// # futures::executor::block_on(async {
    /// let record = OwnershipRecord::in_memory();
    /// let mark = ExternalId::new("idp", "jc-ada");
    /// let id = record.created(Kind::User, "ada", Some(&mark), async { Ok("u-1".to_owned()) }).await?;
    /// assert_eq!(record.get(Kind::User, &id), Some(mark));
    /// assert_eq!(record.pending_intents(), 0);
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// The create's error; [`ErrorClass::Fatal`] when the intent or the link cannot be
    /// written durably (before the create, nothing is created), or the record was opened
    /// read-only.
    pub async fn created(
        &self,
        kind: Kind,
        name: &str,
        mark: Option<&ExternalId>,
        create: impl Future<Output = Result<String, ConnectorError>>,
    ) -> Result<String, ConnectorError> {
        if let Some(mark) = mark {
            self.intend(kind, name, mark.clone())?;
        }
        match create.await {
            Ok(id) => {
                if let Some(mark) = mark {
                    self.set_created(kind, &id, name, mark.clone())?;
                }
                Ok(id)
            }
            Err(err) => {
                let key = (kind, fold(name));
                let definite = match err.class() {
                    // A retry's conflict after an attempt of unknown outcome may be the
                    // object that attempt made: the intent stays, so that the lookup after
                    // the conflict (and the next read) recognise it.
                    ErrorClass::Conflict => !lock(&self.entries).uncertain.contains(&key),
                    ErrorClass::Invalid
                    | ErrorClass::Denied
                    | ErrorClass::NotFound
                    | ErrorClass::RateLimited => true,
                    _ => {
                        lock(&self.entries).uncertain.insert(key);
                        false
                    }
                };
                if mark.is_some() && definite {
                    self.settle(kind, name)?;
                }
                Err(err)
            }
        }
    }

    /// Settles the intent for `name`: its create definitely failed. No pending intent
    /// writes nothing.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// use provisioning_core::model::ExternalId;
    /// let record = OwnershipRecord::in_memory();
    /// record.intend(Kind::User, "ada", ExternalId::new("idp", "jc-ada"))?;
    /// record.settle(Kind::User, "ada")?;
    /// assert!(record.claim(Kind::User, "u-1", "ada")?.is_none());
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
    pub fn settle(&self, kind: Kind, name: &str) -> Result<(), ConnectorError> {
        let name = fold(name);
        let had = lock(&self.entries)
            .intents
            .contains_key(&(kind, name.clone()));
        if !had {
            return Ok(());
        }
        self.append(&Line::Settled {
            settled: Intent {
                kind,
                name: name.clone(),
                external_id: None,
            },
        })?;
        lock(&self.entries).intents.remove(&(kind, name));
        Ok(())
    }

    /// The mark of an unmarked target object `id` named `name`, when a pending intent says
    /// the engine created it (a run stopped between the create and its link). A record that
    /// is written (locked, or in memory) turns the intent into a link; a read-only one only
    /// answers.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// assert!(OwnershipRecord::in_memory().claim(Kind::User, "u-1", "ada")?.is_none());
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the link cannot be written durably.
    pub fn claim(
        &self,
        kind: Kind,
        id: &str,
        name: &str,
    ) -> Result<Option<ExternalId>, ConnectorError> {
        let Some(mark) = lock(&self.entries)
            .intents
            .get(&(kind, fold(name)))
            .cloned()
        else {
            return Ok(None);
        };
        if self.is_writable() {
            tracing::info!(
                ?kind,
                id,
                name,
                "recognised a create of an earlier run by its intent"
            );
            self.set_created(kind, id, name, mark.clone())?;
        }
        Ok(Some(mark))
    }

    /// Settles every pending intent of `kind` whose name is not among `present` (the
    /// names a complete read of the target found): those creates never happened. Only a
    /// record locked for a run (or in memory) does this; a read-only one leaves them.
    ///
    /// ```
    /// use provisioning_core::connectors::ownership::{Kind, OwnershipRecord};
    /// use provisioning_core::model::ExternalId;
    /// let record = OwnershipRecord::in_memory();
    /// record.intend(Kind::User, "ada", ExternalId::new("idp", "jc-ada"))?;
    /// record.settle_unclaimed(Kind::User, ["grace"])?;
    /// assert_eq!(record.pending_intents(), 0);
    /// # Ok::<(), provisioning_core::connector::ConnectorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when a line cannot be written durably.
    pub fn settle_unclaimed<'a>(
        &self,
        kind: Kind,
        present: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ConnectorError> {
        if !self.is_writable() {
            return Ok(());
        }
        let present: BTreeSet<String> = present.into_iter().map(fold).collect();
        let gone: Vec<String> = lock(&self.entries)
            .intents
            .keys()
            .filter(|(k, name)| *k == kind && !present.contains(name))
            .map(|(_, name)| name.clone())
            .collect();
        for name in gone {
            self.settle(kind, &name)?;
        }
        Ok(())
    }

    /// How many creates are recorded as under way.
    ///
    /// ```
    /// assert_eq!(provisioning_core::connectors::ownership::OwnershipRecord::in_memory().pending_intents(), 0);
    /// ```
    pub fn pending_intents(&self) -> usize {
        lock(&self.entries).intents.len()
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
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
    pub fn remove(&self, kind: Kind, id: &str) -> Result<(), ConnectorError> {
        let had = lock(&self.entries)
            .links
            .contains_key(&(kind, id.to_owned()));
        if had {
            self.append(&Line::Link {
                kind,
                id: id.to_owned(),
                external_id: None,
                name: None,
            })?;
            lock(&self.entries).links.remove(&(kind, id.to_owned()));
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
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
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
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
    pub fn forget_member(&self, group_id: &str, user_id: &str) -> Result<(), ConnectorError> {
        let m = membership(group_id, user_id);
        let had = lock(&self.entries).kept.contains(&m);
        if had {
            self.append(&Line::Forget { forget: m.clone() })?;
            lock(&self.entries).kept.remove(&m);
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
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
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
    /// [`ErrorClass::Fatal`] when the line cannot be written durably, or the record was
    /// opened read-only.
    pub fn forget_user(&self, user_id: &str) -> Result<(), ConnectorError> {
        self.forget_all(Line::ForgetUser {
            forget_user: user_id.to_owned(),
        })
    }

    /// Writes a `forget_group` / `forget_user` line when it drops any kept membership, then
    /// applies it.
    fn forget_all(&self, line: Line) -> Result<(), ConnectorError> {
        let had = {
            let entries = lock(&self.entries);
            entries.kept.iter().any(|m| match &line {
                Line::ForgetGroup { forget_group } => &m.group_id == forget_group,
                Line::ForgetUser { forget_user } => &m.user_id == forget_user,
                _ => false,
            })
        };
        if had {
            self.append(&line)?;
            lock(&self.entries).forget_all(&line);
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

    /// Writes `line` durably before the caller changes the entries: a change reported done
    /// is in the store.
    fn append(&self, line: &Line) -> Result<(), ConnectorError> {
        let (run, name) = match &self.writer {
            Writer::Memory => return Ok(()),
            Writer::ReadOnly(name) => {
                return Err(ConnectorError::new(
                    ErrorClass::Fatal,
                    format!(
                        "the ownership record {name} was opened read-only (for a plan, a dry \
                         run or an audit) and cannot record this change; this is a bug: only \
                         a run holding the record's lock writes"
                    ),
                ));
            }
            Writer::Locked(run, name) => (run, name),
        };
        let text = serde_json::to_string(line).unwrap_or_default();
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
            Line::Intent { .. } => "nothing was created".to_owned(),
            Line::Settled { .. } | Line::Format { .. } => {
                "the next run settles it again".to_owned()
            }
        };
        lock(run).append(&text).map_err(|e| {
            ConnectorError::new(
                ErrorClass::Fatal,
                format!("the ownership record {name} could not be updated; {what}"),
            )
            .with_source(e)
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
    use std::path::PathBuf;

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
        drop(again);

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
            1 + 1 + 7 + 3,
            "the header, then one line per change that changed something"
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
        // Reopening for a run compacts: the header, one line per live entry, and the line
        // is a `keep` line.
        let record = OwnershipRecord::open(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text, "{\"format\":2}\n{\"keep\":{\"group_id\":\"g1\",\"user_id\":\"u1\"}}\n",
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

    /// Issue #13: a plan opening the record while an apply appends to it. On the code
    /// before the state file (where both opens were `open`), the second open compacted the
    /// file by renaming a new one over it, and `u2` went to the unlinked old inode.
    #[test]
    fn a_reader_opening_during_a_run_loses_no_link() {
        let path = temp("concurrent");
        let a = OwnershipRecord::open(&path).unwrap();
        a.set(Kind::User, "u1", ExternalId::new("idp", "s1"))
            .unwrap();
        let b = OwnershipRecord::open_read_only(&path).unwrap();
        assert_eq!(
            b.get(Kind::User, "u1").unwrap().id,
            "s1",
            "the reader sees u1"
        );
        a.set(Kind::User, "u2", ExternalId::new("idp", "s2"))
            .unwrap();
        drop((a, b));
        let again = OwnershipRecord::open(&path).unwrap();
        assert_eq!(again.get(Kind::User, "u1").unwrap().id, "s1");
        assert_eq!(again.get(Kind::User, "u2").map(|m| m.id), Some("s2".into()));
    }

    #[test]
    fn a_second_run_fails_at_once_with_the_holder_and_a_killed_one_blocks_nobody() {
        let path = temp("second-run");
        let first = OwnershipRecord::open(&path).unwrap();
        let err = OwnershipRecord::open(&path).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Conflict);
        assert!(
            err.to_string().contains(&format!(
                "locked by another run (pid {}",
                std::process::id()
            )),
            "{err}"
        );
        drop(first);
        OwnershipRecord::open(&path).expect("released with the record");
    }

    /// Opening read-only never writes. What this proves and what it does not: the bytes and
    /// the modification time of the file are unchanged and no file appears beside it (no
    /// temp file, no lock file), so the record was never opened for writing. When the tests
    /// run as root the directory's permissions are not enforced, so only an unprivileged
    /// run also proves that a read-only directory suffices (checked below when it applies).
    #[test]
    fn opening_to_read_writes_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp("readonly");
        let dir = path.parent().unwrap();
        let text = "{\"kind\":\"user\",\"id\":\"u1\",\"external_id\":{\"issuer\":\"idp\",\"id\":\"s1\"}}\n{\"kind\":\"user\",\"id\":\"u1\"}\n{\"kind\":\"us";
        std::fs::write(&path, text).unwrap();
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let enforced = std::fs::write(dir.join("probe"), "").is_err();
        let record = OwnershipRecord::open_read_only(&path).unwrap();
        assert!(record.get(Kind::User, "u1").is_none());
        let err = record
            .set(Kind::User, "u2", ExternalId::new("idp", "s2"))
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Fatal);
        assert!(err.to_string().contains("opened read-only"), "{err}");
        assert!(record.get(Kind::User, "u2").is_none());
        assert!(
            OwnershipRecord::open_read_only(dir.join("missing.jsonl"))
                .unwrap()
                .is_empty()
        );
        if enforced {
            assert!(
                OwnershipRecord::open(&path).is_err(),
                "a run needs a writable directory"
            );
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let _ = std::fs::remove_file(dir.join("probe"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "not rewritten"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            [path.file_name().unwrap()],
            "nothing created beside it"
        );
    }

    #[test]
    fn a_record_of_a_newer_format_is_refused_and_a_new_one_starts_with_its_header() {
        let path = temp("newer");
        std::fs::write(&path, "{\"format\":3}\n{\"kind\":\"user\",\"id\":\"u1\"}\n").unwrap();
        let err = OwnershipRecord::open(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("newer version of the tool (format 3"),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade"), "{err}");
        let err = OwnershipRecord::open_read_only(&path).unwrap_err();
        assert!(err.to_string().contains("format 3"), "{err}");

        let fresh = temp("fresh");
        drop(OwnershipRecord::open(&fresh).unwrap());
        assert_eq!(std::fs::read_to_string(&fresh).unwrap(), "{\"format\":2}\n");
    }

    /// A create that timed out may have succeeded: its retry's conflict is that object,
    /// not someone else's, so the intent stays and the lookup after the conflict finds the
    /// object as ours (with adoption off, settling it would orphan the object for good).
    #[test]
    fn a_conflict_after_a_create_of_unknown_outcome_keeps_the_intent() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let record = OwnershipRecord::in_memory();
        let mark = ExternalId::new("idp", "jc-ada");
        let attempt = |class| {
            record.created(Kind::User, "Ada", Some(&mark), async move {
                Err::<String, _>(ConnectorError::new(class, "refused"))
            })
        };
        runtime
            .block_on(attempt(ErrorClass::Transient))
            .unwrap_err();
        runtime.block_on(attempt(ErrorClass::Conflict)).unwrap_err();
        assert_eq!(
            record.claim(Kind::User, "u-9", "ada").unwrap(),
            Some(mark.clone())
        );

        // Without an uncertain attempt first, a conflict is someone else's object.
        let record = OwnershipRecord::in_memory();
        runtime
            .block_on(record.created(Kind::User, "Ada", Some(&mark), async {
                Err::<String, _>(ConnectorError::new(ErrorClass::Conflict, "exists"))
            }))
            .unwrap_err();
        assert_eq!(record.claim(Kind::User, "u-9", "ada").unwrap(), None);
    }

    #[test]
    fn intents_survive_a_crash_and_become_links_only_under_the_lock() {
        let path = temp("intents");
        let run = OwnershipRecord::open(&path).unwrap();
        run.intend(Kind::User, "Ada\u{301}", ExternalId::new("idp", "jc-ada"))
            .unwrap();
        run.intend(Kind::Group, "Ghosts", ExternalId::new("idp", "jc-g"))
            .unwrap();
        run.intend(Kind::User, "grace", ExternalId::new("idp", "jc-grace"))
            .unwrap();
        run.settle(Kind::User, "grace").unwrap();
        drop(run); // killed after the creates, before their links

        let plan = OwnershipRecord::open_read_only(&path).unwrap();
        // NFD in the intent, NFC and another case on the target: the same name.
        let mark = plan.claim(Kind::User, "u-1", "ADÁ").unwrap().unwrap();
        assert_eq!(mark.id, "jc-ada");
        assert!(
            plan.get(Kind::User, "u-1").is_none(),
            "a read-only record only answers"
        );
        assert!(
            plan.claim(Kind::User, "u-2", "grace").unwrap().is_none(),
            "settled"
        );
        drop(plan);

        let run = OwnershipRecord::open(&path).unwrap();
        assert_eq!(run.pending_intents(), 2);
        assert_eq!(
            run.claim(Kind::User, "u-1", "adá").unwrap().unwrap().id,
            "jc-ada"
        );
        run.settle_unclaimed(Kind::Group, ["Engineering"]).unwrap();
        assert_eq!(run.pending_intents(), 0, "Ghosts was never created");
        drop(run);
        let again = OwnershipRecord::open(&path).unwrap();
        assert_eq!(again.get(Kind::User, "u-1").unwrap().id, "jc-ada");
        assert_eq!(again.pending_intents(), 0);
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
