//! Robustness: generated hostile answers — random JSON at every field of a SCIM list
//! response or an Okta page, odd and huge totals and indexes, non-object records, nulls,
//! junk bodies, any status, junk `Retry-After`, `Link`, `Content-Type` and Okta rate-limit
//! headers — served over HTTP (wiremock) to the real SCIM client, the SCIM target of each
//! profile and the real Okta source.
//! Whatever arrives, each read ends with a value or an error, never a panic and never a
//! hang (each read has a deadline).
//!
//! Waits a server may legitimately ask for (a `Retry-After` of 1 to 120 s, an exhausted Okta
//! window) are left out of the generated headers so that a case cannot sleep for minutes;
//! the parsers of those headers, with every value up to 2^64−1, are covered by the unit
//! tests of `connectors::http` and `jumpcloud_api::retry`.
//!
//! `HOSTILE_CASES` sets the number of cases (default 300).

use std::time::Duration;

use proptest::prelude::*;
use provisioning_core::connector::{Source, TargetReader};
use provisioning_core::connectors::okta::OktaSource;
use provisioning_core::connectors::scim::client::{Paging, Resource, ScimClient};
use provisioning_core::connectors::scim::resources::{ScimGroup, ScimUser};
use provisioning_core::connectors::scim::{Profile, ScimTarget};
use provisioning_core::model::Scope;
use serde_json::{Map, Value, json};
use test_peers::hostile::{any_json, cases, field, number_header};
use wiremock::matchers::any as any_request;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Longer than any retry schedule a generated case can cause (fast retries, no long waits).
const DEADLINE: Duration = Duration::from_secs(30);

/// A SCIM or Okta record: user- or group-shaped, with random JSON at random fields, or
/// anything at all.
fn record() -> impl Strategy<Value = Value> {
    (
        field(json!("u1")),
        field(json!("ada@example.com")),
        field(json!("Ada Lovelace")),
        field(json!(true)),
        field(json!([{"value": "ada@example.com", "primary": true}])),
        field(json!([{"value": "u1", "type": "User"}])),
        field(json!({"login": "ada@example.com", "firstName": "Ada", "email": "ada@example.com"})),
        field(json!("ACTIVE")),
        prop::option::of(any_json()),
    )
        .prop_map(
            |(id, user_name, display, active, emails, members, profile, status, whole)| {
                if let Some(whole) = whole {
                    return whole;
                }
                let mut m = Map::new();
                for (key, value) in [
                    ("id", id),
                    ("userName", user_name),
                    ("displayName", display),
                    ("active", active),
                    ("emails", emails),
                    ("members", members),
                    ("profile", profile),
                    ("status", status),
                ] {
                    m.insert(key.to_owned(), value);
                }
                Value::Object(m)
            },
        )
}

/// A body: a SCIM ListResponse, an Okta array, any JSON, or bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let records = || prop::collection::vec(record(), 0..5);
    prop_oneof![
        (
            field(json!(250)),
            field(json!(1)),
            field(json!(100)),
            field(json!("next")),
            records()
        )
            .prop_map(|(total, start, per_page, cursor, resources)| {
                serde_json::to_vec(&json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": total,
                    "startIndex": start,
                    "itemsPerPage": per_page,
                    "nextCursor": cursor,
                    "Resources": resources,
                }))
                .unwrap()
            }),
        records().prop_map(|r| serde_json::to_vec(&r).unwrap()),
        any_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        6 => Just(200u16),
        1 => prop::sample::select(vec![
            201u16, 204, 301, 302, 400, 401, 403, 404, 409, 413, 429, 500, 502, 503, 504, 599,
        ]),
    ]
}

/// A `Retry-After` that asks for no real wait: junk, zero, negative, overflowing, past
/// dates, or more than the longest wait honoured (then the read fails instead).
fn retry_after() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("0".to_owned()),
        Just("-5".to_owned()),
        Just("18446744073709551616".to_owned()),
        (121u64..).prop_map(|n| n.to_string()),
        Just("Wed, 21 Oct 1970 07:28:00 GMT".to_owned()),
        Just("Sun, 06 Nov 2994 08:49:37 GMT".to_owned()),
        "[a-z ,:]{0,20}",
    ])
}

/// An Okta `Link` header: none, the same page, another origin, junk, or a next page.
fn link(base: String) -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just(format!("<{base}/api/v1/users?limit=200>; rel=\"next\"")),
        Just("<https://evil.example/api/v1/users?after=x>; rel=\"next\"".to_owned()),
        "[a-z<>;=\" ]{0,30}",
        "[a-z0-9]{1,8}".prop_map(move |after| format!(
            "<{base}/api/v1/users?after={after}&limit=200>; rel=\"next\""
        )),
    ])
}

