//! The one error type of this crate.
//!
//! An API error keeps the HTTP status even when the body is not JSON, JumpCloud's
//! `code` / `message` when the body has them, and an excerpt of the raw body when it does
//! not. URLs in errors carry no query string (filters can hold emails), and nothing ever
//! holds the API key.
//!
//! ```
//! use jumpcloud_api::Error;
//! let err = Error::api(404, "/usergroups/{id}", br#"{"message":"Not Found"}"#, None);
//! assert!(err.is_not_found());
//! assert_eq!(err.to_string(), "JumpCloud answered HTTP 404 to /usergroups/{id}: Not Found");
//! ```

use std::time::Duration;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What JumpCloud said when it refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The path template of the request, such as `/systemusers/{id}`.
    pub path: &'static str,
    /// JumpCloud's numeric `code`, when the body has one.
    pub code: Option<i64>,
    /// JumpCloud's `message` (or `error`), when the body has one.
    pub message: Option<String>,
    /// The start of the raw body, when it was not JSON with a message.
    pub body: Option<String>,
    /// The wait the server asked for (`Retry-After`), when it did.
    pub retry_after: Option<Duration>,
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// JumpCloud answered with an error status.
    #[error("JumpCloud answered HTTP {} to {}{}", .0.status, .0.path, describe(.0))]
    Api(Box<ApiError>),
    /// JumpCloud could not be reached, or the connection failed.
    #[error("could not reach JumpCloud for {path}; check the network and the base URL")]
    Transport {
        /// The path template.
        path: &'static str,
        /// The cause (its URL has no query string).
        #[source]
        source: reqwest::Error,
    },
    /// A create or other non-idempotent call failed in a way that leaves its effect unknown
    /// (a timeout, a dropped connection, a 5xx). It was not resent, as that could create a
    /// duplicate: read the state back and reconcile.
    #[error(
        "{method} {path} may or may not have taken effect ({cause}); it was not resent: read the state back before retrying"
    )]
    Unconfirmed {
        /// The HTTP method.
        method: &'static str,
        /// The path template.
        path: &'static str,
        /// What happened.
        cause: String,
    },
    /// A response did not have the expected shape.
    #[error("JumpCloud's answer to {path} did not have the expected shape: {source}")]
    Decode {
        /// The path template.
        path: &'static str,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The client is not configured usably.
    #[error("{0}")]
    Config(String),
    /// A bulk job did not finish before the deadline.
    #[error(
        "bulk job {job_id} had {pending} item(s) still pending after {waited:?}; poll its results again later"
    )]
    JobTimeout {
        /// The job.
        job_id: String,
        /// Items not final yet.
        pending: usize,
        /// How long it was polled.
        waited: Duration,
    },
    /// An answer was longer than the client reads
    /// ([`ClientBuilder::max_body_bytes`](crate::ClientBuilder::max_body_bytes)).
    #[error(
        "JumpCloud's answer to {path} is longer than {limit} bytes and was not read; \
         narrow the request (a filter, a smaller limit) or raise the client's max_body_bytes"
    )]
    TooLarge {
        /// The path template.
        path: &'static str,
        /// The cap, in bytes.
        limit: usize,
    },
    /// JumpCloud (or something in front of it) answered with a redirect, which is never
    /// followed: the API key must not travel to another address.
    #[error(
        "JumpCloud answered {path} with a redirect (HTTP {status}), which was not followed so \
         that the API key goes nowhere else; check the base URL or region"
    )]
    Redirected {
        /// The path template.
        path: &'static str,
        /// The 3xx status.
        status: u16,
    },
    /// A list kept going beyond the page limit or repeated itself.
    #[error("listing {path} did not end: {reason}")]
    Paging {
        /// The path template.
        path: &'static str,
        /// What went wrong.
        reason: String,
    },
}

fn describe(e: &ApiError) -> String {
    match (&e.message, &e.body) {
        (Some(message), _) => format!(": {message}"),
        (None, Some(body)) if !body.is_empty() => format!(": {body}"),
        _ => String::new(),
    }
}

