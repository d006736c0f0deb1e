//! The client: configuration, authentication, and the one request path every call takes
//! (rate limit, retries, tracing, errors).
//!
//! ```no_run
//! # async fn run() -> jumpcloud_api::Result<()> {
//! use jumpcloud_api::{Client, Region};
//!
//! let jc = Client::builder()
//!     .api_key(std::env::var("JUMPCLOUD_API_KEY").unwrap_or_default())
//!     .region(Region::Eu)
//!     .build()?;
//! let groups = jc.user_groups().list().all().await?;
//! println!("{} groups", groups.len());
//! # Ok(()) }
//! ```

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::ids::OrgId;
use crate::retry::{Idempotency, Next, RetryPolicy, Seen, next_step, parse_retry_after};

/// The user agent sent with every request.
pub const USER_AGENT: &str = concat!("jumpcloud-api-rust/", env!("CARGO_PKG_VERSION"));

/// Connect timeout: a reachable host answers a TCP handshake in far less.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-attempt timeout: JumpCloud's slowest list pages take a few seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest answer read (32 MiB; a page of 100 users is tens of kilobytes): a longer one
/// is an [`Error::TooLarge`], read no further. Set with [`ClientBuilder::max_body_bytes`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The JumpCloud region, which picks the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Region {
    /// `console.jumpcloud.com` (the default).
    #[default]
    Us,
    /// `console.eu.jumpcloud.com`.
    Eu,
    /// `console.in.jumpcloud.com`.
    In,
}

impl Region {
    /// The host root of the region.
    ///
    /// ```
    /// assert_eq!(jumpcloud_api::Region::Eu.host(), "https://console.eu.jumpcloud.com");
    /// ```
    pub fn host(self) -> &'static str {
        match self {
            Region::Us => "https://console.jumpcloud.com",
            Region::Eu => "https://console.eu.jumpcloud.com",
            Region::In => "https://console.in.jumpcloud.com",
        }
    }
}

/// Which API a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/api`.
    V1,
    /// `/api/v2`.
    V2,
}

