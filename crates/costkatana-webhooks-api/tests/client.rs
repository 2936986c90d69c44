//! The client against the sandbox (a local Cost Katana, over real HTTP),
//! and its retry rules against scripted servers on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::{Backoff, EventType};
use costkatana_webhooks_api::{
    ApiErrorKind, Client, CreateWebhook, DeliveryQuery, DeliveryStatus, RetryConfig, UpdateWebhook,
    WebhookFilter,
};
use costkatana_webhooks_sandbox::{Emission, RunningSandbox, Sandbox};
use futures_util::TryStreamExt;

/// A URL where nothing listens: deliveries to it are refused at once.
fn nowhere() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/webhooks/costkatana")
}

async fn sandbox() -> (RunningSandbox, Client) {
    let sandbox = Sandbox::builder().speed(1000.0).start().await.unwrap();
    let client = Client::builder()
        .base_url(sandbox.url())
        .api_key(sandbox.api_key().expose())
        .build()
        .unwrap();
    (sandbox, client)
}

#[tokio::test]
async fn webhooks_round_trip_with_masked_secrets() {
    let (sandbox, client) = sandbox().await;
    let created = client
        .create_webhook(
            &CreateWebhook::new("Alerts", nowhere(), ["cost.alert", "budget.exceeded"])
                .description("local")
                .timeout_ms(10_000)
                .retry_config(RetryConfig {
                    max_retries: 5,
                    backoff_multiplier: 2.0,
                    initial_delay: 1000,
                }),
        )
        .await
        .unwrap();
    assert_eq!(created.id.len(), 24);
    let masked = created.secret.clone().unwrap();
    let secret = sandbox.webhook_secret(&created.id).unwrap();
    assert_eq!(masked, format!("****{}", &secret[secret.len() - 4..]));

    let got = client.webhook(&created.id).await.unwrap();
    assert_eq!(got.timeout, Some(10_000));
    assert_eq!(got.retry_config.unwrap().max_retries, 5);
    assert_eq!(got.stats.unwrap_or_default().total_deliveries, 0);

    let off = UpdateWebhook {
        active: Some(false),
        ..UpdateWebhook::default()
    };
    assert!(
        !client
            .update_webhook(&created.id, &off)
            .await
            .unwrap()
            .active
    );
    let inactive = client
        .list_webhooks(&WebhookFilter {
            active: Some(false),
            ..WebhookFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(inactive.len(), 1);
    let err = client.test_webhook(&created.id).await.unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Rejected);
    assert!(err.to_string().contains("Webhook is not active"), "{err}");

    assert!(!client.delete_webhook(&created.id).await.unwrap().is_empty());
    let gone = client.webhook(&created.id).await.unwrap_err();
    assert_eq!(gone.kind(), ApiErrorKind::NotFound);
    assert_eq!(gone.status(), Some(404));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn errors_carry_the_servers_words_and_never_the_key() {
    let (sandbox, client) = sandbox().await;
    let err = client
        .create_webhook(&CreateWebhook::new("x", nowhere(), ["cost.nope"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Validation);
    assert_eq!(err.field_errors()[0].field, "events.0");
    let err = client.webhook("not-an-id").await.unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Validation, "{err}");

    let key = "dak_0123456789abcdef_wrong";
    let wrong = Client::builder()
        .base_url(sandbox.url())
        .api_key(key)
        .build()
        .unwrap();
    let err = wrong
        .list_webhooks(&WebhookFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Unauthorized);
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("dak_…") && !shown.contains("0123456789abcdef"),
        "{shown}"
    );

    let catalog = client.events().await.unwrap();
    assert_eq!(catalog.total, 57);
    assert_eq!(catalog.events.len(), EventType::KNOWN.len());
    let queue = client.queue_stats().await.unwrap();
    assert_eq!(queue.waiting, 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn deliveries_page_through_a_stream_and_replay() {
    let (sandbox, client) = sandbox().await;
    let webhook = client
        .create_webhook(&CreateWebhook::new("Down", nowhere(), ["budget.exceeded"]))
        .await
        .unwrap();
    for _ in 0..45 {
        sandbox
            .emit(Emission::new(EventType::BudgetExceeded))
            .unwrap();
    }
    sandbox.settled().await;
    let first = client
        .deliveries(&webhook.id, &DeliveryQuery::new().limit(20))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 20);
    assert_eq!(first.pagination.total, 45);
    assert!(first.pagination.has_more);
    let all: Vec<_> = client
        .delivery_stream(&webhook.id, DeliveryQuery::new().limit(20))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 45);
    assert!(all
        .iter()
        .all(|d| d.never_reached_the_receiver() && d.failed_for_good()));

    let failed = client
        .deliveries(
            &webhook.id,
            &DeliveryQuery::new().status(DeliveryStatus::Failed).limit(1),
        )
        .await
        .unwrap();
    let one = &failed.items[0];
    let detail = client.delivery(&one.id).await.unwrap();
    assert!(detail.sent_signature().is_some_and(|s| s.len() == 64));
    let ack = client.replay(&one.id).await.unwrap();
    let replayed = client.delivery(&ack.delivery_id).await.unwrap();
    assert_eq!(replayed.event_id, one.event_id);
    assert_eq!(
        replayed.metadata.unwrap()["originalDeliveryId"],
        serde_json::json!(one.id)
    );
    sandbox.shutdown().await;
}

/// A server answering each request with the next status of `script` (the
/// last one for good), counting requests.
async fn scripted(script: &'static [u16]) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        let status = script[n.min(script.len() - 1)];
        async move {
            let body = match status {
                200 => {
                    r#"{"success":true,"webhooks":[],"webhook":{"id":"65f0c0ffee0000000000beef"}}"#
                }
                _ => r#"{"success":false,"message":"upstream unavailable"}"#,
            };
            (axum::http::StatusCode::from_u16(status).unwrap(), body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

fn fast(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .api_key("dak_test")
        .backoff(Backoff::new(Duration::from_millis(5)))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

#[tokio::test]
async fn reads_are_retried_on_5xx_and_creations_never_blindly() {
    let (url, hits) = scripted(&[503, 502, 200]).await;
    let client = fast(&url);
    assert!(client
        .list_webhooks(&WebhookFilter::default())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(hits.load(Ordering::SeqCst), 3, "two 5xx, then the answer");

    let (url, hits) = scripted(&[503, 200]).await;
    let err = fast(&url)
        .create_webhook(&CreateWebhook::new(
            "x",
            "http://127.0.0.1:9/",
            ["cost.alert"],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Server);
    assert!(err.to_string().contains("upstream unavailable"), "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a create that may have landed is not repeated"
    );

    let (url, hits) = scripted(&[500]).await;
    let err = fast(&url)
        .webhook("65f0c0ffee0000000000beef")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Server);
    assert_eq!(hits.load(Ordering::SeqCst), 4, "the default four attempts");
}

#[tokio::test]
async fn an_api_that_does_not_answer_or_cannot_be_reached_is_a_clear_error() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let client = Client::builder()
        .base_url(&url)
        .api_key("dak_test")
        .attempts(1)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    // Accepted by the kernel's backlog, never answered.
    let err = client.queue_stats().await.unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Timeout, "{err}");
    drop(silent);

    let refused = fast(&nowhere().replace("/webhooks/costkatana", ""));
    let err = refused.events().await.unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Connect);
    assert!(
        err.to_string()
            .contains("cannot connect to http://127.0.0.1:"),
        "{err}"
    );
}
