//! A pass reads each record once, though every replay it asks adds a
//! record ahead of the listing (newest first, paged by offset).

use std::sync::Arc;

use costkatana_webhooks::{Clock, EventType, Payload, Receiver, SystemClock};
use costkatana_webhooks_api::{CatchUp, Client, CreateWebhook, DeliveryQuery};
use costkatana_webhooks_redis::testing::RedisServer;
use costkatana_webhooks_redis::RedisStore;
use costkatana_webhooks_sandbox::{Emission, Sandbox};

/// One thread: the emitting loop ends before any delivery is attempted, so
/// all 250 events get a record before the 51st refusal deactivates the
/// webhook (the rest then fail `webhook_inactive`): 250 lost events, with
/// the ledger on Redis, which remembers what it handled.
#[tokio::test(flavor = "current_thread")]
async fn a_pass_over_250_lost_events_lists_three_pages_and_reads_each_record_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let sandbox = Sandbox::builder().speed(1000.0).start().await.unwrap();
    let client = Client::builder()
        .base_url(sandbox.url())
        .api_key(sandbox.api_key().expose())
        .build()
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/webhooks/costkatana");
    let webhook = client
        .create_webhook(&CreateWebhook::new("Local", url, ["budget.exceeded"]))
        .await
        .unwrap();
    for _ in 0..250 {
        sandbox
            .emit(Emission::new(EventType::BudgetExceeded))
            .unwrap();
    }
    sandbox.settled().await;

    let receiver = Receiver::builder()
        .secret(sandbox.webhook_secret(&webhook.id).unwrap())
        .store(Arc::new(RedisStore::connect(&redis.url()).await.unwrap()))
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    let report = CatchUp::new(client.clone(), webhook.id.clone())
        .replays_per_second(u32::MAX)
        .run_once(Some(&receiver.replay_ledger()), SystemClock.now_ms(), false)
        .await
        .unwrap();
    assert!(report.complete && report.reactivated, "{report:?}");
    assert_eq!(report.lost.len(), 250);
    assert_eq!(report.replays_asked, 250);
    assert_eq!(report.deliveries_read, 250, "each record read once");
    assert_eq!(
        report.api_calls,
        1 + 1 + 3 + 250,
        "the webhook, its re-activation, 3 pages, 250 replays"
    );
    let listed = client
        .deliveries(&webhook.id, &DeliveryQuery::new().limit(1))
        .await
        .unwrap();
    assert_eq!(
        listed.pagination.total, 500,
        "250 records and their replays"
    );
    sandbox.shutdown().await;
}
