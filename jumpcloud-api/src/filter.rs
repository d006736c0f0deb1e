//! Typed filter builders for the two syntaxes.
//!
//! - v1: `field:$op:value` with `$eq $ne $gt $gte $lt $lte` (the `$` is required); several
//!   conditions are ANDed, one `filter` query parameter each.
//! - v2: `field:op:value` with `eq ne gt ge lt le search in` (`in` takes `a|b|c`); one
//!   `filter` query parameter per condition.
//!
//! Values are sent as they are: the query string is percent-encoded as a whole, so `+ : , "
//! \`, spaces and any unicode reach JumpCloud unchanged (a raw `+` would arrive as a space).
//!
//! ```
//! use jumpcloud_api::filter::{V1Filter, V2Filter};
//! let v1 = V1Filter::new().eq("email", "ada+test@example.com").ne("state", "SUSPENDED");
//! assert_eq!(v1.conditions(), ["email:$eq:ada+test@example.com", "state:$ne:SUSPENDED"]);
//! let v2 = V2Filter::new().eq("name", "Test Group").is_in("type", ["user_group"]);
//! assert_eq!(v2.conditions(), ["name:eq:Test Group", "type:in:user_group"]);
//! ```

/// A v1 filter (`field:$op:value`, conditions ANDed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct V1Filter {
    conditions: Vec<String>,
}

impl V1Filter {
    /// No condition.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, field: &str, op: &str, value: &str) -> Self {
        self.conditions.push(format!("{field}:${op}:{value}"));
        self
    }

    /// `field` equals `value` (case-sensitive).
    pub fn eq(self, field: &str, value: &str) -> Self {
        self.push(field, "eq", value)
    }

    /// `field` differs from `value`.
    pub fn ne(self, field: &str, value: &str) -> Self {
        self.push(field, "ne", value)
    }

    /// `field` is greater than `value`.
    pub fn gt(self, field: &str, value: &str) -> Self {
        self.push(field, "gt", value)
    }

    /// `field` is at least `value`.
    pub fn gte(self, field: &str, value: &str) -> Self {
        self.push(field, "gte", value)
    }

    /// `field` is less than `value`.
    pub fn lt(self, field: &str, value: &str) -> Self {
        self.push(field, "lt", value)
    }

    /// `field` is at most `value`.
    pub fn lte(self, field: &str, value: &str) -> Self {
        self.push(field, "lte", value)
    }

    /// The conditions as sent, one `filter` parameter each.
    pub fn conditions(&self) -> &[String] {
        &self.conditions
    }
}

/// A v2 filter (`field:op:value`, one `filter` parameter per condition).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct V2Filter {
    conditions: Vec<String>,
}

impl V2Filter {
    /// No condition.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, field: &str, op: &str, value: &str) -> Self {
        self.conditions.push(format!("{field}:{op}:{value}"));
        self
    }

    /// `field` equals `value` (case-sensitive).
    pub fn eq(self, field: &str, value: &str) -> Self {
        self.push(field, "eq", value)
    }

    /// `field` differs from `value`.
    pub fn ne(self, field: &str, value: &str) -> Self {
        self.push(field, "ne", value)
    }

    /// `field` is greater than `value`.
    pub fn gt(self, field: &str, value: &str) -> Self {
        self.push(field, "gt", value)
    }

    /// `field` is at least `value`.
    pub fn ge(self, field: &str, value: &str) -> Self {
        self.push(field, "ge", value)
    }

    /// `field` is less than `value`.
    pub fn lt(self, field: &str, value: &str) -> Self {
        self.push(field, "lt", value)
    }

    /// `field` is at most `value`.
    pub fn le(self, field: &str, value: &str) -> Self {
        self.push(field, "le", value)
    }

    /// `field` matches the search term `value`.
    pub fn search(self, field: &str, value: &str) -> Self {
        self.push(field, "search", value)
    }

    /// `field` is one of `values`.
    pub fn is_in<'a>(self, field: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        let joined: Vec<&str> = values.into_iter().collect();
        self.push(field, "in", &joined.join("|"))
    }

    /// The conditions as sent, one `filter` parameter each.
    pub fn conditions(&self) -> &[String] {
        &self.conditions
    }
}
