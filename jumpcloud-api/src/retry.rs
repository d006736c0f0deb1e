//! The retry decision: a pure function of what happened, with no IO and no clock.
//!
//! | what happened | safe or idempotent (GET, PUT, DELETE, graph writes) | non-idempotent (creates) |
//! |---|---|---|
//! | 429 | retry, after `Retry-After` when given (capped) | retry (JumpCloud refused it unprocessed) |
//! | 500 (an error page in front of the API) | retry with backoff | give up: the status |
//! | 502, 503, 504 | retry with backoff | give up: [`Error::Unconfirmed`](crate::Error::Unconfirmed) |
//! | connection failure before sending | retry with backoff | retry with backoff |
//! | timeout or connection lost after sending | retry with backoff | give up: unconfirmed |
//! | anything else | give up | give up |
//!
//! Backoff is exponential with full jitter: the n-th retry waits a random time up to
//! `min(max_backoff, base_backoff × 2ⁿ⁻¹)`. A `Retry-After` longer than `max_retry_after` is
//! not waited out: the call returns the rate-limited error instead.
//!
//! ```
//! use std::time::Duration;
//! use jumpcloud_api::retry::{next_step, Idempotency, Next, RetryPolicy, Seen};
//!
//! let policy = RetryPolicy::default();
//! let next = next_step(&policy, Idempotency::Idempotent, Seen::Status(429), Some(Duration::from_secs(2)), 1, 0.5);
//! assert_eq!(next, Next::WaitThenRetry(Duration::from_secs(2)));
//! let next = next_step(&policy, Idempotency::NotIdempotent, Seen::Status(503), None, 1, 0.5);
//! assert_eq!(next, Next::Unconfirmed);
//! ```

use std::time::Duration;

/// How retries behave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// The first retry's backoff ceiling.
    pub base_backoff: Duration,
    /// The largest backoff.
    pub max_backoff: Duration,
    /// The longest `Retry-After` waited out; beyond it the error is returned.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    ///
    /// ```
    /// assert_eq!(jumpcloud_api::retry::RetryPolicy::none().max_retries, 0);
    /// ```
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries with millisecond backoff, for tests.
    pub fn fast(max_retries: u32) -> Self {
        Self {
            max_retries,
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(10),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

/// Whether sending a request twice is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// GET, PUT, DELETE, and graph membership/association writes (adding twice is a no-op).
    Idempotent,
    /// Creates (POST `/systemusers`, `/usergroups`, `/bulk/users`, …): a resend could make a
    /// duplicate.
    NotIdempotent,
}

/// What one attempt ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A response with this status.
    Status(u16),
    /// The connection could not be made: the request never left.
    ConnectFailed,
    /// A timeout, or the connection broke after the request was sent.
    Lost,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The attempt succeeded or failed for good: return its result.
    Done,
    /// Wait, then send again.
    WaitThenRetry(Duration),
    /// Give up: a non-idempotent call's effect is unknown.
    Unconfirmed,
}

/// Decides what follows attempt number `attempt` (1 for the first). `jitter` is a number in
/// `[0, 1)` (random in use, fixed in tests).
pub fn next_step(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    seen: Seen,
    retry_after: Option<Duration>,
    attempt: u32,
    jitter: f64,
) -> Next {
    let retryable = match seen {
        Seen::Status(status) if status < 400 => return Next::Done,
        Seen::Status(429) | Seen::ConnectFailed => true,
        // An internal error (an nginx page in front of the API): sent again only when
        // sending it twice is harmless; a create that got one failed plainly.
        Seen::Status(500) => idempotency == Idempotency::Idempotent,
        Seen::Status(502..=504) | Seen::Lost => match idempotency {
            Idempotency::Idempotent => true,
            Idempotency::NotIdempotent => return Next::Unconfirmed,
        },
        Seen::Status(_) => false,
    };
    if !retryable || attempt > policy.max_retries {
        return Next::Done;
    }
    if let Some(wait) = retry_after {
        return if wait <= policy.max_retry_after {
            Next::WaitThenRetry(wait)
        } else {
            Next::Done
        };
    }
    let exponent = attempt.saturating_sub(1).min(20);
    let ceiling = policy
        .base_backoff
        .saturating_mul(1u32 << exponent)
        .min(policy.max_backoff);
    Next::WaitThenRetry(ceiling.mul_f64(jitter.clamp(0.0, 1.0)))
}

