//! A stateful fake JumpCloud (feature `fake`): a local HTTP server (wiremock) that keeps
//! users, groups, memberships, applications, associations, bulk jobs and scheduled states,
//! and answers the routes this client uses the way JumpCloud does — `{totalCount, results}`
//! in v1, bare arrays with `X-Total-Count` in v2, real `skip`/`limit` paging, `filter` with
//! `eq`, bulk jobs whose results are pending for a while before they are final.
//!
//! Knobs inject what real services do to clients: latency, 429 with `Retry-After`, 5xx (also
//! as an nginx HTML page), and [`Quirks`] of JumpCloud's paging — phantom records counted in
//! the totals but never returned, so pages come back short or empty before the end
//! (TheJumpCloud/support#369), and totals that promise more than there is.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use jumpcloud_api::fake::FakeJumpCloud;
//! use jumpcloud_api::models::NewSystemUser;
//!
//! let fake = FakeJumpCloud::start().await;
//! let ada = fake.add_user(NewSystemUser::new("ada", "ada@example.com").names("Ada", "Lovelace"));
//! let eng = fake.add_group("Engineering");
//! fake.add_member(&eng, &ada);
//!
//! let jc = fake.client();
//! let members = jc.user_groups().members(&eng).all().await?;
//! assert_eq!(members[0].to.id, ada.as_str());
//! # Ok::<(), jumpcloud_api::Error>(())
//! # }).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::client::Client;
use crate::ids::{ApplicationId, GroupId, JobId, OrgId, UserId};
use crate::models::{NewSystemUser, UserGroupInput};
use crate::retry::RetryPolicy;

/// The id of the one organisation the fake's key reaches until
/// [`FakeJumpCloud::add_organization`] adds others (`GET /api/organizations`).
pub const FAKE_ORG_ID: &str = "5f0c00000000000000000001";

/// A fault to inject into the next requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with this `Retry-After` (seconds).
    RateLimited(u64),
    /// This 5xx status, with a JSON body.
    ServerError(u16),
    /// This status with an HTML body, as the nginx in front of JumpCloud sends.
    HtmlError(u16),
}

/// How the fake's lists misbehave, as JumpCloud's do; all off by default.
///
/// A list's positions hold its records and, when asked, *phantoms*: positions counted in
/// the total and consumed by `skip`/`limit` that are never returned (JumpCloud's associations
/// to deleted objects). A client that pages by the number of items returned reads records
/// twice; one that ends on an empty page ends early.
///
/// ```
/// use jumpcloud_api::fake::Quirks;
/// let quirks = Quirks { phantom_every: Some(4), phantom_tail: 3, ..Quirks::default() };
/// # let _ = quirks;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quirks {
    /// Every n-th position of every list (n ≥ 2) is a phantom: pages come back short.
    pub phantom_every: Option<usize>,
    /// `(at, len)`: positions `at..at + len` of every list are phantoms; with `len` at least a
    /// page, pages come back empty before the end.
    pub phantom_run: Option<(usize, usize)>,
    /// Phantom positions after the last record: the total says more than there is.
    pub phantom_tail: usize,
    /// Every n-th request is answered 429 with `Retry-After: 0`.
    pub rate_limit_every: Option<u64>,
}

impl Quirks {
    fn shapes_lists(&self) -> bool {
        self.phantom_every.is_some() || self.phantom_run.is_some() || self.phantom_tail > 0
    }

    fn is_phantom(&self, position: usize) -> bool {
        self.phantom_every
            .is_some_and(|n| n >= 2 && position % n == n - 1)
            || self
                .phantom_run
                .is_some_and(|(at, len)| position >= at && position - at < len)
    }

    /// The list's length in positions when it holds `records` records (phantoms included).
    fn positions(&self, records: usize) -> usize {
        let (mut position, mut placed) = (0, 0);
        while placed < records {
            if !self.is_phantom(position) {
                placed += 1;
            }
            position += 1;
        }
        position + self.phantom_tail
    }

    /// How many records lie before `position`.
    fn records_before(&self, position: usize, records: usize) -> usize {
        let phantoms = (0..position).filter(|&p| self.is_phantom(p)).count();
        position.saturating_sub(phantoms).min(records)
    }
}

#[derive(Debug, Default)]
struct State {
    users: BTreeMap<String, Map<String, Value>>,
    groups: BTreeMap<String, Map<String, Value>>,
    /// group id → user ids.
    members: BTreeMap<String, BTreeSet<String>>,
    applications: BTreeMap<String, Map<String, Value>>,
    /// The organisations the key reaches (id, name); none added: one, [`FAKE_ORG_ID`].
    organizations: Vec<(String, String)>,
    /// application id → (target type, id).
    associations: BTreeMap<String, BTreeSet<(String, String)>>,
    jobs: BTreeMap<String, Job>,
    /// User ids in order, for O(1) skips on unfiltered lists; `None` after a change.
    user_order: Option<Vec<String>>,
    user_states: BTreeMap<String, Value>,
    next_id: u64,
    faults: Vec<Fault>,
    quirks: Quirks,
    latency: Duration,
    bulk_pending_polls: u32,
    requests: u64,
}