/// Builds a [`Client`]. Required: the API key.
#[must_use]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    org_id: Option<OrgId>,
    region: Region,
    base_url: Option<String>,
    v1_base_url: Option<String>,
    v2_base_url: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    rate_limit: Option<NonZeroU32>,
    max_body_bytes: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("org_id", &self.org_id)
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("v1_base_url", &self.v1_base_url)
            .field("v2_base_url", &self.v2_base_url)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            org_id: None,
            region: Region::Us,
            base_url: None,
            v1_base_url: None,
            v2_base_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            rate_limit: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl ClientBuilder {
    /// The administrator API key (it belongs to one administrator, not to the organisation).
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let client = jumpcloud_api::Client::builder().api_key("k").build()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The organisation id, sent as `x-org-id` (required for multi-tenant administrators).
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").org_id("5f0c1b2e3d4a5b6c7d8e9f00");
    /// # builder.build()?;
    /// # Ok(()) }
    /// ```
    pub fn org_id(mut self, org_id: impl Into<OrgId>) -> Self {
        self.org_id = Some(org_id.into());
        self
    }

    /// Sets or clears the organisation id.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").set_org_id(std::env::var("JUMPCLOUD_ORG_ID").ok().map(Into::into));
    /// # builder.build()?;
    /// # Ok(()) }
    /// ```
    pub fn set_org_id(mut self, org_id: Option<OrgId>) -> Self {
        self.org_id = org_id;
        self
    }

    /// The region (US by default); ignored when a base URL is set.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").region(jumpcloud_api::Region::In);
    /// assert!(builder.build()?.v2_base_url().starts_with("https://console.in."));
    /// # Ok(()) }
    /// ```
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// The host root, such as `https://console.jumpcloud.com`; `/api` and `/api/v2` are
    /// appended.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").base_url("https://console.eu.jumpcloud.com");
    /// assert_eq!(builder.build()?.v1_base_url(), "https://console.eu.jumpcloud.com/api");
    /// # Ok(()) }
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The full v1 base URL (overrides the region and base URL for v1): a test seam, as a
    /// mock server serves v1 at its root.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").v1_base_url("http://127.0.0.1:4010");
    /// assert_eq!(builder.build()?.v1_base_url(), "http://127.0.0.1:4010/");
    /// # Ok(()) }
    /// ```
    pub fn v1_base_url(mut self, url: impl Into<String>) -> Self {
        self.v1_base_url = Some(url.into());
        self
    }

    /// The full v2 base URL (overrides the region and base URL for v2).
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").v2_base_url("http://127.0.0.1:4011");
    /// assert_eq!(builder.build()?.v2_base_url(), "http://127.0.0.1:4011/");
    /// # Ok(()) }
    /// ```
    pub fn v2_base_url(mut self, url: impl Into<String>) -> Self {
        self.v2_base_url = Some(url.into());
        self
    }

    /// The connect timeout.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").connect_timeout(std::time::Duration::from_secs(3));
    /// # builder.build()?;
    /// # Ok(()) }
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The timeout of each attempt.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").timeout(std::time::Duration::from_secs(120));
    /// # builder.build()?;
    /// # Ok(()) }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").retry(jumpcloud_api::retry::RetryPolicy::none());
    /// # builder.build()?;
    /// # Ok(()) }
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// At most `per_second` requests per second, shared by every clone of the client.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let builder = jumpcloud_api::Client::builder().api_key("k").rate_limit(std::num::NonZeroU32::new(10).unwrap());
    /// let client = builder.build()?;
    /// let clone = client.clone(); // shares the limit
    /// # let _ = clone;
    /// # Ok(()) }
    /// ```
    pub fn rate_limit(mut self, per_second: NonZeroU32) -> Self {
        self.rate_limit = Some(per_second);
        self
    }

    /// The largest answer read, in bytes ([`DEFAULT_MAX_BODY_BYTES`] by default); a longer
    /// one fails with [`Error::TooLarge`] without being read to its end.
    ///
    /// ```
    /// # fn main() -> jumpcloud_api::Result<()> {
    /// let client = jumpcloud_api::Client::builder().api_key("k").max_body_bytes(4 << 20).build()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Builds the client. Redirects are never followed: the API key and organisation id go
    /// to the base URLs' origins and nowhere else (a redirect is an [`Error::Redirected`]).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the API key is missing or empty, a URL does not parse, or a
    /// plain-http URL points anywhere but the loopback interface.
    ///
    /// ```
    /// let err = jumpcloud_api::Client::builder().v2_base_url("http://example.com").api_key("k").build().unwrap_err();
    /// assert!(err.to_string().contains("https"));
    /// ```
    pub fn build(self) -> Result<Client> {
        let key = self
            .api_key
            .filter(|k| !k.expose_secret().trim().is_empty())
            .ok_or_else(|| {
                Error::Config("no JumpCloud API key: set one (JUMPCLOUD_API_KEY)".into())
            })?;
        let root = self
            .base_url
            .as_deref()
            .unwrap_or(self.region.host())
            .trim_end_matches('/')
            .to_owned();
        let v1 = checked_url(self.v1_base_url.unwrap_or_else(|| format!("{root}/api")))?;
        let v2 = checked_url(self.v2_base_url.unwrap_or_else(|| format!("{root}/api/v2")))?;
        let mut key_header = HeaderValue::from_str(key.expose_secret().trim()).map_err(|_| {
            Error::Config("the JumpCloud API key contains characters a header cannot carry".into())
        })?;
        key_header.set_sensitive(true);
        let org_header = self
            .org_id
            .as_ref()
            .map(|o| HeaderValue::from_str(o.as_str()))
            .transpose()
            .map_err(|_| {
                Error::Config(
                    "the organisation id contains characters a header cannot carry".into(),
                )
            })?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                key: key_header,
                org_id: self.org_id,
                org_header,
                v1,
                v2,
                retry: self.retry,
                max_body_bytes: self.max_body_bytes,
                limiter: self.rate_limit.map(|r| {
                    RateLimiter::direct(Quota::per_second(r).allow_burst(NonZeroU32::MIN))
                }),
            }),
        })
    }
}

