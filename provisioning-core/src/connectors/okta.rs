//! Okta as a source (seed workflow 004): named groups and their users, read with an API
//! token (`Authorization: SSWS …`) kept in a `SecretString`.
//!
//! - **Groups by exact name.** Okta's group query `q` matches by prefix ("Eng" finds
//!   "Engineering" and "Eng-Contractors"); the source keeps only exact (case-sensitive)
//!   matches and requires exactly one per requested name, or fails naming the candidates.
//! - **Paging** follows the `Link: <…>; rel="next"` header verbatim to the end (only to the
//!   same origin: the token is never sent elsewhere).
//! - **Rate limits**: a 429 is waited out until `X-Rate-Limit-Reset`, measured against the
//!   response's `Date` header; when `X-Rate-Limit-Remaining` reaches 0 the next request waits
//!   for the reset instead of being refused.
//! - **Users** come with their group membership listing (`/groups/{id}/users`), so a read
//!   costs one group query per name and one call per 200 members — never a call per user.
//! - **Deleted groups**: a group the engine synced earlier that a read no longer returns is
//!   deleted at the target only when [`Source::confirm_gone`] confirms it:
//!   `GET /api/v1/groups/{id}` answers 404. Any other answer keeps it (it has only left the
//!   configured scope).
//!
//! | Okta | engine |
//! |---|---|
//! | `id` | `id` |
//! | `profile.login` | `user_name` |
//! | `profile.firstName`, `profile.lastName`, `profile.displayName` | `given_name`, `family_name`, `display_name` |
//! | `profile.email` | the one primary `work` email |
//! | `profile.primaryPhone`, `profile.mobilePhone` | phone numbers of kind `work`, `mobile` |
//! | `status` ACTIVE, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED | `active = true` |
//! | `status` SUSPENDED, DEPROVISIONED | `active = false` (deactivated at the target) |
//! | `status` STAGED, PROVISIONED (activated by an admin, activation not completed) | held: [`Hold::Staged`] (not created at the target; an existing twin is left as it is) |
//! | any other `status` | held: [`Hold::UnknownState`] naming the value (the user and its twin are skipped) |
//! | other string `profile` fields (`department`, `costCenter`, …) | `attributes` |
//!
//! A held user keeps `active = true`: the planner acts on the hold, never on `active`, so a
//! status the engine does not know can never read as "inactive".
//!
//! Records Okta sends that cannot be read are never taken for absent ones (an absent user
//! is deprovisioned, an absent member removed), and never fail the read of the others:
//!
//! | unreadable record | read as |
//! |---|---|
//! | a group member, with an `id` | the membership, and a user held by its id ([`Hold::Unreadable`]: its target twin is left as it is) |
//! | a group of `scope = all`, with an `id` | out of scope: left as it is at the target |
//! | any record without an `id` | the read fails, naming the list: nothing is planned from it |
//!
//! A group looked up by name must be read: a candidate that cannot be read fails the read.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use provisioning_core::connector::Source;
//! use provisioning_core::connectors::okta::OktaSource;
//! use provisioning_core::connectors::secrets::SecretRef;
//! use provisioning_core::model::Scope;
//!
//! let token = SecretRef::Ssm("/sync/okta-token".into()).resolve(None).await?;
//! let okta = OktaSource::builder("https://acme.okta.com", token).build()?;
//! let snapshot = okta.read(&Scope::Groups(vec!["Platform-Engineering".into()])).await?;
//! println!("{} users", snapshot.users.len());
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, LINK};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::connector::{ConnectorError, ErrorClass, Source};
use crate::connectors::confirm_gone_by_lookup;
use crate::connectors::http::{self, Failure, ReadRetry, Seen};
use crate::connectors::records::{Records, read_each};
use crate::model::{Email, Group, Hold, Phone, Scope, Snapshot, User};
use crate::util::lock;

/// Members requested per page (the usual maximum of `/groups/{id}/users`).
pub const PAGE_LIMIT: u32 = 200;
/// The most pages one list follows before it is treated as a server fault.
const MAX_PAGES: usize = 100_000;

/// Builds an [`OktaSource`].
pub struct OktaSourceBuilder {
    org_url: String,
    token: SecretString,
    retry: ReadRetry,
}