#[derive(Debug)]
struct Job {
    results: Vec<Value>,
    polls_left: u32,
}

impl State {
    /// JumpCloud-like 24-hex ids.
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!(
            "{:024x}",
            0x5f00_0000_0000_0000_0000_0000_u128 + u128::from(self.next_id)
        )
    }
}

/// A fake JumpCloud. See the [module documentation](self).
#[derive(Clone)]
pub struct FakeJumpCloud {
    server: Arc<MockServer>,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeJumpCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeJumpCloud")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeJumpCloud {
    /// Starts an empty fake on a free loopback port.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let fake = jumpcloud_api::fake::FakeJumpCloud::start().await;
    /// # let _ = fake;
    /// # Ok(()) }
    /// ```
    pub async fn start() -> Self {
        // No request recording: the fake serves long runs (benchmarks) and verifies nothing.
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        let state = Arc::new(Mutex::new(State::default()));
        Mock::given(any())
            .respond_with(Responder {
                state: state.clone(),
            })
            .mount(&server)
            .await;
        Self {
            server: Arc::new(server),
            state,
        }
    }

    /// The host root (`/api` and `/api/v2` below it).
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// println!("serving at {}", fake.uri());
    /// # Ok(()) }
    /// ```
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client for this fake, with fast retries.
    ///
    /// # Panics
    ///
    /// Never in practice: the fake's URL is always a valid loopback URL.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let groups = fake.client().user_groups().list().all().await?;
    /// # let _ = groups;
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> Client {
        Client::builder()
            .api_key("fake-jumpcloud-key")
            .base_url(self.uri())
            .retry(RetryPolicy::fast(5))
            .build()
            .expect("the fake's loopback URL is valid")
    }

    /// Adds a user as if it existed already; returns its id.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let ada = fake.add_user(jumpcloud_api::models::NewSystemUser::new("ada", "ada@example.com"));
    /// # let _ = ada;
    /// # Ok(()) }
    /// ```
    pub fn add_user(&self, user: NewSystemUser) -> UserId {
        let mut state = lock(&self.state);
        let id = state.id();
        let record = user_record(&id, serde_json::to_value(&user).unwrap_or_default());
        state.users.insert(id.clone(), record);
        state.user_order = None;
        UserId(id)
    }

    /// Adds a group; returns its id.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let eng = fake.add_group("Engineering");
    /// # let _ = eng;
    /// # Ok(()) }
    /// ```
    pub fn add_group(&self, name: &str) -> GroupId {
        let mut state = lock(&self.state);
        let id = state.id();
        let group = serde_json::to_value(UserGroupInput::new(name)).unwrap_or_default();
        state.groups.insert(id.clone(), group_record(&id, group));
        GroupId(id)
    }

    /// Adds a group with a description as if it existed already; returns its id.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let eng = fake.add_group_described("Engineering", "Builds the product");
    /// # let _ = eng;
    /// # Ok(()) }
    /// ```
    pub fn add_group_described(&self, name: &str, description: &str) -> GroupId {
        let mut state = lock(&self.state);
        let id = state.id();
        let input = UserGroupInput::new(name).description(description);
        let group = serde_json::to_value(input).unwrap_or_default();
        state.groups.insert(id.clone(), group_record(&id, group));
        GroupId(id)
    }

    /// Makes a user a member of a group.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let (ada, eng) = (fake.add_user(jumpcloud_api::models::NewSystemUser::new("ada", "a@x.io")), fake.add_group("Eng"));
    /// fake.add_member(&eng, &ada);
    /// # Ok(()) }
    /// ```
    pub fn add_member(&self, group: &GroupId, user: &UserId) {
        lock(&self.state)
            .members
            .entry(group.0.clone())
            .or_default()
            .insert(user.0.clone());
    }

    /// Removes a user from a group.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// # let (ada, eng) = (fake.add_user(jumpcloud_api::models::NewSystemUser::new("ada", "a@x.io")), fake.add_group("Eng"));
    /// fake.remove_member(&eng, &ada);
    /// # Ok(()) }
    /// ```
    pub fn remove_member(&self, group: &GroupId, user: &UserId) {
        if let Some(members) = lock(&self.state).members.get_mut(&group.0) {
            members.remove(&user.0);
        }
    }

