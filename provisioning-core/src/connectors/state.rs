//! Where a connector's state lives: the storage under the [ownership
//! record](crate::connectors::ownership), behind a small trait so that a remote backend
//! (object storage with conditional writes, a conditional lock item in a key-value table)
//! can follow without touching the record or the engine.
//!
//! A [`StateStore`] offers two ways in:
//!
//! - [`read`](StateStore::read): a snapshot of the stored text, for a plan, a dry run or an
//!   audit. It never creates, locks, renames or writes anything, and a store that does not
//!   exist yet reads as `None` (an empty record).
//! - [`lock`](StateStore::lock): the exclusive lock of one run, as a [`StateLock`] guard. Only
//!   through the guard can text be [appended](StateLock::append) (one line, durable before
//!   the call returns) or the whole text [replaced](StateLock::compact) (atomically). Dropping
//!   the guard releases the lock; so does the death of the process holding it.
//!
//! [`FileStateStore`] keeps the text in a local file. Its lock is an OS file lock
//! ([`File::try_lock`], or the blocking [`File::lock`] when asked to wait) on a sidecar file
//! `<record>.lock`, into which the holder writes its pid and start time for the message a
//! second run gets. The OS lock, not the sidecar's existence, is the truth: a sidecar left
//! behind by a killed process blocks nobody.
//!
//! ```
//! use provisioning_core::connectors::state::{FileStateStore, StateStore};
//!
//! let dir = std::env::temp_dir().join(format!("state-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = FileStateStore::new(dir.join("prod.ownership.jsonl"));
//! assert_eq!(store.read()?, None, "nothing stored yet, and reading created nothing");
//! {
//!     let mut run = store.lock(false)?;
//!     run.append("{\"format\":2}")?;
//!     assert!(store.lock(false).is_err(), "one run at a time");
//! }
//! assert_eq!(store.read()?.as_deref(), Some("{\"format\":2}\n"));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), provisioning_core::connector::ConnectorError>(())
//! ```

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::connector::{ConnectorError, ErrorClass};

/// Storage for a connector's state. See the [module documentation](self).
///
/// ```
/// use provisioning_core::connectors::state::{FileStateStore, StateStore};
/// let store: Box<dyn StateStore> = Box::new(FileStateStore::new("prod.ownership.jsonl"));
/// assert!(store.name().ends_with("prod.ownership.jsonl"));
/// ```
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// Where the state lives, for messages (a path, a URL).
    fn name(&self) -> String;

    /// A snapshot of the stored text; `None` when nothing is stored yet. Never writes.
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Invalid`] when the state exists but cannot be read.
    fn read(&self) -> Result<Option<String>, ConnectorError>;

    /// Takes the exclusive lock of one run. With `wait`, waits for a holder to release it;
    /// without, fails at once.
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Conflict`] when another run holds the lock (and `wait` is off): the
    /// message names the holder. [`ErrorClass::Invalid`] when the lock cannot be taken.
    fn lock(&self, wait: bool) -> Result<Box<dyn StateLock>, ConnectorError>;
}

/// The lock of one run on a [`StateStore`]: the only way to change the stored text.
/// Dropping it releases the lock.
///
/// ```
/// use provisioning_core::connectors::state::{FileStateStore, StateStore};
/// let dir = std::env::temp_dir().join(format!("state-lock-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let store = FileStateStore::new(dir.join("record.jsonl"));
/// let mut run = store.lock(false)?;
/// run.append("one")?;
/// run.append("two")?;
/// run.compact("two\n")?;
/// assert_eq!(run.read()?.as_deref(), Some("two\n"));
/// # drop(run);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), provisioning_core::connector::ConnectorError>(())
/// ```
pub trait StateLock: Send + std::fmt::Debug {
    /// The stored text, read under the lock; `None` when nothing is stored yet.
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Invalid`] when the state exists but cannot be read.
    fn read(&mut self) -> Result<Option<String>, ConnectorError>;

    /// Appends `line` and a line break, durably: when this returns `Ok`, the line survives
    /// the process being killed (and, for the file store, the machine losing power).
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the line cannot be written, flushed or synced.
    fn append(&mut self, line: &str) -> Result<(), ConnectorError>;

    /// Replaces the whole text with `text`, atomically: a crash leaves either the old text
    /// or the new, never a mix.
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Fatal`] when the new text cannot be written in place.
    fn compact(&mut self, text: &str) -> Result<(), ConnectorError>;
}

