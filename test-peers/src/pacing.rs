//! A pacing proxy: an AWS JSON endpoint (moto) made to behave like the real service's quota.
//!
//! [`PacingProxy`] listens on loopback and forwards every request to an upstream (moto),
//! after the latency it is given, and only while a token bucket of the service's rate has a
//! token: a request over the rate is answered as the service answers it, HTTP 400 with
//! `x-amzn-ErrorType: ThrottlingException` and `{"__type":"ThrottlingException",…}`, and never
//! reaches the upstream. It counts, by operation (the `X-Amz-Target` header's part after the
//! dot, e.g. `ListUsers`), the requests it forwarded and those it refused: that count is what
//! the real SDK client sent on the wire, with nothing of ours below it.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::time::Duration;
//! use test_peers::pacing::{Pacing, PacingProxy};
//!
//! let proxy = PacingProxy::start(
//!     &test_peers::Peer::Moto.url(),
//!     Pacing::per_second(20).latency(Duration::from_millis(150)),
//! )
//! .await?;
//! // Point the SDK client at proxy.url(); afterwards:
//! let sent = proxy.forwarded();
//! println!("{} ListUsers, {} throttled", sent.get("ListUsers").unwrap_or(&0), proxy.throttled_total());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How the proxy paces: the service's rate, its burst, and the latency of every answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Requests per second the bucket refills with; `None`: no limit.
    pub per_second: Option<NonZeroU32>,
    /// Requests the bucket holds when full (at least 1).
    pub burst: NonZeroU32,
    /// Added before every answer, forwarded or refused.
    pub latency: Duration,
}

impl Pacing {
    /// A bucket of `per_second` requests per second holding one second's worth, no latency.
    ///
    /// ```
    /// let pacing = test_peers::pacing::Pacing::per_second(20);
    /// assert_eq!(pacing.burst.get(), 20);
    /// ```
    pub fn per_second(per_second: u32) -> Self {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        Self {
            per_second: Some(rate),
            burst: rate,
            latency: Duration::ZERO,
        }
    }

    /// No rate limit, no latency: a counting pass-through.
    ///
    /// ```
    /// assert!(test_peers::pacing::Pacing::unlimited().per_second.is_none());
    /// ```
    pub fn unlimited() -> Self {
        Self {
            per_second: None,
            burst: NonZeroU32::MIN,
            latency: Duration::ZERO,
        }
    }

    /// The same, with `latency` before every answer.
    ///
    /// ```
    /// use std::time::Duration;
    /// let pacing = test_peers::pacing::Pacing::per_second(5).latency(Duration::from_millis(150));
    /// assert_eq!(pacing.latency, Duration::from_millis(150));
    /// ```
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The same, with a bucket of `burst` requests.
    ///
    /// ```
    /// let pacing = test_peers::pacing::Pacing::per_second(20).burst(1);
    /// assert_eq!(pacing.burst.get(), 1);
    /// ```
    #[must_use]
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        self
    }
}

#[derive(Debug, Default)]
struct Counts {
    forwarded: BTreeMap<String, u64>,
    throttled: BTreeMap<String, u64>,
    /// Forwarded requests the upstream did not answer (the proxy answered 502).
    failed: BTreeMap<String, u64>,
}

struct Shared {
    upstream: String,
    pacing: Pacing,
    bucket: Option<DefaultDirectRateLimiter>,
    http: reqwest::Client,
    counts: Mutex<Counts>,
}

/// A running pacing proxy; it stops when dropped.
pub struct PacingProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl std::fmt::Debug for PacingProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacingProxy")
            .field("url", &self.url())
            .field("upstream", &self.shared.upstream)
            .field("pacing", &self.shared.pacing)
            .finish_non_exhaustive()
    }
}

impl Drop for PacingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock(counts: &Mutex<Counts>) -> std::sync::MutexGuard<'_, Counts> {
    counts.lock().unwrap_or_else(|e| e.into_inner())
}