    /// Deletes a user (and its memberships).
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// # let ada = fake.add_user(jumpcloud_api::models::NewSystemUser::new("ada", "a@x.io"));
    /// fake.remove_user(&ada);
    /// # Ok(()) }
    /// ```
    pub fn remove_user(&self, user: &UserId) {
        let mut state = lock(&self.state);
        state.users.remove(&user.0);
        state.user_order = None;
        for members in state.members.values_mut() {
            members.remove(&user.0);
        }
    }

    /// Deletes a group (and its memberships and associations).
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// # let eng = fake.add_group("Eng");
    /// fake.remove_group(&eng);
    /// # Ok(()) }
    /// ```
    pub fn remove_group(&self, group: &GroupId) {
        let mut state = lock(&self.state);
        state.groups.remove(&group.0);
        state.members.remove(&group.0);
        for edges in state.associations.values_mut() {
            edges.retain(|(_, id)| id != &group.0);
        }
    }

    /// Renames a group.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// # let eng = fake.add_group("Eng");
    /// fake.rename_group(&eng, "Engineering");
    /// # Ok(()) }
    /// ```
    pub fn rename_group(&self, group: &GroupId, name: &str) {
        if let Some(g) = lock(&self.state).groups.get_mut(&group.0) {
            g.insert("name".into(), json!(name));
        }
    }

    /// Sets a field of a user (`state`, `firstname`, `department`, …).
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// # let ada = fake.add_user(jumpcloud_api::models::NewSystemUser::new("ada", "a@x.io"));
    /// fake.set_user_field(&ada, "state", serde_json::json!("SUSPENDED"));
    /// # Ok(()) }
    /// ```
    pub fn set_user_field(&self, user: &UserId, field: &str, value: Value) {
        if let Some(u) = lock(&self.state).users.get_mut(&user.0) {
            u.insert(field.into(), value);
        }
    }

    /// Adds an organisation the key reaches (as for a multi-tenant key); returns its id. Until
    /// one is added, `GET /api/organizations` lists one organisation, [`FAKE_ORG_ID`].
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let acme = fake.add_organization("Acme");
    /// let orgs = fake.client().organizations().list().all().await?;
    /// assert_eq!(orgs[0].id, acme);
    /// # Ok(()) }
    /// ```
    pub fn add_organization(&self, name: &str) -> OrgId {
        let mut state = lock(&self.state);
        let id = state.id();
        state.organizations.push((id.clone(), name.to_owned()));
        OrgId(id)
    }

    /// Adds an application (catalogue `name`, shown `label`); returns its id.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let app = fake.add_application("aws", "AWS SSO");
    /// # let _ = app;
    /// # Ok(()) }
    /// ```
    pub fn add_application(&self, name: &str, label: &str) -> ApplicationId {
        let mut state = lock(&self.state);
        let id = state.id();
        let app = json!({"_id": id, "name": name, "displayLabel": label, "displayName": label, "active": true, "ssoUrl": format!("https://sso.jumpcloud.com/saml2/{name}")});
        if let Value::Object(map) = app {
            state.applications.insert(id.clone(), map);
        }
        ApplicationId(id)
    }

    /// Binds a group to an application.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// let (app, eng) = (fake.add_application("aws", "AWS SSO"), fake.add_group("Eng"));
    /// fake.associate_group(&app, &eng);
    /// # Ok(()) }
    /// ```
    pub fn associate_group(&self, app: &ApplicationId, group: &GroupId) {
        lock(&self.state)
            .associations
            .entry(app.0.clone())
            .or_default()
            .insert(("user_group".into(), group.0.clone()));
    }

    /// Unbinds a group from an application.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// # let (app, eng) = (fake.add_application("aws", "AWS SSO"), fake.add_group("Eng"));
    /// fake.dissociate_group(&app, &eng);
    /// # Ok(()) }
    /// ```
    pub fn dissociate_group(&self, app: &ApplicationId, group: &GroupId) {
        if let Some(edges) = lock(&self.state).associations.get_mut(&app.0) {
            edges.remove(&("user_group".to_owned(), group.0.clone()));
        }
    }

    /// The users, as JumpCloud would return them.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// println!("{} users", fake.users().len());
    /// # Ok(()) }
    /// ```
    pub fn users(&self) -> Vec<Value> {
        lock(&self.state)
            .users
            .values()
            .cloned()
            .map(Value::Object)
            .collect()
    }

    /// Every group as stored, for checking a test's outcome without the client.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// assert!(fake.groups().iter().all(|g| g["name"].is_string()));
    /// # Ok(()) }
    /// ```
    pub fn groups(&self) -> Vec<Value> {
        lock(&self.state)
            .groups
            .values()
            .cloned()
            .map(Value::Object)
            .collect()
    }