impl fmt::Debug for OktaSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OktaSourceBuilder")
            .field("org_url", &self.org_url)
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl OktaSourceBuilder {
    /// Read retries with millisecond backoff, for tests against mocks.
    #[must_use]
    pub fn fast_retries(mut self) -> Self {
        self.retry = self.retry.fast();
        self
    }

    /// The source.
    ///
    /// # Errors
    ///
    /// [`ErrorClass::Invalid`] when the org URL is not an `http(s)` URL or the token cannot
    /// travel in a header.
    pub fn build(self) -> Result<OktaSource, ConnectorError> {
        let invalid = |m: String| ConnectorError::new(ErrorClass::Invalid, m);
        let mut base = Url::parse(self.org_url.trim()).map_err(|e| {
            invalid(format!(
                "the Okta org URL {:?} is not a URL ({e}); expected e.g. https://acme.okta.com",
                self.org_url
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid(format!(
                "the Okta org URL {:?} must be an http or https URL",
                self.org_url
            )));
        }
        if let Some(refusal) = crate::connectors::http::refuse_insecure("the Okta org URL", &base) {
            return Err(invalid(refusal));
        }
        base.set_path("/api/v1/");
        base.set_query(None);
        let mut auth = HeaderValue::from_str(&format!("SSWS {}", self.token.expose_secret()))
            .map_err(|_| invalid("the Okta token holds characters a header cannot carry".into()))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("identity-provisioning/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            // The API token goes to the org URL's origin only.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| invalid(format!("could not build the HTTP client: {e}")))?;
        Ok(OktaSource {
            http,
            base,
            retry: self.retry,
            exhausted_until: Mutex::new(None),
        })
    }
}

/// Okta as a [`Source`]. See the [module documentation](self).
pub struct OktaSource {
    http: reqwest::Client,
    base: Url,
    retry: ReadRetry,
    /// When the rate-limit window is used up: the next request waits until then.
    exhausted_until: Mutex<Option<SystemTime>>,
}

impl fmt::Debug for OktaSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OktaSource")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct OktaGroup {
    id: String,
    #[serde(default)]
    profile: GroupProfile,
}

#[derive(Debug, Default, Deserialize)]
struct GroupProfile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OktaUser {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    profile: Map<String, Value>,
}

impl OktaSource {
    /// A builder for the org at `org_url` (`https://<org>.okta.com`), authenticating with
    /// the API token `token`.
    ///
    /// ```
    /// let okta = provisioning_core::connectors::okta::OktaSource::builder("https://acme.okta.com", "00abc-token".into())
    ///     .build()
    ///     .unwrap();
    /// assert!(!format!("{okta:?}").contains("00abc"));
    /// ```
    pub fn builder(org_url: impl Into<String>, token: SecretString) -> OktaSourceBuilder {
        OktaSourceBuilder {
            org_url: org_url.into(),
            token,
            retry: ReadRetry {
                // Okta's windows are one minute long.
                max_wait: Duration::from_secs(90),
                ..ReadRetry::default()
            },
        }
    }

    /// Every item of a list, following `Link rel="next"` to the end, and the ids of the
    /// records that could not be read; `what` names the list in messages.
    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        first: Url,
        what: &str,
    ) -> Result<Records<T>, ConnectorError> {
        let mut items = Records::default();
        let mut next = Some(first);
        let mut seen = BTreeSet::new();
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else {
                return Ok(items);
            };
            if !seen.insert(url.to_string()) {
                return Err(fatal(format!(
                    "Okta repeated a page link while listing {}; stopped paging",
                    url.path()
                )));
            }
            let (page, headers): (Vec<Value>, HeaderMap) = self.get(&url).await?;
            items.extend(read_each(page, what)?);
            next = next_link(&headers, &self.base)?;
        }
        Err(fatal(format!("more than {MAX_PAGES} pages from Okta")))
    }

    /// A GET with Okta's rate-limit handling and read retries.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<(T, HeaderMap), ConnectorError> {
        let path = url.path();
        http::read_with_retries(&self.retry, "Okta", path, || async move {
            self.wait_for_window().await;
            let response =
                self.http
                    .get(url.clone())
                    .send()
                    .await
                    .map_err(|e| Failure::Retryable {
                        seen: Seen::NoAnswer,
                        wait: None,
                        error: transient(format!("Okta: could not reach {path}"), e.without_url()),
                    })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            self.note_window(&headers);
            if response.status().is_success() {
                let bytes = http::read_capped(response, http::MAX_BODY_BYTES)
                    .await
                    .map_err(|e| {
                        Failure::Final(match e {
                            http::BodyError::Failed(e) => {
                                transient(format!("Okta: reading GET {path}"), e.without_url())
                            }
                            http::BodyError::TooLarge => fatal(format!(
                                "Okta: the answer to GET {path} is longer than {} bytes and \
                                 was not read",
                                http::MAX_BODY_BYTES
                            )),
                        })
                    })?;
                let value = serde_json::from_slice(&bytes).map_err(|e| {
                    Failure::Final(
                        fatal(format!("Okta: GET {path} did not answer the expected JSON"))
                            .with_source(e),
                    )
                })?;
                return Ok((value, headers));
            }
            let wait = (status == 429)
                .then(|| http::okta_reset_wait(&headers, SystemTime::now()))
                .flatten();
            let body: Value = http::read_capped(response, http::MAX_BODY_BYTES)
                .await
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            let summary = body["errorSummary"].as_str().unwrap_or("no error summary");
            let code = body["errorCode"].as_str().unwrap_or("-");
            let hint = match status {
                401 => " (the API token is wrong, expired or revoked: create a new one)",
                403 => " (the token's admin lacks read access to groups and users)",
                _ => "",
            };
            let error = ConnectorError::new(
                http::class_of(status),
                format!("Okta: GET {path} failed with HTTP {status} {code}: {summary}{hint}"),
            )
            .with_retry_after(wait);
            Err(Failure::Retryable {
                seen: Seen::Status(status),
                wait,
                error,
            })
        })
        .await
    }

    /// Remembers a used-up window (`X-Rate-Limit-Remaining: 0`) until its reset.
    fn note_window(&self, headers: &HeaderMap) {
        let remaining = headers
            .get("x-rate-limit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if remaining == Some(0)
            && let Some(wait) = http::okta_reset_wait(headers, SystemTime::now())
        {
            *lock(&self.exhausted_until) = Some(SystemTime::now() + wait);
        }
    }

    async fn wait_for_window(&self) {
        let until = lock(&self.exhausted_until).take();
        if let Some(wait) = until.and_then(|t| t.duration_since(SystemTime::now()).ok()) {
            tracing::info!(
                ?wait,
                "Okta rate-limit window used up; waiting for its reset"
            );
            tokio::time::sleep(wait.min(self.retry.max_wait)).await;
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.join(path).unwrap_or_else(|_| self.base.clone());
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// The one group named exactly `name`.
    async fn group_named(&self, name: &str) -> Result<OktaGroup, ConnectorError> {
        let url = self.url("groups", &[("q", name), ("limit", "200")]);
        let (candidates, _): (Vec<OktaGroup>, _) = self.get(&url).await?;
        let mut exact: Vec<OktaGroup> = Vec::new();
        let mut others = Vec::new();
        for group in candidates {
            if group.profile.name == name {
                exact.push(group);
            } else {
                others.push(group.profile.name);
            }
        }
        match exact.len() {
            1 => Ok(exact.remove(0)),
            0 => Err(ConnectorError::new(
                ErrorClass::Invalid,
                format!(
                    "no Okta group is named exactly {name:?}{}; check the group names in the configuration",
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (names starting so: {})", others.join(", "))
                    }
                ),
            )),
            n => Err(ConnectorError::new(
                ErrorClass::Invalid,
                format!(
                    "{n} Okta groups are named exactly {name:?} (ids {}); rename all but one in Okta",
                    exact
                        .iter()
                        .map(|g| g.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// The `rel="next"` link, if any; refused when it leaves the org's origin.
fn next_link(headers: &HeaderMap, base: &Url) -> Result<Option<Url>, ConnectorError> {
    for value in headers.get_all(LINK) {
        let Ok(text) = value.to_str() else { continue };
        for link in text.split(',') {
            let mut parts = link.split(';');
            let target = parts.next().unwrap_or_default().trim();
            let is_next = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if !is_next {
                continue;
            }
            let target = target.trim_start_matches('<').trim_end_matches('>');
            let url = Url::parse(target)
                .map_err(|e| fatal(format!("Okta sent an unreadable next link ({e})")))?;
            if url.origin() != base.origin() {
                return Err(fatal(format!(
                    "Okta's next link points to another host ({}); not following it with the token",
                    url.host_str().unwrap_or("?")
                )));
            }
            return Ok(Some(url));
        }
    }
    Ok(None)
}

fn fatal(message: String) -> ConnectorError {
    ConnectorError::new(ErrorClass::Fatal, message)
}

fn transient(message: String, source: reqwest::Error) -> ConnectorError {
    ConnectorError::new(ErrorClass::Transient, message).with_source(source)
}

/// Okta statuses of a person who may sign in (or get back in by themselves).
const ACTIVE_STATUSES: [&str; 4] = ["ACTIVE", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED"];
/// Okta statuses that mean access was taken away.
const INACTIVE_STATUSES: [&str; 2] = ["SUSPENDED", "DEPROVISIONED"];
/// Okta statuses of a person who has not completed activation yet.
const STAGED_STATUSES: [&str; 2] = ["STAGED", "PROVISIONED"];

/// Profile fields mapped to named engine fields rather than copied as attributes.
const MAPPED_FIELDS: [&str; 7] = [
    "login",
    "firstName",
    "lastName",
    "displayName",
    "email",
    "primaryPhone",
    "mobilePhone",
];

fn user_from(okta: OktaUser) -> User {
    let text = |field: &str| {
        okta.profile
            .get(field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut user = User::new(&okta.id, text("login").unwrap_or_default());
    user.given_name = text("firstName");
    user.family_name = text("lastName");
    user.display_name = text("displayName");
    user.emails = text("email").map(Email::primary_work).into_iter().collect();
    for (field, kind) in [("primaryPhone", "work"), ("mobilePhone", "mobile")] {
        if let Some(value) = text(field) {
            user.phone_numbers.push(Phone {
                value,
                kind: Some(kind.into()),
            });
        }
    }
    let status = okta.status.as_str();
    if ACTIVE_STATUSES.contains(&status) {
        user.active = true;
    } else if INACTIVE_STATUSES.contains(&status) {
        user.active = false;
    } else if STAGED_STATUSES.contains(&status) {
        user.hold = Some(Hold::Staged);
    } else {
        user.hold = Some(Hold::UnknownState {
            value: okta.status.clone(),
        });
    }
    for (name, value) in &okta.profile {
        if let (false, Some(value)) = (MAPPED_FIELDS.contains(&name.as_str()), value.as_str()) {
            user.attributes.insert(name.clone(), value.to_owned());
        }
    }
    user
}

#[async_trait]
impl Source for OktaSource {
    /// Looks each group up by id (`GET /api/v1/groups/{id}`, a few at a time, with the read
    /// retries and rate-limit waits of every other call): a 404 confirms it is gone, any
    /// JSON answer keeps it. The id travels as one path segment, percent-encoded.
    ///
    /// ```no_run
    /// # async fn run(okta: provisioning_core::connectors::okta::OktaSource) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::collections::BTreeSet;
    /// use provisioning_core::connector::Source;
    ///
    /// let asked = BTreeSet::from(["00g1abcd".to_string()]);
    /// let gone = okta.confirm_gone(&asked).await?;
    /// println!("{} of {} deleted in Okta", gone.len(), asked.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Any failure of a lookup other than a 404 (after the read retries); the sync stops
    /// before planning.
    async fn confirm_gone(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, ConnectorError> {
        confirm_gone_by_lookup(ids.iter().cloned(), |id| async move {
            let mut url = self.url("groups", &[]);
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.push(&id);
            }
            match self.get::<Value>(&url).await {
                Ok(_) => Ok(false),
                Err(err) if err.class() == ErrorClass::NotFound => Ok(true),
                Err(err) => Err(ConnectorError::new(
                    err.class(),
                    format!(
                        "Okta: looking up group {id} to learn whether it was deleted \
                         (nothing is deleted until every lookup answers)"
                    ),
                )
                .with_retry_after(err.retry_after())
                .with_source(err)),
            }
        })
        .await
    }

    async fn read(&self, scope: &Scope) -> Result<Snapshot, ConnectorError> {
        let mut unreadable_groups = BTreeSet::new();
        let groups: Vec<OktaGroup> = match scope {
            Scope::Groups(names) => {
                let mut groups = Vec::new();
                for name in names {
                    groups.push(self.group_named(name).await?);
                }
                groups
            }
            Scope::All => {
                let limit = PAGE_LIMIT.to_string();
                let url = self.url("groups", &[("limit", &limit)]);
                let groups = self.all(url, "Okta: listing groups").await?;
                // Nothing is known of an unreadable group but its id: out of scope, so that
                // it and its twin are left as they are.
                unreadable_groups.extend(groups.unreadable.into_iter().map(|g| g.id));
                groups.items
            }
            Scope::Application(_) => {
                return Err(ConnectorError::new(
                    ErrorClass::Invalid,
                    "the Okta source reads named groups (scope = groups) or everything; \
                     application scopes are a JumpCloud notion",
                ));
            }
        };
        let mut users: BTreeMap<String, User> = BTreeMap::new();
        let mut snapshot = Snapshot::default();
        let limit = PAGE_LIMIT.to_string();
        for group in &groups {
            let url = self.url(&format!("groups/{}/users", group.id), &[("limit", &limit)]);
            let what = format!("Okta: listing the members of group {}", group.id);
            let members: Records<OktaUser> = self.all(url, &what).await?;
            for member in members.items {
                snapshot.add_membership(&group.id, &member.id);
                users
                    .entry(member.id.clone())
                    .or_insert_with(|| user_from(member));
            }
            // An unreadable member is still a member, held: it is neither deprovisioned
            // nor removed from the group, and its target twin is left as it is.
            for member in members.unreadable {
                snapshot.add_membership(&group.id, &member.id);
                users.entry(member.id.clone()).or_insert_with(|| {
                    let mut user = User::new(member.id.clone(), member.id);
                    user.hold = Some(Hold::Unreadable {
                        reason: member.reason,
                    });
                    user
                });
            }
        }
        snapshot.groups_out_of_scope = unreadable_groups;
        snapshot.users = users.into_values().collect();
        snapshot.groups = groups
            .into_iter()
            .map(|g| Group {
                id: g.id,
                display_name: g.profile.name,
                description: crate::util::non_blank(g.profile.description),
                external_id: None,
            })
            .collect();
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_and_kept_to_the_org() {
        let base = Url::parse("https://acme.okta.com/api/v1/").unwrap();
        let mut headers = HeaderMap::new();
        headers.append(
            LINK,
            HeaderValue::from_static(
                "<https://acme.okta.com/api/v1/groups/g/users?limit=2>; rel=\"self\"",
            ),
        );
        headers.append(
            LINK,
            HeaderValue::from_static(
                "<https://acme.okta.com/api/v1/groups/g/users?after=00u2&limit=2>; rel=\"next\"",
            ),
        );
        let next = next_link(&headers, &base).unwrap().unwrap();
        assert_eq!(next.query(), Some("after=00u2&limit=2"));

        let mut elsewhere = HeaderMap::new();
        elsewhere.insert(
            LINK,
            HeaderValue::from_static("<https://evil.example/api/v1/users?after=x>; rel=\"next\""),
        );
        assert!(next_link(&elsewhere, &base).is_err());
        assert_eq!(next_link(&HeaderMap::new(), &base).unwrap(), None);
    }

    #[test]
    fn statuses_and_profiles_map_to_engine_users() {
        let okta: OktaUser = serde_json::from_value(serde_json::json!({
            "id": "00u1", "status": "SUSPENDED",
            "profile": {"login": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace",
                        "email": "ada@example.com", "mobilePhone": "+1 555", "department": "R&D",
                        "nickName": null}
        }))
        .unwrap();
        let user = user_from(okta);
        assert_eq!(user.user_name, "ada@example.com");
        assert!(!user.active);
        assert_eq!(user.phone_numbers[0].kind.as_deref(), Some("mobile"));
        assert_eq!(user.attributes["department"], "R&D");
        assert!(!user.attributes.contains_key("nickName"));
    }

    fn with_status(status: &str) -> User {
        user_from(
            serde_json::from_value(serde_json::json!({
                "id": "00u1", "status": status, "profile": {"login": "ada@example.com"}
            }))
            .unwrap(),
        )
    }

    #[test]
    fn statuses_that_may_sign_in_are_active() {
        for status in ["ACTIVE", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED"] {
            let user = with_status(status);
            assert!(user.active, "{status}");
            assert_eq!(user.hold, None, "{status}");
        }
    }

    #[test]
    fn suspended_and_deprovisioned_are_inactive() {
        for status in ["SUSPENDED", "DEPROVISIONED"] {
            let user = with_status(status);
            assert!(!user.active, "{status}");
            assert_eq!(user.hold, None, "{status}");
        }
    }

    #[test]
    fn staged_and_provisioned_are_held_as_staged() {
        for status in ["STAGED", "PROVISIONED"] {
            let user = with_status(status);
            assert_eq!(user.hold, Some(Hold::Staged), "{status}");
            assert!(
                user.active,
                "{status}: a held user must never read as inactive"
            );
        }
    }

    #[test]
    fn any_other_status_is_held_with_its_value() {
        for status in ["SOMETHING_NEW", "active", ""] {
            let user = with_status(status);
            assert_eq!(
                user.hold,
                Some(Hold::UnknownState {
                    value: status.into()
                }),
                "{status:?}"
            );
            assert!(
                user.active,
                "{status:?}: an unknown status must never read as inactive"
            );
        }
    }
}