/// A [`StateStore`] in a local file, locked through the sidecar `<file>.lock`. See the
/// [module documentation](self).
///
/// ```
/// use provisioning_core::connectors::state::FileStateStore;
/// let store = FileStateStore::new("/var/lib/sync/prod.ownership.jsonl");
/// assert_eq!(store.lock_path(), std::path::Path::new("/var/lib/sync/prod.ownership.jsonl.lock"));
/// ```
#[derive(Debug, Clone)]
pub struct FileStateStore {
    path: PathBuf,
}

/// What the holder of a lock writes into the sidecar file.
#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    started: String,
}

impl FileStateStore {
    /// The store in the file at `path` (created by the first locked run).
    ///
    /// ```
    /// let store = provisioning_core::connectors::state::FileStateStore::new("record.jsonl");
    /// # let _ = store;
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        // A record reached through a symlink is locked and compacted where it lives, so that
        // a compaction replaces the file, not the link.
        let linked = path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink());
        let path = match linked.then(|| std::fs::canonicalize(&path)) {
            Some(Ok(real)) => real,
            _ => path,
        };
        Self { path }
    }

    /// The sidecar file the lock is taken on: the record's path with `.lock` appended.
    ///
    /// ```
    /// let store = provisioning_core::connectors::state::FileStateStore::new("a/own.jsonl");
    /// assert_eq!(store.lock_path(), std::path::Path::new("a/own.jsonl.lock"));
    /// ```
    pub fn lock_path(&self) -> PathBuf {
        suffixed(&self.path, ".lock")
    }

    fn problem(&self, class: ErrorClass, what: String) -> ConnectorError {
        ConnectorError::new(class, format!("state file {}: {what}", self.path.display()))
    }
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn read_file(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl StateStore for FileStateStore {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self) -> Result<Option<String>, ConnectorError> {
        read_file(&self.path)
            .map_err(|e| self.problem(ErrorClass::Invalid, format!("cannot be read ({e})")))
    }

    fn lock(&self, wait: bool) -> Result<Box<dyn StateLock>, ConnectorError> {
        let lock_path = self.lock_path();
        let cannot = |e: std::io::Error| {
            self.problem(
                ErrorClass::Invalid,
                format!("cannot lock {} ({e})", lock_path.display()),
            )
        };
        let mut sidecar = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(cannot)?;
        match sidecar.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) if wait => {
                tracing::info!(lock = %lock_path.display(), "waiting for another run's lock");
                sidecar.lock().map_err(cannot)?;
            }
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = sidecar
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| serde_json::from_str::<Holder>(&text).ok())
                    .map_or_else(
                        || "a process that has not said who it is yet".to_owned(),
                        |h| format!("pid {}, started {}", h.pid, h.started),
                    );
                return Err(self.problem(
                    ErrorClass::Conflict,
                    format!(
                        "locked by another run ({holder}; lock file {})",
                        lock_path.display()
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(cannot(e)),
        }
        // Ours now: say who holds it (whatever a killed holder left is overwritten).
        let holder = Holder {
            pid: std::process::id(),
            started: httpdate::fmt_http_date(std::time::SystemTime::now()),
        };
        let text = serde_json::to_string(&holder).unwrap_or_default();
        sidecar
            .set_len(0)
            .and_then(|()| sidecar.seek(SeekFrom::Start(0)).map(drop))
            .and_then(|()| sidecar.write_all(text.as_bytes()))
            .and_then(|()| sidecar.flush())
            .map_err(cannot)?;
        Ok(Box::new(FileLock {
            store: self.clone(),
            _sidecar: sidecar,
            appender: None,
        }))
    }
}

/// The lock of one run on a [`FileStateStore`]: the locked sidecar, and the record opened
/// for appending once the first line is appended (again after each compaction, which
/// replaces the file).
#[derive(Debug)]
struct FileLock {
    store: FileStateStore,
    _sidecar: File,
    appender: Option<File>,
}

impl FileLock {
    fn replace(&self, text: &str) -> std::io::Result<()> {
        let path = &self.store.path;
        // Beside the record, so that the rename stays on one file system.
        let aside = suffixed(path, ".tmp");
        let mut file = File::create(&aside)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&aside, path)?;
        // The rename itself is durable once the directory is.
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
}