fn checked_url(text: String) -> Result<Url> {
    let url = Url::parse(text.trim_end_matches('/'))
        .map_err(|e| Error::Config(format!("invalid JumpCloud base URL {text:?}: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::Config(format!(
            "refusing plain-http base URL {text:?}: the API key would travel unencrypted; use https (http is allowed only on loopback)"
        ))),
        other => Err(Error::Config(format!(
            "unsupported scheme {other:?} in base URL {text:?}"
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Routes that must not carry `x-org-id` (JumpCloud answers 403 when they do).
fn takes_org_id(api: Api, path: &str) -> bool {
    let excluded: &[&str] = match api {
        Api::V1 => &["/organizations", "/search/organizations", "/users"],
        Api::V2 => &[
            "/organizations",
            "/administrators",
            "/providers",
            "/integrations",
        ],
    };
    !excluded
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

struct Inner {
    http: reqwest::Client,
    key: HeaderValue,
    org_id: Option<OrgId>,
    org_header: Option<HeaderValue>,
    v1: Url,
    v2: Url,
    retry: RetryPolicy,
    max_body_bytes: usize,
    limiter: Option<DefaultDirectRateLimiter>,
}

/// A JumpCloud API client; cheap to clone (clones share connections and the rate limit).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_key", &"[redacted]")
            .field("org_id", &self.inner.org_id)
            .field("v1", &self.inner.v1.as_str())
            .field("v2", &self.inner.v2.as_str())
            .finish_non_exhaustive()
    }
}

/// One request, before it is sent.
#[derive(Debug)]
pub(crate) struct Call {
    pub method: Method,
    pub api: Api,
    /// The path template, for logs and errors (`/systemusers/{id}`).
    pub template: &'static str,
    /// The actual path.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    pub headers: Vec<(&'static str, String)>,
    pub idempotency: Idempotency,
}

impl Call {
    pub fn new(method: Method, api: Api, template: &'static str, path: impl Into<String>) -> Self {
        let idempotency = if method == Method::POST || method == Method::PATCH {
            Idempotency::NotIdempotent
        } else {
            Idempotency::Idempotent
        };
        Self {
            method,
            api,
            template,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
            idempotency,
        }
    }

    pub fn get(api: Api, template: &'static str, path: impl Into<String>) -> Self {
        Self::new(Method::GET, api, template, path)
    }

    pub fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub fn json(mut self, body: &impl serde::Serialize) -> Result<Self> {
        self.body = Some(
            serde_json::to_value(body)
                .map_err(|e| Error::Config(format!("could not encode the request body: {e}")))?,
        );
        Ok(self)
    }

    /// Marks a POST as safe to resend (graph edits: adding a member twice changes nothing).
    pub fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub total: Option<u64>,
    pub body: Vec<u8>,
}

impl Client {
    /// A builder with the defaults: US region, 10 s connect and 60 s request timeouts, three
    /// retries, no client-side rate limit.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from the environment: `JUMPCLOUD_API_KEY` (required), `JUMPCLOUD_ORG_ID`,
    /// `JUMPCLOUD_BASE_URL` (the host root; `/api` and `/api/v2` are appended).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the key is missing or the base URL is unusable.
    pub fn from_env() -> Result<Client> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Client> {
        let key = get("JUMPCLOUD_API_KEY")
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| {
                Error::Config(
                    "JUMPCLOUD_API_KEY is not set: export the administrator's API key".into(),
                )
            })?;
        let mut builder = Client::builder().api_key(SecretString::from(key));
        if let Some(org) = get("JUMPCLOUD_ORG_ID").filter(|o| !o.trim().is_empty()) {
            builder = builder.org_id(OrgId(org.trim().to_owned()));
        }
        if let Some(url) = get("JUMPCLOUD_BASE_URL").filter(|u| !u.trim().is_empty()) {
            builder = builder.base_url(url.trim());
        }
        builder.build()
    }

    /// The v1 base URL in use.
    pub fn v1_base_url(&self) -> &str {
        self.inner.v1.as_str()
    }

    /// The v2 base URL in use.
    pub fn v2_base_url(&self) -> &str {
        self.inner.v2.as_str()
    }

    fn url(&self, call: &Call) -> Result<Url> {
        let base = match call.api {
            Api::V1 => &self.inner.v1,
            Api::V2 => &self.inner.v2,
        };
        let mut url = Url::parse(&format!(
            "{}{}",
            base.as_str().trim_end_matches('/'),
            call.path
        ))
        .map_err(|e| Error::Config(format!("invalid request path {}: {e}", call.template)))?;
        if !call.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// Sends `call` with retries; returns the body of a 2xx answer.
    pub(crate) async fn send(&self, call: Call) -> Result<Reply> {
        let url = self.url(&call)?;
        let method_name: &'static str = match call.method.as_str() {
            "GET" => "GET",
            "POST" => "POST",
            "PUT" => "PUT",
            "PATCH" => "PATCH",
            "DELETE" => "DELETE",
            _ => "HTTP",
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(limiter) = &self.inner.limiter {
                limiter.until_ready().await;
            }
            let span = tracing::info_span!(
                "jumpcloud.request",
                method = method_name,
                path = call.template,
                attempt,
                status = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
            );
            let started = Instant::now();
            let mut request = self
                .inner
                .http
                .request(call.method.clone(), url.clone())
                .header("x-api-key", self.inner.key.clone());
            if let Some(org) = &self.inner.org_header
                && takes_org_id(call.api, &call.path)
            {
                request = request.header("x-org-id", org.clone());
            }
            for (name, value) in &call.headers {
                request = request.header(*name, value);
            }
            if let Some(body) = &call.body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_string());
            }
            let outcome = async {
                match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let retry_after = response
                            .headers()
                            .get(RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| parse_retry_after(v, SystemTime::now()));
                        let total = response
                            .headers()
                            .get("x-total-count")
                            .and_then(|v| v.to_str().ok())
                            .and_then(crate::list::parse_total);
                        let body = read_capped(response, self.inner.max_body_bytes).await;
                        Ok((status, retry_after, total, body))
                    }
                    Err(err) => Err(err.without_url()),
                }
            }
            .instrument(span.clone())
            .await;
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            if let Ok((_, _, _, Err(Body::TooLarge))) = &outcome {
                return Err(Error::TooLarge {
                    path: call.template,
                    limit: self.inner.max_body_bytes,
                });
            }
            let (seen, retry_after) = match &outcome {
                Ok((status, retry_after, _, Ok(_))) => (Seen::Status(*status), *retry_after),
                Ok((_, _, _, Err(_))) => (Seen::Lost, None),
                Err(err) if err.is_connect() => (Seen::ConnectFailed, None),
                Err(_) => (Seen::Lost, None),
            };
            if let Seen::Status(status) = seen {
                span.record("status", status);
            }
            match next_step(
                &self.inner.retry,
                call.idempotency,
                seen,
                retry_after,
                attempt,
                fastrand::f64(),
            ) {
                Next::WaitThenRetry(wait) => {
                    tracing::debug!(parent: &span, ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                }
                Next::Unconfirmed => {
                    let cause = match (&outcome, seen) {
                        (_, Seen::Status(status)) => format!("HTTP {status}"),
                        (Err(err), _) => err.to_string(),
                        _ => "the connection was lost".to_owned(),
                    };
                    return Err(Error::Unconfirmed {
                        method: method_name,
                        path: call.template,
                        cause,
                    });
                }
                Next::Done => {
                    return match outcome {
                        Ok((status, _, total, Ok(body))) if status < 300 => {
                            Ok(Reply { total, body })
                        }
                        Ok((status @ 300..=399, _, _, Ok(_))) => Err(Error::Redirected {
                            path: call.template,
                            status,
                        }),
                        Ok((status, retry_after, _, Ok(body))) => {
                            Err(Error::api(status, call.template, &body, retry_after))
                        }
                        Ok((_, _, _, Err(Body::Failed(source)))) | Err(source) => {
                            Err(Error::Transport {
                                path: call.template,
                                source: source.without_url(),
                            })
                        }
                        Ok((_, _, _, Err(Body::TooLarge))) => Err(Error::TooLarge {
                            path: call.template,
                            limit: self.inner.max_body_bytes,
                        }),
                    };
                }
            }
        }
    }

    /// Sends `call` and decodes the answer.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        let template = call.template;
        let reply = self.send(call).await?;
        decode(template, &reply.body)
    }

    /// Sends `call`, expecting no useful body (graph edits answer 204).
    pub(crate) async fn execute(&self, call: Call) -> Result<()> {
        self.send(call).await.map(|_| ())
    }
}

