//! jumpcloud-api over real HTTP against wiremock: request shapes (method, path, headers,
//! query, body), pagination, retries, errors. One binary, one module per area.

mod bulk;
mod errors;
mod groups;
mod paging;
mod users;

use std::time::Duration;

use jumpcloud_api::Client;
use jumpcloud_api::retry::RetryPolicy;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The API key the tests send (and must never find in an error).
pub const KEY: &str = "test-api-key-5e3f";

/// A mock server with v1 at `/api` and v2 at `/api/v2`, a catch-all that fails readably,
/// and a client with fast retries.
///
/// # Panics
///
/// When the client cannot be built (a bug in the test set-up).
pub async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(500)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .org_id("org-42")
        .v1_base_url(format!("{}/api", server.uri()))
        .v2_base_url(format!("{}/api/v2", server.uri()))
        .retry(RetryPolicy::fast(3))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a valid client");
    (server, client)
}
