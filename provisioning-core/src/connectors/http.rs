//! What the HTTP connectors (SCIM, Okta) share: the read-retry decision, the waits a server
//! asks for, and the mapping of HTTP statuses to the engine's [`ErrorClass`]es.
//!
//! Only reads are retried here (a GET is safe to send twice). Writes are sent once; a failed
//! write goes back to the engine's executor with its class and any `retry_after`, and the
//! executor decides (it retries throttled and transient writes, and adopts after a conflict).
//!
//! | what happened to a GET | next |
//! |---|---|
//! | 429 | wait what the server asked (`Retry-After`, Okta's `X-Rate-Limit-Reset`), else back off; retry |
//! | 500, 502, 503, 504, or no answer | back off (exponential, full jitter); retry |
//! | anything else | give up |

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::connector::ErrorClass;

/// How many times a read is retried, and how long the waits may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadRetry {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first retry's backoff ceiling; it doubles per retry.
    pub base_backoff: Duration,
    /// The largest backoff.
    pub max_backoff: Duration,
    /// The longest server-requested wait honoured; a longer one fails the read instead.
    pub max_wait: Duration,
}

impl Default for ReadRetry {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_backoff: Duration::from_millis(300),
            max_backoff: Duration::from_secs(20),
            max_wait: Duration::from_secs(120),
        }
    }
}

impl ReadRetry {
    /// Millisecond backoff, for tests against mocks.
    pub(crate) fn fast(self) -> Self {
        Self {
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(10),
            ..self
        }
    }
}

/// What a read attempt came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// An HTTP status.
    Status(u16),
    /// No answer: connection refused, reset, or timed out.
    NoAnswer,
}

/// The next step after a failed read attempt; `attempt` counts from 1 and `jitter` is in
/// `[0, 1)`. Pure: everything it needs comes in as arguments.
pub(crate) fn next_wait(
    policy: &ReadRetry,
    seen: Seen,
    server_wait: Option<Duration>,
    attempt: u32,
    jitter: f64,
) -> Option<Duration> {
    if attempt > policy.max_retries {
        return None;
    }
    let backoff = || {
        let ceiling = policy
            .base_backoff
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(policy.max_backoff);
        ceiling.mul_f64(jitter)
    };
    match seen {
        Seen::Status(429) => match server_wait {
            Some(wait) if wait > policy.max_wait => None,
            Some(wait) => Some(wait),
            None => Some(backoff()),
        },
        Seen::Status(500 | 502 | 503 | 504) | Seen::NoAnswer => Some(backoff()),
        Seen::Status(_) => None,
    }
}

/// How one read attempt failed.
pub(crate) enum Failure<E> {
    /// Retried when [`next_wait`] says so; `error` is what the read returns when it does not.
    Retryable {
        /// What came back.
        seen: Seen,
        /// The wait the server asked for.
        wait: Option<Duration>,
        /// The error of this attempt.
        error: E,
    },
    /// Returned at once: an answer arrived but could not be read.
    Final(E),
}

/// Runs `attempt` until it succeeds, fails finally, or [`next_wait`] gives up; sleeps the
/// waits between attempts. `service` and `path` only label the retry log lines.
pub(crate) async fn read_with_retries<T, E, F, Fut>(
    policy: &ReadRetry,
    service: &str,
    path: &str,
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure<E>>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (seen, wait, error) = match attempt().await {
            Ok(value) => return Ok(value),
            Err(Failure::Final(error)) => return Err(error),
            Err(Failure::Retryable { seen, wait, error }) => (seen, wait, error),
        };
        match next_wait(policy, seen, wait, attempts, fastrand::f64()) {
            Some(pause) => {
                tracing::debug!(
                    service,
                    path,
                    attempt = attempts,
                    ?pause,
                    "read failed; retrying"
                );
                tokio::time::sleep(pause).await;
            }
            None => return Err(error),
        }
    }
}

/// Why a credential must not be sent to `url`, if it must not: only `https`, or plain `http`
/// to the loopback interface (a local test server), carries a token.
///
/// `what` names the URL in the message (`"the SCIM base URL"`).
pub(crate) fn refuse_insecure(what: &str, url: &reqwest::Url) -> Option<String> {
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => None,
        "http" if loopback => None,
        "http" => Some(format!(
            "{what} {:?} is plain http: the token would travel unencrypted; use https \
             (plain http is allowed only on loopback)",
            url.as_str()
        )),
        other => Some(format!(
            "{what} {:?} has the scheme {other:?}; expected https",
            url.as_str()
        )),
    }
}

/// The largest answer the SCIM and Okta connectors read (32 MiB; a page of 100 users is tens
/// of kilobytes). A longer one is an error, read no further.
pub(crate) const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The connection failed while reading it.
    Failed(reqwest::Error),
    /// It is longer than the cap.
    TooLarge,
}

/// Reads a body chunk by chunk, stopping as soon as it passes `cap` bytes (a declared
/// `Content-Length` over the cap stops it before reading anything).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|declared| declared > cap as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Failed)? {
        if body.len().saturating_add(chunk.len()) > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The engine's class for an HTTP error status.
pub(crate) fn class_of(status: u16) -> ErrorClass {
    match status {
        429 => ErrorClass::RateLimited,
        500 | 502 | 503 | 504 => ErrorClass::Transient,
        404 => ErrorClass::NotFound,
        409 => ErrorClass::Conflict,
        401 | 403 => ErrorClass::Denied,
        400 | 413 | 422 => ErrorClass::Invalid,
        _ => ErrorClass::Fatal,
    }
}