impl PacingProxy {
    /// Starts a proxy to `upstream` (a base URL such as moto's) on a free loopback port.
    ///
    /// # Errors
    ///
    /// The error of binding the listener.
    pub async fn start(upstream: &str, pacing: Pacing) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let bucket = pacing
            .per_second
            .map(|rate| RateLimiter::direct(Quota::per_second(rate).allow_burst(pacing.burst)));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            pacing,
            bucket,
            http,
            counts: Mutex::default(),
        });
        let serving = shared.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of file descriptors, say: wait instead of spinning on the error.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let shared = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(answer(&shared, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            shared,
            server,
        })
    }

    /// The proxy's base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests forwarded to the upstream, by operation.
    pub fn forwarded(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.counts).forwarded.clone()
    }

    /// Requests refused with `ThrottlingException`, by operation.
    pub fn throttled(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.counts).throttled.clone()
    }

    /// Every request forwarded.
    pub fn forwarded_total(&self) -> u64 {
        lock(&self.shared.counts).forwarded.values().sum()
    }

    /// Every request refused with `ThrottlingException`.
    pub fn throttled_total(&self) -> u64 {
        lock(&self.shared.counts).throttled.values().sum()
    }

    /// Forwarded requests the upstream did not answer (the proxy answered them 502), by
    /// operation: a test that counts at the proxy checks this is empty.
    pub fn failed(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.counts).failed.clone()
    }

    /// Forgets the counts so far (the proxy keeps running).
    pub fn reset_counts(&self) {
        *lock(&self.shared.counts) = Counts::default();
    }
}

/// The operation a request names: `AWSIdentityStore.ListUsers` → `ListUsers`; a request
/// without `X-Amz-Target` is named by its method and path.
fn operation(request: &Request<Incoming>) -> String {
    match request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        Some(target) => target.rsplit('.').next().unwrap_or(target).to_owned(),
        None => format!("{} {}", request.method(), request.uri().path()),
    }
}

fn plain(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

fn throttling() -> Response<Full<Bytes>> {
    let mut response = plain(
        StatusCode::BAD_REQUEST,
        r#"{"__type":"ThrottlingException","Message":"Rate exceeded"}"#.to_owned(),
    );
    let headers = response.headers_mut();
    headers.insert(
        "x-amzn-errortype",
        hyper::header::HeaderValue::from_static("ThrottlingException"),
    );
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

async fn answer(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let name = operation(&request);
    let admitted = shared.bucket.as_ref().is_none_or(|b| b.check().is_ok());
    if !shared.pacing.latency.is_zero() {
        tokio::time::sleep(shared.pacing.latency).await;
    }
    if !admitted {
        *lock(&shared.counts).throttled.entry(name).or_default() += 1;
        return throttling();
    }
    *lock(&shared.counts)
        .forwarded
        .entry(name.clone())
        .or_default() += 1;
    match forward(shared, request).await {
        Ok(response) => response,
        Err(err) => {
            *lock(&shared.counts).failed.entry(name).or_default() += 1;
            plain(
                StatusCode::BAD_GATEWAY,
                format!(
                    "pacing proxy: the upstream {} failed: {err}",
                    shared.upstream
                ),
            )
        }
    }
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1): a proxy
/// neither forwards them nor copies them back. Content-Length and Host are set anew.
fn hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    ]
    .contains(&name)
}

async fn forward(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())?;
    let mut outgoing = shared
        .http
        .request(method, format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name.as_str()) {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    let upstream = outgoing.send().await?;
    let status = StatusCode::from_u16(upstream.status().as_u16())?;
    let headers = upstream.headers().clone();
    let body = upstream.bytes().await?;
    let mut response = plain(status, String::new());
    *response.body_mut() = Full::new(body);
    for (name, value) in &headers {
        if let (false, Ok(name), Ok(value)) = (
            hop_by_hop(name.as_str()),
            hyper::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            hyper::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    Ok(response)
}
