//! Generators of hostile answers for robustness runs (proptest strategies), shared by the
//! client crates' hostile-input tests.
//!
//! ```
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::default();
//! let value = test_peers::hostile::any_json().new_tree(&mut runner).unwrap().current();
//! let _ = serde_json::to_vec(&value).unwrap();
//! ```

use proptest::prelude::*;
use serde_json::{Value, json};

/// The number of cases a robustness run makes: `HOSTILE_CASES`, else `default`.
///
/// ```
/// assert!(test_peers::hostile::cases(200) >= 1);
/// ```
pub fn cases(default: u32) -> u32 {
    std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// Any JSON value, a few levels deep, with numbers at the edges of what JSON carries.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A field of a record: what it should be (three times in four), or anything.
pub fn field(good: Value) -> impl Strategy<Value = Value> {
    prop_oneof![3 => Just(good), 1 => any_json()]
}

/// A numeric header's value: any number, one past `u64::MAX`, a negative, or junk.
pub fn number_header() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        Just("18446744073709551616".to_owned()),
        Just("-5".to_owned()),
        ".{0,20}",
    ])
}
