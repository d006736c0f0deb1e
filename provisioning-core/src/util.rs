//! Small helpers shared by the engine's modules.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, carrying on with the data if a panicking thread poisoned it (the engine's
/// locks guard counters and maps that stay consistent between statements).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The key names are compared by: after Unicode NFC normalisation (an NFD "é" from one
/// directory is the NFC "é" of another) and case-insensitively, as SCIM and the Identity
/// Store compare userNames and group names.
pub(crate) fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().collect::<String>().to_lowercase()
}