impl StateLock for FileLock {
    fn read(&mut self) -> Result<Option<String>, ConnectorError> {
        self.store.read()
    }

    fn append(&mut self, line: &str) -> Result<(), ConnectorError> {
        let path = &self.store.path;
        let result = (|| {
            if self.appender.is_none() {
                self.appender = Some(OpenOptions::new().create(true).append(true).open(path)?);
            }
            let file = self.appender.as_mut().ok_or(std::io::ErrorKind::Other)?;
            let mut text = String::with_capacity(line.len() + 1);
            text.push_str(line);
            text.push('\n');
            file.write_all(text.as_bytes())?;
            file.flush()?;
            file.sync_data()
        })();
        result.map_err(|e| {
            // A half-written line may be there: the next read ignores a torn last line, and
            // the next locked open compacts it away.
            self.appender = None;
            self.store.problem(
                ErrorClass::Fatal,
                format!("a line could not be appended ({e})"),
            )
        })
    }

    fn compact(&mut self, text: &str) -> Result<(), ConnectorError> {
        // The old file goes away: appends must go to the new one.
        self.appender = None;
        self.replace(text).map_err(|e| {
            self.store
                .problem(ErrorClass::Fatal, format!("cannot be rewritten ({e})"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "state-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("record.jsonl")
    }

    #[test]
    fn a_record_reached_through_a_symlink_is_compacted_where_it_lives() {
        let real = temp();
        std::fs::write(&real, "{\"format\":2}\n").unwrap();
        let link = real.with_file_name("link.jsonl");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let store = FileStateStore::new(&link);
        let mut run = store.lock(false).unwrap();
        run.compact("{\"format\":2}\n{\"keep\":{\"group_id\":\"g\",\"user_id\":\"u\"}}\n")
            .unwrap();
        drop(run);
        assert!(
            link.symlink_metadata().unwrap().file_type().is_symlink(),
            "still a link"
        );
        assert!(std::fs::read_to_string(&real).unwrap().contains("keep"));
    }

    #[test]
    fn a_second_lock_fails_at_once_naming_the_holder() {
        let store = FileStateStore::new(temp());
        let held = store.lock(false).unwrap();
        let err = store.lock(false).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Conflict);
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "locked by another run (pid {}, started ",
                std::process::id()
            )),
            "{message}"
        );
        assert!(message.contains("GMT"), "the start time: {message}");
        drop(held);
        store.lock(false).expect("released with its guard");
    }

    #[test]
    fn a_stale_lock_file_blocks_nobody() {
        let path = temp();
        let store = FileStateStore::new(&path);
        // As a killed holder leaves it: the file, with a pid, but no OS lock.
        std::fs::write(
            store.lock_path(),
            "{\"pid\":999999,\"started\":\"long ago\"}",
        )
        .unwrap();
        let _run = store
            .lock(false)
            .expect("the OS lock is the truth, not the file");
        let holder = std::fs::read_to_string(store.lock_path()).unwrap();
        assert!(
            holder.contains(&format!("\"pid\":{}", std::process::id())),
            "{holder}"
        );
    }

    #[test]
    fn waiting_for_a_lock_gets_it_once_released() {
        let store = FileStateStore::new(temp());
        let held = store.lock(false).unwrap();
        let other = store.clone();
        let waiter = std::thread::spawn(move || other.lock(true).map(drop));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!waiter.is_finished(), "it waits");
        drop(held);
        waiter.join().unwrap().unwrap();
    }

    #[test]
    fn reading_creates_nothing_and_compaction_replaces_the_file_for_later_appends() {
        let path = temp();
        let store = FileStateStore::new(&path);
        assert_eq!(store.read().unwrap(), None);
        let dir = path.parent().unwrap();
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            0,
            "read created nothing"
        );
        let mut run = store.lock(false).unwrap();
        run.append("a").unwrap();
        run.append("b").unwrap();
        run.compact("b\n").unwrap();
        run.append("c").unwrap();
        assert_eq!(store.read().unwrap().as_deref(), Some("b\nc\n"));
        assert!(
            !suffixed(&path, ".tmp").exists(),
            "the temp file was renamed"
        );
    }
}
