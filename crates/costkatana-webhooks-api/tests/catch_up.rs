//! Catch-up against the sandbox, with a receiver served over real HTTP on
//! 127.0.0.1: events the sender dropped while the receiver was down are
//! replayed once and let in despite their old timestamps; nothing else
//! stale is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::{EventType, ManualClock, Payload, Receiver};
use costkatana_webhooks_api::{CatchUp, Client, CreateWebhook, DeliveryQuery};
use costkatana_webhooks_sandbox::{Emission, RunningSandbox, Sandbox};
use costkatana_webhooks_tower::WebhookEndpoint;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A free port on 127.0.0.1 (nothing listens there until a receiver does).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Handler runs per event id.
#[derive(Clone, Default)]
struct Runs(Arc<Mutex<HashMap<String, usize>>>);

impl Runs {
    fn counts(&self) -> HashMap<String, usize> {
        self.0.lock().unwrap().clone()
    }

    fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }
}

/// A sandbox whose clock runs `behind_ms` behind this machine's, so what
/// it signs is that old to the receiver; a client for it; a webhook
/// pointing at `port`.
async fn setup(behind_ms: i64, port: u16) -> (RunningSandbox, Client, String) {
    let clock = Arc::new(ManualClock::new(now_ms() - behind_ms));
    let sandbox = Sandbox::builder()
        .speed(1000.0)
        .clock(Arc::clone(&clock))
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .base_url(sandbox.url())
        .api_key(sandbox.api_key().expose())
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/webhooks/costkatana");
    let webhook = client
        .create_webhook(&CreateWebhook::new(
            "Local",
            url,
            ["budget.exceeded", "cost.alert"],
        ))
        .await
        .unwrap();
    // The sandbox's clock follows real time, `behind_ms` late.
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            clock.set_ms(now_ms() - behind_ms);
        }
    });
    (sandbox, client, webhook.id)
}

/// A receiver on the memory store counting runs, with catch-up every
/// 100 ms, served on `port`.
async fn receiver(
    sandbox: &RunningSandbox,
    client: &Client,
    webhook_id: &str,
    port: u16,
) -> (Receiver, Runs) {
    let runs = Runs::default();
    let counted = runs.clone();
    let receiver = Receiver::builder()
        .secret(sandbox.webhook_secret(webhook_id).unwrap())
        .background(
            CatchUp::new(client.clone(), webhook_id)
                .every(Duration::from_millis(100))
                .replays_per_second(1000),
        )
        .fallback(move |payload: Payload| {
            let id = payload.event_id().unwrap_or_default().to_owned();
            *counted.0.lock().unwrap().entry(id).or_default() += 1;
            async { Ok(()) }
        })
        .build()
        .unwrap();
    let app = axum::Router::new().route_service(
        "/webhooks/costkatana",
        WebhookEndpoint::new(receiver.clone()),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    receiver.start().await.unwrap();
    (receiver, runs)
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_dropped_while_down_are_replayed_once_and_let_in_despite_their_age() {
    let port = free_port();
    // Two hours behind: every request the sandbox signs is stale here.
    let (sandbox, client, webhook_id) = setup(2 * 3600 * 1000, port).await;
    let mut dropped = Vec::new();
    for _ in 0..5 {
        dropped.push(
            sandbox
                .emit(Emission::new(EventType::BudgetExceeded))
                .unwrap()
                .event_id,
        );
    }
    sandbox.settled().await;

    let (receiver, runs) = receiver(&sandbox, &client, &webhook_id, port).await;
    until("every dropped event handled", || runs.total() == 5).await;
    let counts = runs.counts();
    for id in &dropped {
        assert_eq!(counts.get(id), Some(&1), "{id} handled once");
    }

    // Sent while up, but stale and never asked for: 401, never handled,
    // and (the memory store forgets on restart) not replayed either.
    let unasked = sandbox.emit(Emission::new(EventType::CostAlert)).unwrap();
    sandbox.settled().await;
    let record = client.delivery(&unasked.delivery_ids[0]).await.unwrap();
    let status = record.response.as_ref().and_then(|r| r.status_code);
    assert_eq!(status, Some(401), "{record:?}");
    assert!(record
        .response
        .unwrap()
        .body
        .unwrap_or_default()
        .contains("stale_timestamp"));

    // Passes later, nothing more is asked: the replays succeeded.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let replays = client
        .deliveries(&webhook_id, &DeliveryQuery::new().limit(100))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|d| d.attempt == 1 && d.status.as_str() == "success")
        .count();
    assert_eq!(replays, 5, "one replay per dropped event");
    assert_eq!(runs.total(), 5);
    assert!(!runs.counts().contains_key(&unasked.event_id));
    receiver.shutdown(Duration::from_secs(1)).await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_webhook_is_reactivated_and_a_dry_run_changes_nothing() {
    let port = free_port();
    let (sandbox, client, webhook_id) = setup(0, port).await;
    for _ in 0..51 {
        sandbox
            .emit(Emission::new(EventType::BudgetExceeded))
            .unwrap();
    }
    sandbox.settled().await;
    assert!(
        !client.webhook(&webhook_id).await.unwrap().active,
        "more than 50 failures"
    );

    let catch_up = CatchUp::new(client.clone(), webhook_id.clone()).replays_per_second(1000);
    let dry = catch_up.run_once(None, now_ms(), true).await.unwrap();
    assert!(dry.was_inactive && !dry.reactivated);
    assert_eq!(dry.lost.len(), 51);
    assert!(dry
        .lost
        .iter()
        .all(|lost| !lost.replay_asked && lost.error_type == "network_error"));
    assert_eq!(dry.api_calls, 2, "the webhook, then one page of 100");
    assert!(
        !client.webhook(&webhook_id).await.unwrap().active,
        "a dry run changes nothing"
    );

    let (receiver, runs) = receiver(&sandbox, &client, &webhook_id, port).await;
    until("every delivered event handled", || runs.total() == 51).await;
    assert!(
        client.webhook(&webhook_id).await.unwrap().active,
        "re-activated"
    );
    assert!(runs.counts().values().all(|&n| n == 1));
    // Another pass asks nothing again: the ledger remembers what was asked.
    let again = catch_up
        .run_once(Some(&receiver.replay_ledger()), now_ms(), false)
        .await
        .unwrap();
    assert_eq!(again.replays_asked, 0);
    assert!(again.lost.is_empty(), "{again:?}");
    receiver.shutdown(Duration::from_secs(1)).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_unknown_webhook_refuses_the_start_and_a_refused_key_only_pauses() {
    let port = free_port();
    let (sandbox, client, webhook_id) = setup(0, port).await;
    let build = |client: Client, id: &str| {
        Receiver::builder()
            .secret("whsec_local")
            .background(CatchUp::new(client, id))
            .fallback(|_: Payload| async { Ok(()) })
            .build()
            .unwrap()
    };
    let err = build(client.clone(), "65f0c0ffee0000000000dead")
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.task(), "catch-up");
    assert!(err.to_string().contains("does not exist"), "{err}");

    let wrong_key = Client::builder()
        .base_url(sandbox.url())
        .api_key("dak_wrong_key_0000")
        .build()
        .unwrap();
    let receiver = build(wrong_key, &webhook_id);
    receiver
        .start()
        .await
        .expect("a refused key does not stop the receiver");
    assert!(receiver.health().await.is_ready());
    receiver.shutdown(Duration::from_secs(1)).await;
    sandbox.shutdown().await;
}