/// Okta's remaining-calls header, never `0` (an exhausted window is a real wait).
fn remaining() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("5".to_owned()),
        Just("-1".to_owned()),
        Just("18446744073709551616".to_owned()),
        "[a-z]{0,5}",
    ])
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    body: Vec<u8>,
    content_type: Option<String>,
    retry_after: Option<String>,
    link: Option<String>,
    remaining: Option<String>,
    reset: Option<String>,
}

fn answer(base: String) -> impl Strategy<Value = Answer> {
    (
        status(),
        body(),
        prop::option::of(prop_oneof![
            Just("application/scim+json".to_owned()),
            Just("application/json".to_owned()),
            Just("text/html".to_owned()),
            "[a-z/;= ]{0,20}",
        ]),
        retry_after(),
        link(base),
        remaining(),
        number_header(),
    )
        .prop_map(
            |(status, body, content_type, retry_after, link, remaining, reset)| Answer {
                status,
                body,
                content_type,
                retry_after,
                link,
                remaining,
                reset,
            },
        )
}

fn template(answer: &Answer) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(answer.status).set_body_bytes(answer.body.clone());
    for (name, value) in [
        ("content-type", &answer.content_type),
        ("retry-after", &answer.retry_after),
        ("link", &answer.link),
        ("x-rate-limit-remaining", &answer.remaining),
        ("x-rate-limit-reset", &answer.reset),
    ] {
        // Only what can travel in a header (visible ASCII and spaces): the rest cannot be
        // sent by any server, and wiremock refuses it.
        if let Some(value) = value
            .as_ref()
            .filter(|v| v.bytes().all(|b| (b' '..=b'~').contains(&b)))
        {
            template = template.insert_header(name, value.as_str());
        }
    }
    template
}

/// Runs `read` under the deadline.
async fn bounded<T>(read: impl std::future::Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(DEADLINE, read)
        .await
        .map_err(|_| format!("no answer within {DEADLINE:?}"))
}

/// A mock server and the two clients of it. wiremock counts its resets in a 16-bit
/// generation, so a long run moves to a fresh server before that count wraps.
struct Harness {
    server: MockServer,
    scim: ScimClient,
    /// The SCIM target on `scim`, one per profile (each pages its own way).
    targets: Vec<ScimTarget>,
    okta: OktaSource,
    resets: u32,
}

impl Harness {
    async fn start() -> Self {
        let server = MockServer::start().await;
        let base = server.uri();
        let scim = ScimClient::builder(format!("{base}/scim/v2"), "tok3n".into())
            .fast_retries()
            .build()
            .unwrap();
        let okta = OktaSource::builder(base, "tok3n".into())
            .fast_retries()
            .build()
            .unwrap();
        let targets = [
            Profile::Generic,
            Profile::AwsIdentityCenter,
            Profile::Pulumi,
        ]
        .into_iter()
        .map(|profile| ScimTarget::new(scim.clone(), profile))
        .collect();
        Self {
            server,
            scim,
            targets,
            okta,
            resets: 0,
        }
    }

    /// Serves `answer` to every request from now on.
    async fn serve(&mut self, answer: &Answer) {
        if self.resets >= 60_000 {
            *self = Self::start().await;
        }
        self.resets += 1;
        self.server.reset().await;
        Mock::given(any_request())
            .respond_with(template(answer))
            .mount(&self.server)
            .await;
    }
}

/// A read's outcome: a value, or an error that says what failed.
fn said<T, E: std::fmt::Display>(outcome: Result<T, E>) -> Result<(), String> {
    match outcome {
        Err(e) if e.to_string().trim().is_empty() => Err("an error with no message".into()),
        _ => Ok(()),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn hostile_scim_and_okta_answers_never_panic_or_hang() {
    let runtime = runtime();
    let harness = std::cell::RefCell::new(runtime.block_on(Harness::start()));
    // Link headers name this origin; a fresh server (every 60,000 cases) has another port,
    // where such a link is one to a foreign origin: refused, as the test wants too.
    let base = harness.borrow().server.uri();
    let config = ProptestConfig {
        cases: cases(300),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(answer in answer(base.clone()), paging in prop::sample::select(vec![Paging::Index, Paging::Cursor, Paging::Unpaged]), profile in 0..3usize)| {
        let mut h = harness.borrow_mut();
        runtime.block_on(async {
            h.serve(&answer).await;
            said(bounded(h.scim.list::<ScimUser>(Resource::Users, None, paging)).await?)?;
            said(bounded(h.scim.list::<ScimGroup>(Resource::Groups, None, paging)).await?)?;
            said(bounded(h.scim.get_one::<ScimUser>(Resource::Users, "u1")).await?)?;
            // The target reads record by record: what it cannot read it holds or leaves out.
            said(bounded(h.targets[profile].read()).await?)?;
            said(bounded(h.okta.read(&Scope::All)).await?)?;
            said(bounded(h.okta.read(&Scope::Groups(vec!["Engineering".into()]))).await?)?;
            Ok::<(), String>(())
        }).map_err(TestCaseError::fail)?;
    });
}