/// The longest body excerpt kept in an error.
const BODY_EXCERPT: usize = 512;

impl Error {
    /// An API error from a status and a body, reading `code` and `message` when present.
    ///
    /// ```
    /// let err = jumpcloud_api::Error::api(502, "/usergroups", b"<html>Bad Gateway</html>", None);
    /// assert_eq!(err.status(), Some(502));
    /// assert!(err.to_string().contains("Bad Gateway"));
    /// ```
    pub fn api(
        status: u16,
        path: &'static str,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let message = json.as_ref().and_then(|v| {
            v.get("message")
                .or_else(|| v.get("error"))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        });
        let code = json
            .as_ref()
            .and_then(|v| v.get("code"))
            .and_then(serde_json::Value::as_i64);
        let body = message.is_none().then(|| {
            let text = String::from_utf8_lossy(body);
            let mut excerpt: String = text.chars().take(BODY_EXCERPT).collect();
            if text.chars().count() > BODY_EXCERPT {
                excerpt.push('…');
            }
            excerpt.trim().to_owned()
        });
        Error::Api(Box::new(ApiError {
            status,
            path,
            code,
            message,
            body,
            retry_after,
        }))
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether the object does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether the request conflicts with the current state (409).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// Whether JumpCloud rate-limited the request (429).
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429)
    }

    /// Whether sending the same request again may succeed: rate limiting, 502/503/504 and
    /// transport failures. ([`Error::Unconfirmed`] is not: reconcile first.)
    ///
    /// ```
    /// assert!(jumpcloud_api::Error::api(503, "/x", b"", None).is_retryable());
    /// assert!(!jumpcloud_api::Error::api(400, "/x", b"", None).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => matches!(e.status, 429 | 502 | 503 | 504),
            Error::Transport { .. } => true,
            _ => false,
        }
    }

    /// The wait the server asked for, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_is_kept_whatever_the_body() {
        let cases: [(&[u8], Option<&str>, Option<&str>); 4] = [
            (
                br#"{"code":400,"message":"Bad Request: limit exceeds 100","status":"x"}"#,
                Some("Bad Request: limit exceeds 100"),
                None,
            ),
            (
                br#"{"message":"User already exists"}"#,
                Some("User already exists"),
                None,
            ),
            (
                b"upstream connect error",
                None,
                Some("upstream connect error"),
            ),
            (b"", None, Some("")),
        ];
        for (body, message, excerpt) in cases {
            let Error::Api(e) = Error::api(400, "/systemusers", body, None) else {
                unreachable!()
            };
            assert_eq!(e.status, 400);
            assert_eq!(e.message.as_deref(), message);
            assert_eq!(e.body.as_deref(), excerpt);
        }
        let Error::Api(e) = Error::api(400, "/x", br#"{"code":4001,"message":"m"}"#, None) else {
            unreachable!()
        };
        assert_eq!(e.code, Some(4001));
    }

    #[test]
    fn a_huge_body_is_cut() {
        let body = vec![b'x'; 10_000];
        let Error::Api(e) = Error::api(500, "/x", &body, None) else {
            unreachable!()
        };
        assert!(e.body.unwrap().chars().count() <= BODY_EXCERPT + 1);
    }

    #[test]
    fn classification() {
        let e = |s| Error::api(s, "/x", b"", Some(Duration::from_secs(2)));
        assert!(e(404).is_not_found() && !e(404).is_retryable());
        assert!(e(409).is_conflict());
        assert!(e(429).is_rate_limited() && e(429).is_retryable());
        assert_eq!(e(429).retry_after(), Some(Duration::from_secs(2)));
        let unconfirmed = Error::Unconfirmed {
            method: "POST",
            path: "/systemusers",
            cause: "HTTP 503".into(),
        };
        assert!(!unconfirmed.is_retryable());
        assert!(unconfirmed.to_string().contains("read the state back"));
    }
}
