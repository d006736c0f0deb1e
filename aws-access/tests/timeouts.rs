//! A hung endpoint cannot hang a run: the configuration `aws_access::config::load` builds
//! bounds every attempt and every call, retries included. The endpoint here accepts the
//! connection and never answers.

use std::time::{Duration, Instant};

use aws_access::config::{AwsSettings, load};

#[tokio::test]
async fn a_call_to_an_endpoint_that_never_answers_fails_within_its_timeouts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // accepted, never answered
        }
    });
    let mut settings = AwsSettings::local(endpoint);
    settings.max_attempts = 3;
    settings.attempt_timeout = Duration::from_millis(300);
    settings.operation_timeout = Duration::from_millis(1_500);
    let sdk = load(&settings).await;
    let config = aws_sdk_ssm::config::Builder::from(&sdk)
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    let started = Instant::now();
    let outcome = aws_sdk_ssm::Client::from_conf(config)
        .get_parameter()
        .name("/hung")
        .send()
        .await;
    let took = started.elapsed();
    assert!(outcome.is_err(), "a hung endpoint cannot answer");
    assert!(
        took >= Duration::from_millis(300),
        "it waited at least one attempt ({took:?})"
    );
    assert!(
        took < Duration::from_secs(5),
        "the call gave up within its timeouts, not hanging ({took:?})"
    );
}

#[test]
fn the_defaults_bound_every_call() {
    let settings = AwsSettings::default();
    assert_eq!(settings.attempt_timeout, Duration::from_secs(30));
    assert_eq!(settings.operation_timeout, Duration::from_secs(300));
}
