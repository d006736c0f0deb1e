//! Small helpers shared by the engine's modules.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, carrying on with the data if a panicking thread poisoned it (the engine's
/// locks guard counters and maps that stay consistent between statements).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The key user names are compared by: case-insensitively, as SCIM and the Identity Store do.
pub(crate) fn lower(s: &str) -> String {
    s.to_lowercase()
}
