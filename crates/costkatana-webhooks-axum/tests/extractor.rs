//! `VerifiedWebhook` over real HTTP: a limit set by axum's
//! `DefaultBodyLimit` is answered 413 like ours, naming where it came from.

use axum::extract::DefaultBodyLimit;
use std::future::IntoFuture;

use axum::routing::any;
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{Scheme, Verifier};
use costkatana_webhooks_axum::{serve, VerifiedWebhook};

const SECRET: &str = "whsec_axum";

async fn handler(VerifiedWebhook(verified): VerifiedWebhook) -> String {
    format!("{} bytes", verified.body().len())
}

async fn post(url: &str, body: String) -> (u16, serde_json::Value, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut request = reqwest::Client::new().post(url);
    for (name, value) in sign(Scheme::Current, SECRET, now, body.as_bytes()) {
        request = request.header(name, value);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_default(),
        text,
    )
}

#[tokio::test]
async fn a_smaller_default_body_limit_is_a_413_too() {
    let verifier = Verifier::builder().secret(SECRET).build().unwrap();
    let app = axum::Router::new()
        .route("/hook", any(handler))
        .layer(DefaultBodyLimit::max(1024))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, app).into_future());

    let (status, _, text) = post(&url, "x".repeat(1000)).await;
    assert_eq!((status, text.as_str()), (200, "1000 bytes"));

    let (status, json, text) = post(&url, "x".repeat(2000)).await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(json["error"], "payload_too_large");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("axum's DefaultBodyLimit"), "{message}");
}

#[tokio::test]
async fn our_own_limit_names_its_size_and_setting() {
    let verifier = Verifier::builder()
        .secret(SECRET)
        .max_body(512)
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route("/hook", any(handler))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, app).into_future());

    let (status, json, text) = post(&url, "x".repeat(513)).await;
    assert_eq!(status, 413, "{text}");
    let message = json["message"].as_str().unwrap();
    assert!(
        message.contains("512 bytes") && message.contains("max_body"),
        "{message}"
    );
}