    /// The ids of the user groups bound to an application, as stored.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud, app: jumpcloud_api::ids::ApplicationId) -> jumpcloud_api::Result<()> {
    /// println!("{} groups bound", fake.bound_groups(&app).len());
    /// # Ok(()) }
    /// ```
    pub fn bound_groups(&self, app: &ApplicationId) -> Vec<GroupId> {
        lock(&self.state)
            .associations
            .get(&app.0)
            .into_iter()
            .flatten()
            .filter(|(kind, _)| kind == "user_group")
            .map(|(_, id)| GroupId(id.clone()))
            .collect()
    }

    /// The members of a group.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// # let eng = fake.add_group("Eng");
    /// assert!(fake.members(&eng).is_empty());
    /// # Ok(()) }
    /// ```
    pub fn members(&self, group: &GroupId) -> Vec<UserId> {
        lock(&self.state)
            .members
            .get(&group.0)
            .into_iter()
            .flatten()
            .cloned()
            .map(UserId)
            .collect()
    }

    /// Requests served so far.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// println!("{} requests served", fake.requests());
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> u64 {
        lock(&self.state).requests
    }

    /// Delays every answer.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// fake.set_latency(std::time::Duration::from_millis(150));
    /// # Ok(()) }
    /// ```
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    /// Answers the next requests with these faults, one each, before serving normally.
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::fake::Fault;
    /// fake.inject([Fault::RateLimited(1), Fault::ServerError(503)]);
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.state).faults.extend(faults);
    }

    /// Makes lists and requests misbehave as JumpCloud's do (see [`Quirks`]).
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// use jumpcloud_api::fake::Quirks;
    /// fake.set_quirks(Quirks { phantom_every: Some(3), rate_limit_every: Some(7), ..Quirks::default() });
    /// # Ok(()) }
    /// ```
    pub fn set_quirks(&self, quirks: Quirks) {
        lock(&self.state).quirks = quirks;
    }

    /// Bulk job results stay `pending` for this many polls (default 0).
    ///
    /// ``` no_run
    /// # async fn run(fake: jumpcloud_api::fake::FakeJumpCloud) -> jumpcloud_api::Result<()> {
    /// fake.set_bulk_pending_polls(3);
    /// # Ok(()) }
    /// ```
    pub fn set_bulk_pending_polls(&self, polls: u32) {
        lock(&self.state).bulk_pending_polls = polls;
    }
}

fn user_record(id: &str, input: Value) -> Map<String, Value> {
    let mut record = match input {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    record.remove("password");
    record.insert("_id".into(), json!(id));
    record.insert("id".into(), json!(id));
    let state = record
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("ACTIVATED")
        .to_owned();
    record.insert("state".into(), json!(state));
    record.insert("activated".into(), json!(state == "ACTIVATED"));
    record.insert("suspended".into(), json!(state == "SUSPENDED"));
    record
        .entry("created")
        .or_insert(json!("2026-11-22T00:00:00.000Z"));
    record
}

fn group_record(id: &str, input: Value) -> Map<String, Value> {
    let mut record = match input {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    record.insert("id".into(), json!(id));
    record.insert("type".into(), json!("user_group"));
    record.entry("membershipMethod").or_insert(json!("STATIC"));
    // JumpCloud answers a group created without a description with `"description": ""`.
    record.entry("description").or_insert(json!(""));
    record
}

struct Responder {
    state: Arc<Mutex<State>>,
}

fn rate_limited(retry_after_secs: u64) -> ResponseTemplate {
    error(429, "Too Many Requests").insert_header("retry-after", retry_after_secs.to_string())
}

fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"code": status, "message": message, "status": message}))
}

fn param<'a>(req: &'a Request, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn params(req: &Request, name: &str) -> Vec<String> {
    req.url
        .query_pairs()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// Keeps the records matching every `field:eq:value` / `field:$eq:value` condition.
fn matches(record: &Map<String, Value>, filters: &[String]) -> bool {
    filters.iter().all(|f| {
        let mut parts = f.splitn(3, ':');
        let (field, op, value) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let actual = record.get(field).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        match op.trim_start_matches('$') {
            "eq" => actual.as_deref() == Some(value),
            "ne" => actual.as_deref() != Some(value),
            "in" => value.split('|').any(|v| actual.as_deref() == Some(v)),
            "search" => actual.is_some_and(|a| a.to_lowercase().contains(&value.to_lowercase())),
            _ => true,
        }
    })
}

/// The records a list request gets: `from..to` of the list's records, and the total to
/// report (phantoms included).
#[derive(Debug, Clone, Copy)]
struct Window {
    from: usize,
    to: usize,
    total: usize,
}

impl Window {
    fn take(self) -> usize {
        self.to - self.from
    }
}

/// The window of a list request (`skip`, `limit`) over a list of `records` records.
fn window(state: &State, req: &Request, records: usize) -> Window {
    let skip = param(req, "skip")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0usize);
    let limit = param(req, "limit")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10usize)
        .min(100);
    let quirks = &state.quirks;
    if !quirks.shapes_lists() {
        let from = skip.min(records);
        let to = skip.saturating_add(limit).min(records);
        return Window {
            from,
            to,
            total: records,
        };
    }
    let positions = quirks.positions(records);
    Window {
        from: quirks.records_before(skip.min(positions), records),
        to: quirks.records_before(skip.saturating_add(limit).min(positions), records),
        total: positions,
    }
}

