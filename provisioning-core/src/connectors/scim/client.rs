//! A typed SCIM 2.0 client: list (index, cursor or unpaged), create, PATCH and delete of
//! users and groups, with a bearer token kept in a [`SecretString`].
//!
//! Reads (GET) are retried on 429, 5xx and lost connections, waiting out `Retry-After`;
//! writes are sent once and their failures come back classified (see [`Error::class`]), so
//! that the engine's executor decides about retrying. An optional client-side rate limit
//! spaces every request (IAM Identity Center allows 20 per second for all clients together).
//!
//! ```no_run
//! # async fn run() -> Result<(), provisioning_core::connectors::scim::client::Error> {
//! use provisioning_core::connectors::scim::client::{Paging, Resource, ScimClient};
//! use provisioning_core::connectors::scim::filter::eq;
//! use provisioning_core::connectors::scim::resources::ScimUser;
//!
//! let token = std::env::var("SCIM_TOKEN").unwrap_or_default();
//! let scim = ScimClient::builder("https://api.pulumi.com/scim/v2/acme", token.into()).build()?;
//! let found: Vec<ScimUser> =
//!     scim.list(Resource::Users, Some(&eq("userName", "ada+ops@example.com")), Paging::Index).await?;
//! println!("{} match", found.len());
//! # Ok(()) }
//! ```

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::resources::{ErrorBody, ListResponse, PatchOp};
use crate::connector::ErrorClass;
use crate::connectors::http::{self, Failure, ReadRetry, Seen};

const SCIM_JSON: &str = "application/scim+json";
/// Resources requested per page; the most AWS, Pulumi and Okta accept.
pub const PAGE_SIZE: u32 = 100;
/// The most pages one list follows before it is treated as a server fault.
const MAX_PAGES: usize = 100_000;

/// A SCIM resource endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `/Users`.
    Users,
    /// `/Groups`.
    Groups,
}

impl Resource {
    fn path(self) -> &'static str {
        match self {
            Resource::Users => "Users",
            Resource::Groups => "Groups",
        }
    }
}

/// How a list is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `startIndex` and `count` (RFC 7644), until `totalResults` is reached.
    Index,
    /// `cursor` and `count` (RFC 9865), until no `nextCursor` comes back.
    Cursor,
    /// One request without paging parameters (Pulumi's group search).
    Unpaged,
}

/// A failed SCIM call. Its [`Display`](fmt::Display) says what failed; paths never carry
/// the query, which holds filters with user names.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401: the bearer token expired (AWS tokens last one year) or is wrong.
    #[error(
        "SCIM {method} {path} was refused with HTTP 401: the bearer token expired or is wrong; \
         create a new token at the application and update the secret"
    )]
    Unauthorized {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
    },
    /// Any other error status.
    #[error("SCIM {method} {path} failed with HTTP {status}{}", describe(.scim_type, .detail))]
    Api {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The SCIM error type, when the body had one.
        scim_type: Option<String>,
        /// The server's explanation, when the body had one.
        detail: Option<String>,
        /// The wait a 429 asked for.
        retry_after: Option<Duration>,
    },
    /// No answer.
    #[error("could not reach the SCIM server for {method} {path}")]
    Transport {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
        /// What went wrong.
        #[source]
        source: reqwest::Error,
    },
    /// An answer that is not the expected SCIM JSON.
    #[error("the SCIM server's answer to {method} {path} is not the expected SCIM JSON")]
    Decode {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
        /// Where decoding failed.
        #[source]
        source: serde_json::Error,
    },
    /// An answer longer than the client reads (32 MiB).
    #[error(
        "the SCIM server's answer to {method} {path} is longer than {limit} bytes and was not \
         read; narrow the request or check the server"
    )]
    TooLarge {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A list whose pages do not add up (a repeated cursor, an endless list).
    #[error("listing SCIM {path} failed: {reason}")]
    Paging {
        /// The list's path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// A configuration that cannot work, such as a base URL that is not a URL.
    #[error("invalid SCIM client configuration: {0}")]
    Config(String),
}

fn describe(scim_type: &Option<String>, detail: &Option<String>) -> String {
    match (scim_type, detail) {
        (Some(t), Some(d)) => format!(" ({t}): {d}"),
        (Some(t), None) => format!(" ({t})"),
        (None, Some(d)) => format!(": {d}"),
        (None, None) => String::new(),
    }
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The SCIM error type (`uniqueness`, `invalidFilter`, …), when the server sent one.
    pub fn scim_type(&self) -> Option<&str> {
        match self {
            Error::Api { scim_type, .. } => scim_type.as_deref(),
            _ => None,
        }
    }

    /// The wait a 429 asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// How the engine should treat it.
    ///
    /// ```
    /// use provisioning_core::connector::ErrorClass;
    /// use provisioning_core::connectors::scim::client::Error;
    /// let err = Error::Config("no base URL".into());
    /// assert_eq!(err.class(), ErrorClass::Invalid);
    /// ```
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Unauthorized { .. } => ErrorClass::Denied,
            Error::Api { status, .. } => http::class_of(*status),
            Error::Transport { .. } => ErrorClass::Transient,
            Error::Decode { .. } | Error::Paging { .. } | Error::TooLarge { .. } => {
                ErrorClass::Fatal
            }
            Error::Config(_) => ErrorClass::Invalid,
        }
    }
}

