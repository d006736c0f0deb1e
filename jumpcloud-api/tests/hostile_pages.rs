//! Robustness: generated hostile list answers — random JSON at every field, odd and huge
//! totals, non-object records, nulls, junk headers — go through the client's decoders and
//! paging arithmetic. Whatever arrives, the answer is a page or an error, never a panic, and
//! a page accounts for every record it was sent (read or skipped).
//!
//! `HOSTILE_CASES` sets the number of cases (default 2,000); the long run recorded in
//! docs/testing.md used `HOSTILE_CASES=1000000`.

use std::time::{Duration, SystemTime};

use jumpcloud_api::filter::{V1Filter, V2Filter};
use jumpcloud_api::models::{GraphConnection, GraphObjectWithPaths, SystemUser, UserGroup};
use jumpcloud_api::page::next_skip;
use jumpcloud_api::read_page;
use jumpcloud_api::retry::{RETRY_AFTER_CEILING, parse_retry_after};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use test_peers::hostile::{any_json, field, number_header};

fn cases() -> u32 {
    test_peers::hostile::cases(2_000)
}

/// A record shaped like a user, group or edge, with random JSON at random fields.
fn record() -> impl Strategy<Value = Value> {
    (
        field(json!("5f0c0000000000000000000a")),
        field(json!("ada")),
        field(json!("ada@example.com")),
        field(json!("ACTIVATED")),
        field(json!([{"type": "work", "number": "+1"}])),
        field(json!([{"name": "team", "value": "x"}])),
        field(json!({"id": "u1", "type": "user"})),
        field(json!([[{"to": {"id": "u1", "type": "user"}}]])),
        prop::option::of(any_json()),
    )
        .prop_map(
            |(id, name, email, state, phones, attributes, to, paths, whole)| {
                if let Some(whole) = whole {
                    return whole; // not even an object, sometimes
                }
                let mut m = Map::new();
                for (key, value) in [
                    ("_id", id.clone()),
                    ("id", id),
                    ("username", name.clone()),
                    ("name", name),
                    ("email", email),
                    ("state", state),
                    ("phoneNumbers", phones),
                    ("attributes", attributes),
                    ("to", to),
                    ("paths", paths),
                ] {
                    m.insert(key.to_owned(), value);
                }
                Value::Object(m)
            },
        )
}

/// A list answer: a v1 body, a v2 array, or anything at all.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let records = || prop::collection::vec(record(), 0..6);
    prop_oneof![
        (field(json!(250)), records()).prop_map(|(total, results)| {
            serde_json::to_vec(&json!({"totalCount": total, "results": results})).unwrap()
        }),
        records().prop_map(|r| serde_json::to_vec(&r).unwrap()),
        any_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Records sent in a body, when it is a v1 body or an array.
fn records_sent(body: &[u8], v1: bool) -> Option<usize> {
    let value: Value = serde_json::from_slice(body).ok()?;
    match (v1, value) {
        (true, Value::Object(m)) => Some(
            m.get("results")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
        ),
        (false, Value::Array(a)) => Some(a.len()),
        _ => None,
    }
}

fn accounts<T>(page: &jumpcloud_api::Page<T>, sent: Option<usize>) -> bool {
    sent.is_none_or(|n| page.items.len() + page.skipped.len() == n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_pages_and_headers_never_panic(body in body(), total in number_header(), skip in any::<u64>(), limit in any::<u32>(), retry_after in ".{0,30}") {
        let v1 = records_sent(&body, true);
        let v2 = records_sent(&body, false);
        if let Ok(page) = read_page::<SystemUser, V1Filter>(&body, total.as_deref(), skip, limit) {
            prop_assert!(accounts(&page, v1));
            prop_assert!(page.next_skip.is_none_or(|next| next > skip));
        }
        if let Ok(page) = read_page::<UserGroup, V2Filter>(&body, total.as_deref(), skip, limit) {
            prop_assert!(accounts(&page, v2));
        }
        if let Ok(page) = read_page::<GraphConnection, V2Filter>(&body, total.as_deref(), skip, limit) {
            prop_assert!(accounts(&page, v2));
        }
        let _ = read_page::<GraphObjectWithPaths, V2Filter>(&body, total.as_deref(), skip, limit);
        let _ = next_skip(usize::MAX, skip, limit, total.as_deref().and_then(|t| t.parse().ok()));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        if let Some(wait) = parse_retry_after(&retry_after, now) {
            prop_assert!(wait <= RETRY_AFTER_CEILING);
        }
    }
}