/// One page of the `records` records `iter` yields, cloning only that page.
fn page<'a>(
    state: &State,
    req: &Request,
    records: usize,
    iter: impl Iterator<Item = &'a Map<String, Value>>,
) -> (usize, Vec<Value>) {
    let w = window(state, req, records);
    let items = iter
        .skip(w.from)
        .take(w.take())
        .map(|m| Value::Object(m.clone()))
        .collect();
    (w.total, items)
}

fn v1_page(total: usize, items: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"totalCount": total, "results": items}))
}

fn v2_page(total: usize, items: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("x-total-count", total.to_string())
        .set_body_json(items)
}

/// A v1 list of computed items.
fn v1_list(state: &State, req: &Request, items: Vec<Value>) -> ResponseTemplate {
    let w = window(state, req, items.len());
    v1_page(
        w.total,
        items.into_iter().skip(w.from).take(w.take()).collect(),
    )
}

/// A v2 list of computed items.
fn v2_list(state: &State, req: &Request, items: Vec<Value>) -> ResponseTemplate {
    let w = window(state, req, items.len());
    v2_page(
        w.total,
        items.into_iter().skip(w.from).take(w.take()).collect(),
    )
}

fn graph(id: &str, kind: &str, via: &[(&str, &str)]) -> Value {
    let path: Vec<Value> = via
        .iter()
        .map(|(i, k)| json!({"to": {"id": i, "type": k}}))
        .collect();
    json!({"id": id, "type": kind, "paths": [path]})
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut state = lock(&self.state);
        state.requests += 1;
        let latency = state.latency;
        let throttled = state
            .quirks
            .rate_limit_every
            .is_some_and(|n| n > 0 && state.requests.is_multiple_of(n));
        let answer = if throttled {
            rate_limited(0)
        } else if state.faults.is_empty() {
            handle(&mut state, req)
        } else {
            match state.faults.remove(0) {
                Fault::RateLimited(secs) => rate_limited(secs),
                Fault::ServerError(status) => error(status, "injected server error"),
                Fault::HtmlError(status) => ResponseTemplate::new(status).set_body_raw(
                    format!(
                        "<html>\r\n<head><title>{status} Internal Server Error</title></head>\r\n\
                         <body>\r\n<center><h1>{status} Internal Server Error</h1></center>\r\n\
                         <hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
                    ),
                    "text/html",
                ),
            }
        };
        if latency.is_zero() {
            answer
        } else {
            answer.set_delay(latency)
        }
    }
}

fn body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