/// Why a body could not be read.
enum Body {
    /// The connection failed while reading it.
    Failed(reqwest::Error),
    /// It is longer than the cap.
    TooLarge,
}

/// Reads a body chunk by chunk, stopping as soon as it passes `cap` bytes (a declared
/// `Content-Length` over the cap stops it before reading anything).
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, Body> {
    if response
        .content_length()
        .is_some_and(|declared| declared > cap as u64)
    {
        return Err(Body::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Body::Failed)? {
        if body.len().saturating_add(chunk.len()) > cap {
            return Err(Body::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn decode<T: DeserializeOwned>(template: &'static str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|source| Error::Decode {
        path: template,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_never_shows_in_debug() {
        let builder = Client::builder()
            .api_key("super-secret-key-123")
            .org_id("org-1");
        assert!(!format!("{builder:?}").contains("super-secret"));
        let client = builder.build().unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("super-secret"), "{text}");
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn regions_and_base_urls_pick_the_hosts() {
        let c = Client::builder()
            .api_key("k")
            .region(Region::Eu)
            .build()
            .unwrap();
        assert_eq!(c.v1_base_url(), "https://console.eu.jumpcloud.com/api");
        assert_eq!(c.v2_base_url(), "https://console.eu.jumpcloud.com/api/v2");
        let c = Client::builder()
            .api_key("k")
            .base_url("https://jc.example.com/")
            .build()
            .unwrap();
        assert_eq!(c.v2_base_url(), "https://jc.example.com/api/v2");
        let c = Client::builder()
            .api_key("k")
            .v1_base_url("http://127.0.0.1:4010")
            .v2_base_url("http://[::1]:4011")
            .build()
            .unwrap();
        assert_eq!(c.v1_base_url(), "http://127.0.0.1:4010/");
        assert_eq!(c.v2_base_url(), "http://[::1]:4011/");
        let c = Client::builder()
            .api_key("k")
            .base_url("http://localhost:9000")
            .build()
            .unwrap();
        assert_eq!(c.v1_base_url(), "http://localhost:9000/api");
    }

    #[test]
    fn plain_http_is_refused_off_loopback_and_a_key_is_required() {
        for url in [
            "http://console.jumpcloud.com",
            "http://10.0.0.1:8080",
            "ftp://127.0.0.1",
        ] {
            let err = Client::builder()
                .api_key("k")
                .base_url(url)
                .build()
                .unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{url}: {err}");
        }
        let err = Client::builder().build().unwrap_err();
        assert!(err.to_string().contains("API key"));
        assert!(Client::builder().api_key("  ").build().is_err());
    }

    #[test]
    fn from_env_reads_the_three_variables() {
        let vars = [
            ("JUMPCLOUD_API_KEY", "key"),
            ("JUMPCLOUD_ORG_ID", "org-9"),
            ("JUMPCLOUD_BASE_URL", "https://console.in.jumpcloud.com"),
        ];
        let client = Client::from_lookup(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap();
        assert_eq!(
            client.v2_base_url(),
            "https://console.in.jumpcloud.com/api/v2"
        );
        assert_eq!(
            client.inner.org_id.as_ref().map(OrgId::as_str),
            Some("org-9")
        );
        let err = Client::from_lookup(|_| None).unwrap_err();
        assert!(err.to_string().contains("JUMPCLOUD_API_KEY"));
    }

    #[test]
    fn org_id_is_left_off_the_routes_that_refuse_it() {
        assert!(takes_org_id(Api::V2, "/usergroups"));
        assert!(takes_org_id(Api::V1, "/systemusers/abc"));
        assert!(!takes_org_id(Api::V1, "/organizations"));
        assert!(!takes_org_id(Api::V1, "/users"));
        assert!(!takes_org_id(Api::V2, "/providers/p1/organizations"));
        assert!(!takes_org_id(Api::V2, "/integrations/x"));
        assert!(
            takes_org_id(Api::V2, "/users/u1/memberof"),
            "v2 /users is not v1 /users"
        );
    }
}
