//! SCIM filters (RFC 7644 §3.4.2.2), only the forms every target accepts: `attr eq "value"`
//! and `a and b`.
//!
//! The value is a JSON string literal: `"` and `\` are escaped (and control characters, as
//! JSON requires). The whole filter is then percent-encoded as a query value by the client,
//! so a `+` travels as `%2B` — left raw, servers read it as a space and the lookup silently
//! finds nothing.
//!
//! ```
//! use provisioning_core::connectors::scim::filter::{and, eq};
//! assert_eq!(eq("userName", r#"o"neil+x@example.com"#), r#"userName eq "o\"neil+x@example.com""#);
//! assert_eq!(and(&eq("id", "g1"), &eq("members", "u1")), r#"id eq "g1" and members eq "u1""#);
//! ```

/// `attr eq "value"`, with the value escaped.
pub fn eq(attr: &str, value: &str) -> String {
    format!("{attr} eq {}", literal(value))
}

/// `left and right`.
pub fn and(left: &str, right: &str) -> String {
    format!("{left} and {right}")
}

/// The PATCH path that selects one member: `members[value eq "id"]`.
///
/// ```
/// assert_eq!(provisioning_core::connectors::scim::filter::member_path("u1"), r#"members[value eq "u1"]"#);
/// ```
pub fn member_path(id: &str) -> String {
    format!("members[{}]", eq("value", id))
}

/// `value` as a JSON string literal.
fn literal(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_backslashes_and_controls_are_escaped() {
        assert_eq!(eq("userName", r"a\b"), r#"userName eq "a\\b""#);
        assert_eq!(eq("userName", "a\"b"), r#"userName eq "a\"b""#);
        assert_eq!(eq("userName", "a\nb"), r#"userName eq "a\nb""#);
        assert_eq!(eq("userName", "a+b c"), r#"userName eq "a+b c""#);
    }
}
