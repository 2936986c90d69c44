//! More than 50 failed records in 24 h deactivate a webhook (PROTOCOL.md
//! §7): events emitted while it is inactive make no record at all, its
//! queued records fail with `webhook_inactive`, and `PUT {"active": true}`
//! brings it back. The 24 h are the sandbox's clock's.

mod support;

use std::sync::Arc;

use costkatana_webhooks::{EventType, ManualClock};
use costkatana_webhooks_sandbox::{Emission, RunningSandbox, Sandbox};
use serde_json::{json, Value};
use support::api::Api;
use support::{bounded, Receiver, Script};

const NOW: i64 = 1_777_377_600_000;
const HOUR: i64 = 3_600_000;

async fn sandbox(speed: f64) -> (RunningSandbox, Api, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW));
    let sandbox = Sandbox::builder()
        .speed(speed)
        .clock(Arc::clone(&clock))
        .start()
        .await
        .unwrap();
    let api = Api::new(&sandbox);
    (sandbox, api, clock)
}

async fn emit_and_settle(sandbox: &RunningSandbox, times: usize) -> usize {
    let mut made = 0;
    for _ in 0..times {
        made += sandbox
            .emit(Emission::new(EventType::CostAlert))
            .unwrap()
            .delivery_ids
            .len();
    }
    sandbox.settled().await;
    made
}

fn failed(records: &[Value]) -> usize {
    records.iter().filter(|r| r["status"] == "failed").count()
}

async fn all_records(api: &Api, id: &str) -> Vec<Value> {
    let mut records = Vec::new();
    loop {
        let (_, page) = api
            .get(&format!(
                "/api/webhooks/{id}/deliveries?limit=100&offset={}",
                records.len()
            ))
            .await;
        let batch = page["deliveries"].as_array().unwrap().clone();
        records.extend(batch);
        if page["pagination"]["hasMore"] != true {
            return records;
        }
    }
}

#[tokio::test]
async fn more_than_50_failures_in_24_hours_deactivate_the_webhook() {
    bounded(async {
        let (sandbox, api, clock) = sandbox(1000.0).await;
        let receiver = Receiver::start(vec![Script::Status(400)]).await;
        let id = api
            .create_webhook(&receiver.url, &["cost.alert"], json!({}))
            .await;

        assert_eq!(emit_and_settle(&sandbox, 50).await, 50);
        assert_eq!(
            api.webhook(&id).await["active"],
            true,
            "50 failures are not more than 50"
        );
        assert_eq!(emit_and_settle(&sandbox, 1).await, 1);
        let webhook = api.webhook(&id).await;
        assert_eq!(webhook["active"], false, "the 51st failure deactivates it");
        assert_eq!(webhook["stats"]["failedDeliveries"], 51);

        // Inactive: new events make no record at all; they are gone.
        assert_eq!(emit_and_settle(&sandbox, 3).await, 0);
        assert_eq!(all_records(&api, &id).await.len(), 51);
        assert_eq!(receiver.recorded().len(), 51);
        let (_, listed) = api.get("/api/webhooks?active=false").await;
        assert_eq!(listed["webhooks"][0]["id"], id);

        // Re-activated, it is delivered to again; its failures in the last
        // 24 h still count, so the next failure deactivates it at once.
        let (status, body) = api
            .put(&format!("/api/webhooks/{id}"), json!({"active": true}))
            .await;
        assert_eq!((status, &body["webhook"]["active"]), (200, &json!(true)));
        assert_eq!(emit_and_settle(&sandbox, 1).await, 1);
        assert_eq!(receiver.recorded().len(), 52);
        assert_eq!(api.webhook(&id).await["active"], false);

        // A day later the old failures are out of the window.
        clock.advance_ms(25 * HOUR);
        api.put(&format!("/api/webhooks/{id}"), json!({"active": true}))
            .await;
        assert_eq!(emit_and_settle(&sandbox, 1).await, 1);
        assert_eq!(api.webhook(&id).await["active"], true);
        assert_eq!(failed(&all_records(&api, &id).await), 53);
    })
    .await;
}

#[tokio::test]
async fn retried_attempts_count_towards_the_50() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox(100_000.0).await;
        let receiver = Receiver::start(vec![Script::Status(503)]).await;
        let id = api
            .create_webhook(
                &receiver.url,
                &["cost.alert"],
                json!({"retryConfig": {"maxRetries": 10, "backoffMultiplier": 1, "initialDelay": 1000}}),
            )
            .await;
        // Each event: 11 failed records (10 retry_scheduled, then http_error).
        emit_and_settle(&sandbox, 4).await;
        assert_eq!(api.webhook(&id).await["active"], true, "44 failed records");
        emit_and_settle(&sandbox, 1).await;
        let webhook = api.webhook(&id).await;
        assert_eq!(webhook["active"], false, "55 failed records");
        // The counters moved once per event.
        assert_eq!(webhook["stats"]["failedDeliveries"], 5);
        let records = all_records(&api, &id).await;
        assert_eq!(records.len(), 55);
        assert_eq!(
            records.iter().filter(|r| r["error"]["type"] == "retry_scheduled").count(),
            50
        );
    })
    .await;
}

#[tokio::test]
async fn queued_records_of_an_inactive_webhook_fail_as_webhook_inactive() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox(1000.0).await;
        let receiver = Receiver::start(vec![Script::Held(503), Script::Status(200)]).await;
        let id = api
            .create_webhook(
                &receiver.url,
                &["cost.alert"],
                json!({"retryConfig": {"initialDelay": 1000}}),
            )
            .await;
        sandbox.emit(Emission::new(EventType::CostAlert)).unwrap();
        // The first attempt is at the receiver: deactivate, then let it answer 503.
        receiver.wait_for(1).await;
        api.put(&format!("/api/webhooks/{id}"), json!({"active": false}))
            .await;
        receiver.release();
        sandbox.settled().await;

        assert_eq!(receiver.recorded().len(), 1, "the retry was not sent");
        let records = all_records(&api, &id).await;
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["error"]["type"], "retry_scheduled");
        assert_eq!(records[0]["attempt"], 2);
        assert_eq!(records[0]["status"], "failed");
        assert_eq!(
            records[0]["error"],
            json!({"type": "webhook_inactive", "message": "Webhook is inactive"})
        );

        // A replay to an inactive webhook is queued and fails the same way.
        let original = records[1]["id"].as_str().unwrap();
        let (status, body) = api
            .post(
                &format!("/api/webhooks/deliveries/{original}/replay"),
                json!({}),
            )
            .await;
        assert_eq!(status, 201);
        sandbox.settled().await;
        let replay = api.delivery(body["deliveryId"].as_str().unwrap()).await;
        assert_eq!(replay["error"]["type"], "webhook_inactive");
        assert_eq!(receiver.recorded().len(), 1);
    })
    .await;
}