/// Builds a [`ScimClient`].
pub struct ScimClientBuilder {
    base_url: String,
    token: SecretString,
    rate_limit: Option<NonZeroU32>,
    timeout: Duration,
    retry: ReadRetry,
}

impl fmt::Debug for ScimClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &"[redacted]")
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl ScimClientBuilder {
    /// Spaces requests to at most `per_second`.
    ///
    /// ```
    /// use std::num::NonZeroU32;
    /// use provisioning_core::connectors::scim::client::ScimClient;
    /// let scim = ScimClient::builder("http://127.0.0.1:9/v2", "t".into())
    ///     .rate_limit(NonZeroU32::new(20).unwrap())
    ///     .build()
    ///     .unwrap();
    /// # let _ = scim;
    /// ```
    #[must_use]
    pub fn rate_limit(mut self, per_second: NonZeroU32) -> Self {
        self.rate_limit = Some(per_second);
        self
    }

    /// The timeout of one attempt (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Read retries with millisecond backoff, for tests against mocks.
    #[must_use]
    pub fn fast_retries(mut self) -> Self {
        self.retry = self.retry.fast();
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the base URL is not an `http(s)` URL or the token cannot be
    /// sent in a header.
    pub fn build(self) -> Result<ScimClient, Error> {
        let mut base = Url::parse(self.base_url.trim()).map_err(|e| {
            Error::Config(format!(
                "the base URL {:?} is not a URL ({e}); expected e.g. https://scim.us-east-1.amazonaws.com/<tenant>/scim/v2",
                self.base_url
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "the base URL {:?} must be an http or https URL",
                self.base_url
            )));
        }
        if let Some(refusal) = crate::connectors::http::refuse_insecure("the SCIM base URL", &base)
        {
            return Err(Error::Config(refusal));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.token.expose_secret()))
            .map_err(|_| {
                Error::Config("the SCIM token holds characters a header cannot carry".into())
            })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/scim+json, application/json"),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("identity-provisioning/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(self.timeout)
            // The bearer token goes to the base URL's origin only.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))?;
        Ok(ScimClient {
            inner: Arc::new(Inner {
                http,
                base,
                limiter: self
                    .rate_limit
                    .map(|rate| RateLimiter::direct(Quota::per_second(rate))),
                retry: self.retry,
            }),
        })
    }
}