/// The longest wait a server-sent header can ask for: anything longer (up to 2⁶⁴−1 seconds)
/// reads as this. A [`RetryPolicy`] then decides whether to wait it out
/// ([`RetryPolicy::max_retry_after`]) or return the error.
pub const RETRY_AFTER_CEILING: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait a `Retry-After` header asks for, read at `now`: delta-seconds (`"7"`) or an
/// HTTP-date (`"Wed, 21 Oct 2026 07:28:00 GMT"`, a date in the past being no wait), capped
/// at [`RETRY_AFTER_CEILING`]. Anything else is `None`. Shared by every client of the
/// workspace that reads the header, so that they all read it alike.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use jumpcloud_api::retry::{parse_retry_after, RETRY_AFTER_CEILING};
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
/// assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
/// assert_eq!(parse_retry_after("18446744073709551615", now), Some(RETRY_AFTER_CEILING));
/// let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
/// assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
/// let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
/// assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
/// assert_eq!(parse_retry_after("soon", now), None);
/// assert_eq!(parse_retry_after("-3", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: seconds, however many (an overflowing count is the ceiling).
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(RETRY_AFTER_CEILING))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Idempotency::{Idempotent as I, NotIdempotent as N};

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn the_whole_table() {
        let p = RetryPolicy::default(); // 3 retries, 500 ms base, 30 s max, 60 s max retry-after
        let half = 0.5;
        let cases: &[(Idempotency, Seen, Option<Duration>, u32, Next)] = &[
            // Success and plain client errors end it.
            (I, Seen::Status(200), None, 1, Next::Done),
            (N, Seen::Status(201), None, 1, Next::Done),
            (I, Seen::Status(204), None, 1, Next::Done),
            (I, Seen::Status(400), None, 1, Next::Done),
            (I, Seen::Status(401), None, 1, Next::Done),
            (I, Seen::Status(404), None, 1, Next::Done),
            (I, Seen::Status(409), None, 1, Next::Done),
            (
                I,
                Seen::Status(500),
                None,
                1,
                Next::WaitThenRetry(Duration::from_millis(250)),
            ),
            (N, Seen::Status(500), None, 1, Next::Done),
            // 429: any method, Retry-After honoured, else backoff.
            (
                I,
                Seen::Status(429),
                secs(3),
                1,
                Next::WaitThenRetry(Duration::from_secs(3)),
            ),
            (
                N,
                Seen::Status(429),
                secs(3),
                1,
                Next::WaitThenRetry(Duration::from_secs(3)),
            ),
            (
                N,
                Seen::Status(429),
                None,
                1,
                Next::WaitThenRetry(Duration::from_millis(250)),
            ),
            (
                I,
                Seen::Status(429),
                None,
                2,
                Next::WaitThenRetry(Duration::from_millis(500)),
            ),
            (
                I,
                Seen::Status(429),
                None,
                3,
                Next::WaitThenRetry(Duration::from_millis(1000)),
            ),
            // Beyond the last retry, or a Retry-After beyond the cap: return the error.
            (I, Seen::Status(429), None, 4, Next::Done),
            (I, Seen::Status(429), secs(61), 1, Next::Done),
            (
                I,
                Seen::Status(429),
                secs(60),
                1,
                Next::WaitThenRetry(Duration::from_secs(60)),
            ),
            // 502/503/504: retried when idempotent, unconfirmed otherwise.
            (
                I,
                Seen::Status(502),
                None,
                1,
                Next::WaitThenRetry(Duration::from_millis(250)),
            ),
            (
                I,
                Seen::Status(503),
                secs(1),
                1,
                Next::WaitThenRetry(Duration::from_secs(1)),
            ),
            (
                I,
                Seen::Status(504),
                None,
                3,
                Next::WaitThenRetry(Duration::from_millis(1000)),
            ),
            (I, Seen::Status(503), None, 4, Next::Done),
            (N, Seen::Status(502), None, 1, Next::Unconfirmed),
            (N, Seen::Status(503), secs(1), 1, Next::Unconfirmed),
            (N, Seen::Status(504), None, 1, Next::Unconfirmed),
            // The request never left: safe to resend whatever it was.
            (
                I,
                Seen::ConnectFailed,
                None,
                1,
                Next::WaitThenRetry(Duration::from_millis(250)),
            ),
            (
                N,
                Seen::ConnectFailed,
                None,
                1,
                Next::WaitThenRetry(Duration::from_millis(250)),
            ),
            (N, Seen::ConnectFailed, None, 4, Next::Done),
            // Lost after sending: only idempotent calls are resent.
            (
                I,
                Seen::Lost,
                None,
                1,
                Next::WaitThenRetry(Duration::from_millis(250)),
            ),
            (N, Seen::Lost, None, 1, Next::Unconfirmed),
            (I, Seen::Lost, None, 4, Next::Done),
        ];
        for &(idempotency, seen, retry_after, attempt, expected) in cases {
            assert_eq!(
                next_step(&p, idempotency, seen, retry_after, attempt, half),
                expected,
                "{idempotency:?} {seen:?} retry-after {retry_after:?} attempt {attempt}"
            );
        }
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryPolicy {
            max_retries: 30,
            ..RetryPolicy::default()
        };
        let Next::WaitThenRetry(wait) = next_step(&p, I, Seen::Status(503), None, 20, 0.999) else {
            panic!()
        };
        assert!(wait <= p.max_backoff);
        let Next::WaitThenRetry(zero) = next_step(&p, I, Seen::Status(503), None, 2, 0.0) else {
            panic!()
        };
        assert_eq!(zero, Duration::ZERO);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_never_overflows() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        for huge in ["99999999999999999999999999", "18446744073709551615"] {
            assert_eq!(
                parse_retry_after(huge, now),
                Some(RETRY_AFTER_CEILING),
                "{huge}"
            );
        }
        let far = httpdate::fmt_http_date(now + Duration::from_secs(10 * 365 * 86_400));
        assert_eq!(parse_retry_after(&far, now), Some(RETRY_AFTER_CEILING));
        for junk in ["", " ", "1.5", "0x10", "Tomorrow", "\u{1F600}"] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk:?}");
        }
        // A capped wait is then longer than the policy waits: the error is returned.
        let p = RetryPolicy::default();
        let wait = parse_retry_after("18446744073709551615", now);
        assert_eq!(
            next_step(&p, I, Seen::Status(429), wait, 1, 0.5),
            Next::Done
        );
    }

    #[test]
    fn no_retries_means_one_attempt() {
        let p = RetryPolicy::none();
        assert_eq!(
            next_step(&p, I, Seen::Status(429), secs(1), 1, 0.5),
            Next::Done
        );
        assert_eq!(
            next_step(&p, N, Seen::Lost, None, 1, 0.5),
            Next::Unconfirmed
        );
    }
}
