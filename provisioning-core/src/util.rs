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
///
/// Case folding is Rust's `to_lowercase` (Unicode's default lowercase mapping, without
/// locale rules). So the Turkish dotted capital "İ" (U+0130) folds to "i̇" ("i" followed by
/// U+0307, combining dot above): it matches "i̇" however that is composed, but **not** a
/// plain "i" or "I"; and the dotless "ı" (U+0131) matches neither. Names differing only so
/// are different names to the engine.
pub(crate) fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().collect::<String>().to_lowercase()
}

/// The spellings a target lookup by name asks for: `s` as given, then its NFC and its NFD
/// forms, each once. A server comparing names byte for byte finds a name stored in either
/// normalisation form; the caller then keeps only candidates whose [`fold`] equals the
/// wanted one, since servers differ in how (and whether) they ignore case.
pub(crate) fn spellings(s: &str) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    let mut out = vec![s.to_owned()];
    for form in [s.nfc().collect::<String>(), s.nfd().collect::<String>()] {
        if !out.contains(&form) {
            out.push(form);
        }
    }
    out
}

/// An optional text as the engine holds it: absent when empty or only whitespace.
/// Directories disagree on "no description" — JumpCloud sends `""`, the Identity Store
/// omits the field and refuses an empty one (length 1–1,024) — and comparing `Some("")`
/// with `None` would plan the same update on every run.
pub(crate) fn non_blank<S: AsRef<str> + Into<String>>(text: Option<S>) -> Option<String> {
    text.filter(|t| !t.as_ref().trim().is_empty())
        .map(Into::into)
}

/// The longest prefix of `text` of at most `max` UTF-16 code units, cut at a character
/// boundary: it fits a service that counts length in characters or in UTF-16 units (AWS
/// services differ), so that what the planner compares is what the connector writes.
pub(crate) fn cut_utf16(text: &str, max: usize) -> &str {
    let mut units = 0;
    let end = text
        .char_indices()
        .find(|(_, c)| {
            units += c.len_utf16();
            units > max
        })
        .map_or(text.len(), |(at, _)| at);
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NFC: &str = "Ren\u{e9}e"; // "Renée", é precomposed
    const NFD: &str = "Rene\u{301}e"; // e + combining acute

    #[test]
    fn nfc_nfd_and_case_variants_fold_alike() {
        assert_ne!(NFC, NFD);
        assert_eq!(fold(NFC), fold(NFD));
        assert_eq!(fold("RENE\u{301}E"), fold(NFC));
    }

    #[test]
    fn the_turkish_dotted_capital_i_folds_to_i_with_a_dot_not_to_i() {
        assert_eq!(fold("\u{130}"), "i\u{307}");
        assert_eq!(fold("\u{130}stanbul"), fold("i\u{307}stanbul"));
        assert_ne!(fold("\u{130}stanbul"), fold("istanbul"));
        assert_ne!(fold("\u{130}stanbul"), fold("Istanbul"));
        assert_ne!(
            fold("\u{131}stanbul"),
            fold("istanbul"),
            "dotless ı is its own letter"
        );
    }

    #[test]
    fn spellings_are_the_given_name_then_its_other_forms_once() {
        assert_eq!(spellings("ada"), ["ada"]);
        assert_eq!(spellings(NFC), [NFC, NFD]);
        assert_eq!(spellings(NFD), [NFD, NFC]);
        // U+0130 is its own NFC form; its NFD form is I + combining dot.
        assert_eq!(spellings("\u{130}"), ["\u{130}", "I\u{307}"]);
    }
}
