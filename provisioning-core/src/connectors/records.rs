//! Reading a list record by record, for connectors that decode the records themselves (the
//! SCIM target, the Okta source; JumpCloud's client does the same in `jumpcloud-api`).
//!
//! One record a connector cannot read must neither cost the readable ones (failing the
//! whole read stops every sync until the server changes) nor be taken for an absent one
//! (an absent source user is deprovisioned, an absent target member is never protected). So
//! each record is decoded on its own: a readable one is an item, an unreadable one with an
//! `id` is set aside by that id for the connector to hold, and an unreadable one without an
//! id fails the read — nothing can be said of what it was.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::connector::{ConnectorError, ErrorClass};

/// The longest reason kept for an unreadable record (a hostile record can make the decoder's
/// message as long as itself).
const MAX_REASON_CHARS: usize = 200;

/// The records of a list: those read, and the ids of those that could not be.
#[derive(Debug)]
pub(crate) struct Records<T> {
    pub(crate) items: Vec<T>,
    pub(crate) unreadable: Vec<Unreadable>,
}

/// A record that could not be read, by the id it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    pub(crate) id: String,
    /// Why it could not be read (the decoder's message, shortened).
    pub(crate) reason: String,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            unreadable: Vec::new(),
        }
    }
}

impl<T> Records<T> {
    /// Appends another page's records.
    pub(crate) fn extend(&mut self, more: Records<T>) {
        self.items.extend(more.items);
        self.unreadable.extend(more.unreadable);
    }
}

/// Decodes each of `values` as a `T`; `what` names the list in messages ("SCIM: listing
/// users"). Every unreadable record is logged with its id.
///
/// # Errors
///
/// [`ErrorClass::Fatal`] for the first unreadable record without a string `id`.
pub(crate) fn read_each<T: DeserializeOwned>(
    values: impl IntoIterator<Item = Value>,
    what: &str,
) -> Result<Records<T>, ConnectorError> {
    let mut records = Records::default();
    for (n, value) in values.into_iter().enumerate() {
        match T::deserialize(&value) {
            Ok(item) => records.items.push(item),
            Err(e) => {
                let reason = shorten(&e.to_string());
                let id = value
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.trim().is_empty());
                let Some(id) = id else {
                    return Err(ConnectorError::new(
                        ErrorClass::Fatal,
                        format!(
                            "{what}: record {} could not be read ({reason}) and carries no id, \
                             so the list may be missing someone; nothing is planned from it \
                             (fix or remove the record at the server)",
                            n + 1
                        ),
                    ));
                };
                tracing::warn!(id, %reason, "{what}: set aside a record that could not be read");
                records.unreadable.push(Unreadable {
                    id: id.to_owned(),
                    reason,
                });
            }
        }
    }
    Ok(records)
}

fn shorten(reason: &str) -> String {
    match reason.char_indices().nth(MAX_REASON_CHARS) {
        Some((cut, _)) => format!("{}…", &reason[..cut]),
        None => reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Item {
        #[allow(dead_code)]
        id: String,
        #[allow(dead_code)]
        n: u8,
    }

    #[test]
    fn an_unreadable_record_with_an_id_is_set_aside_and_the_others_are_read() {
        let values = vec![
            json!({"id": "a", "n": 1}),
            json!({"id": "b", "n": "not a number"}),
            json!({"id": "c", "n": 3}),
        ];
        let records: Records<Item> = read_each(values, "listing items").unwrap();
        assert_eq!(records.items.len(), 2);
        assert_eq!(records.unreadable.len(), 1);
        assert_eq!(records.unreadable[0].id, "b");
        assert!(records.unreadable[0].reason.contains("invalid type"));
    }

    #[test]
    fn an_unreadable_record_without_an_id_fails_the_read_naming_the_list() {
        for nameless in [
            json!({"n": "x"}),
            json!({"id": 7}),
            json!({"id": " "}),
            json!(3),
        ] {
            let err =
                read_each::<Item>(vec![json!({"id": "a", "n": 1}), nameless], "listing items")
                    .unwrap_err();
            assert_eq!(err.class(), ErrorClass::Fatal);
            assert!(err.to_string().contains("listing items: record 2"), "{err}");
        }
    }

    #[test]
    fn a_long_reason_is_shortened_on_a_character_boundary() {
        let long = "é".repeat(5_000);
        let records: Records<Item> = read_each(vec![json!({"id": "a", "n": long})], "l").unwrap();
        assert!(records.unreadable[0].reason.chars().count() <= MAX_REASON_CHARS + 1);
    }
}