#[allow(clippy::too_many_lines)]
fn handle(state: &mut State, req: &Request) -> ResponseTemplate {
    if req.headers.get("x-api-key").is_none() {
        return error(401, "Unauthorized: missing x-api-key");
    }
    let path = req.url.path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method.as_str();
    match (method, segments.as_slice()) {
        // ---- v1 ----
        ("GET", ["api", "systemusers"]) => {
            let filters = params(req, "filter");
            if filters.is_empty() {
                // Sorted by id, as the client asks: a positional window over the id index.
                if state.user_order.is_none() {
                    state.user_order = Some(state.users.keys().cloned().collect());
                }
                let state = &*state;
                let order = state.user_order.as_deref().unwrap_or_default();
                let w = window(state, req, order.len());
                let items = order[w.from..w.to]
                    .iter()
                    .filter_map(|id| state.users.get(id))
                    .map(|u| Value::Object(u.clone()))
                    .collect();
                return v1_page(w.total, items);
            }
            let total = state
                .users
                .values()
                .filter(|u| matches(u, &filters))
                .count();
            let (total, items) = page(
                state,
                req,
                total,
                state.users.values().filter(|u| matches(u, &filters)),
            );
            v1_page(total, items)
        }
        ("POST", ["api", "systemusers"]) => {
            let input = body(req);
            let name = input
                .get("username")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let email = input
                .get("email")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if name.is_empty() || email.is_empty() {
                return error(400, "Bad Request: username and email are required");
            }
            if state
                .users
                .values()
                .any(|u| u.get("username").and_then(Value::as_str) == Some(name.as_str()))
            {
                return error(400, "User already exists or Bad Request");
            }
            let id = state.id();
            let record = user_record(&id, input);
            state.users.insert(id, record.clone());
            state.user_order = None;
            ResponseTemplate::new(200).set_body_json(Value::Object(record))
        }
        ("GET", ["api", "systemusers", id]) => match state.users.get(*id) {
            Some(u) => ResponseTemplate::new(200).set_body_json(Value::Object(u.clone())),
            None => error(404, "Not Found"),
        },
        ("PUT", ["api", "systemusers", id]) => {
            let Some(user) = state.users.get_mut(*id) else {
                return error(404, "Not Found");
            };
            if let Value::Object(fields) = body(req) {
                for (k, v) in fields {
                    user.insert(k, v);
                }
            }
            let record = user_record(id, Value::Object(user.clone()));
            state.users.insert((*id).to_owned(), record.clone());
            ResponseTemplate::new(200).set_body_json(Value::Object(record))
        }
        ("DELETE", ["api", "systemusers", id]) => match state.users.remove(*id) {
            Some(u) => {
                for members in state.members.values_mut() {
                    members.remove(*id);
                }
                state.user_order = None;
                ResponseTemplate::new(200).set_body_json(Value::Object(u))
            }
            None => error(404, "Not Found"),
        },
        ("POST", ["api", "systemusers", id, "state", "activate"]) => {
            match state.users.get(*id).cloned() {
                Some(mut u) => {
                    u.insert("state".into(), json!("ACTIVATED"));
                    let record = user_record(id, Value::Object(u));
                    state.users.insert((*id).to_owned(), record);
                    ResponseTemplate::new(200)
                }
                None => error(404, "Not Found"),
            }
        }
        ("POST", ["api", "search", "systemusers"]) => {
            let query = body(req);
            let conditions: Vec<Map<String, Value>> = query
                .pointer("/filter/and")
                .or_else(|| query.pointer("/filter/or"))
                .and_then(Value::as_array)
                .map(|c| c.iter().filter_map(|v| v.as_object().cloned()).collect())
                .unwrap_or_default();
            let any_of = query.pointer("/filter/or").is_some();
            let term = query
                .pointer("/searchFilter/searchTerm")
                .and_then(Value::as_str)
                .map(str::to_lowercase);
            let users: Vec<Value> = state
                .users
                .values()
                .filter(|u| {
                    let hit = |c: &Map<String, Value>| c.iter().all(|(k, v)| u.get(k) == Some(v));
                    let by_filter = conditions.is_empty()
                        || if any_of {
                            conditions.iter().any(hit)
                        } else {
                            conditions.iter().all(hit)
                        };
                    let by_term = term.as_ref().is_none_or(|t| {
                        u.values()
                            .any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(t)))
                    });
                    by_filter && by_term
                })
                .cloned()
                .map(Value::Object)
                .collect();
            v1_list(state, req, users)
        }
        ("GET", ["api", "organizations"]) => {
            let orgs: Vec<Value> = if state.organizations.is_empty() {
                vec![json!({"_id": FAKE_ORG_ID, "displayName": "Fake organisation", "logoUrl": ""})]
            } else {
                state
                    .organizations
                    .iter()
                    .map(|(id, name)| json!({"_id": id, "displayName": name, "logoUrl": ""}))
                    .collect()
            };
            v1_list(state, req, orgs)
        }
        ("GET", ["api", "applications"]) => {
            let apps: Vec<Value> = state
                .applications
                .values()
                .cloned()
                .map(Value::Object)
                .collect();
            v1_list(state, req, apps)
        }
        ("GET", ["api", "applications", id]) => match state.applications.get(*id) {
            Some(a) => ResponseTemplate::new(200).set_body_json(Value::Object(a.clone())),
            None => error(404, "Not Found"),
        },
        // ---- v2: groups ----
        ("GET", ["api", "v2", "usergroups"]) => {
            let filters = params(req, "filter");
            let total = if filters.is_empty() {
                state.groups.len()
            } else {
                state
                    .groups
                    .values()
                    .filter(|g| matches(g, &filters))
                    .count()
            };
            let (total, items) = page(
                state,
                req,
                total,
                state.groups.values().filter(|g| matches(g, &filters)),
            );
            v2_page(total, items)
        }
        ("POST", ["api", "v2", "usergroups"]) => {
            let input = body(req);
            let name = input
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if name.is_empty() {
                return error(400, "name is required");
            }
            if state
                .groups
                .values()
                .any(|g| g.get("name").and_then(Value::as_str) == Some(name.as_str()))
            {
                return error(409, "A group with this name already exists");
            }
            let id = state.id();
            let record = group_record(&id, input);
            state.groups.insert(id, record.clone());
            ResponseTemplate::new(201).set_body_json(Value::Object(record))
        }
        ("GET", ["api", "v2", "usergroups", id]) => match state.groups.get(*id) {
            Some(g) => ResponseTemplate::new(200).set_body_json(Value::Object(g.clone())),
            None => error(404, "Not Found"),
        },
        ("PUT", ["api", "v2", "usergroups", id]) => {
            if !state.groups.contains_key(*id) {
                return error(404, "Not Found");
            }
            let record = group_record(id, body(req));
            state.groups.insert((*id).to_owned(), record.clone());
            ResponseTemplate::new(200).set_body_json(Value::Object(record))
        }
        ("DELETE", ["api", "v2", "usergroups", id]) => match state.groups.remove(*id) {
            Some(_) => {
                state.members.remove(*id);
                for edges in state.associations.values_mut() {
                    edges.retain(|(_, g)| g != id);
                }
                ResponseTemplate::new(204)
            }
            None => error(404, "Not Found"),
        },
        ("GET", ["api", "v2", "usergroups", id, "members"]) => {
            if !state.groups.contains_key(*id) {
                return error(404, "Not Found");
            }
            let edges: Vec<Value> = state
                .members
                .get(*id)
                .into_iter()
                .flatten()
                .map(|u| json!({"to": {"id": u, "type": "user"}}))
                .collect();
            v2_list(state, req, edges)
        }
        ("GET", ["api", "v2", "usergroups", id, "membership"]) => {
            let users: Vec<Value> = state
                .members
                .get(*id)
                .into_iter()
                .flatten()
                .map(|u| graph(u, "user", &[(u, "user")]))
                .collect();
            v2_list(state, req, users)
        }
        ("POST", ["api", "v2", "usergroups", id, "members"]) => {
            let op = body(req);
            let (Some(verb), Some(user)) = (
                op.get("op").and_then(Value::as_str),
                op.get("id").and_then(Value::as_str),
            ) else {
                return error(400, "op and id are required");
            };
            if !state.groups.contains_key(*id) || !state.users.contains_key(user) {
                return error(404, "Not Found");
            }
            let members = state.members.entry((*id).to_owned()).or_default();
            // As JumpCloud: 409 to adding a member, 404 to removing a non-member.
            match verb {
                "add" if !members.insert(user.to_owned()) => error(409, "Already Exists"),
                "remove" if !members.remove(user) => error(404, "Not Found"),
                "add" | "remove" => ResponseTemplate::new(204),
                _ => error(400, "op must be add, remove or update"),
            }
        }
        ("GET", ["api", "v2", "users", id, "memberof"]) => {
            let groups: Vec<Value> = state
                .members
                .iter()
                .filter(|(_, m)| m.contains(*id))
                .map(|(g, _)| graph(g, "user_group", &[(g, "user_group")]))
                .collect();
            v2_list(state, req, groups)
        }
        // ---- v2: applications ----
        ("GET", ["api", "v2", "applications", id, "associations"]) => {
            let target = param(req, "targets")
                .map(|t| t.into_owned())
                .unwrap_or_default();
            if target.is_empty() {
                return error(400, "targets is required");
            }
            let edges: Vec<Value> = state
                .associations
                .get(*id)
                .into_iter()
                .flatten()
                .filter(|(kind, _)| *kind == target)
                .map(|(kind, to)| json!({"to": {"id": to, "type": kind}}))
                .collect();
            v2_list(state, req, edges)
        }
        ("POST", ["api", "v2", "applications", id, "associations"]) => {
            let op = body(req);
            let (Some(verb), Some(kind), Some(to)) = (
                op.get("op").and_then(Value::as_str),
                op.get("type").and_then(Value::as_str),
                op.get("id").and_then(Value::as_str),
            ) else {
                return error(400, "op, type and id are required");
            };
            if !state.applications.contains_key(*id) {
                return error(404, "Not Found");
            }
            let edges = state.associations.entry((*id).to_owned()).or_default();
            let edge = (kind.to_owned(), to.to_owned());
            match verb {
                "add" if !edges.insert(edge.clone()) => error(409, "Already Exists"),
                "remove" if !edges.remove(&edge) => error(404, "Not Found"),
                "add" | "remove" => ResponseTemplate::new(204),
                _ => error(400, "op must be add, remove or update"),
            }
        }
        ("GET", ["api", "v2", "applications", id, "usergroups"]) => {
            let groups: Vec<Value> = state
                .associations
                .get(*id)
                .into_iter()
                .flatten()
                .filter(|(kind, g)| kind == "user_group" && state.groups.contains_key(g))
                .map(|(_, g)| graph(g, "user_group", &[(g, "user_group")]))
                .collect();
            v2_list(state, req, groups)
        }
        ("GET", ["api", "v2", "applications", id, "users"]) => {
            let mut users = BTreeMap::new();
            for (kind, target) in state.associations.get(*id).into_iter().flatten() {
                if kind == "user" {
                    users.insert(target.clone(), graph(target, "user", &[(target, "user")]));
                } else {
                    for u in state.members.get(target).into_iter().flatten() {
                        users.entry(u.clone()).or_insert_with(|| {
                            graph(u, "user", &[(target, "user_group"), (u, "user")])
                        });
                    }
                }
            }
            v2_list(state, req, users.into_values().collect())
        }
        // ---- v2: bulk ----
        ("POST" | "PATCH", ["api", "v2", "bulk", "users"]) => {
            let Value::Array(items) = body(req) else {
                return error(400, "Request body must be array");
            };
            let job = state.id();
            let mut results = Vec::new();
            for item in items {
                let result_id = state.id();
                if method == "POST" {
                    let name = item
                        .get("username")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let taken = state
                        .users
                        .values()
                        .any(|u| u.get("username").and_then(Value::as_str) == Some(name.as_str()));
                    if name.is_empty() || taken {
                        results.push(json!({"id": result_id, "status": "failed", "statusMsg": if taken { "user already exists" } else { "username is required" }, "meta": {"username": name}}));
                        continue;
                    }
                    let id = state.id();
                    let record = user_record(&id, item);
                    state.users.insert(id.clone(), record);
                    state.user_order = None;
                    results.push(json!({"id": result_id, "status": "finished", "meta": {"username": name}, "persistedFields": {"_id": id, "username": name}}));
                } else {
                    let id = item
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    match state.users.get_mut(&id) {
                        Some(user) => {
                            if let Value::Object(fields) = item {
                                user.extend(fields.into_iter().filter(|(k, _)| k != "id"));
                            }
                            let name = user.get("username").cloned().unwrap_or(Value::Null);
                            results.push(json!({"id": result_id, "status": "finished", "meta": {"username": name}, "persistedFields": {"_id": id, "username": name}}));
                        }
                        None => results.push(json!({"id": result_id, "status": "failed", "statusMsg": format!("user {id} not found")})),
                    }
                }
            }
            let polls_left = state.bulk_pending_polls;
            state.jobs.insert(
                job.clone(),
                Job {
                    results,
                    polls_left,
                },
            );
            ResponseTemplate::new(200).set_body_json(json!({"jobId": JobId(job)}))
        }
        ("GET", ["api", "v2", "bulk", "users", job, "results"]) => {
            let Some(j) = state.jobs.get_mut(*job) else {
                return error(404, "Not Found");
            };
            let results = if j.polls_left > 0 {
                j.polls_left -= 1;
                j.results
                    .iter()
                    .map(|r| {
                        let mut pending = r.clone();
                        pending["status"] = json!("pending");
                        if let Some(map) = pending.as_object_mut() {
                            map.remove("persistedFields");
                        }
                        pending
                    })
                    .collect()
            } else {
                j.results.clone()
            };
            v2_list(state, req, results)
        }
        ("GET", ["api", "v2", "bulk", "userstates"]) => {
            let user = param(req, "userid").map(|u| u.into_owned());
            let states: Vec<Value> = state
                .user_states
                .values()
                .filter(|s| {
                    user.as_deref()
                        .is_none_or(|u| s.get("systemUserId").and_then(Value::as_str) == Some(u))
                })
                .cloned()
                .collect();
            v2_list(state, req, states)
        }
        ("POST", ["api", "v2", "bulk", "userstates"]) => {
            let input = body(req);
            let when = input.get("start_date").cloned().unwrap_or(Value::Null);
            let target = input.get("state").cloned().unwrap_or(Value::Null);
            let users: Vec<String> = input
                .get("user_ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let mut created = Vec::new();
            for user in users {
                let id = state.id();
                let record = json!({"scheduledJobId": id, "systemUserId": user, "state": target, "scheduledDate": when});
                state.user_states.insert(id, record.clone());
                created.push(record);
            }
            ResponseTemplate::new(201).set_body_json(created)
        }
        ("DELETE", ["api", "v2", "bulk", "userstates", id]) => {
            match state.user_states.remove(*id) {
                Some(_) => ResponseTemplate::new(204),
                None => error(404, "Not Found"),
            }
        }
        _ => error(
            404,
            &format!("the fake JumpCloud does not serve {method} {path}"),
        ),
    }
}