/// `Retry-After` as delta-seconds or as an HTTP date, capped: the workspace's one reading of
/// the header ([`jumpcloud_api::retry::parse_retry_after`]).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    jumpcloud_api::retry::parse_retry_after(value, now)
}

/// The wait until Okta's `X-Rate-Limit-Reset` (UTC epoch seconds), measured against the
/// response's own `Date` header so that a skewed local clock does not shorten it; one second
/// is added because the reset is rounded down. Capped like `Retry-After`: a reset beyond
/// what a clock can hold (up to 2⁶⁴−1) is the ceiling, not an overflow.
pub(crate) fn okta_reset_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    use jumpcloud_api::retry::RETRY_AFTER_CEILING;
    let reset: u64 = headers
        .get("x-rate-limit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let server_now = headers
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .unwrap_or(now);
    let wait = match SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(reset)) {
        Some(reset) => reset.duration_since(server_now).unwrap_or_default(),
        None => RETRY_AFTER_CEILING,
    };
    Some(
        wait.saturating_add(Duration::from_secs(1))
            .min(RETRY_AFTER_CEILING),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> ReadRetry {
        ReadRetry {
            max_retries: 3,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
            max_wait: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_retry_table_holds() {
        let p = policy();
        let secs = Duration::from_secs;
        // (seen, server wait, attempt, jitter) → next
        let table = [
            (Seen::Status(429), Some(secs(7)), 1, 0.5, Some(secs(7))),
            (Seen::Status(429), Some(secs(61)), 1, 0.5, None),
            (
                Seen::Status(429),
                None,
                1,
                0.5,
                Some(Duration::from_millis(50)),
            ),
            (
                Seen::Status(503),
                None,
                2,
                1.0,
                Some(Duration::from_millis(200)),
            ),
            (
                Seen::Status(500),
                None,
                3,
                1.0,
                Some(Duration::from_millis(250)),
            ),
            (Seen::NoAnswer, None, 1, 0.0, Some(Duration::ZERO)),
            (Seen::Status(503), None, 4, 0.5, None),
            (Seen::Status(429), Some(secs(1)), 4, 0.5, None),
            (Seen::Status(400), None, 1, 0.5, None),
            (Seen::Status(401), None, 1, 0.5, None),
            (Seen::Status(404), None, 1, 0.5, None),
        ];
        for (seen, wait, attempt, jitter, want) in table {
            assert_eq!(
                next_wait(&p, seen, wait, attempt, jitter),
                want,
                "{seen:?} {wait:?} attempt {attempt}"
            );
        }
    }

    #[test]
    fn statuses_map_to_classes() {
        assert_eq!(class_of(429), ErrorClass::RateLimited);
        assert_eq!(class_of(503), ErrorClass::Transient);
        assert_eq!(class_of(409), ErrorClass::Conflict);
        assert_eq!(class_of(404), ErrorClass::NotFound);
        assert_eq!(class_of(401), ErrorClass::Denied);
        assert_eq!(class_of(400), ErrorClass::Invalid);
        assert_eq!(class_of(418), ErrorClass::Fatal);
    }

    #[test]
    fn tokens_go_over_https_or_to_loopback_only() {
        let refused = |u: &str| refuse_insecure("the URL", &reqwest::Url::parse(u).unwrap());
        for ok in [
            "https://acme.okta.com",
            "http://127.0.0.1:8080/v2",
            "http://localhost:1",
            "http://[::1]:9/",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
        for bad in [
            "http://acme.okta.com",
            "http://10.0.0.5/scim",
            "ftp://127.0.0.1/",
        ] {
            let message = refused(bad).unwrap_or_else(|| panic!("{bad} is refused"));
            assert!(message.contains("https"), "{message}");
        }
    }

    #[test]
    fn an_absurd_okta_reset_or_retry_after_is_a_capped_wait_not_a_panic() {
        use jumpcloud_api::retry::RETRY_AFTER_CEILING;
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-rate-limit-reset",
            HeaderValue::from_static("18446744073709551615"),
        );
        assert_eq!(okta_reset_wait(&headers, now), Some(RETRY_AFTER_CEILING));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("18446744073709551615"),
        );
        assert_eq!(retry_after(&headers, now), Some(RETRY_AFTER_CEILING));
        // Beyond the policy's longest wait: the read gives up instead of sleeping a day.
        assert_eq!(
            next_wait(
                &policy(),
                Seen::Status(429),
                Some(RETRY_AFTER_CEILING),
                1,
                0.5
            ),
            None
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("12"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(12)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        headers.insert("retry-after", HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn okta_reset_is_measured_against_the_server_clock() {
        let server_now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let local_now = server_now + Duration::from_secs(40); // our clock runs 40 s ahead
        let mut headers = HeaderMap::new();
        headers.insert("x-rate-limit-reset", HeaderValue::from_static("1700000005"));
        headers.insert(
            "date",
            HeaderValue::from_str(&httpdate::fmt_http_date(server_now)).unwrap(),
        );
        assert_eq!(
            okta_reset_wait(&headers, local_now),
            Some(Duration::from_secs(6))
        );
        headers.remove("date");
        assert_eq!(
            okta_reset_wait(&headers, local_now),
            Some(Duration::from_secs(1)),
            "without a Date header, a reset already passed waits only the rounding second"
        );
    }
}
