//! Smoke test of the Prism test peer: Prism, serving JumpCloud's official v2 spec,
//! accepts a request that follows the spec and rejects one that does not with 422.

use serde_json::json;
use test_peers::Peer;

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test]
async fn prism_accepts_a_valid_v2_member_change() {
    let base = Peer::JumpCloudV2.url();
    let response = http()
        .post(format!(
            "{base}/usergroups/5f0c1b2e3d4a5b6c7d8e9f01/members"
        ))
        .header("x-api-key", "test-key")
        .json(&json!({"op": "add", "type": "user", "id": "5f0c1b2e3d4a5b6c7d8e9f02"}))
        .send()
        .await
        .expect("Prism answers");
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "expected 2xx from Prism, got {status}: {body}"
    );
}

#[tokio::test]
async fn prism_rejects_an_invalid_v2_member_change_with_422() {
    let base = Peer::JumpCloudV2.url();
    let response = http()
        .post(format!("{base}/usergroups/5f0c1b2e3d4a5b6c7d8e9f01/members"))
        .header("x-api-key", "test-key")
        // `op` must be add/remove/update, `type` must be user, and `id` is required.
        .json(&json!({"op": "delete", "type": "system"}))
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(response.status().as_u16(), 422);
    let problem: serde_json::Value = response.json().await.expect("a problem+json body");
    let fields: Vec<String> = problem["validation"]
        .as_array()
        .expect("Prism lists the validation failures")
        .iter()
        .map(|v| v["location"].to_string())
        .collect();
    assert!(
        fields.iter().any(|f| f.contains("op")),
        "the bad `op` is named: {fields:?}"
    );
}

#[tokio::test]
async fn prism_serves_the_v1_spec_at_its_root() {
    let base = Peer::JumpCloudV1.url();
    let response = http()
        .get(format!("{base}/systemusers"))
        .query(&[("limit", "10"), ("skip", "0")])
        .header("x-api-key", "test-key")
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(response.status().as_u16(), 200);
    let list: serde_json::Value = response.json().await.expect("JSON body");
    assert!(
        list["results"].is_array(),
        "v1 lists are {{totalCount, results}}: {list}"
    );
}