/// A SCIM 2.0 client; cheap to clone (clones share the connection pool and the rate limit).
#[derive(Clone)]
pub struct ScimClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    limiter: Option<DefaultDirectRateLimiter>,
    retry: ReadRetry,
}

impl fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimClient")
            .field("base_url", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

impl ScimClient {
    /// A builder for the service provider at `base_url` (ending in `/v2` or the tenant's
    /// SCIM path), authenticating with the bearer `token`.
    ///
    /// ```
    /// let scim = provisioning_core::connectors::scim::client::ScimClient::builder(
    ///     "http://127.0.0.1:9/v2",
    ///     "secret-token".into(),
    /// )
    /// .build()
    /// .unwrap();
    /// assert!(!format!("{scim:?}").contains("secret-token"));
    /// ```
    pub fn builder(base_url: impl Into<String>, token: SecretString) -> ScimClientBuilder {
        ScimClientBuilder {
            base_url: base_url.into(),
            token,
            rate_limit: None,
            timeout: Duration::from_secs(30),
            retry: ReadRetry::default(),
        }
    }

    /// Every resource of `resource` matching `filter` (all of them without one), following
    /// the pages to the end.
    ///
    /// # Errors
    ///
    /// The first failed page (after read retries), a [`Error::Paging`] fault, or an
    /// [`Error::Decode`] for the first resource that is not a `T` (use
    /// [`list_values`](Self::list_values) to read the others).
    pub async fn list<T: DeserializeOwned>(
        &self,
        resource: Resource,
        filter: Option<&str>,
        paging: Paging,
    ) -> Result<Vec<T>, Error> {
        let path = resource.path().to_owned();
        self.list_values(resource, filter, paging)
            .await?
            .iter()
            .map(|value| {
                <T as serde::Deserialize>::deserialize(value).map_err(|source| Error::Decode {
                    method: Method::GET,
                    path: path.clone(),
                    source,
                })
            })
            .collect()
    }

    /// As [`list`](Self::list), each resource as the server sent it: for a caller that reads
    /// the resources one by one and must not lose the readable ones to one it cannot read.
    ///
    /// ```no_run
    /// # async fn run(scim: provisioning_core::connectors::scim::client::ScimClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use provisioning_core::connectors::scim::client::{Paging, Resource};
    ///
    /// let users = scim.list_values(Resource::Users, None, Paging::Index).await?;
    /// let ids: Vec<&str> = users.iter().filter_map(|u| u["id"].as_str()).collect();
    /// println!("{} users", ids.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// The first failed page (after read retries), or a [`Error::Paging`] fault.
    pub async fn list_values(
        &self,
        resource: Resource,
        filter: Option<&str>,
        paging: Paging,
    ) -> Result<Vec<Value>, Error> {
        let mut items: Vec<Value> = Vec::new();
        let mut start = 1u64;
        let mut cursor = String::new();
        let mut cursors_seen = std::collections::HashSet::new();
        let mut previous_page: Option<Vec<Value>> = None;
        let no_progress = |reason: String| Error::Paging {
            path: resource.path().into(),
            reason,
        };
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&[resource.path()]);
            {
                let mut query = url.query_pairs_mut();
                if let Some(filter) = filter {
                    query.append_pair("filter", filter);
                }
                match paging {
                    Paging::Index => {
                        query
                            .append_pair("startIndex", &start.to_string())
                            .append_pair("count", &PAGE_SIZE.to_string());
                    }
                    Paging::Cursor => {
                        query
                            .append_pair("cursor", &cursor)
                            .append_pair("count", &PAGE_SIZE.to_string());
                    }
                    Paging::Unpaged => {}
                }
            }
            if url.query() == Some("") {
                url.set_query(None);
            }
            let page: ListResponse<Value> = self.get(url).await?;
            let got = page.resources.len() as u64;
            // A server that ignores startIndex and does not say where its page starts
            // answers the same page to every request: read on, the list would hold it
            // again and again, up to the page cap.
            if got > 0 && previous_page.as_ref() == Some(&page.resources) {
                let asked = match paging {
                    Paging::Cursor => "asked for the next cursor".to_owned(),
                    _ => format!("asked for startIndex {start}"),
                };
                return Err(no_progress(format!(
                    "{asked}, the server answered the same page as before: the list makes \
                     no progress (does the server page?)"
                )));
            }
            items.extend(page.resources.iter().cloned());
            previous_page = Some(page.resources);
            match paging {
                Paging::Unpaged => return Ok(items),
                Paging::Index => {
                    let Some(total) = page.total_results else {
                        return Ok(items);
                    };
                    // 1-based; a server that answers 0 means the first item too.
                    let first = page.start_index.unwrap_or(start).max(1);
                    if got == 0 || (first - 1).saturating_add(got) >= total {
                        return Ok(items);
                    }
                    let next = first.saturating_add(got);
                    // A server that answers an earlier page than asked (it ignores
                    // startIndex) would be read again and again: its items twice.
                    if next <= start {
                        return Err(no_progress(format!(
                            "asked for startIndex {start}, the server answered a page starting \
                             at {first}: the list makes no progress (does the server page?)"
                        )));
                    }
                    start = next;
                }
                Paging::Cursor => match page.next_cursor.filter(|c| !c.is_empty()) {
                    None => return Ok(items),
                    Some(next) if next == cursor || !cursors_seen.insert(next.clone()) => {
                        return Err(no_progress(
                            "the server returned a cursor it had returned before: the list \
                             would repeat itself"
                                .into(),
                        ));
                    }
                    Some(next) => cursor = next,
                },
            }
        }
        Err(Error::Paging {
            path: resource.path().into(),
            reason: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// Creates a resource and returns it as the server stored it.
    ///
    /// # Errors
    ///
    /// The server's refusal, such as 409 `uniqueness` when the userName or group exists.
    pub async fn create<T: Serialize + DeserializeOwned>(
        &self,
        resource: Resource,
        body: &T,
    ) -> Result<T, Error> {
        let url = self.url(&[resource.path()]);
        let answer = self.write(Method::POST, url, Some(body)).await?;
        decode(Method::POST, resource.path(), answer)
    }

    /// Reads one resource.
    ///
    /// # Errors
    ///
    /// The server's refusal (404 when the resource is gone), after read retries.
    pub async fn get_one<T: DeserializeOwned>(
        &self,
        resource: Resource,
        id: &str,
    ) -> Result<T, Error> {
        self.get(self.url(&[resource.path(), id])).await
    }

    /// Replaces one resource (`PUT`) and returns it as the server stored it. Send back what
    /// [`get_one`](Self::get_one) read, changed: the resource models keep every attribute
    /// they do not know, so nothing is lost on the way.
    ///
    /// # Errors
    ///
    /// The server's refusal (404 when the resource is gone, 409 on a taken userName).
    pub async fn replace<T: Serialize + DeserializeOwned>(
        &self,
        resource: Resource,
        id: &str,
        body: &T,
    ) -> Result<T, Error> {
        let url = self.url(&[resource.path(), id]);
        let answer = self.write(Method::PUT, url, Some(body)).await?;
        decode(Method::PUT, resource.path(), answer)
    }

    /// Applies a PATCH request to one resource.
    ///
    /// # Errors
    ///
    /// The server's refusal (404 when the resource is gone).
    pub async fn patch(&self, resource: Resource, id: &str, patch: &PatchOp) -> Result<(), Error> {
        let url = self.url(&[resource.path(), id]);
        self.write(Method::PATCH, url, Some(patch)).await.map(drop)
    }

    /// Deletes one resource.
    ///
    /// # Errors
    ///
    /// The server's refusal (404 when it is already gone).
    pub async fn delete(&self, resource: Resource, id: &str) -> Result<(), Error> {
        let url = self.url(&[resource.path(), id]);
        self.write::<()>(Method::DELETE, url, None).await.map(drop)
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    async fn pace(&self) {
        if let Some(limiter) = &self.inner.limiter {
            limiter.until_ready().await;
        }
    }

    /// A GET, retried on 429, 5xx and lost connections.
    async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, Error> {
        let path = url.path().to_owned();
        let (url, path_ref) = (&url, path.as_str());
        let transport = |e: reqwest::Error| Error::Transport {
            method: Method::GET,
            path: path_ref.to_owned(),
            source: e.without_url(),
        };
        http::read_with_retries(&self.inner.retry, "SCIM", path_ref, || async move {
            self.pace().await;
            let response =
                self.inner
                    .http
                    .get(url.clone())
                    .send()
                    .await
                    .map_err(|e| Failure::Retryable {
                        seen: Seen::NoAnswer,
                        wait: None,
                        error: transport(e),
                    })?;
            if !response.status().is_success() {
                let status = response.status().as_u16();
                let error = failure(Method::GET, path_ref, response).await;
                return Err(Failure::Retryable {
                    seen: Seen::Status(status),
                    wait: error.retry_after(),
                    error,
                });
            }
            let bytes = http::read_capped(response, http::MAX_BODY_BYTES)
                .await
                .map_err(|e| {
                    Failure::Final(match e {
                        http::BodyError::Failed(e) => transport(e),
                        http::BodyError::TooLarge => Error::TooLarge {
                            method: Method::GET,
                            path: path_ref.to_owned(),
                            limit: http::MAX_BODY_BYTES,
                        },
                    })
                })?;
            serde_json::from_slice(&bytes).map_err(|source| {
                Failure::Final(Error::Decode {
                    method: Method::GET,
                    path: path_ref.to_owned(),
                    source,
                })
            })
        })
        .await
    }

    /// A write, sent once; returns the body of the answer, if any.
    async fn write<B: Serialize>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<Option<Value>, Error> {
        let path = url.path().to_owned();
        self.pace().await;
        let mut request = self.inner.http.request(method.clone(), url);
        if let Some(body) = body {
            let json = serde_json::to_vec(body).map_err(|source| Error::Decode {
                method: method.clone(),
                path: path.clone(),
                source,
            })?;
            request = request.header(CONTENT_TYPE, SCIM_JSON).body(json);
        }
        let response = request.send().await.map_err(|e| Error::Transport {
            method: method.clone(),
            path: path.clone(),
            source: e.without_url(),
        })?;
        if !response.status().is_success() {
            return Err(failure(method, &path, response).await);
        }
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let bytes = http::read_capped(response, http::MAX_BODY_BYTES)
            .await
            .map_err(|e| match e {
                http::BodyError::Failed(e) => Error::Transport {
                    method: method.clone(),
                    path: path.clone(),
                    source: e.without_url(),
                },
                http::BodyError::TooLarge => Error::TooLarge {
                    method: method.clone(),
                    path: path.clone(),
                    limit: http::MAX_BODY_BYTES,
                },
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| Error::Decode {
                method,
                path,
                source,
            })
    }
}

fn decode<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<T, Error> {
    serde_json::from_value(body.unwrap_or(Value::Null)).map_err(|source| Error::Decode {
        method,
        path: path.to_owned(),
        source,
    })
}

/// The error for a non-success answer, from its status and SCIM error body (if any).
async fn failure(method: Method, path: &str, response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    if status == 401 {
        return Error::Unauthorized {
            method,
            path: path.to_owned(),
        };
    }
    let retry_after = http::retry_after(response.headers(), SystemTime::now());
    // An error body is read up to the cap like any other; past it, the status alone says.
    let body: ErrorBody = http::read_capped(response, http::MAX_BODY_BYTES)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    Error::Api {
        method,
        path: path.to_owned(),
        status,
        scim_type: body.scim_type,
        detail: body.detail.map(|d| d.chars().take(500).collect()),
        retry_after,
    }
}
